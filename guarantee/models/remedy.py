"""The check-ins after an upheld claim's resolution: did the remedy happen?"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from guarantee.models.base import Base, one_of
from workflows.remedies import ANSWERS, CHECK_IN_MONTHS


class RemedyCheckIn(Base):
    """One check-in of a claim: queued once (unique per claim and month), its link (only the
    SHA-256 of the token in its e-mail, minted when the e-mail is sent), the group's one answer,
    and, for an answer that the remedy is not in place, the admins' follow-up and its due date."""

    __tablename__ = "remedy_checkins"
    __table_args__ = (
        UniqueConstraint("claim_id", "months", name="uq_remedy_checkins_claim_months"),
        CheckConstraint(f"months IN ({', '.join(map(str, CHECK_IN_MONTHS))})", name="months_valid"),
        one_of("answer", tuple(ANSWERS)),
        CheckConstraint("(answer IS NULL) = (answered_at IS NULL)", name="answer_with_time"),
        CheckConstraint("follow_up_closed_at IS NULL OR follow_up_due_on IS NOT NULL", name="closed_if_opened"),
        # The open follow-ups, by due date (the admins' list).
        Index("ix_remedy_checkins_follow_up", "follow_up_closed_at", "follow_up_due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    months: Mapped[int]
    due_on: Mapped[date] = mapped_column(Date)
    queued_at: Mapped[datetime]
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    link_expires_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(String(32))
    answer_seq: Mapped[int | None]  # the audit event of the answer (its free text is a TimelineEntry)
    follow_up_due_on: Mapped[date | None] = mapped_column(Date)
    follow_up_closed_at: Mapped[datetime | None]
    follow_up_closed_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
