"""Readers: sources (files, stdin, inline numbers) into labelled, aligned arrays.

The only layer that touches files. Commands import what they need from here, the
package, never from its modules, so that the modules can change behind this list.

The modules, one job each (imports run down this list, never up):

- :mod:`~kldiv_cli.readers.resources`: how much memory a run may take.
- :mod:`~kldiv_cli.readers.numbers`: the one number grammar, and its hints.
- :mod:`~kldiv_cli.readers.sources`: SOURCE arguments, stdin, sniffing, size bounds.
- :mod:`~kldiv_cli.readers.table`: Labels, Table, Distribution.
- :mod:`~kldiv_cli.readers.columnar`: large clean CSV/TSV, by pyarrow.csv (lazily).
- :mod:`~kldiv_cli.readers.delimited`: CSV/TSV, strictly, with the stdlib csv module.
- :mod:`~kldiv_cli.readers.json_doc`: the JSON shapes.
- :mod:`~kldiv_cli.readers.tables`: :func:`read_table`, the entry point.
- :mod:`~kldiv_cli.readers.alignment`: alignment by label, and its warnings.
- :mod:`~kldiv_cli.readers.categories`: raw observations.
- :mod:`~kldiv_cli.readers.raw_files`: raw rows' sources (files, folders, globs, stdin).
- :mod:`~kldiv_cli.readers.raw`: raw rows counted by DuckDB (imported lazily there).
- :mod:`~kldiv_cli.readers.raw_dask`: the same counts on a Dask cluster (``--engine dask``).
- :mod:`~kldiv_cli.readers.points`: raw rows as points (``samples``), by DuckDB.
- :mod:`~kldiv_cli.readers.profiles`: saved reference profiles (``drift``).
- :mod:`~kldiv_cli.readers.gaussian`: a mean and a covariance (``gauss``).
"""

import importlib
from typing import TYPE_CHECKING, Any, Final

from kldiv_cli.readers.alignment import (
    Aligned,
    align,
    check_normalized,
    is_close_to_integer,
    label_hint,
    position_warning,
    probability_warning,
    union_of,
)
from kldiv_cli.readers.numbers import NUMBER_FORMS, number_hint, parse_number, parse_whole, quote
from kldiv_cli.readers.profiles import (
    Profile,
    ProfileColumn,
    add_profiles,
    is_profile,
    joined_labels,
    profile_files,
    read_profile,
    read_profiles,
    write_profile,
)
from kldiv_cli.readers.resources import size_text
from kldiv_cli.readers.table import (
    Distribution,
    FloatArray,
    Labels,
    Table,
    require_exact_counts,
)
from kldiv_cli.readers.tables import read_table

if TYPE_CHECKING:  # at run time these come from __getattr__, when first asked for
    from kldiv_cli.readers.categories import read_categories, read_joint_counts
    from kldiv_cli.readers.gaussian import GaussianSpec, read_gaussian
    from kldiv_cli.readers.points import Points, read_points
    from kldiv_cli.readers.raw import (
        DEFAULT_NA,
        MISSING,
        ColumnCounts,
        ColumnPlan,
        RawOptions,
        RawSource,
        bin_labels,
        count_columns,
        number_label,
        open_raw,
    )
    from kldiv_cli.readers.raw_dask import count_on_dask

#: Names whose modules load on first use: raw rows and categories serve --count and
#: mi --x --y only, and importing them cost every other command ~20 ms of start-up.
_LAZY: Final = {
    "read_categories": "categories",
    "read_joint_counts": "categories",
    "GaussianSpec": "gaussian",
    "read_gaussian": "gaussian",
    **dict.fromkeys(
        (
            "DEFAULT_NA",
            "MISSING",
            "ColumnCounts",
            "ColumnPlan",
            "RawOptions",
            "RawSource",
            "bin_labels",
            "count_columns",
            "number_label",
            "open_raw",
        ),
        "raw",
    ),
    "count_on_dask": "raw_dask",  # --engine dask only: Dask is imported inside it
    "Points": "points",
    "read_points": "points",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "DEFAULT_NA",
    "MISSING",
    "NUMBER_FORMS",
    "Aligned",
    "ColumnCounts",
    "ColumnPlan",
    "Distribution",
    "FloatArray",
    "GaussianSpec",
    "Labels",
    "Points",
    "Profile",
    "ProfileColumn",
    "RawOptions",
    "RawSource",
    "Table",
    "add_profiles",
    "align",
    "bin_labels",
    "check_normalized",
    "count_columns",
    "count_on_dask",
    "is_close_to_integer",
    "is_profile",
    "joined_labels",
    "label_hint",
    "number_hint",
    "number_label",
    "open_raw",
    "parse_number",
    "parse_whole",
    "position_warning",
    "probability_warning",
    "profile_files",
    "quote",
    "read_categories",
    "read_gaussian",
    "read_joint_counts",
    "read_points",
    "read_profile",
    "read_profiles",
    "read_table",
    "require_exact_counts",
    "size_text",
    "union_of",
    "write_profile",
]
