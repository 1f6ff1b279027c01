"""Tests of kldiv_cli.maths.bootstrap: against a plain re-implementation with SciPy, and
the properties an interval must have.

The reference redraws every resample by the procedure that ``bootstrap_intervals``
documents, row by row, with :func:`scipy.stats.poisson.ppf` where the module looks up
its own CDF tables, and measures each resample with :func:`scipy.stats.entropy` and
:func:`scipy.spatial.distance.jensenshannon`: the same seed must give the same bounds.
"""

from __future__ import annotations

import math
import time
from fractions import Fraction

import numpy as np
import pytest
import scipy.stats
from scipy.spatial.distance import jensenshannon

from kldiv_cli.errors import InvalidDataError, UsageError
from kldiv_cli.maths import bootstrap as bs
from kldiv_cli.maths import core
from kldiv_cli.maths.bootstrap import Intervals, bootstrap_intervals

BASES = {"bits": 2.0, "nats": math.e, "bans": 10.0}
REL = 1e-9


# --------------------------------------------------------------------------- the reference


def reference_tabled(y: np.ndarray, c: float) -> np.ndarray:
    """Which labels draw from a CDF table: the documented rule, by a plain loop."""
    keep: set[int] = set()
    widest = 0
    for d, v in enumerate(sorted(set(y.tolist())), start=1):
        lam = c * v
        lo = max(0, math.floor(lam - bs.TABLE_SDS * math.sqrt(lam) - 30.0))
        hi = math.ceil(lam + bs.TABLE_SDS * math.sqrt(lam) + 40.0)
        widest = max(widest, hi - lo + 1)
        if lam > bs.TABLE_MAX_MEAN or d > bs.TABLE_MAX_MEANS:
            break
        if d * (widest + 1) > bs.TABLE_MAX_ENTRIES:
            break
        keep.add(v)
    return np.isin(y, sorted(keep))


def reference_counts(rng: np.random.Generator, counts: np.ndarray, rows: int) -> np.ndarray:
    """``rows`` resamples of one side of counts, by the documented procedure."""
    cols = np.flatnonzero(counts)
    y = counts[cols].astype(np.int64)
    n = int(y.sum())
    out = np.zeros((rows, counts.size), dtype=np.int64)
    root = math.sqrt(n)
    poissonized = 2 * bs.SHORTFALL_SD < root <= bs.POISSON_RATIO * cols.size
    if not poissonized:
        out[:, cols] = rng.multinomial(n, y / n, size=rows)
        return out
    c = 1.0 - bs.SHORTFALL_SD / root
    mean = c * y
    tabled = reference_tabled(y, c)
    drawn = np.zeros((rows, cols.size), dtype=np.int64)
    u = rng.random((rows, int(tabled.sum())))
    for r in range(rows):  # min{x : F(x) >= u}: SciPy's inverse of the CDF
        drawn[r, tabled] = scipy.stats.poisson.ppf(u[r], mean[tabled])
    if not tabled.all():
        drawn[:, ~tabled] = rng.poisson(mean[~tabled], size=(rows, int((~tabled).sum())))
    missing = n - drawn.sum(axis=1)
    fine = np.flatnonzero(missing >= 0)
    extra = rng.integers(0, n, size=int(missing[fine].sum()))
    ends = np.cumsum(y)
    at = 0
    for r in fine:
        labels = np.searchsorted(ends, extra[at : at + missing[r]], side="right")
        drawn[r] += np.bincount(labels, minlength=cols.size)
        at += missing[r]
    over = np.flatnonzero(missing < 0)
    if over.size:
        drawn[over] = rng.multinomial(n, y / n, size=over.size)
    out[:, cols] = drawn
    return out


def reference_measures(p: np.ndarray, q: np.ndarray, unit: str) -> dict[str, float]:
    """The eight measures of one pair of normalized rows, from SciPy."""
    base = BASES[unit]
    h_p = scipy.stats.entropy(p, base=base)
    h_q = scipy.stats.entropy(q, base=base)
    kl_pq = scipy.stats.entropy(p, q, base=base)
    kl_qp = scipy.stats.entropy(q, p, base=base)
    dist = jensenshannon(p, q, base=base)
    return {
        "entropy_p": h_p,
        "entropy_q": h_q,
        "cross_entropy_pq": h_p + kl_pq,
        "cross_entropy_qp": h_q + kl_qp,
        "kl_pq": kl_pq,
        "kl_qp": kl_qp,
        "jsd": dist**2,
        "js_distance": dist,
    }


def reference_values(
    p: np.ndarray,
    q: np.ndarray,
    *,
    resample_p: bool,
    resample_q: bool,
    resamples: int,
    seed: int,
    pseudocount: float = 0.0,
    unit: str = "bits",
) -> dict[str, np.ndarray]:
    """Every measure of every resample, drawn chunk by chunk as documented."""
    rows = max(1, bs.CHUNK_ENTRIES // p.size)
    starts = list(range(0, resamples, rows))
    children = np.random.SeedSequence(seed).spawn(len(starts))
    values: dict[str, list[float]] = {key: [] for key in core.MEASURES}
    for start, child in zip(starts, children, strict=True):
        r = min(rows, resamples - start)
        rng = np.random.default_rng(child)
        xp = reference_counts(rng, p, r) if resample_p else np.tile(p, (r, 1))
        xq = reference_counts(rng, q, r) if resample_q else np.tile(q, (r, 1))
        for a, b in zip(xp + pseudocount, xq + pseudocount, strict=True):
            for key, value in reference_measures(a / a.sum(), b / b.sum(), unit).items():
                values[key].append(value)
    return {key: np.array(v) for key, v in values.items()}


def reference_bounds(values: dict[str, np.ndarray], level: float) -> dict[str, tuple[float, float]]:
    """Leave out floor(B (1 - level) / 2) values at each end, the level as a decimal."""
    out = {}
    for key, v in values.items():
        b = v.size
        k = math.floor((1 - Fraction(str(level))) * b / 2)
        s = np.sort(v)
        out[key] = (float(s[k]), float(s[b - 1 - k]))
    return out


def assert_same_bounds(got: Intervals, want: dict[str, tuple[float, float]]) -> None:
    assert set(got.bounds) == set(core.MEASURES)
    for key in core.MEASURES:
        for g, w in zip(got.bounds[key], want[key], strict=True):
            assert not math.isnan(g), key
            if math.isinf(w) or math.isinf(g):
                assert g == w, (key, got.bounds[key], want[key])
            else:
                assert g == pytest.approx(w, rel=REL, abs=1e-15), (key, got.bounds[key], want[key])


def check_against_reference(
    p: np.ndarray,
    q: np.ndarray,
    *,
    resample_p: bool = True,
    resample_q: bool = True,
    level: float = 0.9,
    resamples: int = 200,
    seed: int = 7,
    pseudocount: float = 0.0,
    unit: str = "bits",
) -> tuple[Intervals, dict[str, np.ndarray]]:
    got = bootstrap_intervals(
        p,
        q,
        resample_p=resample_p,
        resample_q=resample_q,
        level=level,
        resamples=resamples,
        seed=seed,
        pseudocount=pseudocount,
        unit=unit,
    )
    values = reference_values(
        p,
        q,
        resample_p=resample_p,
        resample_q=resample_q,
        resamples=resamples,
        seed=seed,
        pseudocount=pseudocount,
        unit=unit,
    )
    assert_same_bounds(got, reference_bounds(values, level))
    return got, values


def poisson_counts(k: int, mean: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.poisson(mean * rng.lognormal(0.0, 0.7, k)).astype(np.float64)


@pytest.fixture
def few_rows_per_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 7 rows of 60 labels: many chunks, a short last one, both threads."""
    monkeypatch.setattr(bs, "CHUNK_ENTRIES", 7 * 60)


# --------------------------------------------------------------------------- vs the reference


@pytest.mark.usefixtures("few_rows_per_chunk")
def test_poissonized_pair_matches_the_reference() -> None:
    p, q = poisson_counts(60, 12.0, 1), poisson_counts(60, 10.0, 2)
    p[5] = q[5] = 0.0  # 0 log 0 in every resample
    assert bs._Resampler(p, 0.0).poisson
    assert bs._Resampler(q, 0.0).poisson
    got, values = check_against_reference(p, q, resamples=150)
    # The small counts give resamples with q = 0 < p: an infinite KL here and there.
    assert np.isinf(values["kl_pq"]).any() or np.isinf(values["kl_qp"]).any()
    assert got.bounds["jsd"][0] > 0.0


def test_multinomial_counts_against_a_model_match_the_reference() -> None:
    p = np.array([400.0, 250.0, 200.0, 100.0, 50.0])
    q = np.array([0.3, 0.3, 0.2, 0.2, 0.0])  # q = 0 < p: D(P||Q) = H(P,Q) = inf always
    assert not bs._Resampler(p, 0.0).poisson
    got, _ = check_against_reference(p, q, resample_q=False, level=0.95, resamples=300)
    assert got.bounds["kl_pq"] == (math.inf, math.inf)
    assert got.bounds["cross_entropy_pq"] == (math.inf, math.inf)
    assert math.isfinite(got.bounds["kl_qp"][1])


def test_counts_past_the_log_tables_match_the_reference() -> None:
    p = np.array([200_000.0, 100_000.0, 50_000.0, 3.0])  # counts >= LOG_TABLE: logs taken
    q = np.array([150_000.0, 150_000.0, 70_000.0, 0.0])
    assert p.max() >= bs.LOG_TABLE
    got, values = check_against_reference(p, q, resamples=200, unit="nats")
    # P's resamples keep its label 3, where q = 0, but for e^-3 = 5% of them.
    assert 0 < np.isfinite(values["kl_pq"]).sum() < 40
    assert got.bounds["kl_pq"][1] == math.inf


def test_pseudocount_and_a_unit_match_the_reference() -> None:
    p = np.array([0.0, 30.0, 12.0, 0.0, 5.0, 1.0, 9.0, 0.0])
    q = np.array([4.0, 25.0, 0.0, 2.0, 7.0, 0.0, 11.0, 0.0])
    check_against_reference(p, q, pseudocount=0.5, unit="nats", resamples=250)
    check_against_reference(p, q, pseudocount=0.5, unit="bans", resamples=101, level=0.5)


@pytest.mark.parametrize(
    "constants",
    [
        {"TABLE_MAX_MEAN": 20.0},  # large means drawn by Generator.poisson
        {"SHORTFALL_SD": 0.5},  # ~30% of rows over n: drawn again
        {"PLACE_MAX_RUNS": 0},  # zero labels put in place by a scatter
        {"TABLE_MAX_ENTRIES": 400},  # the table budget binds
        {"LABEL_TABLE_MAX": 0},  # missing observations labelled by a binary search
    ],
)
def test_every_path_of_the_draws_matches_the_reference(
    monkeypatch: pytest.MonkeyPatch, constants: dict[str, float]
) -> None:
    for name, value in constants.items():
        monkeypatch.setattr(bs, name, value)
    p = poisson_counts(60, 15.0, 3)
    p[[3, 4, 20, 41]] = 0.0  # zero labels: runs of positive ones to put in place
    q = poisson_counts(60, 15.0, 4)
    sampler = bs._Resampler(p, 0.0)
    assert sampler.poisson
    if "TABLE_MAX_MEAN" in constants or "TABLE_MAX_ENTRIES" in constants:
        assert 0 < sampler.other_cols.size < sampler.cols.size
    check_against_reference(p, q, resamples=120)


def test_multiple_chunks_with_a_model_p_match_the_reference(few_rows_per_chunk: None) -> None:
    p = np.linspace(1.0, 2.0, 60)
    q = poisson_counts(60, 30.0, 5)
    got, _ = check_against_reference(p, q, resample_p=False, resamples=50)
    h = float(core.entropy(p))
    assert got.bounds["entropy_p"] == (h, h)


# --------------------------------------------------------------------------- the kernel


def _drawn(side: bs._Model | bs._Resampler, rows: int, seed: int) -> bs._Rows:
    return side.draw(np.random.default_rng(seed), rows, bs._Work())


@pytest.mark.parametrize(
    ("p", "q", "resample_q", "pseudocount"),
    [
        # the benchmark's kind: Poissonized, a few zeros
        (poisson_counts(300, 40.0, 6), poisson_counts(300, 40.0, 7), True, 0.0),
        (poisson_counts(300, 3.0, 8), poisson_counts(300, 3.0, 9), True, 0.0),  # many zeros
        (poisson_counts(300, 3.0, 8), poisson_counts(300, 3.0, 9), True, 0.25),
        # near-identical sides: KL ~ 1e-5, where cancellation would show
        (np.full(50, 20_000.0), np.full(50, 20_000.0), True, 0.0),
        # a model with extremes: ratios that overflow and underflow
        (poisson_counts(40, 30.0, 10), np.geomspace(1e-300, 1.0, 40), False, 0.0),
        (poisson_counts(40, 30.0, 10), np.r_[np.zeros(20), np.ones(20)], False, 0.0),
    ],
)
def test_a_resample_is_measured_as_core_measures_it(
    p: np.ndarray, q: np.ndarray, resample_q: bool, pseudocount: float
) -> None:
    """The bootstrap measures its resamples with core's kernels, its logs looked up in
    tables of core's own logs: each resample's measures are core.measures of its
    counts (plus the pseudocount). To 1e-12 relative, not to the bit: the bootstrap
    divides by one total for all rows, core by each row's sum, which may round
    differently with a pseudocount; and no test asks for a BLAS dot's last bit."""
    sides = [bs._side(p, "p", True, pseudocount), bs._side(q, "q", resample_q, pseudocount)]
    rows, values = [], []
    for side, seed in zip(sides, (11, 12), strict=True):
        rows.append(_drawn(side, 200, seed))
        if isinstance(side, bs._Resampler):  # the same draws again, as counts
            counts = side.counts(np.random.default_rng(seed), 200, bs._Work())
            values.append(counts + pseudocount)
        else:
            values.append(np.tile(q + pseudocount, (200, 1)))
    # The logs of a resampled side are core's, looked up.
    pos = values[0] > 0
    np.testing.assert_array_equal(rows[0].log, core._log(rows[0].p, pos))
    with np.errstate(all="ignore"):
        got = bs._pair_nats(rows[0], rows[1], bs._Work())
    want = core.measures(values[0], values[1], unit="nats")
    for key in got:
        g, w = np.broadcast_to(got[key], want[key].shape), want[key]
        assert not np.isnan(g).any(), key
        np.testing.assert_array_equal(np.isinf(g), np.isinf(w), err_msg=key)
        finite = np.isfinite(w)
        np.testing.assert_allclose(g[finite], w[finite], rtol=1e-12, atol=0.0, err_msg=key)


# --------------------------------------------------------------------------- the sampler


@pytest.mark.parametrize("constants", [{}, {"SHORTFALL_SD": 1.0, "TABLE_MAX_MEAN": 7.0}])
def test_poissonized_rows_are_multinomial(
    monkeypatch: pytest.MonkeyPatch, constants: dict[str, float]
) -> None:
    for name, value in constants.items():
        monkeypatch.setattr(bs, name, value)
    y = np.array([1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 0.0, 16.0, 16.0])  # n = 64
    n, pi = 64, y / 64
    sampler = bs._Resampler(y, 0.0)
    assert sampler.poisson
    rows = 200_000
    x = sampler.counts(np.random.default_rng(2024), rows, bs._Work())
    assert (x.sum(axis=1) == n).all()
    assert (x[:, 6] == 0).all()
    # The mean and covariance of Mult(n, pi): n pi and n (diag(pi) - pi pi').
    cov = n * (np.diag(pi) - np.outer(pi, pi))
    se = np.sqrt(np.diag(cov) / rows)
    assert np.all(np.abs(x.mean(axis=0) - n * pi) <= 5 * se + 1e-12)
    # Standard errors of sample covariances, near-normal at this size: 5 of them.
    var = np.diag(cov)
    se_cov = np.sqrt((np.outer(var, var) + cov**2) / rows)
    assert np.all(np.abs(np.cov(x, rowvar=False) - cov) <= 5 * se_cov + 1e-12)
    # Each label's count is Binomial(n, pi_k): a chi-squared test of its histogram.
    for k in (0, 3, 5, 8):
        seen = np.bincount(x[:, k], minlength=n + 1)
        expected = scipy.stats.binom.pmf(np.arange(n + 1), n, pi[k]) * rows
        keep = expected >= 5
        seen_kept = np.r_[seen[keep], seen[~keep].sum()]
        expected_kept = np.r_[expected[keep], expected[~keep].sum()]
        expected_kept *= seen_kept.sum() / expected_kept.sum()
        assert scipy.stats.chisquare(seen_kept, expected_kept).pvalue > 1e-4, k


# --------------------------------------------------------------------------- seeds


def _counts_pair() -> tuple[np.ndarray, np.ndarray]:
    return poisson_counts(80, 20.0, 21), poisson_counts(80, 20.0, 22)


def test_the_same_seed_gives_the_same_intervals() -> None:
    p, q = _counts_pair()
    one = bootstrap_intervals(p, q, resample_p=True, resample_q=True, resamples=300, seed=5)
    two = bootstrap_intervals(p, q, resample_p=True, resample_q=True, resamples=300, seed=5)
    assert one == two
    assert (one.seed, one.resamples, one.level) == (5, 300, 0.95)


def test_other_seeds_give_other_intervals() -> None:
    p, q = _counts_pair()
    runs = [
        bootstrap_intervals(p, q, resample_p=True, resample_q=True, resamples=300, seed=s)
        for s in (5, 6)
    ]
    assert runs[0].bounds["jsd"] != runs[1].bounds["jsd"]


def test_no_seed_reports_one_that_repeats_the_run() -> None:
    p, q = _counts_pair()
    first = bootstrap_intervals(p, q, resample_p=True, resample_q=True, resamples=200)
    assert isinstance(first.seed, int)
    assert 0 <= first.seed < 2**32
    again = bootstrap_intervals(
        p, q, resample_p=True, resample_q=True, resamples=200, seed=first.seed
    )
    assert again == first
    other = bootstrap_intervals(p, q, resample_p=True, resample_q=True, resamples=200)
    assert other.seed != first.seed  # two draws of 32 bits: equal once in 4e9


def test_the_threads_do_not_change_the_intervals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bs, "CHUNK_ENTRIES", 10 * 80)
    p, q = _counts_pair()
    runs = []
    for threads in (1, 2, 3):
        monkeypatch.setattr(bs, "_threads", lambda t=threads: t)
        runs.append(
            bootstrap_intervals(p, q, resample_p=True, resample_q=True, resamples=95, seed=3)
        )
    assert runs[0] == runs[1] == runs[2]


# --------------------------------------------------------------------------- properties


def test_a_model_side_never_varies() -> None:
    p = poisson_counts(50, 20.0, 31)
    q = np.linspace(0.5, 1.5, 50)
    for pseudocount in (0.0, 0.5):
        ci = bootstrap_intervals(
            p, q, resample_p=True, resample_q=False, seed=1, resamples=300, pseudocount=pseudocount
        )
        h = float(core.measures(p + pseudocount, q + pseudocount)["entropy_q"])
        assert ci.bounds["entropy_q"] == (h, h)
        lo, hi = ci.bounds["entropy_p"]
        assert lo < hi


def test_infinite_kl_in_some_resamples_gives_inf_bounds_not_nan() -> None:
    # Q has one observation of label 0, which P has often: about (1 - 1/200)^200 = 37%
    # of Q's resamples lose it, and then D(P||Q) = H(P,Q) = inf.
    p = np.array([50.0, 60.0, 40.0, 50.0])
    q = np.array([1.0, 79.0, 60.0, 60.0])
    ci = bootstrap_intervals(
        p, q, resample_p=True, resample_q=True, level=0.9, resamples=2000, seed=11
    )
    for key in ("kl_pq", "cross_entropy_pq"):
        lo, hi = ci.bounds[key]
        assert math.isfinite(lo), key
        assert hi == math.inf, key
    for key in ("kl_qp", "cross_entropy_qp", "entropy_p", "entropy_q"):
        assert all(math.isfinite(v) for v in ci.bounds[key]), key
    assert not any(math.isnan(v) for bounds in ci.bounds.values() for v in bounds)
    assert 0.0 <= ci.bounds["jsd"][0] <= ci.bounds["jsd"][1] <= 1.0
    assert 0.0 <= ci.bounds["js_distance"][0] <= ci.bounds["js_distance"][1] <= 1.0


def test_disjoint_supports_give_a_jsd_of_one_bit() -> None:
    p, q = np.array([10.0, 20.0, 0.0, 0.0]), np.array([0.0, 0.0, 5.0, 7.0])
    ci = bootstrap_intervals(p, q, resample_p=True, resample_q=True, resamples=50, seed=1)
    assert ci.bounds["jsd"] == (1.0, 1.0)
    assert ci.bounds["kl_pq"] == (math.inf, math.inf)


def test_bounds_are_ordered_and_hold_the_point_estimate() -> None:
    p, q = poisson_counts(200, 50.0, 41), poisson_counts(200, 50.0, 42)
    q[p == 0] += 1  # keep every KL finite
    p[q == 0] += 1
    ci = bootstrap_intervals(p, q, resample_p=True, resample_q=True, resamples=2000, seed=9)
    point = core.measures(p, q)
    for key in core.MEASURES:
        lo, hi = ci.bounds[key]
        assert math.isfinite(lo), key
        assert math.isfinite(hi), key
        assert lo <= float(point[key]) <= hi, key
    # The plug-in JSD is biased up, so its resamples sit above it; it is still inside.
    assert ci.bounds["jsd"][0] < float(point["jsd"])


def test_one_resample_gives_one_value_twice() -> None:
    p, q = _counts_pair()
    ci = bootstrap_intervals(p, q, resample_p=True, resample_q=True, resamples=1, seed=2)
    assert all(lo == hi for lo, hi in ci.bounds.values())


def test_the_trim_reads_the_level_as_a_decimal() -> None:
    # (1 - 0.9) * 20 / 2 is 0.9999999999999998 in floats; exactly 1 is left out.
    assert bs._trimmed(0.9, 20) == 1
    assert bs._trimmed(0.95, 2000) == 50
    assert bs._trimmed(0.9, 10) == 0
    assert bs._trimmed(0.5, 7) == 1
    assert bs._trimmed(0.99, 10_000) == 50


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("level", [0.0, 1.0, -0.5, 1.5, math.nan, math.inf])
def test_a_level_outside_0_1_is_a_usage_error(level: float) -> None:
    with pytest.raises(UsageError, match="--ci"):
        bootstrap_intervals([1, 2], [3, 4], resample_p=True, resample_q=True, level=level)


@pytest.mark.parametrize("resamples", [0, -3])
def test_fewer_than_one_resample_is_a_usage_error(resamples: int) -> None:
    with pytest.raises(UsageError, match="--resamples"):
        bootstrap_intervals([1, 2], [3, 4], resample_p=True, resample_q=True, resamples=resamples)


def test_neither_side_resampled_is_an_error() -> None:
    with pytest.raises(ValueError, match="neither"):
        bootstrap_intervals([1, 2], [3, 4], resample_p=False, resample_q=False)


def test_errors_are_one_line() -> None:
    for kwargs in ({"level": 2.0}, {"resamples": 0}, {"seed": -1}, {"pseudocount": -1.0}):
        with pytest.raises(UsageError) as info:
            bootstrap_intervals([1, 2], [3, 4], resample_p=True, resample_q=True, **kwargs)  # type: ignore[arg-type]
        assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("p", "q", "message"),
    [
        ([1.5, 2.0], [3.0, 4.0], "counts"),
        ([1.0, -2.0], [3.0, 4.0], "negative"),
        ([1.0, math.nan], [3.0, 4.0], "NaN"),
        ([1.0, 2.0], [3.0, 4.0, 5.0], "match"),
        ([0.0, 0.0], [3.0, 4.0], "total"),
        ([], [], "empty"),
    ],
)
def test_bad_data_is_invalid_data(p: list[float], q: list[float], message: str) -> None:
    with pytest.raises(InvalidDataError, match=message):
        bootstrap_intervals(p, q, resample_p=True, resample_q=True)


def test_a_model_without_mass_is_invalid_data() -> None:
    with pytest.raises(InvalidDataError, match="no positive value"):
        bootstrap_intervals([1, 2], [0, 0], resample_p=True, resample_q=False)


# --------------------------------------------------------------------------- coverage


def _pair_at_jsd(target_bits: float) -> tuple[np.ndarray, np.ndarray]:
    """P on 10 labels, and Q = (1 - t) P + t R with t set by bisection so that
    JSD(P, Q) = ``target_bits``."""
    p = np.array([0.2, 0.15, 0.12, 0.11, 0.1, 0.09, 0.08, 0.07, 0.05, 0.03])
    r = p[::-1].copy()
    lo, hi = 0.0, 1.0
    for _ in range(60):
        t = (lo + hi) / 2
        if float(core.js_divergence(p, (1 - t) * p + t * r)) < target_bits:
            lo = t
        else:
            hi = t
    return p, (1 - lo) * p + lo * r


@pytest.mark.slow
def test_coverage_of_the_jsd_interval_at_95_percent() -> None:
    p, q = _pair_at_jsd(0.1)
    true_jsd = float(core.js_divergence(p, q))
    assert abs(true_jsd - 0.1) <= 0.01
    rng = np.random.default_rng(20240601)
    datasets, draws = 200, 1000
    hits = 0
    start = time.perf_counter()
    for i in range(datasets):
        x, y = rng.multinomial(draws, p), rng.multinomial(draws, q)
        lo, hi = bootstrap_intervals(
            x, y, resample_p=True, resample_q=True, level=0.95, resamples=2000, seed=i
        ).bounds["jsd"]
        hits += lo <= true_jsd <= hi
    elapsed = time.perf_counter() - start
    coverage = hits / datasets
    print(f"coverage {coverage:.3f} ({hits}/{datasets}) in {elapsed:.1f} s")
    assert coverage >= 0.90


def test_a_total_of_2_to_the_53_plus_1_is_refused() -> None:
    # Its float sum is 2^53, at the limit; the exact total is beyond it.
    with pytest.raises(InvalidDataError, match="2\\*\\*53"):
        bs.bootstrap_intervals([2.0**53, 1.0], [0.5, 0.5], resample_p=True, resample_q=False)
    ci = bs.bootstrap_intervals(
        [2.0**53 - 1, 1.0], [0.5, 0.5], resample_p=True, resample_q=False, resamples=20, seed=1
    )
    assert ci.bounds["kl_pq"][1] == pytest.approx(1.0, rel=1e-12)  # ~all of P on one label
