"""Differentially private counts (DESIGN 7, the optional step beyond disclosure control).

Each table's cells are measured once with OpenDP's discrete Laplace mechanism. Every claim
falls in exactly one cell of a table, so adding or removing one claim changes the vector of
cells by 1 in L1: the privacy loss of a table is 1 / scale, which OpenDP's privacy map reports
and the release records. Everything after the noise is post-processing and costs nothing more:

- the table's total is the sum of the noisy cells (unbiased), clipped at 0;
- the cells are made non-negative and consistent with that total by the closest fit in the
  least-squares sense (subtract one common amount ``shift`` and clip at 0), then rounded to whole
  numbers keeping the total;
- a cross-table's row and column totals are sums of its published cells, so it adds up.

Each published number comes with the half-width of its 95% interval (its "margin"):

- a cell: OpenDP's accuracy for the noise, plus the shift and 1 for the rounding (the fit moves a
  cell by at most the shift, and rounding by less than 1);
- the total: the exact 95% point of the sum of that many noise draws (clipping at 0 only moves
  it towards the truth);
- a row or column total: by simulation, running the same steps 400 times on the published table
  taken as the truth (seeded, so the release is the same every time it is read).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import opendp.prelude as dp

dp.enable_features("contrib")

CONFIDENCE = 0.95
SIMULATIONS = 400


@dataclass(frozen=True)
class Mechanism:
    """The discrete Laplace mechanism for one table: ``epsilon`` as OpenDP's privacy map gives it
    for one claim added or removed, at the noise ``scale`` found for the epsilon asked for."""

    epsilon: float
    scale: float

    @classmethod
    def for_epsilon(cls, epsilon: float) -> Mechanism:
        if not 0 < epsilon <= 10:
            raise ValueError("epsilon must be above 0 and at most 10")
        scale = dp.binary_search_param(_measurement, d_in=1, d_out=epsilon)
        return cls(epsilon=_measurement(scale).map(1), scale=scale)

    def measure(self, counts: Sequence[int]) -> list[int]:
        """The counts with OpenDP's noise added (secure sampling inside OpenDP)."""
        if not counts:
            return []
        return list(_measurement(self.scale)(list(counts)))

    @property
    def cell_noise_margin(self) -> int:
        """95% of noise draws are at most this far from 0."""
        return cell_noise_margin(self.scale)


def _measurement(scale: float) -> Any:
    space = dp.vector_domain(dp.atom_domain(T="i64")), dp.l1_distance(T="i64")
    return dp.m.make_laplace(*space, scale=scale)


@cache
def cell_noise_margin(scale: float) -> int:
    accuracy: float = dp.discrete_laplacian_scale_to_accuracy(scale=scale, alpha=1 - CONFIDENCE)
    return math.floor(accuracy)


@dataclass(frozen=True)
class Fitted:
    cells: list[int]
    total: int
    shift: float


def fit(noisy: Sequence[int]) -> Fitted:
    """Non-negative whole cells adding up to the clipped sum of the noisy ones, as close to them
    as possible: subtract one common ``shift`` and clip at 0 (the Euclidean projection onto the
    cells that are at least 0 and add up to the total), then round by largest remainder."""
    total = max(0, sum(noisy))
    if not noisy:
        return Fitted([], 0, 0.0)
    if total == 0:
        return Fitted([0] * len(noisy), 0, float(max(*noisy, 0)))
    values = sorted(noisy, reverse=True)
    shift, running = 0.0, 0
    for k, value in enumerate(values, start=1):
        running += value
        candidate = (running - total) / k
        if value - candidate > 0:
            shift = candidate
    real = [max(value - shift, 0.0) for value in noisy]
    cells = [math.floor(x) for x in real]
    short = total - sum(cells)
    by_remainder = sorted(range(len(real)), key=lambda i: (-(real[i] - cells[i]), i))
    for i in by_remainder[:short]:
        cells[i] += 1
    return Fitted(cells, total, shift)


def cell_margin(scale: float, shift: float) -> int:
    rounding = 0 if float(shift).is_integer() else 1
    return cell_noise_margin(scale) + math.ceil(shift) + rounding


@cache
def sum_margin(scale: float, n: int) -> int:
    """The 95% half-width of the sum of ``n`` independent discrete Laplace draws, worked out
    exactly from their distribution (truncated where the tail is below 1e-15)."""
    if n == 0:
        return 0
    p = math.exp(-1 / scale)
    reach = math.ceil(math.log(1e-15) / math.log(p))
    one = {k: (1 - p) / (1 + p) * p ** abs(k) for k in range(-reach, reach + 1)}
    result: dict[int, float] = {0: 1.0}
    power, remaining = one, n
    while remaining:
        if remaining & 1:
            result = _convolve(result, power)
        remaining >>= 1
        if remaining:
            power = _convolve(power, power)
    covered, k = result.get(0, 0.0), 0
    while covered < CONFIDENCE:
        k += 1
        covered += result.get(k, 0.0) + result.get(-k, 0.0)
    return k


def _convolve(a: dict[int, float], b: dict[int, float]) -> dict[int, float]:
    out: dict[int, float] = {}
    for i, x in a.items():
        for j, y in b.items():
            out[i + j] = out.get(i + j, 0.0) + x * y
    return {k: v for k, v in out.items() if v > 1e-18}


def sample_noise(rng: random.Random, scale: float) -> int:
    """One discrete Laplace draw, for simulations only (the release's noise comes from OpenDP)."""
    p = math.exp(-1 / scale)
    return _geometric(rng, p) - _geometric(rng, p)


def _geometric(rng: random.Random, p: float) -> int:
    return math.floor(math.log(1.0 - rng.random()) / math.log(p))


def line_margins(published: Sequence[Sequence[int]], scale: float, seed: str) -> tuple[list[int], list[int]]:
    """Simulated 95% half-widths of a fitted cross-table's row and column totals."""
    rows, cols = len(published), len(published[0]) if published else 0
    rng = random.Random(seed)  # noqa: S311 (simulating the published table; the noise itself is OpenDP's)
    row_errors: list[list[int]] = [[] for _ in range(rows)]
    col_errors: list[list[int]] = [[] for _ in range(cols)]
    flat = [published[r][c] for r in range(rows) for c in range(cols)]
    for _ in range(SIMULATIONS):
        cells = fit([x + sample_noise(rng, scale) for x in flat]).cells
        for r in range(rows):
            row_errors[r].append(abs(sum(cells[r * cols : (r + 1) * cols]) - sum(published[r])))
        for c in range(cols):
            col_errors[c].append(abs(sum(cells[c::cols]) - sum(line[c] for line in published)))
    return [_quantile(e) for e in row_errors], [_quantile(e) for e in col_errors]


def _quantile(errors: list[int]) -> int:
    ordered = sorted(errors)
    return ordered[max(0, math.ceil(CONFIDENCE * len(ordered)) - 1)]
