"""Liveness and readiness for load balancers and process managers."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from guarantee.extensions import db

bp = Blueprint("health", __name__)


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
def readyz() -> tuple[dict[str, str], int]:
    """Ready for traffic: the database answers and its schema is at the latest migration."""
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
    return {"status": "ok"}, 200
