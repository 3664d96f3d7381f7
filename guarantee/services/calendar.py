"""Working days in each UK nation, from the ``holidays`` package."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, lru_cache
from typing import Any

import holidays

_SUBDIVISION = {"england": "ENG", "wales": "WLS", "scotland": "SCT", "northern_ireland": "NIR"}


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
