"""Which notifications each change writes to the outbox (sent later by a worker)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from guarantee.models import Claim, MailOptOut, Officer, OfficerRole, OutboxMessage
from guarantee.services.clocks import clocks_of
from guarantee.services.context import ServiceContext
from workflows.vocabulary import OFFICER_MESSAGE_KINDS as KINDS
from workflows.words import N_

log = logging.getLogger(__name__)

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

# Message after a group's action on a claim no officer holds: to the appeals team's mailbox if one
# is configured, otherwise to each appeal panel member (who decide appeals).
UNASSIGNED_MESSAGES: dict[str, str] = {"appeal": "appeal_waiting"}
PANEL_ROLE = "appeal_panel"


@dataclass(frozen=True)
class OfficerMessageKind:
    """A kind of e-mail officers get, which each of them may turn off."""

    kind: str
    label: str  # marked with N_: the console says it in the officer's language
    hint: str
    templates: tuple[str, ...]  # the messages (templates/mail/<name>.txt) of this kind
    roles: tuple[str, ...] = ()  # offered only to officers with one of these roles; () to all


OFFICER_MESSAGE_KINDS: dict[str, OfficerMessageKind] = {
    k.kind: k
    for k in (
        OfficerMessageKind(
            "assignments", N_("Claims assigned to you"), N_("When a claim is assigned to you."), ("assigned",)
        ),
        OfficerMessageKind(
            "group_replies",
            N_("Answers from groups"),
            N_("When a group answers the question you asked on a claim assigned to you."),
            ("group_replied",),
        ),
        OfficerMessageKind(
            "appeals",
            N_("Appeals"),
            N_(
                "When a group appeals the decision on a claim assigned to you. Appeal panel members also hear "
                "of appeals on claims no officer holds."
            ),
            ("appeal_lodged", "appeal_waiting"),
        ),
        OfficerMessageKind(
            "withdrawals",
            N_("Withdrawn claims"),
            N_("When a group withdraws a claim assigned to you."),
            ("claim_withdrawn",),
        ),
        OfficerMessageKind(
            "daily_digest",
            N_("Your claims due soon, every working day"),
            N_(
                "A list of the claims assigned to you that are overdue or due within 2 working days, when there are any."
            ),
            ("daily_digest",),
        ),
        OfficerMessageKind(
            "new_claims_digest",
            N_("New claims, every working day"),
            N_("A list of the claims filed since the last working day began, when there are any."),
            ("new_claims",),
            roles=("triage",),
        ),
    )
}
assert tuple(OFFICER_MESSAGE_KINDS) == KINDS, "the kinds here are the kinds the database allows"
KIND_OF_TEMPLATE: dict[str, str] = {t: k.kind for k in OFFICER_MESSAGE_KINDS.values() for t in k.templates}


def kinds_for(roles: Iterable[str]) -> list[OfficerMessageKind]:
    """The kinds of e-mail an officer with these roles may get, in the order they are listed."""
    held = set(roles)
    return [k for k in OFFICER_MESSAGE_KINDS.values() if not k.roles or held & set(k.roles)]


def turned_off(ctx: ServiceContext, officer_ids: Iterable[int], template: str) -> set[int]:
    """Which of these officers turned off the kind of e-mail ``template`` is."""
    ids = set(officer_ids)
    kind = KIND_OF_TEMPLATE.get(template)
    if not ids or kind is None:  # a message of no kind: nobody can turn it off
        return set()
    return set(
        ctx.session.scalars(
            select(MailOptOut.officer_id).where(MailOptOut.kind == kind, MailOptOut.officer_id.in_(ids))
        )
    )


def wants(ctx: ServiceContext, officer_id: int, template: str) -> bool:
    """Whether the officer gets messages like ``template`` (every kind is on until they turn it off)."""
    return not turned_off(ctx, [officer_id], template)


def build(
    ctx: ServiceContext,
    claim: Claim | None,
    template: str,
    payload: dict[str, Any],
    officer_id: int | None,
    *,
    team: bool = False,
) -> OutboxMessage:
    """A message ready to queue (not yet added), due now, with a Message-ID of its own: to the
    officer ``officer_id``, to the appeals team's mailbox (``team``), or else to the group. It
    keeps the claim's deadlines as they are now, so that a message sent late still gives the
    dates it was about."""
    now: datetime = ctx.now()
    if claim is not None:
        running = clocks_of(ctx, claim).values()
        payload = {
            "due": {c.name: c.due_on.isoformat() for c in running if c.status == "running" and c.due_on}
        } | payload
    return OutboxMessage(
        message_id=f"<{uuid.uuid4()}@guarantee>",
        claim_id=claim.id if claim else None,
        recipient_type="team" if team else "officer" if officer_id else "group",
        officer_id=officer_id,
        template=template,
        payload={"reference": claim.reference, **payload} if claim else payload,
        status="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )


def _message(
    ctx: ServiceContext,
    claim: Claim,
    template: str,
    payload: dict[str, Any],
    officer_id: int | None,
    *,
    team: bool = False,
) -> OutboxMessage:
    message = build(ctx, claim, template, payload, officer_id, team=team)
    ctx.session.add(message)
    return message


def to_group(
    ctx: ServiceContext, claim: Claim, template: str, *, requested: bool = False, **payload: Any
) -> OutboxMessage | None:
    """A message to the group: only if it agreed to be contacted, or asked for this one."""
    if not (claim.consent_contact or requested):
        return None
    return _message(ctx, claim, template, payload, None)


def to_officer(
    ctx: ServiceContext, claim: Claim, officer_id: int, template: str, **payload: Any
) -> OutboxMessage | None:
    """A message to an officer, unless they turned its kind off."""
    if not wants(ctx, officer_id, template):
        return None
    return _message(ctx, claim, template, payload, officer_id)


def to_appeal_panel(ctx: ServiceContext, claim: Claim, template: str, **payload: Any) -> list[OutboxMessage]:
    """A message to the appeals team's mailbox, when the configuration names one; otherwise one to
    each active appeal panel member who has not turned its kind off."""
    if ctx.appeals_team_email:
        return [_message(ctx, claim, template, payload, None, team=True)]
    panel = set(
        ctx.session.scalars(
            select(Officer.id)
            .join(OfficerRole, OfficerRole.officer_id == Officer.id)
            .where(Officer.active, OfficerRole.role == PANEL_ROLE)
        )
    )
    if not panel:
        log.warning("No active appeal panel member to tell of %s on claim %s", template, claim.reference)
    wanting = sorted(panel - turned_off(ctx, panel, template))
    return [_message(ctx, claim, template, payload, officer_id) for officer_id in wanting]


def after_trigger(ctx: ServiceContext, claim: Claim, trigger: str, seq: int) -> None:
    if trigger in GROUP_MESSAGES:
        to_group(ctx, claim, GROUP_MESSAGES[trigger], seq=seq)
    if trigger in ASSIGNEE_MESSAGES and claim.assignee_id is not None:
        to_officer(ctx, claim, claim.assignee_id, ASSIGNEE_MESSAGES[trigger], seq=seq)
    elif trigger in UNASSIGNED_MESSAGES and claim.assignee_id is None:
        to_appeal_panel(ctx, claim, UNASSIGNED_MESSAGES[trigger], seq=seq)
