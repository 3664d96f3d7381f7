"""What the JSON API keeps: officers' short-lived bearer tokens and idempotency records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from guarantee.models.base import Base


class OfficerToken(Base):
    """A bearer token for an officer. Only its SHA-256 is kept."""

    __tablename__ = "officer_tokens"
    __table_args__ = (Index("ix_officer_tokens_officer_id", "officer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class IdempotencyRecord(Base):
    """The first response to a request made with an Idempotency-Key, replayed on retries.

    The unique constraint on (scope, key_hash) is what makes a retry safe across workers and
    machines: a second transaction inserting the same key waits, then fails, then replays.
    """

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key_hash", name="uq_idempotency_records_scope_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Who asked and what for, e.g. "public POST /api/v1/claims" or "officer:7 POST ...".
    scope: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    # The response body; secrets in it (a tracking token) are encrypted with a key that
    # only the client's Idempotency-Key can unlock.
    body: Mapped[dict[str, Any] | None]
    headers: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
