"""The workflow's words in Welsh (issue 23): every text of workflows/ that a person reads (states,
clocks, steps, inputs, timeline labels, vocabularies) is marked for translation, each sentence made
from pieces is a whole sentence with named parts, and the "How a claim is handled" page, its diagram
and the API's workflow document read in the reader's language, while the English stays as it was.

The Welsh is the service's own catalogue (guarantee/translations), compiled by `make test`."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from babel.messages.extract import extract_from_file
from flask import Flask
from flask.testing import FlaskClient

from guarantee import create_app
from guarantee.i18n import babel, language, say
from tests.conftest import _app_config
from workflows import (
    CLOCKS,
    FIRER_NAMES,
    LATE_PAUSE_RULE,
    OFFICER_TIMELINE_LABELS,
    STATE_DESCRIPTIONS,
    STATE_GUIDANCE,
    STATE_LABELS,
    STATES,
    TIMELINE_LABELS,
    TRANSITIONS,
    Transition,
    diagram,
    remedies,
    vocabulary,
)
from workflows.sentences import FIRERS_AT_START, capitalised, form_hint, form_label, what_is_given, who_may
from workflows.words import Words

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "guarantee" / "static"
WELSH_DIAGRAM = STATIC / diagram.FILE_NAMES["cy"]
REDRAW = "draw the Welsh diagram again: flask guarantee diagram --language cy (after make translations)"


def marked() -> set[str]:
    """Every text workflows/ marks, as `make translations` extracts it (N_ and words)."""
    found: set[str] = set()
    for path in sorted((ROOT / "workflows").glob("*.py")):
        for _line, message, _comments, _context in extract_from_file(
            "python", str(path), keywords={"N_": None, "words": None}
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def workflow_texts() -> Iterator[str]:
    """Every text of workflows/ a person reads."""
    yield from STATE_LABELS.values()
    yield from STATE_GUIDANCE.values()
    yield from STATE_DESCRIPTIONS.values()
    yield from FIRER_NAMES.values()
    yield from FIRERS_AT_START.values()
    yield from TIMELINE_LABELS.values()
    yield from OFFICER_TIMELINE_LABELS.values()
    yield LATE_PAUSE_RULE
    for clock in CLOCKS.values():
        yield from (t for t in (clock.label, clock.due_phrase, clock.late_phrase, clock.phrase) if t)
    for transition in TRANSITIONS:
        yield transition.label
        for spec in transition.inputs:
            yield from (t for t in (spec.label, spec.hint, spec.not_asked, spec.when_needed) if t)
            if spec.asked_if:
                yield spec.asked_if[1]
    yield from diagram.FIRERS.values()
    yield remedies.QUESTION
    yield from remedies.ANSWERS.values()
    yield from (vocabulary.label(slug) for slug in every_slug())


def every_slug() -> set[str]:
    """Every slug of every vocabulary a page may name, but the languages: each is named in its own
    words ("Cymraeg"), never by its slug."""
    return {
        slug
        for name, values in vars(vocabulary).items()
        if name.isupper() and isinstance(values, tuple) and name != "LANGUAGES"
        for slug in values
    }


def unmarked_parts(text: Any, known: set[str]) -> list[str]:
    """The parts of a sentence that could not be said in Welsh: a plain text that is not marked,
    or a ``Words`` whose sentence is not marked (its parts are read in turn)."""
    if isinstance(text, Words):
        found = [] if text.msgid in known else [text.msgid]
        for value in text.params.values():
            found += unmarked_parts(value, known) if isinstance(value, str) else []
        return found
    return [] if text in known else [text]


def sentences_of(transition: Transition) -> list[str]:
    """Every sentence workflows.sentences makes for a step: who may take it, what it asks for, and
    each input's label and hint on either kind of form."""
    made = [who_may(transition), *what_is_given(transition)]
    for spec in transition.inputs:
        made += [form_label(spec, officers_form=True), form_label(spec, officers_form=False)]
        hint = form_hint(spec, transition)
        made += [hint] if hint else []
    return made


@pytest.fixture(scope="module")
def service() -> Flask:
    """The service, for what needs no database: saying its words, drawing its diagram."""
    made: Flask = create_app(_app_config("sqlite://"))
    return made


@pytest.fixture
def cy(service: Flask) -> Iterator[None]:
    """Say everything in Welsh, as the service's catalogue has it."""
    with service.test_request_context(), language("cy"):
        yield


# --- marked for translation, English as it was ------------------------------------------------------


def test_every_text_of_the_workflow_a_person_reads_is_marked_for_translation() -> None:
    known = marked()
    unmarked = sorted({text for text in workflow_texts() if text not in known})
    assert not unmarked, f"not marked with N_: {unmarked}"


def test_every_slug_of_every_vocabulary_has_its_own_label_and_reads_as_before() -> None:
    """A slug's label is written out, so that it is extracted; where no better words were written,
    it is the slug capitalised, with spaces for underscores, as pages always said it."""
    written_otherwise = {*vocabulary.REGIONS, *vocabulary.REMEDIES_SOUGHT, "england"}
    for slug in every_slug():
        assert slug in vocabulary._LABELS, f"{slug} has no label of its own"
        if slug not in written_otherwise:
            assert vocabulary.label(slug) == slug.replace("_", " ").capitalize(), slug
    assert vocabulary.label("north_east") == "North East (England)"
    assert vocabulary.label("waiver") == "A waiver: permission not to follow the rule in your case"


def test_each_firer_at_the_start_of_a_sentence_is_its_name_with_a_capital() -> None:
    assert {firer: capitalised(name) for firer, name in FIRER_NAMES.items()} == FIRERS_AT_START


def test_when_an_input_is_needed_is_said_from_its_own_data() -> None:
    """``Input.when_needed`` is written whole, for the translation; it says what ``required_when`` is."""
    for transition in TRANSITIONS:
        for spec in transition.inputs:
            if spec.required_when is None:
                assert not spec.when_needed, spec.name
                continue
            field, value = spec.required_when
            other = next(i for i in transition.inputs if i.name == field)
            assert spec.when_needed == f"the {other.label.lower()} is {vocabulary.label(value).lower()}"


@pytest.mark.parametrize("transition", TRANSITIONS, ids=lambda t: t.trigger)
def test_each_sentence_about_a_step_is_made_of_marked_whole_sentences(transition: Transition) -> None:
    """Welsh orders and mutates words differently: a sentence is never glued from English pieces,
    but is a marked sentence with named parts, each part itself marked."""
    known = marked()
    for sentence in sentences_of(transition):
        assert unmarked_parts(sentence, known) == [], sentence


def test_the_sentences_read_in_english_as_they_always_did() -> None:
    steps = {t.trigger: t for t in TRANSITIONS}
    assert who_may(steps["accept"]) == "A triage officer or an administrator."
    assert who_may(steps["appeal"]) == "The group, before the time to appeal runs out."
    assert who_may(steps["information_lapsed"]) == (
        "The service itself, once the time to answer a question has run out."
    )
    assert who_may(steps["allow_appeal"]) == (
        "A member of the appeal panel or an administrator, if they made no earlier decision on the claim."
    )
    assert what_is_given(steps["decline"]) == [
        "Reason",
        "Explanation (shown to the group)",
        "Reference of the claim this duplicates (needed when the reason is duplicate)",
    ]
    duplicate_of = steps["decline"].inputs[2]
    assert form_hint(duplicate_of, steps["decline"]) == "Needed when the reason is duplicate."
    summary = steps["uphold"].inputs[2]
    assert what_is_given(steps["uphold"])[2] == (
        "Summary for the public register (asked only when the group agreed to a decision statement being "
        "published, seen only by officers)"
    )
    assert form_label(summary, officers_form=True) == "Summary for the public register"


# --- in Welsh -----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("cy")
def test_each_sentence_about_a_step_is_said_in_welsh() -> None:
    for transition in TRANSITIONS:
        for sentence in sentences_of(transition):
            welsh = say(sentence)
            assert welsh != sentence, f"not translated: {sentence}"
            assert not re.search(r"%\(\w+\)", welsh), welsh


@pytest.mark.usefixtures("cy")
def test_every_workflow_text_is_said_in_welsh() -> None:
    untranslated = sorted({text for text in workflow_texts() if say(text) == text})
    assert not untranslated, untranslated


def main_texts(html: str) -> list[str]:
    """Each text of the page's main part a person reads or hears (its alternative texts too)."""
    main = lxml.html.fromstring(html).xpath("//main")[0]
    return [" ".join(t.split()) for t in main.xpath(".//text() | .//@alt | .//@aria-label") if t.strip()]


def test_the_process_page_reads_in_welsh(client: FlaskClient, app: Flask) -> None:
    welsh = client.get("/process", headers={"Accept-Language": "cy"})
    english = client.get("/process", headers={"Accept-Language": "en"})
    assert welsh.status_code == english.status_code == 200
    assert '<html lang="cy"' in welsh.text
    assert "<title>Sut mae hawliad yn cael ei drin" in welsh.text
    said_in_english = set(main_texts(english.text))
    left = [text for text in main_texts(welsh.text) if text in said_in_english and not text.isdigit()]
    assert not left, f"English left on the Welsh page: {left}"
    with app.test_request_context(), language("cy"):
        for transition in TRANSITIONS:
            assert say(who_may(transition)) in main_texts(welsh.text)


def test_the_process_page_shows_the_diagram_drawn_in_its_language(client: FlaskClient) -> None:
    for code, name in (("en", "workflow.svg"), ("cy", "workflow.cy.svg")):
        page = client.get("/process", headers={"Accept-Language": code}).text
        image = re.search(r'<img src="([^"]+)" alt="([^"]+)"', page)
        assert image, "the page shows no diagram"
        assert image.group(1) == f"/static/{name}"
        assert f'href="/static/{name}"' in page, "the full-size link opens the same diagram"
        served = client.get(image.group(1))
        assert served.status_code == 200 and served.mimetype == "image/svg+xml", name
        served.close()


def test_the_committed_welsh_diagram_was_drawn_from_the_workflow_and_its_welsh_as_they_are_now(service: Flask) -> None:
    assert WELSH_DIAGRAM.exists(), REDRAW
    svg = WELSH_DIAGRAM.read_text(encoding="utf-8")
    found = re.search(re.escape(diagram.FINGERPRINT_PREFIX.replace("-", "&#45;")) + r"([0-9a-f]{64})", svg)
    assert found, REDRAW
    with service.app_context(), language("cy"):
        assert found.group(1) == diagram.fingerprint(say), REDRAW
        assert say(STATE_LABELS["submitted"]) in svg.replace("&#39;", "'")
    for state in STATES:
        assert f'id="state_{state}"' in svg


def test_the_cli_writes_the_welsh_diagram_source_and_the_english_as_before(service: Flask, tmp_path: Path) -> None:
    runner = service.test_cli_runner()
    welsh, english = tmp_path / "workflow.cy.dot", tmp_path / "workflow.dot"
    assert runner.invoke(args=["guarantee", "diagram", "--dot", "--language", "cy", "-o", str(welsh)]).exit_code == 0
    assert runner.invoke(args=["guarantee", "diagram", "--dot", "--output", str(english)]).exit_code == 0
    assert english.read_text(encoding="utf-8") == diagram.to_dot()
    source = welsh.read_text(encoding="utf-8")
    with service.app_context(), language("cy"):
        assert source == diagram.to_dot(say)
        for transition in TRANSITIONS:
            assert say(transition.label).lower() in source.lower()
    assert "Accept for review" not in source and source != diagram.to_dot()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed (apt-get install graphviz)")
def test_the_cli_draws_the_welsh_diagram_with_graphviz(service: Flask, tmp_path: Path) -> None:
    output = tmp_path / "workflow.cy.svg"
    result = service.test_cli_runner().invoke(
        args=["guarantee", "diagram", "--language", "cy", "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    svg = output.read_text(encoding="utf-8").replace("&#39;", "'")
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    with service.app_context(), language("cy"):
        assert diagram.fingerprint(say) in svg
        assert say(TRANSITIONS[0].label) in svg


def test_the_cli_refuses_a_welsh_diagram_without_the_welsh_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without it the Welsh diagram would be drawn in English, and look drawn."""
    # Flask-Babel keeps the catalogues it read for every app of the process: forget them here.
    monkeypatch.setattr(babel.domain_instance, "cache", {})
    app = create_app(_app_config("sqlite://", BABEL_TRANSLATION_DIRECTORIES=str(tmp_path)))
    output = tmp_path / "workflow.cy.svg"
    result = app.test_cli_runner().invoke(args=["guarantee", "diagram", "--language", "cy", "--dot", "-o", str(output)])
    assert result.exit_code == 1
    assert "catalogue is not compiled" in result.output
    assert not output.exists()


def test_the_api_says_the_workflow_labels_in_the_language_asked_for_with_the_same_names(client: FlaskClient) -> None:
    english = client.get("/api/v1/workflow").get_json()
    welsh = client.get("/api/v1/workflow", headers={"Accept-Language": "cy"}).get_json()

    def names(document: Any) -> Any:
        """Everything but the labels: names, slugs, numbers and flags."""
        if isinstance(document, dict):
            return {k: names(v) for k, v in document.items() if k != "label"}
        if isinstance(document, list):
            return [names(v) for v in document]
        return document

    assert names(welsh) == names(english)
    assert [s["label"] for s in english["states"]] == [STATE_LABELS[s] for s in STATES]
    assert [t["label"] for t in english["triggers"]] == [t.label for t in TRANSITIONS]
    assert welsh["states"][0]["label"] == "Wedi'i gyflwyno"
    welsh_labels = [s["label"] for s in welsh["states"]] + [c["label"] for c in welsh["clocks"]]
    welsh_labels += [t["label"] for t in welsh["triggers"]] + [
        i["label"] for t in welsh["triggers"] for i in t["inputs"]
    ]
    english_labels = [s["label"] for s in english["states"]] + [c["label"] for c in english["clocks"]]
    english_labels += [t["label"] for t in english["triggers"]]
    english_labels += [i["label"] for t in english["triggers"] for i in t["inputs"]]
    assert not set(welsh_labels) & set(english_labels)
