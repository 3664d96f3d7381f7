"""The officers' console: sign in and out, the work queue, and a claim page that offers only
the actions this officer may take now, each asking for exactly what the workflow needs.

This module holds the blueprint, its hooks and error pages, and what its pages share; each
family of pages has a module of its own (imported at the end, so that its routes register).
Each view is wrapped by guarantee.transactions, which owns the request's one transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from guarantee.console import sessions
from guarantee.i18n import say, say_all
from guarantee.pages import render_error
from guarantee.public.forms import show_errors
from guarantee.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from guarantee.transactions import undo
from workflows.words import N_

bp = Blueprint("console", __name__, url_prefix="/officer", template_folder="templates")

# Said through ``say()`` where they are shown (the reader's language is known only then).
STALE = N_(
    "Someone else changed this claim while you were looking at it, so nothing was done. "
    "The page now shows the claim as it is. Check it, then act again if you still need to."
)
TWO_STEP_PAGES = ("console.two_step_page", "console.two_step_change", "console.sign_out", "console.password")


def may(roles: tuple[str, ...] | frozenset[str]) -> bool:
    """Whether the signed-in officer holds one of these roles (the services decide; the pages
    only leave out what would be refused)."""
    return bool(current_user.roles & set(roles))


def local(target: str) -> bool:
    """A console address on this host, safe to redirect to."""
    return (
        target.startswith("/officer")
        and not any(c in target for c in "\\\r\n\t\x00")
        and not urlsplit(target).netloc
        and not urlsplit(target).scheme
    )


EXPIRED = N_("This page had expired.")


def expired(next_step: str = N_("Go back and try again.")) -> Response:
    """The page for a form whose CSRF token had expired (or was missing): nothing was done.
    ``next_step`` is a sentence of its own: marked English (said here) or already translated."""
    return render_error(400, f"{say(EXPIRED)} {say(next_step)}")  # two sentences, each translated


def refuse(form: FlaskForm, failed: ValidationFailed) -> None:
    """The service refused what the form asked: nothing it did stays, and its reasons go on the
    form's fields, for the page to be shown again."""
    undo()
    show_errors(form, say_all(failed.errors))


def summary(failed: ValidationFailed) -> str:
    """Every message of a refusal, each in the reader's language, in one line (for a page that
    has no field to show them beside)."""
    return "; ".join(say(message) for messages in failed.errors.values() for message in messages)


def submitted(form: FlaskForm, do: Callable[[], object]) -> bool:
    """Whether the form was filled in well and the service then did what it asked. If not, the
    form carries the reasons, and nothing the service did stays."""
    if not form.validate():
        return False
    try:
        do()
    except ValidationFailed as failed:
        refuse(form, failed)
        return False
    return True


@bp.before_request
def _session_limits() -> ResponseReturnValue | None:
    # Signing out must always reach the server (to end the other sessions), even after a timeout.
    if request.endpoint in ("console.sign_in", "console.signed_out", "console.sign_out"):
        return None
    if not current_user.is_authenticated:
        return None
    why = sessions.lapsed()
    if why:
        logout_user()
        session.clear()
        flash(say(why))
        return redirect(url_for("console.sign_in"))
    if current_user.must_change_password and request.endpoint not in ("console.password", "console.sign_out"):
        return redirect(url_for("console.password"))
    if current_user.must_set_up_two_step and request.endpoint not in TWO_STEP_PAGES:
        return redirect(url_for("console.two_step_page"))
    return None


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(NotFound)
def _not_found(error: NotFound) -> Response:
    return render_error(404, say(error.message))


@bp.errorhandler(Conflict)
def _conflict(error: Conflict) -> Response:
    return render_error(409, say(error.message))


@bp.errorhandler(Forbidden)
def _forbidden(error: Forbidden) -> Response:
    return render_error(403, say(error.message))


def init_app(app: Any) -> None:
    sessions.init_app(app)
    app.register_blueprint(bp)


# The page families: each registers its routes on ``bp``.
from guarantee.console import (  # noqa: E402
    actions,
    bulk,
    claim,
    data_rights,
    messages,
    officers,
    queue,
    regulations,
    remedies,
    settings,
    signing_in,
    statements,
    statistics,
    team,
    webhooks,  # issue 24: signed webhooks
)
from guarantee.single_sign_on import pages as single_sign_on_pages  # noqa: E402  (issue 24)

__all__ = [
    "actions",
    "bp",
    "bulk",
    "claim",
    "data_rights",
    "init_app",
    "messages",
    "officers",
    "queue",
    "regulations",
    "remedies",
    "settings",
    "signing_in",
    "single_sign_on_pages",
    "statements",
    "statistics",
    "team",
    "webhooks",
]
