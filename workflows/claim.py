"""The claim workflow of DESIGN section 4, as data.

This module is the single source of truth for the states a claim moves through, the
triggers that move it, who may fire each one, what input each one needs and what it
does to the working-day clocks. The engine (``workflows.machine``), the services, the
pages, the API and the diagram all read it; none of them restate it.

Every text here that a person reads (labels, phrases, hints, guidance) is marked with ``N_``
(``workflows.words``): it reads in English, and the edge says it in the reader's language
(``guarantee.i18n.say``, ``| say`` in a template).
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
from workflows.words import N_

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
    "submitted": N_("Submitted"),
    "under_review": N_("Under review"),
    "awaiting_information": N_("Waiting for information from the group"),
    "upheld": N_("Upheld"),
    "not_upheld": N_("Not upheld"),
    "appealed": N_("Appealed"),
    "resolved": N_("Resolved"),
    "closed": N_("Closed"),
    "withdrawn": N_("Withdrawn"),
    "lapsed": N_("Lapsed"),
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
    "submitted": N_(
        "We have your claim. An officer will check that it is about a regulation that blocks your "
        "initiative, and either accept it for review or explain why not."
    ),
    "under_review": N_(
        "An officer is reviewing your claim. They will decide whether the regulation should be waived, "
        "clarified or changed, and may ask you a question first."
    ),
    "awaiting_information": N_(
        "An officer has asked you a question. Answer it on this page. The time we have to decide stops "
        "while we wait for you, and starts again when you answer."
    ),
    "upheld": N_("Your claim was upheld. The council will now put the remedy into practice and record what it did."),
    "not_upheld": N_(
        "Your claim was not upheld. The reasons are on this page. If you think the decision is wrong, you "
        "can appeal until the last day shown."
    ),
    "appealed": N_("We have your appeal. Officers who took no part in the first decision will consider it."),
    "resolved": N_("Your claim is finished. The timeline on this page shows what was decided and done."),
    "closed": N_("Your claim was closed without a review. The timeline on this page says why."),
    "withdrawn": N_("You withdrew this claim. Nothing more will happen to it."),
    "lapsed": N_(
        "Your claim lapsed because we did not get an answer to our question in time. If you think this is "
        "wrong, contact the council: an administrator can reopen it."
    ),
}

# What each state means, for anyone reading how claims are handled (the group's guidance above speaks
# to the group about its own claim).
STATE_DESCRIPTIONS: dict[str, str] = {
    "submitted": N_(
        "The group has filed the claim. An officer checks that it is about a rule that blocks the group, "
        "then accepts it for review or closes it and says why."
    ),
    "under_review": N_(
        "An officer is looking at the claim. They decide if the rule should be waived, made clearer or "
        "changed. They may ask the group a question first."
    ),
    "awaiting_information": N_(
        "An officer has asked the group a question. The time to decide stops until the group answers. If "
        "no answer comes in time, the claim lapses."
    ),
    "upheld": N_("The claim was upheld. The council puts the remedy in place and says what it did."),
    "not_upheld": N_("The claim was not upheld. The group can appeal until the time to appeal runs out."),
    "appealed": N_("The group has appealed. Officers who took no part in the first decision look at it again."),
    "resolved": N_("The claim is finished: the remedy is in place, or the decision stands."),
    "closed": N_("The claim was closed without a review, and the group was told why. An administrator can reopen it."),
    "withdrawn": N_("The group withdrew the claim. Nothing more happens to it."),
    "lapsed": N_("The group did not answer a question in time, so the claim lapsed. An administrator can reopen it."),
}

# Who fires a trigger: an officer role, the group holding the tracking link, or the
# system (the deadline sweeper).
GROUP: Literal["group"] = "group"
SYSTEM: Literal["system"] = "system"
Firer = Literal["triage", "reviewer", "appeal_panel", "admin", "group", "system"]
# Each firer in the middle of a sentence ("a triage officer or an administrator").
FIRER_NAMES: dict[str, str] = {
    "triage": N_("a triage officer"),
    "reviewer": N_("a reviewer"),
    "appeal_panel": N_("a member of the appeal panel"),
    "admin": N_("an administrator"),
    "group": N_("the group"),
    "system": N_("the service itself"),
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
            N_("Triage"),
            5,
            N_("We will check your claim by"),
            N_("We should have checked your claim by"),
            N_("the time to check the claim"),
        ),
        Clock(
            "decision",
            N_("Decision"),
            20,
            N_("We will decide your claim by"),
            N_("We should have decided your claim by"),
            N_("the time to decide"),
        ),
        Clock(
            "information",
            N_("Reply to a question"),
            20,
            N_("Answer our question by"),
            "",
            N_("the time to answer a question"),
        ),
        Clock("appeal_window", N_("Time to appeal"), 20, N_("The last day to appeal is"), "", N_("the time to appeal")),
        Clock(
            "appeal_decision",
            N_("Appeal decision"),
            20,
            N_("We will decide your appeal by"),
            N_("We should have decided your appeal by"),
            N_("the time to decide the appeal"),
        ),
        Clock(
            "resolution",
            N_("Resolution"),
            40,
            N_("The council will put the remedy in place by"),
            N_("The council should have put the remedy in place by"),
            N_("the time to put the remedy in place"),
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
LATE_PAUSE_RULE = N_(
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
    # Required only when another input has this value, e.g. duplicate_of; with the condition in words,
    # in the middle of a sentence: "the reason is duplicate" (whole, so that it can be translated whole).
    required_when: tuple[str, str] | None = None
    when_needed: str = ""
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
    return Input("reasons", "text", N_("Reasons for the decision"))


# The deciding officer drafts what the public register will say (issue 20); a second officer
# approves it before it is published (guarantee/services/publishing.py).
PUBLIC_SUMMARY = "public_summary"
CITES = "cites"


def _publishing() -> tuple[Input, Input]:
    return (
        Input(
            PUBLIC_SUMMARY,
            "text",
            N_("Summary for the public register"),
            public=False,
            max_length=5_000,
            asked_if=("consent_publish", N_("the group agreed to a decision statement being published")),
            not_asked=N_(
                "The group did not agree to a decision statement being published. Only the decision, the rule "
                "and the coarsened facts of the claim will be published, so no summary is asked for."
            ),
            hint=N_(
                "A second officer checks it before it is published on the register. Write it without names, "
                "addresses or contact details. It is separate from the reasons the group gets."
            ),
        ),
        Input(
            CITES,
            "citations",
            N_("Earlier decision statements on this rule"),
            required=False,
            public=False,
            hint=N_("Cite the statements this decision follows or departs from. Citations are published with it."),
        ),
    )


TRIAGE: tuple[Firer, ...] = ("triage", "admin")
REVIEWER: tuple[Firer, ...] = ("reviewer", "admin")
APPEAL_PANEL: tuple[Firer, ...] = ("appeal_panel", "admin")

TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "accept",
        N_("Accept for review"),
        ("submitted",),
        "under_review",
        TRIAGE,
        inputs=(
            Input("category", "choice", N_("Barrier category"), choices=BARRIER_CATEGORIES, public=False),
            Input("regulation", "regulation", N_("Regulation"), public=False),
            Input("assignee", "officer", N_("Reviewer to assign"), required=False, public=False),
        ),
        clocks=(stop("triage"), start("decision")),
        is_decision=True,
    ),
    Transition(
        "decline",
        N_("Decline"),
        ("submitted",),
        "closed",
        TRIAGE,
        inputs=(
            Input("reason_code", "choice", N_("Reason"), choices=DECLINE_REASONS),
            Input("explanation", "text", N_("Explanation")),
            Input(
                "duplicate_of",
                "claim_reference",
                N_("Reference of the claim this duplicates"),
                required=False,
                required_when=("reason_code", "duplicate"),
                when_needed=N_("the reason is duplicate"),
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
        N_("Ask the group a question"),
        ("under_review",),
        "awaiting_information",
        REVIEWER,
        inputs=(Input("question", "text", N_("Question for the group")),),
        clocks=(pause("decision"), start("information")),
    ),
    Transition(
        "provide_information",
        N_("Answer the question"),
        ("awaiting_information",),
        "under_review",
        (GROUP,),
        inputs=(
            Input("answer", "text", N_("Your answer")),
            Input("evidence", "evidence", N_("Evidence you uploaded for this answer"), required=False),
        ),
        clocks=(stop("information"), resume("decision")),
    ),
    Transition(
        "information_lapsed",
        N_("No answer in time"),
        ("awaiting_information",),
        "lapsed",
        (SYSTEM,),
        clocks=(stop("information"), stop("decision")),
        clock_condition=ClockCondition("information", "expired"),
        outcome="lapsed",
    ),
    Transition(
        "uphold",
        N_("Uphold"),
        ("under_review",),
        "upheld",
        REVIEWER,
        inputs=(_reasons(), Input("remedy", "choice", N_("Remedy"), choices=REMEDIES), *_publishing()),
        clocks=(stop("decision"), start("resolution")),
        is_decision=True,
        decided_at="stamp",
        confirm_first=True,
    ),
    Transition(
        "not_uphold",
        N_("Do not uphold"),
        ("under_review",),
        "not_upheld",
        REVIEWER,
        inputs=(
            _reasons(),
            Input("reason_code", "choice", N_("Main reason"), choices=NOT_UPHELD_REASONS),
            *_publishing(),
        ),
        clocks=(stop("decision"), start("appeal_window")),
        is_decision=True,
        decided_at="stamp",
        confirm_first=True,
    ),
    Transition(
        "appeal",
        N_("Appeal the decision"),
        ("not_upheld",),
        "appealed",
        (GROUP,),
        inputs=(Input("grounds", "text", N_("Grounds for the appeal")),),
        clocks=(stop("appeal_window"), start("appeal_decision")),
        clock_condition=ClockCondition("appeal_window", "running"),
    ),
    Transition(
        "appeal_window_closed",
        N_("Time to appeal ran out"),
        ("not_upheld",),
        "resolved",
        (SYSTEM,),
        clocks=(stop("appeal_window"),),
        clock_condition=ClockCondition("appeal_window", "expired"),
        outcome="not_upheld",
    ),
    Transition(
        "allow_appeal",
        N_("Allow the appeal"),
        ("appealed",),
        "upheld",
        APPEAL_PANEL,
        inputs=(_reasons(), Input("remedy", "choice", N_("Remedy"), choices=REMEDIES), *_publishing()),
        clocks=(stop("appeal_decision"), start("resolution")),
        is_decision=True,
        separation_of_duties=True,
        confirm_first=True,
    ),
    Transition(
        "dismiss_appeal",
        N_("Dismiss the appeal"),
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
        N_("Record the resolution"),
        ("upheld",),
        "resolved",
        REVIEWER,
        inputs=(
            Input("outcome", "choice", N_("Outcome"), choices=RESOLUTION_OUTCOMES),
            Input("summary", "text", N_("Summary")),
        ),
        clocks=(stop("resolution"),),
        outcome_input="outcome",
        confirm_first=True,
    ),
    Transition(
        "withdraw",
        N_("Withdraw the claim"),
        # Not once upheld: the council then owes the group its remedy, and a withdrawal would only
        # take away what the group has won (issue 19; DESIGN §4 said "any non-terminal").
        tuple(s for s in ACTIVE_STATES if s != "upheld"),
        "withdrawn",
        (GROUP,),
        inputs=(Input("reason", "text", N_("Why you are withdrawing"), required=False),),
        clocks=STOP_ALL_CLOCKS,
        outcome="withdrawn",
    ),
    Transition(
        "reopen",
        N_("Reopen"),
        ("closed", "lapsed"),
        "under_review",
        ("admin",),
        inputs=(Input("justification", "text", N_("Why the claim is reopened"), public=False),),
        clocks=(start("decision"),),
        is_decision=True,
        decided_at="clear",
        confirm_first=True,
    ),
)

TRANSITIONS_BY_TRIGGER: dict[str, Transition] = {t.trigger: t for t in TRANSITIONS}

# How each step reads on the group's timeline (and, in the console, which events the group sees).
TIMELINE_LABELS: dict[str, str] = {
    "submitted": N_("Claim filed"),
    "accept": N_("Accepted for review"),
    "decline": N_("Closed without a review"),
    "request_information": N_("We asked you a question"),
    "provide_information": N_("You answered our question"),
    "information_lapsed": N_("Claim lapsed: no answer in time"),
    "uphold": N_("Claim upheld"),
    "not_uphold": N_("Claim not upheld"),
    "appeal": N_("You appealed"),
    "appeal_window_closed": N_("The time to appeal ended"),
    "allow_appeal": N_("Appeal allowed: claim upheld"),
    "dismiss_appeal": N_("Appeal dismissed"),
    "record_resolution": N_("What the council did"),
    "withdraw": N_("You withdrew the claim"),
    "reopen": N_("Claim reopened"),
    # Not steps of the workflow, but the group sees them too: its decision on the public register
    # (guarantee.services.publishing) and its answers about the remedy (guarantee.services.remedies).
    "statement_published": N_("An anonymised statement of the decision was published"),
    "statement_withdrawn": N_("The published statement of the decision was withdrawn"),
    "remedy_checked_in": N_("You told us whether the remedy is in place"),
    # Erasure (guarantee.services.casework, guarantee.services.evidence): what was decided stays.
    "contact_erased": N_("Your contact details were erased"),
    "evidence_erased": N_("Your evidence files were erased"),
    # Data rights (guarantee.services.data_rights): the group's request, however it came. Each copy of
    # its data (data_provided) and the officers' bookkeeping stay off it: they are not steps of the claim.
    "erasure_requested": N_("You asked us to erase your contact details and evidence"),
}
# The same steps as officers read them in the console: the group's own words ("You appealed") would
# read as if the officer had done it.
OFFICER_TIMELINE_LABELS: dict[str, str] = {
    **TIMELINE_LABELS,
    "request_information": N_("Question asked"),
    "provide_information": N_("The group answered the question"),
    "appeal": N_("The group appealed"),
    "withdraw": N_("The group withdrew the claim"),
    "remedy_checked_in": N_("The group said whether the remedy is in place"),
    "contact_erased": N_("Contact details erased"),
    "evidence_erased": N_("Evidence files erased"),
    "erasure_requested": N_("The group asked for its contact details and evidence to be erased"),
}
TRIGGERS: tuple[str, ...] = tuple(TRANSITIONS_BY_TRIGGER)


def transitions_from(state: str) -> tuple[Transition, ...]:
    """Every transition that is legal from this state, in table order."""
    return tuple(t for t in TRANSITIONS if state in t.sources)


def triggers_from(state: str) -> tuple[str, ...]:
    return tuple(t.trigger for t in transitions_from(state))


def is_terminal(state: str) -> bool:
    return state in TERMINAL_STATES
