"""A claim's state is shown as a GOV.UK tag coloured by what it means (its tone, workflows.STATE_TONES),
the same on the console and on the group's pages, and no template names a state in tag markup."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from jinja2 import Environment

from guarantee.context import unit_of_work
from guarantee.pages import init_app
from guarantee.services.claims import submit_claim
from tests.helpers import VALID_SUBMISSION, Cast, walk
from workflows import STATE_LABELS, STATE_TONES, STATES, TONES

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted((ROOT / "guarantee").rglob("templates/**/*.html"))
# GOV.UK Frontend 6's tag colours: the plain tag (blue) and its modifiers.
GOVUK_TAG_COLOURS = {
    "",
    *(f"govuk-tag--{c}" for c in ("grey", "green", "teal", "purple", "magenta", "red", "orange", "yellow")),
}


@pytest.fixture(scope="module")
def jinja() -> Environment:
    app = Flask(__name__)
    init_app(app)
    return app.jinja_env


def test_every_state_has_a_tone() -> None:
    assert set(STATE_TONES) == set(STATES)
    assert set(STATE_TONES.values()) <= set(TONES)


def test_every_tone_has_a_govuk_tag_colour_of_its_own(jinja: Environment) -> None:
    colours: dict[str, str] = jinja.get_template("_tag.html").module.TONE_CLASSES
    assert set(colours) == set(TONES), "each tone, and only a tone, has a colour"
    assert set(colours.values()) <= GOVUK_TAG_COLOURS
    assert len(set(colours.values())) == len(colours), "two tones that look the same would mean the same"


@pytest.mark.parametrize(
    ("state", "colour"),
    [
        ("submitted", ""),
        ("under_review", ""),
        ("awaiting_information", "govuk-tag--yellow"),
        ("upheld", "govuk-tag--green"),
        ("not_upheld", "govuk-tag--red"),
        ("closed", "govuk-tag--red"),
        ("appealed", "govuk-tag--purple"),
        ("resolved", "govuk-tag--grey"),
        ("withdrawn", "govuk-tag--grey"),
        ("lapsed", "govuk-tag--grey"),
    ],
)
def test_a_state_tag_is_coloured_by_what_the_state_means(jinja: Environment, state: str, colour: str) -> None:
    html = jinja.from_string('{% from "_tag.html" import state_tag %}{{ state_tag(state) }}').render(state=state)
    classes = "govuk-tag" + (f" {colour}" if colour else "")
    assert html == f'<strong class="{classes}">{STATE_LABELS[state]}</strong>'


def test_a_state_tag_keeps_classes_of_its_own(jinja: Environment) -> None:
    html = jinja.from_string('{% from "_tag.html" import state_tag %}{{ state_tag("upheld", "app-x") }}').render()
    assert html == '<strong class="govuk-tag govuk-tag--green app-x">Upheld</strong>'


def test_a_state_the_workflow_does_not_know_is_an_error_not_a_tag(jinja: Environment) -> None:
    with pytest.raises(KeyError):
        jinja.from_string('{% from "_tag.html" import state_tag %}{{ state_tag("archived") }}').render()


def _tag_markup(text: str) -> list[str]:
    """Each tag in a template: the arguments of a tag macro's call, or a tag element's contents."""
    found = []
    for call in re.finditer(r"\b(?:tag|state_tag|govukTag|mojBadge)\(", text):
        depth, end = 1, call.end()
        while depth and end < len(text):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
        found.append(text[call.end() : end - 1])
    found += re.findall(r'class="(?:govuk-tag|moj-badge)[^"]*"[^>]*>(.*?)</', text, re.S)
    return found


def test_no_template_names_a_state_or_its_label_in_tag_markup() -> None:
    names = {*STATES, *(label.lower() for label in STATE_LABELS.values())}
    problems = []
    for template in TEMPLATES:
        if template == ROOT / "guarantee" / "templates" / "_tag.html":
            continue  # where state_tag turns a state into its label and colour
        code = re.sub(r"{#.*?#}", "", template.read_text(), flags=re.S)  # not the examples in comments
        for markup in _tag_markup(code):
            literals = {s.lower() for s in re.findall(r"\"([^\"]*)\"|'([^']*)'", markup) for s in s if s}
            literals |= {markup.strip().lower()}
            if literals & names or re.search(r"state_labels?\b|\.state_label\b", markup):
                problems.append(f"{template.relative_to(ROOT)}: {markup.strip()}")
    assert not problems, "a state is shown as a tag with state_tag(state) from _tag.html:\n" + "\n".join(problems)


def test_the_tag_grep_finds_what_it_looks_for() -> None:
    assert _tag_markup('{{ tag("Upheld", "govuk-tag--green") }}') == ['"Upheld", "govuk-tag--green"']
    assert _tag_markup("{{ govukTag({'text': claim.state_label}) }}") == ["{'text': claim.state_label}"]
    assert _tag_markup('<strong class="govuk-tag govuk-tag--red">Not upheld</strong>') == ["Not upheld"]


def test_the_tracking_page_colours_the_state_as_the_console_does(app: Flask, client: Any) -> None:
    with app.app_context(), unit_of_work() as ctx:
        filed = submit_claim(ctx, VALID_SUBMISSION)
        walk(ctx, Cast(ctx), filed.reference, "accept", "request_information")
    page = client.get(f"/track/{filed.reference}?token={filed.tracking_token}", follow_redirects=True)
    assert page.status_code == 200
    assert '<strong class="govuk-tag govuk-tag--yellow">Waiting for information from the group</strong>' in page.text
