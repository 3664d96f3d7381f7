"""The legal pages in a real browser (issue 21): each passes axe-core and fits a 320 px phone, the
footer of a public page and of a console page links to them, and the cookies page lists exactly
the cookies a browser receives when a group files and tracks a claim, an officer signs in and
someone presses the "English | Cymraeg" toggle."""

from __future__ import annotations

from typing import Any

from tests.support.browser import (
    AXE,
    SCREENSHOTS,
    TAKE_SCREENSHOTS,
    LiveServer,
    Visit,
    console_sign_in_as,
    make_officer,
    skip_without_browser,
)
from tests.support.filing import continue_through_pages
from tests.test_filing_browser import CHOSEN, TYPED

pytestmark = skip_without_browser

PAGES = {
    "accessibility": ("/accessibility", "Accessibility statement for the Co-production Guarantee"),
    "privacy": ("/privacy", "Privacy notice"),
    "cookies": ("/cookies", "Cookies"),
    "contact": ("/contact", "Contact us"),
}
FOOTER_LINKS = ["Accessibility statement", "Cookies", "Privacy", "Contact"]


def test_each_legal_page_passes_axe_and_fits_a_phone(live_server: LiveServer, visit: Visit) -> None:
    page = visit.page
    for name, (path, heading) in PAGES.items():
        page.goto(live_server.url + path)
        page.get_by_role("heading", level=1, name=heading).wait_for()
        assert page.locator(".app-setting-to-set").count() == (0 if name == "cookies" else len(_marks(page)))
        visit.check(f"legal-{name}")


def test_each_legal_page_at_1280_and_375_px_passes_axe(live_server: LiveServer, browser: Any, backend: str) -> None:
    for width in (1280, 375):
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.add_init_script(path=str(AXE))
        visit = Visit(context.new_page(), f"{backend}-legal-{width}", width=width)
        try:
            for name, (path, _) in PAGES.items():
                visit.page.goto(live_server.url + path)
                visit.check(name)
            _footer_shot(visit.page, f"{backend}-legal-{width}-footer")
        finally:
            context.close()


def test_the_footer_links_to_the_legal_pages_on_a_public_and_a_console_page(
    live_server: LiveServer, visit: Visit, fresh_url: str
) -> None:
    page = visit.page
    page.goto(live_server.url + "/")
    _follow_each_footer_link(page, live_server.url + "/")
    console_sign_in_as(page, live_server, make_officer(fresh_url, "triage"))
    _follow_each_footer_link(page, live_server.url + "/officer")
    page.goto(live_server.url + "/officer")
    footer = page.locator(".govuk-footer")
    footer.get_by_role("link", name="Accessibility statement").focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", level=1, name=PAGES["accessibility"][1]).wait_for()
    visit.check("accessibility-from-the-console")


def test_the_cookies_page_lists_exactly_the_cookies_the_browser_received(
    live_server: LiveServer, visit: Visit, fresh_url: str
) -> None:
    page = visit.page
    page.goto(live_server.url + "/claims/new")
    continue_through_pages(page, TYPED, CHOSEN)
    page.get_by_role("button", name="File claim").click()
    page.get_by_role("heading", name="Claim filed").wait_for()
    page.goto(page.locator("#tracking-link").inner_text())
    page.get_by_role("heading", level=1).wait_for()
    assert "/track/" in page.url
    console_sign_in_as(page, live_server, make_officer(fresh_url, "triage"))
    page.goto(live_server.url + "/officer")
    # The toggle, there and back: the language cookie is set only by pressing it.
    page.locator('.app-language-toggle a[hreflang="cy"]').click()
    page.locator('html[lang="cy"]').wait_for()
    page.locator('.app-language-toggle a[hreflang="en"]').click()
    page.locator('html[lang="en"]').wait_for()

    received = {c["name"]: ("yes" if c["expires"] > 0 else "no") for c in page.context.cookies()}
    page.goto(live_server.url + "/cookies")
    listed = {
        row.get_attribute("data-cookie"): row.get_attribute("data-persistent")
        for row in page.locator("#cookies [data-cookie]").all()
    }
    assert received == listed
    assert len(listed) == 4 and listed["language"] == "yes"
    for cookie in page.context.cookies():
        assert cookie["domain"] == "127.0.0.1" and cookie["httpOnly"], cookie


def _marks(page: Any) -> list[str]:
    return [t for t in page.locator(".app-setting-to-set").all_inner_texts() if "before going live" in t]


def _follow_each_footer_link(page: Any, start: str) -> None:
    for link in FOOTER_LINKS:
        page.goto(start)
        page.locator(".govuk-footer").get_by_role("link", name=link, exact=True).click()
        name = {"Privacy": "privacy", "Contact": "contact", "Cookies": "cookies"}.get(link, "accessibility")
        page.get_by_role("heading", level=1, name=PAGES[name][1]).wait_for()


def _footer_shot(page: Any, name: str) -> None:
    if TAKE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.goto(page.url)
        page.locator(".govuk-footer").screenshot(path=str(SCREENSHOTS / f"{name}.png"))
