"""The queue's built-in views (My claims, Unassigned, Due this week, Overdue, Appeals waiting), each
a set of the queue's own filters, counted in one statement; and the filters an officer saves
under a name of their own."""

from __future__ import annotations

from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from guarantee.clock import FixedClock
from guarantee.services import queue, saved_filters
from guarantee.services.actors import GroupActor, OfficerActor
from guarantee.services.casework import assign
from guarantee.services.claims import submit_claim
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Forbidden, NotFound, ValidationFailed
from guarantee.services.queue import VIEWS, VIEWS_BY_KEY, current_view, parse_filters, view_counts, work_queue
from tests.helpers import Cast, make_officer, submission, walk
from tests.support.statements import recorded


def file_claim(ctx: ServiceContext) -> str:
    return submit_claim(ctx, submission()).reference


@pytest.fixture
def desk(ctx: ServiceContext, clock: FixedClock) -> dict[str, object]:
    """On Tuesday 10 November 2026: two claims filed a week ago Monday, overdue for triage (one
    held by "me"); one filed on Thursday, due this week and held by another officer; an appealed
    claim no one holds; and a withdrawn one."""
    cast = Cast(ctx)
    me = make_officer(ctx, "triage", "reviewer")
    mine, nobodys = file_claim(ctx), file_claim(ctx)  # triage due Monday 9 November
    withdrawn = file_claim(ctx)
    walk(ctx, cast, withdrawn, "withdraw")
    clock.set_day(date(2026, 11, 5), hour=10)
    theirs = file_claim(ctx)  # triage due Thursday 12 November
    clock.set_day(date(2026, 11, 10), hour=10)
    appealed = file_claim(ctx)
    walk(ctx, cast, appealed, "accept", "not_uphold", "appeal")
    assign(ctx, mine, me.officer_id, me)
    assign(ctx, theirs, cast.reviewer.officer_id, me)
    return {"me": me, "cast": cast, "mine": mine, "nobodys": nobodys, "theirs": theirs, "appealed": appealed}


def shown(ctx: ServiceContext, actor: OfficerActor, key: str) -> set[str]:
    page = work_queue(ctx, actor, VIEWS_BY_KEY[key].filters, limit=100)
    return {row["reference"] for row in page.rows}


# --- built-in views -------------------------------------------------------------------------------


def test_each_view_shows_what_its_name_says(ctx: ServiceContext, desk: dict[str, object]) -> None:
    me = desk["me"]
    assert isinstance(me, OfficerActor)
    assert shown(ctx, me, "mine") == {desk["mine"]}
    assert shown(ctx, me, "unassigned") == {desk["nobodys"], desk["appealed"]}
    assert shown(ctx, me, "due_this_week") == {desk["theirs"]}
    assert shown(ctx, me, "overdue") == {desk["mine"], desk["nobodys"]}
    assert shown(ctx, me, "appeals") == {desk["appealed"]}


def test_the_counts_of_the_views_are_the_claims_each_shows(ctx: ServiceContext, desk: dict[str, object]) -> None:
    me = desk["me"]
    assert isinstance(me, OfficerActor)
    counts = view_counts(ctx, me)
    assert counts == {"mine": 1, "unassigned": 2, "due_this_week": 1, "overdue": 2, "appeals": 1}
    assert counts == {view.key: len(shown(ctx, me, view.key)) for view in VIEWS}
    cast = desk["cast"]
    assert isinstance(cast, Cast)
    assert view_counts(ctx, cast.reviewer)["mine"] == 1, "'My claims' is the officer's own"


def test_a_count_past_the_cap_stops_one_past_it(
    ctx: ServiceContext, desk: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue, "COUNT_CAP", 1)
    me = desk["me"]
    assert isinstance(me, OfficerActor)
    assert view_counts(ctx, me) == {"mine": 1, "unassigned": 2, "due_this_week": 1, "overdue": 2, "appeals": 1}
    for _ in range(3):
        file_claim(ctx)
    assert view_counts(ctx, me)["unassigned"] == 2, "shown as 'more than 1'"


def test_my_claims_and_unassigned_are_counted_from_the_open_claims_alone(
    ctx: ServiceContext, desk: dict[str, object]
) -> None:
    """Each view's count reads an index with the claim's state in it: "My claims" and "Unassigned"
    the (assignee, state) index, not every claim the officer (or nobody) ever held, closed and
    resolved ones included: 27 and 129 ms a queue page at a million claims on SQLite before."""
    if ctx.session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL reads a table this small whole; the schema test checks the index on both")
    me = desk["me"]
    assert isinstance(me, OfficerActor)
    with recorded(ctx.session.get_bind().engine) as executed:
        view_counts(ctx, me)
    [(sql, parameters)] = [(q, p) for q, p in executed if '"view"' in q]
    plan = " ".join(row[3] for row in ctx.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql, parameters))
    assert plan.count("USING COVERING INDEX ix_claims_assignee_state (assignee_id=? AND state=?)") == 2, plan
    assert "SCAN claims" not in plan, plan


def test_the_views_are_the_queues_own_filters_with_links_to_them() -> None:
    assert [(v.key, v.label, v.query) for v in VIEWS] == [
        ("mine", "My claims", "assignee=me"),
        ("unassigned", "Unassigned", "assignee=none"),
        ("due_this_week", "Due this week", "due=this_week"),
        ("overdue", "Overdue", "due=overdue"),
        ("appeals", "Appeals waiting", "state=appealed"),
    ]


def test_the_current_view_is_found_from_the_filters_whatever_their_order() -> None:
    assert current_view(parse_filters({"assignee": "me", "sort": "submitted"}, [])) == "mine"
    assert current_view(parse_filters({}, ["appealed"])) == "appeals"
    assert current_view(parse_filters({"due": "overdue", "region": "wales"}, [])) is None
    assert current_view(parse_filters({}, [])) is None


def test_only_active_officers_see_the_counts(ctx: ServiceContext) -> None:
    with pytest.raises(Forbidden):
        view_counts(ctx, make_officer(ctx, "triage", active=False))


# --- saved filters --------------------------------------------------------------------------------


def test_an_officer_saves_a_filter_under_a_name_and_it_opens_the_same_queue(ctx: ServiceContext) -> None:
    officer = make_officer(ctx, "triage")
    args = MultiDict(
        [("state", "submitted"), ("state", "under_review"), ("region", "wales"), ("assignee", "me"), ("cursor", "x")]
    )
    saved = saved_filters.save(ctx, officer, "  Welsh   claims,  mine ", args)
    assert saved.name == "Welsh claims, mine"
    assert saved.args == {"state": ["submitted", "under_review"], "region": "wales", "assignee": "me"}
    assert saved.query == "state=submitted&state=under_review&region=wales&assignee=me"
    assert saved_filters.list(ctx, officer) == [saved]
    again = MultiDict(
        [(k, v) for k, values in saved.args.items() for v in ([values] if isinstance(values, str) else values)]
    )
    assert parse_filters(again, again.getlist("state")) == parse_filters(args, args.getlist("state"))


def test_a_plain_dict_of_filters_is_saved_too_with_only_the_queues_keys(ctx: ServiceContext) -> None:
    officer = make_officer(ctx, "reviewer")
    saved = saved_filters.save(
        ctx, officer, "Oldest first", {"sort": "submitted", "regulation": 12, "state": "appealed", "page": "3"}
    )
    assert saved.args == {"state": ["appealed"], "regulation": "12", "sort": "submitted"}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Enter a name for the filter"),
        ("   ", "Enter a name for the filter"),
        ("x" * 61, "The name must be 60 characters or fewer (it has 61)"),
        ("two\nlines", "A name for the filter contains characters that are not allowed"),
    ],
)
def test_a_name_must_be_one_line_of_1_to_60_characters(ctx: ServiceContext, name: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        saved_filters.save(ctx, make_officer(ctx, "triage"), name, {"due": "overdue"})
    assert refused.value.errors == {"name": [message]}


def test_a_name_of_60_characters_is_fine(ctx: ServiceContext) -> None:
    assert saved_filters.save(ctx, make_officer(ctx, "triage"), "é" * 60, {"due": "overdue"}).name == "é" * 60


def test_a_name_is_the_officers_once_whatever_its_capitals_but_another_officer_may_use_it(
    ctx: ServiceContext,
) -> None:
    officer, colleague = make_officer(ctx, "triage"), make_officer(ctx, "triage")
    saved_filters.save(ctx, officer, "Overdue food", {"due": "overdue", "category": "food_hygiene"})
    with pytest.raises(ValidationFailed) as refused:
        saved_filters.save(ctx, officer, "OVERDUE  food", {"due": "overdue"})
    assert refused.value.errors == {"name": ["You already have a filter called “OVERDUE food”: choose another name"]}
    assert saved_filters.save(ctx, colleague, "Overdue food", {"due": "overdue"}).name == "Overdue food"


def test_a_wrong_filter_value_is_refused_as_the_queue_refuses_it_with_the_names_problem_too(
    ctx: ServiceContext,
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        saved_filters.save(ctx, make_officer(ctx, "triage"), "", {"region": "atlantis", "state": ["nowhere"]})
    assert refused.value.errors == {
        "name": ["Enter a name for the filter"],
        "region": ["Choose a region from the list"],
        "state": ["Choose states from the list"],
    }


def test_saving_no_filter_at_all_is_refused(ctx: ServiceContext) -> None:
    with pytest.raises(ValidationFailed) as refused:
        saved_filters.save(ctx, make_officer(ctx, "triage"), "Everything", {"cursor": "abc", "sort": "due"})
    assert refused.value.errors == {
        "filters": ["Choose at least one filter before you save it: this is the whole queue"]
    }


def test_an_officer_keeps_at_most_50_filters(ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(saved_filters, "MAX_SAVED", 2)
    officer = make_officer(ctx, "triage")
    for name in ("One", "Two"):
        saved_filters.save(ctx, officer, name, {"due": "overdue"})
    with pytest.raises(ValidationFailed) as refused:
        saved_filters.save(ctx, officer, "Three", {"due": "overdue"})
    assert refused.value.errors == {"name": ["You have 2 saved filters, the most you can have: delete one first"]}


def test_each_officer_lists_and_deletes_only_their_own_filters_by_name(ctx: ServiceContext) -> None:
    officer, colleague = make_officer(ctx, "triage"), make_officer(ctx, "reviewer")
    wales = saved_filters.save(ctx, officer, "wales", {"region": "wales"})
    appeals = saved_filters.save(ctx, officer, "Appeals", {"state": ["appealed"]})
    theirs = saved_filters.save(ctx, colleague, "Mine", {"assignee": "me"})
    assert [f.name for f in saved_filters.list(ctx, officer)] == ["Appeals", "wales"]
    with pytest.raises(NotFound):
        saved_filters.delete(ctx, officer, theirs.id)
    saved_filters.delete(ctx, officer, wales.id)
    assert saved_filters.list(ctx, officer) == [appeals]
    with pytest.raises(NotFound):
        saved_filters.delete(ctx, officer, wales.id)
    assert saved_filters.list(ctx, colleague) == [theirs]


def test_saved_filters_are_for_active_officers_only(ctx: ServiceContext) -> None:
    reference = file_claim(ctx)
    for stranger in (GroupActor(reference), make_officer(ctx, "triage", active=False)):
        with pytest.raises(Forbidden):
            saved_filters.save(ctx, stranger, "Mine", {"assignee": "me"})
        with pytest.raises(Forbidden):
            saved_filters.list(ctx, stranger)
        with pytest.raises(Forbidden):
            saved_filters.delete(ctx, stranger, 1)


def test_the_claims_an_officer_ticked_are_read_again_in_their_order_unknown_ones_left_out(
    ctx: ServiceContext, desk: dict[str, object]
) -> None:
    me = desk["me"]
    assert isinstance(me, OfficerActor)
    ticked = [str(desk["theirs"]), "CPG-2026-999999", str(desk["mine"]), str(desk["theirs"])]
    found = queue.claims_by_reference(ctx, me, ticked)
    assert [row["reference"] for row in found] == [desk["theirs"], desk["mine"]]
    assert found[1]["working_days_overdue"] == 1, "each row as the queue shows it"
    with pytest.raises(Forbidden):
        queue.claims_by_reference(ctx, GroupActor(str(desk["mine"])), ticked)  # type: ignore[arg-type]
