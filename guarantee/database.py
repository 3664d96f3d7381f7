"""Engine set-up shared by the app, the CLI and the tests.

SQLite: WAL, a busy timeout, foreign keys on, and every transaction opened with
``BEGIN IMMEDIATE`` so that two writers queue instead of failing half-way (DESIGN 5).
PostgreSQL: no JIT compilation.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event


def configure_engine(engine: Engine) -> Engine:
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    elif engine.dialect.name == "postgresql":
        _configure_postgresql(engine)
    return engine


def _configure_postgresql(engine: Engine) -> None:
    """No JIT compilation: the service's statements are short, and PostgreSQL compiles any whose
    estimated cost passes ``jit_above_cost``, which a count over a million claims does: on the
    queue's filtered counts that took 100-200 ms a page to save a few."""
    if getattr(engine, "_guarantee_configured", False):
        return
    engine._guarantee_configured = True  # type: ignore[attr-defined]

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SET jit = off")
        cursor.close()
        dbapi_connection.commit()  # psycopg opened a transaction for the SET; the setting stays


def _configure_sqlite(engine: Engine) -> None:
    if getattr(engine, "_guarantee_configured", False):
        return
    engine._guarantee_configured = True  # type: ignore[attr-defined]

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
