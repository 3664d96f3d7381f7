"""The claim lifecycle at the service level (DESIGN 3-5), read from the workflow table.

Every test runs on SQLite and on PostgreSQL, inside a transaction rolled back afterwards.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from guarantee.models import (
    AuditEvent,
    Claim,
    ClaimClock,
    Contact,
    OutboxMessage,
    Regulation,
    TimelineEntry,
    TrackingToken,
)
from guarantee.models.audit import GENESIS_HASH
from guarantee.services.actors import Actor, GroupActor, SystemActor
from guarantee.services.casework import add_note, assign, classify
from guarantee.services.claims import allowed_triggers, fire, get_claim, group_for_token, submit_claim
from guarantee.services.context import ServiceContext
from guarantee.services.errors import (
    Conflict,
    Forbidden,
    NotFound,
    StaleClaim,
    TriggerNotAllowed,
    ValidationFailed,
)
from tests.helpers import INPUTS, VALID_SUBMISSION, Cast, make_officer, submission, walk
from workflows import (
    GROUP,
    STATES,
    SYSTEM,
    TRANSITIONS,
    TRANSITIONS_BY_TRIGGER,
    TRIGGERS,
    Transition,
    transitions_from,
    triggers_from,
)
from workflows.vocabulary import (
    BARRIER_CATEGORIES,
    REGIONS,
    REMEDIES_SOUGHT,
    ROLES,
    SECTORS,
)

REFERENCE = re.compile(r"^CPG-(\d{4})-(\d{6})$")
PERSONAL_DATA = (
    VALID_SUBMISSION["group"]["contact_name"],
    VALID_SUBMISSION["group"]["email"],
    VALID_SUBMISSION["group"]["phone"],
)

# How a fresh claim reaches each state, firing each trigger by the first role allowed.
PATHS: dict[str, tuple[str, ...]] = {
    "submitted": (),
    "under_review": ("accept",),
    "awaiting_information": ("accept", "request_information"),
    "upheld": ("accept", "uphold"),
    "not_upheld": ("accept", "not_uphold"),
    "appealed": ("accept", "not_uphold", "appeal"),
    "resolved": ("accept", "uphold", "record_resolution"),
    "closed": ("decline",),
    "withdrawn": ("withdraw",),
    "lapsed": ("accept", "request_information", "information_lapsed"),
}


# --- helpers ----------------------------------------------------------------------


@pytest.fixture
def cast(ctx: ServiceContext) -> Cast:
    return Cast(ctx)


def deadline_passes_before(transition: Transition) -> bool:
    return transition.clock_condition is not None and transition.clock_condition.must_be == "expired"


def claim_in(ctx: ServiceContext, cast: Cast, state: str, data: dict[str, Any] | None = None) -> str:
    """A fresh claim walked to ``state``; the clock moves past deadlines the path needs."""
    reference = submit_claim(ctx, data or VALID_SUBMISSION).reference
    for trigger in PATHS[state]:
        if deadline_passes_before(TRANSITIONS_BY_TRIGGER[trigger]):
            ctx.clock.advance(days=60)
        walk(ctx, cast, reference, trigger)
    return reference


@dataclass(frozen=True)
class Snapshot:
    state: str
    version: int
    events: int


def snapshot(ctx: ServiceContext, reference: str) -> Snapshot:
    """What the database holds for the claim now (pending changes flushed first)."""
    row = ctx.session.execute(select(Claim.id, Claim.state, Claim.version).where(Claim.reference == reference)).one()
    count = ctx.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.claim_id == row.id))
    return Snapshot(row.state, row.version, count or 0)


def events_of(ctx: ServiceContext, reference: str) -> list[AuditEvent]:
    claim = get_claim(ctx, reference)
    return list(ctx.session.scalars(select(AuditEvent).where(AuditEvent.claim_id == claim.id).order_by(AuditEvent.seq)))


def outbox_of(ctx: ServiceContext, reference: str) -> list[OutboxMessage]:
    claim = get_claim(ctx, reference)
    return list(
        ctx.session.scalars(select(OutboxMessage).where(OutboxMessage.claim_id == claim.id).order_by(OutboxMessage.id))
    )


def timeline_of(ctx: ServiceContext, reference: str) -> list[TimelineEntry]:
    claim = get_claim(ctx, reference)
    return list(
        ctx.session.scalars(select(TimelineEntry).where(TimelineEntry.claim_id == claim.id).order_by(TimelineEntry.id))
    )


def clock_of(ctx: ServiceContext, reference: str, name: str) -> ClaimClock:
    claim = get_claim(ctx, reference)
    found = ctx.session.scalar(select(ClaimClock).where(ClaimClock.claim_id == claim.id, ClaimClock.name == name))
    assert found is not None, f"claim {reference} has no {name} clock"
    return found


def firer_of(trigger: str) -> str:
    return TRANSITIONS_BY_TRIGGER[trigger].fired_by[0]


def allowed_now(state: str, firer: str) -> tuple[str, ...]:
    """From the table: what a firer may do in a state before any deadline passed."""
    return tuple(t.trigger for t in transitions_from(state) if firer in t.fired_by and not deadline_passes_before(t))


def refused_actors(
    ctx: ServiceContext, cast: Cast, transition: Transition, reference: str, other_reference: str
) -> list[tuple[str, Actor, type[Exception]]]:
    refused: list[tuple[str, Actor, type[Exception]]] = [
        (f"a {role} officer", getattr(cast, role), Forbidden) for role in ROLES if role not in transition.fired_by
    ]
    if GROUP not in transition.fired_by:
        refused.append(("the group", GroupActor(reference), Forbidden))
    if SYSTEM not in transition.fired_by:
        refused.append(("the system", cast.system, Forbidden))
    refused += [
        (f"an inactive {role} officer", make_officer(ctx, role, active=False), Forbidden)
        for role in transition.fired_by
        if role in ROLES
    ]
    refused.append(("the group of another claim", GroupActor(other_reference), NotFound))
    return refused


# --- 1. every workflow row fires for its actors and no others -----------------------

ROWS = [
    pytest.param(t, source, firer, id=f"{t.trigger}-from-{source}-by-{firer}")
    for t in TRANSITIONS
    for source in t.sources
    for firer in t.fired_by
]


def test_the_paths_used_here_reach_every_state() -> None:
    assert set(PATHS) == set(STATES)


@pytest.mark.parametrize(("transition", "source", "firer"), ROWS)
def test_each_workflow_row_fires_for_its_actor_and_is_refused_for_every_other(
    ctx: ServiceContext, cast: Cast, transition: Transition, source: str, firer: str
) -> None:
    other_reference = submit_claim(ctx, VALID_SUBMISSION).reference
    reference = claim_in(ctx, cast, source)
    if deadline_passes_before(transition):
        ctx.clock.advance(days=60)
    before = snapshot(ctx, reference)
    assert before.state == source

    for who, actor, error in refused_actors(ctx, cast, transition, reference, other_reference):
        with pytest.raises(error) as refused:
            fire(ctx, reference, transition.trigger, actor, INPUTS[transition.trigger])
        assert refused.value.message, who
        assert snapshot(ctx, reference) == before, f"{who} changed the claim"

    actor = cast.for_role(firer, reference)
    fired = fire(ctx, reference, transition.trigger, actor, INPUTS[transition.trigger])

    after = snapshot(ctx, reference)
    assert after.state == transition.dest
    assert after.version > before.version  # by exactly one: see the version tests below
    assert after.events == before.events + 1
    event = events_of(ctx, reference)[-1]
    assert fired.event is event
    assert fired.from_state == source
    assert (event.action, event.from_state, event.to_state) == (transition.trigger, source, transition.dest)
    assert event.actor_type == actor.type
    assert event.actor_id == actor.audit_id


@pytest.mark.parametrize("state", ["submitted", "under_review", "appealed"])
def test_firing_a_trigger_increments_the_version_by_exactly_one(ctx: ServiceContext, cast: Cast, state: str) -> None:
    reference = claim_in(ctx, cast, state)
    before = snapshot(ctx, reference)
    trigger = triggers_from(state)[0]
    fire(
        ctx,
        reference,
        trigger,
        cast.for_role(firer_of(trigger), reference),
        INPUTS[trigger],
        expected_version=before.version,
    )
    assert snapshot(ctx, reference).version == before.version + 1


def test_a_claim_changed_by_someone_else_since_it_was_loaded_is_stale(ctx: ServiceContext, cast: Cast) -> None:
    reference = claim_in(ctx, cast, "under_review")
    claim = get_claim(ctx, reference)  # loaded, as a page or an If-Match check would
    seen = claim.version
    # Another officer's transaction commits a change to the row meanwhile.
    ctx.session.connection().execute(
        update(Claim.__table__).where(Claim.__table__.c.id == claim.id).values(version=seen + 1, updated_at=ctx.now())
    )
    with pytest.raises(StaleClaim):
        fire(ctx, reference, "uphold", cast.reviewer, INPUTS["uphold"], expected_version=seen)


def test_assigning_a_claim_changed_by_someone_else_since_it_was_loaded_is_stale(
    ctx: ServiceContext, cast: Cast
) -> None:
    reference = claim_in(ctx, cast, "under_review")
    claim = get_claim(ctx, reference)
    seen = claim.version
    ctx.session.connection().execute(
        update(Claim.__table__).where(Claim.__table__.c.id == claim.id).values(version=seen + 1, updated_at=ctx.now())
    )
    with pytest.raises(StaleClaim):
        assign(ctx, reference, cast.reviewer.officer_id, cast.triage, expected_version=seen)


def test_a_stale_expected_version_is_refused(ctx: ServiceContext, cast: Cast) -> None:
    reference = claim_in(ctx, cast, "under_review")
    before = snapshot(ctx, reference)
    with pytest.raises(StaleClaim) as refused:
        fire(ctx, reference, "uphold", cast.reviewer, INPUTS["uphold"], expected_version=before.version - 1)
    assert refused.value.current_version == before.version
    assert "Reload" in refused.value.message
    assert snapshot(ctx, reference) == before


def test_admin_is_allowed_every_trigger_an_officer_may_fire() -> None:
    officer_triggers = [t.trigger for t in TRANSITIONS if set(t.fired_by) & set(ROLES)]
    assert officer_triggers
    assert all("admin" in TRANSITIONS_BY_TRIGGER[t].fired_by for t in officer_triggers)


@pytest.mark.parametrize("state", ["submitted", "under_review", "upheld", "appealed", "closed"])
def test_admin_is_offered_every_officer_trigger_of_the_state(ctx: ServiceContext, cast: Cast, state: str) -> None:
    reference = claim_in(ctx, cast, state)
    expected = [t.trigger for t in transitions_from(state) if set(t.fired_by) & set(ROLES)]
    assert allowed_triggers(ctx, get_claim(ctx, reference), cast.admin) == expected


def test_an_inactive_officer_or_another_claims_group_is_offered_nothing(ctx: ServiceContext, cast: Cast) -> None:
    other_reference = claim_in(ctx, cast, "submitted")
    claim = get_claim(ctx, claim_in(ctx, cast, "awaiting_information"))
    assert allowed_triggers(ctx, claim, GroupActor(claim.reference)) == ["provide_information", "withdraw"]
    assert allowed_triggers(ctx, claim, make_officer(ctx, "admin", active=False)) == []
    assert allowed_triggers(ctx, claim, GroupActor(other_reference)) == []


# --- 2. illegal triggers -------------------------------------------------------------


@pytest.mark.parametrize("state", STATES)
def test_triggers_the_table_does_not_list_for_a_state_are_refused(ctx: ServiceContext, cast: Cast, state: str) -> None:
    reference = claim_in(ctx, cast, state)
    before = snapshot(ctx, reference)
    illegal = [t for t in TRIGGERS if t not in triggers_from(state)]
    assert illegal
    for trigger in illegal:
        firer = firer_of(trigger)
        with pytest.raises(TriggerNotAllowed) as refused:
            fire(ctx, reference, trigger, cast.for_role(firer, reference), INPUTS[trigger])
        assert (refused.value.trigger, refused.value.state) == (trigger, state)
        assert refused.value.allowed == allowed_now(state, firer), f"{trigger} by {firer}"
        assert snapshot(ctx, reference) == before, f"{trigger} changed the claim"


def test_a_refused_trigger_tells_the_group_what_it_can_do_instead(ctx: ServiceContext, cast: Cast) -> None:
    reference = claim_in(ctx, cast, "not_upheld")
    with pytest.raises(TriggerNotAllowed) as refused:
        fire(ctx, reference, "provide_information", GroupActor(reference), INPUTS["provide_information"])
    assert refused.value.allowed == ("appeal", "withdraw")
    assert "appeal, withdraw" in refused.value.message
    assert "not upheld" in refused.value.message


def test_a_refused_trigger_on_a_finished_claim_says_nothing_can_be_done(ctx: ServiceContext, cast: Cast) -> None:
    reference = claim_in(ctx, cast, "withdrawn")
    with pytest.raises(TriggerNotAllowed) as refused:
        fire(ctx, reference, "withdraw", GroupActor(reference), {})
    assert refused.value.allowed == ()
    assert "nothing you can do" in refused.value.message


def test_an_unknown_trigger_is_refused_and_the_real_ones_are_listed(ctx: ServiceContext, cast: Cast) -> None:
    reference = claim_in(ctx, cast, "submitted")
    before = snapshot(ctx, reference)
    with pytest.raises(ValidationFailed) as refused:
        fire(ctx, reference, "teleport", cast.admin, {})
    assert "accept" in refused.value.errors["trigger"][0]
    assert snapshot(ctx, reference) == before


def test_firing_on_a_claim_that_does_not_exist_is_not_found(ctx: ServiceContext, cast: Cast) -> None:
    with pytest.raises(NotFound):
        fire(ctx, "CPG-2026-999999", "accept", cast.triage, INPUTS["accept"])
    with pytest.raises(NotFound):
        fire(ctx, "not-a-reference", "accept", cast.triage, INPUTS["accept"])


# --- 3. input validation ---------------------------------------------------------------

REQUIRED_INPUTS = [
    pytest.param(t.trigger, i.name, id=f"{t.trigger}-{i.name}") for t in TRANSITIONS for i in t.inputs if i.required
]
SOURCE_OF = {t.trigger: t.sources[0] for t in TRANSITIONS}


def fire_from_source(
    ctx: ServiceContext, cast: Cast, trigger: str, data: dict[str, Any], reference: str | None = None
) -> str:
    """Bring a claim to the trigger's first source state and fire it by its first role."""
    reference = reference or claim_in(ctx, cast, SOURCE_OF[trigger])
    if deadline_passes_before(TRANSITIONS_BY_TRIGGER[trigger]):
        ctx.clock.advance(days=60)
    fire(ctx, reference, trigger, cast.for_role(firer_of(trigger), reference), data)
    return reference


def refused_input(
    ctx: ServiceContext, cast: Cast, trigger: str, data: dict[str, Any], filed: dict[str, Any] | None = None
) -> dict[str, list[str]]:
    """The field errors for firing ``trigger`` with ``data`` (on a claim filed with ``filed``); the
    claim must not change."""
    reference = claim_in(ctx, cast, SOURCE_OF[trigger], filed)
    before = snapshot(ctx, reference)
    with pytest.raises(ValidationFailed) as refused:
        fire_from_source(ctx, cast, trigger, data, reference)
    assert snapshot(ctx, reference) == before
    return refused.value.errors


@pytest.mark.parametrize(("trigger", "field"), REQUIRED_INPUTS)
def test_a_missing_required_input_is_named(ctx: ServiceContext, cast: Cast, trigger: str, field: str) -> None:
    data = {k: val for k, val in INPUTS[trigger].items() if k != field}
    spec = next(i for i in TRANSITIONS_BY_TRIGGER[trigger].inputs if i.name == field)
    # An input asked only of some claims (the public summary) is required of those.
    filed = submission(consent={"contact": True, "publish": True}) if spec.asked_if else None
    errors = refused_input(ctx, cast, trigger, data, filed)
    assert list(errors) == [field]


@pytest.mark.parametrize("trigger", ["accept", "request_information", "information_lapsed", "withdraw"])
def test_an_unknown_input_field_is_named(ctx: ServiceContext, cast: Cast, trigger: str) -> None:
    errors = refused_input(ctx, cast, trigger, {**INPUTS[trigger], "priority": "high"})
    assert list(errors) == ["priority"]
    assert trigger in errors["priority"][0]


def test_input_that_is_not_an_object_is_refused(ctx: ServiceContext, cast: Cast) -> None:
    errors = refused_input(ctx, cast, "request_information", ["How many?"])  # type: ignore[arg-type]
    assert "" in errors


def test_declining_as_a_duplicate_needs_the_reference_of_the_original(ctx: ServiceContext, cast: Cast) -> None:
    errors = refused_input(ctx, cast, "decline", {"reason_code": "duplicate", "explanation": "Filed twice."})
    assert list(errors) == ["duplicate_of"]


@pytest.mark.parametrize("duplicate_of", ["CPG-2026-999999", "CPG-26-1", 42, ["CPG-2026-000001"]])
def test_declining_as_a_duplicate_of_a_claim_that_does_not_exist_is_refused(
    ctx: ServiceContext, cast: Cast, duplicate_of: Any
) -> None:
    data = {"reason_code": "duplicate", "explanation": "Filed twice.", "duplicate_of": duplicate_of}
    errors = refused_input(ctx, cast, "decline", data)
    assert list(errors) == ["duplicate_of"]


def test_a_claim_cannot_be_declined_as_a_duplicate_of_itself(ctx: ServiceContext, cast: Cast) -> None:
    reference = claim_in(ctx, cast, "submitted")
    before = snapshot(ctx, reference)
    data = {"reason_code": "duplicate", "explanation": "Filed twice.", "duplicate_of": reference}
    with pytest.raises(ValidationFailed) as refused:
        fire(ctx, reference, "decline", cast.triage, data)
    assert list(refused.value.errors) == ["duplicate_of"]
    assert "itself" in refused.value.errors["duplicate_of"][0]
    assert snapshot(ctx, reference) == before


def test_a_claim_can_be_declined_as_a_duplicate_of_another(ctx: ServiceContext, cast: Cast) -> None:
    original = claim_in(ctx, cast, "submitted")
    reference = claim_in(ctx, cast, "submitted")
    data = {"reason_code": "duplicate", "explanation": "Filed twice.", "duplicate_of": original}
    fired = fire(ctx, reference, "decline", cast.triage, data)
    assert fired.claim.state == "closed"
    assert fired.claim.duplicate_of_id == get_claim(ctx, original).id
    assert (fired.claim.reason_code, fired.claim.outcome) == ("duplicate", "declined")
    assert fired.event.payload["input"]["duplicate_of"] == original


@pytest.mark.parametrize(
    ("trigger", "field", "value"),
    [
        ("accept", "category", "astrology"),
        ("accept", "category", ["food_hygiene"]),
        ("decline", "reason_code", "not_in_the_mood"),
        ("uphold", "remedy", "free_money"),
        ("not_uphold", "reason_code", "out_of_scope"),  # a decline reason, not a not-upheld one
        ("allow_appeal", "remedy", 1),
        ("record_resolution", "outcome", "waiver"),
    ],
)
def test_a_choice_outside_its_list_is_refused(
    ctx: ServiceContext, cast: Cast, trigger: str, field: str, value: Any
) -> None:
    errors = refused_input(ctx, cast, trigger, {**INPUTS[trigger], field: value})
    assert list(errors) == [field]
    assert "from the list" in errors[field][0]


@pytest.mark.parametrize(
    ("trigger", "field", "value"),
    [
        ("request_information", "question", "How many\x00 volunteers?"),
        ("provide_information", "answer", "Twelve\x00"),
        ("uphold", "reasons", "\x00"),
        ("request_information", "question", 12),
        ("request_information", "question", ["How many volunteers?"]),
        ("request_information", "question", "x" * 10_001),
        ("appeal", "grounds", "   "),
    ],
)
def test_bad_text_is_refused(ctx: ServiceContext, cast: Cast, trigger: str, field: str, value: Any) -> None:
    errors = refused_input(ctx, cast, trigger, {**INPUTS[trigger], field: value})
    assert list(errors) == [field]


@pytest.mark.parametrize(
    "regulation", [999_999, True, "Food premises registration", {}, {"title": "x", "colour": "red"}]
)
def test_accepting_with_a_regulation_that_is_not_in_the_catalogue_is_refused(
    ctx: ServiceContext, cast: Cast, regulation: Any
) -> None:
    errors = refused_input(ctx, cast, "accept", {**INPUTS["accept"], "regulation": regulation})
    assert list(errors) == ["regulation"]


def test_accepting_with_a_new_regulation_adds_it_to_the_catalogue(ctx: ServiceContext, cast: Cast) -> None:
    reference = claim_in(ctx, cast, "submitted")
    new = {"title": "Village hall licensing", "legal_reference": "LA 2003 s.1", "issuing_body": "Council"}
    fired = fire(ctx, reference, "accept", cast.triage, {"category": "licensing_and_permits", "regulation": new})
    regulation = ctx.session.get(Regulation, fired.claim.regulation_id)
    assert regulation is not None
    assert (regulation.title, regulation.legal_reference, regulation.issuing_body) == (
        "Village hall licensing",
        "LA 2003 s.1",
        "Council",
    )
    # Without a category of its own it takes the barrier category the group chose.
    assert regulation.category == VALID_SUBMISSION["barrier"]["category"]
    assert fired.claim.category == "licensing_and_permits"
    assert fired.event.payload["input"]["regulation"] == regulation.id


def test_accepting_with_a_catalogue_entry_uses_it_following_merges(ctx: ServiceContext, cast: Cast) -> None:
    kept = Regulation(title="Food premises registration", category="food_hygiene", created_at=ctx.now())
    ctx.session.add(kept)
    ctx.session.flush()
    merged = Regulation(
        title="Food premises reg.", category="food_hygiene", merged_into_id=kept.id, created_at=ctx.now()
    )
    ctx.session.add(merged)
    ctx.session.flush()
    reference = claim_in(ctx, cast, "submitted")
    fired = fire(ctx, reference, "accept", cast.triage, {"category": "food_hygiene", "regulation": merged.id})
    assert fired.claim.regulation_id == kept.id


def test_accepting_with_an_active_assignee_assigns_the_claim(ctx: ServiceContext, cast: Cast) -> None:
    reference = claim_in(ctx, cast, "submitted")
    fired = fire(ctx, reference, "accept", cast.triage, {**INPUTS["accept"], "assignee": cast.reviewer.officer_id})
    assert fired.claim.assignee_id == cast.reviewer.officer_id


@pytest.mark.parametrize("assignee", ["inactive", "missing", "text", "bool"])
def test_the_assignee_must_be_an_active_officer(ctx: ServiceContext, cast: Cast, assignee: str) -> None:
    values = {
        "inactive": make_officer(ctx, "reviewer", active=False).officer_id,
        "missing": 999_999,
        "text": str(cast.reviewer.officer_id),
        "bool": True,
    }
    errors = refused_input(ctx, cast, "accept", {**INPUTS["accept"], "assignee": values[assignee]})
    assert list(errors) == ["assignee"]


def test_a_failed_accept_leaves_the_claim_unclassified(ctx: ServiceContext, cast: Cast) -> None:
    reference = claim_in(ctx, cast, "submitted")
    with pytest.raises(ValidationFailed):
        fire(ctx, reference, "accept", cast.triage, {"category": "astrology", "regulation": {"title": "X"}})
    claim = get_claim(ctx, reference)
    assert (claim.state, claim.category, claim.regulation_id) == ("submitted", None, None)


# --- 4. separation of duties ---------------------------------------------------------------


@pytest.mark.parametrize("decision", ["accept", "not_uphold"])
@pytest.mark.parametrize("appeal_trigger", ["allow_appeal", "dismiss_appeal"])
def test_an_admin_who_decided_the_claim_cannot_decide_its_appeal(
    ctx: ServiceContext, cast: Cast, decision: str, appeal_trigger: str
) -> None:
    reference = submit_claim(ctx, VALID_SUBMISSION).reference
    for trigger in ("accept", "not_uphold", "appeal"):
        actor = cast.admin if trigger == decision else cast.for_role(firer_of(trigger), reference)
        fire(ctx, reference, trigger, actor, INPUTS[trigger])
    before = snapshot(ctx, reference)

    with pytest.raises(Forbidden) as refused:
        fire(ctx, reference, appeal_trigger, cast.admin, INPUTS[appeal_trigger])
    assert f"earlier decision on this claim ('{decision}'" in refused.value.message
    assert "another member of the appeal panel must decide the appeal" in refused.value.message
    assert snapshot(ctx, reference) == before

    claim = get_claim(ctx, reference)
    assert allowed_triggers(ctx, claim, cast.admin) == []
    assert allowed_triggers(ctx, claim, cast.appeal_panel) == ["allow_appeal", "dismiss_appeal"]

    fired = fire(ctx, reference, appeal_trigger, cast.appeal_panel, INPUTS[appeal_trigger])
    assert fired.claim.state == TRANSITIONS_BY_TRIGGER[appeal_trigger].dest


def test_an_officer_who_did_not_uphold_the_claim_cannot_sit_on_its_appeal(ctx: ServiceContext, cast: Cast) -> None:
    both = make_officer(ctx, "reviewer", "appeal_panel")
    reference = claim_in(ctx, cast, "under_review")
    fire(ctx, reference, "not_uphold", both, INPUTS["not_uphold"])
    fire(ctx, reference, "appeal", GroupActor(reference), INPUTS["appeal"])
    with pytest.raises(Forbidden, match="another member of the appeal panel"):
        fire(ctx, reference, "dismiss_appeal", both, INPUTS["dismiss_appeal"])
    assert allowed_triggers(ctx, get_claim(ctx, reference), both) == []


def test_an_officer_who_only_asked_a_question_may_decide_the_appeal(ctx: ServiceContext, cast: Cast) -> None:
    reference = claim_in(ctx, cast, "under_review")
    fire(ctx, reference, "request_information", cast.admin, INPUTS["request_information"])
    walk(ctx, cast, reference, "provide_information", "not_uphold", "appeal")
    assert allowed_triggers(ctx, get_claim(ctx, reference), cast.admin) == ["allow_appeal", "dismiss_appeal"]
    fired = fire(ctx, reference, "allow_appeal", cast.admin, INPUTS["allow_appeal"])
    assert fired.claim.state == "upheld"


# --- 5. clock rules ---------------------------------------------------------------------


def test_appeal_on_the_last_day_of_the_window_is_accepted(ctx: ServiceContext, cast: Cast) -> None:
    reference = claim_in(ctx, cast, "not_upheld")
    due = clock_of(ctx, reference, "appeal_window").due_on
    assert due is not None
    ctx.clock.set_day(due)
    fired = fire(ctx, reference, "appeal", GroupActor(reference), INPUTS["appeal"])
    assert fired.claim.state == "appealed"


def test_appeal_after_window_is_refused(ctx: ServiceContext, cast: Cast) -> None:
    reference = claim_in(ctx, cast, "not_upheld")
    due = clock_of(ctx, reference, "appeal_window").due_on
    assert due is not None
    ctx.clock.set_day(due + timedelta(days=1))
    before = snapshot(ctx, reference)
    with pytest.raises(TriggerNotAllowed) as refused:
        fire(ctx, reference, "appeal", GroupActor(reference), INPUTS["appeal"])
    assert "deadline passed" in refused.value.message
    assert refused.value.allowed == ("withdraw",)
    assert snapshot(ctx, reference) == before
    assert allowed_triggers(ctx, get_claim(ctx, reference), GroupActor(reference)) == ["withdraw"]


@pytest.mark.parametrize(
    ("trigger", "clock_name"), [("information_lapsed", "information"), ("appeal_window_closed", "appeal_window")]
)
def test_a_system_trigger_waits_for_its_deadline_even_for_the_system(
    ctx: ServiceContext, cast: Cast, trigger: str, clock_name: str
) -> None:
    transition = TRANSITIONS_BY_TRIGGER[trigger]
    state, dest = transition.sources[0], transition.dest
    reference = claim_in(ctx, cast, state)
    due = clock_of(ctx, reference, clock_name).due_on
    assert due is not None
    before = snapshot(ctx, reference)
    for day in (ctx.today(), due):
        ctx.clock.set_day(day)
        with pytest.raises(TriggerNotAllowed, match="has not passed yet") as refused:
            fire(ctx, reference, trigger, cast.system, {})
        assert refused.value.allowed == ()
        assert allowed_triggers(ctx, get_claim(ctx, reference), cast.system) == []
        assert snapshot(ctx, reference) == before

    ctx.clock.set_day(due + timedelta(days=1))
    assert allowed_triggers(ctx, get_claim(ctx, reference), cast.system) == [trigger]
    fired = fire(ctx, reference, trigger, cast.system, {})
    assert fired.claim.state == dest
    assert fired.claim.outcome == transition.outcome


def test_no_information_lapse_once_the_group_has_answered(ctx: ServiceContext, cast: Cast) -> None:
    reference = claim_in(ctx, cast, "awaiting_information")
    walk(ctx, cast, reference, "provide_information", "request_information")
    # A new question restarts the information clock from today.
    assert clock_of(ctx, reference, "information").started_on == ctx.today()
    ctx.clock.advance(days=10)
    with pytest.raises(TriggerNotAllowed):
        fire(ctx, reference, "information_lapsed", cast.system, {})


# --- 6. submission --------------------------------------------------------------------------


def test_a_valid_submission_gets_a_sequential_reference_and_a_token(ctx: ServiceContext) -> None:
    first = submit_claim(ctx, VALID_SUBMISSION)
    second = submit_claim(ctx, VALID_SUBMISSION)
    a, b = REFERENCE.match(first.reference), REFERENCE.match(second.reference)
    assert a and b
    assert a.group(1) == b.group(1) == str(ctx.today().year)
    assert int(b.group(2)) == int(a.group(2)) + 1
    assert len(first.tracking_token) >= 43
    assert first.tracking_token != second.tracking_token
    stored = ctx.session.scalars(select(TrackingToken.token_hash).where(TrackingToken.claim_id == first.claim.id)).all()
    assert stored == [hashlib.sha256(first.tracking_token.encode()).hexdigest()]


def test_references_start_again_at_one_each_year(ctx: ServiceContext) -> None:
    submit_claim(ctx, VALID_SUBMISSION)
    ctx.clock.set_day(date(2027, 1, 4))
    assert submit_claim(ctx, VALID_SUBMISSION).reference == "CPG-2027-000001"


def test_a_submitted_claim_starts_its_audit_chain_and_triage_clock(ctx: ServiceContext) -> None:
    submitted = submit_claim(ctx, VALID_SUBMISSION)
    claim = submitted.claim
    assert claim.state == "submitted"
    assert claim.group_name == "Little Acorns Parents"
    contact = ctx.session.scalar(select(Contact).where(Contact.claim_id == claim.id))
    assert contact is not None
    assert contact.email == VALID_SUBMISSION["group"]["email"]
    [event] = events_of(ctx, submitted.reference)
    assert (event.seq, event.action, event.from_state, event.to_state) == (1, "submitted", None, "submitted")
    assert (event.actor_type, event.prev_hash) == ("group", GENESIS_HASH)
    assert event.payload["codes"]["sector"] == "children_and_families"
    assert clock_of(ctx, submitted.reference, "triage").status == "running"
    assert claim.due_clock == "triage"


def test_no_audit_payload_holds_the_groups_personal_data(ctx: ServiceContext, cast: Cast) -> None:
    reference = claim_in(ctx, cast, "awaiting_information")
    walk(ctx, cast, reference, "provide_information", "uphold", "record_resolution")
    add_note(ctx, reference, cast.reviewer, "Phoned Ada Lovelace-Testperson on 01632 960 001.")
    payloads = [json.dumps(event.payload) for event in events_of(ctx, reference)]
    assert len(payloads) == 7
    for value in PERSONAL_DATA:
        assert all(value not in p for p in payloads), value
    submitted = events_of(ctx, reference)[0].payload
    assert submitted["contact_fields"] == ["contact_name", "email", "phone"]


INVALID_SUBMISSIONS = [
    pytest.param(submission(group={"email": "ada at example"}), "group.email", id="bad-email"),
    pytest.param(submission(group={"email": None}), "group.email", id="missing-email"),
    pytest.param(submission(group={"phone": "call me"}), "group.phone", id="bad-phone"),
    pytest.param(submission(group={"name": ["Acorns"]}), "group.name", id="list-for-text"),
    pytest.param(submission(group={"name": "Little\nAcorns"}), "group.name", id="newline-in-one-line-text"),
    pytest.param(submission(group={"shoe_size": 9}), "group.shoe_size", id="unknown-group-field"),
    pytest.param(submission(initiative={"sector": "space"}), "initiative.sector", id="bad-sector"),
    pytest.param(submission(initiative={"region": 3}), "initiative.region", id="int-for-choice"),
    pytest.param(submission(initiative={"title": "x" * 201}), "initiative.title", id="long-title"),
    pytest.param(submission(initiative={"description": "Nursery\x00"}), "initiative.description", id="nul-byte"),
    pytest.param(submission(initiative={"people_involved": 10**12}), "initiative.people_involved", id="huge-people"),
    pytest.param(submission(initiative={"people_involved": -1}), "initiative.people_involved", id="negative-people"),
    pytest.param(submission(initiative={"people_involved": True}), "initiative.people_involved", id="bool-people"),
    pytest.param(submission(initiative={"people_involved": "24"}), "initiative.people_involved", id="text-people"),
    pytest.param(submission(barrier={"remedy_sought": "other"}), "barrier.remedy_details", id="other-needs-details"),
    pytest.param(submission(barrier={"how_it_blocks": 42}), "barrier.how_it_blocks", id="int-for-text"),
    pytest.param(submission(barrier={"category": None}), "barrier.category", id="missing-category"),
    pytest.param(submission(consent={"contact": "yes"}), "consent.contact", id="non-bool-consent"),
    pytest.param(submission(consent={"contact": None}), "consent.contact", id="null-consent"),
    pytest.param({**VALID_SUBMISSION, "priority": "high"}, "priority", id="unknown-section"),
    pytest.param({k: val for k, val in VALID_SUBMISSION.items() if k != "group"}, "group", id="missing-group"),
    pytest.param({**VALID_SUBMISSION, "barrier": ["waiver"]}, "barrier", id="section-not-an-object"),
    pytest.param({k: val for k, val in VALID_SUBMISSION.items() if k != "consent"}, "consent", id="missing-consent"),
    pytest.param({**VALID_SUBMISSION, "consent": {}}, "consent.contact", id="empty-consent"),
    pytest.param(submission(group={"name": "Acorns \ud800"}), "group.name", id="lone-surrogate"),
]


@pytest.mark.parametrize(("data", "field"), INVALID_SUBMISSIONS)
def test_an_invalid_submission_names_the_field_to_correct(
    ctx: ServiceContext, data: dict[str, Any], field: str
) -> None:
    claims_before = ctx.session.scalar(select(func.count()).select_from(Claim))
    with pytest.raises(ValidationFailed) as refused:
        submit_claim(ctx, data)
    assert field in refused.value.errors, refused.value.errors
    assert all(refused.value.errors[field])
    assert ctx.session.scalar(select(func.count()).select_from(Claim)) == claims_before


def test_a_submission_that_is_not_an_object_is_refused(ctx: ServiceContext) -> None:
    with pytest.raises(ValidationFailed) as refused:
        submit_claim(ctx, [VALID_SUBMISSION])  # type: ignore[arg-type]
    assert "" in refused.value.errors


def test_every_problem_of_a_submission_is_reported_at_once(ctx: ServiceContext) -> None:
    data = submission(group={"email": "nope"}, initiative={"sector": "space"}, barrier={"remedy_sought": "other"})
    with pytest.raises(ValidationFailed) as refused:
        submit_claim(ctx, data)
    assert set(refused.value.errors) == {"group.email", "initiative.sector", "barrier.remedy_details"}


def test_remedy_details_are_kept_when_the_remedy_sought_is_other(ctx: ServiceContext) -> None:
    submitted = submit_claim(ctx, submission(barrier={"remedy_sought": "other", "remedy_details": "A pilot year."}))
    assert submitted.claim.remedy_details == "A pilot year."


MISSING = object()
# Any text JSON can carry, lone surrogates ("\\ud800") included.
json_text = st.text(st.characters(exclude_categories=()), max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | json_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
PLAUSIBLE: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "group": {
        "name": st.text(max_size=30),
        "contact_name": st.text(max_size=30),
        "email": st.sampled_from(["a@example.org", "a@b", ""]),
        "phone": st.sampled_from(["01632 960 001", "+44", ""]),
    },
    "initiative": {
        "title": st.text(max_size=30),
        "description": st.text(max_size=30),
        "sector": st.sampled_from(SECTORS),
        "region": st.sampled_from(REGIONS),
        "people_involved": st.integers(),
    },
    "barrier": {
        "regulation": st.text(max_size=30),
        "regulation_reference": st.text(max_size=30),
        "imposed_by": st.text(max_size=30),
        "category": st.sampled_from(BARRIER_CATEGORIES),
        "how_it_blocks": st.text(max_size=30),
        "remedy_sought": st.sampled_from(REMEDIES_SOUGHT),
        "remedy_details": st.text(max_size=30),
    },
    "consent": {"contact": st.booleans()},
}


@st.composite
def near_valid_submissions(draw: st.DrawFn) -> dict[str, Any]:
    """A valid submission with a few sections or fields dropped, changed or replaced by any JSON."""
    data: dict[str, Any] = copy.deepcopy(VALID_SUBMISSION)
    for section in draw(st.sets(st.sampled_from(sorted(PLAUSIBLE)), min_size=1, max_size=2)):
        how = draw(st.sampled_from(["edit", "drop", "replace"]))
        if how == "drop":
            del data[section]
        elif how == "replace":
            data[section] = draw(json_values)
        else:
            fields = PLAUSIBLE[section]
            for name in draw(st.sets(st.sampled_from(sorted(fields)), min_size=1, max_size=2)):
                value = draw(st.one_of(st.just(MISSING), fields[name], json_values))
                if value is MISSING:
                    data[section].pop(name, None)
                else:
                    data[section][name] = value
    data.update(draw(st.dictionaries(st.text(max_size=8), json_values, max_size=1)))
    return data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(json_values, near_valid_submissions()))
@example(data={**VALID_SUBMISSION, "consent": {}})
@example(data=submission(group={"name": "Acorns \ud800"}))
def test_any_json_submission_is_either_filed_or_refused_with_field_errors(ctx: ServiceContext, data: Any) -> None:
    nested = ctx.session.begin_nested()
    try:
        submitted = submit_claim(ctx, data)
    except ValidationFailed as refused:
        assert refused.errors
        assert all(isinstance(field, str) and messages for field, messages in refused.errors.items())
    else:
        assert REFERENCE.match(submitted.reference)
        assert submitted.claim.state == "submitted"
    finally:
        nested.rollback()


# --- 7. tracking tokens --------------------------------------------------------------------


def test_the_tracking_token_identifies_the_group_of_its_claim(ctx: ServiceContext) -> None:
    submitted = submit_claim(ctx, VALID_SUBMISSION)
    assert group_for_token(ctx, submitted.reference, submitted.tracking_token) == GroupActor(submitted.reference)


def test_a_wrong_or_another_claims_token_finds_no_claim(ctx: ServiceContext) -> None:
    mine = submit_claim(ctx, VALID_SUBMISSION)
    theirs = submit_claim(ctx, VALID_SUBMISSION)
    for reference, token in (
        (mine.reference, "not-the-token"),
        (mine.reference, ""),
        (mine.reference, theirs.tracking_token),
        (mine.reference, mine.tracking_token[:-1]),
        ("CPG-2026-999999", mine.tracking_token),
    ):
        with pytest.raises(NotFound):
            group_for_token(ctx, reference, token)


def test_a_revoked_token_finds_no_claim(ctx: ServiceContext) -> None:
    submitted = submit_claim(ctx, VALID_SUBMISSION)
    row = ctx.session.scalar(select(TrackingToken).where(TrackingToken.claim_id == submitted.claim.id))
    assert row is not None
    row.revoked_at = ctx.now()
    ctx.session.flush()
    with pytest.raises(NotFound):
        group_for_token(ctx, submitted.reference, submitted.tracking_token)


# --- 8. outbox and timeline -------------------------------------------------------------


def test_a_submission_with_consent_writes_a_message_to_the_group(ctx: ServiceContext) -> None:
    submitted = submit_claim(ctx, VALID_SUBMISSION)
    [message] = outbox_of(ctx, submitted.reference)
    assert (message.recipient_type, message.template, message.status) == ("group", "claim_submitted", "pending")
    assert message.officer_id is None
    assert message.payload["reference"] == submitted.reference
    for value in PERSONAL_DATA:
        assert value not in json.dumps(message.payload)


def test_a_group_that_did_not_consent_gets_no_messages(ctx: ServiceContext, cast: Cast) -> None:
    reference = claim_in(ctx, cast, "awaiting_information", submission(consent={"contact": False}))
    walk(ctx, cast, reference, "provide_information", "uphold")
    assert [m for m in outbox_of(ctx, reference) if m.recipient_type == "group"] == []


def test_a_question_to_the_group_is_sent_to_the_group(ctx: ServiceContext, cast: Cast) -> None:
    reference = claim_in(ctx, cast, "under_review")
    fired = walk(ctx, cast, reference, "request_information")
    assert fired is not None
    message = outbox_of(ctx, reference)[-1]
    assert (message.recipient_type, message.template) == ("group", "information_requested")
    assert message.payload["seq"] == fired.event.seq


@pytest.mark.parametrize(
    ("state", "trigger", "template"),
    [
        ("awaiting_information", "provide_information", "group_replied"),
        ("not_upheld", "appeal", "appeal_lodged"),
        ("under_review", "withdraw", "claim_withdrawn"),
    ],
)
def test_what_the_group_does_is_sent_to_the_assigned_officer(
    ctx: ServiceContext, cast: Cast, state: str, trigger: str, template: str
) -> None:
    reference = claim_in(ctx, cast, "submitted")
    fire(ctx, reference, "accept", cast.triage, {**INPUTS["accept"], "assignee": cast.reviewer.officer_id})
    walk(ctx, cast, reference, *PATHS[state][1:], trigger)
    to_officers = [m for m in outbox_of(ctx, reference) if m.recipient_type == "officer"]
    assert [(m.template, m.officer_id) for m in to_officers] == [(template, cast.reviewer.officer_id)]


@pytest.mark.parametrize(
    ("state", "trigger", "field"),
    [
        ("submitted", "decline", "explanation"),
        ("under_review", "request_information", "question"),
        ("awaiting_information", "provide_information", "answer"),
        ("under_review", "uphold", "reasons"),
        ("under_review", "not_uphold", "reasons"),
        ("not_upheld", "appeal", "grounds"),
        ("upheld", "record_resolution", "summary"),
    ],
)
def test_public_texts_go_on_the_groups_timeline(
    ctx: ServiceContext, cast: Cast, state: str, trigger: str, field: str
) -> None:
    reference = claim_in(ctx, cast, state)
    fired = fire_and_get(ctx, cast, reference, trigger)
    entry = timeline_of(ctx, reference)[-1]
    assert (entry.field, entry.body, entry.public, entry.seq) == (field, INPUTS[trigger][field], True, fired.event.seq)
    assert fired.event.payload["text_sha256"][field] == hashlib.sha256(entry.body.encode()).hexdigest()
    assert INPUTS[trigger][field] not in json.dumps(fired.event.payload)


def fire_and_get(ctx: ServiceContext, cast: Cast, reference: str, trigger: str) -> Any:
    fired = walk(ctx, cast, reference, trigger)
    assert fired is not None
    return fired


def test_a_note_is_kept_off_the_groups_timeline(ctx: ServiceContext, cast: Cast) -> None:
    reference = claim_in(ctx, cast, "under_review")
    entry = add_note(ctx, reference, cast.reviewer, "  Check the ratio rule with legal.  ")
    assert (entry.field, entry.body, entry.public) == ("note", "Check the ratio rule with legal.", False)
    assert [e.public for e in timeline_of(ctx, reference) if e.field == "note"] == [False]


# --- 9. assign, classify, add_note ---------------------------------------------------------


def non_officers(reference: str) -> list[Actor]:
    return [GroupActor(reference), SystemActor()]


def test_assigning_a_claim_is_audited_and_tells_the_assignee(ctx: ServiceContext, cast: Cast) -> None:
    reference = claim_in(ctx, cast, "under_review")
    before = snapshot(ctx, reference)
    claim = assign(ctx, reference, cast.reviewer.officer_id, cast.triage)
    assert claim.assignee_id == cast.reviewer.officer_id
    after = snapshot(ctx, reference)
    assert (after.state, after.version, after.events) == (before.state, before.version + 1, before.events + 1)
    event = events_of(ctx, reference)[-1]
    assert (event.action, event.from_state, event.to_state) == ("assigned", None, None)
    assert event.payload == {"from": None, "to": cast.reviewer.officer_id}
    assert event.actor_id == cast.triage.audit_id
    message = outbox_of(ctx, reference)[-1]
    assert (message.recipient_type, message.template, message.officer_id) == (
        "officer",
        "assigned",
        cast.reviewer.officer_id,
    )

    assign(ctx, reference, None, cast.admin)
    assert get_claim(ctx, reference).assignee_id is None
    assert events_of(ctx, reference)[-1].payload == {"from": cast.reviewer.officer_id, "to": None}


@pytest.mark.parametrize("who", ["group", "system", "appeal_panel", "inactive"])
def test_only_active_triage_reviewer_or_admin_officers_assign_and_classify(
    ctx: ServiceContext, cast: Cast, who: str
) -> None:
    reference = claim_in(ctx, cast, "under_review")
    actor: Actor = {
        "group": GroupActor(reference),
        "system": cast.system,
        "appeal_panel": cast.appeal_panel,
        "inactive": make_officer(ctx, "reviewer", active=False),
    }[who]
    before = snapshot(ctx, reference)
    with pytest.raises(Forbidden):
        assign(ctx, reference, cast.reviewer.officer_id, actor)
    with pytest.raises(Forbidden):
        classify(ctx, reference, actor, category="food_hygiene")
    assert snapshot(ctx, reference) == before


@pytest.mark.parametrize("actor_kind", ["group", "system", "inactive"])
def test_only_active_officers_add_notes(ctx: ServiceContext, cast: Cast, actor_kind: str) -> None:
    reference = claim_in(ctx, cast, "under_review")
    actor = {
        "group": GroupActor(reference),
        "system": cast.system,
        "inactive": make_officer(ctx, "admin", active=False),
    }[actor_kind]
    before = snapshot(ctx, reference)
    with pytest.raises(Forbidden):
        add_note(ctx, reference, actor, "A note")
    assert snapshot(ctx, reference) == before
    assert timeline_of(ctx, reference) == []


def test_a_claim_can_only_be_assigned_to_an_active_officer(ctx: ServiceContext, cast: Cast) -> None:
    reference = claim_in(ctx, cast, "under_review")
    inactive = make_officer(ctx, "reviewer", active=False)
    for assignee in (inactive.officer_id, 999_999):
        with pytest.raises(ValidationFailed) as refused:
            assign(ctx, reference, assignee, cast.triage)
        assert "assignee_id" in refused.value.errors
    assert get_claim(ctx, reference).assignee_id is None


def test_a_finished_claim_cannot_be_assigned(ctx: ServiceContext, cast: Cast) -> None:
    reference = claim_in(ctx, cast, "closed")
    with pytest.raises(Conflict):
        assign(ctx, reference, cast.reviewer.officer_id, cast.admin)


def test_classifying_a_claim_is_audited(ctx: ServiceContext, cast: Cast) -> None:
    reference = claim_in(ctx, cast, "under_review")
    before = snapshot(ctx, reference)
    old = get_claim(ctx, reference)
    old_category, old_regulation = old.category, old.regulation_id
    claim = classify(
        ctx, reference, cast.reviewer, category="licensing_and_permits", regulation={"title": "Premises licence"}
    )
    assert claim.category == "licensing_and_permits"
    regulation = ctx.session.get(Regulation, claim.regulation_id)
    assert regulation is not None
    assert regulation.title == "Premises licence"
    after = snapshot(ctx, reference)
    assert (after.state, after.version, after.events) == (before.state, before.version + 1, before.events + 1)
    event = events_of(ctx, reference)[-1]
    assert event.action == "classified"
    assert event.payload == {
        "category": [old_category, "licensing_and_permits"],
        "regulation_id": [old_regulation, regulation.id],
    }


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "category"),
        ({"category": "astrology"}, "category"),
        ({"regulation": 999_999}, "regulation"),
        ({"regulation": {"colour": "red"}}, "regulation"),
    ],
)
def test_classifying_with_bad_values_is_refused(
    ctx: ServiceContext, cast: Cast, kwargs: dict[str, Any], field: str
) -> None:
    reference = claim_in(ctx, cast, "under_review")
    before = snapshot(ctx, reference)
    with pytest.raises(ValidationFailed) as refused:
        classify(ctx, reference, cast.triage, **kwargs)
    assert list(refused.value.errors) == [field]
    assert snapshot(ctx, reference) == before


def test_a_note_is_audited_by_its_hash_only(ctx: ServiceContext, cast: Cast) -> None:
    reference = claim_in(ctx, cast, "under_review")
    before = snapshot(ctx, reference)
    text = "The group's chair sounded worried about the inspection."
    entry = add_note(ctx, reference, cast.appeal_panel, text)
    after = snapshot(ctx, reference)
    assert (after.state, after.events) == (before.state, before.events + 1)
    event = events_of(ctx, reference)[-1]
    assert (event.action, event.seq, event.actor_id) == ("note_added", entry.seq, cast.appeal_panel.audit_id)
    assert event.payload == {"text_sha256": {"note": hashlib.sha256(text.encode()).hexdigest()}}
    assert text not in json.dumps(event.payload)


@pytest.mark.parametrize("note", ["", "   ", "bad\x00note", 42, "x" * 10_001])
def test_a_bad_note_is_refused(ctx: ServiceContext, cast: Cast, note: Any) -> None:
    reference = claim_in(ctx, cast, "under_review")
    with pytest.raises(ValidationFailed) as refused:
        add_note(ctx, reference, cast.reviewer, note)
    assert list(refused.value.errors) == ["note"]
    assert timeline_of(ctx, reference) == []


def test_duplicate_of_is_refused_unless_the_reason_is_duplicate(ctx: ServiceContext, cast: Cast) -> None:
    other = submit_claim(ctx, VALID_SUBMISSION).reference
    reference = submit_claim(ctx, VALID_SUBMISSION).reference
    with pytest.raises(ValidationFailed) as refused:
        fire(ctx, reference, "decline", cast.triage, {**INPUTS["decline"], "duplicate_of": other})
    assert "duplicate_of" in refused.value.errors
    assert get_claim(ctx, reference).state == "submitted"


def test_line_breaks_a_browser_sends_are_stored_as_plain_new_lines(ctx: ServiceContext) -> None:
    filed = submit_claim(ctx, submission(initiative={"description": "We cook.\r\nWe eat.\r\n\r\nTogether."}))
    assert filed.claim.initiative_description == "We cook.\nWe eat.\n\nTogether."
