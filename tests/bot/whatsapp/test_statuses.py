"""Statuses of our own sends: kept per wamid (never downgraded), failures told to attendants."""

from __future__ import annotations

from bot.whatsapp.handling import status_key
from handoff.events import DeliveryUpdate, DomainEvent, SendFailed, WindowClosed
from tests.bot.whatsapp import meta
from tests.bot.whatsapp.conftest import WaApp, poll
from tests.fakes.graph import FakeGraph

WA_ID = "553199999999"
PHONE = "5531999999999"


async def _bot_sent(wa: WaApp, graph: FakeGraph) -> str:
    await wa.meta(meta.incoming(WA_ID, "wamid.IN1", "Oi"))
    [sent] = await graph.wait_sends(1)
    await wa.processed("wamid.IN1")
    assert sent.wamid is not None
    return sent.wamid


async def _events(wa: WaApp, n: int) -> list[DomainEvent] | None:
    found = await wa.events()
    return found if len(found) >= n else None


def statuses(*items: dict[str, object]) -> dict[str, object]:
    return meta.envelope(meta.value(statuses=list(items)))


async def test_failed_with_131047_is_announced_once_for_the_right_session(
        wa: WaApp, graph: FakeGraph) -> None:
    out = await _bot_sent(wa, graph)
    failed = statuses(meta.status(out, "failed", WA_ID, errors=[meta.WINDOW_ERROR]))
    assert (await wa.meta(failed))[0] == 200
    delivery, closed = await poll(lambda: _events(wa, 2))
    assert isinstance(delivery, DeliveryUpdate)
    assert (delivery.phone, delivery.wamid, delivery.status) == (PHONE, out, "failed")
    assert isinstance(closed, WindowClosed) and (closed.phone, closed.wamid) == (PHONE, out)
    await wa.meta(failed)
    await wa.meta(meta.incoming(WA_ID, "wamid.IN2", "Alô"))
    await wa.processed("wamid.IN2")
    assert len(await wa.events()) == 2
    assert await wa.ledger.get(status_key(out)) == "5:failed"


async def test_other_failures_are_announced_as_failed_deliveries(
        wa: WaApp, graph: FakeGraph) -> None:
    out = await _bot_sent(wa, graph)
    await wa.meta(statuses(meta.status(out, "failed", WA_ID, errors=[
        meta.error(131026, "Message Undeliverable", "receiver incapable")])))
    delivery, failed = await poll(lambda: _events(wa, 2))
    assert isinstance(delivery, DeliveryUpdate) and delivery.status == "failed"
    assert isinstance(failed, SendFailed) and failed.code == 131026
    assert failed.detail == "receiver incapable"


async def test_a_late_status_never_downgrades_a_newer_one(wa: WaApp, graph: FakeGraph) -> None:
    out = await _bot_sent(wa, graph)
    await wa.meta(statuses(meta.status(out, "sent", WA_ID), meta.status(out, "read", WA_ID),
                           meta.status(out, "delivered", WA_ID)))
    # A later message of the same customer is handled after those statuses (one lane each).
    await wa.meta(meta.incoming(WA_ID, "wamid.IN3", "Obrigada"))
    await wa.processed("wamid.IN3")
    assert await wa.ledger.get(status_key(out)) == "3:read"
    assert [(e.phone, type(e), getattr(e, "status", None)) for e in await wa.events()] == [
        (PHONE, DeliveryUpdate, "sent"), (PHONE, DeliveryUpdate, "read")]
