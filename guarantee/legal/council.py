"""The council that runs the service, as its settings describe it, and which of those settings are
still the placeholders a council must replace before going live."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from guarantee.config import settings_to_set


@dataclass(frozen=True)
class Council:
    name: str
    email: str
    phone: str
    address: tuple[str, ...]
    opening_hours: str
    reply_days: int
    complaints_url: str | None
    dpo_name: str
    dpo_email: str
    ico_registration: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Council:
        return cls(
            name=config["GUARANTEE_COUNCIL_NAME"],
            email=config["GUARANTEE_COUNCIL_EMAIL"],
            phone=config["GUARANTEE_COUNCIL_PHONE"],
            address=tuple(config["GUARANTEE_COUNCIL_ADDRESS"]),
            opening_hours=config["GUARANTEE_COUNCIL_OPENING_HOURS"],
            reply_days=int(config["GUARANTEE_COUNCIL_REPLY_DAYS"]),
            complaints_url=config.get("GUARANTEE_COUNCIL_COMPLAINTS_URL"),
            dpo_name=config["GUARANTEE_COUNCIL_DPO_NAME"],
            dpo_email=config["GUARANTEE_COUNCIL_DPO_EMAIL"],
            ico_registration=config["GUARANTEE_COUNCIL_ICO_REGISTRATION"],
        )

    @property
    def phone_link(self) -> str:
        """The number as a tel: link wants it (no spaces or brackets)."""
        return "".join(c for c in self.phone if c.isdigit() or c == "+")


def reviewed_on(config: Mapping[str, Any]) -> date | None:
    value = config.get("GUARANTEE_ACCESSIBILITY_REVIEWED_ON")
    return date.fromisoformat(value) if isinstance(value, str) else value


def marks_shown(config: Mapping[str, Any], roles: frozenset[str] | set[str] | None) -> list[str]:
    """The placeholder settings a legal page marks with "Set ... before going live".

    In development everyone sees them: that is what a newcomer's ``make run`` shows, and what a
    council trying the service out needs to know. In production they are shown only to a signed-in
    admin (``roles``: the officer's, None when no one is signed in): the public must not read a
    setting's name where the council's details should be, yet the admin who can get them set sees
    which are missing on the page itself. Operators learn the same from /readyz and the log line at
    start-up (guarantee.health, guarantee.create_app)."""
    if config.get("GUARANTEE_ENVIRONMENT") == "production" and "admin" not in (roles or ()):
        return []
    return settings_to_set(config)
