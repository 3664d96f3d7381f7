"""The rule page, following a rule and the claim form's similar rules step in Chromium: axe-core
finds nothing, nothing scrolls sideways at 320 px, and each works by keyboard and without
JavaScript. Screenshots at 1280 and 375 px go to test-output/screenshots/rules-*.png for a person to look at."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from guarantee import create_app
from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.models import RuleSubscription
from guarantee.services import following
from tests.conftest import _app_config
from tests.support.browser import LiveServer, Visit, screenshot, skip_without_browser
from tests.support.filing import answer_shown_questions
from tests.support.rules import add_claims, add_rule
from tests.test_filing_browser import CHOSEN, TYPED

pytestmark = skip_without_browser


def _app(url: str) -> Flask:
    return create_app(_app_config(url))


def shoot(page: Any, name: str) -> None:
    """The page at 1280 and 375 px wide, then back to where it was."""
    before = page.viewport_size
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 800})
        screenshot(page, f"rules-{name}-{width}")
    page.set_viewport_size(before)


def checked(visit: Visit, label: str, backend: str) -> None:
    """The page passes every check; its screenshots (one backend's are enough to look at)."""
    visit.check(label)
    if backend == "sqlite":
        shoot(visit.page, label)


def test_a_rule_page_following_it_and_the_similar_rules_step_pass_axe_at_320_px(
    live_server: LiveServer, fresh_url: str, visit: Visit, backend: str
) -> None:
    app = _app(fresh_url)
    regulation_id, _ = add_rule(
        app,
        "Food premises registration",
        legal_reference="Regulation (EC) 852/2004, Article 6",
        issuing_body="Food Standards Agency",
        category="food_hygiene",
    )
    add_claims(app, regulation_id, "upheld", 12)
    add_claims(app, regulation_id, "not_upheld", 14)
    add_rule(app, "Food business registration", issuing_body="District council")
    page = visit.page

    page.goto(f"{live_server.url}/rules")
    page.get_by_label("Search the rules").fill("food")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Food premises registration").click()
    page.get_by_role("heading", name="How to challenge this rule with Food Standards Agency").wait_for()
    checked(visit, "rule-page", backend)

    page.get_by_label("Your email address").fill("reader@example.net")
    page.get_by_role("button", name="Follow this rule").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    checked(visit, "follow-asked", backend)

    with app.app_context(), unit_of_work() as ctx:
        subscription_id = ctx.session.scalar(select(RuleSubscription.id))
        assert subscription_id is not None
        token = following.mint(ctx, subscription_id, "confirm")
    page.goto(f"{live_server.url}/follow/{token}")
    checked(visit, "follow-confirm", backend)
    page.keyboard.press("Tab")
    page.get_by_role("button", name="Confirm").focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="You are following this rule").wait_for()
    checked(visit, "following", backend)

    # The claim form: after naming the rule, the rules like it, with what was decided about them.
    page.goto(f"{live_server.url}/claims/new")
    for _ in range(4):
        answer_shown_questions(page, TYPED, CHOSEN)
        with page.expect_navigation():
            page.get_by_role("button", name="Continue").click()
        if page.url.endswith("/claims/new/similar-rules"):
            break
    assert page.url.endswith("/claims/new/similar-rules"), page.url
    assert page.get_by_text("About 25 decided claims about this rule: about 10 upheld").count() == 1
    checked(visit, "similar-rules", backend)
    page.get_by_label("Food premises registration").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    assert page.url.endswith("/claims/new/barrier")
    with app.app_context():
        db.engine.dispose()
