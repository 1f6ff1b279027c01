"""Readers: sources (files, stdin, inline numbers) into labelled, aligned arrays.

The only layer that touches files. Commands import what they need from here, the
package, never from its modules, so that the modules can change behind this list.
"""

from kldiv_cli.readers.resources import size_text
from kldiv_cli.readers.tables import (
    NUMBER_FORMS,
    Aligned,
    Distribution,
    FloatArray,
    Labels,
    Table,
    align,
    check_normalized,
    is_close_to_integer,
    label_hint,
    number_hint,
    parse_number,
    parse_whole,
    position_warning,
    probability_warning,
    quote,
    read_joint_counts,
    read_table,
    require_exact_counts,
    union_of,
)

__all__ = [
    "NUMBER_FORMS",
    "Aligned",
    "Distribution",
    "FloatArray",
    "Labels",
    "Table",
    "align",
    "check_normalized",
    "is_close_to_integer",
    "label_hint",
    "number_hint",
    "parse_number",
    "parse_whole",
    "position_warning",
    "probability_warning",
    "quote",
    "read_joint_counts",
    "read_table",
    "require_exact_counts",
    "size_text",
    "union_of",
]
