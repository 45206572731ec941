"""The Home tab end to end: signed `app_home_opened` and Home clicks → `views.publish`."""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from bot.slack import SLACK
from bot.slack.home import HOME_RELEASE, HOME_TAKE
from handoff.model import Mode
from tests.bot.slack.conftest import ANA, BRUNO, PHONE, SUPERVISOR, SlackRig
from tests.conftest import Running
from tests.fakes.slack import form_payload
from tests.wait import eventually

PHONE2, PHONE3, PHONE4 = "5531988887777", "5531977776666", "5531966665555"
_ids = itertools.count(1)


def home_click(action_id: str, phone: str, *, user: str) -> dict[str, Any]:
    """A `block_actions` payload for a button on the Home tab: a view, no channel, no URL."""
    return {
        "type": "block_actions", "api_app_id": "A0HANDOFF", "token": "legacy",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0TEST"},
        "team": {"id": "T0TEST", "domain": "empresa"},
        "container": {"type": "view", "view_id": "V0HOME"},
        "trigger_id": f"{next(_ids)}.9.home", "enterprise": None,
        "view": {"id": "V0HOME", "team_id": "T0TEST", "type": "home", "blocks": [],
                 "private_metadata": "", "callback_id": "", "hash": "1.abc",
                 "root_view_id": "V0HOME", "app_id": "A0HANDOFF", "bot_id": "B0BOT"},
        "actions": [{"action_id": action_id, "block_id": f"home:{phone}", "value": phone,
                     "type": "button", "action_ts": f"{time.time():.6f}",
                     "text": {"type": "plain_text", "text": action_id}}],
        "state": {"values": {}},
    }


async def open_home(slack: SlackRig, user: str, *, tab: str = "home") -> None:
    status, _ = await slack.event({"type": "app_home_opened", "user": user,
                                   "channel": f"D{user}", "tab": tab,
                                   "event_ts": f"{time.time():.6f}"})
    assert status == 200


async def click(slack: SlackRig, action_id: str, user: str, phone: str = PHONE) -> None:
    status, _ = await slack.signed(form_payload(home_click(action_id, phone, user=user)))
    assert status == 200


async def home(slack: SlackRig, user: str, count: int = 1) -> dict[str, Any]:
    """The `count`-th Home published for `user` (waiting for it)."""
    homes = await slack.fake.until(lambda: len(slack.fake.homes[user]) >= count and
                                   slack.fake.homes[user], what=f"Home #{count} of {user}")
    return homes[count - 1]


async def home_showing(slack: SlackRig, user: str, what: str) -> dict[str, Any]:
    """The latest Home of `user`, once one shows `what`."""
    def latest() -> dict[str, Any] | None:
        homes = slack.fake.homes[user]
        return homes[-1] if homes and what in json.dumps(homes[-1], ensure_ascii=False) else None
    found: dict[str, Any] = await slack.fake.until(latest, what=f"{what!r} on {user}'s Home")
    return found


def rows(view: dict[str, Any]) -> dict[str, tuple[str, list[str]]]:
    """phone → (the row's text, its buttons), in the order shown."""
    out: dict[str, tuple[str, list[str]]] = {}
    blocks = view["blocks"]
    for i, block in enumerate(blocks):
        if block["type"] == "actions" and block["block_id"].startswith("home:"):
            text = blocks[i - 1]["text"]["text"]
            out[block["block_id"][5:]] = (text, [e["action_id"] for e in block["elements"]])
    return out


async def customer(slack: SlackRig, phone: str, text: str, **extra: Any) -> dict[str, Any]:
    status, body = await slack.running.json("POST", "/webhook/whatsapp", json={
        "phone": phone, "message": text, "sender_type": "customer", **extra})
    assert status == 200, body
    result: dict[str, Any] = body
    return result


async def test_opening_home_publishes_the_list_waiting_first(slack: SlackRig) -> None:
    await customer(slack, PHONE, "quero um atendente, o pedido 42 sumiu",
                   metadata={"profile_name": "Maria Souza"})
    await customer(slack, PHONE3, "qual o horário de vocês?")
    await customer(slack, PHONE4, "quero falar com um atendente")
    status, _ = await slack.running.json("POST", f"/session/{PHONE4}/takeover",
                                         json={"attendant_id": "ana@empresa.com"})
    assert status == 200
    await slack.running.json("POST", "/webhook/whatsapp", json={
        "phone": PHONE4, "message": "Oi, sou a Ana", "sender_type": "human",
        "attendant_id": "ana@empresa.com"})
    await customer(slack, PHONE2, "preciso de uma pessoa aqui")

    await open_home(slack, BRUNO)
    view = await home(slack, BRUNO)
    call = slack.fake.calls["views.publish"][0]  # a refresh racing the opening may follow
    assert call.params["user_id"] == BRUNO
    assert call.headers["Authorization"] == f"Bearer {slack.fake.token}"
    shown = rows(view)
    # Both waiting customers first, the longest wait on top; then the others.
    assert list(shown)[:2] == [PHONE, PHONE2] and set(list(shown)[2:]) == {PHONE3, PHONE4}
    text, buttons = shown[PHONE]
    assert text.startswith("⏸️ *Maria Souza · " + PHONE)
    assert "aguardando desde <!date^" in text and "o pedido 42 sumiu" in text
    assert buttons == [HOME_TAKE, HOME_RELEASE]
    text, buttons = shown[PHONE3]
    assert text.startswith("🤖") and "Com o bot" in text and "qual o horário" in text
    assert buttons == [HOME_TAKE]
    text, buttons = shown[PHONE4]
    assert text.startswith("👤") and f"<@{ANA}> · respondido" in text and "(você)" not in text
    assert buttons == [HOME_TAKE]
    summary = json.dumps(view["blocks"][:2], ensure_ascii=False)
    assert "Conversas ativas" in summary
    assert "2 aguardando · 1 com atendente · 1 com o bot" in summary

    await open_home(slack, ANA)
    text, buttons = rows(await home(slack, ANA))[PHONE4]
    assert f"<@{ANA}> (você)" in text and buttons == [HOME_RELEASE]
    await open_home(slack, SUPERVISOR)
    assert rows(await home(slack, SUPERVISOR))[PHONE4][1] == [HOME_TAKE, HOME_RELEASE]


async def test_customer_text_cannot_mention_or_link(slack: SlackRig) -> None:
    await customer(slack, PHONE, f"<!channel> oi <@{ANA}> & <https://evil.example|clique> <!here>",
                   metadata={"profile_name": "<!everyone> *Zé*"})
    await open_home(slack, BRUNO)
    text, _ = rows(await home(slack, BRUNO))[PHONE]
    for injected in ("<!channel>", "<!here>", "<!everyone>", f"<@{ANA}>", "<https://"):
        assert injected not in text
    assert "&lt;!channel&gt; oi &lt;@U0ANA&gt; &amp; &lt;https://evil.example|clique&gt;" in text
    assert "&lt;!everyone&gt;" in text


async def test_home_buttons_take_over_and_release(slack: SlackRig) -> None:
    await customer(slack, PHONE, "quero um atendente")
    await open_home(slack, ANA)
    assert rows(await home(slack, ANA))[PHONE][1] == [HOME_TAKE, HOME_RELEASE]

    await click(slack, HOME_TAKE, ANA)
    view = await home_showing(slack, ANA, "(você)")
    session = await slack.session()
    assert session.mode is Mode.HUMAN and session.human_attendant == "ana@empresa.com"
    assert rows(view)[PHONE][1] == [HOME_RELEASE]

    await click(slack, HOME_RELEASE, ANA)
    view = await home_showing(slack, ANA, "Com o bot")
    assert (await slack.session()).mode is Mode.AGENT
    assert rows(view)[PHONE][1] == [HOME_TAKE]
    await slack.settled()
    # Home has no channel to answer in, and a change needs no answer: nothing ephemeral.
    assert slack.fake.calls["chat.postEphemeral"] == []


async def test_a_refused_click_is_answered_on_the_clickers_home(slack: SlackRig) -> None:
    await customer(slack, PHONE, "quero um atendente")
    await slack.running.json("POST", f"/session/{PHONE}/takeover",
                             json={"attendant_id": "ana@empresa.com"})
    await open_home(slack, BRUNO)
    await home(slack, BRUNO)

    await click(slack, HOME_TAKE, BRUNO)
    view = await home_showing(slack, BRUNO, "já está com")
    notice = view["blocks"][2]["text"]["text"]
    assert f"<@{ANA}>" in notice and PHONE in notice
    assert (await slack.session()).human_attendant == "ana@empresa.com"

    await click(slack, HOME_RELEASE, BRUNO)
    await home_showing(slack, BRUNO, "ou um supervisor pode liberar")
    assert (await slack.session()).mode is Mode.HUMAN

    await click(slack, HOME_RELEASE, SUPERVISOR)
    await slack.fake.until(lambda: slack.fake.homes[SUPERVISOR], what="the supervisor's Home")
    assert (await slack.session()).mode is Mode.AGENT
    await slack.settled()
    assert slack.fake.calls["chat.postEphemeral"] == []


async def test_a_change_refreshes_the_homes_of_those_who_opened_it(slack: SlackRig) -> None:
    await open_home(slack, ANA)
    assert "Nenhuma conversa ativa" in json.dumps(await home(slack, ANA), ensure_ascii=False)
    await customer(slack, PHONE, "quero um atendente")
    view = await home_showing(slack, ANA, PHONE)
    assert rows(view)[PHONE][0].startswith("⏸️")
    status, _ = await slack.running.json("POST", f"/session/{PHONE}/takeover",
                                         json={"attendant_id": "bruno@empresa.com"})
    assert status == 200
    view = await home_showing(slack, ANA, f"<@{BRUNO}>")
    assert rows(view)[PHONE][0].startswith("👤")
    await slack.settled()
    assert BRUNO not in slack.fake.homes  # never opened Home: never published


async def test_the_messages_tab_is_not_the_home(slack: SlackRig) -> None:
    await open_home(slack, ANA, tab="messages")
    await open_home(slack, BRUNO)
    await home(slack, BRUNO)
    await slack.settled()
    assert ANA not in slack.fake.homes


async def test_a_burst_of_changes_is_one_refresh(slack: SlackRig) -> None:
    refresher = slack.running.app[SLACK].home
    refresher.min_interval, refresher.per_viewer = 0.01, 0.0
    await open_home(slack, ANA)
    await home(slack, ANA)
    await slack.settled()
    gate = slack.fake.hold("views.publish")
    await customer(slack, PHONE, "quero um atendente")
    await slack.fake.until(lambda: slack.fake.waiting("views.publish") == 1,
                           what="the first refresh to be on its way")
    phones = [f"55319{n:08d}" for n in range(10)]
    for phone in phones:  # ten escalations, each a change and a message
        await customer(slack, phone, "quero um atendente")
    await eventually(slack.delivered)
    gate.set()
    await slack.settled()
    assert len(slack.fake.homes[ANA]) == 3  # the opening, the held one, one for all ten
    assert set(rows(slack.fake.homes[ANA][-1])) == {PHONE, *phones}


async def test_a_long_list_is_capped_to_slacks_100_blocks(slack: SlackRig) -> None:
    phones = [f"55319{n:08d}" for n in range(60)]
    for phone in phones:
        await slack.manager.handle_message(phone, "oi, tudo bem?")
    await open_home(slack, ANA)
    view = await home(slack, ANA)
    assert len(view["blocks"]) <= 100
    shown = rows(view)
    more = view["blocks"][-1]["elements"][0]["text"]
    count = int(re.search(r"e mais (\d+) conversas", more).group(1))  # type: ignore[union-attr]
    assert len(shown) + count == 60 and count > 0


def test_the_manifest_enables_the_home_tab_and_its_event() -> None:
    manifest = (Path(__file__).resolve().parents[3] / "manifest.yml").read_text("utf-8")
    assert re.search(r"app_home:\n\s+home_tab_enabled: true\b", manifest)
    events = manifest.split("bot_events:\n", 1)[1].split("interactivity:", 1)[0]
    assert re.search(r"^\s+- app_home_opened\b", events, re.M)


@pytest.mark.parametrize("store_kind", ["redis"])
async def test_a_change_in_another_process_refreshes_the_viewer(
        slack: SlackRig, serve: Callable[..., Awaitable[Running]],
        slack_settings: Callable[..., Settings], store_kind: str) -> None:
    other = SlackRig(await serve(slack_settings()), slack.fake)
    await open_home(slack, ANA)
    await home(slack, ANA)
    status, _ = await other.running.json("POST", f"/session/{PHONE}/takeover",
                                         json={"attendant_id": "bruno@empresa.com"})
    assert status == 200
    view = await home_showing(slack, ANA, f"<@{BRUNO}>")
    assert rows(view)[PHONE][0].startswith("👤")
