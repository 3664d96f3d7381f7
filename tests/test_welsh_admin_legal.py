"""Welsh on the console's sign-in and account pages, the admin pages, the legal pages and the pages
every page shares (issue 23). A browser that asks for Welsh (Accept-Language, or the toggle's
``language`` cookie) reads them in Welsh, from the service's catalogue: the page says so
(``<html lang="cy">``), its headings, labels, buttons and messages are Welsh, a service's refusal is
said in Welsh, and GOV.UK's own words ("Show" on a password, "Error:") are too. The cookies page
lists the language cookie the toggle sets. The English pages are as they were (the tests of each
page read them)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from guarantee.legal.cookies import duration
from tests.test_console import SIGN_IN, file, officer, sign_in
from tests.test_public import csrf, error_summary, text_of

WELSH = {"Accept-Language": "cy"}
ENGLISH = {"Accept-Language": "en"}


def heading(html: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert found, "the page has a heading"
    return text_of(found[1])


def in_welsh(html: str) -> bool:
    return '<html lang="cy"' in html


def signed_in_in_welsh(app: Flask, *roles: str) -> FlaskClient:
    client = app.test_client()
    client.set_cookie("language", "cy")
    assert sign_in(client, officer(app, *roles).email).status_code == 303
    return client


# --- the legal pages --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "english", "welsh"),
    [
        ("/accessibility", "Accessibility statement for the", "Datganiad hygyrchedd ar gyfer"),
        ("/privacy", "Privacy notice", "Hysbysiad preifatrwydd"),
        ("/cookies", "Cookies", "Cwcis"),
        ("/contact", "Contact us", "Cysylltu â ni"),
    ],
)
def test_each_legal_page_reads_in_welsh_for_a_browser_that_asks_for_it(
    app: Flask, path: str, english: str, welsh: str
) -> None:
    client = app.test_client()
    cymraeg = client.get(path, headers=WELSH)
    assert cymraeg.status_code == 200 and in_welsh(cymraeg.text)
    assert heading(cymraeg.text).startswith(welsh)
    english_page = client.get(path, headers=ENGLISH)
    assert '<html lang="en"' in english_page.text and heading(english_page.text).startswith(english)


def test_the_legal_pages_keep_the_councils_own_details_and_links_in_welsh(app: Flask) -> None:
    contact = app.test_client().get("/contact", headers=WELSH).text
    words = text_of(contact)
    assert "Drwy'r post" in words and "Cwynion" in words
    assert "ofyn am un newydd" in words
    privacy = text_of(app.test_client().get("/privacy", headers=WELSH).text)
    assert "Erthygl 6(1)(e) UK GDPR, tasg gyhoeddus" in privacy, "the law is named as it is"
    assert "ico.org.uk/make-a-complaint" in privacy


def test_the_accessibility_statement_says_its_timings_in_welsh(app: Flask) -> None:
    words = text_of(app.test_client().get("/accessibility", headers=WELSH).text)
    assert "caiff swyddogion eu hallgofnodi ar ôl 15 munud heb agor tudalen" in words
    assert "chwyddo hyd at 400% heb i'r testun ddisgyn oddi ar y sgrin" in words


# --- the cookies page and the language cookie ---------------------------------------------------


def test_the_cookies_page_lists_the_language_cookie_the_toggle_sets(app: Flask) -> None:
    client = app.test_client()
    english = client.get("/cookies", headers=ENGLISH).text
    assert 'data-cookie="language" data-persistent="yes"' in english
    assert "1 year after you last chose a language" in text_of(english)
    assert "One cookie remembers a choice for next time: the language you chose" in text_of(english)
    chosen = client.get("/language/cy?next=/cookies")
    assert chosen.status_code == 303 and "language=cy" in chosen.headers["Set-Cookie"]
    welsh = text_of(client.get("/cookies").text)  # the cookie now chooses, whatever the browser asks
    assert "1 flwyddyn ar ôl i chi ddewis iaith ddiwethaf" in welsh
    assert "7 diwrnod ar ôl i chi gadw ateb ddiwethaf" in welsh
    assert "nid oes baner cwcis" in welsh


@pytest.mark.parametrize(
    ("length", "english", "welsh"),
    [
        (timedelta(days=1), "1 day", "1 diwrnod"),
        (timedelta(days=2), "2 days", "2 ddiwrnod"),
        (timedelta(days=7), "7 days", "7 diwrnod"),
        (timedelta(days=365), "1 year", "1 flwyddyn"),
        (timedelta(days=730), "2 years", "2 flynedd"),
        (timedelta(hours=1), "1 hour", "1 awr"),
        (timedelta(hours=8), "8 hours", "8 awr"),
        (timedelta(minutes=15), "15 minutes", "15 munud"),
    ],
)
def test_a_cookies_lifetime_is_said_with_the_plural_its_language_needs(
    app: Flask, length: timedelta, english: str, welsh: str
) -> None:
    with app.test_request_context(headers=ENGLISH):
        assert duration(length) == english
    with app.test_request_context(headers=WELSH):
        assert duration(length) == welsh


# --- signing in ---------------------------------------------------------------------------------


def test_the_sign_in_page_reads_in_welsh_with_govuks_own_words(app: Flask) -> None:
    page = app.test_client().get(SIGN_IN, headers=WELSH)
    assert page.status_code == 200 and in_welsh(page.text)
    assert heading(page.text) == "Mewngofnodi i gonsol y swyddogion"
    words = text_of(page.text)
    assert "Cyfeiriad e-bost" in words and "Cyfrinair" in words
    assert 'data-i18n.show-password="Dangos"' in page.text, "the password's Show button"
    assert "data-i18n" not in app.test_client().get(SIGN_IN, headers=ENGLISH).text, "English as it was"


def test_a_wrong_password_is_refused_in_welsh(app: Flask) -> None:
    client = app.test_client()
    page = client.get(SIGN_IN, headers=WELSH)
    refused = client.post(
        SIGN_IN, data={"csrf_token": csrf(page.text), "email": "nobody@council.example", "password": "x"}, headers=WELSH
    )
    assert refused.status_code == 400 and in_welsh(refused.text)
    assert "Mae problem wedi codi" in text_of(refused.text)
    assert error_summary(refused.text) == {"#email": "Rhowch gyfeiriad e-bost a chyfrinair cywir"}
    assert '<span class="govuk-visually-hidden">Gwall:</span>' in refused.text


def test_the_consoles_navigation_and_account_links_are_welsh(app: Flask) -> None:
    client = signed_in_in_welsh(app, "admin")
    page = client.get("/officer/two-step")
    assert in_welsh(page.text) and heading(page.text) == "Dilysu dau gam"
    words = text_of(page.text)
    for said in ("Ciw", "Swyddogion", "Newid eich cyfrinair", "Gosodiadau e-bost", "Allgofnodi"):
        assert said in words, said


def test_a_services_refusal_is_said_in_welsh(app: Flask) -> None:
    refused = signed_in_in_welsh(app, "triage").get("/officer/admin")
    assert refused.status_code == 403 and in_welsh(refused.text)
    assert heading(refused.text) == "Ni allwch wneud hynny"
    said = text_of(refused.text)
    assert "Dim ond swyddog sydd â'r rôl" in said and "all weinyddu swyddogion." in said


def test_the_admin_pages_read_in_welsh(app: Flask) -> None:
    client = signed_in_in_welsh(app, "admin")
    listed = client.get("/officer/admin")
    assert heading(listed.text) == "Swyddogion" and "Ychwanegu swyddog" in text_of(listed.text)
    added = client.post(
        "/officer/admin", data={"csrf_token": csrf(listed.text), "name": "Nia Jones", "email": "", "roles": ["triage"]}
    )
    assert added.status_code == 400
    assert "Mae problem wedi codi" in text_of(added.text)


def test_a_recorded_data_rights_request_is_due_on_a_welsh_date(app: Flask) -> None:
    (reference,) = file(app)
    client = signed_in_in_welsh(app, "triage")
    form = client.get(f"/officer/claims/{reference}/data-rights")
    assert heading(form.text) == "Cofnodi cais hawliau data"
    recorded = client.post(
        f"/officer/claims/{reference}/data-rights",
        data={"csrf_token": csrf(form.text), "kind": "access", "channel": "post", "received_on": "30/10/2026"},
    )
    assert recorded.status_code == 303
    shown = text_of(client.get(recorded.headers["Location"]).text)
    assert "Rhaid ei ateb erbyn 30 Tachwedd 2026." in shown
    assert "Copi o'u data" in shown and "drwy'r post" in shown


# --- the pages every page shares ------------------------------------------------------------------


def test_a_missing_page_is_said_in_welsh(app: Flask) -> None:
    missing = app.test_client().get("/no-such-page", headers=WELSH)
    assert missing.status_code == 404 and in_welsh(missing.text)
    assert heading(missing.text) == "Heb ddod o hyd i'r dudalen"
    assert "Mynd i'r dudalen gychwyn" in text_of(missing.text)
    english = app.test_client().get("/no-such-page", headers=ENGLISH)
    assert heading(english.text) == "Page not found"
