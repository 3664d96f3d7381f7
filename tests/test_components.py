"""GOV.UK components kept once rendered give the same markup as the component's own macro."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from govuk_frontend_wtf import wtforms_widgets as wtf
from markupsafe import Markup
from wtforms import (
    FileField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)

from guarantee import create_app
from guarantee.components import Components
from guarantee.widgets import (
    GovCheckboxesInput,
    GovFileInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from tests.conftest import _app_config


@pytest.fixture(scope="module")
def app() -> Flask:
    """The pages' Jinja environment; rendering a component reads no database."""
    made: Flask = create_app(_app_config("sqlite://"))
    return made


def rendered_by_the_macro(app: Flask, source: str, **context: Any) -> str:
    with app.app_context():
        return app.jinja_env.from_string(source).render(**context)


SELECT = {
    "id": "rule",
    "name": "rule",
    "label": {"text": "Rule"},
    "items": [
        {"value": "", "text": "All rules"},
        {"value": "food", "text": "Food premises registration", "selected": True},
        {"value": "dbs", "text": "Enhanced DBS checks & barred lists"},
    ],
    "errorMessage": {"text": "Choose a rule from the list"},
    "classes": "govuk-!-width-full",
}


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("govukSelect", SELECT),
        ("govukSelect", {**SELECT, "errorMessage": None}),
        (
            "govukCheckboxes",
            {"idPrefix": "state", "name": "state", "items": [{"value": "submitted", "text": "Submitted"}]},
        ),
        ("govukCharacterCount", {"name": "summary", "id": "summary", "maxlength": 200, "label": {"text": "Summary"}}),
    ],
)
def test_a_kept_component_is_the_macros_markup_byte_for_byte(app: Flask, name: str, params: dict[str, Any]) -> None:
    folder = {"govukSelect": "select", "govukCheckboxes": "checkboxes", "govukCharacterCount": "character-count"}
    expected = rendered_by_the_macro(
        app,
        f'{{% from "govuk_frontend_jinja/components/{folder[name]}/macro.html" import {name} %}}{{{{ {name}(p) }}}}',
        p=params,
    )
    with app.app_context():
        first = rendered_by_the_macro(app, "{{ component(name, p) }}", name=name, p=params)
        again = rendered_by_the_macro(app, "{{ component(name, p) }}", name=name, p=params)
    assert first == again == expected


def test_html_and_text_with_the_same_characters_are_told_apart(app: Flask) -> None:
    components = Components(app.jinja_env)
    as_text = {"text": "<b>Rule</b>"}
    as_html = {"html": Markup("<b>Rule</b>")}
    with app.app_context():
        escaped = components("govukHint", as_text)
        bold = components("govukHint", as_html)
        plain = components("govukHint", {"html": "<b>Rule</b>"})  # a str given as html is html too
    assert "&lt;b&gt;Rule&lt;/b&gt;" in escaped
    assert "<b>Rule</b>" in bold and "<b>Rule</b>" in plain
    assert len(components.rendered) == 3


def test_only_plain_parameters_are_kept_and_the_oldest_go_first(app: Flask) -> None:
    components = Components(app.jinja_env, kept=2)
    with app.app_context():
        components("govukHint", {"text": object.__name__, "attributes": {"data-x": object()}})
        assert len(components.rendered) == 0, "an object that is not plain data is rendered, not kept"
        for text in ("one", "two", "three"):
            components("govukHint", {"text": text})
    assert [key.rsplit(b'"', 2)[-2] for key in components.rendered] == [b"two", b"three"]


def test_a_name_that_is_not_a_govuk_component_is_refused(app: Flask) -> None:
    with pytest.raises(ValueError, match=r"not a GOV\.UK Frontend component macro"):
        Components(app.jinja_env)("../../secrets", {})


class _Form(FlaskForm):
    """One field of each widget the service's forms use."""

    name = StringField("Name of your group", widget=GovTextInput(), description="As people know it")
    password = PasswordField("Password", widget=GovPasswordInput())
    story = TextAreaField("How it blocks you", widget=GovTextArea())
    sector = SelectField(
        "Sector", choices=[SelectChoice("", "Any"), SelectChoice("health", "Health")], widget=GovSelect()
    )
    region = RadioField(
        "Region", choices=[SelectChoice("london", "London"), SelectChoice("wales", "Wales")], widget=GovRadioInput()
    )
    states = SelectMultipleField(
        "States", choices=[SelectChoice("submitted", "Submitted")], widget=GovCheckboxesInput()
    )
    evidence = FileField("Evidence", widget=GovFileInput())
    send = SubmitField("Send", widget=GovSubmitInput())


def test_each_form_widget_gives_govuk_frontend_wtfs_markup_and_keeps_nothing_typed(app: Flask) -> None:
    typed = {"name": "Friends of Elm Park", "story": "The hall's rules", "region": "wales", "states": "submitted"}
    with app.test_request_context(method="POST", data=typed):
        app.config["WTF_CSRF_ENABLED"] = False
        form = _Form()
        form.validate()
        components: Components = app.jinja_env.globals["component"]  # type: ignore[assignment]
        components.rendered.clear()
        for field in form:
            theirs = getattr(wtf, type(field.widget).__name__)()
            params = {"classes": "govuk-!-width-one-half"} if field.name == "name" else {}
            assert str(field(params=params)) == str(theirs(field, params=params)), field.name
            assert str(field(params=params)) == str(theirs(field, params=params)), f"{field.name}, kept"
    kept = b"".join(components.rendered)
    assert b"wales" in kept and b"Region" in kept  # the choices and which is chosen: the service's words
    assert b"Elm Park" not in kept and b"hall" not in kept  # what the group typed: rendered, never kept
