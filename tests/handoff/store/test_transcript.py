"""The transcript on both stores: every message in order, numbered, bounded, paginated."""

from __future__ import annotations

import itertools

import pytest

from handoff.backends import Backend, memory_backend, redis_backend
from handoff.machine import Sender
from handoff.manager import SessionManager
from tests.redis_server import RedisServer

PHONE = "5531999999999"


@pytest.fixture
def manager(backend: Backend) -> SessionManager:
    return SessionManager(backend.store, backend.claims, fallback="fallback")


async def test_every_message_in_order(manager: SessionManager) -> None:
    assert await manager.transcript(PHONE, 10) is None
    await manager.handle_message(PHONE, "oi", metadata={"profile_name": "Maria"})
    await manager.handle_message(PHONE, "Olá! Sou o bot.", Sender.AGENT)
    await manager.handle_message(PHONE, "quero um atendente", message_id="w1")
    await manager.handle_message(PHONE, "quero um atendente", message_id="w1")  # a retry
    await manager.takeover(PHONE, "ana")
    await manager.handle_message(PHONE, "/status", Sender.HUMAN, attendant="ana")
    await manager.handle_message(PHONE, "Oi, sou a Ana", Sender.HUMAN, attendant="ana",
                                 deliver=True, origin="slack:C1:1.1")
    await manager.note(PHONE, "ana", "nota: cliente VIP", source="slack")
    await manager.said(PHONE, Sender.AGENT, "mensagem de espera")
    lines = await manager.transcript(PHONE, 50)
    assert lines is not None
    assert [(x.n, x.sender, x.text, x.attendant) for x in lines] == [
        (1, "customer", "oi", None), (2, "agent", "Olá! Sou o bot.", None),
        (3, "customer", "quero um atendente", None), (4, "human", "Oi, sou a Ana", "ana"),
        (5, "note", "nota: cliente VIP", "ana"), (6, "agent", "mensagem de espera", None)]
    assert all(a.at <= b.at for a, b in itertools.pairwise(lines))
    assert lines[0].to_json()["id"] == 1 and lines[0].to_json()["sender"] == "customer"


async def test_pages_go_back_in_time(manager: SessionManager) -> None:
    for n in range(1, 26):
        await manager.handle_message(PHONE, f"m{n}")
    last = await manager.transcript(PHONE, 10)
    assert last is not None and [x.text for x in last] == [f"m{n}" for n in range(16, 26)]
    page = await manager.transcript(PHONE, 10, before=last[0].n)
    assert page is not None and [x.text for x in page] == [f"m{n}" for n in range(6, 16)]
    first = await manager.transcript(PHONE, 10, before=page[0].n)
    assert first is not None and [x.text for x in first] == [f"m{n}" for n in range(1, 6)]
    assert await manager.transcript(PHONE, 10, before=1) == []
    assert [x.n for x in await manager.transcript(PHONE, 3, before=1000) or []] == [23, 24, 25]


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_bounded_per_session(kind: str, redis_server: RedisServer) -> None:
    backend = memory_backend(transcript_max=5) if kind == "memory" else redis_backend(
        redis_server.url, prefix="handoff-bounded:", transcript_max=5)
    manager = SessionManager(backend.store, backend.claims)
    try:
        for n in range(1, 13):
            await manager.handle_message(PHONE, f"m{n}")
        lines = await manager.transcript(PHONE, 50)
        assert lines is not None and [(x.n, x.text) for x in lines] == [
            (n, f"m{n}") for n in range(8, 13)]
        assert await manager.transcript(PHONE, 50, before=8) == []
        page = await manager.transcript(PHONE, 2, before=10)
        assert [x.n for x in page or []] == [8, 9]
    finally:
        await backend.close()
