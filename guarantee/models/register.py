"""The open register of decisions (issue 20): one decision statement per decision on a claim's
merits, written for publication, approved by a second officer, and never deleted.

A statement keeps what it says as it was when it was approved (the rule, the claim's
classification, the decision and its dates), so that the register reads without the claims and
does not change when a claim does. Only the recorded resolution is added later.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guarantee.models.base import Base, one_of
from workflows.vocabulary import (
    BARRIER_CATEGORIES,
    DECLINE_REASONS,
    NOT_UPHELD_REASONS,
    REGIONS,
    REMEDIES,
    RESOLUTION_OUTCOMES,
    SECTORS,
)

# What the claim's decision was, as the register names it; one per deciding step of the workflow.
STATEMENT_DECISIONS: tuple[str, ...] = ("upheld", "not_upheld", "appeal_allowed", "appeal_dismissed")
STATEMENT_DECISION_OF_TRIGGER: dict[str, str] = {
    "uphold": "upheld",
    "not_uphold": "not_upheld",
    "allow_appeal": "appeal_allowed",
    "dismiss_appeal": "appeal_dismissed",
}
# awaiting_approval: drafted by the deciding officer, not yet public.
# published: on the register. withdrawn: taken off, with a public reason, and still listed as such.
# superseded: a later decision on the same claim (an appeal) was published in its place.
STATEMENT_STATUSES: tuple[str, ...] = ("awaiting_approval", "published", "withdrawn", "superseded")
# What the register lists: everything that was ever public.
LISTED_STATUSES: tuple[str, ...] = ("published", "withdrawn", "superseded")

statement_citations = Table(
    "statement_citations",
    Base.metadata,
    Column("statement_id", ForeignKey("decision_statements.id"), primary_key=True),
    Column("cited_id", ForeignKey("decision_statements.id"), primary_key=True),
)


class DecisionStatement(Base):
    __tablename__ = "decision_statements"
    __table_args__ = (
        one_of("decision", STATEMENT_DECISIONS),
        one_of("status", STATEMENT_STATUSES),
        one_of("category", BARRIER_CATEGORIES),
        one_of("sector", SECTORS),
        one_of("region", REGIONS),
        one_of("remedy", REMEDIES),
        one_of("reason_code", DECLINE_REASONS + NOT_UPHELD_REASONS),
        one_of("resolution", RESOLUTION_OUTCOMES),
        CheckConstraint("status = 'awaiting_approval' OR number IS NOT NULL", name="public_has_number"),
        CheckConstraint("working_days IS NULL OR working_days >= 0", name="working_days_positive"),
        Index("ix_decision_statements_status_number", "status", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Its public number (DS-2026-48213, random after the year), given when it is first published:
    # never the claim's reference.
    number: Mapped[str | None] = mapped_column(String(16), unique=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    decision: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))

    # The summary written for publication: not the reasons the group was sent. None when the group
    # did not agree to a statement being published (then only the coarsened fields are).
    summary: Mapped[str | None] = mapped_column(Text)
    drafted_by_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    drafted_at: Mapped[datetime]
    # Who last changed the summary: they may not approve it (four eyes).
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    published_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    withdrawn_at: Mapped[datetime | None]
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("decision_statements.id"))

    # What it says, kept as it was when it was approved.
    consent: Mapped[bool]  # the group agreed, when it filed, to a statement being published
    regulation_id: Mapped[int | None] = mapped_column(ForeignKey("regulations.id"), index=True)
    category: Mapped[str | None] = mapped_column(String(64))
    sector: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(64))
    decided_on: Mapped[date | None] = mapped_column(Date)
    working_days: Mapped[int | None]  # from filing to the decision
    remedy: Mapped[str | None] = mapped_column(String(32))
    reason_code: Mapped[str | None] = mapped_column(String(64))
    resolution: Mapped[str | None] = mapped_column(String(64))  # recorded later, for an upheld claim

    cites: Mapped[list[DecisionStatement]] = relationship(
        secondary=statement_citations,
        primaryjoin=lambda: DecisionStatement.id == statement_citations.c.statement_id,
        secondaryjoin=lambda: DecisionStatement.id == statement_citations.c.cited_id,
        order_by=lambda: DecisionStatement.number,
    )
