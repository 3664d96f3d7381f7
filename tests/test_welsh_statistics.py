"""The published statistics in Welsh (issue 23): a release, stored once in English, is read in
the reader's language on its page (headings, captions, table headings, row labels, notes, the
charts' accessible names) and on the console's publishing page; the downloads stay the release
as published, the same bytes for every reader.

The Welsh is the catalogue's: each expectation is the catalogue's Welsh for a text, and a text
without Welsh fails (``welsh`` refuses a text that reads the same in both languages). Every page
test runs on SQLite and on PostgreSQL (conftest's ``app``).
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_babel import gettext

from guarantee.clock import FixedClock
from guarantee.i18n import language, long_date, say
from guarantee.services.errors import long_date as day_said
from guarantee.statistics import charts
from guarantee.statistics.document import Settings, notes, said_notes
from tests.test_console import signed_in
from tests.test_public import text_of
from tests.test_statistics_api import claims_filed
from tests.test_statistics_api import publish as publish_from_the_command_line
from tests.test_statistics_pages import publish, table_rows, tables
from workflows.words import words

WELSH = {"Accept-Language": "cy"}


def welsh(app: Flask, text: str, **params: Any) -> str:
    """The catalogue's Welsh for ``text`` as a page shows it (``params`` filled in), which must
    differ from its English."""
    said = {}
    for code in ("en", "cy"):
        with app.test_request_context(), language(code):
            said[code] = str(gettext(text)) % params
    assert said["cy"] != said["en"], f"no Welsh for {text!r}"
    return said["cy"]


def in_welsh(app: Flask, text: Any) -> str:
    """``text`` (a marked text or a sentence made of parts) said in Welsh."""
    with app.test_request_context(), language("cy"):
        return say(text)


def caption(html: str, table_id: str) -> str:
    found = re.search(rf'<caption[^>]*id="{table_id}-caption">(.*?)</caption>', html, re.S)
    assert found, f"the page has a table {table_id}"
    return text_of(found[1])


def chart_name(html: str, table_id: str) -> str:
    found = re.search(rf'<title id="chart-{table_id}-title">(.*?)</title>', html, re.S)
    assert found, f"the page has a chart of {table_id}"
    return text_of(found[1])


def test_the_latest_release_reads_in_welsh(app: Flask, client: FlaskClient, clock: FixedClock) -> None:
    release = publish(app, clock)
    page = client.get("/statistics", headers=WELSH)
    assert page.status_code == 200
    assert '<html lang="cy"' in page.text
    assert page.headers["Content-Language"] == "cy"
    html, said = page.text, text_of(page.text)

    assert welsh(app, "Claims under the guarantee: release %(number)s", number=1) in said
    with app.test_request_context(), language("cy"):
        start, end = (long_date(date.fromisoformat(release.document["period"][k])) for k in ("start", "end"))
    assert welsh(app, "Claims submitted from %(start)s to %(end)s.", start=start, end=end) in said
    for heading in ("In short", "Contents", "How these statistics are protected", "Check a download", "Every release"):
        assert welsh(app, heading) in said

    # Each table: its heading, its caption, its column headings and the labels of its rows.
    outcomes = welsh(app, "Claims by outcome")
    assert f'<h2 class="govuk-heading-m" id="by_outcome">{outcomes}</h2>' in html
    assert caption(html, "by_outcome") == outcomes
    assert tables(html)["by_outcome"][0] == [welsh(app, "Outcome"), welsh(app, "Claims")]
    rows = table_rows(html, "by_outcome")
    for row in release.table("by_outcome")["rows"]:
        assert rows[welsh(app, row["label"])] == [str(row["count"])]
    assert rows[welsh(app, "Total")] == [str(release.table("by_outcome")["total"])]
    assert caption(html, "share_upheld") == welsh(
        app, "%(title)s, of the claims decided on their merits", title=welsh(app, "Share of claims upheld")
    )
    assert tables(html)["share_upheld"][0] == [
        welsh(app, "Barrier category"),
        welsh(app, "Claims decided"),
        welsh(app, "Upheld"),
        welsh(app, "95%% interval"),
    ]
    assert table_rows(html, "share_upheld")[welsh(app, "All claims")] == [
        "30",
        "50%",
        welsh(app, "%(low)s%% to %(high)s%%", low=33, high=67),
    ]
    assert welsh(app, "%(year)s Q%(quarter)s", year="2026", quarter="4") in table_rows(html, "by_quarter")
    assert tables(html)["working_days"][0][0] == welsh(app, "Time")
    assert welsh(app, "From submission to a decision") in table_rows(html, "working_days")

    # The charts' accessible names, the note under a table with hidden numbers, and the notes.
    assert chart_name(html, "by_outcome").startswith(welsh(app, "Bar chart of “%(title)s”, in claims.", title=outcomes))
    assert welsh(app, "The table that follows gives every number.") in chart_name(html, "by_category")
    assert f'<abbr title="{welsh(app, "hidden to protect the groups who made claims")}">[c]</abbr>' in html
    published_notes = said_notes(release.document)
    assert published_notes is not None
    for note in published_notes:
        assert in_welsh(app, note) != note
        assert " ".join(in_welsh(app, note).split()) in said
    figure = welsh(
        app,
        "of the %(decided)s claims decided on their merits were upheld (95%% interval %(low)s%% to %(high)s%%)",
        decided="30",
        low=33,
        high=67,
    )
    assert figure in said

    # None of the page's own English is left.
    for english in (
        "Claims under the guarantee",
        "How these statistics are protected",
        "Bar chart of",
        "Every claim submitted in the period",
        "a number not shown",
        "Share of claims upheld",
        "claims counted",
    ):
        assert english not in said, english


def test_english_and_welsh_readers_each_get_their_own_page_of_the_same_release(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    """A rendered release is kept for each language apart: a Welsh reader first does not give
    the English reader after them a Welsh page, nor the other way round."""
    publish(app, clock)
    first_welsh = client.get("/statistics", headers=WELSH).text
    english = client.get("/statistics")
    again_welsh = client.get("/statistics", headers=WELSH).text
    assert '<html lang="en"' in english.text and '<html lang="cy"' in first_welsh
    assert english.headers["Content-Language"] == "en"
    assert "Claims under the guarantee: release 1" in text_of(english.text)
    assert "Every claim submitted in the period is counted once in each table" in text_of(english.text)
    assert "Claims under the guarantee" not in text_of(first_welsh)
    assert text_of(again_welsh) == text_of(first_welsh)
    assert "Accept-Language" in english.headers["Vary"]


def test_an_earlier_release_and_a_missing_one_say_so_in_welsh(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    publish(app, clock)
    publish(app, clock, epsilon=1.0, file=False)
    older = client.get("/statistics/releases/1", headers=WELSH).text
    assert welsh(app, "Not the latest release") in text_of(older)
    assert welsh(app, "Release %(number)s", number=2) in text_of(older)
    assert list(table_rows(older, "history"))[1] == text_of(
        welsh(app, 'Release %(number)s <span class="govuk-body-s">(this page)</span>', number=1)
    )
    newer = client.get("/statistics", headers=WELSH).text
    assert welsh(app, "Differential privacy") in text_of(newer)
    assert welsh(app, "Noise added") in text_of(newer)
    assert welsh(app, "discrete Laplace (OpenDP)") in text_of(newer)
    assert caption(newer, "by_region") == welsh(
        app, "%(title)s, with the 95%% margin of each number", title=welsh(app, "Claims by region")
    )
    missing = client.get("/statistics/releases/7", headers=WELSH)
    assert missing.status_code == 404
    assert welsh(app, "There is no release %(number)s.", number=7) in text_of(missing.text)


def test_before_any_release_the_page_says_so_in_welsh(app: Flask, client: FlaskClient) -> None:
    page = client.get("/statistics", headers=WELSH)
    assert '<html lang="cy"' in page.text
    assert welsh(app, "No statistics have been published yet.") in text_of(page.text)


def test_the_downloads_are_the_release_as_published_for_every_reader(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    """Open data keeps its English keys and words: the JSON is the stored bytes and the CSV is
    made from them, so a Welsh reader gets the same file, with the same ETag, as anyone."""
    release = publish(app, clock)
    for path in ("/statistics/releases/1.json", "/statistics/releases/1.csv", "/api/v1/statistics?format=csv"):
        in_english, in_welsh_ = client.get(path), client.get(path, headers=WELSH)
        assert in_welsh_.status_code == 200
        assert in_welsh_.data == in_english.data, path
        assert in_welsh_.headers["ETag"] == in_english.headers["ETag"]
    assert json.loads(client.get("/statistics/releases/1.json", headers=WELSH).data) == release.document


def test_outside_a_request_a_chart_is_in_english() -> None:
    table = {
        "id": "by_test",
        "kind": "counts",
        "title": "Claims by test",
        "dimension": "category",
        "rows": [{"key": "a", "label": "A", "count": 12}],
    }
    drawn = charts.chart(table)
    assert drawn.unit == "Claims"
    assert drawn.summary.startswith("Bar chart of “Claims by test”, in claims.")


def test_a_release_s_notes_are_said_again_only_when_they_are_the_ones_this_code_writes() -> None:
    rules = {"threshold": 10, "rounding_base": 5, "dominance_below": 25}
    written = [str(note) for note in notes(Settings(), rules)]
    document = {"method": "disclosure_control", "rules": rules, "notes": written}
    assert said_notes(document) == written
    assert said_notes({**document, "notes": ["An older release's own words."]}) is None


def test_the_console_publishes_and_refuses_in_welsh(app: Flask, clock: FixedClock) -> None:
    # Ten claims in each of three sectors, then five more in one: shown as 10 and then 15, which
    # tells anyone that between 1 and 7 claims came in.
    claims_filed(app, clock, 10, "health", "housing", "education")
    assert publish_from_the_command_line(app)[0] == 0
    claims_filed(app, clock, 5, "health")

    admin, _ = signed_in(app, "admin")
    html = admin.get("/officer/statistics", headers=WELSH).get_data(as_text=True)
    assert '<html lang="cy"' in html
    said = text_of(html)
    assert welsh(app, "Publish a release") in said
    assert welsh(app, "Register of releases") in said
    with app.test_request_context(), language("cy"):
        today = long_date(clock.now().date())
    assert welsh(app, "Today is %(today)s. A release only counts whole days.", today=today) in said
    assert welsh(app, "Release %(number)s", number=1) in said

    token = html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    refused = admin.post(
        "/officer/statistics",
        data={"csrf_token": token, "period": "yesterday", "method": "disclosure_control"},
        headers=WELSH,
    )
    assert refused.status_code == 409
    said = text_of(refused.get_data(as_text=True))
    assert welsh(app, "The release was not published") in said
    reason = words(
        "In “%(table)s”, %(count)s would show %(value)s against %(was)s in release %(release)s, which tells "
        "anyone that between %(low)s and %(high)s more claims are counted there now.",
        table="Claims by sector",
        count=words("“%(row)s”", row="Health"),
        value=15,
        was=10,
        release=1,
        low=1,
        high=7,
    )
    assert in_welsh(app, reason) != reason
    assert in_welsh(app, reason) in said
    assert welsh(app, "Publish later, when more claims have come in, or with a later period end.") in said

    published = admin.post(
        "/officer/statistics",
        data={"csrf_token": token, "period": "yesterday", "method": "differential_privacy"},
        headers=WELSH,
    )
    assert published.status_code == 303
    shown = text_of(admin.get("/officer/statistics", headers=WELSH).get_data(as_text=True))
    assert welsh(app, "Release %(number)s is published.", number=2) in shown


def test_a_refusal_names_its_days_in_the_reader_s_language(app: Flask) -> None:
    start = date(2026, 1, 1)
    reason = words("The period must end on or after the series start, %(start)s.", start=day_said(start))
    assert reason == "The period must end on or after the series start, 1 January 2026."
    with app.test_request_context(), language("cy"):
        welsh_day = long_date(start)
        said = say(reason)  # as the console says each reason
    assert welsh_day != "1 January 2026"
    assert said == welsh(app, "The period must end on or after the series start, %(start)s.", start=welsh_day)
