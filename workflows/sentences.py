"""The workflow in sentences: who may take a step, when, and what they give, worded once from the
data in ``workflows.claim`` for every page that says it (the "How a claim is handled" page, the
forms of the group's tracking page and of the officers' console). ``tests/test_wording.py`` reads
every sentence made here for doubled words, brackets, slugs and stray capitals.

Each sentence is a ``Words``: it reads in English, and the edge says it again in the reader's
language (``guarantee.i18n.say``) from whole sentences with named parts, each part itself a marked
text or a ``Words``, because Welsh orders (and mutates) its words differently. A part is never
changed after it is said (no ``lower()``, no capital added): where a text is needed in another
form, that form is marked too (``FIRERS_AT_START``, ``Input.when_needed``)."""

from __future__ import annotations

from workflows.claim import CLOCKS, FIRER_NAMES, GROUP, SYSTEM, Input, Transition
from workflows.words import N_, words

# Each firer at the start of a sentence: ``FIRER_NAMES`` with a capital, marked whole so that each is
# translated as it is said there ("A triage officer or an administrator.").
FIRERS_AT_START: dict[str, str] = {
    "triage": N_("A triage officer"),
    "reviewer": N_("A reviewer"),
    "appeal_panel": N_("A member of the appeal panel"),
    "admin": N_("An administrator"),
    "group": N_("The group"),
    "system": N_("The service itself"),
}


def capitalised(text: str) -> str:
    """The first letter a capital, the rest as it is (unlike ``str.capitalize``)."""
    return text[:1].upper() + text[1:]


def or_list(items: list[str]) -> str:
    """Items as a person lists them: a; a or b; a, b or c."""
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return words("%(first)s or %(last)s", first=items[0], last=items[1])
    return words("%(first)s, %(rest)s", first=items[0], rest=or_list(items[1:]))


def _listed(items: list[str]) -> str:
    """Notes one after another, between commas: a; a, b; a, b, c."""
    if len(items) == 1:
        return items[0]
    return words("%(first)s, %(rest)s", first=items[0], rest=_listed(items[1:]))


def _with_notes(text: str, said: list[str]) -> str:
    """A label with its notes in brackets: "Why you are withdrawing (optional)"."""
    return words("%(label)s (%(notes)s)", label=text, notes=_listed(said)) if said else text


def who_may(transition: Transition) -> str:
    """Who may take the step, and when, as one sentence: "A reviewer or an administrator."; "The
    group, before the time to appeal runs out."."""
    firers = [SYSTEM] if SYSTEM in transition.fired_by else list(transition.fired_by)
    who = or_list([FIRERS_AT_START[firers[0]], *(FIRER_NAMES[f] for f in firers[1:])])
    if transition.separation_of_duties:
        who = words("%(who)s, if they made no earlier decision on the claim", who=who)
    condition = transition.clock_condition
    if condition is not None:
        clock = CLOCKS[condition.clock].phrase
        if condition.must_be == "running":
            who = words("%(who)s, before %(clock)s runs out", who=who, clock=clock)
        else:
            who = words("%(who)s, once %(clock)s has run out", who=who, clock=clock)
    return words("%(who)s.", who=who)


def needed_when(spec: Input, transition: Transition | None = None) -> str:
    """When an input with ``required_when`` is needed, in the middle of a sentence: "the reason is
    duplicate" (``Input.when_needed``, the condition in words). ``transition`` is the step the input
    belongs to; the words are the input's own."""
    assert spec.required_when is not None and spec.when_needed, f"{spec.name} says when it is needed"
    return spec.when_needed


def notes(spec: Input, *, officers_form: bool) -> list[str]:
    """What a form says after an input's label, in brackets: "optional"; on an officer's form, a
    text the group will read is "shown to the group"."""
    said = []
    if not spec.required and spec.required_when is None:
        said.append(N_("optional"))
    if officers_form and spec.public and spec.kind == "text" and "the group" not in spec.label:
        said.append(N_("shown to the group"))
    return said


def form_label(spec: Input, *, officers_form: bool) -> str:
    """An input's label on a form: "Reasons for the decision (shown to the group)"."""
    return _with_notes(spec.label, notes(spec, officers_form=officers_form))


def form_hint(spec: Input, transition: Transition | None) -> str:
    """A hint under an input: what happens to what is written, and whether its need depends on
    another answer; or ""."""
    said = [spec.hint] if spec.hint else []
    if spec.required_when is not None:
        said.append(words("Needed when %(condition)s.", condition=needed_when(spec, transition)))
    if not said:
        return ""
    hint = said[-1]
    for sentence in reversed(said[:-1]):
        hint = words("%(sentence)s %(next)s", sentence=sentence, next=hint)
    return hint


def what_is_given(transition: Transition) -> list[str]:
    """Each input of the step, with whether it is needed and who sees it: "Why the claim is reopened
    (seen only by officers)". An empty list when the step asks for nothing."""
    officers = GROUP not in transition.fired_by and SYSTEM not in transition.fired_by
    given = []
    for spec in transition.inputs:
        said = notes(spec, officers_form=officers)
        if spec.required_when is not None:
            said.append(words("needed when %(condition)s", condition=needed_when(spec, transition)))
        if spec.asked_if is not None:
            said.append(words("asked only when %(condition)s", condition=spec.asked_if[1]))
        if not spec.public:
            said.append(N_("seen only by officers"))
        given.append(_with_notes(spec.label, said))
    return given
