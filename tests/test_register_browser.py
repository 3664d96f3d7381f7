"""The decision register in Chromium, at a desk and on a phone: axe finds nothing on the list or on a
statement's page, nothing scrolls sideways, the filters work without JavaScript, and a
screenshot of each is kept (test-output/screenshots/; the desk one is the README's)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask import Flask

from guarantee.context import unit_of_work
from tests.support.browser import LiveServer, Visit, skip_without_browser
from tests.support.register import showcase

pytestmark = skip_without_browser
# Where a developer asks for them: copies of the screenshots (docs/decisions.png comes from one).
SHOTS = os.environ.get("GUARANTEE_REGISTER_SHOTS")


def keep(visit: Visit, name: str) -> None:
    """The first screenful (the README's picture) and the whole page."""
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        visit.page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))
        visit.page.screenshot(path=str(Path(SHOTS) / f"{name}-full.png"), full_page=True)


@pytest.mark.parametrize("width", [1280, 375, 320])
def test_the_register_and_a_statement_read_at_a_desk_and_on_a_phone(
    app: Flask, live_server: LiveServer, visit: Visit, width: int
) -> None:
    with app.app_context(), unit_of_work() as ctx:
        made = showcase(ctx.session)
        latest_in_wales, withdrawn = made[12].number or "", made[2].number or ""
    page = visit.page
    page.set_viewport_size({"width": width, "height": 900})
    visit.width = width
    page.goto(live_server.url + "/decisions")
    page.get_by_role("heading", name="How we keep this anonymous").wait_for()
    visit.check(f"decisions-{width}")
    keep(visit, f"decisions-{width}")

    # The filters, by keyboard: a region, then Show decisions.
    page.get_by_label("Region or nation").select_option("wales")
    page.get_by_role("button", name="Show decisions").press("Enter")
    page.get_by_role("heading", name="5 decisions match your filters").wait_for()
    assert "region=wales" in page.url

    page.get_by_role("link", name=latest_in_wales).click()
    page.get_by_role("heading", name=latest_in_wales).wait_for()
    visit.check(f"statement-{width}")
    keep(visit, f"statement-{width}")

    page.goto(live_server.url + f"/decisions/{withdrawn}")
    page.get_by_text("This statement was withdrawn in").wait_for()
    visit.check(f"withdrawn-{width}")
    keep(visit, f"withdrawn-{width}")

    page.goto(live_server.url + "/decisions/data-dictionary")
    page.get_by_role("heading", name="What the published data means").wait_for()
    visit.check(f"dictionary-{width}")
    keep(visit, f"dictionary-{width}")


def test_the_filters_work_nojs_without_javascript(app: Flask, live_server: LiveServer, visit: Visit) -> None:
    with app.app_context(), unit_of_work() as ctx:
        showcase(ctx.session)
    page = visit.page
    page.goto(live_server.url + "/decisions")
    page.get_by_label("Outcome").select_option("not_upheld")
    page.get_by_role("button", name="Show decisions").click()
    page.get_by_role("heading", name="6 decisions match your filters").wait_for()
    visit.check("decisions-filtered-nojs")
