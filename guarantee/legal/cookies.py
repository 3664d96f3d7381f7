"""Every cookie the service sets, described once, its name read from the code that sets it, for
the cookies page. tests/test_legal_browser.py walks the public and console journeys and checks
that the cookies a browser received are exactly these, with these lifetimes.

All are strictly necessary (PECR regulation 6(4)): they keep a form safe, keep an officer signed in,
keep a group's answers or its opened claim. None is for analytics or advertising, so the service
asks for no consent and shows no cookie banner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from guarantee.console.sessions import ABSOLUTE, IDLE
from guarantee.public import filing, tracking
from guarantee.services.drafts import KEEP_FOR


@dataclass(frozen=True)
class Cookie:
    name: str
    purpose: str
    # None: the browser deletes it when it is closed (a session cookie); else how long it is kept.
    kept_for: timedelta | None
    lasts: str  # in words, for the page

    @property
    def persistent(self) -> bool:
        return self.kept_for is not None


def duration(length: timedelta) -> str:
    """7 days, 8 hours, 15 minutes."""
    if length.days and not length.seconds:
        return f"{length.days} day{'s' if length.days != 1 else ''}"
    hours, minutes = divmod(int(length.total_seconds()) // 60, 60)
    if hours and not minutes:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{int(length.total_seconds()) // 60} minutes"


def session_cookie_kept_for() -> timedelta | None:
    """The session cookie is a browser-session cookie unless Flask is told to make sessions
    permanent (SESSION_PERMANENT), which this service never does: no view sets session.permanent."""
    if current_app.config.get("SESSION_PERMANENT"):
        return current_app.permanent_session_lifetime
    return None


def cookies() -> list[Cookie]:
    """The cookies this service sets for this request's address (over https each is a ``__Host-``
    cookie), in the order a group meets them."""
    session_kept = session_cookie_kept_for()
    tracking_kept = None if tracking.COOKIE_MAX_AGE is None else timedelta(seconds=tracking.COOKIE_MAX_AGE)
    return [
        Cookie(
            name=current_app.config["SESSION_COOKIE_NAME"],
            purpose=(
                "Keeps the forms you fill in safe: it holds a secret that proves a form was sent from this "
                "service and not from another website. If you work for the council, it also keeps you signed "
                f"in: you are signed out after {duration(IDLE)} without opening a page, and "
                f"{duration(ABSOLUTE)} after you signed in."
            ),
            kept_for=session_kept,
            lasts="Until you close your browser" if session_kept is None else duration(session_kept),
        ),
        Cookie(
            name=filing.draft_cookie_name(),
            purpose=(
                "Keeps the answers you have given on the claim form, so that you can come back and finish it. "
                "It holds a random key, not your answers. Your saved answers are deleted when you send the claim."
            ),
            kept_for=KEEP_FOR,
            lasts=f"{duration(KEEP_FOR)} after you last saved an answer",
        ),
        Cookie(
            name=tracking.cookie_name(),
            purpose=(
                "Lets you see your claim after you open the tracking link from your email, without the "
                "link staying in your browser's address bar. It says which claims you opened, not what "
                f"is in them. It stops working {duration(timedelta(seconds=tracking.LIFETIME_SECONDS))} "
                f"after the last page you looked at, and {duration(timedelta(seconds=tracking.ABSOLUTE_SECONDS))} "
                "after you opened the link."
            ),
            kept_for=tracking_kept,
            lasts="Until you close your browser" if tracking_kept is None else duration(tracking_kept),
        ),
    ]
