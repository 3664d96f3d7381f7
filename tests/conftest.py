"""Test fixtures: every database test runs on SQLite and, where reachable, on PostgreSQL.

Each xdist worker migrates a template database once per backend. Ordinary tests run in a
connection-level transaction that is rolled back afterwards; tests that need real commits
(races, CLI commands) get a fresh copy of the template.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, make_url, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from guarantee import create_app
from guarantee.clock import UK, FixedClock
from guarantee.config import TestConfig
from guarantee.database import configure_engine
from guarantee.services.context import ServiceContext

# Shared fixtures of the HTTP tests (quick_password_hashing) and of the browser tests (live_server, visit).
pytest_plugins = ["tests.api_support", "tests.support.browser", "tests.support.mailing", "tests.support.oidc"]

RUN_ID = uuid.uuid4().hex[:8]
DEFAULT_POSTGRESQL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _postgresql_url() -> str | None:
    """The PostgreSQL server to test against: TEST_DATABASE_URL, or the local one if it answers."""
    if os.environ.get("TEST_DATABASE_URL"):
        return os.environ["TEST_DATABASE_URL"]
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return DEFAULT_POSTGRESQL
    except OSError:
        return None


POSTGRESQL_URL = _postgresql_url()


def _redis_url() -> str | None:
    """The Redis to test rate limits against: TEST_REDIS_URL, or the local one if it answers."""
    if os.environ.get("TEST_REDIS_URL"):
        return os.environ["TEST_REDIS_URL"]
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return "redis://127.0.0.1:6379/0"
    except OSError:
        return None


REDIS_URL = _redis_url()
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRESQL_URL else [])


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("GUARANTEE_REQUIRE_POSTGRESQL") and not POSTGRESQL_URL:
        raise pytest.UsageError(
            "GUARANTEE_REQUIRE_POSTGRESQL is set but no PostgreSQL answers: start it or set TEST_DATABASE_URL"
        )

    if os.environ.get("GUARANTEE_REQUIRE_REDIS") and not REDIS_URL:
        raise pytest.UsageError("GUARANTEE_REQUIRE_REDIS is set but no Redis answers: start it or set TEST_REDIS_URL")


def pytest_report_header(config: pytest.Config) -> str:
    return f"guarantee databases under test: {', '.join(BACKENDS)}; Redis: {REDIS_URL or 'not reachable'}"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") != "call" and outcome == "passed":
                continue
            nodeid = getattr(report, "nodeid", "")
            backend = next(
                (b for b in ("sqlite", "postgresql") if f"[{b}" in nodeid or f"-{b}" in nodeid), "no database"
            )
            counts.setdefault(backend, {}).setdefault(outcome, 0)
            counts[backend][outcome] += 1
    terminalreporter.section("tests per database")
    for backend, by_outcome in sorted(counts.items()):
        terminalreporter.write_line(f"{backend}: " + ", ".join(f"{n} {o}" for o, n in sorted(by_outcome.items())))


# --- databases ------------------------------------------------------------------


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app(_app_config(url))
    with app.app_context():
        upgrade()
        from guarantee.extensions import db

        db.engine.dispose()


def _app_config(url: str, **extra: Any) -> dict[str, Any]:
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=url, **extra)
    return config


# What a PostgreSQL copy's schema is: its tables and columns, constraints, indexes, triggers (and
# whether they fire), functions, extensions and the migration it is at. A copy whose test changed
# any of it is never used again.
SCHEMA_FINGERPRINT = """
SELECT md5(string_agg(item, ',' ORDER BY item)) FROM (
  SELECT c.relname || ':' || c.relkind::text || ':' || coalesce(a.attname, '') || ':'
         || coalesce(format_type(a.atttypid, a.atttypmod), '') || ':' || coalesce(a.attnotnull::text, '') AS item
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
   WHERE n.nspname = 'public'
  UNION ALL SELECT conname || ':' || pg_get_constraintdef(oid) FROM pg_constraint
   WHERE connamespace = 'public'::regnamespace
  UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
  UNION ALL SELECT tgname || ':' || tgenabled::text FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL SELECT proname || ':' || md5(prosrc) FROM pg_proc WHERE pronamespace = 'public'::regnamespace
  UNION ALL SELECT 'extension:' || extname FROM pg_extension
  UNION ALL SELECT 'migration:' || version_num FROM alembic_version
) AS schema
"""


class Database:
    """A migrated template for one backend, and copies of it.

    On PostgreSQL, making a database and dropping it each cost a checkpoint, and a run makes
    hundreds: so a copy a test is done with is emptied and used again (``discard``), unless its
    test changed its schema. Only those, and the template, are dropped at the end."""

    def __init__(self, backend: str, workdir: Path, worker: str) -> None:
        self.backend = backend
        self.workdir = workdir
        self.prefix = f"gt_{RUN_ID}_{worker}"
        self.copies: list[str] = []
        self._engines: dict[str, Engine] = {}
        self._admin: Connection | None = None
        self._emptied: list[str] = []  # copies ready to be used again
        if backend == "sqlite":
            self.template = f"sqlite:///{workdir / 'template.sqlite3'}"
        else:
            assert POSTGRESQL_URL
            self.admin_url = POSTGRESQL_URL
            self.template = self._pg_url(f"{self.prefix}_tpl")
            self._pg_admin(f'CREATE DATABASE "{self.prefix}_tpl"')
        _migrate(self.template)
        self.main = self.copy("main")
        if backend == "postgresql":
            self._fingerprint, self._tables = self._schema_of(self.main)

    def _pg_url(self, name: str) -> str:
        return make_url(POSTGRESQL_URL).set(database=name).render_as_string(hide_password=False)

    def _pg_admin(self, statement: str, **parameters: Any) -> None:
        if self._admin is None:
            engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
            self._admin = engine.connect()
        self._admin.execute(text(statement), parameters)

    def _schema_of(self, url: str) -> tuple[str, list[str]]:
        """The template's fingerprint, and the tables a used copy empties (all but the
        migration's own, which the template fills)."""
        engine = create_engine(url, poolclass=NullPool)
        with engine.connect() as conn:
            fingerprint = conn.execute(text(SCHEMA_FINGERPRINT)).scalar_one()
            tables = list(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
            filled = [t for t in tables if conn.execute(text(f'SELECT EXISTS (SELECT FROM "{t}")')).scalar()]
        engine.dispose()
        assert filled == ["alembic_version"], f"the template has rows a used copy would lose: {filled}"
        return fingerprint, [t for t in tables if t != "alembic_version"]

    def _empty(self, name: str) -> bool:
        """Empty a used copy as the template is, if its schema is still the template's."""
        self._pg_admin("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = :name", name=name)
        engine = create_engine(self._pg_url(name), poolclass=NullPool)
        with engine.begin() as conn:
            if conn.execute(text(SCHEMA_FINGERPRINT)).scalar_one() != self._fingerprint:
                return False
            conn.execute(text("SET LOCAL session_replication_role = replica"))  # past the append-only triggers
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in self._tables) + " RESTART IDENTITY"))
        engine.dispose()
        return True

    def copy(self, label: str | None = None) -> str:
        """A fresh, migrated, empty database of this backend."""
        if self.backend == "postgresql" and label is None and self._emptied:
            return self._pg_url(self._emptied.pop())
        label = label or uuid.uuid4().hex[:8]
        if self.backend == "sqlite":
            path = self.workdir / f"{label}.sqlite3"
            shutil.copyfile(self.workdir / "template.sqlite3", path)
            url = f"sqlite:///{path}"
        else:
            name = f"{self.prefix}_{label}"
            self._pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.prefix}_tpl"')
            url = self._pg_url(name)
            self.copies.append(name)
        return url

    def engine(self, url: str) -> Engine:
        if url not in self._engines:
            self._engines[url] = configure_engine(create_engine(url))
        return self._engines[url]

    def discard(self, url: str) -> None:
        """A copy its test is done with: on PostgreSQL, emptied to be used again."""
        engine = self._engines.pop(url, None)
        if engine is not None:
            engine.dispose()
        name = make_url(url).database
        if self.backend == "postgresql" and name in self.copies and name not in self._emptied and self._empty(name):
            self._emptied.append(name)
            # What the process kept of a register read from this database is not of the next test's.
            from guarantee.services import register

            register.forget()

    def drop_all(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        if self.backend == "postgresql":
            for name in [*self.copies, f"{self.prefix}_tpl"]:
                self._pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if self._admin is not None:
            self._admin.close()


@pytest.fixture(scope="session")
def _databases(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[dict[str, Database]]:
    made: dict[str, Database] = {}
    yield made
    for database in made.values():
        database.drop_all()


@pytest.fixture(scope="session", params=BACKENDS)
def database(
    request: pytest.FixtureRequest,
    _databases: dict[str, Database],
    tmp_path_factory: pytest.TempPathFactory,
    worker_id: str,
) -> Database:
    backend: str = request.param
    if backend not in _databases:
        _databases[backend] = Database(backend, tmp_path_factory.mktemp(backend), worker_id)
    return _databases[backend]


@pytest.fixture
def backend(database: Database) -> str:
    return database.backend


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    """A session whose work is rolled back after the test, commits included."""
    connection = database.engine(database.main).connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


# --- time -------------------------------------------------------------------------

# A Monday in November 2026, mid-morning in the UK.
START = datetime(2026, 11, 2, 10, 0, tzinfo=UK)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def ctx(session: Session, clock: FixedClock) -> ServiceContext:
    return ServiceContext(session=session, clock=clock)


# --- the app, on a database of its own -------------------------------------------


@pytest.fixture
def fresh_url(database: Database) -> Iterator[str]:
    """A fresh database for a test that commits; dropped once the test is done."""
    url = database.copy()
    yield url
    database.discard(url)


@pytest.fixture
def app(fresh_url: str, clock: FixedClock, tmp_path: Path) -> Any:
    app = create_app(
        _app_config(
            fresh_url,
            GUARANTEE_CLOCK=clock,
            GUARANTEE_AUDIT_SIGNING_KEY=str(tmp_path / "signing-key.pem"),
            GUARANTEE_EVIDENCE_DIR=str(tmp_path / "evidence"),
        )
    )
    yield app
    from guarantee.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def runner(app: Any) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()
