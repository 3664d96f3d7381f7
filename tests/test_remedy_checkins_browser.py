"""Did the remedy happen? On a live server whose clock is moved 3, 6 and 12 months after an
upheld claim's resolution is recorded, the notify round queues each check-in once, the real sender
and renderer send it, and the group answers through the real page in a browser (by keyboard, the
first time). "Not in place" opens a follow-up that an admin sees in the console and closes. The
pages are checked with axe-core and for sideways scrolling, and photographed, at 1280, 375 and 320 px."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from guarantee.services import schedule
from tests.helpers import INPUTS, VALID_SUBMISSION
from tests.support.browser import LiveServer, console_sign_in_as, make_officer, officer_token, skip_without_browser
from tests.support.shifted_clock import ShiftedClock
from tests.test_group_links_browser import Browsing, Mail, shifted  # noqa: F401 (the live server's fixture)

pytestmark = skip_without_browser

# Days after the resolution by which each check-in has come (3, 6 and 12 calendar months are at
# most 92, 184 and 366 days).
MOVED = {3: 93, 6: 186, 12: 367}


def queue_check_ins(outbox: Mail) -> int:
    """What the notify worker's round does, on the server's clock."""
    from guarantee.context import unit_of_work

    with outbox.app.app_context(), unit_of_work() as ctx:
        return schedule.queue_scheduled(ctx)["check_ins"]


def check_in_link(outbox: Mail, server: LiveServer) -> str:
    (email,) = [e for e in outbox.deliver() if "check-in" in e.subject]
    (link,) = re.findall(rf"{re.escape(server.url)}/check-in/\S+\?token=\S+", email.text)
    return str(link)


def heading(page: Any) -> str:
    return str(page.get_by_role("heading", level=1).inner_text())


ANSWERS = {
    3: "No: the remedy has not been put in place",
    6: "The remedy is in place, but our initiative is not running now",
    12: "Yes: the remedy is in place and our initiative is running",
}


def press(page: Any, button: str) -> None:
    """Press a button by keyboard: focus it, then Enter."""
    page.get_by_role("button", name=button).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")


def answer_in_a_browser(browser: Any, link: str, months: int, name: str) -> None:
    """Open the e-mail's link in a fresh browser and answer; the 3-month one by keyboard, with the
    answer missing at first. Then the link again: already answered."""
    width = {3: 375, 6: 1280, 12: 320}[months]
    with Browsing(browser, width, f"{name}-{months}m-{width}") as fresh:
        page = fresh.page
        page.goto(link)
        assert heading(page) == "Is your initiative running now, and was the remedy put in place?"
        fresh.visit.check("question")
        if months == 3:
            press(page, "Send your answer")
            assert "Select whether the remedy is in place" in page.locator(".govuk-error-summary").inner_text()
            fresh.visit.check("question-with-error")
            page.get_by_label(ANSWERS[3]).focus()
            page.keyboard.press("Space")
            page.get_by_label("Is there anything else you want to tell us? (optional)").fill("No waiver yet.")
            press(page, "Send your answer")
        else:
            page.get_by_label(ANSWERS[months]).check()
            page.get_by_role("button", name="Send your answer").click()
        assert heading(page) == "Thank you for your answer"
        fresh.visit.check("answered")
        page.goto(link)
        assert heading(page) == "You have already answered this check-in"
        assert ANSWERS[months] in page.locator("main").inner_text()
        fresh.visit.check("already-answered")
        assert fresh.forbidden == []


def test_check_ins_come_3_6_and_12_months_on_and_are_answered_through_the_page(
    shifted: tuple[LiveServer, ShiftedClock, Mail],  # noqa: F811 (the fixture imported above)
    browser: Any,
    fresh_url: str,
    backend: str,
) -> None:
    server, clock, outbox = shifted
    reference = server.api("POST", "/api/v1/claims", VALID_SUBMISSION)["reference"]
    caseworker = officer_token(server, fresh_url, "triage", "reviewer")
    for trigger in ("accept", "uphold", "record_resolution"):
        body = {"trigger": trigger, **INPUTS[trigger]}
        server.api("POST", f"/api/v1/claims/{reference}/transitions", body, caseworker)
    outbox.deliver()
    for months, days in MOVED.items():
        clock.move_to(timedelta(days=days))
        assert queue_check_ins(outbox) == 1
        assert queue_check_ins(outbox) == 0, "queued once, however often the round runs"
        answer_in_a_browser(browser, check_in_link(outbox, server), months, f"{backend}-check-in")

    admin = make_officer(fresh_url, "admin")
    for width in (375, 320, 1280):  # looked at on phones first, then closed at a desk
        with Browsing(browser, width, f"{backend}-remedy-follow-ups-{width}") as console:
            page = console.page
            console_sign_in_as(page, server, admin)
            if width < 641:  # the navigation is behind "Menu" at this width
                page.goto(f"{server.url}/officer/remedy-follow-ups")
            else:
                page.get_by_role("link", name="Remedy follow-ups").click()
            assert heading(page) == "Remedy follow-ups"
            row = page.locator("#follow-ups .govuk-summary-card")
            assert row.count() == 1 and reference in row.inner_text()
            assert "Overdue" in row.inner_text(), "a year on, the 3-month answer's follow-up is overdue"
            console.visit.check("list")
            row.get_by_role("link", name=re.compile("Close this follow-up")).click()
            assert heading(page) == reference
            console.visit.check("one")
            if width < 641:
                continue
            page.get_by_label("What was done").fill("Rang the licensing team: the waiver was signed in May.")
            page.get_by_role("button", name="Close the follow-up").click()
            assert "None open" in page.locator("main").inner_text()
            page.goto(f"{server.url}/officer/claims/{reference}")
            check_ins = page.locator("#check-ins ~ dl").first.inner_text()
            assert all(words in check_ins for words in ANSWERS.values())
            assert "Follow-up closed on" in check_ins
            console.visit.check("claim")
