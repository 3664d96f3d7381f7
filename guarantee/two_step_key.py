"""The two-step key at the edge: found from the settings when the app is made, checked against the
officers' table there and then, and handed to every ServiceContext (guarantee.context).

The check reads every sealed secret with one query and opens each: the officers' table holds
hundreds of rows at most, AES-GCM opens one in microseconds, and a single row would miss a table
where some rows were sealed under another key (a row restored from an older backup). A wrong
key then stops the app from starting, naming the setting, instead of failing officers one by one
at sign-in. With no officers' table or columns yet (a fresh database, or one `flask db upgrade`
has not reached), or no database to reach, there is nothing to check.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import InterfaceError, OperationalError

from guarantee.extensions import db
from guarantee.services.two_step_secrets import (
    COLUMNS,
    KEY_FILE_SETTING,
    KEY_SETTING,
    SecretUnreadable,
    TwoStepKey,
    key_from_settings,
    unreadable,
)

log = logging.getLogger(__name__)
SHOWN = 5  # problems named in the message; the rest are counted


class TwoStepKeyMismatch(RuntimeError):
    """The configured two-step key cannot open secrets in the database: the app does not start."""


def init_app(app: Flask) -> None:
    default = Path(app.instance_path) / "two-step-key"
    key = key_from_settings(app.config.get(KEY_SETTING), app.config.get(KEY_FILE_SETTING), default)
    if not app.config.get(KEY_SETTING):
        app.config[KEY_FILE_SETTING] = key.origin  # the file it came from: the migrations read it there
    app.extensions["guarantee.two_step_key"] = key
    with app.app_context():
        check(db.engine, key)


def check(engine: Engine, key: TwoStepKey) -> None:
    """Raise TwoStepKeyMismatch if ``key`` cannot open every sealed secret in the database."""
    try:
        with engine.connect() as connection:
            found = inspect(connection)
            if not found.has_table("officers"):
                return
            if not set(COLUMNS) <= {column["name"] for column in found.get_columns("officers")}:
                return
            problems = unreadable(connection, key)
    except (OperationalError, InterfaceError) as exc:
        log.warning(
            "The two-step key was not checked at start-up: the database cannot be reached (%s)", type(exc).__name__
        )
        return
    finally:
        engine.dispose()  # no connection made here outlives start-up (or a fork after it)
    if problems:
        raise TwoStepKeyMismatch(mismatch_message(problems, key))


def mismatch_message(problems: list[SecretUnreadable], key: TwoStepKey) -> str:
    named = "; ".join(str(problem).rstrip(".") for problem in problems[:SHOWN])
    more = f"; and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
    sealed_under = sorted({p.key_id for p in problems if p.key_id is not None and p.key_id != key.id})
    wanted = f" (key {', '.join(sealed_under)})" if sealed_under else ""
    return (
        f"The service cannot start: the two-step verification key from {key.origin} (key {key.id}) cannot "
        f"decrypt the secrets of {len({p.officer_id for p in problems})} officer(s). {named}{more}. "
        f"Set {KEY_SETTING} or {KEY_FILE_SETTING} to the key they were encrypted with{wanted}. "
        "If that key is lost, their secrets cannot be recovered: see 'Two-step verification key' in README.md."
    )
