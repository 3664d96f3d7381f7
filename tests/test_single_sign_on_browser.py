"""Single sign-on in Chromium (issue 24): officers sign in through a real OpenID Provider
(tests/support/oidc.py) from the console's sign-in page, end to end; the service's two-step
code is skipped when the provider did multi-factor and asked when it did not; password sign-in
can be off. Each page of ours is checked (axe-core, no sideways scrolling), in English at 1280
and 375 pixels, and in Welsh."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from guarantee import create_app
from guarantee.config import TestConfig
from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.services import two_step_secrets
from guarantee.services.officers import create_officer
from tests.helpers import PASSWORD
from tests.support.browser import (
    LiveServer,
    Visit,
    free_port,
    skip_without_browser,
    start_live_server,
    stop_live_server,
)
from tests.support.oidc import Provider, skip_without_provider

pytestmark = [skip_without_browser, skip_without_provider]

TWO_STEP_KEY = TestConfig.GUARANTEE_TWO_STEP_KEY or ""


def serve_with_provider(fresh_url: str, tmp_path: Path, provider: Provider, **settings: str) -> LiveServer:
    """The service, registered at the provider with the address it serves on."""
    port = free_port()
    client = provider.register(f"http://127.0.0.1:{port}/officer/sign-in/oidc/callback")
    return start_live_server(
        fresh_url,
        tmp_path,
        port=port,
        GUARANTEE_OIDC_ISSUER=provider.issuer,
        GUARANTEE_OIDC_CLIENT_ID=client.client_id,
        GUARANTEE_OIDC_CLIENT_SECRET=client.client_secret,
        GUARANTEE_TWO_STEP_KEY=TWO_STEP_KEY,
        **settings,
    )


@pytest.fixture
def server(fresh_url: str, tmp_path: Path, oidc_provider: Provider) -> Iterator[LiveServer]:
    served = serve_with_provider(fresh_url, tmp_path, oidc_provider)
    yield served
    stop_live_server(served)


def add_officer(app_url: str, *roles: str, two_step_key: str | None = None) -> tuple[str, str | None]:
    """An officer in the database (with two-step verification on if a key is given, sealed as the
    server seals it): their email, and their authenticator app's key."""
    email = f"{'-'.join(roles)}-{secrets.token_hex(4)}@council.example"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": app_url,
            "SECRET_KEY": "x",
            "GUARANTEE_LOG_JSON": False,
            "GUARANTEE_TWO_STEP_KEY": TWO_STEP_KEY,
        }
    )
    key = pyotp.random_base32() if two_step_key else None
    with app.app_context():
        with unit_of_work() as ctx:
            made = create_officer(ctx, email=email, name="Sam Officer", roles=list(roles), password=PASSWORD)
            if key is not None:
                assert ctx.two_step_key is not None
                two_step_secrets.keep_in_use(ctx.two_step_key, made, key)
        db.engine.dispose()
    return email, key


def at_provider(page: Any, email: str, *, mfa: bool = False, verified: bool = True) -> None:
    """On the provider's own sign-in page: say who one is, and go back to the service."""
    page.wait_for_url("**/interaction/**")
    page.get_by_label("Email address", exact=True).fill(email)
    if not verified:
        page.get_by_label("This email address is verified").uncheck()
    if mfa:
        page.get_by_label("I used multi-factor authentication").check()
    page.get_by_role("button", name="Continue").click()


def check_at_every_width(visit: Visit, label: str) -> None:
    """The checks of every page, at the console's 1280 pixels, a phone's 375 and the narrowest 320."""
    for width in (1280, 375, 320):
        visit.page.set_viewport_size({"width": width, "height": 800})
        visit.width = width
        visit.check(f"{label}-{width}")
    visit.page.set_viewport_size({"width": 1280, "height": 800})
    visit.width = 1280


def sign_in_button(page: Any) -> Any:
    return page.get_by_role("button", name="Sign in with your council account")


def test_console_an_officer_signs_in_through_the_council_account_and_the_code_follows_the_provider(
    server: LiveServer, visit: Visit, fresh_url: str
) -> None:
    page = visit.page
    email, key = add_officer(fresh_url, "triage", two_step_key=TWO_STEP_KEY)
    assert key is not None
    page.goto(server.url + "/officer/sign-in")
    check_at_every_width(visit, "sign-in-page")

    # Multi-factor at the provider: no code here.
    sign_in_button(page).click()
    at_provider(page, email, mfa=True)
    page.wait_for_url(server.url + "/officer")
    assert "Signed in as Sam Officer" in page.text_content("body")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/signed-out")

    # One factor at the provider: the service asks for its own code. (The provider would sign the
    # same person in again without asking, as real ones do: a fresh browser session is asked.)
    page.context.clear_cookies()
    page.goto(server.url + "/officer/sign-in")
    sign_in_button(page).click()
    at_provider(page, email)
    page.wait_for_url("**/officer/sign-in/code")
    page.get_by_label("Code").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(server.url + "/officer")


def test_console_an_unknown_email_is_refused_with_a_page_that_says_what_to_do(server: LiveServer, visit: Visit) -> None:
    page = visit.page
    page.goto(server.url + "/officer/sign-in")
    sign_in_button(page).click()
    at_provider(page, "stranger@council.example")
    page.wait_for_url("**/officer/sign-in/oidc/callback**")
    assert "There is no officer account for the email address of your council account" in page.text_content("main")
    check_at_every_width(visit, "sign-in-refused")
    page.get_by_role("button", name="Go to the sign-in page").click()
    page.wait_for_url(server.url + "/officer/sign-in")


def test_console_an_admin_allows_a_domain_and_a_newcomer_waits_for_a_role(
    server: LiveServer, visit: Visit, browser: Any, fresh_url: str
) -> None:
    page = visit.page
    admin, _ = add_officer(fresh_url, "admin")
    page.goto(server.url + "/officer/sign-in")
    sign_in_button(page).click()
    at_provider(page, admin, mfa=True)
    page.wait_for_url(server.url + "/officer")
    page.get_by_role("link", name="Officers").first.click()
    page.get_by_role("link", name="Email domains that may make an account by signing in").click()
    page.get_by_role("button", name="Allow domain").click()  # nothing typed
    assert "Enter an email domain, like council.example" in page.text_content("main")
    check_at_every_width(visit, "domains-error")
    page.get_by_label("Email domain").fill("newtown.example")
    page.get_by_role("button", name="Allow domain").click()
    assert "newtown.example" in page.text_content("dl")
    check_at_every_width(visit, "domains")

    newcomer = browser.new_context(viewport={"width": 1280, "height": 800})
    newcomer.add_init_script(path=str(Path(__file__).resolve().parent.parent / "node_modules/axe-core/axe.min.js"))
    theirs = Visit(newcomer.new_page(), f"{visit.name}-newcomer", width=1280)
    try:
        theirs.page.goto(server.url + "/officer/sign-in")
        sign_in_button(theirs.page).click()
        at_provider(theirs.page, "new.starter@newtown.example")
        theirs.page.wait_for_url(server.url + "/officer/no-roles-yet")
        assert "An administrator must give you the roles your work needs" in theirs.page.text_content("main")
        check_at_every_width(theirs, "no-roles-yet")
    finally:
        newcomer.close()
    page.goto(server.url + "/officer/admin")
    assert "None yet: give this officer a role" in page.text_content("table")


def test_console_with_password_sign_in_off_only_the_council_account_is_offered(
    fresh_url: str, tmp_path: Path, oidc_provider: Provider, visit: Visit
) -> None:
    served = serve_with_provider(
        fresh_url, tmp_path, oidc_provider, GUARANTEE_PASSWORD_SIGN_IN="off", GUARANTEE_OIDC_MFA_ACR="urn:test:mfa"
    )
    try:
        page = visit.page
        email, _ = add_officer(fresh_url, "reviewer")
        page.goto(served.url + "/officer/sign-in")
        assert page.get_by_label("Password").count() == 0
        check_at_every_width(visit, "sign-in-password-off")
        sign_in_button(page).click()
        at_provider(page, email, mfa=True)
        page.wait_for_url(served.url + "/officer")
        assert page.get_by_role("link", name="Change your password").count() == 0
    finally:
        stop_live_server(served)


def test_console_the_sign_in_pages_in_welsh(server: LiveServer, visit: Visit, fresh_url: str) -> None:
    page = visit.page
    page.context.add_cookies([{"name": "language", "value": "cy", "url": server.url}])
    page.goto(server.url + "/officer/sign-in")
    assert page.locator("html").get_attribute("lang") == "cy"
    check_at_every_width(visit, "sign-in-page-cy")
    page.locator("a.govuk-button--start").click()
    at_provider(page, "stranger@council.example")
    page.wait_for_url("**/officer/sign-in/oidc/callback**")
    check_at_every_width(visit, "sign-in-refused-cy")
    assert page.locator("a.govuk-button--start").count() == 0  # the refusal page is not the sign-in page
    email, _ = add_officer(fresh_url, "admin")
    page.context.clear_cookies()  # the provider would sign the stranger in again without asking
    page.context.add_cookies([{"name": "language", "value": "cy", "url": server.url}])
    page.goto(server.url + "/officer/sign-in")
    page.locator("a.govuk-button--start").click()
    at_provider(page, email, mfa=True)
    page.wait_for_url(server.url + "/officer")
    page.goto(server.url + "/officer/admin/sign-in-domains")
    check_at_every_width(visit, "domains-cy")
