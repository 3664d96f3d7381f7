"""The public web journey for community groups: filing a claim through the form (with check
your answers), the confirmation, the tracking link swapped for a cookie, the tracking page and
the group's actions on it, evidence, lost links, rate limits and HTML error pages.

Every test drives the pages as a browser would: CSRF stays on, and each form is posted with the
hidden fields the page gave. Officers act through the services. Each test runs on SQLite and
on PostgreSQL.

The tests share one app and database per backend and worker (a fresh database for each of
them would take most of the run): each works on claims of its own, starts at the same moment,
and checks what it saved, or that nothing was saved, by comparing totals before and after.
Only the rate-limit tests have an app of their own.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from guarantee import create_app
from guarantee.clock import FixedClock
from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.models import Attachment, AuditEvent, Claim, ClaimDraft, OutboxMessage
from guarantee.public import filing
from guarantee.public.forms import ANSWERS, PAGE_BY_SLUG, PAGE_OF_FIELD, PAGES, SUMMARY_KEYS
from guarantee.services.casework import add_note
from guarantee.services.claims import submit_claim
from guarantee.services.evidence import MAX_FILE_BYTES, MAX_FILES_PER_CLAIM
from tests.api_support import assert_problem
from tests.conftest import START, Database, _app_config
from tests.helpers import INPUTS, VALID_SUBMISSION, Cast, at_once, make_officer, walk
from tests.support.filing import CHECK_PAGE, SUBMIT, answer_page, fill_pages, page_path
from workflows import STATE_GUIDANCE
from workflows.vocabulary import label

# Tiny files that start with the right signature.
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
HTML_PAGE = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"

STORED_NAME = re.compile(r"^[0-9a-f]{32}$")
REFERENCE = re.compile(r"CPG-\d{4}-\d{6}")

# What a group types into the claim form: field name -> what the browser sends.
VALID_FORM: dict[str, str] = {
    "group_name": "Little Acorns Parents",
    "group_contact_name": "Ada Lovelace-Testperson",
    "group_email": "ada.testperson@example.org",
    "group_phone": "01632 960 001",
    "initiative_title": "Parent-run nursery",
    "initiative_description": "Parents run a nursery on a rota\r\nwith one qualified lead.",
    "initiative_sector": "children_and_families",
    "initiative_region": "north_west",
    "initiative_people_involved": "24",
    "group_language": "en",
    "barrier_regulation": "Early years staffing ratios",
    "barrier_regulation_reference": "EYFS 3.28",
    "barrier_imposed_by": "Ofsted",
    "barrier_category": "professional_standards_and_qualifications",
    "barrier_how_it_blocks": "Every parent on the rota would need a level 3 qualification.",
    "barrier_remedy_sought": "waiver",
    "barrier_remedy_details": "A waiver for two years while parents train.",
    "consent_contact": "yes",
    "consent_publish": "yes",
}
RADIOS = (
    "initiative_sector",
    "initiative_region",
    "barrier_category",
    "barrier_remedy_sought",
    "consent_contact",
    "consent_publish",
)
CSRF_MESSAGE = "This page had expired, so nothing was saved"


# --- reading pages --------------------------------------------------------------------

# Tags that start a new line of text: words either side of them are separate.
_BLOCKS = frozenset(
    (
        *("address", "article", "aside", "blockquote", "br", "button", "dd", "details", "div", "dl", "dt"),
        *("fieldset", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "input", "label"),
        *("legend", "li", "main", "nav", "ol", "option", "p", "section", "select", "summary", "table", "td"),
        *("textarea", "th", "title", "tr", "ul"),
    )
)


class _Page(HTMLParser):
    """What a browser would send from a page's forms, and the words a person reads on it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self.words: list[str] = []
        self._textarea: str | None = None
        self._select: str | None = None
        self._hidden = 0  # inside <script> or <style>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag in _BLOCKS:
            self.words.append(" ")
        if tag == "input" and name:
            kind = a.get("type") or "text"
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.values[name] = a.get("value") or ""
            elif kind not in ("file", "submit", "button"):
                self.values[name] = a.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select is not None and "selected" in a:
            self.values[self._select] = a.get("value") or ""
        elif tag in ("script", "style"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.words.append(" ")
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            # A browser drops one line break straight after <textarea>.
            text = self.values[self._textarea] + data
            self.values[self._textarea] = text[1:] if text.startswith("\n") else text
        if not self._hidden:
            self.words.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def fields(html: str) -> dict[str, str]:
    """name -> value of every field a browser would send from the page (checked radios only,
    a select's chosen option)."""
    return _parse(html).values


def csrf(html: str, prefix: str = "") -> str:
    """The CSRF token of the page's form (``prefix``: an action form's, e.g. "appeal")."""
    return fields(html)[f"{prefix}-csrf_token" if prefix else "csrf_token"]


def text_of(html: str) -> str:
    """The words a person reads, with whitespace collapsed."""
    return " ".join("".join(_parse(html).words).split())


def error_summary(html: str) -> dict[str, str]:
    """href -> message of each line of the GOV.UK error summary ({} when there is none)."""
    found = re.search(r'<div class="govuk-error-summary".*?</ul>', html, re.S)
    if found is None:
        return {}
    return {href: unescape(" ".join(m.split())) for href, m in re.findall(r'<a href="(#[^"]*)">(.*?)</a>', found[0])}


def field_error(html: str, field_id: str) -> str | None:
    """The error message shown beside a field, without its hidden "Error:" prefix."""
    found = re.search(rf'<p id="{re.escape(field_id)}-error" class="govuk-error-message">(.*?)</p>', html, re.S)
    return text_of(found[1]).removeprefix("Error:").strip() if found else None


def tracking_link(html: str) -> str:
    tag = re.search(r'<a [^>]*id="tracking-link"[^>]*>', html)
    assert tag, "the confirmation page shows the tracking link"
    href = re.search(r'href="([^"]+)"', tag[0])
    assert href
    return unescape(href[1])


def set_cookies(response: TestResponse) -> dict[str, list[str]]:
    """name -> the attributes of each cookie the response sets ("HttpOnly", "Path=/", ...)."""
    cookies = {}
    for header in response.headers.getlist("Set-Cookie"):
        first, *attributes = header.split("; ")
        cookies[first.split("=", 1)[0]] = attributes
    return cookies


# --- driving the journey --------------------------------------------------------------


@dataclass(frozen=True)
class WebClaim:
    """A claim filed through the pages, as its group knows it."""

    reference: str
    link: str

    @property
    def token(self) -> str:
        return parse_qs(urlsplit(self.link).query)["token"][0]

    @property
    def path(self) -> str:
        return f"/track/{self.reference}"


def comes_back(client: FlaskClient, claim: WebClaim) -> None:
    """Days later the group opens its tracking link again (a tracking session lasts an hour)."""
    assert client.get(claim.path).status_code == 403
    assert client.get(f"{claim.path}?token={claim.token}").status_code == 303


def fill_claim_form(client: FlaskClient, **overrides: str | None) -> TestResponse:
    """Answer the question pages with VALID_FORM (an override of None leaves a question out):
    the check page, or the first page with a mistake."""
    return fill_pages(client, {**VALID_FORM, **overrides})


def file_claim_on_web(client: FlaskClient, **overrides: str | None) -> WebClaim:
    """Fill the form, check the answers and file: the reference and the tracking link shown."""
    checking = fill_claim_form(client, **overrides)
    assert checking.status_code == 200, error_summary(checking.text)
    filed = client.post(SUBMIT, data=fields(checking.text))
    assert filed.status_code == 200, text_of(filed.text)[:500]
    reference = REFERENCE.search(text_of(filed.text))
    assert reference
    return WebClaim(reference[0], tracking_link(filed.text))


def open_link(client: FlaskClient, link: str, **kwargs: Any) -> TestResponse:
    """Follow a tracking link (its path and query: the test client is the host)."""
    parts = urlsplit(link)
    return client.get(f"{parts.path}?{parts.query}", **kwargs)


def post_multipart(client: FlaskClient, url: str, parts: dict[str, str | tuple[bytes, str]]) -> TestResponse:
    """POST a multipart form as a browser does. Encoded here, in memory: the test client's own
    encoder spools large bodies to a temporary file it never closes."""
    values = MultiDict(
        [
            (name, value if isinstance(value, str) else FileStorage(io.BytesIO(value[0]), filename=value[1]))
            for name, value in parts.items()
        ]
    )
    boundary, body = encode_multipart(values)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def act(
    client: FlaskClient,
    reference: str,
    trigger: str,
    *,
    evidence: tuple[bytes, str] | None = None,
    **answers: str,
) -> TestResponse:
    """Use one of the action forms of the tracking page, with the hidden fields the page gave
    (a step that ends the claim, withdrawing, is on a page of its own, which asks first)."""
    page = fields(client.get(f"/track/{reference}").text)
    if f"{trigger}-csrf_token" not in page:
        page = fields(client.get(f"/track/{reference}/actions/{trigger}").text)
    parts: dict[str, str | tuple[bytes, str]] = {
        **{name: value for name, value in page.items() if name.startswith(f"{trigger}-")},
        **{f"{trigger}-{name}": value for name, value in answers.items()},
    }
    if evidence is not None:
        parts[f"{trigger}-evidence"] = evidence
    return post_multipart(client, f"/track/{reference}/actions/{trigger}", parts)


def any_csrf_token(client: FlaskClient) -> str:
    """A valid CSRF token of this browser's session (it is the same for every form)."""
    return csrf(client.get(page_path(PAGES[0].slug)).text)


def forge_action(client: FlaskClient, reference: str, trigger: str, **answers: str) -> TestResponse:
    """POST an action form the page does not offer, with a valid CSRF token and a fresh key."""
    parts: dict[str, str | tuple[bytes, str]] = {
        f"{trigger}-csrf_token": any_csrf_token(client),
        f"{trigger}-action_key": uuid.uuid4().hex,
        **{f"{trigger}-{name}": value for name, value in answers.items()},
    }
    return post_multipart(client, f"/track/{reference}/actions/{trigger}", parts)


def upload(client: FlaskClient, reference: str, data: bytes, filename: str) -> TestResponse:
    """Add a file with the tracking page's evidence form (forged when the page no longer offers it)."""
    page = fields(client.get(f"/track/{reference}").text)
    token = page.get("csrf_token") or any_csrf_token(client)
    key = page.get("action_key") or uuid.uuid4().hex
    return post_multipart(
        client, f"/track/{reference}/evidence", {"csrf_token": token, "action_key": key, "file": (data, filename)}
    )


def follow(client: FlaskClient, response: TestResponse) -> TestResponse:
    assert response.status_code == 303, text_of(response.text)[:500]
    return client.get(response.headers["Location"])


def ask_for_a_link(client: FlaskClient, reference: str, email: str) -> TestResponse:
    page = client.get("/track")
    assert page.status_code == 200
    return client.post("/track", data={"csrf_token": csrf(page.text), "reference": reference, "email": email})


# --- officers, and what is in the database and on disk --------------------------------


def officers_fire(app: Flask, reference: str, *triggers: str) -> None:
    """Officers walk the claim through these triggers (with helpers.INPUTS), committed."""
    with app.app_context(), unit_of_work() as ctx:
        walk(ctx, Cast(ctx), reference, *triggers)


def count(app: Flask, model: Any, *where: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def files_in(root: Path) -> list[Path]:
    """Every file under the evidence folder, temporary ones included."""
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def evidence_dir(app: Flask) -> Path:
    return Path(app.config["GUARANTEE_EVIDENCE_DIR"])


@dataclass(frozen=True)
class Totals:
    """Everything a request could have saved, anywhere."""

    claims: int
    events: int
    outbox: int
    attachments: int
    files: int


def totals(app: Flask) -> Totals:
    return Totals(
        count(app, Claim),
        count(app, AuditEvent),
        count(app, OutboxMessage),
        count(app, Attachment),
        len(files_in(evidence_dir(app))),
    )


@dataclass(frozen=True)
class Snapshot:
    """One claim as the database holds it, and the files on disk."""

    state: str
    version: int
    events: int
    attachments: int
    outbox: int
    files: int


def snapshot(app: Flask, reference: str) -> Snapshot:
    claim_id = claim_of(app, reference).id
    with app.app_context():
        state, version = db.session.execute(select(Claim.state, Claim.version).where(Claim.id == claim_id)).one()
    return Snapshot(
        state,
        version,
        count(app, AuditEvent, AuditEvent.claim_id == claim_id),
        count(app, Attachment, Attachment.claim_id == claim_id),
        count(app, OutboxMessage, OutboxMessage.claim_id == claim_id),
        len(files_in(evidence_dir(app))),
    )


def claim_of(app: Flask, reference: str) -> Claim:
    with app.app_context():
        claim = db.session.scalar(select(Claim).where(Claim.reference == reference))
        assert claim is not None, reference
        db.session.expunge(claim)
    return claim


def attachments_of(app: Flask, reference: str) -> list[Attachment]:
    claim_id = claim_of(app, reference).id
    with app.app_context():
        found = list(db.session.scalars(select(Attachment).where(Attachment.claim_id == claim_id)))
        db.session.expunge_all()
    return found


def links_sent(app: Flask) -> int:
    return count(app, OutboxMessage, OutboxMessage.template == "tracking_link_requested")


def uk(day: date) -> str:
    return f"{day:%-d %B %Y}"


# --- the app these tests share ----------------------------------------------------------


class _CompiledTemplates(BytecodeCache):
    """Templates compiled once per test process and shared by every app made here (compiling
    the GOV.UK macros for each new app is slow). Jinja checks each template's source checksum
    before it reuses the code."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = _CompiledTemplates()


def module_app(database: Database, folder: Path) -> Flask:
    """An app on a fresh copy of the database, at START, sharing the compiled templates: for a
    module whose tests share one app."""
    app = create_app(
        _app_config(
            database.copy(),
            GUARANTEE_CLOCK=FixedClock(START),
            GUARANTEE_AUDIT_SIGNING_KEY=str(folder / "signing-key.pem"),
            GUARANTEE_EVIDENCE_DIR=str(folder / "evidence"),
        )
    )
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    return app


@pytest.fixture(scope="module")
def shared_app(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app and database per backend and worker, for every test here but the rate limits."""
    app = module_app(database, tmp_path_factory.mktemp("public"))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(shared_app: Flask) -> Flask:
    """The shared app, its clock back at conftest's START (a Monday in November 2026)."""
    shared_app.extensions["guarantee.clock"].set(START)
    return shared_app


@pytest.fixture
def clock(app: Flask) -> FixedClock:
    """The app's clock, for the tests that move it."""
    moved: FixedClock = app.extensions["guarantee.clock"]
    return moved


@pytest.fixture
def claim(client: FlaskClient) -> WebClaim:
    """A claim filed through the pages, its link opened in this client (which now has the cookie)."""
    filed = file_claim_on_web(client)
    assert open_link(client, filed.link).status_code == 303
    return filed


# --- 1. the claim form checks every answer ------------------------------------------------

# (field, what the group typed, part of the message they see beside it)
MISSING = [
    ("group_name", "", "Enter the name of your group"),
    ("group_contact_name", "", "Enter the name of the person we should contact"),
    ("group_email", "", "Enter an email address"),
    ("initiative_title", "", "Enter a short name for your initiative"),
    ("initiative_description", "", "Enter a description of your initiative"),
    ("initiative_sector", None, "Select the area your initiative works in"),
    ("initiative_region", None, "Select where your initiative is"),
    ("barrier_regulation", "", "Enter the regulation that blocks you"),
    ("barrier_imposed_by", "", "Enter who imposes the regulation"),
    ("barrier_category", None, "Select the kind of rule that blocks you"),
    ("barrier_how_it_blocks", "", "Enter how the regulation blocks your initiative"),
    ("barrier_remedy_sought", None, "Select what you are asking for"),
    ("consent_contact", None, "Select yes if we can email you about your claim"),
]
TOO_LONG = [
    ("group_name", "x" * 201, "200 characters or fewer"),
    ("group_contact_name", "x" * 201, "200 characters or fewer"),
    ("group_email", "a" * 64 + "@" + "b" * 186 + ".org", "254 characters or fewer"),
    ("group_phone", "0" * 26, "25 characters or fewer"),
    ("initiative_title", "x" * 201, "200 characters or fewer"),
    ("initiative_description", "x" * 10_001, "10,000 characters or fewer"),
    ("initiative_people_involved", "1000001", "between 0 and 1,000,000"),
    ("barrier_regulation", "x" * 301, "300 characters or fewer"),
    ("barrier_regulation_reference", "x" * 301, "300 characters or fewer"),
    ("barrier_imposed_by", "x" * 201, "200 characters or fewer"),
    ("barrier_how_it_blocks", "x" * 10_001, "10,000 characters or fewer"),
    ("barrier_remedy_details", "x" * 5_001, "5,000 characters or fewer"),
]
NOT_ON_THE_LIST = [
    ("initiative_sector", "space_travel", "Select the area your initiative works in"),
    ("initiative_region", "atlantis", "Select where your initiative is"),
    ("barrier_category", "gravity", "Select the kind of rule that blocks you"),
    ("barrier_remedy_sought", "abolition", "Select what you are asking for"),
    ("consent_contact", "maybe", "Select yes if we can email you about your claim"),
]
OTHER_MISTAKES = {
    "email without @": ("group_email", "ada.testperson.example.org", "Enter an email address in the correct format"),
    "email without a dot": ("group_email", "ada@example", "Enter an email address in the correct format"),
    "people in words": ("initiative_people_involved", "twenty", "must be a whole number"),
    "phone in words": ("group_phone", "call me", "Enter a phone number"),
}
MISTAKES = MISSING + TOO_LONG + NOT_ON_THE_LIST + list(OTHER_MISTAKES.values())
MISTAKE_IDS = (
    [f"missing {f}" for f, _, _ in MISSING]
    + [f"too long {f}" for f, _, _ in TOO_LONG]
    + [f"not on the list {f}" for f, _, _ in NOT_ON_THE_LIST]
    + list(OTHER_MISTAKES)
)


@pytest.mark.parametrize(("field", "typed", "message"), MISTAKES, ids=MISTAKE_IDS)
def test_each_mistake_is_shown_beside_its_field_on_its_page_and_every_answer_is_kept(
    app: Flask, client: FlaskClient, field: str, typed: str | None, message: str
) -> None:
    before = totals(app)

    response = fill_claim_form(client, **{field: typed})

    assert response.status_code == 400
    page = response.text
    assert 'class="govuk-error-summary"' in page
    assert "There is a problem" in page
    summary = error_summary(page)
    assert list(summary) == [f"#{field}"], summary
    assert message in summary[f"#{field}"]
    assert message in (field_error(page, field) or "")
    assert f'id="{field}"' in page, "the summary's link leads to the field"
    assert "Check your answers" not in page
    question = PAGE_OF_FIELD[field]
    kept = fields(page)
    for other in question.fields:
        if other != field:
            assert kept.get(other) == VALID_FORM[other], f"{other} was not kept"
    # What was typed, mistake and all, is kept on the server: the page opened again shows it.
    again = fields(client.get(page_path(question.slug)).text)
    if typed and field not in RADIOS:
        assert again[field] == typed
    assert {k: again.get(k) for k in question.fields if k != field} == {
        k: VALID_FORM[k] for k in question.fields if k != field
    }
    assert totals(app) == before


def test_the_remedy_details_are_needed_when_the_group_asks_for_something_else(app: Flask, client: FlaskClient) -> None:
    before = totals(app)

    response = fill_claim_form(client, barrier_remedy_sought="other", barrier_remedy_details="")

    assert response.status_code == 400
    assert list(error_summary(response.text)) == ["#barrier_remedy_details"]
    assert "Enter details of what you are asking for" in (field_error(response.text, "barrier_remedy_details") or "")
    assert fields(response.text)["barrier_remedy_sought"] == "other"
    assert totals(app) == before


@pytest.mark.parametrize(
    ("question", "left_out"),
    [
        ("contact", ["group_email", "consent_contact"]),
        ("initiative", ["initiative_title", "initiative_sector", "initiative_region"]),
        ("rule", ["barrier_regulation", "barrier_category"]),
    ],
)
def test_several_mistakes_on_a_page_are_all_listed_in_the_order_of_the_page(
    app: Flask, client: FlaskClient, question: str, left_out: list[str]
) -> None:
    before = totals(app)

    response = answer_page(client, question, {**VALID_FORM, **dict.fromkeys(left_out, "")})

    assert response.status_code == 400
    assert list(error_summary(response.text)) == [f"#{name}" for name in left_out]
    assert "<title>Error: " in response.text
    assert totals(app) == before


def test_each_page_shows_only_its_own_questions_in_order_with_its_step_and_a_way_back(client: FlaskClient) -> None:
    back = "/"
    for step, question in enumerate(PAGES, start=1):
        page = client.get(page_path(question.slug))
        assert page.status_code == 200
        assert f"Step {step} of {len(PAGES)}" in text_of(page.text)
        assert f'<h1 class="govuk-heading-l">{question.title}</h1>' in page.text
        shown = [name for name in ANSWERS if f'name="{name}"' in page.text]
        assert shown == list(question.fields)
        assert re.search(rf'<a href="{re.escape(back)}" class="govuk-back-link">', page.text), back
        back = page_path(question.slug)


def test_every_question_is_asked_on_exactly_one_page_and_has_a_name_on_the_check_page() -> None:
    asked = [name for question in PAGES for name in question.fields]
    assert sorted(asked) == sorted(VALID_FORM) == sorted(SUMMARY_KEYS)
    assert len(asked) == len(set(asked))


def test_an_unknown_page_of_the_form_is_not_found(client: FlaskClient) -> None:
    assert client.get("/claims/new/nonsense").status_code == 404


def test_the_form_starts_at_its_first_page(client: FlaskClient) -> None:
    response = client.get("/claims/new")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(page_path(PAGES[0].slug))


def test_the_check_page_sends_a_group_that_skipped_a_page_to_each_page_it_missed_in_turn(client: FlaskClient) -> None:
    assert client.get(CHECK_PAGE).headers["Location"].endswith(page_path("group")), "nothing answered yet"
    for slug in ("group", "contact", "rule"):
        assert answer_page(client, slug, VALID_FORM).status_code == 303

    response = client.get(CHECK_PAGE)

    assert response.status_code == 303
    assert response.headers["Location"].endswith(page_path("initiative", changing=True) + "&unanswered=1")
    missed = client.get(response.headers["Location"])
    assert list(error_summary(missed.text)) == [f"#{name}" for name in PAGE_BY_SLUG["initiative"].fields]
    answered = answer_page(client, "initiative", VALID_FORM, changing=True)
    assert answered.headers["Location"].endswith(CHECK_PAGE), "back to checking, which finds the next one"
    assert client.get(CHECK_PAGE).headers["Location"].endswith(page_path("barrier", changing=True) + "&unanswered=1")


def test_a_page_continues_to_the_next_and_the_last_to_check_your_answers(client: FlaskClient) -> None:
    for here, after in zip(PAGES, [*PAGES[1:], None], strict=True):
        response = answer_page(client, here.slug, VALID_FORM)
        assert response.status_code == 303
        assert response.headers["Location"].endswith(page_path(after.slug) if after else CHECK_PAGE)


def test_a_draft_is_kept_for_seven_days_after_its_last_change_then_swept(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    answer_page(client, "group", VALID_FORM)
    clock.advance(days=6)
    assert fields(client.get(page_path("group")).text)["group_name"] == VALID_FORM["group_name"]
    answer_page(client, "contact", VALID_FORM)  # a change: seven days more from now
    clock.advance(days=6)
    assert fields(client.get(page_path("group")).text)["group_name"] == VALID_FORM["group_name"]

    clock.advance(days=1, seconds=1)

    assert fields(client.get(page_path("group")).text)["group_name"] == ""
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["guarantee", "sweep"])
    assert "unfiled claim draft(s)" in result.output
    assert count(app, ClaimDraft, ClaimDraft.expires_at <= clock.now()) == 0


def test_the_draft_key_is_a_private_cookie_and_only_its_hash_is_stored(app: Flask, client: FlaskClient) -> None:
    response = answer_page(client, "group", VALID_FORM)

    cookie = set_cookies(response)["claim-draft"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Max-Age=604800" in cookie
    key = client.get_cookie("claim-draft")
    assert key is not None and len(key.value) >= 43
    assert count(app, ClaimDraft, ClaimDraft.key_hash == hashlib.sha256(key.value.encode()).hexdigest()) == 1
    assert count(app, ClaimDraft, ClaimDraft.key_hash == key.value) == 0


def test_answers_at_every_length_limit_are_accepted(client: FlaskClient) -> None:
    longest = {
        "group_name": "x" * 200,
        "group_contact_name": "x" * 200,
        "group_email": "a" * 64 + "@" + "b" * 185 + ".org",
        "group_phone": "0" * 25,
        "initiative_title": "x" * 200,
        "initiative_description": "x" * 10_000,
        "initiative_people_involved": "1000000",
        "barrier_regulation": "x" * 300,
        "barrier_regulation_reference": "x" * 300,
        "barrier_imposed_by": "x" * 200,
        "barrier_how_it_blocks": "x" * 10_000,
        "barrier_remedy_details": "x" * 5_000,
    }
    response = fill_claim_form(client, **longest)

    assert response.status_code == 200, error_summary(response.text)
    assert "Check your answers before filing your claim" in response.text


def test_the_optional_answers_may_be_left_empty(client: FlaskClient) -> None:
    optional = ("group_phone", "initiative_people_involved", "barrier_regulation_reference", "barrier_remedy_details")
    response = fill_claim_form(client, **dict.fromkeys(optional, ""))

    assert response.status_code == 200, error_summary(response.text)
    assert text_of(response.text).count("Not given") == len(optional)


# --- 2. check your answers -----------------------------------------------------------------


def test_check_your_answers_shows_every_answer_and_files_nothing_yet(app: Flask, client: FlaskClient) -> None:
    before = totals(app)

    response = fill_claim_form(client)

    assert response.status_code == 200
    page = response.text
    words = text_of(page)
    assert "Check your answers before filing your claim" in words
    for name, value in VALID_FORM.items():
        shown = {"consent_contact": "Yes", "consent_publish": "Yes"}.get(name) or (
            label(value) if name in RADIOS else value
        )
        assert " ".join(shown.split()) in words, f"{name} is not shown"
    assert words.index("About your group") < words.index("What you are asking for"), "in the order of the pages"
    sent_on = fields(page)
    assert set(sent_on) == {"csrf_token", "submission_key", "revision"}, "the answers stay on the server"
    assert sent_on["submission_key"]
    assert totals(app) == before


@pytest.mark.parametrize("changing", ["group_email", "initiative_sector", "barrier_how_it_blocks"])
def test_change_opens_the_answers_page_with_every_answer_kept_and_a_way_back_to_checking(
    app: Flask, client: FlaskClient, changing: str
) -> None:
    before = totals(app)
    checking = fill_claim_form(client).text
    question = PAGE_OF_FIELD[changing]
    link = f"{page_path(question.slug, changing=True)}#{changing}"
    assert f'href="{link}"' in checking

    response = client.get(link)

    assert response.status_code == 200
    assert error_summary(response.text) == {}
    assert f'id="{changing}"' in response.text
    assert f'<a href="{CHECK_PAGE}" class="govuk-back-link">' in response.text
    kept = fields(response.text)
    assert {k: kept.get(k) for k in question.fields} == {k: VALID_FORM[k] for k in question.fields}
    assert totals(app) == before


def test_a_changed_answer_returns_to_check_your_answers_and_is_what_gets_filed(app: Flask, client: FlaskClient) -> None:
    fill_claim_form(client)

    changed = answer_page(client, "group", {**VALID_FORM, "group_name": "Oak Tree Parents"}, changing=True)

    assert changed.status_code == 303
    assert changed.headers["Location"].endswith(CHECK_PAGE)
    rechecked = client.get(CHECK_PAGE)
    assert "Oak Tree Parents" in text_of(rechecked.text)
    filed = client.post(SUBMIT, data=fields(rechecked.text))
    assert filed.status_code == 200
    reference = REFERENCE.search(text_of(filed.text))
    assert reference
    assert claim_of(app, reference[0]).group_name == "Oak Tree Parents"


def test_a_mistake_made_while_changing_an_answer_stays_on_its_page_until_put_right(client: FlaskClient) -> None:
    fill_claim_form(client)

    wrong = answer_page(client, "contact", {**VALID_FORM, "group_email": "not an email"}, changing=True)
    assert wrong.status_code == 400
    assert list(error_summary(wrong.text)) == ["#group_email"]
    assert client.get(CHECK_PAGE).headers["Location"].endswith(page_path("contact", changing=True) + "&unanswered=1")
    right = answer_page(client, "contact", {**VALID_FORM, "group_email": "oak@example.org"}, changing=True)
    assert right.headers["Location"].endswith(CHECK_PAGE)


def test_a_check_page_shown_before_a_change_in_another_tab_files_nothing_and_shows_the_answers_again(
    app: Flask, client: FlaskClient
) -> None:
    old_page = fields(fill_claim_form(client).text)
    answer_page(client, "group", {**VALID_FORM, "group_name": "Oak Tree Parents"}, changing=True)  # another tab
    before = totals(app)

    response = client.post(SUBMIT, data=old_page)

    assert response.status_code == 409
    assert "Your answers were changed after this page was shown" in text_of(response.text)
    assert "Oak Tree Parents" in text_of(response.text)
    assert totals(app) == before
    assert client.post(SUBMIT, data=fields(response.text)).status_code == 200
    assert totals(app).claims == before.claims + 1


def test_what_a_group_types_is_always_shown_as_text_never_as_markup(client: FlaskClient) -> None:
    script = '<script>alert("x")</script>'
    attribute = '"><img src=x onerror=alert(1)>'
    checking = fill_claim_form(client, initiative_title=attribute, initiative_description=script)
    assert checking.status_code == 200
    asked = client.get(page_path("initiative"))
    filed = client.post(SUBMIT, data=fields(checking.text))
    page = follow(client, open_link(client, tracking_link(filed.text)))

    for response in (checking, asked, page):
        assert "<script>alert" not in response.text
        assert "<img src=x" not in response.text
    for response in (checking, page):
        assert script in text_of(response.text)
        assert attribute in text_of(response.text)
    assert fields(asked.text)["initiative_title"] == attribute


def test_pages_sent_at_the_same_moment_from_two_tabs_both_keep_their_answers(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer_page(client, "group", VALID_FORM)
    other_tab = client.application.test_client()
    for cookie in ("claim-draft", "session"):
        found = client.get_cookie(cookie)
        assert found is not None
        other_tab.set_cookie(cookie, found.value)
    pages = {tab: client.get(page_path(slug)).text for tab, slug in (("group", "group"), ("contact", "contact"))}
    # Each request waits a moment after reading the draft: without a lock, both would read the
    # answers as they were and the later save would drop the other's.
    found_draft = filing.find_draft

    def slowly(*args: Any, **kwargs: Any) -> Any:
        draft = found_draft(*args, **kwargs)
        time.sleep(0.3)
        return draft

    monkeypatch.setattr(filing, "find_draft", slowly)
    changed = {"group_name": "Oak Tree Parents", "group_email": "oak@example.org"}

    def send(tab: FlaskClient, slug: str) -> TestResponse:
        own = {k: changed.get(k, VALID_FORM[k]) for k in PAGE_BY_SLUG[slug].fields}
        return tab.post(page_path(slug), data={**own, "csrf_token": csrf(pages[slug])})

    results = at_once([lambda: send(client, "group"), lambda: send(other_tab, "contact")])
    assert all(isinstance(r, TestResponse) for r in results), results

    assert [r.status_code for r in results] == [303, 303]
    monkeypatch.undo()
    kept = {**fields(client.get(page_path("group")).text), **fields(client.get(page_path("contact")).text)}
    assert (kept["group_name"], kept["group_email"]) == ("Oak Tree Parents", "oak@example.org")


# --- 3. filing, once -----------------------------------------------------------------------


def test_filing_the_checked_answers_files_exactly_one_claim_with_them_and_ends_the_draft(
    app: Flask, client: FlaskClient
) -> None:
    before = totals(app)
    drafts = count(app, ClaimDraft)

    filed = file_claim_on_web(client)

    assert totals(app).claims == before.claims + 1
    assert count(app, ClaimDraft) == drafts, "the answers live in the claim now, and nowhere else"
    assert fields(client.get(page_path("group")).text)["group_name"] == "", "a new claim starts empty"
    saved = claim_of(app, filed.reference)
    assert saved.state == "submitted"
    assert (saved.group_name, saved.initiative_title, saved.sector, saved.barrier_category) == (
        VALID_FORM["group_name"],
        VALID_FORM["initiative_title"],
        VALID_FORM["initiative_sector"],
        VALID_FORM["barrier_category"],
    )
    assert saved.initiative_description.splitlines() == ["Parents run a nursery on a rota", "with one qualified lead."]
    assert saved.people_involved == 24
    assert saved.consent_contact is True
    assert snapshot(app, filed.reference).events == 1


def test_pressing_file_claim_twice_gives_the_same_reference_and_one_claim(app: Flask, client: FlaskClient) -> None:
    answers = fields(fill_claim_form(client).text)
    before = totals(app)

    first = client.post(SUBMIT, data=answers)
    second = client.post(SUBMIT, data=answers)

    assert first.status_code == second.status_code == 200
    assert tracking_link(first.text) == tracking_link(second.text)
    reference = REFERENCE.search(text_of(first.text))
    assert reference and reference[0] in text_of(second.text)
    after = totals(app)
    assert (after.claims, after.events) == (before.claims + 1, before.events + 1)


def test_filing_from_a_browser_without_the_answers_says_so_and_how_to_start_again(
    app: Flask, client: FlaskClient
) -> None:
    before = totals(app)
    elsewhere = app.test_client()

    response = elsewhere.post(
        SUBMIT, data={"csrf_token": any_csrf_token(elsewhere), "submission_key": uuid.uuid4().hex, "revision": "1"}
    )

    assert response.status_code == 404
    words = text_of(response.text)
    assert "Your answers were not found" in words
    assert "Start a new claim" in words
    assert totals(app) == before


def test_checking_the_answers_again_and_filing_gives_a_second_claim(app: Flask, client: FlaskClient) -> None:
    before = totals(app)
    first = file_claim_on_web(client)
    second = file_claim_on_web(client)
    assert first.reference != second.reference
    assert totals(app).claims == before.claims + 2


@pytest.mark.parametrize("token", [None, "", "not-a-real-token"], ids=["missing", "empty", "forged"])
def test_filing_without_a_valid_csrf_token_files_nothing_and_keeps_the_answers(
    app: Flask, client: FlaskClient, token: str | None
) -> None:
    answers = fields(fill_claim_form(client).text)
    del answers["csrf_token"]
    if token is not None:
        answers["csrf_token"] = token
    before = totals(app)

    response = client.post(SUBMIT, data=answers)

    assert response.status_code == 400
    assert CSRF_MESSAGE in text_of(response.text)
    assert 'class="govuk-error-summary"' in response.text
    assert VALID_FORM["group_name"] in text_of(response.text), "the answers are still there to check"
    assert totals(app) == before
    # The page comes back with a fresh token: filing again works.
    assert client.post(SUBMIT, data=fields(response.text)).status_code == 200
    assert totals(app).claims == before.claims + 1


def test_continuing_without_a_csrf_token_saves_nothing_and_shows_the_page_again_with_the_answers(
    app: Flask, client: FlaskClient
) -> None:
    client.get(page_path("contact"))
    before = (totals(app), count(app, ClaimDraft))
    typed = {k: VALID_FORM[k] for k in PAGE_BY_SLUG["contact"].fields}

    response = client.post(page_path("contact"), data=typed)

    assert response.status_code == 400
    assert CSRF_MESSAGE in text_of(response.text)
    assert {k: fields(response.text).get(k) for k in typed} == typed
    assert (totals(app), count(app, ClaimDraft)) == before


# --- 4. the confirmation page ----------------------------------------------------------------


def test_the_confirmation_shows_the_reference_the_link_and_advice_to_keep_it(app: Flask, client: FlaskClient) -> None:
    answers = fields(fill_claim_form(client).text)

    response = client.post(SUBMIT, data=answers)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    words = text_of(response.text)
    link = tracking_link(response.text)
    reference = urlsplit(link).path.removeprefix("/track/")
    assert claim_of(app, reference).state == "submitted"
    assert link.startswith(f"{app.config['GUARANTEE_BASE_URL']}/track/{reference}?token=")
    assert words.index("Claim filed") < words.index(reference) < words.index("Your private tracking link")
    assert link in words
    assert "keep it somewhere safe and private" in words
    assert "A bookmark of your tracking page will not work later" in words
    assert "We show it only once" in words
    assert "An officer will check your claim by 9 November 2026" in words


def test_the_reference_on_the_confirmation_panel_reads_as_words_not_markup(client: FlaskClient) -> None:
    response = client.post(SUBMIT, data=fields(fill_claim_form(client).text))
    reference = urlsplit(tracking_link(response.text)).path.removeprefix("/track/")
    assert f"Claim filed Your reference is {reference} Your private tracking link" in text_of(response.text)


def test_the_confirmation_says_the_page_is_the_only_copy_when_the_group_wants_no_email(client: FlaskClient) -> None:
    answers = fields(fill_claim_form(client, consent_contact="no").text)
    words = text_of(client.post(SUBMIT, data=answers).text)
    assert "this page is the only place the link is shown" in words


# --- 5. the tracking link is swapped for a cookie ---------------------------------------------


def test_the_first_visit_swaps_the_token_for_a_cookie_and_drops_it_from_the_address(client: FlaskClient) -> None:
    filed = file_claim_on_web(client)

    response = open_link(client, filed.link)

    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert (location.path, location.query) == (filed.path, "")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    cookie = set_cookies(response)["tracking"]
    assert {"HttpOnly", "SameSite=Lax", "Path=/"} <= set(cookie)
    assert "Secure" not in cookie
    assert not any(a.startswith(("Domain=", "Expires=", "Max-Age=")) for a in cookie), "ends with the browser"
    assert filed.token not in str(response.headers)

    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert f"Your claim {filed.reference}" in text_of(page.text)
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert filed.token not in page.text


def test_over_https_the_cookie_is_a_secure_host_cookie(client: FlaskClient) -> None:
    filed = file_claim_on_web(client)

    response = open_link(client, filed.link, base_url="https://localhost")

    assert response.status_code == 303
    cookies = set_cookies(response)
    assert "tracking" not in cookies
    cookie = cookies["__Host-tracking"]
    assert {"Secure", "HttpOnly", "SameSite=Lax", "Path=/"} <= set(cookie)
    assert not any(a.startswith("Domain=") for a in cookie)
    page = client.get(filed.path, base_url="https://localhost")
    assert page.status_code == 200
    assert "Strict-Transport-Security" in page.headers


@pytest.mark.parametrize(
    "token", ["not-the-token", "", "x" * 43], ids=["a wrong token", "an empty token", "a token-shaped guess"]
)
def test_a_wrong_token_gives_404_and_no_cookie(client: FlaskClient, token: str) -> None:
    filed = file_claim_on_web(client)

    response = client.get(f"{filed.path}?token={token}")

    assert response.status_code == 404
    assert "This tracking link does not work" in text_of(response.text)
    assert response.headers["Cache-Control"] == "no-store"
    assert not {"tracking", "__Host-tracking"} & set(set_cookies(response))
    assert client.get(filed.path).status_code == 403


def test_a_part_of_the_token_does_not_open_the_claim(client: FlaskClient) -> None:
    filed = file_claim_on_web(client)
    assert client.get(f"{filed.path}?token={filed.token[:-1]}").status_code == 404


def test_a_claims_link_opens_no_other_claim_neither_by_link_nor_by_cookie(app: Flask, client: FlaskClient) -> None:
    mine = file_claim_on_web(client)
    theirs = file_claim_on_web(client)
    before = snapshot(app, theirs.reference)

    by_link = client.get(f"{theirs.path}?token={mine.token}")
    assert by_link.status_code == 404
    assert not set_cookies(by_link)

    assert open_link(client, mine.link).status_code == 303
    assert client.get(mine.path).status_code == 200
    by_cookie = client.get(theirs.path)
    assert by_cookie.status_code == 403
    assert "Open your tracking link again" in text_of(by_cookie.text)
    assert theirs.reference not in text_of(by_cookie.text)
    assert forge_action(client, theirs.reference, "withdraw").status_code == 403
    assert snapshot(app, theirs.reference) == before


def test_without_the_cookie_the_tracking_page_asks_for_the_link_again(app: Flask, client: FlaskClient) -> None:
    filed = file_claim_on_web(client)

    response = app.test_client().get(filed.path)

    assert response.status_code == 403
    assert response.mimetype == "text/html"
    words = text_of(response.text)
    assert "Open your tracking link again" in words
    assert "Ask for a new tracking link" in words  # a button to the lost-link form, reference filled in
    assert f'href="/track?reference={filed.reference}"' in response.text
    assert filed.reference not in words
    assert response.headers["Cache-Control"] == "no-store"


def test_a_tampered_cookie_is_ignored(client: FlaskClient, claim: WebClaim) -> None:
    client.set_cookie("tracking", "eyJDUEctMjAyNi0wMDAwMDEiOjF9.forged.signature")
    assert client.get(claim.path).status_code == 403


@pytest.mark.parametrize(
    "payload",
    [{"CPG-2026-000001": [1, 1]}, ["not", "a", "mapping"], "not json at all"],
    ids=["another format", "not a mapping", "not json"],
)
def test_a_signed_cookie_of_another_shape_is_ignored_not_an_error(
    app: Flask, client: FlaskClient, claim: WebClaim, payload: Any
) -> None:
    """A cookie signed with the service's key but not in today's format (one issued before an
    upgrade) opens nothing, and the page asks for the link again."""
    from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer

    for serializer in (URLSafeSerializer, URLSafeTimedSerializer):
        for salt in ("guarantee tracking session v2", "guarantee tracking session v3"):
            signed = serializer(app.config["SECRET_KEY"], salt=salt).dumps(payload)
            if payload == "not json at all":
                signed = signed.replace(signed.split(".")[0], "bm90IGpzb24", 1)
            client.set_cookie("tracking", signed)
            assert client.get(claim.path).status_code == 403


def test_a_browser_keeps_the_five_claims_it_opened_last(app: Flask, client: FlaskClient) -> None:
    with app.app_context(), unit_of_work() as ctx:
        filed = [submit_claim(ctx, VALID_SUBMISSION) for _ in range(6)]
        links = [(f.reference, f.tracking_token) for f in filed]
    for reference, token in links:
        assert client.get(f"/track/{reference}?token={token}").status_code == 303

    assert [client.get(f"/track/{reference}").status_code for reference, _ in links] == [403] + [200] * 5


def test_the_token_and_the_email_never_reach_the_logs(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    # Every logger at DEBUG but SQLAlchemy's, which then echoes result rows by design (an
    # operator switches that on only to debug SQL; hide_parameters covers parameters, not rows).
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        if not name.startswith("sqlalchemy"):
            caplog.set_level(logging.DEBUG, logger=name)

    filed = file_claim_on_web(client)
    client.get(f"{filed.path}?token={filed.token}x")
    assert open_link(client, filed.link).status_code == 303
    client.get(filed.path)
    act(client, filed.reference, "withdraw", reason="We found another venue.")
    ask_for_a_link(client, filed.reference, VALID_FORM["group_email"])
    ask_for_a_link(client, filed.reference, "someone.else@example.org")
    app.test_client().get(f"{filed.path}?token={filed.token}")

    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for record in caplog.records:
        line = formatter.format(record)
        for secret in (filed.token, VALID_FORM["group_email"], VALID_FORM["group_contact_name"]):
            assert secret not in line, line


# --- 6. the tracking page -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("officers", "state_label", "due_phrase"),
    [
        ((), "Submitted", "We will check your claim by"),
        (("accept",), "Under review", "We will decide your claim by"),
        (("accept", "request_information"), "Waiting for information from the group", "Answer our question by"),
        (("accept", "not_uphold"), "Not upheld", "The last day to appeal is"),
    ],
    ids=["submitted", "under review", "awaiting information", "not upheld"],
)
def test_the_tracking_page_says_where_the_claim_is_and_by_when_the_next_step_is_due(
    app: Flask, client: FlaskClient, claim: WebClaim, *, officers: tuple[str, ...], state_label: str, due_phrase: str
) -> None:
    officers_fire(app, claim.reference, *officers)
    saved = claim_of(app, claim.reference)
    assert saved.due_on

    words = text_of(client.get(claim.path).text)

    assert f"Where your claim is now {state_label} {STATE_GUIDANCE[saved.state]}" in words
    assert f"{due_phrase} {uk(saved.due_on)}." in words
    assert "How we worked out this date" in words
    assert "We count working days: Monday to Friday, not counting bank holidays in England." in words


@pytest.mark.parametrize(
    ("officers", "late", "phrase"),
    [
        ((), True, "We should have checked your claim by"),
        (("accept",), True, "We should have decided your claim by"),
        (("accept", "request_information"), False, "Answer our question by"),  # the group's own deadline
    ],
    ids=["triage", "decision", "the group's answer"],
)
def test_once_a_councils_deadline_has_passed_the_page_says_we_are_late(
    app: Flask,
    client: FlaskClient,
    claim: WebClaim,
    clock: FixedClock,
    *,
    officers: tuple[str, ...],
    late: bool,
    phrase: str,
) -> None:
    officers_fire(app, claim.reference, *officers)
    due = claim_of(app, claim.reference).due_on
    assert due
    clock.set_day(due + timedelta(days=1))
    assert open_link(client, claim.link).status_code == 303

    words = text_of(client.get(claim.path).text)

    assert f"{phrase} {uk(due)}." in words
    assert ("We are late." in words) is late


def test_a_new_claims_page_explains_its_due_date(client: FlaskClient, claim: WebClaim) -> None:
    words = text_of(client.get(claim.path).text)

    assert "We will check your claim by 9 November 2026." in words
    assert (
        "5 working days counted from the day after 2 November 2026, skipping 2 weekend days: 9 November 2026." in words
    )
    assert "What has happened so far Claim filed 2 November 2026 at 10:00am" in words
    assert "What you told us" in words
    assert VALID_FORM["barrier_how_it_blocks"] in words
    assert VALID_FORM["group_email"] not in words
    assert VALID_FORM["group_contact_name"] not in words


def test_the_page_shows_the_public_timeline_and_never_an_internal_note(
    app: Flask, client: FlaskClient, claim: WebClaim
) -> None:
    note = "Internal: the chair of this group is a councillor's cousin."
    officers_fire(app, claim.reference, "accept")
    with app.app_context(), unit_of_work() as ctx:
        add_note(ctx, claim.reference, make_officer(ctx, "reviewer"), note)
    officers_fire(app, claim.reference, "request_information")

    page = client.get(claim.path).text
    words = text_of(page)

    timeline = words[words.index("What has happened so far") : words.index("What you told us")]
    assert timeline.index("We asked you a question") < timeline.index("Accepted for review")
    assert timeline.index("Accepted for review") < timeline.index("Claim filed")
    assert f"Our question: {INPUTS['request_information']['question']}" in timeline
    assert note not in page
    assert "councillor" not in page
    assert "Food premises registration" not in page, "the officers' classification is internal"


# --- 7. the group's actions --------------------------------------------------------------------


@pytest.mark.parametrize(
    "evidence", [None, (PNG, "rota.png"), (PDF, "letter.pdf")], ids=["no file", "with a PNG", "with a PDF"]
)
def test_the_group_answers_the_question_it_was_asked(
    app: Flask, client: FlaskClient, claim: WebClaim, evidence: tuple[bytes, str] | None
) -> None:
    officers_fire(app, claim.reference, "accept", "request_information")
    page = client.get(claim.path).text
    assert INPUTS["request_information"]["question"] in text_of(page)
    assert 'name="provide_information-answer"' in page
    assert 'name="provide_information-evidence" type="file"' in page
    before = snapshot(app, claim.reference)

    response = act(client, claim.reference, "provide_information", evidence=evidence, answer="Twelve volunteers.")

    assert response.headers["Location"] == f"{claim.path}#main-content"
    words = text_of(follow(client, response).text)
    assert "Your answer has been sent." in words
    assert "Where your claim is now Under review" in words
    assert "Your answer: Twelve volunteers." in words
    assert "Answer the question" not in words
    after = snapshot(app, claim.reference)
    assert after.state == "under_review"
    added = 1 if evidence else 0
    assert (after.attachments, after.files) == (before.attachments + added, before.files + added)
    if evidence:
        [attachment] = attachments_of(app, claim.reference)
        assert attachment.filename == evidence[1]
        assert evidence[1] in words
        with app.app_context():
            payload = db.session.scalar(
                select(AuditEvent.payload).where(
                    AuditEvent.claim_id == attachment.claim_id, AuditEvent.action == "provide_information"
                )
            )
        assert payload["input"]["evidence"] == [attachment.id]


def test_an_empty_answer_is_refused_beside_the_answer_box(app: Flask, client: FlaskClient, claim: WebClaim) -> None:
    officers_fire(app, claim.reference, "accept", "request_information")
    before = snapshot(app, claim.reference)

    response = act(client, claim.reference, "provide_information", answer="  ")

    assert response.status_code == 400
    assert list(error_summary(response.text)) == ["#provide_information-answer"]
    assert field_error(response.text, "provide_information-answer")
    assert snapshot(app, claim.reference) == before


def test_the_group_appeals_on_the_last_day_of_the_window(
    app: Flask, client: FlaskClient, claim: WebClaim, clock: FixedClock
) -> None:
    officers_fire(app, claim.reference, "accept", "not_uphold")
    last_day = claim_of(app, claim.reference).due_on
    assert last_day
    words = text_of(client.get(claim.path).text)
    assert f"You can appeal until the end of {uk(last_day)}." in words
    assert f"Reasons: {INPUTS['not_uphold']['reasons']}" in words
    clock.set_day(last_day, hour=23)
    comes_back(client, claim)

    after = follow(client, act(client, claim.reference, "appeal", grounds="A qualified lead is always present."))

    words = text_of(after.text)
    assert "Your appeal has been sent." in words
    assert "Where your claim is now Appealed" in words
    assert "Your grounds: A qualified lead is always present." in words
    assert snapshot(app, claim.reference).state == "appealed"


def test_the_day_after_the_window_the_appeal_form_is_gone_and_a_forged_appeal_is_refused(
    app: Flask, client: FlaskClient, claim: WebClaim, clock: FixedClock
) -> None:
    officers_fire(app, claim.reference, "accept", "not_uphold")
    last_day = claim_of(app, claim.reference).due_on
    assert last_day
    clock.set_day(last_day + timedelta(days=1), hour=0)
    comes_back(client, claim)
    page = client.get(claim.path).text
    assert 'name="appeal-grounds"' not in page
    assert f"{claim.path}/actions/appeal" not in page
    before = snapshot(app, claim.reference)

    response = forge_action(client, claim.reference, "appeal", grounds="Too late, but please.")

    assert response.status_code == 409
    words = text_of(response.text)
    assert "There is a problem" in words
    assert "You can no longer appeal the decision. The deadline passed: the last day was" in words
    assert "Where your claim is now Not upheld" in words
    assert 'name="appeal-grounds"' not in response.text
    assert snapshot(app, claim.reference) == before


@pytest.mark.parametrize("trigger", ["accept", "uphold", "reopen", "information_lapsed", "no_such_trigger"])
def test_a_trigger_the_group_may_not_fire_is_not_found_and_changes_nothing(
    app: Flask, client: FlaskClient, claim: WebClaim, trigger: str
) -> None:
    before = snapshot(app, claim.reference)

    response = forge_action(client, claim.reference, trigger, reasons="Upheld by ourselves.")

    assert response.status_code == 404
    assert "Page not found" in text_of(response.text)
    assert snapshot(app, claim.reference) == before


def test_an_action_without_its_csrf_token_changes_nothing(app: Flask, client: FlaskClient, claim: WebClaim) -> None:
    before = snapshot(app, claim.reference)
    response = post_multipart(client, f"{claim.path}/actions/withdraw", {"withdraw-reason": "No token"})
    assert response.status_code == 400
    assert CSRF_MESSAGE in text_of(response.text)
    assert snapshot(app, claim.reference) == before


def test_pressing_an_action_button_twice_acts_once(app: Flask, client: FlaskClient, claim: WebClaim) -> None:
    page = client.get(f"{claim.path}/actions/withdraw").text
    parts: dict[str, str | tuple[bytes, str]] = {**fields(page), "withdraw-reason": "Twice"}
    before = snapshot(app, claim.reference)

    first = post_multipart(client, f"{claim.path}/actions/withdraw", parts)
    second = post_multipart(client, f"{claim.path}/actions/withdraw", parts)

    assert first.status_code == second.status_code == 303
    assert snapshot(app, claim.reference).events == before.events + 1


# --- 8. evidence through the web --------------------------------------------------------------


def test_a_file_uploaded_through_the_page_is_listed_and_downloads_as_an_attachment(
    app: Flask, client: FlaskClient, claim: WebClaim
) -> None:
    response = upload(client, claim.reference, PDF, "budget.pdf")

    after = follow(client, response)
    assert "Your file has been added to the claim." in text_of(after.text)
    [attachment] = attachments_of(app, claim.reference)
    download = f"{claim.path}/evidence/{attachment.id}"
    assert f'href="{download}">budget.pdf</a>' in after.text
    with client.get(download) as got:
        assert got.status_code == 200
        assert got.headers["Content-Disposition"] == "attachment; filename=budget.pdf"
        assert got.headers["X-Content-Type-Options"] == "nosniff"
        assert got.headers["Cache-Control"] == "no-store"
        assert got.mimetype == "application/pdf"
        assert got.data == PDF


def test_a_path_in_the_filename_is_dropped_and_the_file_kept_under_a_clean_name(
    app: Flask, client: FlaskClient, claim: WebClaim
) -> None:
    root = evidence_dir(app)
    before = set(files_in(root))

    after = follow(client, upload(client, claim.reference, PNG, "../../etc/passwd.png"))

    assert ">passwd.png</a>" in after.text
    assert "etc/" not in after.text
    [attachment] = attachments_of(app, claim.reference)
    assert attachment.filename == "passwd.png"
    [stored] = set(files_in(root)) - before
    assert STORED_NAME.match(stored.name)
    assert stored == root / attachment.stored_name[:2] / attachment.stored_name, "nothing from the filename"
    assert not (root.parent / "etc").exists()
    with client.get(f"{claim.path}/evidence/{attachment.id}") as got:
        assert got.headers["Content-Disposition"] == "attachment; filename=passwd.png"
        assert got.data == PNG


BAD_FILES = {
    "just over 10 MiB": ("scan.pdf", b"%PDF-" + b"0" * (MAX_FILE_BYTES - 4), "smaller than 10 MB"),
    "a .txt file": ("notes.txt", b"Our notes", "must be a PDF, PNG or JPEG"),
    "a .pdf that is really HTML": ("plan.pdf", HTML_PAGE, "not really a PDF"),
    "an empty file": ("plan.pdf", b"", "empty"),
}


@pytest.mark.parametrize(("filename", "data", "message"), list(BAD_FILES.values()), ids=list(BAD_FILES))
def test_a_bad_file_is_refused_beside_the_file_field_and_nothing_is_saved(
    app: Flask, client: FlaskClient, claim: WebClaim, *, filename: str, data: bytes, message: str
) -> None:
    before = totals(app)

    response = upload(client, claim.reference, data, filename)

    assert response.status_code == 400
    summary = error_summary(response.text)
    assert list(summary) == ["#file"]
    assert message in summary["#file"]
    assert message in (field_error(response.text, "file") or "")
    assert 'id="file"' in response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert totals(app) == before


def test_an_upload_without_a_file_asks_for_one(app: Flask, client: FlaskClient, claim: WebClaim) -> None:
    page = client.get(claim.path).text
    before = totals(app)

    response = post_multipart(
        client, f"{claim.path}/evidence", {"csrf_token": csrf(page), "action_key": fields(page)["action_key"]}
    )

    assert response.status_code == 400
    assert error_summary(response.text) == {"#file": "Select a file to upload"}
    assert totals(app) == before


def test_a_sixth_file_is_refused_and_the_five_stay(app: Flask, client: FlaskClient, claim: WebClaim) -> None:
    for number in range(MAX_FILES_PER_CLAIM):
        assert upload(client, claim.reference, PDF, f"page-{number}.pdf").status_code == 303
    assert 'name="file"' not in client.get(claim.path).text, "the page stops offering uploads at the limit"
    before = totals(app)

    response = upload(client, claim.reference, PDF, "page-6.pdf")

    assert response.status_code == 400
    summary = error_summary(response.text)
    assert list(summary) == ["#file"]
    assert "at most 5 files" in summary["#file"]
    assert totals(app) == before
    assert len(attachments_of(app, claim.reference)) == MAX_FILES_PER_CLAIM


def test_the_error_for_a_sixth_file_links_to_a_field_on_the_page(client: FlaskClient, claim: WebClaim) -> None:
    for number in range(MAX_FILES_PER_CLAIM):
        upload(client, claim.reference, PDF, f"page-{number}.pdf")
    response = upload(client, claim.reference, PDF, "page-6.pdf")
    assert list(error_summary(response.text)) == ["#file"]
    assert 'id="file"' in response.text


def test_a_bad_file_with_an_answer_leaves_the_claim_waiting_and_keeps_the_answer(
    app: Flask, client: FlaskClient, claim: WebClaim
) -> None:
    officers_fire(app, claim.reference, "accept", "request_information")
    before = (totals(app), snapshot(app, claim.reference))

    response = act(
        client, claim.reference, "provide_information", evidence=(b"Our notes", "notes.txt"), answer="Twelve."
    )

    assert response.status_code == 400
    summary = error_summary(response.text)
    assert list(summary) == ["#provide_information-evidence"]
    assert "must be a PDF, PNG or JPEG" in summary["#provide_information-evidence"]
    assert 'id="provide_information-evidence"' in response.text
    assert fields(response.text)["provide_information-answer"] == "Twelve."
    assert (totals(app), snapshot(app, claim.reference)) == before
    assert before[1].state == "awaiting_information"


def test_a_file_downloads_only_with_the_cookie_for_its_claim(app: Flask, client: FlaskClient, claim: WebClaim) -> None:
    follow(client, upload(client, claim.reference, PDF, "budget.pdf"))
    [attachment] = attachments_of(app, claim.reference)
    url = f"{claim.path}/evidence/{attachment.id}"

    stranger = app.test_client()
    with stranger.get(url) as response:
        assert response.status_code == 403
        assert response.data != PDF
    other = file_claim_on_web(stranger)
    assert open_link(stranger, other.link).status_code == 303
    with stranger.get(url) as response:
        assert response.status_code == 403
    with stranger.get(f"{other.path}/evidence/{attachment.id}") as response:
        assert response.status_code == 404
        assert response.data != PDF


# --- 9. lost tracking links -------------------------------------------------------------------


def test_asking_for_a_new_link_answers_the_same_whether_or_not_the_claim_matches(
    app: Flask, client: FlaskClient
) -> None:
    filed = file_claim_on_web(client)
    email = VALID_FORM["group_email"]
    before = links_sent(app)
    answers = {}
    for case, reference, address in [
        ("unknown reference", "CPG-2026-999999", email),
        ("wrong email", filed.reference, "someone.else@example.org"),
        ("not a reference", "my claim", email),
        ("match", filed.reference, email),
    ]:
        response = ask_for_a_link(client, reference, address)
        answers[case] = (response.status_code, text_of(response.text))
        assert links_sent(app) - before == (1 if case == "match" else 0), case

    assert len(set(answers.values())) == 1, answers
    status, words = answers["match"]
    assert status == 200
    assert "If the reference and email address match a claim, we have sent a new tracking link" in words
    with app.app_context():
        message = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == "tracking_link_requested")
            .order_by(OutboxMessage.id.desc())
        ).first()
        assert message is not None
        stored = f"{message.payload} {message.claim_id}"
    assert message.claim_id == claim_of(app, filed.reference).id
    assert email not in stored and filed.token not in stored


def test_the_match_ignores_case_and_spaces(app: Flask, client: FlaskClient) -> None:
    filed = file_claim_on_web(client)
    before = links_sent(app)
    ask_for_a_link(client, f" {filed.reference.lower()} ", f"  {VALID_FORM['group_email'].upper()} ")
    assert links_sent(app) == before + 1


def test_a_second_request_within_10_minutes_sends_no_second_link(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    filed = file_claim_on_web(client)
    email = VALID_FORM["group_email"]
    before = links_sent(app)

    first = ask_for_a_link(client, filed.reference, email)
    clock.advance(minutes=9)
    second = ask_for_a_link(client, filed.reference, email)

    assert (second.status_code, text_of(second.text)) == (first.status_code, text_of(first.text))
    assert links_sent(app) == before + 1
    clock.advance(minutes=2)
    ask_for_a_link(client, filed.reference, email)
    assert links_sent(app) == before + 2


@pytest.mark.parametrize(
    ("reference", "email", "missing"),
    [("", "", ["#reference", "#email"]), ("CPG-2026-000001", " ", ["#email"]), ("", "ada@example.org", ["#reference"])],
    ids=["both", "email", "reference"],
)
def test_a_lost_link_request_with_missing_fields_shows_the_error_summary(
    app: Flask, client: FlaskClient, reference: str, email: str, missing: list[str]
) -> None:
    before = totals(app)

    response = ask_for_a_link(client, reference, email)

    assert response.status_code == 400
    assert list(error_summary(response.text)) == missing
    for href in missing:
        assert f'id="{href[1:]}"' in response.text
    assert fields(response.text)["email"] == email
    assert totals(app) == before


# --- 10. rate limits ---------------------------------------------------------------------------


@pytest.fixture
def limited_app(make_app: Any) -> Flask:
    """An app of its own with rate limits on (the shared limiter is put back afterwards)."""
    app: Flask = make_app(GUARANTEE_SUBMISSION_RATE_LIMIT="1 per minute", GUARANTEE_TOKEN_RATE_LIMIT="2 per minute")
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    return app


def assert_too_many_attempts(response: TestResponse) -> None:
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    words = text_of(response.text)
    assert "Too many attempts" in words
    assert "Wait a few minutes and try again" in words
    assert int(response.headers["Retry-After"]) > 0


def test_too_many_claims_from_one_address_get_the_friendly_429_page_and_file_nothing(limited_app: Flask) -> None:
    client = limited_app.test_client()
    file_claim_on_web(client)
    answers = fields(fill_claim_form(client).text)

    response = client.post(SUBMIT, data=answers)

    assert_too_many_attempts(response)
    assert count(limited_app, Claim) == 1


def test_too_many_pages_of_the_claim_form_from_one_address_get_the_friendly_429_page(make_app: Any) -> None:
    app: Flask = make_app(GUARANTEE_FORM_PAGE_RATE_LIMIT="3 per minute")
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    client = app.test_client()
    assert [answer_page(client, "group", VALID_FORM).status_code for _ in range(3)] == [303] * 3

    response = answer_page(client, "group", {**VALID_FORM, "group_name": "Oak Tree Parents"})

    assert_too_many_attempts(response)
    assert fields(client.get(page_path("group")).text)["group_name"] == VALID_FORM["group_name"], "nothing saved"


def test_token_lookups_are_limited_but_visits_with_the_cookie_are_not(limited_app: Flask) -> None:
    with limited_app.app_context(), unit_of_work() as ctx:
        filed = submit_claim(ctx, VALID_SUBMISSION)
        reference, token = filed.reference, filed.tracking_token
    client = limited_app.test_client()

    assert client.get(f"/track/{reference}?token={token}").status_code == 303
    assert [client.get(f"/track/{reference}").status_code for _ in range(5)] == [200] * 5
    assert client.get(f"/track/{reference}?token=a-guess").status_code == 404

    assert_too_many_attempts(client.get(f"/track/{reference}?token={token}"))
    assert client.get(f"/track/{reference}").status_code == 200, "the cookie still opens the page"


# --- 11. HTML error pages -------------------------------------------------------------------------


def test_an_unknown_page_is_the_html_404_page(client: FlaskClient) -> None:
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    words = text_of(response.text)
    assert "Page not found" in words
    assert "Go to the start page" in words


def test_an_unknown_api_path_is_still_a_problem_document(client: FlaskClient) -> None:
    assert_problem(client.get("/api/v1/no-such-thing"), 404)


def test_a_wrong_method_on_a_page_is_the_html_405_page(client: FlaskClient) -> None:
    response = client.delete("/claims/new")
    assert response.status_code == 405
    assert response.mimetype == "text/html"
    assert "Sorry, that did not work" in text_of(response.text)


def test_an_unknown_claim_looks_like_any_claim_not_opened_here(client: FlaskClient) -> None:
    response = client.get("/track/CPG-2026-999999")
    assert response.status_code == 403
    assert "Open your tracking link again" in text_of(response.text)


# --- 12. what a careful review asked for ---------------------------------------------------


@pytest.mark.parametrize("path", ["/track/%00?token=abc", "/track/CPG-2026-000001%00?token=abc", "/track/%00"])
def test_a_nul_or_odd_text_in_a_tracking_address_is_a_page_not_a_failure(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "There is a character we cannot keep in what you sent" in text_of(response.text)


@pytest.mark.parametrize(
    ("field", "typed"),
    [("group_name", "Little\x00Acorns"), ("initiative_description", "Parents\x00run it\non a rota")],
    ids=["one-line field", "long text"],
)
def test_a_nul_in_the_claim_form_saves_nothing_and_the_page_gives_back_what_was_typed(
    app: Flask, client: FlaskClient, field: str, typed: str
) -> None:
    before = totals(app)

    response = fill_claim_form(client, **{field: typed})

    assert response.status_code == 400
    words = text_of(response.text)
    assert "There is a character we cannot keep in what you sent" in words
    assert "Nothing was saved" in words
    assert typed.replace("\x00", "\ufffd") in response.text, "what was typed is there to copy"
    assert totals(app) == before


def test_when_the_session_lapsed_while_typing_the_page_shows_what_was_written(
    app: Flask, client: FlaskClient, claim: WebClaim
) -> None:
    page = client.get(f"{claim.path}/actions/withdraw").text
    before = snapshot(app, claim.reference)
    stranger = app.test_client()  # no tracking cookie, as after an hour away
    response = post_multipart(
        stranger,
        f"{claim.path}/actions/withdraw",
        {"withdraw-csrf_token": csrf(page, "withdraw"), "withdraw-reason": "A long explanation, typed slowly."},
    )
    assert response.status_code == 403
    words = text_of(response.text)
    assert "Open your tracking link again" in words
    assert "What you wrote was not sent" in words
    assert "A long explanation, typed slowly." in response.text
    assert snapshot(app, claim.reference) == before


def test_when_evidence_cannot_be_stored_the_answer_is_kept_and_nothing_is_saved(
    app: Flask, client: FlaskClient, claim: WebClaim, monkeypatch: pytest.MonkeyPatch
) -> None:
    from guarantee.services.storage import EvidenceStore, StorageUnavailable

    officers_fire(app, claim.reference, "accept", "request_information")
    before = snapshot(app, claim.reference)

    def unwritable(self: EvidenceStore, data: bytes) -> str:
        raise StorageUnavailable("Evidence cannot be stored just now. Please try again later.")

    monkeypatch.setattr(EvidenceStore, "put", unwritable)
    response = act(client, claim.reference, "provide_information", evidence=(PNG, "photo.png"), answer="Twelve.")

    assert response.status_code == 503
    words = text_of(response.text)
    assert "Evidence cannot be stored just now" in words
    assert "Choose your file again (photo.png)" in words
    assert fields(response.text)["provide_information-answer"] == "Twelve."
    assert snapshot(app, claim.reference) == before


def test_behind_a_tls_proxy_the_cookie_is_secure_because_the_service_address_is_https(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    filed = file_claim_on_web(client)
    monkeypatch.setitem(app.config, "GUARANTEE_BASE_URL", "https://guarantee.example")
    response = open_link(client, filed.link)  # plain HTTP, as the proxy forwards it
    cookie = set_cookies(response)
    assert "__Host-tracking" in cookie
    assert "Secure" in cookie["__Host-tracking"]
    assert "Strict-Transport-Security" in response.headers


def test_erasing_the_contact_details_ends_the_tracking_link_and_its_sessions(
    app: Flask, client: FlaskClient, claim: WebClaim
) -> None:
    from guarantee.services.actors import SystemActor
    from guarantee.services.casework import erase_contact

    with app.app_context(), unit_of_work() as ctx:
        erase_contact(ctx, claim.reference, SystemActor())

    assert client.get(claim.path).status_code == 403
    ended = app.test_client().get(f"{claim.path}?token={claim.token}")
    assert ended.status_code == 410  # the link has ended: its page offers a new one (tests/test_group_links.py)
    assert "This link has ended" in text_of(ended.text)


def test_a_tracking_session_ends_twelve_hours_after_the_link_was_opened(
    client: FlaskClient, claim: WebClaim, clock: FixedClock
) -> None:
    opened = clock.now()
    assert client.get(claim.path).status_code == 200
    for hours in range(1, 13):  # busy all day: a page every hour keeps the session alive ...
        clock.set(opened + timedelta(hours=hours, minutes=-1))
        assert client.get(claim.path).status_code == 200
    clock.set(opened + timedelta(hours=12, minutes=1))
    assert client.get(claim.path).status_code == 403  # ... but not past twelve hours


def test_a_tracking_session_ends_an_hour_after_the_last_page_seen(
    client: FlaskClient, claim: WebClaim, clock: FixedClock
) -> None:
    assert client.get(claim.path).status_code == 200
    clock.advance(minutes=59)
    assert client.get(claim.path).status_code == 200
    clock.advance(minutes=61)
    assert client.get(claim.path).status_code == 403


def test_sending_an_old_copy_of_an_action_with_other_answers_says_what_happened(
    app: Flask, client: FlaskClient, claim: WebClaim
) -> None:
    officers_fire(app, claim.reference, "accept", "request_information")
    page = client.get(claim.path).text
    parts: dict[str, str | tuple[bytes, str]] = {
        "provide_information-csrf_token": csrf(page, "provide_information"),
        "provide_information-action_key": fields(page)["provide_information-action_key"],
        "provide_information-answer": "Twelve.",
    }
    assert post_multipart(client, f"{claim.path}/actions/provide_information", parts).status_code == 303
    officers_fire(app, claim.reference, "request_information")
    before = snapshot(app, claim.reference)

    again = post_multipart(
        client, f"{claim.path}/actions/provide_information", {**parts, "provide_information-answer": "Thirteen."}
    )

    assert again.status_code == 409
    assert "This page was already sent once, with different answers" in text_of(again.text)
    assert text_of(again.text).startswith("Error:")
    assert snapshot(app, claim.reference) == before


def test_another_site_cannot_show_our_claim_form_filled_in_with_its_answers(app: Flask, client: FlaskClient) -> None:
    client.get(page_path("contact"))
    drafts = count(app, ClaimDraft)
    response = client.post(
        page_path("contact", changing=True),
        data={"group_email": "attacker@example.net", "csrf_token": any_csrf_token(client)},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 400
    assert "attacker@example.net" not in response.text
    assert count(app, ClaimDraft) == drafts
    assert "attacker@example.net" not in client.get(page_path("contact")).text


def test_another_site_cannot_file_a_claim_with_a_browsers_answers(app: Flask, client: FlaskClient) -> None:
    answers = fields(fill_claim_form(client).text)
    before = totals(app)
    response = client.post(SUBMIT, data=answers, headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 400
    assert totals(app) == before


def test_a_copied_check_answers_page_cannot_replay_another_browsers_filing(app: Flask, client: FlaskClient) -> None:
    check_page = fill_claim_form(client).text
    client.post(SUBMIT, data=fields(check_page))
    other = app.test_client()
    copied = {**fields(check_page), "csrf_token": any_csrf_token(other)}  # its own session and token
    before = totals(app)

    replayed = other.post(SUBMIT, data=copied)

    assert replayed.status_code == 404, "the answers, and the filing, belong to the browser that gave them"
    assert 'id="tracking-link"' not in replayed.text
    assert totals(app) == before


def test_the_process_page_is_generated_from_the_workflow_and_the_configured_time_limits(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workflows import CLOCKS, TRANSITIONS

    monkeypatch.setitem(app.config, "GUARANTEE_WORKING_DAYS", {**app.config["GUARANTEE_WORKING_DAYS"], "triage": 7})
    words = text_of(client.get("/process").text)
    assert "Triage 7" in words
    for transition in TRANSITIONS:
        assert transition.label in words
    for clock in CLOCKS.values():
        assert clock.label in words
    assert "Reopen" in words and "A triage officer or an administrator." in words
    assert "Why the claim is reopened (seen only by officers)" in words, "an internal input is named, not hidden"
    assert "Why you are withdrawing (optional)" in words and "(optional) (optional)" not in words
    assert "The group, before the time to appeal runs out." in words
