"""The data dictionary: every field of everything the service publishes, in plain words. Built
from the same lists the publishing code uses (the statement's fields, the statistics' tables), so
that a field added there and not explained here fails a test."""

from __future__ import annotations

from dataclasses import dataclass

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
    Field("statements", "list", "The statements of this page, newest first, each with the fields above."),
    Field("matching", "number", "How many shown statements match the filters, on all pages together."),
    Field(
        "held_back",
        "number",
        "How many statements are not shown at all, because too few decided claims share "
        "even their least detailed version. Not affected by the filters.",
    ),
    Field("min_claims", "number", "k: how many decided claims must share what a statement shows."),
    Field("next", "text", "The address of the next, older page; null on the last page."),
]

RELEASE_FIELDS = [
    Field("format", "number", "The version of the document's layout."),
    Field("release", "number", "The release's number in the register of releases."),
    Field("published_at", "date and time", "When the release was published (UTC, ISO 8601)."),
    Field(
        "period.start", "date", "The first day of the cumulative series: claims submitted from this day are counted."
    ),
    Field("period.end", "date", "The last day whose claims are counted."),
    Field(
        "method",
        "text",
        "disclosure_control (small counts hidden, the rest rounded) or differential_privacy "
        "(every count has random noise added).",
    ),
    Field("suppressed", "text", "The symbol shown in place of a hidden count: [c]."),
    Field(
        "rules",
        "object",
        "With disclosure control: threshold, rounding_base and dominance_below. With noise: "
        "noise, epsilon_per_table, epsilon_total, scale and confidence.",
    ),
    Field("notes", "list of text", "How the release was made, in plain English."),
    Field("tables", "list", "The tables, each with its id, kind, title and numbers (see the tables below)."),
]

RELEASE_ENTRY_FIELDS = [
    Field("number", "number", "The release's number."),
    Field("published_at", "date and time", "When it was published."),
    Field("period_start", "date", "The first day counted."),
    Field("period_end", "date", "The last day counted."),
    Field("method", "text", "disclosure_control or differential_privacy."),
    Field("sha256", "text", "The SHA-256 of the release document's bytes, in hex: check your copy against it."),
    Field("url", "text", "The release document (JSON)."),
    Field("csv_url", "text", "The release as CSV."),
]

RELEASE_CSV_FIELDS = [
    Field("release", "number", "The release's number."),
    Field("table", "text", "The table's id (see the tables below)."),
    Field("row_key", "text", "The row's code, like food_hygiene; total for a total."),
    Field("row", "text", "The row's words."),
    Field("column_key", "text", "The column's code, like claims or upheld; total for a total."),
    Field("column", "text", "The column's words."),
    Field("value", "number or text", "The number, or [c] where it is hidden. Empty where nothing can be worked out."),
    Field("margin_95", "number", "Only in a release with noise: the half-width of the number's 95% interval."),
]


def statistics_tables() -> list[Table]:
    """Every table a statistics release has, by its id, from the statistics' own lists."""
    count = [
        Field("key", "text", "The row's code."),
        Field("label", "text", "The row's words."),
        Field("count", "number or text", "Claims, rounded, or [c] where hidden."),
        Field("total", "number or text", "All claims of the table, rounded, or [c]."),
    ]
    found = [
        Table(name, title, f"One row for each {dimension} in the published list.", count)
        for name, (dimension, title) in release_tables.LIST_TABLES.items()
    ]
    cross = [
        Field("columns", "list", "The columns, each with a key and a label."),
        Field("rows[].counts", "list", "The row's counts, one per column, rounded or [c]."),
        Field("rows[].total", "number or text", "The row's total."),
        Field("column_totals", "list", "Each column's total."),
        Field("total", "number or text", "All claims of the table."),
    ]
    found += [
        Table(name, title, "Barrier categories down the side, the other list across.", cross)
        for name, title in release_tables.CROSS_TABLES.items()
    ]
    found.append(
        Table(
            "share_upheld",
            "Share of claims upheld",
            "All claims, then one row per barrier category.",
            [
                Field("decided", "number or text", "Claims decided on their merits."),
                Field("percent", "number", "The per cent of those upheld, where the counts it comes from are shown."),
                Field("low / high", "number", "Its 95% interval (Wilson), in per cent."),
            ],
        )
    )
    found.append(
        Table(
            "working_days",
            "Working days taken",
            "One row for each of: " + "; ".join(t.lower() for t in release_tables.TIMES.values()) + ".",
            [
                Field("claims", "number or text", "The claims the times are worked out from."),
                Field(
                    "median",
                    "number",
                    f"The median, in working days; empty when fewer than {release_tables.TIMES_AT_LEAST} claims.",
                ),
                Field("p90", "number", "The 90th percentile, in working days."),
            ],
        )
    )
    return found


def code_lists() -> list[tuple[str, list[tuple[str, str]]]]:
    """The codes a field can hold, with their words."""
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
