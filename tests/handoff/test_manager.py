"""The contract's webhook table and takeover/release rules, on both stores."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime

import pytest

from bot import replies
from bot.whatsapp import texts as wa_texts
from handoff.backends import Backend
from handoff.events import HandedBack, Happening, ModeChanged, Transferred
from handoff.machine import Outcome, Reason, Sender
from handoff.manager import MessageResult, SessionManager
from handoff.model import Mode
from handoff.phones import InvalidPhone
from handoff.store import SessionStore
from tests.outbox_reader import events_in

PHONE = "5531999999999"


@pytest.fixture
def manager(backend: Backend) -> SessionManager:
    return SessionManager(backend.store, backend.claims, supervisors=["chefe@empresa.com"],
                          fallback=wa_texts.AGENT_FALLBACK)


def said(r: MessageResult) -> str:
    """The answer an attendant reads after a command, as the adapters word it."""
    assert r.command is not None
    return replies.word(r.command)


async def test_customer_in_agent_mode_gets_the_bot(manager: SessionManager) -> None:
    r = await manager.handle_message(PHONE, "Quero queijo canastra")
    assert r.should_respond and r.reason is Reason.AGENT_ACTIVE
    assert r.response == wa_texts.AGENT_FALLBACK
    assert r.session is not None and r.session.mode is Mode.AGENT
    assert r.session.last_customer_text == "Quero queijo canastra"
    assert r.metadata == {}


@pytest.mark.parametrize("text", ["Quero falar com um ATENDENTE", "atendimento humano",
                                  "posso falar com alguém?", "Pessoa, por favor"])
async def test_customer_asking_for_a_person_pauses(manager: SessionManager, text: str) -> None:
    r = await manager.handle_message(PHONE, text)
    assert not r.should_respond and r.response is None
    assert r.reason is Reason.ESCALATION_REQUESTED
    assert r.metadata == {"escalation_requested": True}
    assert r.session is not None and r.session.mode is Mode.PAUSED
    assert r.session.paused_at is not None


async def test_words_that_merely_contain_a_phrase_do_not_escalate(
        manager: SessionManager) -> None:
    r = await manager.handle_message(PHONE, "isso é desumano de barato")
    assert r.reason is Reason.AGENT_ACTIVE


async def test_paused_and_human_modes_keep_the_bot_silent(manager: SessionManager) -> None:
    await manager.handle_message(PHONE, "atendente")
    r = await manager.handle_message(PHONE, "alô?")
    assert (r.should_respond, r.reason, r.session and r.session.mode) == (
        False, Reason.WAITING_HUMAN, Mode.PAUSED)
    await manager.takeover(PHONE, "ana@empresa.com")
    r = await manager.handle_message(PHONE, "oi Ana")
    assert (r.should_respond, r.reason, r.session and r.session.mode) == (
        False, Reason.HUMAN_ACTIVE, Mode.HUMAN)
    assert r.response is None


async def test_text_keeps_its_accents_and_emoji(manager: SessionManager) -> None:
    r = await manager.handle_message(PHONE, "Olá, açúcar? 🧀 \"aspas\" / barra")
    assert r.session is not None
    assert r.session.last_customer_text == "Olá, açúcar? 🧀 \"aspas\" / barra"
    s = await manager.update_metadata(PHONE, {"nome": "João 🧀"})
    assert s is not None and s.metadata == {"nome": "João 🧀"}


async def test_customer_slash_text_is_an_ordinary_message(manager: SessionManager) -> None:
    r = await manager.handle_message(PHONE, "/liberar 5531999999999")
    assert r.reason is Reason.AGENT_ACTIVE and r.should_respond


@pytest.mark.parametrize("start", ["agent", "paused"])
async def test_attendant_message_is_an_implicit_takeover(manager: SessionManager,
                                                         start: str) -> None:
    await manager.handle_message(PHONE, "oi" if start == "agent" else "atendente")
    r = await manager.handle_message(PHONE, "Olá, sou a Ana", Sender.HUMAN,
                                     attendant="ana@empresa.com")
    assert not r.should_respond and r.reason is Reason.RECORDED
    assert r.session is not None and r.session.mode is Mode.HUMAN
    assert r.session.human_attendant == "ana@empresa.com"
    assert r.session.last_human_message is not None


async def test_attendant_message_without_id_belongs_to_the_business_phone(
        manager: SessionManager) -> None:
    r = await manager.handle_message(PHONE, "Olá!", Sender.HUMAN)
    assert r.session is not None and r.session.human_attendant == "whatsapp"


async def test_another_attendant_writing_does_not_take_the_holder_s_place(
        manager: SessionManager) -> None:
    await manager.takeover(PHONE, "ana@empresa.com")
    r = await manager.handle_message(PHONE, "posso ajudar?", Sender.HUMAN,
                                     attendant="bia@empresa.com")
    assert r.reason is Reason.RECORDED
    assert r.session is not None and r.session.human_attendant == "ana@empresa.com"


async def test_agent_message_is_recorded_and_changes_nothing(manager: SessionManager) -> None:
    await manager.handle_message(PHONE, "atendente")
    r = await manager.handle_message(PHONE, "Já chamo alguém", Sender.AGENT)
    assert r.reason is Reason.RECORDED and not r.should_respond
    assert r.session is not None and r.session.mode is Mode.PAUSED


async def test_repeated_message_id_is_a_duplicate(manager: SessionManager) -> None:
    first = await manager.handle_message(PHONE, "oi", message_id="m1")
    again = await manager.handle_message(PHONE, "atendente", message_id="m1")
    assert first.reason is Reason.AGENT_ACTIVE
    assert again.reason is Reason.DUPLICATE and not again.should_respond
    assert again.session is not None and again.session.mode is Mode.AGENT
    assert again.session.last_customer_text == "oi"
    other_phone = await manager.handle_message("5531988887777", "oi", message_id="m1")
    assert other_phone.reason is Reason.AGENT_ACTIVE


async def test_attendant_command_runs_and_answers(manager: SessionManager) -> None:
    await manager.handle_message(PHONE, "atendente")
    r = await manager.handle_message(PHONE, "/assumir", Sender.HUMAN,
                                     attendant="ana@empresa.com")
    assert r.reason is Reason.COMMAND and not r.should_respond
    assert said(r) == replies.TAKEN.format(phone=PHONE, attendant="ana@empresa.com")
    assert r.session is not None and r.session.mode is Mode.HUMAN
    r = await manager.handle_message(PHONE, "/status", Sender.HUMAN, attendant="ana@empresa.com")
    assert "ana@empresa.com" in said(r)
    r = await manager.handle_message(PHONE, "/liberar", Sender.HUMAN, attendant="ana@empresa.com")
    assert r.session is not None and r.session.mode is Mode.AGENT
    r = await manager.handle_message(PHONE, "/pausar", Sender.HUMAN, attendant="ana@empresa.com")
    assert r.session is not None and r.session.mode is Mode.PAUSED
    r = await manager.handle_message(PHONE, "/ajuda", Sender.HUMAN)
    assert "/assumir" in said(r) and "/status" in said(r)
    r = await manager.handle_message(PHONE, "/nada", Sender.HUMAN)
    assert said(r) == replies.UNKNOWN_COMMAND.format(name="/nada")


async def test_repeated_command_message_runs_once(manager: SessionManager) -> None:
    await manager.handle_message(PHONE, "atendente")
    await manager.handle_message(PHONE, "/assumir", Sender.HUMAN, attendant="a", message_id="c1")
    await manager.handle_message(PHONE, "/liberar", Sender.HUMAN, attendant="a", message_id="c2")
    r = await manager.handle_message(PHONE, "/assumir", Sender.HUMAN, attendant="a",
                                     message_id="c1")
    assert r.reason is Reason.DUPLICATE
    assert r.session is not None and r.session.mode is Mode.AGENT


async def test_takeover_rules(manager: SessionManager) -> None:
    r = await manager.takeover("+55 (31) 99999-9999", "ana@empresa.com")
    assert r.success and r.outcome is Outcome.CHANGED, "a phone never seen gets a session"
    assert r.session is not None and r.session.phone == PHONE and r.session.taken_at
    again = await manager.takeover(PHONE, "ana@empresa.com")
    assert again.success and again.outcome is Outcome.UNCHANGED
    other = await manager.takeover(PHONE, "bia@empresa.com")
    assert not other.success and other.outcome is Outcome.CONFLICT
    assert other.holder == "ana@empresa.com"
    assert other.session is not None and other.session.human_attendant == "ana@empresa.com"
    forced = await manager.takeover(PHONE, "bia@empresa.com", force=True)
    assert forced.success and forced.session is not None
    assert forced.session.human_attendant == "bia@empresa.com"
    boss = await manager.takeover(PHONE, "chefe@empresa.com")
    assert boss.success and boss.session is not None
    assert boss.session.human_attendant == "chefe@empresa.com"


async def test_release_rules(manager: SessionManager) -> None:
    missing = await manager.release(PHONE)
    assert missing.outcome is Outcome.NOT_FOUND and not missing.success
    await manager.takeover(PHONE, "ana@empresa.com")
    refused = await manager.release(PHONE, "bia@empresa.com")
    assert refused.outcome is Outcome.FORBIDDEN and refused.holder == "ana@empresa.com"
    assert refused.session is not None and refused.session.mode is Mode.HUMAN
    boss = await manager.release(PHONE, "chefe@empresa.com")
    assert boss.success and boss.session is not None and boss.session.mode is Mode.AGENT
    assert boss.session.human_attendant is None and boss.session.taken_at is None
    noop = await manager.release(PHONE, "ana@empresa.com")
    assert noop.outcome is Outcome.UNCHANGED and noop.success
    await manager.takeover(PHONE, "ana@empresa.com")
    assert (await manager.release(PHONE, "bia@empresa.com", force=True)).success
    await manager.takeover(PHONE, "ana@empresa.com")
    anonymous = await manager.release(PHONE)
    assert anonymous.success and anonymous.outcome is Outcome.CHANGED
    await manager.handle_message(PHONE, "atendente")
    paused = await manager.release(PHONE, "bia@empresa.com")
    assert paused.success and paused.session is not None and paused.session.mode is Mode.AGENT


async def test_pause_rules(manager: SessionManager) -> None:
    assert (await manager.pause(PHONE, "ana")).outcome is Outcome.NOT_FOUND
    await manager.takeover(PHONE, "ana")
    assert (await manager.pause(PHONE, "bia")).outcome is Outcome.FORBIDDEN
    r = await manager.pause(PHONE, "ana")
    assert r.outcome is Outcome.CHANGED and r.session is not None
    assert r.session.mode is Mode.PAUSED and r.session.human_attendant is None
    assert (await manager.pause(PHONE, "ana")).outcome is Outcome.UNCHANGED


async def test_ninth_digit_and_formatting_are_one_session(manager: SessionManager) -> None:
    await manager.handle_message("553199999999", "oi")
    await manager.handle_message("+55 (31) 99999-9999", "atendente")
    session = await manager.get(PHONE)
    assert session is not None and session.mode is Mode.PAUSED
    with pytest.raises(InvalidPhone):
        await manager.handle_message("1234567", "oi")
    with pytest.raises(InvalidPhone):
        await manager.get("1234567890123456")


async def test_metadata_is_merged(manager: SessionManager) -> None:
    await manager.handle_message(PHONE, "oi", metadata={"a": 1, "nested": {"x": [1, 2]}})
    await manager.handle_message(PHONE, "oi", metadata={"b": "dois"})
    s = await manager.update_metadata(PHONE, {"priority": "high", "a": None})
    assert s is not None
    assert s.metadata == {"a": None, "b": "dois", "nested": {"x": [1, 2]}, "priority": "high"}
    assert (await manager.get(PHONE)).metadata == s.metadata  # type: ignore[union-attr]
    assert await manager.update_metadata("5531900000000", {"x": 1}) is None


async def test_list_active(manager: SessionManager, store: SessionStore) -> None:
    clock = [1_000_000.0]
    manager.clock = lambda: clock[0]
    await manager.handle_message("5531900000001", "oi")
    await manager.handle_message("5531900000002", "atendente")
    await manager.takeover("5531900000003", "ana")
    await manager.takeover("5531900000004", "ana")
    await manager.release("5531900000004")
    clock[0] += 3600
    phones = {s.phone: s.mode for s in await manager.list_active()}
    assert phones == {"5531900000001": Mode.AGENT, "5531900000002": Mode.PAUSED,
                      "5531900000003": Mode.HUMAN}
    assert [s.phone for s in await manager.list_active(Mode.PAUSED)] == ["5531900000002"]
    clock[0] += 24 * 3600
    phones = {s.phone: s.mode for s in await manager.list_active()}
    assert phones == {"5531900000002": Mode.PAUSED, "5531900000003": Mode.HUMAN}, \
        "agent sessions leave the list 24h after the customer's last message"


async def test_history_records_who_when_and_from_where(manager: SessionManager) -> None:
    assert await manager.history(PHONE) is None
    await manager.handle_message(PHONE, "atendente")
    await manager.takeover(PHONE, "ana@empresa.com", source="slack")
    await manager.release(PHONE, "ana@empresa.com", source="cli")
    await manager.handle_message(PHONE, "oi", Sender.HUMAN, attendant="bia")
    events = await manager.history(PHONE)
    assert events is not None
    got = [(e.event, e.actor, e.source, e.from_mode, e.to_mode) for e in events]
    assert got == [
        ("escalation_requested", PHONE, "whatsapp", "agent", "paused"),
        ("takeover", "ana@empresa.com", "slack", "paused", "human"),
        ("release", "ana@empresa.com", "cli", "human", "agent"),
        ("takeover", "bia", "whatsapp", "agent", "human"),
    ]
    assert all(a.at <= b.at for a, b in itertools.pairwise(events))
    assert isinstance(datetime.fromisoformat(events[0].to_json()["at"]), datetime)


async def test_every_change_writes_one_event(manager: SessionManager,
                                             backend: Backend) -> None:
    await manager.handle_message(PHONE, "oi")
    await manager.handle_message(PHONE, "atendente")
    await manager.takeover(PHONE, "ana")
    await manager.takeover(PHONE, "ana")
    await manager.takeover(PHONE, "bia")
    await manager.release(PHONE, "ana")
    changes = [e for e in await events_in(backend.outbox) if isinstance(e, ModeChanged)]
    assert [(c.event, c.from_mode, c.holder) for c in changes] == [
        ("escalation_requested", "agent", None), ("takeover", "paused", "ana"),
        ("release", "human", None)]


async def test_concurrent_takeovers_have_one_winner(manager: SessionManager) -> None:
    await manager.handle_message(PHONE, "atendente")
    results = await asyncio.gather(*(manager.takeover(PHONE, f"a{i}") for i in range(50)))
    winners = [r for r in results if r.outcome is Outcome.CHANGED]
    assert len(winners) == 1
    holder = winners[0].session.human_attendant  # type: ignore[union-attr]
    assert all(r.holder == holder for r in results if not r.success)


async def test_conditional_release_keeps_an_active_attendant(manager: SessionManager,
                                                             store: SessionStore) -> None:
    clock = [1_000_000.0]
    manager.clock = lambda: clock[0]
    await manager.takeover(PHONE, "ana")
    clock[0] += 100
    await manager.handle_message(PHONE, "oi", Sender.HUMAN, attendant="ana")
    kept = await manager.release(PHONE, "monitor", force=True, source="monitor",
                                 idle_before=clock[0] - 50)
    assert kept.outcome is Outcome.UNCHANGED and kept.session is not None
    assert kept.session.mode is Mode.HUMAN
    clock[0] += 100
    gone = await manager.release(PHONE, "monitor", force=True, source="monitor",
                                 idle_before=clock[0] - 50)
    assert gone.outcome is Outcome.CHANGED
    events = await manager.history(PHONE)
    assert events is not None and events[-1].event == "auto_release"
    assert events[-1].source == "monitor"


async def test_count_by_mode(manager: SessionManager, store: SessionStore) -> None:
    await manager.handle_message("5531900000001", "oi")
    await manager.handle_message("5531900000002", "atendente")
    await manager.handle_message("5531900000003", "atendente")
    await manager.takeover("5531900000004", "ana")
    counts = await store.count_by_mode(manager.clock())
    assert counts == {Mode.AGENT: 1, Mode.PAUSED: 2, Mode.HUMAN: 1}
    assert await store.count_by_mode(manager.clock() + 2 * 24 * 3600) == {
        Mode.AGENT: 0, Mode.PAUSED: 2, Mode.HUMAN: 1}


async def test_takeover_keeps_when_the_customer_started_waiting(
        manager: SessionManager) -> None:
    await manager.handle_message(PHONE, "atendente")
    paused = await manager.get(PHONE)
    r = await manager.takeover(PHONE, "ana")
    assert r.session is not None and paused is not None
    assert r.session.paused_at == paused.paused_at, "time to claim = taken_at - paused_at"


async def test_recorded_events_join_the_history(manager: SessionManager) -> None:
    await manager.handle_message(PHONE, "atendente")
    await manager.record(PHONE, Happening.PAGE_1, "monitor", "monitor")
    events = await manager.history(PHONE)
    assert events is not None
    assert [(e.event, e.source) for e in events] == [("escalation_requested", "whatsapp"),
                                                      ("page_1", "monitor")]


async def test_recent_texts_keep_the_last_five(manager: SessionManager) -> None:
    assert await manager.recent_texts(PHONE) == []
    for n in range(7):
        await manager.handle_message(PHONE, f"texto {n}")
    await manager.handle_message(PHONE, "do atendente", Sender.HUMAN, attendant="ana")
    await manager.handle_message(PHONE, "texto 2", message_id="dup")
    await manager.handle_message(PHONE, "repetido", message_id="dup")
    assert await manager.recent_texts(PHONE) == ["texto 3", "texto 4", "texto 5", "texto 6",
                                                 "texto 2"]


async def test_release_keeps_a_hand_back_summary(manager: SessionManager,
                                                 backend: Backend) -> None:
    clock = [1_000_000.0]
    manager.clock = lambda: clock[0]
    await manager.handle_message(PHONE, "oi")
    await manager.handle_message(PHONE, "quero um atendente")
    clock[0] += 60
    await manager.takeover(PHONE, "ana@empresa.com", source="slack")
    for text in ("pode me ajudar?", "é sobre o pedido"):
        clock[0] += 10
        await manager.handle_message(PHONE, text)
    clock[0] += 10
    await manager.handle_message(PHONE, "Claro!", Sender.HUMAN, attendant="ana@empresa.com")
    clock[0] += 100
    r = await manager.release(PHONE, "ana@empresa.com", source="slack")
    assert r.session is not None
    summary = r.session.metadata["handoff_summary"]
    assert summary["attendant"] == "ana@empresa.com"
    assert summary["seconds"] == 190.0, "from leaving the bot to the release"
    assert (summary["customer_messages"], summary["attendant_messages"]) == (3, 1)
    assert summary["released_by"] == "ana@empresa.com" and summary["released_via"] == "slack"
    handed = [e for e in await events_in(backend.outbox) if isinstance(e, HandedBack)]
    assert [h.summary for h in handed] == [summary]
    assert (await manager.get(PHONE)).metadata["handoff_summary"] == summary  # type: ignore[union-attr]
    await manager.takeover(PHONE, "bia")
    s = await manager.get(PHONE)
    assert s is not None and (s.customer_messages, s.human_messages) == (0, 0), \
        "a new stretch counts from zero"


async def test_recent_members_are_bounded_and_expire(store: SessionStore) -> None:
    for n, user in enumerate(["U1", "U2", "U3", "U2"]):
        await store.mark_recent("home", user, 100.0 + n, limit=2)
    assert sorted(await store.recent_members("home", 0)) == ["U2", "U3"]
    assert await store.recent_members("home", 103.0) == ["U2"]
    assert await store.recent_members("other", 0) == []


async def test_transfer_rules(manager: SessionManager, backend: Backend) -> None:
    missing = await manager.transfer(PHONE, "bia", "ana")
    assert missing.outcome is Outcome.NOT_FOUND
    await manager.handle_message(PHONE, "atendente")
    waiting = await manager.transfer(PHONE, "bia", "ana")
    assert waiting.outcome is Outcome.NOT_HELD, "nobody holds it: take it instead"
    await manager.takeover(PHONE, "ana")
    assert (await manager.transfer(PHONE, "ana", "ana")).outcome is Outcome.SAME
    refused = await manager.transfer(PHONE, "carla", "bia")
    assert refused.outcome is Outcome.FORBIDDEN and refused.holder == "ana"
    late = await manager.transfer(PHONE, "carla", "chefe@empresa.com", expected="bia")
    assert late.outcome is Outcome.CONFLICT and late.holder == "ana"
    done = await manager.transfer(PHONE, "bia", "ana", source="slack")
    assert done.outcome is Outcome.CHANGED and done.holder == "bia"
    boss = await manager.transfer(PHONE, "carla", "chefe@empresa.com", expected="bia")
    assert boss.outcome is Outcome.CHANGED and boss.holder == "carla"
    history = await manager.history(PHONE)
    assert history is not None
    moves = [(e.event, e.actor, e.to) for e in history if e.event == "transfer"]
    assert moves == [("transfer", "ana", "bia"), ("transfer", "chefe@empresa.com", "carla")]
    assert history[-1].to_json()["to"] == "carla"
    events = [e for e in await events_in(backend.outbox) if isinstance(e, Transferred)]
    assert [(e.by, e.from_attendant, e.to, e.source) for e in events] == [
        ("ana", "ana", "bia", "slack"), ("chefe@empresa.com", "bia", "carla", "rest")]
    released = await manager.release(PHONE, "carla")
    assert released.session is not None
    summary = released.session.metadata["handoff_summary"]
    assert summary["attendants"] == ["ana", "bia", "carla"] and summary["attendant"] == "carla"


async def test_two_concurrent_transfers_one_wins(manager: SessionManager) -> None:
    await manager.takeover(PHONE, "ana")
    results = await asyncio.gather(*(manager.transfer(PHONE, to, "ana", expected="ana")
                                     for to in ("bia", "carla", "diego", "edu")))
    winners = [r for r in results if r.outcome is Outcome.CHANGED]
    assert len(winners) == 1
    holder = winners[0].holder
    assert all(r.outcome is Outcome.CONFLICT and r.holder == holder
               for r in results if r is not winners[0])
