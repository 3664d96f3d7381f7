"""A group's data rights in a real browser, on a live server: from its tracking page the group sees
its data as a page, downloads it as a JSON file and asks for its details to be erased; in the
console, officers see the request in the Data rights list with its one-month clock, an admin
carries it out, and the claim's page still shows what was decided. Every page is checked with
axe-core and for sideways scrolling, and photographed, at 320, 375 and 1280 px."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.helpers import INPUTS, VALID_SUBMISSION
from tests.support.browser import LiveServer, console_sign_in_as, make_officer, officer_token, skip_without_browser
from tests.support.shifted_clock import ShiftedClock
from tests.test_group_links_browser import Browsing, Mail, shifted  # noqa: F401 (the live server's fixture)

pytestmark = skip_without_browser


def heading(page: Any) -> str:
    return str(page.get_by_role("heading", level=1).inner_text())


def decided_claim(server: LiveServer, fresh_url: str, outbox: Mail) -> tuple[str, str]:
    """A claim filed and upheld, its e-mails sent: its reference and tracking link's token."""
    filed = server.api("POST", "/api/v1/claims", VALID_SUBMISSION)
    caseworker = officer_token(server, fresh_url, "triage", "reviewer")
    for trigger in ("accept", "uphold"):
        body = {"trigger": trigger, **INPUTS[trigger]}
        server.api("POST", f"/api/v1/claims/{filed['reference']}/transitions", body, caseworker)
    outbox.deliver()
    return filed["reference"], filed["tracking_token"]


def group_pages(browser: Any, server: LiveServer, reference: str, token: str, *, width: int, name: str) -> None:
    """The group's data rights pages, seen; at 1280 px, the JSON downloaded and erasure asked for."""
    with Browsing(browser, width, f"{name}-{width}") as group:
        page = group.page
        page.goto(f"{server.url}/track/{reference}?token={token}")
        page.get_by_role("link", name="See or download everything we hold about this claim").click()
        assert heading(page) == "Your data"
        group.visit.check("your-data")
        page.get_by_role("button", name="Show your data").click()
        assert heading(page) == "Everything we hold about your claim"
        main = page.locator("main").inner_text()
        assert VALID_SUBMISSION["group"]["email"] in main and "Claim upheld" in main
        group.visit.check("copy")
        page.goto(f"{server.url}/track/{reference}/erase")
        assert heading(page) == "Ask us to erase your contact details and evidence"
        group.visit.check("erase")
        if width == 1280:
            page.goto(f"{server.url}/track/{reference}/your-data")
            with page.expect_download() as download:
                page.get_by_role("button", name="Download it as a JSON file").click()
            data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
            assert data["reference"] == reference and data["messages"]
            page.goto(f"{server.url}/track/{reference}/erase")
            page.get_by_role("button", name="Yes, erase my contact details and evidence").click()
            assert heading(page).startswith("We have your request to erase your details")
            group.visit.check("asked")
        assert group.forbidden == []


def answer_an_access_request(
    browser: Any, server: LiveServer, admin: str, reference: str, *, width: int, name: str
) -> None:
    """A request by post, recorded from the claim's page (at 1280 px), answered with a copy."""
    with Browsing(browser, width, f"{name}-{width}") as console:
        page = console.page
        console_sign_in_as(page, server, admin)
        if width == 1280:
            page.goto(f"{server.url}/officer/claims/{reference}/data-rights")
            page.get_by_label("A copy of their data").check()
            page.get_by_label("Post").check()
            page.get_by_role("button", name="Record the request").click()
            assert "The request is recorded" in page.locator("main").inner_text()
        else:
            page.goto(f"{server.url}/officer/data-rights")
            page.locator("#done-requests").get_by_role("link", name=reference).click()
        assert heading(page) == "A copy of their data"
        console.visit.check("request")
        if width == 1280:
            page.get_by_role("button", name="Show the group's data").click()
            assert heading(page) == "Everything we hold about the claim for its group"
            assert VALID_SUBMISSION["group"]["email"] in page.locator("main").inner_text()
            console.visit.check("copy")


def test_a_group_gets_its_data_and_asks_for_erasure_and_an_admin_erases(
    shifted: tuple[LiveServer, ShiftedClock, Mail],  # noqa: F811 (the fixture imported above)
    browser: Any,
    fresh_url: str,
    backend: str,
) -> None:
    server, _, outbox = shifted
    reference, token = decided_claim(server, fresh_url, outbox)
    for width in (320, 375, 1280):
        group_pages(browser, server, reference, token, width=width, name=f"{backend}-data-rights-group")
    other, _ = decided_claim(server, fresh_url, outbox)

    admin = make_officer(fresh_url, "admin")
    for width in (375, 320, 1280):
        with Browsing(browser, width, f"{backend}-data-rights-console-{width}") as console:
            page = console.page
            console_sign_in_as(page, server, admin)
            if width < 641:  # the navigation is behind "Menu" at this width
                page.goto(f"{server.url}/officer/data-rights")
            else:
                page.get_by_role("link", name="Data rights").click()
            assert heading(page) == "Data rights"
            card = page.locator("#open-requests .govuk-summary-card")
            assert card.count() == 1 and reference in card.inner_text() and "days left" in card.inner_text()
            console.visit.check("list")
            card.get_by_role("link", name=re.compile("Erase their contact details")).click()
            assert heading(page) == "Erase their contact details and evidence"
            console.visit.check("request")
            page.goto(f"{server.url}/officer/claims/{other}/data-rights")
            console.visit.check("record")
            page.goto(f"{server.url}/officer/claims/{other}/erase")
            console.visit.check("erase-now")
            if width < 1280:
                continue
            page.goto(f"{server.url}/officer/data-rights")
            page.locator("#open-requests").get_by_role("link", name=re.compile("Erase their contact details")).click()
            page.get_by_role("button", name="Erase contact details and evidence").click()
            assert "The group's contact details and evidence were erased" in page.locator("main").inner_text()
            console.visit.check("erased")
            page.goto(f"{server.url}/officer/claims/{reference}")
            summary = page.locator("main").inner_text()
            assert "The group's contact details were erased on" in summary and "Upheld" in summary
            console.visit.check("claim")
    for width in (1280, 375):
        answer_an_access_request(browser, server, admin, other, width=width, name=f"{backend}-data-rights-access")
    # The group's link has ended.
    with Browsing(browser, 375, f"{backend}-data-rights-after") as group:
        group.page.goto(f"{server.url}/track/{reference}?token={token}")
        assert heading(group.page) == "This link has ended"
