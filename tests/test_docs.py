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


def test_readme_tour_runs(tmp_path, monkeypatch, capsys):
    tour = python_blocks(ROOT / "README.md")[0]
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(tour, "README.md tour", "exec"), namespace)
    emily, frank = namespace["model"].predict(namespace["np"].array([[-7, -3], [20, 2]]))[:, 0]
    # as the README says
    assert round(float(emily), 3) == 0.967 and round(float(frank), 3) == 0.055
    assert (tmp_path / "gender.safetensors").exists()
    assert "chain rule for layers.0.W[0,0]" in capsys.readouterr().out
