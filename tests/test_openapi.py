"""The OpenAPI document is complete and committed, and the API honours it (schemathesis)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator.validation.validators import OpenAPIV31SpecValidator
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from guarantee import create_app
from guarantee.context import unit_of_work
from guarantee.services.officers import create_officer
from tests.conftest import _app_config
from tests.helpers import VALID_SUBMISSION

COMMITTED = Path(__file__).resolve().parent.parent / "openapi.json"
REQUIRED_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]
# The issue asks for at least 100 examples per operation in CI; locally too, by default.
EXAMPLES = int(os.environ.get("GUARANTEE_SCHEMATHESIS_EXAMPLES", "100"))
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples on every run, so CI is repeatable
    suppress_health_check=list(HealthCheck),
    database=None,
)
PASSWORD = "a long enough password"


def test_the_committed_openapi_document_matches_the_generated_one(app):
    generated = app.test_client().get("/openapi.json").json
    committed = json.loads(COMMITTED.read_text())
    assert committed == generated, (
        "The API contract changed. If that was intended, regenerate it with `make openapi` and commit openapi.json."
    )


@pytest.fixture(scope="module")
def generated_document() -> dict[str, Any]:
    """The document the app serves; making it reads no database, so none is given."""
    document: dict[str, Any] = create_app(_app_config("sqlite://")).test_client().get("/openapi.json").json
    return document


def _refs(node: Any, where: str = "#") -> Iterator[tuple[str, str]]:
    """Every $ref in the document, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield where, value
            else:
                yield from _refs(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _refs(value, f"{where}/{index}")


def _resolves(document: dict[str, Any], ref: str) -> bool:
    """Whether a local $ref (a JSON pointer, RFC 6901) points at something in the document."""
    if not ref.startswith("#/"):
        return False
    node: Any = document
    for escaped in ref[2:].split("/"):
        token = escaped.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return False
    return True


@pytest.mark.parametrize("which", ["committed", "generated"])
def test_the_openapi_document_is_valid_openapi_3_1_and_every_ref_in_it_resolves(
    generated_document: dict[str, Any], which: str
) -> None:
    """An integrator's code generator or validator refuses a document with a dangling $ref
    (such as a schema named but never defined) or anything else OpenAPI 3.1 does not allow."""
    document = generated_document if which == "generated" else json.loads(COMMITTED.read_text())
    refs = list(_refs(document))
    unresolved = [f"{where} -> {ref}" for where, ref in refs if not _resolves(document, ref)]
    assert refs, "the walk found the document's references"
    assert not unresolved, f"$refs in the {which} document that point at nothing:\n" + "\n".join(unresolved)
    problems = [
        f"{'/'.join(str(part) for part in error.absolute_path)}: {error.message}"
        for error in OpenAPIV31SpecValidator(document).iter_errors()
    ]
    assert not problems, f"the {which} document is not valid OpenAPI 3.1:\n" + "\n".join(problems)


def test_a_regulation_is_documented_as_a_catalogue_id_or_a_new_entry(generated_document: dict[str, Any]) -> None:
    schemas = generated_document["components"]["schemas"]
    for schema in ("ClassificationInput", "TransitionInput"):
        forms = schemas[schema]["properties"]["regulation"]["oneOf"]
        assert forms[0]["type"] == "integer", schema
        assert forms[1] == {"$ref": "#/components/schemas/NewRegulationInput"}, schema
    assert schemas["NewRegulationInput"]["required"] == ["title"]


def test_the_document_is_openapi_3_1_with_both_bearer_schemes(app):
    spec = app.test_client().get("/openapi.json").json
    assert spec["openapi"].startswith("3.1")
    schemes = spec["components"]["securitySchemes"]
    assert schemes["trackingToken"]["scheme"] == "bearer"
    assert schemes["officerToken"]["scheme"] == "bearer"


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    methods = ("get", "put", "post", "delete", "patch")
    return [(path, m, op) for path, item in spec["paths"].items() for m, op in item.items() if m in methods]


def test_every_operation_has_a_summary_an_id_security_and_documented_errors(app):
    spec = app.test_client().get("/openapi.json").json
    for path, method, op in _operations(spec):
        where = f"{method.upper()} {path}"
        assert op.get("summary"), f"{where} has no summary"
        assert op.get("operationId"), f"{where} has no operationId"
        assert "security" in op, f"{where} does not say who may call it"
        codes = set(op["responses"])
        assert any(c.startswith("2") for c in codes), f"{where} documents no success"
        assert any(c.startswith("4") for c in codes) or path == "/api/v1/workflow", f"{where} documents no error"
        for code, response in op["responses"].items():
            if code.startswith(("4", "5")) and "content" in response:
                assert "application/problem+json" in response["content"], f"{where} {code} is not a problem document"
        if "requestBody" in op and "application/json" in op["requestBody"]["content"]:
            content = op["requestBody"]["content"]["application/json"]
            assert "example" in content or "examples" in content, f"{where} has no request example"
        elif "requestBody" in op:
            upload = op["requestBody"]["content"]["multipart/form-data"]["schema"]
            assert upload["required"] == ["file"], f"{where} does not say which file to send"


def test_api_docs_are_served_from_local_assets_only(app):
    client = app.test_client()
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/openapi.json" in html
    assert "https://" not in html and "http://" not in html.replace("http://localhost", "")
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        with client.get(f"/api/docs/{asset}") as response:
            assert response.status_code == 200


# --- schemathesis -----------------------------------------------------------------


@pytest.fixture
def officer_headers(app) -> dict[str, str]:
    """An officer with every role, and a few claims for the API to find."""
    with app.app_context(), unit_of_work() as ctx:
        create_officer(
            ctx,
            email="fuzz@council.example",
            name="Fuzz Officer",
            roles=["triage", "reviewer", "appeal_panel", "admin"],
            password=PASSWORD,
        )
    client = app.test_client()
    for _ in range(2):
        assert client.post("/api/v1/claims", json=VALID_SUBMISSION).status_code == 201
    token = client.post("/api/v1/tokens", json={"email": "fuzz@council.example", "password": PASSWORD}).json["token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api_schema(app, officer_headers):
    api = schemathesis.openapi.from_wsgi("/openapi.json", app)

    @api.auth()
    class OfficerToken:
        """Every generated request carries a live officer token (schemathesis probes without it)."""

        def get(self, case, ctx):  # type: ignore[no-untyped-def]
            return officer_headers["Authorization"]

        def set(self, case, data, ctx):  # type: ignore[no-untyped-def]
            case.headers = {**(case.headers or {}), "Authorization": data}

    return api


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@HYPOTHESIS
def test_no_input_makes_the_api_break_its_contract(case):
    case.call_and_validate(checks=REQUIRED_CHECKS)


def test_stateful_submit_read_and_transition_keep_the_contract(api_schema):
    """Follows the document's links: submit -> read -> transition, with an officer's token."""
    machine = api_schema.as_state_machine()

    class Run(machine):  # type: ignore[misc,valid-type]
        def validate_response(self, response, case, **kwargs):  # type: ignore[no-untyped-def]
            case.validate_response(response, checks=REQUIRED_CHECKS)

    Run.run(
        settings=settings(
            max_examples=max(EXAMPLES // 4, 10),
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            database=None,
            stateful_step_count=6,
        )
    )
