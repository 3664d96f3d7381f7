"""Every link a group receives opens its claim, or a page that sends a fresh one (issue 19).

Each e-mail to the group carries a link of its own: a random 256-bit token, kept only as its
SHA-256, for that claim, working until the end of the UK day GUARANTEE_TRACKING_LINK_DAYS (30)
after it was sent. Opening it swaps it for the tracking cookie. A link that has expired or was
revoked lands on a page whose one button e-mails a fresh link to the address on file (rate
limited, the same answer whether or not there is an address); every other refusal says what to
do next, with the button to do it. Erasing the contact details ends every link.

Claims are filed and moved through the services, the e-mails sent by the real sender and its
renderer, and the links opened over HTTP, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from guarantee import mail
from guarantee.clock import UK, FixedClock
from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.models import OutboxMessage, TrackingToken
from guarantee.services import sender
from guarantee.services.actors import GroupActor, SystemActor
from guarantee.services.casework import erase_contact
from guarantee.services.claims import fire, submit_claim
from guarantee.services.notifications import GROUP_MESSAGES
from tests.helpers import INPUTS, Cast, submission, walk

BASE = "http://guarantee.test"
GROUP_EMAIL = "ada.testperson@example.org"


# --- sending and reading e-mails ----------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    to: str
    subject: str
    text: str

    @property
    def links(self) -> list[str]:
        """The service's tracking links in the e-mail, as paths with their query (the test client
        is the host)."""
        return [m[len(BASE) :] for m in re.findall(rf"{re.escape(BASE)}/track/\S+", self.text)]

    @property
    def link(self) -> str:
        (only,) = self.links
        return only


class Mailbox:
    """A mail server that takes every message (or, when ``failing``, takes it and then reports a
    failure, so the sender revokes the link the group got anyway)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.failing = False

    def send(self, email: sender.Email) -> None:
        self.received.append(Received(email.to, email.subject, email.text))
        if self.failing:
            raise sender.TransportError("connection lost after the message was sent", permanent=True)

    def deliver(self, app: Flask) -> list[Received]:
        """Send everything queued; what arrived this time."""
        before = len(self.received)
        with app.app_context():
            sender.send_batch(unit_of_work, self, mail.render, limit=500)
        return self.received[before:]


@pytest.fixture
def linking_app(app: Flask) -> Flask:
    app.config["GUARANTEE_BASE_URL"] = BASE
    return app


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


def file_claim(app: Flask, **sections: dict[str, Any]) -> tuple[str, str]:
    """A claim filed (committed): its reference and the token shown on its confirmation page."""
    with app.app_context(), unit_of_work() as ctx:
        filed = submit_claim(ctx, submission(**sections))
        return filed.reference, filed.tracking_token


def officers_walk(app: Flask, reference: str, *triggers: str) -> None:
    with app.app_context(), unit_of_work() as ctx:
        walk(ctx, Cast(ctx), reference, *triggers)


def group_fires(app: Flask, reference: str, trigger: str) -> None:
    with app.app_context(), unit_of_work() as ctx:
        fire(ctx, reference, trigger, GroupActor(reference), INPUTS[trigger])


def words(html: str) -> str:
    """The words of a page, without its markup."""
    return " ".join(
        unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S))).split()
    )


def opens_claim(app: Flask, link: str) -> bool:
    """Whether the link opens its claim in a fresh browser: the swap, then the tracking page."""
    browser = app.test_client()
    opened = browser.get(link)
    if opened.status_code != 303:
        return False
    return browser.get(opened.headers["Location"]).status_code == 200


def press_send_me_a_new_link(browser: FlaskClient, page_html: str) -> Any:
    """Press the page's one button, as a browser would send its form."""
    action = re.search(r'<form method="post" action="([^"]+)"', page_html)
    assert action, "the page has the button's form"
    values = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page_html))
    return browser.post(unescape(action[1]), data=values)


def fresh_links_queued(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).where(OutboxMessage.template == "tracking_link_requested")) or 0


def end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UK)


DAY = re.compile(
    r"\b\d{1,2} (?:January|February|March|April|May|June|July|August|September|October|November|December) \d{4}"
)


def works_until(received: Received) -> date:
    """The last day the e-mail says its link works."""
    found = re.search(rf"works until ({DAY.pattern})", received.text)
    assert found, received.text
    return datetime.strptime(found[1], "%d %B %Y").date()


def dates_in(received: Received) -> list[date]:
    return [datetime.strptime(day, "%d %B %Y").date() for day in DAY.findall(received.text)]


# --- every message to the group ----------------------------------------------------------------


@pytest.fixture
def lifetime(linking_app: Flask, mailbox: Mailbox) -> Iterator[tuple[str, str, list[Received]]]:
    """A claim through its life (filed, accepted, question, answer, not upheld, appeal, appeal
    allowed): its reference, its confirmation token, and every e-mail the group received."""
    reference, token = file_claim(linking_app)
    officers_walk(linking_app, reference, "accept", "request_information")
    group_fires(linking_app, reference, "provide_information")
    officers_walk(linking_app, reference, "not_uphold")
    group_fires(linking_app, reference, "appeal")
    officers_walk(linking_app, reference, "allow_appeal")
    mailbox.deliver(linking_app)
    yield reference, token, [r for r in mailbox.received if r.to == GROUP_EMAIL]


def subjects_of_a_life(reference: str) -> list[str]:
    """The e-mails a group receives as its claim is filed, accepted, asked a question, answered,
    not upheld, appealed and upheld on appeal, in order."""
    return [
        f"We have your claim {reference}",
        f"Your claim {reference} is being reviewed",
        f"We need more information about your claim {reference}",
        f"We have your answer about claim {reference}",
        f"Decision on your claim {reference}: not upheld",
        f"We have your appeal about claim {reference}",
        f"Your appeal about claim {reference} was allowed",
    ]


def test_every_message_to_the_group_carries_a_link_of_its_own_that_opens_the_claim(
    linking_app: Flask, lifetime: tuple[str, str, list[Received]]
) -> None:
    reference, _, received = lifetime

    assert [r.subject for r in received] == subjects_of_a_life(reference)
    links = [r.link for r in received]
    assert all(re.fullmatch(rf"/track/{reference}\?token=[A-Za-z0-9_-]{{43}}", link) for link in links), links
    assert len(set(links)) == len(links), "each message has its own link"
    assert all(opens_claim(linking_app, link) for link in links)
    for r in received:  # 30 days after 2 November 2026, the day they were sent, or a deadline they give
        assert works_until(r) >= date(2026, 12, 2), r.subject
        assert all(day <= works_until(r) for day in dates_in(r)), r.subject


def test_a_link_is_kept_only_as_its_hash_and_never_in_the_outbox(
    linking_app: Flask, lifetime: tuple[str, str, list[Received]]
) -> None:
    _, _, received = lifetime
    tokens = [r.link.rsplit("=", 1)[1] for r in received]
    with linking_app.app_context():
        outbox = db.session.execute(select(OutboxMessage.__table__)).all()  # type: ignore[call-overload]
        kept = db.session.execute(select(TrackingToken.__table__)).all()  # type: ignore[call-overload]
        hashes = set(db.session.scalars(select(TrackingToken.token_hash)))
    stored = repr(outbox) + repr(kept)
    assert [token for token in tokens if token in stored] == []
    assert {hashlib.sha256(token.encode()).hexdigest() for token in tokens} <= hashes


# --- a link's life ---------------------------------------------------------------------------


@pytest.fixture
def emailed(linking_app: Flask, mailbox: Mailbox) -> tuple[str, str]:
    """A claim accepted: its reference, and the link in the "being reviewed" e-mail."""
    reference, _ = file_claim(linking_app)
    officers_walk(linking_app, reference, "accept")
    (accepted,) = [r for r in mailbox.deliver(linking_app) if "is being reviewed" in r.subject]
    return reference, accepted.link


@pytest.mark.parametrize("days", [2, 10, 30])
def test_an_e_mailed_link_opens_the_claim_until_the_end_of_its_last_day(
    linking_app: Flask, emailed: tuple[str, str], clock: FixedClock, days: int
) -> None:
    sent_on = clock.now().astimezone(UK).date()
    if days == 30:
        clock.set(end_of(sent_on + timedelta(days=30)) - timedelta(minutes=1))
    else:
        clock.advance(days=days)
    assert opens_claim(linking_app, emailed[1])


def test_an_expired_link_lands_on_a_page_that_sends_a_fresh_one_which_works(
    linking_app: Flask, mailbox: Mailbox, emailed: tuple[str, str], clock: FixedClock
) -> None:
    reference, link = emailed
    clock.set(end_of(clock.now().astimezone(UK).date() + timedelta(days=30)))
    browser = linking_app.test_client()

    ended = browser.get(link)

    assert ended.status_code == 410
    assert ended.headers["Cache-Control"] == "no-store"
    assert ended.headers["Referrer-Policy"] == "no-referrer"
    assert not [c for c in ended.headers.getlist("Set-Cookie") if "tracking" in c]
    page = words(ended.text)
    assert "This link has ended" in page and f"no longer opens claim {reference}" in page
    assert "Send me a new link" in page

    before = fresh_links_queued(linking_app)
    answer = press_send_me_a_new_link(browser, ended.text)

    assert answer.status_code == 200
    assert "If we still have an email address for this claim, we have sent a new tracking link to it" in words(
        answer.text
    )
    assert fresh_links_queued(linking_app) == before + 1
    (fresh,) = mailbox.deliver(linking_app)
    assert (fresh.to, fresh.subject) == (GROUP_EMAIL, f"A new link to your claim {reference}")
    assert opens_claim(linking_app, fresh.link)
    assert not opens_claim(linking_app, link), "the old link stays ended"


def test_the_time_a_link_lasts_is_a_setting(linking_app: Flask, mailbox: Mailbox, clock: FixedClock) -> None:
    linking_app.config["GUARANTEE_TRACKING_LINK_DAYS"] = 40
    file_claim(linking_app)
    (submitted,) = mailbox.deliver(linking_app)
    assert works_until(submitted) == date(2026, 12, 12)
    clock.set(end_of(date(2026, 12, 12)) - timedelta(minutes=1))
    assert opens_claim(linking_app, submitted.link)
    clock.advance(minutes=1)
    assert linking_app.test_client().get(submitted.link).status_code == 410


def test_a_link_does_not_end_before_the_deadline_its_e_mail_gives(
    linking_app: Flask, mailbox: Mailbox, clock: FixedClock
) -> None:
    linking_app.config["GUARANTEE_TRACKING_LINK_DAYS"] = 3
    reference, _ = file_claim(linking_app)
    officers_walk(linking_app, reference, "accept", "request_information")
    (question,) = [r for r in mailbox.deliver(linking_app) if "more information" in r.subject]
    answer_by = re.search(rf"Please answer by ({DAY.pattern})", question.text)
    assert answer_by
    deadline = datetime.strptime(answer_by[1], "%d %B %Y").date()
    assert works_until(question) == deadline > date(2026, 11, 5)

    clock.set(end_of(deadline) - timedelta(minutes=1))
    assert opens_claim(linking_app, question.link), "the group can still answer on the last day"
    clock.advance(minutes=1)
    assert linking_app.test_client().get(question.link).status_code == 410


def test_the_link_on_the_confirmation_page_does_not_end(linking_app: Flask, clock: FixedClock) -> None:
    reference, token = file_claim(linking_app)
    clock.advance(days=400)
    assert opens_claim(linking_app, f"/track/{reference}?token={token}")


def test_a_link_revoked_because_its_e_mail_failed_offers_a_fresh_one(linking_app: Flask, mailbox: Mailbox) -> None:
    file_claim(linking_app)
    mailbox.failing = True  # the message reached the group, but the server then reported a failure
    (got_anyway,) = mailbox.deliver(linking_app)
    mailbox.failing = False
    browser = linking_app.test_client()

    revoked = browser.get(got_anyway.link)

    assert revoked.status_code == 410
    assert press_send_me_a_new_link(browser, revoked.text).status_code == 200
    (fresh,) = mailbox.deliver(linking_app)
    assert opens_claim(linking_app, fresh.link)


def test_erasing_the_contact_details_ends_every_link_and_a_new_one_goes_nowhere(
    linking_app: Flask, mailbox: Mailbox, lifetime: tuple[str, str, list[Received]]
) -> None:
    reference, token, received = lifetime
    browser = linking_app.test_client()
    assert browser.get(received[-1].link).status_code == 303  # a session open before the erasure
    with linking_app.app_context(), unit_of_work() as ctx:
        erase_contact(ctx, reference, SystemActor())

    assert browser.get(f"/track/{reference}").status_code == 403, "the session ended too"
    before = fresh_links_queued(linking_app)
    for link in [f"/track/{reference}?token={token}", *(r.link for r in received)]:
        holder = linking_app.test_client()
        ended = holder.get(link)
        assert ended.status_code == 410, link
        answer = press_send_me_a_new_link(holder, ended.text)
        assert answer.status_code == 200
    assert fresh_links_queued(linking_app) == before, "no address: nothing to send"
    assert mailbox.deliver(linking_app) == []


def test_another_claims_link_does_not_open_the_claim_and_says_what_to_do(
    linking_app: Flask, mailbox: Mailbox, emailed: tuple[str, str]
) -> None:
    mine, link = emailed
    theirs, _ = file_claim(linking_app)
    token = link.rsplit("=", 1)[1]

    refused = linking_app.test_client().get(f"/track/{theirs}?token={token}")

    assert refused.status_code == 404
    page = words(refused.text)
    assert "This tracking link does not work" in page and "Ask for a new tracking link" in page
    assert f'href="/track?reference={theirs}"' in refused.text  # the lost-link form, reference filled in
    assert not [c for c in refused.headers.getlist("Set-Cookie") if "tracking" in c]
    form = linking_app.test_client().get(f"/track?reference={theirs}")
    assert f'value="{theirs}"' in form.text

    # Forging the one-press form with the other claim's link sends nothing.
    before = fresh_links_queued(linking_app)
    browser = linking_app.test_client()
    ended_page = browser.get(f"/track/{mine}?token=not-a-link")
    assert ended_page.status_code == 404
    page_with_form = browser.get("/track")  # any page, for a CSRF token of this browser
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page_with_form.text)
    assert csrf
    answer = browser.post(f"/track/{theirs}/new-link", data={"csrf_token": csrf[1], "token": token})
    assert answer.status_code == 200
    assert fresh_links_queued(linking_app) == before


def test_the_one_press_answer_is_the_same_whether_or_not_an_address_is_on_file(
    linking_app: Flask, clock: FixedClock
) -> None:
    with_address, with_token = file_claim(linking_app)
    erased, erased_token = file_claim(linking_app)
    with linking_app.app_context(), unit_of_work() as ctx:
        erase_contact(ctx, erased, SystemActor())
    browser = linking_app.test_client()
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', browser.get("/track").text)
    assert csrf
    answers = {}
    for case, reference, token in [
        ("an address on file", with_address, with_token),
        ("erased", erased, erased_token),
        ("no such link", with_address, "x" * 43),
    ]:
        before = fresh_links_queued(linking_app)
        response = browser.post(f"/track/{reference}/new-link", data={"csrf_token": csrf[1], "token": token})
        answers[case] = (response.status_code, words(response.text))
        assert fresh_links_queued(linking_app) - before == (1 if case == "an address on file" else 0), case
        clock.advance(minutes=11)
    assert len(set(answers.values())) == 1, answers


def test_pressing_again_within_10_minutes_sends_no_second_link(linking_app: Flask, clock: FixedClock) -> None:
    reference, token = file_claim(linking_app)
    browser = linking_app.test_client()
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', browser.get("/track").text)
    assert csrf
    before = fresh_links_queued(linking_app)
    for _ in range(3):
        browser.post(f"/track/{reference}/new-link", data={"csrf_token": csrf[1], "token": token})
        clock.advance(minutes=4)
    assert fresh_links_queued(linking_app) == before + 1


def test_a_press_without_its_csrf_token_sends_nothing_and_shows_the_button_again(
    linking_app: Flask, emailed: tuple[str, str], clock: FixedClock
) -> None:
    reference, link = emailed
    clock.advance(days=40)
    before = fresh_links_queued(linking_app)

    response = linking_app.test_client().post(f"/track/{reference}/new-link", data={"token": link.rsplit("=", 1)[1]})

    assert response.status_code == 400
    page = words(response.text)
    assert "This page had expired, so nothing was saved" in page and "Send me a new link" in page
    assert fresh_links_queued(linking_app) == before


def test_pressing_the_button_is_rate_limited(make_app: Any) -> None:
    limited: Flask = make_app(GUARANTEE_TOKEN_RATE_LIMIT="2 per minute")
    reference, token = file_claim(limited)
    browser = limited.test_client()
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', browser.get("/track").text)
    assert csrf
    statuses = [
        browser.post(f"/track/{reference}/new-link", data={"csrf_token": csrf[1], "token": token}).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_a_preview_of_a_message_to_the_group_says_where_its_link_will_be(linking_app: Flask) -> None:
    file_claim(linking_app)
    with linking_app.app_context(), unit_of_work() as ctx:
        message = ctx.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "claim_submitted")).one()
        email = mail.render(message, sender.Recipient("a***@example.org", "the group's contact"), ctx)
        minted = ctx.session.scalar(select(func.count()).select_from(TrackingToken))
    assert mail.PREVIEW_LINK in email.text
    assert "?token=" not in email.text
    assert minted == 1, "a preview mints no link"


def test_links_already_e_mailed_get_the_default_end_when_the_migration_runs(
    linking_app: Flask, mailbox: Mailbox
) -> None:
    from flask_migrate import downgrade, upgrade

    reference, token = file_claim(linking_app)
    (submitted,) = mailbox.deliver(linking_app)
    with linking_app.app_context():
        downgrade(revision="dea620987a51")  # before links ended
        upgrade()
        rows = {
            row.token_hash: (row.created_at, row.expires_at)
            for row in db.session.execute(
                select(TrackingToken.token_hash, TrackingToken.created_at, TrackingToken.expires_at)
            )
        }
        db.session.remove()
    e_mailed = rows[hashlib.sha256(submitted.link.rsplit("=", 1)[1].encode()).hexdigest()]
    assert e_mailed[1] == e_mailed[0] + timedelta(days=30)
    assert rows[hashlib.sha256(token.encode()).hexdigest()][1] is None, "the confirmation page's link has no end"
    assert opens_claim(linking_app, f"/track/{reference}?token={token}")


def test_an_ended_link_opens_nothing_through_the_api_either(
    linking_app: Flask, emailed: tuple[str, str], clock: FixedClock
) -> None:
    reference, link = emailed
    bearer = {"Authorization": f"Bearer {link.rsplit('=', 1)[1]}"}
    api = linking_app.test_client()
    assert api.get(f"/api/v1/claims/{reference}", headers=bearer).status_code == 200
    clock.advance(days=40)
    assert api.get(f"/api/v1/claims/{reference}", headers=bearer).status_code == 401


def test_a_refusal_on_a_claims_pages_has_a_button_back_to_the_claim(linking_app: Flask) -> None:
    reference, token = file_claim(linking_app)
    browser = linking_app.test_client()
    assert browser.get(f"/track/{reference}?token={token}").status_code == 303

    missing = browser.get(f"/track/{reference}/evidence/999999")

    assert missing.status_code == 404
    assert "Back to your claim" in words(missing.text)
    assert f'href="/track/{reference}"' in missing.text
    assert browser.get(f"/track/{reference}").status_code == 200, "and the button leads there"


def test_every_template_to_the_group_writes_its_link_and_none_writes_a_page_without_one() -> None:
    """A message added later cannot send the group to a page that only asks for the link again:
    the tracking page without a token is not in any message's words."""
    folder = Path(mail.__file__).parent / "templates" / "mail"
    to_group = {*GROUP_MESSAGES.values(), "claim_submitted", "tracking_link_requested", "contact_email_changed"}
    to_group |= {"information_reminder", "appeal_reminder"}
    for name in sorted(to_group):
        assert "{{ tracking_link }}" in (folder / f"{name}.txt").read_text(), name
    for template in folder.glob("*.txt"):
        assert "tracking_page" not in template.read_text(), template.name
        assert '"/track/' not in template.read_text(), template.name
