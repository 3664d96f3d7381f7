"""Messages nobody's action causes, queued by the clock: a reminder to the group 5 working days
before it must answer a question or may appeal; each officer's daily digest of the claims
assigned to them that are overdue or due within 2 working days; and each triage officer's daily
digest of the claims filed since the last working day began (digests only when there are some,
and only to officers who have not turned them off); and the group's check-ins 3, 6 and 12 months
after its upheld claim's resolution is recorded (services.remedies).

Each is queued once: its Message-ID is made from what it is about (claim, clock and due date; or
officer and day), and the outbox's Message-IDs are unique, so running this from several senders
at once, or many times a day, queues nothing twice."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from guarantee.clock import UK
from guarantee.models import Claim, ClaimClock, DecisionStatement, Officer, OfficerRole, OutboxMessage
from guarantee.services import following, notifications, register, remedies
from guarantee.services.calendar import add_working_days, is_working_day, working_days_between
from guarantee.services.context import ServiceContext
from workflows import ACTIVE_STATES, CLOCKS

REMINDER_DAYS = 5
DIGEST_DAYS = 2
# Which clock's deadline each reminder is about, and the state the claim must still be in.
REMINDERS = {
    "information": ("awaiting_information", "information_reminder"),
    "appeal_window": ("not_upheld", "appeal_reminder"),
}


def _queued(ctx: ServiceContext, message_id: str) -> bool:
    return bool(ctx.session.scalar(select(exists().where(OutboxMessage.message_id == message_id))))


def _queue_once(ctx: ServiceContext, message: OutboxMessage) -> bool:
    """Add the message unless one with its Message-ID is queued already (by anyone)."""
    if _queued(ctx, message.message_id):
        return False
    try:
        with ctx.session.begin_nested():
            ctx.session.add(message)
    except IntegrityError:  # another sender queued it a moment ago
        return False
    return True


def queue_reminders(ctx: ServiceContext) -> int:
    today = ctx.today()
    queued = 0
    for clock_name, (state, template) in REMINDERS.items():
        rows = ctx.session.execute(
            select(Claim, ClaimClock)
            .join(ClaimClock, ClaimClock.claim_id == Claim.id)
            .where(
                Claim.state == state,
                ClaimClock.name == clock_name,
                ClaimClock.status == "running",
                ClaimClock.due_on >= today,
                # a week and a bit of calendar covers 5 working days and any bank holidays
                ClaimClock.due_on <= today + timedelta(days=REMINDER_DAYS + 9),
            )
        )
        for claim, clock in rows:
            assert clock.due_on is not None
            if working_days_between(today, clock.due_on, claim.nation) > REMINDER_DAYS:
                continue
            message_id = f"<reminder.{claim.id}.{clock_name}.{clock.due_on.isoformat()}@guarantee>"
            if not claim.consent_contact or _queued(ctx, message_id):
                continue
            message = notifications.build(ctx, claim, template, {"due_on": clock.due_on.isoformat()}, None)
            message.message_id = message_id
            queued += _queue_once(ctx, message)
    return queued


def queue_digests(ctx: ServiceContext) -> int:
    """Today's digests, on working days (England's calendar: the council's): each officer's
    claims due soon, and the triage officers' new claims."""
    today = ctx.today()
    if not is_working_day(today, "england"):
        return 0
    return _queue_due_soon(ctx, today) + _queue_new_claims(ctx, today)


def _queue_due_soon(ctx: ServiceContext, today: date) -> int:
    horizon = today + timedelta(days=DIGEST_DAYS + 9)
    rows: dict[int, list[dict[str, Any]]] = {}
    claims = ctx.session.scalars(
        select(Claim)
        .where(
            Claim.state.in_(ACTIVE_STATES),
            Claim.assignee_id.is_not(None),
            Claim.due_on.is_not(None),
            Claim.due_on <= horizon,
        )
        .order_by(Claim.due_on, Claim.id)
    )
    for claim in claims:
        assert claim.due_on is not None and claim.assignee_id is not None
        soon = add_working_days(today, DIGEST_DAYS, claim.nation).due
        if claim.due_on > soon:
            continue
        rows.setdefault(claim.assignee_id, []).append(
            {
                "reference": claim.reference,
                "clock_label": CLOCKS[claim.due_clock].label if claim.due_clock else "",
                "due_on": claim.due_on.isoformat(),
                "overdue": claim.due_on < today,
            }
        )
    queued = 0
    active = set(ctx.session.scalars(select(Officer.id).where(Officer.active, Officer.id.in_(rows))))
    active -= notifications.turned_off(ctx, active, "daily_digest")
    for officer_id, listed in rows.items():
        if officer_id not in active:
            continue
        message = notifications.build(ctx, None, "daily_digest", {"rows": listed, "day": today.isoformat()}, officer_id)
        message.message_id = f"<digest.{officer_id}.{today.isoformat()}@guarantee>"
        queued += _queue_once(ctx, message)
    return queued


def previous_working_day(day: date, nation: str = "england") -> date:
    """The last working day before ``day``."""
    day -= timedelta(days=1)
    while not is_working_day(day, nation):
        day -= timedelta(days=1)
    return day


def _start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UK)


def new_claims_since(ctx: ServiceContext, today: date) -> tuple[date, list[dict[str, Any]]]:
    """The claims in today's digest of new claims: those filed from the start of the last working
    day before today (UK time) until today began, still active, oldest first. Each claim is in
    exactly one digest, that of the first working day after the day it was filed (a claim filed
    on a Saturday is in Monday's, with Friday's), whenever in the day the digest is queued."""
    since = previous_working_day(today)
    claims = ctx.session.execute(
        select(Claim.reference, Claim.region, Claim.barrier_category, Claim.assignee_id, Claim.due_clock, Claim.due_on)
        .where(
            Claim.submitted_at >= _start_of(since),
            Claim.submitted_at < _start_of(today),
            Claim.state.in_(ACTIVE_STATES),
        )
        .order_by(Claim.submitted_at, Claim.id)
    )
    return since, [
        {
            "reference": c.reference,
            "region": c.region,
            "category": c.barrier_category,
            "assigned": c.assignee_id is not None,
            "clock_label": CLOCKS[c.due_clock].label if c.due_clock else "",
            "due_on": c.due_on.isoformat() if c.due_on else None,
        }
        for c in claims
    ]


def _queue_new_claims(ctx: ServiceContext, today: date) -> int:
    """The new claims' digest for each active triage officer who has not turned it off."""
    roles = notifications.OFFICER_MESSAGE_KINDS["new_claims_digest"].roles
    triage = set(
        ctx.session.scalars(
            select(Officer.id)
            .join(OfficerRole, OfficerRole.officer_id == Officer.id)
            .where(Officer.active, OfficerRole.role.in_(roles))
        )
    )
    triage -= notifications.turned_off(ctx, triage, "new_claims")
    ids = {officer_id: f"<new-claims.{officer_id}.{today.isoformat()}@guarantee>" for officer_id in triage}
    queued_already = set(
        ctx.session.scalars(select(OutboxMessage.message_id).where(OutboxMessage.message_id.in_(ids.values())))
    )
    waiting = sorted(officer_id for officer_id, message_id in ids.items() if message_id not in queued_already)
    if not waiting:  # every triage officer's digest is queued already (notify runs often)
        return 0
    since, rows = new_claims_since(ctx, today)
    if not rows:
        return 0
    queued = 0
    payload = {"rows": rows, "since": since.isoformat(), "day": today.isoformat()}
    for officer_id in waiting:
        message = notifications.build(ctx, None, "new_claims", payload, officer_id)
        message.message_id = ids[officer_id]
        queued += _queue_once(ctx, message)
    return queued


def queue_scheduled(ctx: ServiceContext) -> dict[str, int]:
    """Queue the day's reminders, digests, remedy check-ins and e-mails to rules' followers that are
    not queued yet. Flushes only."""
    return {
        "reminders": queue_reminders(ctx),
        "digests": queue_digests(ctx),
        "check_ins": remedies.queue_check_ins(ctx),
        "rule_updates": following.queue_rule_updates(ctx, lambda session, statement: _on_register(ctx, statement)),
    }


def _on_register(ctx: ServiceContext, statement: DecisionStatement) -> bool:
    """Whether the register shows the statement now: a follower is never told of one it holds back."""
    return register.is_shown(ctx.session, statement, k=ctx.register_min_claims, today=ctx.today())
