"""The public statistics pages: the latest release as charts and tables, earlier releases, the
register, and the CSV and JSON downloads; and the chart geometry they are drawn from.

Claims are filed through the service on the app's clock (2 November 2026), the clock moves on a
day, and a release is published for the period up to 2 November. Every page test runs on SQLite
and on PostgreSQL, on a database of its own (conftest's ``app``); the geometry tests need none.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from xml.etree import ElementTree

import pytest
from flask import Flask
from flask.testing import FlaskClient

from guarantee.clock import FixedClock
from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.services.claims import submit_claim
from guarantee.statistics import charts, releases
from guarantee.statistics.document import Settings, as_csv
from tests.conftest import START
from tests.helpers import Cast, submission, walk
from tests.support.statements import recorded
from tests.test_public import text_of

PERIOD_END = START.date()
SVG = "{http://www.w3.org/2000/svg}"
HIDDEN = "[c]"

# Filed before each release, and walked to an outcome by officers: enough claims in two
# categories, with their outcomes spread, to be shown; too few in two others (two, so that
# neither can be worked out from the total). Accepting a claim classifies it as food hygiene.
FOOD = ({"category": "food_hygiene"}, {"region": "north_west", "sector": "community_safety"})
LICENSING = ({"category": "licensing_and_permits"}, {"region": "london", "sector": "culture_and_leisure"})
CLAIMS: tuple[tuple[int, dict[str, Any], dict[str, Any], tuple[str, ...]], ...] = (
    (30, *FOOD, ()),
    (16, *FOOD, ("accept", "uphold")),
    (15, *FOOD, ("accept", "not_uphold")),
    (22, *LICENSING, ()),
    (20, *LICENSING, ("decline",)),
    (3, {"category": "health_and_safety"}, {"region": "north_west", "sector": "community_safety"}, ()),
    (4, {"category": "other"}, {"region": "north_west", "sector": "community_safety"}, ()),
)


# --- filing, publishing, reading --------------------------------------------------------


def file_claims(
    app: Flask, count: int, barrier: dict[str, Any], initiative: dict[str, Any], triggers: tuple[str, ...] = ()
) -> None:
    """File claims through the service, and walk each through the triggers."""
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        for _ in range(count):
            reference = submit_claim(ctx, submission(barrier=barrier, initiative=initiative)).reference
            walk(ctx, cast, reference, *triggers)


@dataclass(frozen=True)
class Published:
    number: int
    sha256: str
    data: bytes

    @property
    def document(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.data)
        return document

    def table(self, table_id: str) -> dict[str, Any]:
        return next(t for t in self.document["tables"] if t["id"] == table_id)


def publish(app: Flask, clock: FixedClock, epsilon: float | None = None, *, file: bool = True) -> Published:
    """File CLAIMS (unless told not to) on 2 November, then publish the next day."""
    if file:
        clock.set(START)
        for count, barrier, initiative, triggers in CLAIMS:
            file_claims(app, count, barrier, initiative, triggers)
    clock.set(START)
    clock.advance(days=1)
    with app.app_context(), unit_of_work() as ctx:
        release = releases.publish(ctx, None, Settings(epsilon=epsilon), PERIOD_END)
        return Published(release.number, release.sha256, release.document)


def shown(value: Any) -> str:
    """A published number as the page prints it."""
    return "–" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


class _Tables(HTMLParser):
    """Each table's rows as the words of their cells, by the id of the table's caption."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._caption: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = []
        elif tag == "caption" and self._table is not None:
            self._caption = dict(attrs).get("id") or ""
            self.tables[self._caption.removesuffix("-caption")] = self._table
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("th", "td") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._table is not None and self._cell is not None:
            self._table[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def table_rows(html: str, table_id: str) -> dict[str, list[str]]:
    """A table's body rows: the row's heading -> its other cells."""
    rows = tables(html)[table_id][1:]
    return {row[0]: row[1:] for row in rows}


@dataclass(frozen=True)
class ChartRow:
    label: str
    value: str
    bar: bool
    whisker: bool


def chart(html: str, table_id: str) -> tuple[str, list[ChartRow]]:
    """A chart's accessible name, and each row as drawn: label, number printed, bar, whisker."""
    found = re.search(rf'<svg class="app-chart" id="chart-{table_id}".*?</svg>', html, re.S)
    assert found, f"the page has a chart of {table_id}"
    root = ElementTree.fromstring(found[0])
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None and root.get("aria-labelledby") == title.get("id")
    rows = []
    for group in root.iter(f"{SVG}g"):
        if group.get("class") != "app-chart__row":
            continue
        label = " ".join(t.text or "" for t in group.iter(f"{SVG}tspan"))
        value = next(t.text or "" for t in group.findall(f"{SVG}text") if "app-chart__value" in (t.get("class") or ""))
        whisker = any(g.get("class") == "app-chart__margin" for g in group.findall(f"{SVG}g"))
        rows.append(ChartRow(label, value, group.find(f"{SVG}rect") is not None, whisker))
    return title.text or "", rows


# --- the pages ----------------------------------------------------------------------------


def test_before_any_release_the_page_says_none_has_been_published(client: FlaskClient) -> None:
    page = client.get("/statistics")
    assert page.status_code == 200
    words = text_of(page.text)
    assert "No statistics have been published yet" in words
    assert '<a class="govuk-service-navigation__link" href="/statistics" aria-current="true">' in page.text
    assert client.get("/statistics.csv").status_code == 404
    assert client.get("/statistics.json").status_code == 404


def test_the_latest_release_shows_its_numbers_in_its_tables_and_charts(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    release = publish(app, clock)
    page = client.get("/statistics")
    assert page.status_code == 200
    words = text_of(page.text)
    assert "Claims under the guarantee: release 1" in words
    assert "Claims submitted from 1 January 2026 to 2 November 2026." in words
    assert "Not the latest release" not in words
    for table in release.document["tables"]:
        if table["kind"] != "counts":
            continue
        rows = table_rows(page.text, table["id"])
        assert rows["Total"] == [shown(table["total"])]
        _, drawn = chart(page.text, table["id"])
        assert [r.label for r in drawn] == [r["label"] for r in table["rows"]]
        for row, bar in zip(table["rows"], drawn, strict=True):
            assert rows[row["label"]] == [shown(row["count"])]
            assert bar.value == shown(row["count"])
            assert bar.bar == (isinstance(row["count"], int) and row["count"] > 0)
    food = next(r for r in release.table("by_category")["rows"] if r["key"] == "food_hygiene")
    assert food["count"] == 60  # 61 claims, rounded to the nearest 5
    summary, _ = chart(page.text, "by_category")
    assert "The largest is Food hygiene: 60." in summary
    # The cross-tables in full, the share upheld and the times, as published.
    cross = release.table("category_by_outcome")
    rows = table_rows(page.text, "category_by_outcome")
    for row in cross["rows"]:
        assert rows[row["label"]] == [shown(v) for v in (*row["counts"], row["total"])]
    share = table_rows(page.text, "share_upheld")
    for row in release.table("share_upheld")["rows"]:
        interval = f"{row['low']}% to {row['high']}%" if isinstance(row["low"], int) else shown(row["low"])
        percent = f"{row['percent']}%" if isinstance(row["percent"], int) else shown(row["percent"])
        assert share[row["label"]] == [shown(row["decided"]), percent, interval]
    assert share["All claims"] == ["30", "50%", "33% to 67%"]  # from the rounded counts: 15 of 30
    times = table_rows(page.text, "working_days")
    for row in release.table("working_days")["rows"]:
        assert times[row["label"]] == [shown(row[k]) for k in ("claims", "median", "p90")]


def test_the_page_explains_the_protection_and_how_to_check_a_download(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    release = publish(app, clock)
    words = text_of(client.get("/statistics").text)
    assert "How these statistics are protected" in words
    for note in release.document["notes"]:
        assert " ".join(note.split()) in words
    assert release.sha256 in words
    assert "sha256sum guarantee-statistics-release-1.json" in words
    assert "Release 1 as CSV" in words and "Release 1 as JSON" in words
    assert "110 claims counted" in words  # 110 claims
    assert "50% of the 30 claims decided on their merits were upheld" in words  # 15 of 30, as rounded


def test_a_hidden_number_shows_c_and_no_bar(app: Flask, client: FlaskClient, clock: FixedClock) -> None:
    release = publish(app, clock)
    page = client.get("/statistics").text
    table = release.table("by_category")
    hidden = [r["label"] for r in table["rows"] if r["count"] == HIDDEN]
    assert "Health and safety" in hidden  # 3 claims
    rows = table_rows(page, "by_category")
    _, drawn = chart(page, "by_category")
    for bar in drawn:
        if bar.label in hidden:
            assert rows[bar.label] == [HIDDEN]
            assert bar.value == HIDDEN
            assert not bar.bar and not bar.whisker
    assert "Health and safety" in [b.label for b in drawn if not b.bar]
    assert f"{HIDDEN}: a number not shown, to protect the groups who made claims" in text_of(page)


def test_a_release_with_noise_shows_each_margin_in_its_table_and_on_its_chart(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    release = publish(app, clock, epsilon=1.0)
    page = client.get("/statistics").text
    assert "Differential privacy: random noise added to every number" in text_of(page)
    for table_id in ("by_category", "by_region"):
        table = release.table(table_id)
        rows = table_rows(page, table_id)
        _, drawn = chart(page, table_id)
        for row, bar in zip(table["rows"], drawn, strict=True):
            expected = f"{shown(row['count'])} ± {row['margin']}"
            assert rows[row["label"]] == [expected]
            assert bar.value == expected
            assert bar.whisker
        assert rows["Total"] == [f"{shown(table['total'])} ± {table['total_margin']}"]
    cross = release.table("category_by_region")
    first = cross["rows"][0]
    cells = table_rows(page, "category_by_region")[first["label"]]
    assert cells[0] == f"{first['counts'][0]} ± {first['margins'][0]}"
    assert "share_upheld" not in tables(page)  # a release with noise publishes no shares


def test_an_earlier_release_says_it_is_not_the_latest_and_links_to_it(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    first = publish(app, clock)
    second = publish(app, clock, file=False)
    assert (first.number, second.number) == (1, 2)
    older = client.get("/statistics/releases/1")
    assert older.status_code == 200
    words = text_of(older.text)
    assert "Not the latest release" in words
    assert "This is release 1" in words
    assert re.search(r'<a class="govuk-notification-banner__link" href="/statistics">', older.text)
    assert "Claims under the guarantee: release 1" in words
    latest = client.get("/statistics")
    assert "Claims under the guarantee: release 2" in text_of(latest.text)
    assert "Not the latest release" not in text_of(latest.text)
    history = table_rows(latest.text, "history")
    assert list(history) == ["Release 2 (this page)", "Release 1"]
    assert '<a class="govuk-link" href="/statistics/releases/1">Release 1</a>' in latest.text
    assert client.get("/statistics/releases/2").status_code == 200


def test_an_unknown_release_is_a_page_not_found(app: Flask, client: FlaskClient, clock: FixedClock) -> None:
    publish(app, clock)
    for path in ("/statistics/releases/7", "/statistics/releases/7.json", "/statistics/releases/7.csv"):
        missing = client.get(path)
        assert missing.status_code == 404
        assert missing.mimetype == "text/html"
        assert "Page not found" in text_of(missing.text)
        assert "There is no release 7." in text_of(missing.text)
    assert client.get("/statistics/releases/0").status_code == 404
    for path in ("/statistics/releases/99999999999999999999.json", "/statistics/releases/first"):
        assert client.get(path).status_code == 404  # not a release number: no database error


def test_the_json_download_is_the_stored_release_byte_for_byte(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    release = publish(app, clock)
    download = client.get("/statistics/releases/1.json")
    assert download.status_code == 200
    assert download.data == release.data
    assert hashlib.sha256(download.data).hexdigest() == release.sha256
    assert download.mimetype == "application/json"
    assert download.headers["Content-Disposition"] == 'attachment; filename="guarantee-statistics-release-1.json"'
    assert download.headers["ETag"] == f'"{release.sha256}"'
    assert "public" in download.headers["Cache-Control"] and "max-age=" in download.headers["Cache-Control"]
    again = client.get("/statistics/releases/1.json", headers={"If-None-Match": f'"{release.sha256}"'})
    assert again.status_code == 304 and again.data == b""
    latest = client.get("/statistics.json")
    assert latest.status_code == 302 and latest.headers["Location"] == "/statistics/releases/1.json"


def test_the_csv_download_has_every_number_of_the_release(app: Flask, client: FlaskClient, clock: FixedClock) -> None:
    release = publish(app, clock)
    download = client.get("/statistics/releases/1.csv")
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert download.headers["Content-Disposition"] == 'attachment; filename="guarantee-statistics-release-1.csv"'
    assert download.text == as_csv(release.document)
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert {r["release"] for r in rows} == {"1"}
    by_category = {r["row"]: r["value"] for r in rows if r["table"] == "by_category"}
    table = release.table("by_category")
    assert by_category == {**{r["label"]: str(r["count"]) for r in table["rows"]}, "Total": str(table["total"])}
    assert by_category["Health and safety"] == HIDDEN
    assert client.get("/statistics.csv").headers["Location"] == "/statistics/releases/1.csv"


def test_the_pages_and_the_api_serve_a_download_alike(app: Flask, client: FlaskClient, clock: FixedClock) -> None:
    """One download helper: the same bytes, ETag, caching and file name from the page's link and the API."""
    release = publish(app, clock)
    for page_path, api_path in (
        ("/statistics/releases/1.csv", "/api/v1/statistics/releases/1?format=csv"),
        ("/statistics/releases/1.json", "/api/v1/statistics/releases/1"),
    ):
        from_page, from_api = client.get(page_path), client.get(api_path)
        assert from_page.status_code == from_api.status_code == 200
        assert from_page.data == from_api.data
        for header in ("Content-Type", "ETag", "Cache-Control"):
            assert from_page.headers[header] == from_api.headers[header], header
        assert from_page.headers["Cache-Control"] == "public, max-age=300"
        if page_path.endswith(".csv"):
            assert from_page.headers["Content-Disposition"] == from_api.headers["Content-Disposition"]
        else:  # the page's link saves a file; the API's JSON is a body to read
            assert "Content-Disposition" not in from_api.headers
        # A cache that holds it, even by a weak ETag, is told it has not changed, with no body.
        for held in (from_page.headers["ETag"], "W/" + from_page.headers["ETag"]):
            for path in (page_path, api_path):
                again = client.get(path, headers={"If-None-Match": held})
                assert again.status_code == 304 and again.data == b"", (path, held)
                assert again.headers["ETag"] == from_page.headers["ETag"]
    assert from_page.headers["ETag"] == f'"{release.sha256}"'


def test_the_pages_serve_the_stored_release_and_count_nothing(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    release = publish(app, clock)
    file_claims(app, 40, {"category": "food_hygiene"}, {"region": "north_west"})  # after publishing
    with app.app_context(), recorded(db.engine) as statements:
        page = client.get("/statistics")
        download = client.get("/statistics/releases/1.json")
    assert statements, "the pages read the register"
    assert not [sql for sql, _ in statements if re.search(r"\bclaims\b", sql)], "a page counted the claims"
    assert table_rows(page.text, "by_category")["Food hygiene"] == ["60"]
    assert table_rows(page.text, "by_category")["Total"] == [shown(release.table("by_category")["total"])]
    assert download.data == release.data


# --- the charts' geometry -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        (0, (10, 5)),
        (3, (3, 1)),
        (7, (8, 2)),
        (85, (100, 25)),
        (400, (400, 100)),
        (230, (300, 100)),
        (1234, (1500, 500)),
    ],
)
def test_the_axis_ends_at_a_round_number(top: float, expected: tuple[int, int]) -> None:
    assert charts.scale(top) == expected


def counts_table(*rows: tuple[str, Any], margin: int | None = None) -> dict[str, Any]:
    listed = [
        {"key": label.lower(), "label": label, "count": count, **({"margin": margin} if margin else {})}
        for label, count in rows
    ]
    return {"id": "by_test", "kind": "counts", "title": "Claims by test", "dimension": "category", "rows": listed}


def test_bars_are_as_long_as_their_numbers_on_the_axis() -> None:
    drawn = charts.chart(counts_table(("A", 50), ("B", 100), ("C", 0)))
    assert [t.value for t in drawn.ticks] == [0, 25, 50, 75, 100]
    assert [b.width for b in drawn.bars] == [charts.PLOT / 2, charts.PLOT, 0.0]
    assert [b.text for b in drawn.bars] == ["50", "100", "0"]
    assert drawn.ticks[-1].x == charts.PLOT
    assert drawn.summary.startswith("Bar chart of “Claims by test”, in claims. The largest is B: 100.")


def test_a_hidden_number_gets_no_bar_and_is_not_drawn_as_zero() -> None:
    drawn = charts.chart(counts_table(("A", HIDDEN), ("B", 20)))
    hidden = drawn.bars[0]
    assert (hidden.width, hidden.text, hidden.suppressed, hidden.low) == (0.0, HIDDEN, True, None)
    assert "1 of 2 numbers are hidden ([c])" in drawn.summary


def test_a_margin_is_drawn_as_a_whisker_inside_the_axis() -> None:
    drawn = charts.chart(counts_table(("A", 30), ("B", 2), margin=8))
    a, b = drawn.bars
    assert a.text == "30 ± 8"
    assert (a.low, a.high) == (charts.PLOT * 22 / 40, charts.PLOT * 38 / 40)  # the axis reaches 38
    assert b.low == 0.0  # never below zero
    assert a.text_x == a.high


def test_long_labels_wrap_onto_lines_above_their_bar() -> None:
    drawn = charts.chart(counts_table(("Data protection and information sharing", 10), ("Other", 10)))
    first, second = drawn.bars
    assert [line for line, _ in first.label_lines] == ["Data protection and", "information sharing"]
    assert first.label_lines[-1][1] < first.y < second.label_lines[0][1] < second.y
    assert drawn.height > drawn.axis_y > second.y


def test_shares_are_charted_out_of_100_with_their_interval() -> None:
    table = {
        "id": "share_upheld",
        "kind": "share",
        "title": "Share of claims upheld",
        "rows": [
            {"key": "all", "label": "All claims", "decided": 200, "percent": 34, "low": 27, "high": 40},
            {"key": "a", "label": "A", "decided": 20, "percent": HIDDEN, "low": HIDDEN, "high": HIDDEN},
            {"key": "b", "label": "B", "decided": 0, "percent": None, "low": None, "high": None},
        ],
    }
    drawn = charts.chart(table)
    assert [t.text for t in drawn.ticks] == ["0%", "25%", "50%", "75%", "100%"]
    everyone, hidden, none = drawn.bars
    assert everyone.text == "34%"
    assert (everyone.low, everyone.high) == (pytest.approx(0.27 * charts.PLOT), pytest.approx(0.4 * charts.PLOT))
    assert (hidden.text, hidden.width) == (HIDDEN, 0.0)
    assert (none.text, none.width, none.suppressed) == ("No claims decided yet", 0.0, False)


def test_times_chart_the_median_and_90th_percentile_of_each() -> None:
    table = {
        "id": "working_days",
        "kind": "times",
        "title": "Working days taken",
        "rows": [
            {"key": "decision", "label": "From submission to a decision", "claims": 230, "median": 11, "p90": 13},
            {
                "key": "resolution",
                "label": "From submission to resolution",
                "claims": HIDDEN,
                "median": HIDDEN,
                "p90": HIDDEN,
            },
        ],
    }
    drawn = charts.chart(table)
    assert [(b.label, b.text) for b in drawn.bars] == [
        ("From submission to a decision: median", "11"),
        ("From submission to a decision: 90th percentile", "13"),
        ("From submission to resolution: median", HIDDEN),
        ("From submission to resolution: 90th percentile", HIDDEN),
    ]
    assert drawn.unit == "Working days"


def test_the_headline_gives_the_total_the_share_upheld_and_the_median_time() -> None:
    document = {
        "tables": [
            {"id": "by_outcome", "kind": "counts", "total": 1400, "rows": [{"key": "upheld", "count": 65}]},
            {
                "id": "share_upheld",
                "kind": "share",
                "rows": [{"key": "all", "label": "All claims", "decided": 200, "percent": 34, "low": 27, "high": 40}],
            },
            {"id": "working_days", "kind": "times", "rows": [{"key": "decision", "median": 11, "p90": 13}]},
        ]
    }
    figures = [figure for figure, _ in charts.headline(document)]
    assert figures == ["1,400", "34%", "11 working days"]
    private = {
        "tables": [
            {
                "id": "by_outcome",
                "kind": "counts",
                "total": 401,
                "total_margin": 14,
                "rows": [{"key": "upheld", "count": 67, "margin": 6}],
            }
        ]
    }
    assert charts.headline(private) == [("401 ± 14", "claims counted"), ("67 ± 6", "claims upheld")]
    hidden = {
        "tables": [
            {"id": "by_outcome", "kind": "counts", "total": HIDDEN, "rows": [{"key": "upheld", "count": HIDDEN}]}
        ]
    }
    assert charts.headline(hidden) == []
