"""The check-in's e-mail, its one-question page, and the admins' remedy follow-ups in the console
(issue 20, item 7), through the app as a group and an admin use them."""

from __future__ import annotations

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
from guarantee.models import RemedyCheckIn
from guarantee.services import audit, schedule, sender
from guarantee.services.claims import submit_claim
from tests.helpers import Cast, submission, walk
from tests.test_console import signed_in
from tests.test_public import error_summary, fields, text_of

BASE = "http://guarantee.test"


class Outbox:
    """The real sender and renderer, keeping what they send."""

    def __init__(self) -> None:
        self.sent: list[sender.Email] = []

    def send(self, email: sender.Email) -> None:
        self.sent.append(email)


def resolved_and_checked_in(app: Flask, clock: FixedClock) -> tuple[str, sender.Email]:
    """A claim upheld and resolved, and its 3-month check-in e-mail, sent 3 months on."""
    app.config["GUARANTEE_BASE_URL"] = BASE
    with app.app_context(), unit_of_work() as ctx:
        reference = submit_claim(ctx, submission()).reference
        walk(ctx, Cast(ctx), reference, "accept", "uphold", "record_resolution")
    clock.set_day(date(2027, 2, 2), hour=9)
    with app.app_context(), unit_of_work() as ctx:
        assert schedule.queue_scheduled(ctx)["check_ins"] == 1
    outbox = Outbox()
    with app.app_context():
        sender.send_batch(unit_of_work, outbox, mail.render)
    (check_in,) = [e for e in outbox.sent if "check-in" in e.subject]
    return reference, check_in


def link_path(email: sender.Email) -> str:
    found = re.search(rf"{re.escape(BASE)}(/check-in/\S+\?token=\S+)", email.text)
    assert found, email.text
    return found[1]


def answer(client: FlaskClient, path: str, **given: str) -> tuple[int, str]:
    page = client.get(path)
    assert page.status_code == 200, page.text
    sent = {**fields(page.text), **given}
    response = client.post(path.split("?", maxsplit=1)[0], data=sent)
    return response.status_code, response.text


def test_the_e_mail_links_to_one_question_whose_answer_is_kept_and_audited(
    app: Flask, clock: FixedClock, client: FlaskClient
) -> None:
    reference, email = resolved_and_checked_in(app, clock)
    assert email.subject == f"Did the remedy happen? A short check-in on claim {reference}"
    assert "is your initiative running now, and was the remedy put in place?" in email.text
    assert re.search(r"/track/\S+\?token=", email.text), "and its tracking link, as every e-mail has"
    path = link_path(email)
    page = client.get(path)
    assert page.status_code == 200
    assert "Is your initiative running now, and was the remedy put in place?" in text_of(page.text)
    assert page.headers["Cache-Control"].startswith("no-store")

    status, thanks = answer(client, path, answer="remedy_not_in_place", anything_else="The waiver never came.")
    assert status == 200 and "Thank you for your answer" in text_of(thanks)
    assert "The council's team will look into why" in text_of(thanks)
    with app.app_context(), unit_of_work() as ctx:
        row = ctx.session.scalars(select(RemedyCheckIn)).one()
        assert (row.answer, row.months, row.sent_at is not None) == ("remedy_not_in_place", 3, True)
        assert row.follow_up_due_on == date(2027, 3, 2)
        assert audit.verify(ctx).ok

    again = client.get(path)
    assert again.status_code == 200 and "You have already answered this check-in" in text_of(again.text)
    assert "No: the remedy has not been put in place" in text_of(again.text)
    refused = client.post(path.split("?")[0], data={**fields(page.text), "answer": "running_remedy_in_place"})
    assert refused.status_code == 409 and "You have already answered this check-in" in text_of(refused.text)


def test_a_link_that_does_not_work_or_has_ended_says_so_and_what_to_do(
    app: Flask, clock: FixedClock, client: FlaskClient
) -> None:
    reference, email = resolved_and_checked_in(app, clock)
    path = link_path(email)
    for wrong in (
        path[:-3],
        f"/check-in/{reference}",
        f"/check-in/CPG-2026-999999?{path.split('?')[1]}",
        "/check-in/x",
    ):
        page = client.get(wrong)
        assert page.status_code == 404, wrong
        assert "This check-in link does not work" in text_of(page.text)
        assert "Open the link in the check-in email again" in text_of(page.text)
    clock.set_day(date(2027, 6, 1))
    ended = client.get(path)
    assert ended.status_code == 410 and "This check-in link has ended" in text_of(ended.text)


def test_a_missing_answer_a_nul_byte_or_too_many_words_get_a_clear_refusal_and_nothing_is_kept(
    app: Flask, clock: FixedClock, client: FlaskClient
) -> None:
    _, email = resolved_and_checked_in(app, clock)
    path = link_path(email)
    status, page = answer(client, path)
    assert status == 400
    assert error_summary(page) == {"#answer": "Select whether the remedy is in place"}
    status, page = answer(client, path, answer="remedy_not_in_place", anything_else="x" * 5001)
    assert status == 400
    assert error_summary(page) == {"#anything_else": "What you tell us must be 5,000 characters or fewer"}
    status, page = answer(client, path, answer="remedy_not_in_place", anything_else="a\x07b")
    assert status == 400 and "#anything_else" in error_summary(page)
    status, page = answer(client, path, answer="remedy_not_in_place", anything_else="a\x00b")
    assert status == 400
    with app.app_context():
        assert db.session.scalars(select(RemedyCheckIn.answer)).one() is None


def test_admins_see_open_follow_ups_with_overdue_ones_tagged_and_close_them_with_a_note(
    app: Flask, clock: FixedClock, client: FlaskClient
) -> None:
    reference, email = resolved_and_checked_in(app, clock)
    assert answer(client, link_path(email), answer="remedy_not_in_place")[0] == 200
    clock.set_day(date(2027, 3, 3))  # a day past its due date
    admin, _ = signed_in(app, "admin")
    queue = admin.get("/officer")
    assert 'href="/officer/remedy-follow-ups"' in queue.text, "in the admins' navigation"
    listed = admin.get("/officer/remedy-follow-ups")
    assert listed.status_code == 200
    words = text_of(listed.text)
    assert "What the group answered No: the remedy has not been put in place (3-month check-in)" in words
    assert "Due 2 March 2027 Overdue" in words
    assert f'href="/officer/claims/{reference}"' in listed.text
    (follow_up,) = re.findall(r'href="(/officer/remedy-follow-ups/\d+)"', listed.text)

    form = admin.get(follow_up)
    empty = admin.post(follow_up, data={**fields(form.text), "note": " "})
    assert empty.status_code == 400 and error_summary(empty.text) == {"#note": "Enter what was done"}
    closed = admin.post(follow_up, data={**fields(form.text), "note": "Spoke to licensing: waiver signed."})
    assert closed.status_code == 303
    after = admin.get("/officer/remedy-follow-ups")
    assert "The follow-up is closed" in text_of(after.text) and "None open" in text_of(after.text)

    claim_page = text_of(admin.get(f"/officer/claims/{reference}").text)
    assert "Did the remedy happen?" in claim_page
    assert "No: the remedy has not been put in place" in claim_page
    assert "Follow-up closed on" in claim_page and "Spoke to licensing: waiver signed." in claim_page
    with app.app_context(), unit_of_work() as ctx:
        assert audit.verify(ctx).ok


@pytest.mark.parametrize("role", ["triage", "reviewer", "appeal_panel", "team_leader"])
def test_only_admins_see_remedy_follow_ups(app: Flask, role: str) -> None:
    client, _ = signed_in(app, role)
    assert client.get("/officer/remedy-follow-ups").status_code == 403
    assert 'href="/officer/remedy-follow-ups"' not in client.get("/officer").text
