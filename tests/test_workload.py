"""The team's workload, for admins and team leaders: each officer's open claims in each state, how
many are overdue and the earliest due date, the claims no one holds, and a deactivated officer's
claims still to be shared out. A team leader shares them out, and takes no workflow step."""

from __future__ import annotations

from datetime import date

import pytest

from guarantee.clock import FixedClock
from guarantee.services import workload
from guarantee.services.actors import OfficerActor
from guarantee.services.admin import set_active
from guarantee.services.casework import add_note, assign, assign_many, classify
from guarantee.services.claims import fire, submit_claim
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Forbidden, NotFound, ValidationFailed
from guarantee.services.officers import active_officer
from guarantee.services.workload import OfficerLoad, claims_held, reassign, team_workload
from tests.helpers import INPUTS, Cast, make_officer, submission, walk
from workflows import ACTIVE_STATES


def file_claim(ctx: ServiceContext) -> str:
    return submit_claim(ctx, submission()).reference


def row_of(loads: list[OfficerLoad], officer: OfficerActor | None) -> OfficerLoad:
    wanted = None if officer is None else officer.officer_id
    (found,) = [load for load in loads if load.officer_id == wanted]
    return found


def test_each_officer_s_open_claims_by_state_overdue_and_earliest_due(ctx: ServiceContext, clock: FixedClock) -> None:
    cast = Cast(ctx)
    busy = make_officer(ctx, "reviewer")
    first, second = file_claim(ctx), file_claim(ctx)  # triage due Monday 9 November
    clock.set_day(date(2026, 11, 4))
    third = file_claim(ctx)  # triage due Wednesday 11 November
    walk(ctx, cast, third, "accept")  # under review: decision due in 20 working days
    finished = file_claim(ctx)
    walk(ctx, cast, finished, "withdraw")
    for reference in (first, second, third):
        assign(ctx, reference, busy.officer_id, cast.triage)
    file_claim(ctx)  # held by no one: triage due Wednesday 11 November
    clock.set_day(date(2026, 11, 10))  # first and second are overdue
    loads = team_workload(ctx, cast.admin)
    mine = row_of(loads, busy)
    assert mine.by_state == dict.fromkeys(ACTIVE_STATES, 0) | {"submitted": 2, "under_review": 1}
    assert (mine.total, mine.overdue, mine.oldest_due, mine.active) == (3, 2, date(2026, 11, 9), True)
    assert mine.queue_args == {"assignee": str(busy.officer_id)}
    nobody = loads[-1]
    assert (nobody.officer_id, nobody.name, nobody.total, nobody.overdue) == (None, "Unassigned", 1, 0)
    assert nobody.oldest_due == date(2026, 11, 11) and nobody.queue_args == {"assignee": "none"}
    idle = row_of(loads, cast.appeal_panel)
    assert (idle.total, idle.overdue, idle.oldest_due) == (0, 0, None), "an officer holding nothing is listed"


def test_officers_are_listed_by_name_and_a_deactivated_one_only_while_holding_claims(ctx: ServiceContext) -> None:
    cast = Cast(ctx)
    leaving, gone = make_officer(ctx, "reviewer"), make_officer(ctx, "reviewer")
    for actor, name in ((leaving, "Zoe Leaving"), (gone, "Gone Already"), (cast.triage, "Amal Triage")):
        active_officer(ctx, actor).name = name
    reference = file_claim(ctx)
    assign(ctx, reference, leaving.officer_id, cast.triage)
    set_active(ctx, cast.admin, leaving.officer_id, False)
    set_active(ctx, cast.admin, gone.officer_id, False)
    loads = team_workload(ctx, cast.admin)
    names = [load.name for load in loads]
    assert names[0] == "Amal Triage" and names[-1] == "Unassigned"
    assert names[:-1] == sorted(names[:-1])
    assert row_of(loads, leaving).active is False and row_of(loads, leaving).total == 1
    assert gone.officer_id not in {load.officer_id for load in loads}


@pytest.mark.parametrize("role", ["admin", "team_leader"])
def test_admins_and_team_leaders_see_the_workload(ctx: ServiceContext, role: str) -> None:
    assert team_workload(ctx, make_officer(ctx, role))[-1].name == "Unassigned"


@pytest.mark.parametrize("role", ["triage", "reviewer", "appeal_panel"])
def test_other_officers_do_not(ctx: ServiceContext, role: str) -> None:
    with pytest.raises(Forbidden, match="admin or team_leader"):
        team_workload(ctx, make_officer(ctx, role))


def test_a_team_leader_shares_claims_out_in_bulk_and_notes_why_but_takes_no_workflow_step(
    ctx: ServiceContext,
) -> None:
    cast = Cast(ctx)
    leader = cast.team_leader
    references = [file_claim(ctx) for _ in range(3)]
    assert assign_many(ctx, references, cast.reviewer.officer_id, leader) == 3
    assert row_of(team_workload(ctx, leader), cast.reviewer).total == 3
    add_note(ctx, references[0], leader, "Shared out while Sam is on leave.")
    with pytest.raises(Forbidden):
        fire(ctx, references[0], "accept", leader, INPUTS["accept"])
    with pytest.raises(Forbidden):
        classify(ctx, references[0], leader, category="food_hygiene")


def test_an_officers_open_claims_are_listed_soonest_due_first_for_a_leader_to_share_out(
    ctx: ServiceContext, clock: FixedClock
) -> None:
    cast = Cast(ctx)
    busy = make_officer(ctx, "reviewer")
    later = file_claim(ctx)
    walk(ctx, cast, later, "accept")  # a decision, due in 20 working days
    clock.set_day(date(2026, 11, 4))
    sooner = file_claim(ctx)  # triage, due in 5
    finished = file_claim(ctx)
    for reference in (later, sooner, finished):
        assign(ctx, reference, busy.officer_id, cast.triage)
    walk(ctx, cast, finished, "withdraw")
    held = claims_held(ctx, cast.team_leader, busy.officer_id)
    assert [row["reference"] for row in held.claims] == [sooner, later], "open claims only, soonest due first"
    assert (held.officer_id, held.active, held.more) == (busy.officer_id, True, False)
    with pytest.raises(Forbidden):
        claims_held(ctx, cast.reviewer, busy.officer_id)
    with pytest.raises(NotFound):
        claims_held(ctx, cast.admin, 2_000_000)


def test_reassigning_is_all_or_nothing_across_as_many_claims_as_there_are(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workload, "MAX_BULK", 2)  # three claims: two batches
    cast = Cast(ctx)
    leaving, staying = make_officer(ctx, "reviewer"), make_officer(ctx, "reviewer")
    references = [file_claim(ctx) for _ in range(3)]
    for reference in references:
        assign(ctx, reference, leaving.officer_id, cast.triage)
    versions = {row["reference"]: row["version"] for row in claims_held(ctx, cast.admin, leaving.officer_id).claims}
    stale = {**versions, references[2]: versions[references[2]] - 1}  # changed since the page was drawn
    with ctx.session.begin_nested() as attempt:
        with pytest.raises(ValidationFailed, match="references") as refused:
            reassign(ctx, cast.team_leader, references, staying.officer_id, stale)
        attempt.rollback()  # as the console's transaction is, on the refusal
    assert references[2] in refused.value.summary, "the last batch's refusal is not lost"
    assert len(claims_held(ctx, cast.admin, leaving.officer_id).claims) == 3
    assert reassign(ctx, cast.team_leader, references, staying.officer_id, versions) == 3
    assert [row["reference"] for row in claims_held(ctx, cast.admin, staying.officer_id).claims] == references
    with pytest.raises(Forbidden):
        reassign(ctx, cast.triage, references, leaving.officer_id, {})
