"""A claim being written on the question pages, kept between pages until it is filed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from guarantee.models.base import Base


class ClaimDraft(Base):
    """The answers a browser has given so far. The browser holds a random key in a cookie; only
    its SHA-256 is kept here, so a copy of this table opens no one's draft. Filing the claim
    deletes the draft; one left unfiled is deleted by the sweep once it expires."""

    __tablename__ = "claim_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Form field name -> what was typed or chosen, as the browser sent it (checked at each page
    # and again when filing, by the same rules as the API's).
    answers: Mapped[dict[str, Any]]
    # Counts the changes, so a check page shown before a change (in another tab) cannot file.
    revision: Mapped[int]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
