"""The claim page, and accepting a claim pre-filled from what the group wrote (issue 18, items 3
and 5): the accept page opens with the group's category chosen and the catalogue entries closest
to the rule they named first, the best chosen; the claim page lists possible duplicates, each
declined in one step through the check page; a finished claim offers no catalogue search. Over
HTTP as a browser sends it, CSRF on, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re

from flask import Flask

from guarantee.context import unit_of_work
from guarantee.models import Regulation
from tests.test_console import (
    action_path,
    claim_now,
    claim_path,
    confirm,
    file,
    fire_as,
    form_with,
    is_check_page,
    location,
    officer,
    officers_walk,
    signed_in,
)
from tests.test_public import fields, text_of

FOOD = {"regulation": "Food premises registration", "category": "food_hygiene", "imposed_by": "Food Standards Agency"}


def catalogue(app: Flask, *entries: tuple[str, str]) -> dict[str, int]:
    """Catalogue entries (title, category): their ids by title."""
    with app.app_context(), unit_of_work() as ctx:
        made = [Regulation(title=t, category=c, created_at=ctx.now()) for t, c in entries]
        ctx.session.add_all(made)
        ctx.session.flush()
        return {r.title: r.id for r in made}


def radios(html: str, name: str) -> list[tuple[str, bool]]:
    """(value, checked) of each radio called ``name``, in the page's order."""
    found = []
    for tag in re.findall(r"<input\b[^>]*>", html):
        if f'name="{name}"' in tag and 'type="radio"' in tag:
            value = re.search(r'value="([^"]*)"', tag)
            found.append((value[1] if value else "", "checked" in tag))
    return found


# --- accept, pre-filled ------------------------------------------------------------------------


def test_the_accept_page_opens_with_the_groups_category_and_the_matching_entry_first_and_chosen(app: Flask) -> None:
    ids = catalogue(
        app,
        ("Fire risk assessment", "health_and_safety"),
        ("Food business registration", "food_hygiene"),  # a decoy: shares two words
        ("Premises licence", "licensing_and_permits"),
        ("The Food Premises (Registration) Regulations 1991", "food_hygiene"),
        ("Food hygiene rating display", "food_hygiene"),
    )
    (reference,) = file(app, barrier=FOOD)
    client, _ = signed_in(app, "triage")
    page = client.get(action_path(reference, "accept")).text
    assert radios(page, "accept-category") and dict(radios(page, "accept-category"))["food_hygiene"] is True
    picks = radios(page, "accept-regulation_pick")
    best = str(ids["The Food Premises (Registration) Regulations 1991"])
    assert picks[0] == (best, True)
    assert [checked for _, checked in picks].count(True) == 1
    assert str(ids["Fire risk assessment"]) not in dict(picks)  # nothing like the rule they named
    assert [value for value, _ in picks[-2:]] == ["other", "new"]  # then the whole catalogue, a new entry last
    assert "Matches the rule they named" in text_of(page)


def test_accepting_with_the_entry_chosen_for_you_classifies_the_claim_under_it(app: Flask) -> None:
    ids = catalogue(app, ("Food business registration", "food_hygiene"), ("Food premises registration", "food_hygiene"))
    (reference,) = file(app, barrier=FOOD)
    client, _ = signed_in(app, "triage")
    page = client.get(action_path(reference, "accept")).text
    done = client.post(action_path(reference, "accept"), data=form_with(page, "accept-regulation_pick"))
    assert done.status_code == 303 and location(done) == claim_path(reference)
    claim = text_of(client.get(claim_path(reference)).text)
    assert "Catalogue entry Food premises registration" in claim and "Category Food hygiene" in claim
    with app.app_context(), unit_of_work() as ctx:
        assert ctx.session.query(Regulation).count() == len(ids)  # no new entry was added


def test_another_entry_or_a_new_one_may_be_chosen_instead(app: Flask) -> None:
    ids = catalogue(
        app, ("Food premises registration", "food_hygiene"), ("Street trading licence", "licensing_and_permits")
    )
    first, second = file(app, 2, barrier=FOOD)
    client, _ = signed_in(app, "triage")
    page = client.get(action_path(first, "accept")).text
    other = form_with(page, "accept-regulation_pick") | {
        "accept-regulation_pick": "other",
        "accept-regulation": str(ids["Street trading licence"]),
    }
    assert client.post(action_path(first, "accept"), data=other).status_code == 303
    assert "Catalogue entry Street trading licence" in text_of(client.get(claim_path(first)).text)
    page = client.get(action_path(second, "accept")).text
    new = form_with(page, "accept-regulation_pick") | {
        "accept-regulation_pick": "new",
        "accept-regulation_new": "Mobile food unit approval",
    }
    assert client.post(action_path(second, "accept"), data=new).status_code == 303
    assert "Catalogue entry Mobile food unit approval" in text_of(client.get(claim_path(second)).text)


def test_another_entry_chosen_but_none_picked_from_the_list_is_a_form_error_on_the_choice(app: Flask) -> None:
    catalogue(app, ("Food premises registration", "food_hygiene"))
    (reference,) = file(app, barrier=FOOD)
    client, _ = signed_in(app, "triage")
    page = client.get(action_path(reference, "accept")).text
    nothing = form_with(page, "accept-regulation_pick") | {"accept-regulation_pick": "other", "accept-regulation": ""}
    refused = client.post(action_path(reference, "accept"), data=nothing)
    assert refused.status_code == 400
    assert 'href="#accept-regulation_pick"' in refused.text  # the summary leads to the choice
    assert claim_now(app, reference)[0] == "submitted"


def test_with_an_empty_catalogue_the_accept_page_offers_a_new_entry(app: Flask) -> None:
    (reference,) = file(app, barrier=FOOD)
    client, _ = signed_in(app, "triage")
    page = client.get(action_path(reference, "accept")).text
    assert [value for value, _ in radios(page, "accept-regulation_pick")] == ["other", "new"]
    assert "No catalogue entry is close to the rule the group named" in text_of(page)


# --- possible duplicates -----------------------------------------------------------------------


def test_the_claim_page_lists_open_claims_about_the_same_rule_in_the_region_as_possible_duplicates(
    app: Flask,
) -> None:
    original, copy = file(app, 2, barrier=FOOD)
    (elsewhere,) = file(app, barrier=FOOD, initiative={"region": "london"})
    (unrelated,) = file(app)
    client, _ = signed_in(app, "triage")
    page = client.get(claim_path(copy)).text
    listed = re.search(r'id="duplicates".*?</ul>', page, re.S)
    assert listed is not None
    assert original in listed[0] and "Why it may be the same: similar rule: 100%" in text_of(listed[0])
    assert elsewhere not in listed[0] and unrelated not in listed[0]
    assert f"Decline {copy}, this claim, as a duplicate of {original}" in text_of(listed[0])


def test_declining_a_claim_as_a_duplicate_takes_one_step_to_the_check_page_then_confirm(app: Flask) -> None:
    original, copy = file(app, 2, barrier=FOOD)
    client, _ = signed_in(app, "triage")
    page = client.get(claim_path(copy)).text
    button = form_with(page, "decline-duplicate_of")
    assert button["decline-duplicate_of"] == original
    check = client.post(action_path(copy, "decline"), data=button)
    assert is_check_page(check)
    words = text_of(check.text)
    assert re.search(rf"Reference of the claim this duplicates( \(optional\))? {original}", words)
    assert f"This claim, {copy}, will be closed as a duplicate of {original}. Claim {original} stays open" in words
    assert f"We will consider the rule once, through claim {original}" in words  # in the group's e-mail
    assert claim_now(app, copy)[0] == "submitted"  # nothing done yet
    done = confirm(client, copy, "decline", check.text)
    assert done.status_code == 303
    assert claim_now(app, copy)[0] == "closed" and claim_now(app, original)[0] == "submitted"


def test_officers_who_may_not_decline_see_the_duplicates_without_the_button(app: Flask) -> None:
    original, copy = file(app, 2, barrier=FOOD)
    client, _ = signed_in(app, "reviewer")
    page = client.get(claim_path(copy)).text
    assert original in page and 'name="decline-duplicate_of"' not in page


# --- the claim page ----------------------------------------------------------------------------


def test_a_finished_claim_offers_no_catalogue_search_and_says_it_is_finished(app: Flask) -> None:
    (reference,) = file(app)
    officers_walk(app, reference, "accept", "uphold", "record_resolution")
    client, _ = signed_in(app, "triage", "reviewer")
    page = client.get(claim_path(reference))
    assert claim_now(app, reference)[0] == "resolved"
    words = text_of(page.text)
    assert "Find a catalogue entry" not in words and 'name="q"' not in page.text
    assert "This claim is finished" in words
    assert "Possible duplicates" not in words


def test_a_declined_claim_says_who_may_still_reopen_it(app: Flask) -> None:
    (reference,) = file(app)
    fire_as(app, reference, "decline", officer(app, "triage"))
    client, _ = signed_in(app, "triage")
    words = text_of(client.get(claim_path(reference)).text)
    assert "This claim is finished" in words and "Reopen, which admin officers may do" in words


def test_the_due_dates_are_listed_soonest_first(app: Flask) -> None:
    (reference,) = file(app)
    officers_walk(app, reference, "accept", "not_uphold", "appeal")
    client, _ = signed_in(app, "appeal_panel")
    due = re.search(r'id="due-dates".*?</dd>', client.get(claim_path(reference)).text, re.S)
    assert due is not None
    dates = re.findall(r"<li>(\d{1,2} \w+ \d{4}):", due[0])
    from datetime import datetime

    days = [datetime.strptime(d, "%d %B %Y").date() for d in dates]
    assert days and days == sorted(days)


def test_the_claim_page_puts_what_the_group_wrote_in_the_wide_column(app: Flask) -> None:
    (reference,) = file(app, barrier=FOOD)
    client, _ = signed_in(app, "triage")
    page = client.get(claim_path(reference)).text
    side, wide = page.split('class="govuk-grid-column-two-thirds"')
    assert "Food premises registration" in wide and "Food Standards Agency" in wide
    assert "Food Standards Agency" not in side and "Summary" in side
    assert fields(page)  # it has its forms
