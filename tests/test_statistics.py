"""Published statistics (DESIGN 7), checked the way a reader of the register would check them.

The counts are compared with a plain tally of the claims written here (no SQL, no code from the
service); the protected tables with an attacker who knows every published number and solves for
the hidden ones exactly; two releases with a brute force over every true count each published
number allows; the noisy release with OpenDP itself and with a few hundred runs of the mechanism.
Every database test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
import json
import math
import random
import re
import secrets
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from functools import cache
from typing import Any

import opendp.prelude as dp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from guarantee.clock import UK, FixedClock
from guarantee.models import AdminEvent, Claim, Officer, Regulation, StatisticsRelease
from guarantee.services import audit
from guarantee.services.calendar import working_days_between
from guarantee.services.casework import add_note, assign
from guarantee.services.claims import fire, submit_claim
from guarantee.services.context import ServiceContext
from guarantee.statistics import counting, privacy, tables
from guarantee.statistics.counting import OUTCOME_LABELS, UNMATCHED, Counts, count
from guarantee.statistics.disclosure import SUPPRESSED, Published, Rules, determined
from guarantee.statistics.document import (
    DIFFERENTIAL_PRIVACY,
    DISCLOSURE_CONTROL,
    Settings,
    as_csv,
    build,
    canonical,
    settings_from,
    sha256,
)
from guarantee.statistics.releases import StatisticsRefused, differencing, publish, releases, verify
from tests.conftest import START
from tests.helpers import Cast, make_officer, submission
from tests.support.statements import recorded
from workflows.vocabulary import BARRIER_CATEGORIES, REGIONS, RESOLUTION_OUTCOMES, SECTORS, label, nation_of

SERIES_START = date(2026, 1, 1)
COUNTED_AT = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # after every decision the tests make
CATALOGUE = ("Food premises registration", "Early years staffing ratios", "Street trading licence")
DEFAULT = Settings()
RULES = (Rules(), Rules(threshold=5, base=3), Rules(threshold=10, base=10, dominance_below=30))

# Where a claim can stand (its state and recorded outcome), and the column of "Claims by outcome"
# a reader expects to find it in.
STANDING: tuple[tuple[str, str | None, str], ...] = (
    ("submitted", None, "being_considered"),
    ("under_review", None, "being_considered"),
    ("awaiting_information", None, "being_considered"),
    ("upheld", None, "upheld"),
    ("not_upheld", None, "not_upheld"),
    ("appealed", None, "under_appeal"),
    *(("resolved", outcome, "upheld") for outcome in RESOLUTION_OUTCOMES),
    ("resolved", "not_upheld", "not_upheld"),
    ("resolved", "appeal_dismissed", "not_upheld"),
    ("closed", "declined", "declined"),
    ("withdrawn", "withdrawn", "withdrawn_or_lapsed"),
    ("lapsed", "lapsed", "withdrawn_or_lapsed"),
)
OUTCOME_COLUMNS = (
    "being_considered",
    "upheld",
    "not_upheld",
    "under_appeal",
    "declined",
    "withdrawn_or_lapsed",
)
CROSS_DIMENSIONS = {"category_by_outcome": ("category", "outcome"), "category_by_region": ("category", "region")}
DECIDED = ("upheld", "not_upheld", "under_appeal")  # decided on the merits: what the share upheld is of
CONSIDERED, UPHELD, NOT_UPHELD = STANDING[0], STANDING[3], STANDING[4]
WITHDRAWN = ("withdrawn", "withdrawn", "withdrawn_or_lapsed")
LIST_DIMENSIONS = {
    "by_category": "category",
    "by_regulation": "regulation",
    "by_sector": "sector",
    "by_region": "region",
    "by_outcome": "outcome",
    "by_quarter": "quarter",
}


# --- claims, made quickly, and the reader's own tally ---------------------------------------


@dataclass(frozen=True)
class Made:
    """One claim as the statistics see it."""

    submitted_at: datetime
    standing: tuple[str, str | None, str] = STANDING[0]
    barrier_category: str = "other"
    category: str | None = None
    region: str = "london"
    sector: str = "health"
    regulation: int | None = None  # its place in CATALOGUE; None: not matched yet
    decided_after: timedelta | None = None
    resolved_after: timedelta | None = None


def uk_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UK).astimezone(UTC)


def uk_day(at: datetime) -> date:
    return at.astimezone(UK).date()


def quarter_of(at: datetime) -> str:
    day = uk_day(at)
    return f"{day.year} Q{(day.month - 1) // 3 + 1}"


def keys_of(made: Made, regulation_ids: Sequence[int]) -> dict[str, str]:
    return {
        "category": made.category or made.barrier_category,
        "regulation": UNMATCHED if made.regulation is None else str(regulation_ids[made.regulation]),
        "sector": made.sector,
        "region": made.region,
        "outcome": made.standing[2],
        "quarter": quarter_of(made.submitted_at),
    }


def tally(claims: Sequence[Made], end: date, regulation_ids: Sequence[int] = (1, 2, 3)) -> Counts:
    """What a reader with the claims in front of them would count, one by one."""
    quarters = [f"{end.year} Q{q}" for q in range(1, (end.month - 1) // 3 + 2)]  # the series starts in 2026 Q1
    public = {
        "category": list(BARRIER_CATEGORIES),
        "regulation": [str(i) for i in regulation_ids] + [UNMATCHED],
        "sector": list(SECTORS),
        "region": list(REGIONS),
        "outcome": list(OUTCOME_COLUMNS),
        "quarter": quarters,
    }
    inside = [m for m in claims if SERIES_START <= uk_day(m.submitted_at) <= end]
    keys = [keys_of(m, regulation_ids) for m in inside]
    counts = Counts(SERIES_START, end)
    counts.lists = {d: {k: sum(1 for c in keys if c[d] == k) for k in listed} for d, listed in public.items()}
    counts.crosses = {
        name: dict(Counter((c[rows], c[cols]) for c in keys)) for name, (rows, cols) in CROSS_DIMENSIONS.items()
    }
    counts.labels = {
        "category": {k: label(k) for k in BARRIER_CATEGORIES},
        "regulation": {
            **{str(i): title for i, title in zip(regulation_ids, CATALOGUE, strict=True)},
            UNMATCHED: "Not yet matched to a catalogue entry",
        },
        "sector": {k: label(k) for k in SECTORS},
        "region": {k: label(k) for k in REGIONS},
        "outcome": dict(OUTCOME_LABELS),
        "quarter": {q: q for q in quarters},
    }

    def working_days(m: Made, after: timedelta) -> int:
        return working_days_between(uk_day(m.submitted_at), uk_day(m.submitted_at + after), nation_of(m.region))

    counts.days = {
        "decision": sorted(working_days(m, m.decided_after) for m in inside if m.decided_after is not None),
        "resolution": sorted(
            working_days(m, m.resolved_after)
            for m in inside
            if m.resolved_after is not None and m.standing[1] not in ("withdrawn", "lapsed")
        ),
    }
    return counts


_numbers = itertools.count(1)


def catalogue(session: Session) -> list[int]:
    """The public catalogue: three live entries and one merged away (never listed)."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    entries = [Regulation(title=title, category="other", created_at=at) for title in CATALOGUE]
    session.add_all(entries)
    session.flush()
    session.add(Regulation(title="A merged duplicate", category="other", merged_into_id=entries[0].id, created_at=at))
    session.flush()
    return [entry.id for entry in entries]


def insert_claims(session: Session, claims: Sequence[Made], regulation_ids: Sequence[int]) -> None:
    if not claims:
        return
    rows = []
    for m in claims:
        state, outcome, _ = m.standing
        rows.append(
            {
                "reference": f"CPG-2026-{500_000 + next(_numbers):06d}",
                "state": state,
                "outcome": outcome,
                "submitted_at": m.submitted_at,
                "updated_at": m.submitted_at,
                "group_name": "A group",
                "initiative_title": "An initiative",
                "initiative_description": "What the group does.",
                "sector": m.sector,
                "region": m.region,
                "barrier_regulation": "A rule",
                "barrier_imposed_by": "A body",
                "barrier_category": m.barrier_category,
                "barrier_how_it_blocks": "How it blocks.",
                "remedy_sought": "waiver",
                "consent_contact": False,
                "category": m.category,
                "regulation_id": None if m.regulation is None else regulation_ids[m.regulation],
                "decided_at": None if m.decided_after is None else m.submitted_at + m.decided_after,
                "resolved_at": None if m.resolved_after is None else m.submitted_at + m.resolved_after,
            }
        )
    session.execute(insert(Claim), rows)


@contextmanager
def rolled_back(session: Session) -> Iterator[None]:
    """One hypothesis example's claims, gone before the next."""
    savepoint = session.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()


PERIOD_ENDS = (date(2026, 9, 30), date(2026, 8, 14), date(2026, 3, 29))


def edges(end: date) -> list[datetime]:
    """Instants either side of UK midnight where a claim changes quarter or leaves the period,
    in winter and summer time, and an hour either side (where UTC and UK days differ)."""
    days = (SERIES_START, date(2026, 4, 1), date(2026, 7, 1), date(2026, 10, 1), end + timedelta(days=1))
    steps = (timedelta(microseconds=-1), timedelta(0), timedelta(hours=-1), timedelta(hours=1))
    return [uk_midnight(day) + step for day in days for step in steps]


@st.composite
def claim_sets(draw: st.DrawFn, groups: int = 8, copies: int = 14) -> tuple[date, list[Made]]:
    """A period end and claims in a few categories and regions, in clusters of equal claims, so
    that cells of every size turn up: empty, small, at the threshold and large."""
    end = draw(st.sampled_from(PERIOD_ENDS))
    categories = draw(st.lists(st.sampled_from(BARRIER_CATEGORIES), min_size=1, max_size=4, unique=True))
    regions = draw(st.lists(st.sampled_from(REGIONS), min_size=1, max_size=3, unique=True))
    when = st.one_of(
        st.sampled_from(edges(end)),
        st.datetimes(min_value=datetime(2025, 12, 20), max_value=datetime(2026, 10, 10), timezones=st.just(UTC)),
    )
    later = st.none() | st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=90))
    one = st.builds(
        Made,
        submitted_at=when,
        standing=st.sampled_from(STANDING),
        barrier_category=st.sampled_from(categories),
        category=st.none() | st.sampled_from(categories),
        region=st.sampled_from(regions),
        sector=st.sampled_from(SECTORS[:3]),
        regulation=st.none() | st.integers(0, len(CATALOGUE) - 1),
        decided_after=later,
        resolved_after=later,
    )
    # A claim is resolved only when it has an outcome (the workflow sets both together).
    one = one.map(lambda m: m if m.standing[1] else replace(m, resolved_after=None))
    drawn = draw(st.lists(st.tuples(one, st.integers(1, copies)), max_size=groups))
    return end, [m for m, k in drawn for _ in range(k)]


# --- what a reader can work out from a release ------------------------------------------------

Quantity = tuple[str, ...]  # one number, named the same in every table that publishes it


def published(document: Mapping[str, Any]) -> tuple[dict[Quantity, list[Published]], list[list[Quantity]]]:
    """Every count a release publishes and the sums that tie them together (in each sum, the first
    is the total of the others). A cross-table's row and column totals are the cells of the list
    table over the same dimension, and every table has the same grand total: those share a name."""
    values: dict[Quantity, list[Published]] = {}
    sums: list[list[Quantity]] = []

    def seen(quantity: Quantity, value: Published) -> Quantity:
        values.setdefault(quantity, []).append(value)
        return quantity

    for table in document["tables"]:
        if table["kind"] == "counts":
            shared = table["id"] in ("by_category", "by_outcome", "by_region")
            prefix = table["dimension"] if shared else table["id"]
            cells = [seen((prefix, row["key"]), row["count"]) for row in table["rows"]]
            sums.append([seen(("all",), table["total"]), *cells])
        elif table["kind"] == "cross":
            columns = [c["key"] for c in table["columns"]]
            for row in table["rows"]:
                cells = [seen((table["id"], row["key"], c), v) for c, v in zip(columns, row["counts"], strict=True)]
                sums.append([seen((table["row_dimension"], row["key"]), row["total"]), *cells])
            for c, v in zip(columns, table["column_totals"], strict=True):
                cells = [(table["id"], row["key"], c) for row in table["rows"]]
                sums.append([seen((table["column_dimension"], c), v), *cells])
            seen(("all",), table["total"])
        elif table["kind"] == "share":
            # The claims decided: the upheld, not upheld and under appeal claims of a category
            # (or of all claims) added up.
            for row in table["rows"]:
                if row["key"] == "all":
                    parts = [("outcome", g) for g in DECIDED]
                else:
                    parts = [("category_by_outcome", row["key"], g) for g in DECIDED]
                sums.append([seen(("share", row["key"]), row["decided"]), *parts])
    return values, sums


def true_value(quantity: Quantity, counts: Counts) -> int:
    if quantity[0] == "share":
        cross = counts.crosses["category_by_outcome"]
        return sum(
            n for (category, outcome), n in cross.items() if outcome in DECIDED and quantity[1] in ("all", category)
        )
    if quantity == ("all",):
        return sum(counts.lists["category"].values())
    if len(quantity) == 3:
        return counts.crosses[quantity[0]].get((quantity[1], quantity[2]), 0)
    dimension = LIST_DIMENSIONS.get(quantity[0], quantity[0])
    return counts.lists[dimension][quantity[1]]


def solved(equations: list[dict[Quantity, int]]) -> set[Quantity]:
    """The unknowns whose exact value follows from the equations: the pivots of the reduced row
    echelon form (over the rationals) that stand alone in their row."""
    basis: list[tuple[Quantity, dict[Quantity, Fraction]]] = []
    for equation in equations:
        row = {q: Fraction(c) for q, c in equation.items() if c}
        for pivot, base in basis:
            if pivot in row:
                factor = row[pivot]
                for q, c in base.items():
                    row[q] = row.get(q, Fraction(0)) - factor * c
                row = {q: c for q, c in row.items() if c}
        if not row:
            continue
        pivot = min(row)
        row = {q: c / row[pivot] for q, c in row.items()}
        for i, (other, base) in enumerate(basis):
            if pivot in base:
                factor = base[pivot]
                merged = dict(base)
                for q, c in row.items():
                    merged[q] = merged.get(q, Fraction(0)) - factor * c
                basis[i] = (other, {q: c for q, c in merged.items() if c})
        basis.append((pivot, row))
    return {pivot for pivot, row in basis if len(row) == 1}


def recoverable(document: Mapping[str, Any]) -> set[Quantity]:
    """The hidden numbers an attacker who takes every shown number as exact can work out, across
    all the count tables of the release at once."""
    values, sums = published(document)
    hidden = {q for q, shown in values.items() if SUPPRESSED in shown}
    equations = [{q: (-1 if i == 0 else 1) for i, q in enumerate(terms) if q in hidden} for terms in sums]
    return solved([e for e in equations if e])


def determined_in(table: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``disclosure.determined`` on one table as published: its hidden cells that follow from
    its shown totals (a list table is one column whose only total is the grand total)."""
    if table["kind"] == "counts":
        rows = [row["key"] for row in table["rows"]]
        cells = {(row["key"], "n"): row["count"] for row in table["rows"]}
        hidden_totals: set[tuple[str, Any]] = {("row", r) for r in rows}
        if table["total"] == SUPPRESSED:
            hidden_totals |= {("col", "n"), ("grand", None)}
        columns = ["n"]
    else:
        rows, columns = [row["key"] for row in table["rows"]], [c["key"] for c in table["columns"]]
        cells = {(row["key"], c): v for row in table["rows"] for c, v in zip(columns, row["counts"], strict=True)}
        hidden_totals = {("row", row["key"]) for row in table["rows"] if row["total"] == SUPPRESSED}
        hidden_totals |= {("col", c) for c, v in zip(columns, table["column_totals"], strict=True) if v == SUPPRESSED}
        if table["total"] == SUPPRESSED:
            hidden_totals.add(("grand", None))
    hidden = {cell for cell, value in cells.items() if value == SUPPRESSED}
    return determined(dict.fromkeys(cells, 0), rows, columns, hidden, hidden_totals)


def assert_protected(document: Mapping[str, Any], counts: Counts, rules: Rules) -> None:
    values, sums = published(document)
    for quantity, shown in values.items():
        assert len(set(shown)) == 1, f"{quantity} is shown differently in different tables: {shown}"
        value, truth = shown[0], true_value(quantity, counts)
        if 0 < truth < rules.threshold:
            assert value == SUPPRESSED, f"{quantity} = {truth} is below the threshold but shown as {value}"
        if quantity[0] == "share":
            continue  # the claims decided: the sum of the counts shown for them, checked below
        if value != SUPPRESSED:
            assert isinstance(value, int) and value % rules.base == 0, f"{quantity} is shown as {value}"
            assert abs(value - truth) * 2 <= rules.base, f"{quantity} = {truth} is shown as {value}"
    for total, *parts in sums:
        if total[0] == "share" and values[total][0] != SUPPRESSED:
            # Worked out from the published counts, so it says nothing the tables do not.
            assert values[total][0] == sum(values[p][0] for p in parts), f"{total} is not the sum of {parts}"
    for table in document["tables"]:
        if table["kind"] in ("counts", "cross"):
            assert determined_in(table) == [], f"in {table['id']} a hidden count follows from the totals"
    # A share is shown only where the counts it is worked out from are: its per cent and interval
    # would otherwise give the hidden ones away.
    for row in _table(document, "share_upheld")["rows"]:
        if row["percent"] not in (None, SUPPRESSED):
            parts = [("outcome", g) if row["key"] == "all" else ("category_by_outcome", row["key"], g) for g in DECIDED]
            assert all(SUPPRESSED not in values[part] for part in parts), f"the share upheld of {row['key']}"
    # Across the tables, no small count follows, nor any hidden cell of a cross-table. (A total
    # that is not small may: a table hides the totals another had to hide, even where its own
    # cells add up to them. So may a hidden number decided: it adds up counts of the other tables,
    # a sum those show anyway.)
    found = {
        q
        for q in recoverable(document)
        if q[0] != "share" and (len(q) == 3 or 0 < true_value(q, counts) < rules.threshold)
    }
    assert found == set(), f"{sorted(found)} follow from the tables together"


# --- 1. counting -------------------------------------------------------------------------------


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=claim_sets())
def test_every_table_counts_what_a_plain_tally_of_the_claims_counts(session: Session, drawn: Any) -> None:
    end, claims = drawn
    with rolled_back(session):
        regulation_ids = catalogue(session)
        insert_claims(session, claims, regulation_ids)
        counts = count(session, SERIES_START, end, COUNTED_AT)
    expected = tally(claims, end, regulation_ids)
    for dimension, listed in expected.lists.items():
        assert list(counts.lists[dimension].items()) == list(listed.items()), f"claims by {dimension}"
    assert counts.crosses == expected.crosses
    assert counts.labels == expected.labels
    assert {k: sorted(v) for k, v in counts.days.items()} == expected.days
    # ... and what is published from them is protected.
    document = build(counts, DEFAULT, 1, START)
    assert_protected(document, expected, DEFAULT.rules)


def test_counting_reads_the_claims_once_per_table(session: Session) -> None:
    regulation_ids = catalogue(session)
    day = uk_midnight(date(2026, 5, 5)) + timedelta(hours=10)
    insert_claims(session, [Made(day, regulation=0, decided_after=timedelta(days=9))] * 12, regulation_ids)
    with recorded(session.get_bind().engine) as statements:
        count(session, SERIES_START, date(2026, 9, 30), COUNTED_AT)
    on_claims = [sql for sql, _ in statements if re.search(r"\bclaims\b", sql)]
    assert 0 < len(on_claims) <= len(tables.LIST_TABLES) + len(tables.CROSS_TABLES) + 1


# --- 1. protection -----------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(drawn=claim_sets(groups=14, copies=25), rules=st.sampled_from(RULES))
def test_no_published_count_is_small_unrounded_or_recoverable(drawn: Any, rules: Rules) -> None:
    end, claims = drawn
    counts = tally(claims, end)
    document = build(counts, Settings(rules=rules), 1, START)
    assert_protected(document, counts, rules)


def _claims(category: str, standing: tuple[str, str | None, str], n: int) -> list[Made]:
    return [Made(uk_midnight(date(2026, 5, 4)), barrier_category=category, standing=standing)] * n


APPEALED = STANDING[5]


def test_a_count_hidden_in_one_table_cannot_be_worked_out_from_another() -> None:
    # 5 under appeal: hidden in "Claims by outcome", with the 15 being considered beside it. Were
    # those 15 shown as the cells of "Barrier category by outcome", 80 - 25 - 35 - 15 would give
    # the 5 away.
    data, staff = "data_protection_and_information_sharing", "professional_standards_and_qualifications"
    claims = _claims(data, CONSIDERED, 15) + _claims(data, UPHELD, 15) + _claims(data, APPEALED, 3)
    claims += _claims(data, WITHDRAWN, 27) + _claims(staff, UPHELD, 10) + _claims(staff, APPEALED, 2)
    claims += _claims(staff, WITHDRAWN, 8)
    counts = tally(claims, date(2026, 10, 31))
    document = build(counts, DEFAULT, 1, START)
    assert [row["count"] for row in _table(document, "by_outcome")["rows"]] == [SUPPRESSED, 25, 0, SUPPRESSED, 0, 35]
    assert _row(document, "category_by_outcome", data)["counts"][0] == SUPPRESSED
    assert_protected(document, counts, DEFAULT.rules)


def test_the_share_upheld_is_hidden_where_the_counts_it_comes_from_are() -> None:
    # Food hygiene: 12 upheld, 15 not upheld, 3 under appeal. "40% of 30 decided" would give away
    # the 12 and, with the 15 shown, the 3 under appeal.
    claims = _claims("food_hygiene", UPHELD, 12) + _claims("food_hygiene", NOT_UPHELD, 15)
    claims += _claims("food_hygiene", APPEALED, 3)
    for standing in (UPHELD, NOT_UPHELD, CONSIDERED):
        claims += _claims("planning_and_premises", standing, 15)
    counts = tally(claims, date(2026, 10, 31))
    document = build(counts, DEFAULT, 1, START)
    assert _row(document, "category_by_outcome", "food_hygiene")["counts"][3] == SUPPRESSED
    food = _row(document, "share_upheld", "food_hygiene")
    assert [food[k] for k in ("decided", "percent", "low", "high")] == [SUPPRESSED] * 4
    assert_protected(document, counts, DEFAULT.rules)


# --- 1. differencing two releases --------------------------------------------------------------

LIMIT = 2_000  # more claims than any test makes


def shown_for(n: int, rules: Rules) -> Published:
    """What the rules show for a true count, worked out afresh: small ones hidden, the rest
    rounded to the nearest multiple of the base, halves up."""
    if 0 < n < rules.threshold:
        return SUPPRESSED
    return int(Fraction(n, rules.base) + Fraction(1, 2)) * rules.base


@cache
def could_be(value: Published, rules: Rules) -> frozenset[int]:
    """Every true count that is shown as ``value``."""
    return frozenset(n for n in range(LIMIT) if shown_for(n, rules) == value)


def numbers(document: Mapping[str, Any]) -> dict[tuple[str, str, str], Published]:
    """Every count of every table, by where it stands."""
    found: dict[tuple[str, str, str], Published] = {}
    for table in document["tables"]:
        if table["kind"] == "counts":
            found |= {(table["id"], row["key"], ""): row["count"] for row in table["rows"]}
            found[(table["id"], "Total", "")] = table["total"]
        elif table["kind"] == "cross":
            columns = [c["key"] for c in table["columns"]]
            for row in table["rows"]:
                found |= {(table["id"], row["key"], c): v for c, v in zip(columns, row["counts"], strict=True)}
                found[(table["id"], row["key"], "Total")] = row["total"]
            found |= {(table["id"], "Total", c): v for c, v in zip(columns, table["column_totals"], strict=True)}
            found[(table["id"], "Total", "Total")] = table["total"]
        else:  # how many claims a share or a time is worked out from
            measure = "decided" if table["kind"] == "share" else "claims"
            found |= {(table["id"], row["key"], measure): row[measure] for row in table["rows"]}
    return found


def narrowed(new: Mapping[str, Any], old: Mapping[str, Any], rules: Rules) -> list[tuple[str, str, str]]:
    """The counts whose change between two releases is pinned down to fewer than threshold - 1
    values, all from 1 to threshold - 1 (or all from -(threshold - 1) to -1)."""
    before, small = numbers(old), set(range(1, rules.threshold))
    found = []
    for where, value in numbers(new).items():
        if where not in before:
            continue
        changes = {a - b for a in could_be(value, rules) for b in could_be(before[where], rules)}
        if (changes <= small or {-d for d in changes} <= small) and len(changes) < rules.threshold - 1:
            found.append(where)
    return found


@st.composite
def two_releases(draw: st.DrawFn) -> tuple[list[Made], list[Made]]:
    """The claims of a first release, and of a second: the same claims, some with a new outcome,
    and some more."""
    _, first = draw(claim_sets(groups=10, copies=20))
    changed = [
        replace(m, standing=draw(st.sampled_from(STANDING))) if draw(st.integers(0, 3)) == 0 else m for m in first
    ]
    _, more = draw(claim_sets(groups=4, copies=12))
    return first, changed + more


@settings(max_examples=40, deadline=None)
@given(drawn=two_releases(), rules=st.sampled_from(RULES[:2]))
def test_releases_that_pass_the_check_give_nothing_small_away_by_difference(drawn: Any, rules: Rules) -> None:
    first, second = drawn
    end = date(2026, 10, 31)
    settings_ = Settings(rules=rules)
    old = build(tally(first, end), settings_, 1, START)
    new = build(tally(second, end), settings_, 2, START)
    reasons = differencing(new, [old])
    leaks = narrowed(new, old, rules)
    assert len(reasons) == len(leaks), (reasons, leaks)


def test_publish_refuses_a_release_whose_difference_from_the_last_gives_a_small_number_away(
    ctx: ServiceContext, session: Session
) -> None:
    regulation_ids = catalogue(session)
    may = uk_midnight(date(2026, 5, 4)) + timedelta(hours=9)
    planning = Made(may, barrier_category="planning_and_premises")
    food = [Made(may, barrier_category="food_hygiene", standing=(CONSIDERED, WITHDRAWN)[i % 2]) for i in range(10)]
    insert_claims(session, [planning] * 30 + food, regulation_ids)
    first = publish(ctx, None, DEFAULT, date(2026, 6, 30))
    assert _row(json.loads(first.document), "by_category", "food_hygiene")["count"] == 10

    july = uk_midnight(date(2026, 7, 6)) + timedelta(hours=9)
    insert_claims(session, [Made(july, barrier_category="food_hygiene")] * 5, regulation_ids)
    with pytest.raises(StatisticsRefused) as refused:
        publish(ctx, None, DEFAULT, date(2026, 7, 31))
    assert (
        "In “Claims by barrier category”, “Food hygiene” would show 15 against 10 in release 1, which tells "
        "anyone that between 1 and 7 more claims are counted there now."
    ) in refused.value.reasons
    assert refused.value.reasons[-1] == "Publish later, when more claims have come in, or with a later period end."
    assert [r.number for r in releases(session)] == [1]

    # Ten more, and the change (10 to 25) no longer pins anything down.
    insert_claims(session, [Made(july, barrier_category="food_hygiene")] * 10, regulation_ids)
    second = publish(ctx, None, DEFAULT, date(2026, 7, 31))
    assert _row(json.loads(second.document), "by_category", "food_hygiene")["count"] == 25


def _table(document: Mapping[str, Any], table_id: str) -> dict[str, Any]:
    return next(t for t in document["tables"] if t["id"] == table_id)


def _row(document: Mapping[str, Any], table_id: str, key: str) -> dict[str, Any]:
    return next(r for r in _table(document, table_id)["rows"] if r["key"] == key)


# --- 2. reproducible, and tamper-evident --------------------------------------------------------


def seeded(seed: int = 20261123) -> list[Made]:
    """Two hundred claims, the same every time."""
    rng = random.Random(seed)
    made = []
    for _ in range(200):
        submitted = uk_midnight(SERIES_START) + timedelta(minutes=rng.randrange(0, 300 * 24 * 60))
        standing = rng.choice(STANDING)
        made.append(
            Made(
                submitted_at=submitted,
                standing=standing,
                barrier_category=rng.choice(BARRIER_CATEGORIES[:5]),
                category=rng.choice([None, *BARRIER_CATEGORIES[:3]]),
                region=rng.choice(REGIONS[5:]),
                sector=rng.choice(SECTORS[:4]),
                regulation=rng.choice([None, 0, 1, 2]),
                decided_after=rng.choice([None, timedelta(days=rng.randrange(0, 60))]),
                resolved_after=timedelta(days=rng.randrange(10, 90)) if standing[1] else None,
            )
        )
    return made


def test_a_release_is_byte_for_byte_the_same_when_built_again_on_either_database(
    session: Session, clock: FixedClock
) -> None:
    regulation_ids = catalogue(session)
    claims = seeded()
    insert_claims(session, claims, regulation_ids)
    end = date(2026, 10, 31)
    built = [canonical(build(count(session, SERIES_START, end, COUNTED_AT), DEFAULT, 3, clock.now())) for _ in "ab"]
    assert built[0] == built[1]
    # The same bytes as a release made from a plain tally of the claims, whichever the database.
    assert built[0] == canonical(build(tally(claims, end, regulation_ids), DEFAULT, 3, clock.now()))


def test_publishing_reports_its_progress_once_for_each_scan_of_the_claims(
    ctx: ServiceContext, session: Session
) -> None:
    insert_claims(session, seeded()[:40], catalogue(session))
    steps: list[int] = []
    publish(ctx, None, DEFAULT, progress=steps.append)
    assert steps == [1] * counting.scans()
    assert counting.scans() == 6, "two cross-tables, the regulation, sector and quarter lists, and the times"


def test_the_register_detects_a_tampered_release_and_postgresql_refuses_to_change_one(
    ctx: ServiceContext, session: Session, backend: str
) -> None:
    insert_claims(session, seeded()[:40], catalogue(session))
    release = publish(ctx, None, DEFAULT)
    assert verify(session) == []
    assert release.sha256 == sha256(release.document)

    if backend == "postgresql":
        for statement in (
            update(StatisticsRelease).values(document=b"{}"),
            text("DELETE FROM statistics_releases"),
        ):
            with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
                session.execute(statement)
        session.execute(text("ALTER TABLE statistics_releases DISABLE TRIGGER USER"))  # an attacker with full rights
    tampered = release.document.replace(b'"release": 1', b'"release": 7')
    session.execute(update(StatisticsRelease).values(document=tampered))
    assert verify(session) == ["Release 1: its document does not match its SHA-256."]
    # Changing the hash too is caught by the register's own number.
    session.execute(update(StatisticsRelease).values(sha256=sha256(tampered)))
    assert verify(session) == ["Release 1: the document's number or period differs from the register."]
    if backend == "postgresql":
        session.execute(text("ALTER TABLE statistics_releases ENABLE TRIGGER USER"))


# --- 3. nothing but numbers and public words -----------------------------------------------------


def test_no_words_contact_details_references_or_officers_reach_a_release(
    ctx: ServiceContext, session: Session, clock: FixedClock
) -> None:
    def marker(what: str) -> str:
        return f"zq{what}{secrets.token_hex(4)}"

    markers: list[str] = []

    def mark(what: str) -> str:
        markers.append(marker(what))
        return markers[-1]

    cast = Cast(ctx)
    for actor in (cast.triage, cast.reviewer, cast.appeal_panel, cast.admin):
        officer = session.get(Officer, actor.officer_id)
        assert officer is not None
        officer.name, officer.email = f"Officer {mark('name')}", f"{mark('email')}@council.example"
    clock.set(datetime(2026, 10, 5, 10, tzinfo=UK))
    references = []
    for i in range(3):
        phone = f"01632 960 {secrets.randbelow(1000):03d}"
        markers.append(phone)
        data = submission(
            group={
                "name": mark("group"),
                "contact_name": mark("contact"),
                "email": f"{mark('mail')}@example.org",
                "phone": phone,
            },
            initiative={"title": mark("title"), "description": mark("description")},
            barrier={
                "regulation": mark("regulation"),
                "regulation_reference": mark("reference"),
                "imposed_by": mark("imposed"),
                "how_it_blocks": mark("blocks"),
                "remedy_details": mark("remedy"),
            },
        )
        references.append(submit_claim(ctx, data).reference)
        fire(
            ctx,
            references[i],
            "accept",
            cast.triage,
            {"category": "food_hygiene", "regulation": {"title": CATALOGUE[0]}, "assignee": cast.reviewer.officer_id}
            if i == 0
            else {"category": "food_hygiene", "regulation": session.scalar(select(Regulation.id))},
        )
    assign(ctx, references[1], cast.reviewer.officer_id, cast.admin)
    add_note(ctx, references[1], cast.reviewer, mark("note"))
    fire(ctx, references[0], "request_information", cast.reviewer, {"question": mark("question")})
    fire(ctx, references[0], "provide_information", cast.for_role("group", references[0]), {"answer": mark("answer")})
    fire(ctx, references[0], "uphold", cast.reviewer, {"reasons": mark("reasons"), "remedy": "waiver"})
    fire(
        ctx,
        references[0],
        "record_resolution",
        cast.reviewer,
        {"outcome": "waiver_granted", "summary": mark("summary")},
    )
    fire(
        ctx,
        references[1],
        "not_uphold",
        cast.reviewer,
        {"reasons": mark("reasons"), "reason_code": "outside_council_powers"},
    )
    fire(ctx, references[1], "appeal", cast.for_role("group", references[1]), {"grounds": mark("grounds")})
    fire(ctx, references[2], "withdraw", cast.for_role("group", references[2]), {"reason": mark("withdraw")})

    clock.set(START)
    release = publish(ctx, cast.admin.officer_id, DEFAULT)
    document = json.loads(release.document)
    log = session.scalars(select(AdminEvent).where(AdminEvent.action == "statistics_published")).one()
    artefacts = {
        "the release": release.document.decode(),
        "the CSV": as_csv(document),
        "the register": " ".join(str(getattr(release, c.key)) for c in StatisticsRelease.__table__.columns),
        "the admin log": json.dumps(log.payload),
    }
    assert _row(document, "by_outcome", "upheld")["count"] == SUPPRESSED, "the claims are counted"
    assert CATALOGUE[0] in artefacts["the release"], "catalogue titles are public"
    for where, published_text in artefacts.items():
        for secret in [*markers, *references, "CPG-"]:
            assert secret.lower() not in published_text.lower(), f"{secret!r} is in {where}"


# --- 4. the release with noise ------------------------------------------------------------------


def _laplace_epsilon(scale: float) -> float:
    measurement = dp.m.make_laplace(dp.vector_domain(dp.atom_domain(T="i64")), dp.l1_distance(T="i64"), scale=scale)
    return float(measurement.map(1))


def some_counts(made: int = 40) -> Counts:
    may = uk_midnight(date(2026, 5, 5))
    return tally(seeded()[:made] + [Made(may, barrier_category="food_hygiene")] * 12, date(2026, 10, 31))


@pytest.mark.parametrize("epsilon", [0.5, 1.0])
def test_a_private_release_records_the_epsilon_opendp_gives_for_its_noise(epsilon: float) -> None:
    document = build(some_counts(), Settings(epsilon=epsilon), 1, START)
    rules = document["rules"]
    assert document["method"] == DIFFERENTIAL_PRIVACY
    assert rules["epsilon_per_table"] == _laplace_epsilon(rules["scale"])
    assert rules["epsilon_per_table"] <= epsilon
    assert rules["epsilon_total"] == pytest.approx(rules["epsilon_per_table"] * len(document["tables"]))
    assert f"epsilon {rules['epsilon_per_table']:g} for each table" in " ".join(document["notes"])


def test_private_settings_come_from_the_configuration() -> None:
    chosen = settings_from({"GUARANTEE_STATISTICS_EPSILON": "1.0"}, private=True)
    assert chosen.epsilon == 1.0 and chosen.method == DIFFERENTIAL_PRIVACY
    assert settings_from({}, private=True).epsilon == 0.5
    assert settings_from({}).method == DISCLOSURE_CONTROL


@pytest.mark.parametrize("made", [0, 40])
def test_private_counts_are_never_negative_and_every_table_adds_up(made: int) -> None:
    for _ in range(2):
        document = build(some_counts(made) if made else tally([], date(2026, 10, 31)), Settings(epsilon=0.5), 1, START)
        for table in document["tables"]:
            if table["kind"] == "counts":
                cells = [row["count"] for row in table["rows"]]
                assert sum(cells) == table["total"]
            else:
                assert table["kind"] == "cross", "no shares or times with noise"
                grid = [row["counts"] for row in table["rows"]]
                cells = [n for line in grid for n in line]
                assert [sum(line) for line in grid] == [row["total"] for row in table["rows"]]
                assert [sum(col) for col in zip(*grid, strict=True)] == table["column_totals"]
                assert sum(row["total"] for row in table["rows"]) == table["total"]
            assert all(isinstance(n, int) and n >= 0 for n in cells), table["id"]


RUNS = 300


def _binomial_cdf(k: int, n: int, p: float) -> float:
    return math.fsum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))


def _fewest_acceptable(runs: int, rate: float, alpha: float) -> int:
    """The fewest runs within the margin that a true rate of ``rate`` gives with probability
    above ``alpha``: fewer and the margins are too narrow (a one-sided binomial test)."""
    k = 0
    while _binomial_cdf(k, runs, rate) <= alpha:
        k += 1
    return k


def test_private_counts_fall_within_their_stated_margins_at_the_stated_rate() -> None:
    mechanism = privacy.Mechanism.for_epsilon(0.5)
    tables = {
        "small and empty": [0, 0, 3, 12, 40, 7, 25, 0, 1, 60, 15],
        "large": [50, 80, 120, 65, 90, 200, 75, 55, 140, 60, 100],
    }
    grid = [[30, 12, 0], [8, 25, 40]]
    within: Counter[tuple[str, ...]] = Counter()
    within_half: Counter[tuple[str, ...]] = Counter()

    def check(where: tuple[str, ...], error: int, margin: int) -> None:
        assert margin >= 0
        within[where] += abs(error) <= margin
        within_half[where] += abs(error) <= margin / 2

    for run in range(RUNS):
        for name, true in tables.items():
            fitted = privacy.fit(mechanism.measure(true))
            margin = privacy.cell_margin(mechanism.scale, fitted.shift)
            for i, (cell, truth) in enumerate(zip(fitted.cells, true, strict=True)):
                check((name, str(i)), cell - truth, margin)
            check((name, "total"), fitted.total - sum(true), privacy.sum_margin(mechanism.scale, len(true)))
        flat = [n for line in grid for n in line]
        fitted = privacy.fit(mechanism.measure(flat))
        cells = [fitted.cells[0:3], fitted.cells[3:6]]
        margin = privacy.cell_margin(mechanism.scale, fitted.shift)
        row_margins, col_margins = privacy.line_margins(cells, mechanism.scale, seed=f"run {run}")
        for i, (cell, truth) in enumerate(zip(fitted.cells, flat, strict=True)):
            check(("cross", str(i)), cell - truth, margin)
        for r in range(2):
            check(("cross", f"row {r}"), sum(cells[r]) - sum(grid[r]), row_margins[r])
        for c in range(3):
            check(
                ("cross", f"column {c}"), sum(line[c] for line in cells) - sum(line[c] for line in grid), col_margins[c]
            )
        check(("cross", "total"), fitted.total - sum(flat), privacy.sum_margin(mechanism.scale, len(flat)))

    # Each number is within its margin in at least 95% of releases: a binomial count over the runs,
    # with one chance in a million (across all the numbers) of failing when the margins are right.
    fewest = _fewest_acceptable(RUNS, 0.95, 1e-6 / len(within))
    assert fewest >= 0.85 * RUNS
    too_narrow = {where: n / RUNS for where, n in within.items() if n < fewest}
    assert too_narrow == {}
    # The check has teeth: margins half as wide would fail it, clearly.
    halved = {where: n / RUNS for where, n in within_half.items() if n < fewest}
    assert len(halved) >= len(tables["large"]), halved


# --- 5. publishing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period_end", "message"),
    [
        (START.date(), "The period must end before today (2 November 2026), so that it is complete."),
        (date(2027, 1, 31), "The period must end before today (2 November 2026), so that it is complete."),
        (date(2025, 12, 31), "The period must end on or after the series start, 1 January 2026."),
    ],
)
def test_publish_refuses_a_period_that_is_not_over_or_is_before_the_series(
    ctx: ServiceContext, session: Session, period_end: date, message: str
) -> None:
    with pytest.raises(StatisticsRefused) as refused:
        publish(ctx, None, DEFAULT, period_end)
    assert refused.value.reasons == [message]
    assert releases(session) == []


def test_publish_refuses_a_period_ending_before_the_last_release(ctx: ServiceContext, session: Session) -> None:
    publish(ctx, None, DEFAULT, date(2026, 10, 31))
    with pytest.raises(StatisticsRefused) as refused:
        publish(ctx, None, DEFAULT, date(2026, 9, 30))
    assert refused.value.reasons == [
        "The series is cumulative: a new release must end on or after 31 October 2026, where the last one ends."
    ]
    assert [r.number for r in releases(session)] == [1]


def test_releases_are_numbered_in_turn_and_each_is_in_the_admin_log(
    ctx: ServiceContext, session: Session, clock: FixedClock
) -> None:
    admin = make_officer(ctx, "admin")
    clock.set(datetime(2026, 10, 5, 10, tzinfo=UK))
    for _ in range(3):
        submit_claim(ctx, submission())
    clock.set(START)
    first = publish(ctx, admin.officer_id, DEFAULT, date(2026, 10, 31))
    second = publish(ctx, admin.officer_id, DEFAULT)
    assert [r.number for r in releases(session)] == [2, 1]
    assert (second.period_start, second.period_end) == (SERIES_START, date(2026, 11, 1))
    logged = session.scalars(
        select(AdminEvent).where(AdminEvent.action == "statistics_published").order_by(AdminEvent.seq)
    ).all()
    assert [(e.actor_id, e.payload) for e in logged] == [
        (
            admin.officer_id,
            {
                "release": r.number,
                "sha256": r.sha256,
                "method": "disclosure_control",
                "period_end": r.period_end.isoformat(),
            },
        )
        for r in (first, second)
    ]
    report = audit.verify(ctx)
    assert report.ok, report.problems
    assert verify(session) == []


def test_a_small_category_that_all_went_one_way_is_hidden_by_outcome(ctx: ServiceContext, session: Session) -> None:
    # 20 food hygiene claims, all upheld: anyone who knew of one would learn how the others went.
    may = uk_midnight(date(2026, 5, 4)) + timedelta(hours=9)
    claims = (
        [Made(may, barrier_category="food_hygiene", standing=UPHELD)] * 20
        + [Made(may, barrier_category="planning_and_premises", standing=s) for s in (UPHELD, NOT_UPHELD, CONSIDERED)]
        * 15
        + [Made(may, barrier_category="licensing_and_permits", standing=s) for s in (UPHELD, CONSIDERED)] * 15
    )
    regulation_ids = catalogue(session)
    insert_claims(session, claims, regulation_ids)
    document = json.loads(publish(ctx, None, DEFAULT).document)
    food = _row(document, "category_by_outcome", "food_hygiene")
    # Hidden in every column some claim is in, so not even which outcomes it did not have shows.
    # (Nobody is under appeal, declined or withdrawn: "Claims by outcome" shows that anyway.)
    assert food["counts"] == [SUPPRESSED, SUPPRESSED, SUPPRESSED, 0, 0, 0]
    assert _row(document, "share_upheld", "food_hygiene")["percent"] == SUPPRESSED
    assert _row(document, "by_category", "food_hygiene")["count"] == 20, "how many there were is no secret"
    assert_protected(document, tally(claims, date(2026, 11, 1), regulation_ids), DEFAULT.rules)


def _counts_deciding(upheld: int, rest: int, category: str = "food_hygiene") -> Counts:
    may = uk_midnight(date(2026, 5, 4))
    claims = [Made(may, barrier_category=category, standing=UPHELD)] * upheld
    claims += [Made(may, barrier_category=category, standing=NOT_UPHELD)] * rest
    return tally(claims, date(2026, 10, 31))


def test_the_share_upheld_is_worked_out_from_the_published_counts_with_its_wilson_interval() -> None:
    # 30 upheld of 50: 60%, and the 95% Wilson interval is 46.2% to 72.4%.
    counts = _counts_deciding(30, 20)
    share = tables.share_upheld(counts, {"all": (30, 20), "food_hygiene": (30, 20), "planning_and_premises": (0, 0)})
    everyone = next(r for r in share["rows"] if r["key"] == "all")
    assert everyone == {"key": "all", "label": "All claims", "decided": 50, "percent": 60, "low": 46, "high": 72}
    assert tables.wilson(30, 50) == pytest.approx((0.4618, 0.7239), abs=5e-5)
    food = next(r for r in share["rows"] if r["key"] == "food_hygiene")
    assert (food["decided"], food["percent"]) == (50, 60)
    planning = next(r for r in share["rows"] if r["key"] == "planning_and_premises")
    assert planning == {
        "key": "planning_and_premises",
        "label": "Planning and premises",
        "decided": 0,
        "percent": None,
        "low": None,
        "high": None,
    }
    # A line whose counts the tables hide is hidden.
    licensing = next(r for r in share["rows"] if r["key"] == "licensing_and_permits")
    assert licensing["decided"] == licensing["percent"] == licensing["low"] == SUPPRESSED


def test_the_share_upheld_is_no_more_exact_than_the_tables_it_comes_from() -> None:
    # 21 upheld of 42 and then 22 of 43 are both shown as 20 and 20 in the tables: the share must
    # not tell them apart (it would say which way the one new decision went).
    at = datetime(2026, 11, 1, tzinfo=UTC)
    built = [build(_counts_deciding(upheld, 21), Settings(), 1, at) for upheld in (21, 22)]
    shares = [next(t for t in b["tables"] if t["id"] == "share_upheld")["rows"][0] for b in built]
    assert shares[0] == shares[1]


@pytest.mark.parametrize(
    ("days", "q", "value"),
    [
        ([4, 9, 1, 7, 3, 10, 2, 8, 6, 5], 0.5, 5),  # nearest rank: the 5th of ten
        ([4, 9, 1, 7, 3, 10, 2, 8, 6, 5], 0.9, 9),  # the 9th of ten
        ([12, 3, 3, 40, 7, 7, 7, 21, 5, 9, 14, 30, 2], 0.5, 7),  # the 7th of thirteen
        ([12, 3, 3, 40, 7, 7, 7, 21, 5, 9, 14, 30, 2], 0.9, 30),  # the 12th of thirteen
    ],
)
def test_the_median_and_ninetieth_percentile_are_by_nearest_rank(days: list[int], q: float, value: int) -> None:
    assert tables.nearest_rank(days, q) == value


@pytest.mark.parametrize(
    ("days", "hide", "claims", "median", "p90"),
    [
        (list(range(1, 61)), (), 60, 30, 55),  # the 30th and the 54th of sixty, to the nearest 5
        (list(range(1, 50)), (), 50, SUPPRESSED, SUPPRESSED),  # 49: too few for times
        ([4, 9, 1, 7, 3, 10, 2, 8, 6], (), SUPPRESSED, SUPPRESSED, SUPPRESSED),  # nine: too few to count
        (list(range(1, 61)), ("decision",), SUPPRESSED, SUPPRESSED, SUPPRESSED),  # an outcome it sums is hidden
    ],
)
def test_working_days_are_shown_from_fifty_claims_rounded_and_hidden_with_the_outcomes_they_sum(
    days: list[int], hide: tuple[str, ...], claims: Published, median: Published, p90: Published
) -> None:
    counts = tally([], date(2026, 10, 31))
    counts.days = {"decision": days, "resolution": []}
    rows = tables.working_days(counts, Rules(), hide)["rows"]
    assert rows[0] == {
        "key": "decision",
        "label": "From submission to a decision",
        "claims": claims,
        "median": median,
        "p90": p90,
    }
    assert rows[1]["claims"] == 0 and rows[1]["median"] is None


def test_working_days_skip_the_bank_holidays_of_the_claims_nation(session: Session) -> None:
    # Friday 27 November to Tuesday 1 December 2026: Monday 30 November is St Andrew's Day, a bank
    # holiday in Scotland only.
    friday = uk_midnight(date(2026, 11, 27)) + timedelta(hours=10)
    insert_claims(
        session,
        [Made(friday, region=region, decided_after=timedelta(days=4)) for region in ("scotland", "london")],
        catalogue(session),
    )
    counts = count(session, SERIES_START, date(2026, 12, 31), COUNTED_AT)
    assert sorted(counts.days["decision"]) == [1, 2]


def test_working_days_end_on_the_uk_date_of_the_decision_whatever_year_it_is_counted_in(session: Session) -> None:
    """Counted in 2029 (by the service's clock, not the machine's), a decision made at half past
    midnight UK summer time, 23:30 UTC the day before, still ends on the UK date."""
    monday = datetime(2029, 6, 4, 9, 0, tzinfo=UTC)
    decided = datetime(2029, 6, 11, 23, 30, tzinfo=UTC)  # 00:30 on Tuesday 12 June in the UK
    insert_claims(session, [Made(monday, decided_after=decided - monday)], catalogue(session))
    counts = count(session, date(2029, 1, 1), date(2029, 12, 31), datetime(2029, 12, 31, 12, tzinfo=UTC))
    assert counts.days["decision"] == [6]  # Tuesday 5 to Tuesday 12 June, the weekend not counted
