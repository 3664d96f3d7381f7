"""Matching what a group wrote about a rule: the catalogue entries closest to it, and other open
claims that may be about the same rule.

The scores are worked out in Python with rapidfuzz, not in the database (PostgreSQL's
``pg_trgm``, say), for three reasons: SQLite has nothing like it, so the two databases would rank
differently and the tests of one would not hold for the other; trigram similarity and edit
distance disagree on exactly the cases that matter here (typos and reordered words); and the work
is small: one query reads a few narrow columns of the catalogue (thousands of rows at most), and
rapidfuzz's C++ scorers compare them in milliseconds.

How similar two names of a rule are (``similarity``) is the mean of two rapidfuzz scores on the
names, lower-cased and stripped of punctuation: ``token_sort_ratio`` (the words in any order, a typo
costs little) and ``token_set_ratio`` (one name is the other with words added, as in "Food premises
registration" and "The Food Premises (Registration) Regulations 1991"). Either alone is fooled:
the first by a name with words added, the second by a single shared word ("Food" scores 100
against every food rule).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process
from sqlalchemy import select

from guarantee.models import Claim, Regulation
from guarantee.services.actors import Actor
from guarantee.services.claims import get_claim
from guarantee.services.context import ServiceContext
from guarantee.services.errors import joined
from guarantee.services.officers import require_role
from workflows import ACTIVE_STATES
from workflows.vocabulary import ROLES
from workflows.words import N_, words

# How much each part of what the group wrote counts towards an entry's score, where both the
# claim and the entry have that part: the rule's name most; who imposes it, its legal reference
# and its category a little each, enough to order entries whose names score alike.
WEIGHTS = {"name": 0.7, "reference": 0.1, "body": 0.1, "category": 0.1}
# Entries scoring less are not offered at all: their names share a word or two at most.
MIN_SCORE = 40
# An entry scoring this or more is very likely the rule the group meant (a typo, words in another
# order, or the same name with words added): a page may choose it for the officer beforehand.
LIKELY = 85
# Two claims' rules at least this similar are offered as possible duplicates. The ways people
# write one rule (a typo, reordered or added words: "Registering food premises", "Food premises
# registraton") score 88 to 98; different rules that share words ("Food premises registration"
# and "Food business registration" 73, "Premises licence" and "Personal licence" 69) score less.
# Rules one letter apart in meaning ("Food hygiene rating" and "... training", 90) still come
# through: the officer judges each one, which is why they are possible duplicates.
DUPLICATE_THRESHOLD = 85


@dataclass(frozen=True)
class EntryMatch:
    """A catalogue entry, and how close it is (0-100) to the rule the group named."""

    regulation_id: int
    title: str
    legal_reference: str | None
    issuing_body: str | None
    category: str
    score: int
    likely: bool  # score >= LIKELY: a page may choose it beforehand


@dataclass(frozen=True)
class PossibleDuplicate:
    """Another open claim in the same region that may be about the same rule, and why."""

    reference: str
    version: int  # as read: pass it back as the expected version to decline it as a duplicate
    state: str
    initiative_title: str
    group_name: str
    submitted_at: datetime
    same_entry: bool  # on the same catalogue entry as this claim
    similarity: int  # how similar the rules' names are, 0-100
    why: str  # "same catalogue entry", "similar rule: 87%", or both


def _clean(text: str | None) -> str:
    return default_process(text) if text else ""


def similarity(first: str | None, second: str | None) -> float:
    """How alike two names of a rule are, 0-100 (see the module's docstring); 0 if either is empty."""
    a, b = _clean(first), _clean(second)
    return _similar(a, b)


def _similar(a: str, b: str) -> float:
    """``similarity`` of two names already cleaned."""
    if not a or not b:
        return 0.0
    return (fuzz.token_sort_ratio(a, b) + fuzz.token_set_ratio(a, b)) / 2


def _weighted(parts: Iterable[tuple[str, float]]) -> float:
    """The weighted mean of the parts both sides have."""
    total = weight = 0.0
    for name, score in parts:
        total += WEIGHTS[name] * score
        weight += WEIGHTS[name]
    return total / weight if weight else 0.0


def rank_entries(ctx: ServiceContext, actor: Actor, reference: str, *, limit: int = 5) -> list[EntryMatch]:
    """The live (not merged) catalogue entries closest to the rule claim ``reference`` names, best
    first: at most ``limit``, each scoring MIN_SCORE or more. Empty when the catalogue is, or when
    the group named no rule (nothing left of its name once punctuation is taken out).

    The score weighs the rule's name against the entry's title most, then who imposes it against
    the entry's issuing body, the legal references and the category (the officer's, or the one the
    group chose), each only where both sides have one. Equal scores keep the better name first,
    then the title's alphabetical order, so both databases give the same list."""
    require_role(ctx, actor, ROLES, N_("match claims to the regulation catalogue"))
    claim = get_claim(ctx, reference)
    return closest_entries(
        ctx,
        claim.barrier_regulation,
        reference=claim.barrier_regulation_reference,
        imposed_by=claim.barrier_imposed_by,
        category=claim.category or claim.barrier_category,
        limit=limit,
    )


def closest_entries(
    ctx: ServiceContext,
    name: str | None,
    *,
    reference: str | None = None,
    imposed_by: str | None = None,
    category: str | None = None,
    limit: int = 5,
) -> list[EntryMatch]:
    """The live catalogue entries closest to a rule as a group names it (``rank_entries`` for a
    claim not filed yet: the claim form's precedent step). The catalogue is public, so anyone may."""
    cleaned = _clean(name)
    if not cleaned:
        return []
    their_reference = _clean(reference)
    their_body = _clean(imposed_by)
    rows = ctx.session.execute(
        select(
            Regulation.id, Regulation.title, Regulation.legal_reference, Regulation.issuing_body, Regulation.category
        ).where(Regulation.merged_into_id.is_(None))
    ).all()
    bodies: dict[str, float] = {}  # a catalogue names few issuing bodies, over and over
    scored = []
    for row in rows:
        by_name = _similar(cleaned, _clean(row.title))
        parts = [("name", by_name), ("category", 100.0 if row.category == category else 0.0)]
        entry_reference = _clean(row.legal_reference)
        if their_reference and entry_reference:
            parts.append(("reference", float(fuzz.token_sort_ratio(their_reference, entry_reference))))
        if their_body and row.issuing_body:
            if row.issuing_body not in bodies:
                bodies[row.issuing_body] = _similar(their_body, _clean(row.issuing_body))
            parts.append(("body", bodies[row.issuing_body]))
        score = _weighted(parts)
        if score >= MIN_SCORE:
            scored.append((score, by_name, row))
    scored.sort(key=lambda s: (-s[0], -s[1], s[2].title.casefold(), s[2].id))
    return [
        EntryMatch(
            regulation_id=row.id,
            title=row.title,
            legal_reference=row.legal_reference,
            issuing_body=row.issuing_body,
            category=row.category,
            score=round(score),
            likely=round(score) >= LIKELY,
        )
        for score, _, row in scored[: max(limit, 0)]
    ]


def possible_duplicates(
    ctx: ServiceContext, actor: Actor, reference: str, *, limit: int = 10
) -> list[PossibleDuplicate]:
    """Other open claims (in an active state) in the same region as claim ``reference`` that are
    on the same catalogue entry, or whose rule's name is at least DUPLICATE_THRESHOLD similar;
    those on the same entry first, then the most similar, then the oldest (most likely the
    original). At most ``limit``."""
    require_role(ctx, actor, ROLES, N_("look for duplicate claims"))
    claim = get_claim(ctx, reference)
    name = _clean(claim.barrier_regulation)
    rows = ctx.session.execute(
        select(
            Claim.reference,
            Claim.version,
            Claim.state,
            Claim.initiative_title,
            Claim.group_name,
            Claim.submitted_at,
            Claim.regulation_id,
            Claim.barrier_regulation,
        ).where(Claim.state.in_(ACTIVE_STATES), Claim.region == claim.region, Claim.id != claim.id)
    )
    found = []
    for row in rows:
        same_entry = claim.regulation_id is not None and row.regulation_id == claim.regulation_id
        alike = round(_similar(name, _clean(row.barrier_regulation)))
        similar = alike >= DUPLICATE_THRESHOLD
        if not (same_entry or similar):
            continue
        why = [
            *([N_("same catalogue entry")] if same_entry else []),
            *([words("similar rule: %(alike)s%%", alike=alike)] if similar else []),
        ]
        found.append(
            PossibleDuplicate(
                reference=row.reference,
                version=row.version,
                state=row.state,
                initiative_title=row.initiative_title,
                group_name=row.group_name,
                submitted_at=row.submitted_at,
                same_entry=same_entry,
                similarity=alike,
                why=joined(why, "; "),
            )
        )
    found.sort(key=lambda d: (not d.same_entry, -d.similarity, d.submitted_at, d.reference))
    return found[: max(limit, 0)]
