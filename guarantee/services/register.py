"""The open register of decisions (issue 20), as the public may read it.

A decision statement is shown only where what it shows of its quasi-identifiers (the rule, the
region, the sector, the category and the quarter it was decided) is shared by at least ``k``
decided claims; otherwise it is coarsened a step at a time (region to nation, then quarter to
year, then sector to "other") until it is, or held back. The rule is the statistics' own
``disclosure.generalise``, and the population is the statistics' own decided claims
(``stats.DECIDED_GROUPS``), counted by one GROUP BY. A statement whose group did not agree to
publishing starts at the coarsest step, and its summary is never shown.

Filters apply to what is shown, never to the raw values: a filter on a region would otherwise
find statements whose region was coarsened to hide it.

When a statement was published (and withdrawn) is shown at the statement's own granularity: the
quarter, or only the year where its decided quarter was coarsened to a year, since an exact day
would hint at the hidden quarter. For the same reason the register is ordered by that shown
period and then by number (numbers are drawn at random, ``publishing._number``), and its keyset
pages' cursor holds only that ordering key, which the statement shows anyway.

A statement about a catalogue entry since merged into another is shown as about that other
(its claims moved with the merge, so its disclosure is counted among them too).

Each page reads the database five times: the population's counts, every listed statement's
short fields, the catalogue's merges and its live entries, and the summaries and citations of
the statements on the page.
The web pages and the API pass ``cache_seconds``: then what the first four found is kept in the
process, keyed by a change stamp (the latest audit event, admin event and statement: three
index lookups), and a page reads the stamp and its own details only. A change that leaves no
event (a row written by hand) shows within those seconds.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import String, cast, func, select, text
from sqlalchemy.orm import Session

from guarantee.clock import UK
from guarantee.models import AdminEvent, AuditEvent, Claim, Regulation
from guarantee.models.register import LISTED_STATUSES, STATEMENT_DECISIONS, DecisionStatement, statement_citations
from guarantee.models.regulation import live_entries
from guarantee.services.errors import NotFound, ValidationFailed
from guarantee.statistics.counting import DECIDED_GROUPS, category_column, outcome_group_column, uk_date
from guarantee.statistics.disclosure import generalise
from workflows.vocabulary import BARRIER_CATEGORIES, NATIONS, REGIONS, label, nation_of
from workflows.words import N_, words

DEFAULT_MIN_CLAIMS = 5
PAGE_SIZE = 20
UNMATCHED_RULE = N_("Not matched to a catalogue entry")

DECISION_LABELS: dict[str, str] = {
    "upheld": N_("Upheld"),
    "not_upheld": N_("Not upheld"),
    "appeal_allowed": N_("Appeal allowed"),
    "appeal_dismissed": N_("Appeal dismissed"),
}
STATUS_LABELS: dict[str, str] = {
    "published": N_("Published"),
    "withdrawn": N_("Withdrawn"),
    "superseded": N_("Superseded"),
}
# The places a statement can be shown in: a region, or (coarsened) a nation. Wales, Scotland and
# Northern Ireland are both.
AREAS: tuple[str, ...] = REGIONS + tuple(n for n in NATIONS if n not in REGIONS)

# What identifies a statement among the decided claims: (rule, region, sector, category, period),
# the period a quarter ("2026 Q3") or, coarsened, a year ("2026").
QuasiKey = tuple[int | None, str, str, str, str]


def quarter_of(day: date) -> str:
    """The calendar quarter of a UK date, named as the statistics name it: "2026 Q3"."""
    return f"{day.year} Q{(day.month - 1) // 3 + 1}"


# A shown period: a quarter ("2026 Q3") or a year ("2026").
PERIOD_PATTERN = re.compile(r"([0-9]{4})(?: Q([1-4]))?")


def period_words(period: str) -> str:
    """A shown period as a person reads it: "2026 Q3" (said again in their language), or a year."""
    found = PERIOD_PATTERN.fullmatch(period)
    if found is None or found[2] is None:
        return period
    return words("%(year)s Q%(quarter)s", year=int(found[1]), quarter=int(found[2]))


def period_like(moment: datetime, shown_period: str) -> str:
    """The UK quarter of ``moment``, or only its year where ``shown_period`` is a year: a time
    shown no finer than the statement's decided period."""
    day = moment.astimezone(UK).date()
    return quarter_of(day) if len(shown_period) > 4 else str(day.year)


def period_order(period: str) -> tuple[int, int]:
    """How a shown period sorts: by year, then quarter, with a year (quarter 0) before its own
    year's quarters, so newest first puts it after them."""
    found = PERIOD_PATTERN.fullmatch(period)
    if found is None:
        raise ValueError(f"not a period: {period!r}")
    return int(found[1]), int(found[2] or 0)


def period_start(period: str) -> datetime:
    """The first moment (UK time) of a shown period: of its quarter, or of its year."""
    year, quarter = period_order(period)
    return datetime(year, 3 * max(quarter, 1) - 2, 1, tzinfo=UK)


def _to_nation(key: QuasiKey) -> QuasiKey:
    rule, region, sector, category, period = key
    return rule, nation_of(region), sector, category, period


def _to_year(key: QuasiKey) -> QuasiKey:
    rule, region, sector, category, period = _to_nation(key)
    return rule, region, sector, category, period[:4]


def _to_other_sector(key: QuasiKey) -> QuasiKey:
    rule, region, _, category, period = _to_year(key)
    return rule, region, "other", category, period


# Each rung coarsens a raw key completely: exact; region to nation; and quarter to year; and sector to "other".
LADDER: tuple[Callable[[QuasiKey], QuasiKey], ...] = (lambda key: key, _to_nation, _to_year, _to_other_sector)
COARSEST = len(LADDER) - 1


# --- the population: decided claims ---------------------------------------------------


def population(session: Session, today: date | None = None) -> dict[QuasiKey, int]:
    """How many decided claims share each (rule, region, sector, category, quarter decided):
    one GROUP BY over the claims, by the statistics' definition of decided."""
    today = today or datetime.now(UTC).astimezone(UK).date()
    if session.get_bind().dialect.name == "postgresql":
        # For this transaction only: uk_date casts in the session's time zone.
        session.execute(text("SET LOCAL TIME ZONE 'Europe/London'"))
    decided_on = uk_date(session, Claim.decided_at, range(2020, today.year + 2))
    month = func.substr(cast(decided_on, String), 1, 7)
    category = category_column()
    rows = session.execute(
        select(Claim.regulation_id, Claim.region, Claim.sector, category, month, func.count())
        .where(outcome_group_column().in_(DECIDED_GROUPS), Claim.decided_at.is_not(None))
        .group_by(Claim.regulation_id, Claim.region, Claim.sector, category, month)
    ).all()
    counts: dict[QuasiKey, int] = {}
    for rule, region, sector, category_slug, year_month, n in rows:
        year, month_number = int(year_month[:4]), int(year_month[5:7])
        key = (rule, region, sector, category_slug, quarter_of(date(year, month_number, 1)))
        counts[key] = counts.get(key, 0) + n
    return counts


@dataclass(frozen=True)
class Disclosure:
    """How each statement may be shown: the rung it passes at and its key there, or None."""

    judge_exact: Callable[[QuasiKey], tuple[int, QuasiKey] | None]
    judge_coarsest: Callable[[QuasiKey], tuple[int, QuasiKey] | None]

    def of(self, key: QuasiKey | None, consent: bool) -> tuple[int, QuasiKey] | None:
        if key is None:
            return None  # a statement without its classification cannot be judged: held back
        return (self.judge_exact if consent else self.judge_coarsest)(key)


def disclosure(session: Session, k: int, today: date | None = None) -> Disclosure:
    counts = population(session, today)
    return Disclosure(generalise(counts, LADDER, k), generalise(counts, LADDER, k, start=COARSEST))


def quasi_key(
    regulation_id: int | None, region: str | None, sector: str | None, category: str | None, decided_on: date | None
) -> QuasiKey | None:
    if region is None or sector is None or category is None or decided_on is None:
        return None
    return regulation_id, region, sector, category, quarter_of(decided_on)


# --- what is shown --------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    title: str
    legal_reference: str | None
    issuing_body: str | None
    slug: str | None  # None: not matched to a catalogue entry


UNMATCHED = Rule(UNMATCHED_RULE, None, None, None)


@dataclass(frozen=True)
class ShownStatement:
    """A statement as the public may read it: coarsened where it had to be, without a summary
    where the group did not agree to one."""

    number: str
    status: str
    decision: str
    rule: Rule
    category: str
    sector: str  # "other" where coarsened
    area: str  # a region, or a nation where coarsened
    period: str  # a quarter ("2026 Q3"), or a year where coarsened
    working_days: int | None
    remedy: str | None
    reason_code: str | None
    resolution: str | None
    published: str  # when first published: a quarter, or a year where ``period`` is a year
    withdrawn: str | None  # likewise, when withdrawn
    withdrawn_reason: str | None
    summary: str | None = None
    cites: tuple[str, ...] = ()

    @property
    def order(self) -> tuple[int, int, str]:
        """Where it sorts in the register (newest first: descending), from what it shows only."""
        return (*period_order(self.published), self.number)

    @property
    def decision_label(self) -> str:
        return DECISION_LABELS[self.decision]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def category_label(self) -> str:
        return label(self.category)

    @property
    def sector_label(self) -> str:
        return label(self.sector)

    @property
    def area_label(self) -> str:
        return label(self.area)

    @property
    def remedy_label(self) -> str | None:
        return label(self.remedy) if self.remedy else None

    @property
    def reason_label(self) -> str | None:
        return label(self.reason_code) if self.reason_code else None

    @property
    def resolution_label(self) -> str | None:
        return label(self.resolution) if self.resolution else None

    @property
    def year(self) -> str:
        return self.period[:4]


def _listed(session: Session) -> list[tuple[int, Any, int | None, Rule, bool, QuasiKey | None]]:
    """Every listed statement's short fields, with its rule's live entry (an entry merged into
    another counts as that one) and the rule: two queries, and the catalogue's merges."""
    rows = session.execute(
        select(
            DecisionStatement.id,
            DecisionStatement.number,
            DecisionStatement.status,
            DecisionStatement.decision,
            DecisionStatement.consent,
            DecisionStatement.regulation_id,
            DecisionStatement.category,
            DecisionStatement.sector,
            DecisionStatement.region,
            DecisionStatement.decided_on,
            DecisionStatement.working_days,
            DecisionStatement.remedy,
            DecisionStatement.reason_code,
            DecisionStatement.resolution,
            DecisionStatement.published_at,
            DecisionStatement.withdrawn_at,
            DecisionStatement.withdrawn_reason,
        ).where(DecisionStatement.status.in_(LISTED_STATUSES), DecisionStatement.number.is_not(None))
    ).all()
    live = live_entries(session)
    rules = {
        entry.id: Rule(entry.title, entry.legal_reference, entry.issuing_body, entry.slug)
        for entry in session.execute(
            select(
                Regulation.id, Regulation.title, Regulation.legal_reference, Regulation.issuing_body, Regulation.slug
            ).where(Regulation.merged_into_id.is_(None))
        )
    }
    found = []
    for row in rows:
        # A statement about an entry since merged is about the entry it became: its rule, and the
        # claims its disclosure is counted among (theirs moved with the merge).
        regulation_id = live.get(row.regulation_id) if row.regulation_id is not None else None
        rule = rules.get(regulation_id) if regulation_id is not None else None
        key = quasi_key(regulation_id, row.region, row.sector, row.category, row.decided_on)
        found.append((row.id, row, regulation_id, rule or UNMATCHED, bool(row.consent), key))
    return found


def _shown(row: Any, rule: Rule, passed: tuple[int, QuasiKey]) -> ShownStatement:
    _, (_, area, sector, category, period) = passed
    withdrawn = row.status == "withdrawn" and row.withdrawn_at is not None
    published_at = row.published_at or datetime.min.replace(tzinfo=UTC)
    return ShownStatement(
        number=row.number,
        status=row.status,
        decision=row.decision,
        rule=rule,
        category=category,
        sector=sector,
        area=area,
        period=period,
        working_days=row.working_days,
        remedy=row.remedy,
        reason_code=row.reason_code,
        resolution=row.resolution,
        published=period_like(published_at, period),
        withdrawn=period_like(row.withdrawn_at, period) if withdrawn else None,
        withdrawn_reason=row.withdrawn_reason if row.status == "withdrawn" else None,
    )


@dataclass(frozen=True)
class Filters:
    """What a reader narrowed the register to, by shown values. Empty: everything."""

    rule: str = ""  # a rule's slug
    category: str = ""
    area: str = ""  # a region or a nation, as shown
    outcome: str = ""  # a decision
    year: str = ""

    def check(self) -> None:
        """Refuse a filter that can match nothing because it names nothing the register shows."""
        problems: dict[str, list[str]] = {}
        if self.category and self.category not in BARRIER_CATEGORIES:
            problems["category"] = [N_("Choose a category from the list")]
        if self.area and self.area not in AREAS:
            problems["region"] = [N_("Choose a region or nation from the list")]
        if self.outcome and self.outcome not in STATEMENT_DECISIONS:
            problems["outcome"] = [N_("Choose an outcome from the list")]
        if self.year and not (self.year.isdigit() and len(self.year) == 4):
            problems["year"] = [N_("Enter a year as 4 digits, like 2026")]
        if len(self.rule) > 80:
            problems["rule"] = [N_("Choose a rule from the list")]
        if problems:
            raise ValidationFailed(problems)

    def matches(self, shown: ShownStatement) -> bool:
        return (
            (not self.rule or shown.rule.slug == self.rule)
            and (not self.category or shown.category == self.category)
            and (not self.area or shown.area == self.area)
            and (not self.outcome or shown.decision == self.outcome)
            and (not self.year or shown.year == self.year)
        )

    def as_args(self) -> dict[str, str]:
        """The filters as query arguments, leaving out those not set."""
        return {
            name: value
            for name, value in (
                ("rule", self.rule),
                ("category", self.category),
                ("region", self.area),
                ("outcome", self.outcome),
                ("year", self.year),
            )
            if value
        }


class BadCursor(ValidationFailed):
    """A page cursor this service did not make, or made for another list."""

    def __init__(self) -> None:
        super().__init__({"cursor": [N_("This page link does not work. Go back to the first page of the register.")]})


# A statement number as a cursor may hold it: DS-2026-48213, or numbered before numbers were
# drawn at random, DS-2026-0001 (the benchmarks' data sets number with more digits: the column's 16).
_CURSOR_NUMBER = re.compile(r"DS-[0-9]{4}-[0-9]{1,8}")


def encode_cursor(shown: ShownStatement) -> str:
    """The last statement's place in the order, as it shows it: its published period and number."""
    raw = f"{shown.published}|{shown.number}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        period, number = raw.split("|")
        year, quarter = period_order(period)
    except (ValueError, UnicodeDecodeError, binascii.Error) as error:
        raise BadCursor() from error
    if not _CURSOR_NUMBER.fullmatch(number):
        raise BadCursor()
    return year, quarter, number


@dataclass(frozen=True)
class Register:
    """A page of the register (or all of it), and what a reader is told about the rest."""

    statements: list[ShownStatement]
    matching: int  # shown statements that match the filters, on every page
    held_back: int  # listed statements not shown at all, whatever the filters
    next_cursor: str | None
    # The page before (newer): has_newer, and its cursor (None: the first page).
    has_newer: bool
    newer_cursor: str | None
    k: int
    years: list[str]  # the years shown statements were decided in, for the filter
    rules: list[Rule]  # the rules shown statements are about, for the filter


@dataclass(frozen=True)
class _Entry:
    """A shown statement with what the public never reads of it: its row id, its rule's id and
    whether its group agreed to a summary."""

    id: int
    regulation_id: int | None
    consent: bool
    shown: ShownStatement


def _judge_all(session: Session, k: int, today: date | None) -> tuple[list[_Entry], int]:
    control = disclosure(session, k, today)
    entries: list[_Entry] = []
    held_back = 0
    for statement_id, row, regulation_id, rule, consent, key in _listed(session):
        passed = control.of(key, consent)
        if passed is None:
            held_back += 1
            continue
        entries.append(_Entry(statement_id, regulation_id, consent, _shown(row, rule, passed)))
    entries.sort(key=lambda entry: entry.shown.order, reverse=True)
    return entries, held_back


def change_stamp(session: Session) -> tuple[Any, ...]:
    """What changes whenever the register may: a claim's audit chain grows with every decision,
    reclassification, publishing and withdrawal; the admin log with every catalogue edit; and
    a new statement takes a new id. Three index lookups, in one query."""
    return tuple(
        session.execute(
            select(
                select(func.max(AuditEvent.id)).scalar_subquery(),
                select(func.max(AdminEvent.id)).scalar_subquery(),
                select(func.max(DecisionStatement.id)).scalar_subquery(),
            )
        ).one()
    )


@dataclass(frozen=True)
class _Judged:
    stamp: tuple[Any, ...]
    made: float  # time.monotonic()
    entries: list[_Entry]
    held_back: int


# Per process, by database, k and day: every listed statement as it may be shown. Kept until the
# change stamp moves, and never longer than the caller's seconds (a change made outside the
# services, which leaves no event, shows within them).
_JUDGED: dict[tuple[str, int, date | None], _Judged] = {}


def forget() -> None:
    """Drop what this process kept of the register (a test that reuses row ids starts afresh)."""
    _JUDGED.clear()


def _all_shown(session: Session, k: int, today: date | None, cache_seconds: float = 0) -> tuple[list[_Entry], int]:
    if cache_seconds <= 0:
        return _judge_all(session, k, today)
    key = (str(session.get_bind().engine.url), k, today)
    stamp = change_stamp(session)
    kept = _JUDGED.get(key)
    if kept is not None and kept.stamp == stamp and time.monotonic() - kept.made < cache_seconds:
        return kept.entries, kept.held_back
    entries, held_back = _judge_all(session, k, today)
    _JUDGED[key] = _Judged(stamp, time.monotonic(), entries, held_back)
    return entries, held_back


def _with_details(session: Session, page: Sequence[_Entry], shown_numbers: set[str]) -> list[ShownStatement]:
    """The page's statements with their summaries (where the group agreed) and the shown
    statements they cite: one query."""
    if not page:
        return []
    cited = DecisionStatement.__table__.alias("cited")
    rows = session.execute(
        select(DecisionStatement.id, DecisionStatement.summary, cited.c.number)
        .outerjoin(statement_citations, statement_citations.c.statement_id == DecisionStatement.id)
        .outerjoin(cited, cited.c.id == statement_citations.c.cited_id)
        .where(DecisionStatement.id.in_([entry.id for entry in page]))
    ).all()
    summaries: dict[int, str | None] = {}
    cites: dict[int, set[str]] = {}
    for statement_id, summary, number in rows:
        summaries[statement_id] = summary
        if number is not None and number in shown_numbers:
            cites.setdefault(statement_id, set()).add(number)
    return [
        replace(
            entry.shown,
            summary=summaries.get(entry.id) if entry.consent else None,
            cites=tuple(sorted(cites.get(entry.id, ()))),
        )
        for entry in page
    ]


def read_register(
    session: Session,
    filters: Filters = Filters(),
    *,
    k: int = DEFAULT_MIN_CLAIMS,
    cursor: str | None = None,
    page_size: int | None = PAGE_SIZE,
    today: date | None = None,
    regulation_id: int | None = None,
    cache_seconds: float = 0,
) -> Register:
    """A page of the shown statements matching ``filters`` (and, given one, about the rule
    ``regulation_id``), newest published period first, then by number, after ``cursor`` (None:
    the first page); ``page_size`` None: every one (the CSV, the feed)."""
    filters.check()
    after = decode_cursor(cursor) if cursor else None
    everything, held_back = _all_shown(session, k, today, cache_seconds)
    matching = [
        entry
        for entry in everything
        if filters.matches(entry.shown) and (regulation_id is None or entry.regulation_id == regulation_id)
    ]
    rest = matching
    if after is not None:
        rest = [entry for entry in matching if entry.shown.order < after]
    page = rest if page_size is None else rest[:page_size]
    more = page_size is not None and len(rest) > page_size
    skipped = len(matching) - len(rest)  # the newer statements, before this page
    newer_start = max(0, skipped - (page_size or 0))
    rules = {entry.shown.rule.slug: entry.shown.rule for entry in everything if entry.shown.rule.slug}
    return Register(
        statements=_with_details(session, page, {entry.shown.number for entry in everything}),
        matching=len(matching),
        held_back=held_back,
        next_cursor=encode_cursor(page[-1].shown) if more and page else None,
        has_newer=skipped > 0,
        newer_cursor=encode_cursor(matching[newer_start - 1].shown) if skipped > 0 and newer_start > 0 else None,
        k=k,
        years=sorted({entry.shown.year for entry in everything}, reverse=True),
        rules=sorted(rules.values(), key=lambda r: r.title.lower()),
    )


def statement(
    session: Session, number: str, *, k: int = DEFAULT_MIN_CLAIMS, today: date | None = None, cache_seconds: float = 0
) -> ShownStatement:
    """One shown statement by its public number; NotFound if there is none, or it is held back."""
    everything, _ = _all_shown(session, k, today, cache_seconds)
    found = [entry for entry in everything if entry.shown.number == number]
    if not found:
        raise NotFound(N_("There is no decision statement with that number."))
    return _with_details(session, found, {entry.shown.number for entry in everything})[0]


def for_rule(
    session: Session,
    regulation_id: int,
    *,
    k: int = DEFAULT_MIN_CLAIMS,
    today: date | None = None,
    cache_seconds: float = 0,
    limit: int | None = None,
) -> Register:
    """The shown statements about one catalogue entry, newest first (the first ``limit``; None:
    every one), with how many there are: for its rule page."""
    return read_register(
        session, k=k, page_size=limit, today=today, regulation_id=regulation_id, cache_seconds=cache_seconds
    )


def is_shown(
    session: Session, statement: DecisionStatement, *, k: int = DEFAULT_MIN_CLAIMS, today: date | None = None
) -> bool:
    """Whether the register shows this statement now (for the e-mail follow sweep: never send
    what the register holds back)."""
    if statement.status not in LISTED_STATUSES or statement.number is None:
        return False
    regulation_id = live_entries(session).get(statement.regulation_id) if statement.regulation_id else None
    key = quasi_key(regulation_id, statement.region, statement.sector, statement.category, statement.decided_on)
    return disclosure(session, k, today).of(key, statement.consent) is not None


def rule_title(session: Session, slug: str) -> str | None:
    """The title of the catalogue entry with this slug (for its feed), or None if there is none."""
    if len(slug) > 80:
        return None
    return session.execute(select(Regulation.title).where(Regulation.slug == slug)).scalar_one_or_none()
