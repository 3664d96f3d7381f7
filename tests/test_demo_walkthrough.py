"""What the issue calls done: a newcomer creates an officer with the CLI the README shows, seeds
the demo queue, signs in, and works demo claims through every state from the console (the group's
and the deadline's steps taken as the group and the sweep would); every step is in the audit trail
and `flask guarantee audit verify` passes."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from guarantee.clock import FixedClock
from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.models import AuditEvent, Claim
from guarantee.services.actors import GroupActor
from guarantee.services.claims import fire
from tests.helpers import INPUTS, PASSWORD
from tests.test_console import QUEUE, claim_path, post_action, rows, sign_in
from tests.test_public import error_summary, text_of
from workflows import STATES

NEWCOMER = "you@council.example"


def answers(trigger: str) -> dict[str, str]:
    given: dict[str, Any] = dict(INPUTS[trigger])
    if trigger == "accept":
        given |= {"regulation": "", "regulation_new": "Community kitchen licence"}
    return {name: str(value) for name, value in given.items()}


def act(client: FlaskClient, reference: str, *triggers: str) -> None:
    for trigger in triggers:
        done = post_action(client, reference, trigger, **answers(trigger))
        assert done.status_code == 303, f"{trigger}: {error_summary(done.text) or text_of(done.text)[:300]}"


def as_group(app: Flask, reference: str, trigger: str) -> None:
    with app.app_context(), unit_of_work() as ctx:
        fire(ctx, reference, trigger, GroupActor(reference), INPUTS[trigger])


def state_of(app: Flask, reference: str) -> str:
    with app.app_context():
        return str(db.session.scalar(select(Claim.state).where(Claim.reference == reference)))


def test_a_newcomer_works_the_seeded_demo_queue_through_every_state_and_the_audit_verifies(
    app: Flask, runner: Any, clock: FixedClock
) -> None:
    created = runner.invoke(
        args=[
            "guarantee",
            "create-officer",
            "--email",
            NEWCOMER,
            "--name",
            "Your Name",
            "--role",
            "admin",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )
    assert created.exit_code == 0, created.output
    seeded = runner.invoke(args=["guarantee", "seed-demo", "--claims", "40"])
    assert seeded.exit_code == 0, seeded.output
    panel_password = re.search(r"appeal-panel@demo\.invalid\s+password (\S+)", seeded.output)
    assert panel_password, seeded.output

    me = app.test_client()
    assert sign_in(me, NEWCOMER).status_code == 303
    waiting = rows(me.get(QUEUE + "?state=submitted").text)
    assert len(waiting) >= 4, "the demo queue has claims waiting for triage"
    upheld, appealed, lapsed, withdrawn = waiting[:4]
    seen = {"submitted"}

    act(me, upheld, "accept", "request_information")
    seen |= {"under_review", "awaiting_information"}
    as_group(app, upheld, "provide_information")
    act(me, upheld, "uphold")
    seen.add(state_of(app, upheld))
    act(me, upheld, "record_resolution")
    seen.add(state_of(app, upheld))

    act(me, appealed, "decline")
    seen.add(state_of(app, appealed))
    act(me, appealed, "reopen", "not_uphold")
    seen.add(state_of(app, appealed))
    as_group(app, appealed, "appeal")
    seen.add(state_of(app, appealed))
    # The administrator decided this claim, so the appeal goes to someone else on the panel.
    assert "allow_appeal" not in me.get(claim_path(appealed)).text
    panel = app.test_client()
    assert sign_in(panel, "appeal-panel@demo.invalid", panel_password.group(1)).status_code == 303
    act(panel, appealed, "allow_appeal")
    assert state_of(app, appealed) == "upheld"

    act(me, lapsed, "accept", "request_information")
    clock.advance(days=40)  # well past 20 working days without an answer
    swept = runner.invoke(args=["guarantee", "sweep"])
    assert swept.exit_code == 0, swept.output
    seen.add(state_of(app, lapsed))

    as_group(app, withdrawn, "withdraw")
    seen.add(state_of(app, withdrawn))

    assert seen == set(STATES)
    with app.app_context():
        claim_id = db.session.scalar(select(Claim.id).where(Claim.reference == appealed))
        actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.claim_id == claim_id)))
    assert actions == ["submitted", "decline", "reopen", "not_uphold", "appeal", "allow_appeal"]
    verified = runner.invoke(args=["guarantee", "audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "Audit verify passed: 40 claims" in verified.output
    assert "and the admin log's 5 events" in verified.output  # the newcomer and four demo officers
