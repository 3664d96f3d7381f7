"""The public catalogue of regulations that claims are mapped to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from guarantee.models.base import Base, one_of
from workflows.vocabulary import BARRIER_CATEGORIES


class Regulation(Base):
    __tablename__ = "regulations"
    __table_args__ = (one_of("category", BARRIER_CATEGORIES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    legal_reference: Mapped[str | None] = mapped_column(String(300))
    issuing_body: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64))
    # Set when this entry was merged into another as a duplicate.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("regulations.id"))
    created_at: Mapped[datetime]
