"""The personal-data check a decision statement's summary must pass before it is published.

A pure function of the summary and the claim: it reads nothing and changes nothing, so the
approval page, the approving service and the tests all ask it the same question. It looks for:

- the claim's own contact values (the contact's name, or any part of it, the e-mail address, the
  phone number) and the group's name;
- any e-mail address, UK phone number or UK postcode;
- a street address: a house number, then a street name ending in a word such as Road or Lane;
- names taken from the group's own words: a capitalised word that the group wrote in the middle
  of a sentence (not at its start), that is not an ordinary word written with a capital (a day,
  a month, a nation) and is not part of the rule's title or of who issues it. Written in the
  summary, such a word is most likely a person, a street or a place the group named.

Each finding says what was found, the text itself, and the line of the summary it is on: in
English as ``str(finding)``, and as ``finding.sentence`` for a page to say in its reader's language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from guarantee.models import Claim, Contact
from guarantee.services.errors import capitalised
from workflows.words import N_, AsWritten, Words, words


@dataclass(frozen=True)
class Finding:
    what: str  # "the group's e-mail address", "a UK postcode"
    found: str  # the text as written in the summary
    line: int  # 1 for the summary's first line

    def __str__(self) -> str:
        return f"{self.what[:1].upper()}{self.what[1:]}: “{self.found}”, on line {self.line}"

    @property
    def sentence(self) -> Words:
        """What ``str()`` says, to be said in the reader's language (``what`` is marked English)."""
        return words(
            "%(what)s: “%(found)s”, on line %(line)s",
            what=capitalised(self.what),
            found=AsWritten(self.found),
            line=self.line,
        )


EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# A run of digits that may be a phone number: spaces, dashes, dots and brackets between them.
PHONE_LIKE = re.compile(r"(?<![\w+])(?:\+\s?)?\(?\d[\d\s().-]{7,}\d(?!\w)")
POSTCODE = re.compile(r"\b(?:GIR ?0AA|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})\b", re.IGNORECASE)
STREET_WORDS = (
    "Road|Rd|Street|St|Lane|Ln|Avenue|Ave|Close|Way|Drive|Dr|Place|Pl|Crescent|Cres|Gardens|Terrace|"
    "Court|Ct|Grove|Hill|Row|Square|Sq|Walk|Mews|Parade|Rise|View|Green|Wharf|Yard|Boulevard"
)
STREET = re.compile(
    rf"\b\d{{1,4}}[A-Za-z]?,?\s+(?:[A-Z][A-Za-z'-]+\s+){{1,3}}(?:{STREET_WORDS})\b\.?",
)
CAPITALISED = re.compile(r"\b[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?\b")
CAPITALISED_RUN = re.compile(r"\b[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?(?:\s+[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?)*\b")
SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n\s*|[\"“(]\s*)$")

# Words written with a capital that name nobody: the first person, days, months, the nations and
# the words of public life a group uses about its council.
_ORDINARY = """I Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May
    June July August September October November December England Scotland Wales Northern Ireland
    Britain British English Scottish Welsh Irish UK Council Councils Borough County City Parish Town
    District Government Act Acts Regulations Regulation Order Code Policy Rules Rule Officer Officers
    Christmas Easter Bank Holiday Mr Mrs Ms Dr Miss Sir Lady Saint St"""
ORDINARY_CAPITALS = frozenset(_ORDINARY.split())

GROUP_TEXT_FIELDS = ("initiative_title", "initiative_description", "barrier_how_it_blocks", "remedy_details")


def _line(text: str, at: int) -> int:
    return text.count("\n", 0, at) + 1


def _whole_word(value: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(value)}(?!\w)", re.IGNORECASE)


def _phone_digits(value: str) -> str:
    """A phone number's digits as dialled inside the UK: +44 20 ... is 020 ..."""
    digits = re.sub(r"\D", "", value)
    if digits.startswith("44"):
        digits = "0" + digits[2:]
    return digits


def names_in(texts: Iterable[str], *, not_names: Iterable[str] = ()) -> frozenset[str]:
    """The capitalised words written in the middle of a sentence in ``texts``, that are not
    ordinary capitalised words nor words of ``not_names`` (the rule's title, its issuing body)."""
    known = ORDINARY_CAPITALS | {w for name in not_names for w in CAPITALISED.findall(name or "")}
    names = set()
    for text in texts:
        for match in CAPITALISED.finditer(text or ""):
            if SENTENCE_START.search(text[: match.start()]):
                continue
            if match.group() not in known:
                names.add(match.group())
    return frozenset(names)


def _contact_values(claim: Claim, contact: Contact | None) -> list[tuple[str, str]]:
    """(what, value) for each contact value of the claim that a summary must not repeat."""
    values = [(N_("the group's name"), claim.group_name or "")]
    if contact is not None:
        values.append((N_("the contact's name"), contact.contact_name or ""))
        values.append((N_("the group's e-mail address"), contact.email or ""))
        parts = (contact.contact_name or "").split()
        if len(parts) > 1:
            values += [(N_("part of the contact's name"), part) for part in parts if len(part) >= 3]
    return [(what, value.strip()) for what, value in values if value and value.strip()]


def findings(
    text: str | None,
    claim: Claim,
    contact: Contact | None,
    answers: Sequence[str] = (),
    *,
    not_names: Iterable[str] = (),
) -> list[Finding]:
    """What in ``text`` may identify someone, in the order it is written. ``answers``: the
    group's other writing on the claim (its answers to questions, its grounds for appeal);
    ``not_names``: the rule's title and issuing body, which the summary may name."""
    if not text:
        return []
    found: list[tuple[int, Finding]] = []
    taken: list[tuple[int, int]] = []  # spans already reported, so a value is named once, as the most specific

    def add(start: int, end: int, what: str) -> None:
        if any(start < e and s < end for s, e in taken):
            return
        taken.append((start, end))
        found.append((start, Finding(what, text[start:end], _line(text, start))))

    for what, value in _contact_values(claim, contact):
        for match in _whole_word(value).finditer(text):
            add(match.start(), match.end(), what)
    own_phone = _phone_digits(contact.phone) if contact is not None and contact.phone else ""
    for match in PHONE_LIKE.finditer(text):
        digits = _phone_digits(match.group())
        if own_phone and digits == own_phone:
            add(match.start(), match.end(), N_("the group's phone number"))
        elif digits.startswith("0") and len(digits) in (10, 11):
            add(match.start(), match.end(), N_("a phone number"))
    for match in EMAIL.finditer(text):
        add(match.start(), match.end(), N_("an e-mail address"))
    for match in STREET.finditer(text):
        add(match.start(), match.end(), N_("a street address"))
    for match in POSTCODE.finditer(text):
        add(match.start(), match.end(), N_("a postcode"))
    group_texts = [str(getattr(claim, name, None) or "") for name in GROUP_TEXT_FIELDS] + list(answers)
    rule = [claim.barrier_regulation or "", claim.barrier_imposed_by or "", *not_names]
    names = names_in(group_texts, not_names=rule)
    for run in CAPITALISED_RUN.finditer(text):
        # From the first name in the run to the last: "Priya Okafor", not "The Pavilion".
        named = [word for word in CAPITALISED.finditer(text, run.start(), run.end()) if word.group() in names]
        if named:
            add(named[0].start(), named[-1].end(), N_("a name the group wrote in its claim"))
    return [finding for _, finding in sorted(found, key=lambda pair: pair[0])]
