"""Leases on queued messages: how several workers share a queue without losing or doubling work.

Both queues, the e-mail outbox (models.OutboxMessage) and the webhook outbox
(models.WebhookMessage), hold rows that are *pending* until due, then *sending* under a lease
(``lease_until``, and the ``lease_token`` of the worker holding it), then finished. A worker
takes due rows in one short transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers on
several machines take different rows; SQLite lets one writer in at a time), renews a row's lease
just before it tries it, and only the holder of the lease may record what happened. A lease that
runs out means its worker stopped mid-way: the row is due again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update

from guarantee.models import OutboxMessage, WebhookMessage
from guarantee.services.context import ServiceContext

Queue = type[OutboxMessage] | type[WebhookMessage]


def backoff(attempts: int, first: timedelta, longest: timedelta) -> timedelta:
    """How long to wait after the ``attempts``-th failed try: ``first``, twice that, four
    times ... at most ``longest``."""
    wait: timedelta = first * (2 ** max(attempts - 1, 0))
    return min(wait, longest)


def abandoned(queue: Queue, now: datetime) -> ColumnElement[bool]:
    """Rows left *sending* by a worker whose lease ran out."""
    return (queue.status == "sending") & (queue.lease_until < now)


def due(ctx: ServiceContext, queue: Queue, limit: int, *only: ColumnElement[bool]) -> list[int]:
    """Up to ``limit`` rows to try now, oldest due first: pending and due, or abandoned; locked
    on PostgreSQL (skipping rows another worker is taking) until the caller's transaction ends."""
    now = ctx.now()
    ready = or_((queue.status == "pending") & (queue.next_attempt_at <= now), abandoned(queue, now))
    query = select(queue.id).where(ready, *only).order_by(queue.next_attempt_at, queue.id).limit(limit)
    if ctx.on_postgresql:
        query = query.with_for_update(skip_locked=True, of=queue)
    return list(ctx.session.scalars(query))


def hold(ctx: ServiceContext, queue: Queue, ids: list[int], lease_token: str, lease: timedelta) -> None:
    """Mark the rows *sending* under this worker's lease. Flushes only; the caller commits at once."""
    if ids:
        ctx.session.execute(
            update(queue)
            .where(queue.id.in_(ids))
            .values(status="sending", lease_until=ctx.now() + lease, lease_token=lease_token)
        )


def renew(ctx: ServiceContext, queue: Queue, row_id: int, lease_token: str, lease: timedelta) -> bool:
    """Renew the lease for one try and count the try, if this worker still holds it; False if
    another worker has taken the row meanwhile."""
    now = ctx.now()
    renewed = ctx.session.execute(
        update(queue)
        .where(queue.id == row_id, queue.status == "sending", queue.lease_token == lease_token, queue.lease_until > now)
        .values(lease_until=now + lease, attempts=queue.attempts + 1)
    )
    return bool(renewed.rowcount)  # type: ignore[attr-defined]


def give_back(ctx: ServiceContext, queue: Queue, ids: list[int], lease_token: str) -> None:
    """Rows a stopping worker held but did not try: pending again, for the next worker at once."""
    ctx.session.execute(
        update(queue)
        .where(queue.id.in_(ids), queue.status == "sending", queue.lease_token == lease_token)
        .values(status="pending", lease_until=None, lease_token=None)
    )
