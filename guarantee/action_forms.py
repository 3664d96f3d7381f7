"""Forms generated from the workflow: one field for each input a trigger names, for the group's
tracking page and the officers' console alike. The forms render fields and check CSRF; the
services check the answers, so every surface gives the same messages."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import Field, HiddenField, RadioField, SelectChoice, SelectField, StringField, SubmitField, TextAreaField

from guarantee.services.queue import as_id
from workflows import Input, Transition
from workflows.vocabulary import label


def action_form(
    transition: Transition,
    *,
    hidden: tuple[str, ...],
    submit: str | None = None,
    regulations: list[tuple[int, str]] | None = None,
    officers: list[tuple[int, str]] | None = None,
    **kwargs: Any,
) -> FlaskForm:
    """A form asking for exactly the input the workflow names for this trigger, with the
    ``hidden`` fields the page carries (the claim's version, or a key that sends it once)."""
    return input_form(
        transition.inputs,
        submit or transition.label,
        transition.trigger,
        hidden=hidden,
        regulations=regulations or [],
        officers=officers or [],
        **kwargs,
    )


def _field(spec: Input, regulations: list[tuple[int, str]], officers: list[tuple[int, str]]) -> dict[str, Field]:
    optional = not spec.required and "(optional)" not in spec.label
    title = f"{spec.label} (optional)" if optional else spec.label
    if spec.kind == "text":
        return {spec.name: TextAreaField(title, widget=GovTextArea())}
    if spec.kind == "choice":
        choices = [SelectChoice(c, label(c)) for c in spec.choices]
        return {spec.name: RadioField(title, choices=choices, validate_choice=False, widget=GovRadioInput())}
    if spec.kind == "regulation":
        entries = [SelectChoice("", "Add a new entry (below)")] + [SelectChoice(str(i), t) for i, t in regulations]
        return {
            spec.name: SelectField(
                f"{title}: from the catalogue", choices=entries, validate_choice=False, widget=GovSelect()
            ),
            f"{spec.name}_new": StringField("Or a new catalogue entry: its title", widget=GovTextInput()),
        }
    if spec.kind == "officer":
        names = [SelectChoice("", "Nobody yet")] + [SelectChoice(str(i), n) for i, n in officers]
        return {spec.name: SelectField(title, choices=names, validate_choice=False, widget=GovSelect())}
    if spec.kind == "claim_reference":
        return {spec.name: StringField(title, widget=GovTextInput())}
    if spec.kind == "evidence":
        return {spec.name: FileField(title, widget=GovFileInput())}
    raise AssertionError(f"no field for input kind {spec.kind}")


def input_form(
    inputs: tuple[Input, ...],
    submit: str,
    prefix: str,
    *,
    hidden: tuple[str, ...],
    regulations: list[tuple[int, str]],
    officers: list[tuple[int, str]],
    **kwargs: Any,
) -> FlaskForm:
    """A form with a field for each input, the hidden fields, and a submit button."""
    fields: dict[str, Any] = {name: HiddenField() for name in hidden}
    for spec in inputs:
        fields |= _field(spec, regulations, officers)
    fields["submit"] = SubmitField(submit, widget=GovSubmitInput())
    form_class = type(f"{prefix.title().replace('_', '')}Form", (FlaskForm,), fields)
    form: FlaskForm = form_class(prefix=prefix, **kwargs)
    return form


def answers(inputs: tuple[Input, ...], form: FlaskForm) -> dict[str, Any]:
    """A form's answers as a service's input (files are the caller's to read)."""
    data: dict[str, Any] = {}
    for spec in inputs:
        value = getattr(form, spec.name).data
        if spec.kind == "evidence":
            continue
        if spec.kind == "regulation":
            new = (getattr(form, f"{spec.name}_new").data or "").strip()
            chosen = as_id(value)
            data[spec.name] = chosen if chosen is not None else ({"title": new} if new else None)
        elif spec.kind == "officer":
            if as_id(value) is not None:
                data[spec.name] = as_id(value)
        elif value not in (None, ""):
            data[spec.name] = value
    return data
