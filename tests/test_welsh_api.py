"""The API in Welsh (issue 23): a caller that asks for Welsh (``Accept-Language: cy``) reads each
problem document's ``title``, ``detail`` and field messages in Welsh; one that does not reads them
in English, exactly as before. The ``type``, the ``status``, the field names and the codes
(``allowed_triggers``) are the same in both, and ``Content-Language`` says which language it is.

The messages are the services' own (``words()`` and ``N_`` in guarantee/services), marshmallow's
(guarantee/api/field_messages.py) and the problem edge's (guarantee/api/problems.py).
"""

from __future__ import annotations

import copy
import pickle
from datetime import date
from http import HTTPStatus
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from guarantee.api.field_messages import FILLED_IN, in_words
from guarantee.api.problems import DESCRIPTIONS, DETAILS, TITLES
from guarantee.services import claims
from guarantee.services.errors import StaleClaim, ValidationFailed, capitalised, long_date, shown_as
from tests.api_support import CLAIMS, assert_problem, file_claim, new_officer
from tests.helpers import VALID_SUBMISSION
from workflows import STATES, TRANSITIONS
from workflows.words import Words

WELSH = {"Accept-Language": "cy"}
UNKNOWN = "CPG-2026-999999"


def problem_in(response: TestResponse, status: int, language: str) -> dict[str, Any]:
    body = assert_problem(response, status)
    assert response.headers["Content-Language"] == language
    assert body["type"] == "about:blank"
    return body


def both(client: FlaskClient, method: str, path: str, **kwargs: Any) -> tuple[TestResponse, TestResponse]:
    """The same request, in English (no Accept-Language) and in Welsh."""
    headers = kwargs.pop("headers", {})
    english = client.open(path, method=method, headers=headers, **kwargs)
    welsh = client.open(path, method=method, headers=headers | WELSH, **kwargs)
    return english, welsh


# --- over HTTP -------------------------------------------------------------------------------


def test_a_request_without_a_token_is_refused_in_the_callers_language(client: FlaskClient) -> None:
    english, welsh = both(client, "GET", f"{CLAIMS}/{UNKNOWN}")

    assert problem_in(english, 401, "en") == {
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "Send Authorization: Bearer <token>: the tracking token you got when you filed the claim, "
        "or an officer token from POST /api/v1/tokens.",
    }
    assert problem_in(welsh, 401, "cy") == {
        "type": "about:blank",
        "title": "Heb Awdurdod",
        "status": 401,
        "detail": "Anfonwch Authorization: Bearer <token>: y tocyn olrhain a gawsoch pan wnaethoch gyflwyno'r "
        "hawliad, neu docyn swyddog o POST /api/v1/tokens.",
    }
    assert welsh.headers["WWW-Authenticate"] == english.headers["WWW-Authenticate"]


def test_an_unknown_claim_is_not_found_in_the_callers_language(app: Flask, client: FlaskClient) -> None:
    officer = new_officer(app, "reviewer")

    english, welsh = both(client, "GET", f"{CLAIMS}/{UNKNOWN}", headers=officer.auth)

    assert problem_in(english, 404, "en") == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": f"There is no claim {UNKNOWN}.",
    }
    assert problem_in(welsh, 404, "cy") == {
        "type": "about:blank",
        "title": "Heb ei Ganfod",
        "status": 404,
        "detail": f"Nid oes hawliad {UNKNOWN}.",
    }


def test_an_address_with_nothing_there_is_said_in_welsh(client: FlaskClient) -> None:
    english, welsh = both(client, "GET", "/api/v1/nothing-here")

    assert problem_in(english, 404, "en")["detail"] == (
        "There is nothing at this address. The API description is at /openapi.json."
    )
    assert problem_in(welsh, 404, "cy")["detail"] == (
        "Nid oes dim yn y cyfeiriad hwn. Mae disgrifiad yr API yn /openapi.json."
    )


def test_the_schemas_own_field_messages_are_said_in_welsh(client: FlaskClient) -> None:
    body = copy.deepcopy(VALID_SUBMISSION)
    del body["consent"]
    body["surplus"] = True
    body["group"]["name"] = "x" * 201
    body["initiative"]["people_involved"] = -1
    body["initiative"]["sector"] = "astronomy"

    english, welsh = both(client, "POST", CLAIMS, json=body)

    in_english = problem_in(english, 422, "en")
    assert in_english["title"] == "Unprocessable Entity"
    assert in_english["detail"] == "Some fields need correcting: see errors."
    assert in_english["errors"] == {
        "consent": ["Missing data for required field."],
        "surplus": ["Unknown field."],
        "group.name": ["Length must be between 1 and 200."],
        "initiative.people_involved": ["Must be greater than or equal to 0 and less than or equal to 1000000."],
        "initiative.sector": [in_english["errors"]["initiative.sector"][0]],
    }
    assert in_english["errors"]["initiative.sector"][0].startswith("Must be one of: health, social_care, ")

    in_welsh = problem_in(welsh, 422, "cy")
    assert in_welsh["title"] == "Endid na Ellir ei Brosesu"
    assert in_welsh["detail"] == "Mae angen cywiro rhai meysydd: gweler errors."
    assert in_welsh["errors"] == {
        "consent": ["Data ar goll ar gyfer maes gofynnol."],
        "surplus": ["Maes anhysbys."],
        "group.name": ["Rhaid i'r hyd fod rhwng 1 a 200."],
        "initiative.people_involved": ["Rhaid iddo fod rhwng 0 a 1000000, gan gynnwys y ddau."],
        "initiative.sector": [
            in_english["errors"]["initiative.sector"][0].replace("Must be one of: ", "Rhaid iddo fod yn un o: ")
        ],
    }


def test_a_body_that_is_not_json_is_refused_in_welsh(client: FlaskClient) -> None:
    english, welsh = both(client, "POST", CLAIMS, data="{not json", content_type="application/json")

    assert problem_in(english, 400, "en")["detail"] == "The request could not be read: Invalid JSON body."
    assert problem_in(welsh, 400, "cy") == {
        "type": "about:blank",
        "title": "Cais Gwael",
        "status": 400,
        "detail": "Nid oedd modd darllen y cais: Corff JSON annilys.",
    }


def test_the_services_field_messages_are_said_in_welsh(app: Flask, client: FlaskClient) -> None:
    filed = file_claim(client)
    triage = new_officer(app, "triage")
    path = f"{CLAIMS}/{filed.reference}/transitions"

    english, welsh = both(client, "POST", path, json={"trigger": "accept"}, headers=triage.auth)

    assert problem_in(english, 422, "en") == {
        "type": "about:blank",
        "title": "Unprocessable Entity",
        "status": 422,
        "detail": "Some answers need correcting: category, regulation",
        "errors": {"category": ["Select barrier category"], "regulation": ["Enter regulation"]},
    }
    assert problem_in(welsh, 422, "cy") == {
        "type": "about:blank",
        "title": "Endid na Ellir ei Brosesu",
        "status": 422,
        "detail": "Mae angen cywiro rhai atebion: category, regulation",
        "errors": {"category": ["Dewiswch y categori rhwystr"], "regulation": ["Rhowch y rheoliad"]},
    }


def test_a_step_the_claim_is_not_ready_for_is_a_conflict_in_welsh(app: Flask, client: FlaskClient) -> None:
    filed = file_claim(client)
    triage = new_officer(app, "triage")
    path = f"{CLAIMS}/{filed.reference}/transitions"
    inputs = {"trigger": "uphold", "reasons": "The rule is disproportionate.", "remedy": "waiver"}

    english, welsh = both(client, "POST", path, json=inputs, headers=triage.auth)

    assert problem_in(english, 409, "en") == {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "A claim that is submitted cannot be sent 'uphold'. What you can do now: accept, decline.",
        "allowed_triggers": ["accept", "decline"],
    }
    assert problem_in(welsh, 409, "cy") == {
        "type": "about:blank",
        "title": "Gwrthdaro",
        "status": 409,
        "detail": "Ni ellir anfon 'uphold' at hawliad sydd wedi'i gyflwyno. "
        "Yr hyn y gallwch ei wneud nawr: accept, decline.",
        "allowed_triggers": ["accept", "decline"],
    }


def test_a_step_for_someone_else_is_forbidden_in_welsh(client: FlaskClient) -> None:
    filed = file_claim(client)
    path = f"{CLAIMS}/{filed.reference}/transitions"
    inputs = {"trigger": "accept", "category": "food_hygiene", "regulation": {"title": "Food premises registration"}}

    english, welsh = both(client, "POST", path, json=inputs, headers=filed.group.auth)

    assert problem_in(english, 403, "en")["detail"] == "Only triage or admin can accept for review ('accept')."
    in_welsh = problem_in(welsh, 403, "cy")
    assert in_welsh["title"] == "Gwaharddedig"
    # The step is named as the workflow's own label says it in Welsh.
    # Who may take it, in words (in English the roles' codes, as the API always said).
    assert in_welsh["detail"].startswith("Dim ond swyddog brysbennu neu un o'r gweinyddwyr sy'n cael gwneud hyn: ")
    assert in_welsh["detail"].endswith(" ('accept').")
    assert "accept for review" not in in_welsh["detail"]


def test_a_claim_read_in_welsh_has_its_labels_in_welsh_and_an_etag_of_its_own(app: Flask, client: FlaskClient) -> None:
    """A copy kept in one language is never taken for the other's: the Welsh body has its own ETag,
    and If-Match takes either."""
    filed = file_claim(client)
    triage = new_officer(app, "triage")
    path = f"{CLAIMS}/{filed.reference}"
    english, welsh = both(client, "GET", path, headers=triage.auth)
    assert english.json["state_label"] == "Submitted" and english.headers["ETag"] == '"v1"'
    assert welsh.json["state_label"] == "Wedi'i gyflwyno" and welsh.headers["ETag"] == '"v1-cy"'
    assert welsh.json["due"]["label"] != english.json["due"]["label"]
    again = client.get(path, headers=triage.auth | WELSH | {"If-None-Match": '"v1"'})
    assert again.status_code == 200, "the English copy's tag does not stand for the Welsh body"
    inputs = {"trigger": "accept", "category": "food_hygiene", "regulation": {"title": "Food premises registration"}}
    accepted = client.post(f"{path}/transitions", json=inputs, headers=triage.auth | WELSH | {"If-Match": '"v1-cy"'})
    assert accepted.status_code == 200, accepted.json


def test_data_quoted_in_a_message_is_never_translated(app: Flask) -> None:
    """A name a person chose that happens to be one of the service's words ("Overdue") stays as
    they wrote it inside a Welsh sentence."""
    from guarantee.i18n import say
    from workflows.words import AsWritten, words

    message = words("You already have a filter called “%(name)s”: choose another name", name=AsWritten("Overdue"))
    with app.test_request_context(headers=WELSH):
        assert "“Overdue”" in say(message)
        assert say(AsWritten("Overdue")) == "Overdue"
        assert say("Overdue") != "Overdue", "the service's own word is said in Welsh"


def test_a_stale_change_is_refused_in_welsh(app: Flask, client: FlaskClient) -> None:
    filed = file_claim(client)
    triage = new_officer(app, "triage")
    path = f"{CLAIMS}/{filed.reference}/transitions"
    inputs = {"trigger": "accept", "category": "food_hygiene", "regulation": {"title": "Food premises registration"}}
    stale = {"If-Match": '"v0"'}

    english, welsh = both(client, "POST", path, json=inputs, headers=triage.auth | stale)

    assert problem_in(english, 412, "en")["detail"] == (
        f"Claim {filed.reference} was changed by someone else while you were working on it. "
        "Reload it to see the latest version, then try again."
    )
    in_welsh = problem_in(welsh, 412, "cy")
    assert in_welsh["title"] == "Rhagamod Heb ei Fodloni"
    assert in_welsh["detail"] == (
        f"Cafodd hawliad {filed.reference} ei newid gan rywun arall tra oeddech chi'n gweithio arno. "
        "Ail-lwythwch ef i weld y fersiwn ddiweddaraf, yna rhowch gynnig arall arni."
    )


def test_an_answer_in_english_is_what_the_api_always_said(client: FlaskClient) -> None:
    """Asking for English, or for a language the service does not speak, is the same as not asking."""
    for language in ("en", "en-GB", "fr", ""):
        response = client.get(f"{CLAIMS}/{UNKNOWN}", headers={"Accept-Language": language})
        body = problem_in(response, 401, "en")
        assert body["title"] == "Unauthorized"


# --- the words behind them ---------------------------------------------------------------------


def test_every_error_status_has_its_title_and_description_marked() -> None:
    for status in HTTPStatus:
        if status >= 400:
            assert TITLES[status] == status.phrase
            if status not in DETAILS and status.description:
                assert DESCRIPTIONS[status] == status.description


@pytest.mark.parametrize(("template", "msgid"), FILLED_IN)
def test_a_message_marshmallow_fills_in_reads_the_same_and_can_be_said_again(template: str, msgid: str) -> None:
    values = {"min": "1", "max": "200", "equal": "6", "choices": "a, b, c", "other": "x"}
    message = template.format(**values)

    said = in_words(message)

    assert isinstance(said, Words)
    assert said == message
    assert said.msgid == msgid


def test_a_message_marshmallow_does_not_fill_in_is_left_as_it_is() -> None:
    assert in_words("Unknown field.") == "Unknown field."
    assert not isinstance(in_words("Unknown field."), Words)


def test_every_state_and_input_a_sentence_names_is_marked() -> None:
    assert {claims.state_in_words(state) for state in STATES} == set(claims.STATES_IN_WORDS)
    labels = {claims.input_label_in_sentence(spec) for transition in TRANSITIONS for spec in transition.inputs}
    assert labels == set(claims.INPUT_LABELS_IN_SENTENCES)


def test_the_services_messages_read_in_english_as_they_always_did() -> None:
    failed = ValidationFailed({"b": [shown_as("under_review", "under review")], "a": ["Enter a name"]})
    assert failed.message == "Some answers need correcting: a, b"
    assert failed.summary == "under_review; Enter a name"
    assert str(StaleClaim("CPG-2026-000001", 3)) == (
        "Claim CPG-2026-000001 was changed by someone else while you were working on it. "
        "Reload it to see the latest version, then try again."
    )
    assert capitalised("the name of your group") == "The name of your group"
    assert capitalised("the name of your group").msgid == "the name of your group"  # type: ignore[attr-defined]
    assert long_date(date(2026, 11, 2)) == "2 November 2026"


def test_the_words_of_a_message_survive_pickling() -> None:
    """A message kept and read back (a session, a queue) still reads the same in English."""
    said = capitalised("the name of your group")
    assert pickle.loads(pickle.dumps(said)) == "The name of your group"
    summary = ValidationFailed({"a": ["one"], "b": ["two"]}).summary
    assert pickle.loads(pickle.dumps(summary)) == "one; two"
