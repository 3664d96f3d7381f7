"""govuk-frontend-wtf's widgets, rendered through ``component()`` (guarantee.components).

Each of its widgets renders a one-line template that calls a GOV.UK Frontend macro with the
parameters it mapped from the field. Rendering that template runs every context processor for
every field; these subclasses call the same macro with the same parameters through the pages'
``component()``, so the markup is the same byte for byte. What a person typed is never kept: a
field whose parameters hold a typed value is rendered each time, and only what the service itself
wrote (labels, hints, choices, which one is chosen, our error messages) is kept.

Every text is said in the reader's language (issue 23): a label, hint or choice marked for
translation (a form's lazy text, or a marked English text such as a workflow's label), the error a
service gave (``Words``), and the components' own English ("Error:" before a message, the password
input's "Show" and "Hide", the date input's "Day", "Month" and "Year").
"""

from __future__ import annotations

from typing import Any, cast

from flask import current_app
from flask_babel import gettext as _
from govuk_frontend_wtf import wtforms_widgets as wtf
from markupsafe import Markup

from guarantee.components import Components
from guarantee.i18n import ENGLISH, current_language, say


def _said(part: Any, key: str = "text") -> None:
    """``part[key]``, a text the service wrote, in the reader's language (Markup is left alone)."""
    if isinstance(part, dict) and isinstance(part.get(key), str):
        part[key] = say(part[key])


def said(params: dict[str, Any]) -> dict[str, Any]:
    """The component's parameters with their texts in the reader's language."""
    _said(params.get("label"))
    _said(params.get("hint"))
    fieldset = params.get("fieldset")
    if isinstance(fieldset, dict):
        _said(fieldset.get("legend"))
    for item in params.get("items") or ():
        _said(item)
        if isinstance(item, dict):
            _said(item.get("label"), "text")
            _said(item.get("hint"))
    error = params.get("errorMessage")
    if isinstance(error, dict):
        error = params["errorMessage"] = dict(error)
        _said(error)
        # GOV.UK's "Error:" before the message; the same English as the macro's own default.
        error.setdefault("visuallyHiddenText", _("Error"))
    return params


class _Component:
    macro: str

    def render(self, params: dict[str, Any]) -> Markup:
        component = cast(Components, current_app.jinja_env.globals["component"])
        params = self.translated(said(params))
        return component(self.macro, params, keep=not params.get("value"))

    def translated(self, params: dict[str, Any]) -> dict[str, Any]:
        """The component's own English, in the reader's language (none by default)."""
        return params


class GovTextInput(_Component, wtf.GovTextInput):
    macro = "govukInput"


class GovPasswordInput(_Component, wtf.GovPasswordInput):
    macro = "govukPasswordInput"

    def translated(self, params: dict[str, Any]) -> dict[str, Any]:
        # Given only in another language than English: any text given adds data-i18n attributes,
        # and the English page keeps the macro's defaults, byte for byte.
        if current_language() != ENGLISH:
            for key, text in (
                ("showPasswordText", _("Show")),
                ("hidePasswordText", _("Hide")),
                ("showPasswordAriaLabelText", _("Show password")),
                ("hidePasswordAriaLabelText", _("Hide password")),
                ("passwordShownAnnouncementText", _("Your password is visible")),
                ("passwordHiddenAnnouncementText", _("Your password is hidden")),
            ):
                params.setdefault(key, text)
        return params


class GovTextArea(_Component, wtf.GovTextArea):
    macro = "govukTextarea"


class GovSelect(_Component, wtf.GovSelect):
    macro = "govukSelect"


class GovRadioInput(_Component, wtf.GovRadioInput):
    macro = "govukRadios"


class GovCheckboxesInput(_Component, wtf.GovCheckboxesInput):
    macro = "govukCheckboxes"


class GovFileInput(_Component, wtf.GovFileInput):
    macro = "govukFileUpload"


class GovSubmitInput(_Component, wtf.GovSubmitInput):
    macro = "govukButton"


class GovDateInput(_Component, wtf.GovDateInput):
    """Day, month and year, each box labelled in the reader's language."""

    macro = "govukDateInput"

    def translated(self, params: dict[str, Any]) -> dict[str, Any]:
        names = {"Day": _("Day"), "Month": _("Month"), "Year": _("Year")}
        params["items"] = [
            {**item, "label": names.get(item.get("label"), item.get("label"))} for item in params.get("items") or ()
        ]
        return params
