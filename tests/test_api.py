"""The JSON API under /api/v1 (DESIGN 6), driven only over HTTP, as each actor would use it.

Every test runs on SQLite and on PostgreSQL, on a fresh committed database: the API owns
its transactions, so nothing here can be rolled back behind its back.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, inspect, select, text, update
from werkzeug.test import TestResponse

import guarantee
import guarantee.context
import guarantee.services.officers
from guarantee.clock import FixedClock
from guarantee.extensions import db, limiter
from guarantee.models import Claim, Officer
from guarantee.models.audit import GENESIS_HASH
from tests import conftest
from tests.api_support import CLAIMS, Caller, Filed, assert_problem, file_claim, new_officer, sign_in
from tests.helpers import INPUTS, PASSWORD, VALID_SUBMISSION, at_once, submission
from workflows import STATES, TRANSITIONS, TRIGGERS

ETAG = re.compile(r'^"v(\d+)"$')


# --- callers ------------------------------------------------------------------------


def fire(
    client: FlaskClient,
    reference: str,
    caller: Caller,
    trigger: str,
    inputs: dict[str, Any] | None = None,
    **headers: str,
) -> TestResponse:
    body = {"trigger": trigger, **(INPUTS[trigger] if inputs is None else inputs)}
    return client.post(f"{CLAIMS}/{reference}/transitions", json=body, headers=caller.auth | headers)


def read(client: FlaskClient, reference: str, caller: Caller, **headers: str) -> TestResponse:
    return client.get(f"{CLAIMS}/{reference}", headers=caller.auth | headers)


def audit_actions(client: FlaskClient, reference: str, officer: Caller) -> list[str]:
    response = client.get(f"{CLAIMS}/{reference}/audit", headers=officer.auth)
    assert response.status_code == 200, response.json
    return [event["action"] for event in response.json["events"]]


def count_claims(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Claim))


@dataclass(frozen=True)
class Cast:
    triage: Caller
    reviewer: Caller
    appeal_panel: Caller
    admin: Caller

    def by_role(self, role: str) -> Caller:
        caller: Caller = getattr(self, role)
        return caller


@pytest.fixture
def cast(app: Flask) -> Cast:
    return Cast(
        triage=new_officer(app, "triage"),
        reviewer=new_officer(app, "reviewer"),
        appeal_panel=new_officer(app, "appeal_panel"),
        admin=new_officer(app, "admin"),
    )


def walk(client: FlaskClient, cast: Cast, filed: Filed, *triggers: str) -> TestResponse:
    """Fire triggers in order, each by the first actor the workflow names for it."""
    from workflows import TRANSITIONS_BY_TRIGGER

    response = None
    for trigger in triggers:
        role = TRANSITIONS_BY_TRIGGER[trigger].fired_by[0]
        caller = filed.group if role == "group" else cast.by_role(role)
        response = fire(client, filed.reference, caller, trigger)
        assert response.status_code == 200, (trigger, response.json)
    assert response is not None
    return response


# --- 1. the lifecycle, for each actor --------------------------------------------


def test_a_group_files_a_claim_and_gets_its_reference_tracking_token_location_and_etag(client):
    response = client.post(CLAIMS, json=VALID_SUBMISSION)

    assert response.status_code == 201, response.json
    body = response.json
    assert re.fullmatch(r"CPG-2026-\d{6}", body["reference"])
    assert body["state"] == "submitted"
    assert len(body["tracking_token"]) >= 40
    assert body["tracking_url"].endswith(f"/track/{body['reference']}?token={body['tracking_token']}")
    assert body["submitted_at"].startswith("2026-11-02")
    assert response.headers["Location"].endswith(f"{CLAIMS}/{body['reference']}")
    assert ETAG.match(response.headers["ETag"])


def test_a_group_reads_its_claim_with_its_tracking_token(client):
    filed = file_claim(client)

    response = read(client, filed.reference, filed.group)

    assert response.status_code == 200, response.json
    assert response.json["reference"] == filed.reference
    assert response.json["state"] == "submitted"
    assert response.json["initiative"]["title"] == VALID_SUBMISSION["initiative"]["title"]
    assert response.json["allowed_triggers"] == ["withdraw"]
    assert response.headers["ETag"] == f'"v{response.json["version"]}"'


def test_the_full_lifecycle_through_an_appeal_that_is_allowed_and_a_resolution(client, cast):
    filed = file_claim(client)
    steps = [
        (cast.triage, "accept", "under_review"),
        (cast.reviewer, "request_information", "awaiting_information"),
        (filed.group, "provide_information", "under_review"),
        (cast.reviewer, "not_uphold", "not_upheld"),
        (filed.group, "appeal", "appealed"),
        (cast.appeal_panel, "allow_appeal", "upheld"),
        (cast.reviewer, "record_resolution", "resolved"),
    ]
    for caller, trigger, state in steps:
        response = fire(client, filed.reference, caller, trigger)
        assert response.status_code == 200, (trigger, response.json)
        assert response.json["state"] == state
        assert response.headers["ETag"] == f'"v{response.json["version"]}"'

    seen_by_group = read(client, filed.reference, filed.group).json
    assert seen_by_group["state"] == "resolved"
    assert seen_by_group["outcome"] == "waiver_granted"
    assert seen_by_group["allowed_triggers"] == []
    public_texts = [t["text"] for event in seen_by_group["timeline"] for t in event["texts"]]
    assert INPUTS["request_information"]["question"] in public_texts
    assert INPUTS["provide_information"]["answer"] in public_texts
    assert audit_actions(client, filed.reference, cast.admin) == ["submitted", *(s[1] for s in steps)]


def test_an_appeal_the_panel_dismisses_resolves_the_claim(client, cast):
    filed = file_claim(client)
    walk(client, cast, filed, "accept", "not_uphold", "appeal")

    response = fire(client, filed.reference, cast.appeal_panel, "dismiss_appeal")

    assert response.status_code == 200, response.json
    assert response.json["state"] == "resolved"
    assert response.json["outcome"] == "appeal_dismissed"


def test_a_triage_officer_declines_and_an_admin_reopens(client, cast):
    filed = file_claim(client)

    declined = fire(client, filed.reference, cast.triage, "decline")
    assert declined.status_code == 200, declined.json
    assert declined.json["state"] == "closed"
    assert declined.json["outcome"] == "declined"

    refused = fire(client, filed.reference, cast.triage, "reopen")
    assert assert_problem(refused, 403)

    reopened = fire(client, filed.reference, cast.admin, "reopen")
    assert reopened.status_code == 200, reopened.json
    assert reopened.json["state"] == "under_review"
    assert reopened.json["outcome"] is None


def test_the_group_withdraws_its_claim(client, cast):
    filed = file_claim(client)
    walk(client, cast, filed, "accept")

    response = fire(client, filed.reference, filed.group, "withdraw")

    assert response.status_code == 200, response.json
    assert response.json["state"] == "withdrawn"
    assert response.json["allowed_triggers"] == []


def test_the_group_may_not_appeal_once_the_appeal_window_has_closed(client, cast, clock):
    filed = file_claim(client)
    walk(client, cast, filed, "accept", "not_uphold")
    clock.advance(days=60)

    response = fire(client, filed.reference, filed.group, "appeal")

    body = assert_problem(response, 409)
    assert "appeal" not in body["allowed_triggers"]
    assert read(client, filed.reference, filed.group).json["state"] == "not_upheld"


@pytest.mark.parametrize(
    ("trigger", "path"),
    [("information_lapsed", ("accept", "request_information")), ("appeal_window_closed", ("accept", "not_uphold"))],
)
def test_system_triggers_are_refused_to_every_caller_of_the_api(client, cast, trigger, path):
    filed = file_claim(client)
    walk(client, cast, filed, *path)
    state = read(client, filed.reference, filed.group).json["state"]

    for caller in (filed.group, cast.triage, cast.reviewer, cast.appeal_panel, cast.admin):
        response = fire(client, filed.reference, caller, trigger, {})
        assert_problem(response, 403)

    assert read(client, filed.reference, filed.group).json["state"] == state
    assert trigger not in read(client, filed.reference, cast.admin).json["allowed_triggers"]


def test_a_trigger_the_state_does_not_allow_is_a_conflict_listing_what_is_allowed(client, cast):
    filed = file_claim(client)

    as_triage = fire(client, filed.reference, cast.triage, "uphold")
    as_group = fire(client, filed.reference, filed.group, "appeal")

    assert assert_problem(as_triage, 409)["allowed_triggers"] == ["accept", "decline"]
    assert assert_problem(as_group, 409)["allowed_triggers"] == ["withdraw"]


@pytest.mark.parametrize(
    ("role", "trigger", "path"),
    [
        ("reviewer", "accept", ()),
        ("appeal_panel", "decline", ()),
        ("triage", "uphold", ("accept",)),
        ("triage", "request_information", ("accept",)),
        ("reviewer", "dismiss_appeal", ("accept", "not_uphold", "appeal")),
        ("appeal_panel", "record_resolution", ("accept", "uphold")),
    ],
)
def test_an_officer_without_the_role_for_a_trigger_is_forbidden(client, cast, role, trigger, path):
    filed = file_claim(client)
    if path:
        walk(client, cast, filed, *path)
    before = read(client, filed.reference, cast.admin).json

    response = fire(client, filed.reference, cast.by_role(role), trigger)

    assert_problem(response, 403)
    after = read(client, filed.reference, cast.admin).json
    assert (after["state"], after["version"]) == (before["state"], before["version"])


def test_an_admin_who_accepted_a_claim_cannot_decide_its_appeal_but_another_panel_member_can(client, cast):
    filed = file_claim(client)
    assert fire(client, filed.reference, cast.admin, "accept").status_code == 200
    walk(client, cast, filed, "not_uphold", "appeal")

    refused = fire(client, filed.reference, cast.admin, "dismiss_appeal")

    assert "another member of the appeal panel" in assert_problem(refused, 403)["detail"]
    assert "dismiss_appeal" not in read(client, filed.reference, cast.admin).json["allowed_triggers"]
    allowed = fire(client, filed.reference, cast.appeal_panel, "dismiss_appeal")
    assert allowed.status_code == 200, allowed.json


@pytest.mark.parametrize(
    ("trigger", "inputs", "field"),
    [
        ("accept", {"regulation": {"title": "Food premises registration"}}, "category"),
        ("accept", {"category": "food_hygiene"}, "regulation"),
        ("accept", {**INPUTS["accept"], "colour": "blue"}, "colour"),
        ("accept", {**INPUTS["accept"], "answer": "Not an input of accept"}, "answer"),
        ("accept", {"category": "food_hygiene", "regulation": {"title": "x", "bogus": 1}}, "regulation.bogus"),
        ("accept", {"category": "not_a_category", "regulation": 1}, "category"),
        ("decline", {"reason_code": "duplicate", "explanation": "Filed twice."}, "duplicate_of"),
        ("decline", {"explanation": "No reason given."}, "reason_code"),
    ],
)
def test_missing_or_unknown_transition_input_is_422_naming_the_field(client, cast, trigger, inputs, field):
    filed = file_claim(client)

    response = fire(client, filed.reference, cast.triage, trigger, inputs)

    body = assert_problem(response, 422)
    assert field in body["errors"], body
    assert read(client, filed.reference, filed.group).json["state"] == "submitted"


def test_an_unknown_trigger_is_422_naming_the_trigger_field(client, cast):
    filed = file_claim(client)

    response = fire(client, filed.reference, cast.triage, "approve", {})

    assert "trigger" in assert_problem(response, 422)["errors"]


# --- 2. idempotency ---------------------------------------------------------------


def test_a_retried_submission_with_the_same_key_returns_the_same_claim_and_token(app, client):
    key = str(uuid.uuid4())

    first = client.post(CLAIMS, json=VALID_SUBMISSION, headers={"Idempotency-Key": key})
    retry = client.post(CLAIMS, json=VALID_SUBMISSION, headers={"Idempotency-Key": key})

    assert first.status_code == retry.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json == first.json
    assert retry.headers["Location"] == first.headers["Location"]
    assert count_claims(app) == 1
    group = Caller(token=retry.json["tracking_token"])
    assert read(client, retry.json["reference"], group).status_code == 200


def test_submissions_without_a_key_or_with_different_keys_are_separate_claims(app, client):
    references = {
        client.post(CLAIMS, json=VALID_SUBMISSION, headers=headers).json["reference"]
        for headers in ({}, {}, {"Idempotency-Key": "a"}, {"Idempotency-Key": "b"})
    }
    assert len(references) == 4
    assert count_claims(app) == 4


def test_the_same_key_with_a_different_body_is_refused(app, client):
    key = str(uuid.uuid4())
    assert client.post(CLAIMS, json=VALID_SUBMISSION, headers={"Idempotency-Key": key}).status_code == 201

    other = submission(initiative={"title": "Another initiative"})
    response = client.post(CLAIMS, json=other, headers={"Idempotency-Key": key})

    assert "Idempotency-Key" in assert_problem(response, 422)["errors"]
    assert count_claims(app) == 1


@pytest.mark.parametrize("key", ["", "x" * 201, "caf\u00e9", "tab\there"])
def test_an_idempotency_key_that_is_empty_too_long_or_not_printable_ascii_is_refused(app, client, key):
    response = client.post(CLAIMS, json=VALID_SUBMISSION, headers={"Idempotency-Key": key})

    assert "Idempotency-Key" in assert_problem(response, 422)["errors"]
    assert count_claims(app) == 0


def test_fifty_parallel_retries_with_one_key_create_exactly_one_claim(app):
    key = str(uuid.uuid4())

    def submit() -> TestResponse:
        return app.test_client().post(CLAIMS, json=VALID_SUBMISSION, headers={"Idempotency-Key": key})

    results = at_once([submit] * 50)

    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    assert len(results) == 50
    assert {r.status_code for r in results} == {201}, [r.json for r in results if r.status_code != 201]
    assert len({r.json["reference"] for r in results}) == 1
    assert len({r.json["tracking_token"] for r in results}) == 1
    assert sum(1 for r in results if "Idempotent-Replayed" not in r.headers) == 1
    assert count_claims(app) == 1


def test_a_retried_transition_with_the_same_key_returns_the_same_response_and_fires_once(client, cast):
    filed = file_claim(client)
    key = str(uuid.uuid4())

    first = fire(client, filed.reference, cast.triage, "accept", **{"Idempotency-Key": key})
    retry = fire(client, filed.reference, cast.triage, "accept", **{"Idempotency-Key": key})

    assert first.status_code == retry.status_code == 200, retry.json
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json == first.json
    assert retry.headers["ETag"] == first.headers["ETag"]
    assert audit_actions(client, filed.reference, cast.triage) == ["submitted", "accept"]


def test_a_transition_key_with_a_different_body_is_refused_and_fires_nothing(client, cast):
    filed = file_claim(client)
    key = str(uuid.uuid4())
    assert fire(client, filed.reference, cast.triage, "accept", **{"Idempotency-Key": key}).status_code == 200

    response = fire(client, filed.reference, cast.triage, "decline", **{"Idempotency-Key": key})

    assert "Idempotency-Key" in assert_problem(response, 422)["errors"]
    assert audit_actions(client, filed.reference, cast.triage) == ["submitted", "accept"]


# --- 3. what a group's token opens -------------------------------------------------


def test_a_tracking_token_never_opens_another_claim(client):
    mine = file_claim(client)
    theirs = file_claim(client, submission(group={"name": "Another Group"}))

    read_theirs = read(client, theirs.reference, mine.group)
    fire_theirs = fire(client, theirs.reference, mine.group, "withdraw")

    for response in (read_theirs, fire_theirs):
        body = assert_problem(response, 404)
        assert "Another Group" not in response.get_data(as_text=True)
        assert "initiative" not in body
    assert read(client, theirs.reference, theirs.group).json["state"] == "submitted"


def test_an_unknown_or_missing_tracking_token_is_refused_without_the_claim(client):
    filed = file_claim(client)

    wrong = read(client, filed.reference, Caller(token="not-the-token"))
    missing = client.get(f"{CLAIMS}/{filed.reference}")

    # DESIGN 6: a wrong or missing token is 401 or 404, never the claim.
    assert wrong.status_code in (401, 404)
    assert_problem(wrong, wrong.status_code)
    assert_problem(missing, 401)
    for response in (wrong, missing):
        assert VALID_SUBMISSION["group"]["name"] not in response.get_data(as_text=True)


def test_a_group_never_sees_internal_notes_or_officers_identities(client, cast):
    filed = file_claim(client)
    walk(client, cast, filed, "accept")
    note = "Internal: the councillor has an interest in this one."
    added = client.post(f"{CLAIMS}/{filed.reference}/notes", json={"note": note}, headers=cast.reviewer.auth)
    assert added.status_code == 201, added.json
    assigned = client.put(
        f"{CLAIMS}/{filed.reference}/assignee",
        json={"assignee_id": cast.reviewer.officer_id},
        headers=cast.triage.auth,
    )
    assert assigned.status_code == 200, assigned.json

    response = read(client, filed.reference, filed.group)

    assert response.status_code == 200
    raw = response.get_data(as_text=True)
    assert note not in raw
    assert cast.reviewer.email not in raw and cast.triage.email not in raw
    body = response.json
    for hidden in ("assignee_id", "clocks", "category", "regulation", "reason_code", "consent_contact"):
        assert hidden not in body
    for event in body["timeline"]:
        assert "actor_id" not in event
        assert event["action"] not in ("note_added", "assigned")
        assert all(t["public"] for t in event["texts"])
    officer_view = read(client, filed.reference, cast.reviewer).json
    assert note in [t["text"] for event in officer_view["timeline"] for t in event["texts"]]
    assert officer_view["assignee_id"] == cast.reviewer.officer_id


@pytest.mark.parametrize(("trigger", "path"), [("accept", ()), ("decline", ()), ("uphold", ("accept",))])
def test_a_group_cannot_fire_officer_triggers(client, cast, trigger, path):
    filed = file_claim(client)
    if path:
        walk(client, cast, filed, *path)

    response = fire(client, filed.reference, filed.group, trigger)

    assert_problem(response, 403)


def officers_operations(client: FlaskClient, filed: Filed, cast: Cast, headers: dict[str, str]) -> list[TestResponse]:
    """List claims, read the audit trail, add a note, assign, classify: with these headers."""
    return [
        client.get(CLAIMS, headers=headers),
        client.get(f"{CLAIMS}/{filed.reference}/audit", headers=headers),
        client.post(f"{CLAIMS}/{filed.reference}/notes", json={"note": "Hello"}, headers=headers),
        client.put(
            f"{CLAIMS}/{filed.reference}/assignee", json={"assignee_id": cast.triage.officer_id}, headers=headers
        ),
        client.put(f"{CLAIMS}/{filed.reference}/classification", json={"category": "other"}, headers=headers),
    ]


def test_a_group_cannot_list_claims_read_the_audit_trail_or_do_officers_casework(client, cast):
    filed = file_claim(client)
    other = file_claim(client, submission(group={"name": "Another Group"}))

    # Its own claim's token or another claim's: the group is known, and not allowed (403, not 401).
    for group in (filed.group, other.group):
        for response in officers_operations(client, filed, cast, group.auth):
            body = assert_problem(response, 403)
            assert "officer token from POST /api/v1/tokens" in body["detail"]
            shown = response.get_data(as_text=True)
            assert "Another Group" not in shown and VALID_SUBMISSION["group"]["name"] not in shown
    assert audit_actions(client, filed.reference, cast.admin) == ["submitted"]


def test_a_tracking_token_that_opens_no_claim_is_401_on_officers_operations(client, cast):
    filed = file_claim(client)
    nothing = Caller(token=secrets.token_urlsafe(32))

    for response in officers_operations(client, filed, cast, nothing.auth):
        body = assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "officer token from POST /api/v1/tokens" in body["detail"]
    assert audit_actions(client, filed.reference, cast.admin) == ["submitted"]


# --- 4. ETag and If-Match -------------------------------------------------------------


def test_a_transition_with_the_current_etag_succeeds(client, cast):
    filed = file_claim(client)
    current = read(client, filed.reference, cast.triage).headers["ETag"]

    response = fire(client, filed.reference, cast.triage, "accept", **{"If-Match": current})

    assert response.status_code == 200, response.json
    assert response.headers["ETag"] != current


def assign_to(client: FlaskClient, reference: str, by: Caller, assignee: Caller | None, **headers: str) -> TestResponse:
    body = {"assignee_id": assignee.officer_id if assignee else None}
    return client.put(f"{CLAIMS}/{reference}/assignee", json=body, headers=by.auth | headers)


def test_a_transition_with_a_stale_etag_is_412_with_the_current_etag_and_changes_nothing(client, cast):
    filed = file_claim(client)
    stale = read(client, filed.reference, cast.admin).headers["ETag"]
    assert assign_to(client, filed.reference, cast.admin, cast.triage).status_code == 200
    current = read(client, filed.reference, cast.admin)
    assert current.headers["ETag"] != stale

    response = fire(client, filed.reference, cast.triage, "accept", **{"If-Match": stale})

    assert_problem(response, 412)
    assert response.headers["ETag"] == current.headers["ETag"]
    after = read(client, filed.reference, cast.admin)
    assert after.json["state"] == "submitted"
    assert after.headers["ETag"] == current.headers["ETag"]
    assert audit_actions(client, filed.reference, cast.admin) == ["submitted", "assigned"]


def test_a_new_note_changes_the_etag_so_an_officer_rereading_with_if_none_match_sees_it(client, cast):
    filed = file_claim(client)
    seen = read(client, filed.reference, cast.reviewer).headers["ETag"]
    note = "Spoke to the group's contact on the phone."
    added = client.post(f"{CLAIMS}/{filed.reference}/notes", json={"note": note}, headers=cast.admin.auth)
    assert added.status_code == 201, added.json

    response = read(client, filed.reference, cast.reviewer, **{"If-None-Match": seen})

    assert response.status_code == 200, "a 304 here hides the new note from the officer's cached copy"
    assert response.headers["ETag"] != seen
    assert note in [t["text"] for event in response.json["timeline"] for t in event["texts"]]


def test_a_note_retried_with_the_same_idempotency_key_is_added_once(client, cast):
    filed = file_claim(client)
    url, note = f"{CLAIMS}/{filed.reference}/notes", "Left a message with the group's contact."
    key = {"Idempotency-Key": "note-5b1e"}
    first = client.post(url, json={"note": note}, headers=cast.reviewer.auth | key)
    retry = client.post(url, json={"note": note}, headers=cast.reviewer.auth | key)
    assert first.status_code == retry.status_code == 201
    assert retry.json == first.json and retry.headers["Idempotent-Replayed"] == "true"
    other = client.post(url, json={"note": "Another note."}, headers=cast.reviewer.auth | key)
    assert "Idempotency-Key" in assert_problem(other, 422)["errors"]
    assert audit_actions(client, filed.reference, cast.admin) == ["submitted", "note_added"]


@pytest.mark.parametrize("header", ['"v999999"', "garbage", '"v99999999999999"', 'W/"v1"'])
def test_an_if_match_that_cannot_match_is_412(client, cast, header):
    filed = file_claim(client)

    response = fire(client, filed.reference, cast.triage, "accept", **{"If-Match": header})

    assert_problem(response, 412)
    assert read(client, filed.reference, cast.triage).json["state"] == "submitted"


def test_an_if_match_listing_several_etags_matches_if_any_is_current(client, cast):
    """RFC 9110 13.1.1: If-Match is true when any ETag it lists matches."""
    filed = file_claim(client)

    response = fire(client, filed.reference, cast.triage, "accept", **{"If-Match": '"v8", "v1", garbage'})

    assert response.status_code == 200
    assert response.json["state"] == "under_review"


def test_casework_with_a_stale_etag_is_412_and_changes_nothing(client, cast):
    filed = file_claim(client)
    stale = read(client, filed.reference, cast.triage).headers["ETag"]
    walk(client, cast, filed, "accept")

    response = client.put(
        f"{CLAIMS}/{filed.reference}/assignee",
        json={"assignee_id": cast.reviewer.officer_id},
        headers=cast.triage.auth | {"If-Match": stale},
    )

    assert_problem(response, 412)
    assert read(client, filed.reference, cast.triage).json["assignee_id"] is None


def test_if_none_match_with_the_current_etag_is_304_without_a_body(client):
    filed = file_claim(client)
    current = read(client, filed.reference, filed.group).headers["ETag"]

    response = read(client, filed.reference, filed.group, **{"If-None-Match": current})

    assert response.status_code == 304
    assert response.headers["ETag"] == current
    assert response.data == b""
    assert read(client, filed.reference, filed.group, **{"If-None-Match": '"v0"'}).status_code == 200


def test_two_officers_racing_without_if_match_give_exactly_one_winner_and_one_conflict(app, client, cast):
    filed = file_claim(client)
    second_triage = new_officer(app, "triage")

    def accept_as(officer: Caller) -> Callable[[], TestResponse]:
        return lambda: fire(app.test_client(), filed.reference, officer, "accept")

    results = at_once([accept_as(cast.triage), accept_as(second_triage)])

    assert all(isinstance(r, TestResponse) for r in results), results
    assert sorted(r.status_code for r in results) == [200, 409], [r.json for r in results]
    loser = next(r for r in results if r.status_code == 409)
    assert_problem(loser, 409)
    assert audit_actions(client, filed.reference, cast.admin) == ["submitted", "accept"]


# --- 5. problem documents on API paths, HTML elsewhere --------------------------------


def test_an_unknown_api_path_and_an_unknown_claim_are_404_problems(client, cast):
    assert_problem(client.get("/api/v1/nope"), 404)
    assert_problem(read(client, "CPG-2026-999999", cast.triage), 404)
    assert_problem(read(client, "not-a-reference", cast.triage), 404)
    assert_problem(fire(client, "CPG-2026-999999", cast.triage, "accept"), 404)


def test_a_page_outside_the_api_keeps_an_html_404(client):
    response = client.get("/nope")

    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_a_method_the_path_does_not_take_is_405_with_allow(client):
    response = client.delete(CLAIMS)

    assert_problem(response, 405)
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_a_body_over_the_size_limit_is_413(app, client):
    big = submission(initiative={"description": "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)})

    response = client.post(CLAIMS, json=big)

    assert_problem(response, 413)
    assert count_claims(app) == 0


def test_a_body_that_is_not_json_is_415(app, client, cast):
    as_text = client.post(CLAIMS, data=json.dumps(VALID_SUBMISSION), content_type="text/plain")
    as_form = client.post("/api/v1/tokens", data={"email": cast.triage.email, "password": PASSWORD})

    assert_problem(as_text, 415)
    assert_problem(as_form, 415)
    assert count_claims(app) == 0


def test_malformed_json_is_400(app, client):
    response = client.post(CLAIMS, data='{"group": {', content_type="application/json")

    assert_problem(response, 400)
    assert count_claims(app) == 0


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 500, "Bearer caf\u00e9", "gto_abc"],
)
def test_a_missing_or_garbled_authorization_is_401_with_www_authenticate(client, authorization):
    filed = file_claim(client)
    headers = {} if authorization is None else {"Authorization": authorization}

    for response in (
        client.get(f"{CLAIMS}/{filed.reference}", headers=headers),
        client.get(CLAIMS, headers=headers),
        client.get(f"{CLAIMS}/{filed.reference}/audit", headers=headers),
    ):
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_invalid_input_is_422_with_errors_per_field(client):
    response = client.post(CLAIMS, json={"group": {"name": "Only a name"}})

    body = assert_problem(response, 422)
    for field in ("group.contact_name", "group.email", "initiative", "barrier", "consent"):
        assert field in body["errors"], body["errors"]


@pytest.fixture
def limited_app(database, tmp_path: Path) -> Iterator[Flask]:
    app = guarantee.create_app(
        conftest._app_config(
            database.copy(),
            RATELIMIT_ENABLED=True,
            GUARANTEE_TOKEN_RATE_LIMIT="2 per minute",
            GUARANTEE_AUDIT_SIGNING_KEY=str(tmp_path / "signing-key.pem"),
        )
    )
    limiter.reset()
    yield app
    limiter.reset()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_too_many_sign_in_attempts_are_429_with_retry_after(limited_app):
    client = limited_app.test_client()
    attempts = [sign_in(client, "nobody@council.example", "wrong password") for _ in range(3)]

    assert [a.status_code for a in attempts[:2]] == [401, 401]
    assert_problem(attempts[2], 429)
    assert int(attempts[2].headers["Retry-After"]) > 0


def test_an_unexpected_error_is_a_500_problem_without_a_stack_trace(app, client):
    def explode() -> str:
        raise RuntimeError("secret internals: password=hunter2")

    app.add_url_rule("/api/v1/explode", "explode", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    response = client.get("/api/v1/explode")

    assert_problem(response, 500)
    assert "hunter2" not in response.get_data(as_text=True)
    assert "RuntimeError" not in response.get_data(as_text=True)


# --- 6. input limits ------------------------------------------------------------------


def _without(section: str, field: str) -> dict[str, Any]:
    data = copy.deepcopy(VALID_SUBMISSION)
    del data[section][field]
    return data


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (submission(initiative={"description": "x" * 10_001}), "initiative.description"),
        (submission(initiative={"title": "t" * 201}), "initiative.title"),
        (submission(group={"name": "Two\nlines"}), "group.name"),
        (submission(initiative={"people_involved": 10**30}), "initiative.people_involved"),
        (submission(initiative={"people_involved": -1}), "initiative.people_involved"),
        (submission(initiative={"people_involved": "24"}), "initiative.people_involved"),
        (submission(initiative={"people_involved": 2.5}), "initiative.people_involved"),
        (submission(initiative={"people_involved": True}), "initiative.people_involved"),
        (submission(consent={"contact": "true"}), "consent.contact"),
        (submission(consent={"contact": 1}), "consent.contact"),
        (submission(group={"email": "not-an-email"}), "group.email"),
        (submission(group={"email": "a" * 250 + "@example.org"}), "group.email"),
        (submission(group={"phone": "call me"}), "group.phone"),
        (submission(initiative={"sector": "space"}), "initiative.sector"),
        (submission(initiative={"region": ["london"]}), "initiative.region"),
        (submission(barrier={"remedy_sought": "other"}), "barrier.remedy_details"),
        (submission(group={"name": {"nested": "object"}}), "group.name"),
        (_without("barrier", "category"), "barrier.category"),
        ({**VALID_SUBMISSION, "extra": 1}, "extra"),
        (submission(group={"extra": 1}), "group.extra"),
        (submission(initiative={"extra": 1}), "initiative.extra"),
        (submission(barrier={"extra": 1}), "barrier.extra"),
        (submission(consent={"extra": 1}), "consent.extra"),
        ({**VALID_SUBMISSION, "group": "a string"}, "group"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_bad_submission_input_is_422_naming_the_field_never_500(app, client, body, field):
    response = client.post(CLAIMS, data=json.dumps(body), content_type="application/json")

    errors = assert_problem(response, 422)["errors"]
    assert field in errors, errors
    assert count_claims(app) == 0


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (submission(group={"name": "Little\x00Acorns"}), "group.name"),
        (submission(initiative={"description": "Nul \x00 inside"}), "initiative.description"),
        (submission(group={"name": "\ud800"}), "group.name"),
        (submission(barrier={"how_it_blocks": "lone \udfff low surrogate"}), "barrier.how_it_blocks"),
        ({**VALID_SUBMISSION, "\x00": 1}, "the JSON body"),
    ],
    ids=["nul", "nul in a long text", "high surrogate", "low surrogate", "nul in a key"],
)
def test_text_no_database_can_store_is_refused_at_the_edge_with_a_400_saying_where(app, client, body, where):
    response = client.post(CLAIMS, data=json.dumps(body), content_type="application/json")

    detail = assert_problem(response, 400)["detail"]
    assert "character that cannot be stored" in detail and where in detail, detail
    assert count_claims(app) == 0


def test_a_lone_surrogate_escaped_in_the_json_text_is_refused_naming_the_field(app, client):
    raw = json.dumps(submission(group={"name": "\ud800"}))
    assert '"name": "\\ud800"' in raw  # the escape as a client sends it, not a UTF-8 byte sequence

    response = client.post(CLAIMS, data=raw, content_type="application/json")

    assert "(at group.name)" in assert_problem(response, 400)["detail"]
    assert count_claims(app) == 0


DEEP_ARRAY = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a": ' * 50_000 + "1" + "}" * 50_000
LONG_NUMBER = json.dumps(VALID_SUBMISSION).replace('"people_involved": 24', '"people_involved": ' + "9" * 5_000)


@pytest.mark.parametrize(
    "raw", [DEEP_ARRAY, DEEP_OBJECT, LONG_NUMBER], ids=["deep-array", "deep-object", "long-number"]
)
def test_json_nested_too_deeply_or_with_a_number_too_long_to_read_is_400_never_500(app, client, cast, raw):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    filed = file_claim(client)

    submitted = client.post(CLAIMS, data=raw, content_type="application/json")
    fired = client.post(
        f"{CLAIMS}/{filed.reference}/transitions", data=raw, content_type="application/json", headers=cast.triage.auth
    )

    assert_problem(submitted, 400)
    assert_problem(fired, 400)
    assert count_claims(app) == 1


@pytest.mark.parametrize("body", [[], "a string", 42, None, True])
def test_a_submission_that_is_not_an_object_is_refused_never_500(app, client, body):
    response = client.post(CLAIMS, data=json.dumps(body), content_type="application/json")

    assert response.status_code in (400, 422)
    assert_problem(response, response.status_code)
    assert count_claims(app) == 0


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({**INPUTS["accept"], "assignee": 10**30}, "assignee"),
        ({**INPUTS["accept"], "assignee": "1"}, "assignee"),
        ({**INPUTS["accept"], "assignee": 2_000_000}, "assignee"),
        ({"category": "food_hygiene", "regulation": 10**30}, "regulation"),
        ({"category": "food_hygiene", "regulation": 999_999}, "regulation"),
        ({"category": "food_hygiene", "regulation": True}, "regulation"),
        ({**INPUTS["accept"], "extra": {"deep": [1, 2]}}, "extra"),
    ],
)
def test_bad_transition_input_is_422_naming_the_field_never_500(client, cast, inputs, field):
    filed = file_claim(client)

    response = fire(client, filed.reference, cast.triage, "accept", inputs)

    assert field in assert_problem(response, 422)["errors"]


@pytest.mark.parametrize(
    ("endpoint", "body", "field"),
    [
        ("PUT assignee", {"assignee_id": 10**30}, "assignee_id"),
        ("PUT assignee", {"assignee_id": "1"}, "assignee_id"),
        ("PUT assignee", {}, "assignee_id"),
        ("PUT assignee", {"assignee_id": None, "extra": 1}, "extra"),
        ("PUT classification", {"category": "space"}, "category"),
        ("PUT classification", {}, "category"),
        ("POST notes", {"note": "x" * 10_001}, "note"),
        ("POST notes", {"note": "hi", "public": True}, "public"),
    ],
)
def test_bad_casework_input_is_422_naming_the_field_never_500(client, cast, endpoint, body, field):
    filed = file_claim(client)
    method, path = endpoint.split()

    response = client.open(f"{CLAIMS}/{filed.reference}/{path}", method=method, json=body, headers=cast.admin.auth)

    assert field in assert_problem(response, 422)["errors"]
    assert audit_actions(client, filed.reference, cast.admin) == ["submitted"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "x@council.example"}, "password"),
        ({"email": "x@council.example", "password": "p", "remember": True}, "remember"),
        ({"email": 5, "password": "p"}, "email"),
        ({"email": "x@council.example", "password": "p" * 1025}, "password"),
    ],
)
def test_bad_token_requests_are_422_naming_the_field(client, body, field):
    assert field in assert_problem(client.post("/api/v1/tokens", json=body), 422)["errors"]


# --- 7. officer tokens ------------------------------------------------------------------


def test_a_wrong_password_and_an_unknown_email_give_the_same_401(client, cast):
    wrong_password = sign_in(client, cast.triage.email, "not the password at all")
    unknown_email = sign_in(client, "nobody@council.example")

    assert assert_problem(wrong_password, 401) == assert_problem(unknown_email, 401)
    assert "token" not in wrong_password.json


def test_an_unknown_email_still_checks_a_password_hash_so_it_takes_as_long_as_a_wrong_password(
    client, cast, monkeypatch
):
    checked: list[str] = []
    real = guarantee.services.officers.password_matches
    monkeypatch.setattr(
        guarantee.services.officers,
        "password_matches",
        lambda stored, given: checked.append(given) or real(stored, given),
    )

    assert_problem(sign_in(client, "nobody@council.example", "a guess at a password"), 401)
    assert checked == ["a guess at a password"]


def test_an_officer_token_is_issued_as_a_bearer_token_that_expires(client, cast, app):
    response = sign_in(client, cast.triage.email.upper())

    assert response.status_code == 201, response.json
    assert response.json["token_type"] == "Bearer"
    assert response.json["token"].startswith("gto_")
    assert response.json["expires_at"].startswith("2026-11-02T10:30")
    assert response.headers["Cache-Control"] == "no-store"


def test_an_expired_officer_token_is_refused(app, client, cast, clock: FixedClock):
    filed = file_claim(client)
    assert read(client, filed.reference, cast.triage).status_code == 200

    clock.advance(minutes=app.config["GUARANTEE_API_TOKEN_MINUTES"], seconds=1)

    assert_problem(read(client, filed.reference, cast.triage), 401)
    assert_problem(client.get(CLAIMS, headers=cast.triage.auth), 401)
    assert read(client, filed.reference, filed.group).status_code == 200


def test_revoke_tokens_command_revokes_every_token_of_the_officer(app, client, cast):
    filed = file_claim(client)
    second = Caller(token=sign_in(client, cast.triage.email).json["token"])

    result = app.test_cli_runner().invoke(args=["guarantee", "revoke-tokens", "--email", cast.triage.email])

    assert result.exit_code == 0, result.output
    assert "Revoked 2 token(s)" in result.output
    for token in (cast.triage, second):
        assert_problem(read(client, filed.reference, token), 401)
    assert read(client, filed.reference, cast.reviewer).status_code == 200
    assert sign_in(client, cast.triage.email).status_code == 201


def test_revoke_tokens_for_an_unknown_email_fails(app):
    result = app.test_cli_runner().invoke(args=["guarantee", "revoke-tokens", "--email", "nobody@council.example"])

    assert result.exit_code == 1


def test_a_deactivated_officers_token_is_refused_and_they_cannot_sign_in(app, client, cast):
    filed = file_claim(client)
    with app.app_context():
        db.session.execute(update(Officer).where(Officer.id == cast.reviewer.officer_id).values(active=False))
        db.session.commit()

    assert_problem(read(client, filed.reference, cast.reviewer), 401)
    assert_problem(fire(client, filed.reference, cast.reviewer, "accept"), 401)
    assert_problem(sign_in(client, cast.reviewer.email), 401)


def every_row_as_text(app: Flask) -> str:
    with app.app_context():
        rows = [
            str(row)
            for table in inspect(db.engine).get_table_names()
            for row in db.session.execute(text(f'SELECT * FROM "{table}"'))
        ]
        db.session.rollback()
    return "\n".join(rows)


def test_officer_tokens_are_stored_only_as_hashes(app, client, cast):
    filed = file_claim(client)
    walk(client, cast, filed, "accept")

    everything = every_row_as_text(app)

    assert filed.reference in everything  # the dump did read the tables
    for token in (cast.triage.token, cast.admin.token, cast.reviewer.token):
        assert token.removeprefix("gto_") not in everything


def test_a_tracking_token_is_stored_nowhere_not_even_in_a_remembered_idempotent_response(app, client):
    filed = file_claim(client, **{"Idempotency-Key": "remembered"})

    everything = every_row_as_text(app)

    assert filed.reference in everything
    assert filed.group.token not in everything
    assert "remembered" not in everything


# --- 8. the officers' list of claims -----------------------------------------------------


def list_claims(client: FlaskClient, officer: Caller, query: str = "") -> TestResponse:
    return client.get(f"{CLAIMS}?{query}", headers=officer.auth)


def references(response: TestResponse) -> list[str]:
    assert response.status_code == 200, response.json
    return [item["reference"] for item in response.json["items"]]


def test_claims_are_listed_newest_first_for_officers(client, cast):
    filed = [file_claim(client) for _ in range(3)]

    response = list_claims(client, cast.reviewer)

    assert references(response) == [f.reference for f in reversed(filed)]
    assert response.json["next_cursor"] is None
    assert "Link" not in response.headers
    item = response.json["items"][0]
    assert item["state"] == "submitted" and item["group_name"] == VALID_SUBMISSION["group"]["name"]


def test_listing_filters_by_state_which_may_repeat(client, cast):
    submitted, accepted, declined = (file_claim(client) for _ in range(3))
    walk(client, cast, accepted, "accept")
    walk(client, cast, declined, "decline")

    assert references(list_claims(client, cast.triage, "state=under_review")) == [accepted.reference]
    assert references(list_claims(client, cast.triage, "state=submitted&state=closed")) == [
        declined.reference,
        submitted.reference,
    ]
    assert_problem(list_claims(client, cast.triage, "state=nonsense"), 422)


def test_listing_filters_by_sector_region_and_category(client, cast):
    plain = file_claim(client)
    housing = file_claim(client, submission(initiative={"sector": "housing", "region": "wales"}))
    food = file_claim(client, submission(barrier={"category": "food_hygiene"}))

    assert references(list_claims(client, cast.triage, "sector=housing")) == [housing.reference]
    assert references(list_claims(client, cast.triage, "region=wales")) == [housing.reference]
    assert references(list_claims(client, cast.triage, "category=food_hygiene")) == [food.reference]
    # An officer's classification takes over from the group's own category.
    fire(
        client,
        plain.reference,
        cast.triage,
        "accept",
        {"category": "licensing_and_permits", "regulation": {"title": "A"}},
    )
    assert references(list_claims(client, cast.triage, "category=licensing_and_permits")) == [plain.reference]
    assert references(list_claims(client, cast.triage, "sector=housing&region=london")) == []
    assert_problem(list_claims(client, cast.triage, "sector=space"), 422)


def test_listing_filters_by_assignee(client, cast):
    mine, other = file_claim(client), file_claim(client)
    response = client.put(
        f"{CLAIMS}/{mine.reference}/assignee", json={"assignee_id": cast.reviewer.officer_id}, headers=cast.triage.auth
    )
    assert response.status_code == 200, response.json

    assert references(list_claims(client, cast.triage, f"assignee={cast.reviewer.officer_id}")) == [mine.reference]
    assert references(list_claims(client, cast.triage, f"assignee={cast.triage.officer_id}")) == []
    assert other.reference in references(list_claims(client, cast.triage))


def test_listing_filters_overdue_claims(app, client, cast, clock: FixedClock):
    late = file_claim(client)
    clock.advance(days=14)
    on_time = file_claim(client)
    officer = Caller(token=sign_in(client, cast.triage.email).json["token"])

    overdue = list_claims(client, officer, "overdue=true")

    assert references(overdue) == [late.reference]
    assert overdue.json["items"][0]["overdue"] is True
    assert references(list_claims(client, officer, "overdue=false")) == [on_time.reference]


def test_walking_next_cursor_yields_every_claim_once_newest_first_with_link_headers(client, cast):
    filed = [file_claim(client).reference for _ in range(7)]
    seen: list[str] = []
    pages = 0
    query = "limit=3"
    while True:
        response = list_claims(client, cast.triage, query)
        page = references(response)
        pages += 1
        assert len(page) <= 3
        seen.extend(page)
        cursor = response.json["next_cursor"]
        if cursor is None:
            assert "Link" not in response.headers
            break
        link = re.fullmatch(r'<([^>]+)>; rel="next"', response.headers["Link"])
        assert link and f"cursor={cursor}" in link.group(1) and "limit=3" in link.group(1)
        query = f"limit=3&cursor={cursor}"

    assert pages == 3
    assert seen == list(reversed(filed))


def test_the_link_header_keeps_the_filters(client, cast):
    for _ in range(3):
        file_claim(client, submission(initiative={"sector": "housing"}))

    response = list_claims(client, cast.triage, "limit=2&sector=housing&state=submitted")

    link = response.headers["Link"]
    assert "sector=housing" in link and "state=submitted" in link and "limit=2" in link
    next_page = client.get(link[1 : link.index(">")], headers=cast.triage.auth)
    assert len(references(next_page)) == 1


@pytest.mark.parametrize(
    "query", ["cursor=garbled!!", "cursor=bm90OmEgY3Vyc29y", "cursor=" + "A" * 65, "limit=0", "limit=101", "limit=ten"]
)
def test_a_garbled_cursor_or_a_bad_limit_is_422(client, cast, query):
    file_claim(client)

    response = list_claims(client, cast.triage, query)

    body = assert_problem(response, 422)
    assert query.split("=")[0] in body["errors"]


def test_an_unknown_query_parameter_is_422_not_silently_ignored(client, cast):
    file_claim(client, submission(initiative={"sector": "health"}))

    response = list_claims(client, cast.triage, "sectr=housing")

    assert "sectr" in assert_problem(response, 422)["errors"]


# --- 9. audit trail, workflow, casework ---------------------------------------------------


def test_the_audit_trail_is_a_hash_chain_for_officers_only(client, cast):
    filed = file_claim(client)
    walk(client, cast, filed, "accept", "request_information", "provide_information")

    response = client.get(f"{CLAIMS}/{filed.reference}/audit", headers=cast.appeal_panel.auth)

    assert response.status_code == 200, response.json
    events = response.json["events"]
    assert [e["seq"] for e in events] == [1, 2, 3, 4]
    assert [e["action"] for e in events] == ["submitted", "accept", "request_information", "provide_information"]
    assert events[0]["prev_hash"] == GENESIS_HASH
    for before, after in itertools.pairwise(events):
        assert after["prev_hash"] == before["hash"]
    assert len({e["hash"] for e in events}) == 4
    assert events[1]["actor_type"] == "officer" and events[1]["actor_id"] == str(cast.triage.officer_id)
    # The chain keeps digests of free text, never the words.
    assert INPUTS["request_information"]["question"] not in response.get_data(as_text=True)
    assert_problem(client.get(f"{CLAIMS}/{filed.reference}/audit", headers=filed.group.auth), 403)
    assert_problem(client.get(f"{CLAIMS}/CPG-2026-999999/audit", headers=cast.triage.auth), 404)


def test_the_workflow_lists_every_state_and_trigger_with_its_inputs(client):
    response = client.get("/api/v1/workflow")

    assert response.status_code == 200
    body = response.json
    assert [s["name"] for s in body["states"]] == list(STATES)
    assert [t["trigger"] for t in body["triggers"]] == list(TRIGGERS)
    for described, transition in zip(body["triggers"], TRANSITIONS, strict=True):
        assert described["sources"] == list(transition.sources)
        assert described["dest"] == transition.dest
        assert described["fired_by"] == list(transition.fired_by)
        assert [i["name"] for i in described["inputs"]] == list(transition.input_names)
    assert {s["name"] for s in body["states"] if s["terminal"]} == {"resolved", "closed", "withdrawn", "lapsed"}


def test_assigning_classifying_and_noting_are_audited(client, cast):
    filed = file_claim(client)

    assigned = client.put(
        f"{CLAIMS}/{filed.reference}/assignee", json={"assignee_id": cast.reviewer.officer_id}, headers=cast.triage.auth
    )
    classified = client.put(
        f"{CLAIMS}/{filed.reference}/classification",
        json={"category": "food_hygiene", "regulation": {"title": "Food premises registration"}},
        headers=cast.reviewer.auth,
    )
    noted = client.post(
        f"{CLAIMS}/{filed.reference}/notes", json={"note": "Called the group."}, headers=cast.appeal_panel.auth
    )
    unassigned = client.put(f"{CLAIMS}/{filed.reference}/assignee", json={"assignee_id": None}, headers=cast.admin.auth)

    assert assigned.status_code == 200, assigned.json
    assert assigned.json["assignee_id"] == cast.reviewer.officer_id
    assert classified.status_code == 200, classified.json
    assert classified.json["category"] == "food_hygiene"
    assert classified.json["regulation"]["title"] == "Food premises registration"
    assert noted.status_code == 201, noted.json
    assert noted.json["note"] == "Called the group."
    assert unassigned.status_code == 200 and unassigned.json["assignee_id"] is None
    assert audit_actions(client, filed.reference, cast.admin) == [
        "submitted",
        "assigned",
        "classified",
        "note_added",
        "assigned",
    ]


def test_casework_needs_the_right_role(client, cast):
    filed = file_claim(client)

    assign = client.put(
        f"{CLAIMS}/{filed.reference}/assignee",
        json={"assignee_id": cast.triage.officer_id},
        headers=cast.appeal_panel.auth,
    )
    classify = client.put(
        f"{CLAIMS}/{filed.reference}/classification", json={"category": "other"}, headers=cast.appeal_panel.auth
    )

    assert_problem(assign, 403)
    assert_problem(classify, 403)
    assert audit_actions(client, filed.reference, cast.admin) == ["submitted"]


def test_a_finished_claim_cannot_be_assigned(client, cast):
    filed = file_claim(client)
    walk(client, cast, filed, "decline")

    response = client.put(
        f"{CLAIMS}/{filed.reference}/assignee", json={"assignee_id": cast.reviewer.officer_id}, headers=cast.triage.auth
    )

    assert_problem(response, 409)


def test_assigning_an_officer_who_does_not_exist_is_422_naming_assignee_id(client, cast):
    filed = file_claim(client)

    response = client.put(
        f"{CLAIMS}/{filed.reference}/assignee", json={"assignee_id": 999_999}, headers=cast.triage.auth
    )

    assert "assignee_id" in assert_problem(response, 422)["errors"]


def test_a_cursor_past_the_databases_integer_range_is_422_not_500(client, cast):
    import base64

    cursor = base64.urlsafe_b64encode(b"claim:999999999999999999").decode().rstrip("=")
    response = client.get(f"{CLAIMS}?cursor={cursor}", headers=cast.triage.auth)
    assert_problem(response, 422)
    assert "cursor" in response.json["errors"]


def test_the_submission_response_carrying_the_tracking_token_is_never_cached(client):
    first = client.post(CLAIMS, json=VALID_SUBMISSION, headers={"Idempotency-Key": "no-store-1"})
    replay = client.post(CLAIMS, json=VALID_SUBMISSION, headers={"Idempotency-Key": "no-store-1"})
    assert first.headers["Cache-Control"] == "no-store"
    assert replay.headers["Cache-Control"] == "no-store"


def test_adding_evidence_or_erasing_contact_details_changes_the_etag(app, client, cast):
    import io

    from guarantee.services.actors import OfficerActor
    from guarantee.services.casework import erase_contact

    filed = file_claim(client)
    seen = read(client, filed.reference, cast.reviewer).headers["ETag"]
    uploaded = client.post(
        f"{CLAIMS}/{filed.reference}/evidence",
        data={"file": (io.BytesIO(b"%PDF-1.4 evidence"), "plan.pdf")},
        headers=cast.reviewer.auth,
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201
    after_upload = read(client, filed.reference, cast.reviewer).headers["ETag"]
    assert after_upload != seen
    with app.app_context(), guarantee.context.unit_of_work() as ctx:
        erase_contact(ctx, filed.reference, OfficerActor(cast.admin.officer_id))
    assert read(client, filed.reference, cast.reviewer).headers["ETag"] != after_upload
