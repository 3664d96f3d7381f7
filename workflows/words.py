"""Words a person reads, kept in English and said in their language where they are shown.

``workflows`` and the services are pure Python, free of Flask: they cannot know who is reading.
So they mark their words for extraction, and the edge (pages, API, e-mails) translates them:

- ``N_("Submitted")`` marks a fixed text (a label, a phrase) and gives it back unchanged;
  the edge shows it through ``gettext``.
- ``words("Claim %(reference)s was changed", reference=ref)`` is a sentence with parts filled
  in. A part that is data (a name, a title, what a person typed) goes in as ``AsWritten(text)``,
  so that it is never taken for one of the service's words ("London", "Overdue"). It reads in English as a ``str`` (logs, the CLI, tests); the edge says it again in the
  reader's language from its ``msgid`` and ``params`` (``guarantee.i18n.say``).

``pybabel extract`` finds both (babel.cfg lists ``N_`` and ``words`` as keywords).
"""

from __future__ import annotations

from typing import Any


def N_(text: str) -> str:
    """Mark ``text`` for translation without translating it here."""
    return text


class Words(str):
    """A sentence in English, which remembers how it was made so that it can be said again."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, params: dict[str, Any]) -> Words:
        made = super().__new__(cls, msgid % params if params else msgid)
        made.msgid = msgid
        made.params = params
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        return (Words, (self.msgid, self.params))


def words(msgid: str, **params: Any) -> Words:
    """A sentence with named parts (``%(name)s``) filled in; a part may itself be ``Words``."""
    return Words(msgid, params)


class AsWritten(str):
    """A text quoted as it was written: a name, a title, what a person typed. Never translated,
    even where it happens to be one of the service's words (a rule called "Food hygiene")."""

    __slots__ = ()
