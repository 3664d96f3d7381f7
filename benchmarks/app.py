"""The benchmark's application: the production app plus two reference endpoints.

    gunicorn -c gunicorn.conf.py benchmarks.wsgi:app

The reference endpoints exist only here, never in the production routes (``wsgi:app``):

- ``GET /bench/hello``: the framework floor, a hello-world JSON view in the same app, behind the
  same gunicorn configuration and middleware (security headers, sessions, the rate limiter);
- ``POST /bench/write``: the write floor, one row inserted with the ORM and committed.

Every workload is reported as a share of one of them, measured in the same run, so that a result
survives a noisy machine.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Flask, jsonify, request
from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from guarantee import create_app
from guarantee.extensions import db


class BenchBase(DeclarativeBase):
    """Kept apart from the application's metadata: the migrations never see this table."""


class BenchRow(BenchBase):
    __tablename__ = "bench_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(String(200))


bp = Blueprint("bench", __name__, url_prefix="/bench")


@bp.get("/hello")
def hello() -> object:
    return jsonify(hello="world")


@bp.post("/write")
def write() -> object:
    row = BenchRow(created_at=datetime.now(UTC), note=(request.get_data(as_text=True) or "row")[:200])
    db.session.add(row)
    db.session.commit()
    return jsonify(id=row.id), 201


def create_bench_table(database_url: str) -> None:
    """Make the write floor's table (the runner calls this once, before gunicorn starts)."""
    engine = create_engine(database_url)
    try:
        BenchBase.metadata.create_all(engine)
    finally:
        engine.dispose()


def create_bench_app() -> Flask:
    app = create_app()
    app.register_blueprint(bp)
    return app
