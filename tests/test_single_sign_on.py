"""Officers sign in through the council's identity provider (OpenID Connect, issue 24), tested
against a real OpenID Provider (oidc-provider under Node.js, tests/support/oidc.py): the code
flow with PKCE, state and nonce; the ID token's signature, iss, aud, exp and iat; matching by
verified e-mail; accounts made by signing in where an admin allowed the domain; the service's
two-step code skipped when the provider did multi-factor; password sign-in turned off."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from guarantee import create_app
from guarantee.clock import FixedClock
from guarantee.config import ConfigurationError
from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.models import AdminEvent, Officer
from guarantee.single_sign_on.officers import ProviderSignIn, multi_factor
from tests.conftest import _app_config
from tests.support.oidc import (
    Client,
    Provider,
    TokenProxy,
    id_token_for,
    sign_in_at_provider,
    skip_without_provider,
    with_claim,
)
from tests.test_console import officer
from tests.test_public import csrf, text_of
from tests.test_two_step import code, with_two_step

pytestmark = skip_without_provider

# Where the provider sends officers back: the tests' GUARANTEE_BASE_URL and the service's path.
CALLBACK = "http://127.0.0.1:8000/officer/sign-in/oidc/callback"
QUEUE = "/officer"


@pytest.fixture(scope="session")
def service_at_provider(oidc_provider: Provider) -> Client:
    """The service, registered at the provider as a client."""
    return oidc_provider.register(CALLBACK)


@pytest.fixture(scope="session")
def another_service(oidc_provider: Provider) -> Client:
    return oidc_provider.register("http://127.0.0.1:8000/another-service/callback")


@pytest.fixture
def now() -> FixedClock:
    """The service's clock, at the provider's time (ID tokens are checked by it)."""
    return FixedClock(datetime.now(UTC))


@pytest.fixture
def make_sso_app(
    fresh_url: str,
    tmp_path: Path,
    now: FixedClock,
    *,
    oidc_provider: Provider,
    service_at_provider: Client,
    token_proxy: TokenProxy,
) -> Iterator[Callable[..., Flask]]:
    made: list[Flask] = []

    def make(**settings: Any) -> Flask:
        config = {
            "GUARANTEE_CLOCK": now,
            "GUARANTEE_AUDIT_SIGNING_KEY": str(tmp_path / "signing-key.pem"),
            "GUARANTEE_EVIDENCE_DIR": str(tmp_path / "evidence"),
            "GUARANTEE_OIDC_ISSUER": oidc_provider.issuer,
            "GUARANTEE_OIDC_CLIENT_ID": service_at_provider.client_id,
            "GUARANTEE_OIDC_CLIENT_SECRET": service_at_provider.client_secret,
            "GUARANTEE_OIDC_TOKEN_ENDPOINT": token_proxy.url,
            "GUARANTEE_OIDC_MFA_ACR": ("urn:test:mfa",),
        }
        made.append(create_app(_app_config(fresh_url, **(config | settings))))
        return made[-1]

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_sso_app: Callable[..., Flask]) -> Flask:
    return make_sso_app()


def start(client: FlaskClient) -> str:
    """Press "Sign in with your council account": the provider's address it sends the browser to."""
    started = client.get("/officer/sign-in/oidc")
    assert started.status_code == 303, started.text
    return str(started.headers["Location"])


def come_back(client: FlaskClient, provider_sent_to: str) -> TestResponse:
    assert provider_sent_to.startswith(CALLBACK), provider_sent_to
    return client.get(provider_sent_to.removeprefix("http://127.0.0.1:8000"))


def sign_in(client: FlaskClient, email: str, **how: bool) -> TestResponse:
    return come_back(client, sign_in_at_provider(start(client), email, **how))


def refused_with(answer: TestResponse, status: int, words: str) -> None:
    assert answer.status_code == status, text_of(answer.text)
    assert words in text_of(answer.text)
    assert "Go to the sign-in page" in answer.text


# --- the flow --------------------------------------------------------------------------------


def test_the_provider_is_asked_for_a_code_with_pkce_state_and_nonce(app: Flask, oidc_provider: Provider) -> None:
    sent_to = start(app.test_client())
    query = parse_qs(urlsplit(sent_to).query)
    assert sent_to.startswith(f"{oidc_provider.issuer}/auth?")
    assert query["response_type"] == ["code"]  # never the implicit flow
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert len(query["state"][0]) >= 20 and len(query["nonce"][0]) >= 20
    assert query["redirect_uri"] == [CALLBACK]
    assert set(query["scope"][0].split()) == {"openid", "email", "profile"}


def test_an_officer_signs_in_through_the_provider_by_their_verified_email(app: Flask) -> None:
    who = officer(app, "triage")
    client = app.test_client()
    back = sign_in(client, who.email.upper())  # the provider may spell it in capitals
    assert back.status_code == 303 and back.headers["Location"] == QUEUE
    queue = client.get(QUEUE)
    assert queue.status_code == 200 and "Signed in as Test Officer (triage)" in text_of(queue.text)


def test_the_page_asked_for_before_signing_in_opens_afterwards(app: Flask) -> None:
    who = officer(app, "admin")
    client = app.test_client()
    sent_to = client.get("/officer/sign-in/oidc?next=/officer/admin").headers["Location"]
    back = come_back(client, sign_in_at_provider(sent_to, who.email))
    assert back.headers["Location"] == "/officer/admin"


def test_sign_out_everywhere_ends_a_session_begun_through_the_provider(app: Flask) -> None:
    who = officer(app, "triage")
    here, there = app.test_client(), app.test_client()
    sign_in(here, who.email)
    sign_in(there, who.email)
    assert here.post("/officer/sign-out", data={"csrf_token": csrf(here.get(QUEUE).text)}).status_code == 303
    assert there.get(QUEUE).headers["Location"].startswith("/officer/sign-in")


# --- refusals, each with the real provider ------------------------------------------------------


def refusal_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "single sign-on" in r.getMessage()]


def test_a_tampered_id_token_is_refused(app: Flask, token_proxy: TokenProxy, caplog: pytest.LogCaptureFixture) -> None:
    officer(app, "triage")
    admin = officer(app, "admin")
    client = app.test_client()
    back_from_provider = sign_in_at_provider(start(client), "someone.else@council.example")
    token_proxy.change = lambda id_token: with_claim(id_token, email=admin.email)  # become the admin
    answer = come_back(client, back_from_provider)
    refused_with(answer, 400, "could not be verified, so you were not signed in")
    assert client.get(QUEUE).status_code == 302  # nobody is signed in
    assert refusal_logged(caplog) == ["single sign-on refused: id_token_signature"]


def test_an_id_token_for_another_service_is_refused(
    app: Flask, oidc_provider: Provider, another_service: Client, token_proxy: TokenProxy
) -> None:
    who = officer(app, "triage")
    client = app.test_client()
    sent_to = start(client)
    nonce = parse_qs(urlsplit(sent_to).query)["nonce"][0]
    back_from_provider = sign_in_at_provider(sent_to, who.email)
    # Genuinely signed by the provider, with this sign-in's nonce, but for another client.
    theirs = id_token_for(oidc_provider, another_service, who.email, nonce)
    token_proxy.change = lambda _: theirs
    refused_with(come_back(client, back_from_provider), 400, "answered for another service")
    assert client.get(QUEUE).status_code == 302


def test_an_expired_id_token_is_refused(app: Flask, now: FixedClock) -> None:
    who = officer(app, "triage")
    client = app.test_client()
    back_from_provider = sign_in_at_provider(start(client), who.email)
    now.advance(hours=1)  # the provider's ID tokens last 10 minutes
    refused_with(come_back(client, back_from_provider), 400, "had expired, so you were not signed in")


def test_an_id_token_issued_in_the_future_is_refused(
    app: Flask, now: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    who = officer(app, "triage")
    client = app.test_client()
    back_from_provider = sign_in_at_provider(start(client), who.email)
    now.advance(hours=-1)  # the service's clock is an hour behind the provider's: iat is ahead
    refused_with(come_back(client, back_from_provider), 400, "could not be verified")
    assert refusal_logged(caplog) == ["single sign-on refused: id_token_iat"]


def test_a_replayed_state_is_refused(app: Flask) -> None:
    who = officer(app, "triage")
    client = app.test_client()
    back_from_provider = sign_in_at_provider(start(client), who.email)
    assert come_back(client, back_from_provider).status_code == 303
    refused_with(come_back(client, back_from_provider), 400, "This sign-in had already been used")
    # In another browser, that never started it, too.
    refused_with(come_back(app.test_client(), back_from_provider), 400, "This sign-in had already been used")


def test_a_replayed_session_cookie_cannot_use_the_code_twice(app: Flask) -> None:
    """A copy of the browser's cookie from before the sign-in still holds the state; the provider
    refuses the code the second time."""
    who = officer(app, "triage")
    client = app.test_client()
    back_from_provider = sign_in_at_provider(start(client), who.email)
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert come_back(client, back_from_provider).status_code == 303
    copy = app.test_client()
    copy.set_cookie("session", cookie.value, domain="localhost")
    refused_with(come_back(copy, back_from_provider), 400, "did not sign you in")
    assert copy.get(QUEUE).status_code == 302


def test_an_unknown_email_is_refused_and_no_account_is_made(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    client = app.test_client()
    answer = sign_in(client, "stranger@council.example")
    refused_with(answer, 403, "There is no officer account for the email address of your council account")
    assert "Ask an administrator to add you" in text_of(answer.text)
    with app.app_context():
        assert db.session.scalar(select(Officer).where(Officer.email == "stranger@council.example")) is None
    assert refusal_logged(caplog) == ["single sign-on refused: unknown_email"]  # and not who it was


def test_an_unverified_email_is_refused_even_for_an_existing_officer(app: Flask) -> None:
    who = officer(app, "triage")
    answer = sign_in(app.test_client(), who.email, verified=False)
    refused_with(answer, 403, "says your email address is not verified")


def test_a_deactivated_officer_is_refused(app: Flask) -> None:
    who = officer(app, "triage")
    with app.app_context(), unit_of_work() as ctx:
        found = ctx.session.get(Officer, who.id)
        assert found is not None
        found.active = False
    refused_with(sign_in(app.test_client(), who.email), 403, "Your officer account is not active")


def test_an_answer_with_an_error_from_the_provider_is_refused(app: Flask) -> None:
    client = app.test_client()
    start(client)
    answer = client.get("/officer/sign-in/oidc/callback?error=access_denied&state=x")
    refused_with(answer, 400, "did not sign you in")


def test_single_sign_on_not_set_up_says_so(make_sso_app: Callable[..., Flask]) -> None:
    app = make_sso_app(GUARANTEE_OIDC_ISSUER=None)
    page = app.test_client().get("/officer/sign-in")
    assert "council account" not in page.text and 'name="password"' in page.text
    refused_with(app.test_client().get("/officer/sign-in/oidc"), 404, "is not set up for this service")


# --- the service's own two-step code ------------------------------------------------------------


def test_the_two_step_code_is_skipped_when_the_provider_did_multi_factor(app: Flask, now: FixedClock) -> None:
    who, _ = with_two_step(app, now, "triage")
    client = app.test_client()
    back = sign_in(client, who.email, mfa=True)
    assert back.headers["Location"] == QUEUE
    assert client.get(QUEUE).status_code == 200


def test_the_two_step_code_is_asked_when_the_provider_did_not_do_multi_factor(app: Flask, now: FixedClock) -> None:
    who, key = with_two_step(app, now, "triage")
    client = app.test_client()
    back = sign_in(client, who.email)
    assert back.headers["Location"] == "/officer/sign-in/code"
    assert client.get(QUEUE).status_code == 302  # not signed in yet
    page = client.get("/officer/sign-in/code")
    entered = client.post("/officer/sign-in/code", data={"csrf_token": csrf(page.text), "code": code(key, now)})
    assert entered.status_code == 303 and entered.headers["Location"] == QUEUE
    assert client.get(QUEUE).status_code == 200


def test_an_admin_who_must_use_two_step_need_not_set_it_up_after_multi_factor_at_the_provider(
    make_sso_app: Callable[..., Flask],
) -> None:
    app = make_sso_app(GUARANTEE_ADMIN_TWO_STEP=True)
    who = officer(app, "admin")
    with_mfa, without = app.test_client(), app.test_client()
    sign_in(with_mfa, who.email, mfa=True)
    assert with_mfa.get(QUEUE).status_code == 200
    sign_in(without, who.email)
    assert without.get(QUEUE).headers["Location"] == "/officer/two-step"


@pytest.mark.parametrize(
    ("amr", "acr", "counts"),
    [
        (("pwd", "mfa"), None, True),
        (("pwd",), "urn:test:mfa", True),  # acr, as configured
        (("pwd",), "urn:test:pwd", False),
        ((), None, False),
    ],
)
def test_multi_factor_is_read_from_amr_or_the_configured_acr(
    amr: tuple[str, ...], acr: str | None, counts: bool
) -> None:
    said = ProviderSignIn(email="a@council.example", email_verified=True, name=None, amr=amr, acr=acr)
    assert multi_factor(said, ("urn:test:mfa",)) is counts


# --- accounts made by signing in -----------------------------------------------------------------


def test_staff_of_an_allowed_domain_get_an_account_with_no_roles_until_an_admin_grants_them(app: Flask) -> None:
    admin = officer(app, "admin")
    admins = app.test_client()
    sign_in(admins, admin.email)
    page = admins.get("/officer/admin/sign-in-domains")
    assert "No domain is allowed" in text_of(page.text)
    added = admins.post(
        "/officer/admin/sign-in-domains", data={"csrf_token": csrf(page.text), "domain": "@Newtown.Example"}
    )
    assert added.status_code == 303
    assert "newtown.example" in text_of(admins.get("/officer/admin/sign-in-domains").text)

    newcomer = app.test_client()
    back = sign_in(newcomer, "new.starter@newtown.example")
    assert back.headers["Location"] == "/officer/no-roles-yet"
    first_page = text_of(newcomer.get("/officer/no-roles-yet").text)
    assert "An administrator must give you the roles your work needs" in first_page
    assert newcomer.get(QUEUE).status_code == 403  # nothing to do yet
    assert "None yet: give this officer a role" in text_of(admins.get("/officer/admin").text)

    with app.app_context():
        made = db.session.scalar(select(Officer).where(Officer.email == "new.starter@newtown.example"))
        assert made is not None and made.roles == frozenset() and not made.must_change_password
        made_id = made.id
    account = admins.get(f"/officer/admin/{made_id}")
    granted = admins.post(
        f"/officer/admin/{made_id}/roles", data={"csrf_token": csrf(account.text), "roles": ["triage"]}
    )
    assert granted.status_code == 303
    assert newcomer.get(QUEUE).status_code == 200
    with app.app_context():
        log = [
            (e.action, e.actor_id, e.officer_id, e.payload)
            for e in db.session.scalars(select(AdminEvent).order_by(AdminEvent.seq))
        ]
    assert ("sign_in_domain_allowed", admin.id, None, {"domain": "newtown.example"}) in log
    assert ("account_made_by_signing_in", made_id, made_id, {"domain": "newtown.example"}) in log
    assert ("roles_changed", admin.id, made_id, {"before": [], "after": ["triage"]}) in log


def test_an_account_made_by_signing_in_has_no_usable_password(app: Flask) -> None:
    admin = officer(app, "admin")
    with app.app_context(), unit_of_work() as ctx:
        from guarantee.single_sign_on.officers import allow_domain

        allow_domain(ctx, admin.actor, "newtown.example")
    sign_in(app.test_client(), "new.starter@newtown.example")
    client = app.test_client()
    page = client.get("/officer/sign-in")
    answer = client.post(
        "/officer/sign-in",
        data={"csrf_token": csrf(page.text), "email": "new.starter@newtown.example", "password": "!single-sign-on"},
    )
    assert answer.status_code == 400


def test_a_removed_domain_lets_no_new_account_be_made(app: Flask) -> None:
    admin = officer(app, "admin")
    admins = app.test_client()
    sign_in(admins, admin.email)
    page = admins.get("/officer/admin/sign-in-domains")
    admins.post("/officer/admin/sign-in-domains", data={"csrf_token": csrf(page.text), "domain": "newtown.example"})
    page = admins.get("/officer/admin/sign-in-domains")
    removed = admins.post(
        "/officer/admin/sign-in-domains/remove", data={"csrf_token": csrf(page.text), "domain": "newtown.example"}
    )
    assert removed.status_code == 303
    assert "No domain is allowed" in text_of(admins.get("/officer/admin/sign-in-domains").text)
    refused_with(sign_in(app.test_client(), "late@newtown.example"), 403, "There is no officer account")
    with app.app_context():
        actions = list(db.session.scalars(select(AdminEvent.action).order_by(AdminEvent.seq)))
    assert actions[-2:] == ["sign_in_domain_allowed", "sign_in_domain_removed"]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter an email domain, like council.example"),
        ("not a domain", "Enter an email domain in the correct format"),
        ("someone@", "Enter an email domain in the correct format"),
    ],
)
def test_a_domain_in_the_wrong_format_is_refused_with_a_message(app: Flask, typed: str, message: str) -> None:
    admins = app.test_client()
    sign_in(admins, officer(app, "admin").email)
    page = admins.get("/officer/admin/sign-in-domains")
    answer = admins.post("/officer/admin/sign-in-domains", data={"csrf_token": csrf(page.text), "domain": typed})
    assert answer.status_code == 400 and message in text_of(answer.text)


def test_a_domain_allowed_twice_is_refused(app: Flask) -> None:
    admins = app.test_client()
    sign_in(admins, officer(app, "admin").email)
    for status in (303, 400):
        page = admins.get("/officer/admin/sign-in-domains")
        answer = admins.post(
            "/officer/admin/sign-in-domains", data={"csrf_token": csrf(page.text), "domain": "a.example"}
        )
        assert answer.status_code == status
    assert "This domain is already allowed" in text_of(answer.text)


def test_only_an_admin_may_allow_domains(app: Flask) -> None:
    client = app.test_client()
    sign_in(client, officer(app, "triage", "team_leader").email)
    assert client.get("/officer/admin/sign-in-domains").status_code == 403


# --- password sign-in turned off -------------------------------------------------------------------


def test_with_password_sign_in_off_the_page_offers_only_the_council_account(make_sso_app: Callable[..., Flask]) -> None:
    app = make_sso_app(GUARANTEE_PASSWORD_SIGN_IN=False, GUARANTEE_OIDC_NAME="Sign in with Newtown Council")
    who = officer(app, "triage")
    client = app.test_client()
    page = client.get("/officer/sign-in")
    assert "Sign in with Newtown Council" in page.text and 'name="password"' not in page.text
    answer = client.post("/officer/sign-in", data={"email": who.email, "password": "correct horse battery staple"})
    refused_with(answer, 403, "Signing in with a password is turned off")
    assert sign_in(client, who.email).headers["Location"] == QUEUE
    assert "Change your password" not in client.get(QUEUE).text


def test_with_password_sign_in_off_the_api_says_no_token_can_be_had_with_a_password(
    make_sso_app: Callable[..., Flask],
) -> None:
    app = make_sso_app(GUARANTEE_PASSWORD_SIGN_IN=False)
    who = officer(app, "triage")
    answer = app.test_client().post(
        "/api/v1/tokens", json={"email": who.email, "password": "correct horse battery staple"}
    )
    assert answer.status_code == 403
    assert "Signing in with a password is turned off" in answer.json["detail"]  # type: ignore[index]


def test_password_sign_in_cannot_be_turned_off_without_single_sign_on(make_sso_app: Callable[..., Flask]) -> None:
    with pytest.raises(ConfigurationError, match="GUARANTEE_PASSWORD_SIGN_IN=off needs single sign-on"):
        make_sso_app(GUARANTEE_PASSWORD_SIGN_IN=False, GUARANTEE_OIDC_ISSUER=None)
    with pytest.raises(ConfigurationError, match="set GUARANTEE_OIDC_CLIENT_ID"):
        make_sso_app(GUARANTEE_OIDC_CLIENT_SECRET=None)
    with pytest.raises(ConfigurationError, match="https:// address in production"):
        make_sso_app(GUARANTEE_ENVIRONMENT="production", GUARANTEE_BASE_URL="https://guarantee.council.example")


def test_a_client_secret_file_that_cannot_be_read_stops_the_start(
    make_sso_app: Callable[..., Flask], tmp_path: Path, service_at_provider: Client
) -> None:
    secret = tmp_path / "oidc-secret"
    with pytest.raises(ConfigurationError, match=r"GUARANTEE_OIDC_CLIENT_SECRET_FILE .* cannot be read"):
        make_sso_app(GUARANTEE_OIDC_CLIENT_SECRET=None, GUARANTEE_OIDC_CLIENT_SECRET_FILE=str(secret))
    secret.write_text(service_at_provider.client_secret + "\n")
    app = make_sso_app(GUARANTEE_OIDC_CLIENT_SECRET=None, GUARANTEE_OIDC_CLIENT_SECRET_FILE=str(secret))
    who = officer(app, "triage")
    assert sign_in(app.test_client(), who.email).headers["Location"] == QUEUE


def test_a_provider_that_does_not_answer_gets_a_clear_page(make_sso_app: Callable[..., Flask]) -> None:
    app = make_sso_app(GUARANTEE_OIDC_ISSUER="http://127.0.0.1:9")  # nothing listens on the discard port
    answer = app.test_client().get("/officer/sign-in/oidc")
    assert answer.status_code == 502
    assert "The council's sign-in service did not answer" in text_of(answer.text)


def test_the_settings_are_read_from_the_environment() -> None:
    from guarantee.config import from_environment

    settings = from_environment(
        {
            "GUARANTEE_OIDC_ISSUER": "https://login.council.example/realms/staff/",
            "GUARANTEE_OIDC_CLIENT_ID": "guarantee",
            "GUARANTEE_OIDC_CLIENT_SECRET_FILE": "/run/secrets/oidc",
            "GUARANTEE_OIDC_MFA_ACR": "urn:council:mfa, gold",
            "GUARANTEE_PASSWORD_SIGN_IN": "off",
        }
    )
    assert settings["GUARANTEE_OIDC_ISSUER"] == "https://login.council.example/realms/staff"
    assert settings["GUARANTEE_OIDC_MFA_ACR"] == ("urn:council:mfa", "gold")
    assert settings["GUARANTEE_PASSWORD_SIGN_IN"] is False
    with pytest.raises(ValueError, match="GUARANTEE_PASSWORD_SIGN_IN must be on or off"):
        from_environment({"GUARANTEE_PASSWORD_SIGN_IN": "maybe"})
