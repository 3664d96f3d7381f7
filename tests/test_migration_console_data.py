"""The migration of the rebuilt console's data (dea620987a51) goes up and down on a database in
use: down, the saved filters and e-mail choices go, the team leader role is taken away and the
messages to a team's address are deleted, while everything else stays; up again, all of it can
be held once more."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.models import OfficerRole, OutboxMessage
from guarantee.services import notifications, saved_filters
from guarantee.services.actors import OfficerActor
from guarantee.services.claims import get_claim, submit_claim
from guarantee.services.officers import change_mail_settings, create_officer, mail_settings
from tests.helpers import PASSWORD, submission

BEFORE = "675ae8d1e535"
NEW_TABLES = {"saved_filters", "mail_opt_outs"}


def test_the_console_data_migration_goes_down_and_up_again_keeping_everything_else(app: Flask) -> None:
    app.config["GUARANTEE_APPEALS_TEAM_EMAIL"] = "appeals@council.example"
    with app.app_context(), unit_of_work() as ctx:
        officer_id = create_officer(
            ctx, email="lead@council.example", name="Lead", roles=["team_leader", "triage"], password=PASSWORD
        ).id
        leader = OfficerActor(officer_id)
        reference = submit_claim(ctx, submission()).reference
        notifications.to_appeal_panel(ctx, get_claim(ctx, reference), "appeal_waiting")  # to the team's address
        saved_filters.save(ctx, leader, "Mine", {"assignee": "me"})
        change_mail_settings(ctx, leader, {"assignments"})
    with app.app_context():
        downgrade(revision=BEFORE)
        assert NEW_TABLES.isdisjoint(inspect(db.engine).get_table_names())
        roles = db.session.scalars(select(OfficerRole.role).where(OfficerRole.officer_id == officer_id)).all()
        outbox = db.session.execute(text("SELECT recipient_type, template FROM outbox ORDER BY id")).all()
        db.session.rollback()
        assert roles == ["triage"]
        assert [tuple(row) for row in outbox] == [("group", "claim_submitted")], "the team's message went, no other"
        with pytest.raises(IntegrityError):
            db.session.execute(
                text("INSERT INTO officer_roles (officer_id, role) VALUES (:id, 'team_leader')"), {"id": officer_id}
            )
        db.session.rollback()
        upgrade()
        assert set(inspect(db.engine).get_table_names()) >= NEW_TABLES
    with app.app_context(), unit_of_work() as ctx:
        ctx.session.add(OfficerRole(officer_id=officer_id, role="team_leader"))
        notifications.to_appeal_panel(ctx, get_claim(ctx, reference), "appeal_waiting")
        assert saved_filters.list(ctx, leader) == []
        assert [s.on for s in mail_settings(ctx, leader)] == [True] * 6, "every kind on again"
    with app.app_context():
        team = select(OutboxMessage.recipient_type).where(OutboxMessage.template == "appeal_waiting")
        assert db.session.scalars(team).all() == ["team"]
