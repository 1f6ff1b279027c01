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
