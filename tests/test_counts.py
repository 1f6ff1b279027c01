"""The rules for counts (kldiv_cli.maths.counts): whole numbers, totals up to 2^53."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kldiv_cli.errors import InvalidDataError
from kldiv_cli.maths.counts import (
    MAX_COUNT_TOTAL,
    check_count_total,
    check_row_count_totals,
    count_total,
    first_not_whole,
    is_counts,
    require_whole,
)


def test_counts_are_whole_numbers() -> None:
    assert is_counts([0.0, 3.0, 1e15])
    assert not is_counts([0.5, 0.5])
    assert not is_counts([1.0, math.nan])
    assert not is_counts([1.0, math.inf])


def test_first_not_whole_is_the_first_in_c_order() -> None:
    assert first_not_whole([1.0, 2.0, 3.0]) is None
    assert first_not_whole([1.0, 2.5, 3.5]) == (1,)
    assert first_not_whole([[1.0, 2.0], [0.5, 3.5]]) == (1, 0)
    assert first_not_whole([1.0, math.nan]) == (1,)


def test_require_whole_names_the_place_and_the_value() -> None:
    values = np.array([[1.0, 2.0], [3.0, 0.25]])
    with pytest.raises(InvalidDataError) as caught:
        require_whole(values, lambda i, k: f"row {i}, column {k}", "--test")
    assert str(caught.value) == (
        "row 1, column 1: --test needs counts (whole numbers), and 0.25 is not one"
    )
    require_whole(np.array([1.0, 2.0]), lambda i: f"row {i}", "--test")  # no error


def test_count_total_is_exact_where_the_float_sum_rounds_to_the_limit() -> None:
    # 2^53 + 1 has no float: the float sum is 2^53, the recount the int 2^53 + 1.
    assert float(np.sum([2.0**53, 1.0])) == 2.0**53
    assert count_total([2.0**53, 1.0]) == 2**53 + 1
    assert count_total([1.0] * 3 + [2.0**53 - 4]) == 2**53 - 1
    assert count_total([2.0**52, 2.0**52]) == MAX_COUNT_TOTAL
    assert count_total([2.0**53, 2.0]) == 2**53 + 2
    assert count_total([3.0, 4.0]) == 7.0


def test_check_count_total_allows_2_to_the_53_and_no_more() -> None:
    check_count_total(MAX_COUNT_TOTAL, "P", "--ci")
    with pytest.raises(InvalidDataError) as caught:
        check_count_total(2**53 + 1, "P", "--ci")
    assert str(caught.value) == (
        "P: --ci needs counts that total at most 2^53 (about 9.007e15), "
        "and these total 9007199254740993"
    )


def test_row_totals_recount_the_rows_whose_float_total_is_the_limit() -> None:
    # Row 1's float total is 2^53, its true total 2^53 + 1: only the recount sees it.
    values = np.array([[1.0, 2.0], [2.0**53, 1.0]])
    totals = values.sum(axis=1)
    assert totals[1] == MAX_COUNT_TOTAL
    with pytest.raises(InvalidDataError, match=r"^row 1: --test .* total 9007199254740993$"):
        check_row_count_totals(values, totals, lambda i: f"row {i}", "--test")
    fine = np.array([[1.0, 2.0], [2.0**52, 2.0**52]])
    check_row_count_totals(fine, fine.sum(axis=1), lambda i: f"row {i}", "--test")
