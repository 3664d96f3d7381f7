"""Who is calling is settled before anything else in the request is read (issue 17, defect 8).

A caller who may not use an operation is refused for that (401, 403, or 404 for another claim's
tracking token) whatever the body, query and headers hold: never a 415, a 400 or a 422 that
tells a stranger what the operation expects. The operations are walked from the app's own
OpenAPI document, so an operation added later is tested without anyone remembering to list it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from guarantee.api import BLUEPRINTS
from tests.api_support import Filed, assert_problem, file_claim, new_officer
from tests.helpers import submission
from workflows.vocabulary import ROLES

METHODS = ("get", "put", "post", "delete", "patch")
# Wrong in every way an operation could check: unknown fields, wrong types, values out of range.
BAD_JSON = {"bogus": 1, "trigger": ["nope"], "note": 5, "assignee_id": "seven", "category": 0, "regulation": True}
BAD_QUERY = {"bogus": "1", "limit": "lots", "state": "nowhere", "format": "xml", "cursor": "!" * 100}
BAD_HEADERS = {"If-Match": "yesterday", "Idempotency-Key": "x" * 300}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    officers_only: bool
    roles: tuple[str, ...]  # for officers: one of these (none: any officer)

    def __str__(self) -> str:
        return f"{self.operation_id} ({self.method.upper()} {self.path})"


def protected_operations(document: dict[str, Any]) -> list[Operation]:
    """Every operation the document says needs a token."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in METHODS or not operation["security"]:
                continue
            schemes = {name: roles for requirement in operation["security"] for name, roles in requirement.items()}
            found.append(
                Operation(
                    method=method,
                    path=path,
                    operation_id=operation["operationId"],
                    officers_only="trackingToken" not in schemes,
                    roles=tuple(schemes.get("officerToken", ())),
                )
            )
    return found


def documented_path(rule: str) -> str:
    """A Flask rule in the document's terms: /claims/<int(min=1):id> -> /claims/{id}."""
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule)


def url(operation: Operation, reference: str) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: reference if m.group(1) == "reference" else "1", operation.path)


def sends(client: FlaskClient, operation: Operation, reference: str, headers: dict[str, str]) -> Iterator[TestResponse]:
    """The operation, with a bad query and bad headers, and each kind of bad body: JSON that fits
    nothing, text that is not JSON at all, and a form with the wrong field."""
    bodies: list[dict[str, Any]] = [
        {"json": BAD_JSON},
        {"data": "{not json", "content_type": "text/plain"},
        {"data": {"bogus": "1"}, "content_type": "multipart/form-data"},
    ]
    for body in bodies:
        yield client.open(
            url(operation, reference),
            method=operation.method.upper(),
            query_string=BAD_QUERY,
            headers=BAD_HEADERS | headers,
            **body,
        )


@pytest.fixture
def document(app: Flask) -> dict[str, Any]:
    spec: dict[str, Any] = app.test_client().get("/openapi.json").json
    return spec


@pytest.fixture
def operations(document: dict[str, Any]) -> list[Operation]:
    found = protected_operations(document)
    assert found, "the document names operations that need a token"
    return found


@pytest.fixture
def filed(client: FlaskClient) -> Filed:
    return file_claim(client)


@pytest.fixture
def other(client: FlaskClient) -> Filed:
    return file_claim(client, submission(group={"name": "Another Group"}))


def refusals(
    client: FlaskClient,
    operations: list[Operation],
    filed: Filed,
    headers_for: Callable[[Operation], dict[str, str] | None],
    expected_for: Callable[[Operation], int],
) -> list[str]:
    """What went wrong, operation by operation: each must be refused with its expected status,
    as a problem document that names no field and says what to do."""
    wrong = []
    for operation in operations:
        headers = headers_for(operation)
        if headers is None:
            continue
        expected = expected_for(operation)
        for response in sends(client, operation, filed.reference, headers):
            body = response.get_json(silent=True) or {}
            if response.status_code != expected or "errors" in body:
                wrong.append(f"{operation}: {response.status_code} {response.get_data(as_text=True)[:200]}")
                continue
            assert_problem(response, expected)
            assert "Another Group" not in response.get_data(as_text=True)
    return wrong


def test_every_api_route_is_in_the_document(app: Flask, document: dict[str, Any]) -> None:
    """So that walking the document walks every operation there is."""
    names = {blueprint.name for blueprint in BLUEPRINTS}
    documented = {(m, path) for path, item in document["paths"].items() for m in item if m in METHODS}
    served = {
        (method.lower(), documented_path(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.partition(".")[0] in names
        for method in rule.methods or ()
        if method.lower() in METHODS
    }
    assert served, "the API serves operations"
    assert served <= documented, f"served but not in the document: {sorted(served - documented)}"


@pytest.mark.parametrize(
    "authorization",
    [None, "Basic dXNlcjpwYXNz", "Bearer", "tracking token that opens nothing", "officer token that opens nothing"],
    ids=["no header", "basic", "bearer without a token", "unknown tracking token", "unknown officer token"],
)
def test_a_caller_without_a_token_that_opens_anything_is_401_whatever_the_body_and_query(
    client: FlaskClient, operations: list[Operation], filed: Filed, authorization: str | None
) -> None:
    header = {
        "tracking token that opens nothing": f"Bearer {secrets.token_urlsafe(32)}",
        "officer token that opens nothing": f"Bearer gto_{secrets.token_urlsafe(32)}",
    }.get(authorization or "", authorization)
    headers = {} if header is None else {"Authorization": header}

    wrong = refusals(client, operations, filed, lambda _: headers, lambda _: 401)

    assert not wrong, "told about the request before being asked who they are:\n" + "\n".join(wrong)
    response = next(sends(client, operations[0], filed.reference, headers))
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "token" in assert_problem(response, 401)["detail"], "the problem says what to send"


def test_a_tracking_token_is_refused_by_officers_operations_and_by_other_claims_before_the_body_is_read(
    client: FlaskClient, operations: list[Operation], filed: Filed, other: Filed
) -> None:
    """Its own claim's token on an officers' operation: 403. Another claim's token: 403 on an
    officers' operation, 404 on the claim's own operations (the claim is not theirs to see)."""
    own = refusals(
        client,
        operations,
        filed,
        lambda op: filed.group.auth if op.officers_only else None,
        lambda _: 403,
    )
    others = refusals(
        client,
        operations,
        filed,
        lambda _: other.group.auth,
        lambda op: 403 if op.officers_only else 404,
    )

    assert not own + others, "a group was told about the request first:\n" + "\n".join(own + others)
    officers_only = next(op for op in operations if op.officers_only)
    response = next(sends(client, officers_only, filed.reference, filed.group.auth))
    assert "officer token from POST /api/v1/tokens" in assert_problem(response, 403)["detail"]


def test_an_officer_without_a_role_the_operation_names_is_403_before_the_body_is_read(
    app: Flask, client: FlaskClient, operations: list[Operation], filed: Filed
) -> None:
    with_roles = [op for op in operations if op.roles and set(ROLES) - set(op.roles)]
    assert with_roles, "the document names operations for some roles only (assign, classify)"
    officers = {role: new_officer(app, role) for op in with_roles for role in ROLES if role not in op.roles}

    def without_the_role(op: Operation) -> dict[str, str] | None:
        if op not in with_roles:
            return None
        return officers[next(role for role in ROLES if role not in op.roles)].auth

    wrong = refusals(client, operations, filed, without_the_role, lambda _: 403)

    assert not wrong, "an officer without the role was told about the request first:\n" + "\n".join(wrong)
    response = next(sends(client, with_roles[0], filed.reference, without_the_role(with_roles[0]) or {}))
    detail = assert_problem(response, 403)["detail"]
    assert "role" in detail and "administrator" in detail, "the problem says which role, and whom to ask"


def test_a_refusal_changes_nothing(app: Flask, client: FlaskClient, operations: list[Operation], filed: Filed) -> None:
    for operation in operations:
        for _ in sends(client, operation, filed.reference, {}):
            pass
    admin = new_officer(app, "admin")

    trail = client.get(f"/api/v1/claims/{filed.reference}/audit", headers=admin.auth)

    assert [event["action"] for event in trail.json["events"]] == ["submitted"]
    assert client.get(f"/api/v1/claims/{filed.reference}", headers=filed.group.auth).json["version"] == 1


def test_a_caller_the_operation_lets_in_still_gets_the_field_errors(
    app: Flask, client: FlaskClient, filed: Filed
) -> None:
    """The check comes first; it does not replace the body's: an officer who may classify
    sends a bad body and is told which fields to correct."""
    triage = new_officer(app, "triage")

    response = client.put(
        f"/api/v1/claims/{filed.reference}/classification", json={"regulation": True}, headers=triage.auth
    )

    assert "regulation" in assert_problem(response, 422)["errors"]
