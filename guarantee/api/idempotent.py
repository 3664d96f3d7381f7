"""Running an API write once per Idempotency-Key header."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, jsonify, request

from guarantee import context
from guarantee.api import auth
from guarantee.services.actors import Actor
from guarantee.services.context import ServiceContext
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
    stored, replayed = context.run_once(scope, request.headers.get("Idempotency-Key"), body, produce)
    return to_response(stored, replayed=replayed)


def run_once_for(actor: Actor, body: Any, produce: Callable[[ServiceContext], StoredResponse]) -> Response:
    """``run_once`` for this caller's write to this path: a key is scoped to both, so one caller's
    key never replays another's answer."""
    return run_once(f"{auth.principal(actor)} {request.method} {request.path}", body, produce)
