"""The rule pages' forms: they render the fields and check CSRF; the services check the answers."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField

from guarantee.widgets import GovSubmitInput, GovTextInput


class FollowForm(FlaskForm):  # type: ignore[misc]
    email = StringField(_l("Your email address"), widget=GovTextInput())
    submit = SubmitField(_l("Follow this rule"), widget=GovSubmitInput())


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    submit = SubmitField(_l("Confirm"), widget=GovSubmitInput())
