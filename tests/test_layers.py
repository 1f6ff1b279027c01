"""The direction of imports between the layers of ``kldiv_cli``.

Every ``import`` and ``from ... import`` of every module is read with :mod:`ast`,
wherever it stands (at the top, inside a function, under ``TYPE_CHECKING``): a lazy
import is an import all the same. The rule, layer by layer (``errors`` is everyone's):

- ``maths`` (pure NumPy): only ``maths`` and ``errors``.
- ``readers`` (the only code that touches files): only ``readers`` and ``errors``.
- ``commands`` (read -> compute -> check -> a result): ``commands``, ``maths``,
  ``errors`` and ``readers`` through its package alone (``from kldiv_cli.readers
  import X``, never one of its modules), so that the readers can change behind it;
  never ``render`` or ``cli``. One exception, until the readers' face exports it:
  ``kldiv_cli.readers.resources``, the memory a run may take (the matrix's refusals
  call it through the module, which is where tests replace it).
- ``render`` (result -> text): ``render``, ``errors`` and the result types of
  ``kldiv_cli.commands.results``; nothing that reads or computes.
- ``cli`` (and ``__main__``): ``commands``, ``render``, ``errors`` and the package
  (its version); it calls no reader and no measure itself.
- ``errors``: nothing of kldiv.
- the package (``kldiv_cli/__init__``, the public API): ``maths`` and ``errors``.

A test that reads the source, not one that runs it: it fails on the line that breaks
the rule, before any behaviour does.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kldiv_cli"

#: Layer -> the kldiv_cli modules (dotted prefixes) it may import.
ALLOWED: dict[str, tuple[str, ...]] = {
    "maths": ("kldiv_cli.maths", "kldiv_cli.errors"),
    "readers": ("kldiv_cli.readers", "kldiv_cli.errors"),
    "commands": ("kldiv_cli.commands", "kldiv_cli.maths", "kldiv_cli.errors"),
    "render": ("kldiv_cli.render", "kldiv_cli.errors", "kldiv_cli.commands.results"),
    "cli": ("kldiv_cli.cli", "kldiv_cli.commands", "kldiv_cli.render", "kldiv_cli.errors"),
    "errors": (),
    "package": ("kldiv_cli.maths", "kldiv_cli.errors"),
}


def layer_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    if len(parts) > 1:
        return parts[0]
    return {"cli.py": "cli", "__main__.py": "cli", "__init__.py": "package"}.get(
        parts[0], parts[0].removesuffix(".py")
    )


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every kldiv_cli module ``path`` imports; ``from X import
    Y`` counts as ``X.Y`` when ``X.Y`` is a module, else as ``X``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                dotted = f"{node.module}.{alias.name}"
                is_module = any(
                    (PACKAGE.parent / dotted.replace(".", "/")).with_suffix(s).exists()
                    for s in (".py", "")
                )
                found.append((node.lineno, dotted if is_module else node.module))
    return [(line, name) for line, name in found if name.split(".")[0] == "kldiv_cli"]


def allowed(layer: str, name: str) -> bool:
    if layer == "commands" and name in ("kldiv_cli.readers", "kldiv_cli.readers.resources"):
        return True  # the package, whose names are the readers' public face
    if layer in ("cli", "package") and name == "kldiv_cli":
        return True  # __version__
    return any(name == p or name.startswith(p + ".") for p in ALLOWED[layer])


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_module_has_a_layer() -> None:
    assert {layer_of(p) for p in MODULES} <= set(ALLOWED), {layer_of(p) for p in MODULES}
    # The layers the rule is about are all there (a rename would empty a rule).
    assert {layer_of(p) for p in MODULES} == set(ALLOWED)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_one_way(path: Path) -> None:
    layer = layer_of(path)
    wrong = [
        f"{module_name(path)}:{line} imports {name}"
        for line, name in imports(path)
        if not allowed(layer, name)
    ]
    assert wrong == [], f"the {layer} layer may import only {ALLOWED[layer]}"


def test_the_checker_sees_a_lazy_import_and_a_submodule(tmp_path: Path) -> None:
    # The rule's reader itself: a function-level import of a reader's module is found
    # as that module, which the commands may not import.
    source = PACKAGE / "commands" / "compare.py"
    found = {name: line for line, name in imports(source)}
    assert "kldiv_cli.readers" in found
    assert "kldiv_cli.maths.bootstrap" in found  # imported inside _intervals
    assert not allowed("commands", "kldiv_cli.readers.tables")
    assert not allowed("commands", "kldiv_cli.render")
    assert not allowed("render", "kldiv_cli.commands.compare")
    assert not allowed("render", "kldiv_cli.maths.core")
    assert not allowed("maths", "kldiv_cli.readers")
    assert not allowed("cli", "kldiv_cli.readers")
    assert allowed("render", "kldiv_cli.commands.results")


def test_each_result_type_has_its_renderers() -> None:
    # The renderer is chosen by the result's type: every result of a command has its
    # own for each format (the default of each entry point refuses, or for
    # failed_checks says nothing), and a streamed matrix has CSV/TSV only.
    from kldiv_cli import render
    from kldiv_cli.commands import results

    whole = [
        results.Comparison,
        results.MatrixResult,
        results.PairsResult,
        results.EntropyResult,
        results.MiResult,
        results.DriftResult,
        results.GaussResult,
        results.VaeResult,
    ]
    for entry in (render.to_json, render.to_delimited, render.to_table):
        default = entry.dispatch(object)
        assert all(entry.dispatch(kind) is not default for kind in whole), entry
        # one renderer per result, none shared
        assert len({entry.dispatch(kind) for kind in whole}) == len(whole)
    stream = results.MatrixStream
    assert render.to_delimited.dispatch(stream) is not render.to_delimited.dispatch(object)
    assert render.to_json.dispatch(stream) is render.to_json.dispatch(object)
    with pytest.raises(TypeError, match="no JSON for a MatrixStream"):
        render.to_json(stream("jsd", "bits", [], [], iter(())))
    checked = {
        results.Comparison,
        results.PairsResult,
        results.DriftResult,
        results.GaussResult,
        results.VaeResult,
    }
    for kind in whole:
        has_own = render.failed_checks.dispatch(kind) is not render.failed_checks.dispatch(object)
        assert has_own == (kind in checked), kind
