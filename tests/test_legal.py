"""The legal pages every UK public service has (issue 21): the accessibility statement, the privacy
notice, the cookies page and how to contact the council. Each says what the council's settings and
the service's own code say; an example setting a council must replace is marked on the page (in
production, only to a signed-in admin) and listed by /readyz in production."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from guarantee import create_app
from guarantee.config import PLACEHOLDERS, from_environment, settings_to_set
from guarantee.extensions import db
from guarantee.legal import accessibility
from tests.conftest import _app_config
from tests.test_console import QUEUE, SIGN_IN, officer, sign_in, signed_in
from tests.test_public import text_of

PAGES = ["/accessibility", "/privacy", "/cookies", "/contact"]
HTTPS = "https://guarantee.council.example"
COUNCIL = {
    "GUARANTEE_COUNCIL_NAME": "Northshire County Council",
    "GUARANTEE_COUNCIL_EMAIL": "coproduction@northshire.example",
    "GUARANTEE_COUNCIL_PHONE": "0161 496 0123",
    "GUARANTEE_COUNCIL_ADDRESS": "County Hall; Market Square; Northtown; NT1 2AB",
    "GUARANTEE_COUNCIL_OPENING_HOURS": "Monday to Thursday, 8am to 6pm",
    "GUARANTEE_COUNCIL_REPLY_DAYS": "7",
    "GUARANTEE_COUNCIL_COMPLAINTS_URL": "https://www.northshire.example/complaints",
    "GUARANTEE_COUNCIL_DPO_NAME": "Alex Rivera, data protection officer",
    "GUARANTEE_COUNCIL_DPO_EMAIL": "dpo@northshire.example",
    "GUARANTEE_COUNCIL_ICO_REGISTRATION": "Z7654321",
    "GUARANTEE_ACCESSIBILITY_REVIEWED_ON": "2026-10-15",
    "GUARANTEE_ACCESSIBILITY_COMPLIANCE": "fully",
    "GUARANTEE_MAIL_FROM": "coproduction@northshire.example",
}
# What each page must show of the council's settings above.
SHOWN = {
    "/accessibility": [
        "Northshire County Council",
        "coproduction@northshire.example",
        "0161 496 0123",
        "within 7 working days",
        "fully compliant",
        "last reviewed on 15 October 2026",
    ],
    "/privacy": [
        "Northshire County Council runs this service",
        "Z7654321",
        "Alex Rivera, data protection officer",
        "dpo@northshire.example",
        "County Hall",
        "NT1 2AB",
    ],
    "/cookies": ["session", "claim-draft", "tracking", "language"],
    "/contact": [
        "run by Northshire County Council",
        "coproduction@northshire.example",
        "0161 496 0123",
        "Monday to Thursday, 8am to 6pm",
        "Market Square",
        "https://www.northshire.example/complaints",
        "dpo@northshire.example",
    ],
}


MADE: list[Flask] = []


@pytest.fixture(autouse=True)
def _close_made_apps() -> Iterator[None]:
    yield
    while MADE:
        with MADE.pop().app_context():
            db.session.remove()
            db.engine.dispose()


def make_app(fresh_url: str, tmp_path: Path, environ: dict[str, str] | None = None, **extra: Any) -> Flask:
    """An app with these settings (``environ`` read as the environment is), closed after the test."""
    made = create_app(
        _app_config(
            fresh_url,
            GUARANTEE_AUDIT_SIGNING_KEY=str(tmp_path / "signing-key.pem"),
            GUARANTEE_EVIDENCE_DIR=str(tmp_path / "evidence"),
            **from_environment(environ or {}),
            **extra,
        )
    )
    MADE.append(made)
    return made


def production(fresh_url: str, tmp_path: Path, environ: dict[str, str] | None = None) -> Flask:
    return make_app(fresh_url, tmp_path, environ, GUARANTEE_ENVIRONMENT="production", GUARANTEE_BASE_URL=HTTPS)


def marks(html: str) -> list[str]:
    """The settings a page marks "Set ... before going live"."""
    return [
        name.replace("_<wbr>", "_")
        for name in re.findall(r'Set <code translate="no">(GUARANTEE_[A-Z_<wbr>]+)</code> before going live', html)
    ]


# --- what each page says ----------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_each_legal_page_shows_the_councils_own_details_and_marks_nothing(fresh_url, tmp_path, path):
    page = make_app(fresh_url, tmp_path, COUNCIL).test_client().get(path)
    assert page.status_code == 200
    words = text_of(page.text)
    for shown in SHOWN[path]:
        assert shown in page.text if shown.startswith("https://") else shown in words, shown
    assert marks(page.text) == []
    assert "Example Council" not in words and "council.example" not in page.text


@pytest.mark.parametrize("path", PAGES)
def test_in_development_each_legal_page_marks_the_example_settings_it_shows(app, path):
    page = app.test_client().get(path)
    assert page.status_code == 200
    marked = marks(page.text)
    assert set(marked) <= set(PLACEHOLDERS)
    expected = {
        "/accessibility": {"GUARANTEE_COUNCIL_EMAIL", "GUARANTEE_COUNCIL_PHONE", "GUARANTEE_ACCESSIBILITY_REVIEWED_ON"},
        "/privacy": {
            "GUARANTEE_COUNCIL_NAME",
            "GUARANTEE_COUNCIL_ICO_REGISTRATION",
            "GUARANTEE_COUNCIL_DPO_NAME",
            "GUARANTEE_COUNCIL_DPO_EMAIL",
            "GUARANTEE_COUNCIL_ADDRESS",
        },
        "/cookies": set(),
        "/contact": {
            "GUARANTEE_COUNCIL_NAME",
            "GUARANTEE_COUNCIL_EMAIL",
            "GUARANTEE_COUNCIL_PHONE",
            "GUARANTEE_COUNCIL_ADDRESS",
            "GUARANTEE_COUNCIL_DPO_EMAIL",
        },
    }[path]
    assert set(marked) == expected
    assert len(marked) == len(set(marked)), "each setting is marked once a page"


def test_in_production_the_example_settings_are_marked_only_for_a_signed_in_admin(fresh_url, tmp_path):
    app = production(fresh_url, tmp_path)
    public = app.test_client()
    assert marks(public.get("/contact", base_url=HTTPS).text) == []
    for role, sees in (("triage", False), ("admin", True)):
        client = app.test_client()
        assert sign_in(client, officer(app, role).email, base_url=HTTPS).status_code == 303
        page = client.get("/contact", base_url=HTTPS)
        assert ("GUARANTEE_COUNCIL_EMAIL" in marks(page.text)) is sees, role


def test_the_privacy_notice_states_the_retention_periods_the_retention_job_uses(fresh_url, tmp_path):
    app = make_app(
        fresh_url,
        tmp_path,
        {"GUARANTEE_RETENTION_CONTACT_MONTHS": "18", "GUARANTEE_RETENTION_EVIDENCE_MONTHS": "36"},
    )
    words = text_of(app.test_client().get("/privacy").text)
    assert "delete your contact details (name, email address and phone number) 18 months after the claim ends" in words
    assert "delete your files of evidence 36 months after the claim ends" in words
    assert "until you stop following it" in words and "within 7 days, we delete your address" in words


def test_the_privacy_notice_names_the_lawful_basis_the_rights_and_the_ico(app):
    words = text_of(app.test_client().get("/privacy").text)
    for said in (
        "Article 6(1)(e), public task",
        "get a copy of the data",
        "ask us to delete your data",
        "0303 123 1113",
    ):
        assert said in words, said
    assert 'href="https://ico.org.uk/make-a-complaint/"' in app.test_client().get("/privacy").text


def _cookie_rows(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-cookie="([^"]+)" data-persistent="(yes|no)"', html))


def test_the_cookies_page_lists_each_cookie_by_the_name_the_code_gives_it(app, fresh_url, tmp_path):
    assert _cookie_rows(app.test_client().get("/cookies").text) == {
        "session": "no",
        "claim-draft": "yes",
        "tracking": "no",
        "language": "yes",
    }
    served_over_https = production(fresh_url, tmp_path).test_client().get("/cookies", base_url=HTTPS)
    assert set(_cookie_rows(served_over_https.text)) == {
        "__Host-session",
        "__Host-claim-draft",
        "__Host-tracking",
        "language",
    }
    words = text_of(served_over_https.text)
    assert "7 days after you last saved an answer" in words and "Until you close your browser" in words
    assert "1 year after you last chose a language" in words
    assert "there is no cookie banner" in words
    assert "to remember your choices" not in words, "the language cookie remembers one"


def test_the_accessibility_statement_reports_the_recorded_automated_tests(app):
    recorded = json.loads(accessibility.RESULTS.read_text())
    tests = accessibility.automated_tests()
    assert tests is not None and tests.pages == len(recorded["pages"]) > 20
    words = text_of(app.test_client().get("/accessibility").text)
    assert f"They checked {tests.pages} pages in a real browser" in words
    assert f"axe-core version {recorded['axe_version']}" in words
    assert f"They found {tests.violations} problems" in words
    assert "has not yet checked this service by hand" in words
    assert "partially compliant with the Web Content Accessibility Guidelines version 2.2 AA standard" in words


def test_without_recorded_results_the_statement_says_so(app, monkeypatch, tmp_path):
    broken = tmp_path / "axe-results.json"
    broken.write_text("{not json")
    monkeypatch.setattr(accessibility, "RESULTS", broken)
    assert accessibility.automated_tests(broken) is None
    monkeypatch.setattr(accessibility.automated_tests, "__defaults__", (broken,))
    words = text_of(app.test_client().get("/accessibility").text)
    assert "The results of the automated tests are not available" in words


# --- the footer -------------------------------------------------------------------------------

FOOTER = {
    "Accessibility statement": "/accessibility",
    "Cookies": "/cookies",
    "Privacy": "/privacy",
    "Contact": "/contact",
}


def _footer_links(html: str) -> dict[str, str]:
    footer = html[html.index('class="govuk-footer"') :]
    return {
        text: href for href, text in re.findall(r'<a class="govuk-footer__link" href="([^"]+)">([^<]+)</a>', footer)
    }


@pytest.mark.parametrize("path", ["/", "/track", "/decisions", "/no-such-page", SIGN_IN])
def test_every_page_links_to_the_legal_pages_from_its_footer(app, path):
    links = _footer_links(app.test_client().get(path).text)
    assert FOOTER.items() <= links.items()


def test_a_signed_in_officers_pages_link_to_the_legal_pages_and_name_the_council(fresh_url, tmp_path):
    app = make_app(fresh_url, tmp_path, COUNCIL)
    client, _ = signed_in(app, "admin")
    page = client.get(QUEUE)
    assert FOOTER.items() <= _footer_links(page.text).items()
    assert "run by Northshire County Council" in text_of(page.text)


# --- readiness and start-up -------------------------------------------------------------------


def test_readyz_lists_the_settings_to_set_in_production_and_stays_ready(fresh_url, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="guarantee"):
        app = production(fresh_url, tmp_path)
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 200
    assert ready.json == {"status": "ok", "settings_to_set": list(PLACEHOLDERS)}
    warned = [r.getMessage() for r in caplog.records if "must be set before going live" in r.getMessage()]
    assert len(warned) == 1 and "GUARANTEE_COUNCIL_EMAIL" in warned[0]


def test_readyz_lists_only_what_is_still_unset_and_nothing_once_all_is_set(fresh_url, tmp_path):
    partly = {k: v for k, v in COUNCIL.items() if k != "GUARANTEE_COUNCIL_DPO_EMAIL"}
    assert production(fresh_url, tmp_path, partly).test_client().get("/readyz").json == {
        "status": "ok",
        "settings_to_set": ["GUARANTEE_COUNCIL_DPO_EMAIL"],
    }
    assert production(fresh_url, tmp_path, COUNCIL).test_client().get("/readyz").json == {"status": "ok"}


def test_readyz_in_development_does_not_list_settings(app):
    assert app.test_client().get("/readyz").json == {"status": "ok"}


# --- the settings -----------------------------------------------------------------------------


def test_every_council_setting_is_read_from_the_environment():
    parsed = from_environment(COUNCIL)
    assert parsed["GUARANTEE_COUNCIL_ADDRESS"] == ("County Hall", "Market Square", "Northtown", "NT1 2AB")
    assert parsed["GUARANTEE_COUNCIL_REPLY_DAYS"] == 7
    assert str(parsed["GUARANTEE_ACCESSIBILITY_REVIEWED_ON"]) == "2026-10-15"
    assert settings_to_set(parsed) == []
    assert from_environment({"GUARANTEE_COUNCIL_ADDRESS": "Town Hall\nHigh Street\nEX1 1AA"})[
        "GUARANTEE_COUNCIL_ADDRESS"
    ] == ("Town Hall", "High Street", "EX1 1AA")


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("GUARANTEE_COUNCIL_NAME", "Example\x00Council", "one line of text"),
        ("GUARANTEE_COUNCIL_NAME", "x" * 201, "at most 200 characters"),
        ("GUARANTEE_COUNCIL_EMAIL", "not an address", "one e-mail address"),
        ("GUARANTEE_COUNCIL_DPO_EMAIL", "a@b.example, c@d.example", "one e-mail address"),
        ("GUARANTEE_COUNCIL_PHONE", "call us", "telephone number"),
        ("GUARANTEE_COUNCIL_ADDRESS", "Town Hall", "2 to 8 lines"),
        ("GUARANTEE_COUNCIL_REPLY_DAYS", "0", "from 1 to 60"),
        ("GUARANTEE_COUNCIL_COMPLAINTS_URL", "http://council.example/complaints", "https://"),
        ("GUARANTEE_COUNCIL_ICO_REGISTRATION", "12345678", "starting with Z"),
        ("GUARANTEE_ACCESSIBILITY_COMPLIANCE", "mostly", "fully, partially or not"),
        ("GUARANTEE_ACCESSIBILITY_REVIEWED_ON", "15/10/2026", "year-month-day"),
    ],
)
def test_a_bad_council_setting_is_refused_with_what_to_set(name, value, says):
    with pytest.raises(ValueError, match=re.escape(says)) as refused:
        from_environment({name: value})
    assert name in str(refused.value)


# --- the record of the automated tests --------------------------------------------------------


def _record(test: str, label: str, path: str, violations: int = 0, version: str = "4.11.0") -> str:
    return json.dumps(
        {
            "test": test,
            "label": label,
            "path": path,
            "width": 320,
            "passes": 20,
            "violations": violations,
            "incomplete": 0,
            "axe_version": version,
            "tested_at": "2026-12-04T04:20:00.000Z",
        }
    )


def test_the_record_counts_a_page_checked_on_both_databases_once_and_keeps_no_token():
    from tools.accessibility_results import gather

    gathered = gather(
        [
            _record("tests/test_x_browser.py::test_walk[sqlite]", "start", "/"),
            _record("tests/test_x_browser.py::test_walk[postgresql]", "start", "/", violations=1),
            _record("tests/test_x_browser.py::test_walk[sqlite-nojs]", "follow", "/follow/" + "a" * 43),
        ]
    )
    assert [(p["label"], p["path"], p["violations"]) for p in gathered["pages"]] == [
        ("start", "/", 1),
        ("follow", "/follow/<token>", 0),
    ]
    assert gathered["tested_on"] == "2026-12-04" and gathered["axe_version"] == "4.11.0"
    with pytest.raises(SystemExit, match="one version of axe-core"):
        gather([_record("t[sqlite]", "start", "/"), _record("t[postgresql]", "start", "/", version="4.10.0")])
