"""The raw-row samples (Palmer penguins, Seattle weather) and the figures of their stories.

``samples/penguins.md`` and ``samples/seattle-weather.md`` quote counts, JSDs,
``jsd_noise`` and means that the README's drift example will repeat. Each figure is
recomputed here from the CSV files (read with the csv module, missing = ``NA``) and
compared with the number printed in the .md tables, so neither the files nor the
story can change without the other.

The binning is the spec's ("Raw observations and drift"): edges are the distinct
reference quantiles at j/N by the inverted CDF, less an edge equal to the reference
minimum; bins [e_i, e_i+1); missing is its own label. It is a plain reimplementation
for these figures only, not kldiv's code.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

PENGUIN_HEADER = (
    "species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year"
)
WEATHER_HEADER = "date,precipitation,temp_max,temp_min,wind,weather"

# file -> (header, rows without the header, the .md that tells its story)
FILES = {
    "penguins-2007.csv": (PENGUIN_HEADER, 110, "penguins.md"),
    "penguins-2009.csv": (PENGUIN_HEADER, 120, "penguins.md"),
    "seattle-weather-2012.csv": (WEATHER_HEADER, 366, "seattle-weather.md"),
    "seattle-weather-2015.csv": (WEATHER_HEADER, 365, "seattle-weather.md"),
}
PAIRS = {
    "penguins.md": ("penguins-2007.csv", "penguins-2009.csv"),
    "seattle-weather.md": ("seattle-weather-2012.csv", "seattle-weather-2015.csv"),
}
MISSING = "(missing)"


def read_rows(name: str) -> list[dict[str, str]]:
    with (SAMPLES / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def md_tables(md: str, header: str) -> list[list[str]]:
    """The body rows (cells stripped) of every table of `md` whose header line is `header`."""
    rows: list[list[str]] = []
    lines = (SAMPLES / md).read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.strip() != header:
            continue
        for body in lines[i + 2 :]:  # skip the |---| line
            if not body.startswith("|"):
                break
            rows.append([c.strip().strip("`") for c in body.strip().strip("|").split("|")])
    assert rows, f"{md}: no table with header {header!r}"
    return rows


def labels(rows: list[dict[str, str]], column: str) -> Counter[str]:
    return Counter(MISSING if r[column] == "NA" else r[column] for r in rows)


def jsd_bits(p_counts: np.ndarray, q_counts: np.ndarray) -> float:
    """JSD(P, Q) = (D(P||M) + D(Q||M)) / 2 with M = (P + Q) / 2, in bits; 0 log 0 = 0."""
    p = p_counts / p_counts.sum()
    q = q_counts / q_counts.sum()
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log2(p / m), 0.0) + np.where(q > 0, q * np.log2(q / m), 0.0)
    return float(terms.sum() / 2)


def jsd_noise_bits(k: int, n_ref: int, n_cur: int) -> float:
    """The spec's jsd_noise: chi2_0.95(k-1) (1/n_ref + 1/n_cur) / 8 nats, in bits."""
    return float(chi2.ppf(0.95, k - 1)) * (1 / n_ref + 1 / n_cur) / 8 / math.log(2)


def column_counts(ref: list[str], cur: list[str], bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Reference and current counts of one column, labelled by the spec's rule."""
    present_ref = [v for v in ref if v != "NA"]
    present_cur = [v for v in cur if v != "NA"]
    miss = np.array([len(ref) - len(present_ref), len(cur) - len(present_cur)])
    try:
        xr = np.array([float(v) for v in present_ref])
        xc = np.array([float(v) for v in present_cur])
    except ValueError:
        xr = xc = None
    if xr is None or xc is None or len(np.unique(xr)) <= bins:
        union = sorted(set(present_ref) | set(present_cur))
        r = np.array([present_ref.count(v) for v in union] + [miss[0]])
        c = np.array([present_cur.count(v) for v in union] + [miss[1]])
        return r, c
    edges = np.unique(np.quantile(xr, np.arange(1, bins) / bins, method="inverted_cdf"))
    edges = edges[edges > xr.min()]
    r = np.bincount(np.searchsorted(edges, xr, side="right"), minlength=len(edges) + 1)
    c = np.bincount(np.searchsorted(edges, xc, side="right"), minlength=len(edges) + 1)
    return np.append(r, miss[0]), np.append(c, miss[1])


@pytest.mark.parametrize("name", sorted(FILES))
def test_file_shape(name: str) -> None:
    header, n_rows, _ = FILES[name]
    data = (SAMPLES / name).read_bytes()
    # Byte-faithful subsets of LF, unquoted originals: no CR, no quote, a final newline.
    assert b"\r" not in data
    assert b'"' not in data
    assert data.endswith(b"\n")
    lines = data.decode("utf-8").split("\n")[:-1]
    assert lines[0] == header
    assert len(lines) - 1 == n_rows
    width = header.count(",") + 1
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split(",")
        assert len(fields) == width, f"{name}:{number}: {len(fields)} fields"
        assert all(fields), f"{name}:{number}: an empty field (the originals spell NA)"


@pytest.mark.parametrize("name", sorted(FILES))
def test_row_counts_quoted_in_md(name: str) -> None:
    _, n_rows, md = FILES[name]
    quoted = {row[0]: int(row[1]) for row in md_tables(md, "| file | rows |")}
    assert quoted[name] == n_rows == len(read_rows(name))


@pytest.mark.parametrize("year", [2007, 2009])
def test_penguin_rows_are_of_the_files_year(year: int) -> None:
    rows = read_rows(f"penguins-{year}.csv")
    assert {r["year"] for r in rows} == {str(year)}


@pytest.mark.parametrize("year", [2012, 2015])
def test_weather_rows_are_every_day_of_the_files_year(year: int) -> None:
    rows = read_rows(f"seattle-weather-{year}.csv")
    assert all(r["date"].startswith(f"{year}/") for r in rows)
    first = dt.date(year, 1, 1)
    days = [(first + dt.timedelta(days=i)).strftime("%Y/%m/%d") for i in range(len(rows))]
    assert [r["date"] for r in rows] == days
    assert days[-1] == f"{year}/12/31"


def test_weather_label_counts_quoted_in_md() -> None:
    quoted = md_tables("seattle-weather.md", "| weather | 2012 | 2015 |")
    counted = {y: labels(read_rows(f"seattle-weather-{y}.csv"), "weather") for y in (2012, 2015)}
    assert {row[0] for row in quoted} == set(counted[2012]) | set(counted[2015])
    for label, n2012, n2015 in quoted:
        assert (counted[2012][label], counted[2015][label]) == (int(n2012), int(n2015)), label
    # The story in one line: rain and fog swap places.
    assert (counted[2012]["rain"], counted[2012]["fog"]) == (191, 5)
    assert (counted[2015]["rain"], counted[2015]["fog"]) == (5, 173)


def test_weather_jsd_quoted_in_md_and_scipy_agree() -> None:
    counted = {y: labels(read_rows(f"seattle-weather-{y}.csv"), "weather") for y in (2012, 2015)}
    union = sorted(set(counted[2012]) | set(counted[2015]))
    ref = np.array([counted[2012][v] for v in union], dtype=float)
    cur = np.array([counted[2015][v] for v in union], dtype=float)
    ours = jsd_bits(cur, ref)
    # SciPy sums in another order: agreement to rounding, not to the last bit.
    assert ours == pytest.approx(jensenshannon(cur / cur.sum(), ref / ref.sum(), base=2) ** 2)
    text = (SAMPLES / "seattle-weather.md").read_text(encoding="utf-8")
    quoted = re.search(r"^JSD\(2012, 2015\) of weather = ([0-9.]+) bits$", text, re.MULTILINE)
    assert quoted is not None
    assert f"{ours:.4f}" == quoted[1] == "0.4784"


def test_penguin_label_counts_quoted_in_md() -> None:
    quoted = md_tables("penguins.md", "| column | label | 2007 | 2009 |")
    rows = {y: read_rows(f"penguins-{y}.csv") for y in (2007, 2009)}
    for column in ("species", "island", "sex"):
        counted = {y: labels(rows[y], column) for y in rows}
        mine = {r[1]: (int(r[2]), int(r[3])) for r in quoted if r[0] == column}
        union = set(counted[2007]) | set(counted[2009])
        assert mine == {v: (counted[2007][v], counted[2009][v]) for v in union}, column


@pytest.mark.parametrize("md", sorted(PAIRS))
def test_column_jsd_and_noise_quoted_in_md(md: str) -> None:
    ref_name, cur_name = PAIRS[md]
    ref, cur = read_rows(ref_name), read_rows(cur_name)
    quoted = md_tables(md, "| column | k | JSD (bits) | jsd_noise (bits) |")
    assert len(quoted) >= 4
    for column, k, jsd, noise in quoted:
        r, c = column_counts([row[column] for row in ref], [row[column] for row in cur])
        labels_with_mass = int(np.count_nonzero(r + c))
        assert labels_with_mass == int(k), column
        # Four decimals in the .md: compare the rounded text.
        assert f"{jsd_bits(c.astype(float), r.astype(float)):.4f}" == jsd, column
        assert f"{jsd_noise_bits(labels_with_mass, len(ref), len(cur)):.4f}" == noise, column


def test_penguin_means_quoted_in_md() -> None:
    quoted = md_tables("penguins.md", "| column | mean 2007 | mean 2009 |")
    rows = {y: read_rows(f"penguins-{y}.csv") for y in (2007, 2009)}
    for column, *means in quoted:
        for year, text in zip((2007, 2009), means, strict=True):
            values = [float(r[column]) for r in rows[year] if r[column] != "NA"]
            assert f"{sum(values) / len(values):.2f}" == text, (column, year)


def test_weather_temperature_means_quoted_in_md() -> None:
    quoted = {r[0]: r[1:] for r in md_tables("seattle-weather.md", "| | 2012 | 2015 |")}
    for column in ("temp_max", "temp_min"):
        for year, text in zip((2012, 2015), quoted[f"mean {column} (°C)"], strict=True):
            values = [float(r[column]) for r in read_rows(f"seattle-weather-{year}.csv")]
            assert f"{sum(values) / len(values):.2f}" == text, (column, year)


@pytest.mark.parametrize("md", sorted(PAIRS))
def test_md_names_its_drift_command(md: str) -> None:
    ref, cur = PAIRS[md]
    text = (SAMPLES / md).read_text(encoding="utf-8")
    assert f"kldiv drift samples/{ref} samples/{cur}" in text


def test_the_gaussian_points_and_their_quoted_estimates() -> None:
    """samples/points.md: 400 points of N(0, I) and of N((1, 0), I) in two dimensions.
    The files hold those draws (seed 20261130, six decimals), and the k-NN estimates
    the note quotes are kldiv's, within 0.1 bit of the closed forms (0.7213 bits for
    the KL, 4.0942 bits for each entropy, within 0.25: the estimator's error at n = 400)."""
    from tests.cli_run import kldiv

    rng = np.random.default_rng(20261130)
    p = rng.normal(size=(400, 2))
    q = rng.normal(size=(400, 2)) + np.array([1.0, 0.0])
    for name, points in (("p", p), ("q", q)):
        with (SAMPLES / f"points-{name}.csv").open() as f:
            rows = list(csv.reader(f))
        assert rows[0] == ["x", "y"]
        np.testing.assert_allclose(np.array(rows[1:], dtype=float), points, atol=5e-7)
    doc = kldiv(
        "samples", str(SAMPLES / "points-p.csv"), str(SAMPLES / "points-q.csv"), "--format", "json"
    ).json()
    m = doc["measures"]
    quoted = {"kl_pq": 0.678, "kl_qp": 0.770, "entropy_p": 4.20, "entropy_q": 3.91}
    for key, value in quoted.items():
        assert m[key] == pytest.approx(value, abs=0.006), key
    kl_true = 0.5 / math.log(2)
    h_true = math.log(2 * math.pi * math.e) / math.log(2)
    assert abs(m["kl_pq"] - kl_true) < 0.1
    assert abs(m["kl_qp"] - kl_true) < 0.1
    assert abs(m["entropy_p"] - h_true) < 0.25
    assert abs(m["entropy_q"] - h_true) < 0.25
