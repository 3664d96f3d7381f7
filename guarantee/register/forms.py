"""The register's filters: a GET form that works without JavaScript, read from the query; its
choices in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _

from guarantee.i18n import say
from guarantee.services.register import AREAS, DECISION_LABELS, Filters, Register
from workflows.vocabulary import BARRIER_CATEGORIES, REGIONS, label

FIELD_LENGTH = 80  # longer than any slug or year: anything longer matches nothing


def filters_from(args: Mapping[str, str]) -> Filters:
    def value(name: str) -> str:
        return (args.get(name) or "").strip()[: FIELD_LENGTH + 1]

    return Filters(
        rule=value("rule"),
        category=value("category"),
        area=value("region"),
        outcome=value("outcome"),
        year=value("year"),
    )


def _items(pairs: list[tuple[str, str]], chosen: str, everything: str) -> list[dict[str, object]]:
    first: dict[str, object] = {"value": "", "text": everything}
    return [first] + [{"value": value, "text": text, "selected": value == chosen} for value, text in pairs]


def _area(slug: str) -> str:
    """A region, or a nation shown where a statement's region had to be hidden."""
    if slug in REGIONS:
        return say(label(slug))
    return str(_("%(nation)s (region not shown)", nation=say(label(slug))))


def options(found: Register) -> dict[str, list[tuple[str, str]]]:
    """The choices of each filter: fixed public lists, and the rules and years the register shows."""
    return {
        "rule": [(rule.slug or "", rule.title) for rule in found.rules],
        "category": [(slug, say(label(slug))) for slug in BARRIER_CATEGORIES],
        "region": [(slug, _area(slug)) for slug in AREAS],
        "outcome": [(code, say(words)) for code, words in DECISION_LABELS.items()],
        "year": [(year, year) for year in found.years],
    }


def select_items(choices: list[tuple[str, str]], chosen: str, everything: str) -> list[dict[str, object]]:
    return _items(choices, chosen, everything)
