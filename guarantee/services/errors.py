"""Domain exceptions. Each surface maps them to its own response (page, problem+json, exit code)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class ServiceError(Exception):
    """A refusal that a person can act on; ``str()`` says what happened and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(ServiceError):
    """Input is missing or wrong. ``errors`` maps each field (dotted path) to messages."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        self.errors = dict(errors)
        fields = ", ".join(sorted(self.errors))
        super().__init__(f"Some answers need correcting: {fields}")

    @property
    def summary(self) -> str:
        """Every message, in one line, for a page that has no field to show them beside."""
        return "; ".join(m for messages in self.errors.values() for m in messages)


class NotFound(ServiceError):
    """No such claim (or officer, or regulation) for this actor."""


class Forbidden(ServiceError):
    """The actor may not do this: wrong role, separation of duties, inactive account."""


class TooManyAttempts(ServiceError):
    """Too many wrong tries of something secret (a two-step code): wait, or ask for help."""


class Conflict(ServiceError):
    """This cannot be done now: the claim's state forbids it, or another request got there first."""


class TriggerNotAllowed(Conflict):
    """The trigger cannot be fired now; ``allowed`` lists what this actor can fire."""

    def __init__(
        self, message: str, *, trigger: str, state: str, allowed: Iterable[str], reason: str | None = None
    ) -> None:
        super().__init__(message)
        self.trigger = trigger
        self.state = state
        self.allowed = tuple(allowed)
        # Why, when the state allows the trigger but a deadline does not ("The deadline passed...").
        self.reason = reason


class StaleClaim(Conflict):
    """Someone else changed the claim first; reload and try again."""

    def __init__(self, reference: str, current_version: int | None) -> None:
        super().__init__(
            f"Claim {reference} was changed by someone else while you were working on it. "
            "Reload it to see the latest version, then try again."
        )
        self.reference = reference
        self.current_version = current_version
