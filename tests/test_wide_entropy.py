"""Issue 15, item 9: entropy of wide and odd shapes in bounded time and memory.

NSB's cost goes with a row's distinct count values (equal counts share one class), and
its temporaries are cut in blocks of about ``_BLOCK`` elements however many classes a
row has: 10^6 distinct counts took 4.8 GB on the coarse grid that brackets the peak.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from kldiv_cli import batch
from kldiv_cli import estimators as est
from kldiv_cli.estimators import estimate_entropy
from kldiv_cli.inputs import Labels, Table


def test_nsb_temporaries_stay_within_the_block(monkeypatch: pytest.MonkeyPatch) -> None:
    counts = np.random.default_rng(1).permutation(np.arange(1.0, 5001.0))[np.newaxis, :]
    want = estimate_entropy(counts, "nsb")
    monkeypatch.setattr(est, "_BLOCK", 1 << 12)  # 32 KiB of float64 per temporary
    tracemalloc.start()
    try:
        got = estimate_entropy(counts, "nsb")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The same numbers (sums taken in other blocks: rounding only)...
    assert got.entropy[0] == pytest.approx(want.entropy[0], rel=1e-12)
    assert got.std is not None
    assert want.std is not None
    assert got.std[0] == pytest.approx(want.std[0], rel=1e-9)
    # ... in a peak of a few blocks and the (5000,) arrays of the row, where the
    # (1, 5000, ~60) temporaries of the coarse grid took 2.4 MB each, 20 MB in all.
    assert peak < 2_000_000


def test_nsb_costs_the_distinct_counts_not_the_labels() -> None:
    # 10^6 labels with 19 distinct counts: 19 classes, as cheap as a small table.
    counts = np.random.default_rng(2).integers(1, 20, 1_000_000).astype(float)
    # (Its speed, about 1 s where a per-label quadrature took minutes, is a benchmark's
    # matter, not a unit test's.)
    got = estimate_entropy(counts[np.newaxis, :], "nsb")
    # Every bin seen, ~10 times each (n = 10^7, K = 10^6): the posterior mean is the
    # plug-in estimate with its bias (K - 1) / (2n) = 0.05 nats added back (Miller and
    # Madow), to within 1e-3, and below ln K.
    n, k = counts.sum(), counts.size
    p = counts / n
    miller_madow = -float(np.sum(p * np.log(p))) + (k - 1) / (2 * n)
    assert got.entropy[0] == pytest.approx(miller_madow, abs=1e-3)
    assert got.entropy[0] <= math.log(k)


def test_a_million_one_value_columns_give_a_million_entropies() -> None:
    # entropy of a table of one row and 10^6 columns: 10^6 distributions of one bin,
    # each of entropy 0, n its value, support 1. Stacking them took 1.3 s (vstack
    # made each a 2-D array first).
    k = 1_000_000
    values = np.arange(1.0, k + 1.0)
    columns: dict[str, np.ndarray | None] = {f"c{i}": values[i : i + 1] for i in range(k)}
    table = Table("wide.csv", Labels.by_position(1), None, columns)  # type: ignore[arg-type]
    result = batch.entropies(table)
    assert result.entropy.shape == (k,)
    assert not result.entropy.any()
    assert np.array_equal(result.n, values)
    assert (result.support == 1).all()
