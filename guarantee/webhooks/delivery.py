"""Delivering webhook messages: at least once, with the same webhook-id every time, never from
a request.

The worker (``flask guarantee notify``, beside the e-mails) claims a batch of due messages in one
short transaction, each with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers on
several machines take different ones). Then, one message at a time and outside any transaction,
it checks the endpoint's URL again (guarantee.webhooks.urls), signs the body per the Standard
Webhooks specification and posts it to the checked address; and records the attempt in the
endpoint's delivery log: *delivered* on a 2xx answer; otherwise *pending* again after a backoff,
and *failed* after the last try. After TURN_OFF_AFTER failed messages in a row an endpoint is
turned off (the console says so) until an admin turns it back on; its messages wait meanwhile.

A worker that stops between claiming and recording leaves a message *sending* with a lease that
runs out; the next worker sends it again, with the same webhook-id, so a receiver can drop the
repeat. The log is kept LOG_DAYS (30) days: ``prune`` runs with ``flask guarantee sweep``.
"""

from __future__ import annotations

import http.client
import json
import logging
import secrets
import socket
import ssl
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select
from standardwebhooks import Webhook

from guarantee.models import WebhookAttempt, WebhookEndpoint, WebhookMessage
from guarantee.services import leases
from guarantee.services.audit import append_admin_event
from guarantee.services.context import ServiceContext
from guarantee.services.two_step_secrets import TwoStepKey
from guarantee.webhooks import urls
from guarantee.webhooks.endpoints import LOG_DAYS, SecretLost, secret_of

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)  # renewed for each message; far longer than one post can take
TIMEOUT = 10.0  # seconds to connect, and for each read
BODY_READ = 4096  # bytes of an answer read at most (its content is not used)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=4)
MAX_ATTEMPTS = 8  # 1, 2, 4 ... 64 minutes apart: the last try about 2 hours after the first
TURN_OFF_AFTER = 5  # failed messages in a row that turn an endpoint off
USER_AGENT = "guarantee-webhooks/1"
INTERRUPTED = "a worker stopped while delivering it, on its last try"


@dataclass(frozen=True)
class Request:
    target: urls.Target
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Answer:
    status: int | None  # the HTTP status, None if there was none
    error: str | None  # why it did not arrive (no answer, or not 2xx)


# Posts a signed request to its checked address: (request) -> answer.
Post = Callable[[Request], Answer]
UnitOfWork = Callable[[], AbstractContextManager[ServiceContext]]


@dataclass
class Outcome:
    delivered: list[str] = field(default_factory=list)  # webhook-ids
    retried: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    turned_off: list[int] = field(default_factory=list)  # endpoint ids

    @property
    def handled(self) -> int:
        return len(self.delivered) + len(self.retried) + len(self.failed)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed try: 1, 2, 4 ... minutes, at most 4 hours."""
    return leases.backoff(attempts, FIRST_RETRY, LONGEST_WAIT)


def body_of(message: WebhookMessage) -> bytes:
    """The body as signed and sent: the same bytes on every try."""
    return json.dumps(message.payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def signed_headers(secret: str, message_id: str, body: bytes, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers for one try (the timestamp is the try's)."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
    }


# --- the HTTP post, to the address that was checked ---------------------------------------


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: urls.Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: urls.Target, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._address = target.address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)  # the certificate names the host


def post(request: Request, timeout: float = TIMEOUT) -> Answer:
    """POST the request to its target's checked address; redirects are not followed (a 3xx is
    a failure), and at most BODY_READ bytes of the answer are read."""
    target = request.target
    connection: http.client.HTTPConnection = (
        _PinnedHTTPS(target, timeout, ssl.create_default_context())
        if target.scheme == "https"
        else _PinnedHTTP(target, timeout)
    )
    try:
        connection.request("POST", target.path, body=request.body, headers=request.headers)
        response = connection.getresponse()
        response.read(BODY_READ)
    except (OSError, http.client.HTTPException) as exc:
        return Answer(None, f"no answer: {exc.__class__.__name__}: {exc}"[:255])
    finally:
        connection.close()
    if 200 <= response.status < 300:
        return Answer(response.status, None)
    return Answer(response.status, f"HTTP {response.status} {response.reason}"[:255])


# --- claiming, trying, recording -----------------------------------------------------------


def claim_batch(ctx: ServiceContext, limit: int, lease_token: str, max_attempts: int = MAX_ATTEMPTS) -> list[int]:
    """Take up to ``limit`` due messages of endpoints that are on: pending and due, or left
    *sending* by a worker whose lease ran out (one that had its last try is failed instead).
    Flushes only; the caller commits at once."""
    last_tried = leases.abandoned(WebhookMessage, ctx.now()) & (WebhookMessage.attempts >= max_attempts)
    for message in ctx.session.scalars(select(WebhookMessage).where(last_tried)):
        _finish(ctx, message, "failed", INTERRUPTED)
    endpoint_on = select(WebhookEndpoint.id).where(WebhookEndpoint.turned_off_at.is_(None))
    ids = leases.due(ctx, WebhookMessage, limit, WebhookMessage.endpoint_id.in_(endpoint_on))
    leases.hold(ctx, WebhookMessage, ids, lease_token, LEASE)
    return ids


def _prepare(
    ctx: ServiceContext,
    message_id: int,
    lease_token: str,
    *,
    key: TwoStepKey,
    policy: urls.Policy,
    resolver: urls.Resolve,
) -> Request | str | None:
    """The signed request for a claimed message (its lease renewed, the try counted); a reason
    (str) when it cannot be sent this time; None if another worker has it now."""
    if not leases.renew(ctx, WebhookMessage, message_id, lease_token, LEASE):
        return None
    message = ctx.session.get(WebhookMessage, message_id, populate_existing=True)
    endpoint = ctx.session.get(WebhookEndpoint, message.endpoint_id) if message else None
    if message is None or endpoint is None:
        return None
    try:
        target = urls.check(endpoint.url, policy, resolver)
    except urls.Refused as refused:
        return f"refused: {refused.reason}"[:255]
    try:
        secret = secret_of(key, endpoint)
    except SecretLost as lost:
        log.error("%s", lost)
        return "the endpoint's secret cannot be decrypted with the two-step key in use"
    body = body_of(message)
    return Request(target, signed_headers(secret, message.message_id, body, datetime.now(UTC)), body)


def _finish(ctx: ServiceContext, message: WebhookMessage, status: str, error: str | None) -> None:
    """The message delivered or failed for good, and its endpoint's run of failures counted."""
    message.status, message.lease_until, message.lease_token = status, None, None
    message.last_error = error
    endpoint = ctx.session.get(WebhookEndpoint, message.endpoint_id, with_for_update=True)
    if endpoint is None:
        return
    if status == "delivered":
        message.delivered_at = ctx.now()
        endpoint.consecutive_failures = 0
        return
    endpoint.consecutive_failures += 1
    if endpoint.turned_off_at is None and endpoint.consecutive_failures >= TURN_OFF_AFTER:
        endpoint.turned_off_at = ctx.now()
        log.error("Turned webhook endpoint %s off after %d failed messages", endpoint.id, TURN_OFF_AFTER)
        append_admin_event(
            ctx,
            None,
            "webhook_turned_off",
            payload={"endpoint": endpoint.id, "url": endpoint.url, "failed_messages": endpoint.consecutive_failures},
        )


def _record(
    ctx: ServiceContext,
    message_id: int,
    lease_token: str,
    *,
    answer: Answer,
    max_attempts: int,
    outcome: Outcome,
) -> None:
    message = ctx.session.get(WebhookMessage, message_id, populate_existing=True, with_for_update=True)
    if message is None or message.status != "sending" or message.lease_token != lease_token:
        log.warning("Not recording webhook message %s: another worker has taken it over", message_id)
        return
    delivered = answer.error is None
    ctx.session.add(
        WebhookAttempt(
            endpoint_id=message.endpoint_id,
            message_id=message.id,
            attempt=message.attempts,
            attempted_at=ctx.now(),
            outcome="delivered" if delivered else "failed",
            http_status=answer.status,
            error=answer.error,
        )
    )
    if delivered:
        _finish(ctx, message, "delivered", None)
        outcome.delivered.append(message.message_id)
    elif message.attempts >= max_attempts:
        was_on = _is_on(ctx, message.endpoint_id)
        _finish(ctx, message, "failed", answer.error)
        outcome.failed.append(message.message_id)
        if was_on and not _is_on(ctx, message.endpoint_id):
            outcome.turned_off.append(message.endpoint_id)
    else:
        message.status, message.lease_until, message.lease_token = "pending", None, None
        message.last_error, message.next_attempt_at = answer.error, ctx.now() + backoff(message.attempts)
        outcome.retried.append(message.message_id)
        log.warning(
            "Could not deliver %s (try %d), trying again later: %s", message.message_id, message.attempts, answer.error
        )


def _is_on(ctx: ServiceContext, endpoint_id: int) -> bool:
    endpoint = ctx.session.get(WebhookEndpoint, endpoint_id)
    return endpoint is not None and endpoint.turned_off_at is None


def deliver_batch(
    unit_of_work: UnitOfWork,
    key: TwoStepKey,
    policy: urls.Policy,
    *,
    send: Post = post,
    resolver: urls.Resolve = urls.resolve,
    limit: int = 50,
    max_attempts: int = MAX_ATTEMPTS,
    stop: Callable[[], bool] = lambda: False,
) -> Outcome:
    """Claim a batch and deliver it, one message at a time; ``stop()`` is asked between
    messages (one being delivered is always finished and recorded)."""
    outcome = Outcome()
    lease_token = secrets.token_hex(16)
    with unit_of_work() as ctx:
        claimed = claim_batch(ctx, limit, lease_token, max_attempts)
    for position, message_id in enumerate(claimed):
        if stop():
            _give_back(unit_of_work, claimed[position:], lease_token)
            break
        with unit_of_work() as ctx:
            prepared = _prepare(ctx, message_id, lease_token, key=key, policy=policy, resolver=resolver)
        if prepared is None:
            continue
        if isinstance(prepared, str):
            answer = Answer(None, prepared)
        else:
            try:
                answer = send(prepared)
            except Exception as broken:  # a post that breaks is a failed try, never a lost message
                log.exception("Could not deliver webhook message %s", message_id)
                answer = Answer(None, f"could not send it: {broken.__class__.__name__}")
        with unit_of_work() as ctx:
            _record(ctx, message_id, lease_token, answer=answer, max_attempts=max_attempts, outcome=outcome)
    return outcome


def _give_back(unit_of_work: UnitOfWork, ids: list[int], lease_token: str) -> None:
    """What a stopping worker claimed but did not try, pending again for the next one at once."""
    with unit_of_work() as ctx:
        leases.give_back(ctx, WebhookMessage, ids, lease_token)


def prune(ctx: ServiceContext) -> int:
    """Forget the delivery log older than LOG_DAYS days, and the messages that finished before
    then (delivered or failed). Returns how many attempts were forgotten. Flushes only."""
    cutoff = ctx.now() - timedelta(days=LOG_DAYS)
    finished = select(WebhookMessage.id).where(
        WebhookMessage.status.in_(("delivered", "failed")), WebhookMessage.created_at < cutoff
    )
    old = ctx.session.execute(
        delete(WebhookAttempt).where(or_(WebhookAttempt.attempted_at < cutoff, WebhookAttempt.message_id.in_(finished)))
    )
    ctx.session.execute(delete(WebhookMessage).where(WebhookMessage.id.in_(finished)))
    return int(old.rowcount or 0)  # type: ignore[attr-defined]
