"""Forms generated from the workflow: one field for each input a trigger names, for the group's
tracking page and the officers' console alike. The forms render fields and check CSRF; the
services check the answers, so every surface gives the same messages."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    Field,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)

from guarantee.i18n import say
from guarantee.services.queue import as_id
from guarantee.widgets import (
    GovCheckboxesInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from workflows import GROUP, Input, Transition
from workflows.sentences import form_hint, form_label
from workflows.vocabulary import label
from workflows.words import AsWritten

# A catalogue entry, where a page ranks the closest entries first (``ranked``), is chosen with
# ``<name>_pick``: one of the ranked entries' ids, or one of these.
OTHER_ENTRY = "other"  # another entry, from the whole catalogue (``<name>``)
NEW_ENTRY = "new"  # a new entry, its title in ``<name>_new``


def action_form(
    transition: Transition,
    *,
    hidden: tuple[str, ...],
    submit: str | None = None,
    regulations: list[tuple[int, str]] | None = None,
    officers: list[tuple[int, str]] | None = None,
    ranked: list[tuple[int, str]] | None = None,
    citable: list[tuple[int, str]] | None = None,
    not_asked: tuple[str, ...] = (),
    **kwargs: Any,
) -> FlaskForm:
    """A form asking for exactly the input the workflow names for this trigger (its words in the
    reader's language: build it while answering a request), with the
    ``hidden`` fields the page carries (the claim's version, or a key that sends it once).
    ``ranked``: the catalogue entries closest to the claim, (id, title), offered first;
    ``citable``: the earlier statements it may cite, (id, what the box says); ``not_asked``: the
    inputs this claim is not asked (``Input.asked_if``)."""
    return input_form(
        tuple(spec for spec in transition.inputs if spec.name not in not_asked),
        submit or say(transition.label),
        transition.trigger,
        hidden=hidden,
        regulations=regulations or [],
        officers=officers or [],
        ranked=ranked,
        citable=citable or [],
        officers_form=GROUP not in transition.fired_by,
        transition=transition,
        **kwargs,
    )


def _regulation_fields(
    spec: Input, title: str, regulations: list[tuple[int, str]], ranked: list[tuple[int, str]] | None
) -> dict[str, Field]:
    """A catalogue entry: from the whole catalogue, or a new one; where ``ranked`` is given, the
    closest entries first as a choice of their own, and the other two after them."""
    if ranked is None:
        entries = [SelectChoice("", _("Add a new entry (below)"))] + [
            SelectChoice(str(i), AsWritten(t)) for i, t in regulations
        ]
        return {
            spec.name: SelectField(
                _("%(title)s: from the catalogue", title=title),
                choices=entries,
                validate_choice=False,
                widget=GovSelect(),
            ),
            f"{spec.name}_new": StringField(_("Or a new catalogue entry: its title"), widget=GovTextInput()),
        }
    picks = [SelectChoice(str(i), AsWritten(t)) for i, t in ranked] + [
        SelectChoice(OTHER_ENTRY, _("Another catalogue entry")),
        SelectChoice(NEW_ENTRY, _("A new catalogue entry")),
    ]
    entries = [SelectChoice("", _("Choose an entry"))] + [SelectChoice(str(i), AsWritten(t)) for i, t in regulations]
    return {
        f"{spec.name}_pick": RadioField(title, choices=picks, validate_choice=False, widget=GovRadioInput()),
        spec.name: SelectField(_("Catalogue entry"), choices=entries, validate_choice=False, widget=GovSelect()),
        f"{spec.name}_new": StringField(_("The new entry's title"), widget=GovTextInput()),
    }


def _field(
    spec: Input,
    regulations: list[tuple[int, str]],
    officers: list[tuple[int, str]],
    ranked: list[tuple[int, str]] | None = None,
    *,
    citable: list[tuple[int, str]] | None = None,
    officers_form: bool = True,
    transition: Transition | None = None,
) -> dict[str, Field]:
    """The field (or fields) for one input: its label says whether it is optional and, on an
    officer's form, whether the group will read it (``workflows.sentences``), in the reader's language."""
    title = say(form_label(spec, officers_form=officers_form))
    hint = say(form_hint(spec, transition))
    if spec.kind == "text":
        return {spec.name: TextAreaField(title, description=hint, widget=GovTextArea())}
    if spec.kind == "choice":
        choices = [SelectChoice(c, say(label(c))) for c in spec.choices]
        return {
            spec.name: RadioField(
                title, description=hint, choices=choices, validate_choice=False, widget=GovRadioInput()
            )
        }
    if spec.kind == "regulation":
        return _regulation_fields(spec, title, regulations, ranked)
    if spec.kind == "officer":
        names = [SelectChoice("", _("Nobody yet"))] + [SelectChoice(str(i), AsWritten(n)) for i, n in officers]
        return {
            spec.name: SelectField(title, description=hint, choices=names, validate_choice=False, widget=GovSelect())
        }
    if spec.kind == "claim_reference":
        return {spec.name: StringField(title, description=hint, widget=GovTextInput())}
    if spec.kind == "evidence":
        return {spec.name: FileField(title, description=hint, widget=GovFileInput())}
    if spec.kind == "citations":
        if not citable:  # nothing to cite: the form does not ask
            return {}
        boxes = [SelectChoice(str(i), text) for i, text in citable]
        return {
            spec.name: SelectMultipleField(
                title, description=hint, choices=boxes, validate_choice=False, widget=GovCheckboxesInput()
            )
        }
    raise AssertionError(f"no field for input kind {spec.kind}")


def input_form(
    inputs: tuple[Input, ...],
    submit: str,
    prefix: str,
    *,
    hidden: tuple[str, ...],
    regulations: list[tuple[int, str]],
    officers: list[tuple[int, str]],
    ranked: list[tuple[int, str]] | None = None,
    citable: list[tuple[int, str]] | None = None,
    officers_form: bool = True,
    transition: Transition | None = None,
    **kwargs: Any,
) -> FlaskForm:
    """A form with a field for each input, the hidden fields, and a submit button: an officer's form
    unless ``officers_form`` is False (the group's)."""
    fields: dict[str, Any] = {name: HiddenField() for name in hidden}
    for spec in inputs:
        fields |= _field(
            spec, regulations, officers, ranked, citable=citable, officers_form=officers_form, transition=transition
        )
    fields["submit"] = SubmitField(submit, widget=GovSubmitInput())
    form_class = type(f"{prefix.title().replace('_', '')}Form", (FlaskForm,), fields)
    form: FlaskForm = form_class(prefix=prefix, **kwargs)
    return form


def _entry(form: FlaskForm, name: str) -> int | dict[str, str] | None:
    """The catalogue entry chosen (its id), a new one ({"title": ...}), or None."""
    new = (getattr(form, f"{name}_new").data or "").strip()
    from_catalogue = as_id(getattr(form, name).data)
    pick = getattr(form, f"{name}_pick", None)
    if pick is None or not pick.data:  # the catalogue list, or else a new entry (as posted before ranking)
        return from_catalogue if from_catalogue is not None else ({"title": new} if new else None)
    if pick.data == OTHER_ENTRY:
        return from_catalogue
    if pick.data == NEW_ENTRY:
        return {"title": new} if new else None
    return as_id(pick.data)  # one of the ranked entries


def picked_errors(form: FlaskForm, inputs: tuple[Input, ...]) -> None:
    """Errors about a catalogue entry, shown on the choice the officer made (``<name>_pick``)."""
    for spec in inputs:
        pick = getattr(form, f"{spec.name}_pick", None)
        if spec.kind == "regulation" and pick is not None and form[spec.name].errors:
            pick.errors = [*(pick.errors or []), *form[spec.name].errors]
            form[spec.name].errors = []


def answers(inputs: tuple[Input, ...], form: FlaskForm) -> dict[str, Any]:
    """A form's answers as a service's input (files are the caller's to read)."""
    data: dict[str, Any] = {}
    for spec in inputs:
        if not hasattr(form, spec.name):  # not asked of this claim
            continue
        value = getattr(form, spec.name).data
        if spec.kind == "evidence":
            continue
        if spec.kind == "citations":
            chosen = [as_id(i) for i in value or []]
            if chosen:  # an id that is no number is kept as it is, for the service to refuse
                data[spec.name] = [i if i is not None else str(raw) for i, raw in zip(chosen, value, strict=True)]
            continue
        if spec.kind == "regulation":
            data[spec.name] = _entry(form, spec.name)
        elif spec.kind == "officer":
            if as_id(value) is not None:
                data[spec.name] = as_id(value)
        elif value not in (None, ""):
            data[spec.name] = value
    return data
