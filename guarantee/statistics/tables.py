"""The protected tables of a release: every list and cross-table under the disclosure rules
(``disclosure``), or with noise (``privacy``), the share upheld and the working days taken.

Tables that share numbers hide the same ones, and the share and the times are worked out from
what the tables publish, so that nothing here gives more away than the counts shown.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from guarantee.statistics.counting import CROSSES, DECIDED_GROUPS, Counts
from guarantee.statistics.disclosure import (
    SUPPRESSED,
    CrossTable,
    Published,
    Rules,
    protect_cross,
    protect_list,
    round_to_base,
)
from guarantee.statistics.privacy import Mechanism, cell_margin, fit, line_margins, sum_margin
from workflows.words import N_

# The titles and labels are stored in English in each release; the pages say them in the
# reader's language (they are marked for translation here).
TIMES = {
    "decision": N_("From submission to a decision"),
    "resolution": N_("From submission to resolution"),
}

LIST_TABLES: dict[str, tuple[str, str]] = {
    "by_category": ("category", N_("Claims by barrier category")),
    "by_regulation": ("regulation", N_("Claims by regulation (catalogue entry)")),
    "by_sector": ("sector", N_("Claims by sector")),
    "by_region": ("region", N_("Claims by region")),
    "by_outcome": ("outcome", N_("Claims by outcome")),
    "by_quarter": ("quarter", N_("Claims by quarter submitted")),
}
CROSS_TABLES: dict[str, str] = {
    "category_by_outcome": N_("Barrier category by outcome"),
    "category_by_region": N_("Barrier category by region"),
}
# A list table whose cells are the row or column totals of a cross-table: what one hides, the
# other must hide too.
LINKS: dict[tuple[str, str], str] = {
    ("category_by_outcome", "row"): "by_category",
    ("category_by_outcome", "col"): "by_outcome",
    ("category_by_region", "row"): "by_category",
    ("category_by_region", "col"): "by_region",
}


def protected_tables(counts: Counts, rules: Rules) -> tuple[dict[str, Any], dict[str, CrossTable[str, str]]]:
    """Every list and cross-table under the disclosure rules. Tables that share numbers (a
    cross-table's totals are a list table's cells, and every table has the same grand total)
    hide the same ones: protection is repeated with what the others hid until nothing changes."""
    hide: dict[str, set[str]] = {name: set() for name in LIST_TABLES}
    hide_lines: dict[str, set[tuple[str, Any]]] = {name: set() for name in CROSS_TABLES}
    hide_total = False
    while True:
        lists = {
            name: protect_list(counts.lists[dimension], rules, hide=sorted(hide[name]), hide_total=hide_total)
            for name, (dimension, _) in LIST_TABLES.items()
        }
        crosses: dict[str, CrossTable[str, str]] = {}
        for name in CROSS_TABLES:
            rows_dimension, cols_dimension = CROSSES[name]
            rows, cols = list(counts.lists[rows_dimension]), list(counts.lists[cols_dimension])
            crosses[name] = protect_cross(
                counts.crosses[name],
                rows,
                cols,
                rules,
                dominance=name == "category_by_outcome",
                hide_lines=hide_lines[name] | ({("grand", None)} if hide_total else set()),
            )
        changed = False
        for (name, side), linked in LINKS.items():
            table = crosses[name]
            hidden_here = {
                k for k, v in (table.row_totals if side == "row" else table.col_totals).items() if v == SUPPRESSED
            }
            hidden_there = {k for k, v in lists[linked][0].items() if v == SUPPRESSED}
            for key in hidden_here - hidden_there:
                hide[linked].add(key)
                changed = True
            for key in hidden_there - hidden_here:
                hide_lines[name].add((side, key))
                changed = True
        grands = [total for _, total in lists.values()] + [t.grand_total for t in crosses.values()]
        if SUPPRESSED in grands and not hide_total:
            hide_total = changed = True
        if not changed:
            return lists, crosses


def _list_table(
    name: str,
    counts: Counts,
    cells: Mapping[str, Published],
    total: Published,
    *,
    margins: Mapping[str, int] | None = None,
    total_margin: int | None = None,
) -> dict[str, Any]:
    dimension, title = LIST_TABLES[name]
    rows = []
    for key in counts.lists[dimension]:
        row: dict[str, Any] = {"key": key, "label": counts.labels[dimension][key], "count": cells[key]}
        if margins is not None:
            row["margin"] = margins[key]
        rows.append(row)
    table: dict[str, Any] = {
        "id": name,
        "kind": "counts",
        "title": title,
        "dimension": dimension,
        "rows": rows,
        "total": total,
    }
    if total_margin is not None:
        table["total_margin"] = total_margin
    return table


def _cross_table(
    name: str,
    counts: Counts,
    *,
    cells: Mapping[tuple[str, str], Published],
    row_totals: Mapping[str, Published],
    col_totals: Mapping[str, Published],
    total: Published,
    margins: dict[str, Any] | None = None,
) -> dict[str, Any]:
    rows_dimension, cols_dimension = CROSSES[name]
    cols = list(counts.lists[cols_dimension])
    table: dict[str, Any] = {
        "id": name,
        "kind": "cross",
        "title": CROSS_TABLES[name],
        "row_dimension": rows_dimension,
        "column_dimension": cols_dimension,
        "columns": [{"key": c, "label": counts.labels[cols_dimension][c]} for c in cols],
        "rows": [
            {
                "key": r,
                "label": counts.labels[rows_dimension][r],
                "counts": [cells[(r, c)] for c in cols],
                "total": row_totals[r],
            }
            for r in counts.lists[rows_dimension]
        ],
        "column_totals": [col_totals[c] for c in cols],
        "total": total,
    }
    if margins is not None:
        for i, row in enumerate(table["rows"]):
            row["margins"] = margins["cells"][i]
            row["total_margin"] = margins["rows"][i]
        table["column_total_margins"] = margins["cols"]
        table["total_margin"] = margins["total"]
    return table


def wilson(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The 95% Wilson score interval for a proportion."""
    if n == 0:
        raise ValueError("no trials")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _percent(x: float) -> int:
    return math.floor(100 * x + 0.5)


def share_upheld(counts: Counts, published: Mapping[str, tuple[int, int] | None]) -> dict[str, Any]:
    """The share of claims decided on their merits that were upheld, for all claims and for each
    category, worked out from the *published* (rounded) counts: upheld, and not upheld or under
    appeal. Nothing here is more exact than the tables, so it gives nothing more away, in one
    release or between two. A line whose counts are hidden (None in ``published``) is hidden."""
    lines = [("all", N_("All claims"))] + [(k, counts.labels["category"][k]) for k in counts.lists["category"]]
    rows = []
    for key, heading in lines:
        row: dict[str, Any] = {"key": key, "label": heading}
        shown = published.get(key)
        if shown is None:
            row.update(decided=SUPPRESSED, percent=SUPPRESSED, low=SUPPRESSED, high=SUPPRESSED)
        elif sum(shown) == 0:
            row.update(decided=0, percent=None, low=None, high=None)
        else:
            upheld, n = shown[0], sum(shown)
            low, high = wilson(upheld, n)
            row.update(decided=n, percent=_percent(upheld / n), low=_percent(low), high=_percent(high))
        rows.append(row)
    return {"id": "share_upheld", "kind": "share", "title": N_("Share of claims upheld"), "rows": rows}


def _decided(cells: Mapping[str, Published]) -> tuple[int, int] | None:
    """(upheld, not upheld or under appeal) as published, or None if any of them is hidden."""
    values = [cells[g] for g in DECIDED_GROUPS]
    if any(not isinstance(v, int) for v in values):
        return None
    counts = [int(v) for v in values]
    return counts[0], sum(counts[1:])


def _round(n: int, rules: Rules) -> int:
    return round_to_base(n, rules.base)


def nearest_rank(values: Sequence[int], q: float) -> int:
    """The ``q`` quantile by nearest rank: a value that some claim actually had."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


TIMES_AT_LEAST = 50  # claims a median or a 90th percentile is worked out from, at least


def working_days(counts: Counts, rules: Rules, hide: Collection[str] = ()) -> dict[str, Any]:
    """The median and 90th percentile working days, rounded to the rounding base, from at least
    ``TIMES_AT_LEAST`` claims: one claim more or less can then move them by no more than a
    neighbour's time, blurred by the rounding. The rows in ``hide`` are hidden, with their number
    of claims (the claims decided are the sum of four published outcomes: if one of those is
    hidden, that number would give it away)."""
    rows = []
    for key, heading in TIMES.items():
        values = counts.days[key]
        n = len(values)
        row: dict[str, Any] = {"key": key, "label": heading}
        if key in hide:
            row.update(claims=SUPPRESSED, median=SUPPRESSED, p90=SUPPRESSED)
        elif n == 0:
            row.update(claims=0, median=None, p90=None)
        elif n < rules.threshold:
            row.update(claims=SUPPRESSED, median=SUPPRESSED, p90=SUPPRESSED)
        elif n < TIMES_AT_LEAST:
            row.update(claims=_round(n, rules), median=SUPPRESSED, p90=SUPPRESSED)
        else:
            row.update(
                claims=_round(n, rules),
                median=_round(nearest_rank(values, 0.5), rules),
                p90=_round(nearest_rank(values, 0.9), rules),
            )
        rows.append(row)
    return {"id": "working_days", "kind": "times", "title": N_("Working days taken"), "rows": rows}


def disclosure_controlled(counts: Counts, rules: Rules) -> list[dict[str, Any]]:
    """Every table of a release made under disclosure control: the lists and cross-tables, then the
    share upheld and the working days, worked out from what those publish."""
    lists, crosses = protected_tables(counts, rules)
    tables = [_list_table(name, counts, *lists[name]) for name in LIST_TABLES]
    for name, cross in crosses.items():
        tables.append(
            _cross_table(
                name,
                counts,
                cells=cross.cells,
                row_totals=cross.row_totals,
                col_totals=cross.col_totals,
                total=cross.grand_total,
            )
        )
    # The share is worked out from the published counts; the claims decided would give away
    # a hidden outcome count they are the sum of.
    by_outcome, cross = lists["by_outcome"][0], crosses["category_by_outcome"]
    published: dict[str, tuple[int, int] | None] = {"all": _decided(by_outcome)}
    published |= {k: _decided({g: cross.cells[(k, g)] for g in DECIDED_GROUPS}) for k in cross.rows}
    decision_parts = (*DECIDED_GROUPS, "declined")
    hide_times = {"decision"} if any(by_outcome[g] == SUPPRESSED for g in decision_parts) else set()
    tables += [share_upheld(counts, published), working_days(counts, rules, hide_times)]
    return tables


def with_noise(counts: Counts, epsilon: float) -> tuple[list[dict[str, Any]], Mechanism]:
    """Every list and cross-table with noise (differential privacy), each number with its 95% margin;
    no share and no times (they are not counts)."""
    mechanism = Mechanism.for_epsilon(epsilon)
    tables: list[dict[str, Any]] = []
    for name, (dimension, _) in LIST_TABLES.items():
        keys = list(counts.lists[dimension])
        fitted = fit(mechanism.measure([counts.lists[dimension][k] for k in keys]))
        margin = cell_margin(mechanism.scale, fitted.shift)
        tables.append(
            _list_table(
                name,
                counts,
                dict(zip(keys, fitted.cells, strict=True)),
                fitted.total,
                margins=dict.fromkeys(keys, margin),
                total_margin=sum_margin(mechanism.scale, len(keys)),
            )
        )
    for name in CROSS_TABLES:
        rows_dimension, cols_dimension = CROSSES[name]
        rows, cols = list(counts.lists[rows_dimension]), list(counts.lists[cols_dimension])
        true = [counts.crosses[name].get((r, c), 0) for r in rows for c in cols]
        fitted = fit(mechanism.measure(true))
        grid = [fitted.cells[i * len(cols) : (i + 1) * len(cols)] for i in range(len(rows))]
        margin = cell_margin(mechanism.scale, fitted.shift)
        row_margins, col_margins = line_margins(grid, mechanism.scale, seed=f"{name}:{fitted.cells}")
        tables.append(
            _cross_table(
                name,
                counts,
                cells={(r, c): grid[i][j] for i, r in enumerate(rows) for j, c in enumerate(cols)},
                row_totals={r: sum(grid[i]) for i, r in enumerate(rows)},
                col_totals={c: sum(line[j] for line in grid) for j, c in enumerate(cols)},
                total=fitted.total,
                margins={
                    "cells": [[margin] * len(cols) for _ in rows],
                    "rows": row_margins,
                    "cols": col_margins,
                    "total": sum_margin(mechanism.scale, len(true)),
                },
            )
        )
    return tables, mechanism
