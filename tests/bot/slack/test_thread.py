"""The card's thread is the conversation: signed Slack `message` events and Meta payloads
against the recording Slack, Graph API and relay servers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from tests.bot.slack.conftest import ANA, BRUNO, CHANNEL, PHONE, SlackRig
from tests.bot.whatsapp.meta import envelope, status, value
from tests.conftest import RELAY_SECRET
from tests.fakes.graph import FakeGraph, meta_signature
from tests.fakes.relay import FakeRelay
from tests.fakes.slack import FakeSlack, Message
from tests.wait import eventually

APP_SECRET = "test_app_secret"


def reply(user: str, text: str, card: Message, ts: str, **extra: Any) -> dict[str, Any]:
    return {"type": "message", "channel": CHANNEL, "channel_type": "channel", "user": user,
            "text": text, "ts": ts, "thread_ts": card.ts, "event_ts": ts, **extra}


async def customer(r: SlackRig, text: str) -> None:
    status_, body = await r.running.json("POST", "/webhook/whatsapp",
                                         json={"phone": PHONE, "message": text})
    assert status_ == 200, body


def lines(fake: FakeSlack, card: Message) -> list[str]:
    return [m.text for m in fake.thread(CHANNEL, card.ts)]


def reactions(fake: FakeSlack, ts: str) -> list[str]:
    return [c.params["name"] for c in fake.calls["reactions.add"] if c.params["timestamp"] == ts]


async def test_customer_messages_land_in_the_thread_in_order_once(
        start: Callable[..., Awaitable[SlackRig]], fake_slack: FakeSlack) -> None:
    r = await start()
    card = await r.escalate()
    for text in ("alô?", "tem alguém aí?", "é sobre o pedido 42"):
        await customer(r, text)
    assert (await r.take(card, ANA))[0] == 200
    await eventually(lambda: _mode(r, "human"))
    await customer(r, "oi Ana")
    await r.settled()
    said = [t for t in lines(fake_slack, card) if t.startswith("💬")]
    assert [t.split(":* ", 1)[1] for t in said] == ["alô?", "tem alguém aí?",
                                                     "é sobre o pedido 42", "oi Ana"]


async def test_holder_reply_reaches_the_customer_once(
        start: Callable[..., Awaitable[SlackRig]], fake_slack: FakeSlack,
        graph: FakeGraph) -> None:
    r = await start()
    card = await r.taken_by_ana()
    event = reply(ANA, "Olá! Sou a Ana, vou te ajudar.", card, "1767225700.000200")
    for retry in (None, 1, 2):
        status_, _ = await r.event(event, event_id="Ev0REPLY1", retry=retry)
        assert status_ == 200
    sends = await graph.wait_sends(1)
    await r.settled()
    await asyncio.sleep(0.2)
    assert [(s.to, s.text) for s in graph.sends] == [(PHONE, "Olá! Sou a Ana, vou te ajudar.")]
    assert sends[0].to == PHONE
    assert reactions(fake_slack, "1767225700.000200") == ["heavy_check_mark"]
    session = await r.session()
    assert session.last_human_message is not None and session.human_messages == 1
    assert session.human_attendant == "ana@empresa.com"


async def test_a_reply_reads_on_whatsapp_as_it_was_meant(
        start: Callable[..., Awaitable[SlackRig]], graph: FakeGraph) -> None:
    r = await start()
    card = await r.taken_by_ana()
    written = ("Acompanhe <https://loja.com/p/42|seu pedido> &amp; fale com <@U0BRUNO> "
               "em <#C0VENDAS|vendas> se 1 &lt; 2")
    await r.event(reply(ANA, written, card, "1767225700.000300"))
    (sent,) = await graph.wait_sends(1)
    assert sent.text == ("Acompanhe seu pedido (https://loja.com/p/42) & fale com @u0bruno "
                         "em #vendas se 1 < 2")


async def test_non_holder_reply_is_not_sent_and_gets_the_hint(
        start: Callable[..., Awaitable[SlackRig]], fake_slack: FakeSlack,
        graph: FakeGraph) -> None:
    r = await start()
    card = await r.taken_by_ana()
    await r.event(reply(BRUNO, "eu respondo!", card, "1767225701.000100"))
    hints = await fake_slack.until(lambda: [c for c in fake_slack.calls["chat.postEphemeral"]
                                            if c.params.get("user") == BRUNO])
    blocks = json.loads(hints[0].params["blocks"]) if isinstance(
        hints[0].params["blocks"], str) else hints[0].params["blocks"]
    assert any(e.get("text", {}).get("text") == "Assumir"
               for b in blocks if b["type"] == "actions" for e in b["elements"])
    await r.settled()
    assert graph.requests == []
    assert (await r.session()).human_attendant == "ana@empresa.com"


async def test_first_reply_while_waiting_takes_the_conversation(
        start: Callable[..., Awaitable[SlackRig]], graph: FakeGraph) -> None:
    r = await start()
    card = await r.escalate()
    await r.event(reply(BRUNO, "Oi! Sou o Bruno.", card, "1767225702.000100"))
    await graph.wait_sends(1)
    session = await r.session()
    assert session.mode.value == "human" and session.human_attendant == "bruno@empresa.com"
    history = [(e.event, e.source) for e in await r.manager.history(PHONE)]
    assert ("takeover", "slack") in history


async def test_notes_stay_internal_and_bots_and_edits_are_ignored(
        start: Callable[..., Awaitable[SlackRig]], fake_slack: FakeSlack,
        graph: FakeGraph) -> None:
    r = await start()
    card = await r.taken_by_ana()
    await r.event(reply(ANA, "Nota: cliente VIP, cuidado", card, "1767225703.000100"))
    await r.event(reply(ANA, "eu sou um bot", card, "1767225703.000200", bot_id="B0BOT"))
    await r.event(reply(ANA, "editada", card, "1767225703.000300", subtype="message_changed"))
    await r.event(reply(ANA, "apagada", card, "1767225703.000400", subtype="message_deleted"))
    await fake_slack.until(lambda: reactions(fake_slack, "1767225703.000100"))
    await r.settled()
    await asyncio.sleep(0.2)
    assert graph.requests == []
    assert reactions(fake_slack, "1767225703.000100") == ["memo"]
    events = [(e.event, e.actor, e.text) for e in await r.manager.history(PHONE)]
    assert ("note", "ana@empresa.com", "Nota: cliente VIP, cuidado") in events
    _, history = await r.running.json("GET", f"/session/{PHONE}/history")
    assert [e["text"] for e in history["events"] if e["event"] == "note"] == [
        "Nota: cliente VIP, cuidado"]
    _, body = await r.running.json("GET", f"/session/{PHONE}/messages")
    notes = [m for m in body["messages"] if m["sender"] == "note"]
    assert [(m["text"], m["attendant"]) for m in notes] == [
        ("Nota: cliente VIP, cuidado", "ana@empresa.com")], "a note keeps its text"


async def test_the_thread_opens_with_what_the_bot_already_said(
        start: Callable[..., Awaitable[SlackRig]], fake_slack: FakeSlack) -> None:
    r = await start(cloud=False)
    await customer(r, "primeira mensagem")
    await customer(r, "oi, meu pedido não chegou")
    status_, _ = await r.running.json("POST", "/webhook/whatsapp", json={
        "phone": PHONE, "message": "Sinto muito! Qual o número do pedido?",
        "sender_type": "agent"})
    assert status_ == 200
    for n in range(8):
        await customer(r, f"pedido <{n}> & cia")
    card = await r.escalate()
    await r.settled()
    opening = lines(fake_slack, card)[0]
    shown = opening.split("\n")
    assert shown[0] == "📜 *A conversa até aqui:*" and len(shown) == 11
    assert shown[1] == "> 🙋 *5531999999999:* oi, meu pedido não chegou", "the last ten"
    assert shown[2] == "> 🤖 *Bot:* Sinto muito! Qual o número do pedido?"
    assert shown[-1] == "> 🙋 *5531999999999:* pedido &lt;7&gt; &amp; cia"
    assert "quero falar com um atendente" not in opening, "the card itself shows that one"


async def test_a_failed_opening_is_tried_again_without_a_second_card(
        start: Callable[..., Awaitable[SlackRig]], fake_slack: FakeSlack) -> None:
    r = await start(cloud=False)
    await customer(r, "oi, meu pedido não chegou")
    # More failures than one Slack call retries: the outbox tries the target again.
    fake_slack.fail("chat.postMessage", status=429, retry_after=0, times=8,
                    when=lambda p: str(p.get("text", "")).startswith("📜"))
    card = await r.escalate()
    await r.settled()
    assert [m.ts for m in fake_slack.top_level(CHANNEL)] == [card.ts], "one card"
    openings = [line for line in lines(fake_slack, card) if line.startswith("📜")]
    assert len(openings) == 1 and "oi, meu pedido não chegou" in openings[0]
    failed = [c for c in fake_slack.requests if c.method == "chat.postMessage"
              and str(c.params.get("text", "")).startswith("📜") and c.status == 429]
    assert len(failed) == 8


async def test_relay_carries_replies_without_the_cloud_api(
        start: Callable[..., Awaitable[SlackRig]], relay: FakeRelay) -> None:
    r = await start(cloud=False, handoff_outbound_url=relay.url,
                    handoff_outbound_secret=RELAY_SECRET)
    card = await r.taken_by_ana()
    await r.event(reply(ANA, "Olá pelo relay", card, "1767225704.000100"))
    await eventually(lambda: relay.accepted)
    assert relay.accepted == [{"phone": PHONE, "message": "Olá pelo relay",
                               "attendant_id": "ana@empresa.com", "session_mode": "human"}]


async def test_failed_send_shows_in_the_thread(start: Callable[..., Awaitable[SlackRig]],
                                               fake_slack: FakeSlack,
                                               graph: FakeGraph) -> None:
    r = await start()
    card = await r.taken_by_ana()
    graph.window_expired()
    await r.event(reply(ANA, "ainda está aí?", card, "1767225705.000100"))
    await fake_slack.until(lambda: reactions(fake_slack, "1767225705.000100"))
    await r.settled()
    assert reactions(fake_slack, "1767225705.000100") == ["x"]
    assert any("24h" in t or "24 h" in t for t in lines(fake_slack, card))


async def test_delivery_statuses_become_reactions(start: Callable[..., Awaitable[SlackRig]],
                                                  fake_slack: FakeSlack,
                                                  graph: FakeGraph) -> None:
    r = await start()
    card = await r.taken_by_ana()
    ts = "1767225706.000100"
    await r.event(reply(ANA, "Seu pedido saiu.", card, ts))
    sent = (await graph.wait_sends(1))[0]
    await fake_slack.until(lambda: reactions(fake_slack, ts))
    for state in ("delivered", "read", "delivered"):
        body = json.dumps(envelope(value(statuses=[status(sent.wamid or "", state, PHONE)])))
        async with r.running.request("POST", "/webhook/whatsapp", data=body.encode(), headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": meta_signature(APP_SECRET, body.encode())}) as resp:
            assert resp.status == 200
    await fake_slack.until(lambda: len(reactions(fake_slack, ts)) >= 3)
    await r.settled()
    await asyncio.sleep(0.2)
    got = reactions(fake_slack, ts)
    assert got[0] == "heavy_check_mark"
    assert sorted(got[1:]) == ["ballot_box_with_check", "eyes"], "each status once, in any order"


async def test_release_posts_the_summary(start: Callable[..., Awaitable[SlackRig]],
                                         fake_slack: FakeSlack) -> None:
    r = await start()
    card = await r.taken_by_ana()
    await customer(r, "obrigado")
    await r.event(reply(ANA, "De nada!", card, "1767225707.000100"))
    await eventually(lambda: _human_messages(r, 1))
    assert (await r.release(card, ANA))[0] == 200
    summary = await fake_slack.until(lambda: [t for t in lines(fake_slack, card)
                                              if t.startswith("📋")])
    assert "2 mensagem(ns) do cliente, 1 do atendimento" in summary[0]
    session = await r.session()
    assert session.metadata["handoff_summary"]["attendant"] == "ana@empresa.com"


async def _mode(r: SlackRig, mode: str) -> bool:
    session = await r.manager.get(PHONE)
    return session is not None and session.mode.value == mode


async def _human_messages(r: SlackRig, count: int) -> bool:
    session = await r.manager.get(PHONE)
    return session is not None and session.human_messages >= count


async def test_the_same_reply_delivered_twice_is_sent_once(
        start: Callable[..., Awaitable[SlackRig]], graph: FakeGraph) -> None:
    r = await start()
    card = await r.taken_by_ana()
    event = reply(ANA, "Uma vez só.", card, "1767225708.000100")
    await r.event(event, event_id="Ev0FIRST")
    await r.event(event, event_id="Ev0SECOND")  # e.g. over Socket Mode and HTTP
    await graph.wait_sends(1)
    await r.settled()
    await asyncio.sleep(0.2)
    assert [s.text for s in graph.sends] == ["Uma vez só."]


async def test_a_holders_files_reach_the_customer(
        start: Callable[..., Awaitable[SlackRig]], fake_slack: FakeSlack,
        graph: FakeGraph) -> None:
    r = await start()
    card = await r.taken_by_ana()
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 400
    photo = b"\xff\xd8\xff" + bytes(200) * 300
    files = [fake_slack.share("F0PDF", "boleto-4521.pdf", pdf, "application/pdf"),
             fake_slack.share("F0FOTO", "foto.jpg", photo, "image/jpeg")]
    await r.event(reply(ANA, "Segue o <https://loja.com/b|boleto>", card, "1767225710.000100",
                        subtype="file_share", files=files, upload=False))
    await r.event(reply(ANA, "Mais alguma coisa?", card, "1767225710.000200"))
    sends = await graph.wait_sends(3)
    document, image, after = (s.body for s in sends)
    assert document["type"] == "document" and document["to"] == PHONE
    assert document["document"]["caption"] == "Segue o boleto (https://loja.com/b)"
    assert document["document"]["filename"] == "boleto-4521.pdf"
    assert graph.uploaded[document["document"]["id"]] == (pdf, "application/pdf",
                                                          "boleto-4521.pdf")
    assert image["type"] == "image" and "caption" not in image["image"]
    assert graph.uploaded[image["image"]["id"]][0] == photo
    assert after["type"] == "text" and after["text"]["body"] == "Mais alguma coisa?"
    await fake_slack.until(lambda: reactions(fake_slack, "1767225710.000100"))
    assert reactions(fake_slack, "1767225710.000100") == ["heavy_check_mark"]
    _, body = await r.running.json("GET", f"/session/{PHONE}/messages")
    mine = [m for m in body["messages"] if m["sender"] == "human"]
    assert mine[0]["text"].endswith("[arquivo] boleto-4521.pdf, foto.jpg")
    assert mine[0]["media"] == {"type": "document", "mime_type": "application/pdf",
                                "filename": "boleto-4521.pdf",
                                "caption": "Segue o boleto (https://loja.com/b)"}


async def test_a_non_holders_file_is_not_sent(
        start: Callable[..., Awaitable[SlackRig]], fake_slack: FakeSlack,
        graph: FakeGraph) -> None:
    r = await start()
    card = await r.taken_by_ana()
    files = [fake_slack.share("F0X", "x.pdf", b"%PDF", "application/pdf")]
    await r.event(reply(BRUNO, "", card, "1767225711.000100", subtype="file_share",
                        files=files))
    hints = await fake_slack.until(lambda: [
        c for c in fake_slack.calls["chat.postEphemeral"] if c.params.get("user") == BRUNO])
    assert "não foi enviada" in hints[0].params["text"]
    await r.settled()
    assert graph.requests == [] and graph.uploaded == {}


async def test_a_file_over_the_cap_is_refused_with_a_line(
        start: Callable[..., Awaitable[SlackRig]], fake_slack: FakeSlack,
        graph: FakeGraph) -> None:
    r = await start()
    card = await r.taken_by_ana()
    huge = {**fake_slack.share("F0BIG", "video.mp4", b"x" * 10, "video/mp4"),
            "size": 3 * 1024 ** 3}  # Slack says 3 GB: never downloaded
    await r.event(reply(ANA, "", card, "1767225712.000100", subtype="file_share",
                        files=[huge]))
    await fake_slack.until(lambda: reactions(fake_slack, "1767225712.000100"))
    assert reactions(fake_slack, "1767225712.000100") == ["x"]
    line = await fake_slack.until(lambda: [t for t in lines(fake_slack, card)
                                           if "passa do limite" in t])
    assert line[0].startswith(f"❌ O arquivo de <@{ANA}> não foi enviado ao cliente")
    assert graph.requests == [] and graph.uploaded == {}


async def test_files_through_the_relay_are_links_served_here(
        start: Callable[..., Awaitable[SlackRig]], fake_slack: FakeSlack,
        relay: FakeRelay) -> None:
    r = await start(cloud=False, handoff_outbound_url=relay.url,
                    handoff_outbound_secret=RELAY_SECRET, handoff_media_link_seconds=30)
    card = await r.taken_by_ana()
    pdf = b"%PDF-1.7 " + bytes(range(256)) * 100
    files = [fake_slack.share("F0REL", "nota fiscal.pdf", pdf, "application/pdf")]
    await r.event(reply(ANA, "Segue a nota", card, "1767225720.000100", subtype="file_share",
                        files=files))
    (got,) = await eventually(lambda: relay.accepted)
    assert got["message"] == "Segue a nota" and got["attendant_id"] == "ana@empresa.com"
    (attachment,) = got["attachments"]
    assert {k: attachment[k] for k in ("mime_type", "filename", "size")} == {
        "mime_type": "application/pdf", "filename": "nota fiscal.pdf", "size": len(pdf)}
    path = attachment["url"]
    assert path.startswith("/media/")
    async with r.running.request("GET", path) as resp:
        assert resp.status == 200 and await resp.read() == pdf
        assert resp.headers["Content-Type"] == "application/pdf"
    payload, _, signature = path.removeprefix("/media/").partition(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")
    for bad in (f"/media/{forged}.{signature}", f"/media/{payload}.{signature[:-1]}x",
                f"/media/{payload}", "/media/nada"):
        async with r.running.request("GET", bad) as resp:
            assert resp.status == 404, bad
    await fake_slack.until(lambda: reactions(fake_slack, "1767225720.000100"))
    assert reactions(fake_slack, "1767225720.000100") == ["heavy_check_mark"]


async def test_a_file_link_expires(start: Callable[..., Awaitable[SlackRig]],
                                   fake_slack: FakeSlack, relay: FakeRelay) -> None:
    r = await start(cloud=False, handoff_outbound_url=relay.url,
                    handoff_outbound_secret=RELAY_SECRET, handoff_media_link_seconds=1)
    card = await r.taken_by_ana()
    files = [fake_slack.share("F0EXP", "a.pdf", b"%PDF-1.7", "application/pdf")]
    await r.event(reply(ANA, "", card, "1767225721.000100", subtype="file_share",
                        files=files))
    (got,) = await eventually(lambda: relay.accepted)
    await asyncio.sleep(2.1)
    async with r.running.request("GET", got["attachments"][0]["url"]) as resp:
        assert resp.status == 404
