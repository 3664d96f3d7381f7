"""The officers' forms. Like the public ones, they render fields and check CSRF; the services
check the answers. Action forms are generated from the workflow's inputs (guarantee.action_forms).
Every label is a lazy text, said in the reader's language when the form is drawn (issue 23)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
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
from workflows.words import N_


class SignInForm(FlaskForm):  # type: ignore[misc]
    email = StringField(_l("Email address"), widget=GovTextInput())
    password = PasswordField(_l("Password"), widget=GovPasswordInput())
    submit = SubmitField(_l("Sign in"), widget=GovSubmitInput())


class PasswordForm(FlaskForm):  # type: ignore[misc]
    current_password = PasswordField(_l("Current password"), widget=GovPasswordInput())
    new_password = PasswordField(_l("New password"), widget=GovPasswordInput())
    submit = SubmitField(_l("Change password"), widget=GovSubmitInput())


class CodeForm(FlaskForm):  # type: ignore[misc]
    """A six-digit code from the officer's authenticator app."""

    code = StringField(_l("Code from your authenticator app"), widget=GovTextInput())
    # Replacing a phone: a code from the one in use, too.
    current_code = StringField(_l("Code from the phone you use now"), widget=GovTextInput())
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())


class SignOutForm(FlaskForm):  # type: ignore[misc]
    submit = SubmitField(_l("Sign out"), widget=GovSubmitInput())


# A form whose only field is the CSRF token, for buttons written in the template.
CsrfForm = SignOutForm


class RegulationForm(FlaskForm):  # type: ignore[misc]
    title = StringField(_l("Title"), widget=GovTextInput())
    legal_reference = StringField(_l("Legal reference (optional)"), widget=GovTextInput())
    issuing_body = StringField(_l("Issuing body (optional)"), widget=GovTextInput())
    category = SelectField(
        _l("Category"),
        # Each category's label is marked English (workflows.vocabulary): the widget says it.
        choices=[SelectChoice(c, label(c)) for c in BARRIER_CATEGORIES],
        validate_choice=False,
        widget=GovSelect(),
    )
    challenge_route = TextAreaField(_l("How to challenge this rule (optional)"), widget=GovTextArea())
    submit = SubmitField(_l("Save"), widget=GovSubmitInput())


class PublishForm(FlaskForm):  # type: ignore[misc]
    """Publish a statistics release: how far it counts, and how it is protected."""

    period = RadioField(
        _l("Count the claims submitted up to the end of"),
        choices=[
            SelectChoice("yesterday", _l("Yesterday")),
            SelectChoice("month", _l("Last month")),
            SelectChoice("quarter", _l("The last full quarter")),
        ],
        default="yesterday",
        widget=GovRadioInput(),
    )
    method = RadioField(
        _l("How to protect the groups who made claims"),
        choices=[
            SelectChoice("disclosure_control", _l("Hide small numbers and round the rest (the ONS 10-5 rule)")),
            SelectChoice("differential_privacy", _l("Add random noise (differential privacy)")),
        ],
        default="disclosure_control",
        widget=GovRadioInput(),
    )
    submit = SubmitField(_l("Publish release"), widget=GovSubmitInput())


class AssignForm(FlaskForm):  # type: ignore[misc]
    assignee = HiddenField()
    version = HiddenField()


class NoteForm(FlaskForm):  # type: ignore[misc]
    note = TextAreaField(_l("Internal note (never shown to the group)"), widget=GovTextArea())
    submit = SubmitField(_l("Add note"), widget=GovSubmitInput())


# Classifying a claim at any time after it was accepted: the same answers as "Accept for review",
# either or both.
CLASSIFICATION = (
    Input("category", "choice", N_("Barrier category"), required=False, choices=BARRIER_CATEGORIES),
    Input("regulation", "regulation", N_("Regulation"), required=False),
)


def classification_form(*, regulations: list[tuple[int, str]], **kwargs: Any) -> FlaskForm:
    """Built while answering a request: its button in the reader's language."""
    return input_form(
        CLASSIFICATION,
        _("Change the classification"),
        "classify",
        hidden=("version",),
        regulations=regulations,
        officers=[],
        **kwargs,
    )
