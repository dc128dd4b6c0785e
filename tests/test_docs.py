"""The tutorial's code blocks run, in order, and their assertions hold."""

import re

from conftest import ROOT


def python_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


def test_tutorial_runs(capsys):
    blocks = python_blocks(ROOT / "docs" / "tutorial.md")
    assert len(blocks) >= 10
    namespace = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"docs/tutorial.md block {i + 1}", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "∂L/∂w = ∂L/∂ŷ · ∂ŷ/∂a · ∂a/∂w = -0.9526 · 0.2494 · -0.09035 = 0.02147" in printed
