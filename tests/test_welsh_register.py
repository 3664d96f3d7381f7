"""The register of decisions and the rule pages in Welsh (issue 23): /decisions, a statement's page,
the data dictionary, the Atom feed, /rules and a rule's page read in the language the reader chose
(the toggle's cookie, else Accept-Language), and the same pages read exactly as before in English.
The open data (the API's JSON and CSV) keeps its English field names and codes whatever the
reader's language: programs read them.

Every test runs on SQLite and on PostgreSQL, on a database of its own (conftest's ``app``).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from guarantee import i18n
from guarantee.context import unit_of_work
from guarantee.services import publishing
from guarantee.services.register import period_words
from guarantee.services.rule_pages import default_challenge_route
from tests.support.filing import page_csrf
from tests.support.register import alike, regulation, statement
from tests.test_public import text_of
from tests.test_register_pages import ATOM, small_register

WELSH = {"language": "cy"}  # the toggle's cookie
WELSH_HEADER = {"Accept-Language": "cy"}  # a browser's choice, without the cookie
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def read(client: FlaskClient, path: str, **cookies: str) -> Any:
    client.delete_cookie("language")
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client.get(path)


def test_the_register_reads_in_welsh_and_in_english_as_before(app: Flask, client: FlaskClient) -> None:
    small_register(app)
    welsh = read(client, "/decisions", **WELSH)
    assert welsh.status_code == 200 and '<html lang="cy"' in welsh.text
    words = text_of(welsh.text)
    assert "Penderfyniadau ar hawliadau" in words and "Hidlo penderfyniadau" in words
    assert "12 penderfyniad" in words
    assert "DS-2026-0001 Wedi'i dynnu'n ôl" in words  # the withdrawn statement's tag
    assert "Tynnwyd yn ôl yn Ch2 2026: It named the street." in words  # the reason as the officer wrote it
    assert "penderfynwyd yn Ch2 2026, cyhoeddwyd yn Ch2 2026" in words
    assert "Sut rydym yn cadw hyn yn ddienw" in words and "How we keep this anonymous" not in words
    assert "Lawrlwytho'r penderfyniadau" in words and "Pob rheol" in words

    english = read(client, "/decisions")
    assert '<html lang="en"' in english.text
    words = text_of(english.text)
    assert "Decisions on claims" in words and "12 decisions" in words and "DS-2026-0001 Withdrawn" in words
    assert "decided in 2026 Q2, published in 2026 Q2" in words
    assert "Every decision is shown at the moment." in words


def test_a_wrong_filter_is_explained_in_welsh(app: Flask, client: FlaskClient) -> None:
    refused = read(client, "/decisions?year=26", **WELSH)
    assert refused.status_code == 400
    assert "Rhowch flwyddyn fel 4 digid, fel 2026" in text_of(refused.text)
    assert re.search(r"<title[^>]*>\s*Gwall: Penderfyniadau ar hawliadau", refused.text)
    assert "Enter a year as 4 digits, like 2026" in text_of(read(client, "/decisions?year=26").text)


def test_a_statement_page_reads_in_welsh(app: Flask, client: FlaskClient) -> None:
    small_register(app)
    words = text_of(read(client, "/decisions/DS-2026-0001", **WELSH).text)
    assert "Datganiad penderfyniad DS-2026-0001" in words
    assert "Cafodd y datganiad hwn ei dynnu'n ôl yn Ch2 2026. It named the street." in words
    assert "Cyfeirnod cyfreithiol" in words and "Penderfyniad Wedi'i gadarnhau" in words
    assert "Penderfynwyd Ch2 2026, 14 diwrnod gwaith ar ôl cyflwyno'r hawliad" in words
    assert "Rhagor am y rheol hon, a sut i'w herio" in words

    words = text_of(read(client, "/decisions/DS-2026-0001").text)
    assert "This statement was withdrawn in 2026 Q2. It named the street." in words
    assert "Decided 2026 Q2, 14 working days after the claim was filed" in words


def test_the_data_dictionary_reads_in_welsh_and_keeps_the_field_names_and_codes(
    app: Flask, client: FlaskClient
) -> None:
    page = read(client, "/decisions/data-dictionary", **WELSH).text
    words = text_of(page)
    assert '<html lang="cy"' in page
    assert "Beth mae'r data a gyhoeddir yn ei olygu" in words and "Datganiad penderfyniad" in words
    assert "Rhif cyhoeddus y datganiad, fel DS-2026-48213" in words
    # The names programs read stay English, marked as English for a screen reader.
    assert '<th scope="row" class="govuk-table__header" lang="en"><code>withdrawn_reason</code></th>' in page
    assert '<td class="govuk-table__cell" lang="en"><code>not_upheld</code></td>' in page
    assert '<td class="govuk-table__cell">Heb ei gadarnhau</td>' in page

    english = text_of(read(client, "/decisions/data-dictionary").text)
    assert "What the published data means" in english and "For a withdrawn statement: why, in public words." in english


def test_the_feed_follows_the_readers_language_and_says_which(app: Flask, client: FlaskClient) -> None:
    app.config["GUARANTEE_REGISTER_MIN_CLAIMS"] = 3
    small_register(app, statements=3)
    welsh = etree.fromstring(client.get("/decisions.atom", headers=WELSH_HEADER).data)
    assert welsh.get(XML_LANG) == "cy"
    assert welsh.findtext(f"{ATOM}title") == "Penderfyniadau – Gwarant Cydgynhyrchu"
    titles = [entry.findtext(f"{ATOM}title") for entry in welsh.iter(f"{ATOM}entry")]
    assert "Wedi'i dynnu'n ôl: DS-2026-0001: wedi'i gadarnhau, Food hygiene" in titles
    [withdrawn] = [e for e in welsh.iter(f"{ATOM}entry") if e.findtext(f"{ATOM}title", "").startswith("Wedi'i")]
    text = withdrawn.findtext(f"{ATOM}content", "")
    assert text.startswith("Cafodd y datganiad hwn ei dynnu'n ôl yn Ch2 2026: It named the street.")
    assert "Penderfyniad: Wedi'i gadarnhau." in text and "14 diwrnod gwaith" in text
    ruled = etree.fromstring(client.get("/decisions.atom?rule=food-hygiene", headers=WELSH_HEADER).data)
    assert ruled.findtext(f"{ATOM}title") == "Penderfyniadau – Gwarant Cydgynhyrchu: Food hygiene"

    english = etree.fromstring(client.get("/decisions.atom").data)
    assert english.get(XML_LANG) == "en-GB"
    assert english.findtext(f"{ATOM}title") == "Decisions of the Co-production Guarantee"
    titles = [entry.findtext(f"{ATOM}title") for entry in english.iter(f"{ATOM}entry")]
    assert "Withdrawn: DS-2026-0001: upheld, Food hygiene" in titles


def test_the_open_data_keeps_english_names_and_codes_for_a_welsh_reader(app: Flask, client: FlaskClient) -> None:
    app.config["GUARANTEE_REGISTER_MIN_CLAIMS"] = 3
    small_register(app, statements=3)
    read(client, "/", **WELSH)
    listed = client.get("/api/v1/decisions").json
    assert listed is not None
    first = listed["statements"][-1]
    assert first["status"] == "withdrawn" and first["decision"] == "upheld" and first["decided"] == "2026 Q2"
    assert first["region"] == "london" and first["category"] == "food_hygiene"
    rows = list(csv.reader(io.StringIO(client.get("/api/v1/decisions.csv").text)))
    assert rows[0][:4] == ["number", "status", "decision", "rule_title"]
    assert {row[rows[0].index("decided")] for row in rows[1:]} == {"2026 Q2"}


def test_the_rule_pages_read_in_welsh(app: Flask, client: FlaskClient) -> None:
    small_register(app)
    index = text_of(read(client, "/rules", **WELSH).text)
    assert "Rheolau y mae grwpiau'n dweud eu bod yn eu rhwystro" in index and "Chwilio'r rheolau" in index
    assert 'Nid oes unrhyw reol yn cyfateb i "sebra"' in text_of(read(client, "/rules?q=sebra", **WELSH).text)

    page = read(client, "/rules/food-hygiene", **WELSH).text
    words = text_of(page)
    assert '<html lang="cy"' in page
    assert "Sut i herio'r rheol hon gyda Food Standards Agency" in words
    assert "Gofynnwch i Food Standards Agency sut i gwyno" in words  # no route written yet: the default
    assert "Mae 10 neu fwy o hawliadau wedi'u cyflwyno am y rheol hon." in words
    assert "Y 5 mwyaf newydd o'r 12 datganiad penderfyniad am y rheol hon." in words
    assert "Penderfynwyd Ch2 2026" in words and "Darllen datganiad penderfyniad DS-2026-0012" in words
    assert "Dilyn y rheol hon" in words and "Eich cyfeiriad e-bost" in words

    english = text_of(read(client, "/rules/food-hygiene").text)
    assert "How to challenge this rule with Food Standards Agency" in english
    assert "Ask Food Standards Agency how to complain about or appeal against how it applies this rule." in english
    assert "10 or more claims about this rule have been filed." in english
    assert "The 5 newest of 12 decision statements about this rule." in english


def test_following_a_rule_is_confirmed_in_welsh(app: Flask, client: FlaskClient) -> None:
    with app.app_context(), unit_of_work() as ctx:
        rule = regulation(ctx.session, "Food hygiene", "food-hygiene")
        statement(ctx.session, alike(ctx.session, rule.id, 1)[0])
    page = read(client, "/rules/food-hygiene", **WELSH).text
    asked = client.post("/rules/food-hygiene/follow", data={"email": "ada@example.org", "csrf_token": page_csrf(page)})
    assert asked.status_code == 200
    assert "Gwiriwch eich e-bost" in text_of(asked.text) and "o fewn 7 diwrnod" in text_of(asked.text)


def test_the_services_words_are_said_in_welsh_where_they_are_shown(app: Flask) -> None:
    """Flask-free code keeps English (logs, the CLI); the page says its words in Welsh."""
    autumn = publishing.quarter(date(2026, 8, 14))
    assert autumn == "July to September 2026"
    assert str(period_words("2026 Q3")) == "2026 Q3" and period_words("2026") == "2026"
    with app.test_request_context(headers=WELSH_HEADER):
        assert i18n.say(autumn) == "Gorffennaf i Fedi 2026"
        assert i18n.say(publishing.quarter(date(2026, 12, 1))) == "Hydref i Ragfyr 2026"
        assert i18n.say(period_words("2026 Q3")) == "Ch3 2026"
        assert i18n.say(default_challenge_route(None)).startswith("Gofynnwch i'r corff sy'n gwneud i chi ddilyn")
    with app.test_request_context():
        assert i18n.say(autumn) == "July to September 2026"
