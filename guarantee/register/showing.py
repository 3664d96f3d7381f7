"""How a shown statement reads on a page: its title in the register's list, and the rows of its
summary list (GOV.UK summary list items) on its own page, in the reader's language."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from guarantee.i18n import say
from guarantee.services.register import Rule, ShownStatement, period_words


def period(shown_period: str | None) -> str:
    """A shown period in the reader's language: "2026 Q3" ("Ch3 2026"), or a year."""
    return say(period_words(shown_period)) if shown_period else ""


def rule_title(rule: Rule) -> str:
    """A rule's title: the catalogue's name, or, for a claim matched to no entry, words that say so."""
    return rule.title if rule.slug else say(rule.title)


def decided(shown: ShownStatement) -> str:
    """When the claim was decided, and how long after it was filed, where that is shown."""
    if shown.working_days is None:
        return period(shown.period)
    return str(
        _(
            "%(period)s, %(days)s working days after the claim was filed",
            period=period(shown.period),
            days=shown.working_days,
        )
    )


def _row(key: str, value: str | Markup) -> dict[str, Any]:
    kind = "html" if isinstance(value, Markup) else "text"
    return {"key": {"text": key}, "value": {kind: value}}


def rows(shown: ShownStatement) -> list[dict[str, Any]]:
    """The rows of a statement's page."""
    rule: str | Markup = rule_title(shown.rule)
    if shown.rule.slug:
        href = url_for("register.decisions", rule=shown.rule.slug)
        rule = Markup('<a class="govuk-link" href="{}">{}</a>').format(href, shown.rule.title)
    not_recorded = _("Not recorded")
    found = [
        _row(_("Decision"), say(shown.decision_label)),
        _row(_("Rule"), rule),
        _row(_("Legal reference"), shown.rule.legal_reference or not_recorded),
        _row(_("Made by"), shown.rule.issuing_body or not_recorded),
        _row(_("Category"), say(shown.category_label)),
        _row(_("Sector"), say(shown.sector_label)),
        _row(_("Where"), say(shown.area_label)),
        _row(_("Decided"), decided(shown)),
    ]
    if shown.remedy_label:
        found.append(_row(_("Remedy"), say(shown.remedy_label)))
    if shown.reason_label:
        found.append(_row(_("Reason"), say(shown.reason_label)))
    if shown.resolution_label:
        found.append(_row(_("What the council did"), say(shown.resolution_label)))
    if shown.cites:
        links = Markup(", ").join(
            Markup('<a class="govuk-link" href="{}">{}</a>').format(url_for("register.statement", number=n), n)
            for n in shown.cites
        )
        found.append(_row(_("Earlier statements cited"), links))
    found.append(_row(_("Published"), period(shown.published)))
    if shown.status == "withdrawn":
        withdrawn = f"{period(shown.withdrawn)}: {shown.withdrawn_reason or ''}".strip(": ")
        found.append(_row(_("Withdrawn"), withdrawn))
    return found


TAGS = {"withdrawn": _l("Withdrawn"), "superseded": _l("Replaced")}


def card_title(shown: ShownStatement) -> Markup:
    """The statement's number, linked to its page, and a grey tag if it is no longer current."""
    title = Markup('<a class="govuk-link" href="{}">{}</a>').format(
        url_for("register.statement", number=shown.number), shown.number
    )
    if shown.status in TAGS:
        title += Markup(' <strong class="govuk-tag govuk-tag--grey">{}</strong>').format(TAGS[shown.status])
    return title
