"""The one source of time for the service, injectable so tests can move it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

# Deadlines are days in the United Kingdom, whatever the server's own time zone.
UK = ZoneInfo("Europe/London")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


def today(clock: Clock) -> date:
    """The current calendar day in the United Kingdom."""
    return clock.now().astimezone(UK).date()


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self._at += timedelta(**delta)

    def set_day(self, day: date, hour: int = 12) -> None:
        """Move to midday (UK time) on a calendar day."""
        self._at = datetime(day.year, day.month, day.day, hour, tzinfo=UK).astimezone(UTC)
