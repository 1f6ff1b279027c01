"""``drift REF CUR``, the command (kldiv_cli.commands.drift): which columns, how each is
compared (P = CUR, Q = REF), jsd_noise, per-column checks, identifiers and profiles.

The renderers and the CLI are tested in test_render_drift.py and test_drift_cli.py.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import orjson
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from kldiv_cli import measures
from kldiv_cli.commands.drift import drift, jsd_noise, parse_column_check
from kldiv_cli.errors import InvalidDataError, OutputError, UsageError

LN2 = math.log(2)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.fixture
def pair(tmp_path: Path) -> tuple[str, str]:
    """REF: colour a,a,a,b (and a column only REF has); CUR: a,b,b,c (and one of its own)."""
    ref = write(tmp_path, "ref.csv", "colour,size,old\na,1,x\na,2,x\na,1,x\nb,2,x\n")
    cur = write(tmp_path, "cur.csv", "new,colour,size\n1,a,1\n1,b,2\n1,b,2\n1,c,2\n")
    return ref, cur


# --- jsd_noise ------------------------------------------------------------------


@given(
    k=st.integers(2, 500),
    n_ref=st.integers(1, 10**7),
    n_cur=st.integers(1, 10**7),
)
@settings(max_examples=60, deadline=None)
def test_jsd_noise_is_the_chi2_quantile_over_8_n(k: int, n_ref: int, n_cur: int) -> None:
    # SciPy's chi2.ppf is the oracle; chdtri and ppf share cephes' inverse but may
    # differ in the last bits, hence the relative tolerance.
    expected = scipy.stats.chi2.ppf(0.95, k - 1) * (1 / n_ref + 1 / n_cur) / 8
    assert jsd_noise(k, n_ref, n_cur, "nats") == pytest.approx(expected, rel=1e-9)
    # Unit conversion by ln 2: bits are nats / ln 2.
    assert jsd_noise(k, n_ref, n_cur, "bits") == pytest.approx(expected / LN2, rel=1e-9)


def test_jsd_noise_by_hand() -> None:
    # chi2_0.95(1) = 1.959964^2 = 3.841459; (1/100 + 1/100) / 8 = 0.0025.
    assert float(jsd_noise(2, 100, 100, "nats")) == pytest.approx(3.841459 * 0.0025, rel=1e-6)
    # One label cannot move: no noise at all.
    assert float(jsd_noise(1, 5, 5)) == 0.0
    # Vectorised over columns.
    np.testing.assert_allclose(
        jsd_noise([1, 2], [100, 100], [100, 100], "nats"), [0.0, 3.841459 * 0.0025], rtol=1e-6
    )


def test_jsd_noise_holds_its_5_percent() -> None:
    """The law behind it: under no drift, JSD exceeds jsd_noise about 5% of the time
    (k = 4 equiprobable labels, 400 against 400 draws, 4,000 repetitions: the binomial
    standard error of a 5% rate is 0.34%, so 3.5%..6.5% is over 4 of them)."""
    rng = np.random.default_rng(20261130)
    probs = np.full(4, 0.25)
    ref = rng.multinomial(400, probs, size=4000).astype(float)
    cur = rng.multinomial(400, probs, size=4000).astype(float)
    jsd = measures(cur, ref, unit="nats", axis=-1)["jsd"]
    rate = float(np.mean(jsd > jsd_noise(4, 400, 400, "nats")))
    assert 0.035 < rate < 0.065


# --- columns and directions -------------------------------------------------------


def test_p_is_current_and_q_is_reference(pair: tuple[str, str]) -> None:
    ref, cur = pair
    result = drift(ref, cur)
    colour = result.columns[0]
    assert colour.column == "colour"
    assert colour.kind == "categorical"
    # Labels a, b, c: CUR 1,2,1 against REF 3,1,0; kl_pq = D(CUR||REF) is infinite (c),
    # kl_qp = D(REF||CUR) by hand: 3/4 ln((3/4)/(1/4)) + 1/4 ln((1/4)/(2/4)).
    by_hand = 0.75 * math.log(3) + 0.25 * math.log(0.5)
    assert math.isinf(colour.comparison.measures["kl_pq"])
    assert colour.comparison.measures["kl_qp"] == pytest.approx(by_hand / LN2, rel=1e-12)
    assert colour.comparison.only_p == ["c"]
    assert colour.n == (4.0, 4.0)
    assert colour.missing == (0, 0)
    assert colour.support == (2, 3)
    assert any("only CUR has label 'c'" in w for w in result.warnings)


def test_columns_in_reference_order_and_one_side_only(pair: tuple[str, str]) -> None:
    ref, cur = pair
    result = drift(ref, cur)
    assert [c.column for c in result.columns] == ["colour", "size"]
    assert result.only_reference == ["old"]
    assert result.only_current == ["new"]
    assert any("REF: column 'old' only there" in w for w in result.warnings)
    assert result.reference.rows == 4
    assert result.current.rows == 4


def test_columns_and_exclude(pair: tuple[str, str]) -> None:
    ref, cur = pair
    assert [c.column for c in drift(ref, cur, columns=["size"]).columns] == ["size"]
    result = drift(ref, cur, exclude=["size", "old", "new"])
    assert [c.column for c in result.columns] == ["colour"]
    assert result.only_reference == []
    assert result.only_current == []
    with pytest.raises(UsageError, match="--exclude 'weight': neither REF nor CUR"):
        drift(ref, cur, exclude=["weight"])
    with pytest.raises(UsageError, match="no column to compare"):
        drift(ref, cur, columns=["old"])


def test_per_column_checks(pair: tuple[str, str]) -> None:
    ref, cur = pair
    result = drift(ref, cur, checks=["jsd=1", "colour:kl_qp=0.01"])
    colour, size = result.columns
    assert [c.measure for c in colour.comparison.checks] == ["jsd", "kl_qp"]
    assert [c.measure for c in size.comparison.checks] == ["jsd"]
    assert not colour.passed
    assert size.passed
    assert [c.column for c in result.failed] == ["colour"]
    assert not result.passed
    with pytest.raises(UsageError, match="no column 'weight' is compared"):
        drift(ref, cur, checks=["weight:jsd=0.1"])
    with pytest.raises(UsageError, match="unknown measure"):
        drift(ref, cur, checks=["colour:psi=0.1"])


def test_parse_column_check_takes_the_last_colon() -> None:
    assert parse_column_check("jsd=0.5").column is None
    check = parse_column_check("a:b:kl_pq=2")
    assert check.column == "a:b"
    assert check.check.measure == "kl_pq"
    assert check.check.limit == 2
    with pytest.raises(UsageError):
        parse_column_check(":jsd=1")


def test_unknown_engine_and_unit(pair: tuple[str, str]) -> None:
    ref, cur = pair
    with pytest.raises(UsageError, match="--engine 'spark'"):
        drift(ref, cur, engine="spark")
    with pytest.raises(ValueError, match="unit"):
        drift(ref, cur, unit="furlongs")


def test_identifiers_are_skipped_unless_named(tmp_path: Path) -> None:
    rows = "".join(f"id{i},{i % 3}\n" for i in range(1001))
    ref = write(tmp_path, "ref.csv", "user,group\n" + rows)
    cur = write(tmp_path, "cur.csv", "user,group\n" + rows)
    result = drift(ref, cur)
    assert [c.column for c in result.columns] == ["group"]
    assert result.skipped[0]["column"] == "user"
    assert "1001 distinct reference values" in result.skipped[0]["reason"]
    named = drift(ref, cur, columns=["user"])
    assert [c.column for c in named.columns] == ["user"]
    assert named.skipped == []
    assert named.columns[0].comparison.measures["jsd"] == 0.0
    # 1,000 distinct values is not more than 1,000: compared.
    ref1000 = write(tmp_path, "r.csv", "user\n" + "".join(f"id{i}\n" for i in range(1000)))
    assert [c.column for c in drift(ref1000, ref1000).columns] == ["user"]


def test_binned_column_and_noise(tmp_path: Path) -> None:
    ref = write(tmp_path, "ref.csv", "v\n" + "".join(f"{i}\n" for i in range(100)))
    cur = write(tmp_path, "cur.csv", "v\n" + "".join(f"{i}\n" for i in range(50, 150)))
    (v,) = drift(ref, cur, unit="nats").columns
    # Deciles of 0..99 by the inverted CDF: the 10th, 20th, ... values: 9, 19, ..., 89.
    assert v.kind == "binned"
    assert v.edges == [9.0, 19.0, 29.0, 39.0, 49.0, 59.0, 69.0, 79.0, 89.0]
    assert v.bins == 10
    # CUR (50..149) by bin: [49, 59) holds 50..58, three bins 10 each, >=89 holds 89..149.
    assert v.comparison.aligned.p.tolist() == [0, 0, 0, 0, 0, 9, 10, 10, 10, 61]
    assert v.comparison.aligned.q.tolist() == [9, 10, 10, 10, 10, 10, 10, 10, 10, 11]
    # k = 10 labels with mass on either side.
    assert v.jsd_noise == pytest.approx(scipy.stats.chi2.ppf(0.95, 9) * (2 / 100) / 8, rel=1e-9)


def test_no_values_left_is_65(tmp_path: Path) -> None:
    ref = write(tmp_path, "ref.csv", "a,b\n1,x\n2,y\n")
    cur = write(tmp_path, "cur.csv", "a,b\nNA,x\n,y\n")
    with pytest.raises(InvalidDataError, match=r"cur.csv, column 'a': no values \(all 2"):
        drift(ref, cur, drop_missing=True)
    # Without --drop-missing the missing values are a label of their own.
    a = drift(ref, cur).columns[0]
    assert a.missing == (0, 2)
    assert a.comparison.only_p == ["(missing)"]


# --- profiles ---------------------------------------------------------------------


def test_a_saved_profile_gives_the_same_result(tmp_path: Path) -> None:
    ref = "samples/penguins-2007.csv"
    cur = "samples/penguins-2009.csv"
    profile = str(tmp_path / "ref.json")
    raw = drift(ref, cur, exclude=["year"], save_reference=profile, test=True, top=3)
    saved = drift(profile, cur, exclude=["year"], test=True, top=3)
    assert saved.reference.profile
    assert saved.reference.rows == 110
    assert [c.column for c in saved.columns] == [c.column for c in raw.columns]
    for a, b in zip(raw.columns, saved.columns, strict=True):
        assert (a.kind, a.edges, a.n, a.missing) == (b.kind, b.edges, b.n, b.missing)
        assert a.comparison.aligned.labels.values == b.comparison.aligned.labels.values
        assert a.comparison.measures == b.comparison.measures
        assert a.jsd_noise == b.jsd_noise
    doc = orjson.loads(Path(profile).read_bytes())
    assert doc["kldiv_profile"] == 1
    assert doc["rows"] == 110
    species = doc["columns"][0]
    assert species == {
        "column": "species",
        "kind": "categorical",
        "edges": None,
        "labels": ["Adelie", "Chinstrap", "Gentoo"],
        "counts": [50, 26, 34],
        "missing": 0,
    }


def test_a_profile_meets_new_values(tmp_path: Path) -> None:
    ref = write(tmp_path, "ref.csv", "c,n\na,1\nb,2\nb,2\n")
    profile = str(tmp_path / "p.json")
    drift(ref, ref, save_reference=profile)
    cur = write(tmp_path, "cur.csv", "c,n\nz,3\na,1\nb,2.0\n")
    c, n = drift(profile, cur).columns
    assert c.comparison.aligned.labels.values == ["a", "b", "z"]
    assert c.comparison.only_p == ["z"]
    # Numeric labels join by value, in order: 2.0 is the label 2.
    assert n.comparison.aligned.labels.values == ["1", "2", "3"]
    assert n.comparison.aligned.p.tolist() == [1, 1, 1]
    assert n.comparison.aligned.q.tolist() == [1, 2, 0]


def test_profile_refuses_what_would_change_it(tmp_path: Path) -> None:
    ref = write(tmp_path, "ref.csv", "n\n1\n2\n")
    profile = str(tmp_path / "p.json")
    drift(ref, ref, save_reference=profile)
    for option in ({"bins": 5}, {"categorical": ["n"]}, {"edges": ["n=1.5"]}):
        with pytest.raises(UsageError, match="is a saved profile"):
            drift(profile, ref, **option)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="same tokens"):
        drift(profile, ref, na=["-"])
    text_cur = write(tmp_path, "cur.csv", "n\n1\nabc\n")
    with pytest.raises(InvalidDataError, match=r"cur\.csv: column .n. has a value that is not"):
        drift(profile, text_cur)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"kldiv_profile": 2, "columns": []}, "version 2"),
        ({"kldiv_profile": 1, "rows": 1, "options": {}, "columns": []}, "list of columns"),
        (
            {
                "kldiv_profile": 1,
                "rows": 3,
                "options": {},
                "columns": [
                    {"column": "x", "kind": "binned", "edges": [2, 1], "labels": [], "counts": []}
                ],
            },
            "strictly increasing",
        ),
        (
            {
                "kldiv_profile": 1,
                "rows": 3,
                "options": {},
                "columns": [
                    {
                        "column": "x",
                        "kind": "numeric",
                        "edges": None,
                        "labels": ["2.0"],
                        "counts": [3],
                    }
                ],
            },
            "shortest form",
        ),
        (
            {
                "kldiv_profile": 1,
                "rows": 3,
                "options": {},
                "columns": [
                    {
                        "column": "x",
                        "kind": "categorical",
                        "edges": None,
                        "labels": ["a"],
                        "counts": [-1],
                    }
                ],
            },
            "whole numbers, not negative",
        ),
    ],
)
def test_a_bad_profile_is_65(tmp_path: Path, doc: dict[str, object], message: str) -> None:
    profile = tmp_path / "p.json"
    profile.write_bytes(orjson.dumps(doc))
    cur = write(tmp_path, "cur.csv", "x\n1\n")
    with pytest.raises(InvalidDataError, match=message):
        drift(str(profile), cur)


def test_save_reference_to_a_missing_folder_is_74(pair: tuple[str, str], tmp_path: Path) -> None:
    ref, cur = pair
    with pytest.raises(OutputError, match="cannot write") as info:
        drift(ref, cur, save_reference=str(tmp_path / "no" / "such" / "p.json"))
    assert info.value.exit_status == 74


@pytest.mark.parametrize("p", [0.05, 0.5, 0.95, 0.99])
def test_chi2_quantile_is_scipys(p: float) -> None:
    """jsd_noise's chi-squared quantile is computed without SciPy (its import costs a
    third of a million-row drift); SciPy's chi2.ppf is the oracle, to 1e-11 relative
    (two root-finders of the same function agree to a few ulps of their tolerances)."""
    from kldiv_cli.maths.significance import chi2_quantile

    for df in [*range(1, 400), 999, 10**4, 10**5, 10**6]:
        assert chi2_quantile(p, df) == pytest.approx(scipy.stats.chi2.ppf(p, df), rel=1e-11)


def test_drift_does_not_import_scipy(tmp_path: Path) -> None:
    import subprocess
    import sys

    ref = write(tmp_path, "ref.csv", "a,b\nx,1\ny,2\n")
    code = (
        "import sys; from kldiv_cli.commands.drift import drift; "
        f"drift({ref!r}, {ref!r}); print('scipy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_numeric_column_with_a_text_in_cur_is_compared_not_skipped(tmp_path: Path) -> None:
    """2,000 distinct numbers in REF and one text in CUR make the column categorical;
    it is not an identifier (REF's values are numbers), so it is compared and a gate
    sees it: every CUR value is new, so the JSD is 1 bit, as far apart as can be."""
    ref = write(tmp_path, "ref.csv", "v\n" + "".join(f"{i}.5\n" for i in range(2000)))
    cur = write(tmp_path, "cur.csv", "v\n" + "".join(f"{i}.25\n" for i in range(99)) + "oops\n")
    (v,) = drift(ref, cur, checks=["jsd=0.05"]).columns
    assert v.kind == "categorical"
    assert v.comparison.measures["jsd"] == pytest.approx(1.0, rel=1e-12)
    assert not v.passed


def test_every_column_skipped_is_a_usage_error(tmp_path: Path) -> None:
    ids = "".join(f"id{i}\n" for i in range(1001))
    ref = write(tmp_path, "ref.csv", "user\n" + ids)
    with pytest.raises(UsageError, match=r"no column was compared.*'user'"):
        drift(ref, ref, checks=["jsd=0.05"])
