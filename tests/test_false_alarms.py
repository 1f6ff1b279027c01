"""The law behind ``jsd_noise``, checked by simulation, and the benchmark's binning.

``benchmarks/false_alarms.py`` measures how often a drift check fires with no drift;
its rates mean something only if its ``jsd_noise`` is the spec's formula, its edges
are the spec's edges, and the law ``8 n_eff JSD ~ chi2(k - 1)`` holds where it should.
These tests check those three on small cases (seconds, not a timing).
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from kldiv_cli import js_divergence

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """``benchmarks/false_alarms.py`` as a module (``benchmarks`` is not a package)."""
    path = ROOT / "benchmarks" / "false_alarms.py"
    spec = importlib.util.spec_from_file_location("false_alarms", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["false_alarms"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_jsd_noise_is_the_spec_formula_by_hand(bench: ModuleType) -> None:
    # chi2_0.95 has closed forms at 1 and 2 degrees of freedom: z_0.975^2 and -2 ln 0.05.
    # 120 against 110 rows: 1/120 + 1/110 = 23/1320. In bits: divide by ln 2.
    # (1e-9 relative: scipy's chi2.ppf is an iterative inverse, z is given to 1e-9.)
    z = 1.959963984540054
    two_labels = z**2 * (23 / 1320) / 8 / math.log(2)
    three_labels = 2 * math.log(20) * (23 / 1320) / 8 / math.log(2)
    assert float(bench.jsd_noise_bits(2, 120, 110)) == pytest.approx(two_labels, rel=1e-9)
    assert float(bench.jsd_noise_bits(3, 120, 110)) == pytest.approx(three_labels, rel=1e-9)
    # samples/penguins.md quotes 0.0188 bits for species (k = 3) at these sizes.
    assert round(three_labels, 4) == 0.0188
    # One label: two samples cannot differ, the noise is 0.
    assert float(bench.jsd_noise_bits(1, 120, 110)) == 0.0


def test_edges_are_numpys_inverted_cdf_quantiles_distinct_less_the_minimum(
    bench: ModuleType,
) -> None:
    # Oracle: NumPy's method="inverted_cdf" at j/N, then the spec's two removals. Ties
    # on purpose (integers 0..6), so edges repeat and equal the minimum; n = 37 is not
    # a multiple of 10, so the ranks ceil(j n / N) round up.
    rng = np.random.default_rng(7)
    values = rng.integers(0, 7, size=(200, 37)).astype(np.float64)
    values[:20] = rng.standard_normal((20, 37))  # and some rows without ties
    got = bench.inverted_cdf_edges(values, 10)
    for row, edges in zip(values, got, strict=True):
        q = np.quantile(row, np.arange(1, 10) / 10, method="inverted_cdf")
        want = [x for x in np.unique(q) if x != row.min()]
        assert edges[~np.isnan(edges)].tolist() == want


def test_bins_are_left_closed_and_missing_is_its_own_label(bench: ModuleType) -> None:
    # Edges 1 and 3 (then two left out): bins (-inf, 1), [1, 3), [3, inf), (missing).
    edges = np.array([[1.0, 3.0, np.nan, np.nan]])
    values = np.array([[0.5, 1.0, 2.9, 3.0, 7.0, np.nan, 1.0]])
    counts = bench.bin_counts(values, edges)
    assert counts.tolist() == [[1, 3, 2, 0, 0, 1]]


def test_jsd_above_jsd_noise_about_5_percent_when_nothing_drifts(bench: ModuleType) -> None:
    """k = 5 labels, 500 rows against 500, 4,000 repetitions: the rate is 3%..8%.

    The tolerance: at 4,000 repetitions one binomial standard error of a 5% rate is
    sqrt(0.05 * 0.95 / 4000) = 0.34 points, so 3% is 5.8 standard errors below 5%
    and 8% is 8.7 above; the band is wider above because the chi-squared law is the
    limit and finite samples exceed it a little (the G test is slightly liberal; this
    case gave 5.1% to 5.5% over seeds 0 to 5). The seed is fixed, so the test is
    deterministic; the band is what any seed would pass. The slips the law guards
    against fall far outside it (checked below): a threshold in nats read as bits
    (~16%), n instead of n_eff (~32%), dividing by 4 instead of 8 (~0.1%).
    """
    rng = np.random.default_rng(20261130)
    shares = np.array([0.4, 0.25, 0.15, 0.12, 0.08])
    a = rng.multinomial(500, shares, size=4000).astype(np.float64)
    b = rng.multinomial(500, shares, size=4000).astype(np.float64)
    jsd = np.asarray(js_divergence(a, b, unit="bits", axis=-1))
    k = ((a + b) > 0).sum(axis=-1)
    assert (k == 5).all()  # 8% of 500 rows: no label is ever missing from both sides
    noise = bench.jsd_noise_bits(k, 500, 500)
    rate = float(np.mean(jsd > noise))
    assert 0.03 <= rate <= 0.08, rate
    # The same draws against the wrong thresholds: the test can tell them apart.
    assert float(np.mean(jsd > noise * math.log(2))) > 0.12  # nats threshold as bits
    assert float(np.mean(jsd > noise / 2)) > 0.2  # 1/n instead of 1/n_ref + 1/n_cur
    assert float(np.mean(jsd > noise * 2)) < 0.01  # / 4 instead of / 8


def test_the_benchmarks_binning_is_kldivs_own(bench: ModuleType, tmp_path: Path) -> None:
    """A few of the benchmark's draws, counted by kldiv's engine: same edges, same counts.

    The bill-length resample (ties, ``NA``) and the normal variable, 120 rows against
    110, each side written as a CSV with ``repr`` numbers (an exact round trip).
    """
    from kldiv_cli.readers.raw import RawOptions, count_columns, open_raw

    rng = np.random.default_rng(3)
    penguins = ROOT / "samples" / "penguins-2007.csv"
    for draw in (bench.resampler(bench.column(penguins, "bill_length_mm")), bench.normal):
        ref, cur = draw(rng, (4, 120)), draw(rng, (4, 110))
        ref[:, 5] = np.nan  # a missing value on the reference side of every draw
        sides = iter((ref, cur))
        ours_ref, ours_cur = bench.binned(rng, lambda _g, _shape: next(sides), 4)
        for i in range(4):
            paths = []
            for name, row in (("ref", ref[i]), ("cur", cur[i])):
                text = "x\n" + "".join("NA\n" if np.isnan(v) else f"{float(v)!r}\n" for v in row)
                path = tmp_path / f"{name}{i}.csv"
                path.write_text(text, encoding="utf-8")
                paths.append(str(path))
            options = RawOptions()
            (cc,) = count_columns(
                open_raw(paths[0], options), open_raw(paths[1], options), ["x"], options
            )
            assert cc.edges is not None
            m = len(cc.edges)
            present = ref[i][~np.isnan(ref[i])]
            edges = bench.inverted_cdf_edges(present[None, :], 10)[0]
            assert cc.edges == edges[~np.isnan(edges)].tolist()
            # kldiv's labels: the m + 1 bins in order, then (missing).
            assert cc.labels[-1] == "(missing)"
            assert cc.reference.tolist() == [*ours_ref[i, : m + 1], ours_ref[i, -1]]
            assert cc.current.tolist() == [*ours_cur[i, : m + 1], ours_cur[i, -1]]
