"""marshmallow's and webargs's own messages, marked so that a problem document says them in the
caller's language (``Accept-Language``; guarantee.api.problems translates at the edge).

The fixed ones are translated as they are. The ones marshmallow fills in ("Longer than maximum
length 200.") are recognised by their English pattern and made again as ``Words``, which read
exactly as marshmallow wrote them and are said in the caller's language.
"""

from __future__ import annotations

import re
from typing import Any

from workflows.words import N_, Words

# Every fixed message of the fields, validators and parsers the API's schemas use.
FIXED: tuple[str, ...] = (
    N_("Missing data for required field."),
    N_("Field may not be null."),
    N_("Invalid value."),
    N_("Invalid input."),
    N_("Invalid type."),
    N_("Invalid input type."),
    N_("Unknown field."),
    N_("Not a valid string."),
    N_("Not a valid utf-8 string."),
    N_("Not a valid integer."),
    N_("Not a valid number."),
    N_("Number too large."),
    N_("Special numeric values (nan or infinity) are not permitted."),
    N_("Not a valid boolean."),
    N_("Not a valid list."),
    N_("Not a valid tuple."),
    N_("Not a valid mapping type."),
    N_("Not a valid email address."),
    N_("Not a valid URL."),
    N_("Not a valid UUID."),
    N_("Not a valid datetime."),
    N_("Not a valid date."),
    N_("Not a valid time."),
    N_("String does not match expected pattern."),
    N_("Invalid JSON body."),
)

# (marshmallow's message, with its {placeholders}; the same sentence as a msgid)
FILLED_IN: tuple[tuple[str, str], ...] = (
    ("Shorter than minimum length {min}.", N_("Shorter than minimum length %(min)s.")),
    ("Longer than maximum length {max}.", N_("Longer than maximum length %(max)s.")),
    ("Length must be between {min} and {max}.", N_("Length must be between %(min)s and %(max)s.")),
    ("Length must be {equal}.", N_("Length must be %(equal)s.")),
    ("Must be greater than or equal to {min}.", N_("Must be greater than or equal to %(min)s.")),
    ("Must be greater than {min}.", N_("Must be greater than %(min)s.")),
    ("Must be less than or equal to {max}.", N_("Must be less than or equal to %(max)s.")),
    ("Must be less than {max}.", N_("Must be less than %(max)s.")),
    (
        "Must be greater than or equal to {min} and less than or equal to {max}.",
        N_("Must be greater than or equal to %(min)s and less than or equal to %(max)s."),
    ),
    ("Must be greater than {min} and less than {max}.", N_("Must be greater than %(min)s and less than %(max)s.")),
    ("Must be one of: {choices}.", N_("Must be one of: %(choices)s.")),
    ("Must be equal to {other}.", N_("Must be equal to %(other)s.")),
    (
        "One or more of the choices you made was not in: {choices}.",
        N_("One or more of the choices you made was not in: %(choices)s."),
    ),
)


def _pattern(template: str) -> re.Pattern[str]:
    """ "Longer than maximum length {max}." as a pattern that finds ``max`` in a message."""
    parts = re.split(r"\{(\w+)\}", template)  # text, name, text, name, ..., text
    return re.compile(
        "".join(f"(?P<{part}>.+?)" if index % 2 else re.escape(part) for index, part in enumerate(parts)), re.DOTALL
    )


# The longest first: "Must be greater than {min}." would take "Must be greater than or equal to 5."
_PATTERNS = tuple((_pattern(template), msgid) for template, msgid in sorted(FILLED_IN, key=lambda pair: -len(pair[0])))


def in_words(message: Any) -> Any:
    """A message of marshmallow's as words the edge can say: ``Words`` for one it filled in
    (reading exactly as it did), any other message as it is (a fixed one is a msgid already)."""
    if not isinstance(message, str) or isinstance(message, Words):
        return message
    for pattern, msgid in _PATTERNS:
        found = pattern.fullmatch(message)
        if found:
            return Words(msgid, found.groupdict())
    return message
