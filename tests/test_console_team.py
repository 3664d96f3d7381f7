"""The team's workload in the console, over HTTP: admins and team leaders see each officer's open
claims by status, how many are overdue and the earliest due date, each count a link to those claims
in the queue; and they give one officer's claims to another, all or none. Other officers get a page
that says who may see it. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from guarantee.clock import FixedClock
from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.models import Claim
from guarantee.services import casework, workload
from guarantee.services.casework import assign
from tests.conftest import START
from tests.test_console import QUEUE, Someone, claim_now, file, fire_as, location, officer, rows, set_active, signed_in
from tests.test_console_queue import link
from tests.test_public import error_summary, fields, text_of

TEAM = "/officer/team"


def give(app: Flask, references: list[str], to: Someone) -> None:
    leader = officer(app, "team_leader")
    with app.app_context(), unit_of_work() as ctx:
        for reference in references:
            assign(ctx, reference, to.id, leader.actor)


def assignees(app: Flask, references: list[str]) -> list[int | None]:
    with app.app_context():
        found = dict(
            db.session.execute(select(Claim.reference, Claim.assignee_id).where(Claim.reference.in_(references))).all()
        )
        return [found[r] for r in references]


def team_rows(html: str) -> dict[str, list[str]]:
    """Each row of the workload table: the officer, then the words of each cell."""
    body = re.search(r'<tbody class="govuk-table__body">(.*?)</tbody>', html, re.S)
    assert body, "the workload is a table"
    found = {}
    for row in re.findall(r"<tr.*?</tr>", body[1], re.S):
        cells = [
            text_of(re.sub(r'<span class="govuk-visually-hidden">.*?</span>', "", c))
            for c in re.findall(r"<t[hd].*?</t[hd]>", row, re.S)
        ]
        found[cells[0]] = cells[1:]
    return found


@pytest.fixture
def team(app: Flask, clock: FixedClock) -> dict[str, object]:
    """Rita holds two claims filed 30 days ago (overdue) and one accepted today; nobody holds one."""
    rita, sam = officer(app, "reviewer", name="Rita Reviewer"), officer(app, "reviewer", name="Sam Second")
    clock.set(START.replace(day=1, month=10))
    late = file(app, 2)
    clock.set(START)
    (accepted, nobodys) = file(app, 2)
    fire_as(app, accepted, "accept", officer(app, "triage"))
    give(app, [*late, accepted], rita)
    return {"rita": rita, "sam": sam, "late": late, "accepted": accepted, "nobodys": nobodys}


@pytest.mark.parametrize("role", ["admin", "team_leader"])
def test_admins_and_team_leaders_see_each_officers_open_claims_by_status(
    app: Flask, team: dict[str, object], role: str
) -> None:
    client, _ = signed_in(app, role)
    page = client.get(TEAM)
    assert page.status_code == 200
    found = team_rows(page.text)
    # Submitted, under review, waiting, upheld, not upheld, appealed; total, overdue, earliest due.
    assert found["Rita Reviewer"] == ["2", "1", "0", "0", "0", "0", "3", "2", "8 Oct 2026", "Reassign"]
    assert found["Sam Second"] == ["0", "0", "0", "0", "0", "0", "0", "0", "—", ""], "nothing to reassign"
    assert list(found)[-1] == "Unassigned"
    assert found["Unassigned"] == ["1", "0", "0", "0", "0", "0", "1", "0", "9 Nov 2026", "Share out"]
    assert 'href="/officer/team"' in client.get(QUEUE).text, "the console's navigation leads there"


def test_each_count_opens_those_claims_in_the_queue(app: Flask, team: dict[str, object]) -> None:
    client, _ = signed_in(app, "team_leader")
    page = client.get(TEAM).text
    rita = team["rita"]
    assert isinstance(rita, Someone)
    overdue = re.search(
        r'href="([^"]+)">2<span class="govuk-visually-hidden"> overdue claims, held by Rita Reviewer', page
    )
    assert overdue, "the overdue count links to the queue"
    assert unescape(overdue[1]) == f"{QUEUE}?assignee={rita.id}&due=overdue"
    assert sorted(rows(client.get(unescape(overdue[1])).text)) == sorted(team["late"])  # type: ignore[arg-type]
    nobody = re.search(r'href="([^"]+)">1<span class="govuk-visually-hidden"> open claims, unassigned', page)
    assert nobody and rows(client.get(unescape(nobody[1])).text) == [team["nobodys"]]


@pytest.mark.parametrize("role", ["triage", "reviewer", "appeal_panel"])
def test_other_officers_are_told_who_may_see_the_workload(app: Flask, role: str) -> None:
    client, who = signed_in(app, role)
    page = client.get(TEAM)
    assert page.status_code == 403
    words = text_of(page.text)
    assert "You cannot see this page" in words
    assert "Only an officer with the admin or team_leader role can see the team's workload." in words
    assert link(page.text, "Go to the queue") == QUEUE
    assert 'href="/officer/team"' not in client.get(QUEUE).text, "not offered in the navigation"
    assert client.get(f"{TEAM}/{who.id}/reassign").status_code == 403


def _reassign_form(client: FlaskClient, officer_id: int) -> dict[str, object]:
    page = client.get(f"{TEAM}/{officer_id}/reassign")
    assert page.status_code == 200
    given: dict[str, object] = dict(fields(page.text))
    given["reference"] = re.findall(r'name="reference" type="checkbox" value="([^"]+)" checked', page.text)
    return given


def test_a_team_leader_moves_an_officers_claims_to_another_leaving_the_unticked(
    app: Flask, team: dict[str, object]
) -> None:
    client, _ = signed_in(app, "team_leader")
    rita, sam = team["rita"], team["sam"]
    assert isinstance(rita, Someone) and isinstance(sam, Someone)
    late = team["late"]
    assert isinstance(late, list)
    page = client.get(TEAM).text
    form = _reassign_form(client, rita.id)
    assert link(page, "Reassign Rita Reviewer’s claims") == f"{TEAM}/{rita.id}/reassign"
    assert sorted(form["reference"]) == sorted([*late, team["accepted"]]), "every open claim, ticked"  # type: ignore[arg-type]
    moved = client.post(f"{TEAM}/{rita.id}/reassign", data={**form, "reference": late, "assignee": str(sam.id)})
    assert moved.status_code == 303 and location(moved) == TEAM
    assert "2 claims moved from Rita Reviewer to Sam Second." in text_of(client.get(TEAM).text)
    assert assignees(app, [*late, team["accepted"]]) == [sam.id, sam.id, rita.id]  # type: ignore[list-item]


def test_reassigning_asks_whom_to_and_changes_nothing_if_a_claim_changed_meanwhile(
    app: Flask, team: dict[str, object]
) -> None:
    client, _ = signed_in(app, "admin")
    rita, sam = team["rita"], team["sam"]
    assert isinstance(rita, Someone) and isinstance(sam, Someone)
    references = [*team["late"], team["accepted"]]  # type: ignore[misc]
    form = _reassign_form(client, rita.id)
    no_one = client.post(f"{TEAM}/{rita.id}/reassign", data={**form, "assignee": ""})
    assert no_one.status_code == 400
    assert error_summary(no_one.text) == {"#assignee": "Choose who to give the claims to"}
    before = [claim_now(app, r) for r in references]
    fire_as(app, str(team["accepted"]), "request_information", officer(app, "reviewer"))  # meanwhile
    stale = client.post(f"{TEAM}/{rita.id}/reassign", data={**form, "assignee": str(sam.id)})
    assert stale.status_code == 400
    summary = " ".join(error_summary(stale.text).values())
    assert summary.startswith("Nothing was changed.") and str(team["accepted"]) in summary
    assert assignees(app, references) == [rita.id] * 3
    assert [claim_now(app, r)[1] for r in references[:2]] == [b[1] for b in before[:2]], "none was assigned"
    assert client.post(f"{TEAM}/{rita.id}/reassign", data={"assignee": str(sam.id)}).status_code == 400, "CSRF"


def test_a_deactivated_officers_claims_are_listed_until_given_to_others_or_to_nobody(
    app: Flask, team: dict[str, object]
) -> None:
    client, _ = signed_in(app, "admin")
    rita = team["rita"]
    assert isinstance(rita, Someone)
    set_active(app, rita, False)
    assert "Rita Reviewer Deactivated" in team_rows(client.get(TEAM).text)
    form = _reassign_form(client, rita.id)
    assert f'<option value="{rita.id}"' not in client.get(f"{TEAM}/{rita.id}/reassign").text
    moved = client.post(f"{TEAM}/{rita.id}/reassign", data={**form, "assignee": "none"})
    assert "3 claims moved from Rita Reviewer to nobody (unassigned)." in text_of(client.get(location(moved)).text)
    assert "Rita Reviewer Deactivated" not in team_rows(client.get(TEAM).text), "holding nothing, they are gone"
    assert team_rows(client.get(TEAM).text)["Unassigned"][6] == "4"


def test_more_claims_than_one_bulk_assignment_takes_are_moved_together(
    app: Flask, team: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(casework, "MAX_BULK", 2)
    monkeypatch.setattr(workload, "MAX_BULK", 2)
    client, _ = signed_in(app, "team_leader")
    rita, sam = team["rita"], team["sam"]
    assert isinstance(rita, Someone) and isinstance(sam, Someone)
    form = _reassign_form(client, rita.id)
    assert len(form["reference"]) == 3  # type: ignore[arg-type]
    moved = client.post(f"{TEAM}/{rita.id}/reassign", data={**form, "assignee": str(sam.id)})
    assert moved.status_code == 303
    assert assignees(app, form["reference"]) == [sam.id] * 3  # type: ignore[arg-type]
