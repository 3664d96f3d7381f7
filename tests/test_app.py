"""The app, its health endpoints, the migrations and the operators' commands."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select, text

from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.models import Claim, Officer
from guarantee.services.claims import submit_claim
from guarantee.services.officers import password_matches
from tests.helpers import VALID_SUBMISSION, make_officer
from workflows import STATES


def test_healthz_answers_ok(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_ok_when_the_database_is_at_the_latest_migration(app):
    response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.json


def test_readyz_is_unavailable_until_the_database_is_migrated(app):
    with app.app_context():
        downgrade(revision="base")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert "flask db upgrade" in response.json["detail"] or "not migrated" in response.json["detail"]


def test_migrations_go_down_to_nothing_and_back_up(app):
    with app.app_context():
        downgrade(revision="base")
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade()
        assert "audit_events" in inspect(db.engine).get_table_names()


def test_migrations_go_down_with_officers_holding_claims(app):
    """SQLite rebuilds a table to drop a column: other tables' rows that refer to it must not stop that."""
    with app.app_context(), unit_of_work() as ctx:
        officer = make_officer(ctx, "triage", "reviewer")
        submit_claim(ctx, VALID_SUBMISSION).claim.assignee_id = officer.officer_id
    with app.app_context():
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) - {"alembic_version"} == set()
        upgrade()


# Reflection cannot read an index on an expression (the queue's due-date order): SQLAlchemy
# warns and skips it on both sides, so the comparison covers every other column and index.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_the_models_and_the_migrations_describe_the_same_schema(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []
        names = {index["name"] for index in inspect(connection).get_indexes("claims")}
        assert {"ix_claims_queue_submitted", "ix_claims_queue_state_submitted", "ix_claims_state_due_on"} <= names
        if connection.dialect.name == "sqlite":  # the expression index exists, as the migration made it
            sql = connection.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'ix_claims_queue_state_due'")
            ).scalar()
        else:
            sql = connection.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_claims_queue_state_due'")
            ).scalar()
        assert sql is not None and "coalesce" in sql.lower()


def test_create_officer_reads_the_password_from_stdin_and_hashes_it(app, runner):
    result = runner.invoke(
        args=[
            "guarantee",
            "create-officer",
            "--email",
            "Sam@Council.Example",
            "--name",
            "Sam Officer",
            "--role",
            "triage",
            "--role",
            "reviewer",
            "--password-stdin",
        ],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    assert "a long enough password" not in result.output
    with app.app_context():
        officer = db.session.scalar(select(Officer).where(Officer.email == "sam@council.example"))
        assert officer is not None
        assert officer.roles == {"triage", "reviewer"}
        assert officer.password_hash.startswith("$argon2id$")
        assert password_matches(officer.password_hash, "a long enough password")


def test_create_officer_prompts_for_the_password_twice(app, runner):
    result = runner.invoke(
        args=["guarantee", "create-officer", "--email", "kim@council.example", "--name", "Kim", "--role", "admin"],
        input="another long password\nanother long password\n",
    )
    assert result.exit_code == 0, result.output
    assert "another long password" not in result.output


def test_create_officer_refuses_a_short_password_and_a_taken_email(app, runner):
    args = [
        "guarantee",
        "create-officer",
        "--email",
        "lee@council.example",
        "--name",
        "Lee",
        "--role",
        "admin",
        "--password-stdin",
    ]
    short = runner.invoke(args=args, input="short\n")
    assert short.exit_code == 1
    assert "at least 12 characters" in short.output
    assert runner.invoke(args=args, input="a long enough password\n").exit_code == 0
    taken = runner.invoke(args=args, input="a long enough password\n")
    assert taken.exit_code == 1
    assert "already exists" in taken.output


def test_create_officer_refuses_an_unknown_role(runner):
    result = runner.invoke(
        args=[
            "guarantee",
            "create-officer",
            "--email",
            "x@council.example",
            "--name",
            "X",
            "--role",
            "mayor",
            "--password-stdin",
        ],
        input="a long enough password\n",
    )
    assert result.exit_code == 2
    assert "mayor" in result.output


def test_seed_demo_gives_claims_in_every_state_and_a_chain_that_verifies(app, runner):
    seeded = runner.invoke(args=["guarantee", "seed-demo", "--claims", "60"])
    assert seeded.exit_code == 0, seeded.output
    assert "admin@demo.invalid" in seeded.output
    with app.app_context():
        states = set(db.session.scalars(select(Claim.state).distinct()))
        assert states == set(STATES)
        assert db.session.scalar(select(func.count()).select_from(Claim)) == 60
    verified = runner.invoke(args=["guarantee", "audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "Audit verify passed: 60 claims" in verified.output


def test_seed_demo_twice_reuses_the_demo_officers(app, runner):
    assert runner.invoke(args=["guarantee", "seed-demo", "--claims", "12"]).exit_code == 0
    again = runner.invoke(args=["guarantee", "seed-demo", "--claims", "12"])
    assert again.exit_code == 0, again.output
    assert "password unchanged" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Officer)) == 4


def test_checkpoint_then_verify_against_it(app, runner, tmp_path):
    assert runner.invoke(args=["guarantee", "seed-demo", "--claims", "12"]).exit_code == 0
    checkpoint = tmp_path / "checkpoint.json"
    written = runner.invoke(args=["guarantee", "audit", "checkpoint", "-o", str(checkpoint)])
    assert written.exit_code == 0, written.output
    assert "12 chains" in written.output
    verified = runner.invoke(args=["guarantee", "audit", "verify", "--checkpoint", str(checkpoint)])
    assert verified.exit_code == 0, verified.output
    assert "matching checkpoint" in verified.output


def test_unit_of_work_rolls_back_on_error(app):
    with app.app_context():
        with pytest.raises(RuntimeError), unit_of_work() as ctx:
            ctx.session.add(
                Officer(
                    email="rollback@council.example",
                    name="R",
                    password_hash="x",
                    session_nonce="n",
                    created_at=ctx.now(),
                )
            )
            ctx.session.flush()
            raise RuntimeError("boom")
        assert db.session.scalar(select(func.count()).select_from(Officer)) == 0


def test_sweep_removes_idempotency_records_older_than_a_day(app, runner, clock):
    from guarantee.models import IdempotencyRecord
    from tests.helpers import VALID_SUBMISSION

    client = app.test_client()
    assert client.post("/api/v1/claims", json=VALID_SUBMISSION, headers={"Idempotency-Key": "k-1"}).status_code == 201
    runner.invoke(args=["guarantee", "sweep"])
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1
    clock.advance(hours=25)
    result = runner.invoke(args=["guarantee", "sweep"])
    assert "Removed 1 expired idempotency record(s)." in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0


@pytest.mark.parametrize("formatter", ["json", "plain"])
def test_a_logged_database_error_carries_no_submitted_values(app, formatter):
    """PostgreSQL's error DETAIL echoes the failing row; the log must not."""
    import logging
    import sys

    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from guarantee.logs import JsonFormatter, PlainFormatter

    chosen = JsonFormatter() if formatter == "json" else PlainFormatter("%(message)s")
    with app.app_context():
        try:
            db.session.execute(
                text(
                    "INSERT INTO officers (email, name, password_hash, active, session_nonce, created_at) "
                    "VALUES (:email, NULL, 'x', true, 'n', CURRENT_TIMESTAMP)"
                ),
                {"email": "private.person@example.org"},
            )
        except IntegrityError:
            record = logging.LogRecord("t", logging.ERROR, __file__, 1, "Exception on /x", None, sys.exc_info())
            line = chosen.format(record)
        else:
            raise AssertionError("the NOT NULL name should have been refused")
        finally:
            db.session.rollback()
    assert "private.person@example.org" not in line
    assert "IntegrityError" in line and "text withheld" in line
