"""The workflow in sentences: who may take a step, when, and what they give, worded once from the
data in ``workflows.claim`` for every page that says it (the "How a claim is handled" page, the
forms of the group's tracking page and of the officers' console). ``tests/test_wording.py`` reads
every sentence made here for doubled words, brackets, slugs and stray capitals."""

from __future__ import annotations

from workflows.claim import CLOCKS, FIRER_NAMES, GROUP, SYSTEM, Input, Transition
from workflows.vocabulary import label


def capitalised(text: str) -> str:
    """The first letter a capital, the rest as it is (unlike ``str.capitalize``)."""
    return text[:1].upper() + text[1:]


def or_list(items: list[str]) -> str:
    """Items as a person lists them: a; a or b; a, b or c."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def who_may(transition: Transition) -> str:
    """Who may take the step, and when, as one sentence: "A reviewer or an administrator."; "The
    group, before the time to appeal runs out."."""
    if SYSTEM in transition.fired_by:
        who = FIRER_NAMES[SYSTEM]
    else:
        who = or_list([FIRER_NAMES[f] for f in transition.fired_by])
    if transition.separation_of_duties:
        who += ", if they made no earlier decision on the claim"
    condition = transition.clock_condition
    if condition is not None:
        phrase = CLOCKS[condition.clock].phrase
        who += f", before {phrase} runs out" if condition.must_be == "running" else f", once {phrase} has run out"
    return capitalised(who) + "."


def needed_when(spec: Input, transition: Transition | None) -> str:
    """When an input with ``required_when`` is needed: "the reason is duplicate"."""
    assert spec.required_when is not None
    field, value = spec.required_when
    other = next((i for i in transition.inputs if i.name == field), None) if transition else None
    return f"the {(other.label if other else label(field)).lower()} is {label(value).lower()}"


def notes(spec: Input, *, officers_form: bool) -> list[str]:
    """What a form says after an input's label, in brackets: "optional"; on an officer's form, a
    text the group will read is "shown to the group"."""
    said = []
    if not spec.required and spec.required_when is None:
        said.append("optional")
    if officers_form and spec.public and spec.kind == "text" and "the group" not in spec.label:
        said.append("shown to the group")
    return said


def form_label(spec: Input, *, officers_form: bool) -> str:
    """An input's label on a form: "Reasons for the decision (shown to the group)"."""
    said = notes(spec, officers_form=officers_form)
    return f"{spec.label} ({', '.join(said)})" if said else spec.label


def form_hint(spec: Input, transition: Transition | None) -> str:
    """A hint under an input: what happens to what is written, and whether its need depends on
    another answer; or ""."""
    said = [spec.hint] if spec.hint else []
    if spec.required_when is not None:
        said.append(f"Needed when {needed_when(spec, transition)}.")
    return " ".join(said)


def what_is_given(transition: Transition) -> list[str]:
    """Each input of the step, with whether it is needed and who sees it: "Why the claim is reopened
    (seen only by officers)". An empty list when the step asks for nothing."""
    officers = GROUP not in transition.fired_by and SYSTEM not in transition.fired_by
    given = []
    for spec in transition.inputs:
        said = notes(spec, officers_form=officers)
        if spec.required_when is not None:
            said.append(f"needed when {needed_when(spec, transition)}")
        if spec.asked_if is not None:
            said.append(f"asked only when {spec.asked_if[1]}")
        if not spec.public:
            said.append("seen only by officers")
        given.append(f"{spec.label} ({', '.join(said)})" if said else spec.label)
    return given
