"""The group's journey in a real browser: Debian's Chromium, driven by Playwright, against
gunicorn serving the production app on 127.0.0.1.

Every page of the journey, and its error states, is checked with axe-core (WCAG 2.2 A/AA),
at 320 px wide for horizontal scrolling, and for Content-Security-Policy violations. A
screenshot of each page is written to test-output/screenshots/. Officers act through the
JSON API, as another council system would.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pyotp

from tests.helpers import PASSWORD, VALID_SUBMISSION
from tests.support.browser import (  # the harness, shared with the other browser tests
    PNG,
    ROOT,
    LiveServer,
    Visit,
    choose_action,
    make_officer,
    officer_token,
    skip_without_browser,
)
from tests.support.filing import answer_shown_questions, continue_through_pages

pytestmark = skip_without_browser


# --- the journey --------------------------------------------------------------------

CLAIM = {
    "Name of your group": "Thursday Table",
    "Your full name": "Sam Browser-Testperson",
    "Email address": "sam.browser@example.org",
    "Name of your initiative": "Residents' kitchen",
    "What does your initiative do?": "Residents cook and eat together every Thursday in the community hall.",
    "Which rule or regulation blocks you?": "Food premises registration",
    "Who makes you follow it?": "District council",
    "How does it stop your initiative?": "The hall cannot be registered as a food business, so we cannot cook.",
}
CHOICES = {
    "Which area does your initiative work in?": "Community safety",
    "Where is your initiative?": "North West (England)",
    "What kind of rule is it?": "Food hygiene",
    "What are you asking for?": "Clarification: guidance saying what the rule really requires",
    "Can we email you about your claim?": "Yes",
    "Can we publish an anonymised statement of our decision?": "Yes",
}


def shown(locator: Any) -> None:
    """Fail unless the element appears: waits for the page a click or a reload brings, where an
    immediate is_visible() would race it."""
    from playwright.sync_api import expect

    expect(locator).to_be_visible()


def file_claim(visit: Visit, server: LiveServer) -> tuple[str, str]:
    """Start page -> the question pages (errors first) -> check answers, changing one ->
    confirmation. (reference, link)"""
    page = visit.page
    page.goto(server.url + "/")
    visit.check("start")
    page.get_by_role("button", name="Start now").click()
    page.wait_for_url("**/claims/new/group")
    page.get_by_role("button", name="Continue").click()
    shown(page.get_by_role("heading", name="There is a problem"))
    visit.check("claim-form-errors")
    page.get_by_role("link", name="Enter the name of your group").click()
    assert page.evaluate("document.activeElement.id") == "group_name"
    answer_shown_questions(page, CLAIM, CHOICES)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/claims/new/contact")
    answer_shown_questions(page, {**CLAIM, "Email address": "not an email"}, CHOICES)
    page.get_by_role("button", name="Continue").click()
    shown(page.get_by_role("heading", name="There is a problem"))
    assert page.get_by_label("Email address", exact=True).input_value() == "not an email"  # kept
    page.get_by_role("link", name="Back").click()
    page.wait_for_url("**/claims/new/group")
    assert page.get_by_label("Name of your group").input_value() == "Thursday Table"  # kept on the server
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/claims/new/contact")
    assert page.get_by_label("Email address", exact=True).input_value() == "not an email"  # kept too
    continue_through_pages(page, CLAIM, CHOICES, visit.check)
    visit.check("check-answers")
    page.get_by_role("link", name="Change name of your initiative").click()
    page.wait_for_url("**/claims/new/initiative?change=check*")
    page.get_by_label("Name of your initiative").fill("Thursday kitchen")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/claims/new/check")
    shown(page.get_by_text("Thursday kitchen"))
    page.get_by_role("button", name="File claim").click()
    page.get_by_role("heading", name="Claim filed").wait_for()
    visit.check("confirmation")
    reference = re.search(r"CPG-\d{4}-\d{6}", page.inner_text(".govuk-panel")).group(0)  # type: ignore[union-attr]
    link = page.locator("#tracking-link").inner_text()
    return reference, link


def test_a_group_files_tracks_answers_uploads_and_appeals(  # noqa: PLR0915 (one story, told in order)
    live_server: LiveServer, visit: Visit, fresh_url: str, tmp_path: Path
) -> None:
    page = visit.page
    reference, link = file_claim(visit, live_server)
    token = link.split("token=")[1]

    # The link opens the claim and drops the token from the address.
    page.get_by_role("button", name="Track your claim").click()
    page.wait_for_url(f"**/track/{reference}")
    assert "token" not in page.url
    page.get_by_role("heading", name=f"Your claim {reference}").wait_for()
    shown(page.get_by_text("We will check your claim by"))
    visit.check("tracking-submitted")

    # An officer accepts the claim and asks a question, through the API.
    officer = officer_token(live_server, fresh_url, "triage", "reviewer")
    path = f"/api/v1/claims/{reference}/transitions"
    accept = {"trigger": "accept", "category": "food_hygiene", "regulation": {"title": "Food premises registration"}}
    live_server.api("POST", path, accept, officer)
    question = {"trigger": "request_information", "question": "How many people cook each week?"}
    live_server.api("POST", path, question, officer)

    page.reload()
    shown(page.get_by_text("How many people cook each week?").first)
    shown(page.get_by_text("Answer our question by"))
    visit.check("tracking-question")

    # A bad file is refused on the page, and the answer is not half-saved.
    bad = tmp_path / "letter.pdf"
    bad.write_bytes(b"<html><script>alert(1)</script></html>")
    page.get_by_label("Your answer").fill("About twelve, with two leads.")
    page.get_by_label(re.compile("Evidence you uploaded")).set_input_files(str(bad))
    page.get_by_role("button", name="Answer the question").click()
    shown(page.get_by_role("heading", name="There is a problem"))
    shown(page.get_by_text("its contents do not match its name").first)
    assert page.get_by_label("Your answer").input_value() == "About twelve, with two leads."
    visit.check("tracking-answer-error")

    photo = tmp_path / "kitchen.png"
    photo.write_bytes(PNG)
    page.get_by_label(re.compile("Evidence you uploaded")).set_input_files(str(photo))
    page.get_by_role("button", name="Answer the question").click()
    page.get_by_text("Your answer has been sent").wait_for()
    shown(page.get_by_role("link", name="kitchen.png"))
    visit.check("tracking-answered")

    # More evidence, on its own.
    letter = tmp_path / "council-letter.pdf"
    letter.write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
    page.get_by_label("Add a file").set_input_files(str(letter))
    page.get_by_role("button", name="Upload file").click()
    page.get_by_text("Your file has been added to the claim").wait_for()
    with page.expect_download() as download:
        page.get_by_role("link", name="council-letter.pdf").click()
    assert download.value.suggested_filename == "council-letter.pdf"

    # The officer decides against the group, which appeals inside the window.
    not_upheld = {
        "trigger": "not_uphold",
        "reasons": "Shared meals of this kind need registration.",
        "reason_code": "regulation_necessary_and_proportionate",
        "public_summary": "A shared meals group asked to serve food without registering. Registration was needed.",
    }
    live_server.api("POST", path, not_upheld, officer)
    page.reload()
    shown(page.get_by_text("The last day to appeal is"))
    shown(page.get_by_text("Shared meals of this kind need registration.").first)
    visit.check("tracking-not-upheld")
    page.get_by_role("button", name="Appeal the decision").click()
    shown(page.get_by_role("link", name="Enter grounds for the appeal"))
    visit.check("tracking-appeal-error")
    page.get_by_label("Grounds for the appeal").fill(
        "Guidance from the national agency says no registration is needed."
    )
    page.get_by_role("button", name="Appeal the decision").click()
    page.get_by_text("Your appeal has been sent").wait_for()
    visit.check("tracking-appealed")

    claim = live_server.api("GET", f"/api/v1/claims/{reference}", token=officer)
    assert claim["state"] == "appealed"

    # The token never travelled as a Referer, and never reached a log line.
    assert not [r for r in visit.referers if token in r]
    assert token not in live_server.log.read_text()
    assert CLAIM["Email address"] not in live_server.log.read_text()


def test_the_journey_works_without_javascript_nojs(live_server: LiveServer, visit: Visit) -> None:
    page = visit.page
    reference, link = file_claim(visit, live_server)
    page.goto(link)
    page.wait_for_url(f"**/track/{reference}")
    visit.check("tracking")
    page.get_by_role("link", name="Withdraw the claim").click()
    page.get_by_role("heading", name="Are you sure you want to withdraw the claim?").wait_for()
    page.get_by_label(re.compile("Why you are withdrawing")).fill("We found a different hall.")
    visit.check("withdraw-confirm")
    page.get_by_role("button", name="Yes, withdraw the claim").click()
    page.get_by_text("Your claim has been withdrawn").wait_for()
    shown(page.get_by_text("You withdrew this claim"))
    visit.check("withdrawn")


def test_a_claim_can_be_filed_by_keyboard_alone(live_server: LiveServer, visit: Visit) -> None:
    page = visit.page
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"
    for _ in range(20):  # Tab to the start button and press it
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent").strip().startswith("Start now"):
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/claims/new/group")
    typed = {**CLAIM}
    seen: set[str] = set()
    while not page.get_by_role("heading", name="Check your answers before filing your claim").count():
        heading = page.get_by_role("heading", level=1).inner_text()
        for _ in range(60):  # Tab through the page's questions, answering each, to Continue
            page.keyboard.press("Tab")
            label = page.evaluate(
                "(() => { const e = document.activeElement; const l = e.labels && e.labels[0];"
                " return [e.tagName, e.type || '', l ? l.textContent.trim() : e.textContent.trim(), e.name || '']; })()"
            )
            tag, kind, text, name = label
            text = name if kind == "radio" else text  # a radio group by its name: two may both say "Yes"
            if tag in ("INPUT", "TEXTAREA") and kind not in ("radio", "hidden") and text in typed and text not in seen:
                page.keyboard.type(typed[text])
                seen.add(text)
            elif kind == "radio" and text not in seen:
                page.keyboard.press("Space")  # choose the first option of each group
                seen.add(text)
            elif tag == "SELECT" and text not in seen:
                page.keyboard.press("ArrowDown")  # the first choice after "Choose ..."
                assert page.evaluate("document.activeElement.value"), f"{text}: nothing chosen by keyboard"
                seen.add(text)
            elif tag == "BUTTON" and text == "Continue":
                with page.expect_navigation():
                    page.keyboard.press("Enter")
                break
        else:
            raise AssertionError(f"no Continue button reached by keyboard on {heading!r}")
        assert page.get_by_role("heading", level=1).inner_text() != heading, f"{heading!r} did not continue"
    page.get_by_role("heading", name="Check your answers before filing your claim").wait_for()
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent").strip() == "File claim":
            page.keyboard.press("Enter")
            break
    page.get_by_role("heading", name="Claim filed").wait_for()


def test_the_help_and_error_pages_are_accessible_too(live_server: LiveServer, visit: Visit) -> None:
    page = visit.page
    page.goto(live_server.url + "/track")
    page.get_by_role("heading", name="Track your claim").wait_for()
    visit.check("lost-link")
    page.get_by_role("button", name="Send me a new link").click()
    shown(page.get_by_role("link", name="Enter your claim reference, like CPG-2026-000123"))
    visit.check("lost-link-errors")
    page.get_by_label("Claim reference").fill("CPG-2026-000999")
    page.get_by_label("Email address").fill("someone@example.org")
    page.get_by_role("button", name="Send me a new link").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    visit.check("lost-link-sent")

    page.goto(live_server.url + "/track/CPG-2026-000999")
    page.get_by_role("heading", name="Open your tracking link again").wait_for()
    visit.check("link-needed")
    page.goto(live_server.url + "/no-such-page")
    page.get_by_role("heading", name="Page not found").wait_for()
    visit.check("not-found")
    page.goto(live_server.url + "/process")
    page.get_by_role("img", name=re.compile("Diagram of how a claim moves")).wait_for()
    visit.check("process")

    # Guessing tracking links is limited; the refusal is a page a person can act on.
    for _ in range(10):
        response = page.goto(live_server.url + "/track/CPG-2026-000999?token=a-guess")
        if response.status == 429:
            break
        assert response.status == 404
        page.get_by_text("This tracking link does not work").wait_for()
    assert response.status == 429
    page.get_by_role("heading", name="Too many attempts").wait_for()
    visit.check("too-many-attempts")


def test_the_console_pages_are_accessible(  # noqa: PLR0915 (one walk through every page, in order)
    live_server: LiveServer, visit: Visit, fresh_url: str
) -> None:
    email = make_officer(fresh_url, "triage", "reviewer", "admin")
    filed = live_server.api("POST", "/api/v1/claims", VALID_SUBMISSION)
    page = visit.page
    page.goto(live_server.url + "/officer")
    page.get_by_role("heading", name="Sign in to the officers' console").wait_for()
    visit.check("console-sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("textbox", name="Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Enter a correct email address and password").first.wait_for()
    visit.check("console-sign-in-error")
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Queue").wait_for()
    visit.check("console-queue")
    page.get_by_role("link", name=filed["reference"]).click()
    page.get_by_role("heading", name=filed["reference"]).wait_for()
    visit.check("console-claim")
    page.get_by_role("button", name="Accept for review").click()  # a link styled as a button
    page.get_by_role("heading", name="Accept for review").wait_for()
    visit.check("console-action")
    page.get_by_label("Find a catalogue entry").fill("kitchen")
    page.get_by_role("button", name="Search the catalogue").click()
    page.get_by_text("No entry matches “kitchen”").wait_for()
    visit.check("console-action-catalogue-search")
    page.get_by_role("button", name="Accept for review").click()
    page.get_by_role("heading", name="There is a problem").wait_for()
    visit.check("console-action-errors")
    page.get_by_role("radio", name="A new catalogue entry").check()
    page.get_by_label("If a new catalogue entry: its title").fill("Food premises registration")
    page.get_by_role("group", name="Barrier category").get_by_label("Food hygiene").check()
    page.get_by_role("button", name="Accept for review").click()
    page.get_by_text("The claim is now under review.").wait_for()
    shown(page.get_by_text("Under review").first)
    visit.check("console-claim-accepted")
    choose_action(page, "Do not uphold")
    page.locator("#not_uphold-reasons").fill("The rule protects very young children.")
    page.get_by_role("group", name="Reason").get_by_label("Regulation necessary and proportionate").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Check your decision").wait_for()
    visit.check("console-check-decision")
    page.get_by_role("button", name="Change your answers").click()
    page.get_by_role("heading", name="Do not uphold").wait_for()
    assert page.locator("#not_uphold-reasons").input_value() == "The rule protects very young children."
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Confirm and do not uphold").click()
    page.get_by_text("The claim is now not upheld.").wait_for()
    visit.check("console-claim-decided")
    page.goto(f"{live_server.url}/officer/claims/{filed['reference']}/actions/uphold")
    page.get_by_role("heading", name="“Uphold” is not possible now").wait_for()
    visit.check("console-action-not-now")
    page.get_by_role("link", name=f"Go to claim {filed['reference']}").click()
    page.get_by_role("link", name="Regulation catalogue").click()
    page.get_by_role("heading", name="Regulation catalogue").wait_for()
    visit.check("console-catalogue")
    page.get_by_role("link", name="Food premises registration").click()
    page.get_by_label("Title").fill("")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="There is a problem").wait_for()
    visit.check("console-catalogue-entry-errors")
    page.get_by_role("link", name="Officers").click()
    page.get_by_role("heading", name="Officers").wait_for()
    visit.check("console-officers")
    page.get_by_role("link", name="Messages").click()
    page.get_by_role("heading", name="Could not be sent").wait_for()
    visit.check("console-messages")
    page.get_by_role("link", name="Officers").click()
    page.get_by_role("heading", name="Officers").wait_for()
    page.get_by_label("Full name").fill("Nadia New")
    page.get_by_label("Email address").fill("nadia.new@council.example")
    page.get_by_label("Reviewer").check()
    page.get_by_role("button", name="Add officer").click()
    page.get_by_role("heading", name="Temporary password").wait_for()
    visit.check("console-temporary-password")
    page.get_by_role("link", name="Officers").click()
    page.get_by_role("heading", name="Officers").wait_for()
    page.get_by_role("link", name="Officer", exact=True).first.click()
    page.get_by_role("heading", name="Roles").wait_for()
    visit.check("console-officer")
    page.get_by_role("link", name="Change your password").click()
    page.get_by_role("heading", name="Choose a new password").wait_for()
    visit.check("console-password")

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="You have signed out").wait_for()
    visit.check("console-signed-out")


def test_console_two_step_verification_is_set_up_and_used_on_accessible_pages(
    live_server: LiveServer, visit: Visit, fresh_url: str
) -> None:
    email = make_officer(fresh_url, "admin")
    page = visit.page
    console_sign_in(page, live_server, email)
    # Two-step verification: set up with an authenticator app (the key read off the page).
    page.get_by_role("link", name="Two-step verification").click()
    page.get_by_role("heading", name="Two-step verification", exact=True).wait_for()
    visit.check("console-two-step-off")
    page.get_by_role("button", name="Set up two-step verification").click()
    shown(page.get_by_role("img", name="QR code of your two-step verification key"))
    visit.check("console-two-step-setup")
    app = pyotp.TOTP(page.locator(".app-secret").inner_text().replace(" ", ""))
    page.get_by_label("Code from your authenticator app").fill(not_a_code_now(app))
    page.get_by_role("button", name="Turn on two-step verification").click()
    page.get_by_role("heading", name="There is a problem").wait_for()
    visit.check("console-two-step-errors")
    page.get_by_label("Code from your authenticator app").fill(app.now())
    page.get_by_role("button", name="Turn on two-step verification").click()
    page.get_by_text("Two-step verification is on").first.wait_for()
    visit.check("console-two-step-on")
    page.get_by_role("link", name="How it works").click()
    page.get_by_role("img", name=re.compile("Diagram of how a claim moves")).wait_for()
    visit.check("console-process-diagram")
    page.go_back()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="You have signed out").wait_for()

    page.goto(live_server.url + "/officer/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Enter the code from your authenticator app").wait_for()
    visit.check("console-sign-in-code")
    # The code just used does not work twice; the app's next one does (30 seconds' drift is allowed).
    page.get_by_label("Code from your authenticator app").fill(app.at(time.time() + 30))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Queue").wait_for()


def not_a_code_now(app: pyotp.TOTP) -> str:
    """Six digits that the app shows neither now nor 30 seconds either side."""
    near = {app.at(time.time() + drift) for drift in (-30, 0, 30, 60)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in near)


def console_sign_in(page: Any, server: LiveServer, email: str) -> None:
    page.goto(server.url + "/officer/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Queue").wait_for()


def test_officers_work_a_claim_in_the_console_from_filing_to_appeal(  # noqa: PLR0915 (one story, told in order)
    live_server: LiveServer, visit: Visit, browser: Any, fresh_url: str
) -> None:
    caseworker = make_officer(fresh_url, "triage", "reviewer", "appeal_panel")
    colleague = make_officer(fresh_url, "reviewer")
    panel = make_officer(fresh_url, "appeal_panel")
    filed = live_server.api("POST", "/api/v1/claims", VALID_SUBMISSION)
    reference, group_link = filed["reference"], filed["tracking_url"]
    page = visit.page

    # Sign in, filter the queue down to this region, open the claim.
    console_sign_in(page, live_server, caseworker)
    page.get_by_label("Region").select_option("north_west")
    page.get_by_role("button", name="Apply filters").click()
    assert "region=north_west" in page.url
    visit.check("console-queue-filtered")
    page.get_by_role("link", name=reference).click()

    # Accept it with a new catalogue entry, then ask the group a question: each on its own page.
    page.get_by_role("button", name="Accept for review").click()
    page.get_by_role("radio", name="A new catalogue entry").check()
    page.get_by_label("If a new catalogue entry: its title").fill("Early years staffing ratios")
    page.get_by_role("group", name="Barrier category").get_by_label("Professional standards and qualifications").check()
    page.get_by_role("button", name="Accept for review").click()
    page.get_by_text("The claim is now under review.").wait_for()
    page.get_by_role("button", name="Ask the group a question").click()
    page.get_by_label("Question for the group").fill("Is a qualified lead present at every session?")
    page.get_by_role("button", name="Ask the group a question").click()
    page.get_by_text("The claim is now waiting for information from the group.").wait_for()
    visit.check("console-claim-question")

    # The group answers on its tracking page, in a browser of its own.
    group = browser.new_context()
    group_page = group.new_page()
    group_page.goto(group_link)
    group_page.get_by_label("Your answer").fill("Yes, always one level 3 practitioner.")
    group_page.get_by_role("button", name="Answer the question").click()
    group_page.get_by_text("Your answer has been sent").wait_for()
    group.close()

    # A colleague gets as far as checking an uphold; the caseworker decides first, so the
    # colleague's check page is stale and confirming it is refused.
    other = browser.new_context(viewport={"width": 1280, "height": 800})
    other_page = other.new_page()
    console_sign_in(other_page, live_server, colleague)
    other_page.goto(f"{live_server.url}/officer/claims/{reference}")
    choose_action(other_page, "Uphold", exact=True)
    other_page.locator("#uphold-reasons").fill("The rule is disproportionate here.")
    other_page.get_by_role("group", name="Remedy").get_by_label("Guidance clarified").check()
    other_page.get_by_role("button", name="Continue").click()
    other_page.get_by_role("heading", name="Check your decision").wait_for()
    page.reload()
    shown(page.get_by_text("Yes, always one level 3 practitioner."))
    choose_action(page, "Do not uphold")
    page.get_by_role("group", name="Reason").get_by_label("Regulation necessary and proportionate").check()
    page.locator("#not_uphold-reasons").fill("The ratio protects very young children.")
    page.get_by_role("button", name="Continue").click()
    shown(page.get_by_text("Decision on your claim").first)
    page.get_by_role("button", name="Confirm and do not uphold").click()
    page.get_by_text("The claim is now not upheld.").wait_for()
    other_page.get_by_role("button", name="Confirm and uphold").click()
    other_page.get_by_text("Someone else changed this claim").first.wait_for()
    shown(other_page.get_by_text("Not upheld").first)
    other.close()

    # The group appeals. The caseworker sits on the appeal panel, but decided the claim, so may
    # not decide the appeal; another panel member does.
    appeal = {"trigger": "appeal", "grounds": "A lead is always there."}
    live_server.api("POST", f"/api/v1/claims/{reference}/transitions", appeal, group_link.split("token=")[1])
    page.reload()
    shown(page.get_by_text("You made an earlier decision on this claim, so another member of the appeal panel"))
    assert page.get_by_role("button", name="Dismiss the appeal", include_hidden=True).count() == 0
    page.get_by_role("button", name="Sign out").click()
    console_sign_in(page, live_server, panel)
    page.goto(f"{live_server.url}/officer/claims/{reference}")
    choose_action(page, "Dismiss the appeal")
    page.locator("#dismiss_appeal-reasons").fill("The panel agrees with the decision.")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Confirm and dismiss the appeal").click()
    page.get_by_text("The claim is now resolved.").wait_for()
    shown(page.get_by_text("Resolved").first)
    visit.check("console-appeal-decided")


def test_the_statistics_page_is_accessible_and_its_charts_show_the_release(
    live_server: LiveServer, visit: Visit, fresh_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    # As a newcomer would: demonstration claims, then a release, from the command line.
    env = {
        **os.environ,
        "FLASK_APP": "wsgi",
        "DATABASE_URL": fresh_url,
        "GUARANTEE_SECRET_KEY": secrets.token_hex(32),
        "GUARANTEE_EVIDENCE_DIR": str(tmp_path / "evidence"),
        "GUARANTEE_AUDIT_SIGNING_KEY": str(tmp_path / "signing-key.pem"),
        "GUARANTEE_MAIL_DIR": str(tmp_path / "mail"),
    }
    flask = str(Path(sys.executable).with_name("flask"))
    for command in (["seed-demo", "--claims", "120"], ["statistics", "publish"]):
        done = subprocess.run(
            [flask, "guarantee", *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
    with urllib.request.urlopen(live_server.url + "/statistics.json", timeout=10) as response:
        document = json.loads(response.read())
    # The largest number the release shows in a chart of counts, and where.
    table, row = max(
        ((t, r) for t in document["tables"] if t["kind"] == "counts" for r in t["rows"] if isinstance(r["count"], int)),
        key=lambda found: found[1]["count"],
    )
    count = f"{row['count']:,}"

    page = visit.page
    page.goto(live_server.url + "/statistics")
    page.get_by_role("heading", name=f"Claims under the guarantee: release {document['release']}").wait_for()
    shown(page.get_by_role("img", name=re.compile(f"Bar chart of “{re.escape(table['title'])}”")))
    bar = page.locator(f"#chart-{table['id']} .app-chart__row", has_text=row["label"])
    expect(bar.locator(".app-chart__value")).to_have_text(count)
    table_beside = page.get_by_role("region", name=table["title"])
    shown(table_beside.get_by_role("row", name=re.compile(rf"^{re.escape(row['label'])}\s+{count}$")))
    shown(page.get_by_role("heading", name="How these statistics are protected"))
    visit.check("statistics")
    page.set_viewport_size({"width": 1280, "height": 800})
    visit.width = 1280
    visit.check("statistics-wide")
