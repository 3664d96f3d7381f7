"""Every page in Welsh (issue 23): a reader who chose Cymraeg finds no English sentence left on
any page of the public site, a group's tracking pages or the officers' console, except names
and references.

The check walks the service as a reader would, following every link of every page it reaches
(the public pages; a group's tracking pages for claims in every state, each claim's texts
written in Welsh by its group and its officers; and the console, as an officer with every
role). It reads each page twice, in Welsh and in English, and fails on any text of the Welsh
page that is the same as a text of the English page, or that reads as English (two or more of
the commonest English words), unless it is a name, a reference, an address or a number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest
from flask import Flask
from flask.testing import FlaskClient

from guarantee.context import unit_of_work
from guarantee.public.forms import PAGES
from guarantee.services.actors import GroupActor
from guarantee.services.claims import fire, submit_claim
from tests.helpers import INPUTS, Cast, submission
from tests.test_console import officer, sign_in
from workflows import TRANSITIONS_BY_TRIGGER

# The group's answers, in Welsh: what a person typed is never translated, so it is written in
# Welsh here and cannot be mistaken for English left on a page.
WELSH_CLAIM: dict[str, dict[str, Any]] = {
    "group": {"name": "Rhieni Mes Bach", "contact_name": "Ada Prawf", "language": "cy"},
    "initiative": {"title": "Meithrinfa dan ofal rhieni", "description": "Mae rhieni'n rhedeg meithrinfa ar rota."},
    "barrier": {
        "regulation": "Cymarebau staffio blynyddoedd cynnar",
        "imposed_by": "Arolygiaeth Gofal Cymru",
        "how_it_blocks": "Byddai angen cymhwyster lefel 3 ar bob rhiant.",
    },
}
WELSH_TEXT = "Testun a ysgrifennwyd yn Gymraeg."
FREE_TEXT = {
    "explanation",
    "question",
    "answer",
    "reasons",
    "public_summary",
    "grounds",
    "summary",
    "reason",
    "justification",
}


def _in_welsh(name: str, value: Any) -> Any:
    if name == "regulation":
        return {"title": "Cofrestru safle bwyd"}
    return WELSH_TEXT if name in FREE_TEXT else value


WELSH_INPUTS = {trigger: {n: _in_welsh(n, v) for n, v in given.items()} for trigger, given in INPUTS.items()}
# Each claim's path through the workflow: one claim in each state a group can see.
PATHS: tuple[tuple[str, ...], ...] = (
    (),
    ("accept",),
    ("accept", "request_information"),
    ("accept", "uphold"),
    ("accept", "not_uphold"),
    ("accept", "not_uphold", "appeal"),
    ("accept", "not_uphold", "appeal", "dismiss_appeal"),
    ("accept", "uphold", "record_resolution"),
    ("decline",),
    ("withdraw",),
)

# The commonest English words, none of them also a Welsh word a page would use.
ENGLISH = set(
    [
        "the",
        "and",
        "you",
        "your",
        "to",
        "of",
        "is",
        "are",
        "for",
        "with",
        "this",
        "that",
        "we",
        "will",
        "be",
        "has",
        "have",
        "not",
        "can",
        "on",
        "or",
        "by",
        "from",
        "an",
        "it",
        "was",
        "were",
        "what",
        "when",
        "which",
        "who",
        "how",
        "if",
        "as",
        "our",
        "us",
        "do",
        "does",
        "may",
        "must",
        "should",
        "would",
        "been",
        "than",
        "then",
        "there",
        "their",
        "they",
        "them",
        "these",
        "those",
        "into",
        "about",
        "after",
        "before",
        "until",
        "only",
        "also",
        "any",
        "all",
        "each",
        "every",
        "more",
        "most",
        "no",
        "yes",
        "here",
        "other",
        "such",
        "some",
        "its",
        "his",
        "her",
        "please",
        "see",
        "find",
        "out",
        "get",
        "use",
        "used",
        "using",
        "make",
        "made",
        "give",
        "given",
        "send",
        "sent",
        "read",
        "write",
        "written",
        "change",
        "show",
        "shown",
        "need",
        "needs",
        "help",
        "page",
        "pages",
        "claim",
        "claims",
        "group",
        "groups",
        "officer",
        "officers",
        "appeal",
        "appeals",
        "decision",
        "decisions",
        "rule",
        "rules",
        "regulation",
        "regulations",
        "council",
        "service",
        "date",
        "day",
        "days",
        "working",
        "deadline",
        "back",
        "continue",
        "start",
        "next",
        "previous",
        "search",
        "filter",
    ]
)
# Texts the same in both languages: the service's proper nouns and codes.
SAME_IN_BOTH = re.compile(
    r"CPG-\d{4}-\d{6}|DS-\d{4}-\d{5}|[\w.+*-]+@[\w.-]+|EYFS 3\.28|\b(?:[\w-]+\.)+(?:uk|org|com|cymru|wales|example)\b\S*|https?://\S+|\b\d[\d,.:/ %-]*\b|"
    r"\bGUARANTEE_[A-Z_]+\b|\b(?:GOV\.UK|AbilityNet|API|CSV|JSON|Atom|OpenAPI|PDF|JPEG|PNG|Cymraeg|English|ICO|axe-core|WCAG|Ofcom|Sector|sector|Post|Linux|Mac|Windows|SHA-256)\b"
)
SKIPPED_PATHS = re.compile(
    r"^/(?:language/|static/|api/|healthz|readyz|.*\.(?:csv|json|xml|atom|svg|png)$)|/feed|/download"
)
LIMIT = 140  # pages read per reader: every kind of page, not every claim's copy of it


@dataclass
class Reader:
    client: FlaskClient
    start: list[str]
    allowed: set[str] = field(default_factory=set)


def visible_texts(html: str) -> list[str]:
    """Each text a person reads (or hears: labels and titles), whitespace collapsed, without the
    parts marked as English on purpose (lang="en") or as not to be translated (translate="no":
    codes such as a cookie's name), and without code (a command, a setting's name)."""
    tree = lxml.html.fromstring(html)
    for node in tree.xpath(
        '//script | //style | //template | //body//*[@lang="en"] | //body//*[@translate="no"] | //body//code | //head'
    ):
        node.drop_tree()
    texts = [" ".join(t.split()) for t in tree.xpath("//body//text()")]
    texts += [" ".join(v.split()) for v in tree.xpath("//body//@aria-label | //body//@title | //body//@alt")]
    title = re.search(r"<title[^>]*>(.*?)</title>", html, re.S)
    if title:
        texts.append(" ".join(title[1].split()))
    return [t for t in texts if t]


def leftover_english(welsh: str, english: str, allowed: set[str]) -> list[str]:
    said_in_english = set(visible_texts(english))
    found = []
    for text in visible_texts(welsh):
        rest = text
        for name in sorted(allowed, key=len, reverse=True):  # the longest first: a name may hold a shorter one
            rest = rest.replace(name, " ")
        rest = SAME_IN_BOTH.sub(" ", rest)
        words = re.findall(r"[A-Za-z][A-Za-z']+", rest)
        if not words:
            continue
        common = {w.lower() for w in words} & ENGLISH
        if len(common) >= 2 or (text in said_in_english and words):
            found.append(text)
    return found


def links(html: str, here: str) -> Iterator[str]:
    for href in lxml.html.fromstring(html).xpath("//a/@href"):
        target = urlsplit(urljoin(here, href))
        if target.netloc or target.scheme not in ("", "http"):
            continue
        yield target.path + (f"?{target.query}" if target.query else "")


def walk(reader: Reader) -> dict[str, list[str]]:
    """Read every page reachable from the reader's start pages, in both languages."""
    seen: set[str] = set()
    queue = list(reader.start)
    problems: dict[str, list[str]] = {}
    kinds: set[str] = set()
    read: set[str] = set()  # the pages read in both languages
    while queue and len(seen) < LIMIT:
        path = queue.pop(0)
        kind = re.sub(r"CPG-\d{4}-\d{6}|DS-\d{4}-\d{5}|\d+", "N", urlsplit(path).path)
        if path in seen or SKIPPED_PATHS.search(urlsplit(path).path) or (kind in kinds and "?" in path):
            continue
        seen.add(path)
        kinds.add(kind)
        reader.client.set_cookie("language", "cy")
        welsh = reader.client.get(path, follow_redirects=True)
        if welsh.status_code >= 500 or not welsh.content_type.startswith("text/html"):
            continue
        read.add(path)
        assert '<html lang="cy"' in welsh.text, path
        reader.client.set_cookie("language", "en")
        english = reader.client.get(path, follow_redirects=True)
        if english.status_code == welsh.status_code:
            left = leftover_english(welsh.text, english.text, reader.allowed)
            if left:
                problems[path] = left
        queue.extend(p for p in links(welsh.text, path) if p not in seen)
    assert len(read) > 10, read
    import os

    if os.environ.get("SHOW_WALK"):
        print("WALKED", len(read), sorted(read))
    return problems


@pytest.fixture
def claims(app: Flask) -> dict[str, str]:
    """A claim in each state a group sees, every text in it Welsh: reference -> tracking token."""
    made = {}
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        for path in PATHS:
            filed = submit_claim(ctx, submission(**WELSH_CLAIM))
            for trigger in path:
                role = TRANSITIONS_BY_TRIGGER[trigger].fired_by[0]
                actor = GroupActor(filed.reference) if role == "group" else cast.for_role(role, filed.reference)
                fire(ctx, filed.reference, trigger, actor, WELSH_INPUTS[trigger])
            made[filed.reference] = filed.tracking_token
    return made


def council_names(app: Flask) -> set[str]:
    """The council's settings (its name, address, hours, officers' names), as the council wrote
    them, and what this test's groups and officers wrote, in Welsh: never translated by the service."""
    settings = {
        str(item)
        for name, value in app.config.items()
        if name.startswith(("GUARANTEE_COUNCIL_", "GUARANTEE_DPO", "GUARANTEE_ICO"))
        for item in (value if isinstance(value, (tuple, list)) else [value])
        if isinstance(item, str) and item
    }
    typed = {text for section in WELSH_CLAIM.values() for text in section.values() if len(text) > 3}
    return settings | typed | {WELSH_TEXT, "Cofrestru safle bwyd"}


def report(problems: dict[str, list[str]]) -> str:
    return "\n".join(f"{path}: {texts[:6]}" for path, texts in sorted(problems.items()))


def test_the_public_pages_have_no_english_left_in_welsh(app: Flask, claims: dict[str, str]) -> None:
    reader = Reader(
        app.test_client(),
        ["/", "/claims/new", *[f"/claims/new/{page.slug}" for page in PAGES], "/claims/new/check", "/process", "/decisions", "/rules", "/statistics", "/lost-link", "/accessibility",
         "/privacy", "/cookies", "/contact", "/decisions/data-dictionary", "/no-such-page"],
        council_names(app),
    )  # fmt: skip
    problems = walk(reader)
    assert not problems, report(problems)


def test_a_groups_tracking_pages_have_no_english_left_in_welsh(app: Flask, claims: dict[str, str]) -> None:
    client = app.test_client()
    for reference, token in claims.items():
        assert client.get(f"/track/{reference}?token={token}").status_code == 303
    problems = walk(Reader(client, [f"/track/{reference}" for reference in claims], council_names(app)))
    assert not problems, report(problems)


def test_the_console_has_no_english_left_in_welsh(app: Flask, claims: dict[str, str]) -> None:
    who = officer(app, "triage", "reviewer", "appeal_panel", "admin", "team_leader", name="Swyddog Prawf")
    client = app.test_client()
    assert sign_in(client, who.email).status_code == 303
    start = ["/officer", *[f"/officer/claims/{reference}" for reference in claims]]
    problems = walk(Reader(client, start, council_names(app) | {"Swyddog Prawf", "Test Officer", who.email}))
    assert not problems, report(problems)
