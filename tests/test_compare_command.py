"""kldiv_cli.commands.compare: what the compare command computes beside the measures."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from kldiv_cli.commands.compare import largest


@given(
    values=st.lists(st.integers(0, 5).map(float), max_size=40),
    n=st.integers(0, 45),
)
def test_largest_is_a_stable_sort_cut_to_n(values: list[float], n: int) -> None:
    # Few distinct values, so ties are the rule: of equal values the first comes
    # first, exactly as a stable sort of the negated values gives them.
    array = np.array(values, dtype=np.float64)
    expected = np.argsort(-array, kind="stable")[:n]
    assert largest(array, n).tolist() == expected.tolist()


def test_largest_by_hand() -> None:
    values = np.array([0.1, 0.4, 0.2, 0.4, 0.0, 0.3])
    assert largest(values, 3).tolist() == [1, 3, 5]
    assert largest(values, 1).tolist() == [1]
    assert largest(values, 0).tolist() == []
