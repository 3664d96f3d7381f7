"""The workflow as a diagram: Graphviz DOT written from the workflow's own data, in the users'
words, rendered to SVG by ``flask guarantee diagram`` (Graphviz's ``dot``) and committed, so that
serving it needs no Graphviz. The DOT's fingerprint is written into the SVG: a test fails when
the workflow changes and the picture was not drawn again.

The diagram is drawn in English (guarantee/static/workflow.svg) and in Welsh (workflow.cy.svg):
each function takes ``say``, which gives a marked text or a ``Words`` sentence in the diagram's
language (``guarantee.i18n.say`` inside ``guarantee.i18n.language("cy")``; by default, English as it
is). Nothing here knows of Flask."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from workflows.claim import INITIAL_STATE, STATE_LABELS, STATES, TERMINAL_STATES, TRANSITIONS, Transition
from workflows.sentences import or_list
from workflows.words import N_, words

# A text in the diagram's language: a marked text, or a ``Words`` sentence whose parts are marked.
Say = Callable[[str], str]

# Who moves a claim along an arrow, in the words the "How a claim is handled" page uses.
FIRERS = {
    "triage": N_("triage officer"),
    "reviewer": N_("reviewer"),
    "appeal_panel": N_("appeal panel"),
    "admin": N_("administrator"),
    "group": N_("the group"),
    "system": N_("automatically"),
}
# GOV.UK Frontend's palette: officers black, the group blue, deadlines grey and dotted.
GROUP_COLOUR = "#1d70b8"
SYSTEM_COLOUR = "#505a5f"
TEXT_COLOUR = "#0b0c0c"
FONT = "Helvetica,Arial,sans-serif"
# A step open from this many states or more is not drawn as arrows (they would cross everything)
# but written once, on the state it leads to.
FAN_IN = 4

FINGERPRINT_PREFIX = "guarantee-workflow-diagram sha256="
# The file in guarantee/static that each language's diagram is drawn to (``make diagram``).
FILE_NAMES: dict[str, str] = {"en": "workflow.svg", "cy": "workflow.cy.svg"}


def in_english(text: str) -> str:
    """The diagram's English: every text as it is written."""
    return str(text)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _who(transition: Transition) -> str:
    firers: list[str] = [f for f in transition.fired_by if f != "admin"] or list(transition.fired_by)
    return or_list([FIRERS[f] for f in firers])


def _edge_style(transition: Transition) -> str:
    if "system" in transition.fired_by:
        return f'color="{SYSTEM_COLOUR}", fontcolor="{SYSTEM_COLOUR}", style=dotted'
    if "group" in transition.fired_by:
        return f'color="{GROUP_COLOUR}", fontcolor="{GROUP_COLOUR}", style=dashed'
    return f'color="{TEXT_COLOUR}", fontcolor="{TEXT_COLOUR}"'


def _from_where(transition: Transition, say: Say) -> str:
    before_the_end = set(STATES) - set(TERMINAL_STATES)
    left_out = [say(STATE_LABELS[s]).lower() for s in STATES if s in before_the_end - set(transition.sources)]
    if set(transition.sources) <= before_the_end and len(left_out) <= 1:
        if left_out:
            return say(words("from any step before the end except %(state)s", state=left_out[0]))
        return say(N_("from any step before the end"))
    states = ", ".join(say(STATE_LABELS[s]).lower() for s in transition.sources)
    return say(words("from %(states)s", states=states))


def _body(say: Say) -> list[str]:
    lines = [
        "digraph workflow {",
        f'  graph [rankdir=TB, nodesep=0.5, ranksep=0.55, fontname="{FONT}", bgcolor="white"];',
        f'  node [shape=box, style="rounded,filled", fillcolor="#f3f2f1", color="{TEXT_COLOUR}",'
        f' fontname="{FONT}", fontsize=13, margin="0.2,0.1"];',
        f'  edge [fontname="{FONT}", fontsize=11, arrowsize=0.8];',
    ]
    for state in STATES:
        label = say(STATE_LABELS[state])
        extra = ""
        if state == INITIAL_STATE:
            extra = ', penwidth=2, fillcolor="#ffffff"'
        elif state in TERMINAL_STATES:
            extra = ', peripheries=2, fillcolor="#ffffff"'
        fanned = [t for t in TRANSITIONS if t.dest == state and len(t.sources) >= FAN_IN]
        if fanned:
            notes = "\n".join(
                say(words("%(who)s can %(step)s", who=_who(t), step=say(t.label).lower())) + "\n" + _from_where(t, say)
                for t in fanned
            )
            label = f"{label}\n({notes})"
        lines.append(f"  {state} [id={_quote('state_' + state)}, label={_quote(label)}{extra}];")
    for transition in TRANSITIONS:
        if len(transition.sources) >= FAN_IN:
            continue
        for source in transition.sources:
            label = f"{say(transition.label)}\n({say(_who(transition))})"
            attributes = f"label={_quote(label)}, {_edge_style(transition)}"
            lines.append(
                f"  {source} -> {transition.dest} [id={_quote(f'step_{transition.trigger}_from_{source}')}, {attributes}];"
            )
    lines.append("}")
    return lines


def fingerprint(say: Say = in_english) -> str:
    """The SHA-256 of the diagram's source: it changes whenever the workflow does (and, in Welsh,
    whenever its translation does)."""
    return hashlib.sha256("\n".join(_body(say)).encode()).hexdigest()


def to_dot(say: Say = in_english) -> str:
    """The workflow as Graphviz DOT, in the language of ``say``, with its fingerprint as a comment
    that ``dot`` copies into the SVG."""
    body = _body(say)
    body.insert(1, f"  comment={_quote(FINGERPRINT_PREFIX + fingerprint(say))};")
    return "\n".join(body) + "\n"
