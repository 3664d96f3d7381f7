"""The decision register as open data (issue 20): one flat record per shown statement, the same
in the API's JSON and its CSV, with the meaning of each field for the data dictionary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from guarantee import csv_export
from guarantee.services.register import ShownStatement
from workflows.words import N_

# Every field of a published statement, in order, with what it means: the JSON's fields, the
# CSV's columns, and the data dictionary's rows. The names stay English whatever the reader's
# language (programs read them); the kind and the meaning are marked, and the data dictionary
# shows them in the reader's language.
STATEMENT_FIELDS: tuple[tuple[str, str, str], ...] = (
    (
        "number",
        N_("text"),
        N_(
            "The statement's public number, like DS-2026-48213: the year it was published and a random "
            "part, so numbers say nothing of the order statements were published in. It is never the "
            "claim's reference."
        ),
    ),
    (
        "status",
        N_("text"),
        N_(
            "Whether the statement is published, withdrawn (taken off, with a public reason, and still "
            "listed) or superseded (a later decision on the same claim, after an appeal, replaced it)."
        ),
    ),
    ("decision", N_("text"), N_("What was decided: upheld or not, or an appeal allowed or dismissed (see the codes).")),
    ("rule_title", N_("text"), N_("The rule the claim was about, as the catalogue names it.")),
    ("rule_legal_reference", N_("text"), N_("Where the rule is set out in law or guidance, if known.")),
    ("rule_issuing_body", N_("text"), N_("Who made the rule, if known.")),
    (
        "rule_slug",
        N_("text"),
        N_(
            "The rule's short name in addresses: its page is /rules/ followed by this name. Empty if "
            "the claim was not matched to a catalogue entry."
        ),
    ),
    ("category", N_("text"), N_("The barrier category: one of the published list of categories.")),
    ("sector", N_("text"), N_("The initiative's sector, or other where it had to be coarsened.")),
    ("region", N_("text"), N_("The initiative's region (ITL1), or its nation where it had to be coarsened.")),
    (
        "decided",
        N_("text"),
        N_("The quarter the claim was decided in, like 2026 Q3, or only the year where it had to be coarsened."),
    ),
    ("working_days", N_("number"), N_("Working days from filing the claim to the decision.")),
    ("remedy", N_("text"), N_("For an upheld claim: the remedy granted.")),
    ("reason_code", N_("text"), N_("For a claim not upheld: the reason, as a code from the published list.")),
    ("resolution", N_("text"), N_("For an upheld claim: what the council recorded that it did, once it did.")),
    (
        "summary",
        N_("text"),
        N_(
            "The summary written for publication and checked by a second officer. Empty where the group "
            "did not agree to a summary being published."
        ),
    ),
    (
        "cites",
        N_("list of numbers"),
        N_(
            "Earlier statements the decision relied on (only those the register shows). In the "
            "CSV, numbers separated by spaces."
        ),
    ),
    (
        "published",
        N_("text"),
        N_(
            "When the statement was first published: the quarter, like 2026 Q4, or only the year where "
            "the quarter it was decided in had to be coarsened to its year."
        ),
    ),
    (
        "withdrawn",
        N_("text"),
        N_("For a withdrawn statement: when it was withdrawn, as a quarter or a year like published."),
    ),
    ("withdrawn_reason", N_("text"), N_("For a withdrawn statement: why, in public words.")),
)


def as_record(shown: ShownStatement) -> dict[str, Any]:
    record: dict[str, Any] = {
        "number": shown.number,
        "status": shown.status,
        "decision": shown.decision,
        "rule_title": shown.rule.title,
        "rule_legal_reference": shown.rule.legal_reference,
        "rule_issuing_body": shown.rule.issuing_body,
        "rule_slug": shown.rule.slug,
        "category": shown.category,
        "sector": shown.sector,
        "region": shown.area,
        "decided": shown.period,
        "working_days": shown.working_days,
        "remedy": shown.remedy,
        "reason_code": shown.reason_code,
        "resolution": shown.resolution,
        "summary": shown.summary,
        "cites": list(shown.cites),
        "published": shown.published,
        "withdrawn": shown.withdrawn,
        "withdrawn_reason": shown.withdrawn_reason,
    }
    assert list(record) == [name for name, _, _ in STATEMENT_FIELDS]
    return record


def as_csv(statements: Sequence[ShownStatement]) -> str:
    """The statements as CSV, a header row first; no cell can run as a spreadsheet formula."""
    header = [name for name, _, _ in STATEMENT_FIELDS]
    rows: list[list[Any]] = [list(header)]
    for shown in statements:
        record = as_record(shown)
        record["cites"] = " ".join(record["cites"])
        rows.append([record[name] for name in header])
    return csv_export.write(rows)
