"""Baseline (b) of compare_large.py: the fastest bare pandas + NumPy script we could write.

Reads only the two count columns of a ``label,ref,cur`` table (usecols, float64) and
prints the eight measures of ``kldiv compare FILE --format json`` (P = ref, Q = cur),
in bits, as one JSON object; an infinity prints as the string "inf", as kldiv prints it.

Three logs in all, taken on the raw counts so nothing is normalized first. With
totals S_p, S_q (natural logs; ln 0 is taken as 0, so 0 log 0 = 0):

    H(P)   = ln S_p - sum(c_p ln c_p) / S_p
    H(P,Q) = ln S_q - sum(c_p ln c_q) / S_p      (inf where some q = 0 < p)
    D(P||Q) = H(P,Q) - H(P)                       (inf likewise)
    JSD    = H(M) - (H(P) + H(Q)) / 2,  M = (P + Q) / 2

Unlike kldiv it checks nothing (negative or NaN counts, labels) and loses digits when
P and Q are nearly equal; it is a speed floor, not a replacement.

    python benchmarks/baseline_numpy.py FILE
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pandas as pd


def main(path: str) -> None:
    frame = pd.read_csv(path, usecols=["ref", "cur"], dtype=np.float64)
    cp = frame["ref"].to_numpy()
    cq = frame["cur"].to_numpy()
    sp, sq = float(cp.sum()), float(cq.sum())
    zp, zq = cp == 0, cq == 0

    with np.errstate(divide="ignore"):
        lp = np.log(cp)
        lq = np.log(cq)
        m = cp * (0.5 / sp)
        m += cq * (0.5 / sq)
        lm = np.log(m)
    lp[zp] = 0.0
    lq[zq] = 0.0
    lm[zp & zq] = 0.0

    lsp, lsq = math.log(sp), math.log(sq)
    h_p = lsp - float(cp @ lp) / sp
    h_q = lsq - float(cq @ lq) / sq
    inf_pq = bool((zq & ~zp).any())  # some q = 0 < p
    inf_qp = bool((zp & ~zq).any())
    h_pq = math.inf if inf_pq else lsq - float(cp @ lq) / sp
    h_qp = math.inf if inf_qp else lsp - float(cq @ lp) / sq
    jsd = max(-float(m @ lm) - 0.5 * (h_p + h_q), 0.0)

    ln2 = math.log(2.0)
    measures = {
        "entropy_p": h_p / ln2,
        "entropy_q": h_q / ln2,
        "cross_entropy_pq": h_pq / ln2,
        "cross_entropy_qp": h_qp / ln2,
        "kl_pq": (h_pq - h_p) / ln2,
        "kl_qp": (h_qp - h_q) / ln2,
        "jsd": jsd / ln2,
        "js_distance": math.sqrt(jsd / ln2),
    }
    print(json.dumps({k: "inf" if math.isinf(v) else v for k, v in measures.items()}))


if __name__ == "__main__":
    main(sys.argv[1])
