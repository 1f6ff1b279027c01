"""The README's examples are true: its Python session runs as a doctest, and its
set-up commands are the two the developers' guide asks for."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_python_examples_in_the_readme_run() -> None:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "the README has a Python example"
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for i, block in enumerate(blocks):
        runner.run(parser.get_doctest(block, {}, f"README block {i}", str(README), 0))
    result = runner.summarize(verbose=False)
    assert result.attempted > 0
    assert result.failed == 0


def test_readme_opens_with_the_install_and_test_commands() -> None:
    first_block = re.search(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert first_block is not None
    lines = first_block.group(1).strip().splitlines()
    assert lines[0].startswith("python -m pip install -e . && kldiv compare samples/")
    assert lines[1] == "python -m pip install -e '.[test]' && pytest"


def _test_extra() -> list[str]:
    import tomllib

    project = tomllib.loads((README.parent / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = project["project"]["optional-dependencies"]["test"]
    return [re.split(r"[<>=\[; ]", req, maxsplit=1)[0] for req in requirements]


def test_every_untyped_import_has_its_stubs_in_the_test_extra() -> None:
    """mypy --strict on a fresh venv needs stubs for each library without inline types.

    The scipy stubs were once installed by hand, so CI passed here and failed on a
    fresh machine: each third-party package that kldiv_cli imports either ships
    ``py.typed`` or has its ``NAME-stubs`` package in the test extra.
    """
    import ast
    import importlib.util
    import sys

    imported: set[str] = set()
    for path in (README.parent / "kldiv_cli").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m != "kldiv_cli"}
    assert {"numpy", "scipy", "typer"} <= third_party
    extra = _test_extra()
    for module in sorted(third_party):
        spec = importlib.util.find_spec(module)
        assert spec is not None, module
        assert spec.submodule_search_locations is not None, module
        typed = any((Path(p) / "py.typed").exists() for p in spec.submodule_search_locations)
        assert typed or f"{module}-stubs" in extra, f"{module}: no py.typed and no stubs"


def test_readme_lists_the_test_extra_and_installs_from_the_repository() -> None:
    text = README.read_text(encoding="utf-8")
    intro = text.split("## ", 2)[0]
    # SciPy is a runtime dependency, not a test tool.
    assert "SciPy as the oracle, ruff" not in intro
    assert "scipy-stubs" in _test_extra()
    assert "scipy" not in _test_extra()
    # kldiv-cli is not on a package index: the CI example installs it from its repository.
    step = re.search(r"```yaml\n(.*?)```", text, flags=re.S)
    assert step is not None
    assert "pip install kldiv-cli\n" not in step.group(1)
    assert "git+https://" in step.group(1)
