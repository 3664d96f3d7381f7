"""What every HTML page shares: GOV.UK Frontend templates and form widgets, formatting
helpers, and friendly HTML error pages (the API keeps its problem documents)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response, render_template, request
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.exceptions import HTTPException

from guarantee import i18n
from guarantee.clock import UK
from guarantee.components import Components
from workflows import (
    CLOCKS,
    LATE_PAUSE_RULE,
    OFFICER_TIMELINE_LABELS,
    STATE_LABELS,
    STATE_TONES,
    STATES,
    TIMELINE_LABELS,
    TRANSITIONS_BY_TRIGGER,
)
from workflows.vocabulary import BARRIER_CATEGORIES, REGIONS, SECTORS, label

TEMPLATES = Path(__file__).resolve().parent / "templates"

# What a person sees for each error, and what they can do about it (in the reader's language).
ERROR_PAGES: dict[int, tuple[LazyString, LazyString]] = {
    400: (_l("Sorry, there is a problem with that request"), _l("Go back and try again.")),
    403: (
        _l("You cannot do that"),
        _l("If you think you should be able to, contact the council that runs this service."),
    ),
    404: (
        _l("Page not found"),
        _l(
            "If you typed the web address, check it is correct. If you followed a tracking link, "
            "open it again from your email or ask for a new one."
        ),
    ),
    405: (_l("Sorry, that did not work"), _l("Go back to the page you were on and use its buttons.")),
    413: (
        _l("That was too big to send"),
        _l(
            "What you sent was larger than this service accepts. Files of evidence must be smaller than 10 MB "
            "each, and a form without files much smaller than that. Go back, and send a smaller file or shorter text."
        ),
    ),
    429: (
        _l("Too many attempts"),
        _l(
            "You have tried this too many times in a short while. Wait a few minutes and try again. "
            "Nothing you already sent has been lost."
        ),
    ),
    500: (
        _l("Sorry, there is a problem with the service"),
        _l("Try again later. If you were sending a form, what you sent has not been saved."),
    ),
    503: (_l("Sorry, the service is unavailable"), _l("Try again in a few minutes.")),
}
# Any other error.
OTHER_ERROR = (_l("Sorry, that did not work"), _l("Go back and try again."))


def _uk_date(value: date | datetime | None) -> str:
    """26 November 2026 (a datetime is first converted to UK time); 26 Tachwedd 2026 in Welsh."""
    if value is None:
        return ""
    return i18n.long_date(i18n.in_uk(value))


def _uk_datetime(value: datetime | None) -> str:
    """26 November 2026 at 2:05pm, UK time."""
    if value is None:
        return ""
    local = i18n.in_uk(value)
    return i18n.at(i18n.long_date(local), i18n.clock_time(local))  # type: ignore[arg-type]


def _moj_date(value: date | datetime | str, kind: str = "datetime") -> str:
    """MOJ Frontend's ``mojDate`` Nunjucks filter (moj/filters/all.js, version 11.1.0), in UK time:
    "datetime" 14 June 2019 at 3:01pm, "shortdatetime" 14 Jun 2019 at 3pm, "date", "shortdate", "time".
    An ISO 8601 string is read first; any other kind gives the value back, as MOJ's does."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    elif moment.tzinfo:
        moment = moment.astimezone(UK)
    day, short_day = i18n.long_date(moment), i18n.short_date(moment)
    time = i18n.clock_time(moment, drop_zero_minutes=True)
    formats = {
        "datetime": i18n.at(day, time),
        "shortdatetime": i18n.at(short_day, time),
        "date": day,
        "shortdate": short_day,
        "time": time,
    }
    return formats.get(kind, str(value))


def _iso_date(value: str | date) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


CSRF_MESSAGE = _l("This page had expired, so nothing was saved. Check your answers and send them again.")


def error_summary(form: Any, problem: str | None = None) -> dict[str, Any]:
    """The GOV.UK error summary for a form: one line per field, linked to it, after what
    went wrong as a whole (``problem``), if anything did; each in the reader's language (a
    service's message, marked English or ``Words``, is said here)."""
    items = []
    for field in form:
        if not field.errors:
            continue
        if field.short_name == "csrf_token":
            items.append({"text": str(CSRF_MESSAGE), "href": "#main-content"})
        else:
            items.append({"text": i18n.say(field.errors[0]), "href": f"#{field.id}"})
    summary: dict[str, Any] = {"titleText": _("There is a problem"), "errorList": items}
    if problem:
        summary["descriptionText"] = i18n.say(problem)
    return summary


def render_error(
    status: int,
    description: str | None = None,
    headers: dict[str, str] | None = None,
    *,
    next_step: tuple[str, str] | None = None,
) -> Response:
    """A page in plain words for an error, in the reader's language, with what to do next
    (``next_step``: the words and address of a button that does it). ``description`` and the
    button's words may be marked English or ``Words``: the page says them."""
    title, advice = ERROR_PAGES.get(status, OTHER_ERROR)
    if next_step is not None:
        next_step = (i18n.say(next_step[0]), next_step[1])
    body = render_template(
        "error.html",
        status=status,
        title=title,
        advice=advice,
        description=i18n.say(description),
        next_step=next_step,
    )
    response = Response(body, status=status, headers=headers)
    response.headers["Cache-Control"] = "no-store"
    return response


def html_error(error: HTTPException) -> Response:
    """Flask's and werkzeug's errors on an HTML path, as our pages."""
    status = error.code or 500
    headers = {name: value for name, value in error.get_headers() if name.lower() in ("retry-after", "allow")}
    if status == 429:
        headers.setdefault("Retry-After", "60")
    return render_error(status, headers=headers)


def init_app(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(TEMPLATES)),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    WTFormsHelpers(app)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters["uk_date"] = _uk_date
    app.jinja_env.filters["uk_datetime"] = _uk_datetime
    app.jinja_env.filters["iso_date"] = _iso_date
    app.jinja_env.filters["label"] = lambda slug: i18n.say(label(slug))
    app.jinja_env.filters["moj_date"] = _moj_date
    app.jinja_env.globals["state_label"] = lambda state: i18n.say(STATE_LABELS.get(state))
    # A state's tone (workflows.STATE_TONES) colours its tag; an unknown state is an error, not a grey tag.
    app.jinja_env.globals["state_tone"] = STATE_TONES.__getitem__
    app.jinja_env.globals["error_summary"] = error_summary
    app.jinja_env.globals["component"] = Components(app.jinja_env)  # GOV.UK components, kept once rendered
    app.jinja_env.globals["csrf_token"] = generate_csrf  # for the few forms without a form class
    app.jinja_env.globals["service_name"] = "Co-production Guarantee"
    app.jinja_env.globals["language_names"] = i18n.LANGUAGE_NAMES
    app.jinja_env.globals["late_pause_rule"] = LATE_PAUSE_RULE
    # The workflow's vocabulary, the same for every page (a view may still pass its own subset).
    app.jinja_env.globals.update(
        state_labels=STATE_LABELS,
        state_order={state: i for i, state in enumerate(STATES)},
        clocks=CLOCKS,
        transitions=TRANSITIONS_BY_TRIGGER,
        timeline_labels=TIMELINE_LABELS,
        officer_timeline_labels=OFFICER_TIMELINE_LABELS,
        sectors=SECTORS,
        regions=REGIONS,
        categories=BARRIER_CATEGORIES,
    )

    @app.context_processor
    def _current_path() -> dict[str, Any]:
        return {"current_path": request.path}
