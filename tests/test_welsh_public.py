"""The group's public journey in Welsh, and the language the group is written to in (issue 23).

The claim form asks which language the group wants to be written to in, preselected from the
language it is using the service in; the answer is kept with the other answers, shown on check your
answers with a way to change it, and stored on the claim. The tracking page says which language the
group is written to in and changes it (audited). A browser that asks for Welsh reads the whole
journey in Welsh, from the service's catalogue: the start page, every question page, check your
answers, the confirmation, the tracking page and its actions, lost links, and the data rights pages;
a refusal from a service is said in Welsh too. The English pages are as they were (test_public.py
and the other tests of these pages read them).

Each test runs on SQLite and on PostgreSQL, over HTTP with the test client, CSRF on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.i18n import TRANSLATIONS
from guarantee.models import AuditEvent, Claim
from guarantee.services.claims import submit_claim
from tests.conftest import START, Database
from tests.helpers import Cast, submission, walk
from tests.support.filing import CHECK_PAGE, SUBMIT, answer_page, page_path
from tests.test_public import (
    VALID_FORM,
    WebClaim,
    csrf,
    error_summary,
    fields,
    file_claim_on_web,
    fill_claim_form,
    follow,
    module_app,
    open_link,
    text_of,
    tracking_link,
)

REFERENCE = re.compile(r"CPG-\d{4}-\d{6}")


@pytest.fixture(scope="module")
def shared_app(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    app = module_app(database, tmp_path_factory.mktemp("welsh-public"))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(shared_app: Flask) -> Flask:
    shared_app.extensions["guarantee.clock"].set(START)
    return shared_app


@pytest.fixture
def welsh(app: Flask) -> FlaskClient:
    """A browser whose person chose Cymraeg with the toggle."""
    client = app.test_client()
    client.set_cookie("language", "cy")
    return client


def heading(html: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert found, "the page has a heading"
    return text_of(found[1])


def in_welsh(response: TestResponse) -> bool:
    return '<html lang="cy"' in response.text


def language_of(app: Flask, reference: str) -> str:
    with app.app_context():
        return str(db.session.scalar(select(Claim.language).where(Claim.reference == reference)))


def language_events(app: Flask, reference: str) -> list[dict[str, object]]:
    with app.app_context():
        claim_id = db.session.scalar(select(Claim.id).where(Claim.reference == reference))
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.claim_id == claim_id, AuditEvent.action == "contact_changed")
        )
        return [dict(event.payload or {}) for event in events]


def file_and_open(client: FlaskClient, **overrides: str | None) -> WebClaim:
    """File a claim through the pages and open its tracking link in ``client``."""
    claim = file_claim_on_web(client, **overrides)
    assert open_link(client, claim.link).status_code == 303
    return claim


def claim_in(app: Flask, client: FlaskClient, *triggers: str) -> str:
    """A claim filed through the service and walked through these triggers, opened in ``client``."""
    with app.app_context(), unit_of_work() as ctx:
        filed = submit_claim(ctx, submission())
        walk(ctx, Cast(ctx), filed.reference, *triggers)
    assert client.get(f"/track/{filed.reference}?token={filed.tracking_token}").status_code == 303
    return filed.reference


def checked(html: str, name: str) -> str | None:
    return fields(html).get(name)


# --- the claim form asks which language to write in ----------------------------------------------


def test_the_form_asks_which_language_to_write_in_on_the_page_about_the_group(client: FlaskClient) -> None:
    page = client.get(page_path("group"))

    legend = re.search(r"<legend[^>]*>(.*?)</legend>", page.text, re.S)
    assert legend and text_of(legend[1]) == "Which language should we write to you in?"
    assert re.findall(r'name="group_language" type="radio" value="(\w+)"', page.text) == ["en", "cy"]
    assert "English Cymraeg (Welsh)" in text_of(page.text)


@pytest.mark.parametrize(("cookie", "preselected"), [(None, "en"), ("en", "en"), ("cy", "cy")])
def test_the_language_is_preselected_from_the_language_the_service_is_used_in(
    app: Flask, cookie: str | None, preselected: str
) -> None:
    client = app.test_client()
    if cookie:
        client.set_cookie("language", cookie)

    assert checked(client.get(page_path("group")).text, "group_language") == preselected


def test_a_browser_asking_for_welsh_by_its_accept_language_gets_welsh_preselected(client: FlaskClient) -> None:
    page = client.get(page_path("group"), headers={"Accept-Language": "cy"})

    assert checked(page.text, "group_language") == "cy"


def test_the_language_chosen_is_kept_shown_on_check_your_answers_with_a_change_link_and_stored_on_the_claim(
    app: Flask, client: FlaskClient
) -> None:
    checking = fill_claim_form(client, group_language="cy")
    assert checking.status_code == 200, error_summary(checking.text)

    row = re.search(r"Language we write to you in</dt>(.*?)</div>", checking.text, re.S)
    assert row, "check your answers names the language"
    assert text_of(row[1]).startswith("Cymraeg (Welsh) Change")
    assert 'href="/claims/new/group?change=check#group_language"' in row[1]

    filed = client.post(SUBMIT, data=fields(checking.text))
    assert filed.status_code == 200
    reference = REFERENCE.search(text_of(filed.text))
    assert reference
    assert language_of(app, reference[0]) == "cy"


def test_the_language_can_be_changed_from_check_your_answers_and_the_form_remembers_it(
    app: Flask, client: FlaskClient
) -> None:
    assert fill_claim_form(client).status_code == 200

    opened = client.get(page_path("group", changing=True))
    assert checked(opened.text, "group_language") == "en"
    changed = answer_page(client, "group", {**VALID_FORM, "group_language": "cy"}, changing=True)
    assert changed.status_code == 303 and changed.headers["Location"].endswith(CHECK_PAGE)

    assert checked(client.get(page_path("group")).text, "group_language") == "cy", "the draft keeps the answer"
    checking = client.get(CHECK_PAGE)
    assert "Language we write to you in Cymraeg (Welsh)" in text_of(checking.text)
    filed = client.post(SUBMIT, data=fields(checking.text))
    reference = REFERENCE.search(text_of(filed.text))
    assert reference
    assert language_of(app, reference[0]) == "cy"


def test_english_is_stored_when_the_group_chooses_english(app: Flask, client: FlaskClient) -> None:
    claim = file_claim_on_web(client)

    assert language_of(app, claim.reference) == "en"


def test_a_language_the_service_does_not_write_in_is_refused_beside_the_question_and_nothing_is_filed(
    client: FlaskClient,
) -> None:
    response = answer_page(client, "group", {**VALID_FORM, "group_language": "fr"})

    assert response.status_code == 400
    assert list(error_summary(response.text)) == ["#group_language"]


def test_until_the_group_answers_the_language_is_the_one_it_uses_the_service_in(
    app: Flask, client: FlaskClient, welsh: FlaskClient
) -> None:
    in_english = file_claim_on_web(client, group_language=None)
    in_welsh_ = file_claim_on_web(welsh, group_language=None)

    assert language_of(app, in_english.reference) == "en"
    assert language_of(app, in_welsh_.reference) == "cy"


# --- the tracking page says which language, and changes it ------------------------------------------


def test_the_tracking_page_says_which_language_the_group_is_written_to_in_with_a_form_to_change_it(
    client: FlaskClient,
) -> None:
    claim = file_and_open(client)

    page = client.get(claim.path)

    words = text_of(page.text)
    assert "The language we write to you in" in words
    assert "We write to you in English. Every email we send you about this claim is in this language." in words
    assert f'action="/track/{claim.reference}/language"' in page.text
    assert checked(page.text, "language") == "en"


def test_the_group_changes_the_language_it_is_written_to_in_audited_with_a_banner(
    app: Flask, client: FlaskClient
) -> None:
    claim = file_and_open(client)
    page = client.get(claim.path)

    changed = client.post(f"{claim.path}/language", data={"csrf_token": csrf(page.text), "language": "cy"})

    assert changed.status_code == 303
    shown = follow(client, changed)
    assert "We will write to you in Cymraeg (Welsh) from now on." in text_of(shown.text)
    assert "govuk-notification-banner--success" in shown.text
    assert "We write to you in Cymraeg (Welsh)." in text_of(shown.text)
    assert checked(shown.text, "language") == "cy"
    assert language_of(app, claim.reference) == "cy"
    assert language_events(app, claim.reference) == [{"fields": ["language"]}]
    assert "We will write to you in" not in text_of(client.get(claim.path).text), "the banner is shown once"


def test_choosing_the_language_already_chosen_changes_nothing(app: Flask, client: FlaskClient) -> None:
    claim = file_and_open(client)
    page = client.get(claim.path)

    changed = client.post(f"{claim.path}/language", data={"csrf_token": csrf(page.text), "language": "en"})

    assert changed.status_code == 303
    assert language_of(app, claim.reference) == "en"
    assert language_events(app, claim.reference) == []


@pytest.mark.parametrize("language", ["fr", ""])
def test_a_language_the_service_does_not_write_in_is_refused_beside_the_choice(
    app: Flask, client: FlaskClient, language: str
) -> None:
    claim = file_and_open(client)
    page = client.get(claim.path)

    refused = client.post(f"{claim.path}/language", data={"csrf_token": csrf(page.text), "language": language})

    assert refused.status_code == 400
    assert list(error_summary(refused.text)) == ["#language"]
    assert language_of(app, claim.reference) == "en"
    assert language_events(app, claim.reference) == []


def test_a_language_change_without_the_pages_csrf_token_changes_nothing(app: Flask, client: FlaskClient) -> None:
    claim = file_and_open(client)

    refused = client.post(f"{claim.path}/language", data={"language": "cy"})

    assert refused.status_code == 400
    assert language_of(app, claim.reference) == "en"


def test_a_language_change_from_a_browser_without_the_claims_link_asks_for_the_link(
    app: Flask, client: FlaskClient
) -> None:
    claim = file_and_open(client)
    stranger = app.test_client()
    token = csrf(stranger.get("/track").text)

    refused = stranger.post(f"{claim.path}/language", data={"csrf_token": token, "language": "cy"})

    assert refused.status_code == 403
    assert language_of(app, claim.reference) == "en"


def test_once_the_claim_has_ended_the_page_offers_no_language_form(app: Flask, client: FlaskClient) -> None:
    reference = claim_in(app, client, "withdraw")

    page = client.get(f"/track/{reference}")

    assert page.status_code == 200
    assert f'action="/track/{reference}/language"' not in page.text


# --- the journey in Welsh ---------------------------------------------------------------------------


def test_the_start_page_reads_in_welsh(welsh: FlaskClient) -> None:
    page = welsh.get("/")

    assert page.status_code == 200 and in_welsh(page)
    assert heading(page.text) == "Gofyn i reol sy'n rhwystro eich menter gymunedol gael ei hepgor neu ei newid"
    assert "Dechrau nawr" in text_of(page.text)


def test_every_question_page_reads_in_welsh_with_gov_uk_words_in_welsh(welsh: FlaskClient) -> None:
    page = welsh.get(page_path("group"))

    words = text_of(page.text)
    assert in_welsh(page)
    assert heading(page.text) == "Am eich grŵp"
    assert "Cam 1 o 6" in words
    assert "Ym mha iaith y dylem ysgrifennu atoch chi?" in words
    assert "Saesneg" in words and "Cymraeg" in words
    assert "Parhau" in words and "Yn ôl" in words
    assert "<title>Am eich grŵp – Cyflwyno hawliad" in page.text


def test_a_mistake_on_a_question_page_is_said_in_welsh(welsh: FlaskClient) -> None:
    response = answer_page(welsh, "initiative", {**VALID_FORM, "initiative_sector": ""})

    assert response.status_code == 400
    summary = error_summary(response.text)
    assert summary["#initiative_sector"] == "Dewiswch y maes y mae eich menter yn gweithio ynddo"


def test_check_your_answers_and_the_confirmation_read_in_welsh(app: Flask, welsh: FlaskClient) -> None:
    checking = fill_claim_form(welsh, group_language="cy")

    assert heading(checking.text) == "Gwiriwch eich atebion cyn cyflwyno eich hawliad"
    words = text_of(checking.text)
    assert "Iaith ein gohebiaeth atoch chi Cymraeg Newid" in words
    assert "Cyflwyno'r hawliad" in words

    filed = welsh.post(SUBMIT, data=fields(checking.text))

    assert filed.status_code == 200 and in_welsh(filed)
    assert "Hawliad wedi'i gyflwyno" in text_of(filed.text)
    assert "Eich dolen olrhain breifat" in text_of(filed.text)
    assert tracking_link(filed.text)


def test_the_tracking_page_reads_in_welsh_and_changes_the_language_in_welsh(app: Flask, welsh: FlaskClient) -> None:
    claim = file_and_open(welsh)
    page = welsh.get(claim.path)

    words = text_of(page.text)
    assert in_welsh(page)
    assert heading(page.text) == f"Eich hawliad {claim.reference}"
    for said in ("Ble mae eich hawliad nawr", "Beth sydd wedi digwydd hyd yma", "Yr hyn a ddywedoch wrthym"):
        assert said in words
    assert "Rydym yn ysgrifennu atoch chi yn yr iaith hon: Saesneg." in words

    changed = welsh.post(f"{claim.path}/language", data={"csrf_token": csrf(page.text), "language": "cy"})
    shown = follow(welsh, changed)

    assert "O hyn ymlaen, byddwn yn ysgrifennu atoch chi yn yr iaith hon: Cymraeg." in text_of(shown.text)
    assert language_of(app, claim.reference) == "cy"


def test_the_lost_link_page_and_its_mistakes_read_in_welsh(welsh: FlaskClient) -> None:
    page = welsh.get("/track")
    assert heading(page.text) == "Olrhain eich hawliad"

    refused = welsh.post("/track", data={"csrf_token": csrf(page.text), "reference": "", "email": ""})

    assert refused.status_code == 400
    assert error_summary(refused.text)["#reference"] == "Rhowch gyfeirnod eich hawliad, fel CPG-2026-000123"


def test_a_tracking_link_that_does_not_work_says_so_in_welsh(welsh: FlaskClient) -> None:
    page = welsh.get("/track/CPG-2026-999999?token=nothing")

    assert page.status_code == 404
    assert heading(page.text) == "Nid yw'r ddolen olrhain hon yn gweithio"


def test_the_withdraw_page_reads_in_welsh(app: Flask, welsh: FlaskClient) -> None:
    reference = claim_in(app, welsh)

    page = welsh.get(f"/track/{reference}/actions/withdraw")

    assert page.status_code == 200
    assert "Rhybudd" in text_of(page.text)
    assert "Na, mynd yn ôl i fy hawliad" in text_of(page.text)


def test_the_data_rights_pages_read_in_welsh(app: Flask, welsh: FlaskClient) -> None:
    reference = claim_in(app, welsh)

    assert heading(welsh.get(f"/track/{reference}/your-data").text) == "Eich data"
    assert (
        heading(welsh.get(f"/track/{reference}/erase").text)
        == "Gofyn i ni ddileu eich manylion cyswllt a'ch tystiolaeth"
    )


# --- nothing left in English --------------------------------------------------------------------------


def _english_sentences() -> list[str]:
    """The catalogue's English sentences (five words or more, no placeholders) that Welsh says
    otherwise: none of them should be read on a Welsh page."""
    catalogue = TRANSLATIONS / "cy" / "LC_MESSAGES" / "messages.po"
    with Path(catalogue).open("rb") as f:
        messages = read_po(f, locale="cy")
    return [
        str(m.id)
        for m in messages
        if isinstance(m.id, str)
        and m.string
        and m.string != m.id
        and "%" not in m.id
        and "<" not in m.id
        and len(m.id.split()) >= 5
    ]


def test_no_english_sentence_is_left_on_the_welsh_journey(app: Flask, welsh: FlaskClient) -> None:
    english = _english_sentences()
    checking = fill_claim_form(welsh)
    pages = {
        "start": welsh.get("/"),
        **{
            slug: welsh.get(page_path(slug))
            for slug in ("group", "contact", "initiative", "rule", "barrier", "request")
        },
        "check": checking,
        "lost link": welsh.get("/track"),
    }
    claim = file_and_open(welsh)
    pages |= {
        "tracking": welsh.get(claim.path),
        "your data": welsh.get(f"{claim.path}/your-data"),
        "erase": welsh.get(f"{claim.path}/erase"),
        "withdraw": welsh.get(f"{claim.path}/actions/withdraw"),
    }

    left = {name: [s for s in english if s in text_of(page.text)] for name, page in pages.items()}

    assert {name: found for name, found in left.items() if found} == {}
