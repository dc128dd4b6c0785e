import numpy as np
import pytest

import glassnet as gn


def test_neuron_is_one_unit_of_a_dense_layer():
    rng = np.random.default_rng(0)
    model = gn.Sequential([gn.Dense(3, activation="tanh")], dtype="float64").build((4,), rng=0)
    x = rng.normal(size=4)
    out = model.predict(x[None])[0]
    W, b = model.layers[0].params["W"], model.layers[0].params["b"]
    for j in range(3):
        assert gn.Neuron(W[:, j], b[j], activation="tanh").forward(x) == pytest.approx(out[j])


def test_neuron_validation():
    with pytest.raises(ValueError, match="inputs has 3 values but the neuron has 2 weights"):
        gn.Neuron([0, 1], 4).forward([1, 2, 3])
    with pytest.raises(ValueError, match="weights contains NaN"):
        gn.Neuron([0, np.nan], 4)
    with pytest.raises(TypeError, match="bias must be a number, got 'b'"):
        gn.Neuron([0, 1], "b")


def test_ledger_records_every_layer_and_matches_backward(rng):
    X = rng.normal(size=(3, 4))
    y = rng.integers(0, 3, size=3)
    model = gn.Sequential([gn.Dense(5, activation="relu"), gn.Dense(3, activation="softmax")])
    model.build((4,), rng=0)
    ledger = gn.explain(model, X, y, loss="cross_entropy", parameter="layers.1.W[2,1]")
    first, last = ledger.layers
    assert first.z.shape == (3, 5) and first.a.shape == (3, 5)
    assert np.allclose(first.a, np.maximum(first.z, 0))
    # delta of the softmax layer is (p - y)/n, fused, and dL/dW = a.T @ delta
    onehot = np.eye(3)[y]
    assert np.allclose(last.delta, (last.a - onehot) / 3)
    assert np.allclose(last.grads["W"], first.a.T @ last.delta)
    assert np.allclose(
        first.delta,
        (last.delta @ model.layers[1].params["W"].T.astype(float)) * (first.z > 0),
        atol=1e-6,
    )
    assert ledger.chain.dL_dw_total == pytest.approx(last.grads["W"][2, 1])
    assert ledger.chain.da_dz is None  # softmax: no diagonal derivative
    assert "δ[1] = ∂L/∂z[1]" in str(ledger)  # numbered as the model numbers its layers


def test_ledger_parameter_errors(rng):
    model = gn.Sequential([gn.Dense(2, activation="sigmoid")])
    X, y = rng.normal(size=(1, 2)), np.array([[0.5, 0.5]])
    with pytest.raises(ValueError, match="parameter must look like 'layers.0.W\\[0,0\\]'"):
        gn.explain(model, X, y, parameter="w1")
    with pytest.raises(ValueError, match="parameter 'layers.3.W\\[0,0\\]' does not exist"):
        gn.explain(model, X, y, parameter="layers.3.W[0,0]")
    with pytest.raises(ValueError, match="index \\(5, 0\\) is outside W of shape \\(2, 2\\)"):
        gn.explain(model, X, y, parameter="layers.0.W[5,0]")


def test_ledger_of_a_convolutional_network(rng):
    X = rng.normal(size=(2, 1, 6, 6))
    y = np.array([0, 1])
    model = gn.Sequential(
        [
            gn.Conv2D(2, 3, activation="relu"),
            gn.MaxPool2D(2),
            gn.Flatten(),
            gn.Dense(2, activation="softmax"),
        ]
    )
    ledger = gn.explain(model, X, y, loss="cross_entropy")
    assert ledger.chain.parameter == "layers.3.W[0,0]"  # the first Dense weight
    text = str(ledger)
    assert "z[0] = x ⊛ W[0] + b[0]" in text and "z[3] = a[2] @ W[3] + b[3]" in text
    assert ledger.layers[0].grads["W"].shape == (2, 1, 3, 3)


def test_chain_rule_is_written_for_one_sample_and_sums_to_the_gradient(rng):
    X = rng.normal(size=(3, 2))
    y = np.array([1.0, 0.0, 1.0])
    model = gn.Sequential([gn.Dense(2, activation="sigmoid"), gn.Dense(1, activation="sigmoid")])
    shares = []
    for s in range(3):
        chain = gn.explain(model, X, y, loss="mse", sample=s).chain
        assert chain.sample == s
        # the printed factors multiply to this sample's share
        assert chain.dL_dyhat * chain.dyhat_da * chain.da_dw == pytest.approx(chain.dL_dw)
        assert chain.dz_dw * chain.da_dz == pytest.approx(chain.da_dw)
        shares.append(chain.dL_dw)
    assert sum(shares) == pytest.approx(chain.dL_dw_total)
    assert "summed over the 3 samples" in str(gn.explain(model, X, y, loss="mse"))
    assert not model.built  # explain built a copy, not the user's model
    with pytest.raises(ValueError, match="sample must be between 0 and 2, got 3"):
        gn.explain(model, X, y, loss="mse", sample=3)
