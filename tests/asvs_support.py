"""What tests/test_security_asvs.py needs beyond the shared helpers: a whole-database snapshot
(to prove a refused or read-only request changed nothing), a module-wide app with a signed-in
browser and an API token per role, and ways to reach a claim in any state with its group's token.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.models import Base
from guarantee.services.claims import submit_claim
from tests.api_support import Caller
from tests.helpers import Cast, submission, walk

# How the cast (never a caller under test) brings a claim to a state: nobody tried below has
# decided the claim before, so separation of duties never decides an outcome by accident.
PATHS: dict[str, tuple[str, ...]] = {
    "submitted": (),
    "under_review": ("accept",),
    "awaiting_information": ("accept", "request_information"),
    "upheld": ("accept", "uphold"),
    "not_upheld": ("accept", "not_uphold"),
    "appealed": ("accept", "not_uphold", "appeal"),
    "closed": ("decline",),
}


def snapshot(app: Flask) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table, as text, in a stable order: what any request could have written."""
    with app.app_context():
        found = {}
        for table in Base.metadata.sorted_tables:
            rows = db.session.execute(select(table)).all()
            found[table.name] = sorted(tuple(repr(v) for v in row) for row in rows)
        db.session.rollback()
        return found


def changed_tables(before: dict[str, list[tuple[str, ...]]], after: dict[str, list[tuple[str, ...]]]) -> list[str]:
    return [name for name in before if before[name] != after.get(name)]


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@dataclass(frozen=True)
class Tracked:
    """A claim as its group holds it: the reference and the tracking token."""

    reference: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def link(self) -> str:
        return f"/track/{self.reference}?token={self.token}"


def claims_in(app: Flask, state: str, count: int = 1) -> list[Tracked]:
    """Fresh claims brought to ``state`` by a cast of officers made for them."""
    with app.app_context(), unit_of_work() as ctx:
        cast = Cast(ctx)
        made = []
        for _ in range(count):
            filed = submit_claim(ctx, submission())
            walk(ctx, cast, filed.reference, *PATHS[state])
            made.append(Tracked(filed.reference, filed.tracking_token))
        return made


@dataclass(frozen=True)
class World:
    """One app per backend and worker, an API caller and a signed-in console browser per role."""

    app: Flask
    callers: dict[str, Caller]
    browsers: dict[str, FlaskClient]

    @property
    def evidence_dir(self) -> Path:
        return Path(self.app.config["GUARANTEE_EVIDENCE_DIR"])


class Captured(logging.Handler):
    """Every log record of every logger, formatted as the service formats it, exceptions too."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        from guarantee.logs import JsonFormatter

        self.lines.append(JsonFormatter().format(record))
        self.lines.append(repr(record.args))  # what a formatter of someone else's could print

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def any_of(mapping: dict[str, Any], *names: str) -> Any:
    return next(mapping[n] for n in names if n in mapping)
