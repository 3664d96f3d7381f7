"""Following a rule by e-mail (issue 20, item 4): double opt-in, one-click unsubscribe, and the
sweep's e-mail to each follower about statements newly published on their rule.

A subscription keeps the address, the rule and the SHA-256 of the tokens in the e-mails it was
sent (models.follow); each e-mail's tokens are made when it is sent (``mint``), so no token is
ever stored, not even in the outbox. Asking to follow says the same thing whether or not the
address already follows the rule, so the form tells no one who follows what.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from guarantee.models import DecisionStatement, OutboxMessage, Regulation, RuleSubscription, RuleSubscriptionToken
from guarantee.models.regulation import live_entries
from guarantee.services import validation as v
from guarantee.services.context import ServiceContext
from workflows.vocabulary import LANGUAGES
from workflows.words import N_

CONFIRM_WITHIN = timedelta(days=7)  # an unconfirmed request lapses, and the sweep deletes it
ASK_AGAIN_AFTER = timedelta(minutes=15)  # asking again sooner queues no second confirmation e-mail
CONFIRM_TEMPLATE = "rule_follow_confirm"
UPDATE_TEMPLATE = "rule_update"

# Whether a statement may be shown publicly as it is (the register's disclosure control decides).
Shown = Callable[[Session, DecisionStatement], bool]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _message(
    ctx: ServiceContext, subscription: RuleSubscription, template: str, payload: dict[str, Any]
) -> OutboxMessage:
    now = ctx.now()
    return OutboxMessage(
        message_id=f"<{uuid.uuid4()}@guarantee>",
        recipient_type="follower",
        subscription_id=subscription.id,
        template=template,
        payload={"regulation_id": subscription.regulation_id, "language": subscription.language, **payload},
        status="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )


def follow(ctx: ServiceContext, regulation_id: int, email: str | None, language: str = "en") -> None:
    """Ask to follow a rule: a confirmation e-mail to the address, unless it follows the rule
    already or was sent one a moment ago. ``language``, that of the page where it asked, is the
    language of every e-mail to the follower (asking again in another changes it). Raises
    ValidationFailed for an address that is not one. Flushes only."""
    errors = v.Errors()
    address = errors.check("email", v.email, email, N_("your email address"))
    errors.raise_if_any()
    assert address is not None
    address = address.lower()
    now = ctx.now()
    subscription = ctx.session.scalar(
        select(RuleSubscription).where(
            RuleSubscription.regulation_id == regulation_id, RuleSubscription.email == address
        )
    )
    if subscription is not None and subscription.confirmed_at is not None:
        subscription.language = language if language in LANGUAGES else subscription.language
        return  # following already: nothing to confirm, and the page says the same
    if subscription is not None and subscription.asked_at > now - ASK_AGAIN_AFTER:
        return
    if subscription is None:
        subscription = RuleSubscription(
            regulation_id=regulation_id, email=address, created_at=now, asked_at=now, language=language
        )
        try:
            with ctx.session.begin_nested():
                ctx.session.add(subscription)
        except IntegrityError:  # the same address asked at the same moment: that request stands
            return
    subscription.asked_at = now
    subscription.expires_at = now + CONFIRM_WITHIN
    subscription.language = language if language in LANGUAGES else subscription.language
    ctx.session.flush()
    ctx.session.add(_message(ctx, subscription, CONFIRM_TEMPLATE, {}))


def mint(ctx: ServiceContext, subscription_id: int, purpose: str) -> str:
    """A fresh token for one e-mail to a follower (only its hash is kept). Flushes only."""
    token = secrets.token_urlsafe(32)
    ctx.session.add(
        RuleSubscriptionToken(
            subscription_id=subscription_id, purpose=purpose, token_hash=token_hash(token), created_at=ctx.now()
        )
    )
    return token


def _by_token(ctx: ServiceContext, token: str, purpose: str) -> RuleSubscription | None:
    if not token or len(token) > 100:
        return None
    return ctx.session.scalar(
        select(RuleSubscription)
        .join(RuleSubscriptionToken, RuleSubscriptionToken.subscription_id == RuleSubscription.id)
        .where(RuleSubscriptionToken.token_hash == token_hash(token), RuleSubscriptionToken.purpose == purpose)
    )


def _lapsed(ctx: ServiceContext, subscription: RuleSubscription) -> bool:
    expires_at = subscription.expires_at
    return subscription.confirmed_at is None and expires_at is not None and expires_at <= ctx.now()


@dataclass(frozen=True)
class Followed:
    """The rule a link is about, for its page."""

    title: str
    slug: str
    confirmed: bool


def _followed(ctx: ServiceContext, subscription: RuleSubscription) -> Followed:
    regulation = ctx.session.get(Regulation, subscription.regulation_id)
    assert regulation is not None
    return Followed(regulation.title, regulation.slug, subscription.confirmed_at is not None)


def to_confirm(ctx: ServiceContext, token: str) -> Followed | None:
    """The rule a confirmation link is about; None if the link does not work (or has lapsed)."""
    subscription = _by_token(ctx, token, "confirm")
    if subscription is None or _lapsed(ctx, subscription):
        return None
    return _followed(ctx, subscription)


def confirm(ctx: ServiceContext, token: str) -> Followed | None:
    """Confirm a subscription with its link: from now on the address hears of statements published
    on the rule. None if the link does not work (or has lapsed). Flushes only."""
    subscription = _by_token(ctx, token, "confirm")
    if subscription is None or _lapsed(ctx, subscription):
        return None
    if subscription.confirmed_at is None:
        now = ctx.now()
        subscription.confirmed_at, subscription.expires_at, subscription.told_until = now, None, now
    ctx.session.execute(
        delete(RuleSubscriptionToken).where(
            RuleSubscriptionToken.subscription_id == subscription.id, RuleSubscriptionToken.purpose == "confirm"
        )
    )
    ctx.session.flush()
    return _followed(ctx, subscription)


def to_unsubscribe(ctx: ServiceContext, token: str) -> Followed | None:
    """The rule an unsubscribe link is about; None if it does not work (the subscription is gone)."""
    subscription = _by_token(ctx, token, "unsubscribe")
    return None if subscription is None else _followed(ctx, subscription)


def _erase(ctx: ServiceContext, subscription_ids: list[int]) -> int:
    if not subscription_ids:
        return 0
    ctx.session.execute(
        update(OutboxMessage).where(OutboxMessage.subscription_id.in_(subscription_ids)).values(subscription_id=None)
    )
    ctx.session.execute(
        delete(RuleSubscriptionToken).where(RuleSubscriptionToken.subscription_id.in_(subscription_ids))
    )
    result = ctx.session.execute(delete(RuleSubscription).where(RuleSubscription.id.in_(subscription_ids)))
    ctx.session.expire_all()
    return int(result.rowcount)  # type: ignore[attr-defined]


def unsubscribe(ctx: ServiceContext, token: str) -> bool:
    """Stop following: the subscription, its tokens and its address are deleted, and e-mails still
    waiting for it are not sent. False if the link opens none (already stopped). Flushes only."""
    subscription = _by_token(ctx, token, "unsubscribe")
    return subscription is not None and _erase(ctx, [subscription.id]) == 1


def _unconfirmed_lapsed(ctx: ServiceContext) -> Select[int]:
    return select(RuleSubscription.id).where(
        RuleSubscription.confirmed_at.is_(None), RuleSubscription.expires_at <= ctx.now()
    )


def count_unconfirmed(ctx: ServiceContext) -> int:
    """How many requests to follow were never confirmed and have lapsed (what
    ``purge_unconfirmed`` would delete)."""
    return ctx.session.scalar(select(func.count()).select_from(_unconfirmed_lapsed(ctx).subquery())) or 0


def purge_unconfirmed(ctx: ServiceContext) -> int:
    """Delete the requests to follow that were never confirmed and have lapsed. Flushes only."""
    return _erase(ctx, list(ctx.session.scalars(_unconfirmed_lapsed(ctx)).all()))


def queue_rule_updates(ctx: ServiceContext, shown: Shown) -> int:
    """One e-mail to each confirmed follower whose rule has statements published since they were
    last told, and that ``shown`` lets the public see: their numbers, with links. A statement on an
    entry merged into the followed one counts as the followed one's. Each e-mail's Message-ID is made
    from the follower and the last statement it tells of, so running this twice, or from two
    workers at once, queues it once. Returns how many were queued. Flushes only."""
    live = live_entries(ctx.session)
    statements = ctx.session.scalars(
        select(DecisionStatement)
        .where(DecisionStatement.status == "published", DecisionStatement.regulation_id.is_not(None))
        .order_by(DecisionStatement.published_at, DecisionStatement.number)
    ).all()
    by_rule: dict[int, list[DecisionStatement]] = {}
    for statement in statements:
        assert statement.regulation_id is not None
        by_rule.setdefault(live.get(statement.regulation_id, statement.regulation_id), []).append(statement)
    queued = 0
    followers = ctx.session.scalars(
        select(RuleSubscription).where(RuleSubscription.confirmed_at.is_not(None)).order_by(RuleSubscription.id)
    ).all()
    visible: dict[int, bool] = {}
    for subscription in followers:
        rule = live.get(subscription.regulation_id, subscription.regulation_id)
        told_until = subscription.told_until or subscription.confirmed_at
        assert told_until is not None
        new = [s for s in by_rule.get(rule, []) if s.published_at is not None and s.published_at > told_until]
        for s in new:
            if s.id not in visible:
                visible[s.id] = bool(shown(ctx.session, s))
        new = [s for s in new if visible[s.id]]
        if not new:
            continue
        last = max(s.published_at for s in new if s.published_at is not None)
        message = _message(ctx, subscription, UPDATE_TEMPLATE, {"numbers": [s.number for s in new]})
        message.message_id = f"<rule-update.{subscription.id}.{last.strftime('%Y%m%dT%H%M%S%f')}@guarantee>"
        subscription.told_until = last
        if _queue_once(ctx, message):
            queued += 1
    return queued


def _queue_once(ctx: ServiceContext, message: OutboxMessage) -> bool:
    if ctx.session.scalar(select(OutboxMessage.id).where(OutboxMessage.message_id == message.message_id)):
        return False
    try:
        with ctx.session.begin_nested():
            ctx.session.add(message)
    except IntegrityError:  # another worker queued it a moment ago
        return False
    return True


def mail_facts(ctx: ServiceContext, message: OutboxMessage) -> dict[str, Any]:
    """What an e-mail to a follower says about its rule."""
    regulation = ctx.session.get(Regulation, message.payload.get("regulation_id"))
    numbers = message.payload.get("numbers")
    return {
        "rule_title": regulation.title if regulation else N_("a rule you follow"),
        "rule_slug": regulation.slug if regulation else None,
        "numbers": [n for n in numbers if isinstance(n, str)] if isinstance(numbers, list) else [],
    }


def recipient_address(ctx: ServiceContext, message: OutboxMessage) -> str | None:
    """A follower's address, looked up as the e-mail is sent: None if they stopped following (or
    never confirmed, for anything but the confirmation e-mail itself)."""
    subscription = ctx.session.get(RuleSubscription, message.subscription_id) if message.subscription_id else None
    if subscription is None:
        return None
    if subscription.confirmed_at is None and (message.template != CONFIRM_TEMPLATE or _lapsed(ctx, subscription)):
        return None
    return subscription.email
