"""Publishing a decision statement in Chromium, with the demo data (issue 20, "Done when"): one
officer decides a claim and drafts a summary that gives away the group's e-mail address; a
second officer finds the personal-data check blocking approval, and corrects the summary; as they
changed it, a third officer approves it, and it is numbered. Every page passes axe-core and fits
the window at 1280 and 375 px. Screenshots go to test-output/screenshots/publishing-*.png.

The live server, the browser and the sign-in come from tests/support/browser.py.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from tests.helpers import submission
from tests.support.browser import (
    AXE,
    WCAG,
    LiveServer,
    choose_action,
    make_officer,
    screenshot,
    skip_without_browser,
)
from tests.support.browser import console_sign_in_as as console_sign_in

pytestmark = skip_without_browser

EMAIL = "ada.testperson@example.org"  # the group's contact address (tests.helpers)
SUMMARY = "A parent-run nursery asked to vary the staffing ratio while parents train. The council agreed."


def claim_on_a_featured_rule(url: str) -> tuple[str, int]:
    """Seed the demo data, then file a claim whose group agreed to publishing and accept it under
    the demo's busiest rule: (its reference, the rule's id)."""
    from guarantee import create_app
    from guarantee.context import unit_of_work
    from guarantee.extensions import db
    from guarantee.models import Regulation
    from guarantee.services.claims import fire, submit_claim
    from guarantee.services.demo import INITIATIVES, seed_demo
    from guarantee.services.officers import create_officer

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "GUARANTEE_LOG_JSON": False})
    with app.app_context():
        with unit_of_work() as ctx:
            seed_demo(ctx, 40)
            rule = ctx.session.scalar(select(Regulation.id).where(Regulation.title == INITIATIVES[0][3]))
            assert rule is not None
            reference = submit_claim(ctx, submission(consent={"contact": True, "publish": True})).reference
            triage = create_officer(
                ctx, email="triage-b@council.example", name="T", roles=["triage"], password="x" * 12
            )
            from guarantee.services.actors import OfficerActor

            fire(ctx, reference, "accept", OfficerActor(triage.id), {"category": "food_hygiene", "regulation": rule})
        db.session.remove()
        db.engine.dispose()
    return reference, rule


def number_of(url: str, reference: str) -> str | None:
    from guarantee import create_app
    from guarantee.extensions import db
    from guarantee.models import Claim
    from guarantee.models.register import DecisionStatement

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "GUARANTEE_LOG_JSON": False})
    with app.app_context():
        number = db.session.scalar(
            select(DecisionStatement.number)
            .join(Claim, Claim.id == DecisionStatement.claim_id)
            .where(Claim.reference == reference)
        )
        db.session.remove()
        db.engine.dispose()
    return number


def new_page(browser: Any, width: int) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def measured(page: Any, name: str) -> None:
    """Fits the window, axe finds nothing; a screenshot."""
    width = page.viewport_size["width"]
    screenshot(page, f"publishing-{name}-{width}")
    assert page.evaluate("document.documentElement.scrollWidth") == width, f"{name} scrolls sideways at {width}px"
    result = page.evaluate("async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
    problems = [f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in result["violations"]]
    assert not problems, f"{name} at {width}px:\n" + "\n".join(problems)


@pytest.fixture
def seeded(live_server: LiveServer, fresh_url: str) -> tuple[LiveServer, str, str]:
    reference, _ = claim_on_a_featured_rule(fresh_url)
    return live_server, reference, fresh_url


def test_a_statement_that_fails_the_check_is_corrected_then_approved_by_another_officer(
    browser: Any, seeded: tuple[LiveServer, str, str]
) -> None:
    server, reference, url = seeded
    drafter, corrector, approver = (make_officer(url, role) for role in ("reviewer", "appeal_panel", "admin"))

    # The deciding officer drafts a summary that names the group's e-mail address.
    page = new_page(browser, 1280)
    console_sign_in(page, server, drafter)
    page.goto(f"{server.url}/officer/claims/{reference}")
    choose_action(page, "Uphold", exact=True)
    measured(page, "decision-form")
    page.locator("#uphold-reasons").fill("The ratio was applied more strictly than it needs to be.")
    page.get_by_role("group", name="Remedy").get_by_label("Guidance clarified").check()
    page.locator("#uphold-public_summary").fill(f"{SUMMARY} Ask {EMAIL} for the plan.")
    page.get_by_role("checkbox", name=re.compile(r"Cite DS-")).first.check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Confirm and uphold").click()
    page.get_by_text("The claim is now upheld.").wait_for()
    page.context.close()

    # A second officer finds the check blocking approval, and corrects the summary.
    page = new_page(browser, 1280)
    console_sign_in(page, server, corrector)
    page.get_by_role("link", name="Statements to approve").click()
    page.get_by_role("heading", name="Statements to approve", level=1).wait_for()
    measured(page, "statements-to-approve")
    page.get_by_role("link", name=re.compile(f"claim {reference}")).click()
    assert "Approval is blocked." in page.inner_text("main")
    page.get_by_role("button", name="Approve and publish").click()
    summary = page.locator(".govuk-error-summary")
    summary.wait_for()
    assert f"The group's e-mail address: “{EMAIL}”" in summary.inner_text()
    measured(page, "approval-blocked")
    statement_url = page.url.removesuffix("/approve")
    page.locator("#edit-summary").fill(SUMMARY)
    page.get_by_role("button", name="Save the summary").click()
    page.get_by_text("The check found no names").wait_for()
    assert "you changed it" in page.inner_text("main")
    assert page.get_by_role("button", name="Approve and publish").count() == 0
    page.context.close()

    # As the second officer changed it, a third approves it.
    page = new_page(browser, 1280)
    console_sign_in(page, server, approver)
    page.goto(statement_url)
    page.get_by_role("button", name="Approve and publish").click()
    page.get_by_text(re.compile(r"Statement DS-\d{4}-\d{5} is published on the register")).wait_for()
    page.context.close()

    assert re.fullmatch(r"DS-\d{4}-[1-9]\d{4}", number_of(url, reference) or "")


def test_the_publishing_pages_fit_a_phone(browser: Any, seeded: tuple[LiveServer, str, str]) -> None:
    server, reference, url = seeded
    drafter, approver = make_officer(url, "reviewer"), make_officer(url, "appeal_panel")
    page = new_page(browser, 375)
    console_sign_in(page, server, drafter)
    page.goto(f"{server.url}/officer/claims/{reference}/actions/uphold")
    measured(page, "decision-form")
    page.locator("#uphold-reasons").fill("The ratio was applied more strictly than it needs to be.")
    page.get_by_role("group", name="Remedy").get_by_label("Guidance clarified").check()
    page.locator("#uphold-public_summary").fill(f"{SUMMARY} Ring 01632 960 001 or visit 12 Mill Lane, LS1 4AP.")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Confirm and uphold").click()
    page.get_by_text("The claim is now upheld.").wait_for()
    page.context.close()

    page = new_page(browser, 375)
    console_sign_in(page, server, approver)
    page.goto(f"{server.url}/officer/statements")
    measured(page, "statements-to-approve")
    page.get_by_role("link", name=re.compile(f"claim {reference}")).click()
    assert "Approval is blocked." in page.inner_text("main")
    measured(page, "approval-blocked")
    page.context.close()
