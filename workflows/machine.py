"""The ``transitions`` engine, built from the workflow data.

A machine is bound only while one trigger is fired, to a throw-away subject that holds
the state, never to an ORM row: listing claims builds no machines, and no trigger name
can clash with a model attribute.
"""

from __future__ import annotations

from typing import Any

from transitions import Machine, MachineError

from workflows.claim import STATES, TRANSITIONS, TRANSITIONS_BY_TRIGGER

_MACHINE_TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": t.trigger, "source": list(t.sources), "dest": t.dest} for t in TRANSITIONS
]


class IllegalTrigger(Exception):
    """The trigger is not legal from the current state."""


class _Subject:
    state: str

    def __init__(self, state: str) -> None:
        self.state = state


def next_state(state: str, trigger: str) -> str:
    """Run the machine once: the state a claim in ``state`` moves to on ``trigger``."""
    if state not in STATES:
        raise IllegalTrigger(f"unknown state {state!r}")
    if trigger not in TRANSITIONS_BY_TRIGGER:
        # Never look up arbitrary names on the subject: the engine adds helpers there.
        raise IllegalTrigger(f"unknown trigger {trigger!r}")
    subject = _Subject(state)
    Machine(
        model=subject,
        states=list(STATES),
        transitions=_MACHINE_TRANSITIONS,
        initial=state,
        auto_transitions=False,
        model_attribute="state",
        ignore_invalid_triggers=False,
    )
    try:
        getattr(subject, trigger)()
    except MachineError as exc:
        raise IllegalTrigger(str(exc)) from exc
    return subject.state
