"""Running a write once per Idempotency-Key, whatever the number of retries and workers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, current_app, jsonify, request
from sqlalchemy.exc import IntegrityError

from guarantee.context import service_context, unit_of_work
from guarantee.services import idempotency
from guarantee.services.context import ServiceContext
from guarantee.services.errors import Conflict
from guarantee.services.idempotency import StoredResponse


def to_response(stored: StoredResponse, *, replayed: bool = False) -> Response:
    response = jsonify(stored.body)
    response.status_code = stored.status_code
    for name, value in stored.headers.items():
        response.headers[name] = value
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def run_once(scope: str, body: Any, produce: Callable[[ServiceContext], StoredResponse]) -> Response:
    """Run ``produce`` in one transaction; with an Idempotency-Key, at most once per key."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        with unit_of_work() as ctx:
            stored = produce(ctx)
        return to_response(stored)
    idempotency.check_key(key)
    secret = current_app.config["SECRET_KEY"]
    fingerprint = idempotency.request_fingerprint(body)
    ctx = service_context()
    try:
        earlier = idempotency.find(ctx, scope, key, fingerprint, secret)
        if earlier is not None:
            ctx.rollback()
            return to_response(earlier, replayed=True)
        try:
            record = idempotency.claim_key(ctx, scope, key, fingerprint)
        except IntegrityError:
            # Another worker claimed the key first and has now committed: replay its response.
            ctx.rollback()
            earlier = idempotency.find(ctx, scope, key, fingerprint, secret)
            ctx.rollback()
            if earlier is None:
                raise Conflict("Another request with this Idempotency-Key failed just now. Try again.") from None
            return to_response(earlier, replayed=True)
        stored = produce(ctx)
        idempotency.remember(record, stored, key, secret)
        ctx.commit()
    except BaseException:
        ctx.rollback()
        raise
    return to_response(stored)
