"""The public catalogue of regulations that claims are mapped to."""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from guarantee.models.base import Base, one_of
from workflows.vocabulary import BARRIER_CATEGORIES

SLUG_LENGTH = 64


def slugify(title: str) -> str:
    """The words of a title as an address: "Food premises: registration" -> "food-premises-registration"."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")
    return words[:SLUG_LENGTH].rstrip("-") or "regulation"


def unique_slug(session: Session, title: str) -> str:
    """The title's slug, with -2, -3, ... added when an entry already has it."""
    base = slugify(title)
    taken = set(session.scalars(select(Regulation.slug).where(Regulation.slug.like(f"{base}%"))))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def live_entries(session: Session) -> dict[int, int]:
    """Each catalogue entry's live entry: itself, or the one it was merged into (at the end of
    the chain). What was said about a merged entry is said about the entry it became."""
    merged: dict[int, int | None] = dict(session.execute(select(Regulation.id, Regulation.merged_into_id)).all())

    def live(entry: int) -> int:
        seen = {entry}
        while (into := merged.get(entry)) is not None and into not in seen:
            entry = into
            seen.add(entry)
        return entry

    return {entry: live(entry) for entry in merged}


def _slug_default(context: Any) -> str:
    """For an entry added without a slug (tests, fixtures): the title's, made unique by chance."""
    return f"{slugify(context.get_current_parameters()['title'])[: SLUG_LENGTH - 7]}-{secrets.token_hex(3)}"


class Regulation(Base):
    __tablename__ = "regulations"
    __table_args__ = (one_of("category", BARRIER_CATEGORIES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    legal_reference: Mapped[str | None] = mapped_column(String(300))
    issuing_body: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64))
    # Its public page's address, /rules/<slug>: made from the title when the entry is added.
    slug: Mapped[str] = mapped_column(String(80), unique=True, default=_slug_default)
    # How to challenge the rule with the body that issued it (a regulator's appeal route under the
    # Regulators' Code, say), in plain words that officers keep up to date. Shown on its page.
    challenge_route: Mapped[str | None] = mapped_column(Text)
    # Set when this entry was merged into another as a duplicate.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("regulations.id"))
    created_at: Mapped[datetime]
