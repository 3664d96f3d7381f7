"""govuk-frontend-wtf's widgets, rendered through ``component()`` (guarantee.components).

Each of its widgets renders a one-line template that calls a GOV.UK Frontend macro with the
parameters it mapped from the field. Rendering that template runs every context processor for
every field; these subclasses call the same macro with the same parameters through the pages'
``component()``, so the markup is the same byte for byte. What a person typed is never kept: a
field whose parameters hold a typed value is rendered each time, and only what the service itself
wrote (labels, hints, choices, which one is chosen, our error messages) is kept.
"""

from __future__ import annotations

from typing import Any, cast

from flask import current_app
from govuk_frontend_wtf import wtforms_widgets as wtf
from markupsafe import Markup

from guarantee.components import Components


class _Component:
    macro: str

    def render(self, params: dict[str, Any]) -> Markup:
        component = cast(Components, current_app.jinja_env.globals["component"])
        return component(self.macro, params, keep=not params.get("value"))


class GovTextInput(_Component, wtf.GovTextInput):
    macro = "govukInput"


class GovPasswordInput(_Component, wtf.GovPasswordInput):
    macro = "govukPasswordInput"


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
