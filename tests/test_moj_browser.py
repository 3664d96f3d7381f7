"""The console's components in a real browser (Debian's Chromium, driven by Playwright): one console
page that uses every MOJ Frontend port, the sticky action bar and every state tag
(tests/templates/moj_showcase.html, served by the app under test on a route this test adds).

At 1280 and 375 px, with and without JavaScript: axe-core finds nothing (WCAG 2.2 A/AA), the page
never scrolls sideways, the Content-Security-Policy is kept, and a screenshot is written to
test-output/screenshots/. Then what each component does: the filter panel shows and hides and is a
GET form, the sort links and buttons, the button menu, and the sticky action bar that appears
once claims are ticked.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask, render_template, request
from jinja2 import ChoiceLoader, FileSystemLoader
from werkzeug.serving import make_server

from guarantee import create_app
from guarantee.clock import UK
from tests.conftest import _app_config
from tests.support.browser import AXE, WCAG, _browser_missing, screenshot
from workflows import STATE_LABELS, STATES

pytestmark = pytest.mark.skipif(_browser_missing() is not None, reason=_browser_missing() or "")
BUILT = Path(__file__).resolve().parent.parent / "guarantee" / "static" / "build" / "moj-frontend.min.js"
if not BUILT.exists():
    pytestmark = pytest.mark.skip(reason="the assets are not built (node assets/build.mjs)")

PAGE = "/officer/_test/components"
TITLES = ["Residents' kitchen", "Community garden on the old bowling green", "Repair café", "Youth football"]


def _claims() -> list[dict[str, Any]]:
    """22 claims, enough rows for the table to scroll past the bottom of the window."""
    return [
        {
            "reference": f"CPG-2026-{n:06d}",
            "title": TITLES[n % len(TITLES)],
            "state": STATES[n % len(STATES)],
            "due": date(2026, 12, 1) + timedelta(days=(n * 7) % 30),
        }
        for n in range(1, 23)
    ]


def _showcase() -> str:
    sort = request.args.get("sort", "due")
    chosen = request.args.getlist("state")
    claims = sorted(_claims(), key=lambda c: c[sort] if sort in ("reference", "due") else c["due"])
    at = datetime(2026, 11, 2, 10, 0, tzinfo=UK)
    timeline = [
        {
            "label": {"text": "Claim upheld"},
            "text": "The council will waive the registration for the hall on Thursdays.",
            "byline": {"text": "Ann Officer"},
            "datetime": {"timestamp": at + timedelta(days=9, hours=5), "type": "datetime"},
        },
        {
            "label": {"html": 'Question answered <strong class="govuk-tag govuk-tag--grey">Internal</strong>'},
            "text": "We cook on Thursday evenings only.",
            "byline": {"text": "the group"},
            "datetime": {"timestamp": at + timedelta(days=3), "type": "shortdatetime"},
        },
        {"label": {"text": "Claim filed"}, "text": "By Thursday Table.", "datetime": {"timestamp": at, "type": "date"}},
    ]
    return render_template(
        "moj_showcase.html",
        claims=claims,
        states=STATES,
        chosen=chosen,
        selected=[  # each filter in use, as a link that removes it
            {"text": STATE_LABELS[s], "href": "?" + urlencode([("state", o) for o in chosen if o != s])} for s in chosen
        ],
        q=request.args.get("q", ""),
        sort=sort,
        view=request.args.get("view", "mine"),
        timeline=timeline,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app under test, with the showcase on a route of this test's own, served on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("moj")
    app: Flask = create_app(
        _app_config(
            f"sqlite:///{folder / 'unused.sqlite3'}",
            GUARANTEE_AUDIT_SIGNING_KEY=str(folder / "signing-key.pem"),
            GUARANTEE_EVIDENCE_DIR=str(folder / "evidence"),
        )
    )
    app.jinja_env.loader = ChoiceLoader(
        [FileSystemLoader(str(Path(__file__).parent / "templates")), app.jinja_env.loader]
    )
    app.add_url_rule(PAGE, "moj_showcase", _showcase, methods=["GET"])
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    http.server_close()
    thread.join(timeout=10)


def _open(browser: Any, server: str, width: int, javascript: bool, query: str = "") -> tuple[Any, list[str]]:
    context = browser.new_context(viewport={"width": width, "height": 800}, java_script_enabled=javascript)
    if javascript:
        context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(server + PAGE + query)
    return page, problems


@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_every_component_is_accessible_fits_the_width_and_is_photographed(
    browser: Any, server: str, width: int, javascript: bool
) -> None:
    page, problems = _open(browser, server, width, javascript, "?state=submitted&state=upheld")
    if javascript:
        result = page.evaluate("async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
        found = [f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in result["violations"]]
        assert not found, "axe-core:\n" + "\n".join(found)
        page.get_by_role("checkbox", name="Select CPG-2026-000001").check()
        page.get_by_role("checkbox", name="Select CPG-2026-000002").check()
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
    screenshot(page, f"moj-components-{'js' if javascript else 'nojs'}-{width}")
    if javascript:  # the page as it first is, at the top of the window
        screenshot(page, f"moj-components-js-{width}-window", full_page=False)
    assert not problems, f"the browser's console: {problems}"
    page.context.close()


def test_without_javascript_the_filters_show_and_apply_filters_sends_them_in_the_address(
    browser: Any, server: str
) -> None:
    page, _ = _open(browser, server, 1280, javascript=False, query="?sort=reference")
    page.get_by_label("Reference or title").fill("kitchen")
    page.get_by_label("Under review").check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**state=under_review**")
    assert "q=kitchen" in page.url and "sort=reference" in page.url, "the sort order is kept"
    assert page.get_by_role("link", name="Remove this filter Under review").is_visible()
    page.context.close()


def test_without_javascript_the_sticky_bar_is_always_shown_and_sorting_is_by_links(browser: Any, server: str) -> None:
    page, _ = _open(browser, server, 1280, javascript=False)
    bar = page.get_by_role("region", name="Actions for the claims you tick")
    assert bar.is_visible()
    assert bar.get_by_text("For the claims you tick:").is_visible()
    assert page.locator("th[aria-sort=ascending]").inner_text().startswith("Due")
    page.get_by_role("link", name="Reference").click()
    page.wait_for_url("**sort=reference")
    assert page.locator("th[aria-sort=ascending]").inner_text().startswith("Reference")
    page.context.close()


def test_the_sticky_bar_appears_once_claims_are_ticked_and_counts_them(browser: Any, server: str) -> None:
    page, problems = _open(browser, server, 1280, javascript=True)
    bar = page.get_by_role("region", name="Actions for the claims you tick", include_hidden=True)
    assert bar.is_hidden()
    page.get_by_role("checkbox", name="Select CPG-2026-000003").check()
    assert bar.is_visible()
    assert bar.get_by_text("1 claim selected").is_visible()
    page.get_by_role("checkbox", name="Select CPG-2026-000004").check()
    assert bar.get_by_text("2 claims selected").is_visible()
    assert page.get_by_role("status").filter(has_text="2 claims selected").count() == 1, "screen readers are told"
    # Sticky: at the top of a table taller than the window, the bar sits on the window's bottom edge.
    page.evaluate("window.scrollTo(0, 0)")
    box = bar.bounding_box()
    assert abs(box["y"] + box["height"] - 800) <= 1, box
    page.get_by_role("checkbox", name="Select CPG-2026-000003").uncheck()
    page.get_by_role("checkbox", name="Select CPG-2026-000004").uncheck()
    assert bar.is_hidden()
    assert not problems
    page.context.close()


def test_with_javascript_headers_sort_the_rows_on_the_page(browser: Any, server: str) -> None:
    page, _ = _open(browser, server, 1280, javascript=True)
    header = page.locator("th", has=page.get_by_role("button", name="Reference"))
    page.get_by_role("button", name="Reference").click()
    assert header.get_attribute("aria-sort") == "ascending"
    first = page.locator("#claims tbody tr").first.locator("td").nth(1)
    assert first.inner_text() == "CPG-2026-000001"
    page.get_by_role("button", name="Reference").click()
    assert header.get_attribute("aria-sort") == "descending"
    assert first.inner_text() == "CPG-2026-000022"
    page.context.close()


def test_on_a_wide_screen_hide_filter_gives_the_list_the_whole_width(browser: Any, server: str) -> None:
    page, _ = _open(browser, server, 1280, javascript=True)
    table = page.locator(".moj-filter-layout__content")
    beside = table.bounding_box()["width"]
    assert page.get_by_role("heading", name="Filter", exact=True).is_visible()
    page.get_by_role("button", name="Hide filter").click()
    assert page.get_by_role("heading", name="Filter", exact=True).is_hidden()
    whole = table.bounding_box()["width"]
    assert whole > beside + 250, (beside, whole)
    assert whole == page.locator(".moj-filter-layout").bounding_box()["width"]
    page.get_by_role("button", name="Show filter").click()
    assert page.get_by_role("heading", name="Filter", exact=True).is_visible()
    page.context.close()


def test_on_a_phone_the_filters_wait_behind_show_filter(browser: Any, server: str) -> None:
    page, _ = _open(browser, server, 375, javascript=True)
    assert page.get_by_role("heading", name="Filter", exact=True).is_hidden()
    page.get_by_role("button", name="Show filter").click()
    assert page.get_by_label("Reference or title").is_visible()
    page.get_by_role("button", name="Close").click()
    assert page.get_by_label("Reference or title").is_hidden()
    page.context.close()


def test_the_button_menu_folds_its_actions_behind_one_button(browser: Any, server: str) -> None:
    page, _ = _open(browser, server, 1280, javascript=True)
    toggle = page.get_by_role("button", name="Claim actions")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert page.get_by_role("button", name="Do not uphold").is_hidden()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.get_by_role("button", name="Do not uphold").is_visible()
    page.context.close()
