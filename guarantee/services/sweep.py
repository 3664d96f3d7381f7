"""The deadline sweeper: fires the system triggers whose clock has run out.

Safe to run on several machines at once: on PostgreSQL each batch locks its claims with
``FOR UPDATE SKIP LOCKED`` so two sweepers never take the same claim; on SQLite writers
are serialised, and the conditional update on ``version`` backs both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import select

from guarantee.models import Claim
from guarantee.services.actors import SystemActor
from guarantee.services.claims import fire
from guarantee.services.context import ServiceContext
from guarantee.services.errors import ServiceError
from workflows import SYSTEM, TRANSITIONS, Transition

log = logging.getLogger(__name__)

# (trigger, source state, clock that must have run out), read from the workflow.
SYSTEM_TRIGGERS: tuple[tuple[Transition, str], ...] = tuple(
    (t, source) for t in TRANSITIONS if SYSTEM in t.fired_by and t.clock_condition for source in t.sources
)


@dataclass
class SweepResult:
    fired: list[tuple[str, str]] = field(default_factory=list)  # (reference, trigger)
    refused: list[tuple[str, str, str]] = field(default_factory=list)  # (reference, trigger, why)


def sweep_batch(ctx: ServiceContext, limit: int, skip_ids: set[int] | None = None) -> SweepResult:
    """Fire due system triggers on up to ``limit`` claims. The caller commits."""
    result = SweepResult()
    today = ctx.today()
    actor = SystemActor("sweeper")
    for transition, source in SYSTEM_TRIGGERS:
        remaining = limit - len(result.fired) - len(result.refused)
        if remaining <= 0:
            break
        assert transition.clock_condition is not None
        query = (
            select(Claim.id, Claim.reference)
            .where(
                Claim.state == source,
                Claim.due_clock == transition.clock_condition.clock,
                Claim.due_on < today,
            )
            .order_by(Claim.due_on, Claim.id)
            .limit(remaining)
        )
        if skip_ids:
            query = query.where(Claim.id.not_in(skip_ids))
        if ctx.on_postgresql:
            query = query.with_for_update(of=Claim, skip_locked=True)
        for claim_id, reference in ctx.session.execute(query).all():
            try:
                with ctx.session.begin_nested():
                    fire(ctx, reference, transition.trigger, actor)
            except ServiceError as exc:
                log.warning("sweep could not fire %s on %s: %s", transition.trigger, reference, exc.message)
                result.refused.append((reference, transition.trigger, exc.message))
                if skip_ids is not None:
                    skip_ids.add(claim_id)
            else:
                result.fired.append((reference, transition.trigger))
    return result
