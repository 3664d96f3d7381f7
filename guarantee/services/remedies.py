"""Did the remedy happen? After an upheld claim's resolution is recorded, the group gets a short
check-in 3, 6 and 12 months later (workflows/remedies.py), if it agreed to be contacted and its
contact details are still there. Each check-in is queued once by the notify worker's round
(``queue_check_ins``, from services.schedule): a row per claim and month, and an e-mail with a
Message-ID made from them. The e-mail's link is minted when it is sent (only its SHA-256 is
kept) and opens a one-question page; the answer is kept, audited on the claim's chain, and one
that says the remedy is not in place opens a follow-up for the admins, due in working days.

``confirmed_in_place`` is what rule pages and the decision register show: how many claims'
latest answer says the remedy is in place (``published_in_place``: under the statistics' rule).
"""

from __future__ import annotations

import calendar
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from guarantee.clock import UK
from guarantee.models import AuditEvent, Claim, Contact, OutboxMessage, RemedyCheckIn, TimelineEntry
from guarantee.services import notifications
from guarantee.services import validation as v
from guarantee.services.actors import Actor, GroupActor
from guarantee.services.audit import append_event, text_digest
from guarantee.services.calendar import add_working_days
from guarantee.services.claims import get_claim, is_reference, token_hash
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict, NotFound
from guarantee.services.officers import require_role
from guarantee.statistics.disclosure import SUPPRESSED, Published, Rules, is_primary, round_to_base
from workflows import TRANSITIONS_BY_TRIGGER
from workflows.remedies import (
    ANSWERS,
    CATCH_UP_DAYS,
    CHECK_IN_AFTER,
    CHECK_IN_MONTHS,
    FOLLOW_UP,
    IN_PLACE,
    LINK_DAYS,
)
from workflows.words import N_

TEMPLATE = "remedy_check_in"
ANSWERED = "remedy_checked_in"
FOLLOW_UP_CLOSED = "remedy_follow_up_closed"
FREE_TEXT = "anything_else"
FREE_TEXT_LIMIT = 5_000
NOTE = "follow_up_note"
FOLLOW_UP_ROLES = ("admin",)


# The state and the outcomes the step after which check-ins come leaves a claim with.
_AFTER = TRANSITIONS_BY_TRIGGER[CHECK_IN_AFTER]
RESOLVED = _AFTER.dest
RESOLUTIONS = next(i.choices for i in _AFTER.inputs if i.name == _AFTER.outcome_input)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months later (the month's last day if it is shorter)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def message_id(claim_id: int, months: int) -> str:
    return f"<remedy-check-in.{claim_id}.{months}@guarantee>"


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UK)


# --- queueing, once -------------------------------------------------------------------------


def due_check_in(resolved_on: date, today: date) -> tuple[int, date] | None:
    """The check-in to send today for a resolution recorded on ``resolved_on``: the latest one
    whose day has come, unless it is more than CATCH_UP_DAYS late (then none: never a late one)."""
    due = [(m, add_months(resolved_on, m)) for m in CHECK_IN_MONTHS if add_months(resolved_on, m) <= today]
    if not due:
        return None
    months, on = due[-1]
    return (months, on) if (today - on).days <= CATCH_UP_DAYS else None


def queue_check_ins(ctx: ServiceContext) -> int:
    """Queue the check-ins whose day has come and that are not queued yet (a row per claim and
    month, unique, with its e-mail under a Message-ID of its own). Flushes only."""
    today = ctx.today()
    oldest = add_months(today, -max(CHECK_IN_MONTHS)) - timedelta(days=CATCH_UP_DAYS + 1)
    since = datetime.combine(oldest, time(0), tzinfo=UK)
    rows = ctx.session.execute(
        select(Claim, Claim.resolved_at)
        .join(Contact, Contact.claim_id == Claim.id)
        .where(
            Claim.state == RESOLVED,
            Claim.outcome.in_(RESOLUTIONS),  # so resolved by CHECK_IN_AFTER (not an appeal dismissed)
            Claim.resolved_at >= since,
            Claim.consent_contact,
            Contact.email.is_not(None),
            Contact.erased_at.is_(None),
        )
        .order_by(Claim.id)
    ).all()
    done = set(
        ctx.session.execute(
            select(RemedyCheckIn.claim_id, RemedyCheckIn.months).where(
                RemedyCheckIn.claim_id.in_([claim.id for claim, _ in rows])
            )
        ).all()
    )
    queued = 0
    for claim, resolved_at in rows:
        due = due_check_in(resolved_at.astimezone(UK).date(), today) if resolved_at else None
        if due is None or (claim.id, due[0]) in done:
            continue
        queued += _queue_once(ctx, claim, *due)
    return queued


def _queue_once(ctx: ServiceContext, claim: Claim, months: int, due_on: date) -> bool:
    """The check-in's row and its e-mail, unless another worker queued them a moment ago."""
    mid = message_id(claim.id, months)
    if ctx.session.scalar(select(OutboxMessage.id).where(OutboxMessage.message_id == mid)) is not None:
        return False
    message = notifications.build(ctx, claim, TEMPLATE, {"months": months}, None)
    message.message_id = mid
    row = RemedyCheckIn(claim_id=claim.id, months=months, due_on=due_on, queued_at=ctx.now(), message_id=mid)
    try:
        with ctx.session.begin_nested():
            ctx.session.add_all([row, message])
    except IntegrityError:
        return False
    return True


# --- the e-mail's link, minted when it is sent ---------------------------------------------------


def mint_link(ctx: ServiceContext, message: OutboxMessage) -> tuple[str, date] | None:
    """A new link for the check-in this message is about: (token, last UK day it works). Only its
    hash is kept; a link minted for an earlier try of the message stops working."""
    row = ctx.session.scalar(select(RemedyCheckIn).where(RemedyCheckIn.message_id == message.message_id))
    if row is None:
        return None
    token = secrets.token_urlsafe(32)
    until = ctx.today() + timedelta(days=LINK_DAYS)
    row.token_hash, row.link_expires_at = token_hash(token), _end_of(until)
    ctx.session.flush()
    return token, until


def mark_sent(ctx: ServiceContext, message: OutboxMessage) -> None:
    row = ctx.session.scalar(select(RemedyCheckIn).where(RemedyCheckIn.message_id == message.message_id))
    if row is not None:
        row.sent_at = ctx.now()


# --- the group's answer ---------------------------------------------------------------------


class CheckInEnded(NotFound):
    """A link of this claim's check-in that has ended (its time ran out, or the contact details
    were erased)."""


class AlreadyAnswered(Conflict):
    """This check-in has its answer already."""

    def __init__(self, check_in: RemedyCheckIn) -> None:
        super().__init__(N_("This check-in has been answered already. Each check-in takes one answer."))
        self.check_in = check_in


def _lookup(ctx: ServiceContext, reference: str, token: object, *, for_update: bool = False) -> RemedyCheckIn:
    unknown = NotFound(N_("This check-in link does not work."))
    if not is_reference(reference) or not isinstance(token, str) or not token.isascii() or not 20 <= len(token) <= 100:
        raise unknown
    query = (
        select(RemedyCheckIn)
        .join(Claim, Claim.id == RemedyCheckIn.claim_id)
        .where(Claim.reference == reference, RemedyCheckIn.token_hash == token_hash(token))
    )
    if for_update:
        query = query.with_for_update(of=RemedyCheckIn).execution_options(populate_existing=True)
    row = ctx.session.scalar(query)
    if row is None:
        raise unknown
    erased = ctx.session.scalar(select(Contact.erased_at).where(Contact.claim_id == row.claim_id))
    if erased is not None or row.link_expires_at is None or row.link_expires_at <= ctx.now():
        raise CheckInEnded(N_("This check-in link has ended."))
    return row


def open_check_in(ctx: ServiceContext, reference: str, token: object) -> RemedyCheckIn:
    """The check-in this link opens: NotFound for a token that is not this claim's check-in's,
    CheckInEnded for one that has ended, AlreadyAnswered once it has its answer. Reads only."""
    row = _lookup(ctx, reference, token)
    if row.answer is not None:
        raise AlreadyAnswered(row)
    return row


def answer_check_in(
    ctx: ServiceContext,
    reference: str,
    token: object,
    answer: object,
    anything_else: object,
    *,
    follow_up_days: int,
) -> RemedyCheckIn:
    """Keep the group's one answer to a check-in, audited on the claim's chain (the answer's code,
    and the SHA-256 of any words, which go on the claim's timeline). An answer that the remedy is
    not in place opens a follow-up due ``follow_up_days`` working days on. Flushes only."""
    claim = get_claim(ctx, reference, for_update=True)  # the chain is appended in order
    row = _lookup(ctx, reference, token, for_update=True)
    if row.answer is not None:
        raise AlreadyAnswered(row)
    errors = v.Errors()
    chosen = errors.check("answer", v.choice, answer, N_("whether the remedy is in place"), tuple(ANSWERS))
    words = errors.check(
        "anything_else", v.text, anything_else, N_("what you tell us"), required=False, max_length=FREE_TEXT_LIMIT
    )
    errors.raise_if_any()
    payload: dict[str, object] = {"months": row.months, "answer": chosen}
    if words:
        payload["text_sha256"] = {FREE_TEXT: text_digest(words)}
    if chosen in FOLLOW_UP:
        row.follow_up_due_on = add_working_days(ctx.today(), follow_up_days, claim.nation).due
        payload["follow_up_due_on"] = row.follow_up_due_on.isoformat()
    event = append_event(ctx, claim, GroupActor(reference), ANSWERED, payload=payload)
    if words:
        ctx.session.add(TimelineEntry(claim_id=claim.id, seq=event.seq, field=FREE_TEXT, body=words, public=True))
    row.answer, row.answered_at, row.answer_seq = chosen, ctx.now(), event.seq
    ctx.session.flush()
    return row


# --- what officers see ------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckInView:
    id: int
    reference: str
    months: int
    due_on: date
    sent_at: datetime | None
    answered_at: datetime | None
    answer: str | None
    answer_label: str
    words: str | None
    follow_up_due_on: date | None
    follow_up_closed_at: datetime | None
    follow_up_note: str | None

    @property
    def in_place(self) -> bool:
        return self.answer in IN_PLACE

    def overdue(self, today: date) -> bool:
        return bool(self.follow_up_due_on and not self.follow_up_closed_at and self.follow_up_due_on < today)


def _views(ctx: ServiceContext, rows: list[tuple[RemedyCheckIn, str]]) -> list[CheckInView]:
    if not rows:  # most claims have no check-ins: nothing to read about them
        return []
    claim_ids = {row.claim_id for row, _ in rows}
    texts: dict[tuple[int, int, str], str] = {
        (e.claim_id, e.seq, e.field): e.body
        for e in ctx.session.scalars(
            select(TimelineEntry).where(TimelineEntry.claim_id.in_(claim_ids), TimelineEntry.field == FREE_TEXT)
        )
    }
    notes = _closing_notes(ctx, claim_ids)
    return [
        CheckInView(
            id=row.id,
            reference=reference,
            months=row.months,
            due_on=row.due_on,
            sent_at=row.sent_at,
            answered_at=row.answered_at,
            answer=row.answer,
            answer_label=ANSWERS.get(row.answer or "", N_("Not answered")),
            words=texts.get((row.claim_id, row.answer_seq, FREE_TEXT)) if row.answer_seq else None,
            follow_up_due_on=row.follow_up_due_on,
            follow_up_closed_at=row.follow_up_closed_at,
            follow_up_note=notes.get(row.id),
        )
        for row, reference in rows
    ]


def _closing_notes(ctx: ServiceContext, claim_ids: set[int]) -> dict[int, str]:
    """Each closed follow-up's note, by check-in id (the closing event names its check-in)."""
    events = ctx.session.execute(
        select(AuditEvent.claim_id, AuditEvent.seq, AuditEvent.payload).where(
            AuditEvent.claim_id.in_(claim_ids), AuditEvent.action == FOLLOW_UP_CLOSED
        )
    ).all()
    if not events:
        return {}
    bodies = {
        (e.claim_id, e.seq): e.body
        for e in ctx.session.scalars(
            select(TimelineEntry).where(TimelineEntry.claim_id.in_(claim_ids), TimelineEntry.field == NOTE)
        )
    }
    return {
        int(payload["check_in"]): bodies[(claim_id, seq)]
        for claim_id, seq, payload in events
        if (claim_id, seq) in bodies and isinstance(payload.get("check_in"), int)
    }


def check_ins_of(ctx: ServiceContext, claim: Claim) -> list[CheckInView]:
    """The claim's check-ins, first first, for its console page (the caller has read the claim)."""
    rows = ctx.session.scalars(
        select(RemedyCheckIn).where(RemedyCheckIn.claim_id == claim.id).order_by(RemedyCheckIn.months)
    ).all()
    return _views(ctx, [(row, claim.reference) for row in rows])


def open_follow_ups(ctx: ServiceContext, actor: Actor) -> list[CheckInView]:
    """The follow-ups not yet closed, soonest due first (admins)."""
    require_role(ctx, actor, FOLLOW_UP_ROLES, N_("see the remedy follow-ups"))
    rows = ctx.session.execute(
        select(RemedyCheckIn, Claim.reference)
        .join(Claim, Claim.id == RemedyCheckIn.claim_id)
        .where(RemedyCheckIn.follow_up_due_on.is_not(None), RemedyCheckIn.follow_up_closed_at.is_(None))
        .order_by(RemedyCheckIn.follow_up_due_on, RemedyCheckIn.id)
    )
    return _views(ctx, [(row, reference) for row, reference in rows])


def follow_up(ctx: ServiceContext, actor: Actor, check_in_id: int) -> CheckInView:
    """One follow-up, open or closed (admins)."""
    require_role(ctx, actor, FOLLOW_UP_ROLES, N_("see the remedy follow-ups"))
    found = ctx.session.execute(
        select(RemedyCheckIn, Claim.reference)
        .join(Claim, Claim.id == RemedyCheckIn.claim_id)
        .where(RemedyCheckIn.id == check_in_id, RemedyCheckIn.follow_up_due_on.is_not(None))
    ).first()
    if found is None:
        raise NotFound(N_("There is no such remedy follow-up."))
    row, reference = found
    return _views(ctx, [(row, reference)])[0]


def close_follow_up(ctx: ServiceContext, actor: Actor, check_in_id: int, note: object) -> RemedyCheckIn:
    """Close a follow-up with a note of what was done: audited on the claim's chain (the note's
    SHA-256; its words go on the claim's timeline, for officers only). Flushes only."""
    officer = require_role(ctx, actor, FOLLOW_UP_ROLES, N_("close remedy follow-ups"))
    reference = ctx.session.scalar(
        select(Claim.reference)
        .join(RemedyCheckIn, RemedyCheckIn.claim_id == Claim.id)
        .where(RemedyCheckIn.id == check_in_id, RemedyCheckIn.follow_up_due_on.is_not(None))
    )
    if reference is None:
        raise NotFound(N_("There is no such remedy follow-up."))
    errors = v.Errors()
    body = errors.check("note", v.text, note, N_("what was done"), max_length=10_000)
    errors.raise_if_any()
    claim = get_claim(ctx, reference, for_update=True)
    row = ctx.session.scalar(
        select(RemedyCheckIn)
        .where(RemedyCheckIn.id == check_in_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    if row.follow_up_closed_at is not None:
        raise Conflict(N_("This follow-up was closed already, by another admin or on another page."))
    event = append_event(
        ctx,
        claim,
        actor,
        FOLLOW_UP_CLOSED,
        payload={"check_in": row.id, "months": row.months, "text_sha256": {NOTE: text_digest(body)}},
    )
    ctx.session.add(TimelineEntry(claim_id=claim.id, seq=event.seq, field=NOTE, body=body, public=False))
    row.follow_up_closed_at, row.follow_up_closed_by = ctx.now(), officer.id
    ctx.session.flush()
    return row


# --- for rule pages and the decision register ---------------------------------------------------


def confirmed_in_place(session: Session, regulation_id: int | None = None) -> int:
    """How many claims (of the catalogue entry ``regulation_id``, or of all) the groups confirmed
    the remedy in place for: those whose latest answered check-in says it is in place."""
    latest = (
        select(RemedyCheckIn.claim_id, func.max(RemedyCheckIn.months).label("months"))
        .where(RemedyCheckIn.answer.is_not(None))
        .group_by(RemedyCheckIn.claim_id)
        .subquery()
    )
    query = (
        select(func.count(func.distinct(RemedyCheckIn.claim_id)))
        .join(latest, (latest.c.claim_id == RemedyCheckIn.claim_id) & (latest.c.months == RemedyCheckIn.months))
        .where(RemedyCheckIn.answer.in_(IN_PLACE))
    )
    if regulation_id is not None:
        query = query.join(Claim, Claim.id == RemedyCheckIn.claim_id).where(Claim.regulation_id == regulation_id)
    return int(session.scalar(query) or 0)


def published_in_place(session: Session, rules: Rules, regulation_id: int | None = None) -> Published:
    """``confirmed_in_place`` as it may be published: under the statistics' rule (a count from 1
    to the threshold less one is SUPPRESSED; any other is rounded to the base)."""
    count = confirmed_in_place(session, regulation_id)
    return SUPPRESSED if is_primary(count, rules) else round_to_base(count, rules.base)
