"""Fair offers on both stores, with a controlled clock: who is offered, moving on, the limit."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from handoff.backends import Backend, redis_backend
from handoff.events import Offered, OfferEnded
from handoff.machine import Outcome, Sender
from handoff.manager import SessionManager
from handoff.model import Mode
from handoff.router import Router
from handoff.routing import Attendant, OfferOutcome, OfferReason, pick
from handoff.summary import SUMMARY_KEY
from tests.outbox_reader import events_in

T0 = 1_780_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class Team:
    """The roster seam, as Slack would answer it: who is in the team and who is present."""

    def __init__(self, **present: bool) -> None:
        self.present = present
        self.asked = 0

    async def attendants(self) -> list[Attendant]:
        self.asked += 1
        return [Attendant(f"{name}@empresa.com", here) for name, here in self.present.items()]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def manager(backend: Backend, clock: Clock) -> SessionManager:
    return SessionManager(backend.store, backend.claims, clock=clock, offers=backend.offers)


def router(manager: SessionManager, team: Team, limit: int = 5) -> Router:
    assert manager.offers is not None
    return Router(manager, manager.offers, team, limit=limit, seconds=60)


async def waiting(manager: SessionManager, clock: Clock, *phones: str) -> None:
    for phone in phones:
        clock.now += 1
        await manager.handle_message(phone, "quero falar com um atendente")


async def hold(manager: SessionManager, clock: Clock, attendant: str, count: int,
               start: int = 0) -> None:
    for n in range(start, start + count):
        clock.now += 1
        assert (await manager.takeover(f"5511900000{n:03d}", attendant)).changed


def test_pick_prefers_present_under_limit_last_served_then_fewest() -> None:
    team = [Attendant("ana", True), Attendant("bia", False), Attendant("caio", True),
            Attendant("duda", True)]
    loads = {"ana": 2, "bia": 0, "caio": 1, "duda": 5}
    assert pick(team, loads, 5) == "caio"  # bia is away, duda is full
    assert pick(team, loads, 5, prefer="ana") == "ana"
    assert pick(team, loads, 5, prefer="bia") == "caio"  # the last one is away: not her
    assert pick(team, loads, 5, exclude={"caio"}) == "ana"
    assert pick(team, loads, 2, exclude={"caio"}) is None
    assert pick([Attendant("x", True), Attendant("y", True)], {}, 5) == "x"  # team order
    assert pick([Attendant("x", True), Attendant("y", True)], {}, 5,
                last_offered={"x": 10.0}) == "y"  # between equals, the work goes round


async def test_between_equals_the_offers_go_round(manager: SessionManager, clock: Clock) -> None:
    r = router(manager, Team(ana=True, bia=True, caio=True))
    taken = []
    for n in range(6):
        phone = f"553199999{n:04d}"
        await waiting(manager, clock, phone)
        (offer,) = await r.tick()
        answered = await manager.answer_offer(phone, offer.at, offer.attendant, True)
        assert answered.outcome is OfferOutcome.ACCEPTED
        await manager.release(phone, offer.attendant)  # everyone back to holding none
        taken.append(offer.attendant.split("@")[0])
    assert taken == ["ana", "bia", "caio", "ana", "bia", "caio"]


async def test_three_attendants_of_different_loads_and_presence(
        manager: SessionManager, clock: Clock, backend: Backend) -> None:
    team = Team(ana=True, bia=False, caio=True)
    await hold(manager, clock, "ana@empresa.com", 2)
    await hold(manager, clock, "caio@empresa.com", 1, start=10)
    await waiting(manager, clock, "5531999990001")
    made = await router(manager, team).tick()
    assert [(o.phone, o.attendant, o.reason) for o in made] == [
        ("5531999990001", "caio@empresa.com", OfferReason.WAITING)]
    offered = [e for e in await events_in(backend.outbox) if isinstance(e, Offered)]
    assert [(e.phone, e.attendant, e.expires) for e in offered] == [
        ("5531999990001", "caio@empresa.com", made[0].at + 60)]


async def test_the_oldest_waits_first_and_offers_count_against_the_limit(
        manager: SessionManager, clock: Clock) -> None:
    team = Team(ana=True)
    await hold(manager, clock, "ana@empresa.com", 1)
    await waiting(manager, clock, "5531999990002", "5531999990001")
    made = await router(manager, team, limit=2).tick()
    assert [o.phone for o in made] == ["5531999990002"]
    assert await router(manager, team, limit=2).tick() == []  # ana: 1 held + 1 offered


async def test_a_timeout_moves_the_offer_on(manager: SessionManager, clock: Clock,
                                            backend: Backend) -> None:
    team = Team(ana=True, bia=True)
    r = router(manager, team)
    await waiting(manager, clock, "5531999990001")
    first = (await r.tick())[0]
    clock.now += 59
    assert await r.tick() == []  # still ana's
    clock.now += 1
    second = (await r.tick())[0]
    assert (first.attendant, second.attendant) == ("ana@empresa.com", "bia@empresa.com")
    clock.now += 60
    assert await r.tick() == []  # everyone was offered it: the card and the ladder remain
    ended = [e for e in await events_in(backend.outbox) if isinstance(e, OfferEnded)]
    assert [(e.attendant, e.outcome) for e in ended] == [
        ("ana@empresa.com", "timeout"), ("bia@empresa.com", "timeout")]


async def test_recusar_moves_it_on_and_a_stale_answer_changes_nothing(
        manager: SessionManager, clock: Clock) -> None:
    team = Team(ana=True, bia=True)
    r = router(manager, team)
    await waiting(manager, clock, "5531999990001")
    first = (await r.tick())[0]
    wrong = await manager.answer_offer(first.phone, first.at, "bia@empresa.com", False)
    assert wrong.outcome is None  # not hers to decline
    declined = await manager.answer_offer(first.phone, first.at, "ana@empresa.com", False)
    assert declined.outcome is OfferOutcome.DECLINED
    second = (await r.tick())[0]
    assert second.attendant == "bia@empresa.com"
    late = await manager.answer_offer(first.phone, first.at, "ana@empresa.com", True)
    assert late.outcome is None
    session = await manager.get(first.phone)
    assert session is not None and session.mode is Mode.PAUSED


async def test_aceitar_is_a_takeover_by_that_attendant(manager: SessionManager, clock: Clock,
                                                        backend: Backend) -> None:
    r = router(manager, Team(ana=True))
    await waiting(manager, clock, "5531999990001")
    offer = (await r.tick())[0]
    answered = await manager.answer_offer(offer.phone, offer.at, "ana@empresa.com", True)
    assert answered.outcome is OfferOutcome.ACCEPTED
    assert answered.result is not None and answered.result.outcome is Outcome.CHANGED
    session = await manager.get(offer.phone)
    assert session is not None and session.mode is Mode.HUMAN
    assert session.human_attendant == "ana@empresa.com"
    assert await backend.offers.open() == []
    again = await manager.answer_offer(offer.phone, offer.at, "ana@empresa.com", True)
    assert again.outcome is None


async def test_a_card_click_first_ends_the_offer_as_taken(manager: SessionManager,
                                                           clock: Clock,
                                                           backend: Backend) -> None:
    r = router(manager, Team(ana=True))
    await waiting(manager, clock, "5531999990001")
    offer = (await r.tick())[0]
    await manager.takeover(offer.phone, "bia@empresa.com")
    answered = await manager.answer_offer(offer.phone, offer.at, "ana@empresa.com", True)
    assert answered.outcome is OfferOutcome.TAKEN
    session = await manager.get(offer.phone)
    assert session is not None and session.human_attendant == "bia@empresa.com"
    await waiting(manager, clock, "5531999990002")
    offer2 = (await r.tick())[0]
    await manager.takeover(offer2.phone, "bia@empresa.com")
    await r.tick()  # the router notices it moved on
    ended = [e for e in await events_in(backend.outbox) if isinstance(e, OfferEnded)]
    assert [(e.phone, e.outcome) for e in ended] == [("5531999990001", "taken"),
                                                     ("5531999990002", "taken")]


async def test_whoever_served_the_customer_last_is_preferred(manager: SessionManager,
                                                             clock: Clock) -> None:
    await hold(manager, clock, "ana@empresa.com", 1)
    await manager.release("5511900000000", "ana@empresa.com")
    session = await manager.get("5511900000000")
    assert session is not None and session.metadata[SUMMARY_KEY]["attendant"] == (
        "ana@empresa.com")
    await hold(manager, clock, "ana@empresa.com", 2, start=1)
    await waiting(manager, clock, "5511900000000")
    made = await router(manager, Team(bia=True, ana=True)).tick()
    assert made[0].attendant == "ana@empresa.com"


async def test_a_silent_holders_conversation_is_offered_to_someone_else(
        manager: SessionManager, clock: Clock) -> None:
    r = router(manager, Team(ana=True, bia=True))
    await hold(manager, clock, "ana@empresa.com", 1)
    session = await manager.get("5511900000000")
    assert session is not None
    assert await r.rescue(session)
    offer = (await manager.queue()).offers["5511900000000"]
    assert (offer.attendant, offer.reason, offer.holder) == (
        "bia@empresa.com", OfferReason.SILENT, "ana@empresa.com")
    assert await r.rescue(session)  # still on offer: the bot waits
    answered = await manager.answer_offer(offer.phone, offer.at, "bia@empresa.com", True)
    assert answered.outcome is OfferOutcome.ACCEPTED
    now = await manager.get("5511900000000")
    assert now is not None and now.human_attendant == "bia@empresa.com"


async def test_nobody_else_for_a_silent_holder_means_back_to_the_bot(
        manager: SessionManager, clock: Clock) -> None:
    r = router(manager, Team(ana=True, bia=False))
    await hold(manager, clock, "ana@empresa.com", 1)
    session = await manager.get("5511900000000")
    assert session is not None and not await r.rescue(session)


async def test_a_silent_offer_ends_when_the_holder_writes(manager: SessionManager,
                                                          clock: Clock) -> None:
    r = router(manager, Team(ana=True, bia=True))
    await hold(manager, clock, "ana@empresa.com", 1)
    session = await manager.get("5511900000000")
    assert session is not None and await r.rescue(session)
    clock.now += 5
    await manager.handle_message("5511900000000", "oi, estou aqui",
                                 sender=Sender.HUMAN, attendant="ana@empresa.com")
    await r.tick()
    assert (await manager.queue()).offers == {}


@pytest.fixture
def two(redis_url: str) -> Iterator[list[Backend]]:
    backends = [redis_backend(redis_url), redis_backend(redis_url)]
    yield backends


async def test_two_processes_never_offer_one_customer_twice_nor_pass_a_limit(
        two: list[Backend], clock: Clock) -> None:
    managers = [SessionManager(b.store, b.claims, clock=clock, offers=b.offers) for b in two]
    team = Team(ana=True, bia=True, caio=True)
    routers = [router(m, team, limit=2) for m in managers]
    phones = [f"55319999{n:05d}" for n in range(12)]
    await waiting(managers[0], clock, *phones)
    await hold(managers[1], clock, "caio@empresa.com", 1)
    made = await asyncio.gather(*(routers[n % 2].tick() for n in range(10)))
    offers = [o for batch in made for o in batch]
    assert len({o.phone for o in offers}) == len(offers)  # one offer per customer
    per = {a: sum(o.attendant == a for o in offers) for a in
           ("ana@empresa.com", "bia@empresa.com", "caio@empresa.com")}
    assert per == {"ana@empresa.com": 2, "bia@empresa.com": 2, "caio@empresa.com": 1}
    events = [e for e in await events_in(two[0].outbox) if isinstance(e, Offered)]
    assert len(events) == 5
    for b in two:
        await b.close()


async def test_an_aceitar_cut_short_is_closed_by_how_the_conversation_ended(
        manager: SessionManager, clock: Clock, backend: Backend) -> None:
    """The process died between the takeover and closing the offer: once the hold runs out,
    the next tick closes it as accepted (or as a timeout when the takeover never ran)."""
    r = router(manager, Team(ana=True, bia=True))
    await waiting(manager, clock, "5531999990001", "5531999990002")
    first, second = await r.tick()
    assert await backend.offers.accept(first.phone, first.attendant, first.at, clock.now)
    await manager.takeover(first.phone, first.attendant)  # …and then nothing
    assert await backend.offers.accept(second.phone, second.attendant, second.at, clock.now)
    clock.now += 31
    await r.tick()
    ended = [e for e in await events_in(backend.outbox) if isinstance(e, OfferEnded)]
    assert {(e.phone, e.outcome) for e in ended} == {(first.phone, "accepted"),
                                                     (second.phone, "timeout")}


async def test_two_processes_rescuing_one_silent_conversation_both_hold_back(
        two: list[Backend], clock: Clock) -> None:
    managers = [SessionManager(b.store, b.claims, clock=clock, offers=b.offers) for b in two]
    routers = [router(m, Team(ana=True, bia=True, caio=True)) for m in managers]
    await hold(managers[0], clock, "ana@empresa.com", 1)
    session = await managers[0].get("5511900000000")
    assert session is not None
    rescued = await asyncio.gather(*(r.rescue(session) for r in routers))
    assert rescued == [True, True], "neither hands it back to the bot while it is on offer"
    assert len(await two[0].offers.open()) == 1
    for b in two:
        await b.close()
