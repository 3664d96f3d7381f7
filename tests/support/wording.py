"""The faults a sentence put together from pieces tends to have, found in one block of text (a
heading, a paragraph, a label, a line of an e-mail): a doubled word ("the the"), brackets doubled
or nested ("(optional) (optional)"), a raw name from the code ("appeal_window"), a capital in the
middle of a sentence ("or An administrator"), a gap where a piece was missing ("by ."). Used by
tests/test_wording.py."""

from __future__ import annotations

import re
from datetime import date

import holidays

from workflows import CLOCKS, STATES, TRIGGERS

# Capitalised words that may stand in the middle of a sentence: each a proper noun or an acronym.
ALLOWED_CAPITALS = frozenset(
    {
        # The service's name.
        "Co-production",
        "Guarantee",
        # Dates: months and days of the week.
        *(date(2026, month, 1).strftime("%B") for month in range(1, 13)),
        *(date(2026, 11, day).strftime("%A") for day in range(2, 9)),
        # Places: the nations and regions a claim can be in (workflows.vocabulary.REGIONS).
        "UK",
        "England",
        "Wales",
        "Scotland",
        "Northern",
        "Ireland",
        "London",
        "North",
        "South",
        "East",
        "West",
        "Midlands",
        "Yorkshire",
        "Humber",
        # File types and sizes that the evidence rules name.
        "PDF",
        "PNG",
        "JPEG",
        "MB",
        "KB",
        # What the statistics page names: data formats, quarters of the year, the hash that
        # checks a download, and the language its notes are in.
        "CSV",
        "JSON",
        "Q1",
        "Q2",
        "Q3",
        "Q4",
        "SHA-256",
        "SHA256",
        "English",
        # The format of the decision register's feed.
        "Atom",
        # The examples the claim form gives: a body, a kind of law, an initiative's name.
        "Ofsted",
        "Act",
        "Little",
        "Acorns",
        # The rule pages: the code regulators publish complaints and appeals routes under, and
        # the feed format a rule can be followed in.
        "Regulators'",
        "Code",
    }
)


def _bank_holiday_words() -> frozenset[str]:
    """The words of every bank holiday's name (proper nouns, from the library the clocks use)."""
    names: set[str] = set()
    for subdivision in ("ENG", "WLS", "SCT", "NIR"):
        names |= set(holidays.country_holidays("GB", subdiv=subdivision, years=range(2025, 2031)).values())
    return frozenset(w for name in names for w in re.findall(r"[A-Za-z][\w'’-]*", name))


BANK_HOLIDAY_WORDS = _bank_holiday_words()

# A claim reference (CPG-2026-000123), read as a number.
REFERENCE = re.compile(r"\b[A-Z]{2,}-\d{4}-\d+\b")
WORD = re.compile(r"[A-Za-z][\w'’-]*")
# Where a sentence (or something read like one: a quotation, a bracket, a list item) starts.
STARTS = re.compile(r"(?:^|[.!?:]\s+|[“\"‘(]|^-\s+|\s-\s+)")
SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
DOUBLED_WORD = re.compile(r"\b([A-Za-z][\w'’]*)\s+\1\b", re.IGNORECASE)
# Every name in workflows/ (states, triggers, clocks, inputs, vocabularies) that is not an ordinary
# word is snake_case, so SNAKE_CASE finds any of them left raw; "appeal" or "triage" alone are words.
assert all("_" in n or n.isalpha() for n in (*STATES, *TRIGGERS, *CLOCKS))
LEFTOVERS = re.compile(r"\{\{|\}\}|\{%|%\}|\[\[link-|\bNone\b|\bTrue\b|\bFalse\b")
GAP = re.compile(r"\s[,.;:!?](?:\s|$)|[,;:]\s*[,.;:]|\(\s*\)")


def _brackets(text: str) -> list[str]:
    found = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
            if depth == 2:
                found.append("brackets inside brackets")
        elif char == ")":
            depth -= 1
            if depth < 0:
                found.append("a closing bracket with no opening one")
                depth = 0
    if depth > 0:
        found.append("a bracket left open")
    if re.search(r"\)\s*\(", text):
        found.append("two brackets in a row")
    return found


def _capitals(text: str) -> list[str]:
    starts = {m.end() for m in STARTS.finditer(text)}
    found = []
    for word in WORD.finditer(text):
        token = word.group()
        if not token[0].isupper() or word.start() in starts:
            continue
        if token in ALLOWED_CAPITALS or token in BANK_HOLIDAY_WORDS or token.rstrip("’'s") in ALLOWED_CAPITALS:
            continue
        found.append(f"a capital in the middle of a sentence: {token!r}")
    return found


def problems(block: str) -> list[str]:
    """What is wrong with one block of text; an empty list when nothing is."""
    text = REFERENCE.sub("123", block)
    found = [f"a doubled word: {m.group()!r}" for m in DOUBLED_WORD.finditer(text)]
    found += _brackets(text)
    found += [f"a name from the code: {m.group()!r}" for m in SNAKE_CASE.finditer(text)]
    found += [f"template or code left in: {m.group()!r}" for m in LEFTOVERS.finditer(text)]
    found += [f"a gap where words are missing: {m.group()!r}" for m in GAP.finditer(text)]
    found += _capitals(text)
    return found
