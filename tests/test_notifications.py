"""Notifications that are never lost and never sent twice.

A real SMTP server (aiosmtpd) listens on loopback for each test that needs one. Claims are walked
through the workflow by the services (each change queues its messages in its own transaction),
then `flask guarantee notify` sends them: every message type arrives with the right words and a
working link; a mail server that is down is tried again later, and given up on (and shown in the
console) after the last try; two senders racing over 1,000 messages on PostgreSQL send each once;
a sender killed mid-batch loses nothing; a change rolled back queues nothing."""

from __future__ import annotations

import email
import email.policy
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from guarantee import mail
from guarantee.clock import FixedClock
from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.models import OutboxMessage
from guarantee.services import data_rights, following, notifications, sender
from guarantee.services.actors import GroupActor, SystemActor
from guarantee.services.casework import add_note, assign
from guarantee.services.claims import change_contact_email, fire, request_tracking_link, submit_claim
from guarantee.services.errors import ServiceError
from guarantee.services.sweep import sweep_batch
from tests.helpers import INPUTS, VALID_SUBMISSION, Cast, submission, walk
from tests.support.browser import free_port

ROOT = Path(__file__).resolve().parent.parent
# Every message about a claim (those to a rule's followers are tested in test_rule_pages).
TEMPLATES = sorted(
    p.stem
    for p in (ROOT / "guarantee" / "templates" / "mail").glob("*.txt")
    if not p.stem.startswith("_") and p.stem not in (following.CONFIRM_TEMPLATE, following.UPDATE_TEMPLATE)
)
GROUP_EMAIL = VALID_SUBMISSION["group"]["email"]
INTERNAL_NOTE = "Internal: the chair seemed unsure about the insurance."


# --- a real SMTP server on loopback -----------------------------------------------------------


class Inbox:
    """What the SMTP server received, parsed; it can be taken down and brought back."""

    def __init__(self, delay: float = 0) -> None:
        self.port = free_port()
        self.delay = delay
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            time.sleep(self.delay)
        parsed = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 Message accepted"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def by_id(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for m in self.messages:
            counts[m["Message-ID"]] = counts.get(m["Message-ID"], 0) + 1
        return counts


def notify(app: Flask, *options: str) -> str:
    result = app.test_cli_runner().invoke(args=["guarantee", "notify", *options])
    assert result.exit_code == 0, result.output
    return str(result.output)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def statuses(app: Flask) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
        return {status: int(count) for status, count in rows}


# --- every message, with the right words and links ---------------------------------------------


def _walk_every_message(app: Flask, clock: FixedClock) -> dict[str, Any]:
    """Claims taken through every step that sends something; the cast and references."""
    started = clock.now()
    clock.set(started - timedelta(days=93))  # a claim resolved 3 months ago: its check-in is due
    with app.app_context(), unit_of_work() as ctx:
        checked_in = submit_claim(ctx, submission()).reference
        walk(ctx, Cast(ctx), checked_in, "accept", "uphold", "record_resolution")
    clock.set(started)
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        appealed = submit_claim(ctx, submission()).reference
        assign(ctx, appealed, cast.reviewer.officer_id, cast.triage)
        walk(ctx, cast, appealed, "accept", "request_information")
        add_note(ctx, appealed, cast.reviewer, INTERNAL_NOTE)
        fire(ctx, appealed, "provide_information", GroupActor(appealed), INPUTS["provide_information"])
        walk(ctx, cast, appealed, "not_uphold", "appeal", "dismiss_appeal")
        upheld = submit_claim(ctx, submission()).reference
        walk(ctx, cast, upheld, "accept", "uphold", "record_resolution")
        data_rights.request_erasure(ctx, upheld, GroupActor(upheld))
        allowed = submit_claim(ctx, submission()).reference
        walk(ctx, cast, allowed, "accept", "not_uphold", "appeal", "allow_appeal")
        withdrawn = submit_claim(ctx, submission()).reference
        assign(ctx, withdrawn, cast.reviewer.officer_id, cast.triage)
        walk(ctx, cast, withdrawn, "withdraw")
        declined = submit_claim(ctx, submission()).reference
        walk(ctx, cast, declined, "decline")
        request_tracking_link(ctx, declined, GROUP_EMAIL)
        change_contact_email(ctx, declined, GroupActor(declined), "secretary@example.org")
        lapsing = submit_claim(ctx, submission()).reference
        assign(ctx, lapsing, cast.reviewer.officer_id, cast.triage)
        walk(ctx, cast, lapsing, "accept", "request_information")
        waiting = submit_claim(ctx, submission()).reference
        walk(ctx, cast, waiting, "accept", "not_uphold")
        overdue = submit_claim(ctx, submission()).reference  # nobody triages it in time
        assign(ctx, overdue, cast.reviewer.officer_id, cast.triage)
        people = {"reviewer": cast.reviewer.officer_id, "overdue": overdue}
    # 16 working days on: reminders for the question and the appeal, the reviewer's digest, and
    # the triage officer's digest of the claim filed the working day before.
    clock.advance(days=21)
    with app.app_context(), unit_of_work() as ctx:
        people["new"] = submit_claim(ctx, submission()).reference
    clock.advance(days=1)
    notify(app)
    clock.advance(days=8)  # the question's deadline has passed
    with app.app_context(), unit_of_work() as ctx:
        sweep_batch(ctx, 100, set())
        walk(ctx, Cast(ctx), lapsing, "reopen")
    return {
        "appealed": appealed,
        "upheld": upheld,
        "allowed": allowed,
        "declined": declined,
        "lapsing": lapsing,
        "checked_in": checked_in,
        **people,
    }


def test_every_message_type_arrives_with_the_right_words_and_a_working_link(
    mailing_app: Flask, inbox: Inbox, clock: FixedClock, client: FlaskClient
) -> None:
    app = mailing_app
    walked = _walk_every_message(app, clock)
    output = notify(app)
    assert "0 failed" in output
    by_template: dict[str, list[EmailMessage]] = {}
    with app.app_context():
        sent = db.session.execute(select(OutboxMessage.message_id, OutboxMessage.template)).all()
    templates = dict(sent)
    for message in inbox.messages:
        by_template.setdefault(templates[message["Message-ID"]], []).append(message)
    assert sorted(by_template) == TEMPLATES, "every kind of message was sent"
    assert statuses(app) == {"sent": len(inbox.messages)}
    assert len(inbox.by_id()) == len(inbox.messages), "none twice"

    def only(template: str, reference: str | None = None) -> str:
        found = [m for m in by_template[template] if reference is None or reference in str(m["Subject"])]
        assert found, f"no {template} message" + (f" about {reference}" if reference else "")
        return text_of(found[0])

    submitted = only("claim_submitted", walked["appealed"])
    link = re.search(r"http://guarantee\.test(/track/\S+\?token=\S+)", submitted)
    assert link, submitted
    opened = client.get(link.group(1))
    assert opened.status_code == 303, "the link in the e-mail works"
    assert re.search(r"/track/\S+\?token=", only("tracking_link_requested", walked["declined"]))
    assert INPUTS["request_information"]["question"] in only("information_requested", walked["appealed"])
    assert "Please answer by" in only("information_requested", walked["appealed"])
    not_upheld = only("decision_not_upheld", walked["appealed"])
    assert INPUTS["not_uphold"]["reasons"] in not_upheld
    assert "You can appeal until" in not_upheld and "Appeal the decision" in not_upheld
    assert INPUTS["uphold"]["reasons"] in only("decision_upheld", walked["upheld"])
    assert INPUTS["record_resolution"]["summary"] in only("claim_resolved", walked["upheld"])
    assert INPUTS["dismiss_appeal"]["reasons"] in only("appeal_dismissed", walked["appealed"])
    assert INPUTS["decline"]["explanation"] in only("claim_declined", walked["declined"])
    assert "lapsed" in only("claim_lapsed", walked["lapsing"])
    assert "reopened" in only("claim_reopened", walked["lapsing"])
    assert "Please answer by" in only("information_reminder")
    assert "until" in only("appeal_reminder")
    assert re.search(  # the check-in's question, and the link to its page
        rf"was the remedy put in place\?.*http://guarantee\.test/check-in/{walked['checked_in']}\?token=\S+",
        only("remedy_check_in", walked["checked_in"]),
        re.S,
    )
    digest = only("daily_digest")
    assert walked["overdue"] in digest and "(overdue)" in digest and "/officer/claims/" in digest
    assert f"/officer/claims/{walked['appealed']}" in only("group_replied", walked["appealed"])
    assert walked["appealed"] in only("appeal_lodged", walked["appealed"])
    assert walked["appealed"] in only("assigned", walked["appealed"])
    assert f"/officer/claims/{walked['allowed']}" in only("appeal_waiting", walked["allowed"]), "unassigned: the panel"
    new_claims = only("new_claims")
    assert walked["new"] in new_claims and "(not assigned)" in new_claims and walked["appealed"] not in new_claims

    for message in inbox.messages:
        assert INTERNAL_NOTE not in text_of(message), "no internal note ever leaves the console"
        assert message["From"] == "Co-production Guarantee <no-reply@guarantee.invalid>"
        assert "<a href=" in html_of(message) or "http" not in text_of(message)
        assert text_of(message).startswith("Hello")
    group_templates = {templates[m["Message-ID"]] for m in inbox.to(GROUP_EMAIL)}
    assert "daily_digest" not in group_templates and "assigned" not in group_templates


def test_a_group_that_did_not_consent_to_contact_gets_no_e_mail_but_officers_still_do(
    mailing_app: Flask, inbox: Inbox
) -> None:
    app = mailing_app
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        reference = submit_claim(ctx, submission(consent={"contact": False})).reference
        assign(ctx, reference, cast.reviewer.officer_id, cast.triage)
        walk(ctx, cast, reference, "accept", "request_information")
        fire(ctx, reference, "provide_information", GroupActor(reference), INPUTS["provide_information"])
    notify(app)
    assert inbox.to(GROUP_EMAIL) == []
    assert {str(m["Subject"]) for m in inbox.messages} == {
        f"Claim {reference} is assigned to you",
        f"The group answered on claim {reference}",
    }


def test_with_no_mail_server_configured_messages_are_written_to_files(app: Flask, tmp_path: Path) -> None:
    app.config["GUARANTEE_MAIL_DIR"] = str(tmp_path / "mail")
    with app.app_context(), unit_of_work() as ctx:
        reference = submit_claim(ctx, submission()).reference
    output = notify(app)
    assert "1 sent" in output
    (written,) = (tmp_path / "mail").glob("*.eml")
    parsed = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
    assert parsed["To"] == GROUP_EMAIL
    assert reference in str(parsed["Subject"])


# --- a mail server that is down ---------------------------------------------------------------


def test_while_the_mail_server_is_down_messages_wait_and_go_when_it_is_back(
    mailing_app: Flask, inbox: Inbox, clock: FixedClock
) -> None:
    app = mailing_app
    with app.app_context(), unit_of_work() as ctx:
        submit_claim(ctx, submission())
    inbox.stop()
    assert "1 to try again" in notify(app)
    with app.app_context():
        waiting = db.session.scalars(select(OutboxMessage)).one()
        assert (waiting.status, waiting.attempts) == ("pending", 1)
        assert waiting.next_attempt_at == clock.now() + timedelta(minutes=1)
        assert "Connection refused" in (waiting.last_error or "") or "refused" in (waiting.last_error or "").lower()
    clock.advance(minutes=1)
    assert "1 to try again" in notify(app)  # still down: the next wait is longer
    with app.app_context():
        waiting = db.session.scalars(select(OutboxMessage)).one()
        assert waiting.next_attempt_at == clock.now() + timedelta(minutes=2)
    inbox.start()
    assert "0 sent" in notify(app)  # not yet due
    clock.advance(minutes=2)
    assert "1 sent" in notify(app)
    assert len(inbox.messages) == 1
    assert statuses(app) == {"sent": 1}


def test_still_down_after_the_last_try_the_message_is_failed_and_shown_to_admins(
    mailing_app: Flask, inbox: Inbox, clock: FixedClock
) -> None:
    from tests.test_console import _admin_post, officer, sign_in_as

    app = mailing_app
    app.config["GUARANTEE_MAIL_MAX_ATTEMPTS"] = 3
    with app.app_context(), unit_of_work() as ctx:
        reference = submit_claim(ctx, submission()).reference
    inbox.stop()
    for _ in range(3):
        notify(app)
        clock.advance(hours=7)
    assert statuses(app) == {"failed": 1}
    boss = sign_in_as(app, officer(app, "admin"))
    assert "1 message could not be sent" in boss.get("/officer").get_data(as_text=True)
    page = boss.get("/officer/messages").get_data(as_text=True)
    assert reference in page and "3 tries" in page and "refused" in page.lower()
    with app.app_context():
        message_id = db.session.scalar(select(OutboxMessage.id))
    inbox.start()
    assert _admin_post(boss, f"/officer/messages/{message_id}/try-again").status_code == 303
    with app.app_context():
        from guarantee.models import AdminEvent

        logged = db.session.scalars(select(AdminEvent).order_by(AdminEvent.seq.desc())).first()
        assert logged is not None and logged.action == "message_sent_again"
    assert "1 sent" in notify(app)
    assert statuses(app) == {"sent": 1}
    assert len(inbox.to(GROUP_EMAIL)) == 1


# --- racing senders, a killed sender, a change rolled back -------------------------------------


def _queue(app: Flask, count: int) -> str:
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        filed = submit_claim(ctx, submission())
        for _ in range(count - 1):
            ctx.session.add(notifications.build(ctx, filed.claim, "assigned", {"seq": 1}, cast.reviewer.officer_id))
        return filed.reference


def test_two_senders_racing_over_1000_messages_deliver_each_exactly_once(
    mailing_app: Flask, inbox: Inbox, database: Any
) -> None:
    if database.backend != "postgresql":
        pytest.skip("senders on several machines race only on PostgreSQL (SQLite has one writer at a time)")
    app = mailing_app
    _queue(app, 1000)
    transport = mail.transport_for(app)

    def run() -> None:
        with app.app_context():
            while sender.send_batch(unit_of_work, transport, mail.render, limit=25).handled:
                pass

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    delivered = inbox.by_id()
    assert len(delivered) == 1000, "every message arrived"
    assert max(delivered.values()) == 1, "none twice"
    assert statuses(app) == {"sent": 1000}


def _worker(fresh_url: str, inbox: Inbox, tmp_path: Path, *options: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": fresh_url,
        "GUARANTEE_SECRET_KEY": secrets.token_hex(32),
        "GUARANTEE_SMTP_HOST": "127.0.0.1",
        "GUARANTEE_SMTP_PORT": str(inbox.port),
        "GUARANTEE_SMTP_SECURITY": "none",
        "GUARANTEE_AUDIT_SIGNING_KEY": str(tmp_path / "signing-key.pem"),
        "GUARANTEE_EVIDENCE_DIR": str(tmp_path / "evidence"),
        "GUARANTEE_LOG_JSON": "0",
        "FLASK_APP": "wsgi",
    }
    flask = str(Path(sys.executable).with_name("flask"))
    with (tmp_path / "worker.log").open("wb") as log:  # the worker keeps its own copy of the file
        return subprocess.Popen([flask, "guarantee", "notify", *options], cwd=ROOT, env=env, stdout=log, stderr=log)


def _wait_for(condition: Any, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def test_a_sender_killed_mid_batch_loses_nothing(app: Flask, fresh_url: str, tmp_path: Path, clock: FixedClock) -> None:
    slow = Inbox(delay=0.02)
    slow.start()
    try:
        app.config |= {"GUARANTEE_SMTP_HOST": "127.0.0.1", "GUARANTEE_SMTP_PORT": slow.port}
        app.config["GUARANTEE_SMTP_SECURITY"] = "none"
        _queue(app, 120)
        worker = _worker(fresh_url, slow, tmp_path, "--loop", "--batch", "40", "--interval", "0.2")
        _wait_for(lambda: len(slow.messages) >= 10)
        worker.kill()  # no goodbye: mid-batch, leases held
        worker.wait(timeout=30)
        assert 10 <= len(slow.messages) < 120
        assert statuses(app).get("sending"), "the killed sender left messages it had claimed"

        clock.set(datetime.now(UTC) + timedelta(minutes=10))  # the leases have run out
        notify(app)
        delivered = slow.by_id()
        with app.app_context():
            queued = set(db.session.scalars(select(OutboxMessage.message_id)))
        assert set(delivered) == queued, "every message arrived"
        twice = [message_id for message_id, count in delivered.items() if count > 1]
        assert len(twice) <= 1, "at most the message being sent when it died goes twice, with the same Message-ID"
        assert statuses(app) == {"sent": 120}
    finally:
        slow.stop()


def test_a_sender_told_to_stop_finishes_its_message_and_gives_back_the_rest(
    app: Flask, fresh_url: str, tmp_path: Path
) -> None:
    slow = Inbox(delay=0.02)
    slow.start()
    try:
        _queue(app, 60)
        worker = _worker(fresh_url, slow, tmp_path, "--loop", "--batch", "30", "--interval", "0.2")
        _wait_for(lambda: len(slow.messages) >= 5)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0
        assert "Stopped after the message being sent (SIGTERM)" in (tmp_path / "worker.log").read_text()
        left = statuses(app)
        assert "sending" not in left, "nothing is left claimed"
        assert left.get("sent", 0) == len(slow.messages) and len(slow.by_id()) == len(slow.messages)
    finally:
        slow.stop()


def test_a_change_that_is_rolled_back_queues_no_message(app: Flask) -> None:
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        reference = submit_claim(ctx, submission()).reference
    before = statuses(app)

    class Refused(Exception):
        pass

    with pytest.raises(Refused), app.app_context(), unit_of_work() as ctx:
        walk(ctx, cast, reference, "accept", "request_information")
        raise Refused  # e.g. the request failed after the change
    assert statuses(app) == before
    with pytest.raises(ServiceError), app.app_context(), unit_of_work() as ctx:
        fire(ctx, reference, "information_lapsed", SystemActor(), {})  # refused: not allowed now
    assert statuses(app) == before


# --- a group changes its contact address -------------------------------------------------------


def _change_email(client: FlaskClient, reference: str, new: str) -> Any:
    from tests.test_public import fields

    page = client.get(f"/track/{reference}").get_data(as_text=True)
    token = fields(page)["csrf_token"]
    return client.post(f"/track/{reference}/contact", data={"csrf_token": token, "email": new})


def test_a_group_changes_its_email_the_old_address_is_told_and_later_messages_go_to_the_new_one(
    mailing_app: Flask, inbox: Inbox
) -> None:
    from tests.test_public import error_summary, open_link

    app = mailing_app
    with app.app_context(), unit_of_work() as ctx:
        filed = submit_claim(ctx, submission())
        cast = Cast(ctx)
    browser = app.test_client()
    open_link(browser, f"/track/{filed.reference}?token={filed.tracking_token}")
    page = browser.get(f"/track/{filed.reference}").get_data(as_text=True)
    assert re.search(r"a\*+@example\.org", page) and GROUP_EMAIL not in page  # partly hidden

    same = _change_email(browser, filed.reference, GROUP_EMAIL.upper())
    assert same.status_code == 400
    assert error_summary(same.get_data(as_text=True)) == {
        "#email": "This is the address we already have: enter a different one"
    }
    bad = _change_email(browser, filed.reference, "not an address")
    assert bad.status_code == 400 and "#email" in error_summary(bad.get_data(as_text=True))

    done = _change_email(browser, filed.reference, "new.chair@example.org")
    assert done.status_code == 303
    assert "We have told the old address" in browser.get(f"/track/{filed.reference}").get_data(as_text=True)
    with app.app_context(), unit_of_work() as ctx:
        walk(ctx, cast, filed.reference, "accept")
    notify(app)
    old = [str(m["Subject"]) for m in inbox.to(GROUP_EMAIL)]
    new = [str(m["Subject"]) for m in inbox.to("new.chair@example.org")]
    # Addresses are looked up when sending: what was still waiting goes to the new one too.
    assert old == [f"The contact address for claim {filed.reference} was changed"]
    assert new == [
        f"We have your claim {filed.reference}",
        f"We will now write to this address about claim {filed.reference}",
        f"Your claim {filed.reference} is being reviewed",
    ]
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(OutboxMessage.to_address.is_not(None))) == 0
        from guarantee.models import AuditEvent

        changed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "contact_changed")).one()
        assert changed.actor_type == "group" and changed.payload == {"fields": ["email"]}
        assert "example.org" not in str(changed.payload)


# --- what the review of the sender asked for ------------------------------------------------------


def _live_links(app: Flask) -> int:
    from guarantee.models import TrackingToken

    with app.app_context():
        return int(db.session.scalar(select(func.count()).where(TrackingToken.revoked_at.is_(None))) or 0)


def test_a_link_minted_for_a_message_that_could_not_be_sent_is_revoked(
    mailing_app: Flask, inbox: Inbox, clock: FixedClock
) -> None:
    app = mailing_app
    with app.app_context(), unit_of_work() as ctx:
        submit_claim(ctx, submission())
    assert _live_links(app) == 1  # the one on the confirmation page
    inbox.stop()
    notify(app)
    assert _live_links(app) == 1, "the link in the e-mail that never went is dead"
    inbox.start()
    clock.advance(minutes=1)
    notify(app)
    assert _live_links(app) == 2


class Refusing(Inbox):
    """A mail server that refuses every recipient for good."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        return "550 5.1.1 No such mailbox here"


def test_a_recipient_refused_for_good_is_failed_at_once_with_no_address_kept(app: Flask) -> None:
    refusing = Refusing()
    refusing.start()
    try:
        app.config |= {"GUARANTEE_SMTP_HOST": "127.0.0.1", "GUARANTEE_SMTP_PORT": refusing.port}
        app.config["GUARANTEE_SMTP_SECURITY"] = "none"
        with app.app_context(), unit_of_work() as ctx:
            submit_claim(ctx, submission())
        assert "1 failed" in notify(app)
        with app.app_context():
            message = db.session.scalars(select(OutboxMessage)).one()
            assert (message.status, message.attempts) == ("failed", 1)
            assert "550" in (message.last_error or "") and GROUP_EMAIL not in (message.last_error or "")
    finally:
        refusing.stop()


def test_a_message_that_cannot_be_written_is_failed_and_the_others_still_go(mailing_app: Flask, inbox: Inbox) -> None:
    app = mailing_app
    with app.app_context(), unit_of_work() as ctx:
        submit_claim(ctx, submission())
        broken = submit_claim(ctx, submission())
        message = ctx.session.scalars(select(OutboxMessage).where(OutboxMessage.claim_id == broken.claim.id)).one()
        message.template = "no_such_template"
    output = notify(app)
    assert "1 sent" in output and "1 failed" in output
    with app.app_context():
        failed = db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == "failed")).one()
        assert failed.last_error == "could not write the message: TemplateNotFound"


def test_a_sender_whose_lease_ran_out_can_neither_send_nor_undo_what_the_next_one_did(
    mailing_app: Flask, inbox: Inbox, clock: FixedClock
) -> None:
    app = mailing_app
    with app.app_context(), unit_of_work() as ctx:
        submit_claim(ctx, submission())
    slow_sender = "a" * 32
    with app.app_context(), unit_of_work() as ctx:
        (message_id,) = sender.claim_batch(ctx, 10, slow_sender)
    clock.advance(minutes=6)  # it stalled past its lease; another sender takes the message over
    assert "1 sent" in notify(app)
    with app.app_context(), unit_of_work() as ctx:
        assert sender._take(ctx, message_id, slow_sender) is None
        sender._record(ctx, message_id, slow_sender, error="timed out", max_attempts=12, outcome=sender.Outcome())
    assert statuses(app) == {"sent": 1}
    assert len(inbox.messages) == 1


def test_a_message_that_keeps_killing_its_sender_is_failed_after_the_last_try(app: Flask, clock: FixedClock) -> None:
    with app.app_context(), unit_of_work() as ctx:
        submit_claim(ctx, submission())
        message = ctx.session.scalars(select(OutboxMessage)).one()
        message.status, message.attempts = "sending", 12
        message.lease_until, message.lease_token = clock.now() - timedelta(seconds=1), "b" * 32
    notify(app)
    with app.app_context():
        message = db.session.scalars(select(OutboxMessage)).one()
        assert (message.status, message.last_error) == ("failed", sender.INTERRUPTED)


def test_user_text_is_escaped_in_the_html_part(mailing_app: Flask, inbox: Inbox) -> None:
    app = mailing_app
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        reference = submit_claim(ctx, submission()).reference
        walk(ctx, cast, reference, "accept")
        fire(ctx, reference, "request_information", cast.reviewer, {"question": 'Is <script>alert("x")</script> safe?'})
    notify(app)
    (asked,) = [m for m in inbox.messages if "more information" in str(m["Subject"])]
    assert '<script>alert("x")</script>' in text_of(asked)
    assert "<script>" not in html_of(asked) and "&lt;script&gt;" in html_of(asked)


# --- STARTTLS, TLS and signing in ----------------------------------------------------------------


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A private CA and a certificate it signed for 127.0.0.1: (ca, cert, key)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "guarantee test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


class Guarded(Inbox):
    """A mail server that wants TLS (STARTTLS, or implicit) and a user name and password."""

    def __init__(self, folder: Path, *, implicit: bool) -> None:
        super().__init__()
        import ssl

        self.ca, cert, key = _certificates(folder)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert, key)
        self.implicit = implicit

    def start(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
            good = isinstance(data, LoginPassword) and (data.login, data.password) == (b"relay-user", b"relay-secret")
            return AuthResult(success=good)

        if self.implicit:
            self._controller = Controller(  # the whole connection is TLS: signing in is allowed at once
                self,
                hostname="127.0.0.1",
                port=self.port,
                ssl_context=self.context,
                authenticator=authenticate,
                auth_require_tls=False,
            )
        else:
            self._controller = Controller(
                self,
                hostname="127.0.0.1",
                port=self.port,
                tls_context=self.context,
                require_starttls=True,
                authenticator=authenticate,
                auth_require_tls=True,
            )
        self._controller.start()


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_mail_goes_over_tls_with_a_user_name_and_password(app: Flask, tmp_path: Path, security: str) -> None:
    guarded = Guarded(tmp_path, implicit=security == "tls")
    guarded.start()
    try:
        app.config |= {
            "GUARANTEE_SMTP_HOST": "127.0.0.1",
            "GUARANTEE_SMTP_PORT": guarded.port,
            "GUARANTEE_SMTP_SECURITY": security,
            "GUARANTEE_SMTP_USERNAME": "relay-user",
            "GUARANTEE_SMTP_PASSWORD": "relay-secret",
            "GUARANTEE_SMTP_CA_FILE": str(guarded.ca),
        }
        with app.app_context(), unit_of_work() as ctx:
            submit_claim(ctx, submission())
        assert "1 sent" in notify(app)
        assert len(guarded.to(GROUP_EMAIL)) == 1
    finally:
        guarded.stop()


def test_a_mail_server_whose_certificate_is_not_trusted_gets_nothing(app: Flask, tmp_path: Path) -> None:
    guarded = Guarded(tmp_path, implicit=False)
    guarded.start()
    try:
        app.config |= {
            "GUARANTEE_SMTP_HOST": "127.0.0.1",
            "GUARANTEE_SMTP_PORT": guarded.port,
            "GUARANTEE_SMTP_SECURITY": "starttls",
        }
        with app.app_context(), unit_of_work() as ctx:
            submit_claim(ctx, submission())
        assert "1 to try again" in notify(app)
        with app.app_context():
            assert "CERTIFICATE_VERIFY_FAILED" in (db.session.scalars(select(OutboxMessage)).one().last_error or "")
        assert guarded.messages == []
    finally:
        guarded.stop()


def test_a_password_is_never_sent_without_tls(app: Flask) -> None:
    app.config |= {"GUARANTEE_SMTP_HOST": "127.0.0.1", "GUARANTEE_SMTP_SECURITY": "none"}
    app.config["GUARANTEE_SMTP_USERNAME"] = "relay-user"
    with pytest.raises(ValueError, match="never send a password in clear"):
        mail.transport_for(app)


def test_notify_leaves_the_signal_handlers_as_it_found_them(app: Flask) -> None:
    """Run in another program's process (as here), its clean stop on SIGTERM and Ctrl-C must not
    outlive it: a process forked later would ignore SIGTERM."""
    before = (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT))
    assert "Notify finished: 0 sent" in notify(app)
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
