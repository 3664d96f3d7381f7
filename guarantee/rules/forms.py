"""The rule pages' forms: they render the fields and check CSRF; the services check the answers."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField

from guarantee.widgets import GovSubmitInput, GovTextInput


class FollowForm(FlaskForm):  # type: ignore[misc]
    email = StringField("Your email address", widget=GovTextInput())
    submit = SubmitField("Follow this rule", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    submit = SubmitField("Confirm", widget=GovSubmitInput())
