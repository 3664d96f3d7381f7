"""The officers' forms. Like the public ones, they render fields and check CSRF; the services
check the answers. Action forms are generated from the workflow's inputs (guarantee.action_forms)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
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

from guarantee.action_forms import input_form
from guarantee.widgets import (
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from workflows import Input
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
    challenge_route = TextAreaField("How to challenge this rule (optional)", widget=GovTextArea())
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


def classification_form(*, regulations: list[tuple[int, str]], **kwargs: Any) -> FlaskForm:
    return input_form(
        CLASSIFICATION,
        "Change the classification",
        "classify",
        hidden=("version",),
        regulations=regulations,
        officers=[],
        **kwargs,
    )
