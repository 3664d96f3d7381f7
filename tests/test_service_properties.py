"""The whole service, driven through its HTTP API by a hypothesis state machine (issue 9, part 3).

Random callers (an officer of each role, a second admin, a second appeal panel member, an
officer who is both reviewer and appeal panel, each claim's group with its tracking token,
another claim's group, an anonymous caller and a forged token) fire random triggers with
valid and invalid bodies and right and wrong If-Match headers, while the injected clock moves
forward and the deadline sweeper (``flask guarantee sweep``) runs now and then.

The machine keeps its own model of every claim: state, version, the officers who made a
decision on it, and its working-day clocks. The model is built only from ``workflows/`` (the
table of DESIGN 4: sources, destination, who fires, inputs, clock effects and conditions,
decisions and separation of duties), the working days of DESIGN 4 counted with the
``holidays`` package, and the HTTP contract of DESIGN 6. Never from the code under test.

What a request is expected to get, first match wins:

1. 401 with no token, or a token that opens nothing: who is calling is settled before the
   body is read, so a stranger learns nothing from it;
2. 404 when the caller's tracking token opens another claim;
3. 422 when the body does not fit the request schema (an unknown trigger or field, a value
   of the wrong type or out of every list, empty text);
4. 404 when the claim does not exist;
5. 412 when If-Match names another version (a weak or unreadable ETag never matches);
6. 409 when the trigger is not legal from the claim's state (listing the triggers that are);
7. 403 when the caller's role may not fire it;
8. 409 when its clock condition does not hold (the appeal window has closed);
9. 403 when the caller made an earlier decision and the trigger is separated from it;
10. 422 when the input does not suit this trigger (missing, foreign to it, another list's value);
11. otherwise 200, the state the table gives, and the next version.

A success must also leave the claim where the table says, at the next version, with the
triggers the caller may fire next; a terminal state accepts nothing but the admin's reopen the
table lists; a separated decision is checked again in the audit trail itself; and a success sent
again with the same Idempotency-Key is answered from the first time. A 409 lists exactly what
the caller may fire now. Reading a claim shows the same state, version and triggers, and to an
officer the clocks, due on the days counted here in the claim's nation. Each tracking token
opens only its own claim. The sweeper fires exactly the system triggers whose clock ran out:
nothing on a clock's last day, the trigger the day after. An appeal is accepted on the
window's last day (just after midnight, mid-morning or just before midnight, UK time) and
refused the day after. An officer token stops working 30 minutes (of the service's clock) after
it was issued.

And after every step: each claim's state, version and number of audit events in the
database equal the model's (one event per success, none per refusal), and the audit chain
verifies.

The examples share one database with the officers in it (signing seven officers in for every
example costs more than the example): each example starts the clock again at START, models
only the claims it files, and on the way out withdraws those it left active, so that nothing of
theirs is left for a later example's sweeper (see Services).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import holidays
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from guarantee import create_app
from guarantee.clock import UK, FixedClock
from guarantee.context import service_context
from guarantee.extensions import db
from guarantee.models import AuditEvent, Claim
from guarantee.services.audit import verify
from tests.api_support import CLAIMS, Caller, assert_problem, new_officer, sign_in
from tests.conftest import START, Database, _app_config
from tests.helpers import submission
from workflows import (
    ACTIVE_STATES,
    CLOCKS,
    CLOCKS_ON_SUBMISSION,
    INITIAL_STATE,
    SYSTEM,
    TERMINAL_STATES,
    TRANSITIONS,
    TRANSITIONS_BY_TRIGGER,
    TRIGGERS,
    ClockCondition,
    ClockEffect,
    Input,
    Transition,
    transitions_from,
)

# About 30-40 seconds per database on a shared two-core machine. Examples are dear (each is tens
# of requests), so a failure reports the first bug found and shrinks only that one.
SETTINGS = settings(max_examples=25, stateful_step_count=30, deadline=None, report_multiple_bugs=False)

TOKEN_LIFETIME = timedelta(minutes=30)  # GUARANTEE_API_TOKEN_MINUTES, the default
MAX_CLAIMS = 4
TO_APPEAL = {"submitted": "accept", "under_review": "not_uphold", "not_upheld": "appeal"}
MAX_SHARED_CLAIMS = 40  # then a fresh database: every chain in it is verified after every step

# The officers: a name each, and their roles.
OFFICERS: dict[str, tuple[str, ...]] = {
    "triage": ("triage",),
    "reviewer": ("reviewer",),
    "appeal_panel": ("appeal_panel",),
    "admin": ("admin",),
    "second_admin": ("admin",),
    "second_panel": ("appeal_panel",),
    "reviewer_and_panel": ("reviewer", "appeal_panel"),
}
MISSING_REFERENCES = ("CPG-2026-999999", "CPG-1999-000001", "not-a-reference")

# Bodies: what is wrong with them, and at which stage the API should notice.
SCHEMA, SERVICE = "schema", "service"
BODY_KINDS = (
    "valid",
    "valid",
    "valid",
    "missing",
    "null",
    "blank_text",
    "foreign_field",
    "unknown_field",
    "empty_text",
    "too_long_text",
    "text_as_number",
    "unknown_choice",
    "another_lists_choice",
    "unknown_trigger",
    "bad_link",
)
IF_MATCH_KINDS = ("none", "none", "none", "current", "current", "star", "stale", "weak", "garbage", "list_with_current")
STALE_IF_MATCH = ("stale", "weak", "garbage")

TEXTS = (
    "Because the rule was applied too strictly.",
    "Two lines\nof explanation.",
    "Caf\u00e9 r\u00e8gles \u2013 \u2713 \u00fcn\u00efc\u00f8d\u00e9",
    "x" * 400,
)
TIMES_OF_DAY = (time(0, 0, 1), time(9, 30), time(23, 59, 59))  # UK time
REGIONS = ("north_west", "london", "wales", "scotland", "northern_ireland")
_SUBDIVISION = {"wales": "WLS", "scotland": "SCT", "northern_ireland": "NIR"}


# --- working days, counted here from DESIGN 4 -------------------------------------------


@cache
def _bank_holidays(region: str) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv=_SUBDIVISION.get(region, "ENG"))


def is_working_day(day: date, region: str) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(region)


def last_day(start: date, working_days: int, region: str) -> date:
    """The day on which ``working_days`` working days counted from the day after ``start`` are done."""
    day, counted = start, 0
    while counted < working_days:
        day += timedelta(days=1)
        counted += is_working_day(day, region)
    return day


def working_days_left(today: date, due: date, region: str) -> int:
    """Working days after today up to and including the due day."""
    return sum(is_working_day(today + timedelta(days=n), region) for n in range(1, (due - today).days + 1))


# --- the model ----------------------------------------------------------------------------


@dataclass
class ModelClock:
    status: str  # running, paused, stopped
    due: date | None
    days_left: int | None = None


@dataclass
class ModelClaim:
    reference: str
    token: str
    region: str
    state: str = INITIAL_STATE
    version: int = 1
    events: int = 1  # "submitted"
    deciders: set[int] = field(default_factory=set)
    clocks: dict[str, ModelClock] = field(default_factory=dict)

    def apply_clocks(self, effects: tuple[ClockEffect, ...], today: date) -> None:
        for effect in effects:
            clock = self.clocks.get(effect.clock)
            if effect.action == "start":
                due = last_day(today, CLOCKS[effect.clock].default_working_days, self.region)
                self.clocks[effect.clock] = ModelClock("running", due)
            elif clock is None:
                continue
            elif effect.action == "pause" and clock.status == "running":
                assert clock.due is not None
                clock.days_left = working_days_left(today, clock.due, self.region)
                clock.status, clock.due = "paused", None
            elif effect.action == "resume" and clock.status == "paused":
                clock.due = last_day(today, clock.days_left or 0, self.region)
                clock.status, clock.days_left = "running", None
            elif effect.action == "stop" and clock.status in ("running", "paused"):
                clock.status = "stopped"

    def runs(self, name: str) -> bool:
        clock = self.clocks.get(name)
        return clock is not None and clock.status == "running"

    def holds(self, condition: ClockCondition, today: date) -> bool:
        clock = self.clocks.get(condition.clock)
        if clock is None or clock.status != "running" or clock.due is None:
            return False
        return today <= clock.due if condition.must_be == "running" else today > clock.due


@dataclass
class Officer:
    name: str
    roles: frozenset[str]
    caller: Caller
    expires: datetime


def allowed(claim: ModelClaim, names: frozenset[str], officer_id: int | None, today: date) -> list[str]:
    """What the workflow lets this caller fire on this claim now, in table order."""
    found = []
    for t in transitions_from(claim.state):
        if not names & set(t.fired_by):
            continue
        if t.clock_condition and not claim.holds(t.clock_condition, today):
            continue
        if t.separation_of_duties and officer_id in claim.deciders:
            continue
        found.append(t.trigger)
    return found


# --- bodies -------------------------------------------------------------------------------


def _other_triggers_choices(t: Transition) -> dict[str, tuple[str, ...]]:
    """For each choice input of ``t``: values other triggers accept under the same name, but ``t`` does not."""
    out = {}
    for spec in t.inputs:
        if spec.kind == "choice":
            others = {c for o in TRANSITIONS for i in o.inputs if i.name == spec.name for c in i.choices}
            extra = tuple(sorted(others - set(spec.choices)))
            if extra:
                out[spec.name] = extra
    return out


class Bodies:
    """Builds a transition body of a kind, and says at which stage the API should refuse it."""

    def __init__(self, machine: ServiceMachine, data: st.DataObject) -> None:
        self.m = machine
        self.data = data

    def draw(self, strategy: st.SearchStrategy[Any], label: str) -> Any:
        return self.data.draw(strategy, label=label)

    def valid_value(self, spec: Input, claim: ModelClaim | None, body: dict[str, Any]) -> Any:
        if spec.kind == "text":
            return self.draw(st.sampled_from(TEXTS), spec.name)
        if spec.kind == "choice":
            return self.draw(st.sampled_from(spec.choices), spec.name)
        if spec.kind == "regulation":
            known = sorted(self.m.regulations)
            options = [{"title": "Food premises registration"}, *known]
            return self.draw(st.sampled_from(options), spec.name)
        if spec.kind == "officer":
            return self.draw(st.sampled_from(sorted(o.caller.officer_id for o in self.m.officers.values())), spec.name)
        if spec.kind == "claim_reference":
            others = [c.reference for c in self.m.claims if claim is None or c.reference != claim.reference]
            return self.draw(st.sampled_from(others), spec.name) if others else None
        if spec.kind in ("evidence", "citations"):
            return []
        raise AssertionError(spec.kind)

    def valid(self, t: Transition, claim: ModelClaim | None) -> dict[str, Any]:
        body: dict[str, Any] = {"trigger": t.trigger}
        for spec in t.inputs:
            if spec.required_when:
                continue
            if spec.required or self.draw(st.booleans(), f"give {spec.name}"):
                body[spec.name] = self.valid_value(spec, claim, body)
        for spec in t.inputs:
            if spec.required_when:
                other, value = spec.required_when
                if body.get(other) == value:
                    linked = self.valid_value(spec, claim, body)
                    if linked is None:  # nothing else to point at: choose another reason
                        body[other] = next(c for i in t.inputs if i.name == other for c in i.choices if c != value)
                    else:
                        body[spec.name] = linked
        return body

    def build(self, t: Transition, claim: ModelClaim | None, kind: str) -> tuple[dict[str, Any], str | None]:
        """(body, None | SCHEMA | SERVICE): where the API should see what is wrong, if anything."""
        body = self.valid(t, claim)
        texts = [i for i in t.inputs if i.kind == "text"]
        # An input asked only of some claims (the public summary, when the group agreed to
        # publishing: these claims are filed without that consent) is not kept, whatever it is.
        required = [i for i in t.inputs if i.required and i.asked_if is None]
        if kind == "missing" and required:
            del body[self.draw(st.sampled_from([i.name for i in required]), "drop")]
            return body, SERVICE
        nullable = [i.name for i in required if i.kind in ("text", "choice")]
        if kind == "null" and nullable:
            body[self.draw(st.sampled_from(nullable), "null")] = None
            return body, SERVICE
        if kind == "blank_text" and [i for i in texts if i in required]:
            body[self.draw(st.sampled_from([i.name for i in texts if i in required]), "blank")] = "  \n "
            return body, SERVICE
        if kind == "foreign_field":
            foreign = {i.name: i for o in TRANSITIONS for i in o.inputs if i.name not in t.input_names}
            spec = foreign[self.draw(st.sampled_from(sorted(foreign)), "foreign")]
            value = self.valid_value(spec, claim, body)
            body[spec.name] = "CPG-2026-000001" if value is None else value
            return body, SERVICE
        if kind == "unknown_field":
            body["colour"] = "blue"
            return body, SCHEMA
        if kind == "empty_text" and texts:
            body[self.draw(st.sampled_from([i.name for i in texts]), "empty")] = ""
            return body, SCHEMA
        if kind == "too_long_text" and texts:
            spec = self.draw(st.sampled_from(texts), "long")
            body[spec.name] = "y" * (spec.max_length + 1)
            return body, SCHEMA
        if kind == "text_as_number" and texts:
            body[self.draw(st.sampled_from([i.name for i in texts]), "number")] = 12345
            return body, SCHEMA
        choices = [i for i in t.inputs if i.kind == "choice"]
        if kind == "unknown_choice" and choices:
            body[self.draw(st.sampled_from([i.name for i in choices]), "unknown choice")] = "not_on_any_list"
            return body, SCHEMA
        elsewhere = _other_triggers_choices(t)
        if kind == "another_lists_choice" and elsewhere:
            name = self.draw(st.sampled_from(sorted(elsewhere)), "other list")
            body[name] = self.draw(st.sampled_from(elsewhere[name]), "other value")
            return body, SERVICE
        if kind == "unknown_trigger":
            body["trigger"] = "teleport"
            return body, SCHEMA
        if kind == "bad_link":
            return self._bad_link(t, claim, body)
        return body, None

    def _bad_link(
        self, t: Transition, claim: ModelClaim | None, body: dict[str, Any]
    ) -> tuple[dict[str, Any], str | None]:
        """A link to something that is not there, or not allowed here: each is the service's to refuse."""
        links = [i for i in t.inputs if i.kind in ("regulation", "officer", "claim_reference", "evidence")]
        if not links:
            return body, None
        spec = self.draw(st.sampled_from(links), "link")
        if spec.kind in ("regulation", "officer"):
            body[spec.name] = 999_999
        elif spec.kind == "evidence":
            body[spec.name] = [999_999]
        else:
            assert spec.required_when is not None
            other, value = spec.required_when
            how = self.draw(st.sampled_from(["unknown", "itself", "without", "when_not_needed"]), "how")
            body[other] = value
            if how == "unknown":
                body[spec.name] = "CPG-2026-999999"
            elif how == "itself":
                body[spec.name] = claim.reference if claim else "CPG-2026-999999"
            elif how == "without":
                body.pop(spec.name, None)
            else:
                body[other] = next(c for i in t.inputs if i.name == other for c in i.choices if c != value)
                body[spec.name] = "CPG-2026-000001"
        return body, SERVICE


# --- the machine ------------------------------------------------------------------------


def _app(url: str, clock: FixedClock, workdir: Path) -> Flask:
    return create_app(
        _app_config(
            url,
            GUARANTEE_CLOCK=clock,
            GUARANTEE_AUDIT_SIGNING_KEY=str(workdir / "signing-key.pem"),
            GUARANTEE_EVIDENCE_DIR=str(workdir / "evidence"),
        )
    )


def _close(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@dataclass
class Service:
    """A migrated database with the officers in it, and an app on it, shared by examples: each
    example starts the clock again at START and models only the claims it files."""

    url: str
    app: Flask
    clock: FixedClock
    officers: dict[str, Officer]
    claims_before: int = 0  # left by earlier examples, every one of them in a terminal state
    events_before: int = 0
    reusable: bool = True


class Services:
    """Hands each example a service. Between examples the service is reset: every claim the
    example left active is withdrawn by its group, so the sweeper has nothing of theirs to do
    and no rule can reach them. A service that could not be reset, or holds many claims (the
    audit chain is verified after every step), is put aside for a fresh copy."""

    def __init__(self, database: Database, workdir: Path) -> None:
        self.database = database
        self.workdir = workdir
        self.current: Service | None = None

    def get(self) -> Service:
        if self.current and self.current.reusable and self.current.claims_before <= MAX_SHARED_CLAIMS:
            self.current.clock.set(START)
            return self.current
        self.close()
        url = self.database.copy(f"props_{uuid.uuid4().hex[:8]}")  # dropped at the end of the session
        clock = FixedClock(START)
        app = _app(url, clock, self.workdir / uuid.uuid4().hex[:8])
        officers = {
            name: Officer(name, frozenset(roles), new_officer(app, *roles), START + TOKEN_LIFETIME)
            for name, roles in OFFICERS.items()
        }
        self.current = Service(url, app, clock, officers)
        return self.current

    def reset(self, service: Service, tokens: dict[str, str]) -> None:
        """Withdraw what the example left active (through the API, as each group would), and
        count what is now in the database for the next example."""
        try:
            with service.app.app_context():
                active = db.session.execute(
                    select(Claim.reference).where(Claim.reference.in_(list(tokens)), Claim.state.in_(ACTIVE_STATES))
                ).all()
                db.session.remove()
            for (reference,) in active:
                response = service.app.test_client().post(
                    f"{CLAIMS}/{reference}/transitions",
                    json={"trigger": "withdraw"},
                    headers={"Authorization": f"Bearer {tokens[reference]}"},
                )
                assert response.status_code == 200, response.get_data(as_text=True)
            with service.app.app_context():
                left = db.session.scalar(select(func.count()).where(Claim.state.in_(ACTIVE_STATES)))
                service.claims_before = db.session.scalar(select(func.count()).select_from(Claim)) or 0
                service.events_before = db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0
                db.session.remove()
            assert left == 0
        except Exception:
            service.reusable = False

    def close(self) -> None:
        if self.current:
            _close(self.current.app)
            if self.database.backend == "sqlite":
                path = Path(self.current.url.removeprefix("sqlite:///"))
                for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                    leftover.unlink(missing_ok=True)
            self.current = None


class ServiceMachine(RuleBasedStateMachine):
    """One example: a run of steps against a freshly reset service; bound to the test's database
    by a subclass."""

    services: Services

    def __init__(self) -> None:
        super().__init__()
        self.service = self.services.get()
        self.app, self.clock, self.officers = self.service.app, self.service.clock, self.service.officers
        self.client: FlaskClient = self.app.test_client()
        self.claims: list[ModelClaim] = []
        self.regulations: set[int] = set()
        self.seen_expiry = False

    def teardown(self) -> None:
        self.services.reset(self.service, {c.reference: c.token for c in self.claims})

    # --- helpers ---

    def today(self) -> date:
        return self.clock.now().astimezone(UK).date()

    def find(self, reference: str) -> ModelClaim | None:
        return next((c for c in self.claims if c.reference == reference), None)

    def headers_for(self, who: str, claim: ModelClaim | None, group_of: ModelClaim | None = None) -> dict[str, str]:
        if who in self.officers:
            return self.auth_of(who)
        if who == "group":
            assert claim is not None
            return {"Authorization": f"Bearer {claim.token}"}
        if who == "other_group":
            other = group_of or next(c for c in self.claims if claim is None or c.reference != claim.reference)
            assert claim is None or other.reference != claim.reference
            return {"Authorization": f"Bearer {other.token}"}
        if who == "forged_tracking":
            return {"Authorization": "Bearer " + "A" * 43}
        if who == "forged_officer":
            return {"Authorization": "Bearer gto_" + "B" * 43}
        return {}

    def names_of(self, who: str) -> tuple[frozenset[str], int | None]:
        """The names ``fired_by`` uses for this caller, and their officer id."""
        if who in self.officers:
            officer = self.officers[who]
            return officer.roles, officer.caller.officer_id
        if who == "group":
            return frozenset({"group"}), None
        return frozenset(), None

    def callers_for(self, claim: ModelClaim | None) -> list[str]:
        """Callers that make sense for this claim (another group needs another claim)."""
        out = [*OFFICERS, "anonymous", "forged_tracking", "forged_officer"]
        if claim is not None:
            out.append("group")
        if any(c is not claim for c in self.claims):
            out.append("other_group")
        return out

    def if_match(self, kind: str, claim: ModelClaim | None) -> dict[str, str]:
        version = claim.version if claim else 1
        value = {
            "none": None,
            "current": f'"v{version}"',
            "star": "*",
            "list_with_current": f'"v{version + 7}", "v{version}"',
            "stale": f'"v{version - 1 if version > 1 else version + 1}"',
            "weak": f'W/"v{version}"',
            "garbage": "yesterday's",
        }[kind]
        return {} if value is None else {"If-Match": value}

    def expected(
        self, claim: ModelClaim | None, who: str, trigger: str, body_problem: str | None, stale: bool
    ) -> tuple[int, str]:
        """The status the contract gives this request, and why."""
        if who in ("anonymous", "forged_tracking", "forged_officer"):
            return 401, "no token that opens anything"
        if who == "other_group":
            return 404, "this tracking token opens another claim"
        if body_problem == SCHEMA:
            return 422, "the body does not fit the schema"
        if claim is None:
            return 404, "no such claim"
        if stale:
            return 412, "If-Match names another version"
        t = TRANSITIONS_BY_TRIGGER[trigger]
        names, officer_id = self.names_of(who)
        if claim.state not in t.sources:
            return 409, f"not legal from {claim.state}"
        if not names & set(t.fired_by):
            return 403, f"{sorted(names)} may not fire it (only {t.fired_by})"
        if t.clock_condition and not claim.holds(t.clock_condition, self.today()):
            return 409, f"the {t.clock_condition.clock} clock is not {t.clock_condition.must_be} (or has run out)"
        if t.separation_of_duties and officer_id in claim.deciders:
            return 403, "the caller made an earlier decision on this claim"
        if body_problem == SERVICE:
            return 422, "the input does not suit this trigger"
        return 200, "legal"

    def audit_trail(self, reference: str) -> list[dict[str, Any]]:
        response = self.client.get(f"{CLAIMS}/{reference}/audit", headers=self.auth_of("admin"))
        assert response.status_code == 200, response.json
        events: list[dict[str, Any]] = response.json["events"]
        return events

    def record_success(self, claim: ModelClaim, t: Transition, officer_id: int | None) -> None:
        claim.state = t.dest
        claim.version += 1
        claim.events += 1
        if t.is_decision and officer_id is not None:
            claim.deciders.add(officer_id)
        claim.apply_clocks(t.clocks, self.today())

    def fire(  # noqa: PLR0917 (each rule names what it varies)
        self,
        data: st.DataObject,
        claim: ModelClaim | None,
        who: str,
        trigger: str,
        kind: str,
        if_match_kind: str,
        missing_reference: str = MISSING_REFERENCES[0],
        group_of: ModelClaim | None = None,
    ) -> TestResponse:
        t = TRANSITIONS_BY_TRIGGER[trigger]
        body, body_problem = Bodies(self, data).build(t, claim, kind)
        headers = self.headers_for(who, claim, group_of) | self.if_match(if_match_kind, claim)
        if data.draw(st.integers(0, 3), label="with an Idempotency-Key") == 0:
            headers["Idempotency-Key"] = uuid.uuid4().hex
        status, why = self.expected(claim, who, trigger, body_problem, if_match_kind in STALE_IF_MATCH)
        reference = claim.reference if claim else missing_reference
        was = claim.state if claim else None
        response = self.client.post(f"{CLAIMS}/{reference}/transitions", json=body, headers=headers)
        assert response.status_code == status, (
            f"{who} sent {body} to a claim that is {was} (If-Match {if_match_kind}): expected {status} ({why}), "
            f"got {response.status_code}: {response.get_data(as_text=True)[:600]}"
        )
        names, officer_id = self.names_of(who)
        if status != 200:
            problem = assert_problem(response, status)
            if status == 409 and claim is not None:
                # 409 lists what the caller may do now, as the table says.
                assert problem["allowed_triggers"] == allowed(claim, names, officer_id, self.today()), problem
            if status == 412 and claim is not None:
                assert response.headers["ETag"] == f'"v{claim.version}"'
            return response
        assert claim is not None and was is not None
        # Terminal states accept nothing, but the one way back the table lists: an admin reopens.
        if was in TERMINAL_STATES:
            assert trigger == "reopen" and was in ("closed", "lapsed") and "admin" in names, (was, trigger, who)
        self.record_success(claim, t, officer_id)
        assert response.json["state"] == claim.state
        assert response.json["version"] == claim.version
        assert response.headers["ETag"] == f'"v{claim.version}"'
        assert response.json["allowed_triggers"] == allowed(claim, names, officer_id, self.today())
        if isinstance(body.get("regulation"), dict):
            self.regulations.add(response.json["regulation"]["id"])
        if t.separation_of_duties:
            self.check_separation_in_the_trail(claim)
        if "Idempotency-Key" in headers:
            # A retry with the same key is answered from the first time and does nothing again.
            retry = self.client.post(f"{CLAIMS}/{reference}/transitions", json=body, headers=headers)
            assert retry.status_code == 200, retry.get_data(as_text=True)[:600]
            assert retry.headers.get("Idempotent-Replayed") == "true"
            assert retry.get_json() == response.get_json()
        return response

    def check_separation_in_the_trail(self, claim: ModelClaim) -> None:
        """In the audit trail itself: whoever decided the appeal made no earlier decision."""
        decisions = {t.trigger for t in TRANSITIONS if t.is_decision}
        events = self.audit_trail(claim.reference)
        last = events[-1]
        earlier = [e for e in events[:-1] if e["action"] in decisions and e["actor_type"] == "officer"]
        assert last["actor_id"] not in {e["actor_id"] for e in earlier}, (last, earlier)

    def auth_of(self, name: str) -> dict[str, str]:
        """An officer's bearer header. Tokens last 30 minutes of the service's clock: once one has
        expired it opens nothing (checked once per example), and the officer signs in again."""
        officer = self.officers[name]
        now = self.clock.now()
        if now >= officer.expires:
            if not self.seen_expiry and self.claims:
                response = self.client.get(f"{CLAIMS}/{self.claims[0].reference}", headers=officer.caller.auth)
                assert_problem(response, 401)
                self.seen_expiry = True
            assert officer.caller.email is not None
            signed = sign_in(self.client, officer.caller.email)
            assert signed.status_code == 201, signed.json
            officer.caller = Caller(signed.json["token"], officer.caller.officer_id, officer.caller.email)
            officer.expires = now + TOKEN_LIFETIME
        return officer.caller.auth

    def file(self, region: str, broken: str | None = None) -> None:
        body = submission(initiative={"region": region})
        if broken == "consent":
            del body["consent"]
        elif broken == "region":
            body["initiative"]["region"] = "atlantis"
        elif broken == "email":
            body["group"]["email"] = "not an address"
        response = self.client.post(CLAIMS, json=body)
        if broken:
            assert_problem(response, 422)
            return
        assert response.status_code == 201, response.json
        assert response.headers["ETag"] == '"v1"'
        claim = ModelClaim(response.json["reference"], response.json["tracking_token"], region)
        claim.apply_clocks(CLOCKS_ON_SUBMISSION, self.today())
        self.claims.append(claim)

    def legal_moves(self) -> list[tuple[ModelClaim, str, str]]:
        return [
            (claim, who, trigger)
            for claim in self.claims
            for who in self.callers_for(claim)
            for trigger in allowed(claim, *self.names_of(who), self.today())
        ]

    def sweep(self) -> None:
        """The sweep fires exactly the system triggers whose clock has run out, once each."""
        today = self.today()
        due = {
            (claim.reference, t.trigger)
            for claim in self.claims
            for t in transitions_from(claim.state)
            if SYSTEM in t.fired_by and t.clock_condition and claim.holds(t.clock_condition, today)
        }
        result = self.app.test_cli_runner().invoke(args=["guarantee", "sweep"])
        assert result.exit_code == 0, result.output
        fired = {tuple(line.split(": ", 1)) for line in result.output.splitlines() if line.startswith("CPG-")}
        assert fired == due, result.output
        assert f"Sweep finished: {len(due)} fired, 0 could not be fired." in result.output
        for reference, trigger in sorted(due):
            claim = self.find(reference)
            assert claim is not None
            self.record_success(claim, TRANSITIONS_BY_TRIGGER[trigger], None)

    def move_clock_to(self, day: date, at: time) -> None:
        """Forward only: to ``at`` on ``day`` (UK time), or stay if that is already past."""
        self.clock.set(max(self.clock.now(), datetime.combine(day, at, tzinfo=UK)))

    def deadlines_of(self, claim: ModelClaim) -> list[Transition]:
        """The system triggers this claim waits on: their clock runs (or has run out, unswept)."""
        return [
            t
            for t in transitions_from(claim.state)
            if SYSTEM in t.fired_by and t.clock_condition and claim.runs(t.clock_condition.clock)
        ]

    def waiting_on_deadlines(self) -> set[str]:
        return {c.reference for c in self.claims if self.deadlines_of(c)}

    def deadline_comes(self, claim: ModelClaim, t: Transition, edge: str, at: time) -> None:
        """The sweep fires nothing on a clock's last day, and fires the system trigger the day after."""
        assert t.clock_condition is not None
        due = claim.clocks[t.clock_condition.clock].due
        assert due is not None
        self.move_clock_to(due if edge == "last_day" else due + timedelta(days=1), at)
        before = claim.state
        self.sweep()
        if edge == "day_after":
            assert claim.state == t.dest, (claim.reference, before, t.trigger)
        elif self.today() == due:  # (unless the clock had already passed the last day)
            assert claim.state == before, (claim.reference, before, t.trigger)

    def appealable(self) -> list[ModelClaim]:
        window = ClockCondition("appeal_window", "running")
        return [c for c in self.claims if c.state == "not_upheld" and c.holds(window, self.today())]

    def appeal_at_the_edge(self, data: st.DataObject, claim: ModelClaim, edge: str, at: time) -> None:
        """An appeal is accepted on the window's last day (at any time of that UK day) and refused the day after."""
        window = claim.clocks["appeal_window"]
        assert window.due is not None and claim in self.appealable()
        self.move_clock_to(window.due if edge == "last_day" else window.due + timedelta(days=1), at)
        response = self.fire(data, claim, "group", "appeal", "valid", "none")
        assert response.status_code == (200 if edge == "last_day" else 409), response.json

    # --- rules ---

    @initialize(regions=st.lists(st.sampled_from(REGIONS), min_size=1, max_size=3))
    def groups_file_claims(self, regions: list[str]) -> None:
        for region in regions:
            self.file(region)

    @precondition(lambda self: len(self.claims) < MAX_CLAIMS)
    @rule(region=st.sampled_from(REGIONS), broken=st.sampled_from([None, "consent", "region", "email"]))
    def a_group_files_a_claim(self, region: str, broken: str | None) -> None:
        self.file(region, broken)

    @rule(data=st.data(), moves=st.integers(1, 6))
    def a_claim_moves_along(self, data: st.DataObject, moves: int) -> None:
        """Legal moves in a row on one claim, with valid input, so that claims reach the later
        states (the group withdraws now and then only). Where the claim waits on a deadline, the
        deadline may come (and the sweeper run); an appeal may wait for the window's last day or
        the day after. The invariants are checked after each move."""
        movable = sorted({claim.reference for claim, _, _ in self.legal_moves()} | self.waiting_on_deadlines())
        if not movable:
            return
        claim = self.find(data.draw(st.sampled_from(movable), label="claim"))
        assert claim is not None
        for _ in range(moves):
            options: list[tuple[str, str]] = [(who, trigger) for c, who, trigger in self.legal_moves() if c is claim]
            onward = [(who, trigger) for who, trigger in options if trigger != "withdraw"]
            if onward and data.draw(st.integers(0, 9), label="not withdrawing") > 0:
                options = onward
            options += [("deadline", t.trigger) for t in self.deadlines_of(claim)]
            # Officers with the role who made an earlier decision try too: separation of duties refuses them.
            options += [
                (name, t.trigger)
                for t in transitions_from(claim.state)
                if t.separation_of_duties
                for name, officer in self.officers.items()
                if officer.roles & set(t.fired_by) and officer.caller.officer_id in claim.deciders
            ]
            if not options:
                return
            who, trigger = data.draw(st.sampled_from(options), label="move")
            at = data.draw(st.sampled_from(TIMES_OF_DAY), label="time of day")
            if who == "deadline":
                edge = data.draw(st.sampled_from(["last_day", "day_after"]), label="edge")
                self.deadline_comes(claim, TRANSITIONS_BY_TRIGGER[trigger], edge, at)
            elif TRANSITIONS_BY_TRIGGER[trigger].clock_condition and who == "group":
                edge = data.draw(st.sampled_from(["now", "last_day", "day_after"]), label="edge")
                if edge == "now":
                    self.fire(data, claim, who, trigger, "valid", "none")
                else:
                    self.appeal_at_the_edge(data, claim, edge, at)
            else:
                if_match_kind = data.draw(st.sampled_from(("none", "current", "star")), label="If-Match")
                self.fire(data, claim, who, trigger, "valid", if_match_kind)
            self.the_database_agrees_with_the_model_and_the_chain_verifies()

    @rule(data=st.data(), kind=st.sampled_from(BODY_KINDS), if_match_kind=st.sampled_from(IF_MATCH_KINDS))
    def someone_fires_a_legal_trigger_with_any_body(self, data: st.DataObject, kind: str, if_match_kind: str) -> None:
        options = self.legal_moves()
        if options:
            claim, who, trigger = data.draw(st.sampled_from(options), label="legal move")
            self.fire(data, claim, who, trigger, kind, if_match_kind)

    @rule(
        data=st.data(),
        trigger=st.sampled_from(TRIGGERS),
        kind=st.sampled_from(BODY_KINDS),
        if_match_kind=st.sampled_from(IF_MATCH_KINDS),
    )
    def anyone_fires_anything(self, data: st.DataObject, trigger: str, kind: str, if_match_kind: str) -> None:
        """Anyone fires any trigger at any claim, or at one that is not there."""
        claim = data.draw(st.sampled_from([*self.claims, None]), label="claim")
        who = data.draw(st.sampled_from(self.callers_for(claim)), label="who")
        missing = data.draw(st.sampled_from(MISSING_REFERENCES), label="missing reference")
        self.fire(data, claim, who, trigger, kind, if_match_kind, missing)

    @precondition(lambda self: any(c.state in TO_APPEAL for c in self.claims))
    @rule(data=st.data())
    def a_claim_goes_to_appeal_and_a_decider_tries_to_decide_it(self, data: st.DataObject) -> None:
        """Accepted, not upheld and appealed, each by someone the table allows, chosen at random;
        then an officer who made one of those decisions tries to decide the appeal: refused."""
        claim = data.draw(st.sampled_from([c for c in self.claims if c.state in TO_APPEAL]), label="claim")
        while claim.state in TO_APPEAL:
            trigger = TO_APPEAL[claim.state]
            able = [w for w in self.callers_for(claim) if trigger in allowed(claim, *self.names_of(w), self.today())]
            if not able:  # the appeal window has closed
                return
            self.fire(data, claim, data.draw(st.sampled_from(able), label="who"), trigger, "valid", "none")
            self.the_database_agrees_with_the_model_and_the_chain_verifies()
        deciders = [
            (name, t.trigger)
            for t in transitions_from(claim.state)
            if t.separation_of_duties
            for name, officer in self.officers.items()
            if officer.roles & set(t.fired_by) and officer.caller.officer_id in claim.deciders
        ]
        if deciders:
            decider, decision = data.draw(st.sampled_from(deciders), label="decider")
            response = self.fire(data, claim, decider, decision, "valid", "none")
            assert response.status_code == 403, response.json

    @rule(data=st.data())
    def someone_reads_a_claim(self, data: st.DataObject) -> None:
        """Reading shows the state, version and the triggers the caller may fire, as the model has them."""
        claim = data.draw(st.sampled_from(self.claims), label="claim")
        who = data.draw(st.sampled_from(self.callers_for(claim)), label="who")
        response = self.client.get(f"{CLAIMS}/{claim.reference}", headers=self.headers_for(who, claim))
        if who in ("anonymous", "forged_tracking", "forged_officer"):
            assert_problem(response, 401)
            return
        if who == "other_group":
            assert_problem(response, 404)
            return
        assert response.status_code == 200, response.json
        names, officer_id = self.names_of(who)
        assert response.json["state"] == claim.state
        assert response.json["version"] == claim.version
        assert response.headers["ETag"] == f'"v{claim.version}"'
        assert response.json["allowed_triggers"] == allowed(claim, names, officer_id, self.today())
        if who in self.officers:
            # The clocks run to the working days DESIGN 4 gives, counted in the claim's nation.
            shown = {c["clock"]: c for c in response.json["clocks"]}
            assert set(shown) == set(claim.clocks)
            for name, clock in claim.clocks.items():
                assert shown[name]["status"] == clock.status, (name, shown[name], clock)
                if clock.status == "running":
                    assert clock.due is not None
                    assert shown[name]["due_on"] == clock.due.isoformat(), (name, claim.region, shown[name], clock)

    @precondition(lambda self: len(self.claims) >= 2)
    @rule(data=st.data())
    def a_tracking_token_opens_only_its_claim(self, data: st.DataObject) -> None:
        mine, theirs = data.draw(st.permutations(self.claims), label="claims")[:2]
        auth = {"Authorization": f"Bearer {mine.token}"}
        assert self.client.get(f"{CLAIMS}/{mine.reference}", headers=auth).status_code == 200
        assert_problem(self.client.get(f"{CLAIMS}/{theirs.reference}", headers=auth), 404)
        assert_problem(self.client.get(f"{CLAIMS}/{theirs.reference}/audit", headers=auth), 403)  # officers only
        trigger = data.draw(st.sampled_from([t.trigger for t in TRANSITIONS if "group" in t.fired_by]), label="trigger")
        self.fire(data, theirs, "other_group", trigger, "valid", "none", group_of=mine)

    @rule(
        step=st.one_of(
            st.builds(timedelta, minutes=st.integers(1, 59)),
            st.builds(timedelta, hours=st.integers(1, 23)),
            st.builds(timedelta, days=st.integers(1, 12), hours=st.integers(0, 23)),
        ),
        then_sweep=st.booleans(),
    )
    def time_passes(self, step: timedelta, then_sweep: bool) -> None:
        self.clock.set(self.clock.now() + step)
        if then_sweep:
            self.sweep()

    @precondition(lambda self: self.waiting_on_deadlines())
    @rule(data=st.data(), edge=st.sampled_from(["last_day", "day_after"]), at=st.sampled_from(TIMES_OF_DAY))
    def a_deadline_comes_and_the_sweeper_runs(self, data: st.DataObject, edge: str, at: time) -> None:
        claim = self.find(data.draw(st.sampled_from(sorted(self.waiting_on_deadlines())), label="claim"))
        assert claim is not None
        t = data.draw(st.sampled_from(self.deadlines_of(claim)), label="system trigger")
        self.deadline_comes(claim, t, edge, at)

    @precondition(lambda self: self.appealable())
    @rule(data=st.data(), edge=st.sampled_from(["last_day", "day_after"]), at=st.sampled_from(TIMES_OF_DAY))
    def the_group_appeals_at_the_edge_of_the_window(self, data: st.DataObject, edge: str, at: time) -> None:
        claim = data.draw(st.sampled_from(self.appealable()), label="claim")
        self.appeal_at_the_edge(data, claim, edge, at)

    # --- invariants ---

    @invariant()
    def the_database_agrees_with_the_model_and_the_chain_verifies(self) -> None:
        with self.app.app_context():
            ctx = service_context()
            rows = ctx.session.execute(
                select(Claim.reference, Claim.state, Claim.version, func.count(AuditEvent.id))
                .outerjoin(AuditEvent, AuditEvent.claim_id == Claim.id)
                .group_by(Claim.reference, Claim.state, Claim.version)
            ).all()
            found = {r.reference: (r.state, r.version, r[3]) for r in rows}
            expected = {c.reference: (c.state, c.version, c.events) for c in self.claims}
            assert {r: found.get(r) for r in expected} == expected, "(state, version, audit events) per claim"
            assert len(found) == self.service.claims_before + len(self.claims)
            report = verify(ctx)
            assert report.ok, report.problems
            assert (report.claims, report.events) == (
                self.service.claims_before + len(self.claims),
                self.service.events_before + sum(c.events for c in self.claims),
            )


def test_the_service_keeps_its_invariants_through_the_api(database: Database, tmp_path: Path) -> None:
    """One run per database (the database fixture is parametrised by backend)."""

    class Machine(ServiceMachine):
        services = Services(database, tmp_path)

    try:
        run_state_machine_as_test(Machine, settings=SETTINGS)
    finally:
        Machine.services.close()
