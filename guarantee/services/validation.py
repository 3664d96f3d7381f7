"""Field checks shared by every use case: each returns a clean value or an error message.

Every surface (form, API, CLI) gets the same messages, written for the person who typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from guarantee.services.errors import ValidationFailed, capitalised, shown_as
from workflows.words import N_, words

# Control characters other than tab, line feed and carriage return (NUL breaks PostgreSQL),
# and lone surrogates, which no database driver can encode.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# What no database can store as text: NUL (PostgreSQL refuses it) and lone surrogates (no driver
# can encode them). Refused at the edge, wherever text comes in (guarantee.input_guard, the CLI).
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")
_PHONE = re.compile(r"^\+?[0-9 ()\-]{7,25}$")


def unstorable(value: str) -> bool:
    """Whether the text has a character that cannot be stored at all."""
    return _UNSTORABLE.search(value) is not None


def replace_unstorable(value: str, by: str) -> str:
    return _UNSTORABLE.sub(by, value)


def unstorable_in(value: Any) -> str | None:
    """Where in a JSON value a text (or a key) that cannot be stored is, as a path such as
    ``group.email`` or ``evidence[0]`` ("" for the value itself); None when there is none. Walks
    the value without recursion, so no depth of nesting can break it."""
    pending: list[tuple[str, Any]] = [("", value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return path
        elif isinstance(item, dict):
            for key, inner in item.items():
                if _UNSTORABLE.search(key):
                    return path
                pending.append((f"{path}.{key}" if path else key, inner))
        elif isinstance(item, list):
            pending.extend((f"{path}[{n}]", inner) for n, inner in enumerate(item))
    return None


class Invalid(Exception):
    """One field's problem; collected into ValidationFailed."""


class Errors:
    """Collects field errors so a person sees every problem at once."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def check(self, field: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Invalid as exc:
            self.add(field, exc.args[0] if exc.args else str(exc))  # its Words, to be said again
            return None

    def raise_if_any(self) -> None:
        if self.by_field:
            raise ValidationFailed(self.by_field)


def text(
    value: Any, label: str, *, required: bool = True, max_length: int = 10_000, multiline: bool = True
) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Invalid(words("Enter %(label)s", label=label))
        return None
    if not isinstance(value, str):
        raise Invalid(words("%(label)s must be text", label=capitalised(label)))
    # Browsers send CRLF line breaks; keep one kind, so the same words store (and hash) the same.
    cleaned: str = value.strip().replace("\r\n", "\n")
    if _CONTROL.search(cleaned) or (not multiline and ("\n" in cleaned or "\r" in cleaned)):
        raise Invalid(words("%(label)s contains characters that are not allowed", label=capitalised(label)))
    if len(cleaned) > max_length:
        raise Invalid(
            words(
                "%(label)s must be %(max_length)s characters or fewer",
                label=capitalised(label),
                max_length=f"{max_length:,}",
            )
        )
    return cleaned


def choice(value: Any, label: str, choices: tuple[str, ...], *, required: bool = True) -> str | None:
    if value is None or value == "":
        if required:
            raise Invalid(words("Select %(label)s", label=label))
        return None
    if not isinstance(value, str) or value not in choices:
        raise Invalid(words("Select %(label)s from the list: %(choices)s", label=label, choices=", ".join(choices)))
    return value


def email(value: Any, label: str = N_("an email address")) -> str | None:
    cleaned = text(value, label, max_length=254, multiline=False)
    if cleaned is not None and not _EMAIL.match(cleaned):
        raise Invalid(N_("Enter an email address in the correct format, like name@example.com"))
    return cleaned


def phone(value: Any, label: str = N_("a phone number")) -> str | None:
    cleaned = text(value, label, required=False, max_length=25, multiline=False)
    if cleaned is not None and not _PHONE.match(cleaned):
        raise Invalid(N_("Enter a phone number, like 01632 960 001 or +44 7700 900 982"))
    return cleaned


def whole_number(
    value: Any, label: str, *, required: bool = True, minimum: int = 0, maximum: int = 1_000_000
) -> int | None:
    if value is None or value == "":
        if required:
            raise Invalid(words("Enter %(label)s", label=label))
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(words("%(label)s must be a whole number", label=capitalised(label)))
    if not minimum <= value <= maximum:
        raise Invalid(
            words(
                "%(label)s must be between %(minimum)s and %(maximum)s",
                label=capitalised(label),
                minimum=f"{minimum:,}",
                maximum=f"{maximum:,}",
            )
        )
    return value


def boolean(value: Any, label: str) -> bool | None:
    if not isinstance(value, bool):
        raise Invalid(words("Answer %(label)s with yes or no (true or false)", label=label))
    return value


def section(
    data: Mapping[str, Any], name: str, allowed: set[str], errors: Errors, *, said: str | None = None
) -> Mapping[str, Any]:
    """A nested object of the input; unknown fields are errors, never silently dropped. ``said``:
    the section in words, marked ("the group"), for a reader of another language."""
    value = data.get(name)
    section = shown_as(name, said) if said else name
    if value is None:
        errors.add(name, words("Enter the %(section)s details", section=section))
        return {}
    if not isinstance(value, Mapping):
        errors.add(name, words("The %(section)s details must be an object", section=section))
        return {}
    for key in sorted(set(value) - allowed):
        errors.add(f"{name}.{key}", N_("This field is not recognised"))
    return value
