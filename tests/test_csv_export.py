"""No CSV the service produces can carry a spreadsheet formula (issue 17, defect 2).

Every CSV is written by ``guarantee.csv_export``: a text cell that a spreadsheet would run as a
formula gets a leading single quote, numbers stay numbers, and every text cell is quoted. The
writer is specified cell by cell below; then, on SQLite and on PostgreSQL, a catalogue entry
titled with a formula is published in a release and both the statistics page's CSV and the
API's come out neutralised, and so does a claim's title in the officers' queue CSV.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient

from guarantee import csv_export
from guarantee.clock import FixedClock
from guarantee.context import unit_of_work
from guarantee.services.claims import fire, submit_claim
from tests.helpers import Cast, submission
from tests.test_console import signed_in
from tests.test_statistics_pages import publish

FORMULA = '=HYPERLINK("http://evil.example","x")'


def cells(document: str) -> list[list[str]]:
    """The cells of a CSV as a spreadsheet's importer reads them (quotes taken off)."""
    return list(csv.reader(io.StringIO(document)))


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def formulas(document: str) -> list[str]:
    """The cells a spreadsheet would run: those beginning with = + - or @ (a number such as -3
    is read as a number)."""
    return [
        cell
        for row in cells(document)
        for cell in row
        if cell.lstrip()[:1] in ("=", "+", "-", "@") and not _number(cell)
    ]


# --- the writer, cell by cell ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("=1+1", "'=1+1"),
        (FORMULA, "'" + FORMULA),
        ("+44 1632 960001", "'+44 1632 960001"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\tindented", "'\tindented"),
        ("\r=1+1", "'\r=1+1"),
        ("\n=1+1", "'\n=1+1"),
        ("\0=1+1", "'\0=1+1"),
        ("  =1+1", "'  =1+1"),  # an importer that trims spaces would otherwise see a formula
        ("\u3000@SUM(A1)", "'\u3000@SUM(A1)"),
        ("\uff1d1+1", "'\uff1d1+1"),  # a full-width equals sign, read as = by some spreadsheets
        ("-3", "'-3"),  # text that looks like a number is still text someone typed
    ],
)
def test_a_text_cell_a_spreadsheet_would_run_is_written_with_a_leading_quote(typed: str, written: str) -> None:
    assert csv_export.cell(typed) == written
    document = csv_export.write([["before", typed, "after"]])
    assert cells(document) == [["before", written, "after"]]
    assert formulas(document) == []


@pytest.mark.parametrize(
    "ordinary",
    [
        "Food premises registration",
        "Village hall licensing (LA 2003 s.1)",
        "a = b, and c + d",  # a formula character later in the text runs nothing
        "[c]",
        "CPG-2026-000001",
        "e-mail",
        "",
    ],
)
def test_ordinary_text_is_written_unchanged(ordinary: str) -> None:
    assert csv_export.cell(ordinary) == ordinary
    assert cells(csv_export.write([[ordinary]])) == [[ordinary]]


@pytest.mark.parametrize(
    ("value", "written"),
    [(-3, "-3"), (0, "0"), (12, "12"), (-1.5, "-1.5"), (Decimal("-2.25"), "-2.25")],
)
def test_numbers_are_written_as_numbers_even_when_negative(value: int | float | Decimal, written: str) -> None:
    assert csv_export.cell(value) == value
    assert csv_export.write([[value]]) == written + "\r\n"  # bare: a spreadsheet reads a number


def test_text_cells_are_quoted_so_no_delimiter_can_start_a_new_cell() -> None:
    document = csv_export.write([["A title; =1+1", 'say "hi"', 7, None, date(2026, 11, 2)]])
    # Quoted, "A title; =1+1" stays one cell in a spreadsheet that splits on ";".
    assert document == '"A title; =1+1","say ""hi""",7,"","2026-11-02"\r\n'


# --- the published statistics: the page's CSV and the API's ---------------------------------


def _regulation_titled(app: Flask, title: str) -> None:
    """A triage officer accepts a claim, adding a catalogue entry with this title."""
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        reference = submit_claim(ctx, submission()).reference
        fire(ctx, reference, "accept", cast.triage, {"category": "food_hygiene", "regulation": {"title": title}})


def test_a_regulation_titled_with_a_formula_is_published_as_text_in_the_statistics_csv(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    _regulation_titled(app, FORMULA)
    publish(app, clock, file=False)
    from_page = client.get("/statistics.csv", follow_redirects=True)
    from_api = client.get("/api/v1/statistics?format=csv")
    for download in (from_page, from_api):
        assert download.status_code == 200
        document = download.get_data(as_text=True)
        rows = cells(document)
        titles = {row[3] for row in rows if row[1] == "by_regulation"}
        assert "'" + FORMULA in titles, titles
        assert formulas(document) == []
        assert '"\'=HYPERLINK(""http://evil.example"",""x"")"' in document


def test_a_cache_holding_a_statistics_csv_from_the_old_writer_gets_the_neutralised_one(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    _regulation_titled(app, FORMULA)
    release = publish(app, clock, file=False)
    old_etag = f'"{release.sha256}-csv"'  # what the CSVs carried before every cell was neutralised
    for path in ("/statistics/releases/1.csv", "/api/v1/statistics/releases/1?format=csv"):
        again = client.get(path, headers={"If-None-Match": old_etag})
        assert again.status_code == 200, path
        assert formulas(again.get_data(as_text=True)) == []
        current = again.headers["ETag"]
        assert current != old_etag
        assert client.get(path, headers={"If-None-Match": current}).status_code == 304, path


# --- the officers' queue -------------------------------------------------------------------


def test_a_claim_titled_with_a_formula_is_text_in_the_queue_csv(app: Flask) -> None:
    with app.app_context(), unit_of_work() as ctx:
        reference = submit_claim(ctx, submission(initiative={"title": "@SUM(1+1)*cmd|' /C calc'!A0"})).reference
    client, _ = signed_in(app, "triage")
    download = client.get("/officer/queue.csv")
    assert download.status_code == 200
    document = download.get_data(as_text=True)
    (row,) = (row for row in cells(document) if row[0] == reference)
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in row
    assert formulas(document) == []
