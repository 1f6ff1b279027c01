"""How fast is ``kldiv compare`` on a 1,000,000-label count table?

Times whole processes, interleaved, and reports medians of

  (k) kldiv compare benchmarks/data/large.csv --format json   (P = ref, Q = cur)
  (a) python benchmarks/baseline_scipy.py  (pandas.read_csv + scipy.stats.entropy
      and scipy.spatial.distance.jensenshannon: what a user would write)
  (b) python benchmarks/baseline_numpy.py  (the fastest bare pandas + NumPy script)

after checking that the three print the same eight measures (rel. 1e-9, inf = inf).
Targets: a/k >= 2 (kldiv at least twice as fast as pandas + SciPy) and k/b <= 1.3
(kldiv within 30% of the bare script). A report, not a test: it always exits 0.

The table (``label,ref,cur``, labels ``w0000001`` ...) is built once from a seeded RNG
and cached in benchmarks/data/ (git-ignored); a change of its parameters rebuilds it.

    python benchmarks/compare_large.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
from _bench import (
    REPO,
    cached_file,
    interleaved,
    kldiv_command,
    median_ms,
    path_kldiv_note,
    spread_ms,
    verdict,
)

from kldiv_cli.maths.core import MEASURES

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "large.csv"
ROWS = 1_000_000
SEED = 20240521
#: Poisson means drawn log-normally (median e^3 ~ 20, a long tail), cur drifted by a
#: log-normal factor. Bumping the parameters here rebuilds the cached file.
PARAMS = f"rows={ROWS} seed={SEED} lam=lognormal(3.0,1.0) drift=lognormal(0,0.25) v1"
MIN_RUNS = 7
WARMUPS = 1
REL_TOL = 1e-9
TARGET_VS_SCIPY = 2.0
TARGET_VS_NUMPY = 1.3


def build_table(path: Path = DATA) -> str:
    """Write the count table unless the cached one has the same parameters."""
    return cached_file(path, PARAMS, table_text)


def table_text() -> str:
    rng = np.random.default_rng(SEED)
    lam = rng.lognormal(3.0, 1.0, ROWS)
    ref = rng.poisson(lam)
    cur = rng.poisson(lam * rng.lognormal(0.0, 0.25, ROWS))
    # About 0.5% zeros in each column. A label seen in ref is always seen in cur, so
    # D(P||Q) and H(P,Q) stay finite and their values are compared; labels new in cur
    # (p = 0 < q) make D(Q||P) = H(Q,P) = inf; labels at 0 in both test 0 log 0 = 0.
    cur[(ref > 0) & (cur == 0)] = 1
    lines = [
        f"w{i:07d},{r},{c}\n"
        for i, r, c in zip(range(1, ROWS + 1), ref.tolist(), cur.tolist(), strict=True)
    ]
    return "label,ref,cur\n" + "".join(lines)


def parse_measures(stdout: bytes, name: str) -> dict[str, float]:
    doc = json.loads(stdout)
    if name == "k":
        doc = doc["measures"]
    return {key: float(doc[key]) for key in MEASURES}  # float("inf") reads "inf"


def same(x: float, y: float) -> bool:
    if math.isinf(x) or math.isinf(y):
        return x == y
    return math.isclose(x, y, rel_tol=REL_TOL, abs_tol=0.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs", type=int, default=MIN_RUNS, help=f"timed runs of each command (>= {MIN_RUNS})"
    )
    args = parser.parse_args()
    if args.runs < MIN_RUNS:
        parser.error(f"--runs must be at least {MIN_RUNS}")

    how = build_table()
    data = DATA.relative_to(REPO)
    kldiv = kldiv_command()
    commands = {
        "k": [*kldiv, "compare", str(data), "--format", "json"],
        "a": [sys.executable, str(HERE / "baseline_scipy.py"), str(data)],
        "b": [sys.executable, str(HERE / "baseline_numpy.py"), str(data)],
    }
    times, outputs = interleaved(commands, args.runs, WARMUPS)
    med = {name: median_ms(t) for name, t in times.items()}
    values = {name: parse_measures(out, name) for name, out in outputs.items()}

    size = DATA.stat().st_size / 1e6
    print(f"kldiv compare on {data} ({ROWS:,} labels, {size:.1f} MB, {how})")
    print(f"{args.runs} interleaved runs each after {WARMUPS} warm-up, medians")
    print(f"kldiv: {' '.join(kldiv)}")
    note = path_kldiv_note(kldiv)
    if note:
        print(note)

    print(f"agreement of the eight measures (rel. {REL_TOL:g}, inf = inf):")
    all_agree = True
    for key in MEASURES:
        k = values["k"][key]
        agree = same(k, values["a"][key]) and same(k, values["b"][key])
        all_agree &= agree
        worst = max(
            (abs(values[n][key] - k) / abs(k) if math.isfinite(k) and k else 0.0)
            for n in ("a", "b")
        )
        detail = "inf" if math.isinf(k) else f"{k!r:<22} max rel. diff {worst:.1e}"
        print(f"  {key:<17} {'ok ' if agree else 'BAD'} {detail}")
    print(f"  all three agree: {'yes' if all_agree else 'NO'}")

    labels = {
        "k": "kldiv compare --format json",
        "a": "pandas + scipy (baseline_scipy)",
        "b": "bare pandas + numpy (baseline_numpy)",
    }
    for name, label in labels.items():
        print(f"  ({name}) {label:<37} {med[name]:7.0f} ms  ({spread_ms(times[name])})")
    a_k = med["a"] / med["k"]
    k_b = med["k"] / med["b"]
    print(
        f"ratio a/k = {a_k:.2f}: kldiv is {a_k:.2f}x faster than pandas+scipy "
        f"(target >= {TARGET_VS_SCIPY:g}): {verdict(a_k >= TARGET_VS_SCIPY)}"
    )
    print(
        f"ratio k/b = {k_b:.2f}: kldiv takes {k_b:.2f}x the bare numpy script "
        f"(target <= {TARGET_VS_NUMPY:g}): {verdict(k_b <= TARGET_VS_NUMPY)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
