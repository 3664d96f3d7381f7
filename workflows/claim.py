"""The claim workflow of DESIGN section 4, as data.

This module is the single source of truth for the states a claim moves through, the
triggers that move it, who may fire each one, what input each one needs and what it
does to the working-day clocks. The engine (``workflows.machine``), the services, the
pages, the API and the diagram all read it; none of them restate it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from workflows.vocabulary import (
    BARRIER_CATEGORIES,
    DECLINE_REASONS,
    NOT_UPHELD_REASONS,
    REMEDIES,
    RESOLUTION_OUTCOMES,
)

INITIAL_STATE = "submitted"
ACTIVE_STATES: tuple[str, ...] = (
    "submitted",
    "under_review",
    "awaiting_information",
    "upheld",
    "not_upheld",
    "appealed",
)
TERMINAL_STATES: tuple[str, ...] = ("resolved", "closed", "withdrawn", "lapsed")
STATES: tuple[str, ...] = ACTIVE_STATES + TERMINAL_STATES

STATE_LABELS: dict[str, str] = {
    "submitted": "Submitted",
    "under_review": "Under review",
    "awaiting_information": "Waiting for information from the group",
    "upheld": "Upheld",
    "not_upheld": "Not upheld",
    "appealed": "Appealed",
    "resolved": "Resolved",
    "closed": "Closed",
    "withdrawn": "Withdrawn",
    "lapsed": "Lapsed",
}

# What each state means to the people waiting on it, as a tone. The pages colour a state's tag by
# its tone, the same on the console and on the group's tracking page; guarantee/templates/_tag.html
# maps each tone to a GOV.UK tag colour. A tone is about who acts next and how it turned out, so that
# a list can be scanned: the council at work, the group owing an answer, a second look, a yes, a no,
# or nothing more to do.
Tone = Literal["in_progress", "waiting_for_group", "on_appeal", "favourable", "unfavourable", "ended"]
TONES: tuple[Tone, ...] = ("in_progress", "waiting_for_group", "on_appeal", "favourable", "unfavourable", "ended")
STATE_TONES: dict[str, Tone] = {
    # The council has the claim and owes the next step (triage, then a decision).
    "submitted": "in_progress",
    "under_review": "in_progress",
    # The group owes an answer, and its own clock is running.
    "awaiting_information": "waiting_for_group",
    # The group got what it asked for, at first or on appeal.
    "upheld": "favourable",
    # A no: on the merits (which the group may appeal), or at triage (which an administrator may reopen).
    "not_upheld": "unfavourable",
    "closed": "unfavourable",
    # Decided once, and being looked at again by officers who took no part in the first decision.
    "appealed": "on_appeal",
    # Nothing more will happen unless someone starts it again: the remedy is in place, the appeal was
    # dismissed or never made, the group withdrew, or no answer came in time.
    "resolved": "ended",
    "withdrawn": "ended",
    "lapsed": "ended",
}

# What each state means for the group, in plain words: what is happening and what comes next.
# The tracking page shows it beside the due date of the running clock.
STATE_GUIDANCE: dict[str, str] = {
    "submitted": (
        "We have your claim. An officer will check that it is about a regulation that blocks your "
        "initiative, and either accept it for review or explain why not."
    ),
    "under_review": (
        "An officer is reviewing your claim. They will decide whether the regulation should be waived, "
        "clarified or changed, and may ask you a question first."
    ),
    "awaiting_information": (
        "An officer has asked you a question. Answer it on this page. The time we have to decide stops "
        "while we wait for you, and starts again when you answer."
    ),
    "upheld": ("Your claim was upheld. The council will now put the remedy into practice and record what it did."),
    "not_upheld": (
        "Your claim was not upheld. The reasons are on this page. If you think the decision is wrong, you "
        "can appeal until the last day shown."
    ),
    "appealed": ("We have your appeal. Officers who took no part in the first decision will consider it."),
    "resolved": "Your claim is finished. The timeline on this page shows what was decided and done.",
    "closed": "Your claim was closed without a review. The timeline on this page says why.",
    "withdrawn": "You withdrew this claim. Nothing more will happen to it.",
    "lapsed": (
        "Your claim lapsed because we did not get an answer to our question in time. If you think this is "
        "wrong, contact the council: an administrator can reopen it."
    ),
}

# What each state means, for anyone reading how claims are handled (the group's guidance above speaks
# to the group about its own claim).
STATE_DESCRIPTIONS: dict[str, str] = {
    "submitted": (
        "The group has filed the claim. An officer checks that it is about a rule that blocks the group, "
        "then accepts it for review or closes it and says why."
    ),
    "under_review": (
        "An officer is looking at the claim. They decide if the rule should be waived, made clearer or "
        "changed. They may ask the group a question first."
    ),
    "awaiting_information": (
        "An officer has asked the group a question. The time to decide stops until the group answers. If "
        "no answer comes in time, the claim lapses."
    ),
    "upheld": "The claim was upheld. The council puts the remedy in place and says what it did.",
    "not_upheld": "The claim was not upheld. The group can appeal until the time to appeal runs out.",
    "appealed": "The group has appealed. Officers who took no part in the first decision look at it again.",
    "resolved": "The claim is finished: the remedy is in place, or the decision stands.",
    "closed": "The claim was closed without a review, and the group was told why. An administrator can reopen it.",
    "withdrawn": "The group withdrew the claim. Nothing more happens to it.",
    "lapsed": "The group did not answer a question in time, so the claim lapsed. An administrator can reopen it.",
}

# Who fires a trigger: an officer role, the group holding the tracking link, or the
# system (the deadline sweeper).
GROUP: Literal["group"] = "group"
SYSTEM: Literal["system"] = "system"
Firer = Literal["triage", "reviewer", "appeal_panel", "admin", "group", "system"]
# Each firer in the middle of a sentence ("a triage officer or an administrator").
FIRER_NAMES: dict[str, str] = {
    "triage": "a triage officer",
    "reviewer": "a reviewer",
    "appeal_panel": "a member of the appeal panel",
    "admin": "an administrator",
    "group": "the group",
    "system": "the service itself",
}

ClockName = Literal["triage", "decision", "information", "appeal_window", "appeal_decision", "resolution"]
ClockAction = Literal["start", "pause", "resume", "stop"]


@dataclass(frozen=True)
class Clock:
    name: ClockName
    label: str
    default_working_days: int
    # What the due date means to the group, before the date: "We will decide by".
    due_phrase: str = ""
    # After the date, for a clock the council keeps: "We should have decided by" (the group's own
    # deadlines have none: when one passes, the sweeper closes what it was for).
    late_phrase: str = ""
    # The clock in the middle of a sentence: "only before the time to appeal runs out".
    phrase: str = ""


CLOCKS: dict[str, Clock] = {
    c.name: c
    for c in (
        Clock(
            "triage",
            "Triage",
            5,
            "We will check your claim by",
            "We should have checked your claim by",
            "the time to check the claim",
        ),
        Clock(
            "decision",
            "Decision",
            20,
            "We will decide your claim by",
            "We should have decided your claim by",
            "the time to decide",
        ),
        Clock("information", "Reply to a question", 20, "Answer our question by", "", "the time to answer a question"),
        Clock("appeal_window", "Time to appeal", 20, "The last day to appeal is", "", "the time to appeal"),
        Clock(
            "appeal_decision",
            "Appeal decision",
            20,
            "We will decide your appeal by",
            "We should have decided your appeal by",
            "the time to decide the appeal",
        ),
        Clock(
            "resolution",
            "Resolution",
            40,
            "The council will put the remedy in place by",
            "The council should have put the remedy in place by",
            "the time to put the remedy in place",
        ),
    )
}


@dataclass(frozen=True)
class ClockEffect:
    clock: ClockName
    action: ClockAction


def start(clock: ClockName) -> ClockEffect:
    return ClockEffect(clock, "start")


def pause(clock: ClockName) -> ClockEffect:
    return ClockEffect(clock, "pause")


def resume(clock: ClockName) -> ClockEffect:
    return ClockEffect(clock, "resume")


def stop(clock: ClockName) -> ClockEffect:
    return ClockEffect(clock, "stop")


# A pause stops a clock's count while the council waits for the group's answer, so the council is
# not counted late for the group's time; on the answer the clock runs again with the working days
# it had left. A question asked on or after the day the clock was due has no days left to keep:
# the count stops all the same (the group's own deadline is what matters while it answers), but
# the answer gives no more time: the clock is due again on the day it was due before, so a late
# decision stays late. The clock's working says so, in these words.
LATE_PAUSE_RULE = (
    "A question asked on or after the day a decision was due gives no extra time: "
    "once it is answered, the decision stays due on the day it was due before."
)


STOP_ALL_CLOCKS: tuple[ClockEffect, ...] = tuple(stop(name) for name in CLOCKS)  # type: ignore[arg-type]

# Submission is not a transition, but it starts a clock.
CLOCKS_ON_SUBMISSION: tuple[ClockEffect, ...] = (start("triage"),)

InputKind = Literal["text", "choice", "regulation", "officer", "claim_reference", "evidence", "citations"]


@dataclass(frozen=True)
class Input:
    """One piece of input a trigger asks for. Its label is plain words, with no notes in brackets:
    whether it is optional, and who sees it, come from ``required`` and ``public``
    (``workflows.sentences`` words them for each page)."""

    name: str
    kind: InputKind
    label: str
    required: bool = True
    choices: tuple[str, ...] = ()
    max_length: int = 10_000
    # Shown to the group on its timeline (reasons, questions), or internal.
    public: bool = True
    # Required only when another input has this value, e.g. duplicate_of.
    required_when: tuple[str, str] | None = None
    # Asked only when the claim's flag of this name is true, with the flag in words: (the claim's
    # attribute, "the group agreed to ..."). Otherwise the form does not ask it and says ``not_asked``.
    asked_if: tuple[str, str] | None = None
    not_asked: str = ""
    # A hint under the input, saying what happens to what is written.
    hint: str = ""


@dataclass(frozen=True)
class ClockCondition:
    """A trigger that may be fired only while a clock runs, or only after it ran out."""

    clock: ClockName
    must_be: Literal["running", "expired"]


@dataclass(frozen=True)
class Transition:
    trigger: str
    label: str
    sources: tuple[str, ...]
    dest: str
    fired_by: tuple[Firer, ...]
    inputs: tuple[Input, ...] = ()
    clocks: tuple[ClockEffect, ...] = ()
    clock_condition: ClockCondition | None = None
    # A decision on the claim: whoever made one may not decide its appeal.
    is_decision: bool = False
    # Fired by the appeal panel: the decider must not have made an earlier decision.
    separation_of_duties: bool = False
    # What the trigger does to when the claim was decided on its merits (the statistics' time to a
    # decision): "stamp" it now, or "clear" it, because the claim is to be decided again.
    decided_at: Literal["stamp", "clear"] | None = None
    # The claim's outcome after this trigger: a fixed value, or the value of an input.
    outcome: str | None = None
    outcome_input: str | None = None
    # A decision the officer checks before it is made: what the group will be told and what happens
    # to the clocks are shown first, and only a second, confirming step makes it.
    confirm_first: bool = False
    input_names: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_names", tuple(i.name for i in self.inputs))

    def may_be_fired_by(self, firer: str) -> bool:
        return firer in self.fired_by


def _reasons() -> Input:
    return Input("reasons", "text", "Reasons for the decision")


# The deciding officer drafts what the public register will say (issue 20); a second officer
# approves it before it is published (guarantee/services/publishing.py).
PUBLIC_SUMMARY = "public_summary"
CITES = "cites"


def _publishing() -> tuple[Input, Input]:
    return (
        Input(
            PUBLIC_SUMMARY,
            "text",
            "Summary for the public register",
            public=False,
            max_length=5_000,
            asked_if=("consent_publish", "the group agreed to a decision statement being published"),
            not_asked=(
                "The group did not agree to a decision statement being published. Only the decision, the rule "
                "and the coarsened facts of the claim will be published, so no summary is asked for."
            ),
            hint=(
                "A second officer checks it before it is published on the register. Write it without names, "
                "addresses or contact details. It is separate from the reasons the group gets."
            ),
        ),
        Input(
            CITES,
            "citations",
            "Earlier decision statements on this rule",
            required=False,
            public=False,
            hint="Cite the statements this decision follows or departs from. Citations are published with it.",
        ),
    )


TRIAGE: tuple[Firer, ...] = ("triage", "admin")
REVIEWER: tuple[Firer, ...] = ("reviewer", "admin")
APPEAL_PANEL: tuple[Firer, ...] = ("appeal_panel", "admin")

TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "accept",
        "Accept for review",
        ("submitted",),
        "under_review",
        TRIAGE,
        inputs=(
            Input("category", "choice", "Barrier category", choices=BARRIER_CATEGORIES, public=False),
            Input("regulation", "regulation", "Regulation", public=False),
            Input("assignee", "officer", "Reviewer to assign", required=False, public=False),
        ),
        clocks=(stop("triage"), start("decision")),
        is_decision=True,
    ),
    Transition(
        "decline",
        "Decline",
        ("submitted",),
        "closed",
        TRIAGE,
        inputs=(
            Input("reason_code", "choice", "Reason", choices=DECLINE_REASONS),
            Input("explanation", "text", "Explanation"),
            Input(
                "duplicate_of",
                "claim_reference",
                "Reference of the claim this duplicates",
                required=False,
                required_when=("reason_code", "duplicate"),
            ),
        ),
        clocks=(stop("triage"),),
        is_decision=True,
        decided_at="stamp",
        outcome="declined",
        confirm_first=True,
    ),
    Transition(
        "request_information",
        "Ask the group a question",
        ("under_review",),
        "awaiting_information",
        REVIEWER,
        inputs=(Input("question", "text", "Question for the group"),),
        clocks=(pause("decision"), start("information")),
    ),
    Transition(
        "provide_information",
        "Answer the question",
        ("awaiting_information",),
        "under_review",
        (GROUP,),
        inputs=(
            Input("answer", "text", "Your answer"),
            Input("evidence", "evidence", "Evidence you uploaded for this answer", required=False),
        ),
        clocks=(stop("information"), resume("decision")),
    ),
    Transition(
        "information_lapsed",
        "No answer in time",
        ("awaiting_information",),
        "lapsed",
        (SYSTEM,),
        clocks=(stop("information"), stop("decision")),
        clock_condition=ClockCondition("information", "expired"),
        outcome="lapsed",
    ),
    Transition(
        "uphold",
        "Uphold",
        ("under_review",),
        "upheld",
        REVIEWER,
        inputs=(_reasons(), Input("remedy", "choice", "Remedy", choices=REMEDIES), *_publishing()),
        clocks=(stop("decision"), start("resolution")),
        is_decision=True,
        decided_at="stamp",
        confirm_first=True,
    ),
    Transition(
        "not_uphold",
        "Do not uphold",
        ("under_review",),
        "not_upheld",
        REVIEWER,
        inputs=(
            _reasons(),
            Input("reason_code", "choice", "Main reason", choices=NOT_UPHELD_REASONS),
            *_publishing(),
        ),
        clocks=(stop("decision"), start("appeal_window")),
        is_decision=True,
        decided_at="stamp",
        confirm_first=True,
    ),
    Transition(
        "appeal",
        "Appeal the decision",
        ("not_upheld",),
        "appealed",
        (GROUP,),
        inputs=(Input("grounds", "text", "Grounds for the appeal"),),
        clocks=(stop("appeal_window"), start("appeal_decision")),
        clock_condition=ClockCondition("appeal_window", "running"),
    ),
    Transition(
        "appeal_window_closed",
        "Time to appeal ran out",
        ("not_upheld",),
        "resolved",
        (SYSTEM,),
        clocks=(stop("appeal_window"),),
        clock_condition=ClockCondition("appeal_window", "expired"),
        outcome="not_upheld",
    ),
    Transition(
        "allow_appeal",
        "Allow the appeal",
        ("appealed",),
        "upheld",
        APPEAL_PANEL,
        inputs=(_reasons(), Input("remedy", "choice", "Remedy", choices=REMEDIES), *_publishing()),
        clocks=(stop("appeal_decision"), start("resolution")),
        is_decision=True,
        separation_of_duties=True,
        confirm_first=True,
    ),
    Transition(
        "dismiss_appeal",
        "Dismiss the appeal",
        ("appealed",),
        "resolved",
        APPEAL_PANEL,
        inputs=(_reasons(), *_publishing()),
        clocks=(stop("appeal_decision"),),
        is_decision=True,
        separation_of_duties=True,
        outcome="appeal_dismissed",
        confirm_first=True,
    ),
    Transition(
        "record_resolution",
        "Record the resolution",
        ("upheld",),
        "resolved",
        REVIEWER,
        inputs=(
            Input("outcome", "choice", "Outcome", choices=RESOLUTION_OUTCOMES),
            Input("summary", "text", "Summary"),
        ),
        clocks=(stop("resolution"),),
        outcome_input="outcome",
        confirm_first=True,
    ),
    Transition(
        "withdraw",
        "Withdraw the claim",
        # Not once upheld: the council then owes the group its remedy, and a withdrawal would only
        # take away what the group has won (issue 19; DESIGN §4 said "any non-terminal").
        tuple(s for s in ACTIVE_STATES if s != "upheld"),
        "withdrawn",
        (GROUP,),
        inputs=(Input("reason", "text", "Why you are withdrawing", required=False),),
        clocks=STOP_ALL_CLOCKS,
        outcome="withdrawn",
    ),
    Transition(
        "reopen",
        "Reopen",
        ("closed", "lapsed"),
        "under_review",
        ("admin",),
        inputs=(Input("justification", "text", "Why the claim is reopened", public=False),),
        clocks=(start("decision"),),
        is_decision=True,
        decided_at="clear",
        confirm_first=True,
    ),
)

TRANSITIONS_BY_TRIGGER: dict[str, Transition] = {t.trigger: t for t in TRANSITIONS}

# How each step reads on the group's timeline (and, in the console, which events the group sees).
TIMELINE_LABELS: dict[str, str] = {
    "submitted": "Claim filed",
    "accept": "Accepted for review",
    "decline": "Closed without a review",
    "request_information": "We asked you a question",
    "provide_information": "You answered our question",
    "information_lapsed": "Claim lapsed: no answer in time",
    "uphold": "Claim upheld",
    "not_uphold": "Claim not upheld",
    "appeal": "You appealed",
    "appeal_window_closed": "The time to appeal ended",
    "allow_appeal": "Appeal allowed: claim upheld",
    "dismiss_appeal": "Appeal dismissed",
    "record_resolution": "What the council did",
    "withdraw": "You withdrew the claim",
    "reopen": "Claim reopened",
    # Not steps of the workflow, but the group sees them too: its decision on the public register
    # (guarantee.services.publishing) and its answers about the remedy (guarantee.services.remedies).
    "statement_published": "An anonymised statement of the decision was published",
    "statement_withdrawn": "The published statement of the decision was withdrawn",
    "remedy_checked_in": "You told us whether the remedy is in place",
    # Erasure (guarantee.services.casework, guarantee.services.evidence): what was decided stays.
    "contact_erased": "Your contact details were erased",
    "evidence_erased": "Your evidence files were erased",
    # Data rights (guarantee.services.data_rights): the group's request, however it came. Each copy of
    # its data (data_provided) and the officers' bookkeeping stay off it: they are not steps of the claim.
    "erasure_requested": "You asked us to erase your contact details and evidence",
}
# The same steps as officers read them in the console: the group's own words ("You appealed") would
# read as if the officer had done it.
OFFICER_TIMELINE_LABELS: dict[str, str] = {
    **TIMELINE_LABELS,
    "request_information": "Question asked",
    "provide_information": "The group answered the question",
    "appeal": "The group appealed",
    "withdraw": "The group withdrew the claim",
    "remedy_checked_in": "The group said whether the remedy is in place",
    "contact_erased": "Contact details erased",
    "evidence_erased": "Evidence files erased",
    "erasure_requested": "The group asked for its contact details and evidence to be erased",
}
TRIGGERS: tuple[str, ...] = tuple(TRANSITIONS_BY_TRIGGER)


def transitions_from(state: str) -> tuple[Transition, ...]:
    """Every transition that is legal from this state, in table order."""
    return tuple(t for t in TRANSITIONS if state in t.sources)


def triggers_from(state: str) -> tuple[str, ...]:
    return tuple(t.trigger for t in transitions_from(state))


def is_terminal(state: str) -> bool:
    return state in TERMINAL_STATES
