"""The officers' casework console in Welsh (issue 23): the queue, a claim's page, an action's page
and its check page, and what the console says after an action (its flash messages) read in the
language the officer chose with the toggle (the ``language`` cookie), and the same pages read
exactly as before in English. The MOJ Frontend ports say their own words (MOJ's English defaults)
in the page's language too.

The workflow's own words (state and clock labels, action names) are translated by the workflow's
catalogue, not this area's: these tests read only the console's words.

Every test runs on SQLite and on PostgreSQL, on a database of its own (conftest's ``app``).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, render_template_string
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.test_console import QUEUE, claim_path, confirm, file, location, officers_walk, post_action, signed_in
from tests.test_public import fields, text_of


def in_welsh(client: FlaskClient) -> None:
    client.set_cookie("language", "cy")


def in_english(client: FlaskClient) -> None:
    client.delete_cookie("language")


def heading(html: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert found, "the page has a heading"
    return text_of(found[1])


def followed(client: FlaskClient, response: TestResponse) -> str:
    assert response.status_code == 303, response.status_code
    return client.get(location(response)).text


def test_the_queue_reads_in_welsh_and_in_english_as_before(app: Flask) -> None:
    file(app, 2)
    client, _ = signed_in(app, "triage", "reviewer")

    in_welsh(client)
    queue = client.get(QUEUE)
    assert queue.status_code == 200 and '<html lang="cy"' in queue.text
    assert heading(queue.text) == "Ciw"
    words = text_of(queue.text)
    assert "Pob hawliad agored" in words and "Hidlo" in words and "Defnyddio'r hidlyddion" in words
    assert "2 hawliad, y dyddiad dyledus agosaf yn gyntaf" in words
    assert "Lawrlwytho'r hawliadau hyn (CSV)" in words and "Trefnu yn ôl" in words
    assert "Ar gyfer yr hawliadau rydych chi'n eu ticio:" in words  # the sticky action bar
    assert "Neilltuo" in words and "Gwrthod fel dyblygiadau" in words
    for untranslated in ("Apply filters", "Download these claims", "soonest due first", "For the claims you tick"):
        assert untranslated not in words
    # MOJ's sortable table is told the words it says as it sorts
    assert 'data-status-message="Trefnu yn ôl %heading% (%direction%)"' in queue.text

    filtered = text_of(client.get(f"{QUEUE}?due=overdue&assignee=me").text)
    assert "Hidlyddion a ddewiswyd" in filtered and "Clirio'r hidlyddion" in filtered
    assert "Tynnu'r hidlydd hwn Fi" in filtered  # MOJ's filter tag, its hidden words in Welsh
    assert "Nid oes hawliadau'n cyfateb i'r hidlyddion hyn." in filtered

    in_english(client)
    english = client.get(QUEUE)
    assert '<html lang="en"' in english.text and heading(english.text) == "Queue"
    words = text_of(english.text)
    assert "All open claims" in words and "Apply filters" in words and "2 claims, soonest due first" in words
    assert "For the claims you tick:" in words and "data-status-message" not in english.text


def test_the_claim_page_reads_in_welsh_and_in_english_as_before(app: Flask) -> None:
    (reference,) = file(app)
    client, _ = signed_in(app, "triage")

    in_welsh(client)
    page = client.get(claim_path(reference))
    assert page.status_code == 200 and '<html lang="cy"' in page.text
    words = text_of(page.text)
    for said in (
        "Beth gallwch chi ei wneud nawr",
        "Crynodeb",
        "Wedi'i neilltuo i Neb",
        "Categori Heb ei ddosbarthu eto",
        "Newid y neilltuad",
        "Manylion cyswllt",
        "Dangos y manylion cyswllt",
        "Sut cafodd y dyddiadau dyledus eu cyfrifo",
        "Yr hyn a ysgrifennodd y grŵp",
        "Tystiolaeth Dim ffeiliau.",
        "Llinell amser",
        "gan y grŵp",  # MOJ's timeline byline
    ):
        assert said in words, said
    assert 'data-button-text="Rhagor o gamau"' in page.text  # MOJ's button menu, "More actions"
    for untranslated in ("What you can do now", "What the group wrote", "Show contact details", "by the group"):
        assert untranslated not in words

    in_english(client)
    english = client.get(claim_path(reference))
    assert '<html lang="en"' in english.text
    words = text_of(english.text)
    assert "What you can do now" in words and "What the group wrote" in words and "by the group" in words
    assert "Assigned to Nobody" in words and 'data-button-text="More actions"' in english.text


def test_a_decision_is_checked_and_made_in_welsh(app: Flask) -> None:
    (reference,) = file(app)
    officers_walk(app, reference, "accept")
    client, _ = signed_in(app, "reviewer")
    in_welsh(client)

    action = client.get(f"{claim_path(reference)}/actions/uphold")
    assert action.status_code == 200
    words = text_of(action.text)
    assert "Yn ôl i'r hawliad" in words and "Parhau" in words and "Canslo" in words

    check = post_action(client, reference, "uphold", action.text, check=False, reasons="Because.", remedy="waiver")
    assert check.status_code == 200 and heading(check.text) == "Gwirio eich penderfyniad"
    words = text_of(check.text)
    assert "Beth fydd yn cael ei anfon at y grŵp" in words and "Beth sy'n digwydd i'r clociau" in words
    assert "Newid eich atebion" in words
    assert "Decision on your claim" in words, "the group's e-mail, as it will be sent: in the group's language"

    page = text_of(followed(client, confirm(client, reference, "uphold", check.text)))
    assert "Llwyddiant" in page and "Mae e-bost ar ei ffordd at y grŵp yn" in page


def test_bulk_actions_say_what_they_did_in_welsh_and_in_english(app: Flask) -> None:
    references = file(app, 2)
    client, _ = signed_in(app, "triage", "reviewer")

    def assign(language: str) -> str:
        (in_welsh if language == "cy" else in_english)(client)
        shown = fields(client.get(QUEUE).text)
        posted: dict[str, Any] = {
            k: v for k, v in shown.items() if k in ("csrf_token", "back") or k.startswith("version-")
        }
        posted |= {"reference": references, "action": "assign", "assignee": "none"}
        return text_of(followed(client, client.post(f"{QUEUE}/bulk", data=posted)))

    assert "Cafodd 2 hawliad eu dad-neilltuo." in assign("cy")
    assert "2 claims unassigned." in assign("en")


def test_the_moj_ports_say_their_own_words_in_the_pages_language(app: Flask) -> None:
    template = (
        '{% from "moj/filter.html" import mojFilter %}{% from "moj/timeline.html" import mojTimeline %}'
        '{% from "moj/sub-navigation.html" import mojSubNavigation %}'
        '{% from "moj/button-menu.html" import mojButtonMenu %}'
        '{{ mojFilter({"heading": {"text": "F"}, "selectedFilters": {"heading": {"text": "S"}, "clearLink":'
        ' {"text": "C", "href": "/"}, "categories": [{"heading": {"text": "H"}, "items": [{"text": "x", "href": "/"}]}]},'
        ' "optionsHtml": ""}) }}'
        '{{ mojTimeline({"items": [{"label": {"text": "L"}, "byline": {"text": "Ann"},'
        ' "datetime": {"timestamp": "2026-06-14T14:01:00Z"}}]}) }}'
        '{{ mojSubNavigation({"items": []}) }}{{ mojButtonMenu({"items": [{"text": "a"}, {"text": "b"}]}) }}'
    )
    with app.test_request_context(headers={"Cookie": "language=cy"}):
        welsh = render_template_string(template)
    assert "Defnyddio'r hidlyddion" in text_of(welsh) and "Tynnu'r hidlydd hwn" in welsh
    assert "gan Ann" in text_of(welsh) and 'aria-label="Rhanbarth llywio eilaidd"' in welsh
    assert 'data-button-text="Camau gweithredu"' in welsh
    with app.test_request_context():
        english = render_template_string(template)
    assert "Apply filters" in english and "Remove this filter" in english and "by Ann" in text_of(english)
    assert 'aria-label="Secondary navigation region"' in english
    assert "data-button-text" not in english, "MOJ's script says its own default, Actions"
