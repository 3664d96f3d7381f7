"""The decision register as the public reads it (issue 20, items 1, 3 and 9): the /decisions page,
a statement's page, the data dictionary, the JSON and CSV of the API and the Atom feed. A black-box
check over random registers finds no planted personal data and no claim reference in any of them.
Every test runs on SQLite and on PostgreSQL, on a database of its own (conftest's ``app``)."""

from __future__ import annotations

import base64
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from lxml import etree

from guarantee.clock import UK
from guarantee.context import unit_of_work
from guarantee.register import feed
from guarantee.schemas.decisions import StatementSchema
from guarantee.services.register import UNMATCHED, ShownStatement
from guarantee.statistics import tables as release_tables
from guarantee.statistics.schemas import ReleaseDocumentSchema, ReleaseEntrySchema
from tests.support.register import (
    MARKER,
    Drawn,
    alike,
    build,
    clear,
    drawn_claims,
    regulation,
    statement,
)
from tests.test_public import error_summary, text_of

ATOM = "{http://www.w3.org/2005/Atom}"


@dataclass(frozen=True)
class Filled:
    references: list[str]
    statuses: dict[str, str]  # by number
    slugs: list[str]


def fill(app: Flask, drawn: list[Drawn]) -> Filled:
    """The drawn register, committed; what the test compares with, read before the commit."""
    with app.app_context(), unit_of_work() as ctx:
        built = build(ctx.session, drawn)
        return Filled(
            [claim.reference for _, claim in built.claims],
            {made.number or "": made.status for _, made in built.statements},
            list(built.drawn_rule),
        )


def empty(app: Flask) -> None:
    with app.app_context(), unit_of_work() as ctx:
        clear(ctx.session)


def pages(client: FlaskClient, first: str) -> Iterator[str]:
    """Every page of the register from ``first``, by its "Older" links."""
    address: str | None = first
    while address:
        response = client.get(address)
        assert response.status_code == 200, (address, response.status_code)
        yield response.text
        found = re.search(r'<a class="govuk-link govuk-pagination__link" href="([^"]+)" rel="next"', response.text)
        address = found[1].replace("&amp;", "&") if found else None


def json_pages(client: FlaskClient, first: str) -> Iterator[dict[str, Any]]:
    address: str | None = first
    while address:
        response = client.get(address)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json  # type: ignore[assignment]
        yield body
        address = body["next"]


def everything_published(client: FlaskClient, numbers: list[str], slugs: list[str]) -> dict[str, str]:
    """Every output of the register, by name."""
    found = {f"page {i}": html for i, html in enumerate(pages(client, "/decisions"))}
    found |= {f"json {i}": str(body) for i, body in enumerate(json_pages(client, "/api/v1/decisions"))}
    found["csv"] = client.get("/api/v1/decisions.csv").text
    found["atom"] = client.get("/decisions.atom").text
    for slug in slugs:
        found[f"atom {slug}"] = client.get(f"/decisions.atom?rule={slug}").text
    for number in numbers:
        found[number] = client.get(f"/decisions/{number}").text
    return found


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=drawn_claims)
def test_no_personal_data_or_claim_reference_reaches_any_output(
    app: Flask, client: FlaskClient, drawn: list[Drawn]
) -> None:
    app.config["GUARANTEE_REGISTER_MIN_CLAIMS"] = 2
    built = fill(app, drawn)
    try:
        shown = [s["number"] for body in json_pages(client, "/api/v1/decisions") for s in body["statements"]]
        outputs = everything_published(client, shown, built.slugs)
        references = built.references
        for name, text in outputs.items():
            assert MARKER not in text and MARKER.lower() not in text, f"the marker is in {name}"
            assert not [r for r in references if r in text], f"a claim reference is in {name}"
        # A withdrawn statement never reappears as published: wherever it is, it says withdrawn.
        withdrawn = {number for number, status in built.statuses.items() if status == "withdrawn"}
        rows = list(csv.DictReader(io.StringIO(outputs["csv"])))
        assert {r["number"] for r in rows if r["status"] == "withdrawn"} == withdrawn & set(shown)
        assert all(r["status"] != "published" for r in rows if r["number"] in withdrawn)
        feed = etree.fromstring(outputs["atom"].encode())
        for entry in feed.iter(f"{ATOM}entry"):
            number = entry.findtext(f"{ATOM}id", "").rsplit("/", 1)[-1]
            assert entry.findtext(f"{ATOM}title", "").startswith("Withdrawn: ") == (number in withdrawn)
        for number in withdrawn & set(shown):
            assert "This statement was withdrawn in" in text_of(outputs[number])
    finally:
        empty(app)


def small_register(app: Flask, *, statements: int = 12, withdrawn: int = 1) -> list[str]:
    """A dozen statements on one rule in London, all shown at k = 5; the first few withdrawn."""
    with app.app_context(), unit_of_work() as ctx:
        rule = regulation(ctx.session, "Food hygiene", "food-hygiene")
        numbers = []
        for i in range(statements):
            claim = alike(ctx.session, rule.id, 1)[0]
            made = statement(
                ctx.session,
                claim,
                status="withdrawn" if i < withdrawn else "published",
                withdrawn_reason="It named the street.",
                number=f"DS-2026-{i + 1:04d}",
            )
            numbers.append(made.number)
    return numbers


def test_the_register_lists_each_statement_once_newest_first_by_pages(app: Flask, client: FlaskClient) -> None:
    numbers = small_register(app, statements=25)
    seen = [n for html in pages(client, "/decisions") for n in re.findall(r'href="/decisions/(DS-[\d-]+)"', html)]
    assert seen == sorted(numbers, reverse=True)
    second = list(pages(client, "/decisions"))[1]
    assert "Newer" in text_of(second) and 'rel="prev"' in second


def test_a_withdrawn_statement_is_tagged_with_its_reason(app: Flask, client: FlaskClient) -> None:
    small_register(app)
    page = client.get("/decisions")
    words = text_of(page.text)
    assert "DS-2026-0001 Withdrawn" in words and "It named the street." in words
    statement_page = client.get("/decisions/DS-2026-0001")
    assert "This statement was withdrawn in" in text_of(statement_page.text)
    assert 'href="/rules/food-hygiene"' in statement_page.text


def test_a_year_coarsened_statement_shows_no_quarter_on_any_page_download_feed_or_cursor(
    app: Flask, client: FlaskClient
) -> None:
    """Groups that declined publishing are shown at their year only: when they were published
    and withdrawn, and where they sit in the order, say no more."""
    with app.app_context(), unit_of_work() as ctx:
        rule = regulation(ctx.session, "Food hygiene", "food-hygiene")
        numbers = []
        for i in range(22):  # more than a page
            claim = alike(ctx.session, rule.id, 1, consent=False)[0]
            made = statement(
                ctx.session,
                claim,
                status="withdrawn" if i == 0 else "published",
                withdrawn_reason="It named the street.",
                published_at=datetime(2026, 8, 14 + i % 5, 9, tzinfo=UK),
            )
            numbers.append(made.number or "")
    outputs = everything_published(client, numbers, ["food-hygiene"])
    for name, text in outputs.items():
        found = re.search(r"Q[1-4]|Aug|-08-", re.sub(r'nonce="[^"]*"', "", text))  # a nonce is random letters
        assert not found, f"{name} shows the quarter or the day"
    assert "This statement was withdrawn in 2026." in text_of(outputs[numbers[0]])
    rows = list(csv.DictReader(io.StringIO(outputs["csv"])))
    assert {(r["decided"], r["published"]) for r in rows} == {("2026", "2026")}
    assert [r["withdrawn"] for r in rows if r["status"] == "withdrawn"] == ["2026"]
    feed = etree.fromstring(outputs["atom"].encode())
    moments = {
        entry.findtext(f"{ATOM}{name}") for entry in feed.iter(f"{ATOM}entry") for name in ("published", "updated")
    }
    # The start of the year, UK time; a withdrawn statement's "updated" two seconds on (a step, not a time).
    assert moments == {"2026-01-01T00:00:00+00:00", "2026-01-01T00:00:02+00:00"}
    older = re.search(r'href="/decisions\?cursor=([^"&]+)"', outputs["page 0"])
    json_next = client.get("/api/v1/decisions").json["next"]
    assert older and json_next
    for cursor in (older[1], parse_qs(urlsplit(json_next).query)["cursor"][0]):
        period, number = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|")
        assert period == "2026" and number in numbers


def test_the_page_says_how_it_keeps_decisions_anonymous_with_the_configured_k(app: Flask, client: FlaskClient) -> None:
    app.config["GUARANTEE_REGISTER_MIN_CLAIMS"] = 7
    small_register(app, statements=3)
    words = text_of(client.get("/decisions").text)
    assert "How we keep this anonymous" in words
    assert "at least 7 decided claims share everything it shows" in words
    assert "3 decisions are not shown yet" in words


def test_an_unknown_statement_is_a_not_found_page(app: Flask, client: FlaskClient) -> None:
    response = client.get("/decisions/DS-2026-9999")
    assert response.status_code == 404
    assert "Page not found" in text_of(response.text)
    assert client.get("/decisions.atom?rule=no-such-rule").status_code == 404


def test_bad_input_is_refused_with_a_clear_400(app: Flask, client: FlaskClient) -> None:
    small_register(app, statements=2)
    page = client.get("/decisions?cursor=nonsense")
    assert page.status_code == 400
    assert error_summary(page.text) == {
        "#cursor": "This page link does not work. Go back to the first page of the register."
    }
    assert client.get("/decisions?category=nothing").status_code == 400
    assert client.get("/decisions?region=%00").status_code == 400
    api = client.get("/api/v1/decisions?cursor=nonsense")
    assert api.status_code == 400 and api.mimetype == "application/problem+json"
    assert "page link" in api.json["detail"]
    assert client.get("/api/v1/decisions?region=%00").status_code == 400
    assert client.get("/api/v1/decisions.csv?year=%00").status_code == 400
    assert client.get("/decisions.atom?rule=%00").status_code == 400


def test_the_csv_has_a_header_and_no_cell_can_run_as_a_formula(app: Flask, client: FlaskClient) -> None:
    with app.app_context(), unit_of_work() as ctx:
        rule = regulation(ctx.session, '=HYPERLINK("http://evil.example","x")', "evil")
        for _ in range(5):
            claim = alike(ctx.session, rule.id, 1)[0]
        statement(ctx.session, claim)
    response = client.get("/api/v1/decisions.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == [name for name in StatementSchema().fields]
    assert rows[1][rows[0].index("rule_title")] == '\'=HYPERLINK("http://evil.example","x")'


def test_the_feed_is_valid_atom_with_absolute_links(app: Flask, client: FlaskClient) -> None:
    app.config.update(GUARANTEE_BASE_URL="https://guarantee.example.org", GUARANTEE_REGISTER_MIN_CLAIMS=3)
    small_register(app, statements=3)
    for address in ("/decisions.atom", "/decisions.atom?rule=food-hygiene"):
        response = client.get(address)
        assert response.mimetype == "application/atom+xml"
        feed = etree.fromstring(response.data)
        assert feed.tag == f"{ATOM}feed"
        for required in ("id", "title", "updated"):
            assert feed.findtext(f"{ATOM}{required}"), required
        assert feed.findtext(f"{ATOM}id").startswith("https://guarantee.example.org/decisions.atom")
        assert feed.find(f"{ATOM}author/{ATOM}name") is not None  # entries have none of their own
        assert [link.get("rel") for link in feed.findall(f"{ATOM}link")] == ["alternate", "self"]
        entries = feed.findall(f"{ATOM}entry")
        assert len(entries) == 3
        for entry in entries:
            for required in ("id", "title", "updated"):
                assert entry.findtext(f"{ATOM}{required}"), required
            # A link without rel is rel="alternate" (RFC 4287, 4.2.7.2).
            [link] = [link for link in entry.findall(f"{ATOM}link") if link.get("rel", "alternate") == "alternate"]
            assert link.get("href", "").startswith("https://guarantee.example.org/decisions/DS-2026-")
        ids = [entry.findtext(f"{ATOM}id") for entry in entries]
        assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    ("status", "withdrawn", "later_by"),
    [("superseded", None, timedelta(seconds=1)), ("withdrawn", "2026 Q4", timedelta(seconds=2))],
)
def test_a_statement_replaced_or_withdrawn_in_the_period_it_was_published_is_updated_in_the_feed(
    status: str, withdrawn: str | None, later_by: timedelta
) -> None:
    first = ShownStatement(
        number="DS-2026-48213",
        status="published",
        decision="upheld",
        rule=UNMATCHED,
        category="food_hygiene",
        sector="health",
        area="london",
        period="2026 Q4",
        working_days=12,
        remedy="waiver",
        reason_code=None,
        resolution=None,
        published="2026 Q4",
        withdrawn=None,
        withdrawn_reason=None,
    )
    later = replace(first, status=status, withdrawn=withdrawn)
    assert feed.updated(first) == datetime(2026, 10, 1, tzinfo=UK)
    assert feed.updated(later) - feed.updated(first) == later_by


def test_the_data_dictionary_explains_every_published_field(app: Flask, client: FlaskClient) -> None:
    page = client.get("/decisions/data-dictionary")
    assert page.status_code == 200
    fields = set(re.findall(r"<code>([^<]+)</code>", page.text))
    assert set(StatementSchema().fields) <= fields
    assert {"statements", "matching", "held_back", "min_claims", "next"} <= fields
    assert set(ReleaseDocumentSchema().fields) - {"period"} <= fields
    assert set(ReleaseEntrySchema().fields) <= fields
    assert (
        set(release_tables.LIST_TABLES) | set(release_tables.CROSS_TABLES) | {"share_upheld", "working_days"} <= fields
    )


def test_the_json_and_the_csv_take_the_same_filters(app: Flask, client: FlaskClient) -> None:
    app.config["GUARANTEE_REGISTER_MIN_CLAIMS"] = 3
    small_register(app, statements=3, withdrawn=0)
    listed = client.get("/api/v1/decisions?region=london&year=2026&outcome=upheld&rule=food-hygiene").json
    assert [s["number"] for s in listed["statements"]] == ["DS-2026-0003", "DS-2026-0002", "DS-2026-0001"]
    assert listed["statements"][0]["region"] == "london" and listed["statements"][0]["decided"] == "2026 Q2"
    assert client.get("/api/v1/decisions?region=wales").json["statements"] == []
    assert len(list(csv.reader(io.StringIO(client.get("/api/v1/decisions.csv?region=wales").text)))) == 1
    assert client.get("/api/v1/decisions?region=atlantis").status_code == 422
