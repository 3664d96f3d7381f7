"""What the HTTP tests share: callers with bearer tokens, filing a claim, problem documents."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

import guarantee.context
import guarantee.services.officers
from tests.helpers import PASSWORD, VALID_SUBMISSION

PROBLEM = "application/problem+json"
CLAIMS = "/api/v1/claims"


@dataclass(frozen=True)
class Caller:
    """Someone holding a bearer token: an officer (with an id and email) or a group."""

    token: str
    officer_id: int | None = None
    email: str | None = None

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class Filed:
    """A claim as its group knows it after filing: the reference and the tracking token."""

    reference: str
    group: Caller


@pytest.fixture
def make_app(fresh_url: str, tmp_path: Any) -> Iterator[Callable[..., Flask]]:
    """Apps with rate limits switched on (memory counts unless told otherwise). The limiter is
    shared by every app, so it is reset for the test and put back to "off" afterwards."""
    from guarantee import create_app
    from guarantee.extensions import db, limiter
    from tests.conftest import _app_config

    made: list[Flask] = []

    def make(**config: Any) -> Flask:
        settings = {
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "GUARANTEE_EVIDENCE_DIR": str(tmp_path / "evidence"),
            "GUARANTEE_SUBMISSION_RATE_LIMIT": "2 per minute",
            "GUARANTEE_TOKEN_RATE_LIMIT": "3 per minute",
        }
        app = create_app(_app_config(fresh_url, **(settings | config)))
        made.append(app)
        if app.config["RATELIMIT_STORAGE_URI"] == "memory://":
            limiter.reset()
        return app

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()
    limiter.init_app(create_app(_app_config(fresh_url, GUARANTEE_EVIDENCE_DIR=str(tmp_path / "evidence"))))


QUICK_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
REAL_HASHER = guarantee.services.officers._hasher
REAL_DUMMY_HASH = guarantee.services.officers._DUMMY_HASH


@pytest.fixture(scope="session", autouse=True)
def quick_password_hashing() -> Iterator[None]:
    """argon2id is slow on purpose, and thousands of tests make officers and sign them in: every
    test hashes at a test cost, the hash an unknown address is checked against included, unless
    it asks for ``real_password_hashing``. (A server a test starts hashes for real.)"""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(guarantee.services.officers, "_hasher", QUICK_HASHER)
        patch.setattr(guarantee.services.officers, "_DUMMY_HASH", QUICK_HASHER.hash("not anyone's password"))
        yield


@pytest.fixture
def real_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The service's own argon2id parameters, for a test about them."""
    monkeypatch.setattr(guarantee.services.officers, "_hasher", REAL_HASHER)
    monkeypatch.setattr(guarantee.services.officers, "_DUMMY_HASH", REAL_DUMMY_HASH)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> TestResponse:
    return client.post("/api/v1/tokens", json={"email": email, "password": password})


def new_officer(app: Flask, *roles: str) -> Caller:
    """An officer committed to the database, signed in through POST /api/v1/tokens."""
    email = f"{'-'.join(roles)}-{uuid.uuid4().hex[:8]}@council.example"
    with app.app_context(), guarantee.context.unit_of_work() as ctx:
        officer = guarantee.services.officers.create_officer(
            ctx, email=email, name="Test Officer", roles=list(roles), password=PASSWORD
        )
        officer_id = officer.id
    response = sign_in(app.test_client(), email)
    assert response.status_code == 201, response.json
    return Caller(token=response.json["token"], officer_id=officer_id, email=email)


def file_claim(client: FlaskClient, body: dict[str, Any] | None = None, **headers: str) -> Filed:
    response = client.post(CLAIMS, json=VALID_SUBMISSION if body is None else body, headers=headers)
    assert response.status_code == 201, response.json
    return Filed(response.json["reference"], Caller(token=response.json["tracking_token"]))


def assert_problem(response: TestResponse, status: int) -> dict[str, Any]:
    """An RFC 9457 problem document with this status, and nothing a user should not see."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.json
    assert body["status"] == status
    assert body["type"] and body["title"] and body["detail"]
    raw = response.get_data(as_text=True)
    assert "Traceback" not in raw and 'File "' not in raw
    return body
