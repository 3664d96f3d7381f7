"""What every service needs from its caller: a session, the clock and the settings.

The edge (a view, a CLI command, a worker, a test) builds one and owns the transaction;
services only flush.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from guarantee.clock import Clock, SystemClock, today
from guarantee.config import DEFAULT_WORKING_DAYS
from guarantee.services.storage import EvidenceStore

if TYPE_CHECKING:
    from guarantee.services.two_step_secrets import TwoStepKey

T = TypeVar("T")

# How many rows a context keeps found (a request reads one claim and one officer; a command
# walking thousands of claims must not hold them all).
REMEMBERED = 16


@dataclass
class ServiceContext:
    session: Session
    clock: Clock = field(default_factory=SystemClock)
    working_days: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_WORKING_DAYS))
    evidence: EvidenceStore | None = None
    two_step_key: TwoStepKey | None = None  # seals officers' two-step secrets (two_step_secrets)
    # The appeals team's shared address (GUARANTEE_APPEALS_TEAM_EMAIL): an appeal on a claim no
    # officer holds goes there instead of to each appeal panel member (services.notifications).
    appeals_team_email: str | None = None
    # How long the link in each e-mail to a group opens its claim (GUARANTEE_TRACKING_LINK_DAYS).
    tracking_link_days: int = 30
    # How many decided claims must share what a decision statement shows before the register
    # shows it (GUARANTEE_REGISTER_MIN_CLAIMS): the e-mails to a rule's followers obey it too.
    register_min_claims: int = 5
    _found: dict[tuple[type, object], Any] = field(default_factory=dict, repr=False, compare=False)

    def commit(self) -> None:
        self.session.commit()
        if self.evidence is not None:
            self.evidence.committed()

    def rollback(self) -> None:
        self.session.rollback()
        if self.evidence is not None:
            self.evidence.rolled_back()

    def found(self, kind: type[T], key: object) -> T | None:
        """A row this context already read by ``key`` and still holds in its session, if any.

        The session's identity map holds rows only weakly, so a row read twice in a request
        (the acting officer, the claim) would be read from the database twice; kept here it is
        the same object a second query would return, without the query.
        """
        row = self._found.get((kind, key))
        if row is None or not inspect(row).persistent or row not in self.session:
            return None
        return row  # type: ignore[no-any-return]

    def keep(self, key: object, row: T) -> T:
        """Remember ``row`` by ``key`` for :meth:`found`; the oldest of many are let go."""
        self._found.pop((type(row), key), None)
        self._found[(type(row), key)] = row
        while len(self._found) > REMEMBERED:
            del self._found[next(iter(self._found))]
        return row

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        return today(self.clock)

    @property
    def on_postgresql(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"
