"""One rule at the edge: text that no database can store (a NUL, a lone surrogate) never gets
past it, whatever route it comes by.

Every request is checked before any view, form or schema sees it: the path's parameters, the
query string, the headers and cookies first of all; form fields, file names and every string (and
key) of a JSON body just before the view. A request carrying one is refused with a 400: on the
API a problem document that says where the character was; elsewhere a page that gives back what
was typed in the field, to copy. Field checks (``services.validation``) still refuse the other
control characters, field by field, with messages for the person who typed.
The CLI applies the same rule to its options (``guarantee.cli``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from flask import Flask, Request, Response, render_template, request
from flask_babel import gettext as _

from guarantee.api.problems import is_api_request, problem
from guarantee.services.validation import replace_unstorable, unstorable, unstorable_in

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
SHOWN_AS = "\ufffd"  # how the character is shown back: the replacement character, as browsers do


@dataclass(frozen=True)
class Found:
    """Where a character that cannot be stored is, in words; and, for a form's field, what was
    typed there (the character shown as SHOWN_AS), so that nothing typed is lost."""

    where: str
    typed: str | None = None


def _first_unstorable(pairs: Iterable[tuple[str | None, str | None]]) -> tuple[str, str] | None:
    """The first (name, value) with such a character. A multipart part whose name werkzeug could
    not read comes as None: nothing there to store, so nothing to check."""
    for name, value in pairs:
        if unstorable(name or "") or unstorable(value or ""):
            return name or "", value or ""
    return None


def unstorable_around_body(req: Request) -> Found | None:
    """Where, outside the body, a character that cannot be stored is: the address, the query
    string, headers and cookies. None if nowhere."""
    if unstorable(req.path):
        return Found(_("the address"))
    if found := _first_unstorable((k, v) for k, v in (req.view_args or {}).items() if isinstance(v, str)):
        return Found(_("the address (its %(part)s)", part=found[0]))
    if found := _first_unstorable(req.args.items(multi=True)):
        return Found(_("the query string (parameter %(name)s)", name=repr(found[0])))
    if found := _first_unstorable(req.headers.items()):
        return Found(_("the %(name)s header", name=found[0]))
    if _first_unstorable(req.cookies.items(multi=True)):
        return Found(_("a cookie"))
    return None


def unstorable_in_body(req: Request) -> Found | None:
    """Where in the body (form fields, file names, JSON texts and keys) such a character is."""
    if req.mimetype in FORM_TYPES:
        if found := _first_unstorable(req.form.items(multi=True)):
            return Found(_("the field %(name)s", name=repr(found[0])), replace_unstorable(found[1], SHOWN_AS))
        files = ((field, upload.filename or "") for field, upload in req.files.items(multi=True))
        if found := _first_unstorable(files):
            return Found(
                _("the name of the file in %(name)s", name=repr(found[0])), replace_unstorable(found[1], SHOWN_AS)
            )
    elif req.is_json:
        try:
            body = json.loads(req.get_data(cache=True))
        except (ValueError, RecursionError):
            return None  # not JSON the API can read: its parser says so, with a 400
        path = unstorable_in(body)
        if path is not None:
            return Found(_("the JSON body (at %(path)s)", path=path) if path else _("the JSON body"))
    return None


def _refuse(found: Found | None) -> Response | None:
    if found is None:
        return None
    if is_api_request():
        return problem(
            400,
            _(
                "There is a character that cannot be stored (a NUL byte or an unpaired surrogate) in %(where)s. "
                "Remove it and send the request again.",
                where=found.where,
            ),
        )
    page = render_template("unstorable.html", typed=found.typed, shown_as=SHOWN_AS)
    response = Response(page, status=400)
    response.headers["Cache-Control"] = "no-store"
    return response


def _check_around_body() -> Response | None:
    return _refuse(unstorable_around_body(request))


def _check_body() -> Response | None:
    return _refuse(unstorable_in_body(request))


def _check_body_outside_blueprints() -> Response | None:
    return None if request.blueprint else _check_body()


def init_app(app: Flask) -> None:
    """The address, query, headers and cookies are checked first of all, before any other hook
    (who is calling is settled from them, and may look the address up). The body is checked last
    of all before the view, after a blueprint's own hooks (which may raise the size a request may
    have, for evidence uploads, or refuse a stranger before the body is read). Call it once every
    blueprint is registered."""
    app.before_request_funcs.setdefault(None, []).insert(0, _check_around_body)
    app.before_request_funcs[None].append(_check_body_outside_blueprints)
    for name in app.blueprints:
        app.before_request_funcs.setdefault(name, []).append(_check_body)
