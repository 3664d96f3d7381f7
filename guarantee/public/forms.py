"""The group's forms. They render the fields and check CSRF; the services check the answers,
so the page, the API and the CLI give the same messages."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import Field, HiddenField, RadioField, SelectChoice, SelectField, StringField, SubmitField, TextAreaField

from guarantee.widgets import (
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from workflows.vocabulary import BARRIER_CATEGORIES, REGIONS, REMEDIES_SOUGHT, SECTORS, label

YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]
_WHOLE_NUMBER = re.compile(r"^-?\d{1,9}$")


def _radios(title: str, slugs: tuple[str, ...]) -> RadioField:
    # Choices are checked by the service, which says what to do; WTForms' own check would not.
    return RadioField(
        title, choices=[SelectChoice(s, label(s)) for s in slugs], validate_choice=False, widget=GovRadioInput()
    )


def _select(title: str, slugs: tuple[str, ...], prompt: str) -> SelectField:
    # For a list too long to sit on a short page as radios: a first option that is no answer.
    choices = [SelectChoice("", prompt), *(SelectChoice(s, label(s)) for s in slugs)]
    return SelectField(title, choices=choices, validate_choice=False, widget=GovSelect())


def _text(title: str) -> StringField:
    return StringField(title, widget=GovTextInput())


def _long_text(title: str) -> TextAreaField:
    return TextAreaField(title, widget=GovTextArea())


class ClaimForm(FlaskForm):  # type: ignore[misc]
    """The claim's questions, asked a few at a time (PAGES). Field names are the API's dotted
    names with underscores."""

    group_name = _text("Name of your group")
    group_contact_name = _text("Your full name")
    group_email = _text("Email address")
    group_phone = _text("Phone number (optional)")
    initiative_title = _text("Name of your initiative")
    initiative_description = _long_text("What does your initiative do?")
    initiative_sector = _select("Which area does your initiative work in?", SECTORS, "Choose an area")
    initiative_region = _select("Where is your initiative?", REGIONS, "Choose a part of the UK")
    initiative_people_involved = _text("How many people take part? (optional)")
    barrier_regulation = _text("Which rule or regulation blocks you?")
    barrier_regulation_reference = _text("Its reference, if you know it (optional)")
    barrier_imposed_by = _text("Who makes you follow it?")
    barrier_category = _radios("What kind of rule is it?", BARRIER_CATEGORIES)
    barrier_how_it_blocks = _long_text("How does it stop your initiative?")
    barrier_remedy_sought = _radios("What are you asking for?", REMEDIES_SOUGHT)
    barrier_remedy_details = _long_text("Tell us more about what you are asking for")
    consent_contact = RadioField(
        "Can we email you about your claim?", choices=YES_NO, validate_choice=False, widget=GovRadioInput()
    )
    consent_publish = RadioField(
        "Can we publish an anonymised statement of our decision?",
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
    title: str
    fields: tuple[str, ...]


# The question pages, in order. The last page leads to check your answers.
PAGES: tuple[Page, ...] = (
    Page("group", "About your group", ("group_name", "group_contact_name", "initiative_people_involved")),
    Page("contact", "How we contact you", ("group_email", "group_phone", "consent_contact", "consent_publish")),
    Page(
        "initiative",
        "Your initiative",
        ("initiative_title", "initiative_description", "initiative_sector", "initiative_region"),
    ),
    Page(
        "rule",
        "The rule that blocks it",
        ("barrier_regulation", "barrier_regulation_reference", "barrier_category"),
    ),
    Page("barrier", "How it blocks you", ("barrier_imposed_by", "barrier_how_it_blocks")),
    Page("request", "What you are asking for", ("barrier_remedy_sought", "barrier_remedy_details")),
)
PAGE_BY_SLUG = {page.slug: page for page in PAGES}
PAGE_OF_FIELD = {name: page for page in PAGES for name in page.fields}
ANSWERS: tuple[str, ...] = tuple(PAGE_OF_FIELD)  # every question, each asked on one page

# Each answer's name on the check-your-answers page: short, as a summary list's keys are.
SUMMARY_KEYS = {
    "group_name": "Name of your group",
    "group_contact_name": "Your full name",
    "initiative_people_involved": "People taking part",
    "group_email": "Email address",
    "group_phone": "Phone number",
    "consent_contact": "We can email you",
    "consent_publish": "We can publish a statement",
    "initiative_title": "Name of your initiative",
    "initiative_description": "What it does",
    "initiative_sector": "Area of work",
    "initiative_region": "Where it is",
    "barrier_regulation": "Rule or regulation",
    "barrier_regulation_reference": "Its reference",
    "barrier_category": "Kind of rule",
    "barrier_imposed_by": "Who makes you follow it",
    "barrier_how_it_blocks": "How it stops you",
    "barrier_remedy_sought": "What you ask for",
    "barrier_remedy_details": "More about it",
}

# Messages for a missing or unknown choice: the service's name the API's slugs.
CHOICE_MESSAGES = {
    "initiative_sector": "Select the area your initiative works in",
    "initiative_region": "Select where your initiative is",
    "barrier_category": "Select the kind of rule that blocks you",
    "barrier_remedy_sought": "Select what you are asking for",
    "consent_contact": "Select yes if we can email you about your claim",
    "consent_publish": "Select yes if we can publish an anonymised statement of our decision",
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


def show_errors(form: FlaskForm, errors: Mapping[str, list[str]], *, choice_messages: Mapping[str, str] = {}) -> None:
    """Put the service's field errors (dotted names) on the form's fields, for the summary."""
    for dotted, messages in errors.items():
        name = dotted.replace(".", "_")
        field: Field | None = getattr(form, name, None)
        if field is None:
            field = getattr(form, "form_errors_anchor", None)
        if field is None:
            continue
        message = messages[0]
        if name in choice_messages and message.startswith(("Select", "Answer")):
            message = choice_messages[name]
        field.errors = [*(field.errors or []), message] if isinstance(field.errors, list) else [message]


def answers_form(answers: Mapping[str, Any]) -> ClaimForm:
    """The form filled in with a draft's answers (nothing read from the request)."""
    return ClaimForm(formdata=None, data={name: answers.get(name) for name in ANSWERS})


def answer_text(form: ClaimForm, name: str) -> str:
    """What the person answered, as the check-your-answers page shows it."""
    value = getattr(form, name).data
    if name in ("consent_contact", "consent_publish"):
        return {"yes": "Yes", "no": "No"}.get(value or "", "")
    if isinstance(getattr(form, name), (RadioField, SelectField)):
        return label(value)
    return value or ""


# --- the group's actions on the tracking page ---------------------------------------


class EvidenceForm(FlaskForm):  # type: ignore[misc]
    file = FileField("Upload a file", widget=GovFileInput())
    action_key = HiddenField()
    submit = SubmitField("Upload file", widget=GovSubmitInput())


class LostLinkForm(FlaskForm):  # type: ignore[misc]
    reference = _text("Claim reference")
    email = _text("Email address")
    submit = SubmitField("Send me a new link", widget=GovSubmitInput())


class ContactEmailForm(FlaskForm):  # type: ignore[misc]
    """A new contact e-mail address for the claim."""

    email = StringField("New email address", widget=GovTextInput())
    submit = SubmitField("Change email address", widget=GovSubmitInput())
