"""Open decisions end to end (issue 20), on the demonstration data that `seed-demo` makes through
the real four-eyes step: the register and the rule pages are full, and a black-box crawl of every
public page, feed and download finds no claim reference, contact value or group name in any of
them. Every test runs on SQLite and on PostgreSQL, on one demonstration database per backend."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.models import Claim, Contact, DecisionStatement, Regulation, RuleSubscription
from guarantee.rules.routes import NEWEST_STATEMENTS
from guarantee.services import following, register, schedule
from guarantee.services.demo import seed_demo
from tests.conftest import Database
from tests.test_public import module_app
from tests.test_register_pages import everything_published, json_pages


@pytest.fixture(scope="module")
def demo(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One demonstration database per backend for the whole module: the tests only read it, but
    the last, which adds followers (and so runs last)."""
    app = module_app(database, tmp_path_factory.mktemp("open-decisions"))
    with app.app_context(), unit_of_work() as ctx:
        seed_demo(ctx, 60)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(demo: Flask) -> FlaskClient:
    return demo.test_client()


def _secrets(app: Flask) -> dict[str, str]:
    """What must never be published, by where it came from: references, contacts, group names."""
    with app.app_context(), unit_of_work() as ctx:
        found: dict[str, str] = {}
        for claim in ctx.session.scalars(select(Claim)):
            found[claim.reference] = f"the reference of {claim.reference}"
            found[claim.group_name] = f"the group name of {claim.reference}"
        for contact in ctx.session.scalars(select(Contact)):
            for value in (contact.contact_name, contact.email, contact.phone):
                if value:
                    found[value] = f"a contact value of claim {contact.claim_id}"
        return found


def _rule_slugs(app: Flask) -> list[str]:
    with app.app_context(), unit_of_work() as ctx:
        return list(ctx.session.scalars(select(Regulation.slug).where(Regulation.merged_into_id.is_(None))))


def test_the_demo_fills_the_register_and_several_rule_pages(demo: Flask, client: FlaskClient) -> None:
    shown = [s for body in json_pages(client, "/api/v1/decisions") for s in body["statements"]]
    assert len(shown) >= 10
    assert {s["status"] for s in shown} >= {"published", "withdrawn"}
    full = []
    for slug in _rule_slugs(demo):
        page = client.get(f"/rules/{slug}")
        assert page.status_code == 200
        if "Read decision statement" in page.text:
            full.append(slug)
    assert len(full) >= 3, full


def test_no_reference_contact_or_group_name_reaches_any_public_output(demo: Flask, client: FlaskClient) -> None:
    numbers = [s["number"] for body in json_pages(client, "/api/v1/decisions") for s in body["statements"]]
    slugs = _rule_slugs(demo)
    outputs = everything_published(client, numbers, slugs)
    outputs |= {f"rule page {slug}": client.get(f"/rules/{slug}").text for slug in slugs}
    outputs["rules"] = client.get("/rules").text
    outputs["data dictionary"] = client.get("/decisions/data-dictionary").text
    secrets = _secrets(demo)
    assert secrets
    for name, text in outputs.items():
        leaked = [what for value, what in secrets.items() if value in text]
        assert not leaked, f"{name} shows {leaked[:3]}"


def test_a_rule_page_lists_what_the_register_shows_of_it_and_nothing_it_holds_back(
    demo: Flask, client: FlaskClient
) -> None:
    with demo.app_context(), unit_of_work() as ctx:
        k = demo.config["GUARANTEE_REGISTER_MIN_CLAIMS"]
        listed = ctx.session.scalars(select(DecisionStatement).where(DecisionStatement.number.is_not(None))).all()
        by_rule: dict[str, list[tuple[str, bool]]] = {}
        for made in listed:
            rule = ctx.session.get(Regulation, made.regulation_id) if made.regulation_id else None
            if rule is not None and made.number:
                shown = register.is_shown(ctx.session, made, k=k, today=ctx.today())
                by_rule.setdefault(rule.slug, []).append((made.number, shown))
    assert by_rule
    for slug, statements in by_rule.items():
        page = client.get(f"/rules/{slug}").text
        newest = [
            s["number"] for body in json_pages(client, f"/api/v1/decisions?rule={slug}") for s in body["statements"]
        ]
        assert {number for number, shown in statements if shown} == set(newest), slug
        for number, _ in statements:  # the five newest the register shows, and none it holds back
            assert (f"Read decision statement {number}" in page) == (number in newest[:NEWEST_STATEMENTS]), (
                slug,
                number,
            )
        see_all = f'href="/decisions?rule={slug}">See all {len(newest)} decision statements about this rule</a>'
        assert (see_all in page) == (len(newest) > NEWEST_STATEMENTS), slug


def test_followers_hear_only_of_statements_the_register_shows(demo: Flask) -> None:
    """The notify round's follower e-mails obey the register's disclosure control: with k above the
    number of decided claims nothing is shown, so nobody is told; with k = 1 every follower is."""
    with demo.app_context(), unit_of_work() as ctx:
        rules = {
            s.regulation_id for s in ctx.session.scalars(select(DecisionStatement)) if s.number and s.regulation_id
        }
        for regulation_id in rules:
            following.follow(ctx, regulation_id, f"reader-{regulation_id}@example.net")
        ctx.session.flush()
        for made in ctx.session.scalars(select(RuleSubscription)):
            made.confirmed_at, made.expires_at = ctx.now() - timedelta(days=3650), None  # before the demo
    assert rules
    with demo.app_context(), unit_of_work() as ctx:
        strict = replace(ctx, register_min_claims=10_000)
        assert schedule.queue_scheduled(strict)["rule_updates"] == 0
    with demo.app_context(), unit_of_work() as ctx:
        open_register = replace(ctx, register_min_claims=1)
        assert schedule.queue_scheduled(open_register)["rule_updates"] == len(rules)
        assert schedule.queue_scheduled(open_register)["rule_updates"] == 0  # each is told once
