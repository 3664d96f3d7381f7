"""Liveness and readiness for load balancers and process managers, and what a request gets
while the database cannot be reached: a 503 to retry, not a 500."""

from __future__ import annotations

import contextlib
import logging
from functools import cache
from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import Blueprint, Response, current_app
from flask.blueprints import BlueprintSetupState
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from guarantee.api.problems import is_api_request, problem
from guarantee.config import settings_to_set
from guarantee.extensions import db
from guarantee.pages import render_error
from workflows.words import N_

bp = Blueprint("health", __name__)

log = logging.getLogger(__name__)


def _end_session(_error: BaseException | None) -> None:
    """End the request's session before Flask-SQLAlchemy would (teardowns run last-registered
    first). If the server closed the connection after the answer was made (a restart), the
    rollback of nothing fails: the answer stands, and the broken session is dropped, instead of a
    bare 500 from the server in place of a good answer."""
    try:
        db.session.remove()
    except SQLAlchemyError as exc:
        log.warning(
            "The database connection was lost at the end of a request (%s); it was discarded", type(exc).__name__
        )
        with contextlib.suppress(SQLAlchemyError):
            db.session.close()  # the broken connection was invalidated: this returns the rest
        db.session.registry.clear()


@bp.record_once
def _register_end_session(state: BlueprintSetupState) -> None:
    state.app.teardown_appcontext(_end_session)


# The database is down, restarting, refusing connections or too busy (SQLite: locked for longer
# than the busy timeout). Whether a commit cut off half-way was applied cannot be known here, so
# the answer never says that nothing was saved: a client retries with the same Idempotency-Key.
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)
RETRY_AFTER = "5"
API_DETAIL = N_(
    "The service cannot reach its database just now. Try again in a few seconds, with the same "
    "Idempotency-Key if you sent one, so that nothing is done twice."
)


@cache
def migration_head(directory: str) -> str | None:
    config = AlembicConfig()
    config.set_main_option("script_location", directory)
    return ScriptDirectory.from_config(config).get_current_head()


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """The process is up."""
    return {"status": "ok"}, 200


@bp.get("/readyz")
def readyz() -> tuple[dict[str, object], int]:
    """Ready for traffic: the database answers and its schema is at the latest migration. In
    production, ``settings_to_set`` lists the council's settings still at their example values: the
    service can serve (200), but its legal pages would name an example council."""
    head = migration_head(str(Path(current_app.extensions["migrate"].directory)))
    try:
        current = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "detail": "the database cannot be reached or is not migrated"}, 503
    finally:
        db.session.close()
    if current != head:
        return {
            "status": "unavailable",
            "detail": f"the database is at migration {current}, not {head}: run flask db upgrade",
        }, 503
    ready: dict[str, object] = {"status": "ok"}
    if current_app.config["GUARANTEE_ENVIRONMENT"] == "production" and (unset := settings_to_set(current_app.config)):
        ready["settings_to_set"] = unset
    return ready, 200


@bp.app_errorhandler(OperationalError)
@bp.app_errorhandler(InterfaceError)
@bp.app_errorhandler(PoolTimeout)
def database_unavailable(error: Exception) -> Response:
    """503 with Retry-After, a problem document on the API and a page elsewhere; one log line
    (the driver's text withheld: it can quote what was sent) instead of a traceback a request."""
    with contextlib.suppress(SQLAlchemyError):
        db.session.rollback()  # the connection may be gone with the server
    original = error.orig if isinstance(error, DBAPIError) else None
    sqlstate = getattr(original, "sqlstate", None) or "unknown"
    log.warning(
        "The database could not be reached: %s (%s, SQLSTATE %s); answered 503",
        type(error).__name__,
        type(original).__name__ if original is not None else "no driver error",
        sqlstate,
    )
    headers = {"Retry-After": RETRY_AFTER}
    if is_api_request():
        return problem(503, API_DETAIL, headers=headers)
    return render_error(503, headers=headers)
