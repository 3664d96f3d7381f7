"""Published statistics (DESIGN 7): count the claims, protect the tables, publish a release.

A release is one JSON document, built from fixed public lists (never lists taken from the data),
protected by the disclosure rules of ``guarantee.disclosure`` or, on request, by the noise of
``guarantee.privacy``, and stored in the register byte for byte with its SHA-256. Pages and the
API serve the stored bytes; nothing is counted on a request.

Each table is one query over the claims (one scan); the times to a decision and to resolution
take one more. The series is cumulative: every release counts the claims submitted from the
series start to the end of its period, so releases differ only by the claims added or changed
since, and ``differencing`` checks that no such difference gives away a small number.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, case, cast, func, literal, select, text
from sqlalchemy.orm import Session, defer

from guarantee import csv_export
from guarantee.clock import UK
from guarantee.disclosure import SUPPRESSED, CrossTable, Published, Rules, protect_cross, protect_list, round_to_base
from guarantee.models import Claim, Regulation, StatisticsRelease
from guarantee.privacy import Mechanism, cell_margin, fit, line_margins, sum_margin
from guarantee.services.audit import append_admin_event
from guarantee.services.calendar import is_working_day
from guarantee.services.context import ServiceContext
from guarantee.services.errors import NotFound, ServiceError
from workflows.vocabulary import BARRIER_CATEGORIES, REGIONS, RESOLUTION_OUTCOMES, SECTORS, label, nation_of

FORMAT = 1
DISCLOSURE_CONTROL = "disclosure_control"
DIFFERENTIAL_PRIVACY = "differential_privacy"
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
OUTCOME_LABELS = {
    "being_considered": "Being considered",
    "upheld": "Upheld",
    "not_upheld": "Not upheld",
    "under_appeal": "Not upheld, under appeal",
    "declined": "Declined",
    "withdrawn_or_lapsed": "Withdrawn or lapsed",
}
# Decided on their merits: the claims the share upheld is worked out from.
DECIDED_GROUPS = ("upheld", "not_upheld", "under_appeal")
TIMES = {
    "decision": "From submission to a decision",
    "resolution": "From submission to resolution",
}


class StatisticsRefused(ServiceError):
    """A release that would give something away, with the reasons in plain words."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(" ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class Settings:
    """How a release is made: its disclosure rules, the series start and, for a release with
    noise, the epsilon of each table."""

    rules: Rules = field(default_factory=Rules)
    series_start: date = date(2026, 1, 1)
    epsilon: float | None = None

    @property
    def method(self) -> str:
        return DISCLOSURE_CONTROL if self.epsilon is None else DIFFERENTIAL_PRIVACY


# --- counting ---------------------------------------------------------------------


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


def count(session: Session, period_start: date, period_end: date, now: datetime) -> Counts:
    """The unprotected counts of every table: one GROUP BY query (one scan) per table, one more
    for the times. ``now``: the moment of counting, the latest a claim can have been decided."""
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
        "regulation": {**{str(r.id): r.title for r in regulations}, UNMATCHED: "Not yet matched to a catalogue entry"},
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
    found.days = _days(session, since, until, now)
    return found


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


# --- the tables -------------------------------------------------------------------

LIST_TABLES: dict[str, tuple[str, str]] = {
    "by_category": ("category", "Claims by barrier category"),
    "by_regulation": ("regulation", "Claims by regulation (catalogue entry)"),
    "by_sector": ("sector", "Claims by sector"),
    "by_region": ("region", "Claims by region"),
    "by_outcome": ("outcome", "Claims by outcome"),
    "by_quarter": ("quarter", "Claims by quarter submitted"),
}
CROSS_TABLES: dict[str, str] = {
    "category_by_outcome": "Barrier category by outcome",
    "category_by_region": "Barrier category by region",
}
# A list table whose cells are the row or column totals of a cross-table: what one hides, the
# other must hide too.
LINKS: dict[tuple[str, str], str] = {
    ("category_by_outcome", "row"): "by_category",
    ("category_by_outcome", "col"): "by_outcome",
    ("category_by_region", "row"): "by_category",
    ("category_by_region", "col"): "by_region",
}


def protected_tables(counts: Counts, rules: Rules) -> tuple[dict[str, Any], dict[str, CrossTable[str, str]]]:
    """Every list and cross-table under the disclosure rules. Tables that share numbers (a
    cross-table's totals are a list table's cells, and every table has the same grand total)
    hide the same ones: protection is repeated with what the others hid until nothing changes."""
    hide: dict[str, set[str]] = {name: set() for name in LIST_TABLES}
    hide_lines: dict[str, set[tuple[str, Any]]] = {name: set() for name in CROSS_TABLES}
    hide_total = False
    while True:
        lists = {
            name: protect_list(counts.lists[dimension], rules, hide=sorted(hide[name]), hide_total=hide_total)
            for name, (dimension, _) in LIST_TABLES.items()
        }
        crosses: dict[str, CrossTable[str, str]] = {}
        for name in CROSS_TABLES:
            rows_dimension, cols_dimension = CROSSES[name]
            rows, cols = list(counts.lists[rows_dimension]), list(counts.lists[cols_dimension])
            crosses[name] = protect_cross(
                counts.crosses[name],
                rows,
                cols,
                rules,
                dominance=name == "category_by_outcome",
                hide_lines=hide_lines[name] | ({("grand", None)} if hide_total else set()),
            )
        changed = False
        for (name, side), linked in LINKS.items():
            table = crosses[name]
            hidden_here = {
                k for k, v in (table.row_totals if side == "row" else table.col_totals).items() if v == SUPPRESSED
            }
            hidden_there = {k for k, v in lists[linked][0].items() if v == SUPPRESSED}
            for key in hidden_here - hidden_there:
                hide[linked].add(key)
                changed = True
            for key in hidden_there - hidden_here:
                hide_lines[name].add((side, key))
                changed = True
        grands = [total for _, total in lists.values()] + [t.grand_total for t in crosses.values()]
        if SUPPRESSED in grands and not hide_total:
            hide_total = changed = True
        if not changed:
            return lists, crosses


def _list_table(
    name: str,
    counts: Counts,
    cells: Mapping[str, Published],
    total: Published,
    *,
    margins: Mapping[str, int] | None = None,
    total_margin: int | None = None,
) -> dict[str, Any]:
    dimension, title = LIST_TABLES[name]
    rows = []
    for key in counts.lists[dimension]:
        row: dict[str, Any] = {"key": key, "label": counts.labels[dimension][key], "count": cells[key]}
        if margins is not None:
            row["margin"] = margins[key]
        rows.append(row)
    table: dict[str, Any] = {
        "id": name,
        "kind": "counts",
        "title": title,
        "dimension": dimension,
        "rows": rows,
        "total": total,
    }
    if total_margin is not None:
        table["total_margin"] = total_margin
    return table


def _cross_table(
    name: str,
    counts: Counts,
    *,
    cells: Mapping[tuple[str, str], Published],
    row_totals: Mapping[str, Published],
    col_totals: Mapping[str, Published],
    total: Published,
    margins: dict[str, Any] | None = None,
) -> dict[str, Any]:
    rows_dimension, cols_dimension = CROSSES[name]
    cols = list(counts.lists[cols_dimension])
    table: dict[str, Any] = {
        "id": name,
        "kind": "cross",
        "title": CROSS_TABLES[name],
        "row_dimension": rows_dimension,
        "column_dimension": cols_dimension,
        "columns": [{"key": c, "label": counts.labels[cols_dimension][c]} for c in cols],
        "rows": [
            {
                "key": r,
                "label": counts.labels[rows_dimension][r],
                "counts": [cells[(r, c)] for c in cols],
                "total": row_totals[r],
            }
            for r in counts.lists[rows_dimension]
        ],
        "column_totals": [col_totals[c] for c in cols],
        "total": total,
    }
    if margins is not None:
        for i, row in enumerate(table["rows"]):
            row["margins"] = margins["cells"][i]
            row["total_margin"] = margins["rows"][i]
        table["column_total_margins"] = margins["cols"]
        table["total_margin"] = margins["total"]
    return table


def wilson(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The 95% Wilson score interval for a proportion."""
    if n == 0:
        raise ValueError("no trials")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _percent(x: float) -> int:
    return math.floor(100 * x + 0.5)


def share_upheld(counts: Counts, published: Mapping[str, tuple[int, int] | None]) -> dict[str, Any]:
    """The share of claims decided on their merits that were upheld, for all claims and for each
    category, worked out from the *published* (rounded) counts: upheld, and not upheld or under
    appeal. Nothing here is more exact than the tables, so it gives nothing more away, in one
    release or between two. A line whose counts are hidden (None in ``published``) is hidden."""
    lines = [("all", "All claims")] + [(k, counts.labels["category"][k]) for k in counts.lists["category"]]
    rows = []
    for key, heading in lines:
        row: dict[str, Any] = {"key": key, "label": heading}
        shown = published.get(key)
        if shown is None:
            row.update(decided=SUPPRESSED, percent=SUPPRESSED, low=SUPPRESSED, high=SUPPRESSED)
        elif sum(shown) == 0:
            row.update(decided=0, percent=None, low=None, high=None)
        else:
            upheld, n = shown[0], sum(shown)
            low, high = wilson(upheld, n)
            row.update(decided=n, percent=_percent(upheld / n), low=_percent(low), high=_percent(high))
        rows.append(row)
    return {"id": "share_upheld", "kind": "share", "title": "Share of claims upheld", "rows": rows}


def _decided(cells: Mapping[str, Published]) -> tuple[int, int] | None:
    """(upheld, not upheld or under appeal) as published, or None if any of them is hidden."""
    values = [cells[g] for g in DECIDED_GROUPS]
    if any(not isinstance(v, int) for v in values):
        return None
    counts = [int(v) for v in values]
    return counts[0], sum(counts[1:])


def _round(n: int, rules: Rules) -> int:
    return round_to_base(n, rules.base)


def nearest_rank(values: Sequence[int], q: float) -> int:
    """The ``q`` quantile by nearest rank: a value that some claim actually had."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


TIMES_AT_LEAST = 50  # claims a median or a 90th percentile is worked out from, at least


def working_days(counts: Counts, rules: Rules, hide: Collection[str] = ()) -> dict[str, Any]:
    """The median and 90th percentile working days, rounded to the rounding base, from at least
    ``TIMES_AT_LEAST`` claims: one claim more or less can then move them by no more than a
    neighbour's time, blurred by the rounding. The rows in ``hide`` are hidden, with their number
    of claims (the claims decided are the sum of four published outcomes: if one of those is
    hidden, that number would give it away)."""
    rows = []
    for key, heading in TIMES.items():
        values = counts.days[key]
        n = len(values)
        row: dict[str, Any] = {"key": key, "label": heading}
        if key in hide:
            row.update(claims=SUPPRESSED, median=SUPPRESSED, p90=SUPPRESSED)
        elif n == 0:
            row.update(claims=0, median=None, p90=None)
        elif n < rules.threshold:
            row.update(claims=SUPPRESSED, median=SUPPRESSED, p90=SUPPRESSED)
        elif n < TIMES_AT_LEAST:
            row.update(claims=_round(n, rules), median=SUPPRESSED, p90=SUPPRESSED)
        else:
            row.update(
                claims=_round(n, rules),
                median=_round(nearest_rank(values, 0.5), rules),
                p90=_round(nearest_rank(values, 0.9), rules),
            )
        rows.append(row)
    return {"id": "working_days", "kind": "times", "title": "Working days taken", "rows": rows}


def _private_tables(counts: Counts, epsilon: float) -> tuple[list[dict[str, Any]], Mechanism]:
    mechanism = Mechanism.for_epsilon(epsilon)
    tables: list[dict[str, Any]] = []
    for name, (dimension, _) in LIST_TABLES.items():
        keys = list(counts.lists[dimension])
        fitted = fit(mechanism.measure([counts.lists[dimension][k] for k in keys]))
        margin = cell_margin(mechanism.scale, fitted.shift)
        tables.append(
            _list_table(
                name,
                counts,
                dict(zip(keys, fitted.cells, strict=True)),
                fitted.total,
                margins=dict.fromkeys(keys, margin),
                total_margin=sum_margin(mechanism.scale, len(keys)),
            )
        )
    for name in CROSS_TABLES:
        rows_dimension, cols_dimension = CROSSES[name]
        rows, cols = list(counts.lists[rows_dimension]), list(counts.lists[cols_dimension])
        true = [counts.crosses[name].get((r, c), 0) for r in rows for c in cols]
        fitted = fit(mechanism.measure(true))
        grid = [fitted.cells[i * len(cols) : (i + 1) * len(cols)] for i in range(len(rows))]
        margin = cell_margin(mechanism.scale, fitted.shift)
        row_margins, col_margins = line_margins(grid, mechanism.scale, seed=f"{name}:{fitted.cells}")
        tables.append(
            _cross_table(
                name,
                counts,
                cells={(r, c): grid[i][j] for i, r in enumerate(rows) for j, c in enumerate(cols)},
                row_totals={r: sum(grid[i]) for i, r in enumerate(rows)},
                col_totals={c: sum(line[j] for line in grid) for j, c in enumerate(cols)},
                total=fitted.total,
                margins={
                    "cells": [[margin] * len(cols) for _ in rows],
                    "rows": row_margins,
                    "cols": col_margins,
                    "total": sum_margin(mechanism.scale, len(true)),
                },
            )
        )
    return tables, mechanism


# --- the document -----------------------------------------------------------------


def build(counts: Counts, settings: Settings, number: int, published_at: datetime) -> dict[str, Any]:
    """The release document. Given the same counts, settings, number and time, the same document
    (for a release with noise, the noise differs every time)."""
    document: dict[str, Any] = {
        "format": FORMAT,
        "release": number,
        "published_at": published_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "period": {"start": counts.period_start.isoformat(), "end": counts.period_end.isoformat()},
        "method": settings.method,
        "suppressed": SUPPRESSED,
    }
    if settings.epsilon is None:
        rules = settings.rules
        lists, crosses = protected_tables(counts, rules)
        tables = [_list_table(name, counts, *lists[name]) for name in LIST_TABLES]
        for name, cross in crosses.items():
            tables.append(
                _cross_table(
                    name,
                    counts,
                    cells=cross.cells,
                    row_totals=cross.row_totals,
                    col_totals=cross.col_totals,
                    total=cross.grand_total,
                )
            )
        # The share is worked out from the published counts; the claims decided would give away
        # a hidden outcome count they are the sum of.
        by_outcome, cross = lists["by_outcome"][0], crosses["category_by_outcome"]
        published: dict[str, tuple[int, int] | None] = {"all": _decided(by_outcome)}
        published |= {k: _decided({g: cross.cells[(k, g)] for g in DECIDED_GROUPS}) for k in cross.rows}
        decision_parts = (*DECIDED_GROUPS, "declined")
        hide_times = {"decision"} if any(by_outcome[g] == SUPPRESSED for g in decision_parts) else set()
        tables += [share_upheld(counts, published), working_days(counts, rules, hide_times)]
        document["rules"] = {
            "threshold": rules.threshold,
            "rounding_base": rules.base,
            "dominance_below": rules.dominance_below,
        }
    else:
        tables, mechanism = _private_tables(counts, settings.epsilon)
        document["rules"] = {
            "noise": "discrete Laplace (OpenDP)",
            "epsilon_per_table": mechanism.epsilon,
            "epsilon_total": round(mechanism.epsilon * len(tables), 12),
            "scale": mechanism.scale,
            "confidence": 0.95,
        }
    document["notes"] = notes(settings, document["rules"])
    document["tables"] = tables
    return document


def notes(settings: Settings, rules: Mapping[str, Any]) -> list[str]:
    """How the release was made and protected, in plain English."""
    common = [
        "Every claim submitted in the period is counted once in each table, in the state it was in "
        "when the release was made. The series is cumulative: each release counts every claim since "
        "the series began.",
        "A claim's barrier category is the one our officers gave it, or the one the group chose if it "
        "has not been classified yet. The lists of categories, sectors, regions, outcomes and quarters "
        "are fixed and public, so a row appears even when no claim is in it.",
    ]
    if settings.epsilon is None:
        t, base, dominance = rules["threshold"], rules["rounding_base"], rules["dominance_below"]
        return [
            *common,
            f"To protect the groups who made claims, a number from 1 to {t - 1} is shown as {SUPPRESSED}. "
            f"Every other number, totals included, is rounded to the nearest {base}, so rows may not add "
            "up exactly to their totals.",
            f"Where a hidden number could be worked out from the totals of its row or column, or from "
            f"another table, more numbers are hidden too. In the category by outcome table, a category "
            f"with fewer than {dominance} claims that all had the same outcome is hidden.",
            "Before a release is published it is checked against every earlier one, so that the "
            "difference between two releases cannot give away a small number either.",
            "The share upheld is worked out from the rounded numbers of claims decided on their merits "
            "(upheld, not upheld, or under appeal) shown in the tables, with a 95% confidence interval "
            "(Wilson), so it is close to, not exactly, the true share. Working days leave out weekends and "
            f"bank holidays in the claim's nation; the median and the 90th percentile are shown from "
            f"{TIMES_AT_LEAST} claims, rounded to the nearest {base} working days.",
        ]
    return [
        *common,
        f"The numbers in this release have random noise added (the discrete Laplace mechanism of OpenDP), "
        f"which gives differential privacy with epsilon {rules['epsilon_per_table']:g} for each table, "
        f"{rules['epsilon_total']:g} for the whole release: adding or removing any one claim changes the "
        "chance of any result by a bounded factor. The bound covers this release alone: every release of "
        "the same claims adds its epsilon to the total, and releases made by hiding small numbers are not "
        "covered by it. A claim whose outcome changed between releases counts as two claims.",
        "Noisy counts below zero are shown as zero, and counts are adjusted so that each table adds up "
        "to its total. The margin next to each number is the half-width of its 95% interval: the true "
        "number is within it 95 times out of 100.",
        "Shares and times are not published in a release with noise: they are not counts, and their "
        "uncertainty would be larger than the intervals we could show.",
    ]


def canonical(document: Mapping[str, Any]) -> bytes:
    """The bytes that are stored, served and hashed."""
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def as_csv(document: Mapping[str, Any]) -> str:
    """Every number of a release as one CSV row: which table, row and column (key and words),
    the value, and for a release with noise its 95% margin. Row words can be catalogue titles
    that officers typed: ``csv_export`` keeps them from running as spreadsheet formulas."""
    private = document["method"] == DIFFERENTIAL_PRIVACY
    release = document["release"]
    rows: list[list[Any]] = [
        ["release", "table", "row_key", "row", "column_key", "column", "value", *(["margin_95"] if private else [])]
    ]
    for table in document["tables"]:
        for (row_key, row), (column_key, column), value, margin in _cells(table):
            rows.append([release, table["id"], row_key, row, column_key, column, value, *([margin] if private else [])])
    return csv_export.write(rows)


def csv_etag(release_sha256: str) -> str:
    """The ETag of a release's CSV: the release's hash and the CSV writer's format, so that a
    cache never keeps the CSV of an older writer as current."""
    return f"{release_sha256}-csv{csv_export.FORMAT}"


TOTAL = ("total", "Total")


def _cells(table: Mapping[str, Any]) -> Iterable[tuple[tuple[str, str], tuple[str, str], Any, Any]]:
    kind = table["kind"]
    if kind == "counts":
        claims = ("claims", "Claims")
        for row in table["rows"]:
            yield (row["key"], row["label"]), claims, row["count"], row.get("margin", "")
        yield TOTAL, claims, table["total"], table.get("total_margin", "")
    elif kind == "cross":
        columns = [(c["key"], c["label"]) for c in table["columns"]]
        for row in table["rows"]:
            margins = row.get("margins", [""] * len(columns))
            for column, value, margin in zip(columns, row["counts"], margins, strict=True):
                yield (row["key"], row["label"]), column, value, margin
            yield (row["key"], row["label"]), TOTAL, row["total"], row.get("total_margin", "")
        col_margins = table.get("column_total_margins", [""] * len(columns))
        for column, value, margin in zip(columns, table["column_totals"], col_margins, strict=True):
            yield TOTAL, column, value, margin
        yield TOTAL, TOTAL, table["total"], table.get("total_margin", "")
    else:
        measures = {
            "share": {
                "decided": "Claims decided",
                "percent": "Per cent upheld",
                "low": "95% interval from",
                "high": "95% interval to",
            },
            "times": {"claims": "Claims", "median": "Median working days", "p90": "90th percentile working days"},
        }[kind]
        for row in table["rows"]:
            for key, words in measures.items():
                yield (row["key"], row["label"]), (key, words), _blank(row[key]), ""


def _blank(value: Any) -> Any:
    return "" if value is None else value


# --- differencing -----------------------------------------------------------------


def possible(value: Published, rules: Mapping[str, Any]) -> tuple[int, int]:
    """What a published number tells about the true count: the least and the greatest it could be.
    A number rounded to ``p`` was from ``p - base/2`` (inclusive) to ``p + base/2``; a shown
    number was never from 1 to ``threshold - 1``."""
    threshold, base = rules["threshold"], rules["rounding_base"]
    if value == SUPPRESSED:
        return 1, threshold - 1
    assert isinstance(value, int)
    low, high = max(0, math.ceil(value - base / 2)), math.ceil(value + base / 2) - 1
    if value == 0:
        return 0, 0 if high < threshold else high
    return max(low, threshold), high


def _numbers(table: Mapping[str, Any]) -> dict[str, tuple[str, Published]]:
    """Every count a table publishes, keyed so the same count can be found in another release,
    with the words that name it."""
    found: dict[str, tuple[str, Published]] = {}
    if table["kind"] == "counts":
        for row in table["rows"]:
            found[row["key"]] = (f"“{row['label']}”", row["count"])
        found["total"] = ("the total", table["total"])
    elif table["kind"] == "cross":
        columns = table["columns"]
        for row in table["rows"]:
            for column, value in zip(columns, row["counts"], strict=True):
                found[f"{row['key']}|{column['key']}"] = (f"“{row['label']}, {column['label']}”", value)
            found[f"{row['key']}|"] = (f"the total for “{row['label']}”", row["total"])
        for column, value in zip(columns, table["column_totals"], strict=True):
            found[f"|{column['key']}"] = (f"the total for “{column['label']}”", value)
        found["|"] = ("the total", table["total"])
    elif table["kind"] == "share":
        for row in table["rows"]:
            found[row["key"]] = (f"the claims decided for “{row['label']}”", row["decided"])
    elif table["kind"] == "times":
        for row in table["rows"]:
            found[row["key"]] = (f"the claims timed “{row['label'].lower()}”", row["claims"])
    return found


def differencing(new: Mapping[str, Any], earlier: Iterable[Mapping[str, Any]]) -> list[str]:
    """The reasons ``new`` cannot be published next to the earlier releases made under disclosure
    control: a count whose change since an earlier release could be narrowed down to a few values
    from 1 to ``threshold - 1`` (more than a ``[c]`` says). Empty when it can be published."""
    if new["method"] != DISCLOSURE_CONTROL:
        return []
    threshold = new["rules"]["threshold"]
    reasons: list[str] = []
    for old in earlier:
        if old["method"] != DISCLOSURE_CONTROL:
            continue
        old_tables = {t["id"]: t for t in old["tables"]}
        for table in new["tables"]:
            if table["id"] not in old_tables:
                continue
            before = _numbers(old_tables[table["id"]])
            for key, (words, value) in _numbers(table).items():
                if key not in before:
                    continue
                low_new, high_new = possible(value, new["rules"])
                low_old, high_old = possible(before[key][1], old["rules"])
                low, high = low_new - high_old, high_new - low_old
                small = (low >= 1 and high <= threshold - 1) or (low >= -(threshold - 1) and high <= -1)
                if small and high - low + 1 < threshold - 1:
                    change = f"between {low} and {high}" if low > 0 else f"between {-high} and {-low}"
                    direction = "more" if low > 0 else "fewer"
                    reasons.append(
                        f"In “{table['title']}”, {words} would show {value} against {before[key][1]} "
                        f"in release {old['release']}, which tells anyone that {change} {direction} claims are "
                        "counted there now."
                    )
    return reasons


# --- the register -----------------------------------------------------------------


def settings_from(config: Mapping[str, Any], *, private: bool = False, epsilon: float | None = None) -> Settings:
    """The release settings from the app's configuration (GUARANTEE_STATISTICS_*)."""
    rules = Rules(
        threshold=int(config.get("GUARANTEE_STATISTICS_THRESHOLD", 10)),
        base=int(config.get("GUARANTEE_STATISTICS_ROUNDING_BASE", 5)),
        dominance_below=int(config.get("GUARANTEE_STATISTICS_DOMINANCE_BELOW", 25)),
    )
    start = config.get("GUARANTEE_STATISTICS_SERIES_START", "2026-01-01")
    series_start = start if isinstance(start, date) else date.fromisoformat(str(start))
    if private or epsilon is not None:
        epsilon = float(epsilon if epsilon is not None else config.get("GUARANTEE_STATISTICS_EPSILON", 0.5))
    return Settings(rules=rules, series_start=series_start, epsilon=epsilon)


def publish(
    ctx: ServiceContext, actor_id: int | None, settings: Settings, period_end: date | None = None
) -> StatisticsRelease:
    """Count, protect, check against every earlier release, and add the release to the register.
    ``actor_id`` is the admin who published it (None: an operator at the command line); it goes
    in the admin log, never in the release. Raises StatisticsRefused with the reasons."""
    today = ctx.today()
    end = period_end or today - timedelta(days=1)
    if end >= today:
        raise StatisticsRefused([f"The period must end before today ({today:%-d %B %Y}), so that it is complete."])
    if end < settings.series_start:
        raise StatisticsRefused(
            [f"The period must end on or after the series start, {settings.series_start:%-d %B %Y}."]
        )
    if ctx.on_postgresql:
        ctx.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _REGISTER_LOCK})
    earlier = ctx.session.scalars(select(StatisticsRelease).order_by(StatisticsRelease.number)).all()
    if earlier and end < max(r.period_end for r in earlier):
        latest = max(r.period_end for r in earlier)
        raise StatisticsRefused(
            [
                f"The series is cumulative: a new release must end on or after {latest:%-d %B %Y}, where the last one ends."
            ]
        )
    number = (earlier[-1].number + 1) if earlier else 1
    document = build(count(ctx.session, settings.series_start, end, ctx.now()), settings, number, ctx.now())
    reasons = differencing(document, [json.loads(r.document) for r in earlier])
    if reasons:
        raise StatisticsRefused(
            [
                *reasons,
                "Publish later, when more claims have come in, or with a later period end.",
            ]
        )
    data = canonical(document)
    release = StatisticsRelease(
        number=number,
        published_at=ctx.now().replace(microsecond=0),
        period_start=settings.series_start,
        period_end=end,
        method=settings.method,
        document=data,
        sha256=sha256(data),
    )
    ctx.session.add(release)
    ctx.session.flush()
    append_admin_event(
        ctx,
        actor_id,
        "statistics_published",
        payload={"release": number, "sha256": release.sha256, "method": settings.method, "period_end": end.isoformat()},
    )
    return release


_REGISTER_LOCK = 7_304_221_907


def releases(session: Session) -> list[StatisticsRelease]:
    """The register, newest first, without the documents (loaded only if read)."""
    query = select(StatisticsRelease).options(defer(StatisticsRelease.document))
    return list(session.scalars(query.order_by(StatisticsRelease.number.desc())))


def release(session: Session, number: int | None = None) -> StatisticsRelease:
    """One release by its number, or the latest, its document loaded only if read. Raises NotFound."""
    query = select(StatisticsRelease).options(defer(StatisticsRelease.document))
    query = (
        query.where(StatisticsRelease.number == number)
        if number is not None
        else query.order_by(StatisticsRelease.number.desc())
    )
    found = session.scalars(query.limit(1)).first()
    if found is None:
        raise NotFound("No statistics have been published yet." if number is None else f"There is no release {number}.")
    return found


# A release never changes once published: its bytes, once read, are kept by number and SHA-256
# (a few of them), so serving a release reads one short row, not the document, from the database.
_PUBLISHED: dict[tuple[int, str], bytes] = {}
_PUBLISHED_KEPT = 16


def published_bytes(release: StatisticsRelease) -> bytes:
    """The release's document as stored (``verify`` reads the database itself, never this copy)."""
    key = (release.number, release.sha256)
    document = _PUBLISHED.get(key)
    if document is None:
        document = release.document
        if len(_PUBLISHED) >= _PUBLISHED_KEPT:
            _PUBLISHED.pop(next(iter(_PUBLISHED)), None)
        _PUBLISHED[key] = document
    return document


def verify(session: Session) -> list[str]:
    """Every release whose stored bytes no longer match their hash, or whose number or period in
    the document differs from the register's: empty when the register is intact."""
    problems = []
    for stored in session.scalars(select(StatisticsRelease).order_by(StatisticsRelease.number)):
        if sha256(stored.document) != stored.sha256:
            problems.append(f"Release {stored.number}: its document does not match its SHA-256.")
            continue
        document = json.loads(stored.document)
        if document["release"] != stored.number or document["period"]["end"] != stored.period_end.isoformat():
            problems.append(f"Release {stored.number}: the document's number or period differs from the register.")
    return problems
