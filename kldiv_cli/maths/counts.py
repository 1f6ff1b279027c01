r"""The rules for counts: whole numbers, with a total that float64 holds exactly.

A G-test and a bootstrap interval read their values as numbers of observations, so
they need whole numbers (``x == round(x)``), and a total that float64 holds exactly:
every whole number up to :math:`2^{53}` has a float, and a float sum of non-negative
whole numbers is exact while it stays there. This module is the one place that says
so; the commands and the measures call it.

The checks raise :class:`~kldiv_cli.errors.InvalidDataError` with the message the
command line prints, but know nothing of tables: the caller says where a value is,
with a ``where`` callable or a name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kldiv_cli.errors import InvalidDataError

#: The largest total of counts: float64 holds every whole number up to 2^53, and a
#: float sum of whole numbers is exact while it stays there.
MAX_COUNT_TOTAL: Final = 2**53


def first_not_whole(values: ArrayLike) -> tuple[int, ...] | None:
    r"""The index of the first value (in C order) that is not a whole number.

    A value :math:`x` is whole when :math:`x = \mathrm{round}(x)`; NaN never is (an
    infinity is: the caller rules those out first, as every reader does).

    Parameters
    ----------
    values : array_like
        Numbers of any shape.

    Returns
    -------
    tuple of int or None
        The index of the first value that is not whole, ``None`` if all are.
    """
    a = np.asarray(values, dtype=np.float64)
    bad = np.argwhere(a != np.round(a))
    if not bad.size:
        return None
    return tuple(int(i) for i in bad[0])


def is_counts(values: ArrayLike) -> bool:
    r"""True when every value is a finite whole number (:math:`x = \mathrm{round}(x)`):
    counts, not rates."""
    a = np.asarray(values, dtype=np.float64)
    return bool(np.isfinite(a).all()) and first_not_whole(a) is None


def require_whole(values: NDArray[np.float64], where: Callable[..., str], option: str) -> None:
    """Raise InvalidDataError at the first of ``values`` (any shape) that is not a whole
    number (:func:`first_not_whole`); ``where(*index)`` says where it is, for the message.

    Raises
    ------
    InvalidDataError
        ``"<where>: <option> needs counts (whole numbers), and <value> is not one"``.
    """
    index = first_not_whole(values)
    if index is not None:
        raise InvalidDataError(
            f"{where(*index)}: {option} needs counts (whole numbers), "
            f"and {float(values[index])!r} is not one"
        )


def count_total(values: ArrayLike) -> float | int:
    r"""The total of whole-number counts, :math:`n = \sum_k x_k`, exact whenever it is at
    most :data:`MAX_COUNT_TOTAL`.

    A float sum of non-negative whole numbers is exact while below 2^53, above it when
    the true total is (every partial sum rounds to a number >= 2^53 once it passes
    it), and exactly 2^53 for any true total from 2^53 to a little beyond: so 2^53 + 1
    (``9007199254740992,1``) sums to 2^53. Only then is the total recounted, in
    integers, and returned as an ``int`` (2^53 + 1 has no float).
    """
    a = np.asarray(values, dtype=np.float64)
    with np.errstate(over="ignore"):  # inf is beyond the limit too
        total = float(a.sum())
    if total != MAX_COUNT_TOTAL:
        return total
    # Each count is at most 2^53 and the true total barely above it: no int64 overflow.
    return int(a.astype(np.int64).sum())


def check_count_total(total: float | int, name: str, option: str) -> None:
    """Raise InvalidDataError when counts total more than :data:`MAX_COUNT_TOTAL`.

    Raises
    ------
    InvalidDataError
        ``"<name>: <option> needs counts that total at most 2^53 (about 9.007e15), and
        these total <total>"``.
    """
    if not total <= MAX_COUNT_TOTAL:
        raise InvalidDataError(
            f"{name}: {option} needs counts that total at most 2^53 (about 9.007e15), "
            f"and these total {total!r}"
        )


def check_row_count_totals(
    values: NDArray[np.float64],
    totals: NDArray[np.float64],
    name: Callable[[int], str],
    option: str,
) -> None:
    """:func:`check_count_total` of each row of ``values`` (whole numbers), whose float
    sums are ``totals``; ``name(i)`` names row ``i``. The largest total is checked, and
    every row whose float total is exactly 2^53 is recounted (:func:`count_total`):
    it may be 2^53 + 1."""
    for j in np.flatnonzero(totals == MAX_COUNT_TOTAL).tolist():
        check_count_total(count_total(values[j]), name(j), option)
    i = int(np.argmax(totals))
    check_count_total(float(totals[i]), name(i), option)


__all__ = [
    "MAX_COUNT_TOTAL",
    "check_count_total",
    "check_row_count_totals",
    "count_total",
    "first_not_whole",
    "is_counts",
    "require_whole",
]
