"""The group's tracking page and its withdraw page in Chromium: in each state that matters, at
1280, 375 and 320 px, axe-core finds nothing, nothing scrolls sideways, and a screenshot is
written to test-output/screenshots/ (claim-page-*.png); withdrawing works by keyboard alone.

Claims are filed and moved on through the JSON API, as another council system would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import VALID_SUBMISSION
from tests.support.browser import AXE, LiveServer, Visit, officer_token, serve, skip_without_browser

pytestmark = skip_without_browser

WIDTHS = (1280, 375, 320)

# Each state, and how to get there from a new claim: (who, body) for each step.
STEPS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "submitted": [],
    "question-asked": [
        ("officer", {"trigger": "accept", "category": "food_hygiene", "regulation": {"title": "Food premises"}}),
        ("officer", {"trigger": "request_information", "question": "How many people cook each week?"}),
    ],
    "not-upheld": [
        ("officer", {"trigger": "accept", "category": "food_hygiene", "regulation": {"title": "Food premises"}}),
        (
            "officer",
            {
                "trigger": "not_uphold",
                "reasons": "Shared meals of this kind need registration.",
                "reason_code": "regulation_necessary_and_proportionate",
            },
        ),
    ],
    "appeal-allowed": [
        ("officer", {"trigger": "accept", "category": "food_hygiene", "regulation": {"title": "Food premises"}}),
        (
            "officer",
            {"trigger": "not_uphold", "reasons": "Shared meals need registration.", "reason_code": "other"},
        ),
        ("group", {"trigger": "appeal", "grounds": "National guidance says no registration is needed."}),
        (
            "panel",
            {
                "trigger": "allow_appeal",
                "reasons": "The national guidance is clear: occasional shared meals need no registration.",
                "remedy": "guidance_clarified",
            },
        ),
    ],
    "resolved": [
        ("officer", {"trigger": "accept", "category": "food_hygiene", "regulation": {"title": "Food premises"}}),
        ("officer", {"trigger": "uphold", "reasons": "The rule was applied too strictly.", "remedy": "waiver"}),
        (
            "officer",
            {"trigger": "record_resolution", "outcome": "waiver_granted", "summary": "A waiver for a year."},
        ),
    ],
    "withdrawn": [("group", {"trigger": "withdraw", "reason": "We found another hall."})],
}
HEADINGS = {
    "submitted": ["Where your claim is now", "What has happened so far"],
    "question-asked": ["Where your claim is now", "Answer the question", "What has happened so far"],
    "not-upheld": ["Where your claim is now", "The decision", "Appeal the decision", "What has happened so far"],
    "appeal-allowed": ["Where your claim is now", "The decision", "What has happened so far"],
    "resolved": ["Where your claim is now", "The decision", "What has happened so far"],
    "withdrawn": ["Where your claim is now", "What has happened so far"],
}


@pytest.fixture
def live_server(fresh_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """The server, letting a group open a tracking link for each of its claims in each window."""
    yield from serve(fresh_url, tmp_path, GUARANTEE_TOKEN_RATE_LIMIT="100 per minute")


@pytest.fixture
def claims(live_server: LiveServer, fresh_url: str) -> dict[str, tuple[str, str]]:
    """A claim in each state: name -> (reference, tracking link)."""
    officer = officer_token(live_server, fresh_url, "triage", "reviewer")
    panel = officer_token(live_server, fresh_url, "appeal_panel")
    made = {}
    for name, steps in STEPS.items():
        filed = live_server.api("POST", "/api/v1/claims", VALID_SUBMISSION)
        reference, token = filed["reference"], filed["tracking_token"]
        for who, body in steps:
            bearer = {"officer": officer, "panel": panel, "group": token}[who]
            live_server.api("POST", f"/api/v1/claims/{reference}/transitions", body, bearer)
        made[name] = (reference, filed["tracking_url"])
    return made


@pytest.fixture
def window(browser: Any, backend: str) -> Iterator[Any]:
    """Opens a page at a width, in a context of its own (a fresh browser, as a group would have)."""
    contexts = []

    def open_at(width: int, link: str, label: str) -> Visit:
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.add_init_script(path=str(AXE))
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        visit = Visit(page, f"claim-page-{backend}-{width}", width=width)
        page.on(
            "console", lambda msg: visit.csp_violations.append(msg.text) if "Content Security" in msg.text else None
        )
        page.goto(link)
        page.wait_for_url("**/track/*")
        return visit

    yield open_at
    for context in contexts:
        context.close()


def main_headings(page: Any) -> list[str]:
    found: list[str] = page.eval_on_selector_all("main h2", "(hs) => hs.map((h) => h.textContent.trim())")
    return found


def test_the_tracking_page_in_each_state_is_accessible_and_fits(
    claims: dict[str, tuple[str, str]], window: Any
) -> None:
    # Every width on one server and one set of claims: nothing here changes a claim.
    for width in WIDTHS:
        _each_state_at(claims, window, width)


def _each_state_at(claims: dict[str, tuple[str, str]], window: Any, width: int) -> None:
    for name, (reference, link) in claims.items():
        visit = window(width, link, name)
        page = visit.page
        page.get_by_role("heading", name=f"Your claim {reference}").wait_for()
        shown = main_headings(page)
        assert [h for h in shown if h in HEADINGS[name]] == HEADINGS[name], (name, shown)
        visit.check(f"tracking-{name}")
        if name == "not-upheld":
            page.get_by_role("link", name="Withdraw the claim").click()
            page.get_by_role("heading", name="Are you sure you want to withdraw the claim?").wait_for()
            visit.check("withdraw-page")


def test_a_group_withdraws_by_keyboard_alone(claims: dict[str, tuple[str, str]], window: Any) -> None:
    reference, link = claims["question-asked"]
    visit = window(320, link, "keyboard")
    page = visit.page

    def tab_to(text: str, limit: int = 60) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            active = page.evaluate("(document.activeElement.innerText || document.activeElement.name || '').trim()")
            if active == text:
                return
        raise AssertionError(f"{text!r} cannot be reached with Tab")

    tab_to("Withdraw the claim")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Are you sure you want to withdraw the claim?").wait_for()
    tab_to("withdraw-reason")
    reason = "The parish lets us use its hall after all."
    page.keyboard.type(reason)
    tab_to("Yes, withdraw the claim")
    page.keyboard.press("Enter")
    page.get_by_text("Your claim has been withdrawn").wait_for()
    page.get_by_text(reason).wait_for()
    assert page.get_by_role("link", name="Withdraw the claim").count() == 0
    visit.check("withdrawn-by-keyboard")
    assert reference in page.url
