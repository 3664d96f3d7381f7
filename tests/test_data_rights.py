"""A group's data rights (issue 21): subject access (UK GDPR Article 15) and erasure on request
(Article 17), from its tracking page and from the officers' console.

A group sees or downloads everything held about its claim: what it wrote, its contact details, its
evidence, its timeline and every e-mail actually sent to it (written again from the facts each was
made from, the same words as sent but for the private link). Each copy is audited. It asks for its
contact details and evidence to be erased; officers see the request with its one-month clock, and
an admin carries it out: the e-mails stop, the links end, and what was decided stays. Claims are
moved by the services, e-mails sent by the real sender and renderer, pages used over HTTP, on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from guarantee import mail
from guarantee.clock import FixedClock
from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.models import Attachment, AuditEvent, Claim, Contact, DataRightsRequest, OutboxMessage
from guarantee.services.actors import GroupActor
from guarantee.services.data_rights import one_month_after
from guarantee.services.evidence import add_evidence
from tests.helpers import VALID_SUBMISSION
from tests.test_console import signed_in
from tests.test_group_links import BASE, Mailbox, file_claim, linking_app, mailbox, officers_walk  # noqa: F401
from tests.test_public import csrf, error_summary, text_of

PDF = b"%PDF-1.4\n% the hall's booking rules\n%%EOF\n"
GROUP_EMAIL = VALID_SUBMISSION["group"]["email"]


# --- the one-month clock --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2026, 11, 2), date(2026, 12, 2)),
        (date(2026, 12, 15), date(2027, 1, 15)),  # into the next year
        (date(2027, 1, 31), date(2027, 2, 28)),  # no 31 February: the month's last day
        (date(2028, 1, 30), date(2028, 2, 29)),  # a leap year
        (date(2026, 3, 31), date(2026, 4, 30)),
    ],
)
def test_a_request_is_due_on_the_same_date_next_month_or_that_months_last_day(received: date, due: date) -> None:
    assert one_month_after(received) == due


# --- helpers --------------------------------------------------------------------------------------


def group_browser(app: Flask, reference: str, token: str) -> FlaskClient:
    """A browser that opened the claim with its link."""
    browser = app.test_client()
    assert browser.get(f"/track/{reference}?token={token}").status_code == 303
    return browser


def copy_of_my_data(browser: FlaskClient, reference: str, format: str) -> tuple[int, str, dict[str, str]]:
    page = browser.get(f"/track/{reference}/your-data")
    assert page.status_code == 200, page.text
    response = browser.post(f"/track/{reference}/your-data", data={"csrf_token": csrf(page.text), "format": format})
    return response.status_code, response.text, dict(response.headers)


def events(app: Flask, reference: str) -> list[tuple[str, dict[str, object]]]:
    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.action, AuditEvent.payload)
            .join(Claim, Claim.id == AuditEvent.claim_id)
            .where(Claim.reference == reference)
            .order_by(AuditEvent.seq)
        )
        return [(row.action, row.payload) for row in rows]


def audit_verifies(app: Flask) -> bool:
    result = app.test_cli_runner().invoke(args=["guarantee", "audit", "verify"])
    return result.exit_code == 0


def filed_with_evidence(app: Flask) -> tuple[str, str, int]:
    reference, token = file_claim(app)
    with app.app_context(), unit_of_work() as ctx:
        attachment = add_evidence(ctx, reference, GroupActor(reference), "booking rules.pdf", PDF).id
    return reference, token, attachment


def claim_of(app: Flask, reference: str) -> int:
    with app.app_context():
        claim_id = db.session.scalar(select(Claim.id).where(Claim.reference == reference))
        assert claim_id is not None
        return claim_id


# --- subject access, from the tracking page ---------------------------------------------------------


def test_a_group_gets_everything_held_about_its_claim_with_every_email_sent_to_it(
    linking_app: Flask,  # noqa: F811
    mailbox: Mailbox,  # noqa: F811
) -> None:
    app = linking_app
    reference, token, attachment = filed_with_evidence(app)
    officers_walk(app, reference, "accept", "request_information")
    received = [m for m in mailbox.deliver(app) if m.to == GROUP_EMAIL]
    with app.app_context(), unit_of_work() as ctx:  # one more, queued but not yet sent
        ctx.session.add(
            OutboxMessage(
                message_id="<waiting@guarantee>",
                claim_id=claim_of(app, reference),
                recipient_type="group",
                template="claim_accepted",
                payload={"reference": reference},
                status="pending",
                attempts=0,
                created_at=ctx.now(),
                next_attempt_at=ctx.now(),
            )
        )
    with app.app_context():
        sent_rows = db.session.scalars(
            select(OutboxMessage.message_id).where(
                OutboxMessage.claim_id == claim_of(app, reference),
                OutboxMessage.recipient_type == "group",
                OutboxMessage.status == "sent",
            )
        ).all()
    assert len(sent_rows) == len(received) == 3  # filed, accepted, a question

    browser = group_browser(app, reference, token)
    status, body, headers = copy_of_my_data(browser, reference, "json")
    assert status == 200
    assert headers["Content-Disposition"] == f'attachment; filename="{reference}-your-data.json"'
    data = json.loads(body)

    # Every e-mail actually sent, as sent, but for its private link; none that was not sent.
    assert [m["subject"] for m in data["messages"]] == [m.subject for m in received]
    for copy, original in zip(data["messages"], received, strict=True):
        assert copy["body"].strip() == re.sub(rf"{re.escape(BASE)}/track/\S+", mail.COPY_LINK, original.text).strip()
    assert "does not keep the text of each e-mail" in data["messages_note"]

    # What the group wrote, its contact details, its evidence and its timeline.
    assert data["claim"]["initiative"]["title"] == VALID_SUBMISSION["initiative"]["title"]
    assert data["claim"]["barrier"]["how_it_blocks"] == VALID_SUBMISSION["barrier"]["how_it_blocks"]
    assert data["contact"]["email"] == GROUP_EMAIL
    assert [(f["id"], f["filename"]) for f in data["evidence"]] == [(attachment, "booking rules.pdf")]
    assert [t["action"] for t in data["timeline"]] == ["submitted", "accept", "request_information"]
    download = browser.get(f"/track/{reference}/evidence/{attachment}")
    assert (download.status_code, download.data) == (200, PDF)

    # The page says the same.
    status, page, _ = copy_of_my_data(browser, reference, "page")
    assert status == 200
    words = text_of(page)
    for copy in data["messages"]:
        assert copy["subject"] in words
        assert " ".join(copy["body"].split()) in words
    assert GROUP_EMAIL in words and "booking rules.pdf" in words
    assert f'href="/track/{reference}/evidence/{attachment}"' in page

    # Each copy is audited, with its format and nothing of the data; the chain still verifies.
    provided = [payload for action, payload in events(app, reference) if action == "data_provided"]
    assert provided == [{"format": "json"}, {"format": "page"}]
    assert audit_verifies(app)
    # Making a copy is not a step of the claim: the group's timeline does not show it.
    assert "data_provided" not in {
        t["action"] for t in json.loads(copy_of_my_data(browser, reference, "json")[1])["timeline"]
    }


def test_only_the_claims_group_can_get_its_data(linking_app: Flask) -> None:  # noqa: F811
    app = linking_app
    reference, token = file_claim(app)
    other, other_token = file_claim(app)
    stranger = app.test_client()
    assert stranger.get(f"/track/{reference}/your-data").status_code == 403
    assert stranger.post(f"/track/{reference}/your-data", data={"format": "json"}).status_code == 403
    # Another claim's group, with its own link open, gets nothing of this one.
    browser = group_browser(app, other, other_token)
    assert browser.get(f"/track/{reference}/your-data").status_code == 403
    assert browser.post(f"/track/{reference}/your-data", data={"format": "json"}).status_code == 403
    assert [a for a, _ in events(app, reference) if a == "data_provided"] == []
    # Without a CSRF token (or with an expired page), no copy, and nothing recorded.
    mine = group_browser(app, reference, token)
    refused = mine.post(f"/track/{reference}/your-data", data={"format": "json"})
    assert refused.status_code == 400 and "expired" in text_of(refused.text)
    assert [a for a, _ in events(app, reference) if a == "data_provided"] == []


# --- erasure on request -----------------------------------------------------------------------------


def test_a_groups_erasure_request_reaches_officers_and_an_admin_carries_it_out(
    linking_app: Flask,  # noqa: F811
    mailbox: Mailbox,  # noqa: F811
    clock: FixedClock,
) -> None:
    app = linking_app
    reference, token, attachment = filed_with_evidence(app)
    officers_walk(app, reference, "accept", "uphold")
    mailbox.deliver(app)
    browser = group_browser(app, reference, token)

    explained = browser.get(f"/track/{reference}/erase")
    assert explained.status_code == 200
    words = text_of(explained.text)
    assert "What we will erase" in words and "What stays" in words and "record of what was decided" in words
    asked = browser.post(f"/track/{reference}/erase", data={"csrf_token": csrf(explained.text)})
    assert asked.status_code == 303
    acknowledged = text_of(browser.get(asked.headers["Location"]).text)
    assert "We have your request to erase your details" in acknowledged and "2 December 2026" in acknowledged
    assert ("erasure_requested", {"request": 1, "channel": "tracking_page", "due_on": "2026-12-02"}) in events(
        app, reference
    )
    (told,) = [m for m in mailbox.deliver(app) if m.to == GROUP_EMAIL]
    assert "We have your request to erase your details" in told.subject and "2 December 2026" in told.text
    timeline = text_of(browser.get(f"/track/{reference}").text)
    assert "You asked us to erase your contact details and evidence" in timeline
    again = browser.post(f"/track/{reference}/erase", data={"csrf_token": csrf(explained.text)})
    assert again.status_code == 409 and "You asked already" in text_of(again.text)

    # Officers who deal with groups see it, with its due date and the days left.
    clock.advance(days=10)
    reviewer, _ = signed_in(app, "reviewer")
    listed = reviewer.get("/officer/data-rights")
    assert listed.status_code == 200
    open_list = text_of(listed.text.split('id="open-requests"')[1])
    assert reference in open_list and "2 December 2026 (20 days left)" in open_list
    assert 'href="/officer/data-rights"' in reviewer.get("/officer").text, "in the console's navigation"
    # A reviewer may not carry it out.
    page = reviewer.get("/officer/data-rights/1")
    assert "Your roles do not include it" in text_of(page.text)
    assert reviewer.post("/officer/data-rights/1/erase", data={"csrf_token": csrf(page.text)}).status_code == 403

    admin, _ = signed_in(app, "admin")
    page = admin.get("/officer/data-rights/1")
    done = admin.post("/officer/data-rights/1/erase", data={"csrf_token": csrf(page.text)})
    assert done.status_code == 303
    with app.app_context():
        contact = db.session.scalar(select(Contact).where(Contact.claim_id == claim_of(app, reference)))
        assert contact is not None and (contact.contact_name, contact.email, contact.phone) == (None, None, None)
        assert db.session.get(Attachment, attachment) is None
        request = db.session.get(DataRightsRequest, 1)
        assert request is not None and request.completed_at is not None
    assert [a for a, _ in events(app, reference)][-3:] == ["contact_erased", "evidence_erased", "erasure_completed"]
    assert audit_verifies(app)
    listed = text_of(admin.get("/officer/data-rights").text)
    assert "None: no group is waiting for an answer" in listed and "Done lately" in listed

    erased_for_good(app, mailbox, admin, browser, reference=reference, token=token)


def erased_for_good(
    app: Flask, inbox: Mailbox, admin: FlaskClient, browser: FlaskClient, *, reference: str, token: str
) -> None:
    """After erasure: no e-mail to the old address, the links end, what was decided stays."""
    officers_walk(app, reference, "record_resolution")
    assert [m for m in inbox.deliver(app) if m.to == GROUP_EMAIL] == []
    assert app.test_client().get(f"/track/{reference}?token={token}").status_code == 410
    assert browser.get(f"/track/{reference}").status_code == 403
    claim_page = text_of(admin.get(f"/officer/claims/{reference}").text)
    assert "The group's contact details were erased on 12 November 2026" in claim_page
    assert "Claim upheld" in claim_page or "Upheld" in claim_page


def test_an_admin_erases_a_groups_details_from_the_claim_page_with_a_reason(linking_app: Flask) -> None:  # noqa: F811
    app = linking_app
    reference, _, attachment = filed_with_evidence(app)
    admin, _ = signed_in(app, "admin")
    assert "Erase the group's contact details and evidence" in admin.get(f"/officer/claims/{reference}").text
    page = admin.get(f"/officer/claims/{reference}/erase")
    assert page.status_code == 200
    refused = admin.post(f"/officer/claims/{reference}/erase", data={"csrf_token": csrf(page.text)})
    assert refused.status_code == 400
    assert set(error_summary(refused.text).values()) == {
        "Select how the request came",
        "Enter the reason",
    }
    assert "contact_erased" not in [a for a, _ in events(app, reference)]
    done = admin.post(
        f"/officer/claims/{reference}/erase",
        data={"csrf_token": csrf(page.text), "channel": "post", "reason": "Letter of 1 November from the chair."},
    )
    assert done.status_code == 303
    with app.app_context():
        (request,) = db.session.scalars(select(DataRightsRequest)).all()
        assert (request.kind, request.channel, request.note) == (
            "erasure",
            "post",
            "Letter of 1 November from the chair.",
        )
        assert request.completed_at is not None
        assert db.session.get(Attachment, attachment) is None
    assert [a for a, _ in events(app, reference)][-4:] == [
        "erasure_requested",
        "contact_erased",
        "evidence_erased",
        "erasure_completed",
    ]
    again = admin.get(f"/officer/claims/{reference}/erase")
    assert "were erased on 2 November 2026" in text_of(again.text)
    assert audit_verifies(app)


# --- subject access, from the console ----------------------------------------------------------------


def test_an_officer_records_a_request_by_post_and_answers_it_with_the_groups_data(
    linking_app: Flask,  # noqa: F811
    mailbox: Mailbox,  # noqa: F811
    clock: FixedClock,
) -> None:
    app = linking_app
    reference, _, attachment = filed_with_evidence(app)
    mailbox.deliver(app)
    triage, _ = signed_in(app, "triage")
    form = triage.get(f"/officer/claims/{reference}/data-rights")
    assert form.status_code == 200
    assert "2 11 2026" in form.text, "today, to start with"
    recorded = triage.post(
        f"/officer/claims/{reference}/data-rights",
        data={"csrf_token": csrf(form.text), "kind": "access", "channel": "post", "received_on": "30/10/2026"},
    )
    assert recorded.status_code == 303
    assert ("access_requested", {"request": 1, "channel": "post", "due_on": "2026-11-30"}) in events(app, reference)

    clock.advance(days=30)  # 2 December: two days late
    triage, _ = signed_in(app, "triage")
    listed = text_of(triage.get("/officer/data-rights").text)
    assert "Overdue" in listed and "30 November 2026" in listed and "(2 days late)" in listed
    page = triage.get("/officer/data-rights/1")
    copy = triage.post("/officer/data-rights/1/copy", data={"csrf_token": csrf(page.text), "format": "json"})
    assert copy.status_code == 200 and copy.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(copy.text)
    assert data["contact"]["email"] == GROUP_EMAIL and [m["subject"] for m in data["messages"]] == [
        m.subject for m in mailbox.received if m.to == GROUP_EMAIL
    ]
    assert [f["id"] for f in data["evidence"]] == [attachment]
    assert ("data_provided", {"format": "json", "request": 1}) in events(app, reference)
    assert "None: no group is waiting for an answer" in text_of(triage.get("/officer/data-rights").text)
    # Answered once: a second press is refused, not a second answer.
    assert triage.post("/officer/data-rights/1/copy", data={"csrf_token": csrf(page.text)}).status_code == 409
    assert audit_verifies(app)


# --- who may, and bad input -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["appeal_panel", "team_leader"])
def test_officers_who_cannot_see_contact_details_cannot_see_data_rights(linking_app: Flask, role: str) -> None:  # noqa: F811
    app = linking_app
    reference, _ = file_claim(app)
    browser, _ = signed_in(app, role)
    assert 'href="/officer/data-rights"' not in browser.get("/officer").text
    assert browser.get("/officer/data-rights").status_code == 403
    assert browser.get(f"/officer/claims/{reference}/data-rights").status_code == 403
    assert "Record a request" not in browser.get(f"/officer/claims/{reference}").text


def test_a_triage_officer_cannot_erase(linking_app: Flask) -> None:  # noqa: F811
    app = linking_app
    reference, _ = file_claim(app)
    triage, _ = signed_in(app, "triage")
    assert "Erase the group's contact details" not in triage.get(f"/officer/claims/{reference}").text
    assert triage.get(f"/officer/claims/{reference}/erase").status_code == 403
    token = csrf(triage.get("/officer").text)
    refused = triage.post(
        f"/officer/claims/{reference}/erase", data={"csrf_token": token, "channel": "post", "reason": "A letter."}
    )
    assert refused.status_code == 403
    assert "contact_erased" not in [a for a, _ in events(app, reference)]


def test_bad_input_gets_a_clear_error_and_records_nothing(linking_app: Flask) -> None:  # noqa: F811
    app = linking_app
    reference, _ = file_claim(app)
    triage, _ = signed_in(app, "triage")
    form = triage.get(f"/officer/claims/{reference}/data-rights")
    good = {"csrf_token": csrf(form.text), "kind": "erasure", "channel": "email", "received_on": "2 11 2026"}

    nul = triage.post(f"/officer/claims/{reference}/data-rights", data={**good, "note": "From the\x00 chair"})
    assert nul.status_code == 400 and "There is a character we cannot keep" in text_of(nul.text)
    too_long = triage.post(f"/officer/claims/{reference}/data-rights", data={**good, "note": "x" * 2001})
    assert too_long.status_code == 400
    assert error_summary(too_long.text) == {"#note": "The note must be 2,000 characters or fewer"}
    for when, message in [
        ("31 2 2026", "Enter the date the request was received, like 27 11 2026"),
        ("yesterday", "Enter the date the request was received, like 27 11 2026"),
        ("3 11 2026", "The date the request was received must be today or in the past"),
    ]:
        refused = triage.post(f"/officer/claims/{reference}/data-rights", data={**good, "received_on": when})
        assert refused.status_code == 400 and error_summary(refused.text) == {"#received_on": message}, when
    unchosen = triage.post(f"/officer/claims/{reference}/data-rights", data={**good, "kind": "everything"})
    assert unchosen.status_code == 400 and "#kind" in error_summary(unchosen.text)
    assert triage.get("/officer/claims/CPG-2026-999999/data-rights").status_code == 404
    assert triage.get("/officer/data-rights/12345").status_code == 404
    assert app.test_client().get("/track/CPG-2026-999999/your-data").status_code == 403
    with app.app_context():
        assert db.session.scalars(select(DataRightsRequest)).all() == []
    assert [a for a, _ in events(app, reference) if a.endswith("_requested")] == []
    # Once erased, the group's details cannot be asked to be erased again.
    admin, _ = signed_in(app, "admin")
    page = admin.get(f"/officer/claims/{reference}/erase")
    admin.post(
        f"/officer/claims/{reference}/erase",
        data={"csrf_token": csrf(page.text), "channel": "phone", "reason": "Rang."},
    )
    twice = triage.post(f"/officer/claims/{reference}/data-rights", data=good)
    assert twice.status_code == 409 and "already erased" in text_of(twice.text)
