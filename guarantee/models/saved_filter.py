"""Filters of the work queue that an officer saved under a name of their own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from guarantee.models.base import Base


class SavedFilter(Base):
    __tablename__ = "saved_filters"
    __table_args__ = (
        # One name once per officer, whatever its capitals and spaces ("Overdue food" and
        # "overdue  FOOD" are the same name to the officer who reads the list).
        UniqueConstraint("officer_id", "name_key", name="uq_saved_filters_officer_id_name_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))  # as the officer wrote it, spaces tidied
    # The name case-folded, for uniqueness (folding can lengthen a name: "ß" is "ss").
    name_key: Mapped[str] = mapped_column(String(180))
    # The queue's filters as a query string holds them: {"state": [...], "region": "wales", ...},
    # only the queue's own keys, each value checked by guarantee.services.queue.parse_filters.
    args: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
