"""Precedent when filing (issue 20, item 5): once the group has named the rule that blocks it,
the claim form offers the closest catalogue entries, each with what was decided about it under
disclosure control, and the group may choose one (or say it is none of them, or leave it).

It is a page of its own after the rule's page, shown only when the catalogue has entries close
to what the group wrote, and it works without JavaScript. The choice is kept in the draft's
answers (under CHOICE) and, when the claim is filed, stored on the claim as
``regulation_chosen_id``: a suggestion the officers see on the claim page. It never classifies the
claim: triage does (``claim.regulation_id``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app, make_response, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectChoice

from guarantee.i18n import say
from guarantee.public import forms as claim_forms
from guarantee.public import tracking
from guarantee.services import rule_pages
from guarantee.services.context import ServiceContext
from guarantee.statistics.document import settings_from
from guarantee.widgets import GovRadioInput
from workflows.words import AsWritten

CHOICE = "precedent_regulation"  # the draft's answer: an entry's id, "none", or absent
NONE = "none"
AFTER = "rule"  # the question page it follows


class PrecedentForm(FlaskForm):  # type: ignore[misc]
    precedent_regulation = RadioField(
        _l("Is the rule that blocks you one of these? (optional)"),
        choices=[],
        validate_choice=False,
        widget=GovRadioInput(),
    )


def offered(ctx: ServiceContext, answers: Mapping[str, Any]) -> list[rule_pages.Precedent]:
    """The catalogue entries closest to the rule the group named, with their decided claims."""
    return rule_pages.precedents(
        ctx,
        answers.get("barrier_regulation"),
        reference=answers.get("barrier_regulation_reference"),
        imposed_by=answers.get("barrier_imposed_by"),
        category=answers.get("barrier_category"),
        rules=settings_from(current_app.config).rules,
    )


def forget_if_renamed(answers: dict[str, Any], before: Mapping[str, Any]) -> None:
    """A rule named differently from before forgets the entry chosen for the old name."""
    if any(answers.get(name) != before.get(name) for name in claim_forms.PAGE_BY_SLUG[AFTER].fields):
        answers.pop(CHOICE, None)


def after_rule_page(ctx: ServiceContext, answers: Mapping[str, Any], changing: bool) -> str | None:
    """Where the rule's page goes on to: this page, when there are entries to offer; None otherwise."""
    if not offered(ctx, answers):
        return None
    return url_for("public.similar_rules", change="check" if changing else None)


def chosen_id(ctx: ServiceContext, answers: Mapping[str, Any]) -> int | None:
    """The live entry the draft's group chose, if any: for the claim when it is filed."""
    return rule_pages.chosen_entry(ctx, answers.get(CHOICE))


def chosen_title(ctx: ServiceContext, answers: Mapping[str, Any]) -> str | None:
    """The title of the entry the group chose, for check your answers."""
    chosen = chosen_id(ctx, answers)
    if chosen is None:
        return None
    return next((p.title for p in offered(ctx, answers) if p.regulation_id == chosen), None)


def form_for(choices: list[rule_pages.Precedent], formdata: Any = None, value: str | None = None) -> PrecedentForm:
    form = (
        PrecedentForm(formdata=formdata) if formdata is not None else PrecedentForm(formdata=None, data={CHOICE: value})
    )
    form.precedent_regulation.choices = [
        *(SelectChoice(str(p.regulation_id), AsWritten(p.title)) for p in choices),
        SelectChoice(NONE, _("It is not one of these")),
    ]
    return form


def page(choices: list[rule_pages.Precedent], form: PrecedentForm, changing: bool, status: int = 200) -> Response:
    at = claim_forms.PAGES.index(claim_forms.PAGE_BY_SLUG[AFTER])
    picked = form.precedent_regulation.data
    items: list[dict[str, Any]] = []
    for p in choices:
        issued = _("Issued by %(body)s", body=p.issuing_body) if p.issuing_body else None
        about = ". ".join(part for part in (p.legal_reference, issued) if part)
        decided = say(p.decided)
        items.append(
            {
                "value": str(p.regulation_id),
                "text": p.title,
                "hint": {"text": f"{about}. {decided}." if about else f"{decided}."},
                "checked": picked == str(p.regulation_id),
            }
        )
    items += [{"divider": _("or")}, {"value": NONE, "text": _("It is not one of these"), "checked": picked == NONE}]
    errors = form.precedent_regulation.errors
    body = render_template(
        "public/filing/similar_rules.html",
        form=form,
        items=items,
        error={"text": errors[0], "visuallyHiddenText": _("Error")} if errors else None,
        step=at + 1,
        steps=len(claim_forms.PAGES),
        back=url_for("public.question", page=AFTER, change="check" if changing else None),
        action=url_for("public.similar_rules", change="check" if changing else None),
    )
    return tracking.no_store(make_response(body, status))


def onwards(changing: bool) -> str:
    if changing:
        return url_for("public.check_answers")
    at = claim_forms.PAGES.index(claim_forms.PAGE_BY_SLUG[AFTER])
    return url_for("public.question", page=claim_forms.PAGES[at + 1].slug)
