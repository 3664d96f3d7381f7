"""A claim, its clocks, its timeline texts, the group's contact and tracking tokens."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from guarantee.models.base import Base, one_of
from workflows import CLOCKS, STATES
from workflows.vocabulary import (
    BARRIER_CATEGORIES,
    DECLINE_REASONS,
    LANGUAGES,
    NOT_UPHELD_REASONS,
    OUTCOMES,
    REGIONS,
    REMEDIES,
    REMEDIES_SOUGHT,
    SECTORS,
    nation_of,
)

CLOCK_STATUSES = ("running", "paused", "stopped")


class Claim(Base):
    __tablename__ = "claims"
    __table_args__ = (
        one_of("state", STATES),
        one_of("sector", SECTORS),
        one_of("region", REGIONS),
        one_of("barrier_category", BARRIER_CATEGORIES),
        one_of("remedy_sought", REMEDIES_SOUGHT),
        one_of("category", BARRIER_CATEGORIES),
        one_of("remedy", REMEDIES),
        one_of("reason_code", DECLINE_REASONS + NOT_UPHELD_REASONS),
        one_of("outcome", OUTCOMES),
        one_of("due_clock", tuple(CLOCKS)),
        one_of("language", LANGUAGES),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("people_involved IS NULL OR people_involved >= 0", name="people_involved_positive"),
        Index("ix_claims_state_due_on", "state", "due_on"),
        # The queue's counts under a region filter (a regional team's queue) read this alone.
        Index("ix_claims_state_region_due_on", "state", "region", "due_on"),
        # The queue's two orders within each state (guarantee.services.queue), so that a page
        # reads a page of an index for each state it shows.
        Index("ix_claims_queue_state_due", "state", text("coalesce(due_on, '9999-12-31')"), "id"),
        Index("ix_claims_queue_state_submitted", "state", "submitted_at", "id"),
        # Filing order across states: statistics' periods.
        Index("ix_claims_queue_submitted", "submitted_at", "id"),
        # An officer's claims (or nobody's) in the open states: the queue's "My claims" and
        # "Unassigned" counts read these alone.
        Index("ix_claims_assignee_state", "assignee_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    state: Mapped[str] = mapped_column(String(32))
    # Optimistic lock: every UPDATE is conditional on it and increments it.
    version: Mapped[int] = mapped_column(default=1)
    submitted_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    # The group and its initiative, as the group wrote them.
    group_name: Mapped[str] = mapped_column(String(200))
    initiative_title: Mapped[str] = mapped_column(String(200))
    initiative_description: Mapped[str] = mapped_column(Text)
    sector: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(64))
    people_involved: Mapped[int | None]

    # The barrier, as the group wrote it.
    barrier_regulation: Mapped[str] = mapped_column(String(300))
    barrier_regulation_reference: Mapped[str | None] = mapped_column(String(300))
    barrier_imposed_by: Mapped[str] = mapped_column(String(200))
    barrier_category: Mapped[str] = mapped_column(String(64))
    barrier_how_it_blocks: Mapped[str] = mapped_column(Text)
    remedy_sought: Mapped[str] = mapped_column(String(32))
    remedy_details: Mapped[str | None] = mapped_column(Text)
    consent_contact: Mapped[bool]
    # Whether the group agreed, when it filed, to an anonymised decision statement being published
    # with a summary (issue 20). Without it only the coarsened structured fields are published.
    consent_publish: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The language the group asked to be written to in (issue 23): every e-mail to it is in this.
    language: Mapped[str] = mapped_column(String(2), default="en", server_default="en")

    # Classification and handling, set by officers.
    category: Mapped[str | None] = mapped_column(String(64))
    regulation_id: Mapped[int | None] = mapped_column(ForeignKey("regulations.id"), index=True)
    # The catalogue entry the group chose when it filed, from those the form offered it (issue 20,
    # precedent when filing): a suggestion for triage, never the classification itself.
    regulation_chosen_id: Mapped[int | None] = mapped_column(ForeignKey("regulations.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))

    # The running clock's due date, kept here so the queue can sort and filter on it.
    due_clock: Mapped[str | None] = mapped_column(String(32))
    due_on: Mapped[date | None] = mapped_column(Date)

    # Decisions.
    remedy: Mapped[str | None] = mapped_column(String(32))
    reason_code: Mapped[str | None] = mapped_column(String(64))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"))
    outcome: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    __mapper_args__ = {"version_id_col": version}

    @property
    def nation(self) -> str:
        return nation_of(self.region)


class Contact(Base):
    """The group's personal data, kept apart so it can be erased on its own."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), unique=True)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    erased_at: Mapped[datetime | None]


class TrackingToken(Base):
    """A group's capability to its claim. Only the SHA-256 of the token is kept.

    The token given when the claim is filed (on the confirmation page and by the API) has no end;
    each e-mail to the group carries a link of its own that ends at ``expires_at``."""

    __tablename__ = "tracking_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]

    @classmethod
    def live_at(cls, now: datetime) -> ColumnElement[bool]:
        """Opens its claim at ``now``: not revoked, and not past its end if it has one."""
        return cls.revoked_at.is_(None) & (cls.expires_at.is_(None) | (cls.expires_at > now))


class ClaimClock(Base):
    """One working-day clock of a claim, and how its due date was worked out."""

    __tablename__ = "claim_clocks"
    __table_args__ = (
        UniqueConstraint("claim_id", "name", name="uq_claim_clocks_claim_name"),
        one_of("name", tuple(CLOCKS)),
        one_of("status", CLOCK_STATUSES),
        CheckConstraint("working_days > 0", name="working_days_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    name: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    working_days: Mapped[int]
    started_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)  # None while paused
    paused_on: Mapped[date | None] = mapped_column(Date)
    days_left: Mapped[int | None]  # working days left when paused
    stopped_on: Mapped[date | None] = mapped_column(Date)
    # Each stretch the clock ran: start, days counted, due date, holidays skipped.
    working: Mapped[dict[str, Any]]

    claim: Mapped[Claim] = relationship()


class TimelineEntry(Base):
    """Text written on a claim (a question, an answer, reasons, a note), tied to its
    audit event. The audit chain holds only the text's hash."""

    __tablename__ = "timeline_entries"
    __table_args__ = (Index("ix_timeline_entries_claim_seq", "claim_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    seq: Mapped[int]  # the audit event it belongs to
    field: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    public: Mapped[bool]


class ReferenceCounter(Base):
    """The last reference number handed out in each year."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int]
