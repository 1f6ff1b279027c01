"""Baseline (a) of compare_large.py: what a user would write with pandas and SciPy.

Reads a ``label,ref,cur`` count table and prints the eight measures of
``kldiv compare FILE --format json`` (P = ref, Q = cur), in bits, as one JSON object;
an infinity prints as the string "inf", as kldiv prints it.

    python benchmarks/baseline_scipy.py FILE
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy


def main(path: str) -> None:
    frame = pd.read_csv(path)
    p = frame["ref"].to_numpy(dtype=np.float64)
    q = frame["cur"].to_numpy(dtype=np.float64)
    # scipy.stats.entropy normalizes its inputs; entropy(p, q) is D(P||Q).
    entropy_p = float(entropy(p, base=2))
    entropy_q = float(entropy(q, base=2))
    kl_pq = float(entropy(p, q, base=2))
    kl_qp = float(entropy(q, p, base=2))
    js_distance = float(jensenshannon(p, q, base=2))
    measures = {
        "entropy_p": entropy_p,
        "entropy_q": entropy_q,
        "cross_entropy_pq": entropy_p + kl_pq,
        "cross_entropy_qp": entropy_q + kl_qp,
        "kl_pq": kl_pq,
        "kl_qp": kl_qp,
        "jsd": js_distance**2,
        "js_distance": js_distance,
    }
    print(json.dumps({k: "inf" if math.isinf(v) else v for k, v in measures.items()}))


if __name__ == "__main__":
    main(sys.argv[1])
