"""The officers' work queue, over HTTP as a browser drives it: the built-in views as sub navigation
with their counts, the officer's saved filters, MOJ's filter layout, a page of claims sorted and
paged by keyset (and as CSV), and the bulk actions of the sticky action bar, all or none.

CSRF stays on: every form is posted with the hidden fields its page gave. Each test runs on SQLite
and on PostgreSQL, on a database of its own (conftest's ``app``).
"""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from guarantee.clock import FixedClock
from guarantee.context import service_context
from guarantee.extensions import db
from guarantee.models import Claim
from guarantee.services import queue
from guarantee.services.queue import QueueFilters, work_queue
from tests.conftest import START
from tests.support.statements import recorded
from tests.test_console import (
    QUEUE,
    Someone,
    _accepted_with,
    _regulation_of,
    claim_now,
    file,
    fire_as,
    location,
    officer,
    officers_walk,
    rows,
    sign_in,
    sign_in_as,
    signed_in,
)
from tests.test_public import error_summary, fields, text_of
from workflows import STATE_LABELS, STATES


def views(html: str) -> dict[str, bool]:
    """The sub navigation's items, "My claims (1)": whether each is the current page."""
    nav = re.search(r'<nav class="moj-sub-navigation".*?</nav>', html, re.S)
    assert nav, "the views are a sub navigation"
    items = re.findall(r'<a class="moj-sub-navigation__link"\s*(aria-current="page")?[^>]*>(.*?)</a>', nav[0], re.S)
    return {unescape(" ".join(words.split())): bool(current) for current, words in items}


def current(html: str) -> list[str]:
    return [name for name, is_current in views(html).items() if is_current]


def link(html: str, words: str) -> str:
    """The address of the link whose words these are."""
    found = [
        href
        for href, inner in re.findall(r'<a [^>]*href="([^"]+)"[^>]*>(.*?)</a>', html, re.S)
        if text_of(inner) == words
    ]
    assert found, f"no link {words!r}"
    return unescape(found[0])


# --- the page and its filters ---------------------------------------------------------------


@pytest.fixture
def three_claims(app: Flask, clock: FixedClock) -> tuple[FlaskClient, dict[str, str]]:
    """A reviewer signed in, and: an overdue claim in the north west filed 30 days ago, a
    claim in London filed now, and a claim accepted and assigned to the reviewer."""
    triage = officer(app, "triage")
    client, me = signed_in(app, "reviewer")
    clock.set(START - timedelta(days=30))
    (overdue,) = file(app)
    clock.set(START)
    (london,) = file(app, initiative={"region": "london"})
    (mine,) = file(app)
    fire_as(app, mine, "accept", triage, category="food_hygiene", regulation={"title": "Food rules"}, assignee=me.id)
    return client, {"overdue": overdue, "london": london, "mine": mine}


def test_the_queue_lists_active_claims_soonest_due_first_with_counts_by_status(three_claims: Any) -> None:
    client, refs = three_claims
    page = client.get(QUEUE)
    assert page.status_code == 200
    # Triage is due in 5 working days, a decision in 20: the accepted claim comes last.
    assert rows(page.text) == [refs["overdue"], refs["london"], refs["mine"]]
    words = text_of(page.text)
    assert "3 claims, soonest due first" in words
    assert f"{STATE_LABELS['submitted']} (2)" in words, "each status in the filter says how many"
    assert f"{STATE_LABELS['under_review']} (1)" in words
    assert f"{STATE_LABELS['closed']} (0)" in words
    assert re.search(r"\d+ working days late", words), "an overdue claim says by how much"


def test_the_views_are_a_sub_navigation_with_counts_and_the_current_one_marked(three_claims: Any) -> None:
    client, _ = three_claims
    page = client.get(QUEUE).text
    assert views(page) == {
        "All open claims": True,
        "My claims (1)": False,
        "Unassigned (2)": False,
        "Due this week (0)": False,
        "Overdue (1)": False,
        "Appeals waiting (0)": False,
    }
    mine = client.get(link(page, "My claims (1)"))
    assert current(mine.text) == ["My claims (1)"]
    assert len(rows(mine.text)) == 1
    # Sorted the other way, it is still the same view.
    assert current(client.get(f"{QUEUE}?assignee=me&sort=submitted").text) == ["My claims (1)"]
    assert current(client.get(f"{QUEUE}?assignee=me&region=wales").text) == [], "a view with more is no view"


def test_counts_stop_at_the_cap_and_say_more_than(three_claims: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Counting every claim costs a scan of them all at a million claims; beyond the cap the
    queue says "more than", in the views, the statuses and the caption, under every filter."""
    monkeypatch.setattr(queue, "COUNT_CAP", 1)
    client, _ = three_claims
    page = client.get(QUEUE).text
    assert "Unassigned (more than 1)" in views(page)
    assert "My claims (1)" in views(page)
    words = text_of(page)
    assert f"{STATE_LABELS['submitted']} (more than 1)" in words
    assert f"{STATE_LABELS['under_review']} (1)" in words
    assert "more than 1 claims, soonest due first" in words
    assert f"{STATE_LABELS['submitted']} (1)" in text_of(client.get(f"{QUEUE}?region=london").text)


def test_sorting_by_date_filed_puts_the_oldest_first(three_claims: Any) -> None:
    client, refs = three_claims
    assert rows(client.get(f"{QUEUE}?sort=submitted").text) == [refs["overdue"], refs["london"], refs["mine"]]


def test_the_due_header_is_a_sort_link_that_keeps_the_filters(three_claims: Any) -> None:
    """Without JavaScript a header sorts through the server (MOJ's script makes it a button)."""
    client, _ = three_claims
    page = client.get(f"{QUEUE}?region=london&sort=submitted").text
    due = link(page, "Due")
    assert "region=london" in due and "sort=due" in due
    assert re.search(r'<th scope="col" class="govuk-table__header" aria-sort="none"><a[^>]*>Due</a>', page)
    assert 'aria-sort="ascending"><a class="govuk-link app-sort-link"' in client.get(due).text


FILTERED = {
    "state=under_review": ["mine"],
    "state=submitted&state=under_review": ["overdue", "london", "mine"],
    "state=closed": [],
    "region=london": ["london"],
    "assignee=me": ["mine"],
    "assignee=none": ["overdue", "london"],
    "due=overdue": ["overdue"],
    "region=north_west&due=overdue": ["overdue"],
}


def test_filters_narrow_the_queue(three_claims: Any) -> None:
    client, refs = three_claims
    for query, expected in FILTERED.items():
        page = client.get(f"{QUEUE}?{query}")
        assert page.status_code == 200, query
        assert rows(page.text) == [refs[name] for name in expected], query
        if not expected:
            assert "No claims match these filters" in text_of(page.text)


def test_each_filter_in_use_is_listed_with_a_link_that_removes_it(three_claims: Any) -> None:
    client, refs = three_claims
    page = client.get(f"{QUEUE}?state=submitted&state=under_review&region=london&due=overdue").text
    selected = re.search(r'<div class="moj-filter__selected">.*?<div class="moj-filter__options">', page, re.S)
    assert selected, "MOJ's selected filters"
    tags = dict(
        (" ".join(text_of(words).split()), unescape(href))
        for href, words in re.findall(r'<a class="moj-filter__tag" href="([^"]+)">(.*?)</a>', selected[0], re.S)
    )
    assert set(tags) == {f"Remove this filter {w}" for w in ("Submitted", "Under review", "London", "Overdue")}
    assert tags["Remove this filter London"] == "/officer?state=submitted&state=under_review&due=overdue"
    assert rows(client.get(tags["Remove this filter Overdue"]).text) == [refs["london"]]
    assert link(selected[0], "Clear filters") == QUEUE


def test_the_csv_link_and_the_next_page_keep_the_filters(three_claims: Any) -> None:
    client, refs = three_claims
    page = client.get(f"{QUEUE}?region=london").text
    csv_url = link(page, "Download these claims (CSV)")
    assert csv_url == "/officer/queue.csv?region=london"
    download = client.get(csv_url)
    assert download.mimetype == "text/csv"
    assert refs["london"] in download.text and refs["overdue"] not in download.text


def _cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


BAD_QUERIES = (
    "state=nonsense",
    "sector=nonsense",
    "region=atlantis",
    "due=yesterday",
    "sort=alphabetical",
    "assignee=someone",
    "cursor=garbage",
    "cursor=%25%25%25",
    f"cursor={_cursor(['not a date', 1])}",
    f"sort=submitted&cursor={_cursor(['not a time', 1])}",
    "assignee=%C2%B2",  # "²": str.isdigit() says yes, int() says no
    "assignee=99999999999999999999999",  # digits, but no officer id fits
)


def test_a_bad_filter_or_page_link_gives_a_400_page_not_a_500(app: Flask) -> None:
    client, _ = signed_in(app, "reviewer")
    answered = {}
    for query in BAD_QUERIES:
        try:  # under TESTING, a 500 reaches the test as the exception itself
            page = client.get(f"{QUEUE}?{query}")
        except Exception as error:  # reported below with the others
            answered[query] = f"500 ({type(error).__name__})"
            continue
        answered[query] = page.status_code
        assert page.mimetype == "text/html"
        assert "Traceback" not in page.text
    assert answered == dict.fromkeys(BAD_QUERIES, 400)


def test_the_next_page_link_walks_the_whole_queue_once(app: Flask, clock: FixedClock) -> None:
    client, _ = signed_in(app, "reviewer")
    for days_ago in (9, 3, 0):  # three due dates, with ties on each
        clock.set(START - timedelta(days=days_ago))
        file(app, 18, initiative={"region": "london"})
    file(app, 2)  # another region: filtered out
    clock.set(START)
    seen: list[str] = []
    url: str | None = f"{QUEUE}?region=london"
    pages = 0
    while url:
        page = client.get(url)
        assert page.status_code == 200
        seen += rows(page.text)
        found = re.search(r'<a class="govuk-link govuk-pagination__link" href="([^"]+)" rel="next">', page.text)
        url = unescape(found[1]) if found else None
        if url:
            assert "region=london" in url, "the filters are kept"
            assert "Next page of claims" in text_of(page.text)
        pages += 1
    assert pages == 2
    assert len(seen) == len(set(seen)) == 54
    assert link(page.text, "First page of claims") == f"{QUEUE}?region=london"


def _page_through(app: Flask, who: Someone, sort: str) -> list[str]:
    with app.app_context():
        ctx = service_context()
        try:
            seen, cursor = [], None
            while True:
                page = work_queue(ctx, who.actor, QueueFilters(states=STATES, sort=sort), cursor=cursor, limit=2)
                assert len(page.rows) <= 2
                seen += [row["reference"] for row in page.rows]
                if page.next_cursor is None:
                    return seen
                cursor = page.next_cursor
        finally:
            ctx.rollback()


@pytest.mark.parametrize("sort", ["due", "submitted"])
def test_keyset_pages_neither_repeat_nor_skip_a_claim(app: Flask, clock: FixedClock, sort: str) -> None:
    who = officer(app, "reviewer")
    refs = []
    for days_ago in (20, 5, 5, 0):  # equal filing times and equal due dates tie on the id
        clock.set(START - timedelta(days=days_ago, minutes=-days_ago))
        refs += file(app, 2)
    clock.set(START)
    officers_walk(app, refs[0], "decline")  # closed: no due date, sorts last by due date
    officers_walk(app, refs[-1], "accept")  # decision clock: due later than the others
    seen = _page_through(app, who, sort)
    assert sorted(seen) == sorted(refs)
    assert len(seen) == len(set(seen))
    with app.app_context():
        claims = {c.reference: c for c in db.session.scalars(select(Claim))}
        if sort == "submitted":
            expected = sorted(refs, key=lambda r: (claims[r].submitted_at, claims[r].id))
        else:
            expected = sorted(refs, key=lambda r: (claims[r].due_on is None, claims[r].due_on, claims[r].id))
    assert seen == expected


def test_the_queue_filters_by_catalogue_regulation(app: Flask) -> None:
    fire_safety = _accepted_with(app, "Fire risk assessment")
    food = _accepted_with(app, "Food premises registration")
    client, _ = signed_in(app, "reviewer")
    page = client.get(f"{QUEUE}?regulation={_regulation_of(app, fire_safety)}").text
    assert rows(page) == [fire_safety]
    assert food not in page
    assert "Remove this filter Fire risk assessment" in text_of(page)
    assert client.get(f"{QUEUE}?regulation=x").status_code == 400


# --- saved filters --------------------------------------------------------------------------


def _save(client: FlaskClient, query: str, name: str) -> TestResponse:
    """ "Save this filter as" on the queue at ``query``, with the fields its form gave."""
    page = client.get(f"{QUEUE}?{query}").text
    form = re.search(r'<form class="[^"]*app-save-filter".*?</form>', page, re.S)
    assert form, "the queue offers to save the filters in use"
    given = fields(form[0])
    hidden = re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', form[0])
    data: dict[str, Any] = {}
    for key, value in hidden:
        data.setdefault(key, []).append(unescape(value))
    return client.post("/officer/filters", data={**data, "csrf_token": given["csrf_token"], "name": name})


def test_an_officer_saves_a_filter_and_finds_it_among_the_views(three_claims: Any) -> None:
    client, refs = three_claims
    saved = _save(client, "region=london&state=submitted&sort=submitted", "London  triage")
    assert saved.status_code == 303
    assert location(saved) == f"{QUEUE}?state=submitted&region=london&sort=submitted"
    page = client.get(location(saved)).text
    assert "Filter saved as “London triage”" in text_of(page)
    assert current(page) == ["London triage"], "the saved filter is a view, marked as the one shown"
    assert rows(page) == [refs["london"]]
    # Tomorrow, from the queue's first page.
    assert rows(client.get(link(client.get(QUEUE).text, "London triage")).text) == [refs["london"]]


@pytest.mark.parametrize(
    ("query", "name", "field", "message"),
    [
        ("region=london", "   ", "#filter-name", "Enter a name for the filter"),
        ("region=london", "x" * 61, "#filter-name", "The name must be 60 characters or fewer (it has 61)"),
        ("region=london", "LONDON", "#filter-name", "You already have a filter called “LONDON”: choose another name"),
    ],
    ids=["blank", "too-long", "taken"],
)
def test_a_filter_that_cannot_be_saved_is_explained_on_the_queue_with_the_name_kept(
    three_claims: Any, query: str, name: str, field: str, message: str
) -> None:
    client, refs = three_claims
    assert _save(client, "due=overdue", "London").status_code == 303
    refused = _save(client, query, name)
    assert refused.status_code == 400
    assert error_summary(refused.text) == {field: message}
    assert f'value="{name}"' in refused.text, "what was typed is kept"
    assert rows(refused.text) == [refs["london"]], "the queue is shown as it was filtered"
    assert [
        v for v in views(client.get(QUEUE).text) if not v.startswith(("All", "My", "Un", "Due", "Over", "App"))
    ] == ["London"]


def test_the_whole_queue_is_not_offered_to_be_saved_and_forged_filters_are_refused(three_claims: Any) -> None:
    client, _ = three_claims
    assert "Save this filter as" not in text_of(client.get(QUEUE).text)
    token = fields(client.get(QUEUE).text)["csrf_token"]
    everything = client.post("/officer/filters", data={"csrf_token": token, "name": "All"})
    assert everything.status_code == 400
    assert "Choose at least one filter before you save it" in text_of(everything.text)
    forged = client.post("/officer/filters", data={"csrf_token": token, "name": "Atlantis", "region": "atlantis"})
    assert forged.status_code == 400
    assert "Choose a region from the list" in text_of(forged.text)
    assert client.post("/officer/filters", data={"name": "No token", "region": "london"}).status_code == 400


def test_an_officer_deletes_their_saved_filter_and_no_one_else_can(app: Flask, three_claims: Any) -> None:
    client, _ = three_claims
    saved = client.get(location(_save(client, "region=london", "London"))).text
    form = re.search(r'<form class="app-action-bar__item" method="post" action="([^"]+)"', saved)
    assert form, "a saved filter, shown, can be deleted"
    delete = form[1]
    token = fields(saved)["csrf_token"]
    other, _ = signed_in(app, "reviewer")
    other_token = fields(other.get(QUEUE).text)["csrf_token"]
    assert other.post(delete, data={"csrf_token": other_token}).status_code == 404, "another officer's is not found"
    assert client.post(delete).status_code == 400, "without the CSRF token nothing is deleted"
    assert "London" in views(client.get(QUEUE).text)
    deleted = client.post(delete, data={"csrf_token": token})
    assert deleted.status_code == 303
    page = client.get(location(deleted)).text
    assert "Your saved filter “London” is deleted." in text_of(page)
    assert "London" not in views(page)
    assert client.post(delete, data={"csrf_token": token}).status_code == 404


# --- several claims at once -----------------------------------------------------------------


def _bulk(client: FlaskClient, **form: Any) -> TestResponse:
    """Tick claims in the queue and post: with the CSRF token and each claim's version the page gave."""
    given = fields(client.get(QUEUE).text)
    versions = {name: value for name, value in given.items() if name.startswith("version-")}
    return client.post("/officer/bulk", data={"csrf_token": given["csrf_token"], **versions, **form})


def _assignee(app: Flask, reference: str) -> int | None:
    with app.app_context():
        return db.session.scalar(select(Claim.assignee_id).where(Claim.reference == reference))


def _sticky_bar(html: str) -> str:
    found = re.search(r'<div class="app-sticky-action-bar".*?</form>', html, re.S)
    return found[0] if found else ""


def test_the_bulk_actions_are_in_the_sticky_action_bar_for_the_roles_that_may_use_them(app: Flask) -> None:
    file(app)
    triage, _ = signed_in(app, "triage")
    bar = _sticky_bar(triage.get(QUEUE).text)
    assert 'data-module="app-sticky-action-bar" data-table="claims"' in bar, "shown once claims are ticked"
    assert 'name="action" value="assign"' in bar
    assert re.search(r'<button [^>]*value="decline_duplicates"[^>]*>', bar)
    assert "govuk-button--warning" in re.search(r'<button [^>]*value="decline_duplicates"[^>]*>', bar)[0]
    leader, _ = signed_in(app, "team_leader")
    bar = _sticky_bar(leader.get(QUEUE).text)
    assert 'value="assign"' in bar and "decline_duplicates" not in bar, "a team leader assigns but never declines"
    panel, _ = signed_in(app, "appeal_panel")
    page = panel.get(QUEUE).text
    assert not _sticky_bar(page) and 'name="reference"' not in page, "no boxes to tick for nothing to do"


def test_several_claims_are_assigned_at_once_and_unassigned_again(app: Flask) -> None:
    client, _ = signed_in(app, "triage")
    reviewer = officer(app, "reviewer", name="Rita Reviewer")
    first, second, untouched = file(app, 3)

    response = _bulk(client, action="assign", assignee=str(reviewer.id), reference=[first, second])

    assert response.status_code == 303
    assert "2 claims assigned." in text_of(client.get(location(response)).text)
    assert [_assignee(app, r) for r in (first, second, untouched)] == [reviewer.id, reviewer.id, None]
    unassigned = _bulk(client, action="assign", assignee="none", reference=[first])
    assert "1 claim unassigned." in text_of(client.get(location(unassigned)).text)
    assert _assignee(app, first) is None


def test_assigning_without_choosing_an_officer_asks_for_one_and_keeps_the_ticks(app: Flask) -> None:
    client, _ = signed_in(app, "triage")
    first, second = file(app, 2)
    refused = _bulk(client, action="assign", assignee="", reference=[first], back=f"{QUEUE}?region=north_west")
    assert refused.status_code == 400
    assert error_summary(refused.text) == {"#bulk-assignee": "Choose who to assign the claims to"}
    assert re.search(rf'id="select-{first}" name="reference" type="checkbox" value="{first}" checked', refused.text)
    assert not re.search(rf'value="{second}" checked', refused.text)
    assert "Remove this filter North West (England)" in text_of(refused.text), "the queue as it was filtered"
    assert _assignee(app, first) is None


def test_declining_several_as_duplicates_asks_which_and_why_then_is_all_or_nothing(app: Flask) -> None:
    client, _ = signed_in(app, "triage")
    original, copy_one, copy_two = file(app, 3)
    officers_walk(app, copy_two, "accept")  # no longer declinable
    before = [claim_now(app, r) for r in (copy_one, copy_two)]

    asked = _bulk(client, action="decline_duplicates", reference=[copy_one, copy_two], back=QUEUE)
    assert asked.status_code == 200
    assert "Decline 2 claims as duplicates" in text_of(asked.text)
    assert copy_one in text_of(asked.text) and copy_two in text_of(asked.text)
    assert [claim_now(app, r) for r in (copy_one, copy_two)] == before, "asking changes nothing"

    form = fields(asked.text)
    refused = client.post(
        "/officer/bulk",
        data={
            **form,
            "reference": [copy_one, copy_two],
            "duplicate_of": original,
            "explanation": "The same hall and rule as the first claim.",
        },
    )
    assert refused.status_code == 400
    assert copy_two in " ".join(error_summary(refused.text).values())
    assert "The same hall and rule as the first claim." in refused.text, "the explanation typed is kept"
    assert [claim_now(app, r) for r in (copy_one, copy_two)] == before

    done = client.post(
        "/officer/bulk",
        data={
            **form,
            "reference": [copy_one],
            "duplicate_of": original.lower(),
            "explanation": "The same hall and rule as the first claim.",
        },
    )
    assert done.status_code == 303
    assert "1 claim declined as a duplicate." in text_of(client.get(location(done)).text)
    assert claim_now(app, copy_one)[0] == "closed"
    assert claim_now(app, original)[0] == "submitted"


def test_the_duplicates_page_explains_what_is_missing_beside_its_fields(app: Flask) -> None:
    client, _ = signed_in(app, "triage")
    (original, copy) = file(app, 2)
    form = fields(_bulk(client, action="decline_duplicates", reference=[copy]).text)
    refused = client.post("/officer/bulk", data={**form, "reference": [copy], "duplicate_of": "", "explanation": ""})
    assert refused.status_code == 400
    assert set(error_summary(refused.text)) == {"#duplicate_of", "#explanation"}
    itself = client.post(
        "/officer/bulk", data={**form, "reference": [copy], "duplicate_of": copy, "explanation": "Same."}
    )
    assert "A claim cannot be a duplicate of itself" in text_of(itself.text)
    assert claim_now(app, copy)[0] == claim_now(app, original)[0] == "submitted"


def test_bulk_assigning_a_claim_changed_since_the_queue_was_loaded_changes_nothing(app: Flask) -> None:
    client, _ = signed_in(app, "triage")
    reviewer = officer(app, "reviewer")
    first, second = file(app, 2)
    given = fields(client.get(QUEUE).text)
    fire_as(app, second, "accept", officer(app, "triage"))  # meanwhile, a colleague
    before = [claim_now(app, r) for r in (first, second)]
    refused = client.post(
        "/officer/bulk",
        data={
            "csrf_token": given["csrf_token"],
            "action": "assign",
            "assignee": str(reviewer.id),
            "reference": [first, second],
            f"version-{first}": given[f"version-{first}"],
            f"version-{second}": given[f"version-{second}"],
        },
    )
    assert refused.status_code == 400
    summary = " ".join(error_summary(refused.text).values())
    assert summary.startswith("Nothing was changed.") and second in summary
    assert [claim_now(app, r) for r in (first, second)] == before
    without_versions = client.post(
        "/officer/bulk",
        data={
            "csrf_token": given["csrf_token"],
            "action": "assign",
            "assignee": str(reviewer.id),
            "reference": [first],
        },
    )
    assert "Reload the queue" in text_of(client.get(location(without_versions)).text)
    assert claim_now(app, first) == before[0]


def test_bulk_actions_need_a_selection_a_csrf_token_and_the_role(app: Flask) -> None:
    client, _ = signed_in(app, "triage")
    reviewer = officer(app, "reviewer")
    (reference,) = file(app)
    nothing = _bulk(client, action="assign", assignee=str(reviewer.id))
    assert nothing.status_code == 400
    assert error_summary(nothing.text) == {"#claims": "Nothing was changed. Select at least one claim"}
    assert client.post("/officer/bulk", data={"action": "assign", "reference": reference}).status_code == 400
    panel, _ = signed_in(app, "appeal_panel")
    forged = {
        "action": "assign",
        "assignee": str(reviewer.id),
        "reference": [reference],
        f"version-{reference}": str(claim_now(app, reference)[1]),
    }
    assert _bulk(panel, **forged).status_code == 403
    assert _assignee(app, reference) is None


def test_a_next_or_back_address_with_line_breaks_goes_to_the_queue(app: Flask) -> None:
    who = officer(app, "triage")
    (reference,) = file(app)
    response = sign_in(app.test_client(), who.email, next_url="/officer\r\nX-Evil: 1")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/officer")
    client = sign_in_as(app, who)
    bulk = _bulk(client, action="assign", assignee=str(who.id), reference=[reference], back="/officer\r\nX-Evil: 1")
    assert bulk.status_code == 303
    assert "X-Evil" not in bulk.headers["Location"]


# --- what a page costs ----------------------------------------------------------------------


def _statements_for_queue_page(app: Flask, client: FlaskClient) -> int:
    with app.app_context():
        engine = db.engine
    with recorded(engine) as statements:
        assert client.get(f"{QUEUE}?sort=submitted").status_code == 200
    return len(statements)


def test_a_queue_page_costs_the_same_statements_for_5_claims_as_for_60(app: Flask, clock: FixedClock) -> None:
    client, me = signed_in(app, "reviewer", "triage")
    other = officer(app, "reviewer", name="Another Officer")

    def add(count: int) -> None:
        clock.set(START - timedelta(days=30))
        overdue = file(app, count // 2)
        clock.set(START)
        file(app, count - count // 2)
        # The oldest two, on the first page by date filed, given to two officers.
        for ref, assignee in ((overdue[0], me), (overdue[1], other)):
            fire_as(
                app, ref, "accept", me, category="food_hygiene", regulation={"title": "A rule"}, assignee=assignee.id
            )

    add(5)
    client.get(QUEUE)  # warm
    few = _statements_for_queue_page(app, client)
    add(55)
    many = _statements_for_queue_page(app, client)
    assert few == many
    page = text_of(client.get(f"{QUEUE}?sort=submitted").text)
    assert "Test Officer" in page and "Another Officer" in page, "both assignees are named on the page"


def _insert_claims(app: Flask, count: int) -> None:
    """Claims generated by the database itself (no chains: the queue reads only the claims)."""
    from sqlalchemy import text

    with app.app_context():
        postgresql = db.engine.dialect.name == "postgresql"
        reference = "'CPG-2025-' || " + ("lpad(x::text, 6, '0')" if postgresql else "printf('%06d', x)")
        due = "DATE '2026-10-01' + (x % 90)" if postgresql else "date('2026-10-01', '+' || (x % 90) || ' days')"
        submitted = "TIMESTAMPTZ '2026-11-02 10:00:00+00'" if postgresql else "'2026-11-02 10:00:00.000000'"
        db.session.execute(
            text(
                "INSERT INTO claims (reference, state, version, submitted_at, updated_at, group_name, "
                "initiative_title, initiative_description, sector, region, barrier_regulation, barrier_imposed_by, "
                "barrier_category, barrier_how_it_blocks, remedy_sought, consent_contact, due_clock, due_on) "
                "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < :count) "
                f"SELECT {reference}, "
                "CASE x % 6 WHEN 0 THEN 'submitted' WHEN 1 THEN 'under_review' WHEN 2 THEN 'awaiting_information' "
                "WHEN 3 THEN 'not_upheld' WHEN 4 THEN 'appealed' ELSE 'resolved' END, "
                f"1, {submitted}, {submitted}, 'Group', 'Initiative', 'What it does.', 'health', "
                "CASE x % 4 WHEN 0 THEN 'north_west' WHEN 1 THEN 'london' WHEN 2 THEN 'wales' ELSE 'scotland' END, "
                "'A rule', 'A body', 'other', 'How.', 'waiver', FALSE, "
                "CASE WHEN x % 7 = 0 THEN NULL ELSE 'decision' END, "
                f"CASE WHEN x % 7 = 0 THEN NULL ELSE {due} END FROM n"
            ),
            {"count": count},
        )
        db.session.commit()


def test_a_queue_of_100000_claims_renders_a_page_with_a_few_queries_not_one_per_row(app: Flask) -> None:
    _insert_claims(app, 100_000)
    client, _ = signed_in(app, "triage")
    with app.app_context():
        engine = db.engine
    for query in ("", "?state=under_review&due=overdue&region=london"):
        with recorded(engine) as statements:
            response = client.get(QUEUE + query)
        assert response.status_code == 200
        assert len(rows(response.text)) == 50
        # The claims, their officers' names, the counts by status, the views' counts, the officer's
        # saved filters, the officers and catalogue entries to filter by, and the session's own.
        assert len(statements) <= 14, statements
        assert "Unassigned (more than 1,000)" in views(response.text)
