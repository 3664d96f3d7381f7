"""Counting the claims for a release: one GROUP BY query (one scan) per table, over fixed public
lists (never lists taken from the data), with the UK calendar dates and working days the times to
a decision and to resolution are measured in.

Each table is one query over the claims; the times take one more each. The series is cumulative:
every release counts the claims submitted from the series start to the end of its period.
Nothing here protects a number: ``tables`` does that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, case, cast, func, literal, select, text
from sqlalchemy.orm import Session

from guarantee.clock import UK
from guarantee.models import Claim, Regulation
from guarantee.services.calendar import is_working_day
from workflows.vocabulary import BARRIER_CATEGORIES, REGIONS, RESOLUTION_OUTCOMES, SECTORS, label, nation_of
from workflows.words import N_

UNMATCHED = "unmatched"

# Where each claim stands, in six fixed groups: the columns of "by outcome".
OUTCOME_GROUPS: tuple[str, ...] = (
    "being_considered",
    "upheld",
    "not_upheld",
    "under_appeal",
    "declined",
    "withdrawn_or_lapsed",
)
# Stored in English in each release; the pages say them in the reader's language.
OUTCOME_LABELS = {
    "being_considered": N_("Being considered"),
    "upheld": N_("Upheld"),
    "not_upheld": N_("Not upheld"),
    "under_appeal": N_("Not upheld, under appeal"),
    "declined": N_("Declined"),
    "withdrawn_or_lapsed": N_("Withdrawn or lapsed"),
}
UNMATCHED_LABEL = N_("Not yet matched to a catalogue entry")
# Decided on their merits: the claims the share upheld is worked out from.
DECIDED_GROUPS = ("upheld", "not_upheld", "under_appeal")


@dataclass
class Counts:
    """The unprotected counts of one period, table by table: what the queries found."""

    period_start: date
    period_end: date
    lists: dict[str, dict[str, int]] = field(default_factory=dict)
    crosses: dict[str, dict[tuple[str, str], int]] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    days: dict[str, list[int]] = field(default_factory=dict)


def _midnight(day: date) -> datetime:
    """The start of a UK day, in UTC."""
    return datetime.combine(day, time(0), tzinfo=UK).astimezone(UTC)


def category_column() -> ColumnElement[str]:
    """The officers' classification where they made one, otherwise what the group chose."""
    return func.coalesce(Claim.category, Claim.barrier_category)


def outcome_group_column() -> ColumnElement[str]:
    return case(
        (Claim.outcome.in_(RESOLUTION_OUTCOMES), literal("upheld")),
        (Claim.outcome.in_(("not_upheld", "appeal_dismissed")), literal("not_upheld")),
        (Claim.outcome == "declined", literal("declined")),
        (Claim.outcome.in_(("withdrawn", "lapsed")), literal("withdrawn_or_lapsed")),
        (Claim.state == "upheld", literal("upheld")),
        (Claim.state == "not_upheld", literal("not_upheld")),
        (Claim.state == "appealed", literal("under_appeal")),
        else_=literal("being_considered"),
    )


def quarters(start: date, end: date) -> list[tuple[str, date]]:
    """Every calendar quarter from the one ``start`` is in to the one ``end`` is in, with the
    day each begins: [("2026 Q1", date(2026, 1, 1)), ...]."""
    found: list[tuple[str, date]] = []
    year, q = start.year, (start.month - 1) // 3
    while date(year, 3 * q + 1, 1) <= end:
        found.append((f"{year} Q{q + 1}", date(year, 3 * q + 1, 1)))
        year, q = (year + 1, 0) if q == 3 else (year, q + 1)
    return found


def quarter_column(start: date, end: date) -> ColumnElement[str]:
    """The quarter a claim was submitted in (UK time), by comparing with each quarter's start,
    so that both databases agree to the second."""
    listed = quarters(start, end)
    whens = [
        (Claim.submitted_at < _midnight(begins), literal(listed[i - 1][0])) for i, (_, begins) in enumerate(listed) if i
    ]
    return case(*whens, else_=literal(listed[-1][0])) if whens else literal(listed[0][0])


def count(
    session: Session,
    period_start: date,
    period_end: date,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> Counts:
    """The unprotected counts of every table: one GROUP BY query (one scan) per table, one more
    for the times. ``now``: the moment of counting, the latest a claim can have been decided.
    ``progress`` is called with 1 after each of the ``scans()`` scans."""
    step = progress or (lambda done: None)
    if period_end < period_start:
        raise ValueError("the period ends before it starts")
    since, until = _midnight(period_start), _midnight(period_end + timedelta(days=1))
    in_period = (Claim.submitted_at >= since, Claim.submitted_at < until)
    found = Counts(period_start, period_end)
    if session.get_bind().dialect.name == "postgresql":
        # For this transaction only: dates are UK dates, and these one-off scans are not worth
        # compiling (PostgreSQL's JIT takes longer than it saves here).
        session.execute(text("SET LOCAL TIME ZONE 'Europe/London'"))
        session.execute(text("SET LOCAL jit = off"))
    regulations = session.execute(
        select(Regulation.id, Regulation.title).where(Regulation.merged_into_id.is_(None)).order_by(Regulation.id)
    ).all()
    quarter_labels = [name for name, _ in quarters(period_start, period_end)]
    dimensions: dict[str, tuple[Any, list[str]]] = {
        "category": (category_column(), list(BARRIER_CATEGORIES)),
        "regulation": (Claim.regulation_id, [str(r.id) for r in regulations] + [UNMATCHED]),
        "sector": (Claim.sector, list(SECTORS)),
        "region": (Claim.region, list(REGIONS)),
        "outcome": (outcome_group_column(), list(OUTCOME_GROUPS)),
        "quarter": (quarter_column(period_start, period_end), quarter_labels),
    }
    found.labels = {
        "category": {k: label(k) for k in BARRIER_CATEGORIES},
        "regulation": {**{str(r.id): r.title for r in regulations}, UNMATCHED: UNMATCHED_LABEL},
        "sector": {k: label(k) for k in SECTORS},
        "region": {k: label(k) for k in REGIONS},
        "outcome": dict(OUTCOME_LABELS),
        "quarter": {k: k for k in quarter_labels},
    }
    # The cross-tables first: the category, outcome and region lists are their margins, so they
    # cost no scan of their own.
    for name, (rows_dimension, cols_dimension) in CROSSES.items():
        row_column, row_keys = dimensions[rows_dimension]
        col_column, col_keys = dimensions[cols_dimension]
        result = session.execute(
            select(row_column, col_column, func.count()).where(*in_period).group_by(row_column, col_column)
        ).all()
        cells = {(str(r), str(c)): n for r, c, n in result}
        for r, c in cells:
            _known(rows_dimension, r, row_keys)
            _known(cols_dimension, c, col_keys)
        found.crosses[name] = cells
        step(1)
        for dimension, keys, side in ((rows_dimension, row_keys, 0), (cols_dimension, col_keys, 1)):
            tallies = dict.fromkeys(keys, 0)
            for key, n in cells.items():
                tallies[key[side]] += n
            found.lists[dimension] = tallies
    for name, (column, keys) in dimensions.items():
        if name in found.lists:
            continue
        tallies = dict.fromkeys(keys, 0)
        for key, n in session.execute(select(column, func.count()).where(*in_period).group_by(column)).all():
            slug = UNMATCHED if key is None else str(key)
            _known(name, slug, keys)
            tallies[slug] += n
        found.lists[name] = tallies
        step(1)
    found.days = _days(session, since, until, now)
    step(1)
    return found


def scans() -> int:
    """How many scans ``count`` makes: one for each cross-table, one for each list that is not a
    margin of one, one for the times."""
    margins = {dimension for pair in CROSSES.values() for dimension in pair}
    return len(CROSSES) + len(set(DIMENSIONS) - margins) + 1


DIMENSIONS = ("category", "regulation", "sector", "region", "outcome", "quarter")


CROSSES = {"category_by_outcome": ("category", "outcome"), "category_by_region": ("category", "region")}


def _known(dimension: str, key: str, keys: list[str]) -> None:
    """The lists are fixed and public: a value outside them is a fault in the data, never a new row."""
    if key not in keys:
        raise ValueError(f"a claim's {dimension} is {key!r}, which is not in the published list")


def uk_date(session: Session, column: Any, years: range) -> ColumnElement[Any]:
    """The UK calendar date of a UTC timestamp, worked out by the database. SQLite has no time
    zones: there the date is moved on by an hour inside each summer-time period of ``years``."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(column, Date)  # in the transaction's time zone: Europe/London (see count)
    # To the second: SQLite's date functions round to the millisecond, which would move a claim
    # made in the last half-millisecond of a day into the next.
    seconds = func.substr(column, 1, 19)
    whens = []
    for year in years:
        starts, ends = summer_time(year)
        whens.append(
            (
                (column >= starts) & (column < ends),
                func.date(seconds, "+1 hour"),
            )
        )
    return case(*whens, else_=func.date(seconds))


def summer_time(year: int) -> tuple[datetime, datetime]:
    """When UK summer time begins and ends (UTC): 01:00 on the last Sundays of March and October."""

    def last_sunday(month: int) -> datetime:
        day = date(year, month, 31)
        return datetime.combine(day - timedelta(days=(day.weekday() + 1) % 7), time(1), tzinfo=UTC)

    return last_sunday(3), last_sunday(10)


def _days(session: Session, since: datetime, until: datetime, now: datetime) -> dict[str, list[int]]:
    """Working days from submission to the decision on the merits that stands (a reopened claim's
    earlier decision no longer counts), and to resolution (not
    counting withdrawn or lapsed claims), each claim counted by its nation's bank holidays. The
    database groups the claims by nation and UK dates (one scan for each measure), so that the
    rows to work through are a few per day, whatever the number of claims."""
    nation = case(
        *((Claim.region == region, literal(nation_of(region))) for region in REGIONS if nation_of(region) != "england"),
        else_=literal("england"),
    )
    years = range(since.year, now.year + 2)  # every year a claim can have been decided in
    submitted = uk_date(session, Claim.submitted_at, years)
    in_period = (Claim.submitted_at >= since, Claim.submitted_at < until)
    grouped: dict[str, list[tuple[str, date, date, int]]] = {}
    for measure, column, extra in (
        ("decision", Claim.decided_at, ()),
        ("resolution", Claim.resolved_at, (Claim.outcome.not_in(("withdrawn", "lapsed")),)),
    ):
        ended = uk_date(session, column, years)
        found = session.execute(
            select(nation, submitted, ended, func.count())
            .where(*in_period, column.is_not(None), *extra)
            .group_by(nation, submitted, ended)
        ).all()
        grouped[measure] = [(n, _as_date(a), _as_date(b), k) for n, a, b, k in found]
    dates = [d for rows in grouped.values() for _, a, b, _ in rows for d in (a, b)]
    days: dict[str, list[int]] = {"decision": [], "resolution": []}
    if not dates:
        return days
    index = _working_day_index(min(dates), max(dates))
    for measure, rows in grouped.items():
        for nation_name, start, end, n in rows:
            ordinal = index[nation_name]
            days[measure].extend([ordinal[end] - ordinal[start]] * n)
    return days


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _working_day_index(first: date, last: date) -> dict[str, dict[date, int]]:
    """For each nation, how many working days there are from ``first`` up to each date: the
    working days between two dates are the difference (as ``calendar.working_days_between``)."""
    index: dict[str, dict[date, int]] = {}
    for nation in ("england", "wales", "scotland", "northern_ireland"):
        running, day, ordinal = 0, first, {}
        while day <= last:
            if day > first and is_working_day(day, nation):
                running += 1
            ordinal[day] = running
            day += timedelta(days=1)
        index[nation] = ordinal
    return index
