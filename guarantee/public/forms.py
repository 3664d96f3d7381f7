"""The group's forms. They render the fields and check CSRF; the services check the answers,
so the page, the API and the CLI give the same messages."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import Field, HiddenField, RadioField, SelectChoice, SelectField, StringField, SubmitField, TextAreaField

from guarantee.i18n import current_language, say
from guarantee.widgets import (
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from workflows.vocabulary import BARRIER_CATEGORIES, LANGUAGES, REGIONS, REMEDIES_SOUGHT, SECTORS, label

YES_NO = [SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))]
_WHOLE_NUMBER = re.compile(r"^-?\d{1,9}$")

# The languages a group may be written to in (issue 23), as the claim form and the tracking page
# offer them: in Welsh, "Saesneg" and "Cymraeg".
LANGUAGE_NAMES: dict[str, Any] = {"en": _l("English"), "cy": _l("Cymraeg (Welsh)")}
LANGUAGE_QUESTION = _l("Which language should we write to you in?")


def said(text: str) -> Any:
    """A text of workflows/ (a slug's label, an answer's words), said in the reader's language
    when the page is drawn: for a form's choices, made once when the module is imported."""
    return LazyString(say, text)


def _languages() -> list[SelectChoice]:
    return [SelectChoice(code, LANGUAGE_NAMES[code]) for code in LANGUAGES]


def _radios(title: Any, slugs: tuple[str, ...]) -> RadioField:
    # Choices are checked by the service, which says what to do; WTForms' own check would not.
    return RadioField(
        title, choices=[SelectChoice(s, said(label(s))) for s in slugs], validate_choice=False, widget=GovRadioInput()
    )


def _select(title: Any, slugs: tuple[str, ...], prompt: Any) -> SelectField:
    # For a list too long to sit on a short page as radios: a first option that is no answer.
    choices = [SelectChoice("", prompt), *(SelectChoice(s, said(label(s))) for s in slugs)]
    return SelectField(title, choices=choices, validate_choice=False, widget=GovSelect())


def _text(title: Any) -> StringField:
    return StringField(title, widget=GovTextInput())


def _long_text(title: Any) -> TextAreaField:
    return TextAreaField(title, widget=GovTextArea())


class ClaimForm(FlaskForm):  # type: ignore[misc]
    """The claim's questions, asked a few at a time (PAGES). Field names are the API's dotted
    names with underscores."""

    group_name = _text(_l("Name of your group"))
    group_contact_name = _text(_l("Your full name"))
    group_email = _text(_l("Email address"))
    group_phone = _text(_l("Phone number (optional)"))
    initiative_title = _text(_l("Name of your initiative"))
    initiative_description = _long_text(_l("What does your initiative do?"))
    initiative_sector = _select(_l("Which area does your initiative work in?"), SECTORS, _l("Choose an area"))
    initiative_region = _select(_l("Where is your initiative?"), REGIONS, _l("Choose a part of the UK"))
    initiative_people_involved = _text(_l("How many people take part? (optional)"))
    # Preselected from the language the service is used in (answers_form); the service checks it.
    group_language = RadioField(LANGUAGE_QUESTION, choices=_languages(), validate_choice=False, widget=GovRadioInput())
    barrier_regulation = _text(_l("Which rule or regulation blocks you?"))
    barrier_regulation_reference = _text(_l("Its reference, if you know it (optional)"))
    barrier_imposed_by = _text(_l("Who makes you follow it?"))
    barrier_category = _radios(_l("What kind of rule is it?"), BARRIER_CATEGORIES)
    barrier_how_it_blocks = _long_text(_l("How does it stop your initiative?"))
    barrier_remedy_sought = _radios(_l("What are you asking for?"), REMEDIES_SOUGHT)
    barrier_remedy_details = _long_text(_l("Tell us more about what you are asking for"))
    consent_contact = RadioField(
        _l("Can we email you about your claim?"), choices=YES_NO, validate_choice=False, widget=GovRadioInput()
    )
    consent_publish = RadioField(
        _l("Can we publish an anonymised statement of our decision?"),
        choices=YES_NO,
        validate_choice=False,
        widget=GovRadioInput(),
    )


class CheckAnswersForm(FlaskForm):  # type: ignore[misc]
    """The check-your-answers page's button: the answers themselves are in the browser's draft."""

    # A fresh key each time the answers are shown for checking: sending twice files once.
    submission_key = HiddenField()
    # Which version of the answers the page showed: a change made since (in another tab) is
    # shown for checking before anything is filed.
    revision = HiddenField()


@dataclass(frozen=True)
class Page:
    """One question page of the claim form, and its section of the check-your-answers page."""

    slug: str
    title: Any  # in the reader's language when shown (lazy)
    fields: tuple[str, ...]


# The question pages, in order. The last page leads to check your answers.
PAGES: tuple[Page, ...] = (
    Page(
        "group",
        _l("About your group"),
        ("group_name", "group_contact_name", "initiative_people_involved", "group_language"),
    ),
    Page(
        "contact",
        _l("How we contact you"),
        ("group_email", "group_phone", "consent_contact", "consent_publish"),
    ),
    Page(
        "initiative",
        _l("Your initiative"),
        ("initiative_title", "initiative_description", "initiative_sector", "initiative_region"),
    ),
    Page(
        "rule",
        _l("The rule that blocks it"),
        ("barrier_regulation", "barrier_regulation_reference", "barrier_category"),
    ),
    Page("barrier", _l("How it blocks you"), ("barrier_imposed_by", "barrier_how_it_blocks")),
    Page("request", _l("What you are asking for"), ("barrier_remedy_sought", "barrier_remedy_details")),
)
PAGE_BY_SLUG = {page.slug: page for page in PAGES}
PAGE_OF_FIELD = {name: page for page in PAGES for name in page.fields}
ANSWERS: tuple[str, ...] = tuple(PAGE_OF_FIELD)  # every question, each asked on one page

# Each answer's name on the check-your-answers page: short, as a summary list's keys are.
SUMMARY_KEYS: dict[str, Any] = {
    "group_name": _l("Name of your group"),
    "group_contact_name": _l("Your full name"),
    "initiative_people_involved": _l("People taking part"),
    "group_language": _l("Language we write to you in"),
    "group_email": _l("Email address"),
    "group_phone": _l("Phone number"),
    "consent_contact": _l("We can email you"),
    "consent_publish": _l("We can publish a statement"),
    "initiative_title": _l("Name of your initiative"),
    "initiative_description": _l("What it does"),
    "initiative_sector": _l("Area of work"),
    "initiative_region": _l("Where it is"),
    "barrier_regulation": _l("Rule or regulation"),
    "barrier_regulation_reference": _l("Its reference"),
    "barrier_category": _l("Kind of rule"),
    "barrier_imposed_by": _l("Who makes you follow it"),
    "barrier_how_it_blocks": _l("How it stops you"),
    "barrier_remedy_sought": _l("What you ask for"),
    "barrier_remedy_details": _l("More about it"),
}

# Messages for a missing or unknown choice: the service's name the API's slugs.
CHOICE_MESSAGES: dict[str, Any] = {
    "initiative_sector": _l("Select the area your initiative works in"),
    "initiative_region": _l("Select where your initiative is"),
    "barrier_category": _l("Select the kind of rule that blocks you"),
    "barrier_remedy_sought": _l("Select what you are asking for"),
    "consent_contact": _l("Select yes if we can email you about your claim"),
    "consent_publish": _l("Select yes if we can publish an anonymised statement of our decision"),
}


def _optional(value: str | None) -> str | None:
    return value if value and value.strip() else None


def _people(value: str | None) -> Any:
    if not value or not value.strip():
        return None
    cleaned = value.strip().replace(",", "")
    return int(cleaned) if _WHOLE_NUMBER.match(cleaned) else value


def submission(form: ClaimForm) -> dict[str, Any]:
    """The form's answers as the API's submission body."""
    d = form.data
    consent = {"yes": True, "no": False}.get(d["consent_contact"] or "")
    publish = {"yes": True, "no": False}.get(d["consent_publish"] or "")
    return {
        "group": {
            "name": d["group_name"],
            "contact_name": d["group_contact_name"],
            "email": d["group_email"],
            "phone": _optional(d["group_phone"]),
            "language": d["group_language"] or "",
        },
        "initiative": {
            "title": d["initiative_title"],
            "description": d["initiative_description"],
            "sector": d["initiative_sector"] or "",
            "region": d["initiative_region"] or "",
            "people_involved": _people(d["initiative_people_involved"]),
        },
        "barrier": {
            "regulation": d["barrier_regulation"],
            "regulation_reference": _optional(d["barrier_regulation_reference"]),
            "imposed_by": d["barrier_imposed_by"],
            "category": d["barrier_category"] or "",
            "how_it_blocks": d["barrier_how_it_blocks"],
            "remedy_sought": d["barrier_remedy_sought"] or "",
            "remedy_details": _optional(d["barrier_remedy_details"]),
        },
        "consent": {"contact": consent, "publish": publish},
    }


def show_errors(form: FlaskForm, errors: Mapping[str, list[Any]], *, choice_messages: Mapping[str, Any] = {}) -> None:
    """Put the service's field errors (dotted names) on the form's fields, for the summary, each
    said in the reader's language."""
    for dotted, messages in errors.items():
        name = dotted.replace(".", "_")
        field: Field | None = getattr(form, name, None)
        if field is None:
            field = getattr(form, "form_errors_anchor", None)
        if field is None:
            continue
        message = say(messages[0])
        if name in choice_messages and str(messages[0]).startswith(("Select", "Answer")):
            message = str(choice_messages[name])
        field.errors = [*(field.errors or []), message] if isinstance(field.errors, list) else [message]


def answers_form(answers: Mapping[str, Any]) -> ClaimForm:
    """The form filled in with a draft's answers (nothing read from the request). The language to
    write in, until the group chooses, is the one it is using the service in."""
    data = {name: answers.get(name) for name in ANSWERS}
    data["group_language"] = answers.get("group_language") or current_language()
    return ClaimForm(formdata=None, data=data)


def answer_text(form: ClaimForm, name: str) -> str:
    """What the person answered, as the check-your-answers page shows it."""
    value = getattr(form, name).data
    if name in ("consent_contact", "consent_publish"):
        return str({"yes": _("Yes"), "no": _("No")}.get(value or "", ""))
    if name == "group_language":
        return str(LANGUAGE_NAMES.get(value or "", value or ""))
    if isinstance(getattr(form, name), (RadioField, SelectField)):
        return say(label(value))
    return value or ""


# --- the group's actions on the tracking page ---------------------------------------


class EvidenceForm(FlaskForm):  # type: ignore[misc]
    file = FileField(_l("Upload a file"), widget=GovFileInput())
    action_key = HiddenField()
    submit = SubmitField(_l("Upload file"), widget=GovSubmitInput())


class LostLinkForm(FlaskForm):  # type: ignore[misc]
    reference = _text(_l("Claim reference"))
    email = _text(_l("Email address"))
    submit = SubmitField(_l("Send me a new link"), widget=GovSubmitInput())


class ContactEmailForm(FlaskForm):  # type: ignore[misc]
    """A new contact e-mail address for the claim."""

    email = StringField(_l("New email address"), widget=GovTextInput())
    submit = SubmitField(_l("Change email address"), widget=GovSubmitInput())


class LanguageForm(FlaskForm):  # type: ignore[misc]
    """The language the group is written to in (issue 23): the service checks the choice."""

    language = RadioField(LANGUAGE_QUESTION, choices=_languages(), validate_choice=False, widget=GovRadioInput())
    submit = SubmitField(_l("Change language"), widget=GovSubmitInput())
