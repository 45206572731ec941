"""Business hours with Brazil's holidays, by a controlled clock (São Paulo time)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.whatsapp.texts import when_back
from handoff.hours import BadSchedule, BusinessHours

SP = ZoneInfo("America/Sao_Paulo")
SCHEDULE = "seg-sex 08:00-18:00; sáb 08:00-12:00"


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=SP).timestamp()


@pytest.fixture
def hours() -> BusinessHours:
    return BusinessHours.build(SCHEDULE, "America/Sao_Paulo", extra=["2027-03-19"])


def back(hours: BusinessHours, when: str) -> str:
    opening = hours.next_opening(at(when))
    assert opening is not None
    return when_back(opening.at, datetime.fromtimestamp(at(when), SP))


@pytest.mark.parametrize(("when", "open_", "said"), [
    ("2027-03-17 09:30", True, "hoje às 09:30"),           # a normal Wednesday morning
    ("2027-02-08 10:00", False, "na quarta-feira às 08:00"),  # Carnaval Monday
    ("2027-02-09 10:00", False, "amanhã às 08:00"),           # Carnaval Tuesday
    ("2027-05-27 10:00", False, "amanhã às 08:00"),           # Corpus Christi (a Thursday)
    ("2027-03-20 14:00", False, "na segunda-feira às 08:00"),  # a Saturday afternoon
    ("2027-03-19 10:00", False, "amanhã às 08:00"),          # a configured city holiday
    ("2027-03-17 03:00", False, "hoje às 08:00"),            # 3 a.m.
    ("2027-03-17 18:00", False, "amanhã às 08:00"),          # closing time is closed
    ("2027-03-26 10:00", False, "amanhã às 08:00"),          # Sexta-feira Santa
])
def test_open_or_when_back(hours: BusinessHours, when: str, open_: bool, said: str) -> None:
    assert hours.is_open(at(when)) is open_
    assert back(hours, when) == said


def test_the_ladder_counts_from_opening(hours: BusinessHours) -> None:
    asked, now = at("2027-03-17 03:00"), at("2027-03-17 08:10")
    assert hours.opened_since(asked, now) == at("2027-03-17 08:00")
    assert hours.opened_since(asked, at("2027-03-17 05:00")) == at("2027-03-17 05:00")
    assert hours.opened_since(at("2027-03-17 10:00"), now) == at("2027-03-17 10:00")


def test_no_schedule_is_always_open() -> None:
    always = BusinessHours.build(None)
    assert always.always_open and always.is_open(at("2027-02-09 03:00"))
    assert always.next_opening(at("2027-02-09 03:00")) is None


def test_a_state_holiday() -> None:
    mg = BusinessHours.build(SCHEDULE, region="MG")
    sp = BusinessHours.build(SCHEDULE, region="SP")
    # 9 July is São Paulo's Constitutionalist Revolution day, not Minas Gerais'.
    assert mg.is_open(at("2027-07-09 10:00")) and not sp.is_open(at("2027-07-09 10:00"))


@pytest.mark.parametrize(("schedule", "said"), [
    ("seg-sex", "falta o horário"),
    ("xyz 08:00-18:00", "dia desconhecido"),
    ("seg 8h-18h", "horário inválido"),
    ("seg 18:00-08:00", "o fim vem antes"),
    ("seg 08:00-25:00", "horário inválido"),
    (";;", "nenhum dia"),
])
def test_a_bad_schedule_says_what_is_wrong(schedule: str, said: str) -> None:
    with pytest.raises(BadSchedule, match=said):
        BusinessHours.build(schedule)


def test_bad_zone_region_or_date() -> None:
    with pytest.raises(BadSchedule, match="fuso"):
        BusinessHours.build(SCHEDULE, "Mars/Olympus")
    with pytest.raises(BadSchedule, match="região"):
        BusinessHours.build(SCHEDULE, region="XX")
    with pytest.raises(BadSchedule, match="data inválida"):
        BusinessHours.build(SCHEDULE, extra=["19/03/2027"])
