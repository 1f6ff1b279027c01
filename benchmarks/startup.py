"""How long does a small ``kldiv`` command take, next to Python importing NumPy?

Times whole processes (``time.perf_counter`` around ``subprocess.run``, stdout to a
pipe), interleaved, after warm-up runs, and reports medians:

  (a) kldiv compare 0.5,0.5 0.9,0.1
  (b) kldiv --version
  (c) python -c "import numpy"          (the floor: kldiv computes with NumPy)
  (d) kldiv compare samples/dice.csv --label face --format json   (a 6-row file)

Targets: a/c <= 2.5, b/c <= 2.5 and d/c <= 3. It also checks, with ``-X importtime``,
that (a) imports neither pandas nor rich, and that (d) imports no pandas, rich or
pyarrow: a small file is read with Python's csv module. A report, not a test: it
always exits 0.

    python benchmarks/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import sys

from _bench import (
    interleaved,
    kldiv_command,
    median_ms,
    path_kldiv_note,
    run,
    spread_ms,
    verdict,
)

TARGET = 2.5
TARGET_FILE = 3.0
MIN_RUNS = 11
WARMUPS = 2
COMPARE_ARGS = ["compare", "0.5,0.5", "0.9,0.1"]
FILE_ARGS = ["compare", "samples/dice.csv", "--label", "face", "--format", "json"]
HEAVY = ("pandas", "rich", "pyarrow")


def imported_modules(stderr: bytes) -> set[str]:
    """Module names from ``-X importtime`` lines: ``import time: self | cumulative | name``."""
    names = set()
    for line in stderr.decode(errors="replace").splitlines():
        if not line.startswith("import time:"):
            continue
        name = line.rsplit("|", 1)[-1].strip()
        if name and name != "imported package":  # skip the header line
            names.add(name)
    return names


def heavy_imports(command: list[str], env: dict[str, str] | None = None) -> dict[str, bool]:
    done = run(command, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{command} failed: {done.stderr.decode(errors='replace')[-2000:]}")
    tops = {name.split(".")[0] for name in imported_modules(done.stderr)}
    return {pkg: pkg in tops for pkg in HEAVY}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs", type=int, default=21, help=f"timed runs of each command (>= {MIN_RUNS})"
    )
    args = parser.parse_args()
    if args.runs < MIN_RUNS:
        parser.error(f"--runs must be at least {MIN_RUNS}")

    kldiv = kldiv_command()
    commands = {
        "a": [*kldiv, *COMPARE_ARGS],
        "b": [*kldiv, "--version"],
        "c": [sys.executable, "-c", "import numpy"],
        "d": [*kldiv, *FILE_ARGS],
    }
    times, _ = interleaved(commands, args.runs, WARMUPS)
    med = {name: median_ms(t) for name, t in times.items()}

    print(f"kldiv startup: {args.runs} interleaved runs each after {WARMUPS} warm-ups, medians")
    print(f"kldiv: {' '.join(kldiv)}")
    note = path_kldiv_note(kldiv)
    if note:
        print(note)
    labels = {
        "a": "kldiv compare 0.5,0.5 0.9,0.1",
        "b": "kldiv --version",
        "c": "python -c 'import numpy'",
        "d": "kldiv compare samples/dice.csv (6 rows)",
    }
    for name, label in labels.items():
        print(f"  ({name}) {label:<40} {med[name]:7.1f} ms  ({spread_ms(times[name])})")
    for name, target in (("a", TARGET), ("b", TARGET), ("d", TARGET_FILE)):
        ratio = med[name] / med["c"]
        print(f"ratio {name}/c = {ratio:.2f} (target <= {target}): {verdict(ratio <= target)}")

    # What (a) and (d) import: through -m kldiv_cli as asked, and through the console
    # script itself (PYTHONPROFILEIMPORTTIME=1 is the same switch as -X importtime).
    for name, cli_args in (("a", COMPARE_ARGS), ("d", FILE_ARGS)):
        found = heavy_imports([sys.executable, "-X", "importtime", "-m", "kldiv_cli", *cli_args])
        if kldiv[0] != sys.executable:
            env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
            for pkg, seen in heavy_imports(commands[name], env).items():
                found[pkg] = found[pkg] or seen
        seen_names = [pkg for pkg in HEAVY if found[pkg]]
        print(f"({name}) imports {', '.join(seen_names) or 'none'} of {', '.join(HEAVY)}")
        print(f"no heavy import in ({name}): {verdict(not seen_names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
