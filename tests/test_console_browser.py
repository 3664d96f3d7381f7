"""The queue, the team's workload and the e-mail settings in a real browser (Debian's Chromium),
with the demonstration data a newcomer seeds (services/demo.py, as `flask guarantee seed-demo`).

At 1280 and 375 px, measured with element boxes: no reference wraps (its box is one line high),
no title takes more than one line, no word anywhere on the page is broken inside itself, and the
page is exactly as wide as the window; axe-core finds nothing, and each page is photographed into
test-output/screenshots/. Without JavaScript, the sticky action bar is always shown and works, and
so do saving a filter and reassigning an officer's claims.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from guarantee import create_app
from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.services.demo import seed_demo
from tests.support.browser import (
    LiveServer,
    Visit,
    broken_words,
    console_sign_in_as,
    skip_without_browser,
    taller_than_a_line,
)

pytestmark = skip_without_browser


@dataclass(frozen=True)
class Demo:
    admin: tuple[str, str]  # email, password
    triage: tuple[str, str]


@pytest.fixture
def demo(live_server: LiveServer, fresh_url: str, tmp_path: Path) -> Demo:
    """The live server's database, seeded with the demonstration claims and officers."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": fresh_url,
            "SECRET_KEY": "x",
            "GUARANTEE_LOG_JSON": False,
            "GUARANTEE_AUDIT_SIGNING_KEY": str(tmp_path / "seed-signing-key.pem"),
            "GUARANTEE_EVIDENCE_DIR": str(tmp_path / "seed-evidence"),
        }
    )
    with app.app_context():
        with unit_of_work() as ctx:
            seeded = seed_demo(ctx, 60)
        db.engine.dispose()
    logins = {role: (email, password or "") for role, (email, password) in seeded.officers.items()}
    return Demo(admin=logins["admin"], triage=logins["triage"])


def fits(page: Any, label: str) -> None:
    """What the issue asks of every console page at every width, measured with element boxes."""
    assert not broken_words(page), f"{label}: words broken inside themselves: {broken_words(page)}"
    assert not taller_than_a_line(page, "#claims tbody th a"), f"{label}: a reference wraps"
    assert not taller_than_a_line(page, "#claims .app-truncate"), f"{label}: a title or name wraps"
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") == width, f"{label}: the page scrolls sideways"


@pytest.mark.parametrize("width", [1280, 375])
def test_the_queue_team_and_settings_fit_the_screen_with_the_demo_data(
    live_server: LiveServer, visit: Visit, demo: Demo, width: int
) -> None:
    from playwright.sync_api import expect

    page = visit.page
    page.set_viewport_size({"width": width, "height": 900})
    visit.width = width
    console_sign_in_as(page, live_server, *demo.admin)

    # The queue: every open claim, the views with their counts, the table in its box.
    expect(page.get_by_role("link", name=re.compile(r"^My claims \(\d+\)$"))).to_be_visible()
    expect(page.get_by_role("link", name="All open claims")).to_have_attribute("aria-current", "page")
    assert page.locator("#claims tbody tr").count() >= 20
    fits(page, "queue")
    visit.check(f"console-queue-{width}")
    box = page.get_by_role("region", name=re.compile("claims, soonest due first"))
    assert box.get_attribute("tabindex") == "0", "a keyboard can scroll the table's box"

    # Ticking claims brings the bulk actions.
    bar = page.get_by_role("region", name="Actions for the claims you tick", include_hidden=True)
    expect(bar).to_be_hidden()
    boxes = page.locator("#claims tbody input[type=checkbox]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    expect(bar).to_be_visible()
    expect(bar).to_contain_text("2 claims selected")
    expect(bar.get_by_role("button", name="Decline as duplicates")).to_be_visible()
    fits(page, "queue with claims ticked")
    visit.check(f"console-queue-ticked-{width}")
    # A keyboard on a row shows its whole title (a mouse has the tooltip).
    first_title = page.locator("#claims tbody tr").first.locator(".app-truncate").first
    assert first_title.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
    boxes.nth(0).focus()
    page.keyboard.press("Tab")  # to the row's reference
    assert first_title.evaluate("e => getComputedStyle(e).whiteSpace") == "normal"

    # My claims: a view, marked as the page shown.
    page.get_by_role("link", name=re.compile(r"^My claims")).click()
    expect(page.get_by_role("link", name=re.compile(r"^My claims"))).to_have_attribute("aria-current", "page")
    assert page.locator("#claims tbody tr").count() >= 1, "the demo gives its admin claims"

    if width < 641:  # GOV.UK's service navigation folds behind "Menu" on a phone
        page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="Team workload").click()
    expect(page.get_by_role("heading", name="Team workload")).to_be_visible()
    expect(page.get_by_role("rowheader", name="Unassigned")).to_be_visible()
    fits(page, "team")
    visit.check(f"console-team-{width}")

    page.goto(live_server.url + "/officer/settings/email")
    expect(page.get_by_role("group", name="Which e-mails do you want to get?")).to_be_visible()
    page.get_by_label("Answers from groups").uncheck()
    page.get_by_role("button", name="Save e-mail settings").click()
    expect(page.get_by_text("Your e-mail settings are saved.")).to_be_visible()
    expect(page.get_by_label("Answers from groups")).not_to_be_checked()
    fits(page, "settings")
    visit.check(f"console-settings-{width}")


def test_without_javascript_the_bulk_bar_saved_filters_and_reassignment_work_nojs(
    live_server: LiveServer, visit: Visit, demo: Demo
) -> None:
    from playwright.sync_api import expect

    page = visit.page
    console_sign_in_as(page, live_server, *demo.admin)
    expect(page.get_by_role("button", name="Apply filters")).to_be_visible()

    # A filter, applied and saved under a name; it becomes a view.
    page.get_by_label("Region").select_option(label="Wales")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**region=wales**")
    page.get_by_label("Save this filter as").fill("Wales")
    page.get_by_role("button", name="Save filter").click()
    expect(page.get_by_text("Filter saved as “Wales”")).to_be_visible()
    expect(page.get_by_role("link", name="Wales", exact=True)).to_have_attribute("aria-current", "page")
    visit.check("console-queue-saved-filter")
    page.get_by_role("button", name=re.compile("Delete this saved filter")).click()
    expect(page.get_by_text("Your saved filter “Wales” is deleted.")).to_be_visible()

    # The sticky action bar is always shown, and assigns the claims ticked.
    page.goto(live_server.url + "/officer?assignee=none&state=submitted")
    bar = page.get_by_role("region", name="Actions for the claims you tick")
    expect(bar).to_be_visible()
    expect(bar).to_contain_text("For the claims you tick:")
    references = page.locator("#claims tbody th a").all_inner_texts()
    assert len(references) >= 3
    for reference in references[:2]:
        page.get_by_role("checkbox", name=f"Select {reference}").check()
    bar.get_by_label("Assign to").select_option(label="Demo reviewer officer")
    bar.get_by_role("button", name="Assign").click()
    expect(page.get_by_text("2 claims assigned.")).to_be_visible()
    visit.check("console-queue-assigned")

    # Declining as duplicates asks which claim, and why, on a page of its own.
    page.get_by_role("checkbox", name=f"Select {references[2]}").check()
    page.get_by_role("button", name="Decline as duplicates").click()
    expect(page.get_by_role("heading", name="Decline 1 claim as duplicates")).to_be_visible()
    page.get_by_role("button", name="Decline 1 claim as duplicates").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    visit.check("console-decline-duplicates-errors")
    page.get_by_label("Reference of the claim they duplicate").fill(references[0])
    page.get_by_label("Explanation for the groups").fill("The same hall and the same rule as the earlier claim.")
    page.get_by_role("button", name="Decline 1 claim as duplicates").click()
    expect(page.get_by_text("1 claim declined as a duplicate.")).to_be_visible()

    # The team's workload: the reviewer's claims, given to the triage officer.
    page.get_by_role("link", name="Team workload").click()
    expect(page.get_by_role("heading", name="Team workload")).to_be_visible()
    visit.check("console-team")
    page.get_by_role("link", name="Reassign Demo reviewer officer’s claims").click()
    expect(page.get_by_role("heading", name="Reassign Demo reviewer officer’s claims")).to_be_visible()
    ticked = page.locator("#claims tbody input[type=checkbox]:checked").count()
    assert ticked >= 3, "every open claim they hold is ticked"
    page.get_by_label("Who should have the ticked claims?").select_option(label="Demo triage officer")
    visit.check("console-reassign")
    page.get_by_role("button", name="Reassign the ticked claims").click()
    expect(
        page.get_by_text(f"{ticked} claims moved from Demo reviewer officer to Demo triage officer.")
    ).to_be_visible()
    assert "Reassign Demo reviewer officer" not in page.content()
