"""Publishing statistics from the command line and the console, and reading them through the API.

The numbers themselves are specified in test_statistics.py; here: who may publish, what a refusal
says, and that every surface serves the stored release byte for byte.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from guarantee.clock import FixedClock
from tests.api_support import assert_problem, file_claim
from tests.conftest import START
from tests.helpers import submission
from tests.test_console import signed_in

LATEST = "/api/v1/statistics"
REGISTER = "/api/v1/statistics/releases"


def claims_filed(app: Flask, clock: FixedClock, n: int, *sectors: str) -> None:
    """``n`` claims filed through the API (in each of ``sectors``, if given), then the clock moved
    to the next day so that a release counting up to yesterday counts them."""
    client = app.test_client()
    for sector in sectors or (None,):
        body = submission(initiative={"sector": sector}) if sector else None
        for _ in range(n):
            file_claim(client, body)
    clock.set(clock.now() + timedelta(days=1))


def publish(app: Flask, *options: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["guarantee", "statistics", "publish", *options])
    return result.exit_code, result.output


# --- the API --------------------------------------------------------------------------------


def test_before_anything_is_published_the_api_says_so_and_the_register_is_empty(client: FlaskClient) -> None:
    problem = assert_problem(client.get(LATEST), 404)
    assert problem["detail"] == "No statistics have been published yet."
    assert client.get(REGISTER).json == {"releases": []}
    assert assert_problem(client.get(f"{REGISTER}/1"), 404)["detail"] == "There is no release 1."


def test_the_api_serves_each_release_exactly_as_stored_with_its_hash_as_etag(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    claims_filed(app, clock, 12)
    assert publish(app)[0] == 0
    claims_filed(app, clock, 10)
    assert publish(app)[0] == 0

    register = client.get(REGISTER).json["releases"]
    assert [r["number"] for r in register] == [2, 1]
    for entry in register:
        one = client.get(entry["url"])
        assert one.status_code == 200
        assert one.mimetype == "application/json"
        assert hashlib.sha256(one.data).hexdigest() == entry["sha256"]
        assert one.headers["ETag"] == f'"{entry["sha256"]}"'
        assert json.loads(one.data)["release"] == entry["number"]
        assert "public" in one.headers["Cache-Control"]

    latest = client.get(LATEST)
    assert latest.data == client.get(register[0]["url"]).data
    assert client.get(LATEST, headers={"If-None-Match": latest.headers["ETag"]}).status_code == 304


def test_with_format_csv_every_number_of_the_release_comes_as_a_row(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    claims_filed(app, clock, 12)
    assert publish(app)[0] == 0
    document = client.get(LATEST).json
    download = client.get(f"{LATEST}?format=csv")
    assert download.status_code == 200
    assert download.mimetype == "text/csv"
    assert 'filename="guarantee-statistics-release-1.csv"' in download.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    by_category = {r["row_key"]: r["value"] for r in rows if r["table"] == "by_category"}
    assert by_category == {
        **{row["key"]: str(row["count"]) for row in document["tables"][0]["rows"]},
        "total": str(document["tables"][0]["total"]),
    }
    assert set(by_category.values()) <= {"0", "[c]", "10"}  # 12 claims in one category: never 12


@pytest.mark.parametrize("query", ["?format=xml", "?format=", "?colour=blue"])
def test_an_unknown_format_or_parameter_is_a_422_naming_it(app: Flask, client: FlaskClient, query: str) -> None:
    problem = assert_problem(client.get(LATEST + query), 422)
    assert set(problem["errors"]) <= {"format", "colour"}


# --- the command line -----------------------------------------------------------------------


def test_publish_and_verify_from_the_command_line(app: Flask, clock: FixedClock) -> None:
    claims_filed(app, clock, 11)
    code, output = publish(app)
    assert code == 0, output
    assert "Published release 1 (disclosure control), claims submitted 1 January 2026 to 2 November 2026." in output
    code, output = publish(app, "--private", "--epsilon", "1.0")
    assert code == 0, output
    assert "Published release 2 (differential privacy)" in output
    result = app.test_cli_runner().invoke(args=["guarantee", "statistics", "verify"])
    assert result.exit_code == 0
    assert "Statistics verify passed: 2 release(s) match their SHA-256." in result.output


@pytest.mark.parametrize(
    ("until", "says"),
    [
        ("2026-11-03", "The period must end before today (3 November 2026), so that it is complete."),
        ("2025-12-31", "The period must end on or after the series start, 1 January 2026."),
    ],
)
def test_the_command_line_refuses_an_incomplete_or_early_period_and_says_why(
    app: Flask, clock: FixedClock, until: str, says: str
) -> None:
    claims_filed(app, clock, 1)
    code, output = publish(app, "--until", until)
    assert code == 1
    assert "Not published:" in output
    assert says in output


def test_a_release_that_differencing_would_give_away_is_refused_everywhere_with_the_reasons(
    app: Flask, clock: FixedClock
) -> None:
    # Ten claims in each of three sectors, then five more in one: shown as 10 and then 15, which
    # tells anyone that between 1 and 7 claims came in.
    claims_filed(app, clock, 10, "health", "housing", "education")
    assert publish(app)[0] == 0
    claims_filed(app, clock, 5, "health")
    code, output = publish(app)
    assert code == 1
    assert "would show 15 against 10 in release 1, which tells anyone that between 1 and 7 more claims" in output
    assert "Publish later, when more claims have come in" in output

    admin, _ = signed_in(app, "admin")
    page = admin.get("/officer/statistics")
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    refused = admin.post(
        "/officer/statistics", data={"csrf_token": token, "period": "yesterday", "method": "disclosure_control"}
    )
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert "The release was not published" in text
    assert "between 1 and 7 more claims" in text
    assert app.test_client().get(REGISTER).json["releases"][0]["number"] == 1

    # Noise instead: differencing cannot give away what noise hides, so it is published.
    private = admin.post(
        "/officer/statistics", data={"csrf_token": token, "period": "yesterday", "method": "differential_privacy"}
    )
    assert private.status_code == 303
    assert app.test_client().get(LATEST).json["method"] == "differential_privacy"


def test_the_console_publishes_up_to_the_end_of_last_month_or_quarter(app: Flask, clock: FixedClock) -> None:
    assert START.date().isoformat() == "2026-11-02"
    claims_filed(app, clock, 1)
    admin, _ = signed_in(app, "admin")
    page = admin.get("/officer/statistics")
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    for period, end in (("quarter", "2026-09-30"), ("month", "2026-10-31")):
        done = admin.post(
            "/officer/statistics", data={"csrf_token": token, "period": period, "method": "disclosure_control"}
        )
        assert done.status_code == 303, done.get_data(as_text=True)
        assert app.test_client().get(LATEST).json["period"]["end"] == end
    shown = admin.get("/officer/statistics").get_data(as_text=True)
    assert "Release 2 is published." in shown
    assert "1 January 2026 to 31 October 2026" in shown


def test_a_publish_form_with_an_unknown_choice_is_a_form_error_and_publishes_nothing(
    app: Flask, clock: FixedClock
) -> None:
    admin, _ = signed_in(app, "admin")
    page = admin.get("/officer/statistics")
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    refused = admin.post("/officer/statistics", data={"csrf_token": token, "period": "forever", "method": "magic"})
    assert refused.status_code == 400
    assert "There is a problem" in refused.get_data(as_text=True)
    assert app.test_client().get(REGISTER).json == {"releases": []}
