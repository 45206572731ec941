"""Meta's POSTs in, the bot's replies out through the (fake) Graph API, on both stores."""

from __future__ import annotations

import asyncio

from bot.whatsapp.handling import answered_key
from handoff.events import SendFailed, WindowClosed
from handoff.model import Mode
from tests.bot.whatsapp import meta
from tests.bot.whatsapp.conftest import ACCESS_TOKEN, WaApp, poll
from tests.fakes.graph import FakeGraph

PHONE = "5531999999999"
#: How Meta names that customer: a Brazilian mobile without its ninth digit.
WA_ID = "553199999999"


async def test_agent_mode_answers_the_customer_once_through_the_cloud_api(
        wa: WaApp, graph: FakeGraph) -> None:
    status, body = await wa.meta(meta.incoming(WA_ID, "wamid.A1", "Quero queijo canastra"))
    assert status == 200 and body["queued"] == 1
    [sent] = await graph.wait_sends(1)
    assert sent.phone_number_id == meta.PHONE_NUMBER_ID
    assert sent.authorization == f"Bearer {ACCESS_TOKEN}"
    assert sent.to == WA_ID
    assert sent.body["messaging_product"] == "whatsapp" and sent.body["type"] == "text"
    assert sent.text == "Resposta: Quero queijo canastra"
    session = await wa.manager.get(PHONE)
    assert session is not None and session.mode is Mode.AGENT
    assert session.last_customer_text == "Quero queijo canastra"
    assert session.metadata["profile_name"] == "Ana Lima"


async def test_human_and_paused_modes_send_nothing(wa: WaApp, graph: FakeGraph) -> None:
    await wa.manager.takeover(PHONE, "ana@empresa.com")
    await wa.meta(meta.incoming(WA_ID, "wamid.H1", "Oi?"))
    await wa.processed("wamid.H1")
    await wa.manager.pause(PHONE, "ana@empresa.com")
    await wa.meta(meta.incoming(WA_ID, "wamid.P1", "Alô?"))
    await wa.processed("wamid.P1")
    session = await wa.manager.get(PHONE)
    assert session is not None and session.last_customer_text == "Alô?"
    assert graph.requests == []


async def test_the_same_wamid_three_times_is_answered_once(wa: WaApp, graph: FakeGraph,
                                                           ) -> None:
    payload = meta.incoming(WA_ID, "wamid.D1", "Tem frete grátis?")
    answers = await asyncio.gather(*(wa.meta(payload) for _ in range(3)))
    assert [a[0] for a in answers] == [200, 200, 200]
    assert sorted(a[1]["queued"] for a in answers) == [0, 0, 1]
    await wa.processed("wamid.D1")
    await wa.meta(payload)
    assert len(graph.requests) == 1
    history = await wa.manager.history(PHONE)
    assert history == []


async def test_every_entry_change_and_message_of_one_post(wa: WaApp, graph: FakeGraph) -> None:
    other = "5521988887777"
    payload = meta.envelope(
        meta.value(contacts=[meta.contact(WA_ID, "Ana Lima")],
                   messages=[meta.text(WA_ID, "wamid.M1", "Primeira"),
                             meta.text(WA_ID, "wamid.M2", "Segunda")]),
        meta.value(contacts=[meta.contact(other, "Bruno")],
                   messages=[meta.text(other, "wamid.M3", "Terceira")]),
        entries=2)
    status, body = await wa.meta(payload)
    assert (status, body["queued"]) == (200, 3)
    sends = await graph.wait_sends(3)
    assert sorted((s.to, s.text) for s in sends) == [
        (other, "Resposta: Terceira"), (WA_ID, "Resposta: Primeira"),
        (WA_ID, "Resposta: Segunda")]
    mine = [s.text for s in sends if s.to == WA_ID]
    assert mine == ["Resposta: Primeira", "Resposta: Segunda"]
    bruno = await wa.manager.get(other)
    assert bruno is not None and bruno.metadata["profile_name"] == "Bruno"


async def test_one_customer_messages_are_handled_in_order(wa: WaApp, graph: FakeGraph) -> None:
    """The bot answers the first, then the second asks for a person: one send, then paused."""
    payload = meta.envelope(meta.value(
        contacts=[meta.contact(WA_ID, "Ana Lima")],
        messages=[meta.text(WA_ID, "wamid.O1", "Oi"),
                  meta.text(WA_ID, "wamid.O2", "quero falar com um atendente")]))
    await wa.meta(payload)
    await wa.processed("wamid.O2")
    assert [s.text for s in graph.sends] == ["Resposta: Oi"]
    session = await wa.manager.get(PHONE)
    assert session is not None and session.mode is Mode.PAUSED


async def test_button_reply_and_image_reach_the_agent_as_text(wa: WaApp, graph: FakeGraph,
                                                              agent: object) -> None:
    await wa.meta(meta.envelope(meta.value(
        contacts=[meta.contact(WA_ID, "Ana Lima")],
        messages=[meta.button_reply(WA_ID, "wamid.B1", "Sim"),
                  meta.image(WA_ID, "wamid.I1", "nota fiscal")])))
    sends = await graph.wait_sends(2)
    assert [s.text for s in sends] == ["Resposta: Sim", "Resposta: [imagem] nota fiscal"]


async def test_escalation_phrase_via_meta_pauses_and_the_bot_stays_silent(
        wa: WaApp, graph: FakeGraph) -> None:
    await wa.meta(meta.incoming(WA_ID, "wamid.E1", "Quero falar com um ATENDENTE"))
    await wa.processed("wamid.E1")
    session = await wa.manager.get(PHONE)
    assert session is not None and session.mode is Mode.PAUSED
    assert graph.requests == []
    history = await wa.manager.history(PHONE)
    assert history is not None and [e.event for e in history] == ["escalation_requested"]


async def test_a_sender_without_a_phone_is_keyed_by_the_user_id(wa: WaApp,
                                                                graph: FakeGraph) -> None:
    await wa.meta(meta.username_only("BR.1503AbC9", "wamid.U1", "Oi", "Carla"))
    [sent] = await graph.wait_sends(1)
    assert sent.body.get("recipient") == "BR.1503AbC9" and "to" not in sent.body
    session = await wa.manager.get("BR.1503AbC9")
    assert session is not None and session.metadata["profile_name"] == "Carla"


async def test_an_echo_from_the_business_phone_is_an_implicit_takeover(
        wa: WaApp, graph: FakeGraph) -> None:
    await wa.meta(meta.echo(WA_ID, "wamid.X1", "Oi, aqui é a Ana da loja"))
    await wa.processed("wamid.X1")
    session = await wa.manager.get(PHONE)
    assert session is not None and session.mode is Mode.HUMAN
    assert session.human_attendant == "whatsapp"
    await wa.meta(meta.incoming(WA_ID, "wamid.X2", "Oi Ana"))
    await wa.processed("wamid.X2")
    assert graph.requests == []


async def test_a_takeover_while_the_agent_thinks_drops_the_reply(
        wa: WaApp, graph: FakeGraph, agent: object) -> None:
    from tests.bot.whatsapp.conftest import FakeAgent
    assert isinstance(agent, FakeAgent)
    agent.hold = asyncio.Event()
    await wa.meta(meta.incoming(WA_ID, "wamid.T1", "Qual o prazo?"))
    await poll(lambda: agent.calls)
    await wa.manager.takeover(PHONE, "ana@empresa.com")
    agent.hold.set()
    await wa.processed("wamid.T1")
    assert graph.requests == []


async def test_send_retries_5xx_and_throttling_then_delivers_once(
        wa: WaApp, graph: FakeGraph) -> None:
    graph.fail(status=500)
    graph.fail(status=503, retry_after=0.01)
    graph.throttle()
    graph.fail(status=400, code=131056)
    await wa.meta(meta.incoming(WA_ID, "wamid.R1", "Oi"))
    await wa.processed("wamid.R1")
    assert len(graph.requests) == 5
    assert [s.text for s in graph.sends] == ["Resposta: Oi"]
    assert await wa.events() == []


async def test_window_expired_on_send_is_announced(
        wa: WaApp, graph: FakeGraph) -> None:
    graph.window_expired()
    await wa.meta(meta.incoming(WA_ID, "wamid.W1", "Oi"))
    await wa.processed("wamid.W1")
    assert len(graph.requests) == 1
    [closed] = await wa.events()
    assert isinstance(closed, WindowClosed) and closed.phone == PHONE


async def test_other_refusals_are_not_retried_and_are_announced(
        wa: WaApp, graph: FakeGraph) -> None:
    graph.fail(status=400, code=131026)
    await wa.meta(meta.incoming(WA_ID, "wamid.F1", "Oi"))
    await wa.processed("wamid.F1")
    assert len(graph.requests) == 1 and graph.sends == []
    [failed] = await wa.events()
    assert isinstance(failed, SendFailed) and failed.code == 131026
    async with wa.http.get(wa.url + "/metrics") as resp:
        assert 'handoff_outbound_failures_total{api="whatsapp"} 1.0' in await resp.text()


async def test_without_cloud_settings_messages_are_recorded_and_nothing_is_sent(
        start: object, wa_settings: object, graph: FakeGraph) -> None:
    app = await start(wa_settings(whatsapp_access_token=None))  # type: ignore[operator]
    await app.meta(meta.incoming(WA_ID, "wamid.N1", "Oi"))
    await app.processed("wamid.N1")
    session = await app.manager.get(PHONE)
    assert session is not None and session.last_customer_text == "Oi"
    assert graph.requests == []


async def test_answered_mark_is_set_per_message(wa: WaApp) -> None:
    await wa.meta(meta.incoming(WA_ID, "wamid.K1", "Oi"))
    await wa.processed("wamid.K1")
    assert await wa.ledger.get(answered_key("wamid.K1")) == "1"
    assert await wa.ledger.get(answered_key("wamid.K2")) is None
