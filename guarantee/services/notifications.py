"""Which notifications each change writes to the outbox (sent later by a worker)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from guarantee.models import Claim, OutboxMessage
from guarantee.services.clocks import clocks_of
from guarantee.services.context import ServiceContext

# Message to the group after each trigger (only when the group consented to contact).
GROUP_MESSAGES: dict[str, str] = {
    "accept": "claim_accepted",
    "decline": "claim_declined",
    "request_information": "information_requested",
    "provide_information": "answer_received",
    "information_lapsed": "claim_lapsed",
    "uphold": "decision_upheld",
    "not_uphold": "decision_not_upheld",
    "appeal": "appeal_received",
    "appeal_window_closed": "claim_resolved",
    "allow_appeal": "appeal_allowed",
    "dismiss_appeal": "appeal_dismissed",
    "record_resolution": "claim_resolved",
    "withdraw": "withdrawal_confirmed",
    "reopen": "claim_reopened",
}

# Message to the assigned officer after a group's action.
ASSIGNEE_MESSAGES: dict[str, str] = {
    "provide_information": "group_replied",
    "appeal": "appeal_lodged",
    "withdraw": "claim_withdrawn",
}


def build(
    ctx: ServiceContext, claim: Claim | None, template: str, payload: dict[str, Any], officer_id: int | None
) -> OutboxMessage:
    """A message ready to queue (not yet added), due now, with a Message-ID of its own. It keeps
    the claim's deadlines as they are now, so that a message sent late still gives the dates it
    was about."""
    now: datetime = ctx.now()
    if claim is not None:
        running = clocks_of(ctx, claim).values()
        payload = {
            "due": {c.name: c.due_on.isoformat() for c in running if c.status == "running" and c.due_on}
        } | payload
    return OutboxMessage(
        message_id=f"<{uuid.uuid4()}@guarantee>",
        claim_id=claim.id if claim else None,
        recipient_type="officer" if officer_id else "group",
        officer_id=officer_id,
        template=template,
        payload={"reference": claim.reference, **payload} if claim else payload,
        status="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )


def _message(
    ctx: ServiceContext, claim: Claim, template: str, payload: dict[str, Any], officer_id: int | None
) -> OutboxMessage:
    message = build(ctx, claim, template, payload, officer_id)
    ctx.session.add(message)
    return message


def to_group(
    ctx: ServiceContext, claim: Claim, template: str, *, requested: bool = False, **payload: Any
) -> OutboxMessage | None:
    """A message to the group: only if it agreed to be contacted, or asked for this one."""
    if not (claim.consent_contact or requested):
        return None
    return _message(ctx, claim, template, payload, None)


def to_officer(ctx: ServiceContext, claim: Claim, officer_id: int, template: str, **payload: Any) -> OutboxMessage:
    return _message(ctx, claim, template, payload, officer_id)


def after_trigger(ctx: ServiceContext, claim: Claim, trigger: str, seq: int) -> None:
    if trigger in GROUP_MESSAGES:
        to_group(ctx, claim, GROUP_MESSAGES[trigger], seq=seq)
    if trigger in ASSIGNEE_MESSAGES and claim.assignee_id is not None:
        to_officer(ctx, claim, claim.assignee_id, ASSIGNEE_MESSAGES[trigger], seq=seq)
