"""The public rule pages (issue 20, item 4) and the claim form's precedent step (item 5): each
catalogue entry, its claims by outcome, and how to challenge it with the body that issued it.

Counts go through the statistics' disclosure control (``guarantee.statistics.disclosure``, with the outcome
groups of ``guarantee.statistics.counting``): a count from 1 to 9 is never shown, every other is
rounded to the nearest 5, and a small rule whose claims all had one outcome shows no outcomes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from guarantee.models import Claim, Regulation
from guarantee.services.context import ServiceContext
from guarantee.services.errors import NotFound
from guarantee.services.matching import closest_entries
from guarantee.statistics.counting import DECIDED_GROUPS, OUTCOME_GROUPS, OUTCOME_LABELS, outcome_group_column
from guarantee.statistics.disclosure import SUPPRESSED, Published, Rules, protect_cross
from workflows.words import N_, AsWritten, words

# What the precedent step calls a decided claim's outcome: upheld, or not (an appeal pending too).
PRECEDENT_COLUMNS = ("upheld", "not_upheld")
OFFERED = 3  # catalogue entries the precedent step offers, at most


class Moved(Exception):
    """The entry was merged into another: its page is that one's."""

    def __init__(self, slug: str) -> None:
        super().__init__(slug)
        self.slug = slug


@dataclass(frozen=True)
class Outcomes:
    """A rule's claims by outcome, as published: rounded counts, or SUPPRESSED."""

    total: Published
    rows: list[tuple[str, Published]]  # (outcome's label, count), in the statistics' order
    few: bool  # from 1 to threshold - 1 claims in all: the page says "fewer than 10"

    @property
    def hidden(self) -> bool:
        return any(count == SUPPRESSED for _, count in self.rows)


@dataclass(frozen=True)
class ListedRule:
    slug: str
    title: str
    legal_reference: str | None
    issuing_body: str | None


@dataclass(frozen=True)
class Precedent:
    """A catalogue entry offered on the claim form, with what was decided about it."""

    regulation_id: int
    title: str
    legal_reference: str | None
    issuing_body: str | None
    slug: str
    decided: str  # "About 15 decided claims about this rule: about 10 upheld", in words (``Words``)


def rule_by_slug(ctx: ServiceContext, slug: str) -> Regulation:
    """The live entry at /rules/<slug>; Moved if it was merged (to the entry it ends up in)."""
    regulation = ctx.session.scalar(select(Regulation).where(Regulation.slug == slug))
    if regulation is None:
        raise NotFound(N_("There is no rule at this address."))
    seen = {regulation.id}
    live = regulation
    while live.merged_into_id is not None:
        merged_into = ctx.session.get(Regulation, live.merged_into_id)
        if merged_into is None or merged_into.id in seen:  # never: merges point at live entries
            raise NotFound(N_("There is no rule at this address."))
        seen.add(merged_into.id)
        live = merged_into
    if live is not regulation:
        raise Moved(live.slug)
    return regulation


def _by_outcome(ctx: ServiceContext, regulation_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    ids = list(regulation_ids)
    if not ids:
        return {}
    group = outcome_group_column()
    rows = ctx.session.execute(
        select(Claim.regulation_id, group, func.count())
        .where(Claim.regulation_id.in_(ids))
        .group_by(Claim.regulation_id, group)
    )
    counts: dict[int, dict[str, int]] = {}
    for regulation_id, outcome, n in rows:
        if regulation_id is not None:  # never: the query asks for these entries' claims
            counts.setdefault(regulation_id, {})[outcome] = int(n)
    return counts


def outcomes(ctx: ServiceContext, regulation_id: int, rules: Rules) -> Outcomes:
    """The entry's claims by outcome, protected as a row of the statistics' category-by-outcome
    table is: small counts hidden, the rest rounded, and a small row of one outcome hidden."""
    counts = _by_outcome(ctx, [regulation_id]).get(regulation_id, {})
    table = protect_cross(
        {(regulation_id, g): counts.get(g, 0) for g in OUTCOME_GROUPS},
        [regulation_id],
        list(OUTCOME_GROUPS),
        rules,
        dominance=True,
    )
    return Outcomes(
        total=table.row_totals[regulation_id],
        rows=[(OUTCOME_LABELS[g], table.cells[(regulation_id, g)]) for g in OUTCOME_GROUPS],
        few=0 < sum(counts.values()) < rules.threshold,
    )


def decided_in_words(counts: dict[str, int], rules: Rules) -> str:
    """How many claims about a rule were decided and how many upheld, as the 10-5 rule lets it say
    (``Words``: the page says it again in the reader's language)."""
    decided = {"upheld": counts.get("upheld", 0)}
    decided["not_upheld"] = sum(counts.get(g, 0) for g in DECIDED_GROUPS) - decided["upheld"]
    table = protect_cross(
        {(0, c): decided[c] for c in PRECEDENT_COLUMNS}, [0], list(PRECEDENT_COLUMNS), rules, dominance=True
    )
    total, upheld = table.row_totals[0], table.cells[(0, "upheld")]
    if total == 0:
        return N_("No decided claims about this rule yet")
    if total == SUPPRESSED:
        return words("Fewer than %(threshold)s decided claims about this rule", threshold=rules.threshold)
    if upheld == SUPPRESSED:
        return words(
            "About %(total)s decided claims about this rule (how many were upheld is not shown, to protect the groups)",
            total=total,
        )
    return words("About %(total)s decided claims about this rule: about %(upheld)s upheld", total=total, upheld=upheld)


def precedents(
    ctx: ServiceContext,
    name: str | None,
    *,
    reference: str | None,
    imposed_by: str | None,
    category: str | None,
    rules: Rules,
) -> list[Precedent]:
    """The catalogue entries closest to the rule a group named, with what was decided about each."""
    matches = closest_entries(ctx, name, reference=reference, imposed_by=imposed_by, category=category, limit=OFFERED)
    counts = _by_outcome(ctx, [m.regulation_id for m in matches])
    slugs = dict(
        ctx.session.execute(
            select(Regulation.id, Regulation.slug).where(Regulation.id.in_([m.regulation_id for m in matches]))
        ).all()
    )
    return [
        Precedent(
            regulation_id=m.regulation_id,
            title=m.title,
            legal_reference=m.legal_reference,
            issuing_body=m.issuing_body,
            slug=slugs[m.regulation_id],
            decided=decided_in_words(counts.get(m.regulation_id, {}), rules),
        )
        for m in matches
    ]


def chosen_entry(ctx: ServiceContext, value: object, offered: Sequence[int] | None = None) -> int | None:
    """The live entry a group chose on the precedent step, from its answer (an id as text); None
    for "none of these", no answer, or anything that is not a live entry (or not one offered)."""
    if not isinstance(value, str) or not value.isdigit() or len(value) > 9:
        return None
    regulation_id = int(value)
    if offered is not None and regulation_id not in offered:
        return None
    live = ctx.session.scalar(
        select(Regulation.id).where(Regulation.id == regulation_id, Regulation.merged_into_id.is_(None))
    )
    return int(live) if live is not None else None


def chosen_by_group(ctx: ServiceContext, reference: str) -> str | None:
    """The title of the catalogue entry the group chose when it filed claim ``reference``, if it
    chose one: a suggestion for triage (the officer's page of a claim it may already read)."""
    title = ctx.session.scalar(
        select(Regulation.title)
        .join(Claim, Claim.regulation_chosen_id == Regulation.id)
        .where(Claim.reference == reference)
    )
    return str(title) if title is not None else None


def listed_rules(ctx: ServiceContext, text: str = "", *, limit: int = 200) -> list[ListedRule]:
    """The live entries at least one claim is about, by title; those whose title, reference or
    issuing body contain ``text`` when it is given."""
    with_claims = select(Claim.regulation_id).where(Claim.regulation_id.is_not(None)).distinct()
    query = (
        select(Regulation)
        .where(Regulation.merged_into_id.is_(None), Regulation.id.in_(with_claims))
        .order_by(func.lower(Regulation.title), Regulation.id)
        .limit(limit)
    )
    cleaned = (text or "").strip().lower()
    if cleaned:
        pattern = "%" + cleaned.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            func.lower(Regulation.title).like(pattern, escape="\\")
            | func.lower(func.coalesce(Regulation.legal_reference, "")).like(pattern, escape="\\")
            | func.lower(func.coalesce(Regulation.issuing_body, "")).like(pattern, escape="\\")
        )
    return [ListedRule(r.slug, r.title, r.legal_reference, r.issuing_body) for r in ctx.session.scalars(query)]


def default_challenge_route(issuing_body: str | None) -> str:
    """What the page says when officers have not written how to challenge the rule yet (``Words``)."""
    if not issuing_body:
        return N_(
            "Ask the body that makes you follow this rule how to complain about or appeal against how it applies "
            "this rule. Under the Regulators' Code, regulators must publish a complaints and appeals route, usually "
            'on their website under "complaints" or "appeals". You can do this as well as filing a claim here.'
        )
    return words(
        "Ask %(body)s how to complain about or appeal against how it applies this rule. Under the "
        "Regulators' Code, regulators must publish a complaints and appeals route, usually on their "
        'website under "complaints" or "appeals". You can do this as well as filing a claim here.',
        body=AsWritten(issuing_body),
    )
