r"""Significance for counts: the G-test (log-likelihood ratio test) in its three kinds.

Every kind is a divergence scaled by a number of observations, so each reuses a measure
that kldiv computes anyway, in nats:

- **independence** of X and Y in an r x c contingency table of ``N`` counts:
  :math:`G = 2 \sum O \ln(O / E) = 2 N\, I(X; Y)`, with
  :math:`df = (r' - 1)(c' - 1)` over the non-empty rows and columns;
- **homogeneity** of two count distributions: independence in their 2 x K table
  (is the label independent of which sample it came from?), :math:`df = K' - 1` over
  the labels whose total is not 0;
- **goodness of fit** of counts with total ``n`` to a model Q:
  :math:`G = 2 n\, D(\hat P \| Q)`, :math:`df = K' - 1` over the labels where Q > 0.
  An observation where Q = 0 makes G infinite and the p-value 0.

Under the null hypothesis G is asymptotically chi-squared with ``df`` degrees of
freedom; the p-value is its upper tail. The tail is the one thing here that NumPy
lacks: :func:`scipy.special.chdtrc`, imported only when a test is asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike

from kldiv_cli.maths import core
from kldiv_cli.maths.information import mutual_information

#: The kinds of G-test, by what they ask of the counts.
KINDS: Final = ("homogeneity", "goodness-of-fit", "independence")


@dataclass(frozen=True)
class GTest:
    """The outcome of a G-test: its statistic ``G``, degrees of freedom, p-value."""

    kind: str
    statistic: float
    df: int
    p_value: float
    name: str = "g-test"


def chi2_upper_tail(statistic: float, df: int) -> float:
    """P(X >= statistic) for X ~ chi-squared(df); 0 for an infinite statistic.

    With ``df = 0`` the distribution is a point mass at 0: the tail is 1 for ``G = 0``.
    """
    if math.isinf(statistic):
        return 0.0
    if df == 0:
        return 1.0 if statistic <= 0.0 else 0.0
    from scipy.special import chdtrc  # ~0.3 s to import: only when a test is asked for

    return float(chdtrc(df, statistic))


def _gamma_upper(a: float, x: float) -> float:
    """Q(a, x) = Gamma(a, x) / Gamma(a), the regularised upper incomplete gamma: by its
    series below x = a + 1, by its continued fraction (modified Lentz) above, each to
    a relative 1e-16 (Numerical Recipes, 6.2)."""
    if x <= 0.0:
        return 1.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1.0:  # P(a, x) = e^-x x^a / Gamma(a) * sum x^n / (a (a+1) ... (a+n))
        term = total = 1.0 / a
        ap = a
        while abs(term) > abs(total) * 1e-17:
            ap += 1.0
            term *= x / ap
            total += term
        return 1.0 - total * math.exp(log_front)
    tiny = 1e-300
    b = x + 1.0 - a
    c, d = 1.0 / tiny, 1.0 / b
    h = d
    i = 0
    while True:
        i += 1
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        step = d * c
        h *= step
        if abs(step - 1.0) < 1e-17 or i > 100_000:
            return h * math.exp(log_front)


def chi2_quantile(p: float, df: int) -> float:
    """The p-quantile of chi-squared(df): x with P(X <= x) = p, 0 < p < 1, df >= 1.

    Newton's method on the upper tail, Q(df/2, x/2) = 1 - p, whose derivative is the
    density, from the Wilson-Hilferty start x0 = df (1 - 2/(9 df) + z sqrt(2/(9 df)))^3
    (z the normal p-quantile), kept inside a shrinking bracket. SciPy's ``chi2.ppf``
    gives the same to 1e-12 relative (tests); it is computed here because importing
    ``scipy.special`` costs ~0.2-0.3 s, a third of a ``drift`` of a million rows.
    """
    from statistics import NormalDist  # the standard library's inverse normal

    a, alpha = df / 2.0, 1.0 - p
    z = NormalDist().inv_cdf(p)
    w = 2.0 / (9.0 * df)
    x = max(df * (1.0 - w + z * math.sqrt(w)) ** 3, 1e-300) / 2.0
    lo, hi = 0.0, math.inf
    for _ in range(200):
        gap = _gamma_upper(a, x) - alpha  # decreasing in x
        if gap > 0:
            lo = x
        else:
            hi = x
        density = math.exp(-x + (a - 1.0) * math.log(x) - math.lgamma(a))
        step = gap / density if density > 0 else math.inf
        new = x + step
        if not lo < new < hi:  # Newton left the bracket: bisect it (or double it)
            new = (lo + hi) / 2.0 if math.isfinite(hi) else 2.0 * x
        if abs(new - x) <= 1e-15 * x:
            return 2.0 * new
        x = new
    return 2.0 * x  # pragma: no cover - Newton converges in a handful of steps


def _result(kind: str, statistic: float, df: int) -> GTest:
    statistic = max(statistic, 0.0) + 0.0  # rounding residue never makes G negative
    return GTest(kind, statistic, df, chi2_upper_tail(statistic, df))


def g_independence(counts: ArrayLike, *, kind: str = "independence") -> GTest:
    r"""The G-test of independence of the rows and columns of a table of counts.

    .. math:: G = 2 \sum_{x,y} O_{xy} \ln \frac{O_{xy}}{E_{xy}} = 2 N\, I(X; Y),
              \qquad E_{xy} = \frac{O_{x\cdot}\, O_{\cdot y}}{N}

    with ``I`` in nats (computed term by term, so a small G keeps its digits) and
    ``df = (r' - 1)(c' - 1)``, r' and c' the rows and columns with a non-zero total
    (an empty row or column holds no information and no degree of freedom).

    Examples
    --------
    >>> t = g_independence([[10, 20], [20, 10]])
    >>> round(t.statistic, 3), t.df, round(t.p_value, 4)
    (6.796, 1, 0.0091)
    """
    table = np.asarray(counts, dtype=np.float64)
    information = mutual_information(table, unit="nats")["mutual_information"]
    n = float(table.sum())
    rows = int(np.count_nonzero(table.sum(axis=1)))
    cols = int(np.count_nonzero(table.sum(axis=0)))
    return _result(kind, 2.0 * n * information, (rows - 1) * (cols - 1))


def g_homogeneity(p_counts: ArrayLike, q_counts: ArrayLike) -> GTest:
    r"""The G-test that two count distributions over the same labels share one law.

    It is the test of independence of their 2 x K table (rows: the two samples),
    so ``df = K' - 1`` over the labels whose total is not 0.

    Examples
    --------
    >>> t = g_homogeneity([10, 20], [20, 10])
    >>> round(t.statistic, 3), t.df, t.kind
    (6.796, 1, 'homogeneity')
    """
    return g_independence(np.vstack([p_counts, q_counts]), kind="homogeneity")


def g_goodness_of_fit(counts: ArrayLike, model: ArrayLike) -> GTest:
    r"""The G-test of observed counts against a model distribution Q.

    .. math:: G = 2 \sum_k O_k \ln \frac{O_k}{n q_k} = 2 n\, D(\hat P \| Q)

    in nats, with ``df = K' - 1`` over the labels where Q > 0 (a label the model rules
    out holds no degree of freedom; an observation there makes G infinite, p = 0).

    Examples
    --------
    Sixty throws of a die against the fair model:

    >>> t = g_goodness_of_fit([5, 8, 9, 8, 10, 20], [1] * 6)
    >>> round(t.statistic, 3), t.df, round(t.p_value, 4)
    (11.757, 5, 0.0383)
    """
    observed = np.asarray(counts, dtype=np.float64)
    q = np.asarray(model, dtype=np.float64)
    n = float(observed.sum())
    divergence = float(core.kl_divergence(observed, q, unit="nats"))
    return _result("goodness-of-fit", 2.0 * n * divergence, int(np.count_nonzero(q)) - 1)


__all__ = [
    "KINDS",
    "GTest",
    "chi2_upper_tail",
    "g_goodness_of_fit",
    "g_homogeneity",
    "g_independence",
]
