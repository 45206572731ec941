"""The outbox on both stores: each transition writes its events in the same step, the same
events on both; nothing for an agent-mode message; read, ack, trim and lag per group."""

from __future__ import annotations

import asyncio

import pytest

from handoff.backends import Backend
from handoff.events import (
    AttendantMessage,
    CustomerMessage,
    DeliveryUpdate,
    HandedBack,
    Happening,
    ModeChanged,
    NoteAdded,
    PageDue,
)
from handoff.machine import Sender
from handoff.manager import SessionManager
from tests.outbox_reader import events_in

PHONE = "5531999999999"


@pytest.fixture
def manager(backend: Backend) -> SessionManager:
    clock = iter(float(1_700_000_000 + n) + 0.123456 for n in range(10_000))
    return SessionManager(backend.store, backend.claims, clock=lambda: next(clock))


async def test_agent_mode_messages_write_nothing(manager: SessionManager,
                                                 backend: Backend) -> None:
    for n in range(5):
        await manager.handle_message(PHONE, f"oi {n}", message_id=f"m{n}")
    await manager.handle_message(PHONE, "resposta do bot", Sender.AGENT)
    assert await events_in(backend.outbox) == []
    assert (await backend.outbox.stats()).length == 0


async def test_a_conversation_writes_its_story(manager: SessionManager,
                                               backend: Backend) -> None:
    await manager.handle_message(PHONE, "oi", metadata={"profile_name": " Maria "})
    await manager.handle_message(PHONE, "quero um atendente")
    await manager.handle_message(PHONE, "alguém?")
    await manager.takeover(PHONE, "ana", source="slack")
    await manager.handle_message(PHONE, "obrigada")
    await manager.handle_message(PHONE, "Olá!", Sender.HUMAN, attendant="ana",
                                 deliver=True, origin="slack:C1:1.2")
    await manager.handle_message(PHONE, "do celular", Sender.HUMAN, attendant="ana")
    await manager.note(PHONE, "ana", "nota: cliente VIP", source="slack", origin="slack:C1:1.3")
    await manager.release(PHONE, "ana", source="slack")
    events = await events_in(backend.outbox)
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["ModeChanged", "CustomerMessage", "ModeChanged", "CustomerMessage",
                     "AttendantMessage", "NoteAdded", "ModeChanged", "HandedBack"]
    escalated, waiting, taken, talking, reply, note, released, summary = events
    assert isinstance(escalated, ModeChanged) and escalated.event == "escalation_requested"
    assert escalated.at == 1_700_000_001.123456, "times keep every digit"
    assert escalated.paused_at == escalated.at and escalated.holder is None
    assert waiting == CustomerMessage(PHONE, waiting.at, "alguém?", "paused", "Maria")
    assert isinstance(taken, ModeChanged)
    assert (taken.event, taken.actor, taken.source, taken.from_mode, taken.to_mode,
            taken.holder) == ("takeover", "ana", "slack", "paused", "human", "ana")
    assert taken.paused_at == escalated.at and taken.taken_at == taken.at
    assert isinstance(talking, CustomerMessage) and talking.mode == "human"
    assert reply == AttendantMessage(PHONE, reply.at, "Olá!", "ana", "slack:C1:1.2")
    assert note == NoteAdded(PHONE, note.at, "ana", "nota: cliente VIP", "slack:C1:1.3")
    assert isinstance(released, ModeChanged) and released.to_mode == "agent"
    assert released.holder is None and released.taken_at is None
    assert isinstance(summary, HandedBack) and summary.summary["attendant"] == "ana"
    history = await manager.history(PHONE)
    assert history is not None and [e.event for e in history][-2:] == ["note", "release"]


async def test_a_duplicate_writes_nothing(manager: SessionManager, backend: Backend) -> None:
    await manager.handle_message(PHONE, "atendente")
    await events_in(backend.outbox)
    for _ in range(3):
        await manager.handle_message(PHONE, "oi", message_id="w1")
    assert [type(e) for e in await events_in(backend.outbox)] == [CustomerMessage]


async def test_a_claimed_alert_is_written_once(manager: SessionManager,
                                               backend: Backend) -> None:
    await manager.handle_message(PHONE, "atendente")
    await events_in(backend.outbox)
    raised = [await manager.record(PHONE, Happening.PAGE_1, "monitor", "monitor",
                                   [PageDue(PHONE, 1.0, 1, 600.0)], claim=("alert:x", 60))
              for _ in range(3)]
    assert raised == [True, False, False]
    assert await events_in(backend.outbox) == [PageDue(PHONE, 1.0, 1, 600.0)]
    history = await manager.history(PHONE)
    assert history is not None and [e.event for e in history].count("page_1") == 1
    assert not await manager.emit("5500000000000", DeliveryUpdate("5500000000000", 1.0, "x"))


async def test_groups_read_apart_and_trim_when_all_acked(manager: SessionManager,
                                                         backend: Backend) -> None:
    outbox = backend.outbox
    await outbox.prepare(["a", "b"])
    await manager.handle_message(PHONE, "atendente")
    await manager.takeover(PHONE, "ana")
    shard = outbox.shard_of(PHONE)
    stats = await outbox.stats()
    assert stats.length == 2 and stats.groups["a"].lag == 2 and stats.groups["b"].lag == 2
    first = await outbox.read("a", shard, 10, 0)
    assert [type(e.event) for e in first] == [ModeChanged, ModeChanged]
    assert (await outbox.stats()).groups["a"].pending == 2
    assert await outbox.pending("a", shard, None, 10) == first, "handed out, not acked"
    assert await outbox.pending("a", shard, first[0].id, 10) == first[1:]
    for e in first:
        await outbox.ack("a", shard, e.id)
    assert await outbox.trim() == 0, "group b has not read them"
    for e in await outbox.read("b", shard, 1, 0):
        await outbox.ack("b", shard, e.id)
    assert await outbox.trim() == 1
    left = await outbox.read("b", shard, 10, 0)
    assert [e.id for e in left] == [first[1].id]
    assert await outbox.trim() == 0, "b holds the last one"
    await outbox.ack("b", shard, left[0].id)
    assert await outbox.trim() == 1
    stats = await outbox.stats()
    assert stats.length == 0 and stats.groups["a"] == stats.groups["b"]
    assert (stats.groups["a"].lag, stats.groups["a"].pending) == (0, 0)


async def test_read_waits_for_an_event(manager: SessionManager, backend: Backend) -> None:
    outbox = backend.outbox
    await outbox.prepare(["a"])
    shard = outbox.shard_of(PHONE)
    waiting = asyncio.ensure_future(outbox.read("a", shard, 10, 5.0))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await manager.handle_message(PHONE, "atendente")
    got = await asyncio.wait_for(waiting, 5)
    assert [type(e.event) for e in got] == [ModeChanged]
