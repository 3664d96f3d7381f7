"""Working-day clocks (DESIGN 4): each nation's calendar, the claim's clocks, the deadline
edges, the system triggers and the sweeper, alone and racing itself.

Convention: counting starts the day after the start date, the due date is the Nth working
day of the claim's nation, and an action that must happen in time is allowed up to and
including the due date (a day in the United Kingdom) and refused from the next day.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guarantee.clock import UK, FixedClock
from guarantee.config import DEFAULT_WORKING_DAYS
from guarantee.context import unit_of_work
from guarantee.models import AuditEvent, Claim, ClaimClock
from guarantee.services import audit
from guarantee.services.actors import GroupActor, SystemActor
from guarantee.services.calendar import (
    add_working_days,
    bank_holiday,
    is_working_day,
    working_days_between,
)
from guarantee.services.claims import fire, get_claim, submit_claim
from guarantee.services.clocks import clocks_of
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Forbidden, TriggerNotAllowed
from guarantee.services.sweep import sweep_batch
from tests.helpers import INPUTS, Cast, submission, walk

SYSTEM_TRIGGERS = ("information_lapsed", "appeal_window_closed")
NATIONS = ("england", "wales", "scotland", "northern_ireland")
# initiative.region -> the nation whose bank holidays count
REGION_OF = {"england": "north_west", "wales": "wales", "scotland": "scotland", "northern_ireland": "northern_ireland"}

# The conftest clock starts on Monday 2 November 2026. Four weeks on, Monday 30 November is
# St Andrew's Day, a bank holiday in Scotland only.
MON_2_NOV = date(2026, 11, 2)
MON_9_NOV = date(2026, 11, 9)
MON_16_NOV = date(2026, 11, 16)
MON_30_NOV = date(2026, 11, 30)
TUE_1_DEC = date(2026, 12, 1)
WED_2_DEC = date(2026, 12, 2)
MON_7_DEC = date(2026, 12, 7)
TUE_8_DEC = date(2026, 12, 8)
ST_ANDREWS_DAY = {"date": "2026-11-30", "name": "Saint Andrew's Day"}


def d(text: str) -> date:
    return date.fromisoformat(text)


# --- helpers ----------------------------------------------------------------------


def file_claim(ctx: ServiceContext, nation: str = "england") -> str:
    return submit_claim(ctx, submission(initiative={"region": REGION_OF[nation]})).reference


def claim_in(ctx: ServiceContext, cast: Cast, nation: str, *triggers: str) -> str:
    """A claim of this nation, filed today and walked through ``triggers`` today."""
    reference = file_claim(ctx, nation)
    walk(ctx, cast, reference, *triggers)
    return reference


def clocks(ctx: ServiceContext, reference: str) -> dict[str, ClaimClock]:
    return clocks_of(ctx, get_claim(ctx, reference))


def appeal(ctx: ServiceContext, reference: str) -> Any:
    return fire(ctx, reference, "appeal", GroupActor(reference), INPUTS["appeal"])


def system_fire(ctx: ServiceContext, reference: str, trigger: str) -> Any:
    return fire(ctx, reference, trigger, SystemActor(), INPUTS[trigger])


def at_uk(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UK)


def system_events_per_claim(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Claim.reference, func.count(AuditEvent.id))
        .outerjoin(AuditEvent, (AuditEvent.claim_id == Claim.id) & AuditEvent.action.in_(SYSTEM_TRIGGERS))
        .group_by(Claim.reference)
    ).all()
    return {reference: count for reference, count in rows}


# --- 1. the calendar of each nation ---------------------------------------------------

# (start, working days, nation, due date, bank holidays skipped)
DUE_DATES = [
    # Four weeks from 2 November: St Andrew's Day moves the Scottish due date on by a day.
    ("2026-11-02", 20, "scotland", "2026-12-01", [("2026-11-30", "Saint Andrew's Day")]),
    ("2026-11-02", 20, "england", "2026-11-30", []),
    ("2026-11-02", 20, "wales", "2026-11-30", []),
    ("2026-11-02", 20, "northern_ireland", "2026-11-30", []),
    # Christmas: the 25th and the observed Boxing Day (the 28th) everywhere; the 26th is a Saturday.
    *[
        (
            "2026-12-18",
            5,
            nation,
            "2026-12-29",
            [("2026-12-25", "Christmas Day"), ("2026-12-28", "Boxing Day (observed)")],
        )
        for nation in NATIONS
    ],
    # St Patrick's Day, Tuesday 17 March: Northern Ireland only.
    ("2026-03-16", 1, "northern_ireland", "2026-03-18", [("2026-03-17", "Saint Patrick's Day")]),
    ("2026-03-16", 1, "england", "2026-03-17", []),
    ("2026-03-16", 1, "scotland", "2026-03-17", []),
    # August: the first Monday in Scotland, the last Monday elsewhere.
    ("2026-07-31", 1, "scotland", "2026-08-04", [("2026-08-03", "Summer Bank Holiday")]),
    ("2026-07-31", 1, "england", "2026-08-03", []),
    ("2026-08-28", 1, "england", "2026-09-01", [("2026-08-31", "Late Summer Bank Holiday")]),
    ("2026-08-28", 1, "wales", "2026-09-01", [("2026-08-31", "Late Summer Bank Holiday")]),
    ("2026-08-28", 1, "northern_ireland", "2026-09-01", [("2026-08-31", "Late Summer Bank Holiday")]),
    ("2026-08-28", 1, "scotland", "2026-08-31", []),
    # Easter: Good Friday everywhere, Easter Monday everywhere but Scotland.
    ("2026-04-02", 1, "england", "2026-04-07", [("2026-04-03", "Good Friday"), ("2026-04-06", "Easter Monday")]),
    ("2026-04-02", 1, "scotland", "2026-04-06", [("2026-04-03", "Good Friday")]),
    # The Twelfth falls on a Sunday (a weekend day, not listed); its observed Monday is skipped.
    ("2026-07-10", 1, "northern_ireland", "2026-07-14", [("2026-07-13", "Battle of the Boyne (observed)")]),
    ("2026-07-10", 1, "england", "2026-07-13", []),
    # New Year across the year end: Scotland also keeps the 2nd (a Saturday), observed on Monday 4th.
    ("2026-12-31", 1, "england", "2027-01-04", [("2027-01-01", "New Year's Day")]),
    (
        "2026-12-31",
        1,
        "scotland",
        "2027-01-05",
        [("2027-01-01", "New Year's Day"), ("2027-01-04", "New Year Holiday (observed)")],
    ),
    # Weekends only.
    ("2026-11-02", 5, "england", "2026-11-09", []),
    ("2026-11-06", 1, "england", "2026-11-09", []),
    ("2026-11-07", 1, "scotland", "2026-11-09", []),
    ("2026-11-08", 5, "wales", "2026-11-13", []),
    # Zero working days: due on the start date itself.
    ("2026-11-02", 0, "england", "2026-11-02", []),
]


@pytest.mark.parametrize(
    ("start", "days", "nation", "due", "skipped"),
    DUE_DATES,
    ids=[f"{s}+{n}-{nation}" for s, n, nation, _, _ in DUE_DATES],
)
def test_add_working_days_skips_weekends_and_the_bank_holidays_of_the_claims_nation(start, days, nation, due, skipped):
    result = add_working_days(d(start), days, nation)

    assert result.due == d(due)
    assert result.start == d(start)
    assert result.working_days == days
    assert result.nation == nation
    assert result.holidays_skipped == tuple((d(day), name) for day, name in skipped)
    # Every calendar day after the start up to the due date is a counted day, a weekend day or a listed holiday.
    assert (result.due - result.start).days == days + result.weekend_days_skipped + len(skipped)


def test_a_scottish_due_date_explains_that_st_andrews_day_was_skipped():
    scottish = add_working_days(MON_2_NOV, 20, "scotland")

    assert scottish.explain() == (
        "20 working days counted from 2 November 2026, due 1 December 2026; "
        "bank holidays skipped: Saint Andrew's Day (30 November)"
    )
    assert scottish.as_dict() == {
        "start": "2026-11-02",
        "working_days": 20,
        "due": "2026-12-01",
        "nation": "scotland",
        "holidays_skipped": [ST_ANDREWS_DAY],
        "weekend_days_skipped": 8,
    }


def test_an_english_due_date_over_the_same_weeks_skips_no_bank_holiday():
    english = add_working_days(MON_2_NOV, 20, "england")

    assert english.explain() == "20 working days counted from 2 November 2026, due 30 November 2026"
    assert "bank holidays skipped" not in english.explain()
    assert english.as_dict()["holidays_skipped"] == []


def test_the_christmas_explanation_lists_every_bank_holiday_skipped_in_order():
    explained = add_working_days(date(2026, 12, 18), 5, "wales").explain()

    assert explained == (
        "5 working days counted from 18 December 2026, due 29 December 2026; "
        "bank holidays skipped: Christmas Day (25 December), Boxing Day (observed) (28 December)"
    )


def test_a_negative_number_of_working_days_is_refused():
    with pytest.raises(ValueError, match="must not be negative"):
        add_working_days(MON_2_NOV, -1, "england")


@pytest.mark.parametrize(
    ("day", "nation", "holiday"),
    [
        (MON_30_NOV, "scotland", "Saint Andrew's Day"),
        (MON_30_NOV, "england", None),
        (date(2026, 3, 17), "northern_ireland", "Saint Patrick's Day"),
        (date(2026, 3, 17), "wales", None),
        (date(2026, 8, 3), "scotland", "Summer Bank Holiday"),
        (date(2026, 8, 3), "england", None),
        (date(2026, 12, 25), "england", "Christmas Day"),
    ],
)
def test_bank_holidays_are_those_of_the_nation(day, nation, holiday):
    assert bank_holiday(day, nation) == holiday
    assert is_working_day(day, nation) is (holiday is None)


def test_weekends_are_never_working_days():
    assert not is_working_day(date(2026, 11, 7), "england")
    assert not is_working_day(date(2026, 11, 8), "scotland")
    assert is_working_day(date(2026, 11, 6), "northern_ireland")


@pytest.mark.parametrize(
    ("after", "until", "nation", "expected"),
    [
        ("2026-11-02", "2026-11-30", "england", 20),
        ("2026-11-02", "2026-11-30", "scotland", 19),
        ("2026-11-02", "2026-12-01", "scotland", 20),
        ("2026-12-24", "2026-12-29", "england", 1),
        ("2026-11-06", "2026-11-08", "wales", 0),  # a weekend
        ("2026-11-02", "2026-11-02", "england", 0),  # the same day
        ("2026-11-09", "2026-11-02", "england", 0),  # until before after
        ("2026-11-02", "2026-11-03", "england", 1),  # counts from the day after
    ],
)
def test_working_days_between_counts_the_days_after_the_first_up_to_and_including_the_last(
    after, until, nation, expected
):
    assert working_days_between(d(after), d(until), nation) == expected


@pytest.mark.parametrize("nation", NATIONS)
@pytest.mark.parametrize("start", ["2026-03-13", "2026-07-30", "2026-11-02", "2026-12-18", "2026-12-31"])
@pytest.mark.parametrize("days", [1, 5, 20, 40])
def test_working_days_between_the_start_and_its_due_date_is_the_number_added(nation, start, days):
    due = add_working_days(d(start), days, nation).due

    assert working_days_between(d(start), due, nation) == days
    assert is_working_day(due, nation)


# --- 2. the claim's clocks, through the services ---------------------------------------


def test_submission_starts_the_triage_clock_due_five_working_days_later(ctx):
    reference = file_claim(ctx)
    claim = get_claim(ctx, reference)
    triage = clocks(ctx, reference)["triage"]

    assert (claim.due_clock, claim.due_on) == ("triage", MON_9_NOV)
    assert (triage.status, triage.working_days, triage.started_on, triage.due_on) == (
        "running",
        5,
        MON_2_NOV,
        MON_9_NOV,
    )
    assert triage.working == {
        "stretches": [
            {
                "start": "2026-11-02",
                "working_days": 5,
                "due": "2026-11-09",
                "nation": "england",
                "holidays_skipped": [],
                "weekend_days_skipped": 2,
            }
        ]
    }
    submitted = ctx.session.scalar(
        select(AuditEvent).where(AuditEvent.claim_id == claim.id, AuditEvent.action == "submitted")
    )
    assert submitted.payload["clocks"] == [{"clock": "triage", "action": "start", "due_on": "2026-11-09"}]


def test_the_triage_clock_counts_the_bank_holidays_of_the_claims_nation(ctx, clock):
    clock.set_day(date(2026, 11, 25))  # a Wednesday; five working days span St Andrew's Day
    english = get_claim(ctx, file_claim(ctx, "england"))
    scottish = get_claim(ctx, file_claim(ctx, "scotland"))

    assert english.due_on == date(2026, 12, 2)
    assert scottish.due_on == date(2026, 12, 3)
    assert clocks(ctx, scottish.reference)["triage"].working["stretches"][0]["holidays_skipped"] == [ST_ANDREWS_DAY]


def test_accept_stops_the_triage_clock_and_starts_the_decision_clock_of_twenty_working_days(ctx, clock):
    cast = Cast(ctx)
    reference = file_claim(ctx)
    clock.set_day(date(2026, 11, 4))

    fired = walk(ctx, cast, reference, "accept")
    by_name = clocks(ctx, reference)

    assert (by_name["triage"].status, by_name["triage"].stopped_on) == ("stopped", date(2026, 11, 4))
    decision = by_name["decision"]
    assert (decision.status, decision.working_days, decision.started_on) == ("running", 20, date(2026, 11, 4))
    assert decision.due_on == WED_2_DEC
    assert (fired.claim.due_clock, fired.claim.due_on) == ("decision", WED_2_DEC)
    assert fired.event.payload["clocks"] == [
        {"clock": "triage", "action": "stop", "due_on": "2026-11-09"},
        {"clock": "decision", "action": "start", "due_on": "2026-12-02"},
    ]


def test_request_information_pauses_the_decision_clock_and_the_claim_shows_the_information_clock(ctx, clock):
    cast = Cast(ctx)
    reference = claim_in(ctx, cast, "england", "accept")  # decision due 30 November
    clock.set_day(MON_9_NOV)

    fired = walk(ctx, cast, reference, "request_information")
    by_name = clocks(ctx, reference)

    decision = by_name["decision"]
    assert (decision.status, decision.paused_on, decision.due_on) == ("paused", MON_9_NOV, None)
    # 3-6 and 9 November are used up; 15 of the 20 working days are left.
    assert decision.days_left == 15
    information = by_name["information"]
    assert (information.status, information.started_on, information.due_on) == ("running", MON_9_NOV, MON_7_DEC)
    assert (fired.claim.due_clock, fired.claim.due_on) == ("information", MON_7_DEC)
    assert fired.event.payload["clocks"] == [
        {"clock": "decision", "action": "pause", "due_on": None},
        {"clock": "information", "action": "start", "due_on": "2026-12-07"},
    ]


@pytest.mark.parametrize(
    ("nation", "first_due", "resumed_due", "holidays"),
    [
        ("england", MON_30_NOV, MON_7_DEC, []),
        ("scotland", TUE_1_DEC, TUE_8_DEC, [ST_ANDREWS_DAY]),
    ],
)
def test_provide_information_resumes_the_decision_clock_with_the_working_days_left(
    ctx, clock, *, nation, first_due, resumed_due, holidays
):
    cast = Cast(ctx)
    reference = claim_in(ctx, cast, nation, "accept")
    assert clocks(ctx, reference)["decision"].due_on == first_due
    clock.set_day(MON_9_NOV)
    walk(ctx, cast, reference, "request_information")
    clock.set_day(MON_16_NOV)  # a week (five working days) later

    fired = walk(ctx, cast, reference, "provide_information")
    by_name = clocks(ctx, reference)
    decision = by_name["decision"]

    assert (decision.status, decision.due_on, decision.paused_on, decision.days_left) == (
        "running",
        resumed_due,
        None,
        None,
    )
    assert by_name["information"].status == "stopped"
    assert (fired.claim.due_clock, fired.claim.due_on) == ("decision", resumed_due)
    # The due date moved later by exactly the working days the clock was paused.
    paused_for = working_days_between(MON_9_NOV, MON_16_NOV, nation)
    assert paused_for == 5
    assert working_days_between(first_due, resumed_due, nation) == paused_for
    # The working shows both stretches: the first 20 days, then the 15 left after the pause.
    assert decision.working == {
        "stretches": [
            {
                "start": "2026-11-02",
                "working_days": 20,
                "due": first_due.isoformat(),
                "nation": nation,
                "holidays_skipped": [ST_ANDREWS_DAY] if nation == "scotland" else [],
                "weekend_days_skipped": 8,
            },
            {
                "start": "2026-11-16",
                "working_days": 15,
                "due": resumed_due.isoformat(),
                "nation": nation,
                "holidays_skipped": holidays,
                "weekend_days_skipped": 6,
            },
        ]
    }
    assert fired.event.payload["clocks"] == [
        {"clock": "information", "action": "stop", "due_on": "2026-12-07" if nation == "england" else "2026-12-08"},
        {"clock": "decision", "action": "resume", "due_on": resumed_due.isoformat()},
    ]


def test_an_answer_on_the_day_of_the_question_leaves_the_decision_due_date_unchanged(ctx, clock):
    cast = Cast(ctx)
    reference = claim_in(ctx, cast, "england", "accept")
    clock.set_day(MON_9_NOV)

    walk(ctx, cast, reference, "request_information", "provide_information")

    assert clocks(ctx, reference)["decision"].due_on == MON_30_NOV
    assert get_claim(ctx, reference).due_on == MON_30_NOV


def test_a_question_asked_after_the_decision_was_due_gives_no_more_time(ctx, clock):
    cast = Cast(ctx)
    reference = claim_in(ctx, cast, "england", "accept")  # decision due 30 November
    clock.set_day(TUE_1_DEC)  # a working day late

    walk(ctx, cast, reference, "request_information")
    decision = clocks(ctx, reference)["decision"]
    assert (decision.status, decision.paused_on, decision.days_left) == ("paused", TUE_1_DEC, 0)
    assert decision.working["late_pause"] == {"paused_on": "2026-12-01", "due": "2026-11-30"}
    # While the group answers, what it sees is its own deadline.
    assert get_claim(ctx, reference).due_clock == "information"

    clock.set_day(MON_7_DEC)
    walk(ctx, cast, reference, "provide_information")

    decision = clocks(ctx, reference)["decision"]
    assert (decision.status, decision.due_on) == ("running", MON_30_NOV), "still due when it was due: overdue"
    assert (get_claim(ctx, reference).due_clock, get_claim(ctx, reference).due_on) == ("decision", MON_30_NOV)
    assert len(decision.working["stretches"]) == 1, "no new stretch of working days"
    assert decision.working["late_pauses"] == [
        {"paused_on": "2026-12-01", "due": "2026-11-30", "resumed_on": "2026-12-07"}
    ]


def test_a_question_asked_on_the_day_the_decision_is_due_gives_no_more_time(ctx, clock):
    cast = Cast(ctx)
    reference = claim_in(ctx, cast, "england", "accept")
    clock.set_day(MON_30_NOV)
    walk(ctx, cast, reference, "request_information")
    clock.set_day(MON_7_DEC)

    walk(ctx, cast, reference, "provide_information")

    assert clocks(ctx, reference)["decision"].due_on == MON_30_NOV


def test_a_question_asked_the_day_before_the_decision_is_due_keeps_its_one_day(ctx, clock):
    cast = Cast(ctx)
    reference = claim_in(ctx, cast, "england", "accept")
    clock.set_day(date(2026, 11, 27))  # Friday; Monday 30 November is the last day
    walk(ctx, cast, reference, "request_information")
    assert clocks(ctx, reference)["decision"].days_left == 1
    clock.set_day(MON_7_DEC)

    walk(ctx, cast, reference, "provide_information")

    assert clocks(ctx, reference)["decision"].due_on == TUE_8_DEC


def test_a_second_question_pauses_the_decision_clock_again_from_its_new_due_date(ctx, clock):
    cast = Cast(ctx)
    reference = claim_in(ctx, cast, "england", "accept")
    clock.set_day(MON_9_NOV)
    walk(ctx, cast, reference, "request_information")
    clock.set_day(MON_16_NOV)
    walk(ctx, cast, reference, "provide_information")  # due 7 December, 15 days left
    clock.set_day(date(2026, 11, 18))
    walk(ctx, cast, reference, "request_information")  # 17, 18 used: 13 left
    assert clocks(ctx, reference)["decision"].days_left == 13
    clock.set_day(date(2026, 11, 25))

    walk(ctx, cast, reference, "provide_information")

    decision = clocks(ctx, reference)["decision"]
    assert decision.due_on == date(2026, 12, 14)
    assert [s["start"] for s in decision.working["stretches"]] == ["2026-11-02", "2026-11-16", "2026-11-25"]
    assert [s["working_days"] for s in decision.working["stretches"]] == [20, 15, 13]


@pytest.mark.parametrize(
    "path",
    [
        (),
        ("accept",),
        ("accept", "request_information"),
        ("accept", "not_uphold"),
        ("accept", "not_uphold", "appeal"),
    ],
    ids=["submitted", "under_review", "awaiting_information", "not_upheld", "appealed"],
)
def test_withdraw_stops_every_clock_and_the_claim_has_no_due_date(ctx, clock, path):
    cast = Cast(ctx)
    reference = claim_in(ctx, cast, "england", *path)
    clock.set_day(date(2026, 11, 3))

    fired = walk(ctx, cast, reference, "withdraw")

    assert fired.claim.state == "withdrawn"
    assert (fired.claim.due_on, fired.claim.due_clock) == (None, None)
    by_name = clocks(ctx, reference)
    assert by_name  # at least the triage clock
    assert all(c.status == "stopped" for c in by_name.values())
    still_going = [c["clock"] for c in fired.event.payload["clocks"]]
    assert all(by_name[name].stopped_on == date(2026, 11, 3) for name in still_going)


def test_withdraw_stops_the_paused_decision_clock_too(ctx, clock):
    cast = Cast(ctx)
    reference = claim_in(ctx, cast, "england", "accept", "request_information")

    fired = walk(ctx, cast, reference, "withdraw")

    assert {c["clock"] for c in fired.event.payload["clocks"]} == {"decision", "information"}
    assert clocks(ctx, reference)["decision"].status == "stopped"


def test_configured_working_days_are_honoured(session, clock):
    configured = {**DEFAULT_WORKING_DAYS, "triage": 3, "decision": 10, "information": 2, "appeal_window": 4}
    ctx = ServiceContext(session=session, clock=clock, working_days=configured)
    cast = Cast(ctx)

    reference = file_claim(ctx, "scotland")
    assert get_claim(ctx, reference).due_on == date(2026, 11, 5)
    assert clocks(ctx, reference)["triage"].working_days == 3

    walk(ctx, cast, reference, "accept")
    decision = clocks(ctx, reference)["decision"]
    assert (decision.working_days, decision.due_on) == (10, MON_16_NOV)

    walk(ctx, cast, reference, "request_information")
    assert get_claim(ctx, reference).due_on == date(2026, 11, 4)

    clock.set_day(date(2026, 11, 4))
    walk(ctx, cast, reference, "provide_information", "not_uphold")
    window = clocks(ctx, reference)["appeal_window"]
    assert (window.working_days, window.due_on) == (4, date(2026, 11, 10))


def test_the_default_working_days_are_those_of_the_design():
    assert DEFAULT_WORKING_DAYS == {
        "triage": 5,
        "decision": 20,
        "information": 20,
        "appeal_window": 20,
        "appeal_decision": 20,
        "resolution": 40,
    }


def test_upholding_starts_the_resolution_clock_of_forty_working_days(ctx):
    cast = Cast(ctx)
    reference = claim_in(ctx, cast, "england", "accept", "uphold")

    resolution = clocks(ctx, reference)["resolution"]
    assert (resolution.working_days, resolution.due_on) == (40, add_working_days(MON_2_NOV, 40, "england").due)
    # 40 working days from 2 November span Christmas and the observed Boxing Day.
    assert resolution.due_on == date(2026, 12, 30)
    assert [h["name"] for h in resolution.working["stretches"][0]["holidays_skipped"]] == [
        "Christmas Day",
        "Boxing Day (observed)",
    ]
    assert get_claim(ctx, reference).due_clock == "resolution"


# --- 3. the appeal window's edges, across a bank holiday of the right nation ----------


@pytest.mark.parametrize(
    ("nation", "last_day"),
    [("scotland", TUE_1_DEC), ("england", MON_30_NOV), ("wales", MON_30_NOV), ("northern_ireland", MON_30_NOV)],
)
def test_appealing_on_the_last_working_day_of_the_window_is_accepted(ctx, clock, nation, last_day):
    cast = Cast(ctx)
    reference = claim_in(ctx, cast, nation, "accept", "not_uphold")
    assert get_claim(ctx, reference).due_on == last_day
    clock.set_day(last_day)

    fired = appeal(ctx, reference)

    assert fired.claim.state == "appealed"
    assert clocks(ctx, reference)["appeal_window"].status == "stopped"
    assert fired.claim.due_clock == "appeal_decision"


@pytest.mark.parametrize(
    ("nation", "last_day"),
    [("scotland", TUE_1_DEC), ("england", MON_30_NOV), ("wales", MON_30_NOV), ("northern_ireland", MON_30_NOV)],
)
def test_appealing_the_day_after_the_last_working_day_is_refused(ctx, clock, nation, last_day):
    cast = Cast(ctx)
    reference = claim_in(ctx, cast, nation, "accept", "not_uphold")
    clock.set_day(last_day + timedelta(days=1))

    with pytest.raises(TriggerNotAllowed) as refused:
        appeal(ctx, reference)

    assert f"the last day was {last_day:%-d %B %Y}" in refused.value.message
    assert refused.value.trigger == "appeal"
    assert refused.value.allowed == ("withdraw",)
    assert get_claim(ctx, reference).state == "not_upheld"


def test_st_andrews_day_gives_a_scottish_claim_one_more_day_to_appeal_than_an_english_one(ctx, clock):
    cast = Cast(ctx)
    scottish = claim_in(ctx, cast, "scotland", "accept", "not_uphold")
    english = claim_in(ctx, cast, "england", "accept", "not_uphold")
    scottish_window = clocks(ctx, scottish)["appeal_window"]
    english_window = clocks(ctx, english)["appeal_window"]
    assert (scottish_window.due_on, english_window.due_on) == (TUE_1_DEC, MON_30_NOV)
    assert scottish_window.working["stretches"][0]["holidays_skipped"] == [ST_ANDREWS_DAY]
    assert english_window.working["stretches"][0]["holidays_skipped"] == []

    clock.set_day(TUE_1_DEC)

    with pytest.raises(TriggerNotAllowed, match="the last day was 30 November 2026"):
        appeal(ctx, english)
    assert appeal(ctx, scottish).claim.state == "appealed"


@pytest.mark.parametrize(
    ("at", "allowed"),
    [
        (at_uk(TUE_1_DEC, 0, 0), True),
        (at_uk(TUE_1_DEC, 23, 30), True),
        (at_uk(TUE_1_DEC, 23, 59), True),
        (at_uk(WED_2_DEC, 0, 0), False),
        (at_uk(WED_2_DEC, 0, 30), False),
    ],
    ids=["00:00-last-day", "23:30-last-day", "23:59-last-day", "00:00-next-day", "00:30-next-day"],
)
def test_the_scottish_appeal_window_ends_at_midnight_uk_time_on_the_last_day(ctx, clock, at, allowed):
    cast = Cast(ctx)
    reference = claim_in(ctx, cast, "scotland", "accept", "not_uphold")
    clock.set(at)

    if allowed:
        assert appeal(ctx, reference).claim.state == "appealed"
    else:
        with pytest.raises(TriggerNotAllowed, match="the last day was 1 December 2026"):
            appeal(ctx, reference)


@pytest.mark.parametrize(
    ("at", "allowed"),
    [
        # 23:30 BST is 22:30 UTC: still the last day everywhere.
        (at_uk(date(2026, 8, 11), 23, 30), True),
        # 00:30 BST on the next day is still 23:30 UTC on the last day: the UK day decides.
        (at_uk(date(2026, 8, 12), 0, 30), False),
    ],
    ids=["23:30-BST-last-day", "00:30-BST-next-day"],
)
def test_in_summer_time_the_window_still_ends_at_uk_midnight_not_utc(ctx, clock, at, allowed):
    clock.set_day(date(2026, 7, 13))
    cast = Cast(ctx)
    # 20 working days from 13 July 2026 in Scotland skip the Summer Bank Holiday (3 August).
    reference = claim_in(ctx, cast, "scotland", "accept", "not_uphold")
    window = clocks(ctx, reference)["appeal_window"]
    assert window.due_on == date(2026, 8, 11)
    assert window.working["stretches"][0]["holidays_skipped"] == [{"date": "2026-08-03", "name": "Summer Bank Holiday"}]
    assert add_working_days(date(2026, 7, 13), 20, "england").due == date(2026, 8, 10)
    clock.set(at)

    if allowed:
        assert appeal(ctx, reference).claim.state == "appealed"
    else:
        with pytest.raises(TriggerNotAllowed, match="the last day was 11 August 2026"):
            appeal(ctx, reference)


# --- 4. the system triggers and the sweep ------------------------------------------


def test_information_lapsed_is_refused_until_the_information_clock_has_run_out(ctx, clock):
    cast = Cast(ctx)
    reference = claim_in(ctx, cast, "england", "accept", "request_information")  # reply due 30 November
    clock.set(at_uk(MON_30_NOV, 23, 59))

    with pytest.raises(TriggerNotAllowed, match="has not passed yet: the last day is 30 November 2026"):
        system_fire(ctx, reference, "information_lapsed")
    assert get_claim(ctx, reference).state == "awaiting_information"

    clock.set(at_uk(TUE_1_DEC, 0, 0))
    fired = system_fire(ctx, reference, "information_lapsed")

    assert (fired.claim.state, fired.claim.outcome) == ("lapsed", "lapsed")
    assert (fired.claim.due_on, fired.claim.due_clock) == (None, None)
    assert {c.name: c.status for c in clocks(ctx, reference).values()} == {
        "triage": "stopped",
        "decision": "stopped",
        "information": "stopped",
    }


def test_appeal_window_closed_is_refused_until_the_window_has_run_out_in_the_claims_nation(ctx, clock):
    cast = Cast(ctx)
    reference = claim_in(ctx, cast, "scotland", "accept", "not_uphold")  # last day 1 December
    clock.set_day(TUE_1_DEC)

    with pytest.raises(TriggerNotAllowed, match="the last day is 1 December 2026"):
        system_fire(ctx, reference, "appeal_window_closed")

    clock.set_day(WED_2_DEC)
    fired = system_fire(ctx, reference, "appeal_window_closed")

    assert (fired.claim.state, fired.claim.outcome) == ("resolved", "not_upheld")
    assert fired.claim.resolved_at == clock.now()
    assert (fired.claim.due_on, fired.claim.due_clock) == (None, None)
    assert fired.event.actor_type == "system"


def test_the_system_triggers_are_not_offered_to_the_group_or_an_officer(ctx, clock):
    cast = Cast(ctx)
    reference = claim_in(ctx, cast, "england", "accept", "not_uphold")
    clock.set_day(WED_2_DEC)

    with pytest.raises(Forbidden, match="Only system"):
        fire(ctx, reference, "appeal_window_closed", GroupActor(reference), {})
    with pytest.raises(Forbidden, match="Only system"):
        fire(ctx, reference, "appeal_window_closed", cast.admin, {})


@pytest.fixture
def swept_claims(ctx: ServiceContext, clock: FixedClock) -> dict[str, str]:
    """Claims in every situation the sweeper meets, all filed on 2 November."""
    cast = Cast(ctx)
    claims = {
        "lapsing": claim_in(ctx, cast, "england", "accept", "request_information"),  # reply due 30 Nov
        "closing": claim_in(ctx, cast, "england", "accept", "not_uphold"),  # window ends 30 Nov
        "scottish_window": claim_in(ctx, cast, "scotland", "accept", "not_uphold"),  # window ends 1 Dec
        "decision_overdue": claim_in(ctx, cast, "england", "accept"),  # due 30 Nov, no system trigger
        "triage_overdue": claim_in(ctx, cast, "england"),  # due 9 Nov, no system trigger
        "appealed": claim_in(ctx, cast, "england", "accept", "not_uphold", "appeal"),
        "upheld": claim_in(ctx, cast, "england", "accept", "uphold"),
        "withdrawn": claim_in(ctx, cast, "england", "accept", "request_information", "withdraw"),
    }
    clock.set_day(MON_9_NOV)
    claims["late_question"] = claim_in(ctx, cast, "england", "accept", "request_information")  # reply due 7 Dec
    return claims


def states(ctx: ServiceContext, claims: dict[str, str]) -> dict[str, str]:
    ctx.session.expire_all()
    return {name: get_claim(ctx, reference).state for name, reference in claims.items()}


def test_sweep_batch_fires_exactly_the_triggers_whose_deadline_has_passed(ctx, clock, swept_claims):
    clock.set_day(TUE_1_DEC)

    result = sweep_batch(ctx, 100)

    assert sorted(result.fired) == sorted(
        [(swept_claims["lapsing"], "information_lapsed"), (swept_claims["closing"], "appeal_window_closed")]
    )
    assert result.refused == []
    assert states(ctx, swept_claims) == {
        "lapsing": "lapsed",
        "closing": "resolved",
        "scottish_window": "not_upheld",  # its last day is today
        "decision_overdue": "under_review",
        "triage_overdue": "submitted",
        "appealed": "appealed",
        "upheld": "upheld",
        "withdrawn": "withdrawn",
        "late_question": "awaiting_information",
    }
    assert get_claim(ctx, swept_claims["closing"]).outcome == "not_upheld"
    assert get_claim(ctx, swept_claims["lapsing"]).outcome == "lapsed"
    events = ctx.session.scalars(select(AuditEvent).where(AuditEvent.action.in_(SYSTEM_TRIGGERS))).all()
    assert {(e.actor_type, e.actor_id) for e in events} == {("system", "sweeper")}
    assert len(events) == 2


def test_sweep_batch_fires_nothing_on_the_last_day_and_the_rest_on_the_following_days(ctx, clock, swept_claims):
    clock.set_day(MON_30_NOV)
    assert sweep_batch(ctx, 100).fired == []

    clock.set_day(TUE_1_DEC)
    assert len(sweep_batch(ctx, 100).fired) == 2
    assert sweep_batch(ctx, 100).fired == []  # nothing fires twice

    clock.set_day(WED_2_DEC)
    assert sweep_batch(ctx, 100).fired == [(swept_claims["scottish_window"], "appeal_window_closed")]

    clock.set_day(TUE_8_DEC)
    assert sweep_batch(ctx, 100).fired == [(swept_claims["late_question"], "information_lapsed")]
    assert states(ctx, swept_claims)["decision_overdue"] == "under_review"


def test_sweep_batch_fires_at_most_limit_claims_earliest_due_first(ctx, clock):
    cast = Cast(ctx)
    first = claim_in(ctx, cast, "england", "accept", "not_uphold")  # window ends 30 Nov
    clock.set_day(date(2026, 11, 3))
    second = claim_in(ctx, cast, "england", "accept", "not_uphold")  # 1 Dec
    clock.set_day(date(2026, 11, 4))
    third = claim_in(ctx, cast, "england", "accept", "not_uphold")  # 2 Dec
    clock.set_day(date(2026, 12, 10))

    assert sweep_batch(ctx, 2).fired == [(first, "appeal_window_closed"), (second, "appeal_window_closed")]
    assert sweep_batch(ctx, 2).fired == [(third, "appeal_window_closed")]
    assert sweep_batch(ctx, 2).fired == []


# --- 5. two sweepers at once, on committed databases -------------------------------


def _file_due_claims(engine: Any, clock: FixedClock, count: int) -> list[str]:
    """``count`` committed claims, half lapsing and half with a closed appeal window by 2 December."""
    with Session(engine) as session:
        ctx = ServiceContext(session=session, clock=clock)
        cast = Cast(ctx)
        references = [
            claim_in(
                ctx,
                cast,
                "scotland" if n % 3 == 0 else "england",
                "accept",
                "request_information" if n % 2 else "not_uphold",
            )
            for n in range(count)
        ]
        session.commit()
    return references


def _sweeper(
    engine: Any,
    clock: FixedClock,
    *,
    barrier: threading.Barrier,
    fired: list[tuple[str, str]],
    refused: list[Any],
    errors: list[BaseException],
) -> None:
    """One machine's `flask guarantee sweep`: batches in their own transactions until nothing is left."""
    try:
        barrier.wait(timeout=30)
        skip: set[int] = set()
        while True:
            with Session(engine) as session:
                result = sweep_batch(ServiceContext(session=session, clock=clock), 4, skip)
                session.commit()
            fired.extend(result.fired)
            refused.extend(result.refused)
            if not result.fired and not result.refused:
                break
    except BaseException as exc:  # reported by the test thread
        errors.append(exc)


@pytest.fixture
def committed_engine(database: Any, fresh_url: str) -> Iterator[Any]:
    engine = database.engine(fresh_url)
    yield engine
    engine.dispose()


def test_two_sweeps_at_once_fire_each_due_trigger_exactly_once(committed_engine, clock):
    references = _file_due_claims(committed_engine, clock, 30)
    clock.set_day(TUE_8_DEC)  # every reply and every window (Scottish ones too) has run out
    barrier = threading.Barrier(2)
    fired: list[list[tuple[str, str]]] = [[], []]
    refused: list[Any] = []
    errors: list[BaseException] = []
    threads = [
        threading.Thread(
            target=_sweeper,
            args=(committed_engine, clock),
            kwargs={"barrier": barrier, "fired": fired[n], "refused": refused, "errors": errors},
        )
        for n in range(2)
    ]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert refused == []
    assert len(fired[0]) + len(fired[1]) == 30
    assert not {r for r, _ in fired[0]} & {r for r, _ in fired[1]}
    with Session(committed_engine) as session:
        assert system_events_per_claim(session) == {reference: 1 for reference in references}
        claims = session.scalars(select(Claim)).all()
        assert {(c.state, c.outcome) for c in claims} == {("lapsed", "lapsed"), ("resolved", "not_upheld")}
        assert all(c.due_on is None for c in claims)
        report = audit.verify(ServiceContext(session=session, clock=clock))
        assert not report.problems
        assert report.claims == 30


# --- the `flask guarantee sweep` command ---------------------------------------------


def test_the_sweep_command_fires_due_triggers_reports_each_and_leaves_the_rest(app, runner, clock):
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        lapsing = claim_in(ctx, cast, "england", "accept", "request_information")  # reply due 30 Nov
        closing = claim_in(ctx, cast, "england", "accept", "not_uphold")  # window ends 30 Nov
        scottish = claim_in(ctx, cast, "scotland", "accept", "not_uphold")  # window ends 1 Dec
        reviewing = claim_in(ctx, cast, "england", "accept")  # decision overdue: flagged, not swept
    clock.set_day(TUE_1_DEC)

    first = runner.invoke(args=["guarantee", "sweep", "--batch", "1"])

    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == [
        f"{lapsing}: information_lapsed",
        f"{closing}: appeal_window_closed",
        "Sweep finished: 2 fired, 0 could not be fired.",
    ]
    again = runner.invoke(args=["guarantee", "sweep"])
    assert again.output.splitlines() == ["Sweep finished: 0 fired, 0 could not be fired."]

    clock.set_day(WED_2_DEC)
    later = runner.invoke(args=["guarantee", "sweep"])
    assert later.output.splitlines() == [
        f"{scottish}: appeal_window_closed",
        "Sweep finished: 1 fired, 0 could not be fired.",
    ]

    with app.app_context(), unit_of_work() as ctx:
        found = {r: get_claim(ctx, r) for r in (lapsing, closing, scottish, reviewing)}
        assert {r: (c.state, c.outcome) for r, c in found.items()} == {
            lapsing: ("lapsed", "lapsed"),
            closing: ("resolved", "not_upheld"),
            scottish: ("resolved", "not_upheld"),
            reviewing: ("under_review", None),
        }
        assert found[reviewing].due_on == MON_30_NOV
        assert system_events_per_claim(ctx.session) == {lapsing: 1, closing: 1, scottish: 1, reviewing: 0}


def test_the_sweep_command_with_nothing_due_fires_nothing(app, runner):
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        reference = claim_in(ctx, cast, "scotland", "accept", "not_uphold")

    result = runner.invoke(args=["guarantee", "sweep"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["Sweep finished: 0 fired, 0 could not be fired."]
    with app.app_context(), unit_of_work() as ctx:
        assert get_claim(ctx, reference).state == "not_upheld"


# --- when a claim was decided -------------------------------------------------------------------


def test_a_reopened_claim_is_decided_again_and_keeps_only_its_new_decision_time(ctx, clock):
    cast = Cast(ctx)
    clock.set_day(MON_2_NOV)
    reference = claim_in(ctx, cast, "england", "decline")
    assert get_claim(ctx, reference).decided_at is not None

    clock.set_day(MON_9_NOV)
    walk(ctx, cast, reference, "reopen")
    assert get_claim(ctx, reference).decided_at is None, "reopened: not decided any more"

    clock.set_day(MON_16_NOV)
    walk(ctx, cast, reference, "uphold")
    assert get_claim(ctx, reference).decided_at.astimezone(UK).date() == MON_16_NOV


def test_only_the_decisions_on_the_merits_stamp_the_decision_time_and_only_reopening_clears_it():
    from workflows import TRANSITIONS

    stamped = {t.trigger for t in TRANSITIONS if t.decided_at == "stamp"}
    cleared = {t.trigger for t in TRANSITIONS if t.decided_at == "clear"}
    assert (stamped, cleared) == ({"decline", "uphold", "not_uphold"}, {"reopen"})
