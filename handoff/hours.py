"""Business hours: when the team is there to answer, holidays included.

A schedule is written the way a support lead says it: `seg-sex 08:00-18:00; sab 08:00-12:00`
(Portuguese day names, accents optional, ranges and lists: `seg,qua 09:00-12:00`). Brazil's
national holidays — the movable ones too (Carnaval, Sexta-feira Santa, Corpus Christi) — come
from the `holidays` library, with an optional state or city subdivision, plus extra dates.
With no schedule the team is always open.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

_DAYS = {"seg": 0, "segunda": 0, "ter": 1, "terca": 1, "qua": 2, "quarta": 2, "qui": 3,
         "quinta": 3, "sex": 4, "sexta": 4, "sab": 5, "sabado": 5, "dom": 6, "domingo": 6}
_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


class BadSchedule(ValueError):
    """The schedule, time zone or holiday settings cannot be understood: says what and where."""


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.casefold())
                   if unicodedata.category(c) != "Mn").strip()


def _day(word: str, part: str) -> int:
    found = _DAYS.get(_plain(word).removesuffix("-feira"))
    if found is None:
        raise BadSchedule(f"dia desconhecido {word!r} em {part!r} (use seg, ter, qua, qui, "
                          "sex, sab, dom)")
    return found


def _days(spec: str, part: str) -> set[int]:
    out: set[int] = set()
    for item in spec.split(","):
        item = item.strip()
        if not item:
            raise BadSchedule(f"dia vazio em {part!r}")
        if "-" in item:
            first, last = (_day(w, part) for w in item.split("-", 1))
            span = (last - first) % 7
            out.update((first + n) % 7 for n in range(span + 1))
        else:
            out.add(_day(item, part))
    return out


def _span(spec: str, part: str) -> tuple[time, time]:
    found = _RANGE.match(spec.strip())
    if found is None:
        raise BadSchedule(f"horário inválido {spec!r} em {part!r} (use 08:00-18:00)")
    h1, m1, h2, m2 = (int(x) for x in found.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2 != 0):
        raise BadSchedule(f"horário inválido {spec!r} em {part!r}")
    start = time(h1, m1)
    end = time.max if h2 == 24 else time(h2, m2)
    if end <= start:
        raise BadSchedule(f"o fim vem antes do começo em {part!r}")
    return start, end


def parse_schedule(text: str) -> dict[int, list[tuple[time, time]]]:
    """`seg-sex 08:00-18:00; sab 08:00-12:00` → weekday (0 = Monday) → open spans."""
    week: dict[int, list[tuple[time, time]]] = {}
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        words = part.split(None, 1)
        if len(words) != 2:
            raise BadSchedule(f"falta o horário em {part!r} (ex.: seg-sex 08:00-18:00)")
        span = _span(words[1], part)
        for day in _days(words[0], part):
            week.setdefault(day, []).append(span)
    if not week:
        raise BadSchedule("nenhum dia no horário")
    return {d: sorted(spans) for d, spans in week.items()}


@dataclass(frozen=True)
class Opening:
    """When the team is back: the moment, in the team's time zone."""

    at: datetime


@dataclass
class BusinessHours:
    """Is the team open at a moment, and when does it open next."""

    week: dict[int, list[tuple[time, time]]] | None
    zone: ZoneInfo
    region: str | None = None
    extra: frozenset[date] = frozenset()
    _years: dict[int, set[date]] = field(default_factory=dict)

    @classmethod
    def build(cls, schedule: str | None, timezone: str = "America/Sao_Paulo",
              region: str | None = None, extra: Iterable[str] = ()) -> BusinessHours:
        """From the settings; `BadSchedule` says what is wrong."""
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise BadSchedule(f"fuso horário desconhecido {timezone!r}") from exc
        dates = set()
        for raw in extra:
            try:
                dates.add(date.fromisoformat(raw.strip()))
            except ValueError as exc:
                raise BadSchedule(f"data inválida {raw!r} (use AAAA-MM-DD)") from exc
        if region:
            try:
                holidays.country_holidays("BR", subdiv=region.strip().upper())
            except NotImplementedError as exc:
                raise BadSchedule(f"região desconhecida {region!r} (use a sigla do estado, "
                                  "ex.: MG, ou uma cidade que a biblioteca conheça)") from exc
        week = parse_schedule(schedule) if schedule and schedule.strip() else None
        return cls(week, zone, region.strip().upper() if region else None, frozenset(dates))

    @property
    def always_open(self) -> bool:
        return self.week is None

    def _holidays(self, year: int) -> set[date]:
        found = self._years.get(year)
        if found is None:
            public = holidays.country_holidays("BR", subdiv=self.region, years=year)
            # Carnaval and Corpus Christi are "optional" in the library's terms, though few
            # teams work them; Ash Wednesday (from 14:00) and the other optional days are
            # left to HANDOFF_EXTRA_HOLIDAYS.
            optional = holidays.country_holidays("BR", subdiv=self.region, years=year,
                                                 categories=("optional",), language="en_US")
            found = self._years[year] = set(public) | {
                d for d, name in optional.items()
                if "Carnival" in name or "Corpus Christi" in name}
        return found

    def holiday(self, day: date) -> bool:
        return day in self.extra or day in self._holidays(day.year)

    def is_open(self, at: float) -> bool:
        if self.week is None:
            return True
        local = datetime.fromtimestamp(at, self.zone)
        if self.holiday(local.date()):
            return False
        now = local.time()
        return any(start <= now < end or (end == time.max and now >= start)
                   for start, end in self.week.get(local.weekday(), []))

    def next_opening(self, at: float) -> Opening | None:
        """The next moment the team opens at or after `at` (None when always open)."""
        if self.week is None:
            return None
        local = datetime.fromtimestamp(at, self.zone)
        for n in range(0, 370):
            day = local.date() + timedelta(days=n)
            if self.holiday(day):
                continue
            for start, end in self.week.get(day.weekday(), []):
                opens = datetime.combine(day, start, self.zone)
                closes = datetime.combine(day, end, self.zone)
                if n == 0 and closes <= local:
                    continue
                return Opening(max(opens, local) if n == 0 else opens)
        return None

    def opened_since(self, since: float, now: float) -> float:
        """When the team was first open at or after `since` (the ladder counts from it);
        `now` when it has not opened since."""
        if self.week is None or self.is_open(since):
            return since
        found = self.next_opening(since)
        return min(found.at.timestamp(), now) if found is not None else now
