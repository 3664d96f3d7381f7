"""The regulation catalogue: find, correct, and merge duplicate entries (claims follow)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from guarantee.models import Claim, Regulation
from guarantee.services import validation as v
from guarantee.services.actors import Actor
from guarantee.services.audit import append_admin_event, append_event, text_digest
from guarantee.services.claims import save_claim
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict, NotFound, ValidationFailed
from guarantee.services.officers import require_role
from workflows.vocabulary import BARRIER_CATEGORIES, ROLES
from workflows.words import N_

EDITORS = ("triage", "reviewer", "admin")
CHALLENGE_ROUTE_LENGTH = 5000


@dataclass(frozen=True)
class Entry:
    id: int
    title: str
    legal_reference: str | None
    issuing_body: str | None
    category: str
    claims: int


def search(ctx: ServiceContext, actor: Actor, text: str = "", *, limit: int = 100) -> list[Entry]:
    """Live entries whose title, reference or issuing body contain ``text``, with their claim counts."""
    require_role(ctx, actor, ROLES, N_("see the regulation catalogue"))
    counts = (
        select(Claim.regulation_id, func.count().label("claims"))
        .where(Claim.regulation_id.is_not(None))
        .group_by(Claim.regulation_id)
        .subquery()
    )
    query = (
        select(Regulation, func.coalesce(counts.c.claims, 0))
        .outerjoin(counts, counts.c.regulation_id == Regulation.id)
        .where(Regulation.merged_into_id.is_(None))
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
    return [
        Entry(r.id, r.title, r.legal_reference, r.issuing_body, r.category, int(n))
        for r, n in ctx.session.execute(query)
    ]


def titles(ctx: ServiceContext, actor: Actor, *, limit: int = 1000) -> list[tuple[int, str]]:
    """(id, title) of the live entries, by title: what a claim can be classified under."""
    require_role(ctx, actor, ROLES, N_("see the regulation catalogue"))
    query = select(Regulation.id, Regulation.title).where(Regulation.merged_into_id.is_(None))
    return [(entry_id, title) for entry_id, title in ctx.session.execute(query.order_by(Regulation.title).limit(limit))]


def _live(ctx: ServiceContext, regulation_id: int) -> Regulation:
    regulation = ctx.session.get(Regulation, regulation_id)
    if regulation is None:
        raise NotFound(N_("There is no such entry in the regulation catalogue."))
    if regulation.merged_into_id is not None:
        raise Conflict(N_("This entry was merged into another one; change that one instead."))
    return regulation


def entry(ctx: ServiceContext, actor: Actor, regulation_id: int) -> Regulation:
    require_role(ctx, actor, ROLES, N_("see the regulation catalogue"))
    return _live(ctx, regulation_id)


def correct(ctx: ServiceContext, actor: Actor, regulation_id: int, data: Mapping[str, Any]) -> Regulation:
    """Correct an entry's title, legal reference, issuing body, category or how to challenge it
    (shown on its public page); the admin log records which fields changed (free text as its
    SHA-256). Flushes only."""
    editor = require_role(ctx, actor, EDITORS, N_("change the regulation catalogue"))
    regulation = _live(ctx, regulation_id)
    errors = v.Errors()
    title = errors.check("title", v.text, data.get("title"), N_("the title"), max_length=300, multiline=False)
    legal = errors.check(
        "legal_reference",
        v.text,
        data.get("legal_reference"),
        N_("the legal reference"),
        required=False,
        max_length=300,
        multiline=False,
    )
    body = errors.check(
        "issuing_body",
        v.text,
        data.get("issuing_body"),
        N_("the issuing body"),
        required=False,
        max_length=200,
        multiline=False,
    )
    category = errors.check("category", v.choice, data.get("category"), N_("the category"), BARRIER_CATEGORIES)
    challenge = errors.check(
        "challenge_route",
        v.text,
        data.get("challenge_route"),
        N_("how to challenge this rule"),
        required=False,
        max_length=CHALLENGE_ROUTE_LENGTH,
    )
    errors.raise_if_any()
    after = {
        "title": title,
        "legal_reference": legal,
        "issuing_body": body,
        "category": category,
        "challenge_route": challenge,
    }
    changed = {name: value for name, value in after.items() if getattr(regulation, name) != value}
    if not changed:
        return regulation
    for name, value in changed.items():
        setattr(regulation, name, value)
    payload = {
        name: (value if name == "category" or value is None else {"sha256": text_digest(value)})
        for name, value in changed.items()
    }
    append_admin_event(ctx, editor.id, "regulation_corrected", regulation_id=regulation.id, payload=payload)
    return regulation


def merge(ctx: ServiceContext, actor: Actor, duplicate_id: int, into_id: int) -> int:
    """Merge a duplicate entry into another: every claim mapped to the duplicate follows, each
    with an event in its audit trail. Returns how many claims moved. Flushes only."""
    editor = require_role(ctx, actor, EDITORS, N_("merge catalogue entries"))
    if duplicate_id == into_id:
        raise ValidationFailed({"into": [N_("Choose a different entry to merge into")]})
    # Both rows locked, in id order, so two officers merging A into B and B into A cannot both win.
    for regulation_id in sorted((duplicate_id, into_id)):
        ctx.session.execute(select(Regulation.id).where(Regulation.id == regulation_id).with_for_update()).all()
    ctx.session.expire_all()
    duplicate, into = _live(ctx, duplicate_id), _live(ctx, into_id)
    duplicate.merged_into_id = into.id
    claims = ctx.session.scalars(
        select(Claim).where(Claim.regulation_id == duplicate.id).order_by(Claim.id).with_for_update()
    ).all()
    for claim in claims:
        claim.regulation_id = into.id
        save_claim(ctx, claim)
        append_event(ctx, claim, actor, "regulation_merged", payload={"from": duplicate.id, "to": into.id})
    payload = {"into": into.id, "claims": len(claims)}
    append_admin_event(ctx, editor.id, "regulation_merged", regulation_id=duplicate.id, payload=payload)
    return len(claims)
