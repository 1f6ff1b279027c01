"""Baseline of matrix_large.py: what a user would write with pandas and SciPy.

Reads a ``name,b1,...,bK`` table (one distribution per row), computes every pairwise
Jensen-Shannon divergence with ``scipy.spatial.distance.pdist(..., "jensenshannon")``
squared, in bits (pdist's C kernel takes no ``base``: nats / ln 2), and writes the square matrix as CSV with pandas
(row and column names, as ``kldiv matrix --rows --format csv`` does).

    python benchmarks/baseline_pdist.py TABLE OUT
"""

from __future__ import annotations

import math
import sys

import pandas as pd
from scipy.spatial.distance import pdist, squareform


def main(path: str, out: str) -> None:
    frame = pd.read_csv(path, index_col=0)
    jsd = squareform(pdist(frame.to_numpy(), "jensenshannon") ** 2 / math.log(2))
    pd.DataFrame(jsd, index=frame.index, columns=frame.index).to_csv(out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
