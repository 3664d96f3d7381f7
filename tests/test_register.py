"""The decision register's disclosure control and reading service (issue 20, items 1 and 3):
k-anonymity by generalisation as a pure function, then the register on SQLite and PostgreSQL,
with property tests over random decided claims and statements."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from guarantee.clock import UK
from guarantee.services import register, register_open_data, regulations
from guarantee.services.actors import SystemActor
from guarantee.services.audit import append_event
from guarantee.services.context import ServiceContext
from guarantee.services.errors import NotFound, ValidationFailed
from guarantee.statistics.disclosure import generalise
from tests.helpers import make_officer
from tests.support.register import (
    MARKER,
    Built,
    Drawn,
    alike,
    build,
    decided_claim,
    drawn_claims,
    regulation,
    statement,
)
from tests.support.statements import recorded
from workflows.vocabulary import REGIONS, nation_of

TODAY = date(2026, 11, 2)


# --- generalise: the pure rule ---------------------------------------------------------------


def _ladder() -> list[Any]:
    return [lambda key: key, lambda key: (key[0][:1], key[1]), lambda key: ("", "")]


def test_a_record_shared_by_k_is_shown_exactly() -> None:
    judge = generalise({("ab", 1): 3, ("ac", 1): 1}, _ladder(), k=3)
    assert judge(("ab", 1)) == (0, ("ab", 1))


def test_a_rare_record_is_coarsened_to_the_first_level_that_k_share() -> None:
    judge = generalise({("ab", 1): 3, ("ac", 1): 1}, _ladder(), k=4)
    assert judge(("ac", 1)) == (1, ("a", 1))


def test_a_record_that_no_level_hides_is_held_back() -> None:
    judge = generalise({("ab", 1): 1, ("cd", 2): 1}, _ladder(), k=3)
    assert judge(("ab", 1)) is None


def test_a_record_can_be_judged_without_being_in_the_population() -> None:
    judge = generalise({("ab", 1): 5}, _ladder(), k=5)
    assert judge(("ax", 1)) == (1, ("a", 1))


def test_start_skips_the_finer_levels() -> None:
    judge = generalise({("ab", 1): 9}, _ladder(), k=2, start=2)
    assert judge(("ab", 1)) == (2, ("", ""))


@pytest.mark.parametrize("k", [0, -1])
def test_k_below_one_is_refused(k: int) -> None:
    with pytest.raises(ValueError, match="k must be at least 1"):
        generalise({}, _ladder(), k=k)


@given(
    st.dictionaries(st.tuples(st.sampled_from("abcd"), st.integers(0, 3)), st.integers(0, 6), max_size=12),
    st.integers(1, 8),
    st.tuples(st.sampled_from("abcdx"), st.integers(0, 4)),
)
def test_a_shown_key_is_always_shared_by_k_at_its_level(population: dict[Any, int], k: int, key: Any) -> None:
    ladder = _ladder()
    found = generalise(population, ladder, k)(key)
    if found is None:
        shared = sum(n for other, n in population.items() if ladder[-1](other) == ladder[-1](key))
        assert shared < k
        return
    level, shown = found
    assert shown == ladder[level](key)
    assert sum(n for other, n in population.items() if ladder[level](other) == shown) >= k
    for finer in range(level):  # and no finer level would have done
        assert sum(n for other, n in population.items() if ladder[finer](other) == ladder[finer](key)) < k


# --- the register on a database ---------------------------------------------------------------


@contextmanager
def rolled_back(session: Session) -> Iterator[None]:
    """One hypothesis example's rows, gone before the next."""
    savepoint = session.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()


def every_page(session: Session, k: int, filters: register.Filters | None = None, size: int = 3) -> list[str]:
    filters = filters or register.Filters()
    numbers: list[str] = []
    cursor = None
    while True:
        page = register.read_register(session, filters, k=k, cursor=cursor, page_size=size, today=TODAY)
        numbers += [s.number for s in page.statements]
        if page.next_cursor is None:
            return numbers
        cursor = page.next_cursor


def shared_by(built: Built, shown: register.ShownStatement) -> int:
    """How many drawn decided claims share what a statement shows, under the same coarsening,
    worked out from the drawing (not from the service's query)."""
    rule_of_shown = built.drawn_rule.get(shown.rule.slug or "")
    exact_region = shown.area in REGIONS

    def same(d: Drawn) -> bool:
        area = d.region if exact_region else nation_of(d.region)
        period = register.quarter_of(d.decided_on) if len(shown.period) > 4 else str(d.decided_on.year)
        return (
            d.rule == rule_of_shown
            and area == shown.area
            and shown.sector in ("other", d.sector)
            and d.category == shown.category
            and period == shown.period
        )

    return sum(1 for d, _ in built.claims if same(d))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=drawn_claims, k=st.sampled_from([1, 2, 3, 5]))
def test_no_shown_statement_is_unique_among_decided_claims(session: Session, drawn: list[Drawn], k: int) -> None:
    with rolled_back(session):
        built = build(session, drawn)
        everything = register.read_register(session, k=k, page_size=None, today=TODAY)
        paged = every_page(session, k)
        held_back = everything.held_back
        listed = {made.number: (d, made.status) for d, made in built.statements}
        records = [register_open_data.as_record(s) for s in everything.statements]
    for shown in everything.statements:
        assert shared_by(built, shown) >= k, f"{shown.number} is shown as {shown} but fewer than {k} claims share it"
        d, status = listed[shown.number]
        assert shown.status == status  # a withdrawn statement stays withdrawn
        if not d.consent:
            assert shown.summary is None
            assert shown.sector == "other" and len(shown.period) == 4 and shown.area == nation_of(d.region)
    assert len(everything.statements) + held_back == len(listed)
    # Keyset pages cover every shown statement exactly once, in the same order.
    assert paged == [s.number for s in everything.statements]
    # Nothing of the claims' own words, nor their references, is in what is published.
    text = repr(records)
    assert MARKER not in text and MARKER.lower() not in text
    assert not any(claim.reference in text for _, claim in built.claims)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=drawn_claims, pick=st.integers(0, 100))
def test_filters_match_what_is_shown_never_the_raw_values(session: Session, drawn: list[Drawn], pick: int) -> None:
    with rolled_back(session):
        build(session, drawn)
        everything = register.read_register(session, k=2, page_size=None, today=TODAY).statements
        if not everything:
            return
        chosen = everything[pick % len(everything)]
        for filters in (
            register.Filters(area=chosen.area),
            register.Filters(year=chosen.year),
            register.Filters(category=chosen.category, outcome=chosen.decision),
            register.Filters(rule=chosen.rule.slug or ""),
        ):
            found = every_page(session, 2, filters)
            assert found == [s.number for s in everything if filters.matches(s)]


def test_a_region_filter_does_not_find_a_statement_coarsened_to_its_nation(session: Session) -> None:
    rule = regulation(session, "Food hygiene", "food-hygiene")
    claims = [
        decided_claim(
            session,
            regulation_id=rule.id,
            region=region,
            sector="health",
            category="food_hygiene",
            decided_on=date(2026, 5, 5),
        )
        for region in ("london", "london", "south_east", "south_east")
    ]
    made = statement(session, claims[0])
    shown = register.read_register(session, k=4, today=TODAY).statements
    assert [(s.number, s.area) for s in shown] == [(made.number, "england")]
    assert register.read_register(session, register.Filters(area="london"), k=4, today=TODAY).statements == []
    assert register.read_register(session, register.Filters(area="england"), k=4, today=TODAY).matching == 1


def test_a_statement_whose_group_declined_has_no_summary_and_is_coarsest(session: Session) -> None:
    rule = regulation(session, "Food hygiene", "food-hygiene")
    claims = [
        decided_claim(
            session,
            regulation_id=rule.id,
            region="london",
            sector="health",
            category="food_hygiene",
            decided_on=date(2026, 5, 5),
            consent=i > 0,
        )
        for i in range(5)
    ]
    declined = statement(session, claims[0], summary="A summary nobody may read.")
    agreed = statement(session, claims[1])
    shown = {s.number: s for s in register.read_register(session, k=5, today=TODAY).statements}
    assert shown[agreed.number].area == "london" and shown[agreed.number].period == "2026 Q2"
    assert shown[agreed.number].summary
    assert shown[declined.number].summary is None
    assert (shown[declined.number].area, shown[declined.number].period, shown[declined.number].sector) == (
        "england",
        "2026",
        "other",
    )


def test_a_withdrawn_statement_stays_listed_as_withdrawn(session: Session) -> None:
    rule = regulation(session, "Food hygiene", "food-hygiene")
    claims = alike(session, rule.id, 5)
    made = statement(session, claims[0], status="withdrawn", withdrawn_reason="It named the street.")
    [shown] = register.read_register(session, k=5, today=TODAY).statements
    assert (shown.number, shown.status, shown.withdrawn_reason) == (made.number, "withdrawn", "It named the street.")
    assert (shown.published, shown.withdrawn) == ("2026 Q2", "2026 Q2")


def cursor_text(cursor: str) -> str:
    """What anyone can read in a cursor: it is only base64."""
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()


def test_a_year_coarsened_statement_shows_no_quarter_of_its_publication_or_withdrawal(session: Session) -> None:
    rule = regulation(session, "Food hygiene", "food-hygiene")
    claims = alike(session, rule.id, 5, consent=False) + alike(session, rule.id, 1)
    in_august = datetime(2026, 8, 14, 9, tzinfo=UK)
    declined = statement(
        session, claims[0], status="withdrawn", withdrawn_reason="It named the street.", published_at=in_august
    )
    agreed = statement(session, claims[-1], published_at=in_august)
    for other in claims[1:3]:  # so that there is a next page, and a cursor
        statement(session, other, published_at=in_august)
    everything = register.read_register(session, k=5, page_size=None, today=TODAY).statements
    shown = {s.number: s for s in everything}

    year_only = shown[declined.number]
    assert (year_only.period, year_only.published, year_only.withdrawn) == ("2026", "2026", "2026")
    record = register_open_data.as_record(year_only)
    assert not [value for value in record.values() if isinstance(value, date | datetime)]
    assert not [value for value in record.values() if isinstance(value, str) and re.search(r"Q[1-4]", value)]
    assert (shown[agreed.number].period, shown[agreed.number].published) == ("2026 Q2", "2026 Q3")
    # Its place in the order is after every quarter of its year, so the page's cursor holds only the year.
    assert everything[-1].number == declined.number
    first = register.read_register(session, k=5, page_size=len(everything) - 1, today=TODAY)
    assert first.next_cursor is not None
    last = register.read_register(session, k=5, page_size=1, cursor=first.next_cursor, today=TODAY).statements
    assert [s.number for s in last] == [declined.number]
    before_last = first.statements[-1]
    assert cursor_text(first.next_cursor) == f"{before_last.published}|{before_last.number}"


def test_the_register_is_ordered_by_the_shown_publication_period_then_number_newest_first(session: Session) -> None:
    rule = regulation(session, "Food hygiene", "food-hygiene")

    def published(number: str, on: date, decided_on: date = date(2026, 5, 5), consent: bool = True) -> str:
        [claim] = alike(session, rule.id, 1, decided_on=decided_on, consent=consent)
        return (
            statement(
                session, claim, number=number, published_at=datetime(on.year, on.month, on.day, 9, tzinfo=UK)
            ).number
            or ""
        )

    in_q2 = published("DS-2026-50000", date(2026, 5, 8))
    early_q3 = published("DS-2026-20000", date(2026, 7, 2))
    late_q3 = published("DS-2026-90000", date(2026, 9, 28))
    year_only = published("DS-2026-99999", date(2026, 11, 20), consent=False)  # shown as 2026
    last_year = published("DS-2025-10000", date(2025, 12, 1), decided_on=date(2025, 11, 20))

    expected = [late_q3, early_q3, in_q2, year_only, last_year]
    assert [s.number for s in register.read_register(session, k=1, page_size=None, today=TODAY).statements] == expected
    # Keyset pages of every size give each statement once, in the same order.
    for size in (1, 2, 3, 5):
        assert every_page(session, 1, size=size) == expected


def test_citations_name_only_statements_that_are_shown(session: Session) -> None:
    rule = regulation(session, "Food hygiene", "food-hygiene")
    common = alike(session, rule.id, 3)
    lonely = decided_claim(
        session, regulation_id=None, region="wales", sector="housing", category="other", decided_on=date(2025, 1, 5)
    )
    hidden = statement(session, lonely)
    earlier = statement(session, common[0])
    citing = statement(session, common[1], cites=[earlier, hidden])
    shown = register.statement(session, citing.number, k=3, today=TODAY)
    assert shown.cites == (earlier.number,)
    with pytest.raises(NotFound):
        register.statement(session, hidden.number, k=3, today=TODAY)


def test_is_shown_agrees_with_the_register(session: Session) -> None:
    rule = regulation(session, "Food hygiene", "food-hygiene")
    claims = alike(session, rule.id, 3)
    made = statement(session, claims[0])
    assert register.is_shown(session, made, k=3, today=TODAY)
    assert not register.is_shown(session, made, k=4, today=TODAY)
    assert [s.number for s in register.for_rule(session, rule.id, k=3, today=TODAY).statements] == [made.number]
    assert register.for_rule(session, rule.id + 1000, k=3, today=TODAY).statements == []


def test_for_a_rule_page_the_newest_statements_and_how_many_the_register_shows(session: Session) -> None:
    rule = regulation(session, "Food hygiene", "food-hygiene")
    claims = alike(session, rule.id, 7)
    quarters = [(2025, 1), (2025, 4), (2025, 7), (2025, 10), (2026, 1), (2026, 4)]
    made = [
        statement(session, claim, published_at=datetime(year, month, 10, tzinfo=UK))
        for claim, (year, month) in zip(claims, quarters, strict=False)
    ]
    found = register.for_rule(session, rule.id, k=3, today=TODAY, limit=5)
    assert found.matching == 6
    assert [s.number for s in found.statements] == [m.number for m in reversed(made)][:5]


def test_a_statement_about_a_merged_entry_is_shown_under_the_entry_it_became(ctx: ServiceContext) -> None:
    session = ctx.session
    duplicate = regulation(session, "Food hygiene rating", "food-hygiene-rating")
    kept = regulation(session, "Food hygiene", "food-hygiene")
    claims = alike(session, duplicate.id, 3)
    made = statement(session, claims[0])

    regulations.merge(ctx, make_officer(ctx, "admin"), duplicate.id, kept.id)

    [shown] = register.read_register(session, k=3, today=TODAY).statements
    assert (shown.number, shown.rule.slug, shown.rule.title) == (made.number, "food-hygiene", "Food hygiene")
    assert register.is_shown(session, made, k=3, today=TODAY)
    assert [s.number for s in register.for_rule(session, kept.id, k=3, today=TODAY).statements] == [made.number]
    assert register.read_register(session, register.Filters(rule="food-hygiene-rating"), k=3, today=TODAY).matching == 0


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense!",
        "Zm9v",
        "MjAyNi0wMS0wMXxEUy0x",
        _cursor("2026-11-20T10:00:00+00:00|DS-2026-48213"),  # an exact time, as cursors once held
        _cursor("2026 Q5|DS-2026-48213"),
        _cursor("2026 Q3|DS-2026-48213|x"),
        _cursor("2026 Q3|CPG-2026-000001"),
        _cursor("2026|"),
    ],
)
def test_a_cursor_the_register_did_not_make_is_refused(session: Session, cursor: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        register.read_register(session, k=5, cursor=cursor, today=TODAY)
    assert "cursor" in refused.value.errors


def test_a_page_reads_the_database_five_times(session: Session) -> None:
    rule = regulation(session, "Food hygiene", "food-hygiene")
    for _ in range(6):
        claim = decided_claim(
            session,
            regulation_id=rule.id,
            region="london",
            sector="health",
            category="food_hygiene",
            decided_on=date(2026, 5, 5),
        )
        statement(session, claim)
    with recorded(session.get_bind().engine) as statements:
        register.read_register(session, k=5, today=TODAY)
    assert len([sql for sql, _ in statements if sql.lstrip().upper().startswith("SELECT")]) == 5


# --- the per-process cache of the pages and the API ----------------------------------------------


def test_with_the_cache_a_page_reads_the_stamp_and_its_own_details_only(session: Session) -> None:
    register.forget()
    rule = regulation(session, "Food hygiene", "food-hygiene")
    for _ in range(5):
        claim = decided_claim(
            session,
            regulation_id=rule.id,
            region="london",
            sector="health",
            category="food_hygiene",
            decided_on=date(2026, 5, 5),
        )
        statement(session, claim)
    register.read_register(session, k=5, today=TODAY, cache_seconds=60)
    with recorded(session.get_bind().engine) as statements:
        again = register.read_register(session, k=5, today=TODAY, cache_seconds=60)
    assert len(again.statements) == 5
    assert len(statements) == 2


def test_a_rule_page_reads_the_registers_kept_judgement_too(session: Session) -> None:
    register.forget()
    rule = regulation(session, "Food hygiene", "food-hygiene")
    claims = alike(session, rule.id, 5)
    made = statement(session, claims[0])
    register.read_register(session, k=5, today=TODAY, cache_seconds=60)
    with recorded(session.get_bind().engine) as statements:
        shown = register.for_rule(session, rule.id, k=5, today=TODAY, cache_seconds=60).statements
    assert [s.number for s in shown] == [made.number]
    assert len(statements) == 2  # the change stamp and the statement's details


def test_a_withdrawal_in_the_claims_audit_chain_shows_at_once_through_the_cache(ctx: ServiceContext) -> None:
    register.forget()
    session = ctx.session
    rule = regulation(session, "Food hygiene", "food-hygiene")
    claims = alike(session, rule.id, 5)
    made = statement(session, claims[0])
    [before] = register.read_register(session, k=5, today=TODAY, cache_seconds=60).statements
    assert before.status == "published"
    made.status, made.withdrawn_at, made.withdrawn_reason = "withdrawn", ctx.now(), "It named the street."
    append_event(ctx, claims[0], SystemActor(), "statement_withdrawn")
    session.flush()
    [after] = register.read_register(session, k=5, today=TODAY, cache_seconds=60).statements
    assert (after.number, after.status) == (made.number, "withdrawn")
    # ... and a statement published since is there too: it has a new id.
    statement(session, claims[1])
    assert register.read_register(session, k=5, today=TODAY, cache_seconds=60).matching == 2
