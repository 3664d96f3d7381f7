"""Domain exceptions. Each surface maps them to its own response (page, problem+json, exit code).

Their messages are marked for translation (``workflows.words``): they read in English (logs, the
CLI, tests), and each surface says them in its reader's language (``guarantee.i18n.say``). The
helpers at the end build the few sentences that are made of other marked words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from workflows.words import N_, Words, words


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
        super().__init__(words("Some answers need correcting: %(fields)s", fields=fields))

    @property
    def summary(self) -> str:
        """Every message, in one line, for a page that has no field to show them beside."""
        return joined([m for messages in self.errors.values() for m in messages], "; ")


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
            words(
                "Claim %(reference)s was changed by someone else while you were working on it. "
                "Reload it to see the latest version, then try again.",
                reference=reference,
            )
        )
        self.reference = reference
        self.current_version = current_version


# --- sentences made of other words -----------------------------------------------------------


class _ReadsAs(str):
    """A msgid that reads as ``english`` where it has no translation. gettext gives back the very
    msgid it was given when it has none (in English, or before a text is translated), and
    ``guarantee.i18n.say`` makes a ``str`` of what gettext gives: so a ``Said`` is said in English
    as it was made, and in Welsh from its msgid."""

    english: str

    def __new__(cls, msgid: str, english: str) -> _ReadsAs:
        made = super().__new__(cls, msgid)
        made.english = english
        return made

    def __str__(self) -> str:
        return self.english

    def __reduce__(self) -> tuple[Any, ...]:
        return (_ReadsAs, (str.__str__(self), self.english))


class Said(Words):
    """Words that read in English as ``english`` and are said from the marked text ``msgid`` in
    another language: a label with a capital at the start of an English sentence ("The name of
    your group", said from "the name of your group"), or a code shown as it is in English
    ("under_review") and in words in Welsh."""

    def __new__(cls, english: str, msgid: str) -> Said:
        made = str.__new__(cls, english)
        made.msgid = _ReadsAs(msgid, english)
        made.params = {}
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        return (Said, (str(self), str.__str__(self.msgid)))


def _said_as(english: str, text: str) -> str:
    if isinstance(text, Words) and text.params:
        return english  # a sentence with parts cannot be said in other words: English
    return Said(english, text.msgid if isinstance(text, Words) else text)


def capitalised(text: str) -> str:
    """``text`` with a capital first letter in English, said as ``text`` is (a label that begins
    an English sentence sits in the middle of the Welsh one, without the capital)."""
    english = text[:1].upper() + text[1:]
    return text if english == text else _said_as(english, text)


def shown_as(english: str, text: str) -> str:
    """``english`` in English (a code, a label in lower case), said as the marked ``text``."""
    return _said_as(english, text)


def joined(texts: list[str], separator: str) -> str:
    """Texts one after another, each said in the reader's language: "a; b" (the separator is
    punctuation, the same in every language, so the sentence is not extracted)."""
    if len(texts) <= 1:
        return texts[0] if texts else ""
    names = {f"part{n}": text for n, text in enumerate(texts)}
    msgid = separator.join(f"%({name})s" for name in names)
    return Words(msgid, names)


def or_list(items: list[str]) -> str:
    """Items joined by "or": "a", "a or b", "a or b or c"."""
    said = items[0]
    for item in items[1:]:
        said = words("%(first)s or %(second)s", first=said, second=item)
    return said


MONTHS = (
    N_("January"),
    N_("February"),
    N_("March"),
    N_("April"),
    N_("May"),
    N_("June"),
    N_("July"),
    N_("August"),
    N_("September"),
    N_("October"),
    N_("November"),
    N_("December"),
)


def long_date(day: date) -> str:
    """26 November 2026, with the month said in the reader's language (26 Tachwedd 2026)."""
    return Words(
        "%(day)s %(month)s %(year)s", {"day": str(day.day), "month": MONTHS[day.month - 1], "year": str(day.year)}
    )
