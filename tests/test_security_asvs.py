"""Security checks as tests, each named after the OWASP ASVS 5.0 requirement it verifies.

Numbering is ASVS 5.0.0 (chapters V2 Validation and Business Logic, V3 Web Frontend Security,
V5 File Handling, V6 Authentication, V7 Session Management, V8 Authorization, V11 Cryptography,
V14 Data Protection, V16 Security Logging and Error Handling). Where ASVS has no requirement
that says exactly what is checked (tokens stored only as hashes), the docstring names the
nearest requirements and says so.

Related checks kept elsewhere, not repeated here: tests/test_security_headers.py (the header
values on a few paths; generalised below to every route, error and file), tests/test_rate_limits.py
(filing and tracking-link counts shared in Redis; sign-in is added below), and
tests/test_console_matrix.py (every console action by every role; the API's matrix is below).

Most tests share one app per backend and worker (``world``: an API token and a signed-in
console browser per role, argon2id made quick); a test that moves the clock or needs its own
settings gets an app of its own.
"""

from __future__ import annotations

import html
import inspect
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pyotp
import pytest
import redis
from argon2 import PasswordHasher
from argon2.low_level import Type
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

import guarantee.api.auth
import guarantee.services.claims
import guarantee.services.officers
import guarantee.services.tokens
from guarantee import create_app
from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.models import AuditEvent, Claim, Officer, OfficerToken, Regulation, RuleSubscription, TrackingToken
from guarantee.models.register import DecisionStatement
from guarantee.public.forms import PAGES
from guarantee.services import data_rights, following, two_step, two_step_secrets
from guarantee.services.actors import GroupActor, OfficerActor
from guarantee.services.claims import token_hash
from guarantee.services.evidence import add_evidence
from guarantee.services.officers import create_officer
from guarantee.webhooks import delivery, endpoints, urls
from tests.api_support import CLAIMS, assert_problem, new_officer
from tests.api_support import sign_in as api_sign_in
from tests.asvs_support import (
    Captured,
    Tracked,
    World,
    changed_tables,
    claims_in,
    files_under,
    snapshot,
)
from tests.conftest import REDIS_URL, START, Database, _app_config
from tests.helpers import INPUTS, PASSWORD, VALID_SUBMISSION
from tests.support.filing import answer_page, fill_pages
from tests.support.remedies import open_follow_up, waiting_check_in
from tests.test_console import SIGN_IN, claim_now, is_signed_out, officer, sign_in
from tests.test_public import (
    HTML_PAGE,
    PDF,
    PNG,
    VALID_FORM,
    csrf,
    fields,
    file_claim_on_web,
    module_app,
    open_link,
    post_multipart,
    text_of,
)
from workflows import TRANSITIONS_BY_TRIGGER
from workflows.vocabulary import ROLES

OWASP_MINIMUM = {"m": 19456, "t": 2, "p": 1}  # OWASP Password Storage Cheat Sheet: argon2id floor
EXPIRED = re.compile(r"expired", re.I)  # what every CSRF refusal says: the page had expired
needs_redis = pytest.mark.skipif(REDIS_URL is None, reason="no Redis answers here (CI requires one)")


def _argon2_parameters(encoded: str) -> dict[str, int]:
    found = re.fullmatch(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[^$]+\$[^$]+", encoded)
    assert found, f"not an argon2id hash: {encoded[:30]}"
    return {"m": int(found[1]), "t": int(found[2]), "p": int(found[3])}


def _stored_hash(app: Flask, email: str) -> str:
    with app.app_context():
        found = db.session.scalar(select(Officer.password_hash).where(Officer.email == email))
        db.session.rollback()
        assert found is not None
        return found


# --- the shared app ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_world(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("asvs")
    app = module_app(database, folder)
    callers = {role: new_officer(app, role) for role in ROLES}
    browsers = {}
    for role, caller in callers.items():
        browser = app.test_client()
        assert sign_in(browser, caller.email or "").status_code == 303
        browsers[role] = browser
    yield World(app, callers, browsers)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def world(shared_world: World) -> World:
    """The shared world, its clock back at conftest's START (officers' tokens are still live)."""
    shared_world.app.extensions["guarantee.clock"].set(START)
    return shared_world


@pytest.fixture
def captured_logs() -> Iterator[Captured]:
    """Logs at DEBUG from every logger, as an operator turning logging up would get them."""
    handler = Captured()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


# --- V11.4.2 / V6: passwords ---------------------------------------------------------------


@pytest.mark.usefixtures("real_password_hashing")
def test_v11_4_2_passwords_are_stored_with_argon2id_at_or_above_the_owasp_minimum(app: Flask) -> None:
    """ASVS 5.0 V11.4.2: passwords are stored with an approved, computationally intensive key
    derivation function, with parameters set by current guidance (OWASP: argon2id with at least
    m=19456 KiB, t=2, p=1). Checked on the hash an officer account really gets."""
    with app.app_context(), unit_of_work() as ctx:
        create_officer(ctx, email="argon@council.example", name="A", roles=["triage"], password=PASSWORD)
    stored = _stored_hash(app, "argon@council.example")
    parameters = _argon2_parameters(stored)
    assert all(parameters[k] >= minimum for k, minimum in OWASP_MINIMUM.items()), parameters
    assert guarantee.services.officers._hasher.type is Type.ID
    assert PASSWORD not in stored


@pytest.mark.parametrize("surface", ["console", "api"])
def test_v11_4_2_a_password_hashed_with_older_parameters_is_hashed_again_at_sign_in(
    app: Flask, monkeypatch: pytest.MonkeyPatch, surface: str
) -> None:
    """ASVS 5.0 V11.4.2 (parameters follow current guidance): when the argon2id parameters are
    raised, each officer's stored hash is upgraded at their next successful sign-in, on the
    console and the API alike; a wrong password changes nothing."""
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    current = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
    email = f"old-hash-{surface}@council.example"
    with app.app_context(), unit_of_work() as ctx:
        made = create_officer(ctx, email=email, name="Old Hash", roles=["triage"], password=PASSWORD)
        made.password_hash = weak.hash(PASSWORD)  # as hashed years ago, with the settings of then
    monkeypatch.setattr(guarantee.services.officers, "_hasher", current)
    before = _stored_hash(app, email)

    def attempt(password: str) -> int:
        if surface == "console":
            return sign_in(app.test_client(), email, password).status_code
        return api_sign_in(app.test_client(), email, password).status_code

    assert attempt("not the password at all") in (400, 401)
    assert _stored_hash(app, email) == before, "a failed sign-in leaves the hash alone"
    assert attempt(PASSWORD) in (201, 303)
    after = _stored_hash(app, email)
    assert _argon2_parameters(after) == {"m": 19456, "t": 2, "p": 1}
    assert current.verify(after, PASSWORD)
    assert attempt(PASSWORD) in (201, 303)
    assert _stored_hash(app, email) == after, "an up-to-date hash is not made again at every sign-in"


# --- V7: console sessions ------------------------------------------------------------------


def _session_cookie(client: FlaskClient, app: Flask) -> str | None:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return cookie.value if cookie else None


def _browser_with(app: Flask, cookie_value: str) -> FlaskClient:
    """Another browser holding a copy of a session cookie (as someone who copied it would)."""
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie_value)
    return other


def test_v7_2_4_signing_in_starts_a_new_session_and_the_one_before_gains_nothing(app: Flask) -> None:
    """ASVS 5.0 V7.2.4: a new session token is generated on authentication and the current one
    ends. The cookie of the browser before signing in (which someone could have planted or
    copied) stays signed out, and its CSRF token is no longer accepted."""
    who = officer(app, "triage")
    client = app.test_client()
    page = client.get(SIGN_IN)
    before, old_csrf = _session_cookie(client, app), csrf(page.text)
    assert before, "the sign-in page's form already has a session (its CSRF token)"

    assert (
        client.post(SIGN_IN, data={"csrf_token": old_csrf, "email": who.email, "password": PASSWORD}).status_code == 303
    )
    after = _session_cookie(client, app)
    assert after and after != before
    assert not is_signed_out(client)
    assert is_signed_out(_browser_with(app, before)), "the session from before signing in is not signed in"
    # Nothing of the old session carries over, not even its CSRF token.
    refused = client.post("/officer/sign-out", data={"csrf_token": old_csrf})
    assert refused.status_code == 400 and not is_signed_out(client)


def test_v7_4_1_signing_out_ends_the_session_on_the_server_so_a_copied_cookie_is_useless(app: Flask) -> None:
    """ASVS 5.0 V7.4.1: when a session ends by signing out, it cannot be used again: the
    session is ended on the server (the officer's session nonce), so a copy of the cookie taken
    before signing out, and every other session of the officer, are signed out too."""
    who = officer(app, "reviewer")
    client, elsewhere = app.test_client(), app.test_client()
    assert sign_in(client, who.email).status_code == 303
    assert sign_in(elsewhere, who.email).status_code == 303
    copied = _session_cookie(client, app)
    assert copied and not is_signed_out(_browser_with(app, copied))

    queue = client.get("/officer").text
    assert client.post("/officer/sign-out", data={"csrf_token": csrf(queue)}).status_code == 303

    assert is_signed_out(client)
    assert is_signed_out(_browser_with(app, copied)), "the copied cookie no longer opens the console"
    assert is_signed_out(elsewhere), "the officer's other sessions ended too (V7.4.1)"


def test_v7_3_1_a_console_session_ends_after_15_minutes_without_a_page(app: Flask, clock: Any) -> None:
    """ASVS 5.0 V7.3.1: an inactivity timeout forces signing in again (15 minutes, DESIGN 8),
    counted by the service's clock, including for a copy of the cookie kept from earlier."""
    who = officer(app, "triage")
    client = app.test_client()
    assert sign_in(client, who.email).status_code == 303
    kept = _session_cookie(client, app)
    assert kept
    clock.advance(minutes=14, seconds=59)
    assert not is_signed_out(client), "14:59 without a page: still signed in"
    clock.advance(minutes=14, seconds=59)
    assert not is_signed_out(client), "each page restarts the 15 minutes"
    assert is_signed_out(_browser_with(app, kept)), "the older cookie's 15 minutes are over"
    clock.advance(minutes=15, seconds=1)
    assert is_signed_out(client)


def test_v7_3_2_a_console_session_ends_8_hours_after_signing_in_however_busy(app: Flask, clock: Any) -> None:
    """ASVS 5.0 V7.3.2: an absolute maximum session lifetime (8 hours, DESIGN 8), whatever the
    activity, by the service's clock."""
    who = officer(app, "admin")
    client = app.test_client()
    assert sign_in(client, who.email).status_code == 303
    for _ in range(8 * 60 // 14):
        clock.advance(minutes=14)
        assert not is_signed_out(client)
    clock.set(START + timedelta(hours=8, seconds=1))
    assert is_signed_out(client)
    assert sign_in(app.test_client(), who.email).status_code == 303, "signing in again works"


def test_v7_3_1_v7_3_2_a_groups_tracking_session_ends_after_an_hour_idle_and_12_hours_in_all(app: Flask) -> None:
    """ASVS 5.0 V7.3.1 and V7.3.2 for the group's session (the cookie a tracking link is swapped
    for): an hour without a page ends it, and 12 hours after the link was opened it ends however
    busy. Both limits count by the service's clock."""
    clock = app.extensions["guarantee.clock"]
    (claim,) = claims_in(app, "submitted")
    client = app.test_client()
    assert open_link(client, claim.link).status_code in (302, 303)
    page = f"/track/{claim.reference}"
    assert client.get(page).status_code == 200

    clock.advance(minutes=59)
    assert client.get(page).status_code == 200, "59 minutes idle: still open"
    clock.advance(minutes=61)
    assert client.get(page).status_code != 200, "61 minutes idle: ended"

    busy = app.test_client()
    assert open_link(busy, claim.link).status_code in (302, 303)
    opened = clock.now()
    for _ in range(12 * 60 // 50):
        clock.advance(minutes=50)
        assert busy.get(page).status_code == 200
    clock.set(opened + timedelta(hours=12, minutes=1))
    assert busy.get(page).status_code != 200, "12 hours after the link was opened: ended"


# --- V3.3: cookies -------------------------------------------------------------------------


def _cookies_set(responses: list[TestResponse]) -> dict[str, set[str]]:
    """name -> the attributes (lower-cased, "samesite=lax", "secure", ...) of each cookie set."""
    found: dict[str, set[str]] = {}
    for response in responses:
        for header in response.headers.getlist("Set-Cookie"):
            first, *attributes = (part.strip() for part in header.split(";"))
            found.setdefault(first.split("=", 1)[0], set()).update(a.lower() for a in attributes)
    return found


def test_v3_3_1_to_v3_3_4_every_cookie_is_host_prefixed_secure_httponly_and_samesite(
    fresh_url: str, tmp_path: Path
) -> None:
    """ASVS 5.0 V3.3.1 (Secure, and a __Host- or __Secure- prefix), V3.3.2 (SameSite set for the
    cookie's purpose), V3.3.3 (__Host- unless meant for other hosts) and V3.3.4 (HttpOnly for
    values scripts need not read): every cookie the service sets, on a journey that touches each
    of them (the claim form's session, the tracking cookie, the console's session from sign-in
    to sign-out), as served at an https address."""
    app = create_app(
        _app_config(
            fresh_url,
            GUARANTEE_BASE_URL="https://guarantee.example",
            PREFERRED_URL_SCHEME="https",
            GUARANTEE_EVIDENCE_DIR=str(tmp_path / "evidence"),
        )
    )
    try:
        seen: list[TestResponse] = []

        def keep(response: TestResponse) -> TestResponse:
            seen.append(response)
            return response

        group = app.test_client()
        keep(group.get("/claims/new/group"))
        filed = file_claim_on_web(group)
        keep(open_link(group, filed.link))
        keep(group.get(filed.path))

        who = officer(app, "admin")
        console = app.test_client()
        keep(console.get(SIGN_IN))
        keep(sign_in(console, who.email))
        queue = keep(console.get("/officer"))
        keep(console.post("/officer/sign-out", data={"csrf_token": csrf(queue.text)}))
    finally:
        with app.app_context():
            db.engine.dispose()
    cookies = _cookies_set(seen)
    assert set(cookies) == {"__Host-session", "__Host-tracking"}, cookies
    for name, attributes in cookies.items():
        assert {"secure", "httponly", "path=/"} <= attributes, (name, attributes)
        assert attributes & {"samesite=lax", "samesite=strict"}, (name, attributes)
        assert not any(a.startswith("domain=") for a in attributes), (name, attributes)


# --- V3.5: CSRF on every form, no change on GET -----------------------------------------


def _html_posts(app: Flask) -> set[str]:
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and not rule.rule.startswith("/api/")
    }


# POST routes that take no CSRF token, and why. The one-click unsubscribe of RFC 8058: a mail
# program POSTs "List-Unsubscribe=One-Click" to the e-mail's own address, whose unguessable token
# is the proof (and all it can do is stop e-mails to that one address).
CSRF_EXEMPT = {"rules.unsubscribe"}


def _gets(app: Flask) -> list[Any]:
    return [rule for rule in app.url_map.iter_rules() if "GET" in (rule.methods or ())]


# A public address, written as one: the tests' settings allow neither http nor private addresses,
# and the URL check accepts this one as it is, resolving no name.
WEBHOOK_URL = "https://93.184.215.14/in"


def _a_turned_off_webhook(world: World) -> int:
    """A webhook endpoint the admin added, turned off after repeated failures (so that its page
    offers to turn it back on)."""
    admin = world.callers["admin"].officer_id
    assert admin is not None
    with world.app.app_context(), unit_of_work() as ctx:
        endpoint = endpoints.add(
            ctx,
            OfficerActor(admin),
            world.app.extensions["guarantee.two_step_key"],
            urls.Policy(),
            url=f"{WEBHOOK_URL}/{uuid.uuid4().hex[:8]}",
            description="Casework CRM",
            events=["claim.submitted"],
        ).endpoint
        endpoint.turned_off_at, endpoint.consecutive_failures = ctx.now(), delivery.TURN_OFF_AFTER
        return endpoint.id


@pytest.fixture
def csrf_targets(world: World) -> dict[str, Any]:
    """What the forms act on: claims in the states their forms need, an officer account, a
    catalogue entry, a group's browser with its tracking cookie."""
    app = world.app
    (submitted,) = claims_in(app, "submitted")
    (reviewing,) = claims_in(app, "under_review")
    (asked,) = claims_in(app, "awaiting_information")
    (decided,) = claims_in(app, "not_upheld")
    with app.app_context():
        regulation_id = db.session.scalar(select(Claim.regulation_id).where(Claim.reference == reviewing.reference))
        statement_id = db.session.scalar(
            select(DecisionStatement.id)
            .join(Claim, Claim.id == DecisionStatement.claim_id)
            .where(Claim.reference == decided.reference)
        )
        db.session.rollback()
    account = officer(app, "triage")
    # A browser half-way through signing in: the password was right, the two-step code is next.
    two_step_officer = officer(app, "reviewer")
    secret = pyotp.random_base32()
    with app.app_context(), unit_of_work() as ctx:
        assert ctx.two_step_key is not None
        two_step_secrets.keep_in_use(ctx.two_step_key, ctx.session.get_one(Officer, two_step_officer.id), secret)
    halfway = app.test_client()
    assert sign_in(halfway, two_step_officer.email).status_code == 303
    code = pyotp.TOTP(secret, interval=two_step.STEP_SECONDS).at(app.extensions["guarantee.clock"].now())
    group = app.test_client()
    for claim in (submitted, asked, decided):
        open_link(group, claim.link)
    ended = "ended-" + uuid.uuid4().hex  # a link of the submitted claim that has ended
    with app.app_context(), unit_of_work() as ctx:
        claim_id = ctx.session.scalar(select(Claim.id).where(Claim.reference == submitted.reference))
        then = ctx.now() - timedelta(days=40)
        ctx.session.add(
            TrackingToken(
                claim_id=claim_id, token_hash=token_hash(ended), created_at=then, expires_at=then + timedelta(days=30)
            )
        )
    with app.app_context(), unit_of_work() as ctx:  # a check-in to answer, and a follow-up to close
        check_in, follow_up = waiting_check_in(ctx, decided.reference), open_follow_up(ctx, decided.reference)
    with app.app_context(), unit_of_work() as ctx:  # someone asked to follow the rule, and one follows it
        slug = ctx.session.get_one(Regulation, regulation_id).slug
        addresses = [f"{who}-{uuid.uuid4().hex[:6]}@example.net" for who in ("asking", "following")]
        for address in addresses:
            following.follow(ctx, regulation_id, address)
        ids = dict(ctx.session.execute(select(RuleSubscription.email, RuleSubscription.id)).all())
        confirm = following.mint(ctx, ids[addresses[0]], "confirm")
        unsubscribe = following.mint(ctx, ids[addresses[1]], "unsubscribe")
    with app.app_context(), unit_of_work() as ctx:  # requests by post to see the group's data, and to erase it
        by = OfficerActor(world.callers["admin"].officer_id)
        made = {
            kind: data_rights.record_request(
                ctx, reviewing.reference, by, kind=kind, channel="post", received_on=ctx.today(), note=None
            ).id
            for kind in ("access", "erasure")
        }
    return {
        "webhook": f"/officer/webhooks/{_a_turned_off_webhook(world)}",
        "access_request": f"/officer/data-rights/{made['access']}",
        "erasure_request": f"/officer/data-rights/{made['erasure']}",
        "check_in": f"/check-in/{decided.reference}?token={check_in}",
        "follow_up": f"/officer/remedy-follow-ups/{follow_up}",
        "slug": slug,
        "confirm": confirm,
        "unsubscribe": unsubscribe,
        "ended_link": f"/track/{submitted.reference}?token={ended}",
        "submitted": submitted,
        "reviewing": reviewing,
        "asked": asked,
        "decided": decided,
        "regulation_id": regulation_id,
        "statement": f"/officer/statements/{statement_id}",
        "account": account,
        "group": group,
        "halfway": halfway,
        "code": code,
    }


def _csrf_cases(world: World, t: dict[str, Any]) -> list[tuple[str, FlaskClient, str, str, dict[str, Any]]]:
    """(endpoint, browser, the page with the form, where it posts, answers beyond the page's own
    fields) for every form of the service that changes something."""
    admin = world.browsers["admin"]
    group: FlaskClient = t["group"]
    s, r, a, d = t["submitted"], t["reviewing"], t["asked"], t["decided"]
    claim_page = f"/officer/claims/{r.reference}"
    account = f"/officer/admin/{t['account'].id}"
    entry = f"/officer/regulations/{t['regulation_id']}"
    rule_page = f"/rules/{t['slug']}"
    anonymous = world.app.test_client()
    return [
        ("console.sign_in", anonymous, SIGN_IN, SIGN_IN, {"email": world.callers["admin"].email, "password": PASSWORD}),
        ("console.sign_in_code", t["halfway"], "/officer/sign-in/code", "/officer/sign-in/code", {"code": t["code"]}),
        ("console.sign_out", admin, "/officer", "/officer/sign-out", {}),
        (
            "console.password",
            admin,
            "/officer/password",
            "/officer/password",
            {
                "current_password": PASSWORD,
                "new_password": "a brand new password",
                "confirm_password": "a brand new password",
            },
        ),
        *[
            ("console.two_step_change", admin, "/officer/two-step", f"/officer/two-step/{change}", {})
            for change in ("start", "confirm", "cancel", "turn-off")
        ],
        (
            "console.act",
            admin,
            f"/officer/claims/{s.reference}/actions/accept",
            f"/officer/claims/{s.reference}/actions/accept",
            _form_answers("accept"),
        ),
        (
            "console.act",
            admin,
            f"{claim_page}/actions/uphold",
            f"{claim_page}/actions/uphold",
            {
                "uphold-reasons": "Reasons enough.",
                "uphold-remedy": "waiver",
            },
        ),
        ("console.classification", admin, claim_page, f"{claim_page}/classification", {}),
        ("console.note", admin, claim_page, f"{claim_page}/notes", {"note-note": "A note", "note": "A note"}),
        ("console.contact", admin, claim_page, f"{claim_page}/contact", {}),
        (
            "console.assignee",
            admin,
            claim_page,
            f"{claim_page}/assignee",
            {"assignee": str(world.callers["admin"].officer_id)},
        ),
        (
            "console.bulk",
            admin,
            "/officer",
            "/officer/bulk",
            {
                "reference": s.reference,
                "action": "assign",
                "assignee": str(world.callers["admin"].officer_id),
            },
        ),
        ("console.save_filter", admin, "/officer", "/officer/filters", {"name": "Mine", "assignee": "me"}),
        ("console.delete_filter", admin, "/officer", "/officer/filters/1/delete", {}),
        (
            "console.reassign",
            admin,
            "/officer/team",
            f"/officer/team/{world.callers['admin'].officer_id}/reassign",
            {"assignee": str(world.callers["admin"].officer_id)},
        ),
        ("console.mail_settings", admin, "/officer/settings/email", "/officer/settings/email", {}),
        ("console.regulation", admin, entry, entry, {"title": "Corrected title"}),
        ("console.merge_regulation", admin, entry, f"{entry}/merge", {}),
        (
            "console.officers",
            admin,
            "/officer/admin",
            "/officer/admin",
            {
                "email": f"new-{uuid.uuid4().hex[:6]}@council.example",
                "name": "New Officer",
                "roles": "triage",
            },
        ),
        *[
            ("console.change_officer", admin, account, f"{account}/{change}", {"roles": "reviewer"})
            for change in ("roles", "deactivate", "reset-password", "reset-two-step", "revoke-tokens", "reactivate")
        ],
        # single sign-on (issue 24): the e-mail domains whose staff may make an account by signing in
        (
            "console.sign_in_domains",
            admin,
            "/officer/admin/sign-in-domains",
            "/officer/admin/sign-in-domains",
            {"domain": "csrf.example"},
        ),
        (
            "console.remove_sign_in_domain",
            admin,
            "/officer/admin/sign-in-domains",
            "/officer/admin/sign-in-domains/remove",
            {"domain": "csrf.example"},
        ),
        # signed webhooks (issue 24)
        (
            "console.add_webhook",
            admin,
            "/officer/webhooks/new",
            "/officer/webhooks/new",
            {"url": f"{WEBHOOK_URL}/csrf", "description": "CSRF CRM", "events": "claim.moved"},
        ),
        ("console.turn_webhook_on", admin, t["webhook"], f"{t['webhook']}/turn-on", {}),
        ("console.remove_webhook", admin, t["webhook"], f"{t['webhook']}/remove", {}),
        ("console.try_message_again", admin, "/officer/messages", "/officer/messages/1/try-again", {}),
        ("console.close_remedy_follow_up", admin, t["follow_up"], t["follow_up"], {"note": "Rang the council."}),
        ("console.edit_statement", admin, t["statement"], f"{t['statement']}/summary", {"edit-summary": "A summary."}),
        ("console.approve_statement", admin, t["statement"], f"{t['statement']}/approve", {}),
        (
            "console.withdraw_statement",
            admin,
            t["statement"],
            f"{t['statement']}/withdraw",
            {"withdraw-reason": "Why."},
        ),
        ("console.publish_statistics", admin, "/officer/statistics", "/officer/statistics", {}),
        (
            "console.record_data_rights",
            admin,
            f"{claim_page}/data-rights",
            f"{claim_page}/data-rights",
            {"kind": "access", "channel": "email"},
        ),
        ("console.data_rights_copy", admin, t["access_request"], f"{t['access_request']}/copy", {"format": "json"}),
        ("console.data_rights_erase", admin, t["erasure_request"], f"{t['erasure_request']}/erase", {}),
        (
            "console.erase",
            admin,
            f"{claim_page}/erase",
            f"{claim_page}/erase",
            {"channel": "post", "reason": "A letter."},
        ),
        (
            "public.question",
            app_client(world),
            "/claims/new/contact",
            "/claims/new/contact",
            {k: VALID_FORM[k] for k in ("group_email", "group_phone", "consent_contact", "consent_publish")},
        ),
        ("public.submit", app_client(world), _check_answers_page, "/claims/new/submit", {}),
        (
            "public.lost_link",
            app_client(world),
            "/track",
            "/track",
            {
                "reference": s.reference,
                "email": VALID_SUBMISSION["group"]["email"],
            },
        ),
        (
            "public.act",
            group,
            a_path(a),
            f"{a_path(a)}/actions/provide_information",
            {
                "provide_information-answer": "Twelve volunteers.",
            },
        ),
        ("public.act", group, a_path(d), f"{a_path(d)}/actions/appeal", {"appeal-grounds": "Grounds."}),
        ("public.act", group, f"{a_path(s)}/actions/withdraw", f"{a_path(s)}/actions/withdraw", {}),
        ("public.change_contact", group, a_path(s), f"{a_path(s)}/contact", {"email": "new.address@example.org"}),
        ("public.change_written_language", group, a_path(s), f"{a_path(s)}/language", {"language": "cy"}),
        ("public.upload_evidence", group, a_path(s), f"{a_path(s)}/evidence", {"file": (PDF, "evidence.pdf")}),
        ("public.produce_your_data", group, f"{a_path(s)}/your-data", f"{a_path(s)}/your-data", {"format": "json"}),
        ("public.ask_for_erasure", group, f"{a_path(s)}/erase", f"{a_path(s)}/erase", {}),
        # The page of a link that has ended (410), whose one button sends a fresh link.
        ("public.send_new_link", app_client(world), t["ended_link"], f"{a_path(s)}/new-link", {}),
        (
            "public.answer_check_in",
            app_client(world),
            t["check_in"],
            f"/check-in/{d.reference}",
            {"answer": "remedy_not_in_place"},
        ),
        (
            "public.similar_rules",
            app_client(world),
            _similar_rules_page,
            SIMILAR_RULES,
            {"precedent_regulation": "none"},
        ),
        ("rules.follow", anonymous, rule_page, f"{rule_page}/follow", {"email": "reader@example.net"}),
        ("rules.confirm", anonymous, f"/follow/{t['confirm']}", f"/follow/{t['confirm']}", {}),
        ("rules.unsubscribe", anonymous, f"/unsubscribe/{t['unsubscribe']}", f"/unsubscribe/{t['unsubscribe']}", {}),
    ]


# The status of the page that holds a form, where it is not 200.
FORM_PAGE_STATUS = {"public.send_new_link": 410}


SIMILAR_RULES = "/claims/new/similar-rules"


def _similar_rules_page(browser: FlaskClient) -> TestResponse:
    """The claim form's page of catalogue entries like the rule named (the world's catalogue has
    "Food premises registration")."""
    answers = {**VALID_FORM, "barrier_regulation": "Food premises registration"}
    for page in PAGES[: [p.slug for p in PAGES].index("rule") + 1]:
        answer_page(browser, page.slug, answers)
    return browser.get(SIMILAR_RULES)


def _check_answers_page(browser: FlaskClient) -> TestResponse:
    """The page that files the claim: the answers of the question pages, to check before filing."""
    return fill_pages(browser, VALID_FORM)


def app_client(world: World) -> FlaskClient:
    return world.app.test_client()


def a_path(claim: Tracked) -> str:
    return f"/track/{claim.reference}"


def _post_form(browser: FlaskClient, url: str, data: dict[str, Any]) -> TestResponse:
    if any(isinstance(v, tuple) for v in data.values()):
        return post_multipart(browser, url, data)
    return browser.post(url, data=data)


@pytest.mark.parametrize("forged", ["missing", "another browsers"])
def test_v3_5_1_every_form_that_changes_something_refuses_a_missing_or_foreign_csrf_token(
    world: World, csrf_targets: dict[str, Any], forged: str
) -> None:
    """ASVS 5.0 V3.5.1: requests to sensitive functionality are checked to come from the
    application itself, by anti-forgery tokens. Every POST route outside the API (taken from
    the app's url_map, so a new form cannot be missed) is sent with the fields its page gives
    and valid answers, but no CSRF token, or the valid token of another browser's session: each
    is refused, says the page had expired, and changes nothing in the database or the evidence
    store."""
    app = world.app
    cases = [case for case in _csrf_cases(world, csrf_targets) if case[0] not in CSRF_EXEMPT]
    assert {c[0] for c in cases} == _html_posts(app) - CSRF_EXEMPT, "every HTML form route has a case here"
    foreign = csrf(app.test_client().get("/claims/new/group").text)
    for endpoint, browser, page_url, post_url, answers in cases:
        page = page_url(browser) if callable(page_url) else browser.get(page_url)
        assert page.status_code == FORM_PAGE_STATUS.get(endpoint, 200), (endpoint, page_url, page.status_code)
        data: dict[str, Any] = {k: v for k, v in fields(page.text).items() if not k.endswith("csrf_token")}
        data |= answers
        if forged != "missing":
            data |= {k: foreign for k in fields(page.text) if k.endswith("csrf_token")} or {"csrf_token": foreign}
        before, files = snapshot(app), files_under(world.evidence_dir)
        response = _post_form(browser, post_url, data)
        assert response.status_code == 400, (endpoint, post_url, response.status_code, text_of(response.text)[:300])
        assert EXPIRED.search(text_of(response.text)), (endpoint, post_url, text_of(response.text)[:300])
        assert changed_tables(before, snapshot(app)) == [], (endpoint, post_url)
        assert files_under(world.evidence_dir) == files, (endpoint, post_url)
    assert not is_signed_out(world.browsers["admin"]), "the forged sign-out did not sign the admin out"


def db_slug(app: Flask, regulation_id: int | None) -> str:
    """A catalogue entry's public address, for its rule page."""
    with app.app_context():
        slug = db.session.scalar(select(Regulation.slug).where(Regulation.id == regulation_id))
        db.session.rollback()
    return slug or "no-such-rule"


def _fill(rule: Any, values: dict[str, Any]) -> str:
    path = rule.rule
    for name in rule.arguments:
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", str(values[name]), path)
    return path


def test_v3_5_3_no_get_request_changes_anything(world: World, tmp_path: Path) -> None:
    """ASVS 5.0 V3.5.3: sensitive functionality uses POST (or PUT, PATCH, DELETE), never a safe
    method. Every GET route of the app (from its url_map: pages, console, API, statistics,
    files) is opened by each kind of visitor that can open it: an admin's console browser, a
    group's browser with its tracking cookie, an officer's and a group's API token, and a
    stranger. No row of the database changes."""
    app = world.app
    (claim,) = claims_in(app, "under_review")
    with app.app_context(), unit_of_work() as ctx:
        attachment = add_evidence(ctx, claim.reference, GroupActor(claim.reference), "plan.pdf", PDF).id
        regulation_id = ctx.session.scalar(select(Claim.regulation_id).where(Claim.reference == claim.reference))
    values = {
        "reference": claim.reference,
        "attachment_id": attachment,
        "regulation_id": regulation_id,
        "officer_id": world.callers["triage"].officer_id,
        "endpoint_id": _a_turned_off_webhook(world),
        "number": 1,
        "statement_id": 1,
        "trigger": "uphold",
        "page": "group",
        "check_in_id": 1,
        "request_id": 1,
        "slug": db_slug(app, regulation_id),
        "token": "no-such-token",
        "code": "en",  # the language toggle's link: it sets a cookie (English, as the other tests here read), nothing held
    }
    group = app.test_client()
    assert open_link(group, claim.link).status_code in (302, 303)
    visitors: dict[str, Callable[[str], TestResponse]] = {
        "admin's browser": world.browsers["admin"].get,
        "group's browser": group.get,
        "stranger": app.test_client().get,
        "officer token": lambda p: app.test_client().get(p, headers=world.callers["admin"].auth),
        "group token": lambda p: app.test_client().get(p, headers=claim.auth),
    }
    opened = 0
    for rule in _gets(app):
        if rule.endpoint == "static":
            path = "/static/app.js"
        elif rule.endpoint == "api_docs.asset":
            continue  # files of the docs page, like /static
        else:
            path = _fill(rule, values)
        before = snapshot(app)
        for get in visitors.values():
            response = get(path)
            opened += response.status_code == 200
            response.close()
        assert changed_tables(before, snapshot(app)) == [], (rule.endpoint, path)
    assert opened > 60, "the visitors really opened the pages (not only errors)"


# --- V1.3 / V2.2.1: text no database can store is refused at the edge ----------------------

UNSTORABLE_TEXT = re.compile(r"character that cannot be stored")  # the API's problem
UNSTORABLE_PAGE = re.compile(r"There is a character we cannot keep in what you sent")


def _with_nul(value: str) -> str:
    return f"{value[:1]}\x00{value[1:]}"


def _string_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path to each string in a JSON value."""
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _string_paths(inner, (*path, key))
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            yield from _string_paths(inner, (*path, n))


def _replaced(value: Any, path: tuple[Any, ...]) -> Any:
    if not path:
        return _with_nul(value)
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:])
    return copy


class _FormFields(HTMLParser):
    """The names of the fields of the forms that post to one address."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.names = action, False, set[str]()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.inside = urlsplit(a.get("action") or "").path == self.action
        elif self.inside and tag in ("input", "textarea", "select") and a.get("name"):
            self.names.add(a["name"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def _fields_of_form(html: str, action: str) -> set[str]:
    parser = _FormFields(urlsplit(action).path)
    parser.feed(html)
    return parser.names


def _examples(operation: dict[str, Any]) -> list[Any]:
    """The operation's documented example JSON bodies (none when it takes no JSON)."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return []
    examples = (
        [content["example"]] if "example" in content else [e["value"] for e in content.get("examples", {}).values()]
    )
    assert examples, f"{operation['operationId']} documents an example body"
    return examples


def _api_requests_with_a_nul(world: World, claim: Tracked) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(operation and input, method, path, request arguments) for each text input of each
    operation of the API's document: path and query parameters, headers, body fields and keys,
    file names. The rest of each request is as the document's example has it."""
    spec = world.app.extensions["guarantee.api"].spec.to_dict()
    values = {"reference": claim.reference, "attachment_id": "1", "number": "1"}
    auth = world.callers["admin"].auth
    for template, operations in spec["paths"].items():
        if not template.startswith("/api/"):
            continue  # a page the document describes too (the Atom feed): its errors are pages
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            name = operation["operationId"]
            examples = _examples(operation)
            body: dict[str, Any] = {"json": examples[0]} if examples else {}
            if "multipart/form-data" in operation.get("requestBody", {}).get("content", {}):
                body = {"files": {"file": (PDF, "plan.pdf")}}
            path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)
            for parameter in [*operations.get("parameters", []), *operation.get("parameters", [])]:
                where, key = parameter["in"], parameter["name"]
                if where == "path":
                    spoilt = path.replace(values[key], _with_nul(values[key]), 1)
                    yield f"{name}: path {key}", method, spoilt, {**body, "headers": auth}
                elif where == "query":
                    yield (
                        f"{name}: query {key}",
                        method,
                        path,
                        {**body, "query_string": {key: "a\x00b"}, "headers": auth},
                    )
                elif where == "header":
                    yield f"{name}: header {key}", method, path, {**body, "headers": {**auth, key: "a\x00b"}}
            for example in examples:
                for at in _string_paths(example):
                    yield f"{name}: body {at}", method, path, {"json": _replaced(example, at), "headers": auth}
            if examples:
                yield f"{name}: body key", method, path, {"json": {**examples[0], "\x00": "x"}, "headers": auth}
            if "files" in body:
                yield f"{name}: file name", method, path, {"files": {"file": (PDF, "plan\x00.pdf")}, "headers": auth}
            yield f"{name}: query name", method, path, {**body, "query_string": {"\x00": "x"}, "headers": auth}


def test_v2_2_1_every_text_input_of_every_api_operation_refuses_a_nul_with_a_400(world: World) -> None:
    """ASVS 5.0 V2.2.1 (input is validated against expected structure) and V1.3 (injection
    prevention, here of characters the database refuses): every operation in the API's document,
    each of its path and query parameters, headers, body fields (from its documented examples),
    keys and file names, sent with a NUL in it by an admin: a 400 problem saying where the
    character was, never a 500 (PostgreSQL cannot store a NUL) and never a change."""
    app = world.app
    (claim,) = claims_in(app, "under_review")
    before = snapshot(app)
    sent = 0
    for what, method, path, arguments in _api_requests_with_a_nul(world, claim):
        response = _send(app.test_client(), method, path, arguments)
        assert response.status_code == 400, (what, response.status_code, response.get_data(as_text=True)[:300])
        assert response.mimetype == "application/problem+json", what
        assert UNSTORABLE_TEXT.search(response.json["detail"]), (what, response.json)
        # The group's own token, another's, or none: refused too (who is calling comes first).
        for token in (claim.auth, {"Authorization": "Bearer not-a-token"}, {}):
            auth = {k: v for k, v in arguments["headers"].items() if k != "Authorization"} | token
            refused = _send(app.test_client(), method, path, {**arguments, "headers": auth})
            assert 400 <= refused.status_code < 500, (what, token, refused.status_code)
        sent += 1
    assert changed_tables(before, snapshot(app)) == []
    assert sent > 50, "every operation's inputs were tried"


def _send(client: FlaskClient, method: str, path: str, arguments: dict[str, Any]) -> TestResponse:
    if "files" in arguments:
        query = urlencode(arguments.get("query_string", {}))
        url = f"{path}?{query}" if query else path
        return post_multipart_with(client, url, arguments["files"], arguments["headers"])
    return client.open(path, method=method.upper(), **arguments)


def test_v2_2_1_a_form_part_without_a_readable_name_is_no_failure(world: World) -> None:
    """A multipart part whose name cannot be read (werkzeug gives it no name) passes the edge's
    check like any other, and the upload is answered, never with a 500 (found by schemathesis)."""
    (claim,) = claims_in(world.app, "under_review")
    body = (
        b'--b\r\nContent-Disposition: form-data; name="\r"\r\n\r\nnull\r\n'
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="plan.pdf"\r\n\r\n' + PDF + b"\r\n--b--\r\n"
    )
    response = world.app.test_client().post(
        f"/api/v1/claims/{claim.reference}/evidence",
        data=body,
        content_type="multipart/form-data; boundary=b",
        headers=world.callers["admin"].auth,
    )
    assert response.status_code < 500, response.get_data(as_text=True)[:300]


def test_v2_2_1_every_field_of_every_form_and_every_page_refuses_a_nul_with_a_400(
    world: World, csrf_targets: dict[str, Any]
) -> None:
    """ASVS 5.0 V2.2.1 and V1.3, for the pages: every form that changes something (every POST
    route outside the API, as in V3.5.1's test) is sent with the fields its page gives and valid
    answers, a NUL put in one text field at a time; and every page (every GET route) is opened
    with a NUL in its query string. Each is a 400 page saying where the character was; nothing
    changes."""
    app = world.app
    cases = _csrf_cases(world, csrf_targets)
    assert {c[0] for c in cases} == _html_posts(app), "every HTML form route has a case here"
    # Every page opened first: the claim form's pages keep their answers as they go (a draft).
    opened = [(case, case[2](case[1]) if callable(case[2]) else case[1].get(case[2])) for case in cases]
    before, files = snapshot(app), files_under(world.evidence_dir)
    tried = 0
    for (endpoint, browser, page_url, post_url, answers), page in opened:
        assert page.status_code == FORM_PAGE_STATUS.get(endpoint, 200), (endpoint, page_url, page.status_code)
        data: dict[str, Any] = fields(page.text) | answers
        # The fields of the form that posts there (a form the page does not show: all it gives).
        own = (_fields_of_form(page.text, post_url) or set(data)) | answers.keys()
        for name, value in data.items():
            if name not in own or not isinstance(value, str):
                continue  # another form's field; or a file, whose name the API's test tries
            typed = _with_nul(value or "x")
            response = _post_form(browser, post_url, {**data, name: typed})
            assert response.status_code == 400, (endpoint, name, response.status_code)
            assert UNSTORABLE_PAGE.search(text_of(response.text)), (endpoint, name, text_of(response.text)[:300])
            assert typed.replace("\x00", "\ufffd") in html.unescape(response.text), "what was typed is given back"
            tried += 1
    for rule in _gets(app):
        path = "/static/app.js" if rule.endpoint == "static" else _fill(rule, {k: 1 for k in rule.arguments})
        if rule.endpoint == "api_docs.asset":
            continue  # the docs' own files
        response = world.browsers["admin"].get(path, query_string={"q": "a\x00b"})
        assert response.status_code == 400, (rule.endpoint, path, response.status_code)
        if response.mimetype == "application/problem+json":  # the API's own paths
            assert UNSTORABLE_TEXT.search(response.json["detail"]), (rule.endpoint, path)
        else:
            assert UNSTORABLE_PAGE.search(text_of(response.text)), (rule.endpoint, path)
        tried += 1
    assert changed_tables(before, snapshot(app)) == [] and files_under(world.evidence_dir) == files
    assert tried > 100, "every form's fields and every page were tried"
    assert not is_signed_out(world.browsers["admin"])


@pytest.mark.parametrize(
    "args",
    [
        ["guarantee", "revoke-tokens", "--email", "a\x00@council.example"],
        ["guarantee", "reset-two-step", "--email", "a\udcff@council.example"],  # bytes that are not UTF-8
        ["guarantee", "create-officer", "--email", "a@council.example", "--name", "A\x00", "--role", "admin"],
    ],
    ids=["nul", "not utf-8", "create"],
)
def test_v2_2_1_a_command_option_no_database_can_store_is_refused_before_it_reaches_one(
    app: Flask, args: list[str]
) -> None:
    """The CLI keeps the web's rule: an option with a NUL (or argv bytes that are not UTF-8) is a
    usage error naming the option (exit 2), not a database error."""
    result = app.test_cli_runner().invoke(args=args, input="a long enough password\n" * 2)
    assert result.exit_code == 2, result.output
    assert "cannot be stored" in result.output and "--" in result.output


def test_v2_2_1_a_password_read_from_standard_input_with_a_nul_is_refused(app: Flask) -> None:
    args = ["guarantee", "create-officer", "--email", "a@council.example", "--name", "A", "--role", "admin"]
    result = app.test_cli_runner().invoke(args=[*args, "--password-stdin"], input="a long\x00 password\n")
    assert result.exit_code == 1
    assert "The password has a character that cannot be stored" in result.output


# --- V2.4.1 / V6.3.1: rate limits shared across workers ----------------------------------


@needs_redis
def test_v6_3_1_v2_4_1_sign_in_attempts_are_counted_in_redis_across_workers(make_app: Callable[..., Flask]) -> None:
    """ASVS 5.0 V6.3.1 (controls against credential stuffing and brute force) and V2.4.1
    (anti-automation): failed sign-ins through the console and the API (one count, 5 per 15
    minutes per address and email) and API token requests are counted in Redis, so two workers
    (two apps, each with its own storage object) share one count, and the count is really in Redis."""
    address = f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"
    first = make_app(RATELIMIT_STORAGE_URI=REDIS_URL, GUARANTEE_TOKEN_RATE_LIMIT="3 per minute")
    second = make_app(RATELIMIT_STORAGE_URI=REDIS_URL, GUARANTEE_TOKEN_RATE_LIMIT="3 per minute")
    email = f"victim-{uuid.uuid4().hex[:6]}@council.example"
    environ = {"REMOTE_ADDR": address}

    def console_attempt(app: Flask) -> int:
        client = app.test_client()
        page = client.get(SIGN_IN, environ_base=environ)
        data = {"csrf_token": csrf(page.text), "email": email, "password": "a wrong guess"}
        return client.post(SIGN_IN, data=data, environ_base=environ).status_code

    def token_attempt(app: Flask, email: str = email) -> int:
        body = {"email": email, "password": "a wrong guess"}
        return app.test_client().post("/api/v1/tokens", json=body, environ_base=environ).status_code

    store = redis.Redis.from_url(REDIS_URL)
    try:
        assert [console_attempt(first) for _ in range(3)] == [400, 400, 400]
        assert [console_attempt(second) for _ in range(2)] == [400, 400]
        assert console_attempt(first) == 429 and console_attempt(second) == 429
        assert token_attempt(first) == 429 and token_attempt(second) == 429, "the API shares the console's count"
        other = f"other-{uuid.uuid4().hex[:6]}@council.example"
        assert [token_attempt(first, other), token_attempt(second, other), token_attempt(first, other)] == [401] * 3
        assert token_attempt(second, other) == 429
        assert store.keys(f"*{address}*"), "the counts are kept in Redis"
    finally:
        for key in store.keys(f"*{address}*"):
            store.delete(key)
        store.close()


# --- tokens: random, hashed, compared safely ---------------------------------------------


def _every_stored_value(app: Flask) -> str:
    return "\n".join(" ".join(row) for rows in snapshot(app).values() for row in rows)


def test_v7_2_3_v11_4_1_tokens_are_random_and_stored_only_as_sha256_hashes(app: Flask) -> None:
    """ASVS 5.0 V7.2.3 (reference tokens come from a CSPRNG with at least 128 bits) and V11.4.1
    (approved hash functions): ASVS has no single requirement that bearer tokens be stored
    hashed; DESIGN 3 asks for it. Tracking tokens and officer API tokens are long and random, and
    no table holds them, only their SHA-256; every table is searched, so a copy anywhere (a
    log table, an idempotency record, the outbox) fails the test."""
    client = app.test_client()
    filed = client.post(CLAIMS, json=VALID_SUBMISSION, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert filed.status_code == 201
    tracking = filed.json["tracking_token"]
    officer_caller = new_officer(app, "admin")
    assert (
        client.get(f"{CLAIMS}/{filed.json['reference']}", headers={"Authorization": f"Bearer {tracking}"}).status_code
        == 200
    )
    web = file_claim_on_web(app.test_client())

    for token in (tracking, officer_caller.token.removeprefix("gto_"), web.token):
        assert len(token) >= 32 and len(set(token)) > 16, "at least 128 bits from a CSPRNG (token_urlsafe)"
    stored = _every_stored_value(app)
    for token in (tracking, officer_caller.token, web.token):
        assert token not in stored
        assert guarantee.services.claims.token_hash(token) in stored or guarantee.services.tokens._hash(token) in stored
    with app.app_context():
        hashes = (
            db.session.scalars(select(TrackingToken.token_hash)).all()
            + db.session.scalars(select(OfficerToken.token_hash)).all()
        )
        db.session.rollback()
    assert hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)


def test_v11_2_4_tokens_are_looked_up_by_hash_and_secrets_compared_in_constant_time(app: Flask) -> None:
    """ASVS 5.0 V11.2.4 (constant-time cryptographic operations, no short-circuit comparisons).
    Behaviour: a token that differs from a real one only in its last character opens nothing.
    Implementation: every path that checks a bearer or tracking token hashes it first and looks
    the hash up (so the secret is never compared byte by byte), and session nonces are compared
    with compare_digest."""
    client = app.test_client()
    filed = client.post(CLAIMS, json=VALID_SUBMISSION)
    reference, tracking = filed.json["reference"], filed.json["tracking_token"]
    caller = new_officer(app, "admin")
    near = {
        "tracking": tracking[:-1] + ("A" if tracking[-1] != "A" else "B"),
        "officer": caller.token[:-1] + ("A" if caller.token[-1] != "A" else "B"),
    }
    for kind, token in near.items():
        response = client.get(f"{CLAIMS}/{reference}", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, kind
    assert app.test_client().get(f"/track/{reference}?token={near['tracking']}").status_code == 404

    checks = {
        guarantee.services.claims.reference_for_token: "token_hash(token)",
        guarantee.services.claims._token_of_claim: "token_hash(token)",  # tracking links (and ended ones)
        guarantee.services.tokens.officer_for_token: "_hash(token)",
        guarantee.services.officers.officer_for_session: "compare_digest",
        guarantee.services.officers.officer_for_code: "compare_digest",
    }
    for function, expected in checks.items():
        source = inspect.getsource(function)
        assert expected in source, function.__name__
        assert not re.search(r"\b(token|nonce)\s*==|==\s*(token|nonce)\b", source), function.__name__


# --- V8.2: who may do what, and what they may see, in the API ----------------------------

OFFICER_ROLES = tuple(ROLES)
CASEWORKERS = frozenset({"triage", "reviewer", "admin"})
ASSIGNERS = CASEWORKERS | {"team_leader"}  # team leaders share out the team's work
EVERY_OFFICER = frozenset(OFFICER_ROLES)
CALLERS = (*OFFICER_ROLES, "own group", "other group", "nobody")

# DESIGN 4 and 6, written by hand (never read from the code under test): each API operation on a
# claim, the state the claim is in, and who may do it. "own group" is the holder of the claim's
# tracking token. On officer-only operations a live tracking token of any claim is 403 (its
# holder is known, and not allowed; tests/test_api.py keeps that contract), never the data.
ENDPOINTS: dict[str, tuple[str, str, frozenset[str], bool]] = {
    # name: (method path, state, who may, officer only)
    "read the claim": ("GET {c}", "under_review", EVERY_OFFICER | {"own group"}, False),
    "list its evidence": ("GET {c}/evidence", "under_review", EVERY_OFFICER | {"own group"}, False),
    "download its evidence": ("GET {c}/evidence/{a}", "under_review", EVERY_OFFICER | {"own group"}, False),
    "add evidence": ("POST {c}/evidence", "under_review", EVERY_OFFICER | {"own group"}, False),
    "list claims": ("GET /api/v1/claims", "under_review", EVERY_OFFICER, True),
    "read the audit trail": ("GET {c}/audit", "under_review", EVERY_OFFICER, True),
    "add a note": ("POST {c}/notes", "under_review", EVERY_OFFICER, True),
    "assign": ("PUT {c}/assignee", "under_review", ASSIGNERS, True),
    "classify": ("PUT {c}/classification", "under_review", CASEWORKERS, True),
}
# Each trigger: the state it is tried in and who fires it (an admin any officer's step; the group
# its own three; nobody the system's).
TRIGGERS: dict[str, tuple[str, frozenset[str]]] = {
    "accept": ("submitted", frozenset({"triage", "admin"})),
    "decline": ("submitted", frozenset({"triage", "admin"})),
    "request_information": ("under_review", frozenset({"reviewer", "admin"})),
    "uphold": ("under_review", frozenset({"reviewer", "admin"})),
    "not_uphold": ("under_review", frozenset({"reviewer", "admin"})),
    "record_resolution": ("upheld", frozenset({"reviewer", "admin"})),
    "allow_appeal": ("appealed", frozenset({"appeal_panel", "admin"})),
    "dismiss_appeal": ("appealed", frozenset({"appeal_panel", "admin"})),
    "reopen": ("closed", frozenset({"admin"})),
    "provide_information": ("awaiting_information", frozenset({"own group"})),
    "appeal": ("not_upheld", frozenset({"own group"})),
    "withdraw": ("submitted", frozenset({"own group"})),
    "information_lapsed": ("awaiting_information", frozenset()),
    "appeal_window_closed": ("not_upheld", frozenset()),
}


def _expected(caller: str, may: frozenset[str], officer_only: bool) -> int | None:
    """None: allowed (a 2xx); otherwise the refusal's status."""
    if caller in may:
        return None
    if caller == "nobody":
        return 401
    if caller == "other group":
        return 403 if officer_only else 404
    return 403


def _call(world: World, caller: str, claim: Tracked, other: Tracked, request: tuple[str, str, Any]) -> TestResponse:
    method, path, body = request
    headers: dict[str, str] = {}
    if caller in OFFICER_ROLES:
        headers = world.callers[caller].auth
    elif caller == "own group":
        headers = claim.auth
    elif caller == "other group":
        headers = other.auth
    client = world.app.test_client()
    if isinstance(body, tuple):
        return post_multipart_with(client, path, {"file": body}, headers)
    return client.open(path, method=method, json=body, headers=headers)


def post_multipart_with(client: FlaskClient, url: str, parts: dict[str, Any], headers: dict[str, str]) -> TestResponse:
    import io

    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    values = MultiDict([(n, FileStorage(io.BytesIO(v[0]), filename=v[1])) for n, v in parts.items()])
    boundary, data = encode_multipart(values)
    return client.post(url, data=data, content_type=f"multipart/form-data; boundary={boundary}", headers=headers)


def _trace(app: Flask, reference: str) -> tuple[str, int, int]:
    return claim_now(app, reference)


def _matrix(
    world: World,
    state: str,
    may: frozenset[str],
    officer_only: bool,
    request: Callable[[Tracked], tuple[str, str, Any]],
) -> None:
    app = world.app
    claims = claims_in(app, state, len(CALLERS) + 1)
    other = claims.pop()
    other_before = _trace(app, other.reference)
    for caller, claim in zip(CALLERS, claims, strict=True):
        attempt = request(claim)
        path = attempt[1]
        before = _trace(app, claim.reference)
        response = _call(world, caller, claim, other, attempt)
        expected = _expected(caller, may, officer_only)
        if expected is None:
            assert 200 <= response.status_code < 300, (
                caller,
                path,
                response.status_code,
                response.get_data(as_text=True)[:300],
            )
        else:
            assert_problem(response, expected)
            assert _trace(app, claim.reference) == before, (caller, path, "a refusal leaves no trace")
            assert VALID_SUBMISSION["initiative"]["title"] not in response.get_data(as_text=True), (caller, path)
    assert _trace(app, other.reference) == other_before, "the other group's claim is untouched"


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_v8_2_1_v8_2_2_each_api_operation_on_a_claim_is_refused_to_those_who_may_not(world: World, name: str) -> None:
    """ASVS 5.0 V8.2.1 (function-level access only with explicit permission) and V8.2.2
    (data-specific access, against IDOR/BOLA), through the API: for each operation and each
    caller (every role, the claim's own group, another claim's group, nobody), what DESIGN
    allows succeeds; a role that may not is 403; another claim's tracking token is 404 (never
    the claim); no token is 401. A refusal changes nothing."""
    spec, state, may, officer_only = ENDPOINTS[name]
    method, template = spec.split(" ", 1)
    app = world.app

    def request(claim: Tracked) -> tuple[str, str, Any]:
        attachment = 0
        if "{a}" in template:
            with app.app_context(), unit_of_work() as ctx:
                attachment = add_evidence(ctx, claim.reference, GroupActor(claim.reference), "plan.pdf", PDF).id
        path = template.format(c=f"{CLAIMS}/{claim.reference}", a=attachment)
        body: Any = {
            "add evidence": (PDF, "more.pdf"),
            "add a note": {"note": "Phoned the group."},
            "assign": {"assignee_id": world.callers["triage"].officer_id},
            "classify": {"category": "food_hygiene"},
        }.get(name)
        return method, path, body

    _matrix(world, state, may, officer_only, request)


@pytest.mark.parametrize("trigger", list(TRIGGERS))
def test_v8_2_1_v8_2_2_each_trigger_is_fired_only_by_those_the_workflow_names(world: World, trigger: str) -> None:
    """ASVS 5.0 V8.2.1 and V8.2.2 for POST /api/v1/claims/{reference}/transitions: each trigger,
    tried by every caller on a claim in a state it can leave by that trigger, succeeds only for
    the roles DESIGN 4 names (system triggers: for nobody), is 403 for the others and 404 with
    another claim's tracking token; a refusal writes no audit event."""
    state, may = TRIGGERS[trigger]
    assert set(TRANSITIONS_BY_TRIGGER) == set(TRIGGERS), "every trigger of the workflow is in the table"

    def request(claim: Tracked) -> tuple[str, str, Any]:
        return "POST", f"{CLAIMS}/{claim.reference}/transitions", {"trigger": trigger, **INPUTS[trigger]}

    _matrix(world, state, may, False, request)


# --- V5: uploads and downloads ------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "content", "status"),
    [
        ("photo.png", PDF, 422),  # a PDF named as a PNG
        ("report.pdf", PNG, 422),  # a PNG named as a PDF
        ("page.png", HTML_PAGE, 422),  # a web page dressed as an image
        ("script.html", HTML_PAGE, 422),  # a type not accepted at all
        ("empty.pdf", b"", 422),
        ("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), 422),  # a file just over 10 MB
        ("huge.pdf", b"%PDF-" + b"0" * (11 * 1024 * 1024), 413),  # a request over 10 MB and its envelope
    ],
    ids=["pdf-as-png", "png-as-pdf", "html-as-png", "html", "empty", "over-10-MB", "request-over-10-MB"],
)
def test_v5_2_1_v5_2_2_an_upload_is_refused_unless_its_size_extension_and_contents_agree(
    world: World, filename: str, content: bytes, status: int
) -> None:
    """ASVS 5.0 V5.2.1 (only files of a size the service can process) and V5.2.2 (the extension
    is an expected one and the contents match it, by their magic bytes): through the API and
    the tracking page, a refused file leaves no attachment, no audit event and no file."""
    app = world.app
    (claim,) = claims_in(app, "submitted")
    before, files = _trace(app, claim.reference), files_under(world.evidence_dir)
    api = post_multipart_with(
        app.test_client(), f"{CLAIMS}/{claim.reference}/evidence", {"file": (content, filename)}, claim.auth
    )
    assert_problem(api, status)
    group = app.test_client()
    open_link(group, claim.link)
    page = fields(group.get(f"/track/{claim.reference}").text)
    web = post_multipart(
        group,
        f"/track/{claim.reference}/evidence",
        {
            "csrf_token": page["csrf_token"],
            "action_key": page.get("action_key", uuid.uuid4().hex),
            "file": (content, filename),
        },
    )
    assert web.status_code in ({400} if status == 422 else {400, 413}), text_of(web.text)[:300]
    assert _trace(app, claim.reference) == before
    assert files_under(world.evidence_dir) == files


def test_v5_4_1_v3_2_1_evidence_is_served_as_an_attachment_with_its_checked_type_and_nosniff(world: World) -> None:
    """ASVS 5.0 V3.2.1 (uploaded files are not rendered in the wrong context: attachment
    disposition, a sandboxing CSP) and V5.4.1 (the served file name is the service's, in
    Content-Disposition): on every download route (API, console, tracking page)."""
    app = world.app
    (claim,) = claims_in(app, "submitted")
    with app.app_context(), unit_of_work() as ctx:
        attachment = add_evidence(ctx, claim.reference, GroupActor(claim.reference), '"><script>x.pdf', PDF).id
    group = app.test_client()
    open_link(group, claim.link)
    downloads = {
        "api": app.test_client().get(f"{CLAIMS}/{claim.reference}/evidence/{attachment}", headers=claim.auth),
        "console": world.browsers["reviewer"].get(f"/officer/claims/{claim.reference}/evidence/{attachment}"),
        "tracking page": group.get(f"/track/{claim.reference}/evidence/{attachment}"),
    }
    for where, response in downloads.items():
        assert response.status_code == 200, where
        assert response.data == PDF, where
        assert response.mimetype == "application/pdf", where
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;"), where
        assert "<" not in disposition and '">' not in disposition, (where, disposition)
        assert response.headers["X-Content-Type-Options"] == "nosniff", where
        policy = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy, (where, policy)
        assert "no-store" in response.headers.get("Cache-Control", ""), where
        response.close()


# --- V3.4: headers on every response --------------------------------------------------------


def _assert_security_headers(response: TestResponse, what: str) -> None:
    headers = response.headers
    policy = headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in policy, (what, policy)  # V3.4.6
    assert "object-src 'none'" in policy or "default-src 'none'" in policy, (what, policy)  # V3.4.3
    assert "base-uri 'none'" in policy or "default-src 'none'" in policy, (what, policy)  # V3.4.3
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, (what, policy)
    assert headers.get("X-Content-Type-Options") == "nosniff", what  # V3.4.4
    assert headers.get("Referrer-Policy") == "no-referrer", what  # V3.4.5
    if response.mimetype == "text/html":
        assert headers.get("Cross-Origin-Opener-Policy") == "same-origin", what  # V3.4.8
    response.close()  # a file's response holds the file open until closed


def test_v3_4_every_response_carries_the_security_headers_errors_and_files_included(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ASVS 5.0 V3.4.3 (CSP with object-src and base-uri 'none'), V3.4.4 (nosniff on all
    responses), V3.4.5 (a referrer policy), V3.4.6 (frame-ancestors on every response) and
    V3.4.8 (COOP on documents). tests/test_security_headers.py checks the values on a few
    paths; here every GET route of the url_map, for a signed-in officer and a stranger, plus
    every kind of error (400, 401, 403, 404, 405, 413, 415, 422, 429, 500) on pages and API, a
    static file and a redirect. V3.4.1 (HSTS) is checked there, over HTTPS."""
    app = world.app
    (claim,) = claims_in(app, "under_review")
    values = {
        "reference": claim.reference,
        "attachment_id": 1,
        "regulation_id": 1,
        "officer_id": 1,
        "endpoint_id": 1,
        "number": 1,
        "statement_id": 1,
        "trigger": "uphold",
        "page": "group",
        "check_in_id": 1,
        "request_id": 1,
        "slug": "no-such-rule",
        "token": "no-such-token",
        "code": "en",  # the language toggle's link (a redirect that sets a cookie)
    }
    checked = 0
    for rule in _gets(app):
        path = "/static/app.js" if rule.endpoint == "static" else _fill(rule, values | {"filename": "x", "path": "x"})
        for client in (world.browsers["admin"], app.test_client()):
            _assert_security_headers(client.get(path), path)
            checked += 1
    errors = {
        "400 page": app.test_client().post("/officer/sign-in", data={}),
        "401 api": app.test_client().get(CLAIMS),
        "403 page": world.browsers["triage"].get("/officer/admin"),
        "404 page": app.test_client().get("/no-such-page"),
        "404 api": app.test_client().get("/api/v1/no-such-thing"),
        "405 api": app.test_client().delete("/api/v1/workflow"),
        "405 page": app.test_client().put("/claims/new"),
        "413 page": app.test_client().post(
            "/claims/new/group", data=b"x" * (2 * 1024 * 1024), content_type="application/x-www-form-urlencoded"
        ),
        "415 api": app.test_client().post(CLAIMS, data="x", content_type="text/plain"),
        "422 api": app.test_client().post(CLAIMS, json={}),
        "redirect": app.test_client().get("/officer"),
        "static file": app.test_client().get("/static/build/app.css"),
    }
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setattr("guarantee.api.claims.submit_claim", _explode)
    errors["500 api"] = app.test_client().post(CLAIMS, json=VALID_SUBMISSION)
    monkeypatch.setattr("guarantee.services.queue.work_queue", _explode)
    errors["500 page"] = world.browsers["admin"].get("/officer")
    for what, response in errors.items():
        expected = int(what[:3]) if what[:3].isdigit() else None
        if expected:
            assert response.status_code == expected, (what, response.status_code)
        _assert_security_headers(response, what)
    assert checked == 2 * len(_gets(app))


def _explode(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("injected failure: the database went away mid-request (token=SECRET-IN-EXCEPTION)")


# --- V16: logs and errors ---------------------------------------------------------------


def test_v16_2_5_v14_2_4_no_personal_data_or_secret_reaches_a_log(app: Flask, captured_logs: Any) -> None:
    """ASVS 5.0 V16.2.5 (sensitive data is logged only as its protection level allows:
    credentials never, tokens never in clear) and V14.2.4 (personal data handled as documented;
    DESIGN 8: no personal data or tokens in logs). Every log record of every logger, at DEBUG
    (as an operator turning logging up would get), through filing a claim on the web and the
    API, opening its tracking link, an officer signing in (rightly and wrongly) and using the
    API, and a failing request: no email, name, phone, group name, tracking token, API token or
    password appears."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    web = file_claim_on_web(app.test_client())
    group = app.test_client()
    open_link(group, web.link)
    group.get(web.path)
    filed = app.test_client().post(CLAIMS, json=VALID_SUBMISSION)
    tracking = filed.json["tracking_token"]
    app.test_client().get(f"{CLAIMS}/{filed.json['reference']}", headers={"Authorization": f"Bearer {tracking}"})
    app.test_client().get(f"/track/{filed.json['reference']}?token={tracking}")
    who = officer(app, "admin")
    console = app.test_client()
    sign_in(console, who.email, "a wrong password for the log")
    sign_in(console, who.email)
    console.get(f"/officer/claims/{web.reference}")
    token = api_sign_in(app.test_client(), who.email).json["token"]
    api = app.test_client()
    api.get(CLAIMS, headers={"Authorization": f"Bearer {token}"})
    api.post(f"{CLAIMS}/{web.reference}/notes", json={"note": "Note"}, headers={"Authorization": f"Bearer {token}"})
    api.get(f"{CLAIMS}/{web.reference}", headers={"Authorization": f"Bearer {token}x"})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("guarantee.api.claims.submit_claim", _explode)
        assert app.test_client().post(CLAIMS, json=VALID_SUBMISSION).status_code == 500

    text = captured_logs.text
    assert captured_logs.lines, "something was logged (the capture works)"
    assert "injected failure" in text, "the failing request was logged, with its exception"
    group_data = VALID_SUBMISSION["group"]
    secrets_seen = {
        "contact email": group_data["email"],
        "contact name": group_data["contact_name"],
        "group name": group_data["name"],
        "phone": group_data["phone"],
        "officer email": who.email,
        "password": PASSWORD,
        "wrong password": "a wrong password for the log",
        "tracking token (API)": tracking,
        "tracking token (web)": web.token,
        "officer token": token.removeprefix("gto_"),
    }
    leaked = {name: value for name, value in secrets_seen.items() if value in text}
    assert leaked == {}, leaked


def _fail_mid_transition(monkeypatch: pytest.MonkeyPatch, app: Flask) -> None:
    """The notifications step of a transition fails: after the claim's row was updated (and
    flushed) and its audit event appended, before the commit."""
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setattr(guarantee.services.claims.notifications, "after_trigger", _explode)


def _form_answers(trigger: str) -> dict[str, str]:
    """helpers.INPUTS's valid input for a trigger, named as its form on the claim page names it."""
    given: dict[str, str] = {}
    for name, value in INPUTS[trigger].items():
        if isinstance(value, dict):  # a new catalogue entry: "Add a new entry", and its title
            given[f"{trigger}-{name}"], given[f"{trigger}-{name}_new"] = "", value["title"]
        else:
            given[f"{trigger}-{name}"] = str(value)
    return given


def _events(app: Flask, reference: str) -> int:
    with app.app_context():
        count = db.session.scalar(
            select(func.count()).select_from(AuditEvent).join(Claim).where(Claim.reference == reference)
        )
        db.session.rollback()
        return int(count or 0)


def _assert_generic(body: str) -> None:
    assert "injected failure" not in body and "SECRET-IN-EXCEPTION" not in body
    assert "Traceback" not in body and 'File "' not in body and "RuntimeError" not in body


def test_v16_5_3_v16_5_1_a_failure_mid_transition_on_the_api_changes_nothing_and_says_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ASVS 5.0 V16.5.3 (fail securely: no fail-open, nothing processed despite the error) and
    V16.5.1 (a generic message, no stack trace or internals): an exception injected deep in the
    service layer after the state was written and the audit event appended leaves the claim as it
    was, with no audit event, and the API answers a 500 problem document without details."""
    app = world.app
    (claim,) = claims_in(app, "submitted")
    before = claim_now(app, claim.reference)
    _fail_mid_transition(monkeypatch, app)
    response = app.test_client().post(
        f"{CLAIMS}/{claim.reference}/transitions",
        json={"trigger": "accept", **INPUTS["accept"]},
        headers={**world.callers["triage"].auth, "Idempotency-Key": str(uuid.uuid4())},
    )
    body = assert_problem(response, 500)
    _assert_generic(response.get_data(as_text=True))
    assert "not saved" in body["detail"] or "Nothing" in body["detail"]
    assert claim_now(app, claim.reference) == before
    monkeypatch.undo()
    retried = app.test_client().post(
        f"{CLAIMS}/{claim.reference}/transitions",
        json={"trigger": "accept", **INPUTS["accept"]},
        headers=world.callers["triage"].auth,
    )
    assert retried.status_code == 200, "once the fault is gone the same step works: nothing half-done in the way"


def test_v16_5_3_v16_5_1_a_failure_mid_transition_on_the_console_changes_nothing_and_says_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ASVS 5.0 V16.5.3 and V16.5.1 on the console's action form: the same injected failure gives
    a generic 500 page (no traceback, no exception text), and the claim's state, version and audit
    trail are as they were."""
    app = world.app
    browser = world.browsers["triage"]
    (claim,) = claims_in(app, "submitted")
    before = claim_now(app, claim.reference)
    page = browser.get(f"/officer/claims/{claim.reference}/actions/accept").text
    given = fields(page)
    data = {k: v for k, v in given.items() if k.startswith("accept-")} | _form_answers("accept")
    _fail_mid_transition(monkeypatch, app)
    response = browser.post(f"/officer/claims/{claim.reference}/actions/accept", data=data)
    assert response.status_code == 500, (response.status_code, text_of(response.text)[:400])
    assert response.mimetype == "text/html"
    _assert_generic(response.get_data(as_text=True))
    assert "Sorry, there is a problem with the service" in text_of(response.text)
    assert claim_now(app, claim.reference) == before
    assert _events(app, claim.reference) == before[2]


def test_v16_2_5_v14_2_1_gunicorns_access_log_keeps_neither_query_strings_nor_addresses() -> None:
    """ASVS 5.0 V16.2.5 and V14.2.1 (a token in a URL must not be kept): the tracking link carries
    its token in the query string on the first visit, so the access log format of gunicorn.conf.py
    logs the path without the query (%(U)s), never the request line (%(r)s), the query (%(q)s),
    the full URI or the client's address (%(h)s), and its error-log filter cuts queries out."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "gunicorn_conf", Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
    )
    assert spec and spec.loader
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    assert "%(U)s" in conf.access_log_format
    for leaky in ("%(r)s", "%(q)s", "%(h)s", "%({x-forwarded-for}i)s", "%(f)s"):
        assert leaky not in conf.access_log_format, leaky
    record = logging.LogRecord(
        "gunicorn.error",
        logging.ERROR,
        __file__,
        1,
        "Error handling request /track/CPG-2026-000001?token=SECRET ip=192.0.2.1:5555",
        None,
        None,
    )
    conf._Redact().filter(record)
    assert "SECRET" not in record.getMessage() and "192.0.2.1" not in record.getMessage()
