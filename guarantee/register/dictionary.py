"""The data dictionary: every field of everything the service publishes, in plain words. Built
from the same lists the publishing code uses (the statement's fields, the statistics' tables), so
that a field added there and not explained here fails a test.

The fields' names and the codes stay English (programs read them: the page marks them
``lang="en"``); their kinds and meanings are marked texts, which the page says in the reader's
language."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from guarantee.i18n import say
from guarantee.models.register import STATEMENT_DECISIONS
from guarantee.services.register import DECISION_LABELS, STATUS_LABELS
from guarantee.services.register_open_data import STATEMENT_FIELDS
from guarantee.statistics import tables as release_tables
from workflows.vocabulary import (
    BARRIER_CATEGORIES,
    NATIONS,
    NOT_UPHELD_REASONS,
    REGIONS,
    REMEDIES,
    RESOLUTION_OUTCOMES,
    SECTORS,
    label,
)
from workflows.words import N_, words


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    meaning: str


@dataclass(frozen=True)
class Table:
    id: str
    title: str
    where: str
    fields: list[Field]


PAGE_FIELDS = [
    Field("statements", N_("list"), N_("The statements of this page, newest first, each with the fields above.")),
    Field("matching", N_("number"), N_("How many shown statements match the filters, on all pages together.")),
    Field(
        "held_back",
        N_("number"),
        N_(
            "How many statements are not shown at all, because too few decided claims share "
            "even their least detailed version. Not affected by the filters."
        ),
    ),
    Field("min_claims", N_("number"), N_("k: how many decided claims must share what a statement shows.")),
    Field("next", N_("text"), N_("The address of the next, older page; null on the last page.")),
]

RELEASE_FIELDS = [
    Field("format", N_("number"), N_("The version of the document's layout.")),
    Field("release", N_("number"), N_("The release's number in the register of releases.")),
    Field("published_at", N_("date and time"), N_("When the release was published (UTC, ISO 8601).")),
    Field(
        "period.start",
        N_("date"),
        N_("The first day of the cumulative series: claims submitted from this day are counted."),
    ),
    Field("period.end", N_("date"), N_("The last day whose claims are counted.")),
    Field(
        "method",
        N_("text"),
        N_(
            "disclosure_control (small counts hidden, the rest rounded) or differential_privacy "
            "(every count has random noise added)."
        ),
    ),
    Field("suppressed", N_("text"), N_("The symbol shown in place of a hidden count: [c].")),
    Field(
        "rules",
        N_("object"),
        N_(
            "With disclosure control: threshold, rounding_base and dominance_below. With noise: "
            "noise, epsilon_per_table, epsilon_total, scale and confidence."
        ),
    ),
    Field("notes", N_("list of text"), N_("How the release was made, in plain English.")),
    Field("tables", N_("list"), N_("The tables, each with its id, kind, title and numbers (see the tables below).")),
]

RELEASE_ENTRY_FIELDS = [
    Field("number", N_("number"), N_("The release's number.")),
    Field("published_at", N_("date and time"), N_("When it was published.")),
    Field("period_start", N_("date"), N_("The first day counted.")),
    Field("period_end", N_("date"), N_("The last day counted.")),
    Field("method", N_("text"), N_("disclosure_control or differential_privacy.")),
    Field("sha256", N_("text"), N_("The SHA-256 of the release document's bytes, in hex: check your copy against it.")),
    Field("url", N_("text"), N_("The release document (JSON).")),
    Field("csv_url", N_("text"), N_("The release as CSV.")),
]

RELEASE_CSV_FIELDS = [
    Field("release", N_("number"), N_("The release's number.")),
    Field("table", N_("text"), N_("The table's id (see the tables below).")),
    Field("row_key", N_("text"), N_("The row's code, like food_hygiene; total for a total.")),
    Field("row", N_("text"), N_("The row's words.")),
    Field("column_key", N_("text"), N_("The column's code, like claims or upheld; total for a total.")),
    Field("column", N_("text"), N_("The column's words.")),
    Field(
        "value",
        N_("number or text"),
        N_("The number, or [c] where it is hidden. Empty where nothing can be worked out."),
    ),
    Field("margin_95", N_("number"), N_("Only in a release with noise: the half-width of the number's 95% interval.")),
]


# Which rows a list table of a release has, by the list it counts.
LIST_ROWS = {
    "category": N_("One row for each category in the published list."),
    "regulation": N_("One row for each regulation in the published list."),
    "sector": N_("One row for each sector in the published list."),
    "region": N_("One row for each region in the published list."),
    "outcome": N_("One row for each outcome in the published list."),
    "quarter": N_("One row for each quarter in the published list."),
}


def _list_rows(dimension: str) -> str:
    return LIST_ROWS.get(dimension) or words(
        "One row for each %(dimension)s in the published list.", dimension=dimension
    )


def statistics_tables() -> list[Table]:
    """Every table a statistics release has, by its id, from the statistics' own lists. Its titles
    are the statistics' marked texts; the page says them in the reader's language (this is built
    for each request: the working days table's rows are said here)."""
    count = [
        Field("key", N_("text"), N_("The row's code.")),
        Field("label", N_("text"), N_("The row's words.")),
        Field("count", N_("number or text"), N_("Claims, rounded, or [c] where hidden.")),
        Field("total", N_("number or text"), N_("All claims of the table, rounded, or [c].")),
    ]
    found = [
        Table(name, title, _list_rows(dimension), count)
        for name, (dimension, title) in release_tables.LIST_TABLES.items()
    ]
    cross = [
        Field("columns", N_("list"), N_("The columns, each with a key and a label.")),
        Field("rows[].counts", N_("list"), N_("The row's counts, one per column, rounded or [c].")),
        Field("rows[].total", N_("number or text"), N_("The row's total.")),
        Field("column_totals", N_("list"), N_("Each column's total.")),
        Field("total", N_("number or text"), N_("All claims of the table.")),
    ]
    found += [
        Table(name, title, N_("Barrier categories down the side, the other list across."), cross)
        for name, title in release_tables.CROSS_TABLES.items()
    ]
    found.append(
        Table(
            "share_upheld",
            N_("Share of claims upheld"),
            N_("All claims, then one row per barrier category."),
            [
                Field("decided", N_("number or text"), N_("Claims decided on their merits.")),
                Field(
                    "percent",
                    N_("number"),
                    N_("The per cent of those upheld, where the counts it comes from are shown."),
                ),
                Field("low / high", N_("number"), N_("Its 95% interval (Wilson), in per cent.")),
            ],
        )
    )
    found.append(
        Table(
            "working_days",
            N_("Working days taken"),
            _(
                "One row for each of: %(times)s.",
                times="; ".join(say(t).lower() for t in release_tables.TIMES.values()),
            ),
            [
                Field("claims", N_("number or text"), N_("The claims the times are worked out from.")),
                Field(
                    "median",
                    N_("number"),
                    words(
                        "The median, in working days; empty when fewer than %(least)s claims.",
                        least=release_tables.TIMES_AT_LEAST,
                    ),
                ),
                Field("p90", N_("number"), N_("The 90th percentile, in working days.")),
            ],
        )
    )
    return found


def code_lists() -> list[tuple[str, list[tuple[str, str]]]]:
    """The codes a field can hold, with their words (marked: the page says them)."""
    return [
        ("decision", [(code, DECISION_LABELS[code]) for code in STATEMENT_DECISIONS]),
        ("status", list(STATUS_LABELS.items())),
        ("category", [(code, label(code)) for code in BARRIER_CATEGORIES]),
        ("sector", [(code, label(code)) for code in SECTORS]),
        ("region", [(code, label(code)) for code in REGIONS] + [(n, label(n)) for n in NATIONS if n not in REGIONS]),
        ("remedy", [(code, label(code)) for code in REMEDIES]),
        ("reason_code", [(code, label(code)) for code in NOT_UPHELD_REASONS]),
        ("resolution", [(code, label(code)) for code in RESOLUTION_OUTCOMES]),
    ]


def statement_fields() -> list[Field]:
    return [Field(name, kind, meaning) for name, kind, meaning in STATEMENT_FIELDS]
