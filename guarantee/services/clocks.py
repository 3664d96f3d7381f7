"""Starting, pausing, resuming and stopping a claim's working-day clocks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import inspect, select

from guarantee.models import Claim, ClaimClock
from guarantee.services.calendar import add_working_days, working_days_between
from guarantee.services.context import ServiceContext
from guarantee.services.errors import capitalised, long_date
from workflows import CLOCKS, ClockCondition, ClockEffect
from workflows.words import words


def clocks_of(ctx: ServiceContext, claim: Claim) -> dict[str, ClaimClock]:
    if not inspect(claim).has_identity:  # not inserted yet: no clocks
        return {}
    rows = ctx.session.scalars(select(ClaimClock).where(ClaimClock.claim_id == claim.id))
    return {row.name: row for row in rows}


def apply_effects(ctx: ServiceContext, claim: Claim, effects: Iterable[ClockEffect]) -> list[dict[str, Any]]:
    """Apply the workflow's clock effects; returns what changed, for the audit event."""
    today = ctx.today()
    clocks = clocks_of(ctx, claim)
    changes: list[dict[str, Any]] = []
    for effect in effects:
        clock = clocks.get(effect.clock)
        if effect.action == "start":
            clock = clocks[effect.clock] = _start(ctx, claim, clock, effect.clock, today)
        elif clock is None:
            continue
        elif effect.action == "pause" and clock.status == "running":
            _pause(claim, clock, today)
        elif effect.action == "resume" and clock.status == "paused":
            _resume(claim, clock, today)
        elif effect.action == "stop" and clock.status in ("running", "paused"):
            clock.status, clock.stopped_on = "stopped", today
        else:
            continue
        changes.append(
            {
                "clock": effect.clock,
                "action": effect.action,
                "due_on": clock.due_on.isoformat() if clock.due_on else None,
            }
        )
    _show_running_clock(claim, clocks.values())
    return changes


def _start(ctx: ServiceContext, claim: Claim, clock: ClaimClock | None, name: str, today: date) -> ClaimClock:
    days = ctx.working_days[name]
    due = add_working_days(today, days, claim.nation)
    if clock is None:
        clock = ClaimClock(claim=claim, name=name)
        ctx.session.add(clock)
    clock.status = "running"
    clock.working_days = days
    clock.started_on = today
    clock.due_on = due.due
    clock.paused_on = clock.days_left = clock.stopped_on = None
    clock.working = {"stretches": [due.as_dict()]}
    return clock


def _pause(claim: Claim, clock: ClaimClock, today: date) -> None:
    """Stop the count, keeping the working days left; a clock already due keeps its due date
    instead (workflows.LATE_PAUSE_RULE)."""
    assert clock.due_on is not None
    if today >= clock.due_on:
        late = {"paused_on": today.isoformat(), "due": clock.due_on.isoformat()}
        clock.working = {**clock.working, "late_pause": late}
        clock.days_left = 0
    else:
        clock.days_left = working_days_between(today, clock.due_on, claim.nation)
    clock.status, clock.paused_on, clock.due_on = "paused", today, None


def _resume(claim: Claim, clock: ClaimClock, today: date) -> None:
    """Count again: from today with the days left, or, after a late pause, to the old due date."""
    working = dict(clock.working)
    late = working.pop("late_pause", None)
    if late is not None:
        answered = {**late, "resumed_on": today.isoformat()}
        working["late_pauses"] = [*working.get("late_pauses", []), answered]
        clock.due_on = date.fromisoformat(late["due"])
    else:
        due = add_working_days(today, clock.days_left or 0, claim.nation)
        working["stretches"] = [*working["stretches"], due.as_dict()]
        clock.due_on = due.due
    clock.working = working
    clock.status, clock.paused_on, clock.days_left = "running", None, None


def _show_running_clock(claim: Claim, clocks: Iterable[ClaimClock]) -> None:
    running = [c for c in clocks if c.status == "running"]
    running.sort(key=lambda c: c.due_on or date.max)
    claim.due_clock = running[0].name if running else None
    claim.due_on = running[0].due_on if running else None


def condition_problem(ctx: ServiceContext, claim: Claim, condition: ClockCondition) -> str | None:
    """Why the clock condition does not hold now, or None when it does."""
    clock = clocks_of(ctx, claim).get(condition.clock)
    today = ctx.today()
    if clock is None or clock.status != "running" or clock.due_on is None:
        return words("%(clock)s is not running.", clock=capitalised(CLOCKS[condition.clock].phrase))
    if condition.must_be == "running" and today > clock.due_on:
        return words("The deadline passed: the last day was %(day)s.", day=long_date(clock.due_on))
    if condition.must_be == "expired" and today <= clock.due_on:
        return words("The deadline has not passed yet: the last day is %(day)s.", day=long_date(clock.due_on))
    return None
