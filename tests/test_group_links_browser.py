"""Every link a group receives opens its claim, in a real browser, days and weeks later (issue 19).

A claim goes through its life on a live gunicorn server (filed, accepted, a question asked and
answered, not upheld, appealed, the appeal allowed), through the API as officers and the group use
it. Every e-mail the group receives is sent by the real sender and renderer. Then each e-mail's
link is opened in a fresh browser (no cookie, no history) with the service's clock moved 2, 10
and 40 days on: each time it lands on the claim, or on the page that sends a fresh link, whose
button works and whose e-mailed link then opens the claim. No page on the way is a 403.
The pages a link can lead to are checked with axe-core and photographed at 1280 and 375 px.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from guarantee import mail
from guarantee.clock import UK
from guarantee.services import sender
from tests.helpers import INPUTS, VALID_SUBMISSION
from tests.support.browser import (
    AXE,
    LiveServer,
    Visit,
    officer_token,
    skip_without_browser,
    start_live_server,
    stop_live_server,
)
from tests.support.shifted_clock import ShiftedClock
from tests.test_group_links import subjects_of_a_life

pytestmark = skip_without_browser

GROUP_EMAIL = VALID_SUBMISSION["group"]["email"]


class Mail:
    """The notification sender, run against the server's database, with the server's clock and
    address; it keeps what it sent."""

    def __init__(self, database_url: str, server: LiveServer, clock: ShiftedClock) -> None:
        from guarantee import create_app

        self.app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": database_url,
                "SECRET_KEY": "x",
                "GUARANTEE_LOG_JSON": False,
                "GUARANTEE_BASE_URL": server.url,
                "GUARANTEE_CLOCK": clock,
            }
        )
        self.sent: list[sender.Email] = []

    def send(self, email: sender.Email) -> None:
        self.sent.append(email)

    def deliver(self) -> list[sender.Email]:
        """Send what is queued; what the group received this time."""
        from guarantee.context import unit_of_work

        before = len(self.sent)
        with self.app.app_context():
            sender.send_batch(unit_of_work, self, mail.render, limit=500)
        return [e for e in self.sent[before:] if e.to == GROUP_EMAIL]

    def close(self) -> None:
        from guarantee.extensions import db

        with self.app.app_context():
            db.engine.dispose()


def link_in(email: sender.Email, server: LiveServer) -> str:
    (found,) = re.findall(rf"{re.escape(server.url)}/track/\S+\?token=\S+", email.text)
    return str(found)


@pytest.fixture
def shifted(fresh_url: str, tmp_path: Path) -> Iterator[tuple[LiveServer, ShiftedClock, Mail]]:
    clock = ShiftedClock(tmp_path / "clock-shift")
    clock.move_to(timedelta(0))
    server = start_live_server(
        fresh_url,
        tmp_path,
        application="tests.support.shifted_clock:app",
        GUARANTEE_TEST_CLOCK_FILE=str(clock.path),
        GUARANTEE_TOKEN_RATE_LIMIT="1000 per minute",
    )
    outbox = Mail(fresh_url, server, clock)
    yield server, clock, outbox
    outbox.close()
    stop_live_server(server)


class Browsing:
    """A fresh browser context at one width, every response it gets noted."""

    def __init__(self, browser: Any, width: int, name: str) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.context.add_init_script(path=str(AXE))
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.responses: list[tuple[int, str]] = []
        self.page.on("response", lambda r: self.responses.append((r.status, r.url)))
        self.visit = Visit(self.page, name, width=width)

    def __enter__(self) -> Browsing:
        return self

    def __exit__(self, *_: object) -> None:
        self.context.close()

    @property
    def forbidden(self) -> list[str]:
        return [url for status, url in self.responses if status == 403]


def lands_on_claim(page: Any, server: LiveServer, reference: str) -> bool:
    return bool(
        page.url == f"{server.url}/track/{reference}"
        and page.get_by_role("heading", level=1).inner_text() == f"Your claim {reference}"
    )


def test_every_link_a_group_receives_opens_its_claim_2_10_and_40_days_on(
    shifted: tuple[LiveServer, ShiftedClock, Mail], browser: Any, fresh_url: str, backend: str
) -> None:
    server, clock, outbox = shifted
    filed = server.api("POST", "/api/v1/claims", VALID_SUBMISSION)
    reference, tracking = filed["reference"], filed["tracking_token"]
    caseworker = officer_token(server, fresh_url, "triage", "reviewer")
    panel = officer_token(server, fresh_url, "appeal_panel")
    for trigger, who in [
        ("accept", caseworker),
        ("request_information", caseworker),
        ("provide_information", tracking),
        ("not_uphold", caseworker),
        ("appeal", tracking),
        ("allow_appeal", panel),
    ]:
        server.api("POST", f"/api/v1/claims/{reference}/transitions", {"trigger": trigger, **INPUTS[trigger]}, who)
    received = outbox.deliver()
    assert [e.subject for e in received] == subjects_of_a_life(reference)

    outcomes: dict[int, list[str]] = {}
    for days in (2, 10, 40):
        for number, email in enumerate(received):
            # 11 minutes apart, so that each press of "Send me a new link" sends one.
            clock.move_to(timedelta(days=days, minutes=11 * number))
            still_works = clock.now() < end_of(works_until(email))  # as the e-mail says
            with Browsing(browser, 375, f"{backend}-links-{days}d-{number + 1}") as fresh:
                fresh.page.goto(link_in(email, server))
                if still_works:
                    assert lands_on_claim(fresh.page, server, reference), (email.subject, days, fresh.page.url)
                    outcomes.setdefault(days, []).append("claim")
                else:
                    assert fresh.page.get_by_role("heading", level=1).inner_text() == "This link has ended"
                    fresh.page.get_by_role("button", name="Send me a new link").click()
                    assert fresh.page.get_by_role("heading", level=1).inner_text() == "Check your email"
                    (new_link,) = outbox.deliver()
                    assert new_link.subject == f"A new link to your claim {reference}"
                    with Browsing(browser, 375, f"{backend}-new-link") as another:
                        another.page.goto(link_in(new_link, server))
                        assert lands_on_claim(another.page, server, reference), another.page.url
                        assert another.forbidden == []
                    outcomes.setdefault(days, []).append("a new link, which opened the claim")
                assert fresh.forbidden == [], f"{email.subject}, {days} days on"
    assert outcomes[2] == outcomes[10] == ["claim"] * 7
    # 40 days on, the links have ended (20 working days are at most 33 days, Christmas included),
    # but for the one in the e-mail that gives a later date: the appeal allowed, whose change is
    # due within 40 working days.
    assert outcomes[40] == ["a new link, which opened the claim"] * 6 + ["claim"]


def works_until(email: sender.Email) -> date:
    found = re.search(r"works until (\d{1,2} \w+ \d{4})", email.text)
    assert found, email.text
    return datetime.strptime(found[1], "%d %B %Y").date()


def end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UK)


@pytest.mark.parametrize("width", [1280, 375])
def test_the_pages_a_link_can_lead_to_are_accessible_and_say_what_to_do(
    shifted: tuple[LiveServer, ShiftedClock, Mail], browser: Any, backend: str, width: int
) -> None:
    server, clock, outbox = shifted
    filed = server.api("POST", "/api/v1/claims", VALID_SUBMISSION)
    reference = filed["reference"]
    (submitted,) = outbox.deliver()
    name = f"{backend}-link-pages-{width}"
    with Browsing(browser, width, name) as fresh:
        visit = fresh.visit
        fresh.page.goto(f"{server.url}/track/{reference}")  # no session in this browser
        assert fresh.page.get_by_role("heading", level=1).inner_text() == "Open your tracking link again"
        visit.check("open-your-link-again")
        fresh.page.get_by_role("button", name="Ask for a new tracking link").click()
        assert fresh.page.get_by_label("Claim reference").input_value() == reference
        visit.check("lost-link-filled-in")

        fresh.page.goto(f"{server.url}/track/{reference}?token={'x' * 43}")
        assert fresh.page.get_by_role("heading", level=1).inner_text() == "This tracking link does not work"
        visit.check("link-does-not-work")

        clock.move_to(timedelta(days=40))
        fresh.page.goto(link_in(submitted, server))
        assert fresh.page.get_by_role("heading", level=1).inner_text() == "This link has ended"
        visit.check("link-ended")
        fresh.page.keyboard.press("Tab")  # by keyboard: the button is reachable and works
        button = fresh.page.get_by_role("button", name="Send me a new link")
        button.focus()
        with fresh.page.expect_navigation():
            fresh.page.keyboard.press("Enter")
        assert fresh.page.get_by_role("heading", level=1).inner_text() == "Check your email"
        visit.check("new-link-sent")
    (fresh_link,) = outbox.deliver()
    assert fresh_link.subject == f"A new link to your claim {reference}"
