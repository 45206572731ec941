"""The outbox dispatcher on both backends: in order per conversation, once per target, a failing
target retried before the conversation's next event, a dead holder's shards taken over."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from handoff.backends import Backend, redis_backend
from handoff.delivery import Dispatcher, Tuning
from handoff.events import CustomerMessage, ModeChanged
from handoff.manager import SessionManager
from tests.wait import eventually

FAST = Tuning(lease_ttl=0.6, block=0.05, retry_base=0.01, retry_cap=0.05, drain=0.5)
PHONES = [f"55319000000{n:02d}" for n in range(8)]


@pytest.fixture
def manager(backend: Backend) -> SessionManager:
    return SessionManager(backend.store, backend.claims)


@pytest.fixture
async def running() -> AsyncIterator[Callable[[Dispatcher], asyncio.Task[None]]]:
    tasks: list[asyncio.Task[None]] = []

    def run(d: Dispatcher) -> asyncio.Task[None]:
        tasks.append(asyncio.create_task(d.run()))
        return tasks[-1]

    yield run
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _chat(manager: SessionManager, phone: str, n: int) -> None:
    await manager.takeover(phone, "ana")
    for i in range(n):
        await manager.handle_message(phone, f"{phone} {i:02d}")


async def test_each_conversation_in_order_once(manager: SessionManager, backend: Backend,
                                               running: Callable[..., object]) -> None:
    seen: list[tuple[str, str]] = []

    async def slow_now_and_then(e: CustomerMessage) -> None:
        if e.text.endswith("3"):
            await asyncio.sleep(0.02)  # a slow call must not let the next one pass it
        seen.append((e.phone, e.text))

    d = Dispatcher("g", backend.outbox, backend.claims, tuning=FAST)
    d.on(CustomerMessage, "t", slow_now_and_then)
    running(d)
    await asyncio.gather(*(_chat(manager, p, 20) for p in PHONES))
    await eventually(lambda: len(seen) == 20 * len(PHONES))
    for phone in PHONES:
        assert [t for p, t in seen if p == phone] == [f"{phone} {i:02d}" for i in range(20)]


async def test_a_failing_target_is_retried_before_the_next_event(
        manager: SessionManager, backend: Backend, running: Callable[..., object]) -> None:
    calls: list[str] = []
    failures = {"01": 3}

    async def flaky(e: CustomerMessage) -> None:
        calls.append(e.text[-2:])
        left = failures.get(e.text[-2:], 0)
        if left:
            failures[e.text[-2:]] = left - 1
            raise ConnectionError("Slack is down")

    d = Dispatcher("g", backend.outbox, backend.claims, tuning=FAST)
    d.on(CustomerMessage, "t", flaky)
    running(d)
    await _chat(manager, PHONES[0], 3)
    await eventually(lambda: calls[-1:] == ["02"])
    assert calls == ["00", "01", "01", "01", "01", "02"]


async def test_one_target_done_is_not_repeated_when_another_fails(
        manager: SessionManager, backend: Backend, running: Callable[..., object]) -> None:
    cards: list[str] = []
    lines: list[str] = []
    failing = [True]

    async def card(e: ModeChanged) -> None:
        cards.append(e.event)

    async def line(e: ModeChanged) -> None:
        if failing[0]:
            failing[0] = False
            raise TimeoutError
        lines.append(e.event)

    d = Dispatcher("g", backend.outbox, backend.claims, tuning=FAST)
    d.on(ModeChanged, "card", card)
    d.on(ModeChanged, "line", line)
    running(d)
    await manager.takeover(PHONES[0], "ana")
    await eventually(lambda: lines)
    assert cards == ["takeover"] and lines == ["takeover"]


async def test_a_dead_holders_events_are_taken_over_and_applied_once(
        manager: SessionManager, backend: Backend, running: Callable[..., object]) -> None:
    """The first dispatcher "dies" holding an event it never finished; its lease runs out and
    the second applies that event, and the rest, each once."""
    stuck = asyncio.Event()
    first_saw: list[str] = []
    second_saw: list[str] = []

    async def hangs(e: CustomerMessage) -> None:
        first_saw.append(e.text)
        stuck.set()
        await asyncio.Event().wait()  # never returns: the process is as good as dead

    async def works(e: CustomerMessage) -> None:
        second_saw.append(e.text)

    first = Dispatcher("g", backend.outbox, backend.claims, owner="first", tuning=FAST)
    first.on(CustomerMessage, "t", hangs)
    task = running(first)
    await _chat(manager, PHONES[0], 1)
    await stuck.wait()
    # Died without a word: no renewals, no clean hand-over (its lease key just expires).
    first._renew = _never  # type: ignore[method-assign]
    for reader in list(first._readers.values()):
        reader.cancel()
    second = Dispatcher("g", backend.outbox, backend.claims, owner="second", tuning=FAST)
    second.on(CustomerMessage, "t", works)
    running(second)
    await manager.handle_message(PHONES[0], f"{PHONES[0]} 01")
    await eventually(lambda: len(second_saw) == 2, within=10)
    assert first_saw == [f"{PHONES[0]} 00"]
    assert second_saw == [f"{PHONES[0]} 00", f"{PHONES[0]} 01"], "in order, the lost one first"
    await eventually(lambda: second.held == list(range(backend.outbox.shards)), within=10)
    task.cancel()


async def _never() -> None:
    return None


async def test_processes_share_the_shards_and_hand_them_over_cleanly(
        redis_url: str, running: Callable[..., object]) -> None:
    """A second process takes half the shards from the first, which gives each up only once
    the events it has in hand are applied: every event once, each conversation in order."""
    backend = redis_backend(redis_url, shards=4)
    manager = SessionManager(backend.store, backend.claims)
    seen: list[tuple[str, str, str]] = []

    def recorder(owner: str) -> Callable[[CustomerMessage], Awaitable[None]]:
        async def record(e: CustomerMessage) -> None:
            await asyncio.sleep(0.005)
            seen.append((owner, e.phone, e.text))
        return record

    first = Dispatcher("g", backend.outbox, backend.claims, owner="first", tuning=FAST)
    first.on(CustomerMessage, "t", recorder("first"))
    running(first)
    await eventually(lambda: first.held == list(range(backend.outbox.shards)))
    chats = asyncio.gather(*(_chat(manager, p, 30) for p in PHONES))
    second = Dispatcher("g", backend.outbox, backend.claims, owner="second", tuning=FAST)
    second.on(CustomerMessage, "t", recorder("second"))
    running(second)
    await chats
    half = backend.outbox.shards // 2
    await eventually(lambda: len(first.held) == half and len(second.held) == half, within=10)
    await asyncio.gather(*(_chat(manager, p, 5) for p in PHONES))
    await eventually(lambda: len(seen) == 35 * len(PHONES), within=20)
    for phone in PHONES:
        texts = [t for _, p, t in seen if p == phone]
        assert texts == [f"{phone} {i:02d}" for i in range(30)] + [
            f"{phone} {i:02d}" for i in range(5)], "each once, in order"
    assert {o for o, _, _ in seen} == {"first", "second"}
    await backend.close()


async def test_acked_events_are_trimmed(manager: SessionManager, backend: Backend,
                                        running: Callable[..., object]) -> None:
    seen: list[str] = []

    async def note(e: CustomerMessage) -> None:
        seen.append(e.text)

    d = Dispatcher("g", backend.outbox, backend.claims, tuning=FAST)
    d.on(CustomerMessage, "t", note)
    running(d)
    await _chat(manager, PHONES[0], 5)
    await eventually(lambda: len(seen) == 5)
    await eventually(lambda: _acked(backend))
    await backend.outbox.trim()
    assert (await backend.outbox.stats()).length == 0


async def _acked(backend: Backend) -> bool:
    stats = await backend.outbox.stats()
    return stats.groups["g"].lag == 0 and stats.groups["g"].pending == 0
