"""The edge's side of the service layer: build a ServiceContext and own the transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy.exc import IntegrityError

from guarantee.extensions import db
from guarantee.services import idempotency
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict
from guarantee.services.idempotency import StoredResponse
from guarantee.services.storage import EvidenceStore
from workflows.words import N_


def service_context() -> ServiceContext:
    return ServiceContext(
        session=db.session(),  # this app context's session
        clock=current_app.extensions["guarantee.clock"],
        working_days=current_app.config["GUARANTEE_WORKING_DAYS"],
        evidence=EvidenceStore(Path(current_app.config["GUARANTEE_EVIDENCE_DIR"])),
        two_step_key=current_app.extensions["guarantee.two_step_key"],
        appeals_team_email=current_app.config.get("GUARANTEE_APPEALS_TEAM_EMAIL") or None,
        tracking_link_days=int(current_app.config["GUARANTEE_TRACKING_LINK_DAYS"]),
        register_min_claims=int(current_app.config["GUARANTEE_REGISTER_MIN_CLAIMS"]),
    )


@contextmanager
def unit_of_work() -> Iterator[ServiceContext]:
    """One transaction: commit when the block ends, roll back on any error."""
    ctx = service_context()
    try:
        yield ctx
        ctx.commit()
    except BaseException:
        ctx.rollback()
        raise


def run_once(
    scope: str, key: str | None, body: Any, produce: Callable[[ServiceContext], StoredResponse]
) -> tuple[StoredResponse, bool]:
    """Run ``produce`` in one transaction; with a key, at most once per key, whatever the
    number of retries and workers. Returns the response and whether it is a replay."""
    if key is None:
        with unit_of_work() as ctx:
            return produce(ctx), False
    idempotency.check_key(key)
    secret = current_app.config["SECRET_KEY"]
    fingerprint = idempotency.request_fingerprint(body)
    ctx = service_context()
    try:
        earlier = idempotency.find(ctx, scope, key, fingerprint, secret)
        if earlier is not None:
            ctx.rollback()
            return earlier, True
        try:
            record = idempotency.claim_key(ctx, scope, key, fingerprint)
        except IntegrityError:
            # Another worker claimed the key first and has now committed: replay its response.
            ctx.rollback()
            earlier = idempotency.find(ctx, scope, key, fingerprint, secret)
            ctx.rollback()
            if earlier is None:
                raise Conflict(N_("Another request with this key failed just now. Try again.")) from None
            return earlier, True
        stored = produce(ctx)
        idempotency.remember(record, stored, key, secret)
        ctx.commit()
    except BaseException:
        ctx.rollback()
        raise
    return stored, False
