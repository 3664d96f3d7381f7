"""Two-step verification for officers: setting it up with an authenticator app, signing in with a
code, codes that work once, the time allowed between password and code, admins made to use it
when the service says so, an administrator's reset for a lost phone, and the API asking for the
code too. The codes are worked out from the key the page shows, at the service's clock's time."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from guarantee.clock import FixedClock
from guarantee.extensions import db
from guarantee.models import AdminEvent, Officer
from tests.helpers import PASSWORD
from tests.test_console import (
    QUEUE,
    SIGN_IN,
    Someone,
    _admin_post,
    is_signed_out,
    location,
    officer,
    sign_in,
    sign_in_as,
)
from tests.test_public import csrf, error_summary, fields, text_of

TWO_STEP = "/officer/two-step"
CODE_PAGE = "/officer/sign-in/code"


def shown_key(html: str) -> str:
    found = re.search(r'<strong class="app-secret">([A-Z2-7 ]+)</strong>', html)
    assert found, "the page shows no key to type into an app"
    return found.group(1).replace(" ", "")


def start_setting_up(client: FlaskClient, *, button: str = "Set up two-step verification") -> TestResponse:
    """Press the page's button to begin; the page that then shows the key, QR code and form."""
    page = client.get(TWO_STEP)
    assert f">{button}</button>" in page.text
    started = client.post(f"{TWO_STEP}/start", data={"csrf_token": csrf(page.text)})
    assert started.status_code == 303 and location(started) == TWO_STEP
    return client.get(TWO_STEP)


def code(key: str, clock: FixedClock, *, steps: int = 0) -> str:
    """What an authenticator app shows for this key now (or ``steps`` of 30 seconds away)."""
    return pyotp.TOTP(key).at(clock.now() + timedelta(seconds=30 * steps))


def post_code(client: FlaskClient, path: str, value: str, **kwargs: object) -> TestResponse:
    page = client.get(TWO_STEP if path.startswith(TWO_STEP) else SIGN_IN)  # one CSRF token per session
    return client.post(path, data={"csrf_token": csrf(page.text), "code": value}, **kwargs)  # type: ignore[arg-type]


def turn_on(client: FlaskClient, clock: FixedClock) -> str:
    """Set up two-step verification through the page; the key the officer's app now holds."""
    page = start_setting_up(client)
    assert page.status_code == 200
    key = shown_key(page.text)
    done = post_code(client, f"{TWO_STEP}/confirm", code(key, clock))
    assert done.status_code == 303, text_of(done.text)
    return key


def with_two_step(app: Flask, clock: FixedClock, *roles: str) -> tuple[Someone, str]:
    """An officer who has turned two-step verification on, signed out again: (officer, key)."""
    who = officer(app, *roles)
    client = sign_in_as(app, who)
    key = turn_on(client, clock)
    clock.advance(seconds=30)  # the next sign-in needs the next code
    return who, key


def admin_log(app: Flask, who: Someone) -> list[str]:
    with app.app_context():
        query = select(AdminEvent.action).where(AdminEvent.officer_id == who.id).order_by(AdminEvent.seq)
        return list(db.session.scalars(query))


# --- setting it up ------------------------------------------------------------------------


def test_an_officer_turns_it_on_by_scanning_the_qr_code_and_entering_a_code(app: Flask, clock: FixedClock) -> None:
    who = officer(app, "triage")
    client = sign_in_as(app, who)
    other_desk = sign_in_as(app, who)
    before = client.get(TWO_STEP)
    assert 'class="app-secret"' not in before.text  # opening the page makes no key
    with app.app_context():
        assert db.session.get(Officer, who.id).totp_pending_secret is None  # type: ignore[union-attr]
    page = start_setting_up(client)
    assert 'role="img" aria-label="QR code of your two-step verification key"' in page.text
    key = shown_key(page.text)
    assert shown_key(client.get(TWO_STEP).text) == key  # reloading keeps the same key

    wrong = post_code(client, f"{TWO_STEP}/confirm", "000000" if code(key, clock) != "000000" else "111111")
    assert wrong.status_code == 400
    assert error_summary(wrong.text) == {
        "#code": "The code is wrong or has already been used. Enter the code your app shows now"
    }
    assert shown_key(wrong.text) == key
    garbled = post_code(client, f"{TWO_STEP}/confirm", "12ab")
    assert error_summary(garbled.text) == {"#code": "Enter the 6-digit code from your authenticator app"}

    done = post_code(client, f"{TWO_STEP}/confirm", code(key, clock))
    assert done.status_code == 303
    assert "Two-step verification is on" in text_of(client.get(location(done)).text)
    assert client.get(QUEUE).status_code == 200  # this session goes on
    assert is_signed_out(other_desk)  # the others end
    assert admin_log(app, who)[-1] == "two_step_turned_on"


def test_turning_it_on_or_moving_it_to_a_new_phone_revokes_the_officers_api_tokens(
    app: Flask, clock: FixedClock
) -> None:
    who = officer(app, "triage")
    client = sign_in_as(app, who)
    before = _token(app.test_client(), who.email).json["token"]  # type: ignore[index]
    key = turn_on(client, clock)
    bearer = {"Authorization": f"Bearer {before}"}
    assert app.test_client().get("/api/v1/claims", headers=bearer).status_code == 401

    clock.advance(seconds=30)
    with_code = _token(app.test_client(), who.email, code=code(key, clock)).json["token"]  # type: ignore[index]
    clock.advance(seconds=30)
    page = start_setting_up(client, button="Set up a new phone")
    new_key = shown_key(page.text)
    page_token = csrf(client.get(TWO_STEP).text)
    moved = client.post(
        f"{TWO_STEP}/confirm",
        data={"csrf_token": page_token, "current_code": code(key, clock), "code": code(new_key, clock)},
    )
    assert moved.status_code == 303, text_of(moved.text)
    assert app.test_client().get("/api/v1/claims", headers={"Authorization": f"Bearer {with_code}"}).status_code == 401


def test_a_code_a_few_seconds_old_or_early_is_accepted_but_not_one_from_minutes_ago(
    app: Flask, clock: FixedClock
) -> None:
    who = officer(app, "reviewer")
    client = sign_in_as(app, who)
    key = shown_key(start_setting_up(client).text)
    stale = post_code(client, f"{TWO_STEP}/confirm", code(key, clock, steps=-4))
    assert stale.status_code == 400
    assert post_code(client, f"{TWO_STEP}/confirm", code(key, clock, steps=-1)).status_code == 303


# --- signing in with a code ---------------------------------------------------------------


def test_signing_in_asks_for_the_code_after_the_password_and_each_code_works_once(
    app: Flask, clock: FixedClock
) -> None:
    who, key = with_two_step(app, clock, "triage")
    client = app.test_client()
    after_password = sign_in(client, who.email)
    assert after_password.status_code == 303 and location(after_password) == CODE_PAGE
    assert is_signed_out(client)  # the password alone signs nobody in

    wrong = post_code(client, CODE_PAGE, code(key, clock, steps=5))
    assert wrong.status_code == 400
    assert error_summary(wrong.text) == {
        "#code": "The code is wrong or has already been used. Enter the code your app shows now"
    }
    right = code(key, clock)
    signed = post_code(client, CODE_PAGE, right)
    assert signed.status_code == 303 and location(signed) == QUEUE
    assert client.get(QUEUE).status_code == 200

    # Someone who saw the password and the code over the officer's shoulder cannot reuse them.
    onlooker = app.test_client()
    sign_in(onlooker, who.email)
    assert post_code(onlooker, CODE_PAGE, right).status_code == 400
    assert is_signed_out(onlooker)
    clock.advance(seconds=30)
    assert post_code(onlooker, CODE_PAGE, code(key, clock)).status_code == 303


def test_the_code_must_follow_the_password_within_five_minutes(app: Flask, clock: FixedClock) -> None:
    who, key = with_two_step(app, clock, "triage")
    client = app.test_client()
    sign_in(client, who.email)
    clock.advance(minutes=6)
    late = post_code(client, CODE_PAGE, code(key, clock))
    assert late.status_code == 303 and location(late) == SIGN_IN
    assert "within 5 minutes" in text_of(client.get(SIGN_IN).text)
    assert is_signed_out(client)


def test_the_code_page_without_a_right_password_first_sends_the_browser_to_sign_in(app: Flask) -> None:
    client = app.test_client()
    assert location(client.get(CODE_PAGE)) == SIGN_IN
    page = client.get(SIGN_IN)
    forged = client.post(CODE_PAGE, data={"csrf_token": csrf(page.text), "code": "123456"})
    assert location(forged) == SIGN_IN
    assert is_signed_out(client)


def test_a_reset_or_deactivation_between_password_and_code_ends_the_attempt(app: Flask, clock: FixedClock) -> None:
    who, key = with_two_step(app, clock, "triage")
    boss = officer(app, "admin")
    client = app.test_client()
    sign_in(client, who.email)
    assert _admin_post(sign_in_as(app, boss), f"/officer/admin/{who.id}/deactivate").status_code == 303
    refused = post_code(client, CODE_PAGE, code(key, clock))
    assert location(refused) == SIGN_IN
    assert is_signed_out(client)


def test_a_wrong_password_never_reaches_the_code_page(app: Flask, clock: FixedClock) -> None:
    who, _ = with_two_step(app, clock, "triage")
    client = app.test_client()
    refused = sign_in(client, who.email, "not the password")
    assert refused.status_code == 400
    assert location(client.get(CODE_PAGE)) == SIGN_IN


def a_wrong_code(key: str, clock: FixedClock) -> str:
    """Six digits the app shows neither now nor a step either side."""
    near = {code(key, clock, steps=s) for s in (-1, 0, 1, 2)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in near)


def test_five_wrong_codes_from_anywhere_then_codes_are_refused_for_15_minutes(app: Flask, clock: FixedClock) -> None:
    who, key = with_two_step(app, clock, "triage")
    wrong = a_wrong_code(key, clock)
    statuses = []
    for n in range(5):
        # A fresh browser and address each time: the count is on the officer, not the browser.
        guesser, where = app.test_client(), {"environ_base": {"REMOTE_ADDR": f"198.51.100.{n}"}}
        sign_in(guesser, who.email, **where)
        statuses.append(post_code(guesser, CODE_PAGE, wrong, **where).status_code)
    assert statuses == [400] * 5
    desk = app.test_client()
    sign_in(desk, who.email)
    refused = post_code(desk, CODE_PAGE, code(key, clock))  # even the right code, for now
    assert refused.status_code == 429
    assert "Too many wrong codes. Wait 15 minutes" in text_of(refused.text)
    assert is_signed_out(desk)
    clock.advance(minutes=16)
    later = app.test_client()
    sign_in(later, who.email)
    assert post_code(later, CODE_PAGE, code(key, clock)).status_code == 303


def test_wrong_codes_through_the_api_and_on_the_turn_off_form_count_too(app: Flask, clock: FixedClock) -> None:
    who, key = with_two_step(app, clock, "reviewer")
    wrong = a_wrong_code(key, clock)
    api = app.test_client()
    for _ in range(3):
        assert _token(api, who.email, code=wrong).status_code == 401
    desk = app.test_client()
    sign_in(desk, who.email)
    assert post_code(desk, CODE_PAGE, code(key, clock)).status_code == 303  # a right code starts the count again
    for _ in range(5):
        assert post_code(desk, f"{TWO_STEP}/turn-off", wrong).status_code == 400
    assert post_code(desk, f"{TWO_STEP}/turn-off", code(key, clock, steps=1)).status_code == 429
    refused = _token(api, who.email, code=code(key, clock, steps=1))
    assert refused.status_code == 429
    assert "Too many wrong codes" in refused.json["detail"]  # type: ignore[index]
    with app.app_context():
        assert db.session.get(Officer, who.id).totp_secret is not None  # type: ignore[union-attr]


# --- required for admins ------------------------------------------------------------------


def test_when_configured_an_admin_must_set_it_up_before_anything_else_and_cannot_turn_it_off(
    app: Flask, clock: FixedClock
) -> None:
    app.config["GUARANTEE_ADMIN_TWO_STEP"] = True
    boss = officer(app, "admin")
    client = sign_in_as(app, boss)
    for page in (QUEUE, "/officer/admin", "/officer/regulations"):
        assert location(client.get(page)) == TWO_STEP
    assert "Administrators must use two-step verification here" in text_of(client.get(TWO_STEP).text)
    colleague = sign_in_as(app, officer(app, "triage", "reviewer"))
    assert colleague.get(QUEUE).status_code == 200  # others may choose

    key = turn_on(client, clock)
    assert client.get(QUEUE).status_code == 200
    assert "Turn off two-step verification" not in client.get(TWO_STEP).text
    refused = post_code(client, f"{TWO_STEP}/turn-off", code(key, clock, steps=1))
    assert refused.status_code == 409
    assert "cannot be turned off" in text_of(refused.text)
    with app.app_context():
        assert db.session.get(Officer, boss.id).totp_secret is not None  # type: ignore[union-attr]


def test_an_officer_who_may_choose_turns_it_off_with_a_current_code(app: Flask, clock: FixedClock) -> None:
    who, key = with_two_step(app, clock, "reviewer")
    client = app.test_client()
    sign_in(client, who.email)
    post_code(client, CODE_PAGE, code(key, clock))
    clock.advance(seconds=30)
    assert post_code(client, f"{TWO_STEP}/turn-off", "123 45").status_code == 400
    assert post_code(client, f"{TWO_STEP}/turn-off", code(key, clock)).status_code == 303
    assert admin_log(app, who)[-1] == "two_step_turned_off"
    again = app.test_client()
    assert location(sign_in(again, who.email)) == QUEUE


def test_setting_up_a_new_phone_takes_a_code_from_the_old_one_which_works_until_then(
    app: Flask, clock: FixedClock
) -> None:
    who, old_key = with_two_step(app, clock, "triage")
    client = app.test_client()
    sign_in(client, who.email)
    post_code(client, CODE_PAGE, code(old_key, clock))
    page = start_setting_up(client, button="Set up a new phone")
    new_key = shown_key(page.text)
    assert new_key != old_key
    assert "Code from the phone you use now" in text_of(page.text)
    clock.advance(seconds=30)
    elsewhere = app.test_client()
    sign_in(elsewhere, who.email)
    assert post_code(elsewhere, CODE_PAGE, code(old_key, clock)).status_code == 303  # the old phone still works
    clock.advance(seconds=30)

    def confirm(**codes: str) -> TestResponse:
        token = csrf(client.get(TWO_STEP).text)
        return client.post(f"{TWO_STEP}/confirm", data={"csrf_token": token, **codes})

    without_old = confirm(code=code(new_key, clock))
    assert without_old.status_code == 400  # a session left open cannot take the factor over
    assert error_summary(without_old.text) == {"#current_code": "Enter the 6-digit code from your authenticator app"}
    assert confirm(code=code(new_key, clock), current_code=code(old_key, clock)).status_code == 303
    assert admin_log(app, who)[-1] == "two_step_replaced"
    clock.advance(seconds=30)
    late = app.test_client()
    sign_in(late, who.email)
    assert post_code(late, CODE_PAGE, code(old_key, clock)).status_code == 400


def test_an_admin_resets_it_for_an_officer_who_lost_their_phone_with_a_temporary_password(
    app: Flask, clock: FixedClock
) -> None:
    who, _ = with_two_step(app, clock, "triage")
    boss = sign_in_as(app, officer(app, "admin"))
    assert "Two-step verification on" in text_of(boss.get(f"/officer/admin/{who.id}").text)
    reset = _admin_post(boss, f"/officer/admin/{who.id}/reset-two-step")
    assert reset.status_code == 200
    temporary = re.search(r'<code id="temporary-password">([^<]+)</code>', reset.text)
    assert temporary and "two-step verification is off" in text_of(reset.text).lower()
    assert admin_log(app, who)[-1] == "two_step_reset"
    client = app.test_client()
    assert sign_in(client, who.email).status_code == 400  # the old password alone no longer works
    assert location(sign_in(client, who.email, temporary.group(1))) == QUEUE
    assert location(client.get(QUEUE)) == "/officer/password"  # a password of their own first
    assert "Two-step verification off" in text_of(boss.get(f"/officer/admin/{who.id}").text)


def test_an_admin_cannot_reset_their_own_two_step_verification(app: Flask, clock: FixedClock) -> None:
    boss, key = with_two_step(app, clock, "admin")
    client = app.test_client()
    sign_in(client, boss.email)
    with app.app_context():
        sealed = db.session.get(Officer, boss.id).totp_secret  # type: ignore[union-attr]
    assert sealed is not None
    post_code(client, CODE_PAGE, code(key, clock))
    refused = _admin_post(client, f"/officer/admin/{boss.id}/reset-two-step")
    assert "Ask another administrator" in text_of(client.get(location(refused)).text)
    with app.app_context():
        assert db.session.get(Officer, boss.id).totp_secret == sealed  # type: ignore[union-attr]


def test_an_operator_resets_an_only_admins_two_step_verification_at_the_command_line(
    app: Flask, clock: FixedClock
) -> None:
    app.config["GUARANTEE_ADMIN_TWO_STEP"] = True
    boss, _ = with_two_step(app, clock, "admin")
    result = app.test_cli_runner().invoke(args=["guarantee", "reset-two-step", "--email", boss.email])
    assert result.exit_code == 0, result.output
    temporary = re.search(r"Temporary password .*: (\S+)", result.output)
    assert temporary, result.output
    client = app.test_client()
    assert location(sign_in(client, boss.email, temporary.group(1))) == QUEUE
    assert admin_log(app, boss)[-1] == "two_step_reset"
    unknown = app.test_cli_runner().invoke(args=["guarantee", "reset-two-step", "--email", "nobody@council.example"])
    assert unknown.exit_code == 1 and "no officer" in unknown.output


def test_only_an_admin_may_reset_someone_elses_two_step_verification(app: Flask, clock: FixedClock) -> None:
    who, _ = with_two_step(app, clock, "triage")
    peer = sign_in_as(app, officer(app, "reviewer"))
    assert _admin_post(peer, f"/officer/admin/{who.id}/reset-two-step").status_code == 403
    with app.app_context():
        assert db.session.get(Officer, who.id).totp_secret is not None  # type: ignore[union-attr]


def test_every_two_step_form_needs_its_csrf_token(app: Flask, clock: FixedClock) -> None:
    who = officer(app, "triage")
    client = sign_in_as(app, who)
    assert client.post(f"{TWO_STEP}/start").status_code == 400
    with app.app_context():
        assert db.session.get(Officer, who.id).totp_pending_secret is None  # type: ignore[union-attr]
    key = shown_key(start_setting_up(client).text)
    for change in ("start", "confirm", "cancel", "turn-off"):
        assert client.post(f"{TWO_STEP}/{change}", data={"code": code(key, clock)}).status_code == 400
    with app.app_context():
        assert db.session.get(Officer, who.id).totp_secret is None  # type: ignore[union-attr]
    page = client.get(SIGN_IN)
    assert "csrf_token" in fields(page.text)


# --- the API asks for the code too ----------------------------------------------------------


def _token(client: FlaskClient, email: str, **more: str) -> TestResponse:
    return client.post("/api/v1/tokens", json={"email": email, "password": PASSWORD, **more})


def test_an_api_token_needs_the_code_of_an_officer_who_uses_two_step_verification(
    app: Flask, clock: FixedClock
) -> None:
    who, key = with_two_step(app, clock, "reviewer")
    client = app.test_client()
    missing = _token(client, who.email)
    assert missing.status_code == 401
    assert "code" in missing.json["detail"]  # type: ignore[index]
    right = code(key, clock)
    assert _token(client, who.email, code=right).status_code == 201
    assert _token(client, who.email, code=right).status_code == 401  # once only


def test_an_admin_who_must_use_two_step_verification_gets_no_api_token_before_setting_it_up(app: Flask) -> None:
    app.config["GUARANTEE_ADMIN_TWO_STEP"] = True
    boss = officer(app, "admin")
    refused = _token(app.test_client(), boss.email)
    assert refused.status_code == 401
    assert "/officer/two-step" in refused.json["detail"]  # type: ignore[index]


def test_a_temporary_password_gets_no_api_token(app: Flask) -> None:
    who = officer(app, "triage")
    boss = sign_in_as(app, officer(app, "admin"))
    reset = _admin_post(boss, f"/officer/admin/{who.id}/reset-password")
    temporary = re.search(r'<code id="temporary-password">([^<]+)</code>', reset.text)
    assert temporary, reset.text
    refused = app.test_client().post(
        "/api/v1/tokens", json={"email": who.email, "password": temporary.group(1).strip()}
    )
    assert refused.status_code == 401
    assert "/officer/password" in refused.json["detail"]  # type: ignore[index]
