"""Engine set-up shared by the app, the CLI and the tests.

SQLite: WAL, a busy timeout, foreign keys on, and every transaction that may write opened with
``BEGIN IMMEDIATE`` so that two writers queue instead of failing half-way (DESIGN 5). A request
that only reads (``reading()``: the edge says so for a GET) opens a deferred ``BEGIN`` instead:
in WAL mode it reads its snapshot without waiting for the writer in front of it. Outside
production such a transaction refuses to write, so a GET that writes is found by the tests rather
than by a busy database.
PostgreSQL: no JIT compilation.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Engine, event

_READING: ContextVar[bool] = ContextVar("guarantee_reading", default=False)
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class WriteWhileReading(RuntimeError):
    """A transaction opened for reading tried to write: its view must be ``@transactional``."""


def set_reading(reads: bool) -> None:
    """From now on in this context, transactions begun only read (True) or may write (False)."""
    _READING.set(reads)


@contextmanager
def reading() -> Iterator[None]:
    """Transactions begun inside this block only read (on SQLite: a deferred ``BEGIN``)."""
    token = _READING.set(True)
    try:
        yield
    finally:
        _READING.reset(token)


def configure_engine(engine: Engine, *, refuse_writes_while_reading: bool = False) -> Engine:
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, refuse_writes_while_reading)
    elif engine.dialect.name == "postgresql":
        _configure_postgresql(engine, refuse_writes_while_reading)
    return engine


def _configure_postgresql(engine: Engine, refuse_writes_while_reading: bool) -> None:
    """No JIT compilation: the service's statements are short, and PostgreSQL compiles any whose
    estimated cost passes ``jit_above_cost``, which a count over a million claims does: on the
    queue's filtered counts that took 100-200 ms a page to save a few.

    Readers never wait for writers on PostgreSQL, so reading changes nothing there; outside
    production a reading transaction is begun READ ONLY (psycopg says so in its BEGIN), so that a
    GET that writes fails on both databases alike."""
    if getattr(engine, "_guarantee_configured", False):
        return
    engine._guarantee_configured = True  # type: ignore[attr-defined]

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SET jit = off")
        cursor.close()
        dbapi_connection.commit()  # psycopg opened a transaction for the SET; the setting stays

    if refuse_writes_while_reading:

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            # SQLAlchemy's begin comes before psycopg's own (on the first statement), so this holds.
            connection.connection.dbapi_connection.read_only = _READING.get()


def _configure_sqlite(engine: Engine, refuse_writes_while_reading: bool) -> None:
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
        reads = _READING.get()
        connection.info["guarantee_reading"] = reads
        connection.exec_driver_sql("BEGIN" if reads else "BEGIN IMMEDIATE")

    if refuse_writes_while_reading:

        @event.listens_for(engine, "before_cursor_execute")
        def _refuse_writes(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if connection.info.get("guarantee_reading") and statement.lstrip()[:7].upper().startswith(_WRITES):
                raise WriteWhileReading(
                    f"A request that only reads tried to write ({statement.split(None, 3)[:3]}): "
                    "make its view @transactional"
                )
