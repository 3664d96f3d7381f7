"""Rate limits on filing a claim, on tracking-link lookups and on officer sign-in, counted in Redis where configured."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import redis

from guarantee.extensions import limiter
from tests.conftest import REDIS_URL
from tests.helpers import VALID_SUBMISSION

needs_redis = pytest.mark.skipif(REDIS_URL is None, reason="no Redis answers here (CI requires one)")


def _file(app: Any, address: str = "192.0.2.1") -> Any:
    return app.test_client().post("/api/v1/claims", json=VALID_SUBMISSION, environ_base={"REMOTE_ADDR": address})


def test_filing_too_many_claims_from_one_address_is_a_friendly_429(make_app):
    app = make_app(RATELIMIT_STORAGE_URI="memory://")
    limiter.reset()
    assert [_file(app).status_code for _ in range(2)] == [201, 201]
    refused = _file(app)
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert "try again" in refused.json["detail"]
    assert int(refused.headers["Retry-After"]) > 0


def test_officer_sign_in_is_rate_limited(make_app):
    app = make_app(RATELIMIT_STORAGE_URI="memory://")
    limiter.reset()
    client = app.test_client()
    attempts = [
        client.post("/api/v1/tokens", json={"email": "nobody@council.example", "password": "guess"}).status_code
        for _ in range(4)
    ]
    assert attempts == [401, 401, 401, 429]


@needs_redis
def test_counts_kept_in_redis_are_shared_by_every_worker(make_app):
    # A client address of its own (IPv6 documentation range), so parallel runs never share a count.
    address, other = (f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}" for _ in range(2))
    first = make_app(RATELIMIT_STORAGE_URI=REDIS_URL)
    assert [_file(first, address).status_code for _ in range(2)] == [201, 201]
    store = redis.Redis.from_url(REDIS_URL)
    try:
        assert store.keys(f"*{address}*"), "the counts are in Redis"
        # A second worker starts afresh in its own memory, but reads the same counts from Redis.
        second = make_app(RATELIMIT_STORAGE_URI=REDIS_URL)
        assert _file(second, address).status_code == 429
        assert _file(second, other).status_code == 201, "another address has its own count"
    finally:
        for key in store.keys(f"*{address}*") + store.keys(f"*{other}*"):
            store.delete(key)
        store.close()


def test_memory_counts_are_per_process_which_is_why_production_uses_redis(make_app):
    first = make_app(RATELIMIT_STORAGE_URI="memory://")
    limiter.reset()
    assert [_file(first).status_code for _ in range(3)] == [201, 201, 429]
    second = make_app(RATELIMIT_STORAGE_URI="memory://")
    assert _file(second).status_code == 201


@needs_redis
def test_tracking_link_lookups_are_counted_in_redis_and_refused_with_a_friendly_page(make_app):
    address = f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"
    first = make_app(RATELIMIT_STORAGE_URI=REDIS_URL)
    second = make_app(RATELIMIT_STORAGE_URI=REDIS_URL)
    guess = "/track/CPG-2026-000001?token=guess"
    store = redis.Redis.from_url(REDIS_URL)
    try:
        looked_up = [first.test_client().get(guess, environ_base={"REMOTE_ADDR": address}) for _ in range(3)]
        assert [r.status_code for r in looked_up] == [404, 404, 404]
        refused = second.test_client().get(guess, environ_base={"REMOTE_ADDR": address})
        assert refused.status_code == 429
        assert refused.mimetype == "text/html"
        page = refused.get_data(as_text=True)
        assert "Too many attempts" in page and "Wait a few minutes" in page
        assert int(refused.headers["Retry-After"]) > 0
        # The tracking page itself (with the cookie, not the token) is not a lookup.
        assert (
            second.test_client().get("/track/CPG-2026-000001", environ_base={"REMOTE_ADDR": address}).status_code == 403
        )
    finally:
        for key in store.keys(f"*{address}*"):
            store.delete(key)
        store.close()


def test_a_refusal_is_logged_without_the_clients_address(make_app, caplog):
    app = make_app(RATELIMIT_STORAGE_URI="memory://")
    limiter.reset()
    caplog.set_level("INFO")
    address = "198.51.100.77"
    assert [_file(app, address).status_code for _ in range(3)] == [201, 201, 429]
    exceeded = [r.getMessage() for r in caplog.records if "exceeded" in r.getMessage()]
    assert exceeded, "the refusal is logged"
    assert not [line for line in exceeded if address in line]


# --- one set of sign-in limits for the console and the API ---------------------------------------


def _officer(app: Any) -> str:
    from guarantee.context import unit_of_work
    from guarantee.services.officers import create_officer
    from tests.helpers import PASSWORD

    email = f"officer-{uuid.uuid4().hex[:8]}@council.example"
    with app.app_context(), unit_of_work() as ctx:
        create_officer(ctx, email=email, name="Officer", roles=["triage"], password=PASSWORD)
    return email


def _console_attempt(app: Any, email: str, password: str, address: str) -> int:
    from tests.test_public import csrf

    client = app.test_client()
    page = client.get("/officer/sign-in", environ_base={"REMOTE_ADDR": address})
    data = {"csrf_token": csrf(page.text), "email": email, "password": password}
    return int(client.post("/officer/sign-in", data=data, environ_base={"REMOTE_ADDR": address}).status_code)


def _token_attempt(app: Any, email: str, password: str, address: str) -> int:
    body = {"email": email, "password": password}
    return int(app.test_client().post("/api/v1/tokens", json=body, environ_base={"REMOTE_ADDR": address}).status_code)


def test_wrong_passwords_through_the_api_and_the_console_count_against_one_limit_per_address_and_email(make_app):
    from tests.helpers import PASSWORD

    app = make_app(GUARANTEE_TOKEN_RATE_LIMIT="1000 per minute")
    email, address = _officer(app), "198.51.100.9"
    assert [_token_attempt(app, email, "guess", address) for _ in range(3)] == [401, 401, 401]
    assert [_console_attempt(app, email, "guess", address) for _ in range(2)] == [400, 400]

    assert _token_attempt(app, email, PASSWORD, address) == 429, "not even the right password, from there"
    assert _console_attempt(app, email, PASSWORD, address) == 429
    # The officer at their own desk is not locked out, and other officers are not refused.
    assert _token_attempt(app, email, PASSWORD, "192.0.2.44") == 201
    assert _token_attempt(app, _officer(app), PASSWORD, address) == 201


def test_one_address_may_fail_to_sign_in_fifty_times_an_hour_whatever_the_emails_and_the_way_in(make_app):
    app = make_app(GUARANTEE_TOKEN_RATE_LIMIT="1000 per minute")
    address = "198.51.100.10"
    tried = [_token_attempt(app, f"guess-{n}@council.example", "guess", address) for n in range(40)]
    tried += [_console_attempt(app, f"guess-{n}@council.example", "guess", address) for n in range(40, 50)]
    assert set(tried) == {400, 401}, tried
    assert _token_attempt(app, "yet-another@council.example", "guess", address) == 429
    assert _console_attempt(app, "yet-another@council.example", "guess", address) == 429


def test_signing_in_successfully_never_counts_against_the_limits(make_app):
    from tests.helpers import PASSWORD

    app = make_app(GUARANTEE_TOKEN_RATE_LIMIT="1000 per minute")
    email, address = _officer(app), "198.51.100.11"
    assert {_token_attempt(app, email, PASSWORD, address) for _ in range(8)} == {201}
    assert {_console_attempt(app, email, PASSWORD, address) for _ in range(4)} == {303}
    assert [_token_attempt(app, email, "guess", address) for _ in range(5)] == [401] * 5
    assert _token_attempt(app, email, PASSWORD, address) == 429
