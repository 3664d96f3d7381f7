"""The disclosure-control library (guarantee/statistics/disclosure.py), tested like a library: the 10-5 rule,
secondary suppression checked against a brute-force attacker who knows every published number,
and the dominance rule. No database."""

from __future__ import annotations

from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guarantee.statistics.disclosure import SUPPRESSED, Rules, protect_cross, protect_list, round_to_base


@given(st.integers(0, 10_000), st.sampled_from([1, 3, 5, 10]))
def test_rounding_gives_the_nearest_multiple_of_the_base(count: int, base: int) -> None:
    rounded = round_to_base(count, base)
    assert rounded % base == 0
    assert abs(rounded - count) * 2 <= base


def test_the_ten_five_rule_on_a_list() -> None:
    cells, total = protect_list({"planning": 3, "food": 40, "insurance": 12, "other": 0})
    # 3 is hidden; with the total shown it would follow from the others, so the next smallest goes too.
    assert cells == {"planning": SUPPRESSED, "food": 40, "insurance": SUPPRESSED, "other": 0}
    assert total == 55


def test_nothing_is_hidden_when_no_count_is_small() -> None:
    cells, total = protect_list({"a": 12, "b": 13, "c": 0})
    assert cells == {"a": 10, "b": 15, "c": 0} and total == 25


def test_a_small_row_that_is_all_one_outcome_is_hidden() -> None:
    rows, cols = ["a", "b", "c"], ["upheld", "not_upheld"]
    counts = {
        ("a", "upheld"): 12,
        ("b", "upheld"): 30,
        ("b", "not_upheld"): 14,
        ("c", "upheld"): 40,
        ("c", "not_upheld"): 0,
    }
    table = protect_cross(counts, rows, cols, dominance=True)
    assert table.cells[("a", "upheld")] == SUPPRESSED, "12 claims, all upheld: hidden though over 9"


def test_the_rules_are_configurable_and_described_in_plain_english() -> None:
    rules = Rules(threshold=5, base=10)
    cells, _ = protect_list({"a": 4, "b": 5, "c": 30}, rules)
    assert cells["a"] == SUPPRESSED and cells["b"] == SUPPRESSED and cells["c"] == 30
    assert "Counts from 1 to 4" in rules.describe() and "nearest 10" in rules.describe()
    with pytest.raises(ValueError):
        Rules(base=0)


# --- the attacker: every table consistent with what was published ----------------------------


def _consistent_values(
    counts: dict[tuple[int, int], int], rows: int, cols: int, table: object, limit: int
) -> dict[tuple[int, int], set[int]]:
    """For each hidden cell, the values it takes in tables (entries 0..limit) that agree with
    every shown cell and every shown total taken as exact (the attacker's best case)."""
    hidden = [cell for cell, shown in table.cells.items() if shown == SUPPRESSED]  # type: ignore[attr-defined]
    row_total = {r: sum(counts[(r, c)] for c in range(cols)) for r in range(rows)}
    col_total = {c: sum(counts[(r, c)] for r in range(rows)) for c in range(cols)}
    grand = sum(counts.values())
    seen: dict[tuple[int, int], set[int]] = {cell: set() for cell in hidden}
    for values in product(range(limit + 1), repeat=len(hidden)):
        guess = dict(counts) | dict(zip(hidden, values, strict=True))
        if any(
            table.row_totals[r] != SUPPRESSED and sum(guess[(r, c)] for c in range(cols)) != row_total[r]  # type: ignore[attr-defined]
            for r in range(rows)
        ):
            continue
        if any(
            table.col_totals[c] != SUPPRESSED and sum(guess[(r, c)] for r in range(rows)) != col_total[c]  # type: ignore[attr-defined]
            for c in range(cols)
        ):
            continue
        if table.grand_total != SUPPRESSED and sum(guess.values()) != grand:  # type: ignore[attr-defined]
            continue
        for cell, value in zip(hidden, values, strict=True):
            seen[cell].add(value)
        if all(len(v) > 1 for v in seen.values()):
            break
    return seen


small_tables = st.integers(2, 3).flatmap(
    lambda rows: st.integers(2, 3).flatmap(
        lambda cols: st.tuples(
            st.just(rows),
            st.just(cols),
            st.lists(st.integers(0, 14), min_size=rows * cols, max_size=rows * cols),
        )
    )
)


@settings(max_examples=60, deadline=None)
@given(small_tables)
def test_no_hidden_cell_can_be_worked_out_from_the_published_totals(drawn: tuple[int, int, list[int]]) -> None:
    rows, cols, flat = drawn
    counts = {(r, c): flat[r * cols + c] for r in range(rows) for c in range(cols)}
    table = protect_cross(counts, list(range(rows)), list(range(cols)))
    for cell, shown in table.cells.items():
        assert shown == SUPPRESSED or shown % 5 == 0
        if 0 < counts[cell] < 10:
            assert shown == SUPPRESSED
    hidden = [cell for cell, shown in table.cells.items() if shown == SUPPRESSED]
    if len(hidden) > 4:  # the brute force grows as 25^n: the library's own checks cover larger cases
        return
    for cell, values in _consistent_values(counts, rows, cols, table, 24).items():
        assert len(values) > 1, f"{cell} = {counts[cell]} can be worked out from what is published"


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from("abcdefgh"), st.integers(0, 40), min_size=2))
def test_a_published_list_never_leaves_exactly_one_hidden_count_beside_its_total(counts: dict[str, int]) -> None:
    cells, total = protect_list(counts)
    hidden = [key for key, shown in cells.items() if shown == SUPPRESSED]
    assert total == SUPPRESSED or len(hidden) != 1
    assert all(shown == SUPPRESSED or shown % 5 == 0 for shown in cells.values())
