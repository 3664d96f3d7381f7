"""The register of published statistics releases (DESIGN 7)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from guarantee.models.base import Base, one_of

METHODS = ("disclosure_control", "differential_privacy")


class StatisticsRelease(Base):
    """One immutable release: the published document exactly as served, byte for byte, and its
    SHA-256. Append-only (a trigger on PostgreSQL); nothing in it names a claim, a group or an
    officer."""

    __tablename__ = "statistics_releases"
    __table_args__ = (
        one_of("method", METHODS),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    published_at: Mapped[datetime]
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(32))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
