"""The endpoints an admin registers: URL, the events wanted, a description, and the signing
secret, made here, shown to the admin once and kept sealed (AES-GCM, under the two-step key:
guarantee.services.two_step_secrets), so that a copy of the database alone cannot sign webhooks.

Every change goes in the admin log. Flask-free: the console calls these with the acting officer.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from guarantee.models import WebhookAttempt, WebhookEndpoint, WebhookMessage
from guarantee.models.webhook import EVENT_TYPES
from guarantee.services.actors import Actor
from guarantee.services.audit import append_admin_event
from guarantee.services.context import ServiceContext
from guarantee.services.errors import NotFound, ValidationFailed
from guarantee.services.officers import require_role
from guarantee.services.two_step_secrets import SecretUnreadable, TwoStepKey, seal, unseal
from guarantee.webhooks import urls
from workflows.words import N_, words

SECRET_PREFIX = "whsec_"  # noqa: S105 (a format, not a secret)
SECRET_BYTES = 32
TABLE, COLUMN = "webhook_endpoints", "secret"
DESCRIPTION_MAX = 200
LOG_DAYS = 30  # how long the delivery log is kept (guarantee.webhooks.delivery.prune)
ADMINS = ("admin",)


class SecretLost(Exception):
    """The endpoint's secret cannot be opened with the two-step key in use."""


def new_secret() -> str:
    """``whsec_`` and the base64 of 32 random bytes (Standard Webhooks' format)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_of(key: TwoStepKey, endpoint: WebhookEndpoint) -> str:
    """The endpoint's signing secret, in the clear (only in memory, to sign with)."""
    try:
        return unseal(key, endpoint.id, COLUMN, endpoint.secret, table=TABLE)
    except SecretUnreadable as problem:
        raise SecretLost(f"Webhook endpoint {endpoint.id}'s secret cannot be decrypted: {problem.reason}") from None


def _events(chosen: object) -> list[str]:
    picked = [chosen] if isinstance(chosen, str) else list(chosen) if isinstance(chosen, Iterable) else []
    if not picked or not all(isinstance(e, str) for e in picked):
        raise ValidationFailed({"events": [N_("Choose at least one event to send.")]})
    unknown = [e for e in picked if e not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed({"events": [N_("Choose events from the list.")]})
    return [e for e in EVENT_TYPES if e in picked]


def _description(text: object) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValidationFailed(
            {"description": [N_("Enter a description, such as the system that receives the webhooks.")]}
        )
    text = " ".join(text.split())
    if len(text) > DESCRIPTION_MAX:
        raise ValidationFailed(
            {"description": [words("The description must be %(max)s characters or fewer.", max=DESCRIPTION_MAX)]}
        )
    return text


@dataclass(frozen=True)
class Added:
    endpoint: WebhookEndpoint
    secret: str  # shown to the admin once, never again


def add(
    ctx: ServiceContext,
    actor: Actor,
    key: TwoStepKey,
    policy: urls.Policy,
    *,
    url: object,
    description: object,
    events: object,
    resolver: urls.Resolve = urls.resolve,
) -> Added:
    """Register an endpoint, every answer checked (the URL against the SSRF rules). Flushes only."""
    officer = require_role(ctx, actor, ADMINS, N_("add a webhook endpoint"))
    errors: dict[str, list[str]] = {}
    checked: dict[str, object] = {}
    for name, check in (
        ("url", lambda: urls.check(url, policy, resolver).url),
        ("description", lambda: _description(description)),
        ("events", lambda: _events(events)),
    ):
        try:
            checked[name] = check()
        except ValidationFailed as failed:
            errors.update(failed.errors)
    if errors:
        raise ValidationFailed({name: errors[name] for name in ("url", "description", "events") if name in errors})
    secret = new_secret()
    endpoint = WebhookEndpoint(
        url=str(checked["url"]),
        description=str(checked["description"]),
        events=checked["events"],
        secret="",
        created_at=ctx.now(),
        created_by=officer.id,
        consecutive_failures=0,
    )
    ctx.session.add(endpoint)
    ctx.session.flush()  # its id is part of what the seal binds the secret to
    endpoint.secret = seal(key, endpoint.id, COLUMN, secret, table=TABLE)
    append_admin_event(
        ctx,
        officer.id,
        "webhook_added",
        payload={"endpoint": endpoint.id, "url": endpoint.url, "events": endpoint.events},
    )
    ctx.session.flush()
    return Added(endpoint, secret)


def all_endpoints(ctx: ServiceContext, actor: Actor) -> list[WebhookEndpoint]:
    require_role(ctx, actor, ADMINS, N_("see the webhook endpoints"))
    return list(ctx.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def endpoint(ctx: ServiceContext, actor: Actor, endpoint_id: int, *, for_update: bool = False) -> WebhookEndpoint:
    require_role(ctx, actor, ADMINS, N_("see the webhook endpoints"))
    found = ctx.session.get(WebhookEndpoint, endpoint_id, with_for_update=for_update)
    if found is None:
        raise NotFound(N_("There is no such webhook endpoint: it may have been removed."))
    return found


def waiting(ctx: ServiceContext, endpoint_ids: Iterable[int]) -> dict[int, int]:
    """How many messages wait to be delivered to each endpoint."""
    rows = ctx.session.execute(
        select(WebhookMessage.endpoint_id, func.count())
        .where(WebhookMessage.endpoint_id.in_(list(endpoint_ids)), WebhookMessage.status.in_(("pending", "sending")))
        .group_by(WebhookMessage.endpoint_id)
    )
    return {endpoint_id: count for endpoint_id, count in rows}


@dataclass(frozen=True)
class LogLine:
    attempted_at: datetime
    event_type: str
    message_id: str  # the webhook-id
    attempt: int
    outcome: str
    http_status: int | None
    error: str | None


def delivery_log(ctx: ServiceContext, actor: Actor, endpoint_id: int, limit: int = 200) -> list[LogLine]:
    """The endpoint's attempts of the last 30 days, newest first."""
    endpoint(ctx, actor, endpoint_id)
    since = ctx.now() - timedelta(days=LOG_DAYS)
    rows = ctx.session.execute(
        select(WebhookAttempt, WebhookMessage.event_type, WebhookMessage.message_id)
        .join(WebhookMessage, WebhookMessage.id == WebhookAttempt.message_id)
        .where(WebhookAttempt.endpoint_id == endpoint_id, WebhookAttempt.attempted_at >= since)
        .order_by(WebhookAttempt.attempted_at.desc(), WebhookAttempt.id.desc())
        .limit(limit)
    )
    return [
        LogLine(a.attempted_at, event_type, message_id, a.attempt, a.outcome, a.http_status, a.error)
        for a, event_type, message_id in rows
    ]


def turn_on(ctx: ServiceContext, actor: Actor, endpoint_id: int) -> bool:
    """Turn an endpoint that repeated failures turned off back on: its waiting messages go at
    the worker's next round. False if it was on already."""
    officer = require_role(ctx, actor, ADMINS, N_("turn a webhook endpoint back on"))
    found = endpoint(ctx, actor, endpoint_id, for_update=True)
    if found.turned_off_at is None:
        return False
    found.turned_off_at, found.consecutive_failures = None, 0
    now = ctx.now()
    for message in ctx.session.scalars(
        select(WebhookMessage).where(WebhookMessage.endpoint_id == found.id, WebhookMessage.status == "pending")
    ):
        message.next_attempt_at = now
    append_admin_event(ctx, officer.id, "webhook_turned_on", payload={"endpoint": found.id, "url": found.url})
    ctx.session.flush()
    return True


def remove(ctx: ServiceContext, actor: Actor, endpoint_id: int) -> None:
    """Remove the endpoint, with its waiting messages and its delivery log."""
    officer = require_role(ctx, actor, ADMINS, N_("remove a webhook endpoint"))
    found = endpoint(ctx, actor, endpoint_id, for_update=True)
    dropped = ctx.session.scalar(
        select(func.count())
        .select_from(WebhookMessage)
        .where(WebhookMessage.endpoint_id == found.id, WebhookMessage.status.in_(("pending", "sending")))
    )
    ctx.session.execute(delete(WebhookAttempt).where(WebhookAttempt.endpoint_id == found.id))
    ctx.session.execute(delete(WebhookMessage).where(WebhookMessage.endpoint_id == found.id))
    append_admin_event(
        ctx,
        officer.id,
        "webhook_removed",
        payload={"endpoint": found.id, "url": found.url, "undelivered": dropped or 0},
    )
    ctx.session.delete(found)
    ctx.session.flush()


def rotate(ctx: ServiceContext, old: TwoStepKey, new: TwoStepKey) -> int:
    """Seal every endpoint's secret again under ``new`` (with the officers' secrets, when the
    two-step key is rotated): all are opened before any is written. Flushes only."""
    found = list(ctx.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id).with_for_update()))
    clear = [(e, secret_of(old, e)) for e in found]
    for e, secret in clear:
        e.secret = seal(new, e.id, COLUMN, secret, table=TABLE)
    ctx.session.flush()
    return len(clear)
