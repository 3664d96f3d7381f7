"""What a step does beyond moving the claim: whom it tells and what it does to the clocks.

``preview`` shows it before a decision is made: the step is fired inside a SAVEPOINT, the
messages it queued are rendered as they will be sent, and the SAVEPOINT is rolled back, so that
nothing of it remains (no outbox row, no audit event, the claim's version as it was).
``fire_and_report`` makes the step and says the same of it afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from guarantee.models import Claim, OutboxMessage
from guarantee.services import sender
from guarantee.services.actors import Actor
from guarantee.services.claims import ExpectedVersion, fire, mask_email
from guarantee.services.clocks import clocks_of
from guarantee.services.context import ServiceContext
from guarantee.services.sender import Email, Recipient, Render
from workflows import CLOCKS
from workflows.words import N_

# Shown in a preview instead of the group's contact name: seeing it is audited, on the claim page.
CONTACT_NAME = N_("((the group's contact name))")  # said in the e-mail's language where it is shown
NO_CONSENT = N_("The group did not agree to be contacted")
ERASED = N_("The group's contact details were erased")


@dataclass(frozen=True)
class ClockChange:
    clock: str
    label: str
    action: str  # start, pause, resume or stop
    due_on: date | None
    days_left: int | None  # after a pause


@dataclass(frozen=True)
class Message:
    to_group: bool
    to: str  # the group's address, partly hidden, or the officer's name
    email: Email | None  # as it will be sent (in a preview)


@dataclass(frozen=True)
class Effects:
    reference: str
    trigger: str
    from_state: str
    to_state: str
    messages: tuple[Message, ...]
    clocks: tuple[ClockChange, ...]
    # Why the group is not e-mailed, when it is not ("The group did not agree to be contacted").
    group_not_told: str | None

    @property
    def group_message(self) -> Message | None:
        return next((m for m in self.messages if m.to_group), None)

    @property
    def officer_messages(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if not m.to_group)


def preview(
    ctx: ServiceContext,
    reference: str,
    trigger: str,
    actor: Actor,
    data: Mapping[str, Any],
    *,
    expected_version: ExpectedVersion,
    render: Render,
) -> Effects:
    """What firing the trigger would do, the e-mails rendered by ``render``; nothing is kept.
    Raises what ``fire`` raises (ValidationFailed, StaleClaim, TriggerNotAllowed, Forbidden)."""
    savepoint = ctx.session.begin_nested()
    try:
        return _fire(ctx, reference, trigger, actor, data, expected_version=expected_version, render=render)
    finally:
        savepoint.rollback()


def fire_and_report(
    ctx: ServiceContext,
    reference: str,
    trigger: str,
    actor: Actor,
    data: Mapping[str, Any],
    *,
    expected_version: ExpectedVersion,
) -> Effects:
    """Fire the trigger (claims.fire) and say whom it told and what it did to the clocks."""
    return _fire(ctx, reference, trigger, actor, data, expected_version=expected_version, render=None)


def _fire(
    ctx: ServiceContext,
    reference: str,
    trigger: str,
    actor: Actor,
    data: Mapping[str, Any],
    *,
    expected_version: ExpectedVersion,
    render: Render | None,
) -> Effects:
    before = ctx.session.scalar(select(func.max(OutboxMessage.id))) or 0
    fired = fire(ctx, reference, trigger, actor, data, expected_version=expected_version)
    claim = fired.claim
    queued = ctx.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.claim_id == claim.id, OutboxMessage.id > before)
        .order_by(OutboxMessage.id)
    ).all()
    messages = tuple(_message(ctx, m, render) for m in queued)
    not_told = None
    if not claim.consent_contact:
        not_told = NO_CONSENT
    elif any(m.to_group and not m.to for m in messages):
        not_told = ERASED
    return Effects(
        reference=claim.reference,
        trigger=trigger,
        from_state=fired.from_state,
        to_state=claim.state,
        messages=tuple(m for m in messages if m.to),
        clocks=_clock_changes(ctx, claim, fired.event.payload.get("clocks", [])),
        group_not_told=not_told,
    )


def _message(ctx: ServiceContext, message: OutboxMessage, render: Render | None) -> Message:
    """The message as its recipient will get it; ``to`` is empty when nobody can."""
    to = sender.recipient(ctx, message)
    if to is None:
        return Message(to_group=message.recipient_type == "group", to="", email=None)
    if message.recipient_type in ("officer", "team"):  # a team's shared address is the council's own
        email = render(message, to, ctx) if render is not None else None
        return Message(to_group=False, to=to.name or to.address, email=email)
    # The group's contact as a page shows it, without opening the audited contact details.
    shown = Recipient(mask_email(to.address), CONTACT_NAME)
    email = render(message, shown, ctx) if render is not None else None
    return Message(to_group=True, to=shown.address, email=email)


def _clock_changes(ctx: ServiceContext, claim: Claim, changes: list[dict[str, Any]]) -> tuple[ClockChange, ...]:
    rows = clocks_of(ctx, claim)
    found = []
    for change in changes:
        row = rows.get(change["clock"])
        found.append(
            ClockChange(
                clock=change["clock"],
                label=CLOCKS[change["clock"]].label,
                action=change["action"],
                due_on=date.fromisoformat(change["due_on"]) if change.get("due_on") else None,
                days_left=row.days_left if row is not None else None,
            )
        )
    return tuple(found)
