"""Every sentence the service puts together from workflows/ reads as written English: the
"How a claim is handled" page, the tracking page in every state, every e-mail, the workflow's
forms and the messages a refused step gives. No doubled words or brackets, no names from the
code, no capitals in the middle of a sentence, no gaps where a piece was missing.

The checker is proved on faulty sentences first, so that a clean result means something."""

from __future__ import annotations

import pytest
from flask import Flask

from guarantee.clock import FixedClock
from guarantee.context import unit_of_work
from guarantee.i18n import language, say
from guarantee.services.actors import GroupActor
from guarantee.services.claims import fire, submit_claim
from guarantee.services.errors import ValidationFailed
from tests.helpers import Cast, submission, walk
from tests.support.corpus import PATHS, gather
from tests.support.wording import problems
from workflows import TRANSITIONS, Transition
from workflows.sentences import form_hint, form_label, what_is_given, who_may

# --- the checker ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "fault"),
    [
        ("A triage officer or An administrator", "a capital in the middle of a sentence: 'An'"),
        ("Why you are withdrawing (optional) (optional)", "two brackets in a row"),
        ("Regulation (catalogue entry (or a new one))", "brackets inside brackets"),
        ("Only after the time limit for appeal_window has passed", "a name from the code: 'appeal_window'"),
        ("Your claim is awaiting_information.", "a name from the code: 'awaiting_information'"),
        ("We will decide the the claim by 4 December 2026.", "a doubled word: 'the the'"),
        ("We will decide your claim by .", "a gap where words are missing: ' .'"),
        ("Reasons: , shown to the group", "a gap where words are missing"),
        ("Your claim is {{ state }}.", "template or code left in: '{{'"),
        ("The remedy is None.", "template or code left in: 'None'"),
        ("Remedy (optional", "a bracket left open"),
        ("We will decide by 5 January 2027 Resolution due.", "a capital in the middle of a sentence: 'Resolution'"),
    ],
)
def test_the_checker_finds_each_fault(sentence: str, fault: str) -> None:
    assert any(fault in found for found in problems(sentence)), problems(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "A triage officer or an administrator.",
        "The group, before the time to appeal runs out.",
        "Why you are withdrawing (optional)",
        "We will decide your claim CPG-2026-000123 by 5 January 2027.",
        "Skipping these bank holidays: Christmas Day on 25 December 2026, Boxing Day (observed) on 28 December 2026.",
        "Thank you for using the Co-production Guarantee.",
        'To appeal, choose "Appeal the decision" and say why.',
        "A PDF, PNG or JPEG, smaller than 10 MB.",
        "Where: North West (England)",
        "- CPG-2026-000008: Food hygiene, East Midlands; triage due 30 November 2026 (not assigned)",
    ],
)
def test_the_checker_passes_good_sentences(sentence: str) -> None:
    assert problems(sentence) == []


# --- the service's words -------------------------------------------------------------------------


def test_every_page_e_mail_and_form_reads_as_written_english(app: Flask, clock: FixedClock) -> None:
    corpus = gather(app, clock)
    names = {text.name for text in corpus}
    assert {f"Tracking page: {path.replace('_', ' ')}" for path in PATHS} <= names, "every state a group sees"
    assert {"How a claim is handled", "Start page", "Check your answers", "Confirmation"} <= names
    assert sum(name.startswith("E-mail: ") for name in names) >= 20 and sum(
        n.startswith("Form: ") for n in names
    ) == len(TRANSITIONS)
    faults = [
        f"{text.name} ({text.source}): {block!r}: {fault}"
        for text in corpus
        if not text.written_whole
        for block in text.blocks
        for fault in problems(block)
    ]
    assert not faults, "\n".join(faults)


@pytest.mark.parametrize("transition", TRANSITIONS, ids=lambda t: t.trigger)
def test_who_may_take_each_step_and_what_it_asks_for_read_as_sentences(transition: Transition) -> None:
    assert problems(who_may(transition)) == []
    for given in what_is_given(transition):
        assert problems(given) == [], given


def test_the_same_sentences_read_as_sentences_in_welsh_too(app: Flask) -> None:
    """Said in Welsh from their whole sentences and marked parts (tests/test_welsh_workflows.py): no
    doubled words or brackets, no names from the code, no gaps and no stray capitals there either."""
    with app.test_request_context(), language("cy"):
        for transition in TRANSITIONS:
            made = [who_may(transition), *what_is_given(transition)]
            made += [form_label(spec, officers_form=True) for spec in transition.inputs]
            made += [form_hint(spec, transition) for spec in transition.inputs if form_hint(spec, transition)]
            for sentence in made:
                assert problems(say(sentence)) == [], say(sentence)


def test_the_messages_of_a_step_refused_for_missing_answers_read_as_sentences(app: Flask) -> None:
    """Each step fired with no answers at all, in the state it starts from: every message it gives
    is a sentence a person can act on."""
    messages: list[str] = []
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        for transition in TRANSITIONS:
            if not any(spec.required for spec in transition.inputs):
                continue
            reference = submit_claim(ctx, submission()).reference
            walk(ctx, cast, reference, *PATHS[transition.sources[0]])
            firer = transition.fired_by[0]
            actor = GroupActor(reference) if firer == "group" else cast.for_role(firer, reference)
            with pytest.raises(ValidationFailed) as refused:
                fire(ctx, reference, transition.trigger, actor, {})
            messages += [m for found in refused.value.errors.values() for m in found]
    assert messages
    faults = [f"{m!r}: {fault}" for m in messages for fault in problems(m)]
    assert not faults, "\n".join(faults)
