"""Each action on a page of its own, and decisions checked before they are made (issue 18, items
3 and 4): the claim page links to the actions open now; a decision's form leads to "Check your
decision", which shows the e-mail the group will get, as it will be sent, and what happens to
the clocks; nothing changes until "Confirm"; then the claim page says what changed and who was
told. Over HTTP as a browser sends it, CSRF on, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.models import AuditEvent, Claim, ClaimClock, OutboxMessage, Regulation, TimelineEntry
from guarantee.services.claims import submit_claim
from guarantee.services.decisions import preview
from guarantee.services.notifications import GROUP_MESSAGES
from guarantee.transactions import context
from tests.helpers import INPUTS, Cast, submission, walk
from tests.test_console import (
    action_path,
    claim_now,
    claim_path,
    confirm,
    fire_as,
    form_with,
    is_check_page,
    location,
    offered,
    officer,
    post_action,
    signed_in,
)
from tests.test_public import error_summary, fields, text_of
from workflows import CLOCKS, STATE_LABELS, TRANSITIONS, TRANSITIONS_BY_TRIGGER, Transition

MAIL = Path(__file__).resolve().parent.parent / "guarantee" / "templates" / "mail"
STALE_WORDS = "Someone else changed this claim while you were looking at it, so nothing was done."
# The group's address as the console shows it, partly hidden (helpers' ada.testperson@example.org).
MASKED = "a" + "*" * len("da.testperson") + "@example.org"
DECISIONS = [t for t in TRANSITIONS if t.confirm_first]
# How the cast brings a claim to where each decision is made (nobody deciding it has decided it before).
PATHS = {
    "submitted": (),
    "under_review": ("accept",),
    "upheld": ("accept", "uphold"),
    "appealed": ("accept", "not_uphold", "appeal"),
    "closed": ("decline",),
}


def claim_in(app: Flask, state: str, **sections: dict[str, object]) -> str:
    with app.app_context(), unit_of_work() as ctx:
        reference = submit_claim(ctx, submission(**sections)).reference
        walk(ctx, Cast(ctx), reference, *PATHS[state])
    return reference


def answers(trigger: str) -> dict[str, str]:
    """helpers.INPUTS's valid input for the trigger, as its form asks for it."""
    return {name: str(value) for name, value in INPUTS[trigger].items()}


def outbox_rows(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def subject(template: str, reference: str) -> str:
    """The subject line of a mail template, for a claim (these name only the reference)."""
    first = (MAIL / f"{template}.txt").read_text().splitlines()[0].removeprefix("Subject: ")
    found = re.fullmatch(r'\{\{ _\("(?P<words>[^"]*)", reference=reference\) \}\}', first)
    assert found, "the subject names only the claim's reference"
    return found["words"] % {"reference": reference}


def decider(app: Flask, transition: Transition) -> FlaskClient:
    client, _ = signed_in(app, next((r for r in transition.fired_by if r != "admin"), "admin"))
    return client


# --- the claim page and the action pages ----------------------------------------------------


def test_the_claim_page_lists_the_actions_open_now_as_links_to_their_pages_not_forms(app: Flask) -> None:
    reference = claim_in(app, "under_review")
    client, _ = signed_in(app, "reviewer")
    page = client.get(claim_path(reference)).text
    assert offered(page) == {"request_information", "uphold", "not_uphold"}
    assert "/actions/" not in "".join(re.findall(r"<form\b[^>]*>", page)), "no action form on the claim page"
    for trigger in offered(page):
        link = re.search(rf'<a href="{action_path(reference, trigger)}"[^>]*>', page)
        assert link and "govuk-button" in link[0], "each action is a link styled as a button"


@pytest.mark.parametrize("trigger", ["request_information", "uphold"])
def test_an_action_page_shows_only_its_own_form_and_the_claim_it_acts_on(app: Flask, trigger: str) -> None:
    reference = claim_in(app, "under_review")
    client, _ = signed_in(app, "reviewer")
    page = client.get(action_path(reference, trigger))
    assert page.status_code == 200
    posts_to = re.findall(r'<form method="post" action="([^"]+)"', page.text)
    assert posts_to == ["/officer/sign-out", action_path(reference, trigger)]
    words = text_of(page.text)
    assert TRANSITIONS_BY_TRIGGER[trigger].label in words and reference in words
    assert "Parent-run nursery" in words and STATE_LABELS["under_review"] in words
    assert f'href="{claim_path(reference)}"' in page.text, "a way back to the claim"


def test_an_action_that_is_not_an_officers_is_not_found_and_one_not_open_now_is_a_409_page(app: Flask) -> None:
    reference = claim_in(app, "submitted")
    client, _ = signed_in(app, "reviewer", "triage")
    for trigger in ("appeal", "provide_information", "information_lapsed", "no_such_step"):
        assert client.get(action_path(reference, trigger)).status_code == 404
    not_now = client.get(action_path(reference, "uphold"))
    assert not_now.status_code == 409
    words = text_of(not_now.text)
    assert "“Uphold” is not possible now" in words and f"Claim {reference} is submitted." in words
    assert f'href="{claim_path(reference)}"' in not_now.text
    triage, _ = signed_in(app, "triage")
    reviewing = claim_in(app, "under_review")
    refused = triage.get(action_path(reviewing, "uphold"))
    assert refused.status_code == 403 and "Only reviewer or admin can uphold" in text_of(refused.text)


# --- decisions: checked, then made ------------------------------------------------------------


@pytest.mark.parametrize("transition", DECISIONS, ids=[t.trigger for t in DECISIONS])
def test_every_decision_goes_through_its_check_page_and_only_confirming_makes_it(
    app: Flask, transition: Transition
) -> None:
    trigger = transition.trigger
    (source,) = [s for s in transition.sources if s in PATHS]
    reference = claim_in(app, source)
    client = decider(app, transition)
    before, messages = claim_now(app, reference), outbox_rows(app)

    checked = post_action(client, reference, trigger, check=False, **answers(trigger))
    assert is_check_page(checked), text_of(checked.text)[:500]
    words = text_of(checked.text)
    assert subject(GROUP_MESSAGES[trigger], reference) in words, "the group's e-mail, as it will be sent"
    assert "Hello ((the group's contact name))" in words and MASKED in words
    for effect in transition.clocks:
        label = CLOCKS[effect.clock].label
        if effect.action == "start":
            assert re.search(rf"{label} starts: due \d{{1,2}} [A-Z][a-z]+ \d{{4}}", words), words
        else:
            assert f"{label} stops" in words, words
    assert f"the claim will be {STATE_LABELS[transition.dest].lower()}" in words
    assert (claim_now(app, reference), outbox_rows(app)) == (before, messages), "nothing changed yet"

    made = confirm(client, reference, trigger, checked.text)
    assert made.status_code == 303 and location(made) == claim_path(reference)
    _, version, events = before
    assert claim_now(app, reference) == (transition.dest, version + 1, events + 1)
    assert outbox_rows(app) == messages + 1
    banner = text_of(client.get(claim_path(reference)).text)
    assert f"The claim is now {STATE_LABELS[transition.dest].lower()}." in banner
    assert f"An e-mail is on its way to the group at {MASKED}." in banner


def test_the_check_page_shows_the_email_the_group_will_get_with_the_reasons_and_the_new_deadline(
    app: Flask,
) -> None:
    reference = claim_in(app, "under_review")
    client, _ = signed_in(app, "reviewer")
    checked = post_action(client, reference, "not_uphold", check=False, **answers("not_uphold"))
    email = re.search(r'id="group-email" lang="en">(.*?)</div>', checked.text, re.S)
    assert email, "the e-mail's text is on the page"
    body = text_of(email[1])
    assert f"We have not upheld your claim {reference}." in body
    assert "Our reasons: The rule protects children." in body
    due = re.search(r"Time to appeal starts: due (\d{1,2} [A-Z][a-z]+ \d{4})", text_of(checked.text))
    assert due and f"You can appeal until {due[1]} if" in body, "the e-mail gives the deadline the clock will have"
    made = confirm(client, reference, "not_uphold", checked.text)
    banner = text_of(client.get(location(made)).text)
    assert f"Decision stopped. Time to appeal started: due {due[1]}." in banner


def test_a_group_that_did_not_agree_to_be_contacted_is_not_emailed_and_both_pages_say_so(app: Flask) -> None:
    reference = claim_in(app, "submitted", consent={"contact": False})
    client, _ = signed_in(app, "triage")
    checked = post_action(client, reference, "decline", check=False, **answers("decline"))
    assert "The group did not agree to be contacted, so no e-mail will be sent." in text_of(checked.text)
    messages = outbox_rows(app)
    made = confirm(client, reference, "decline", checked.text)
    assert made.status_code == 303 and outbox_rows(app) == messages
    banner = text_of(client.get(location(made)).text)
    assert "The group did not agree to be contacted, so no e-mail was sent to the group." in banner


def test_a_check_page_gone_stale_is_refused_with_409_and_changes_nothing(app: Flask) -> None:
    reference = claim_in(app, "under_review")
    client, _ = signed_in(app, "reviewer")
    checked = post_action(client, reference, "uphold", check=False, **answers("uphold"))
    assert is_check_page(checked)
    fire_as(app, reference, "request_information", officer(app, "reviewer"))  # another officer, meanwhile
    before = claim_now(app, reference)
    refused = confirm(client, reference, "uphold", checked.text)
    assert refused.status_code == 409
    words = text_of(refused.text)
    assert STALE_WORDS in words and STATE_LABELS["awaiting_information"] in words
    assert claim_now(app, reference) == before


def test_a_bad_answer_stays_on_the_action_page_with_what_was_typed(app: Flask) -> None:
    reference = claim_in(app, "under_review")
    client, _ = signed_in(app, "reviewer")
    before = claim_now(app, reference)
    typed = "The ratio protects very young children, & <nothing> else."
    refused = post_action(client, reference, "not_uphold", reasons=typed, reason_code="")
    assert refused.status_code == 400
    assert "Do not uphold" in text_of(refused.text) and not is_check_page(refused)
    assert any(href.startswith("#not_uphold-reason_code") for href in error_summary(refused.text))
    assert fields(refused.text)["not_uphold-reasons"] == typed, "the typed text is kept"
    assert claim_now(app, reference) == before


def test_change_your_answers_goes_back_to_the_form_with_the_answers_kept(app: Flask) -> None:
    reference = claim_in(app, "under_review")
    client, _ = signed_in(app, "reviewer")
    checked = post_action(client, reference, "uphold", check=False, **answers("uphold"))
    before = claim_now(app, reference)
    back = client.post(action_path(reference, "uphold"), data=form_with(checked.text, "change"))
    assert back.status_code == 200 and not is_check_page(back)
    kept = fields(back.text)
    assert kept["uphold-reasons"] == INPUTS["uphold"]["reasons"]
    assert kept["uphold-remedy"] == INPUTS["uphold"]["remedy"]
    assert claim_now(app, reference) == before


def test_an_action_that_is_not_a_decision_is_made_at_once_and_says_what_it_did(app: Flask) -> None:
    reference = claim_in(app, "under_review")
    client, _ = signed_in(app, "reviewer")
    asked = post_action(client, reference, "request_information", check=False, **answers("request_information"))
    assert asked.status_code == 303, text_of(asked.text)[:300]
    assert claim_now(app, reference)[0] == "awaiting_information"
    banner = text_of(client.get(location(asked)).text)
    assert "The claim is now waiting for information from the group." in banner
    assert re.search(r"Decision paused, with \d+ working days left\.", banner), banner
    assert re.search(r"Reply to a question started: due \d{1,2} [A-Z][a-z]+ \d{4}\.", banner), banner


# --- the preview leaves no trace -------------------------------------------------------------


def _trace(reference: str) -> tuple[object, ...]:
    claim = db.session.scalar(select(Claim).where(Claim.reference == reference))
    assert claim is not None
    counted = [
        db.session.scalar(select(func.count()).select_from(model).where(model.claim_id == claim.id))
        for model in (AuditEvent, OutboxMessage, TimelineEntry)
    ]
    clocks = sorted(
        (c.name, c.status, c.due_on, c.days_left)
        for c in db.session.scalars(select(ClaimClock).where(ClaimClock.claim_id == claim.id))
    )
    regulations = db.session.scalar(select(func.count()).select_from(Regulation))
    return claim.state, claim.version, claim.decided_at, *counted, clocks, regulations


@pytest.mark.parametrize("trigger", ["not_uphold", "accept"])
def test_a_preview_leaves_no_trace_in_the_database(app: Flask, trigger: str) -> None:
    """No outbox row, no audit event, no timeline text, no clock change, no new catalogue entry
    (accept adds one), the claim's version as it was; on both databases."""
    from guarantee import mail

    reference = claim_in(app, TRANSITIONS_BY_TRIGGER[trigger].sources[0])
    reviewer = officer(app, "reviewer", "triage")
    with app.test_request_context():
        before = _trace(reference)
        ctx = context()
        seen = preview(
            ctx,
            reference,
            trigger,
            reviewer.actor,
            INPUTS[trigger],
            expected_version=before[1],  # type: ignore[arg-type]
            render=mail.render,
        )
        assert seen.to_state == TRANSITIONS_BY_TRIGGER[trigger].dest
        assert seen.group_message is not None and seen.group_message.email is not None
        assert seen.group_message.email.subject == subject(GROUP_MESSAGES[trigger], reference)
        assert [c.action for c in seen.clocks] == [e.action for e in TRANSITIONS_BY_TRIGGER[trigger].clocks]
        ctx.commit()  # what the request would do after showing the check page
        db.session.expire_all()
        assert _trace(reference) == before
