"""The claim workflow of DESIGN section 4, checked as data and through the engine.

Pure unit tests: no database, no Flask. The expected table below is written out again
from DESIGN section 4 on purpose, so that a change to ``workflows/claim.py`` that drifts
from the design fails here instead of being copied into the test.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

import pytest

from workflows import (
    ACTIVE_STATES,
    CLOCKS,
    CLOCKS_ON_SUBMISSION,
    INITIAL_STATE,
    STATE_GUIDANCE,
    STATE_LABELS,
    STATES,
    TERMINAL_STATES,
    TIMELINE_LABELS,
    TRANSITIONS,
    TRANSITIONS_BY_TRIGGER,
    TRIGGERS,
    IllegalTrigger,
    Transition,
    is_terminal,
    next_state,
    transitions_from,
    triggers_from,
)
from workflows.vocabulary import BARRIER_CATEGORIES, OUTCOMES, REGIONS, REMEDIES_SOUGHT, SECTORS, label

# --- the design, restated ---------------------------------------------------------------

TRIAGE_OFFICER = ("triage", "admin")
REVIEWER = ("reviewer", "admin")
APPEAL_PANEL = ("appeal_panel", "admin")
ADMIN = ("admin",)
GROUP = ("group",)
SYSTEM = ("system",)

DESIGN_ACTIVE_STATES = ("submitted", "under_review", "awaiting_information", "upheld", "not_upheld", "appealed")
DESIGN_TERMINAL_STATES = ("resolved", "closed", "withdrawn", "lapsed")
ALL_CLOCKS = ("triage", "decision", "information", "appeal_window", "appeal_decision", "resolution")


class Row(NamedTuple):
    """One row of the DESIGN section 4 table, in a shape both sides can be put into."""

    sources: frozenset[str]
    dest: str
    fired_by: frozenset[str]
    required: tuple[str, ...]
    optional: tuple[str, ...]
    # (action, clock) pairs, in the order they are applied.
    clocks: tuple[tuple[str, str], ...]
    # (clock, "running" | "expired"), or None when the trigger may fire at any time.
    condition: tuple[str, str] | None


def row(
    sources: tuple[str, ...],
    dest: str,
    fired_by: tuple[str, ...],
    *,
    required: tuple[str, ...] = (),
    optional: tuple[str, ...] = (),
    clocks: tuple[tuple[str, str], ...] = (),
    condition: tuple[str, str] | None = None,
) -> Row:
    return Row(frozenset(sources), dest, frozenset(fired_by), required, optional, clocks, condition)


EXPECTED: dict[str, Row] = {
    "accept": row(
        ("submitted",),
        "under_review",
        TRIAGE_OFFICER,
        required=("category", "regulation"),
        optional=("assignee",),
        clocks=(("stop", "triage"), ("start", "decision")),
    ),
    "decline": row(
        ("submitted",),
        "closed",
        TRIAGE_OFFICER,
        required=("reason_code", "explanation"),
        # Required only when the reason is "duplicate": see its own test below.
        optional=("duplicate_of",),
        clocks=(("stop", "triage"),),
    ),
    "request_information": row(
        ("under_review",),
        "awaiting_information",
        REVIEWER,
        required=("question",),
        clocks=(("pause", "decision"), ("start", "information")),
    ),
    "provide_information": row(
        ("awaiting_information",),
        "under_review",
        GROUP,
        required=("answer",),
        optional=("evidence",),
        clocks=(("stop", "information"), ("resume", "decision")),
    ),
    "information_lapsed": row(
        ("awaiting_information",),
        "lapsed",
        SYSTEM,
        clocks=(("stop", "information"), ("stop", "decision")),
        condition=("information", "expired"),
    ),
    "uphold": row(
        ("under_review",),
        "upheld",
        REVIEWER,
        # Issue 20: the summary for the public register (asked only with the group's consent) and
        # the earlier statements it cites.
        required=("reasons", "remedy", "public_summary"),
        optional=("cites",),
        clocks=(("stop", "decision"), ("start", "resolution")),
    ),
    "not_uphold": row(
        ("under_review",),
        "not_upheld",
        REVIEWER,
        required=("reasons", "reason_code", "public_summary"),
        optional=("cites",),
        clocks=(("stop", "decision"), ("start", "appeal_window")),
    ),
    "appeal": row(
        ("not_upheld",),
        "appealed",
        GROUP,
        required=("grounds",),
        clocks=(("stop", "appeal_window"), ("start", "appeal_decision")),
        condition=("appeal_window", "running"),
    ),
    "appeal_window_closed": row(
        ("not_upheld",),
        "resolved",
        SYSTEM,
        clocks=(("stop", "appeal_window"),),
        condition=("appeal_window", "expired"),
    ),
    "allow_appeal": row(
        ("appealed",),
        "upheld",
        APPEAL_PANEL,
        required=("reasons", "remedy", "public_summary"),
        optional=("cites",),
        clocks=(("stop", "appeal_decision"), ("start", "resolution")),
    ),
    "dismiss_appeal": row(
        ("appealed",),
        "resolved",
        APPEAL_PANEL,
        required=("reasons", "public_summary"),
        optional=("cites",),
        clocks=(("stop", "appeal_decision"),),
    ),
    "record_resolution": row(
        ("upheld",),
        "resolved",
        REVIEWER,
        required=("outcome", "summary"),
        clocks=(("stop", "resolution"),),
    ),
    "withdraw": row(
        tuple(s for s in DESIGN_ACTIVE_STATES if s != "upheld"),  # issue 19: not once the claim is upheld
        "withdrawn",
        GROUP,
        optional=("reason",),
        clocks=tuple(("stop", clock) for clock in ALL_CLOCKS),
    ),
    "reopen": row(
        ("closed", "lapsed"),
        "under_review",
        ADMIN,
        required=("justification",),
        clocks=(("start", "decision"),),
    ),
}

# How a claim ended, for the triggers that end it with a fixed outcome.
EXPECTED_OUTCOMES: dict[str, str] = {
    "decline": "declined",
    "withdraw": "withdrawn",
    "information_lapsed": "lapsed",
    "appeal_window_closed": "not_upheld",
    "dismiss_appeal": "appeal_dismissed",
}

# Choice lists DESIGN section 4 spells out.
EXPECTED_CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("decline", "reason_code"): ("out_of_scope", "duplicate", "not_a_regulatory_barrier"),
    ("uphold", "remedy"): (
        "waiver",
        "guidance_clarified",
        "regulation_amendment",
        "referral_to_national_body",
        "other",
    ),
    ("allow_appeal", "remedy"): (
        "waiver",
        "guidance_clarified",
        "regulation_amendment",
        "referral_to_national_body",
        "other",
    ),
    ("record_resolution", "outcome"): (
        "waiver_granted",
        "guidance_clarified",
        "regulation_amended",
        "referred_to_national_body",
        "remedy_not_implemented",
    ),
}

# Inputs the design marks "public": shown to the group on its timeline.
PUBLIC_INPUTS: tuple[tuple[str, str], ...] = (
    ("decline", "explanation"),
    ("request_information", "question"),
    ("uphold", "reasons"),
    ("not_uphold", "reasons"),
    ("allow_appeal", "reasons"),
    ("dismiss_appeal", "reasons"),
    ("record_resolution", "summary"),
)

EXPECTED_CLOCK_DEFAULTS: dict[str, int] = {
    "triage": 5,
    "decision": 20,
    "information": 20,
    "appeal_window": 20,
    "appeal_decision": 20,
    "resolution": 40,
}

LEGAL_PAIRS: list[tuple[str, str]] = [
    (source, trigger) for trigger, expected in EXPECTED.items() for source in sorted(expected.sources)
]
ILLEGAL_PAIRS: list[tuple[str, str]] = [
    (state, trigger)
    for state in DESIGN_ACTIVE_STATES + DESIGN_TERMINAL_STATES
    for trigger in EXPECTED
    if state not in EXPECTED[trigger].sources
]


def as_row(t: Transition) -> Row:
    return Row(
        sources=frozenset(t.sources),
        dest=t.dest,
        fired_by=frozenset(t.fired_by),
        required=tuple(i.name for i in t.inputs if i.required),
        optional=tuple(i.name for i in t.inputs if not i.required),
        clocks=tuple((e.action, e.clock) for e in t.clocks),
        condition=(t.clock_condition.clock, t.clock_condition.must_be) if t.clock_condition else None,
    )


def pair_id(pair: tuple[str, str]) -> str:
    return f"{pair[0]}-{pair[1]}"


# --- states -----------------------------------------------------------------------------


def test_a_claim_starts_as_submitted():
    assert INITIAL_STATE == "submitted"


def test_the_states_are_those_of_the_design():
    assert ACTIVE_STATES == DESIGN_ACTIVE_STATES
    assert TERMINAL_STATES == DESIGN_TERMINAL_STATES
    assert set(STATES) == set(DESIGN_ACTIVE_STATES) | set(DESIGN_TERMINAL_STATES)
    assert len(STATES) == len(set(STATES))


@pytest.mark.parametrize("state", DESIGN_ACTIVE_STATES + DESIGN_TERMINAL_STATES)
def test_every_state_has_a_label_for_people(state):
    assert STATE_LABELS[state].strip()


@pytest.mark.parametrize("state", DESIGN_ACTIVE_STATES + DESIGN_TERMINAL_STATES)
def test_every_state_tells_the_group_what_it_means_and_what_comes_next(state):
    assert len(STATE_GUIDANCE[state].split()) >= 8


@pytest.mark.parametrize("action", ("submitted", *EXPECTED))
def test_every_step_has_a_line_on_the_groups_timeline(action):
    assert TIMELINE_LABELS[action].strip()


@pytest.mark.parametrize("clock", ALL_CLOCKS)
def test_every_clock_says_what_its_due_date_means_to_the_group(clock):
    assert CLOCKS[clock].due_phrase.strip()


@pytest.mark.parametrize("slug", SECTORS + REGIONS + BARRIER_CATEGORIES + REMEDIES_SOUGHT)
def test_every_choice_on_the_claim_form_reads_as_words(slug):
    assert "_" not in label(slug)
    assert label(slug)[0].isupper()


@pytest.mark.parametrize("state", DESIGN_TERMINAL_STATES)
def test_terminal_states_are_terminal(state):
    assert is_terminal(state)


@pytest.mark.parametrize("state", DESIGN_ACTIVE_STATES)
def test_active_states_are_not_terminal(state):
    assert not is_terminal(state)


# --- the table, row by row --------------------------------------------------------------


def test_the_workflow_has_exactly_the_triggers_of_the_design():
    assert tuple(EXPECTED) == TRIGGERS
    assert len(TRANSITIONS) == len(TRANSITIONS_BY_TRIGGER), "a trigger appears twice in the table"


@pytest.mark.parametrize("trigger", list(EXPECTED))
def test_each_transition_matches_its_row_in_the_design(trigger):
    assert as_row(TRANSITIONS_BY_TRIGGER[trigger]) == EXPECTED[trigger]


@pytest.mark.parametrize("trigger", list(EXPECTED))
def test_each_transition_has_a_label_for_people(trigger):
    assert TRANSITIONS_BY_TRIGGER[trigger].label.strip()


@pytest.mark.parametrize("trigger", list(EXPECTED))
def test_each_transition_may_be_fired_by_exactly_its_firers(trigger):
    transition = TRANSITIONS_BY_TRIGGER[trigger]
    for firer in ("triage", "reviewer", "appeal_panel", "admin", "group", "system"):
        assert transition.may_be_fired_by(firer) == (firer in EXPECTED[trigger].fired_by), firer


@pytest.mark.parametrize("trigger", ["provide_information", "withdraw"])
def test_answering_and_withdrawing_are_fired_only_by_the_group(trigger):
    assert TRANSITIONS_BY_TRIGGER[trigger].fired_by == ("group",)


def test_appeal_is_fired_only_by_the_group():
    assert TRANSITIONS_BY_TRIGGER["appeal"].fired_by == ("group",)


@pytest.mark.parametrize("trigger", ["information_lapsed", "appeal_window_closed"])
def test_deadline_triggers_are_fired_only_by_the_system(trigger):
    assert TRANSITIONS_BY_TRIGGER[trigger].fired_by == ("system",)


def test_only_an_admin_may_reopen_a_claim():
    assert TRANSITIONS_BY_TRIGGER["reopen"].fired_by == ("admin",)


@pytest.mark.parametrize(
    "trigger", [t for t, r in EXPECTED.items() if r.fired_by & {"triage", "reviewer", "appeal_panel"}]
)
def test_an_admin_may_do_any_officer_action(trigger):
    assert TRANSITIONS_BY_TRIGGER[trigger].may_be_fired_by("admin")


def test_a_group_may_withdraw_from_every_active_state_until_its_claim_is_upheld():
    assert set(TRANSITIONS_BY_TRIGGER["withdraw"].sources) == set(DESIGN_ACTIVE_STATES) - {"upheld"}


def test_withdrawing_stops_every_clock():
    stopped = {e.clock for e in TRANSITIONS_BY_TRIGGER["withdraw"].clocks if e.action == "stop"}
    assert stopped == set(CLOCKS)


def test_submission_starts_the_triage_clock():
    assert [(e.action, e.clock) for e in CLOCKS_ON_SUBMISSION] == [("start", "triage")]


def test_a_question_pauses_the_decision_clock_and_the_answer_resumes_it():
    asked = [(e.action, e.clock) for e in TRANSITIONS_BY_TRIGGER["request_information"].clocks]
    answered = [(e.action, e.clock) for e in TRANSITIONS_BY_TRIGGER["provide_information"].clocks]
    assert ("pause", "decision") in asked
    assert ("resume", "decision") in answered


def test_appeal_is_allowed_only_while_the_appeal_window_runs():
    condition = TRANSITIONS_BY_TRIGGER["appeal"].clock_condition
    assert condition is not None
    assert (condition.clock, condition.must_be) == ("appeal_window", "running")


@pytest.mark.parametrize(
    ("trigger", "clock"), [("information_lapsed", "information"), ("appeal_window_closed", "appeal_window")]
)
def test_deadline_triggers_fire_only_after_their_clock_ran_out(trigger, clock):
    condition = TRANSITIONS_BY_TRIGGER[trigger].clock_condition
    assert condition is not None
    assert (condition.clock, condition.must_be) == (clock, "expired")


def test_a_duplicate_decline_must_name_the_claim_it_duplicates():
    (duplicate_of,) = [i for i in TRANSITIONS_BY_TRIGGER["decline"].inputs if i.name == "duplicate_of"]
    assert duplicate_of.kind == "claim_reference"
    assert duplicate_of.required_when == ("reason_code", "duplicate")


@pytest.mark.parametrize(("trigger", "name"), PUBLIC_INPUTS, ids=pair_id)
def test_inputs_the_design_calls_public_are_shown_to_the_group(trigger, name):
    (spec,) = [i for i in TRANSITIONS_BY_TRIGGER[trigger].inputs if i.name == name]
    assert spec.public


@pytest.mark.parametrize(("trigger", "name"), list(EXPECTED_CHOICES), ids=pair_id)
def test_choices_are_those_listed_in_the_design(trigger, name):
    choices = EXPECTED_CHOICES[trigger, name]
    (spec,) = [i for i in TRANSITIONS_BY_TRIGGER[trigger].inputs if i.name == name]
    assert spec.kind == "choice"
    assert spec.choices == choices


@pytest.mark.parametrize(("clock", "days"), list(EXPECTED_CLOCK_DEFAULTS.items()))
def test_clock_defaults_are_those_of_the_design(clock, days):
    assert CLOCKS[clock].default_working_days == days


def test_there_are_exactly_the_designed_clocks():
    assert set(CLOCKS) == set(ALL_CLOCKS)


# --- outcomes ---------------------------------------------------------------------------


@pytest.mark.parametrize(("trigger", "outcome"), list(EXPECTED_OUTCOMES.items()))
def test_ending_triggers_record_the_designed_outcome(trigger, outcome):
    transition = TRANSITIONS_BY_TRIGGER[trigger]
    assert transition.outcome == outcome
    assert transition.outcome_input is None
    assert outcome in OUTCOMES


def test_record_resolution_takes_the_outcome_from_its_outcome_input():
    transition = TRANSITIONS_BY_TRIGGER["record_resolution"]
    assert transition.outcome is None
    assert transition.outcome_input == "outcome"
    (spec,) = [i for i in transition.inputs if i.name == "outcome"]
    assert spec.required
    assert set(spec.choices) <= set(OUTCOMES)


@pytest.mark.parametrize("trigger", [t for t in EXPECTED if t not in EXPECTED_OUTCOMES and t != "record_resolution"])
def test_triggers_that_do_not_end_a_claim_set_no_outcome(trigger):
    transition = TRANSITIONS_BY_TRIGGER[trigger]
    assert transition.outcome is None
    assert transition.outcome_input is None


@pytest.mark.parametrize("trigger", list(EXPECTED))
def test_every_transition_into_a_terminal_state_says_how_the_claim_ended(trigger):
    transition = TRANSITIONS_BY_TRIGGER[trigger]
    ends = transition.dest in DESIGN_TERMINAL_STATES
    says = (transition.outcome is not None) or (transition.outcome_input is not None)
    assert ends == says


# --- the engine -------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "trigger"), LEGAL_PAIRS, ids=pair_id)
def test_each_legal_trigger_moves_the_claim_to_its_destination(source, trigger):
    assert next_state(source, trigger) == EXPECTED[trigger].dest


@pytest.mark.parametrize(("state", "trigger"), ILLEGAL_PAIRS, ids=pair_id)
def test_a_trigger_not_in_the_table_for_this_state_is_refused(state, trigger):
    with pytest.raises(IllegalTrigger):
        next_state(state, trigger)


@pytest.mark.parametrize("trigger", ["approve", "", "ACCEPT", "accept "])
def test_an_unknown_trigger_is_refused(trigger):
    with pytest.raises(IllegalTrigger):
        next_state("submitted", trigger)


@pytest.mark.parametrize("state", ["draft", "", "Submitted", "rejected"])
def test_an_unknown_state_is_refused(state):
    with pytest.raises(IllegalTrigger):
        next_state(state, "accept")


@pytest.mark.parametrize("state", DESIGN_ACTIVE_STATES + DESIGN_TERMINAL_STATES)
def test_the_engine_has_no_to_state_back_doors(state):
    # auto_transitions=True would add to_<state>() triggers that skip every rule.
    for source in DESIGN_ACTIVE_STATES + DESIGN_TERMINAL_STATES:
        with pytest.raises(IllegalTrigger):
            next_state(source, f"to_{state}")


@pytest.mark.parametrize(
    "name", ["is_resolved", "may_accept", "may_trigger", "trigger", "state", "__init__", "__class__"]
)
def test_names_the_engine_gives_its_subject_are_not_triggers(name):
    # The engine adds is_<state>, may_<trigger> and trigger() to the subject it drives;
    # none of them is a workflow trigger, so none may "fire" or leak a TypeError.
    with pytest.raises(IllegalTrigger):
        next_state("submitted", name)


# --- structure --------------------------------------------------------------------------


def test_every_state_is_reachable_from_submitted():
    seen = {INITIAL_STATE}
    queue = deque([INITIAL_STATE])
    while queue:
        for t in transitions_from(queue.popleft()):
            if t.dest not in seen:
                seen.add(t.dest)
                queue.append(t.dest)
    assert seen == set(STATES)


@pytest.mark.parametrize(
    ("state", "triggers"),
    [("resolved", ()), ("withdrawn", ()), ("closed", ("reopen",)), ("lapsed", ("reopen",))],
)
def test_terminal_states_have_no_way_out_except_reopen(state, triggers):
    assert triggers_from(state) == triggers


@pytest.mark.parametrize("state", DESIGN_ACTIVE_STATES)
def test_every_active_state_has_a_way_forward_besides_withdrawal(state):
    assert set(triggers_from(state)) - {"withdraw"}


@pytest.mark.parametrize("trigger", list(EXPECTED))
def test_every_clock_a_transition_names_exists(trigger):
    transition = TRANSITIONS_BY_TRIGGER[trigger]
    named = {e.clock for e in transition.clocks}
    if transition.clock_condition:
        named.add(transition.clock_condition.clock)
    assert named <= set(CLOCKS)
    assert {e.action for e in transition.clocks} <= {"start", "pause", "resume", "stop"}


def test_the_clock_started_on_submission_exists():
    assert {e.clock for e in CLOCKS_ON_SUBMISSION} <= set(CLOCKS)


@pytest.mark.parametrize(
    ("trigger", "name"),
    [(t.trigger, i.name) for t in TRANSITIONS for i in t.inputs if i.kind == "choice"],
    ids=pair_id,
)
def test_every_choice_input_offers_choices(trigger, name):
    (spec,) = [i for i in TRANSITIONS_BY_TRIGGER[trigger].inputs if i.name == name]
    assert spec.choices
    assert len(spec.choices) == len(set(spec.choices))


@pytest.mark.parametrize("trigger", list(EXPECTED))
def test_input_names_are_unique_within_a_transition(trigger):
    names = TRANSITIONS_BY_TRIGGER[trigger].input_names
    assert len(names) == len(set(names))


def test_separation_of_duties_applies_exactly_to_the_appeal_decisions():
    assert {t.trigger for t in TRANSITIONS if t.separation_of_duties} == {"allow_appeal", "dismiss_appeal"}


@pytest.mark.parametrize("trigger", ["allow_appeal", "dismiss_appeal"])
def test_appeal_decisions_count_as_decisions(trigger):
    assert TRANSITIONS_BY_TRIGGER[trigger].is_decision


@pytest.mark.parametrize("trigger", [t for t, r in EXPECTED.items() if r.fired_by & {"group", "system"}])
def test_the_group_and_the_system_never_make_a_decision(trigger):
    assert not TRANSITIONS_BY_TRIGGER[trigger].is_decision
