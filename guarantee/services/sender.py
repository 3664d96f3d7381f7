"""Sending the outbox: never lost, never sent twice by two senders.

A sender claims a batch of due messages in one short transaction (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so senders on several machines take different messages; SQLite lets one writer in at a
time), marking each *sending* with a lease. Then, one message at a time and outside any transaction,
it works out the e-mail (the address is looked up now, so an erased contact is never written to),
hands it to the transport, and records the outcome: *sent*; or, on a transport failure, *pending*
again after an exponential backoff, and *failed* after the last try (shown in the console).

A sender that stops between claiming and recording leaves messages *sending* with a lease that runs
out: the next sender takes them again, knowing they may have gone already, and sends them with the
same Message-ID, so the recipient's mail program can tell the repeat (at least once, never lost).
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Protocol

from sqlalchemy import func, select, update

from guarantee.clock import UK
from guarantee.models import Claim, Contact, Officer, OutboxMessage, TrackingToken
from guarantee.services import following, leases, notifications, remedies
from guarantee.services.audit import append_admin_event
from guarantee.services.claims import token_hash
from guarantee.services.context import ServiceContext
from workflows.words import N_

log = logging.getLogger(__name__)

# Renewed for each message, and far longer than one SMTP conversation can take (each step of
# which times out after 20 seconds).
LEASE = timedelta(minutes=5)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)
MAX_ATTEMPTS = 12  # 1, 2, 4 ... 256, then 360 minutes apart: the last try about 20 hours after the first
INTERRUPTED = N_("A sender stopped while sending it, on its last try")
EMAIL_ADDRESS = re.compile(r"[^\s<>'\"(),;:]+@[^\s<>'\"(),;:]+")


@dataclass(frozen=True)
class Email:
    message_id: str
    to: str
    subject: str
    text: str
    html: str
    # Headers of its own, as (name, value): a follower's List-Unsubscribe (RFC 8058), say.
    headers: tuple[tuple[str, str], ...] = ()


class TransportError(Exception):
    """The mail server did not take the message: tried again later, unless ``permanent`` (the
    server refused it for good, e.g. no such mailbox)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Transport(Protocol):
    def send(self, email: Email) -> None: ...


@dataclass(frozen=True)
class Recipient:
    """Who a message goes to, worked out when it is sent."""

    address: str
    name: str | None
    # The link to the claim made for this one message to the group, and the UK day it works until.
    tracking_token: str | None = None
    link_works_until: date | None = None
    # A remedy check-in's own link (services.remedies), minted for its e-mail, and its last day.
    check_in_token: str | None = None
    check_in_works_until: date | None = None
    # For a follower of a rule: the tokens made for this one e-mail (to confirm, to stop following).
    confirm_token: str | None = None
    unsubscribe_token: str | None = None


# Renders a message for its recipient: (message, recipient, context) -> Email.
Render = Callable[[OutboxMessage, Recipient, ServiceContext], Email]
UnitOfWork = Callable[[], AbstractContextManager[ServiceContext]]


@dataclass
class Outcome:
    sent: list[str] = field(default_factory=list)  # Message-IDs
    retried: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return len(self.sent) + len(self.retried) + len(self.failed) + len(self.skipped)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed try: 1, 2, 4 ... minutes, at most 6 hours."""
    return leases.backoff(attempts, FIRST_RETRY, LONGEST_WAIT)


def claim_batch(ctx: ServiceContext, limit: int, lease_token: str, max_attempts: int = MAX_ATTEMPTS) -> list[int]:
    """Take up to ``limit`` due messages for the sender holding ``lease_token``: pending and due,
    or left *sending* by a sender whose lease ran out (one that has had its last try is marked
    failed instead: a message that kills its sender must not come round for ever). Flushes only;
    the caller commits at once."""
    ctx.session.execute(
        update(OutboxMessage)
        .where(leases.abandoned(OutboxMessage, ctx.now()), OutboxMessage.attempts >= max_attempts)
        .values(status="failed", lease_until=None, lease_token=None, to_address=None, last_error=INTERRUPTED)
    )
    ids = leases.due(ctx, OutboxMessage, limit)
    if ids:
        interrupted = ctx.session.scalars(
            select(OutboxMessage.message_id).where(OutboxMessage.id.in_(ids), OutboxMessage.status == "sending")
        ).all()
        for message_id in interrupted:
            log.warning("Sending %s again: an earlier try stopped before it was recorded", message_id)
    leases.hold(ctx, OutboxMessage, ids, lease_token, LEASE)
    return ids


def _take(ctx: ServiceContext, message_id: int, lease_token: str) -> OutboxMessage | None:
    """The message, if this sender still holds its lease, renewed for one send and counted as a
    try; None if another sender has taken it meanwhile."""
    if not leases.renew(ctx, OutboxMessage, message_id, lease_token, LEASE):
        return None
    return ctx.session.get(OutboxMessage, message_id, populate_existing=True)


def _mine(ctx: ServiceContext, message_id: int, lease_token: str) -> OutboxMessage | None:
    message = ctx.session.get(OutboxMessage, message_id, populate_existing=True, with_for_update=True)
    if message is None or message.status != "sending" or message.lease_token != lease_token:
        return None
    return message


# Why a message had no one to send it to, by whom it was for (kept as the message's last error, in
# English; marked, so that the console can say it in the reader's language).
NO_ONE = {
    "group": N_("No one to send it to: no consent to contact, or the details were erased"),
    "officer": N_("No one to send it to: the officer's account is inactive, or they turned these messages off"),
    "team": N_("No one to send it to: no team address is configured now (GUARANTEE_APPEALS_TEAM_EMAIL)"),
    "follower": N_("No one to send it to: the follower stopped following the rule, or never confirmed"),
}


def recipient(ctx: ServiceContext, message: OutboxMessage) -> Recipient | None:
    """Who gets the message, worked out as it is sent; None when nobody can (no consent to
    contact, contact details erased, an officer no longer active or who turned these messages
    off, no team address configured). Reads only."""
    if message.recipient_type == "team":
        return Recipient(ctx.appeals_team_email, None) if ctx.appeals_team_email else None
    if message.recipient_type == "follower":
        address = following.recipient_address(ctx, message)
        return Recipient(address, None) if address else None
    if message.recipient_type == "officer":
        officer = ctx.session.get(Officer, message.officer_id) if message.officer_id else None
        if officer is None or not officer.active or not notifications.wants(ctx, officer.id, message.template):
            return None  # an officer who turned these off after it was queued does not get it either
        return Recipient(officer.email, officer.name)
    if message.to_address:  # a notice to the address the group has just replaced
        return Recipient(message.to_address, None)
    claim = ctx.session.get(Claim, message.claim_id) if message.claim_id else None
    contact = ctx.session.scalar(select(Contact).where(Contact.claim_id == claim.id)) if claim else None
    if claim is None or contact is None or not contact.email:
        return None  # erased, or never given
    if not claim.consent_contact and message.template != "tracking_link_requested":
        return None
    return Recipient(contact.email, contact.contact_name)


def link_lasts_until(ctx: ServiceContext, message: OutboxMessage) -> date:
    """The last UK day the link in ``message``, minted now, opens its claim:
    ``ctx.tracking_link_days`` from today, or the last date the message gives (a deadline to
    answer or appeal by), if that is later: a link must not end before the step it asks for."""
    due = message.payload.get("due")
    dates = [date.fromisoformat(day) for day in due.values()] if isinstance(due, dict) else []
    return max([ctx.today() + timedelta(days=ctx.tracking_link_days), *dates])


def _end_of(day: date) -> datetime:
    """The instant a link that works until ``day`` ends: the following midnight, UK time."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UK)


def _with_fresh_link(ctx: ServiceContext, message: OutboxMessage, to: Recipient) -> Recipient:
    """The recipient with a link to the claim minted for this message, lasting
    ``ctx.tracking_link_days`` (or to the message's last date). Only the token's hash is stored; the token itself is only in the
    e-mail (and never in the outbox row, which keeps the token's id to revoke it if the message
    cannot be sent)."""
    _revoke_link(ctx, message)  # one from a try that stopped half-way never arrived
    token = secrets.token_urlsafe(32)
    until = link_lasts_until(ctx, message)
    minted = TrackingToken(
        claim_id=message.claim_id, token_hash=token_hash(token), created_at=ctx.now(), expires_at=_end_of(until)
    )
    ctx.session.add(minted)
    ctx.session.flush()
    message.tracking_token_id = minted.id
    return Recipient(to.address, to.name, token, until)


def _revoke_link(ctx: ServiceContext, message: OutboxMessage) -> None:
    if message.tracking_token_id is not None:
        token = ctx.session.get(TrackingToken, message.tracking_token_id)
        if token is not None and token.revoked_at is None:
            token.revoked_at = ctx.now()
        message.tracking_token_id = None


def _prepare(ctx: ServiceContext, message_id: int, lease_token: str, render: Render) -> Email | str | None:
    """The e-mail for a claimed message; "skipped" (recorded) when nobody can get it; None when
    another sender has it now. A tracking link minted here is committed before sending, so the
    link in the e-mail works."""
    message = _take(ctx, message_id, lease_token)
    if message is None:
        return None
    to = recipient(ctx, message)
    if to is None:
        message.status, message.lease_until, message.lease_token = "skipped", None, None
        message.last_error = NO_ONE[message.recipient_type]
        return "skipped"
    if message.recipient_type == "group" and message.claim_id is not None and not message.to_address:
        # Every message to the group carries its own link (never the notice to an old address).
        to = _with_fresh_link(ctx, message, to)
    if message.template == remedies.TEMPLATE and (minted := remedies.mint_link(ctx, message)) is not None:
        to = replace(to, check_in_token=minted[0], check_in_works_until=minted[1])
    if message.recipient_type == "follower" and message.subscription_id is not None:
        # Its own tokens, made now (only their hashes are kept): committed before sending.
        confirming = message.template == following.CONFIRM_TEMPLATE
        to = Recipient(
            to.address,
            to.name,
            confirm_token=following.mint(ctx, message.subscription_id, "confirm") if confirming else None,
            unsubscribe_token=following.mint(ctx, message.subscription_id, "unsubscribe"),
        )
    return render(message, to, ctx)


def scrubbed(error: str) -> str:
    """An error as it may be kept and logged: no e-mail address in it (DESIGN 8)."""
    return EMAIL_ADDRESS.sub("<address>", error)[:2000]


def _record(
    ctx: ServiceContext,
    message_id: int,
    lease_token: str,
    *,
    error: str | None,
    max_attempts: int,
    outcome: Outcome,
    permanent: bool = False,
) -> None:
    message = _mine(ctx, message_id, lease_token)
    if message is None:  # another sender took it over when our lease ran out: theirs to record
        log.warning("Not recording message %s: another sender has taken it over", message_id)
        return
    now = ctx.now()
    message.lease_until, message.lease_token = None, None
    if error is None:
        message.status, message.sent_at, message.last_error, message.to_address = "sent", now, None, None
        if message.template == remedies.TEMPLATE:
            remedies.mark_sent(ctx, message)
        outcome.sent.append(message.message_id)
        return
    message.last_error = scrubbed(error)
    _revoke_link(ctx, message)  # the link never reached anyone
    if permanent or message.attempts >= max_attempts:
        message.status, message.to_address = "failed", None
        outcome.failed.append(message.message_id)
        log.error("Gave up on %s after %d tries: %s", message.message_id, message.attempts, message.last_error)
    else:
        message.status, message.next_attempt_at = "pending", now + backoff(message.attempts)
        outcome.retried.append(message.message_id)
        log.warning(
            "Could not send %s (try %d), trying again later: %s",
            message.message_id,
            message.attempts,
            message.last_error,
        )


def send_batch(
    unit_of_work: UnitOfWork,
    transport: Transport,
    render: Render,
    *,
    limit: int = 50,
    max_attempts: int = MAX_ATTEMPTS,
    stop: Callable[[], bool] = lambda: False,
) -> Outcome:
    """Claim a batch and send it, one message at a time; ``stop()`` is asked between messages
    (a message being sent is always finished and recorded)."""
    outcome = Outcome()
    lease_token = secrets.token_hex(16)
    with unit_of_work() as ctx:
        claimed = claim_batch(ctx, limit, lease_token, max_attempts)
    for message_id in claimed:
        if stop():
            break  # the rest are given back below
        permanent = False
        try:
            with unit_of_work() as ctx:
                prepared = _prepare(ctx, message_id, lease_token, render)
        except Exception as broken:
            log.exception("Could not write message %s", message_id)
            with unit_of_work() as ctx:
                _record(
                    ctx,
                    message_id,
                    lease_token,
                    error=f"could not write the message: {broken.__class__.__name__}",
                    max_attempts=max_attempts,
                    outcome=outcome,
                    permanent=True,
                )
            continue
        if prepared == "skipped":
            outcome.skipped.append(str(message_id))
            continue
        if not isinstance(prepared, Email):
            continue  # another sender has it
        error: str | None = None
        try:
            transport.send(prepared)
        except TransportError as failure:
            error, permanent = str(failure) or failure.__class__.__name__, failure.permanent
        except Exception as broken:
            log.exception("Could not send message %s", message_id)
            error, permanent = f"could not send the message: {broken.__class__.__name__}", True
        with unit_of_work() as ctx:
            _record(
                ctx,
                message_id,
                lease_token,
                error=error,
                max_attempts=max_attempts,
                outcome=outcome,
                permanent=permanent,
            )
    if stop() and claimed:
        _release(unit_of_work, claimed, lease_token)
    return outcome


def _release(unit_of_work: UnitOfWork, ids: list[int], lease_token: str) -> None:
    """Give back what a stopping sender claimed but did not try, for the next sender at once."""
    with unit_of_work() as ctx:
        leases.give_back(ctx, OutboxMessage, ids, lease_token)


def failed_messages(ctx: ServiceContext, limit: int = 200) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.status == "failed").order_by(OutboxMessage.id.desc())
    return list(ctx.session.scalars(query.limit(limit)))


def claim_references(ctx: ServiceContext, messages: list[OutboxMessage]) -> dict[int, str]:
    """The reference of each message's claim, by the claim's id."""
    ids = {m.claim_id for m in messages if m.claim_id}
    rows = ctx.session.execute(select(Claim.id, Claim.reference).where(Claim.id.in_(ids)))
    return {claim_id: reference for claim_id, reference in rows}


def try_again(ctx: ServiceContext, message_id: int, admin_id: int) -> bool:
    """Put a failed message back in the queue, with its tries counted afresh; the admin log
    records who did. Flushes only."""
    message = ctx.session.get(OutboxMessage, message_id)
    if message is None or message.status != "failed":
        return False
    append_admin_event(ctx, admin_id, "message_sent_again", payload={"message_id": message.message_id})
    result = ctx.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "failed")
        .values(status="pending", attempts=0, next_attempt_at=ctx.now(), last_error=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def counts(ctx: ServiceContext) -> dict[str, int]:
    """How many messages are in each status."""
    rows = ctx.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    return {status: int(count) for status, count in rows}
