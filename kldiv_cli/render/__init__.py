"""Results -> text: a rich table for people; JSON, CSV or TSV for programs.

Each entry point picks its renderer by the result's type (``functools.singledispatch``
over the dataclasses of :mod:`kldiv_cli.commands.results`): :func:`to_json`,
:func:`to_delimited`, :func:`to_table`, and :func:`failed_checks` for the lines that
name failed ``--max`` checks. :mod:`~kldiv_cli.render.text` spells numbers and names,
:mod:`~kldiv_cli.render.progress` announces long work. Nothing here reads, computes,
prints or exits: the CLI writes the text.
"""

from kldiv_cli.render import gauss as _gauss  # noqa: F401  (registers gauss's renderers)
from kldiv_cli.render.checks import failed_checks
from kldiv_cli.render.delimited import to_delimited
from kldiv_cli.render.json import to_json
from kldiv_cli.render.table import TABLE_ROWS, to_table
from kldiv_cli.render.text import number

__all__ = ["TABLE_ROWS", "failed_checks", "number", "to_delimited", "to_json", "to_table"]
