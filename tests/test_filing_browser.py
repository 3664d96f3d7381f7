"""The claim form's question pages in Chromium: each fits in two screens at 1280 px, reads at
375 and 320 px, passes axe-core, and keeps its answers on the server through a refresh, the
back button, a closed tab and a lost connection, with JavaScript on and off.

(The whole journey, by mouse and by keyboard, is in test_browser.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from guarantee.public.forms import PAGES
from tests.support.browser import AXE, LiveServer, Visit, skip_without_browser
from tests.support.filing import answer_shown_questions, continue_through_pages

pytestmark = skip_without_browser

TYPED = {
    "Name of your group": "Thursday Table",
    "Your full name": "Sam Browser-Testperson",
    "Email address": "sam.browser@example.org",
    "Phone number (optional)": "01632 960 001",
    "Name of your initiative": "Residents' kitchen",
    "What does your initiative do?": "Residents cook and eat together every Thursday in the community hall.",
    "How many people take part? (optional)": "30",
    "Which rule or regulation blocks you?": "Food premises registration",
    "Who makes you follow it?": "District council",
    "How does it stop your initiative?": "The hall cannot be registered as a food business, so we cannot cook.",
}
CHOSEN = {
    "Which area does your initiative work in?": "Community safety",
    "Where is your initiative?": "North West (England)",
    "What kind of rule is it?": "Food hygiene",
    "What are you asking for?": "Clarification: guidance saying what the rule really requires",
    "Can we email you about your claim?": "Yes",
    "Can we publish an anonymised statement of our decision?": "Yes",
}
SCREEN = {"width": 1280, "height": 800}


def _visit(browser: Any, backend: str, width: int, *, javascript: bool = True) -> Visit:
    context = browser.new_context(viewport={"width": width, "height": 800}, java_script_enabled=javascript)
    if javascript:
        context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.set_default_timeout(15_000)
    visit = Visit(page, f"{backend}-filing-{width}", javascript=javascript, width=width)
    page.on(
        "console", lambda msg: visit.csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None
    )
    return visit


@pytest.fixture
def wide(browser: Any, backend: str) -> Iterator[Visit]:
    visit = _visit(browser, backend, 1280)
    yield visit
    visit.page.context.close()


@pytest.fixture
def phone(browser: Any, backend: str) -> Iterator[Visit]:
    visit = _visit(browser, backend, 375)
    yield visit
    visit.page.context.close()


def height(page: Any) -> int:
    tall: int = page.evaluate("document.documentElement.scrollHeight")
    return tall


def progress(page: Any) -> str:
    told: str = page.locator("#progress").inner_text()
    return told


def test_every_question_page_fits_in_two_screens_at_1280_px_and_passes_axe(
    live_server: LiveServer, wide: Visit
) -> None:
    page = wide.page
    page.goto(live_server.url + "/claims/new")
    seen = []

    def measure(label: str) -> None:
        wide.check(label)
        seen.append((progress(page), height(page)))

    continue_through_pages(page, TYPED, CHOSEN, measure)

    assert [told for told, _ in seen] == [f"Step {n} of {len(PAGES)}" for n in range(1, len(PAGES) + 1)]
    too_tall = [(told, tall) for told, tall in seen if tall > 2 * SCREEN["height"]]
    assert not too_tall, f"pages taller than two screens at 1280 x 800: {too_tall}"
    wide.check("check-answers")


def test_every_question_page_reads_on_a_phone_with_its_errors(live_server: LiveServer, phone: Visit) -> None:
    page = phone.page
    for question in PAGES:
        page.goto(f"{live_server.url}/claims/new/{question.slug}")
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("heading", name="There is a problem").wait_for()
        phone.check(f"errors-{question.slug}")
    page.goto(live_server.url + "/claims/new")
    continue_through_pages(page, TYPED, CHOSEN, phone.check)
    phone.check("check-answers")
    # Seven days pass with the check page open (the cookie is gone): filing says what to do.
    page.context.clear_cookies()
    page.get_by_role("button", name="File claim").click()
    page.get_by_role("heading", name="Your answers were not found").wait_for()
    phone.check("answers-not-found")
    page.get_by_role("button", name="Start a new claim").click()
    page.wait_for_url("**/claims/new/group")


def _answers_survive(visit: Visit, server: LiveServer) -> None:
    page = visit.page
    page.goto(server.url + "/claims/new")
    assert page.get_by_role("link", name="Back").get_attribute("href") == "/"
    answer_shown_questions(page, TYPED, CHOSEN)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/claims/new/contact")
    assert progress(page) == f"Step 2 of {len(PAGES)}"
    answer_shown_questions(page, TYPED, CHOSEN)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/claims/new/initiative")

    # The browser's back button, then a refresh: the answers come from the server.
    page.go_back()
    page.reload()
    assert page.get_by_label("Email address", exact=True).input_value() == TYPED["Email address"]
    assert page.get_by_role("group", name="Can we email you about your claim?").get_by_label("Yes").is_checked()
    # The page's own back link.
    page.get_by_role("link", name="Back").click()
    page.wait_for_url("**/claims/new/group")
    assert page.get_by_label("Name of your group").input_value() == TYPED["Name of your group"]
    visit.check("group-kept")

    # The connection drops as the next page is sent: nothing sent before is lost.
    page.goto(server.url + "/claims/new/initiative")
    answer_shown_questions(page, TYPED, CHOSEN)
    page.context.set_offline(True)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    page.context.set_offline(False)

    # The tab is closed; a new one opens the form again.
    page.close()
    again = visit.page = page.context.new_page()
    again.goto(server.url + "/claims/new/contact")
    assert again.get_by_label("Email address", exact=True).input_value() == TYPED["Email address"]
    again.goto(server.url + "/claims/new/initiative")
    assert again.get_by_label("Name of your initiative").input_value() == "", "never sent, so not kept"
    continue_through_pages(again, TYPED, CHOSEN)
    words = again.locator("main").inner_text()
    assert TYPED["Name of your group"] in words and TYPED["How does it stop your initiative?"] in words

    # Changing an answer returns to the check page.
    again.get_by_role("link", name="Change email address").click()
    again.wait_for_url("**/claims/new/contact?change=check*")
    assert again.get_by_role("link", name="Back").get_attribute("href") == "/claims/new/check"
    again.get_by_label("Email address", exact=True).fill("tables@example.org")
    again.get_by_role("button", name="Continue").click()
    again.wait_for_url("**/claims/new/check")
    assert "tables@example.org" in again.locator("main").inner_text()
    again.get_by_role("button", name="File claim").click()
    again.get_by_role("heading", name="Claim filed").wait_for()
    visit.check("filed")


def test_answers_survive_a_refresh_the_back_button_and_a_lost_connection(live_server: LiveServer, visit: Visit) -> None:
    _answers_survive(visit, live_server)


def test_answers_survive_a_refresh_the_back_button_and_a_lost_connection_nojs(
    live_server: LiveServer, visit: Visit
) -> None:
    _answers_survive(visit, live_server)
