"""Every number the three seed tutorials print, reproduced by the demos a reader runs."""

import ast

import numpy as np
import pytest

import glassnet as gn
from glassnet import demos


def quiet(*_):
    pass


def test_seed_002_neuron():
    assert demos.neuron(out=quiet) == 0.9990889488055994
    assert gn.Neuron(weights=[0, 1], bias=4).forward([2, 3]) == 0.9990889488055994


def test_seed_002_network_forward_and_mse():
    result = demos.network(out=quiet)
    assert result["o1"] == 0.7216325609518421
    assert result["mse"] == 0.5


def test_seed_002_backprop_ledger_for_alice():
    chain = demos.network(out=quiet)["ledger"].chain
    ledger = demos.network(out=quiet)["ledger"]
    # the tutorial's hand derivation, to the digits it prints
    assert ledger.layers[0].a[0, 0] == pytest.approx(0.0474, abs=5e-5)  # h1
    assert ledger.y_hat[0, 0] == pytest.approx(0.524, abs=5e-4)  # o1
    assert chain.dL_dyhat == pytest.approx(-0.952, abs=1e-3)  # -2(1 - 0.524); exactly -0.9526
    assert chain.dyhat_da == pytest.approx(0.249, abs=5e-4)  # dy/dh1
    assert chain.da_dw == pytest.approx(-0.0904, abs=5e-5)  # dh1/dw1
    assert chain.dL_dw == pytest.approx(0.0215, abs=5e-5)  # dL/dw1
    # the factors multiply to the gradient backward computed
    assert chain.dL_dyhat * chain.dyhat_da * chain.da_dw == pytest.approx(chain.dL_dw, rel=1e-12)
    text = str(ledger)
    assert "∂L/∂w = ∂L/∂ŷ · ∂ŷ/∂a · ∂a/∂w = -0.9526 · 0.2494 · -0.09035 = 0.02147" in text


def _seed_000_reference():
    """Seed 000's program, as printed in the tutorial (with an explicit legacy generator)."""
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
    y = np.array([[0], [0], [1], [1]])
    weights = 2 * np.random.RandomState(42).random_sample((3, 1)) - 1
    lines = []
    for epoch in range(10000):
        out = 1 / (1 + np.exp(-np.dot(X, weights)))
        error = y - out
        if epoch % 1000 == 0:
            lines.append(np.mean(np.abs(error)))
        weights += np.dot(X.T, error * (out * (1 - out)))
    return lines, out


def test_seed_000_perceptron():
    printed = []
    result = demos.perceptron(out=printed.append)
    # the tutorial's printed output, digit for digit
    assert (
        "Output after training: \n[[0.00966808]\n [0.00786589]\n [0.99358863]\n [0.99211705]]"
        in printed
    )
    expected_lines, expected_out = _seed_000_reference()
    assert len(result["lines"]) == 10
    for k, (line, value) in enumerate(zip(result["lines"], expected_lines, strict=True)):
        head, number = line.split(": ")
        assert head == f"Error at iteration {k * 1000}"
        assert float(number) == pytest.approx(value, rel=1e-12)
    assert np.allclose(result["output"], expected_out, rtol=1e-12, atol=0)


def test_seed_001_two_layer(tmp_path):
    result = demos.two_layer(out=quiet, out_dir=tmp_path)
    assert np.all(np.abs(result["prediction"] - np.array([[0], [1], [1], [0]])) < 0.1)
    loss = np.array(result["history"].loss)
    assert len(loss) == 1500
    assert np.all(np.diff(loss) < 0), "the loss per iteration decreases monotonically"
    png = result["plot"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_seed_002_gender_training():
    printed = []
    verdict = demos.gender(out=printed.append)["verdict"]
    assert verdict["Emily"][0] == "F" and verdict["Emily"][1] > 0.8
    assert verdict["Frank"][0] == "M" and verdict["Frank"][1] < 0.2
    assert any(line.startswith("Emily (128 lb, 63 in): female") for line in printed)


def test_cli_lists_and_runs_demos(capsys):
    from glassnet.cli import main

    assert main(["demo"]) == 0
    listing = capsys.readouterr().out
    for name in ("neuron", "network", "perceptron", "two-layer", "gender", "digits"):
        assert name in listing
    assert main(["demo", "neuron"]) == 0
    assert "0.9990889488055994" in capsys.readouterr().out
    assert main(["demo", "nope"]) == 2
    assert "unknown demo 'nope'" in capsys.readouterr().err


def test_demo_network_prints_the_weights_it_uses():
    """The weights the demo prints are the ones that give seed 002's 0.7216325609518421, and
    the ledger's network is every weight 1, every bias 0 (its layer lines say so)."""
    printed = []
    result = demos.network(out=printed.append)
    shown = {}
    for line in printed:
        if line.startswith("  layers."):
            name, value = line.strip().split(" = ")
            shown[name] = np.array(ast.literal_eval(value), dtype=float)
    assert list(shown) == ["layers.0.W", "layers.0.b", "layers.1.W", "layers.1.b"]
    assert shown["layers.0.W"][:, 0].tolist() == [0, 1] == shown["layers.0.W"][:, 1].tolist()

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    h = sigmoid(np.array([[2.0, 3.0]]) @ shown["layers.0.W"] + shown["layers.0.b"])
    o1 = sigmoid(h @ shown["layers.1.W"] + shown["layers.1.b"])[0, 0]
    assert o1 == pytest.approx(result["o1"], rel=1e-15)
    assert "h1 = h2 = sigmoid(0*2 + 1*3 + 0) = sigmoid(3) = 0.9526" in printed
    ledger = result["ledger"]
    assert str(ledger).count("weight_init='ones', bias_init='zeros'") == 2
    # z of the first layer for Alice (-2, -1) with every weight 1 and bias 0: -2 - 1 + 0
    assert ledger.layers[0].z.tolist() == [[-3.0, -3.0]]
    assert any("every weight 1 and every bias 0" in line for line in printed)


def test_demos_take_only_the_options_they_use():
    import inspect

    for name, (function, _) in demos.DEMOS.items():
        kinds = {p.kind for p in inspect.signature(function).parameters.values()}
        assert inspect.Parameter.VAR_KEYWORD not in kinds, name
    assert list(inspect.signature(demos.neuron).parameters) == ["out"]
    assert list(inspect.signature(demos.two_layer).parameters) == ["out", "out_dir", "rng"]
    assert not hasattr(demos, "register")


def test_cli_passes_each_demo_the_options_it_takes(monkeypatch, tmp_path):
    from glassnet.cli import main

    calls = []

    def recorder(out=print, out_dir=".", epochs=None):
        calls.append({"out_dir": out_dir, "epochs": epochs})

    monkeypatch.setitem(demos.DEMOS, "recorder", (recorder, "records its options"))
    args = ["demo", "recorder", "--out-dir", str(tmp_path), "--epochs", "2", "--seed", "3"]
    assert main(args) == 0
    assert calls == [{"out_dir": str(tmp_path), "epochs": 2}]


def test_seed_001_refuses_a_missing_folder_before_training(tmp_path, monkeypatch):
    """A bad out_dir is refused at once, not after the 1,500 iterations."""
    monkeypatch.setattr(demos.Sequential, "fit", lambda *a, **k: pytest.fail("trained"))
    with pytest.raises(ValueError, match="out_dir '.*nowhere' is not a folder"):
        demos.two_layer(out=quiet, out_dir=tmp_path / "nowhere")
