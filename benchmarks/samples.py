"""How long does ``kldiv samples`` take on 100,000 points in 3 dimensions a side,
against a plain SciPy script that does the same sums?

The baseline (``--worker baseline P Q``) is what a user would write: pandas
``read_csv`` of the three columns, SciPy's cKDTree, the same four queries (k+1 on the
own tree, k on the other's, every core) and the same formulas, printing the four
measures in nats. kldiv reads through DuckDB, checks every value against its number
grammar, refuses duplicates and missing values, and starts a CLI; the question is
what that costs. The measures of both are checked equal (rel. 1e-9).

Runs are interleaved (kldiv, baseline, kldiv, ...) after a warm-up round; the report
gives the median wall time and the peak RSS of each. Target: kldiv within 2x the
baseline's time. The CSV files (Gaussian points, 17 significant digits) are built
once from a seeded RNG and cached in benchmarks/data/. A report, not a test: it
always exits 0.

    python benchmarks/samples.py [--points N] [--runs N] [-k K]
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import sys
from pathlib import Path

import numpy as np
from _bench import (
    cached_file,
    interleaved,
    kldiv_command,
    median_ms,
    peak_mb,
    spread_ms,
    verdict,
)

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
SEED = 20261130
TARGET = 2.0


def points_csv(n: int, shift: float, scale: float, seed: int) -> str:
    rng = np.random.default_rng(seed)
    xyz = shift + scale * rng.standard_normal((n, 3))
    return "x,y,z\n" + "".join(f"{a!r},{b!r},{c!r}\n" for a, b, c in xyz.tolist())


def baseline(p_path: str, q_path: str, k: int) -> None:
    """The plain script: read, four KD-tree queries, the formulas; JSON to stdout."""
    import pandas as pd
    from scipy.spatial import cKDTree
    from scipy.special import digamma, gammaln

    p = pd.read_csv(p_path, usecols=["x", "y", "z"]).to_numpy(np.float64)
    q = pd.read_csv(q_path, usecols=["x", "y", "z"]).to_numpy(np.float64)
    n, m, d = len(p), len(q), p.shape[1]
    tp, tq = cKDTree(p), cKDTree(q)
    rho_p = tp.query(p, k=[k + 1], workers=-1)[0][:, 0]
    nu_p = tq.query(p, k=[k], workers=-1)[0][:, 0]
    rho_q = tq.query(q, k=[k + 1], workers=-1)[0][:, 0]
    nu_q = tp.query(q, k=[k], workers=-1)[0][:, 0]
    log_v = 0.5 * d * math.log(math.pi) - gammaln(0.5 * d + 1)
    out = {
        "kl_pq": d * np.mean(np.log(nu_p / rho_p)) + math.log(m / (n - 1)),
        "kl_qp": d * np.mean(np.log(nu_q / rho_q)) + math.log(n / (m - 1)),
        "entropy_p": digamma(n) - digamma(k) + log_v + d * np.mean(np.log(rho_p)),
        "entropy_q": digamma(m) - digamma(k) + log_v + d * np.mean(np.log(rho_q)),
    }
    print(json.dumps({key: float(v) for key, v in out.items()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("-k", type=int, default=1)
    parser.add_argument("--worker", nargs=3, metavar=("NAME", "P", "Q"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        baseline(args.worker[1], args.worker[2], args.k)
        return
    n = args.points
    paths = {}
    for side, (shift, scale) in {"p": (0.0, 1.0), "q": (0.5, 1.5)}.items():
        path = DATA / f"samples-{side}-{n}.csv"
        build = functools.partial(points_csv, n, shift, scale, SEED + ord(side))
        how = cached_file(path, f"{SEED} {side} {n}", build)
        print(f"{path.name}: {how}")
        paths[side] = str(path)
    commands = {
        "kldiv": [
            *kldiv_command(),
            "samples",
            paths["p"],
            paths["q"],
            "-k",
            str(args.k),
            "--unit",
            "nats",
            "--format",
            "json",
        ],
        "baseline": [
            sys.executable,
            __file__,
            "-k",
            str(args.k),
            "--worker",
            "baseline",
            paths["p"],
            paths["q"],
        ],
    }
    times, outputs = interleaved(commands, args.runs, warmups=1)
    ours = json.loads(outputs["kldiv"])["measures"]
    theirs = json.loads(outputs["baseline"])
    same = all(math.isclose(ours[key], theirs[key], rel_tol=1e-9) for key in theirs)
    print(f"{n:,} points a side, d = 3, k = {args.k}; measures equal: {same}")
    for name, taken in times.items():
        print(
            f"  {name:9s} {median_ms(taken):8.0f} ms ({spread_ms(taken)}), "
            f"peak {peak_mb(commands[name]):.0f} MB"
        )
    ratio = median_ms(times["kldiv"]) / median_ms(times["baseline"])
    print(f"  kldiv / baseline: {ratio:.2f}x (target <= {TARGET}x): {verdict(ratio <= TARGET)}")
    print("  measures (nats):", json.dumps(ours))


if __name__ == "__main__":
    main()
