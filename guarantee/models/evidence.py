"""Evidence a group or an officer attached to a claim. The file lives outside the web root."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from guarantee.models.base import Base, one_of

EVIDENCE_TYPES = ("application/pdf", "image/png", "image/jpeg")


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (
        one_of("content_type", EVIDENCE_TYPES),
        one_of("uploaded_by", ("group", "officer")),
        Index("ix_attachments_claim_id", "claim_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    # The audit event that recorded it.
    seq: Mapped[int]
    # A random name in the evidence store; never derived from what the uploader sent.
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(16))
    uploaded_at: Mapped[datetime]
