"""Signed webhooks: the endpoints an admin registers, the messages written for them in the
transaction of the change they report, and each attempt to deliver one (the delivery log)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from guarantee.models.base import Base, one_of

# The events a receiver can ask for (Standard Webhooks "type" values).
EVENT_TYPES = (
    "claim.submitted",
    "claim.moved",
    "decision_statement.published",
    "statistics_release.published",
)
# pending: waiting to be delivered (again, after a failure: at next_attempt_at); sending: claimed
# by a worker until lease_until (a lease that ran out means the worker stopped mid-way: the message
# goes again, with the same webhook-id); delivered: the receiver answered 2xx; failed: gave up
# after the last try. The messages of an endpoint that is turned off wait, pending, until it is
# turned back on.
MESSAGE_STATUSES = ("pending", "sending", "delivered", "failed")
OUTCOMES = ("delivered", "failed")


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(200))
    # The event types wanted, a list of EVENT_TYPES (checked by the service).
    events: Mapped[list[str]] = mapped_column(JSON)
    # The signing secret (whsec_...), sealed under the two-step key: read and write it only through
    # guarantee.webhooks.endpoints.
    secret: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    # Messages in a row that ended failed; back to 0 on a delivery.
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    # Set when the endpoint was turned off after repeated failures (the console says so); None: on.
    turned_off_at: Mapped[datetime | None]


class WebhookMessage(Base):
    __tablename__ = "webhook_messages"
    __table_args__ = (
        one_of("event_type", EVENT_TYPES),
        one_of("status", MESSAGE_STATUSES),
        Index("ix_webhook_messages_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"), index=True)
    # The webhook-id header ("msg_..."): the same on every attempt, so receivers can drop repeats.
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    # {"type", "timestamp", "data"}: references and codes only, never personal data.
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None]
    # Which worker holds the lease: only it may record the outcome.
    lease_token: Mapped[str | None] = mapped_column(String(32))


class WebhookAttempt(Base):
    """One try at delivering a message: the endpoint's delivery log, kept for 30 days."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        one_of("outcome", OUTCOMES),
        CheckConstraint("attempt >= 1", name="attempt_positive"),
        Index("ix_webhook_attempts_endpoint", "endpoint_id", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"))
    message_id: Mapped[int] = mapped_column(ForeignKey("webhook_messages.id"), index=True)
    attempt: Mapped[int]
    attempted_at: Mapped[datetime] = mapped_column(index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    http_status: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(255))
