"""How long a statistics release takes over many claims, and how many scans of them it makes.

    .venv/bin/python benchmarks/statistics_release.py --claims 1000000
    .venv/bin/python benchmarks/statistics_release.py --claims 100000 --database-url sqlite:////tmp/bench.sqlite3

Makes a fresh database (PostgreSQL by default: a new database on the local server, dropped at
the end), migrates it, fills it with claims in every state with plausible spreads over
categories, regions, sectors, outcomes and dates (COPY on PostgreSQL, executemany on SQLite),
then counts and publishes a release and prints the times and the number of statements that read
the claims table. The full benchmark suite (its own issue) builds on this.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, make_url, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from guarantee import create_app
from guarantee.clock import FixedClock
from guarantee.config import TestConfig
from guarantee.extensions import db
from guarantee.services.context import ServiceContext
from guarantee.statistics import counting, releases, tables
from guarantee.statistics.document import Settings, build
from workflows.vocabulary import BARRIER_CATEGORIES, REGIONS, RESOLUTION_OUTCOMES, SECTORS

POSTGRESQL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
COLUMNS = (
    "reference, state, version, submitted_at, updated_at, group_name, initiative_title, initiative_description, "
    "sector, region, barrier_regulation, barrier_imposed_by, barrier_category, barrier_how_it_blocks, "
    "remedy_sought, consent_contact, category, regulation_id, outcome, decided_at, resolved_at"
)
# (state, outcome, share): where claims stand, roughly as a year of a busy guarantee would leave them.
STANDING = (
    ("submitted", None, 0.06),
    ("under_review", None, 0.12),
    ("awaiting_information", None, 0.04),
    ("upheld", None, 0.08),
    ("not_upheld", None, 0.05),
    ("appealed", None, 0.02),
    *(("resolved", outcome, 0.06) for outcome in RESOLUTION_OUTCOMES),
    ("resolved", "not_upheld", 0.1),
    ("resolved", "appeal_dismissed", 0.03),
    ("closed", "declined", 0.1),
    ("withdrawn", "withdrawn", 0.05),
    ("lapsed", "lapsed", 0.05),
)


def rows(n: int, regulations: int, seed: int = 7) -> Any:
    rng = random.Random(seed)  # noqa: S311 (test data)
    weights = [w for *_, w in STANDING]
    category_weights = [1 + 3 * (i % 4 == 0) for i in range(len(BARRIER_CATEGORIES))]
    region_weights = [3 if r == "london" else 1 for r in REGIONS]
    for i in range(n):
        state, outcome, _ = rng.choices(STANDING, weights)[0]
        submitted = NOW - timedelta(days=rng.uniform(1, 320))
        decided = (
            submitted + timedelta(days=rng.uniform(5, 40))
            if state not in ("submitted", "under_review", "awaiting_information", "withdrawn", "lapsed")
            else None
        )
        resolved = (decided or submitted) + timedelta(days=rng.uniform(1, 50)) if outcome else None
        category = rng.choices(BARRIER_CATEGORIES, category_weights)[0]
        classified = state != "submitted"
        yield (
            f"CPG-2026-{i + 1:06d}" if i < 999_999 else f"CPG-2027-{i - 999_998:06d}",
            state,
            1,
            submitted,
            resolved or decided or submitted,
            "Bench group",
            "Bench initiative",
            "Generated for the benchmark.",
            rng.choice(SECTORS),
            rng.choices(REGIONS, region_weights)[0],
            "A rule",
            "A body",
            category,
            "It blocks.",
            "waiver",
            True,
            category if classified else None,
            rng.randint(1, regulations) if classified and rng.random() < 0.8 else None,
            outcome,
            decided,
            resolved,
        )


def fill_postgresql(url: str, n: int, regulations: int) -> None:
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as conn, conn.cursor() as cur:
        for k in range(regulations):
            cur.execute(
                "INSERT INTO regulations (title, category, created_at) VALUES (%s, %s, %s)",
                (f"Regulation {k + 1}", BARRIER_CATEGORIES[k % len(BARRIER_CATEGORIES)], NOW),
            )
        with cur.copy(f"COPY claims ({COLUMNS}) FROM STDIN") as copy:
            for row in rows(n, regulations):
                copy.write_row(row)
        cur.execute("ANALYZE claims")


def fill_sqlite(url: str, n: int, regulations: int) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for k in range(regulations):
            conn.execute(
                text("INSERT INTO regulations (title, category, created_at) VALUES (:t, :c, :at)"),
                {
                    "t": f"Regulation {k + 1}",
                    "c": BARRIER_CATEGORIES[k % len(BARRIER_CATEGORIES)],
                    "at": NOW.replace(tzinfo=None),
                },
            )
        names = [c.strip() for c in COLUMNS.split(",")]
        insert = text(f"INSERT INTO claims ({COLUMNS}) VALUES ({', '.join(':' + c for c in names)})")  # noqa: S608 (constants)
        batch: list[dict[str, Any]] = []
        for row in rows(n, regulations):
            values = dict(zip(names, row, strict=True))
            for key in ("submitted_at", "updated_at", "decided_at", "resolved_at"):
                if values[key] is not None:
                    values[key] = values[key].replace(tzinfo=None)
            batch.append(values)
            if len(batch) == 10_000:
                conn.execute(insert, batch)
                batch = []
        if batch:
            conn.execute(insert, batch)


def measure(url: str, claims: int, filled: float) -> dict[str, Any]:
    """Count, protect and publish, timing each, and count the statements that read the claims."""
    scans: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM claims" in statement:
            scans.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    ctx = ServiceContext(db.session, clock=FixedClock(NOW))
    started = time.perf_counter()
    counts = counting.count(db.session, Settings().series_start, NOW.date() - timedelta(days=1), NOW)
    counted = time.perf_counter() - started
    scans_counting = len(scans)
    started = time.perf_counter()
    build(counts, Settings(), 1, NOW)
    protected = time.perf_counter() - started
    started = time.perf_counter()
    release = releases.publish(ctx, None, Settings())
    db.session.commit()
    published = time.perf_counter() - started
    result = {
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
        "claims": claims,
        "fill_seconds": round(filled, 1),
        "count_seconds": round(counted, 2),
        "protect_seconds": round(protected, 2),
        "publish_seconds": round(published, 2),
        "statements_reading_claims": scans_counting,
        "tables": len(tables.LIST_TABLES) + len(tables.CROSS_TABLES) + 2,
        "release_bytes": len(release.document),
        "counted_claims": sum(counts.lists["category"].values()),
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--regulations", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="default: a new database on the local PostgreSQL")
    parser.add_argument("--report", default=None, help="also write the results as JSON to this file")
    options = parser.parse_args()

    made = None
    url = options.database_url
    if url is None:
        made = f"bench_stats_{uuid.uuid4().hex[:8]}"
        admin = create_engine(POSTGRESQL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{made}"'))
        url = make_url(POSTGRESQL).set(database=made).render_as_string(hide_password=False)
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=url, TESTING=False)
    app = create_app(config)
    try:
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            (fill_postgresql if url.startswith("postgresql") else fill_sqlite)(url, options.claims, options.regulations)
            filled = time.perf_counter() - started

            result = measure(url, options.claims, filled)
            db.session.remove()
            db.engine.dispose()
    finally:
        if made:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{made}" WITH (FORCE)'))
    print(json.dumps(result, indent=2))
    if options.report:
        Path(options.report).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
