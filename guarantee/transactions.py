"""One transaction per request, owned by the edge, as indico's ``RH.process`` owns it.

A view that changes things is decorated ``@transactional``: it is given the request's service
context, and when it returns, the request's changes are committed once if its response is a
success or a redirect (below 400), and rolled back if it is an error page (400 or more) or if
anything raised. A view that only reads is decorated ``@read_only``: whatever it returns, it is
rolled back. Views never commit, and never roll back by hand.

Every ``service_context()`` of a request shares Flask-SQLAlchemy's scoped ``db.session``, so the
one transaction is the request's: the services only flush into it.

Two things a view may still say, each in one line where it needs it:

- ``undo()``: a service refused the change (ValidationFailed, a stale page, a conflict), so what
  the request changed until then is undone now, before the page that says so reads the data again
  (a session whose flush failed must roll back before it is used again, too); and nothing of it is
  committed later, even if the answer is a redirect with a message.
- ``keep()``: what the request writes after a refusal is a record of that refusal (a wrong
  two-step code is counted), kept although the answer is an error page.

A GET, HEAD or OPTIONS request whose view is not ``@transactional`` only reads: on SQLite its
transaction is a deferred one that does not queue behind writers (guarantee.database).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec

from flask import Flask, current_app, g, make_response, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from guarantee import database
from guarantee.context import service_context
from guarantee.services.context import ServiceContext

P = ParamSpec("P")
View = Callable[Concatenate[ServiceContext, P], ResponseReturnValue]


def context() -> ServiceContext:
    """The request's service context (made once per request)."""
    ctx: ServiceContext | None = g.get("_guarantee_ctx")
    if ctx is None:
        ctx = g._guarantee_ctx = service_context()
    return ctx


def undo() -> None:
    """Roll back what this request has changed so far: it was refused."""
    context().rollback()
    g._guarantee_refused = True


def keep() -> None:
    """Commit what the request writes from now on, even though its answer is an error page."""
    g._guarantee_keep = True


def _finish(ctx: ServiceContext, response: Response, *, read_only: bool) -> None:
    refused = g.pop("_guarantee_refused", False)
    kept = g.pop("_guarantee_keep", False)
    if read_only or not (kept or (response.status_code < 400 and not refused)):
        ctx.rollback()
        return
    try:
        ctx.commit()
    except BaseException:
        ctx.rollback()
        raise


def _wrap(view: View[P], *, read_only: bool) -> Callable[P, Response]:
    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        ctx = context()
        try:
            response = make_response(view(ctx, *args, **kwargs))
        except BaseException:
            ctx.rollback()
            raise
        _finish(ctx, response, read_only=read_only)
        return response

    wrapper.guarantee_writes = not read_only  # type: ignore[attr-defined]
    return wrapper


def transactional(view: View[P]) -> Callable[P, Response]:
    """The view's changes, committed once if it answers below 400; rolled back otherwise."""
    return _wrap(view, read_only=False)


def read_only(view: View[P]) -> Callable[P, Response]:
    """The view reads, and its transaction is always rolled back."""
    return _wrap(view, read_only=True)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _reads_only() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    database.set_reading(request.method in SAFE_METHODS and not getattr(view, "guarantee_writes", False))


def _done_reading(_error: BaseException | None) -> None:
    database.set_reading(False)


def init_app(app: Flask) -> None:
    """Say, before anything of the request touches the database, whether it only reads."""
    app.before_request_funcs.setdefault(None, []).insert(0, _reads_only)
    app.teardown_request(_done_reading)
