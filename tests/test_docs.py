"""The tutorial's code blocks run, in order, and their assertions hold."""

from conftest import ROOT, python_blocks


def test_tutorial_runs(capsys):
    blocks = python_blocks(ROOT / "docs" / "tutorial.md")
    assert len(blocks) >= 10
    namespace = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"docs/tutorial.md block {i + 1}", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "∂L/∂w = ∂L/∂ŷ · ∂ŷ/∂a · ∂a/∂w = -0.9526 · 0.2494 · -0.09035 = 0.02147" in printed
