"""The soak and fault run (soak/, RELIABILITY.md), and what it found.

The short run takes about three minutes (90 seconds of load, then reconciliation) and needs root
and PostgreSQL's server binaries: it makes its own cluster and runs gunicorn as ``nobody``.
Without them it is skipped, unless GUARANTEE_REQUIRE_SOAK=1 (then it fails).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import orm, text
from sqlalchemy.exc import OperationalError

from guarantee import create_app
from guarantee.config import TestConfig
from guarantee.extensions import db
from soak import cluster

ROOT = Path(__file__).resolve().parent.parent


def _unreachable_app(tmp_path: Path) -> Any:
    class Unreachable(TestConfig):
        # Nothing listens on port 1: every connection is refused, as while PostgreSQL restarts.
        SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://postgres@127.0.0.1:1/guarantee"
        GUARANTEE_EVIDENCE_DIR = str(tmp_path / "evidence")

    return create_app(Unreachable)


def test_an_api_request_while_the_database_is_down_is_a_503_to_retry(tmp_path: Path, caplog: Any) -> None:
    client = _unreachable_app(tmp_path).test_client()
    caplog.set_level(logging.WARNING)
    response = client.get("/api/v1/claims/CPG-2026-000001", headers={"Authorization": "Bearer gto_x"})
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "5"
    assert "same Idempotency-Key" in response.json["detail"]
    assert "Traceback" not in caplog.text
    assert "could not be reached" in caplog.text


def test_a_page_while_the_database_is_down_is_the_unavailable_page(tmp_path: Path) -> None:
    response = _unreachable_app(tmp_path).test_client().get("/track/CPG-2026-000001?token=abc")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "the service is unavailable" in response.get_data(as_text=True)


def test_readiness_still_says_unavailable_while_the_database_is_down(tmp_path: Path) -> None:
    assert _unreachable_app(tmp_path).test_client().get("/readyz").status_code == 503


_MISSING = cluster.missing()
if _MISSING and os.environ.get("GUARANTEE_REQUIRE_SOAK") == "1":
    raise RuntimeError(f"GUARANTEE_REQUIRE_SOAK=1 but the soak run cannot run here: {_MISSING}")


@pytest.mark.soak
@pytest.mark.timeout(900)  # the run's own limit is 600 s; this one only catches the test itself hanging
@pytest.mark.skipif(bool(_MISSING), reason=f"soak run: {_MISSING}")
def test_the_short_soak_run_on_postgresql_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "soak.run", "--short", "--report-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    summary = done.stdout[-6000:]
    assert done.returncode == 0, summary + done.stderr[-3000:]
    assert "SOAK PASSED" in done.stdout, summary
    assert ", 0 lost, 0 duplicates" in done.stdout, summary


def test_a_connection_lost_after_the_answer_was_made_does_not_replace_it_with_a_500(
    app: Any, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """pg_ctl restart -m fast between a read's answer and the end of its request: the rollback at
    teardown fails, and the answer must still be sent."""

    @app.get("/soak-read")
    def read() -> str:
        return str(db.session.execute(text("SELECT 1")).scalar())

    close = orm.Session.close
    failures = iter([OperationalError("ROLLBACK", {}, ConnectionError("server closed the connection unexpectedly"))])

    def close_once_broken(self: orm.Session) -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        close(self)

    monkeypatch.setattr(orm.Session, "close", close_once_broken)
    caplog.set_level(logging.WARNING)
    response = app.test_client().get("/soak-read")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "1"
    assert "lost at the end of a request" in caplog.text
