"""A newcomer presses "Cymraeg" and files, tracks, answers and appeals a claim entirely in Welsh
(issue 23), in Chromium: every page says lang="cy", passes axe-core, has no English sentence left
(names and references aside; anything English on purpose is marked lang="en") and reads at 320 px.
Questions are answered by their fields' names, so nothing here depends on the Welsh wording but
the buttons a person presses."""

from __future__ import annotations

import re
from typing import Any

from tests.support.browser import LiveServer, Visit, officer_token, skip_without_browser
from tests.test_welsh_pages import leftover_english

pytestmark = skip_without_browser

ANSWERS = {
    "group_name": "Bwrdd Bwyd Dydd Iau",
    "group_contact_name": "Siân Prawf-Porwr",
    "initiative_people_involved": "30",
    "group_email": "sian.prawf@example.org",
    "group_phone": "01632 960 001",
    "consent_contact": "yes",
    "consent_publish": "yes",
    "initiative_title": "Cegin y trigolion",
    "initiative_description": "Mae trigolion yn coginio ac yn bwyta gyda'i gilydd bob dydd Iau yn neuadd y gymuned.",
    "initiative_sector": "community_safety",
    "initiative_region": "wales",
    "barrier_regulation": "Cofrestru safle bwyd",
    "barrier_category": "food_hygiene",
    "barrier_imposed_by": "Cyngor y sir",
    "barrier_how_it_blocks": "Ni ellir cofrestru'r neuadd fel busnes bwyd, felly ni allwn goginio.",
    "barrier_remedy_sought": "clarification",
}
NO_ENGLISH_PAGE = "<html><body></body></html>"  # no English rendering to hold the page to: common words only


def in_welsh(visit: Visit, label: str) -> None:
    """The page is Welsh throughout, accessible, and fits a phone."""
    page = visit.page
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "cy", label
    left = leftover_english(page.content(), NO_ENGLISH_PAGE, set(ANSWERS.values()))
    assert not left, f"{label}: English left on the Welsh page: {left}"
    visit.check(f"cy-{label}")


def answer(page: Any) -> None:
    """Answer the questions shown, by each field's name."""
    for name, value in ANSWERS.items():
        field = page.locator(f'[name="{name}"]')
        if not field.count():
            continue
        kind = field.first.evaluate("(e) => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if kind == "select:select-one":
            field.select_option(value)
        elif kind.endswith(":radio"):
            page.locator(f'[name="{name}"][value="{value}"]').check()
        else:
            field.fill(value)


def test_a_newcomer_files_tracks_answers_and_appeals_a_claim_in_welsh(  # noqa: PLR0915 (one story, told in order)
    live_server: LiveServer, visit: Visit, fresh_url: str
) -> None:
    page = visit.page
    page.goto(live_server.url + "/")
    assert page.get_attribute("html", "lang") == "en"
    page.locator('.app-language-toggle a[hreflang="cy"]').click()
    page.wait_for_url(live_server.url + "/")
    in_welsh(visit, "start")

    page.get_by_role("button", name="Dechrau nawr").click()
    page.wait_for_url("**/claims/new/group")
    # Whoever fills the form in Welsh is written to in Welsh unless they say otherwise.
    assert page.locator('[name="group_language"][value="cy"]').is_checked()
    page.get_by_role("button", name="Parhau").click()
    page.get_by_role("heading", name="Mae problem wedi codi").wait_for()
    in_welsh(visit, "form-errors")
    for _ in range(8):
        if "/claims/new/check" in page.url:
            break
        in_welsh(visit, "question-" + page.url.rsplit("/", 1)[-1].split("?")[0])
        answer(page)
        with page.expect_navigation():
            page.get_by_role("button", name="Parhau").click()
    page.wait_for_url("**/claims/new/check")
    in_welsh(visit, "check-answers")
    page.get_by_role("button", name="Cyflwyno'r hawliad").click()
    page.get_by_role("heading", name="Hawliad wedi'i gyflwyno").wait_for()
    in_welsh(visit, "confirmation")
    reference = re.search(r"CPG-\d{4}-\d{6}", page.inner_text(".govuk-panel"))[0]  # type: ignore[index]

    page.get_by_role("button", name="Olrhain eich hawliad").click()
    page.wait_for_url(f"**/track/{reference}")
    in_welsh(visit, "tracking-submitted")

    officer = officer_token(live_server, fresh_url, "triage", "reviewer")
    claim = live_server.api("GET", f"/api/v1/claims/{reference}", token=officer)
    assert claim["group"]["language"] == "cy", "the claim records the language to write to the group in"
    path = f"/api/v1/claims/{reference}/transitions"
    live_server.api("POST", path, {"trigger": "accept", "category": "food_hygiene", "regulation": {"title": "Cofrestru safle bwyd"}}, officer)  # fmt: skip
    live_server.api("POST", path, {"trigger": "request_information", "question": "Faint o bobl sy'n coginio?"}, officer)

    page.reload()
    in_welsh(visit, "tracking-question")
    page.get_by_label("Eich ateb").fill("Tua deuddeg, gyda dau arweinydd.")
    page.get_by_role("button", name="Ateb y cwestiwn").click()
    page.locator(".govuk-notification-banner--success").wait_for()
    in_welsh(visit, "tracking-answered")

    not_upheld = {
        "trigger": "not_uphold",
        "reasons": "Mae angen cofrestru prydau a rennir.",
        "reason_code": "regulation_necessary_and_proportionate",
        "public_summary": "Gofynnodd grŵp prydau a rennir am gael gweini bwyd heb gofrestru.",
    }
    live_server.api("POST", path, not_upheld, officer)
    page.reload()
    in_welsh(visit, "tracking-not-upheld")
    page.get_by_role("button", name="Apelio yn erbyn y penderfyniad").click()
    page.get_by_role("heading", name="Mae problem wedi codi").wait_for()
    in_welsh(visit, "tracking-appeal-error")
    page.get_by_label("Sail yr apêl").fill("Mae canllawiau'r asiantaeth genedlaethol yn dweud nad oes angen cofrestru.")
    page.get_by_role("button", name="Apelio yn erbyn y penderfyniad").click()
    page.locator(".govuk-notification-banner--success").wait_for()
    in_welsh(visit, "tracking-appealed")
    assert live_server.api("GET", f"/api/v1/claims/{reference}", token=officer)["state"] == "appealed"
