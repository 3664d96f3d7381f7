"""Welsh and English (issue 23): which language a request is answered in, the toggle that
changes it, and saying the service's words in that language.

A person's choice, made with the "English | Cymraeg" toggle, is kept in the ``language``
cookie (listed on the cookies page). Without one, the browser's ``Accept-Language`` decides,
and the API answers the same way. E-mails to a group are written in the language the group
chose on its claim (``Claim.language``), whatever the language of the page that queued them.

The catalogues are in ``guarantee/translations``; ``make translations`` extracts and compiles
them, and ``make run`` and ``make test`` compile them first (the ``.mo`` files are built, not
committed).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from babel.dates import format_date as babel_format_date
from flask import Blueprint, Flask, redirect, request
from flask_babel import Babel, force_locale, get_locale, gettext
from markupsafe import Markup
from werkzeug.wrappers import Response

from guarantee.clock import UK
from workflows.vocabulary import LANGUAGES
from workflows.words import AsWritten, Words

log = logging.getLogger(__name__)

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
ENGLISH, WELSH = LANGUAGES
# Each language in its own words, as the toggle and the claim form show it.
LANGUAGE_NAMES: dict[str, str] = {ENGLISH: "English", WELSH: "Cymraeg"}
COOKIE = "language"
COOKIE_MAX_AGE = 365 * 24 * 60 * 60  # a year: the choice is remembered until changed

babel = Babel()
bp = Blueprint("language", __name__)


def requested_language() -> str:
    """The language of this request: the toggle's cookie, else the browser's Accept-Language,
    else English. Outside a request (the sweeper, the CLI), English."""
    if not request:
        return ENGLISH
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or ENGLISH


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else ENGLISH


@contextmanager
def language(code: str | None) -> Iterator[None]:
    """Say everything inside in ``code`` (an e-mail to a group that chose Welsh)."""
    with force_locale(code if code in LANGUAGES else ENGLISH):
        yield


def say(text: Any) -> str:
    """``text`` in this request's language: ``Words`` made again from its msgid and parts, any
    other text looked up as a msgid (an unknown text is given back as it is). ``AsWritten`` data
    is never translated."""
    if isinstance(text, AsWritten):
        return str(text)
    if isinstance(text, Words):
        params = {name: say(value) if isinstance(value, str) else value for name, value in text.params.items()}
        translated = gettext(text.msgid, **params) if params else gettext(text.msgid)
        return str(translated)
    if isinstance(text, Markup) or not isinstance(text, str) or not text:
        return text
    return str(gettext(text))


def say_all(errors: Mapping[str, list[Any]]) -> dict[str, list[str]]:
    """A mapping of field to messages, each said in this request's language."""
    return {field: [say(message) for message in messages] for field, messages in errors.items()}


# --- dates ------------------------------------------------------------------------------------

_WELSH_DAY_PERIODS = {"AM": "yb", "PM": "yh"}


def long_date(value: date) -> str:
    """26 November 2026; 26 Tachwedd 2026."""
    if current_language() == WELSH:
        return babel_format_date(value, "d MMMM y", locale=WELSH)
    return f"{value:%-d %B %Y}"


def short_date(value: date) -> str:
    """26 Nov 2026; 26 Tach 2026."""
    if current_language() == WELSH:
        return babel_format_date(value, "d MMM y", locale=WELSH)
    return f"{value:%-d %b %Y}"


def clock_time(value: datetime, *, drop_zero_minutes: bool = False) -> str:
    """2:05pm (2pm with ``drop_zero_minutes``); 2:05yh in Welsh."""
    text = f"{value:%-I%p}" if drop_zero_minutes and not value.minute else f"{value:%-I:%M%p}"
    if current_language() == WELSH:
        return text.replace("AM", _WELSH_DAY_PERIODS["AM"]).replace("PM", _WELSH_DAY_PERIODS["PM"])
    return text.lower()


def at(day: str, time: str) -> str:
    """26 November 2026 at 2:05pm."""
    return str(gettext("%(day)s at %(time)s", day=day, time=time))


def in_uk(value: date | datetime) -> date | datetime:
    if isinstance(value, datetime) and value.tzinfo:
        return value.astimezone(UK)
    return value


# --- the toggle -------------------------------------------------------------------------------


def _local_path(target: str | None) -> str:
    """Where to go back to after choosing: a path on this service, never another site."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return "/"
    if "\\" in target or any(ord(c) < 32 for c in target):
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")


@bp.get("/language/<code>")
def choose(code: str) -> Response:
    """The toggle's link: remember the language and go back to the page it was pressed on."""
    response = redirect(_local_path(request.args.get("next")), code=303)
    if code in LANGUAGES:
        secure = request.is_secure or request.scheme == "https"
        response.set_cookie(
            COOKIE, code, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax", secure=secure, path="/"
        )
    response.headers["Cache-Control"] = "no-store"
    return response


def toggle() -> dict[str, Any]:
    """What the header's toggle shows: each language, the current one unlinked."""
    here = request.full_path.rstrip("?") if request else "/"
    current = current_language()
    return {
        "current": current,
        "languages": [
            {
                "code": code,
                "name": LANGUAGE_NAMES[code],
                "current": code == current,
                "href": f"/language/{code}?next={quote(here, safe='/')}",
                "hidden": "Change the language to English" if code == ENGLISH else "Newid yr iaith i’r Gymraeg",
            }
            for code in LANGUAGES
        ],
    }


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", ENGLISH)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Europe/London")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=requested_language)
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # {% trans %} blocks read as one line
    app.jinja_env.filters["say"] = say
    app.jinja_env.globals["language_toggle"] = toggle
    app.jinja_env.globals["current_language"] = current_language
    app.register_blueprint(bp)
    if not (TRANSLATIONS / WELSH / "LC_MESSAGES" / "messages.mo").exists():
        log.warning("The Welsh catalogue is not compiled: pages will be in English (run: make translations)")

    @app.context_processor
    def _language() -> dict[str, Any]:
        return {"htmlLang": current_language()}

    @app.after_request
    def _vary(response: Response) -> Response:
        """What was said in the reader's language says so, and caches keep a copy per language.
        Files (the stylesheet, downloads of open data) are the same bytes for every reader."""
        if request.endpoint == "static" or response.headers.get("Content-Disposition", "").startswith("attachment"):
            return response
        if response.mimetype == "text/csv":
            return response
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
        response.headers.setdefault("Content-Language", current_language())
        return response
