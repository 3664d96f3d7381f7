"""The group's tracking page leads with what matters now, and withdrawing is a page of its own.

In every state the page reads, top to bottom: where the claim is and what happens next (with the
deadline and how it was worked out), the decision with its reasons and remedy once there is one,
the action open now, the timeline, then what the group told us. Withdrawing is a link, offered only
while the workflow lets the group withdraw, to a page that warns and asks to confirm; a page left
open while the claim moved on is refused. Decision e-mails name the remedy chosen.

Each test runs on SQLite and on PostgreSQL, over HTTP with the test client, CSRF on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.mail import render
from guarantee.models import Claim, OutboxMessage
from guarantee.services.claims import submit_claim
from guarantee.services.sender import Recipient
from tests.conftest import START, Database
from tests.helpers import INPUTS, Cast, submission, walk
from tests.test_public import csrf, error_summary, fields, follow, module_app, post_multipart, text_of, uk
from workflows import STATE_GUIDANCE, TRANSITIONS_BY_TRIGGER
from workflows.vocabulary import label


@pytest.fixture(scope="module")
def shared_app(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    app = module_app(database, tmp_path_factory.mktemp("claim-page"))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(shared_app: Flask) -> Flask:
    shared_app.extensions["guarantee.clock"].set(START)
    return shared_app


def claim_in(app: Flask, client: FlaskClient, *triggers: str) -> str:
    """A claim filed and walked through these triggers (officers' and the group's, with
    helpers.INPUTS), its tracking link opened in ``client``."""
    with app.app_context(), unit_of_work() as ctx:
        filed = submit_claim(ctx, submission())
        walk(ctx, Cast(ctx), filed.reference, *triggers)
    assert client.get(f"/track/{filed.reference}?token={filed.tracking_token}").status_code == 303
    return filed.reference


def then(app: Flask, reference: str, *triggers: str) -> None:
    """Officers (or the group, elsewhere) move the claim on while a page is open."""
    with app.app_context(), unit_of_work() as ctx:
        walk(ctx, Cast(ctx), reference, *triggers)


def state_of(app: Flask, reference: str) -> str:
    with app.app_context():
        return str(db.session.scalar(select(Claim.state).where(Claim.reference == reference)))


def sections(html: str) -> list[str]:
    """The headings (h2) of the page's main content, in the order they come in the HTML."""
    main = html[html.index("<main") : html.index("</main>")]
    found = [(m.start(), text_of(m[1])) for m in re.finditer(r"<h2 [^>]*>(.*?)</h2>", main, re.S)]
    assert [p for p, _ in found] == sorted(p for p, _ in found)
    return [heading for _, heading in found]


def position(html: str, text: str) -> int:
    """Where ``text`` (as written on the page, escaped) first comes in the HTML."""
    at = unescape(html).find(text)
    assert at >= 0, f"{text!r} is not on the page"
    return at


NOW = "Where your claim is now"
DECISION = "The decision"
TIMELINE = "What has happened so far"
TOLD_US = "What you told us"
YOURS = "Your data"  # to see it, or ask for it to be erased (guarantee.public.data_rights)
STOP = "If you no longer need this claim"

ORDER = {
    "submitted": ((), [NOW, TIMELINE, TOLD_US, YOURS, STOP]),
    "question asked": (
        ("accept", "request_information"),
        [NOW, "Answer the question", TIMELINE, TOLD_US, YOURS, STOP],
    ),
    "not upheld": (("accept", "not_uphold"), [NOW, DECISION, "Appeal the decision", TIMELINE, TOLD_US, YOURS, STOP]),
    # Once upheld (here on appeal) the council owes the remedy: withdrawing is no longer offered.
    "appeal allowed": (("accept", "not_uphold", "appeal", "allow_appeal"), [NOW, DECISION, TIMELINE, TOLD_US, YOURS]),
    "resolved": (("accept", "uphold", "record_resolution"), [NOW, DECISION, TIMELINE, TOLD_US, YOURS]),
    "withdrawn": (("withdraw",), [NOW, TIMELINE, TOLD_US, YOURS]),
}


# --- the order of the page ---------------------------------------------------------------------


@pytest.mark.parametrize(("triggers", "expected"), list(ORDER.values()), ids=list(ORDER))
def test_the_tracking_page_leads_with_what_matters_now(
    app: Flask, client: FlaskClient, triggers: tuple[str, ...], expected: list[str]
) -> None:
    reference = claim_in(app, client, *triggers)

    page = client.get(f"/track/{reference}").text

    assert sections(page) == expected
    state = state_of(app, reference)
    assert position(page, NOW) < position(page, STATE_GUIDANCE[state]) < position(page, TIMELINE)


@pytest.mark.parametrize(
    ("triggers", "due_phrase"),
    [
        ((), "We will check your claim by"),
        (("accept", "request_information"), "Answer our question by"),
        (("accept", "not_uphold"), "The last day to appeal is"),
        (("accept", "uphold"), "The council will put the remedy in place by"),
    ],
    ids=["submitted", "question asked", "not upheld", "upheld"],
)
def test_the_deadline_and_how_it_was_worked_out_come_first(
    app: Flask, client: FlaskClient, triggers: tuple[str, ...], due_phrase: str
) -> None:
    reference = claim_in(app, client, *triggers)
    with app.app_context():
        due = db.session.scalar(select(Claim.due_on).where(Claim.reference == reference))
    assert due

    page = client.get(f"/track/{reference}").text

    first = page[: page.index(">" + TIMELINE)]
    first = first[: first.index(">" + DECISION)] if ">" + DECISION in first else first
    words = text_of(first)
    assert f"{due_phrase} {uk(due)}." in words
    assert "How we worked out this date" in words
    assert "We count working days: Monday to Friday, not counting bank holidays in England." in words
    assert "working days counted from the day after" in words


def test_a_not_upheld_claim_shows_the_reasons_right_after_the_guidance_and_before_the_appeal_form(
    app: Flask, client: FlaskClient
) -> None:
    reference = claim_in(app, client, "accept", "not_uphold")

    page = client.get(f"/track/{reference}").text

    assert "The reasons are on this page" in STATE_GUIDANCE["not_upheld"]
    reasons = INPUTS["not_uphold"]["reasons"]
    assert position(page, STATE_GUIDANCE["not_upheld"]) < position(page, reasons)
    assert position(page, reasons) < page.index('name="appeal-grounds"')
    assert position(page, reasons) < position(page, TIMELINE)
    words = text_of(page)
    assert f"{DECISION} Decision Claim not upheld When 2 November 2026 Reasons {reasons}" in words


def test_an_allowed_appeal_shows_its_reasons_and_the_remedy_chosen(app: Flask, client: FlaskClient) -> None:
    reference = claim_in(app, client, "accept", "not_uphold", "appeal", "allow_appeal")

    page = client.get(f"/track/{reference}").text

    decision = text_of(page[page.index(">" + DECISION) : page.index(">" + TIMELINE)])
    remedy = label(INPUTS["allow_appeal"]["remedy"])
    assert remedy == "Guidance clarified"
    assert "Decision Appeal allowed: claim upheld" in decision
    assert f"Reasons {INPUTS['allow_appeal']['reasons']}" in decision
    assert f"Remedy {remedy}" in decision
    assert INPUTS["not_uphold"]["reasons"] not in decision, "the first decision no longer stands"


def test_a_resolved_claim_shows_the_decision_and_what_the_council_did(app: Flask, client: FlaskClient) -> None:
    reference = claim_in(app, client, "accept", "uphold", "record_resolution")

    page = client.get(f"/track/{reference}").text

    decision = text_of(page[page.index(">" + DECISION) : page.index(">" + TIMELINE)])
    assert f"Decision Claim upheld When 2 November 2026 Reasons {INPUTS['uphold']['reasons']}" in decision
    assert f"Remedy {label(INPUTS['uphold']['remedy'])}" in decision
    assert f"What the council did When 2 November 2026 Summary {INPUTS['record_resolution']['summary']}" in decision
    assert f"Outcome {label(INPUTS['record_resolution']['outcome'])}" in decision


def test_a_claim_reopened_after_it_was_closed_shows_no_decision_until_a_new_one(
    app: Flask, client: FlaskClient
) -> None:
    reference = claim_in(app, client, "decline")
    assert DECISION in sections(client.get(f"/track/{reference}").text)

    then(app, reference, "reopen")

    assert DECISION not in sections(client.get(f"/track/{reference}").text)


# --- withdrawing, on a page of its own ------------------------------------------------------------


def withdraw_page(client: FlaskClient, reference: str) -> str:
    page = client.get(f"/track/{reference}/actions/withdraw")
    assert page.status_code == 200, text_of(page.text)[:300]
    return page.text


def press_withdraw(client: FlaskClient, reference: str, page: str, reason: str = "") -> TestResponse:
    return post_multipart(client, f"/track/{reference}/actions/withdraw", {**fields(page), "withdraw-reason": reason})


@pytest.mark.parametrize("triggers", [(), ("accept", "request_information"), ("accept", "not_uphold")])
def test_the_tracking_page_links_to_the_withdraw_page_and_has_no_withdraw_form(
    app: Flask, client: FlaskClient, triggers: tuple[str, ...]
) -> None:
    reference = claim_in(app, client, *triggers)

    page = client.get(f"/track/{reference}").text

    assert f'<a class="govuk-link" href="/track/{reference}/actions/withdraw">Withdraw the claim</a>' in page
    assert 'name="withdraw-reason"' not in page
    assert "govuk-button--warning" not in page


def test_the_withdraw_page_warns_and_asks_to_confirm(app: Flask, client: FlaskClient) -> None:
    reference = claim_in(app, client)

    page = withdraw_page(client, reference)

    words = text_of(page)
    assert "Are you sure you want to withdraw the claim?" in words
    assert "Where your claim is now: Submitted" in words
    assert "Warning Nothing more will happen to your claim after this. You cannot undo it." in words
    assert 'class="govuk-warning-text"' in page
    assert "Why you are withdrawing" in words
    assert re.search(r'<button [^>]*class="govuk-button govuk-button--warning"[^>]*>\s*Yes, withdraw the claim', page)
    assert f'href="/track/{reference}">No, go back to my claim</a>' in page
    assert fields(page)["withdraw-version"] == "1"
    assert state_of(app, reference) == "submitted", "opening the page changes nothing"


@pytest.mark.parametrize("reason", ["", "We found another venue."], ids=["without a reason", "with a reason"])
def test_confirming_withdraws_the_claim(app: Flask, client: FlaskClient, reason: str) -> None:
    reference = claim_in(app, client, "accept")
    page = withdraw_page(client, reference)

    response = press_withdraw(client, reference, page, reason)

    after = follow(client, response)
    words = text_of(after.text)
    assert "Your claim has been withdrawn." in words
    assert "Where your claim is now Withdrawn" in words
    assert "You withdrew the claim" in words
    assert ("Your reason: We found another venue." in words) is bool(reason)
    assert "<form" not in after.text, "nothing more can be done, not even adding evidence"
    assert STOP not in words
    assert state_of(app, reference) == "withdrawn"


@pytest.mark.parametrize(
    "triggers",
    [("withdraw",), ("accept", "uphold", "record_resolution"), ("decline",)],
    ids=["withdrawn", "resolved", "closed"],
)
def test_where_withdrawing_changes_nothing_the_page_is_refused_and_a_forged_post_too(
    app: Flask, client: FlaskClient, triggers: tuple[str, ...]
) -> None:
    reference = claim_in(app, client, *triggers)
    state = state_of(app, reference)
    assert "withdraw" not in [t.trigger for t in TRANSITIONS_BY_TRIGGER.values() if state in t.sources]

    page = client.get(f"/track/{reference}/actions/withdraw")

    assert page.status_code == 409
    words = text_of(page.text)
    assert "There is a problem" in words
    assert f"You can no longer withdraw the claim: your claim is now {state.replace('_', ' ')}." in words
    assert NOW in words, "the claim's own page, with what can be done now"
    # Neither a link nor a form to withdraw (the language toggle's link comes back to this address).
    assert not re.search(rf'(href|action)="/track/{reference}/actions/withdraw"', page.text)
    forged = post_multipart(
        client,
        f"/track/{reference}/actions/withdraw",
        {
            "withdraw-csrf_token": csrf(client.get("/track").text),
            "withdraw-action_key": "k" * 32,
            "withdraw-version": "99",
        },
    )
    assert forged.status_code == 409
    assert state_of(app, reference) == state


def test_a_withdraw_page_left_open_while_the_claim_moved_on_is_refused_then_works_when_confirmed_again(
    app: Flask, client: FlaskClient
) -> None:
    reference = claim_in(app, client)
    stale = withdraw_page(client, reference)
    then(app, reference, "accept")

    refused = press_withdraw(client, reference, stale, "We found another venue.")

    assert refused.status_code == 409
    html = refused.text
    words = text_of(html)
    assert "Your claim changed while this page was open: it is now under review." in words
    assert "Check that you still want to withdraw the claim, then press the button again." in words
    assert "Where your claim is now: Under review" in words
    assert fields(html)["withdraw-reason"] == "We found another venue.", "what was typed is kept"
    assert state_of(app, reference) == "under_review"

    follow(client, press_withdraw(client, reference, html, "We found another venue."))

    assert state_of(app, reference) == "withdrawn"


def test_a_withdraw_page_left_open_until_the_claim_ended_shows_the_claim_instead(
    app: Flask, client: FlaskClient
) -> None:
    reference = claim_in(app, client, "accept")
    stale = withdraw_page(client, reference)
    then(app, reference, "uphold", "record_resolution")

    refused = press_withdraw(client, reference, stale)

    assert refused.status_code == 409
    words = text_of(refused.text)
    assert "You can no longer withdraw the claim: your claim is now resolved." in words
    assert f"{NOW} Resolved" in words
    assert state_of(app, reference) == "resolved"


@pytest.mark.parametrize(
    ("left_out", "status", "words"),
    [
        ("withdraw-version", 409, "Your claim changed while this page was open"),
        ("withdraw-csrf_token", 400, "This page had expired, so nothing was saved"),
    ],
    ids=["the page's version", "its CSRF token"],
)
def test_a_withdrawal_sent_without_what_its_page_carries_changes_nothing(
    app: Flask, client: FlaskClient, left_out: str, status: int, words: str
) -> None:
    reference = claim_in(app, client)
    page = fields(withdraw_page(client, reference))
    del page[left_out]

    refused = post_multipart(client, f"/track/{reference}/actions/withdraw", dict(page))

    assert refused.status_code == status
    assert words in text_of(refused.text)
    assert state_of(app, reference) == "submitted"


def test_a_reason_too_long_comes_back_on_the_withdraw_page_beside_its_box(app: Flask, client: FlaskClient) -> None:
    reference = claim_in(app, client)
    page = withdraw_page(client, reference)

    refused = press_withdraw(client, reference, page, "x" * 10_001)

    assert refused.status_code == 400
    html = refused.text
    assert list(error_summary(html)) == ["#withdraw-reason"]
    assert "Are you sure you want to withdraw the claim?" in text_of(html)
    assert state_of(app, reference) == "submitted"


def test_the_other_actions_are_forms_on_the_tracking_page_so_their_address_leads_there(
    app: Flask, client: FlaskClient
) -> None:
    reference = claim_in(app, client, "accept", "not_uphold")

    response = client.get(f"/track/{reference}/actions/appeal")

    assert response.status_code == 303
    assert response.headers["Location"] == f"/track/{reference}#action-appeal"
    assert client.get(f"/track/{reference}/actions/uphold").status_code == 404
    assert client.get(f"/track/{reference}/actions/no_such_step").status_code == 404


# --- the e-mails carry the remedy -----------------------------------------------------------------


def sent_text(app: Flask, reference: str, template: str) -> str:
    with app.app_context(), unit_of_work() as ctx:
        message = ctx.session.scalar(
            select(OutboxMessage)
            .join(Claim, Claim.id == OutboxMessage.claim_id)
            .where(Claim.reference == reference, OutboxMessage.template == template)
        )
        assert message is not None, f"no {template} message"
        return render(message, Recipient("group@example.org", "Sam"), ctx).text


@pytest.mark.parametrize(
    ("triggers", "template", "line"),
    [
        (("accept", "not_uphold", "appeal", "allow_appeal"), "appeal_allowed", "The remedy: Guidance clarified"),
        (("accept", "uphold"), "decision_upheld", f"The remedy: {label('waiver')}"),
        (("accept", "uphold", "record_resolution"), "claim_resolved", "Outcome: Waiver granted"),
    ],
    ids=["appeal allowed", "upheld", "resolved"],
)
def test_the_decision_e_mail_names_the_remedy_chosen(
    app: Flask, client: FlaskClient, triggers: tuple[str, ...], template: str, line: str
) -> None:
    reference = claim_in(app, client, *triggers)

    text = sent_text(app, reference, template)

    assert f"\n{line}\n" in text
    assert "{" not in text


def test_an_appeal_allowed_e_mail_gives_the_date_the_remedy_is_due(app: Flask, client: FlaskClient) -> None:
    reference = claim_in(app, client, "accept", "not_uphold", "appeal", "allow_appeal")
    with app.app_context():
        due = db.session.scalar(select(Claim.due_on).where(Claim.reference == reference))
    assert due

    assert f"We will tell you when the change has been made, by {uk(due)}." in sent_text(
        app, reference, "appeal_allowed"
    )


def test_the_withdraw_page_of_a_claim_not_opened_here_asks_for_the_link(app: Flask, client: FlaskClient) -> None:
    reference = claim_in(app, client)
    stranger = app.test_client()

    assert stranger.get(f"/track/{reference}/actions/withdraw").status_code == 403
