"""``kldiv gauss`` as users run it: sources, modes, formats, checks and refusals, with
stdout, stderr and the exit status checked apart.

Numbers are compared with a relative tolerance (LAPACK/BLAS may round the last bit
differently on another CPU); each says why it is as tight as it is.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.stats
import typer

from kldiv_cli.cli import app
from tests.cli_run import kldiv
from tests.test_help import examples_in, help_text, source_examples

ROOT = Path(__file__).resolve().parent.parent
LN2 = math.log(2.0)

#: N(0, 1) against N(1, 2), in nats, by hand (see test_gauss_maths).
UNIVARIATE = {
    "kl_pq": 0.5 * LN2,
    "kl_qp": 1.0 - 0.5 * LN2,
    "cross_entropy_pq": 0.5 * math.log(2 * math.pi * math.e) + 0.5 * LN2,
    "cross_entropy_qp": 0.5 * math.log(2 * math.pi * math.e * 2) + 1.0 - 0.5 * LN2,
    "entropy_p": 0.5 * math.log(2 * math.pi * math.e),
    "entropy_q": 0.5 * math.log(2 * math.pi * math.e * 2),
}


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def assert_measures(found: dict[str, float], want: dict[str, float], scale: float = 1.0) -> None:
    # A few roundings of one closed form, and one division by the unit: 1e-14 relative.
    assert list(found) == list(want)
    for key, value in want.items():
        assert math.isclose(found[key], value / scale, rel_tol=1e-14), key


# --------------------------------------------------------------------------- pair mode


def test_inline_univariate_pair_is_mean_comma_variance() -> None:
    run = kldiv("gauss", "0,1", "1,2", "--unit", "nats", "--format", "json")
    assert run.status == 0
    assert run.err == ""
    doc = json.loads(run.out)
    assert doc["command"] == "gauss"
    assert doc["mode"] == "pair"
    assert doc["unit"] == "nats"
    assert doc["dimensions"] == 1
    assert doc["p"] == {"source": "0,1", "form": "inline"}
    assert doc["q"] == {"source": "1,2", "form": "inline"}
    assert doc["warnings"] == []
    assert "checks" not in doc
    assert_measures(doc["measures"], UNIVARIATE)


def test_a_negative_mean_inline_is_an_argument_not_an_option() -> None:
    # N(-1, 2) against N(-0.5, 1): D = ½(2/1 + 0.5²/1 - 1 - ln 2), by hand; click would
    # read -1,2 as the option -1.
    run = kldiv("gauss", "-1,2", "-0.5,1", "--unit", "nats", "--format", "json")
    assert run.status == 0, run.err
    assert run.err == ""
    doc = json.loads(run.out)
    assert doc["p"]["source"] == "-1,2"
    assert doc["q"]["source"] == "-0.5,1"
    assert math.isclose(doc["measures"]["kl_pq"], 0.5 * (1.25 - LN2), rel_tol=1e-14)
    # Shifting the means together changes nothing (an affine map), and -1 alone is
    # still an unknown option.
    same = kldiv("gauss", "0,2", "0.5,1", "--unit", "nats", "--format", "json").json()
    assert same["measures"] == doc["measures"]
    assert kldiv("gauss", "-1", "0,1").status == 2


@pytest.mark.parametrize(("unit", "scale"), [("bits", LN2), ("bans", math.log(10.0))])
def test_units_divide_the_nats_by_the_log_of_the_base(unit: str, scale: float) -> None:
    doc = kldiv("gauss", "0,1", "1,2", "--unit", unit, "--format", "json").json()
    assert doc["unit"] == unit
    assert_measures(doc["measures"], UNIVARIATE, scale)


def test_bits_are_the_default_unit() -> None:
    doc = kldiv("gauss", "0,1", "1,2", "--format", "json").json()
    assert doc["unit"] == "bits"
    assert math.isclose(doc["measures"]["kl_pq"], 0.5, rel_tol=1e-15)  # ½ ln 2 nats


MEAN_P = [0.5, -1.0]
COV_P = [[1.0, 0.4], [0.4, 2.0]]
MEAN_Q = [0.0, 0.0]
COV_Q = [[1.5, -0.2], [-0.2, 1.0]]


def scipy_oracle() -> dict[str, float]:
    """The measures by SciPy's entropies and an explicit-inverse KL, in nats."""
    inv = np.linalg.inv(COV_Q)
    delta = np.subtract(MEAN_Q, MEAN_P)
    kl_pq = 0.5 * (
        np.trace(inv @ COV_P)
        + delta @ inv @ delta
        - 2
        + np.linalg.slogdet(COV_Q)[1]
        - np.linalg.slogdet(COV_P)[1]
    )
    inv_p = np.linalg.inv(COV_P)
    kl_qp = 0.5 * (
        np.trace(inv_p @ COV_Q)
        + delta @ inv_p @ delta
        - 2
        + np.linalg.slogdet(COV_P)[1]
        - np.linalg.slogdet(COV_Q)[1]
    )
    h_p = scipy.stats.multivariate_normal(MEAN_P, COV_P).entropy()
    h_q = scipy.stats.multivariate_normal(MEAN_Q, COV_Q).entropy()
    return {
        "kl_pq": kl_pq,
        "kl_qp": kl_qp,
        "cross_entropy_pq": h_p + kl_pq,
        "cross_entropy_qp": h_q + kl_qp,
        "entropy_p": h_p,
        "entropy_q": h_q,
    }


def assert_close_to_oracle(found: dict[str, float]) -> None:
    # Explicit inverses of matrices of condition number < 3: 1e-13 relative.
    for key, value in scipy_oracle().items():
        assert math.isclose(found[key], value, rel_tol=1e-13), key


def test_json_files_with_cov_and_covariance(tmp_path: Path) -> None:
    p = write(tmp_path, "p.json", json.dumps({"mean": MEAN_P, "cov": COV_P}))
    q = write(tmp_path, "q.json", json.dumps({"mean": MEAN_Q, "covariance": COV_Q}))
    run = kldiv("gauss", p, q, "--unit", "nats", "--format", "json")
    assert run.status == 0, run.err
    assert run.err == ""
    doc = json.loads(run.out)
    assert doc["dimensions"] == 2
    assert doc["p"] == {"source": p, "form": "full"}
    assert_close_to_oracle(doc["measures"])


def test_csv_with_and_without_a_header_and_tsv_read_alike(tmp_path: Path) -> None:
    rows = [MEAN_P, *COV_P]
    body = "".join(",".join(map(repr, r)) + "\n" for r in rows)
    plain = write(tmp_path, "p.csv", body)
    headed = write(tmp_path, "ph.csv", "x,y\n" + body)
    spaced = write(tmp_path, "p-blank.csv", "x,y\n\n" + body + "\n\n")
    tsv = write(tmp_path, "p.tsv", body.replace(",", "\t"))
    q = write(tmp_path, "q.json", json.dumps({"mean": MEAN_Q, "cov": COV_Q}))
    for p in (plain, headed, spaced, tsv):
        doc = kldiv("gauss", p, q, "--unit", "nats", "--format", "json").json()
        assert_close_to_oracle(doc["measures"])
    # --no-header: the first row is the mean, and a name in it is not a number.
    run = kldiv("gauss", headed, q, "--no-header")
    assert run.status == 65
    assert run.out == ""
    assert run.err == f"kldiv: error: {headed}: line 1, column 1: 'x' is not a number\n"


def test_the_diagonal_shorthand_is_a_diagonal_covariance(tmp_path: Path) -> None:
    short = write(tmp_path, "s.json", '{"mean": [1, 2], "var": [0.5, 3]}')
    full = write(tmp_path, "f.json", '{"mean": [1, 2], "cov": [[0.5, 0], [0, 3]]}')
    q = write(tmp_path, "q.json", json.dumps({"mean": MEAN_Q, "cov": COV_Q}))
    a = kldiv("gauss", short, q, "--format", "json").json()
    b = kldiv("gauss", full, q, "--format", "json").json()
    assert a["p"]["form"] == "diagonal"
    assert a["measures"] == b["measures"]  # the same matrix, the same arithmetic


def test_stdin_is_a_source(tmp_path: Path) -> None:
    q = write(tmp_path, "q.json", json.dumps({"mean": MEAN_Q, "cov": COV_Q}))
    text = json.dumps({"mean": MEAN_P, "cov": COV_P})
    doc = kldiv("gauss", "-", q, "--unit", "nats", "--format", "json", stdin=text).json()
    assert doc["p"]["source"] == "<stdin>"
    assert_close_to_oracle(doc["measures"])


def test_csv_and_tsv_output_is_measure_value() -> None:
    run = kldiv("gauss", "0,1", "1,2", "--unit", "nats", "--format", "csv")
    assert run.status == 0
    assert run.err == ""
    lines = run.out.splitlines()
    assert lines[0] == "measure,value"
    assert [line.split(",")[0] for line in lines[1:]] == list(UNIVARIATE)
    assert_measures({k: float(v) for k, v in (x.split(",") for x in lines[1:])}, UNIVARIATE)
    tsv = kldiv("gauss", "0,1", "1,2", "--unit", "nats", "--format", "tsv")
    assert tsv.out == run.out.replace(",", "\t")


def test_the_table_says_entropies_are_differential_and_jsd_has_no_closed_form() -> None:
    run = kldiv("gauss", "0,0.01", "0,1", "--unit", "nats", "--format", "table")
    assert run.status == 0
    assert run.err == ""
    assert "kldiv gauss · unit: nats" in run.out
    assert "entropies: differential, negative for a narrow Gaussian" in run.out
    assert "JSD: no closed form for Gaussians, not computed" in run.out
    # H(N(0, 0.01)) = ½ ln(2πe · 0.01) = -0.8836...: shown negative, six digits.
    h = 0.5 * math.log(2 * math.pi * math.e * 0.01)
    assert f"{h:.6g}" in run.out
    assert h < 0


def test_value_prints_one_number() -> None:
    run = kldiv("gauss", "0,1", "1,2", "--unit", "nats", "--value", "kl_qp")
    assert run.status == 0
    assert run.err == ""
    assert math.isclose(float(run.out), 1.0 - 0.5 * LN2, rel_tol=1e-15)
    bad = kldiv("gauss", "0,1", "1,2", "--value", "jsd")
    assert bad.status == 2
    assert bad.out == ""
    assert "--value 'jsd': choose kl_pq, kl_qp" in bad.err


def test_max_fails_with_exit_1_and_names_the_check() -> None:
    # kl_pq = ½ bit exactly: a limit of 0.4 fails, 0.6 passes.
    run = kldiv("gauss", "0,1", "1,2", "--max", "kl_pq=0.4", "--format", "json")
    assert run.status == 1
    assert run.err == "kldiv: check failed: kl_pq = 0.5 is above the limit 0.4 (bits)\n"
    doc = json.loads(run.out)
    assert doc["passed"] is False
    assert doc["checks"] == [{"measure": "kl_pq", "limit": 0.4, "value": 0.5, "passed": False}]
    ok = kldiv("gauss", "0,1", "1,2", "--max", "kl_pq=0.6", "--format", "csv")
    assert ok.status == 0
    assert ok.err == ""
    bad = kldiv("gauss", "0,1", "1,2", "--max", "jsd=0.1")
    assert bad.status == 2
    assert "unknown measure 'jsd'" in bad.err


# --------------------------------------------------------------------------- refusals


def refused(*args: str, stdin: str | None = None) -> str:
    run = kldiv("gauss", *args, stdin=stdin)
    assert run.status == 65, (run.status, run.err)
    assert run.out == ""
    assert run.err.startswith("kldiv: error: ")
    assert run.err.count("\n") == 1
    assert "Traceback" not in run.err
    return run.err.removeprefix("kldiv: error: ").rstrip("\n")


def test_a_covariance_that_is_not_positive_definite_is_refused_naming_it(tmp_path: Path) -> None:
    q = write(tmp_path, "q.json", '{"mean": [0, 0], "cov": [[1, 2], [2, 1]]}')
    p = write(tmp_path, "p.json", '{"mean": [0, 0], "cov": [[1, 0], [0, 1]]}')
    assert refused(p, q) == (
        f"{q}: Q's covariance is not positive definite (its 2nd leading minor is -3)"
    )
    singular = write(tmp_path, "s.csv", "0,0\n1,1\n1,1\n")
    assert refused(singular, p) == (
        f"{singular}: P's covariance is not positive definite (its 2nd leading minor is 0 "
        "to rounding: the matrix is singular)"
    )


def test_an_asymmetric_covariance_is_refused_with_its_tolerance(tmp_path: Path) -> None:
    p = write(tmp_path, "p.csv", "0,0\n1,0.5\n0.4,1\n")
    q = write(tmp_path, "q.json", '{"mean": [0, 0], "var": [1, 1]}')
    message = refused(p, q)
    assert message == (
        f"{p}: P's covariance is not symmetric: entry (1, 2) is 0.5 and entry (2, 1) is 0.4 "
        "(tolerance: 1e-09 times the largest |entry|)"
    )


def test_dimensions_that_differ_are_refused(tmp_path: Path) -> None:
    p = write(tmp_path, "p.json", '{"mean": [0, 0], "var": [1, 1]}')
    assert refused(p, "0,1") == f"dimensions differ: P ({p}) has 2 and Q (0,1) has 1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0,0\nnan,0\n0,1\n", "line 2, column 1: 'nan' is NaN"),
        ("0,0\n1,0\n0,inf\n", "line 3, column 2: 'inf' is infinite (or beyond the float range)"),
        ("0,0\n1,0\n0,1e999\n", "line 3, column 2: '1e999' is infinite"),
        ("0,0\n1,0\n0,x\n", "line 3, column 2: 'x' is not a number"),
        ("0,0\n1,0\n0,1,2\n", "line 3: 3 numbers, where the mean has 2"),
        (
            "0,0\n1,0\n",
            "the mean (line 1) has 2 entries, so 2 rows of covariance follow it; found 1",
        ),
        ("", "empty: no mean and no covariance"),
    ],
)
def test_bad_csv_is_refused_naming_line_and_column(tmp_path: Path, text: str, message: str) -> None:
    p = write(tmp_path, "p.csv", text)
    q = write(tmp_path, "q.json", '{"mean": [0, 0], "var": [1, 1]}')
    assert refused(p, q).startswith(f"{p}: {message}")


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ('{"mean": [0, NaN], "var": [1, 1]}', "line 1, column 14: NaN is not valid JSON"),
        ('{"mean": [0, 1e999], "var": [1, 1]}', '"mean"[1] is beyond the float range (inf)'),
        ('{"mean": [0, "a"], "var": [1, 1]}', "\"mean\"[1] is the string 'a', not a number"),
        ('{"mean": [0, 0], "var": [1, 0]}', "P's variance 2 is 0.0; a variance must be > 0"),
        ('{"mean": [0, 0], "var": [1]}', '"var" has 1 entries and "mean" 2'),
        ('{"mean": [0, 0], "cov": [[1, 0]]}', '"cov" has 1 rows and "mean" 2 entries'),
        ('{"mean": [0, 0], "cov": [[1, 0], [0]]}', '"cov" row 2 has 1 entries, not 2'),
        ('{"mean": [0], "cov": [[1]], "var": [1]}', "give the covariance once"),
        ('{"mean": [0]}', 'give the covariance once, as "cov"'),
        ('{"cov": [[1]]}', 'no "mean"'),
        ('{"mean": [0], "sd": [1]}', "unknown key 'sd'"),
        ("[1, 2]", "a Gaussian in JSON is an object"),
        ('{"mean": [], "var": []}', '"mean" is empty'),
    ],
)
def test_bad_json_is_refused_naming_the_key(tmp_path: Path, doc: str, message: str) -> None:
    p = write(tmp_path, "p.json", doc)
    assert refused(p, p).startswith(f"{p}: {message}")


def test_one_dimensional_json_may_use_bare_numbers(tmp_path: Path) -> None:
    p = write(tmp_path, "p.json", '{"mean": 0, "variance": 1}')
    q = write(tmp_path, "q.json", '{"mean": 1, "cov": 2}')
    doc = kldiv("gauss", p, q, "--unit", "nats", "--format", "json").json()
    assert_measures(doc["measures"], UNIVARIATE)


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("0,1,2", "inline Gaussian '0,1,2': give MEAN,VARIANCE (two numbers"),
        ("0,-1", "0,-1: P's variance is -1.0; a variance must be > 0"),
        ("0,0", "0,0: P's variance is 0.0; a variance must be > 0"),
        ("nan,1", "inline Gaussian 'nan,1': the mean is nan"),
        ("0,1_0", "inline Gaussian '0,1_0': the variance '1_0' is not a number (no '_'"),
    ],
)
def test_bad_inline_gaussians_are_refused(arg: str, message: str) -> None:
    assert refused(arg, "0,1").startswith(message)


def test_a_missing_file_is_66_and_two_stdins_are_2() -> None:
    run = kldiv("gauss", "no-such.json", "0,1")
    assert (run.status, run.out) == (66, "")
    assert run.err == "kldiv: error: no-such.json: no such file\n"
    run = kldiv("gauss", "-", "-", stdin="0,1")
    assert (run.status, run.out) == (2, "")
    assert "both sources are -" in run.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["0,1"], "give two Gaussians, P and Q, or --vae FILE"),
        ([], "give two Gaussians, P and Q, or --vae FILE"),
        (["0,1", "0,1", "--vae", "x.csv"], "--vae FILE takes no P or Q"),
        (["0,1", "0,1", "--label", "id"], "--label names the rows of --vae FILE"),
    ],
)
def test_usage_errors_are_2(args: list[str], message: str) -> None:
    run = kldiv("gauss", *args)
    assert run.status == 2
    assert run.out == ""
    assert run.err == f"kldiv: error: {message}" + run.err.split(message, 1)[1]
    assert run.err.count("\n") == 1


# --------------------------------------------------------------------------- VAE mode

VAE_MU = [[0.0, 0.0], [1.0, 2.0], [-0.5, 0.25]]
VAE_LV = [[0.0, 0.0], [0.0, math.log(4.0)], [-1.0, 0.5]]


def vae_oracle() -> list[float]:
    """Each row's KL in nats, written out term by term, ½ Σ (e^lv - 1 - lv + mu²)."""
    return [
        0.5 * sum(math.exp(v) - 1 - v + m * m for m, v in zip(mu, lv, strict=True))
        for mu, lv in zip(VAE_MU, VAE_LV, strict=True)
    ]


def vae_csv(header: str, order: str = "named") -> str:
    rows = []
    for i, (mu, lv) in enumerate(zip(VAE_MU, VAE_LV, strict=True)):
        values = [*mu, *lv] if order == "named" else [lv[1], mu[0], lv[0], mu[1]]
        rows.append(f"r{i + 1}," + ",".join(map(repr, values)))
    return header + "\n" + "\n".join(rows) + "\n"


def assert_vae(doc: dict[str, object], scale: float = 1.0) -> None:
    # e^lv - 1 - lv by exp in the oracle, by the series or expm1 in kldiv: 1e-14.
    kl = doc["kl"]
    assert isinstance(kl, list)
    for got, want in zip(kl, vae_oracle(), strict=True):
        assert math.isclose(got, want / scale, rel_tol=1e-14, abs_tol=1e-300)
    mean = doc["mean"]
    assert isinstance(mean, float)
    assert math.isclose(mean, sum(vae_oracle()) / 3 / scale, rel_tol=1e-14)


def test_vae_rows_against_the_standard_normal(tmp_path: Path) -> None:
    f = write(tmp_path, "b.csv", vae_csv("id,mu_1,mu_2,logvar_1,logvar_2"))
    run = kldiv("gauss", "--vae", f, "--unit", "nats", "--format", "json")
    assert run.status == 0, run.err
    assert run.err == ""
    doc = json.loads(run.out)
    assert doc["command"] == "gauss"
    assert doc["mode"] == "vae"
    assert doc["unit"] == "nats"
    assert doc["rows"] == 3
    assert doc["dimensions"] == 2
    assert doc["labels"] == ["r1", "r2", "r3"]
    assert doc["kl"][0] == 0.0  # the prior itself
    assert doc["warnings"] == []
    assert_vae(doc)
    bits = kldiv("gauss", "--vae", f, "--format", "json").json()
    assert_vae(bits, LN2)


def test_vae_columns_are_paired_by_their_number_not_their_place(tmp_path: Path) -> None:
    f = write(tmp_path, "b.csv", vae_csv("id,logvar2,mu1,LogVar_1,mu_2", order="shuffled"))
    doc = kldiv("gauss", "--vae", f, "--unit", "nats", "--format", "json").json()
    assert doc["mu_columns"] == ["mu1", "mu_2"]
    assert doc["logvar_columns"] == ["LogVar_1", "logvar2"]
    assert_vae(doc)


def test_vae_without_names_takes_the_first_half_as_mu(tmp_path: Path) -> None:
    body = vae_csv("").split("\n", 1)[1]
    bare = write(
        tmp_path, "bare.csv", "\n".join(r.split(",", 1)[1] for r in body.splitlines()) + "\n"
    )
    run = kldiv("gauss", "--vae", bare, "--no-header", "--unit", "nats", "--format", "json")
    assert run.status == 0
    assert run.err == ""  # --no-header: halves are the only way, no warning
    doc = json.loads(run.out)
    assert "labels" not in doc
    assert_vae(doc)
    named = write(tmp_path, "n.csv", vae_csv("id,a,b,c,d"))
    run = kldiv("gauss", "--vae", named, "--unit", "nats", "--format", "json")
    assert run.status == 0
    assert run.err == (
        f"kldiv: warning: {named}: no column is named mu_J or logvar_J: the first 2 ('a'...) "
        "are read as mu, the last 2 ('c'...) as logvar\n"
    )
    assert_vae(json.loads(run.out))


def test_vae_json_records_are_read(tmp_path: Path) -> None:
    records = [
        {"mu_1": mu[0], "mu_2": mu[1], "logvar_1": lv[0], "logvar_2": lv[1]}
        for mu, lv in zip(VAE_MU, VAE_LV, strict=True)
    ]
    f = write(tmp_path, "b.json", json.dumps(records))
    assert_vae(kldiv("gauss", "--vae", f, "--unit", "nats", "--format", "json").json())


def test_a_vae_row_is_the_pair_mode_with_a_diagonal_covariance(tmp_path: Path) -> None:
    # The same Gaussian both ways: N(mu, diag(exp(logvar))) against N(0, I) by --vae,
    # and by P Q with "var": [exp(logvar)...]. exp() rounds once per variance, and the
    # pair mode takes its log back: 1e-14 relative.
    mu, lv = [1.0, -0.5, 0.25], [0.3, -1.0, 1e-9]
    batch = write(
        tmp_path,
        "b.tsv",
        "mu_1\tmu_2\tmu_3\tlogvar_1\tlogvar_2\tlogvar_3\n" + "\t".join(map(repr, mu + lv)) + "\n",
    )
    p = write(tmp_path, "p.json", json.dumps({"mean": mu, "var": [math.exp(v) for v in lv]}))
    q = write(tmp_path, "q.json", json.dumps({"mean": [0, 0, 0], "var": [1, 1, 1]}))
    row = kldiv("gauss", "--vae", batch, "--unit", "nats", "--format", "json").json()
    pair = kldiv("gauss", p, q, "--unit", "nats", "--format", "json").json()
    assert math.isclose(row["kl"][0], pair["measures"]["kl_pq"], rel_tol=1e-14)
    assert row["mean"] == row["kl"][0]


def test_vae_csv_is_one_row_per_input_row_then_the_mean(tmp_path: Path) -> None:
    f = write(tmp_path, "b.csv", vae_csv("id,mu_1,mu_2,logvar_1,logvar_2"))
    run = kldiv("gauss", "--vae", f, "--unit", "nats", "--format", "csv")
    assert run.status == 0
    assert run.err == ""
    lines = run.out.splitlines()
    assert lines[0] == "row,kl"
    assert [line.split(",")[0] for line in lines[1:]] == ["r1", "r2", "r3", "mean"]
    values = [float(line.split(",")[1]) for line in lines[1:]]
    assert_vae({"kl": values[:3], "mean": values[3]})


def test_vae_table_shows_the_first_rows_and_the_mean(tmp_path: Path) -> None:
    rows = 25
    text = "mu_1,logvar_1\n" + "".join(f"{i / 10},0\n" for i in range(rows))
    f = write(tmp_path, "b.csv", text)
    run = kldiv("gauss", "--vae", f, "--unit", "nats", "--format", "table")
    assert run.status == 0
    assert run.err == ""
    assert "(5 more rows not shown; --format csv or json gives every row)" in run.out
    assert "│ 20 " in run.out
    assert "│ 21 " not in run.out
    # logvar 0: KL = mu²/2; the mean of (i/10)²/2 over i < 25 is 4.9/2 = 2.45... (exact:
    # sum i² = 4900, / 100 / 2 / 25 = 0.98).
    assert "│ mean " in run.out
    assert "0.98 " in run.out


def test_vae_max_checks_the_mean(tmp_path: Path) -> None:
    f = write(tmp_path, "b.csv", "mu_1,logvar_1\n1,0\n")  # KL = ½ nat
    run = kldiv("gauss", "--vae", f, "--unit", "nats", "--max", "mean=0.25", "--format", "csv")
    assert run.status == 1
    assert run.out == "row,kl\n1,0.5\nmean,0.5\n"
    assert run.err == "kldiv: check failed: mean = 0.5 is above the limit 0.25 (nats)\n"
    value = kldiv("gauss", "--vae", f, "--unit", "nats", "--value", "mean")
    assert (value.status, value.out, value.err) == (0, "0.5\n", "")
    assert kldiv("gauss", "--vae", f, "--value", "kl_pq").status == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mu_1,logvar_1\n0,nan\n", "line 2, column 'logvar_1', position 1: value nan is NaN"),
        ("mu_1,logvar_1\ninf,0\n", "line 2, column 'mu_1', position 1: value inf is infinite"),
        ("mu_1,logvar_1\n0,x\n", "line 2, column 'logvar_1'"),
        ("mu_1,logvar_2\n0,0\n", "column 'mu_1' has no logvar column of dimension 1"),
        ("mu_1,mu1,logvar_1\n0,0,0\n", "columns 'mu_1' and 'mu1' both name dimension 1"),
        ("a,b,c\n0,0,0\n", "3 columns: with no mu_J/logvar_J names"),
    ],
)
def test_bad_vae_input_is_refused(tmp_path: Path, text: str, message: str) -> None:
    f = write(tmp_path, "b.csv", text)
    assert refused("--vae", f).startswith(f"{f}: {message}")


def test_an_overflowing_vae_row_is_infinite_with_a_warning(tmp_path: Path) -> None:
    f = write(tmp_path, "b.csv", "mu_1,logvar_1\n0,800\n0,0\n")
    run = kldiv("gauss", "--vae", f, "--format", "json")
    assert run.status == 0
    doc = json.loads(run.out)
    assert doc["kl"] == ["inf", 0.0]
    assert doc["mean"] == "inf"
    assert "the KL term overflowed to infinity" in run.err


# --------------------------------------------------------------------------- the program


def epilog_examples() -> list[str]:
    group = typer.main.get_command(app)
    epilog = group.commands["gauss"].epilog  # type: ignore[attr-defined]
    return [line for line in epilog.splitlines() if not line.endswith(":")]


@pytest.mark.parametrize("columns", [80, 60])
def test_help_examples_come_one_whole_line_each(columns: int) -> None:
    shown = examples_in(help_text("gauss", columns))
    assert shown == source_examples("gauss") == epilog_examples()
    assert len(shown) >= 2


@pytest.mark.parametrize("line", epilog_examples())
def test_every_help_example_runs(line: str) -> None:
    script = f'kldiv() {{ "{sys.executable}" -m kldiv_cli "$@"; }}\n{line}\n'
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80"},
        check=False,
    )
    assert done.returncode == 0, (line, done.stderr)
    assert done.stdout.strip()
    assert done.stderr == ""


def test_the_samples_give_what_samples_gauss_md_says() -> None:
    # The README's example in the real program (a subprocess): the penguins' bills.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kldiv_cli",
            "gauss",
            "samples/gauss-p.json",
            "samples/gauss-q.json",
            "--unit",
            "nats",
            "--format",
            "json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert done.stderr == ""
    doc = json.loads(done.stdout)
    p = scipy.stats.multivariate_normal([48.882, 18.41], [[10.686, 1.839], [1.839, 1.086]])
    q = scipy.stats.multivariate_normal([38.906, 18.423], [[6.257, 1.178], [1.178, 1.621]])
    assert math.isclose(doc["measures"]["entropy_p"], p.entropy(), rel_tol=1e-13)
    assert math.isclose(doc["measures"]["entropy_q"], q.entropy(), rel_tol=1e-13)


@pytest.mark.parametrize(
    ("cell", "what"), [("", "'' is empty (or the row is short)"), ("NA", "'NA' is not a number")]
)
def test_vae_a_mu_column_with_a_cell_that_is_not_a_number(
    tmp_path: Path, cell: str, what: str
) -> None:
    # A first column with a cell that is not a number is the label column by the
    # table's rule; for mu_1 that left logvar_1 "without a mu column of dimension 1".
    # The cell is named instead.
    path = tmp_path / "batch.csv"
    path.write_text(f"mu_1,logvar_1\n1,0\n{cell},0\n", encoding="utf-8")
    run = kldiv("gauss", "--vae", str(path))
    assert run.status == 65
    assert run.out == ""
    assert run.err == (
        f"kldiv: error: {path}: line 3, column 'mu_1': {what}; a mu or logvar needs a "
        "number in every row\n"
    )


def test_vae_mean_of_finite_rows_whose_sum_overflows_is_finite(tmp_path: Path) -> None:
    # Four rows of logvar 709.7: each term ½(e^709.7 - 1 - 709.7) ≈ 8.9e307 nats is
    # finite, their sum is not; the mean is the row's value, not inf (as it was, with
    # no warning since no row was infinite). Relative tolerance: exp's last bit.
    path = tmp_path / "batch.csv"
    path.write_text("mu_1,logvar_1\n" + "0,709.7\n" * 4, encoding="utf-8")
    run = kldiv("gauss", "--vae", str(path), "--unit", "nats", "--format", "json")
    assert run.status == 0, run.err
    doc = json.loads(run.out)
    row = 0.5 * math.expm1(709.7) - 0.5 * 709.7
    assert doc["kl"] == [pytest.approx(row, rel=1e-12)] * 4
    assert doc["mean"] == pytest.approx(row, rel=1e-12)
    assert doc["warnings"] == []


@pytest.mark.parametrize(
    ("cov", "minor"),
    [
        # 1e200 * 1e200 * -1: the product overflowed inside (an internal error, 70)
        ([[1e200, 0, 0], [0, 1e200, 0], [0, 0, -1]], "3rd leading minor is -1e+400"),
        # 1e200 * -1e200 overflowed to a printed "-inf"
        ([[1e200, 0], [0, -1e200]], "2nd leading minor is -1e+400"),
        # 1e-200 * 1e-200 * -1 underflowed to a printed "-0"
        ([[1e-200, 0, 0], [0, 1e-200, 0], [0, 0, -1]], "3rd leading minor is -1e-400"),
    ],
)
def test_a_leading_minor_beyond_the_float_range_is_still_named(
    tmp_path: Path, cov: list[list[float]], minor: str
) -> None:
    d = len(cov)
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"mean": [0] * d, "cov": cov}), encoding="utf-8")
    other = tmp_path / "q.json"
    other.write_text(json.dumps({"mean": [0] * d, "var": [1] * d}), encoding="utf-8")
    run = kldiv("gauss", str(path), str(other))
    assert run.status == 65
    assert run.out == ""
    assert run.err == (
        f"kldiv: error: {path}: P's covariance is not positive definite (its {minor})\n"
    )
