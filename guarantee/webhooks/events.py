"""The events other systems can be told of, written in the transaction of the change itself.

Each event writes one message per endpoint that asked for it (and is not removed), holding a
Standard Webhooks payload: ``{"type", "timestamp", "data"}``. The data are references and codes
only (a claim's reference, states, triggers, a statement's number, a release's number): never a
name, an address, or anything a group or an officer wrote. Flushes only; the caller commits, so
an event is written if and only if its change is.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select

from guarantee.models import Claim, DecisionStatement, StatisticsRelease, WebhookEndpoint, WebhookMessage
from guarantee.models.webhook import EVENT_TYPES
from guarantee.services.context import ServiceContext
from workflows.words import N_

SUBMITTED, MOVED, STATEMENT_PUBLISHED, RELEASE_PUBLISHED = EVENT_TYPES

# What each event is called in the console (and its Welsh).
EVENT_NAMES = {
    SUBMITTED: N_("A claim is submitted"),
    MOVED: N_("A claim moves to another state"),
    STATEMENT_PUBLISHED: N_("A decision statement is published"),
    RELEASE_PUBLISHED: N_("A statistics release is published"),
}


def new_message_id() -> str:
    """A webhook-id: ``msg_`` and 32 random hex digits, kept across every retry."""
    return f"msg_{secrets.token_hex(16)}"


def record(ctx: ServiceContext, event_type: str, data: dict[str, Any]) -> list[WebhookMessage]:
    """One message per endpoint that wants ``event_type``; none if no endpoint does."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event {event_type!r}")
    endpoints = ctx.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()
    wanted = [endpoint for endpoint in endpoints if event_type in endpoint.events]
    if not wanted:
        return []
    now = ctx.now()
    payload = {"type": event_type, "timestamp": now.isoformat(timespec="seconds"), "data": data}
    messages = [
        WebhookMessage(
            endpoint_id=endpoint.id,
            message_id=new_message_id(),
            event_type=event_type,
            payload=payload,
            status="pending",
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
        for endpoint in wanted
    ]
    ctx.session.add_all(messages)
    return messages


def claim_submitted(ctx: ServiceContext, claim: Claim) -> list[WebhookMessage]:
    return record(ctx, SUBMITTED, {"claim": claim.reference, "state": claim.state})


def claim_moved(ctx: ServiceContext, claim: Claim, trigger: str, from_state: str, seq: int) -> list[WebhookMessage]:
    """A trigger fired on the claim, which is now in its new state; ``seq`` is the event's number
    in the claim's audit chain."""
    data = {"claim": claim.reference, "trigger": trigger, "from_state": from_state, "to_state": claim.state, "seq": seq}
    return record(ctx, MOVED, data)


def statement_published(ctx: ServiceContext, statement: DecisionStatement, claim: Claim) -> list[WebhookMessage]:
    data = {"statement": statement.number, "claim": claim.reference, "decision": statement.decision}
    return record(ctx, STATEMENT_PUBLISHED, data)


def release_published(ctx: ServiceContext, release: StatisticsRelease) -> list[WebhookMessage]:
    data = {
        "release": release.number,
        "period_start": release.period_start.isoformat(),
        "period_end": release.period_end.isoformat(),
        "method": release.method,
        "sha256": release.sha256,
    }
    return record(ctx, RELEASE_PUBLISHED, data)
