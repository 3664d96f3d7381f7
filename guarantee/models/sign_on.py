"""Single sign-on (issue 24): the e-mail domains whose staff may make themselves an account by
signing in through the council's identity provider."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from guarantee.models.base import Base


class SignInDomain(Base):
    """An e-mail domain an admin allowed: someone whose verified address at the identity provider
    is in it, and who has no account yet, gets one (with no roles) by signing in."""

    __tablename__ = "sign_in_domains"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)  # stored lower-cased
    added_at: Mapped[datetime]
    added_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
