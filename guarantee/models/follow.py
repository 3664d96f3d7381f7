"""Following a catalogue entry by e-mail: an address, the rule, and hashed tokens; nothing more.

A subscription is unconfirmed until its address opens the link in the confirmation e-mail (double
opt-in); an unconfirmed one lapses at ``expires_at`` and the sweep deletes it. Each e-mail to a
follower carries tokens of its own (to confirm, to stop following), made when the e-mail is sent;
only their SHA-256 is kept here, as for tracking links. Stopping deletes the row and its tokens.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from guarantee.models.base import Base, one_of
from workflows.vocabulary import LANGUAGES

# confirm: opens the confirmation page; unsubscribe: the one-click link of RFC 8058.
TOKEN_PURPOSES = ("confirm", "unsubscribe")


class RuleSubscription(Base):
    __tablename__ = "rule_subscriptions"
    __table_args__ = (
        UniqueConstraint("regulation_id", "email", name="uq_rule_subscriptions_rule_email"),
        one_of("language", LANGUAGES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    regulation_id: Mapped[int] = mapped_column(ForeignKey("regulations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime]
    # When the last confirmation e-mail was queued: asking again soon after queues no other one.
    asked_at: Mapped[datetime]
    # Until the address confirms: when the request lapses (the sweep deletes it).
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    confirmed_at: Mapped[datetime | None]
    # The follower was told of every statement of the rule published up to this moment.
    told_until: Mapped[datetime | None]
    # The language of the page where the follower asked (issue 23): every e-mail to it is in it.
    language: Mapped[str] = mapped_column(String(2), default="en", server_default="en")


class RuleSubscriptionToken(Base):
    __tablename__ = "rule_subscription_tokens"
    __table_args__ = (one_of("purpose", TOKEN_PURPOSES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("rule_subscriptions.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
