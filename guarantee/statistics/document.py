"""The release document: built from the counts and the protected tables, with notes in plain
English on how it was made; its canonical bytes (what is stored, served and hashed), and its CSV.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from guarantee import csv_export
from guarantee.statistics.counting import Counts
from guarantee.statistics.disclosure import SUPPRESSED, Rules
from guarantee.statistics.tables import TIMES_AT_LEAST, disclosure_controlled, with_noise
from workflows.words import N_, Words, words

FORMAT = 1
DISCLOSURE_CONTROL = "disclosure_control"
DIFFERENTIAL_PRIVACY = "differential_privacy"


@dataclass(frozen=True)
class Settings:
    """How a release is made: its disclosure rules, the series start and, for a release with
    noise, the epsilon of each table."""

    rules: Rules = field(default_factory=Rules)
    series_start: date = date(2026, 1, 1)
    epsilon: float | None = None

    @property
    def method(self) -> str:
        return DISCLOSURE_CONTROL if self.epsilon is None else DIFFERENTIAL_PRIVACY


def settings_from(config: Mapping[str, Any], *, private: bool = False, epsilon: float | None = None) -> Settings:
    """The release settings from the app's configuration (GUARANTEE_STATISTICS_*)."""
    rules = Rules(
        threshold=int(config.get("GUARANTEE_STATISTICS_THRESHOLD", 10)),
        base=int(config.get("GUARANTEE_STATISTICS_ROUNDING_BASE", 5)),
        dominance_below=int(config.get("GUARANTEE_STATISTICS_DOMINANCE_BELOW", 25)),
    )
    start = config.get("GUARANTEE_STATISTICS_SERIES_START", "2026-01-01")
    series_start = start if isinstance(start, date) else date.fromisoformat(str(start))
    if private or epsilon is not None:
        epsilon = float(epsilon if epsilon is not None else config.get("GUARANTEE_STATISTICS_EPSILON", 0.5))
    return Settings(rules=rules, series_start=series_start, epsilon=epsilon)


def build(counts: Counts, settings: Settings, number: int, published_at: datetime) -> dict[str, Any]:
    """The release document. Given the same counts, settings, number and time, the same document
    (for a release with noise, the noise differs every time)."""
    document: dict[str, Any] = {
        "format": FORMAT,
        "release": number,
        "published_at": published_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "period": {"start": counts.period_start.isoformat(), "end": counts.period_end.isoformat()},
        "method": settings.method,
        "suppressed": SUPPRESSED,
    }
    if settings.epsilon is None:
        rules = settings.rules
        tables = disclosure_controlled(counts, rules)
        document["rules"] = {
            "threshold": rules.threshold,
            "rounding_base": rules.base,
            "dominance_below": rules.dominance_below,
        }
    else:
        tables, mechanism = with_noise(counts, settings.epsilon)
        document["rules"] = {
            "noise": N_("discrete Laplace (OpenDP)"),
            "epsilon_per_table": mechanism.epsilon,
            "epsilon_total": round(mechanism.epsilon * len(tables), 12),
            "scale": mechanism.scale,
            "confidence": 0.95,
        }
    document["notes"] = notes(settings, document["rules"])
    document["tables"] = tables
    return document


def notes(settings: Settings, rules: Mapping[str, Any]) -> list[Words]:
    """How the release was made and protected, in plain English (each note a sentence that the
    pages say again in the reader's language: ``said_notes``)."""
    return _notes(settings.epsilon is not None, rules)


def _notes(private: bool, rules: Mapping[str, Any]) -> list[Words]:
    common = [
        words(
            "Every claim submitted in the period is counted once in each table, in the state it was in "
            "when the release was made. The series is cumulative: each release counts every claim since "
            "the series began."
        ),
        words(
            "A claim's barrier category is the one our officers gave it, or the one the group chose if it "
            "has not been classified yet. The lists of categories, sectors, regions, outcomes and quarters "
            "are fixed and public, so a row appears even when no claim is in it."
        ),
    ]
    if not private:
        t, base, dominance = rules["threshold"], rules["rounding_base"], rules["dominance_below"]
        return [
            *common,
            words(
                "To protect the groups who made claims, a number from 1 to %(highest)s is shown as %(hidden)s. "
                "Every other number, totals included, is rounded to the nearest %(base)s, so rows may not add "
                "up exactly to their totals.",
                highest=t - 1,
                hidden=SUPPRESSED,
                base=base,
            ),
            words(
                "Where a hidden number could be worked out from the totals of its row or column, or from "
                "another table, more numbers are hidden too. In the category by outcome table, a category "
                "with fewer than %(dominance)s claims that all had the same outcome is hidden.",
                dominance=dominance,
            ),
            words(
                "Before a release is published it is checked against every earlier one, so that the "
                "difference between two releases cannot give away a small number either."
            ),
            words(
                "The share upheld is worked out from the rounded numbers of claims decided on their merits "
                "(upheld, not upheld, or under appeal) shown in the tables, with a 95%% confidence interval "
                "(Wilson), so it is close to, not exactly, the true share. Working days leave out weekends and "
                "bank holidays in the claim's nation; the median and the 90th percentile are shown from "
                "%(at_least)s claims, rounded to the nearest %(base)s working days.",
                at_least=TIMES_AT_LEAST,
                base=base,
            ),
        ]
    return [
        *common,
        words(
            "The numbers in this release have random noise added (the discrete Laplace mechanism of OpenDP), "
            "which gives differential privacy with epsilon %(per_table)s for each table, "
            "%(total)s for the whole release: adding or removing any one claim changes the "
            "chance of any result by a bounded factor. The bound covers this release alone: every release of "
            "the same claims adds its epsilon to the total, and releases made by hiding small numbers are not "
            "covered by it. A claim whose outcome changed between releases counts as two claims.",
            per_table=f"{rules['epsilon_per_table']:g}",
            total=f"{rules['epsilon_total']:g}",
        ),
        words(
            "Noisy counts below zero are shown as zero, and counts are adjusted so that each table adds up "
            "to its total. The margin next to each number is the half-width of its %(percent)s%% interval: the "
            "true number is within it %(percent)s times out of 100.",
            percent=95,
        ),
        words(
            "Shares and times are not published in a release with noise: they are not counts, and their "
            "uncertainty would be larger than the intervals we could show."
        ),
    ]


def said_notes(document: Mapping[str, Any]) -> list[Words] | None:
    """A published release's notes as sentences to say again in the reader's language; None if
    they are not the notes this code writes (a release made by an earlier version of it), which
    are then shown as they were published."""
    try:
        made = _notes(document["method"] == DIFFERENTIAL_PRIVACY, document["rules"])
    except (KeyError, TypeError, ValueError):
        return None
    return made if [str(note) for note in made] == list(document.get("notes", [])) else None


def canonical(document: Mapping[str, Any]) -> bytes:
    """The bytes that are stored, served and hashed."""
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def as_csv(document: Mapping[str, Any]) -> str:
    """Every number of a release as one CSV row: which table, row and column (key and words),
    the value, and for a release with noise its 95% margin. Row words can be catalogue titles
    that officers typed: ``csv_export`` keeps them from running as spreadsheet formulas."""
    private = document["method"] == DIFFERENTIAL_PRIVACY
    release = document["release"]
    rows: list[list[Any]] = [
        ["release", "table", "row_key", "row", "column_key", "column", "value", *(["margin_95"] if private else [])]
    ]
    for table in document["tables"]:
        for (row_key, row), (column_key, column), value, margin in _cells(table):
            rows.append([release, table["id"], row_key, row, column_key, column, value, *([margin] if private else [])])
    return csv_export.write(rows)


TOTAL = ("total", "Total")


def _cells(table: Mapping[str, Any]) -> Iterable[tuple[tuple[str, str], tuple[str, str], Any, Any]]:
    kind = table["kind"]
    if kind == "counts":
        claims = ("claims", "Claims")
        for row in table["rows"]:
            yield (row["key"], row["label"]), claims, row["count"], row.get("margin", "")
        yield TOTAL, claims, table["total"], table.get("total_margin", "")
    elif kind == "cross":
        columns = [(c["key"], c["label"]) for c in table["columns"]]
        for row in table["rows"]:
            margins = row.get("margins", [""] * len(columns))
            for column, value, margin in zip(columns, row["counts"], margins, strict=True):
                yield (row["key"], row["label"]), column, value, margin
            yield (row["key"], row["label"]), TOTAL, row["total"], row.get("total_margin", "")
        col_margins = table.get("column_total_margins", [""] * len(columns))
        for column, value, margin in zip(columns, table["column_totals"], col_margins, strict=True):
            yield TOTAL, column, value, margin
        yield TOTAL, TOTAL, table["total"], table.get("total_margin", "")
    else:
        measures = {
            "share": {
                "decided": "Claims decided",
                "percent": "Per cent upheld",
                "low": "95% interval from",
                "high": "95% interval to",
            },
            "times": {"claims": "Claims", "median": "Median working days", "p90": "90th percentile working days"},
        }[kind]
        for row in table["rows"]:
            for key, words in measures.items():
                yield (row["key"], row["label"]), (key, words), _blank(row[key]), ""


def _blank(value: Any) -> Any:
    return "" if value is None else value
