"""A group's requests under its data rights (UK GDPR Articles 15 and 17): to see everything held
about its claim, or to have its contact details and evidence erased, each with its one-month clock."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from guarantee.models.base import Base, one_of

KINDS = ("access", "erasure")
# How the request came: from the group's tracking page, or to the council by post, e-mail or phone
# (recorded by an officer).
CHANNELS = ("tracking_page", "post", "email", "phone")


class DataRightsRequest(Base):
    __tablename__ = "data_rights_requests"
    __table_args__ = (
        one_of("kind", KINDS),
        one_of("channel", CHANNELS),
        CheckConstraint("completed_by IS NULL OR completed_at IS NOT NULL", name="completed_with_time"),
        # The open requests, by due date (the officers' list).
        Index("ix_data_rights_requests_open", "completed_at", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime]
    # One calendar month from the day it was received (services.data_rights.one_month_after).
    due_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))  # None: the group, on its page
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    note: Mapped[str | None] = mapped_column(Text)
