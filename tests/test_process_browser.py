"""The "How a claim is handled" page in Chromium at a desk and on a phone: axe finds nothing, nothing
scrolls sideways, and a screenshot of each is kept (test-output/screenshots/)."""

from __future__ import annotations

import pytest

from tests.support.browser import LiveServer, Visit


@pytest.mark.parametrize("width", [1280, 375])
def test_the_process_page_reads_at_a_desk_and_on_a_phone(live_server: LiveServer, visit: Visit, width: int) -> None:
    visit.page.set_viewport_size({"width": width, "height": 900})
    visit.width = width
    visit.page.goto(live_server.url + "/process")
    visit.page.get_by_role("heading", name="Reopen").wait_for()
    visit.page.get_by_text("Why the claim is reopened (seen only by officers)").wait_for()
    visit.check(f"process-{width}")
