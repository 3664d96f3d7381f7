"""The claim page, an action page and a check page in Chromium, with the demo data (issue 18,
"Done when"): at 1280 and 375 px, measured with element boxes, no reference wraps, no label
(summary-list key, table header, legend) breaks inside a word, and the page is exactly as wide as
the window; axe-core finds nothing; a decision goes through its check page, with JavaScript and
without. Screenshots go to test-output/screenshots/console-claim-*.png.

The live server, the browser and the officer come from tests/support/browser.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from tests.support.browser import (
    AXE,
    WCAG,
    LiveServer,
    make_officer,
    screenshot,
    skip_without_browser,
)
from tests.support.browser import console_sign_in_as as console_sign_in

pytestmark = skip_without_browser

WIDTHS = (1280, 375)
STATES = ("submitted", "under_review", "not_upheld", "appealed", "resolved")

# For each label on the page (summary-list keys, table headers, legends, radio and field labels),
# the words drawn on more than one line: a word's range rects all share one line unless the word
# was broken inside.
BROKEN_WORDS = """() => {
  const broken = [];
  const labels = document.querySelectorAll(
    ".govuk-summary-list__key, .govuk-table__header, .govuk-fieldset__legend, .govuk-label");
  for (const label of labels) {
    const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.textContent.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (tops.size > 1) broken.push(match[0]);
      }
    }
  }
  return broken;
}"""
# Each reference (the heading and the links to other claims) on one line.
WRAPPED_REFERENCES = """() => [...document.querySelectorAll(".app-claim__reference")]
  .filter(e => new Set([...e.getClientRects()].map(r => Math.round(r.top))).size > 1
               || e.getBoundingClientRect().height > 1.6 * parseFloat(getComputedStyle(e).lineHeight))
  .map(e => e.textContent.trim())"""


def demo_claims(url: str) -> dict[str, str]:
    """Seed the demo data into the server's database: a claim's reference for each state in STATES."""
    from guarantee import create_app
    from guarantee.context import unit_of_work
    from guarantee.extensions import db
    from guarantee.models import Claim
    from guarantee.services.demo import seed_demo

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "GUARANTEE_LOG_JSON": False})
    with app.app_context():
        with unit_of_work() as ctx:
            seed_demo(ctx, 40)
        found = {}
        for state in STATES:
            found[state] = db.session.scalars(
                select(Claim.reference).where(Claim.state == state).order_by(Claim.id).limit(1)
            ).one()
        db.session.remove()
        db.engine.dispose()
    return found


@pytest.fixture
def demo(live_server: LiveServer, fresh_url: str) -> tuple[LiveServer, dict[str, str], str]:
    references = demo_claims(fresh_url)
    officer = make_officer(fresh_url, "triage", "reviewer", "appeal_panel", "admin")
    return live_server, references, officer


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def width(request: pytest.FixtureRequest) -> int:
    return int(request.param)


def open_page(browser: Any, width: int, *, javascript: bool = True) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=javascript)
    if javascript:
        context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def measured(page: Any, name: str, width: int, *, javascript: bool = True) -> None:
    """The page's checks: fits the window, no broken label or wrapped reference, axe clean; a screenshot."""
    assert page.evaluate("document.documentElement.scrollWidth") == width, f"{name} scrolls sideways at {width}px"
    assert page.evaluate(BROKEN_WORDS) == [], f"{name}: labels broken inside a word at {width}px"
    assert page.evaluate(WRAPPED_REFERENCES) == [], f"{name}: a reference wraps at {width}px"
    if javascript:
        result = page.evaluate("async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
        problems = [f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in result["violations"]]
        assert not problems, f"{name} at {width}px:\n" + "\n".join(problems)
    screenshot(page, f"console-claim-{name}-{width}")


def test_console_claim_pages_fit_the_window_keep_labels_whole_and_pass_axe(
    browser: Any,
    demo: tuple[LiveServer, dict[str, str], str],
    width: int,
) -> None:
    server, references, officer = demo
    for page in open_page(browser, width):
        console_sign_in(page, server, officer)
        for state, reference in references.items():
            page.goto(f"{server.url}/officer/claims/{reference}")
            page.get_by_role("heading", name=reference).wait_for()
            measured(page, f"claim-{state}".replace("_", "-"), width)
        submitted = references["submitted"]
        page.goto(f"{server.url}/officer/claims/{submitted}/actions/accept")
        measured(page, "accept", width)
        page.goto(f"{server.url}/officer/claims/{submitted}/actions/decline")
        page.get_by_role("group", name="Reason").get_by_label("Out of scope").check()
        page.get_by_label("Explanation (shown to the group)").fill("This is a national rule, not the council's.")
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("heading", name="Check your decision").wait_for()
        measured(page, "check-decline", width)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_console_a_decision_goes_through_its_check_page(
    browser: Any,
    demo: tuple[LiveServer, dict[str, str], str],
    javascript: bool,
) -> None:
    from playwright.sync_api import expect

    server, references, officer = demo
    reference = references["under_review"]
    for page in open_page(browser, 1280, javascript=javascript):
        console_sign_in(page, server, officer)
        page.goto(f"{server.url}/officer/claims/{reference}")
        if javascript:  # MOJ's button menu folds the steps after the first behind "More actions"
            expect(page.get_by_role("button", name="Do not uphold")).to_be_hidden()
            page.get_by_role("button", name="More actions").click()
        page.get_by_role("button", name="Do not uphold").click()
        page.get_by_role("group", name="Reason").get_by_label("Regulation necessary and proportionate").check()
        page.locator("#not_uphold-reasons").fill("The rule protects children.")
        summary = page.locator("#not_uphold-public_summary")  # asked when the group agreed to publishing
        if summary.count():
            summary.fill("A nursery asked for relief from a staffing rule. The council kept the rule.")
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("heading", name="Check your decision").wait_for()
        assert page.locator("#group-email").inner_text().strip()  # the e-mail as it will be sent
        assert "Nothing has been done yet" in page.inner_text("main")
        page.get_by_role("button", name="Confirm and do not uphold").click()
        page.get_by_text("The claim is now not upheld.").wait_for()
        measured(page, f"after-decision-{'js' if javascript else 'nojs'}", 1280, javascript=javascript)
