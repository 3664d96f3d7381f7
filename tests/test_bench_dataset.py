"""The benchmark data set (benchmarks/dataset.py): generated claims are, to the application, the
claims its services would have made. Their chains verify, the services carry on with them, the
statistics count them, their pages open, and each one is, row for row, what ``submit_claim`` and
``fire`` write for the same input at the same moments.

One small data set is generated per backend (SQLite, and PostgreSQL where it answers) into a
fresh database; tests that change it do so in a transaction they roll back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

import benchmarks.dataset
from benchmarks.dataset import Manifest, check_against_services, generate, replay_differences, tracking_token
from guarantee import create_app
from guarantee.clock import SystemClock, today
from guarantee.extensions import db
from guarantee.models import AuditEvent, Claim, ClaimClock, Officer
from guarantee.services import audit
from guarantee.services.actors import GroupActor, OfficerActor
from guarantee.services.claims import fire, reference_for_token, submit_claim
from guarantee.services.context import ServiceContext
from guarantee.statistics import counting
from tests.conftest import Database, _app_config
from tests.helpers import INPUTS, VALID_SUBMISSION
from tests.test_console import sign_in
from workflows import ACTIVE_STATES, STATES

CLAIMS = 300  # more than enough for every route, and quick to make


@dataclass(frozen=True)
class Generated:
    url: str
    engine: Engine
    manifest: Manifest


@pytest.fixture(scope="module")
def generated(database: Database) -> Generated:
    """A fresh database of this backend, filled by the generator, in chunks (as a large one is)."""
    url = database.copy()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(benchmarks.dataset, "CHUNK", 100)
        manifest = generate(url, CLAIMS)
    return Generated(url, database.engine(url), manifest)


@pytest.fixture
def rolled_back(generated: Generated) -> Iterator[ServiceContext]:
    """A service context on the generated database, at the real time, undone after the test."""
    connection = generated.engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield ServiceContext(session, clock=SystemClock())
    finally:
        session.close()
        transaction.rollback()
        connection.close()


def one_in(manifest: Manifest, state: str) -> dict[str, object]:
    return next(t for t in manifest.tracking if t["state"] == state)


def officer_with(ctx: ServiceContext, manifest: Manifest, role: str) -> OfficerActor:
    email = next(o["email"] for o in manifest.officers if role in o["roles"])
    officer = ctx.session.scalar(select(Officer).where(Officer.email == email))
    assert officer is not None
    return OfficerActor(officer.id)


# --- the data set ---------------------------------------------------------------------------------


def test_every_chain_verifies_and_replays_to_its_claims_state(
    rolled_back: ServiceContext, generated: Generated
) -> None:
    report = audit.verify(rolled_back)
    assert report.ok, report.problems[:3] if report.problems else None
    assert (report.claims, report.events) == (CLAIMS, generated.manifest.events)
    assert report.admin_events == len(generated.manifest.officers) == 40


def test_claims_stand_in_every_state(rolled_back: ServiceContext) -> None:
    states = set(rolled_back.session.scalars(select(Claim.state).distinct()))
    assert states == set(STATES)


def test_generated_claims_are_row_for_row_what_the_services_write(rolled_back: ServiceContext) -> None:
    """One claim of every route: filed again through the services, with the same input, by the
    same people, at the same moments, every column of every row comes out the same."""
    routes: dict[tuple[str, ...], str] = {}
    events = rolled_back.session.execute(
        select(Claim.reference, AuditEvent.action).join(AuditEvent).order_by(Claim.id, AuditEvent.seq)
    )
    walked: dict[str, list[str]] = {}
    for reference, action in events:
        walked.setdefault(reference, []).append(action)
    for reference, actions in walked.items():
        routes.setdefault(tuple(actions), reference)
    assert len(routes) >= 30
    differences = [d for reference in routes.values() for d in replay_differences(rolled_back.session, reference)]
    assert differences == []


def test_open_claims_are_due_soon_and_some_are_overdue(rolled_back: ServiceContext) -> None:
    session, now = rolled_back.session, rolled_back.today()
    open_claims = session.scalar(select(func.count()).where(Claim.state.in_(ACTIVE_STATES)))
    overdue = session.scalar(select(func.count()).where(Claim.due_on < now))
    assert open_claims and 0.03 < (overdue or 0) / open_claims < 0.35
    # The claim shows the running clock that falls due first, as the service keeps it, and only open claims have one.
    running = select(ClaimClock.claim_id, func.min(ClaimClock.due_on).label("due")).where(
        ClaimClock.status == "running"
    )
    shown = running.group_by(ClaimClock.claim_id).subquery()
    mismatched = session.scalar(
        select(func.count())
        .select_from(Claim)
        .outerjoin(shown, shown.c.claim_id == Claim.id)
        .where((Claim.due_on != shown.c.due) | (Claim.due_on.is_(None) != shown.c.due.is_(None)))
    )
    assert mismatched == 0
    assert session.scalar(select(func.count()).where(Claim.state.not_in(ACTIVE_STATES), Claim.due_on.is_not(None))) == 0


def test_the_manifest_lists_officers_and_a_tracking_link_for_claims_in_every_state(generated: Generated) -> None:
    manifest = generated.manifest
    assert manifest.claims == CLAIMS and manifest.seconds > 0
    assert len(manifest.tracking) >= min(CLAIMS, 1000)
    assert {t["state"] for t in manifest.tracking} == set(STATES)
    assert all(t["token"] == tracking_token(str(t["reference"])) for t in manifest.tracking)
    roles = [role for officer in manifest.officers for role in officer["roles"]]
    assert (roles.count("triage"), roles.count("reviewer"), roles.count("appeal_panel"), roles.count("admin")) == (
        10,
        23,
        9,
        4,
    )
    again = json.loads(manifest.to_json())
    assert again["first_day"] == manifest.first_day.isoformat() and again["claims"] == CLAIMS


# --- the application on generated claims --------------------------------------------------------


def test_officers_and_groups_carry_on_with_generated_claims(rolled_back: ServiceContext, generated: Generated) -> None:
    ctx, manifest = rolled_back, generated.manifest
    submitted, under_review, waiting = (
        one_in(manifest, s) for s in ("submitted", "under_review", "awaiting_information")
    )
    assert (
        fire(
            ctx,
            str(submitted["reference"]),
            "accept",
            officer_with(ctx, manifest, "triage"),
            {"category": "food_hygiene", "regulation": 1},
        ).claim.state
        == "under_review"
    )
    assert (
        fire(
            ctx, str(under_review["reference"]), "uphold", officer_with(ctx, manifest, "reviewer"), INPUTS["uphold"]
        ).claim.state
        == "upheld"
    )
    reference = str(waiting["reference"])
    assert fire(ctx, reference, "withdraw", GroupActor(reference), INPUTS["withdraw"]).claim.state == "withdrawn"
    assert audit.verify(ctx).ok


def test_a_generated_tracking_link_opens_its_claim(rolled_back: ServiceContext, generated: Generated) -> None:
    for sample in generated.manifest.tracking[:50]:
        assert reference_for_token(rolled_back, str(sample["token"])) == sample["reference"]


def test_a_claim_filed_after_generation_gets_a_fresh_reference(rolled_back: ServiceContext) -> None:
    year = rolled_back.today().year
    filed_this_year = rolled_back.session.scalar(select(func.count()).where(Claim.reference.like(f"CPG-{year}-%")))
    assert submit_claim(rolled_back, VALID_SUBMISSION).reference == f"CPG-{year}-{(filed_this_year or 0) + 1:06d}"


def test_the_statistics_count_every_claim(rolled_back: ServiceContext, generated: Generated) -> None:
    counts = counting.count(
        rolled_back.session, generated.manifest.first_day, today(SystemClock()), SystemClock().now()
    )
    assert sum(counts.lists["category"].values()) == CLAIMS
    assert sum(counts.lists["quarter"].values()) == CLAIMS
    assert len([q for q, n in counts.lists["quarter"].items() if n]) >= 7  # filed over about 22 months


def test_the_tracking_page_and_the_officers_claim_page_show_generated_claims(
    generated: Generated, tmp_path: Path
) -> None:
    app: Flask = create_app(
        _app_config(
            generated.url,
            GUARANTEE_AUDIT_SIGNING_KEY=str(tmp_path / "signing-key.pem"),
            GUARANTEE_EVIDENCE_DIR=str(tmp_path / "evidence"),
        )
    )
    officer = next(o for o in generated.manifest.officers if "admin" in o["roles"])
    console = app.test_client()
    assert sign_in(console, str(officer["email"]), str(officer["password"])).status_code == 303
    try:
        for state in STATES:
            sample = one_in(generated.manifest, state)
            reference = str(sample["reference"])
            group = app.test_client()
            opened = group.get(f"/track/{reference}?token={sample['token']}")
            assert opened.status_code == 303, (state, opened.status_code)
            page = group.get(f"/track/{reference}")
            assert page.status_code == 200 and reference in page.text, state
            page = console.get(f"/officer/claims/{reference}")
            assert page.status_code == 200 and reference in page.text, state
    finally:
        with app.app_context():
            db.engine.dispose()


# --- the generator's own check -------------------------------------------------------------------


def test_a_row_unlike_the_services_stops_the_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every generation first checks itself against the services: a clock one day out is caught."""
    add = benchmarks.dataset.Calendar.add

    def a_day_late(self: benchmarks.dataset.Calendar, start: int, days: int) -> tuple[int, str]:
        due, stretch = add(self, start, days)
        return (due + 1 if days == 20 else due), stretch

    monkeypatch.setattr(benchmarks.dataset.Calendar, "add", a_day_late)
    with pytest.raises(RuntimeError, match="differ from what the services write"):
        check_against_services(SystemClock().now(), 7)
