"""Notifications, written in the transaction that causes them and sent later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from guarantee.models.base import Base, one_of

# team: a team's shared mailbox (the appeals team's, GUARANTEE_APPEALS_TEAM_EMAIL), looked up when
# sending like every other address, so that a corrected setting reaches the messages waiting.
# follower: someone following a catalogue entry by e-mail (models.follow), looked up when sending too,
# so that stopping reaches the messages waiting.
RECIPIENT_TYPES = ("group", "officer", "team", "follower")
# pending: waiting to be sent (again, after a failure: at next_attempt_at); sending: claimed by a
# sender until lease_until (a lease that ran out means the sender stopped mid-way: the message
# may have gone, and goes again with the same Message-ID); sent; failed: gave up after the last
# try (shown in the console); skipped: nobody to send it to (no consent, details erased).
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "skipped")


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        one_of("recipient_type", RECIPIENT_TYPES),
        one_of("status", OUTBOX_STATUSES),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable across retries, so a crash between sending and marking sent is detectable.
    message_id: Mapped[str] = mapped_column(String(128), unique=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"))
    # Addresses are looked up when sending, so erasing a contact also reaches the outbox.
    recipient_type: Mapped[str] = mapped_column(String(16))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    template: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None]
    # Which sender holds the lease: only it may record the outcome (a sender whose lease ran out
    # while it was still sending must not undo what the next one did).
    lease_token: Mapped[str | None] = mapped_column(String(32))
    # Only for the notice to a group's *old* address after it changed it (the one address that
    # cannot be looked up when sending); cleared once sent, given up on, or erased.
    to_address: Mapped[str | None] = mapped_column(String(254))
    # A tracking link minted for this message (only its token's id: the token itself is only in
    # the e-mail), revoked if the message could not be sent.
    tracking_token_id: Mapped[int | None] = mapped_column(ForeignKey("tracking_tokens.id"))
    # For a message to a follower of a rule: whose subscription (emptied when they stop following).
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("rule_subscriptions.id", ondelete="SET NULL"))
