"""Council officers who work claims, and their roles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guarantee.models.base import Base, one_of
from workflows.vocabulary import OFFICER_MESSAGE_KINDS, ROLES


class Officer(Base):
    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # Changing it ends every session of this officer on the server.
    session_nonce: Mapped[str] = mapped_column(String(64))
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # Two-step verification (TOTP, RFC 6238): the secret shared with the officer's authenticator
    # app; one waiting to be confirmed while they set it up; and the last time step a code was
    # accepted for, so that no code works twice. Both secrets are sealed under a key kept outside
    # the database: read and write them only through guarantee.services.two_step_secrets.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_pending_secret: Mapped[str | None] = mapped_column(String(255))
    totp_last_step: Mapped[int | None]
    # Wrong codes since ``totp_failures_since``: five in 15 minutes and codes are refused for a
    # while. Counted on the officer's row, so parallel guesses cannot slip past the count.
    totp_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    totp_failures_since: Mapped[datetime | None]
    created_at: Mapped[datetime]

    role_rows: Mapped[list[OfficerRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="OfficerRole.role"
    )

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(r.role for r in self.role_rows)


class OfficerRole(Base):
    __tablename__ = "officer_roles"
    __table_args__ = (one_of("role", ROLES),)

    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class MailOptOut(Base):
    """A kind of e-mail an officer chose not to get. Every kind is on until turned off here, so
    a kind added later reaches everyone until they say otherwise."""

    __tablename__ = "mail_opt_outs"
    __table_args__ = (one_of("kind", OFFICER_MESSAGE_KINDS),)

    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
