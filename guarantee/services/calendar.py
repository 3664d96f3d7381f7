"""Working days in each UK nation, from the ``holidays`` package."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, lru_cache
from typing import Any

import holidays

from workflows.words import N_

_SUBDIVISION = {"england": "ENG", "wales": "WLS", "scotland": "SCT", "northern_ireland": "NIR"}

# Every bank holiday's name the ``holidays`` package gives for the UK's nations, 2020 to 2040, marked
# for translation: a page says them in its reader's language (the package speaks only English).
# tests/test_translations.py fails on a name the package gives that is missing here.
HOLIDAY_NAMES: tuple[str, ...] = (
    N_("Battle of the Boyne"),
    N_("Battle of the Boyne (observed)"),
    N_("Boxing Day"),
    N_("Boxing Day (observed)"),
    N_("Christmas Day"),
    N_("Christmas Day (observed)"),
    N_("Coronation of Charles III"),
    N_("Easter Monday"),
    N_("Good Friday"),
    N_("Late Summer Bank Holiday"),
    N_("May Day"),
    N_("New Year Holiday"),
    N_("New Year Holiday (observed)"),
    N_("New Year Holiday; New Year's Day (observed)"),
    N_("New Year's Day"),
    N_("New Year's Day (observed)"),
    N_("Platinum Jubilee of Elizabeth II"),
    N_("Saint Andrew's Day"),
    N_("Saint Andrew's Day (observed)"),
    N_("Saint Patrick's Day"),
    N_("Saint Patrick's Day (observed)"),
    N_("Scotland's participation in the FIFA World Cup final"),
    N_("Spring Bank Holiday"),
    N_("State Funeral of Queen Elizabeth II"),
    N_("Summer Bank Holiday"),
)


@cache
def _bank_holidays(nation: str) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv=_SUBDIVISION[nation])


def bank_holiday(day: date, nation: str) -> str | None:
    """The bank holiday's name, or None."""
    name: str | None = _bank_holidays(nation).get(day)
    return name


def is_working_day(day: date, nation: str) -> bool:
    return day.weekday() < 5 and bank_holiday(day, nation) is None


@dataclass(frozen=True)
class DueDate:
    """A due date with its working: counting starts the day after ``start``."""

    start: date
    working_days: int
    due: date
    nation: str
    holidays_skipped: tuple[tuple[date, str], ...]
    weekend_days_skipped: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "working_days": self.working_days,
            "due": self.due.isoformat(),
            "nation": self.nation,
            "holidays_skipped": [{"date": d.isoformat(), "name": n} for d, n in self.holidays_skipped],
            "weekend_days_skipped": self.weekend_days_skipped,
        }

    def explain(self) -> str:
        text = f"{self.working_days} working days counted from {self.start:%-d %B %Y}, due {self.due:%-d %B %Y}"
        if self.holidays_skipped:
            names = ", ".join(f"{name} ({day:%-d %B})" for day, name in self.holidays_skipped)
            text += f"; bank holidays skipped: {names}"
        return text


def add_working_days(start: date, working_days: int, nation: str) -> DueDate:
    """The day on which ``working_days`` working days after ``start`` have passed."""
    if working_days < 0:
        raise ValueError("working_days must not be negative")
    day, counted, weekend = start, 0, 0
    skipped: list[tuple[date, str]] = []
    while counted < working_days:
        day += timedelta(days=1)
        if day.weekday() >= 5:
            weekend += 1
        elif (name := bank_holiday(day, nation)) is not None:
            skipped.append((day, name))
        else:
            counted += 1
    return DueDate(start, working_days, day, nation, tuple(skipped), weekend)


@lru_cache(maxsize=4096)  # the queue asks it for every overdue claim on a page, with the same today
def working_days_between(after: date, until: date, nation: str) -> int:
    """How many working days fall after ``after`` up to and including ``until``."""
    count, day = 0, after
    while day < until:
        day += timedelta(days=1)
        if is_working_day(day, nation):
            count += 1
    return count
