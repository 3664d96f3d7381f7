"""The append-only, hash-chained audit trail: one chain per claim (DESIGN 5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from guarantee.models.base import Base, one_of

ACTOR_TYPES = ("officer", "group", "system")
GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("claim_id", "seq", name="uq_audit_events_claim_seq"),
        one_of("actor_type", ACTOR_TYPES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    seq: Mapped[int]
    occurred_at: Mapped[datetime]
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    # Codes, field names and hashes of free text; never personal data.
    payload: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AdminEvent(Base):
    """The console's changes outside any claim (officer accounts, the regulation catalogue):
    append-only (a trigger on PostgreSQL) and one hash chain of their own, checked by
    ``audit verify``. Never a password or free text, only codes, field names and hashes."""

    __tablename__ = "admin_events"
    __table_args__ = (UniqueConstraint("seq", name="uq_admin_events_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int]
    occurred_at: Mapped[datetime]
    # The officer who made the change, or None for an operator at the command line.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    # What the change was made to: an officer account or a catalogue entry.
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"), index=True)
    regulation_id: Mapped[int | None] = mapped_column(ForeignKey("regulations.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
