"""Statistical disclosure control for the published tables (DESIGN 7), as a small library.

The default is the ONS "10-5" rule: a count from 1 to 9 is shown as ``[c]``; every other count,
totals included, is rounded to the nearest 5. In a table with totals, suppressing one cell is not
enough: with its row or column total, it could be worked out. So more cells are suppressed
(secondary suppression) until no suppressed cell is determined by the published totals, taking
the totals as if they were exact (the worst case: rounding only blurs them). Whether a cell is
determined is decided exactly, by linear algebra over the fractions, not by rules of thumb.

A cross-table by outcome has one more rule: a row of fewer than ``dominance_below`` claims that all
have one outcome would tell anyone who knows one claim in it the outcome of the others, so its
cells are suppressed too.

Nothing here touches a database: a table is a mapping from its cells to counts.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Generic, TypeVar

SUPPRESSED = "[c]"

Row = TypeVar("Row", bound=Hashable)
Col = TypeVar("Col", bound=Hashable)
Published = int | str  # a rounded count, or SUPPRESSED


@dataclass(frozen=True)
class Rules:
    """Counts from 1 to ``threshold - 1`` are suppressed; what is shown is rounded to ``base``."""

    threshold: int = 10
    base: int = 5
    dominance_below: int = 25

    def __post_init__(self) -> None:
        if self.threshold < 1 or self.base < 1 or self.dominance_below < 0:
            raise ValueError("threshold and base must be at least 1, dominance_below at least 0")

    def describe(self) -> str:
        return (
            f"Counts from 1 to {self.threshold - 1} are shown as {SUPPRESSED}; every other number, totals "
            f"included, is rounded to the nearest {self.base}. Where a hidden count could be worked out from "
            "its row or column total, further counts are hidden too. A row of fewer than "
            f"{self.dominance_below} claims that all had the same outcome is hidden."
        )


def round_to_base(count: int, base: int) -> int:
    """The nearest multiple of ``base`` (halves round up): 12 -> 10, 13 -> 15, 0 -> 0."""
    if count < 0:
        raise ValueError("counts are never negative")
    return ((2 * count + base) // (2 * base)) * base


def is_primary(count: int, rules: Rules) -> bool:
    """A count small enough to identify someone on its own."""
    return 0 < count < rules.threshold


def protect_list(
    counts: Mapping[Row, int],
    rules: Rules = Rules(),
    *,
    hide: Iterable[Row] = (),
    hide_total: bool = False,
) -> tuple[dict[Row, Published], Published]:
    """A one-way table with its total: (published cells, published total). ``hide`` and
    ``hide_total`` hide what another table of the same release had to hide."""
    cross = protect_cross(
        {(key, "n"): n for key, n in counts.items()},
        list(counts),
        ["n"],
        rules,
        row_totals=False,
        hide_cells={(key, "n") for key in hide},
        hide_lines={("grand", None)} if hide_total else set(),
    )
    return {key: cross.cells[(key, "n")] for key in counts}, cross.grand_total


@dataclass
class CrossTable(Generic[Row, Col]):
    rows: list[Row]
    cols: list[Col]
    cells: dict[tuple[Row, Col], Published]
    row_totals: dict[Row, Published]
    col_totals: dict[Col, Published]
    grand_total: Published


def protect_cross(
    counts: Mapping[tuple[Row, Col], int],
    rows: Sequence[Row],
    cols: Sequence[Col],
    rules: Rules = Rules(),
    *,
    dominance: bool = False,
    row_totals: bool = True,
    hide_cells: Iterable[tuple[Row, Col]] = (),
    hide_lines: Iterable[tuple[str, Hashable]] = (),
) -> CrossTable[Row, Col]:
    """Protect a cross-table of ``rows`` x ``cols`` with row, column and grand totals. With
    ``dominance``, a small row whose claims all fall in one column is suppressed. Without
    ``row_totals`` (a one-way table), no row total is published. ``hide_cells`` and
    ``hide_lines`` (``("row", r)``, ``("col", c)``, ``("grand", None)``) are hidden whatever their
    counts: what a linked table of the same release hid must stay hidden here."""
    table = {(r, c): int(counts.get((r, c), 0)) for r in rows for c in cols}
    if any(n < 0 for n in table.values()):
        raise ValueError("counts are never negative")
    hidden = {cell for cell, n in table.items() if is_primary(n, rules)} | set(hide_cells)
    if dominance:
        for r in rows:
            line = [table[(r, c)] for c in cols]
            total = sum(line)
            if 0 < total < rules.dominance_below and max(line) == total:
                # Its zeros too, or they would show the one column its claims are in (bar the
                # columns nobody is in, which every other table shows are empty).
                hidden |= {(r, c) for c in cols if _col(table, c, rows) > 0}
    hidden_totals: set[tuple[str, Hashable]] = {
        ("row", r) for r in rows if not row_totals or is_primary(_row(table, r, cols), rules)
    }
    hidden_totals |= {("col", c) for c in cols if is_primary(_col(table, c, rows), rules)}
    if unpublished_grand(table, rules):
        hidden_totals.add(("grand", None))
    hidden_totals |= set(hide_lines)
    hidden, hidden_totals = secondary(table, rows, cols, hidden, hidden_totals, row_totals=row_totals)
    return CrossTable(
        rows=list(rows),
        cols=list(cols),
        cells={cell: SUPPRESSED if cell in hidden else round_to_base(n, rules.base) for cell, n in table.items()},
        row_totals={
            r: SUPPRESSED if ("row", r) in hidden_totals else round_to_base(_row(table, r, cols), rules.base)
            for r in rows
        },
        col_totals={
            c: SUPPRESSED if ("col", c) in hidden_totals else round_to_base(_col(table, c, rows), rules.base)
            for c in cols
        },
        grand_total=SUPPRESSED if ("grand", None) in hidden_totals else round_to_base(sum(table.values()), rules.base),
    )


def unpublished_grand(table: Mapping[tuple[Row, Col], int], rules: Rules) -> bool:
    return is_primary(sum(table.values()), rules)


def _row(table: Mapping[tuple[Row, Col], int], r: Row, cols: Sequence[Col]) -> int:
    return sum(table[(r, c)] for c in cols)


def _col(table: Mapping[tuple[Row, Col], int], c: Col, rows: Sequence[Row]) -> int:
    return sum(table[(r, c)] for r in rows)


def secondary(
    table: Mapping[tuple[Row, Col], int],
    rows: Sequence[Row],
    cols: Sequence[Col],
    hidden: set[tuple[Row, Col]],
    hidden_totals: set[tuple[str, Hashable]],
    *,
    row_totals: bool = True,
) -> tuple[set[tuple[Row, Col]], set[tuple[str, Hashable]]]:
    """Hide more cells until every hidden cell, and every hidden total, could be other than it is.

    A hidden cell is safe when some change to the hidden cells keeps every published number the
    same, keeps every count at least 0, and changes that cell: a rectangle of hidden cells whose
    opposite corners can take one claim each from the other two (in a one-way table, a pair of
    hidden cells in the column). For a cell without one, the cheapest such rectangle through it
    (fewest claims hidden) is hidden; if the table has none, its row, column and grand totals
    are. The exact algebraic check (``determined``) must also find nothing.

    A total hidden here because a linked table hid it (or to protect a cell) is no use if it
    follows from what is shown, such as a line whose cells are all shown: then a cell of its line
    is hidden too (for the grand total, a row or column total)."""
    hidden, hidden_totals = set(hidden), set(hidden_totals)
    order = {cell: (rows.index(cell[0]), cols.index(cell[1])) for cell in table}
    rows_published = any(("row", r) not in hidden_totals for r in rows)
    given_up: set[tuple[str, Hashable]] = set()
    while True:
        exposed = [x for x in hidden if not _movable(table, rows, cols, hidden, x, pairs=not rows_published)]
        exposed += determined(table, rows, cols, hidden, hidden_totals)
        exposed = [x for x in exposed if not _lines_hidden(x, hidden_totals)]
        if not exposed:
            lines = [
                line
                for line in determined_totals(table, rows, cols, hidden, hidden_totals, row_totals=row_totals)
                if line not in given_up
            ]
            if not lines:
                return hidden, hidden_totals
            line = min(lines, key=lambda line: line[0] == "grand")  # lines first: their cells may be enough
            covered = _cover(
                table, rows, cols, line, hidden=hidden, hidden_totals=hidden_totals, order=order, row_totals=row_totals
            )
            if not covered:
                given_up.add(line)
            continue
        x = min(exposed, key=order.__getitem__)
        moves = _moves(table, rows, cols, x, pairs=not rows_published)
        fresh = [[cell for cell in move if cell not in hidden] for move in moves]
        useful = [cells for cells in fresh if cells]
        if useful:
            # Fewest claims hidden, but not by hiding zeros, which protect little (a zero cannot go down).
            hidden.update(
                min(
                    useful,
                    key=lambda cells: (
                        sum(table[c] == 0 for c in cells),
                        sum(table[c] for c in cells),
                        [order[c] for c in cells],
                    ),
                )
            )
            continue
        hidden_totals |= {("row", x[0]), ("col", x[1]), ("grand", None)}


def determined_totals(
    table: Mapping[tuple[Row, Col], int],
    rows: Sequence[Row],
    cols: Sequence[Col],
    hidden: set[tuple[Row, Col]],
    hidden_totals: set[tuple[str, Hashable]],
    *,
    row_totals: bool = True,
) -> list[tuple[str, Hashable]]:
    """The hidden totals whose exact value follows from the published numbers. The totals become
    cells of one more row and column (with them every line adds up to 0), so ``determined``
    decides: a hidden total is a hidden cell there."""
    total = _Total()
    big_rows: list[Any] = [*rows, total]
    big_cols: list[Any] = [*cols, total] if row_totals else list(cols)
    big_hidden: set[tuple[Any, Any]] = set(hidden)
    named: dict[tuple[Any, Any], tuple[str, Hashable]] = {(total, c): ("col", c) for c in cols}
    if row_totals:
        named |= {(r, total): ("row", r) for r in rows} | {(total, total): ("grand", None)}
    elif ("grand", None) in hidden_totals:  # one column: its total is the grand total
        big_hidden.add((total, cols[0]))
    big_hidden |= {cell for cell, line in named.items() if line in hidden_totals}
    big_table = dict.fromkeys(((r, c) for r in big_rows for c in big_cols), 0)
    lines_unpublished = set() if row_totals else {("row", r) for r in big_rows}
    found = determined(big_table, big_rows, big_cols, big_hidden, lines_unpublished)
    if not row_totals:
        return [("grand", None)] if (total, cols[0]) in found else []
    return [named[cell] for cell in found if cell in named]


class _Total:
    """The extra row and column of totals in ``determined_totals``."""


def _cover(
    table: Mapping[tuple[Row, Col], int],
    rows: Sequence[Row],
    cols: Sequence[Col],
    line: tuple[str, Hashable],
    *,
    hidden: set[tuple[Row, Col]],
    hidden_totals: set[tuple[str, Hashable]],
    order: Mapping[tuple[Row, Col], tuple[int, int]],
    row_totals: bool,
) -> bool:
    """Hide what stops a hidden total from following from the rest. A row or column total can
    follow from its own line (then the smallest shown count of the line is hidden, not a zero
    where there is another) or from the grand total less the other rows' or columns' totals (then
    the smallest of those is hidden, or the grand total); the grand total, from the row or the
    column totals. False when nothing is left to hide."""
    kind, key = line
    sizes: dict[tuple[str, Hashable], int] = {("row", r): _row(table, r, cols) for r in rows}
    sizes |= {("col", c): _col(table, c, rows) for c in cols}
    parallel: list[tuple[str, Hashable]] = [total for total in sizes if total[0] == kind]
    if kind == "grand":
        parallel = list(sizes) if row_totals else []
    elif row_totals:
        alone = hidden_totals | set(parallel) | {("grand", None)}
        if line not in determined_totals(table, rows, cols, hidden, alone, row_totals=row_totals):
            parallel.append(("grand", None))
        else:
            parallel = []  # its own line gives it away
    shown_totals = [total for total in parallel if total not in hidden_totals]
    if shown_totals:
        hidden_totals.add(
            min(shown_totals, key=lambda t: (t[0] == "grand", t[0] == "col", sizes.get(t) == 0, sizes.get(t, 0)))
        )
        return True
    shown_cells = [
        cell for cell in table if cell not in hidden and (kind == "grand" or cell[0 if kind == "row" else 1] == key)
    ]
    if not shown_cells:
        return False
    hidden.add(min(shown_cells, key=lambda cell: (table[cell] == 0, table[cell], order[cell])))
    return True


def _lines_hidden(cell: tuple[Hashable, Hashable], hidden_totals: set[tuple[str, Hashable]]) -> bool:
    return {("row", cell[0]), ("col", cell[1]), ("grand", None)} <= hidden_totals


def _moves(
    table: Mapping[tuple[Row, Col], int], rows: Sequence[Row], cols: Sequence[Col], x: tuple[Row, Col], *, pairs: bool
) -> list[list[tuple[Row, Col]]]:
    """The feasible moves through ``x``: rectangles (or, with ``pairs``, pairs in its column)
    along which one claim can shift without any count going below 0."""
    r, c = x
    found: list[list[tuple[Row, Col]]] = []
    if pairs:
        for r2 in rows:
            y = (r2, c)
            if r2 != r and (table[x] >= 1 or table[y] >= 1):
                found.append([x, y])
        return found
    for r2 in rows:
        for c2 in cols:
            if r2 == r or c2 == c:
                continue
            side, down, corner = (r, c2), (r2, c), (r2, c2)
            if (table[x] >= 1 and table[corner] >= 1) or (table[side] >= 1 and table[down] >= 1):
                found.append([x, side, down, corner])
    return found


def _movable(
    table: Mapping[tuple[Row, Col], int],
    rows: Sequence[Row],
    cols: Sequence[Col],
    hidden: set[tuple[Row, Col]],
    x: tuple[Row, Col],
    *,
    pairs: bool,
) -> bool:
    return any(all(cell in hidden for cell in move) for move in _moves(table, rows, cols, x, pairs=pairs))


def determined(
    table: Mapping[tuple[Row, Col], int],
    rows: Sequence[Row],
    cols: Sequence[Col],
    hidden: set[tuple[Row, Col]],
    hidden_totals: set[tuple[str, Hashable]] = frozenset(),  # type: ignore[assignment]
) -> list[tuple[Row, Col]]:
    """The hidden cells whose exact value follows from the published numbers: each published
    row or column total gives one equation over that line's hidden cells (the shown cells are
    known). A hidden cell is determined when its unit vector lies in the span of the equations."""
    unknowns = sorted(hidden, key=lambda cell: (rows.index(cell[0]), cols.index(cell[1])))
    if not unknowns:
        return []
    index = {cell: i for i, cell in enumerate(unknowns)}
    equations: list[list[Fraction]] = []
    for r in rows:
        if ("row", r) not in hidden_totals:
            equations.append(_line([index[(r, c)] for c in cols if (r, c) in index], len(unknowns)))
    for c in cols:
        if ("col", c) not in hidden_totals:
            equations.append(_line([index[(r, c)] for r in rows if (r, c) in index], len(unknowns)))
    if ("grand", None) not in hidden_totals:
        equations.append(_line(list(range(len(unknowns))), len(unknowns)))
    # In the reduced row echelon form, a unit vector is in the span only as a row of its own.
    basis = _echelon([e for e in equations if any(e)])
    alone = {row.index(Fraction(1)) for row in basis if sum(1 for x in row if x) == 1}
    return [cell for cell, i in index.items() if i in alone]


def _line(members: list[int], size: int) -> list[Fraction]:
    row = [Fraction(0)] * size
    for i in members:
        row[i] = Fraction(1)
    return row


def _echelon(vectors: list[list[Fraction]]) -> list[list[Fraction]]:
    """A basis of the vectors' span, in reduced row echelon form."""
    basis: list[list[Fraction]] = []
    pivots: list[int] = []
    for given in vectors:
        vector = list(given)
        for pivot, base in zip(pivots, basis, strict=True):
            if vector[pivot]:
                factor = vector[pivot]
                vector = [a - factor * b for a, b in zip(vector, base, strict=True)]
        lead = next((i for i, x in enumerate(vector) if x), None)
        if lead is None:
            continue
        scale = vector[lead]
        vector = [x / scale for x in vector]
        for k, base in enumerate(basis):
            if base[lead]:
                factor = base[lead]
                basis[k] = [a - factor * b for a, b in zip(base, vector, strict=True)]
        basis.append(vector)
        pivots.append(lead)
    return basis


# --- k-anonymity by generalisation (the decision register) --------------------------
#
# A self-contained block: the register shows a record only where its quasi-identifiers, as
# shown, are shared by at least k of the population, coarsening them a step at a time until
# they are. Pure, like the rest of this module: the population is a mapping of keys to counts.

Key = TypeVar("Key", bound=Hashable)


def generalise(
    population: Mapping[Key, int], ladder: Sequence[Callable[[Key], Key]], k: int, start: int = 0
) -> Callable[[Key], tuple[int, Key] | None]:
    """For a record's key: the first level of ``ladder`` (from ``start``) at which its coarsened
    key is shared by at least ``k`` of the population, with that key; None: held back.

    Each rung of the ladder coarsens a raw key completely (rung 0 is usually the identity), and
    the population is counted under each rung once, the first time a record needs it. A record
    need not be in the population itself: it is judged by the population's counts alone."""
    if k < 1:
        raise ValueError("k must be at least 1")
    if not 0 <= start <= len(ladder):
        raise ValueError("start must be a rung of the ladder")
    counted: dict[int, dict[Key, int]] = {}

    def counts_at(level: int) -> dict[Key, int]:
        if level not in counted:
            tally: dict[Key, int] = {}
            coarsen = ladder[level]
            for key, n in population.items():
                if n < 0:
                    raise ValueError("counts are never negative")
                shown = coarsen(key)
                tally[shown] = tally.get(shown, 0) + n
            counted[level] = tally
        return counted[level]

    def judge(key: Key) -> tuple[int, Key] | None:
        for level in range(start, len(ladder)):
            shown = ladder[level](key)
            if counts_at(level).get(shown, 0) >= k:
                return level, shown
        return None

    return judge
