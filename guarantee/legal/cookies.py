"""Every cookie the service sets, described once, its name read from the code that sets it, for
the cookies page. tests/test_legal_browser.py walks the public and console journeys and checks
that the cookies a browser received are exactly these, with these lifetimes.

All are strictly necessary (PECR regulation 6(4)): they keep a form safe, keep an officer signed in,
keep a group's answers or its opened claim, or remember the language a person chose with the
"English | Cymraeg" toggle (set only when they press it: the service they asked for). None is for
analytics or advertising, so the service asks for no consent and shows no cookie banner.

What each is for and how long it lasts are said in the reader's language (issue 23), so the list is
made while answering a request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

from guarantee import i18n
from guarantee.console.sessions import ABSOLUTE, IDLE
from guarantee.public import filing, tracking
from guarantee.services.drafts import KEEP_FOR

YEAR = timedelta(days=365)


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
    """1 year, 7 days, 8 hours, 15 minutes: in the reader's language, with its plurals (Welsh has
    five forms)."""
    if length.days and not length.seconds:
        if not length.days % YEAR.days:
            return str(ngettext("%(num)d year", "%(num)d years", length.days // YEAR.days))
        return str(ngettext("%(num)d day", "%(num)d days", length.days))
    hours, minutes = divmod(int(length.total_seconds()) // 60, 60)
    if hours and not minutes:
        return str(ngettext("%(num)d hour", "%(num)d hours", hours))
    return str(ngettext("%(num)d minute", "%(num)d minutes", int(length.total_seconds()) // 60))


def session_cookie_kept_for() -> timedelta | None:
    """The session cookie is a browser-session cookie unless Flask is told to make sessions
    permanent (SESSION_PERMANENT), which this service never does: no view sets session.permanent."""
    if current_app.config.get("SESSION_PERMANENT"):
        return current_app.permanent_session_lifetime
    return None


def cookies() -> list[Cookie]:
    """The cookies this service sets for this request's address (over https each but the language's
    is a ``__Host-`` cookie), in the order a group meets them, the language's last (it is set only
    when someone presses the toggle)."""
    session_kept = session_cookie_kept_for()
    tracking_kept = None if tracking.COOKIE_MAX_AGE is None else timedelta(seconds=tracking.COOKIE_MAX_AGE)
    language_kept = timedelta(seconds=i18n.COOKIE_MAX_AGE)
    until_closed = _("Until you close your browser")
    return [
        Cookie(
            name=current_app.config["SESSION_COOKIE_NAME"],
            purpose=_(
                "Keeps the forms you fill in safe: it holds a secret that proves a form was sent from this "
                "service and not from another website. If you work for the council, it also keeps you signed "
                "in: you are signed out after %(idle)s without opening a page, and %(absolute)s after you "
                "signed in.",
                idle=duration(IDLE),
                absolute=duration(ABSOLUTE),
            ),
            kept_for=session_kept,
            lasts=until_closed if session_kept is None else duration(session_kept),
        ),
        Cookie(
            name=filing.draft_cookie_name(),
            purpose=_(
                "Keeps the answers you have given on the claim form, so that you can come back and finish it. "
                "It holds a random key, not your answers. Your saved answers are deleted when you send the claim."
            ),
            kept_for=KEEP_FOR,
            lasts=_("%(duration)s after you last saved an answer", duration=duration(KEEP_FOR)),
        ),
        Cookie(
            name=tracking.cookie_name(),
            purpose=_(
                "Lets you see your claim after you open the tracking link from your email, without the "
                "link staying in your browser's address bar. It says which claims you opened, not what "
                "is in them. It stops working %(idle)s after the last page you looked at, and %(absolute)s "
                "after you opened the link.",
                idle=duration(timedelta(seconds=tracking.LIFETIME_SECONDS)),
                absolute=duration(timedelta(seconds=tracking.ABSOLUTE_SECONDS)),
            ),
            kept_for=tracking_kept,
            lasts=until_closed if tracking_kept is None else duration(tracking_kept),
        ),
        Cookie(
            name=i18n.COOKIE,
            purpose=_(
                "Remembers the language you chose, English or Welsh, so that every page is shown in it. It is "
                "set only when you press the “English | Cymraeg” link at the top of a page, and it holds only "
                "the language: en or cy."
            ),
            kept_for=language_kept,
            lasts=_("%(duration)s after you last chose a language", duration=duration(language_kept)),
        ),
    ]
