"""What every service needs from its caller: a session, the clock and the settings.

The edge (a view, a CLI command, a worker, a test) builds one and owns the transaction;
services only flush.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from guarantee.clock import Clock, SystemClock, today
from guarantee.config import DEFAULT_WORKING_DAYS


@dataclass
class ServiceContext:
    session: Session
    clock: Clock = field(default_factory=SystemClock)
    working_days: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_WORKING_DAYS))

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        return today(self.clock)

    @property
    def on_postgresql(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"
