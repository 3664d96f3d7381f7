"""Publishing a decision statement: drafted by the officer who decides, checked for personal
data and approved by a second officer, numbered, and, if it must be, withdrawn with a reason.

A decision on a claim's merits (the triggers of ``STATEMENT_DECISION_OF_TRIGGER``) drafts a
statement with the public summary the deciding officer wrote (``claims.fire`` calls
``after_trigger``). A second officer approves it: the summary must pass the personal-data check
(``services.personal_data``), and whoever drafted it or last changed its summary may not approve
it. Approving gives it its public number, freezes what it says from the claim, and supersedes
the claim's earlier published statement. Publishing and withdrawing are events in the claim's
audit chain. Nothing here commits.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.exc import IntegrityError

from guarantee.clock import UK
from guarantee.models import Claim, Contact, Officer, Regulation, TimelineEntry
from guarantee.models.register import STATEMENT_DECISION_OF_TRIGGER, STATEMENT_STATUSES, DecisionStatement
from guarantee.services import validation as v
from guarantee.services.actors import Actor, OfficerActor
from guarantee.services.audit import append_event, text_digest
from guarantee.services.calendar import working_days_between
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from guarantee.services.officers import require_role
from guarantee.services.personal_data import Finding, findings
from guarantee.webhooks import events as webhook_events
from workflows import CITES, PUBLIC_SUMMARY, Transition
from workflows.vocabulary import RESOLUTION_OUTCOMES, label
from workflows.words import N_, AsWritten, words

# Who may approve a statement for the register: the officers who decide claims (a reviewer or a
# member of the appeal panel) and administrators. Triage officers decide no merits, so they do not.
APPROVERS: tuple[str, ...] = ("reviewer", "appeal_panel", "admin")
# Taking a published statement off the register is an administrator's act.
WITHDRAWERS: tuple[str, ...] = ("admin",)
# The group's own writing on the claim besides the claim form: its answers and its grounds.
GROUP_TEXT_FIELDS: tuple[str, ...] = ("answer", "grounds")
# DS-<year approved>-<5 random digits>; statements numbered before numbers were drawn at random
# keep their 4 digits in order (DS-2026-0001).
RANDOM_PART = (10_000, 99_999)  # 5 digits, never with a leading zero
# Why an officer may not approve a statement (four eyes): they changed its summary last, or drafted it.
SECOND_OFFICER_EDITED = N_(
    "A second officer must approve this statement: you changed its summary last, so another officer who may "
    "approve statements must check it."
)
SECOND_OFFICER_DRAFTED = N_(
    "A second officer must approve this statement: you drafted it, so another officer who may approve "
    "statements must check it."
)


# --- drafting, on a decision ---------------------------------------------------------


def after_trigger(
    ctx: ServiceContext,
    claim: Claim,
    transition: Transition,
    actor: Actor,
    *,
    values: dict[str, Any],
    texts: dict[str, str],
) -> DecisionStatement | None:
    """What a step of the workflow does to the claim's statements: a decision on its merits
    drafts one; a recorded resolution is added to the statement that says what was decided."""
    if transition.outcome_input and claim.outcome in RESOLUTION_OUTCOMES:
        latest = _latest(ctx, claim, ("published", "awaiting_approval"))
        if latest is not None:
            latest.resolution = claim.outcome
        return latest
    decision = STATEMENT_DECISION_OF_TRIGGER.get(transition.trigger)
    if decision is None:
        return None
    # A draft that was never published says what an overtaken decision was: the new one replaces it.
    for overtaken in _of_claim(ctx, claim, ("awaiting_approval",)):
        ctx.session.delete(overtaken)
    statement = DecisionStatement(
        claim_id=claim.id,
        decision=decision,
        status="awaiting_approval",
        summary=texts.get(PUBLIC_SUMMARY) if claim.consent_publish else None,
        drafted_by_id=actor.officer_id if isinstance(actor, OfficerActor) else None,
        drafted_at=ctx.now(),
        consent=claim.consent_publish,
        regulation_id=claim.regulation_id,
    )
    statement.cites = list(values.get(CITES, []))
    ctx.session.add(statement)
    ctx.session.flush()
    return statement


def cited(ctx: ServiceContext, raw: Any) -> list[DecisionStatement]:
    """The published statements a decision cites, by id; v.Invalid for anything else."""
    if not isinstance(raw, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in raw):
        raise v.Invalid(N_("Give the ids of the published decision statements to cite, as a list"))
    ids = sorted(set(raw))
    found = {
        s.id: s
        for s in ctx.session.scalars(select(DecisionStatement).where(DecisionStatement.id.in_(ids)))
        if s.status == "published"
    }
    missing = [str(i) for i in ids if i not in found]
    if missing:
        if len(missing) == 1:
            raise v.Invalid(
                words(
                    "Only statements on the register can be cited, and %(ids)s is not: choose from the statements listed",
                    ids=missing[0],
                )
            )
        raise v.Invalid(
            words(
                "Only statements on the register can be cited, and %(ids)s are not: choose from the statements listed",
                ids=", ".join(missing),
            )
        )
    return [found[i] for i in ids]


@dataclass(frozen=True)
class Precedent:
    """An earlier statement on a rule, as the decision form offers it to cite."""

    id: int
    number: str
    decision: str
    quarter: str
    first_line: str


def precedents(
    ctx: ServiceContext, regulation_id: int | None, *, limit: int = 30, before: datetime | None = None
) -> list[Precedent]:
    """The published statements on this rule, newest first: what a deciding officer may cite
    (``before``: only those published by then)."""
    if regulation_id is None:
        return []
    published_by = DecisionStatement.published_at <= before if before is not None else true()
    rows = ctx.session.scalars(
        select(DecisionStatement)
        .where(DecisionStatement.regulation_id == regulation_id, DecisionStatement.status == "published", published_by)
        .order_by(DecisionStatement.published_at.desc(), DecisionStatement.id.desc())
        .limit(limit)
    )
    return [Precedent(s.id, s.number or "", s.decision, quarter(s.decided_on), first_line(s.summary)) for s in rows]


@dataclass(frozen=True)
class DecisionForm:
    """What a step's form asks of this claim about publishing: the earlier statements it may cite,
    and the inputs it does not ask (the summary, when the group did not agree to one)."""

    precedents: list[Precedent]
    not_asked: tuple[str, ...]


def decision_form(ctx: ServiceContext, reference: str, transition: Transition) -> DecisionForm:
    if not any(spec.asked_if or spec.kind == "citations" for spec in transition.inputs):
        return DecisionForm([], ())
    claim = ctx.session.scalar(select(Claim).where(Claim.reference == reference))
    if claim is None:
        return DecisionForm([], ())
    not_asked = tuple(spec.name for spec in transition.inputs if spec.asked_if and not getattr(claim, spec.asked_if[0]))
    cites = any(spec.kind == "citations" for spec in transition.inputs)
    return DecisionForm(precedents(ctx, claim.regulation_id) if cites else [], not_asked)


# Each quarter in words, a whole phrase each (Welsh mutates the month after "i": Gorffennaf i Fedi).
QUARTERS = (
    N_("January to March %(year)s"),
    N_("April to June %(year)s"),
    N_("July to September %(year)s"),
    N_("October to December %(year)s"),
)


def quarter(day: date | None) -> str:
    """The quarter of a day, in words: "July to September 2026" (``Words``)."""
    if day is None:
        return ""
    return words(QUARTERS[(day.month - 1) // 3], year=day.year)


NO_SUMMARY = N_("No summary: the group did not agree to one being published")


def first_line(summary: str | None, length: int = 120) -> str:
    if not summary:
        return NO_SUMMARY
    line = summary.strip().splitlines()[0] if summary.strip() else ""
    return line if len(line) <= length else line[: length - 1].rstrip() + "…"


# --- approving -----------------------------------------------------------------------


def awaiting(ctx: ServiceContext, actor: Actor) -> list[tuple[DecisionStatement, str]]:
    """The statements waiting for a second officer, oldest first, each with its claim's reference."""
    require_role(ctx, actor, APPROVERS, N_("see the statements to approve"))
    rows = ctx.session.execute(
        select(DecisionStatement, Claim.reference)
        .join(Claim, Claim.id == DecisionStatement.claim_id)
        .where(DecisionStatement.status == "awaiting_approval")
        .order_by(DecisionStatement.drafted_at, DecisionStatement.id)
    )
    return [(row[0], row[1]) for row in rows]


def of_claim(ctx: ServiceContext, claim: Claim) -> list[DecisionStatement]:
    """Every decision statement of a claim, the first drafted first, whatever its status: for
    its console page (the caller has read the claim, so may see them)."""
    return _of_claim(ctx, claim, STATEMENT_STATUSES)


def get_statement(ctx: ServiceContext, actor: Actor, statement_id: int) -> DecisionStatement:
    require_role(ctx, actor, APPROVERS, N_("see statements before they are published"))
    statement = ctx.session.get(DecisionStatement, statement_id)
    if statement is None:
        raise NotFound(words("There is no decision statement %(id)s.", id=statement_id))
    return statement


def check(ctx: ServiceContext, statement: DecisionStatement) -> list[Finding]:
    """The personal-data check of the statement's summary, against its claim."""
    claim = ctx.session.get(Claim, statement.claim_id)
    assert claim is not None
    contact = ctx.session.scalar(select(Contact).where(Contact.claim_id == claim.id))
    answers = ctx.session.scalars(
        select(TimelineEntry.body).where(TimelineEntry.claim_id == claim.id, TimelineEntry.field.in_(GROUP_TEXT_FIELDS))
    )
    rule = ctx.session.get(Regulation, claim.regulation_id) if claim.regulation_id else None
    not_names = [rule.title, rule.issuing_body or ""] if rule is not None else []
    return findings(statement.summary, claim, contact, list(answers), not_names=not_names)


def recently_published(ctx: ServiceContext, actor: Actor, limit: int = 50) -> list[tuple[DecisionStatement, str]]:
    """The statements last put on the register (or taken off it), newest first, with their claims."""
    require_role(ctx, actor, APPROVERS, N_("see the statements on the register"))
    rows = ctx.session.execute(
        select(DecisionStatement, Claim.reference)
        .join(Claim, Claim.id == DecisionStatement.claim_id)
        .where(DecisionStatement.status != "awaiting_approval")
        .order_by(DecisionStatement.published_at.desc(), DecisionStatement.id.desc())
        .limit(limit)
    )
    return [(row[0], row[1]) for row in rows]


@dataclass(frozen=True)
class ForApproval:
    """A statement as the approving officer reads it."""

    statement: DecisionStatement
    reference: str  # its claim's: officers only, never published
    findings: list[Finding]
    # What it says besides its summary: as published, or, for a draft, as it would be if approved now.
    # Marked words (N_, ``Words``) and names: the page says each in the reader's language.
    facts: list[tuple[str, str]]
    cites: list[str]
    officers: dict[str, str]  # drafted, edited, approved, withdrawn: the officer's name
    # Why this officer may not approve it (four eyes), or "".
    not_yours: str


def for_approval(ctx: ServiceContext, actor: Actor, statement_id: int) -> ForApproval:
    statement = get_statement(ctx, actor, statement_id)
    claim = ctx.session.get(Claim, statement.claim_id)
    assert claim is not None
    shown = statement
    if statement.status == "awaiting_approval":
        shown = DecisionStatement(decision=statement.decision)  # not added to the session: a preview
        _freeze(shown, claim)
    rule = ctx.session.get(Regulation, shown.regulation_id) if shown.regulation_id else None
    facts = [
        (N_("Decision"), label(shown.decision)),
        (N_("Rule"), AsWritten(rule.title) if rule else N_("Not in the catalogue")),
        (N_("Category"), label(shown.category) or N_("Not given")),
        (N_("Sector"), label(shown.sector)),
        (N_("Region"), label(shown.region)),
        (N_("Decided"), quarter(shown.decided_on)),
        (N_("Working days from filing to decision"), str(shown.working_days) if shown.working_days is not None else ""),
        (N_("Remedy"), label(shown.remedy) or N_("None")),
        (N_("Main reason"), label(shown.reason_code) or N_("None")),
        (N_("Resolution"), label(shown.resolution) or N_("Not recorded yet")),
    ]
    ids = {
        "drafted": statement.drafted_by_id,
        "edited": statement.edited_by_id,
        "approved": statement.approved_by_id,
        "withdrawn": statement.withdrawn_by_id,
    }
    names = {
        key: (officer.name if (officer := ctx.session.get(Officer, officer_id)) is not None else "")
        for key, officer_id in ids.items()
        if officer_id is not None
    }
    not_yours = ""
    if isinstance(actor, OfficerActor) and statement.status == "awaiting_approval":
        not_yours = second_officer_needed(statement, actor.officer_id)
    return ForApproval(
        statement=statement,
        reference=claim.reference,
        findings=check(ctx, statement),
        facts=facts,
        cites=[s.number or "" for s in statement.cites],
        officers=names,
        not_yours=not_yours,
    )


def second_officer_needed(statement: DecisionStatement, officer_id: int) -> str:
    """Why this officer may not approve the statement (four eyes), or ""."""
    if statement.edited_by_id == officer_id:
        return SECOND_OFFICER_EDITED
    if statement.drafted_by_id == officer_id:
        return SECOND_OFFICER_DRAFTED
    return ""


def _locked(ctx: ServiceContext, statement_id: int) -> tuple[DecisionStatement, Claim]:
    """The statement and its claim, the claim's row locked as other casework does."""
    statement = ctx.session.get(DecisionStatement, statement_id)
    if statement is None:
        raise NotFound(words("There is no decision statement %(id)s.", id=statement_id))
    claim = ctx.session.scalar(
        select(Claim).where(Claim.id == statement.claim_id).with_for_update().execution_options(populate_existing=True)
    )
    assert claim is not None
    ctx.session.refresh(statement)
    return statement, claim


def edit_summary(ctx: ServiceContext, actor: Actor, statement_id: int, summary: Any) -> DecisionStatement:
    """An approver changes the draft's summary: from now on, another officer must approve it."""
    officer = require_role(ctx, actor, APPROVERS, N_("change a statement's summary"))
    statement, _ = _locked(ctx, statement_id)
    if statement.status != "awaiting_approval":
        raise Conflict(N_("This statement is already on the register, so its summary can no longer be changed."))
    if not statement.consent:
        raise Conflict(N_("The group did not agree to a summary being published, so this statement has none."))
    errors = v.Errors()
    cleaned = errors.check("summary", v.text, summary, N_("the summary for the public register"), max_length=5_000)
    errors.raise_if_any()
    if cleaned != statement.summary:
        statement.summary = cleaned
        statement.edited_by_id = officer.id
    ctx.session.flush()
    return statement


def summary_seen(statement: DecisionStatement) -> str:
    """What the approval form carries of the summary it showed, so a changed one is not approved."""
    return text_digest(statement.summary or "")


def approve(ctx: ServiceContext, actor: Actor, statement_id: int, *, seen: str | None = None) -> DecisionStatement:
    """Publish the statement: a second officer, a clear personal-data check, then its number,
    what it says frozen from the claim, and an event in the claim's audit chain."""
    officer = require_role(ctx, actor, APPROVERS, N_("approve a statement for the register"))
    statement, claim = _locked(ctx, statement_id)
    if statement.status != "awaiting_approval":
        raise Conflict(words("This statement is already on the register, as %(number)s.", number=statement.number))
    if seen is not None and seen != summary_seen(statement):
        raise Conflict(N_("The summary was changed after you opened this page. Read it again before approving it."))
    if why := second_officer_needed(statement, officer.id):
        raise Forbidden(why)
    found = check(ctx, statement)
    if found:
        raise ValidationFailed(
            {"summary": [words("%(found)s: take it out of the summary", found=f.sentence) for f in found]}
        )
    now = ctx.now()
    ctx.session.flush()
    _number(ctx, statement, _uk_day(now).year)
    _freeze(statement, claim)
    statement.approved_by_id = officer.id
    statement.published_at = now
    statement.status = "published"
    for earlier in _of_claim(ctx, claim, ("published",)):
        if earlier.id != statement.id:
            earlier.status = "superseded"
            earlier.superseded_by_id = statement.id
    append_event(
        ctx,
        claim,
        actor,
        "statement_published",
        payload={
            "number": statement.number,
            "decision": statement.decision,
            "consent": statement.consent,
            "summary_sha256": text_digest(statement.summary) if statement.summary else None,
            "cites": [s.number for s in statement.cites],
        },
    )
    webhook_events.statement_published(ctx, statement, claim)
    ctx.session.flush()
    return statement


def withdraw(ctx: ServiceContext, actor: Actor, statement_id: int, reason: Any) -> DecisionStatement:
    """Take a published statement off the register, with a public reason: it stays listed, as withdrawn."""
    officer = require_role(ctx, actor, WITHDRAWERS, N_("withdraw a statement from the register"))
    errors = v.Errors()
    cleaned = errors.check("reason", v.text, reason, N_("the reason, which is published"), max_length=2_000)
    errors.raise_if_any()
    statement, claim = _locked(ctx, statement_id)
    if statement.status != "published":
        raise Conflict(
            N_("Only a statement on the register, and not superseded or withdrawn already, can be withdrawn.")
        )
    statement.status = "withdrawn"
    statement.withdrawn_by_id = officer.id
    statement.withdrawn_at = ctx.now()
    statement.withdrawn_reason = cleaned
    append_event(
        ctx,
        claim,
        actor,
        "statement_withdrawn",
        payload={"number": statement.number, "reason_sha256": text_digest(cleaned or "")},
    )
    ctx.session.flush()
    return statement


def latest_draft(ctx: ServiceContext, reference: str) -> DecisionStatement:
    """The claim's newest statement (the one its last decision drafted)."""
    statement = ctx.session.scalar(
        select(DecisionStatement)
        .join(Claim, Claim.id == DecisionStatement.claim_id)
        .where(Claim.reference == reference)
        .order_by(DecisionStatement.id.desc())
        .limit(1)
    )
    if statement is None:
        raise NotFound(words("Claim %(reference)s has no decision statement.", reference=reference))
    return statement


# --- helpers ---------------------------------------------------------------------------


def _of_claim(ctx: ServiceContext, claim: Claim, statuses: Iterable[str]) -> list[DecisionStatement]:
    return list(
        ctx.session.scalars(
            select(DecisionStatement)
            .where(DecisionStatement.claim_id == claim.id, DecisionStatement.status.in_(tuple(statuses)))
            .order_by(DecisionStatement.id)
        )
    )


def _latest(ctx: ServiceContext, claim: Claim, statuses: Iterable[str]) -> DecisionStatement | None:
    found = _of_claim(ctx, claim, statuses)
    return found[-1] if found else None


def _uk_day(moment: datetime) -> date:
    if moment.tzinfo is None:  # SQLite gives back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UK).date()


def _freeze(statement: DecisionStatement, claim: Claim) -> None:
    """What the statement says, from the claim as it is when the statement is approved."""
    statement.regulation_id = claim.regulation_id
    statement.category = claim.category or claim.barrier_category
    statement.sector = claim.sector
    statement.region = claim.region
    decided = claim.decided_at or claim.updated_at
    statement.decided_on = _uk_day(decided)
    statement.working_days = working_days_between(_uk_day(claim.submitted_at), statement.decided_on, claim.nation)
    statement.remedy = claim.remedy if statement.decision in ("upheld", "appeal_allowed") else None
    statement.reason_code = claim.reason_code if statement.decision == "not_upheld" else None
    statement.resolution = claim.outcome if claim.outcome in RESOLUTION_OUTCOMES else None


def draw_number_part() -> int:
    """The random part of a statement's number (tests patch this to make numbers predictable)."""
    low, high = RANDOM_PART
    return low + secrets.randbelow(high - low + 1)


def _number(ctx: ServiceContext, statement: DecisionStatement, year: int, attempts: int = 8) -> None:
    """A public number for the year, its part after the year drawn at random: numbers in approval
    order would hint at when a statement was published, which the register shows no finer than
    its decided period. A number already taken (by an earlier statement, or one approved at the
    same moment) is refused by the unique number, and another is drawn."""
    for _ in range(attempts):
        # The savepoint first: beginning one flushes, and the clash must happen inside it.
        savepoint = ctx.session.begin_nested()
        statement.number = f"DS-{year}-{draw_number_part()}"
        try:
            ctx.session.flush()
            savepoint.commit()
            return
        except IntegrityError:
            savepoint.rollback()
    raise Conflict(N_("This statement could not be given a free number. Try approving it again."))
