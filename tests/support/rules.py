"""Builders for the rule pages' tests: catalogue entries, claims about them with the outcomes a
test needs, and published decision statements."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import func, select, update

from guarantee.context import unit_of_work
from guarantee.models import Claim, DecisionStatement, Regulation
from guarantee.models.regulation import unique_slug
from guarantee.services.claims import submit_claim
from tests.helpers import submission

# Where a claim stands -> (state, outcome) that puts it in that outcome group of the statistics.
STANDING: dict[str, tuple[str, str | None]] = {
    "being_considered": ("under_review", None),
    "upheld": ("resolved", "waiver_granted"),
    "not_upheld": ("closed", "not_upheld"),
    "declined": ("closed", "declined"),
}


def add_rule(app: Flask, title: str, **fields: Any) -> tuple[int, str]:
    """A catalogue entry: (id, slug)."""
    with app.app_context(), unit_of_work() as ctx:
        entry = Regulation(
            title=title,
            slug=unique_slug(ctx.session, title),
            category=fields.pop("category", "food_hygiene"),
            created_at=ctx.now(),
            **fields,
        )
        ctx.session.add(entry)
        ctx.session.flush()
        return entry.id, entry.slug


def add_claims(app: Flask, regulation_id: int, standing: str, count: int, **barrier: Any) -> list[int]:
    """``count`` claims about the entry, each where ``standing`` says (set directly: these tests
    are about what the pages show, not how claims get there)."""
    state, outcome = STANDING[standing]
    ids = []
    with app.app_context(), unit_of_work() as ctx:
        for _ in range(count):
            filed = submit_claim(ctx, submission(barrier=barrier) if barrier else submission())
            ids.append(filed.claim.id)
        ctx.session.execute(
            update(Claim)
            .where(Claim.id.in_(ids))
            .values(state=state, outcome=outcome, regulation_id=regulation_id, due_clock=None, due_on=None)
        )
    return ids


def publish_statement(
    app: Flask, regulation_id: int, claim_id: int, published_at: datetime, *, status: str = "published"
) -> str:
    """A decision statement on the register (as the register's approval step leaves it): its number."""
    with app.app_context(), unit_of_work() as ctx:
        count = ctx.session.scalar(select(func.count()).select_from(DecisionStatement)) or 0
        number = f"DS-2026-{count + 1:04d}"
        ctx.session.add(
            DecisionStatement(
                number=number,
                claim_id=claim_id,
                decision="upheld",
                status=status,
                summary="The rule was applied too strictly to a volunteer-run kitchen.",
                drafted_at=published_at,
                published_at=published_at,
                consent=True,
                regulation_id=regulation_id,
            )
        )
        return number
