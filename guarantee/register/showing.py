"""How a shown statement reads on a page: its title in the register's list, and the rows of its
summary list (GOV.UK summary list items) on its own page."""

from __future__ import annotations

from typing import Any

from flask import url_for
from markupsafe import Markup

from guarantee.services.register import ShownStatement


def _row(key: str, value: str | Markup) -> dict[str, Any]:
    kind = "html" if isinstance(value, Markup) else "text"
    return {"key": {"text": key}, "value": {kind: value}}


def rows(shown: ShownStatement) -> list[dict[str, Any]]:
    """The rows of a statement's page."""
    decided = shown.period
    if shown.working_days is not None:
        decided += f", {shown.working_days} working days after the claim was filed"
    rule: str | Markup = shown.rule.title
    if shown.rule.slug:
        href = url_for("register.decisions", rule=shown.rule.slug)
        rule = Markup('<a class="govuk-link" href="{}">{}</a>').format(href, shown.rule.title)
    found = [
        _row("Decision", shown.decision_label),
        _row("Rule", rule),
        _row("Legal reference", shown.rule.legal_reference or "Not recorded"),
        _row("Made by", shown.rule.issuing_body or "Not recorded"),
        _row("Category", shown.category_label),
        _row("Sector", shown.sector_label),
        _row("Where", shown.area_label),
        _row("Decided", decided),
    ]
    if shown.remedy_label:
        found.append(_row("Remedy", shown.remedy_label))
    if shown.reason_label:
        found.append(_row("Reason", shown.reason_label))
    if shown.resolution_label:
        found.append(_row("What the council did", shown.resolution_label))
    if shown.cites:
        links = Markup(", ").join(
            Markup('<a class="govuk-link" href="{}">{}</a>').format(url_for("register.statement", number=n), n)
            for n in shown.cites
        )
        found.append(_row("Earlier statements cited", links))
    found.append(_row("Published", shown.published))
    if shown.status == "withdrawn":
        found.append(_row("Withdrawn", f"{shown.withdrawn or ''}: {shown.withdrawn_reason or ''}".strip(": ")))
    return found


TAGS = {"withdrawn": "Withdrawn", "superseded": "Replaced"}


def card_title(shown: ShownStatement) -> Markup:
    """The statement's number, linked to its page, and a grey tag if it is no longer current."""
    title = Markup('<a class="govuk-link" href="{}">{}</a>').format(
        url_for("register.statement", number=shown.number), shown.number
    )
    if shown.status in TAGS:
        title += Markup(' <strong class="govuk-tag govuk-tag--grey">{}</strong>').format(TAGS[shown.status])
    return title
