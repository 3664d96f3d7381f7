"""The officers' forms. Like the public ones, they render fields and check CSRF; the services
check the answers. Action forms are generated from the workflow's inputs."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)

from guarantee.services.queue import as_id
from workflows import Input, Transition
from workflows.vocabulary import BARRIER_CATEGORIES, label


class SignInForm(FlaskForm):  # type: ignore[misc]
    email = StringField("Email address", widget=GovTextInput())
    password = PasswordField("Password", widget=GovPasswordInput())
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class PasswordForm(FlaskForm):  # type: ignore[misc]
    current_password = PasswordField("Current password", widget=GovPasswordInput())
    new_password = PasswordField("New password", widget=GovPasswordInput())
    submit = SubmitField("Change password", widget=GovSubmitInput())


class CodeForm(FlaskForm):  # type: ignore[misc]
    """A six-digit code from the officer's authenticator app."""

    code = StringField("Code from your authenticator app", widget=GovTextInput())
    # Replacing a phone: a code from the one in use, too.
    current_code = StringField("Code from the phone you use now", widget=GovTextInput())
    submit = SubmitField("Continue", widget=GovSubmitInput())


class SignOutForm(FlaskForm):  # type: ignore[misc]
    submit = SubmitField("Sign out", widget=GovSubmitInput())


# A form whose only field is the CSRF token, for buttons written in the template.
CsrfForm = SignOutForm


class RegulationForm(FlaskForm):  # type: ignore[misc]
    title = StringField("Title", widget=GovTextInput())
    legal_reference = StringField("Legal reference (optional)", widget=GovTextInput())
    issuing_body = StringField("Issuing body (optional)", widget=GovTextInput())
    category = SelectField(
        "Category",
        choices=[SelectChoice(c, label(c)) for c in BARRIER_CATEGORIES],
        validate_choice=False,
        widget=GovSelect(),
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class PublishForm(FlaskForm):  # type: ignore[misc]
    """Publish a statistics release: how far it counts, and how it is protected."""

    period = RadioField(
        "Count the claims submitted up to the end of",
        choices=[
            SelectChoice("yesterday", "Yesterday"),
            SelectChoice("month", "Last month"),
            SelectChoice("quarter", "The last full quarter"),
        ],
        default="yesterday",
        widget=GovRadioInput(),
    )
    method = RadioField(
        "How to protect the groups who made claims",
        choices=[
            SelectChoice("disclosure_control", "Hide small numbers and round the rest (the ONS 10-5 rule)"),
            SelectChoice("differential_privacy", "Add random noise (differential privacy)"),
        ],
        default="disclosure_control",
        widget=GovRadioInput(),
    )
    submit = SubmitField("Publish release", widget=GovSubmitInput())


class AssignForm(FlaskForm):  # type: ignore[misc]
    assignee = HiddenField()
    version = HiddenField()


class NoteForm(FlaskForm):  # type: ignore[misc]
    note = TextAreaField("Internal note (never shown to the group)", widget=GovTextArea())
    submit = SubmitField("Add note", widget=GovSubmitInput())


# Classifying a claim at any time after it was accepted: the same answers as "Accept for review",
# either or both.
CLASSIFICATION = (
    Input("category", "choice", "Barrier category", required=False, choices=BARRIER_CATEGORIES),
    Input("regulation", "regulation", "Regulation", required=False),
)


def action_form(
    transition: Transition,
    *,
    regulations: list[tuple[int, str]],
    officers: list[tuple[int, str]],
    **kwargs: Any,
) -> FlaskForm:
    """A form asking for exactly the input the workflow names for this trigger."""
    return input_form(
        transition.inputs,
        transition.label,
        transition.trigger,
        regulations=regulations,
        officers=officers,
        **kwargs,
    )


def classification_form(*, regulations: list[tuple[int, str]], **kwargs: Any) -> FlaskForm:
    return input_form(
        CLASSIFICATION, "Change the classification", "classify", regulations=regulations, officers=[], **kwargs
    )


def input_form(
    inputs: tuple[Input, ...],
    submit: str,
    prefix: str,
    *,
    regulations: list[tuple[int, str]],
    officers: list[tuple[int, str]],
    **kwargs: Any,
) -> FlaskForm:
    """A form with a field for each input, and the version of the claim it was drawn from."""
    fields: dict[str, Any] = {"version": HiddenField()}
    for spec in inputs:
        title = spec.label if spec.required else f"{spec.label} (optional)"
        if spec.kind == "text":
            fields[spec.name] = TextAreaField(title, widget=GovTextArea())
        elif spec.kind == "choice":
            choices = [SelectChoice(c, label(c)) for c in spec.choices]
            fields[spec.name] = RadioField(title, choices=choices, validate_choice=False, widget=GovRadioInput())
        elif spec.kind == "regulation":
            choices = [SelectChoice("", "Add a new entry (below)")] + [SelectChoice(str(i), t) for i, t in regulations]
            fields[spec.name] = SelectField(
                f"{title}: from the catalogue", choices=choices, validate_choice=False, widget=GovSelect()
            )
            fields[f"{spec.name}_new"] = StringField("Or a new catalogue entry: its title", widget=GovTextInput())
        elif spec.kind == "officer":
            choices = [SelectChoice("", "Nobody yet")] + [SelectChoice(str(i), n) for i, n in officers]
            fields[spec.name] = SelectField(title, choices=choices, validate_choice=False, widget=GovSelect())
        elif spec.kind == "claim_reference":
            fields[spec.name] = StringField(title, widget=GovTextInput())
    fields["submit"] = SubmitField(submit, widget=GovSubmitInput())
    form_class = type(f"Officer{prefix.title().replace('_', '')}Form", (FlaskForm,), fields)
    form: FlaskForm = form_class(prefix=prefix, **kwargs)
    return form


def action_input(transition: Transition, form: FlaskForm) -> dict[str, Any]:
    """The form's answers as the service's input for the trigger."""
    return answers(transition.inputs, form)


def answers(inputs: tuple[Input, ...], form: FlaskForm) -> dict[str, Any]:
    """A form's answers as a service's input."""
    data: dict[str, Any] = {}
    for spec in inputs:
        value = getattr(form, spec.name).data
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
