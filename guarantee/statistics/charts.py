"""The geometry of the statistics charts: each bar, whisker, label and tick of a table's
horizontal bar chart, as plain numbers for the template to draw as SVG.

Across a chart, positions are percentages of its width, so the bars stretch with the screen
(from 320 px up) while the text keeps its real size; down a chart, positions are pixels. Each
label has its own lines above its bar, wrapped to fit a phone, and the number is printed after
the bar (or its whisker). A hidden number (``[c]``) has no bar at all, never a bar of 0.

Nothing here reads a database or a request: a chart is made from one table of a release. Its
words are said in the language of the moment (gettext: English outside a request), so a chart
is made for each reader from the table the page has already said in their language.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from guarantee.statistics.disclosure import SUPPRESSED
from workflows.words import N_

PLOT = 70.0  # the longest bar, in % of the chart's width: the rest is room for its number
LABEL_CHARS = 30  # characters per label line: about 250 px of 16 px text, inside a 320 px screen
LINE = 20  # px per label line
BAR = 20  # px, the height of a bar
GAP = 14  # px between a bar and the next label
AXIS = 46  # px below the last bar, for the tick labels and what the axis counts

# What the first column of a table is headed, by the dimension of its rows.
DIMENSIONS = {
    "category": N_("Barrier category"),
    "regulation": N_("Regulation"),
    "sector": N_("Sector"),
    "region": N_("Region"),
    "outcome": N_("Outcome"),
    "quarter": N_("Quarter submitted"),
}


@dataclass(frozen=True)
class Point:
    """One bar to draw: its label, its value (None: nothing to draw), its 95% whisker, if any,
    and the words printed after it."""

    label: str
    value: float | None
    text: str
    low: float | None = None
    high: float | None = None
    suppressed: bool = False


@dataclass(frozen=True)
class Tick:
    value: int
    x: float  # % of the chart's width
    text: str


@dataclass(frozen=True)
class Bar:
    label: str
    label_lines: tuple[tuple[str, int], ...]  # each line of the label and its baseline (px)
    y: int  # the top of the bar (px)
    width: float  # % of the chart's width; 0 draws no bar
    low: float | None  # the whisker's ends (%), when the number has a margin or an interval
    high: float | None
    text: str
    text_x: float  # where the number starts (%)
    text_y: int  # its baseline (px)
    suppressed: bool


@dataclass(frozen=True)
class Chart:
    id: str
    summary: str  # what the chart shows, in one or two sentences: its accessible name
    unit: str  # what the axis counts
    height: int
    axis_y: int
    ticks: tuple[Tick, ...]
    bars: tuple[Bar, ...]


def scale(top: float, steps: int = 4) -> tuple[int, int]:
    """A round end for the axis at or above ``top``, and the step between its ticks: a whole
    1, 2, 2.5 or 5 times a power of ten, about ``steps`` of them. An empty chart gets 0 to 10."""
    if top <= 0:
        return 10, 5
    wanted = top / steps
    power = 1
    while True:
        for multiple in (1, 2, 5) if power == 1 else (1, 2, 2.5, 5):
            step = int(multiple * power)
            if step >= wanted:
                return step * math.ceil(top / step), step
        power *= 10


def shown(value: Any) -> str:
    """A published number as printed: 1,234; [c] and anything else as it is."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _count_point(label: str, value: Any, margin: Any) -> Point:
    """A count as published: a number (with its margin, in a release with noise) or [c]."""
    if value == SUPPRESSED:
        return Point(label, None, SUPPRESSED, suppressed=True)
    number = _number(value)
    if number is None:
        return Point(label, None, "–")
    if isinstance(margin, int | float):
        return Point(label, number, f"{shown(value)} ± {shown(margin)}", max(0.0, number - margin), number + margin)
    return Point(label, number, shown(value))


def points(table: Mapping[str, Any]) -> tuple[list[Point], str]:
    """The bars of a table's chart and what its axis counts. A cross-table is charted by its
    row totals (its cells are all in its table)."""
    kind = table["kind"]
    if kind == "counts":
        found = [_count_point(r["label"], r["count"], r.get("margin")) for r in table["rows"]]
        return found, _("Claims")
    if kind == "cross":
        found = [_count_point(r["label"], r["total"], r.get("total_margin")) for r in table["rows"]]
        return found, _("Claims")
    if kind == "share":
        found = []
        for row in table["rows"]:
            percent = row["percent"]
            if percent == SUPPRESSED:
                found.append(Point(row["label"], None, SUPPRESSED, suppressed=True))
            elif _number(percent) is None:
                found.append(Point(row["label"], None, _("No claims decided yet")))
            else:
                found.append(Point(row["label"], percent, f"{percent}%", _number(row["low"]), _number(row["high"])))
        return found, _("Per cent upheld")
    if kind == "times":
        found = []
        for row in table["rows"]:
            for key in ("median", "p90"):
                value = row[key]
                label = (
                    _("%(time)s: median", time=row["label"])
                    if key == "median"
                    else _("%(time)s: 90th percentile", time=row["label"])
                )
                if value == SUPPRESSED:
                    found.append(Point(label, None, SUPPRESSED, suppressed=True))
                elif _number(value) is None:
                    found.append(Point(label, None, _("No claims yet")))
                else:
                    found.append(Point(label, value, shown(value)))
        return found, _("Working days")
    raise ValueError(f"no chart for a table of kind {kind!r}")


def chart(table: Mapping[str, Any]) -> Chart:
    """The chart of one table of a release."""
    found, unit = points(table)
    top = max((p.high if p.high is not None else p.value or 0 for p in found), default=0)
    if table["kind"] == "share":
        maximum, step = 100, 25
    else:
        maximum, step = scale(top)
    percent = table["kind"] == "share"
    summary = _summary(table, found)
    return layout(table["id"], summary, found, unit, maximum=maximum, step=step, percent=percent)


def layout(
    chart_id: str,
    summary: str,
    found: Sequence[Point],
    unit: str,
    *,
    maximum: int,
    step: int,
    percent: bool = False,
) -> Chart:
    """Where everything goes, for an axis from 0 to ``maximum`` with a tick every ``step`` (in per
    cent with ``percent``)."""

    def x(value: float) -> float:
        return round(PLOT * value / maximum, 2)

    bars = []
    y = 0
    for point in found:
        lines = []
        for line in textwrap.wrap(point.label, LABEL_CHARS) or [""]:
            y += LINE
            lines.append((line, y - 5))
        top = y + 2
        width = x(point.value) if point.value else 0.0
        low = x(point.low) if point.low is not None else None
        high = x(point.high) if point.high is not None else None
        bars.append(
            Bar(
                label=point.label,
                label_lines=tuple(lines),
                y=top,
                width=width,
                low=low,
                high=high,
                text=point.text,
                text_x=max(width, high or 0.0),
                text_y=top + BAR - 5,
                suppressed=point.suppressed,
            )
        )
        y = top + BAR + GAP
    axis_y = y - GAP + 4
    ticks = tuple(Tick(v, x(v), f"{v}%" if percent else shown(v)) for v in range(0, maximum + 1, step))
    return Chart(chart_id, summary, unit, axis_y + AXIS, axis_y, ticks, tuple(bars))


def _summary(table: Mapping[str, Any], found: Sequence[Point]) -> str:
    """The chart in words: what it shows, its largest bar and how many numbers are hidden."""
    title, kind = table["title"], table["kind"]
    if kind == "cross":
        what = _("Bar chart of the row totals of “%(title)s”, in claims.", title=title)
    elif kind == "share":
        what = _("Bar chart of “%(title)s”, in per cent upheld.", title=title)
    elif kind == "times":
        what = _("Bar chart of “%(title)s”, in working days.", title=title)
    else:
        what = _("Bar chart of “%(title)s”, in claims.", title=title)
    words = [what]
    drawn = [p for p in found if p.value is not None]
    if drawn:
        largest = max(drawn, key=lambda p: p.value or 0)
        words.append(_("The largest is %(label)s: %(number)s.", label=largest.label, number=largest.text))
    hidden = sum(p.suppressed for p in found)
    if hidden:
        words.append(
            _(
                "%(hidden)s of %(numbers)s numbers are hidden (%(symbol)s).",
                hidden=hidden,
                numbers=len(found),
                symbol=SUPPRESSED,
            )
        )
    words.append(_("The table that follows gives every number."))
    return " ".join(words)


def has_suppressed(table: Mapping[str, Any]) -> bool:
    """Whether the table shows [c] anywhere: it then carries a note saying what that means."""
    return SUPPRESSED in _values(table)


def _values(table: Mapping[str, Any]) -> list[Any]:
    kind = table["kind"]
    if kind == "counts":
        return [r["count"] for r in table["rows"]] + [table["total"]]
    if kind == "cross":
        return [v for r in table["rows"] for v in (*r["counts"], r["total"])] + [
            *table["column_totals"],
            table["total"],
        ]
    if kind == "share":
        return [r[k] for r in table["rows"] for k in ("decided", "percent", "low", "high")]
    return [r[k] for r in table["rows"] for k in ("claims", "median", "p90")]


def headline(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The few numbers at the top of the page: (figure, what it is). A hidden number is left out:
    its table says why it is hidden, which a headline cannot."""
    tables = {t["id"]: t for t in document["tables"]}
    figures: list[tuple[str, str]] = []
    outcome = tables.get("by_outcome")
    if outcome is not None and _number(outcome["total"]) is not None:
        figures.append((_with_margin(outcome["total"], outcome.get("total_margin")), _("claims counted")))
    share = tables.get("share_upheld")
    everyone = next((r for r in share["rows"] if r["key"] == "all"), None) if share else None
    if everyone is not None and _number(everyone["percent"]) is not None:
        figures.append(
            (
                f"{everyone['percent']}%",
                _(
                    "of the %(decided)s claims decided on their merits were upheld "
                    "(95%% interval %(low)s%% to %(high)s%%)",
                    decided=shown(everyone["decided"]),
                    low=everyone["low"],
                    high=everyone["high"],
                ),
            )
        )
    elif outcome is not None:
        upheld = next((r for r in outcome["rows"] if r["key"] == "upheld"), None)
        if upheld is not None and _number(upheld["count"]) is not None:
            figures.append((_with_margin(upheld["count"], upheld.get("margin")), _("claims upheld")))
    times = tables.get("working_days")
    decision = next((r for r in times["rows"] if r["key"] == "decision"), None) if times else None
    if decision is not None and _number(decision["median"]) is not None:
        figures.append(
            (
                _("%(median)s working days", median=decision["median"]),
                _("the median time to a decision: half the claims decided took this long or less"),
            )
        )
    return figures


def _with_margin(value: Any, margin: Any) -> str:
    return f"{shown(value)} ± {shown(margin)}" if margin is not None else shown(value)
