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
from guarantee.services.storage import EvidenceStore


@dataclass
class ServiceContext:
    session: Session
    clock: Clock = field(default_factory=SystemClock)
    working_days: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_WORKING_DAYS))
    evidence: EvidenceStore | None = None

    def commit(self) -> None:
        self.session.commit()
        if self.evidence is not None:
            self.evidence.committed()

    def rollback(self) -> None:
        self.session.rollback()
        if self.evidence is not None:
            self.evidence.rolled_back()

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        return today(self.clock)

    @property
    def on_postgresql(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"
