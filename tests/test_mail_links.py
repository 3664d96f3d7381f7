"""Only the service's own addresses are links in its e-mails (issue 17, defect 5).

A claim's title, a group's name, an officer's question or reasons and a group's answer are text
people typed: in the HTML part they are escaped and never made links, whatever they look like,
even an address under the service's own. The links the templates put there (the tracking page,
each message's private tracking link, the console) still are. The plain-text part reads as before.

Messages are queued by the services, sent by ``flask guarantee notify`` to files (no mail server
configured), and read back as a mail program would, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask

from guarantee.context import unit_of_work
from guarantee.services.actors import GroupActor
from guarantee.services.casework import assign
from guarantee.services.claims import fire, submit_claim
from tests.helpers import INPUTS, Cast, submission, walk
from tests.test_notifications import html_of, notify, text_of

BASE = "http://guarantee.test"
EVIL = "http://evil.example/sign-in"
# Typed text that starts with the service's own address is still only text.
LOOKALIKE = f"{BASE}/officer/sign-in?next=http://evil.example"
MARKER = "[[link-0000000000000000-0]]"  # like the service's own link markers, without their key
TITLE = f"Our hall, see {EVIL} and {LOOKALIKE} {MARKER}"
GROUP = "Friends of https://evil.example"
QUESTION = f"Is the form at {EVIL} yours? Compare {LOOKALIKE}"
ANSWER = f"Yes, and here is our page: {EVIL}"
REASONS = f"As explained at {EVIL}, the rule protects children."


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._words: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href, self._words = dict(attrs).get("href") or "", []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._words.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._words)))
            self._href = None


def links_in(message: EmailMessage) -> list[tuple[str, str]]:
    """Every link of the HTML part, as (href, words shown)."""
    parser = _Links()
    parser.feed(html_of(message))
    return parser.links


@pytest.fixture
def mailbox(app: Flask, tmp_path: Path) -> Path:
    app.config |= {"GUARANTEE_MAIL_DIR": str(tmp_path / "mail"), "GUARANTEE_BASE_URL": BASE}
    return tmp_path / "mail"


def sent(app: Flask, mailbox: Path) -> dict[str, EmailMessage]:
    """Send everything queued; the messages by subject."""
    notify(app)
    messages = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in mailbox.glob("*.eml")
    ]
    return {str(m["Subject"]): m for m in messages}


def test_addresses_people_typed_are_text_and_the_services_own_links_are_links(app: Flask, mailbox: Path) -> None:
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        reference = submit_claim(ctx, submission(initiative={"title": TITLE}, group={"name": GROUP})).reference
        assign(ctx, reference, cast.reviewer.officer_id, cast.triage)
        walk(ctx, cast, reference, "accept")
        fire(ctx, reference, "request_information", cast.reviewer, {"question": QUESTION})
        fire(ctx, reference, "provide_information", GroupActor(reference), {"answer": ANSWER})
        fire(ctx, reference, "not_uphold", cast.reviewer, {**INPUTS["not_uphold"], "reasons": REASONS})
    messages = sent(app, mailbox)
    console = f"{BASE}/officer/claims/{reference}"
    tracking = f"{BASE}/track/{reference}"

    assigned = messages[f"Claim {reference} is assigned to you"]
    assert links_in(assigned) == [(console, console)]
    submitted = messages[f"We have your claim {reference}"]
    to_group = [
        submitted,
        messages[f"We need more information about your claim {reference}"],
        messages[f"Decision on your claim {reference}: not upheld"],
    ]
    private_links = []
    for message in to_group:  # each message to the group carries a private link of its own
        ((private, shown),) = links_in(message)
        assert private.startswith(f"{tracking}?token=") and shown == private
        private_links.append(private)
    assert len(set(private_links)) == len(to_group)
    assert links_in(messages[f"The group answered on claim {reference}"]) == [(console, console)]

    # What people typed is in both parts, as they typed it: in the HTML part as text.
    typed = [
        (assigned, [EVIL, LOOKALIKE, GROUP, MARKER]),
        (submitted, [EVIL, LOOKALIKE, MARKER]),
        (messages[f"We need more information about your claim {reference}"], [EVIL, LOOKALIKE]),
        (messages[f"Decision on your claim {reference}: not upheld"], [EVIL]),
    ]
    for message, words in typed:
        for word in words:
            assert word.replace("&", "&amp;") in html_of(message), (message["Subject"], word)
            assert word in text_of(message), (message["Subject"], word)
    for message in messages.values():
        for href, _ in links_in(message):
            assert href.startswith(f"{BASE}/track/") or href.startswith(f"{BASE}/officer/claims/"), href
            assert "evil" not in href and "sign-in" not in href, href


def test_the_plain_text_part_reads_as_before(app: Flask, mailbox: Path) -> None:
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        reference = submit_claim(ctx, submission(initiative={"title": TITLE}, group={"name": GROUP})).reference
        assign(ctx, reference, cast.reviewer.officer_id, cast.triage)
    assigned = sent(app, mailbox)[f"Claim {reference} is assigned to you"]
    assert text_of(assigned) == (
        "Hello Test Officer,\n"
        "\n"
        f'Claim {reference} ("{TITLE}", {GROUP}) is now assigned to you. It is submitted.\n'
        "\n"
        f"Open it in the console: {BASE}/officer/claims/{reference}\n"
        "\n"
        "The Co-production Guarantee team\n"
        "\n"
        "This is an automatic e-mail: please do not reply to it.\n"
    )
