"""Council officers who work claims, and their roles."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guarantee.models.base import Base, one_of
from workflows.vocabulary import ROLES


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


class OfficerEvent(Base):
    """What administrators did to officer accounts: append-only (a trigger on PostgreSQL).
    Never a password, only what changed: roles, the active flag, that a reset happened."""

    __tablename__ = "officer_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime]
    # The administrator, or None for an operator at the command line.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
