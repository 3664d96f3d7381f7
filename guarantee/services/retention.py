"""Retention (UK GDPR Article 5(1)(e)): personal data is kept no longer than it is needed.

A claim's group's contact details, and its evidence files, are erased a set number of calendar
months after the claim ends (closed, withdrawn, lapsed or resolved; ``Claim.resolved_at``), UK
time: a claim that ended on 4 December 2024 is due, at 24 months, from 5 December 2026. A claim
reopened since is not due (it has no end). What was decided stays: the claim, its audit chain,
its published statements and the statistics. Each erasure is an event in the claim's audit
chain, by the system actor "retention".

A follower of a rule is erased when they stop following (``following.unsubscribe``); a request
to follow that was never confirmed goes when it lapses (``following.purge_unconfirmed``). This
module counts and removes those too, so that one command does all of it.

Safe to run on several machines at once, like the deadline sweep: on PostgreSQL each batch locks
its claims with ``FOR UPDATE SKIP LOCKED``, so a claim an officer is changing is left for the
next run.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import ColumnElement, and_, exists, func, or_, select

from guarantee.clock import UK
from guarantee.models import Attachment, Claim, Contact
from guarantee.services import following
from guarantee.services.actors import SystemActor
from guarantee.services.casework import erase_contact
from guarantee.services.context import ServiceContext
from guarantee.services.errors import ServiceError
from guarantee.services.evidence import erase_evidence
from workflows import TERMINAL_STATES

log = logging.getLogger(__name__)

RETENTION = SystemActor("retention")
CONTACT = "contact details"
EVIDENCE = "evidence files"


@dataclass(frozen=True)
class Periods:
    """How many calendar months after a claim ends its data is kept (from the settings
    GUARANTEE_RETENTION_CONTACT_MONTHS and GUARANTEE_RETENTION_EVIDENCE_MONTHS)."""

    contact_months: int
    evidence_months: int


@dataclass(frozen=True)
class Due:
    """Something retention would erase: what, of which claim, and the day (UK) the claim ended."""

    reference: str
    what: str  # CONTACT or EVIDENCE
    ended_on: date


@dataclass
class Plan:
    """What is due now (the dry run)."""

    due: list[Due] = field(default_factory=list)
    follow_requests: int = 0  # requests to follow a rule, never confirmed, that have lapsed


@dataclass
class Erased:
    """What one batch erased, and what it could not."""

    erased: list[Due] = field(default_factory=list)
    refused: list[tuple[Due, str]] = field(default_factory=list)  # (what, why)

    @property
    def claims(self) -> int:
        return len({d.reference for d in self.erased} | {d.reference for d, _ in self.refused})


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier; the month's last day if it is shorter
    (31 March less one month is 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def kept_until(ctx: ServiceContext, months: int) -> datetime:
    """The instant before which a claim must have ended for its data to be due: the start of
    the UK day ``months`` calendar months before today."""
    return datetime.combine(months_before(ctx.today(), months), time(0), tzinfo=UK).astimezone(UTC)


def _ended(cutoff: datetime) -> ColumnElement[bool]:
    return and_(Claim.state.in_(TERMINAL_STATES), Claim.resolved_at.is_not(None), Claim.resolved_at < cutoff)


def _contact_due(cutoff: datetime) -> ColumnElement[bool]:
    return and_(
        _ended(cutoff),
        exists().where(Contact.claim_id == Claim.id, Contact.erased_at.is_(None)),
    )


def _evidence_due(cutoff: datetime) -> ColumnElement[bool]:
    return and_(_ended(cutoff), exists().where(Attachment.claim_id == Claim.id))


def _ended_on(moment: datetime | None) -> date:
    assert moment is not None  # only ended claims are due
    return moment.astimezone(UK).date()


def _what_is_due(claim_contact: bool, claim_evidence: bool) -> list[str]:
    return [what for what, due in ((CONTACT, claim_contact), (EVIDENCE, claim_evidence)) if due]


def due(ctx: ServiceContext, periods: Periods) -> Plan:
    """Everything retention would erase now, oldest first. Reads only."""
    contact = _contact_due(kept_until(ctx, periods.contact_months))
    evidence = _evidence_due(kept_until(ctx, periods.evidence_months))
    rows = ctx.session.execute(
        select(Claim.reference, Claim.resolved_at, contact, evidence)
        .where(or_(contact, evidence))
        .order_by(Claim.resolved_at, Claim.id)
    ).all()
    plan = Plan(follow_requests=following.count_unconfirmed(ctx))
    for reference, resolved_at, contact_due, evidence_due in rows:
        for what in _what_is_due(bool(contact_due), bool(evidence_due)):
            plan.due.append(Due(reference, what, _ended_on(resolved_at)))
    return plan


def claims_due(ctx: ServiceContext, periods: Periods) -> int:
    """How many claims have something due for erasure now (what a run of erase_batch goes through)."""
    contact = _contact_due(kept_until(ctx, periods.contact_months))
    evidence = _evidence_due(kept_until(ctx, periods.evidence_months))
    return ctx.session.scalar(select(func.count()).select_from(Claim).where(or_(contact, evidence))) or 0


def erase_batch(ctx: ServiceContext, periods: Periods, limit: int, skip_ids: set[int] | None = None) -> Erased:
    """Erase what is due on up to ``limit`` claims, oldest first, each erasure an event in the
    claim's audit chain. A claim that cannot be erased is logged, reported and (through
    ``skip_ids``) not tried again in this run. The caller commits, once per batch."""
    contact = _contact_due(kept_until(ctx, periods.contact_months))
    evidence = _evidence_due(kept_until(ctx, periods.evidence_months))
    query = (
        select(Claim.id, Claim.reference, Claim.resolved_at, contact, evidence)
        .where(or_(contact, evidence))
        .order_by(Claim.resolved_at, Claim.id)
        .limit(limit)
    )
    if skip_ids:
        query = query.where(Claim.id.not_in(skip_ids))
    if ctx.on_postgresql:
        query = query.with_for_update(of=Claim, skip_locked=True)
    result = Erased()
    for claim_id, reference, resolved_at, contact_due, evidence_due in ctx.session.execute(query).all():
        # Contact details first, evidence last, each in a savepoint of its own: the evidence
        # files are deleted after the commit, so nothing may fail after erase_evidence.
        for what in _what_is_due(bool(contact_due), bool(evidence_due)):
            item = Due(reference, what, _ended_on(resolved_at))
            try:
                with ctx.session.begin_nested():
                    if what == CONTACT:
                        erase_contact(ctx, reference, RETENTION)
                    else:
                        erase_evidence(ctx, reference, RETENTION)
            except ServiceError as exc:
                log.warning("retention could not erase the %s of %s: %s", what, reference, exc.message)
                result.refused.append((item, exc.message))
                if skip_ids is not None:
                    skip_ids.add(claim_id)
            else:
                result.erased.append(item)
    return result
