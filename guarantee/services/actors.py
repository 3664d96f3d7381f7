"""Who is acting: an officer, the group holding a claim's tracking link, or the system."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OfficerActor:
    """An officer. Roles and the active flag are read from the database on every action."""

    officer_id: int
    type: str = "officer"

    @property
    def audit_id(self) -> str:
        return str(self.officer_id)


@dataclass(frozen=True)
class GroupActor:
    """The group that filed a claim, proven by its tracking token."""

    claim_reference: str
    type: str = "group"

    @property
    def audit_id(self) -> str | None:
        return None


@dataclass(frozen=True)
class SystemActor:
    """The service itself: the deadline sweeper, retention jobs."""

    name: str = "sweeper"
    type: str = "system"

    @property
    def audit_id(self) -> str:
        return self.name


Actor = OfficerActor | GroupActor | SystemActor
