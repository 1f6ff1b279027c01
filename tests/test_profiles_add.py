"""Profiles that add up (issue 12): CUR's profile written with REF's kinds and edges
(``--save-current``), and a folder or glob of profiles read as REF is their sum."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kldiv_cli.commands.drift import drift
from kldiv_cli.errors import InvalidDataError
from kldiv_cli.readers import Profile, ProfileColumn, add_profiles, read_profile
from tests.cli_run import kldiv

ROOT = Path(__file__).resolve().parent.parent
PENGUINS_2007 = ROOT / "samples" / "penguins-2007.csv"
PENGUINS_2009 = str(ROOT / "samples" / "penguins-2009.csv")


def split(tmp_path: Path, parts: int) -> list[str]:
    """The 2007 penguins cut into ``parts`` files of consecutive rows, each with the
    header: the "days" of a reference counted apart."""
    header, *rows = PENGUINS_2007.read_text().splitlines()
    size = -(-len(rows) // parts)
    names = []
    for i in range(parts):
        path = tmp_path / f"day-{i}.csv"
        path.write_text("\n".join([header, *rows[i * size : (i + 1) * size]]) + "\n")
        names.append(str(path))
    return names


def test_profiles_of_days_add_up_to_the_profile_of_all_of_them(tmp_path: Path) -> None:
    base = str(tmp_path / "base.json")
    drift(str(PENGUINS_2007), PENGUINS_2009, exclude=["year"], save_reference=base)
    days = tmp_path / "days"
    days.mkdir()
    for i, day in enumerate(split(tmp_path, 3)):
        drift(base, day, exclude=["year"], save_current=str(days / f"{i}.json"))
    # All the days at once, counted with the same kinds and edges.
    whole = str(tmp_path / "whole.json")
    drift(base, str(PENGUINS_2007), exclude=["year"], save_current=whole)
    summed = drift(str(days), PENGUINS_2009, exclude=["year"])
    direct = drift(whole, PENGUINS_2009, exclude=["year"])
    assert summed.reference.rows == direct.reference.rows == 110
    for a, b in zip(summed.columns, direct.columns, strict=True):
        assert a.comparison.aligned.labels.values == b.comparison.aligned.labels.values
        assert a.comparison.aligned.q.tolist() == b.comparison.aligned.q.tolist()
        assert a.missing == b.missing
        assert a.comparison.measures == b.comparison.measures
    # And the sum of the days is the 2007 reference itself: its counts, its edges.
    for a, b in zip(summed.columns, drift(base, PENGUINS_2009, exclude=["year"]).columns):
        assert a.comparison.aligned.q.tolist() == b.comparison.aligned.q.tolist()
    # A glob names the same profiles.
    globbed = drift(str(days / "*.json"), PENGUINS_2009, exclude=["year"])
    assert [c.comparison.measures for c in globbed.columns] == [
        c.comparison.measures for c in summed.columns
    ]


def column(
    name: str, kind: str, labels: list[str], counts: list[int], **kw: object
) -> ProfileColumn:
    edges = kw.get("edges")
    return ProfileColumn(name, kind, edges, labels, counts, int(kw.get("missing", 0)))  # type: ignore[arg-type]


def test_add_joins_labels_and_adds_counts_by_hand() -> None:
    options = {"bins": 10, "na": ["NA"], "categorical": [], "edges": {}}
    a = Profile("a", 5, options, [column("c", "categorical", ["x", "y"], [2, 3], missing=1)])
    b = Profile("b", 4, options, [column("c", "categorical", ["w", "y"], [1, 3])])
    (c,) = add_profiles([a, b], ["a.json", "b.json"], "both").columns
    assert (c.labels, c.counts, c.missing) == (["w", "x", "y"], [1, 2, 6], 1)
    n1 = Profile("a", 2, options, [column("n", "numeric", ["10", "2"], [1, 1])])
    n2 = Profile("b", 1, options, [column("n", "numeric", ["-1"], [1])])
    summed = add_profiles([n1, n2], ["a", "b"], "both")
    assert summed.rows == 3
    assert summed.columns[0].labels == ["-1", "2", "10"]  # by value, not by text


def test_profiles_that_do_not_add_are_65(tmp_path: Path) -> None:
    options = {"bins": 10, "na": ["NA"], "categorical": [], "edges": {}}
    binned = column("v", "binned", ["<1", ">=1"], [1, 1], edges=[1.0])
    other = column("v", "binned", ["<2", ">=2"], [1, 1], edges=[2.0])
    p1 = Profile("a", 2, options, [binned])
    with pytest.raises(InvalidDataError, match=r"b.json does not add to a.json: column 'v'"):
        add_profiles([p1, Profile("b", 2, options, [other])], ["a.json", "b.json"], "x")
    with pytest.raises(InvalidDataError, match="its columns differ"):
        add_profiles(
            [p1, Profile("b", 2, options, [column("w", "categorical", ["a"], [2])])],
            ["a", "b"],
            "x",
        )
    with pytest.raises(InvalidDataError, match="another 'bins' option"):
        add_profiles([p1, Profile("b", 2, {**options, "bins": 5}, [binned])], ["a", "b"], "x")
    # Through the program: a folder of two profiles with different edges.
    folder = tmp_path / "profiles"
    folder.mkdir()
    for name, p in (("1.json", p1), ("2.json", Profile("b", 2, options, [other]))):
        (folder / name).write_text(json.dumps(p.document()))
    cur = tmp_path / "cur.csv"
    cur.write_text("v\n0.5\n3\n")
    run = kldiv("drift", str(folder), str(cur))
    assert run.status == 65
    assert "2.json does not add to" in run.err
    assert run.out == ""
    # A folder that mixes a profile and raw rows.
    (folder / "2.json").unlink()
    (folder / "3.csv").write_text("v\n1\n")
    run = kldiv("drift", str(folder), str(cur))
    assert run.status == 65
    assert "3.csv: not a kldiv profile" in run.err


def test_save_current_is_curs_side(tmp_path: Path) -> None:
    ref = tmp_path / "ref.csv"
    ref.write_text("c\na\na\nb\n")
    cur = tmp_path / "cur.csv"
    cur.write_text("c\nb\nz\nNA\n")
    saved = str(tmp_path / "cur.json")
    run = kldiv("drift", str(ref), str(cur), "--save-current", saved, "--format", "json")
    assert run.status == 0, run.err
    (c,) = read_profile(saved).columns
    assert (c.kind, c.labels, c.counts, c.missing) == ("categorical", ["b", "z"], [1, 1], 1)
    assert read_profile(saved).rows == 3
