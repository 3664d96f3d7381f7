"""The officers' console, driven as a browser would: signing in and out, session limits,
sign-in throttling, the work queue and the claim page with its action forms.

CSRF stays on: every form is posted with the hidden fields its page gave. Claims are filed and
walked through the services; officers are committed to the database. Each test runs on SQLite
and on PostgreSQL, on a database of its own (conftest's ``app``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from guarantee.clock import FixedClock
from guarantee.context import unit_of_work
from guarantee.extensions import db
from guarantee.models import AuditEvent, Claim, Officer, Regulation
from guarantee.services.actors import OfficerActor
from guarantee.services.claims import fire, submit_claim
from guarantee.services.officers import create_officer
from tests.helpers import INPUTS, PASSWORD, Cast, submission, walk
from tests.test_public import csrf, error_summary, fields, open_link, text_of
from workflows import STATE_LABELS

SIGN_IN = "/officer/sign-in"
QUEUE = "/officer"
SIGN_IN_FAILED = "Enter a correct email address and password"


# --- officers and claims ------------------------------------------------------------------


@dataclass(frozen=True)
class Someone:
    id: int
    email: str

    @property
    def actor(self) -> OfficerActor:
        return OfficerActor(self.id)


_made = iter(range(1, 1_000_000))


def officer(app: Flask, *roles: str, name: str = "Test Officer") -> Someone:
    """An officer committed to the database, with helpers.PASSWORD."""
    email = f"{'-'.join(roles)}-{next(_made)}@council.example"
    with app.app_context(), unit_of_work() as ctx:
        made = create_officer(ctx, email=email, name=name, roles=list(roles), password=PASSWORD)
        return Someone(made.id, email)


def file(app: Flask, count: int = 1, **sections: dict[str, Any]) -> list[str]:
    """File claims through the service, at the app's clock's time: their references."""
    with app.app_context(), unit_of_work() as ctx:
        return [submit_claim(ctx, submission(**sections)).reference for _ in range(count)]


def file_tracked(app: Flask) -> tuple[str, str]:
    with app.app_context(), unit_of_work() as ctx:
        filed = submit_claim(ctx, submission())
        return filed.reference, f"/track/{filed.reference}?token={filed.tracking_token}"


def fire_as(app: Flask, reference: str, trigger: str, who: Someone, **data: Any) -> None:
    with app.app_context(), unit_of_work() as ctx:
        fire(ctx, reference, trigger, who.actor, data or INPUTS[trigger])


def officers_walk(app: Flask, reference: str, *triggers: str) -> None:
    with app.app_context(), unit_of_work() as ctx:
        walk(ctx, Cast(ctx), reference, *triggers)


def claim_now(app: Flask, reference: str) -> tuple[str, int, int]:
    """(state, version, audit events) of a claim, as saved."""
    with app.app_context():
        claim = db.session.scalar(select(Claim).where(Claim.reference == reference))
        assert claim is not None
        events = db.session.scalar(select(func.count()).where(AuditEvent.claim_id == claim.id)) or 0
        return claim.state, claim.version, events


def set_active(app: Flask, who: Someone, active: bool) -> None:
    with app.app_context(), unit_of_work() as ctx:
        found = ctx.session.get(Officer, who.id)
        assert found is not None
        found.active = active


# --- the browser --------------------------------------------------------------------------


def sign_in(
    client: FlaskClient, email: str, password: str = PASSWORD, *, next_url: str | None = None, **kwargs: Any
) -> TestResponse:
    page = client.get(SIGN_IN, **kwargs)
    assert page.status_code == 200
    url = SIGN_IN if next_url is None else f"{SIGN_IN}?{_query('next', next_url)}"
    return client.post(url, data={"csrf_token": csrf(page.text), "email": email, "password": password}, **kwargs)


def _query(name: str, value: str) -> str:
    from urllib.parse import urlencode

    return urlencode({name: value})


def signed_in(app: Flask, *roles: str) -> tuple[FlaskClient, Someone]:
    who = officer(app, *roles)
    client = app.test_client()
    assert sign_in(client, who.email).status_code == 303
    return client, who


def is_signed_out(client: FlaskClient) -> bool:
    response = client.get(QUEUE)
    return response.status_code == 302 and urlsplit(response.headers["Location"]).path == SIGN_IN


def location(response: TestResponse) -> str:
    parts = urlsplit(response.headers["Location"])
    assert parts.netloc in ("", "localhost"), response.headers["Location"]
    return parts.path + (f"?{parts.query}" if parts.query else "")


def claim_path(reference: str) -> str:
    return f"/officer/claims/{reference}"


def action_path(reference: str, trigger: str) -> str:
    return f"/officer/claims/{reference}/actions/{trigger}"


def offered(html: str) -> set[str]:
    """The triggers whose action pages the claim page links to."""
    return set(re.findall(r'href="/officer/claims/[^/"]+/actions/([a-z_]+)"', html))


def form_with(html: str, name: str) -> dict[str, str]:
    """The fields of the page's form that has a field called ``name`` (e.g. "confirm")."""
    for form in re.findall(r"<form\b.*?</form>", html, re.S):
        given = fields(form)
        if name in given:
            return given
    raise AssertionError(f"no form with a {name!r} field on the page")


def is_check_page(response: TestResponse) -> bool:
    return response.status_code == 200 and "Check your decision" in text_of(response.text)


def confirm(client: FlaskClient, reference: str, trigger: str, check_page: str) -> TestResponse:
    """Press "Confirm and ..." on a check page."""
    return client.post(action_path(reference, trigger), data=form_with(check_page, "confirm"))


def post_action(
    client: FlaskClient, reference: str, trigger: str, page: str | None = None, *, check: bool = True, **answers: str
) -> TestResponse:
    """Post an action's form with the CSRF token and version its page gave (or, for a forged post,
    any CSRF token of this browser and the version the claim page gives); then, for a decision,
    confirm it on its check page (unless ``check`` is False: the check page is returned)."""
    if page is None:
        shown = client.get(action_path(reference, trigger))
        page = shown.text if shown.status_code == 200 else client.get(claim_path(reference)).text
    given = fields(page)
    token = given.get(f"{trigger}-csrf_token") or given["csrf_token"]
    version = given.get(f"{trigger}-version") or given.get("version")  # the assignee form's, when not offered
    assert version, "the page gives the claim's version"
    data = {f"{trigger}-csrf_token": token, f"{trigger}-version": version}
    data |= {f"{trigger}-{name}": value for name, value in answers.items()}
    response = client.post(action_path(reference, trigger), data=data)
    if check and is_check_page(response):
        return confirm(client, reference, trigger, response.text)
    return response


def rows(html: str) -> list[str]:
    """The references in the queue's table, in order."""
    table = re.search(r'<table [^>]*id="claims".*?</table>', html, re.S)
    return re.findall(r">(CPG-\d{4}-\d{6})</a>", table[0]) if table else []


# --- 1. signing in ------------------------------------------------------------------------


def test_a_wrong_password_and_an_unknown_email_get_the_same_message_and_no_session(app: Flask) -> None:
    who = officer(app, "triage")
    answers = []
    for email, password in ((who.email, "not the password at all"), ("nobody@council.example", PASSWORD)):
        client = app.test_client()
        refused = sign_in(client, email, password)
        assert refused.status_code == 400
        page = text_of(refused.text)
        assert SIGN_IN_FAILED in page
        assert "not the password at all" not in refused.text, "the password is never echoed back"
        answers.append(page)
        assert is_signed_out(client)
    assert answers[0].replace(who.email, "E") == answers[1].replace("nobody@council.example", "E")


def test_the_right_password_signs_in_and_opens_the_queue(app: Flask) -> None:
    who = officer(app, "triage")
    client = app.test_client()
    response = sign_in(client, who.email.upper())
    assert response.status_code == 303
    assert location(response) == QUEUE
    queue = client.get(QUEUE)
    assert queue.status_code == 200
    assert "Signed in as Test Officer (triage)" in text_of(queue.text)
    assert queue.headers["Cache-Control"] == "no-store"


def test_next_is_followed_to_a_console_page(app: Flask) -> None:
    who = officer(app, "triage")
    response = sign_in(app.test_client(), who.email, next_url="/officer/claims/CPG-2026-000001")
    assert response.status_code == 303
    assert location(response) == "/officer/claims/CPG-2026-000001"


def test_next_anywhere_else_is_ignored(app: Flask) -> None:
    who = officer(app, "triage")
    targets = (
        "https://evil.example/officer",
        "//evil.example/officer",
        "//evil.example",
        "/\\evil.example",
        "/track/CPG-2026-000001",
        "javascript:alert(1)",
    )
    for target in targets:
        response = sign_in(app.test_client(), who.email, next_url=target)
        assert response.status_code == 303
        assert response.headers["Location"] in (QUEUE, f"http://localhost{QUEUE}"), target


def test_console_pages_send_a_signed_out_browser_to_sign_in(client: FlaskClient) -> None:
    for path in (QUEUE, "/officer/claims/CPG-2026-000001", "/officer?state=submitted"):
        response = client.get(path)
        assert response.status_code == 302, path
        target = urlsplit(response.headers["Location"])
        assert target.path == SIGN_IN
        assert "next=" in target.query
        assert "Sign in to use the officers' console" in text_of(client.get(location(response)).text)


def test_a_deactivated_officer_cannot_sign_in(app: Flask, client: FlaskClient) -> None:
    who = officer(app, "triage")
    set_active(app, who, False)
    refused = sign_in(client, who.email)
    assert refused.status_code == 400
    assert SIGN_IN_FAILED in text_of(refused.text)
    assert is_signed_out(client)


# --- 2. sessions ----------------------------------------------------------------------------


def test_fifteen_idle_minutes_end_the_session(app: Flask, clock: FixedClock) -> None:
    client, _ = signed_in(app, "triage")
    clock.advance(minutes=16)
    response = client.get(QUEUE)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == SIGN_IN
    assert "signed out after 15 minutes without activity" in text_of(client.get(location(response)).text)
    assert is_signed_out(client), "moving back to the queue does not bring the session back"


def test_activity_keeps_the_session_alive(app: Flask, clock: FixedClock) -> None:
    client, _ = signed_in(app, "triage")
    for _ in range(4):
        clock.advance(minutes=14)
        assert client.get(QUEUE).status_code == 200


def test_eight_hours_end_the_session_even_with_activity(app: Flask, clock: FixedClock) -> None:
    client, _ = signed_in(app, "triage")
    for _ in range(34):  # 7 h 56 min, a page every 14 minutes
        clock.advance(minutes=14)
        assert client.get("/officer/claims/CPG-2026-999999").status_code == 404
    clock.advance(minutes=5)
    response = client.get(QUEUE)
    assert response.status_code == 302
    assert "signed in for 8 hours" in text_of(client.get(location(response)).text)
    assert is_signed_out(client)


def test_changing_the_password_does_not_restart_the_eight_hours(app: Flask, clock: FixedClock) -> None:
    client, _ = signed_in(app, "triage")
    for _ in range(34):  # 7 h 56 min, a page every 14 minutes
        clock.advance(minutes=14)
        assert client.get(QUEUE).status_code == 200
    assert _change_password(client, PASSWORD, "a brand new passphrase").status_code == 303
    clock.advance(minutes=5)  # 8 hours and a minute after signing in
    assert is_signed_out(client)


def test_changing_your_own_password_revokes_your_api_tokens(app: Flask) -> None:
    from tests.api_support import sign_in as api_sign_in

    client, who = signed_in(app, "triage")
    token = api_sign_in(app.test_client(), who.email).json["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/claims", headers=bearer).status_code == 200

    assert _change_password(client, PASSWORD, "a brand new passphrase").status_code == 303

    refused = app.test_client().get("/api/v1/claims", headers=bearer)
    assert refused.status_code == 401
    assert "ask for a new one" in refused.json["detail"]
    assert api_sign_in(app.test_client(), who.email, "a brand new passphrase").status_code == 201


def test_signing_out_of_the_console_leaves_api_tokens_working(app: Flask) -> None:
    from tests.api_support import sign_in as api_sign_in

    client, who = signed_in(app, "triage")
    token = api_sign_in(app.test_client(), who.email).json["token"]
    assert client.post("/officer/sign-out", data={"csrf_token": csrf(client.get(QUEUE).text)}).status_code == 303
    assert app.test_client().get("/api/v1/claims", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_signing_out_ends_the_officers_sessions_in_every_browser(app: Flask) -> None:
    here, who = signed_in(app, "triage")
    there = app.test_client()
    assert sign_in(there, who.email).status_code == 303
    assert there.get(QUEUE).status_code == 200
    out = here.post("/officer/sign-out", data={"csrf_token": csrf(here.get(QUEUE).text)})
    assert out.status_code == 303
    assert location(out) == "/officer/signed-out"
    assert "You have been signed out everywhere" in text_of(here.get("/officer/signed-out").text)
    assert is_signed_out(here)
    assert is_signed_out(there)


def test_deactivating_an_officer_ends_their_sessions_at_the_next_request(app: Flask) -> None:
    client, who = signed_in(app, "triage")
    set_active(app, who, False)
    assert is_signed_out(client)


def test_signing_out_without_the_csrf_token_is_refused_and_keeps_the_session(app: Flask) -> None:
    client, _ = signed_in(app, "triage")
    refused = client.post("/officer/sign-out")
    assert refused.status_code == 400
    assert client.get(QUEUE).status_code == 200


# --- 3. throttling ------------------------------------------------------------------------


@pytest.fixture
def limited_app(make_app: Any) -> Flask:
    """An app with rate limits on (the shared limiter is put back afterwards)."""
    app: Flask = make_app()
    return app


def test_five_failed_sign_ins_for_an_email_from_one_address_then_too_many_attempts(limited_app: Flask) -> None:
    who = officer(limited_app, "triage")
    attacker = {"environ_base": {"REMOTE_ADDR": "198.51.100.7"}}
    client = limited_app.test_client()
    statuses = [sign_in(client, who.email, "a wrong guess", **attacker).status_code for _ in range(5)]
    assert statuses == [400] * 5
    refused = sign_in(client, who.email, PASSWORD, **attacker)
    assert refused.status_code == 429
    assert refused.mimetype == "text/html"
    assert "Too many attempts" in text_of(refused.text)
    assert int(refused.headers["Retry-After"]) > 0
    # The officer, at their own desk, is not locked out.
    desk = limited_app.test_client()
    assert sign_in(desk, who.email, environ_base={"REMOTE_ADDR": "192.0.2.44"}).status_code == 303
    assert desk.get(QUEUE, environ_base={"REMOTE_ADDR": "192.0.2.44"}).status_code == 200


# --- 5. the claim page --------------------------------------------------------------------


def test_triage_is_offered_accept_and_decline_on_a_submitted_claim(app: Flask) -> None:
    (reference,) = file(app)
    client, _ = signed_in(app, "triage")
    page = client.get(claim_path(reference))
    assert page.status_code == 200
    assert offered(page.text) == {"accept", "decline"}
    words = text_of(page.text)
    assert "Accept for review" in words and "Decline" in words
    assert "Uphold" not in words


def test_a_reviewer_is_offered_question_uphold_and_not_uphold_under_review(app: Flask) -> None:
    (reference,) = file(app)
    officers_walk(app, reference, "accept")
    client, _ = signed_in(app, "reviewer")
    page = client.get(claim_path(reference)).text
    assert offered(page) == {"request_information", "uphold", "not_uphold"}
    assert "Ask the group a question" in text_of(page)
    triage, _ = signed_in(app, "triage")
    assert "There is nothing your roles let you do to this claim now" in text_of(triage.get(claim_path(reference)).text)


def test_accepting_with_a_new_catalogue_entry_works_end_to_end(app: Flask) -> None:
    (reference,) = file(app)
    client, me = signed_in(app, "triage")
    reviewer = officer(app, "reviewer", name="Rita Reviewer")
    done = post_action(
        client,
        reference,
        "accept",
        category="food_hygiene",
        regulation="",
        regulation_new="Food premises registration",
        assignee=str(reviewer.id),
    )
    assert done.status_code == 303, error_summary(done.text) or text_of(done.text)[:400]
    page = client.get(location(done))
    words = text_of(page.text)
    assert "The claim is now under review." in words
    assert STATE_LABELS["under_review"] in words
    assert "Food premises registration" in words and "Rita Reviewer" in words
    assert offered(page.text) == set()
    with app.app_context():
        claim = db.session.scalar(select(Claim).where(Claim.reference == reference))
        assert claim is not None
        assert claim.state == "under_review" and claim.category == "food_hygiene"
        assert claim.assignee_id == reviewer.id
        regulation = db.session.get(Regulation, claim.regulation_id)
        assert regulation is not None and regulation.title == "Food premises registration"
        accepted = db.session.scalars(
            select(AuditEvent).where(AuditEvent.claim_id == claim.id, AuditEvent.action == "accept")
        ).all()
        assert [(e.actor_type, e.actor_id, e.to_state) for e in accepted] == [("officer", str(me.id), "under_review")]


def test_a_stale_page_is_refused_with_409_and_changes_nothing(app: Flask) -> None:
    (reference,) = file(app)
    client, _ = signed_in(app, "triage")
    stale = client.get(action_path(reference, "decline")).text
    fire_as(app, reference, "accept", officer(app, "triage"))  # another officer, meanwhile
    before = claim_now(app, reference)
    refused = post_action(client, reference, "decline", stale, reason_code="out_of_scope", explanation="National.")
    assert refused.status_code == 409
    assert "Someone else changed this claim" in text_of(refused.text)
    assert STATE_LABELS["under_review"] in text_of(refused.text), "the page shows the claim as it is now"
    assert claim_now(app, reference) == before


def test_missing_answers_are_listed_in_the_error_summary_linked_to_their_fields(app: Flask) -> None:
    (reference,) = file(app)
    client, _ = signed_in(app, "triage")
    before = claim_now(app, reference)
    refused = post_action(client, reference, "decline", reason_code="", explanation="")
    assert refused.status_code == 400
    summary = error_summary(refused.text)
    assert summary, text_of(refused.text)[:400]
    for href in summary:
        assert f'id="{href[1:]}"' in refused.text, f"{href} links to a field on the page"
    assert any(href.startswith("#decline-explanation") for href in summary)
    assert any(href.startswith("#decline-reason_code") for href in summary)
    assert claim_now(app, reference) == before


def test_a_forged_action_the_officers_roles_do_not_allow_is_403_and_changes_nothing(app: Flask) -> None:
    (reference,) = file(app)
    officers_walk(app, reference, "accept")
    client, _ = signed_in(app, "triage")
    before = claim_now(app, reference)
    refused = post_action(client, reference, "uphold", reasons="Because.", remedy="waiver")
    assert refused.status_code == 403
    assert "Only reviewer or admin can uphold" in text_of(refused.text)
    assert claim_now(app, reference) == before


def test_an_appeal_panel_member_who_decided_the_claim_may_not_decide_its_appeal(app: Flask) -> None:
    (reference,) = file(app)
    officers_walk(app, reference, "accept")
    client, decider = signed_in(app, "reviewer", "appeal_panel")
    fire_as(app, reference, "not_uphold", decider)
    fire_with_group(app, reference)
    page = client.get(claim_path(reference)).text
    assert offered(page) == set()
    before = claim_now(app, reference)
    refused = post_action(client, reference, "dismiss_appeal", page, reasons="I still agree with myself.")
    assert refused.status_code == 403
    assert "You made an earlier decision on this claim" in text_of(refused.text)
    assert claim_now(app, reference) == before
    panel, _ = signed_in(app, "appeal_panel")
    assert offered(panel.get(claim_path(reference)).text) == {"allow_appeal", "dismiss_appeal"}


def fire_with_group(app: Flask, reference: str) -> None:
    with app.app_context(), unit_of_work() as ctx:
        walk(ctx, Cast(ctx), reference, "appeal")


def test_internal_notes_are_shown_to_officers_marked_internal_and_never_to_the_group(app: Flask) -> None:
    reference, link = file_tracked(app)
    client, _ = signed_in(app, "reviewer")
    note = "Phoned the council: the rota rule is local policy."
    added = client.post(
        f"/officer/claims/{reference}/notes",
        data={"csrf_token": csrf(client.get(claim_path(reference)).text), "note": note},
    )
    assert added.status_code == 303
    page = client.get(location(added)).text
    item = next(i for i in page.split('class="moj-timeline__item"')[1:] if note in i)
    assert "Internal" in text_of(item)
    group = open_link(app.test_client(), link, follow_redirects=True)
    assert group.status_code == 200
    assert reference in text_of(group.text)
    assert note not in group.text and "Phoned the council" not in group.text


def test_an_empty_note_is_refused_beside_the_note_box(app: Flask) -> None:
    (reference,) = file(app)
    client, _ = signed_in(app, "reviewer")
    before = claim_now(app, reference)
    refused = client.post(
        f"/officer/claims/{reference}/notes",
        data={"csrf_token": csrf(client.get(claim_path(reference)).text), "note": "   "},
    )
    assert refused.status_code == 400
    assert list(error_summary(refused.text)) == ["#note"]
    assert claim_now(app, reference) == before


def test_ids_posted_as_text_are_whole_ascii_numbers_that_fit_the_database():
    from guarantee.services.queue import as_id

    assert as_id("²") is None
    assert as_id("99999999999999999999999") is None
    assert as_id("12") == 12
    assert as_id("") is None
    assert as_id(None) is None


# --- the regulation catalogue ---------------------------------------------------------------


def _regulation_of(app: Flask, reference: str) -> int | None:
    with app.app_context():
        return db.session.scalar(select(Claim.regulation_id).where(Claim.reference == reference))


def _accepted_with(app: Flask, title: str) -> str:
    (reference,) = file(app)
    triage = officer(app, "triage")
    fire_as(app, reference, "accept", triage, category="food_hygiene", regulation={"title": title})
    return reference


def test_the_catalogue_is_searched_by_title_reference_or_issuer(app: Flask) -> None:
    _accepted_with(app, "Food premises registration")
    _accepted_with(app, "Fire risk assessment")
    client, _ = signed_in(app, "reviewer")
    words = text_of(client.get("/officer/regulations?q=premises").text)
    assert "Food premises registration" in words
    assert "Fire risk assessment" not in words
    assert "Fire risk assessment" in text_of(client.get("/officer/regulations").text)
    assert client.get("/officer/regulations?q=%25_\\").status_code == 200  # LIKE's wildcards are text


def test_merging_a_duplicate_moves_its_claims_and_each_claims_audit_trail_records_it(app: Flask) -> None:
    duplicate_claim = _accepted_with(app, "Food premisses registration")
    kept_claim = _accepted_with(app, "Food premises registration")
    duplicate, kept = _regulation_of(app, duplicate_claim), _regulation_of(app, kept_claim)
    events_before = claim_now(app, duplicate_claim)[2]
    client, _ = signed_in(app, "reviewer")
    token = fields(client.get(f"/officer/regulations/{duplicate}").text)["csrf_token"]

    response = client.post(f"/officer/regulations/{duplicate}/merge", data={"csrf_token": token, "into": str(kept)})

    assert response.status_code == 303
    assert "Merged: 1 claims now point to this entry." in text_of(client.get(location(response)).text)
    assert _regulation_of(app, duplicate_claim) == kept
    assert claim_now(app, duplicate_claim)[2] == events_before + 1
    with app.app_context():
        action = db.session.scalar(
            select(AuditEvent.action)
            .join(Claim, Claim.id == AuditEvent.claim_id)
            .where(Claim.reference == duplicate_claim)
            .order_by(AuditEvent.seq.desc())
        )
    assert action == "regulation_merged"
    assert "Food premisses registration" not in text_of(client.get("/officer/regulations").text)
    itself = client.post(f"/officer/regulations/{kept}/merge", data={"csrf_token": token, "into": str(kept)})
    assert itself.status_code == 409


def test_correcting_an_entry_checks_every_field_and_needs_an_editing_role(app: Flask) -> None:
    reference = _accepted_with(app, "Food premises registration")
    entry = _regulation_of(app, reference)
    client, _ = signed_in(app, "reviewer")
    token = fields(client.get(f"/officer/regulations/{entry}").text)["csrf_token"]

    refused = client.post(f"/officer/regulations/{entry}", data={"csrf_token": token, "title": "", "category": "x"})
    assert refused.status_code == 400
    assert set(error_summary(refused.text)) == {"#title", "#category"}

    saved = client.post(
        f"/officer/regulations/{entry}",
        data={"csrf_token": token, "title": "Food business registration", "category": "food_hygiene"},
    )
    assert saved.status_code == 303
    assert "Food business registration" in text_of(client.get("/officer/regulations").text)

    panel, _ = signed_in(app, "appeal_panel")
    token = fields(panel.get(f"/officer/regulations/{entry}").text)["csrf_token"]
    forbidden = panel.post(
        f"/officer/regulations/{entry}", data={"csrf_token": token, "title": "X", "category": "other"}
    )
    assert forbidden.status_code == 403


# --- passwords -------------------------------------------------------------------------------


def _change_password(client: FlaskClient, current: str, new: str) -> TestResponse:
    token = fields(client.get("/officer/password").text)["csrf_token"]
    return client.post(
        "/officer/password", data={"csrf_token": token, "current_password": current, "new_password": new}
    )


def test_an_officer_whose_password_was_reset_must_choose_a_new_one_first(app: Flask) -> None:
    client, who = signed_in(app, "triage")
    other, _ = signed_in(app, "reviewer")
    with app.app_context(), unit_of_work() as ctx:
        found = ctx.session.get(Officer, who.id)
        assert found is not None
        found.must_change_password = True
    again = app.test_client()
    assert sign_in(again, who.email).status_code == 303

    assert urlsplit(again.get(QUEUE).headers["Location"]).path == "/officer/password"
    assert urlsplit(again.get(claim_path("CPG-2026-000001")).headers["Location"]).path == "/officer/password"

    refused = _change_password(again, "not my password", "short")
    assert refused.status_code == 400
    assert set(error_summary(refused.text)) == {"#current_password", "#new_password"}

    changed = _change_password(again, PASSWORD, "a brand new long passphrase")
    assert changed.status_code == 303
    assert again.get(QUEUE).status_code == 200, "this session goes on"
    assert is_signed_out(client), "the officer's other sessions have ended"
    assert not is_signed_out(other), "other officers are not affected"
    assert sign_in(app.test_client(), who.email, "a brand new long passphrase").status_code == 303


# --- administering officers -----------------------------------------------------------------


def _admin_post(client: FlaskClient, path: str, **form: Any) -> TestResponse:
    token = fields(client.get(QUEUE).text)["csrf_token"]
    return client.post(path, data={"csrf_token": token, **form})


def _events(app: Flask, who: Someone) -> list[str]:
    from guarantee.models import AdminEvent

    with app.app_context():
        return list(
            db.session.scalars(
                select(AdminEvent.action).where(AdminEvent.officer_id == who.id).order_by(AdminEvent.seq)
            )
        )


@pytest.mark.parametrize("roles", [("triage",), ("reviewer",), ("appeal_panel",)])
def test_only_an_admin_may_administer_officers(app: Flask, roles: tuple[str, ...]) -> None:
    client, _ = signed_in(app, *roles)
    someone = officer(app, "reviewer")
    assert client.get("/officer/admin").status_code == 403
    assert client.get(f"/officer/admin/{someone.id}").status_code == 403
    for change in ("roles", "deactivate", "reset-password", "revoke-tokens"):
        assert _admin_post(client, f"/officer/admin/{someone.id}/{change}", roles="admin").status_code == 403
    assert _events(app, someone) == ["officer_added"]  # by whoever made the account, nothing more
    assert not is_signed_out(sign_in_as(app, someone))


def sign_in_as(app: Flask, who: Someone, password: str = PASSWORD) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, who.email, password).status_code == 303
    return client


def test_an_admin_adds_an_officer_who_must_choose_a_password_at_first_sign_in(app: Flask) -> None:
    client, _ = signed_in(app, "admin")
    page = _admin_post(client, "/officer/admin", name="Nia Newcomer", email="nia@council.example", roles=["reviewer"])
    assert page.status_code == 200
    password = re.search(r'id="temporary-password">([^<]+)<', page.text).group(1)  # type: ignore[union-attr]
    newcomer = app.test_client()
    assert sign_in(newcomer, "nia@council.example", password).status_code == 303
    assert urlsplit(newcomer.get(QUEUE).headers["Location"]).path == "/officer/password"


def test_deactivating_ends_sessions_and_is_recorded_and_reactivating_restores_sign_in(app: Flask) -> None:
    client, _ = signed_in(app, "admin")
    someone = officer(app, "reviewer")
    theirs = sign_in_as(app, someone)

    assert _admin_post(client, f"/officer/admin/{someone.id}/deactivate").status_code == 303
    assert is_signed_out(theirs)
    assert sign_in(app.test_client(), someone.email).status_code == 400

    assert _admin_post(client, f"/officer/admin/{someone.id}/reactivate").status_code == 303
    assert sign_in(app.test_client(), someone.email).status_code == 303
    assert _events(app, someone) == ["officer_added", "deactivated", "reactivated"]


def test_roles_are_set_and_recorded_and_an_admin_cannot_lock_themselves_out(app: Flask) -> None:
    client, me = signed_in(app, "admin")
    someone = officer(app, "reviewer")
    assert _admin_post(client, f"/officer/admin/{someone.id}/roles", roles=["triage", "reviewer"]).status_code == 303
    with app.app_context():
        found = db.session.get(Officer, someone.id)
        assert found is not None
        assert found.roles == {"triage", "reviewer"}
    refused = _admin_post(client, f"/officer/admin/{me.id}/roles", roles=["reviewer"])
    assert "Nothing was changed." in text_of(client.get(location(refused)).text)
    assert _admin_post(client, f"/officer/admin/{me.id}/deactivate").status_code == 303
    assert not is_signed_out(client)
    assert _events(app, someone) == ["officer_added", "roles_changed"]


def test_a_password_reset_ends_sessions_and_api_tokens_and_gives_a_one_time_password(app: Flask) -> None:
    from tests.api_support import sign_in as api_sign_in

    client, _ = signed_in(app, "admin")
    someone = officer(app, "reviewer")
    theirs = sign_in_as(app, someone)
    token = api_sign_in(app.test_client(), someone.email).json["token"]

    page = _admin_post(client, f"/officer/admin/{someone.id}/reset-password")
    password = re.search(r'id="temporary-password">([^<]+)<', page.text).group(1)  # type: ignore[union-attr]

    assert is_signed_out(theirs)
    assert app.test_client().get("/api/v1/claims", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert sign_in(app.test_client(), someone.email).status_code == 400, "the old password no longer works"
    again = sign_in_as(app, someone, password)
    assert urlsplit(again.get(QUEUE).headers["Location"]).path == "/officer/password"
    assert _events(app, someone) == ["officer_added", "password_reset"]
    assert password not in str(_events(app, someone))


# --- what a review found ------------------------------------------------------------------------


def test_an_action_or_assignment_without_the_version_it_was_drawn_from_is_refused(app: Flask) -> None:
    client, _ = signed_in(app, "triage")
    (reference,) = file(app)
    before = claim_now(app, reference)
    token = fields(client.get(claim_path(reference)).text)["csrf_token"]
    for version in ("", "abc", "99999999999999"):
        declined = client.post(
            f"{claim_path(reference)}/actions/decline",
            data={
                "decline-csrf_token": token,
                "decline-version": version,
                "decline-reason_code": "out_of_scope",
                "decline-explanation": "Not ours.",
            },
        )
        assert declined.status_code == 409
        assigned = client.post(f"{claim_path(reference)}/assignee", data={"csrf_token": token, "version": version})
        assert assigned.status_code == 409
    assert claim_now(app, reference) == before


def test_the_groups_and_the_systems_steps_are_not_offered_to_officers_even_forged(app: Flask) -> None:
    client, _ = signed_in(app, "admin")
    (reference,) = file(app)
    officers_walk(app, reference, "accept", "request_information")
    before = claim_now(app, reference)
    token = fields(client.get(claim_path(reference)).text)["csrf_token"]
    for trigger in ("provide_information", "withdraw", "appeal", "information_lapsed"):
        forged = client.post(f"{claim_path(reference)}/actions/{trigger}", data={f"{trigger}-csrf_token": token})
        assert forged.status_code == 404
    assert claim_now(app, reference) == before


def test_odd_input_anywhere_in_the_console_is_a_page_not_a_failure(app: Flask) -> None:
    client, _ = signed_in(app, "admin")
    for path in (
        "/officer?endpoint=x&_anchor=y&_method=GET&_scheme=javascript",
        "/officer/regulations?q=%00",
        "/officer/regulations/99999999999",
        "/officer/admin/99999999999999999999",
        "/officer?sort=submitted&cursor=WyIyMDI0LTAxLTAxIiwxXQ",
    ):
        assert client.get(path).status_code in (200, 400, 404), path
    assert sign_in(app.test_client(), "someone\x00@council.example", "x").status_code == 400


def test_a_merged_catalogue_entry_is_a_page_that_says_so(app: Flask) -> None:
    first = _accepted_with(app, "Fire risk assessment")
    second = _accepted_with(app, "Fire risk assesment")
    kept, merged = _regulation_of(app, first), _regulation_of(app, second)
    client, _ = signed_in(app, "reviewer")
    token = fields(client.get(f"/officer/regulations/{merged}").text)["csrf_token"]
    assert (
        client.post(f"/officer/regulations/{merged}/merge", data={"csrf_token": token, "into": str(kept)}).status_code
        == 303
    )
    response = client.get(f"/officer/regulations/{merged}")
    assert response.status_code == 409
    assert "merged into another" in text_of(response.text)


def test_signing_out_after_a_timeout_still_ends_the_other_sessions(app: Flask, clock: FixedClock) -> None:
    who = officer(app, "reviewer")
    idle, busy = sign_in_as(app, who), sign_in_as(app, who)
    token = fields(idle.get(QUEUE).text)["csrf_token"]
    clock.advance(minutes=20)
    assert busy.get(QUEUE).status_code == 302  # timed out too: sign in again
    busy = sign_in_as(app, who)
    assert idle.post("/officer/sign-out", data={"csrf_token": token}).status_code in (302, 303)
    assert is_signed_out(busy)


def test_officers_see_and_download_the_groups_evidence_as_an_attachment(app: Flask) -> None:
    from guarantee.services.actors import GroupActor
    from guarantee.services.evidence import add_evidence

    (reference,) = file(app)
    pdf = b"%PDF-1.4\n%%EOF\n"
    with app.app_context(), unit_of_work() as ctx:
        attachment_id = add_evidence(ctx, reference, GroupActor(reference), "letter.pdf", pdf).id
    client, _ = signed_in(app, "appeal_panel")
    assert "letter.pdf" in text_of(client.get(claim_path(reference)).text)
    with client.get(f"{claim_path(reference)}/evidence/{attachment_id}") as download:
        assert download.status_code == 200
        assert download.data == pdf
        assert download.headers["Content-Disposition"].startswith("attachment")
        assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert app.test_client().get(f"{claim_path(reference)}/evidence/{attachment_id}").status_code == 302
    assert client.get(f"{claim_path(reference)}/evidence/{attachment_id + 1000}").status_code == 404


# --- classification after accepting, and each clock's working -------------------------------


def _classify(client: FlaskClient, reference: str, page: str | None = None, **answers: str) -> TestResponse:
    page = page if page is not None else client.get(claim_path(reference)).text
    given = fields(page)
    data = {"classify-csrf_token": given["classify-csrf_token"], "classify-version": given["classify-version"]}
    data |= {f"classify-{name}": value for name, value in answers.items()}
    return client.post(f"/officer/claims/{reference}/classification", data=data)


def test_a_reviewer_changes_the_category_and_adds_a_new_catalogue_entry_later(app: Flask) -> None:
    (reference,) = file(app)
    fire_as(app, reference, "accept", officer(app, "triage"))
    client, me = signed_in(app, "reviewer")
    page = client.get(claim_path(reference)).text
    assert fields(page)["classify-category"] == "food_hygiene"  # the form starts from what the claim has
    before = claim_now(app, reference)

    done = _classify(
        client, reference, page, category="planning_and_premises", regulation="", regulation_new="Use class order"
    )
    assert done.status_code == 303, error_summary(done.text) or text_of(done.text)[:300]
    words = text_of(client.get(location(done)).text)
    assert "The classification was changed." in words and "Use class order" in words
    state, version, events = claim_now(app, reference)
    assert (state, version, events) == (before[0], before[1] + 1, before[2] + 1)
    with app.app_context():
        claim = db.session.scalar(select(Claim).where(Claim.reference == reference))
        assert claim is not None and claim.category == "planning_and_premises"
        last = db.session.scalars(
            select(AuditEvent).where(AuditEvent.claim_id == claim.id).order_by(AuditEvent.seq.desc())
        ).first()
        assert last is not None and (last.action, last.actor_id) == ("classified", str(me.id))


def test_the_same_classification_again_records_nothing(app: Flask) -> None:
    (reference,) = file(app)
    fire_as(app, reference, "accept", officer(app, "triage"))
    client, _ = signed_in(app, "triage")
    before = claim_now(app, reference)
    page = client.get(claim_path(reference)).text
    done = _classify(client, reference, page, category=fields(page)["classify-category"], regulation="")
    assert done.status_code == 303
    assert "Nothing was changed" in text_of(client.get(location(done)).text)
    assert claim_now(app, reference) == before


def test_classifying_from_a_stale_page_or_with_a_bad_category_changes_nothing(app: Flask) -> None:
    (reference,) = file(app)
    fire_as(app, reference, "accept", officer(app, "triage"))
    client, _ = signed_in(app, "reviewer")
    stale = client.get(claim_path(reference)).text
    fire_as(app, reference, "request_information", officer(app, "reviewer"))
    before = claim_now(app, reference)
    refused = _classify(client, reference, stale, category="planning_and_premises", regulation="")
    assert refused.status_code == 409
    assert "Someone else changed this claim" in text_of(refused.text)
    wrong = _classify(client, reference, category="astrology", regulation="")
    assert wrong.status_code == 400
    assert "#classify-category" in error_summary(wrong.text)
    assert claim_now(app, reference) == before


def test_the_appeal_panel_is_not_offered_classification_and_a_forged_one_is_refused(app: Flask) -> None:
    (reference,) = file(app)
    fire_as(app, reference, "accept", officer(app, "triage"))
    client, _ = signed_in(app, "appeal_panel")
    page = client.get(claim_path(reference)).text
    assert 'action="/officer/claims/' + reference + '/classification"' not in page
    before = claim_now(app, reference)
    token = fields(page)["csrf_token"]
    forged = client.post(
        f"/officer/claims/{reference}/classification",
        data={
            "classify-csrf_token": token,
            "classify-version": str(before[1]),
            "classify-category": "planning_and_premises",
        },
    )
    assert forged.status_code == 403
    assert claim_now(app, reference) == before


def test_both_pages_show_that_a_late_question_gave_no_more_time(app: Flask, clock: FixedClock) -> None:
    from datetime import date

    from workflows import LATE_PAUSE_RULE

    clock.set_day(date(2026, 11, 2))
    reference, link = file_tracked(app)
    officers_walk(app, reference, "accept")  # decision due 30 November
    clock.set_day(date(2026, 12, 1))
    officers_walk(app, reference, "request_information")
    client, _ = signed_in(app, "reviewer")
    words = text_of(client.get(claim_path(reference)).text)
    assert (
        "Paused: 20 working days from 2 November 2026, paused on 1 December 2026; it was already due on "
        "30 November 2026, so the answer adds no time: it stays due on 30 November 2026." in words
    )

    clock.set_day(date(2026, 12, 7))
    officers_walk(app, reference, "provide_information")
    client, _ = signed_in(app, "reviewer")
    words = text_of(client.get(claim_path(reference)).text)
    assert (
        "Running: 20 working days from 2 November 2026, due 30 November 2026 "
        "(a question asked after that date added no time)." in words
    )
    assert (
        "A question was asked on 1 December 2026, after this was already due (on 30 November 2026), "
        f"and answered on 7 December 2026. {LATE_PAUSE_RULE}" in words
    )
    group = app.test_client()
    words = text_of(group.get(group.get(link).headers["Location"]).text)
    assert "We should have decided your claim by 30 November 2026. We are late." in words
    assert (
        "We asked you a question on 1 December 2026, after our decision was already due (on 30 November 2026). "
        "You answered on 7 December 2026. Asking late does not give us extra time: the decision is still due "
        "on 30 November 2026." in words
    )


def test_the_claim_page_shows_how_each_clocks_due_date_was_worked_out(app: Flask, clock: FixedClock) -> None:
    from datetime import date

    clock.set_day(date(2026, 12, 22))  # the decision clock will skip Christmas and Boxing Day
    (reference,) = file(app)
    fire_as(app, reference, "accept", officer(app, "triage"))
    client, _ = signed_in(app, "reviewer")
    words = text_of(client.get(claim_path(reference)).text)
    assert "How the due dates were worked out" in words
    assert "Triage" in words and "Stopped: 5 working days from 22 December 2026" in words
    assert "Running: 20 working days from 22 December 2026" in words
    assert "not counting bank holidays in England" in words
    assert "Christmas Day on 25 December 2026" in words


def test_searching_the_catalogue_on_the_accept_page_narrows_the_list_to_choose_from(app: Flask) -> None:
    (reference,) = file(app)
    first, _ = file(app, 2)
    officers_walk(app, first, "accept")  # adds "Food premises registration" to the catalogue
    client, _ = signed_in(app, "triage")
    with app.app_context(), unit_of_work() as ctx:
        ctx.session.add(Regulation(title="Fire risk assessment", category="health_and_safety", created_at=ctx.now()))
    accept = action_path(reference, "accept")
    page = client.get(accept).text
    assert "Fire risk assessment" in page and "Food premises registration" in page
    narrowed = client.get(accept + "?q=fire").text
    assert "1 entry matches “fire”" in text_of(narrowed)
    listed = re.search(r'<select[^>]*name="accept-regulation".*?</select>', narrowed, re.S)
    assert listed and "Fire risk assessment" in listed[0] and "Food premises registration" not in listed[0]
    assert fields(narrowed)["accept-regulation_pick"] == "other"  # the search chooses "another entry"
    nothing = client.get(accept + "?q=zzz").text
    assert "No entry matches “zzz”" in text_of(nothing)
    assert 'value="new"' in nothing  # a new entry can still be added
