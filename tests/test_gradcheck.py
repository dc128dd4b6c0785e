"""Gradient checks: backpropagation against central differences in float64, for every
layer, activation and loss."""

import numpy as np
import pytest

import glassnet as gn
from glassnet.training.trainer import loss_and_gradients

ACTIVATIONS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu"]


@pytest.mark.parametrize("hidden", ACTIVATIONS)
@pytest.mark.parametrize(
    "head,loss",
    [
        ("identity", "mse"),
        ("identity", "sse"),
        ("sigmoid", "mse"),
        ("sigmoid", "bce"),
        ("softmax", "cross_entropy"),
        ("softmax", "mse"),
        ("tanh", "sse"),
    ],
)
def test_every_activation_and_loss(hidden, head, loss, rng):
    X = rng.normal(size=(6, 3))
    units = 1 if head == "sigmoid" and loss == "bce" else 3
    if loss == "cross_entropy":
        y = rng.integers(0, 3, size=6)
    elif loss == "bce":
        y = rng.integers(0, 2, size=6)
    else:
        y = rng.uniform(0, 1, size=(6, units))
    model = gn.Sequential(
        [
            gn.Dense(5, activation=hidden),
            gn.Dense(4, activation=hidden),
            gn.Dense(units, activation=head),
        ]
    )
    result = gn.gradcheck(model, X, y, loss=loss, rng=1)
    assert set(result.per_param) == {
        "layers.0.W",
        "layers.0.b",
        "layers.1.W",
        "layers.1.b",
        "layers.2.W",
        "layers.2.b",
    }
    assert result.max_error < 1e-6, str(result)


def test_standalone_activation_layers_and_dropout(rng):
    X = rng.normal(size=(5, 4))
    y = rng.integers(0, 3, size=5)
    model = gn.Sequential([gn.Dense(6), gn.Tanh(), gn.Dropout(0.3), gn.Dense(3), gn.Softmax()])
    assert gn.gradcheck(model, X, y, loss="cross_entropy", training=True).max_error < 1e-6
    model = gn.Sequential([gn.Dense(6), gn.LeakyReLU(0.2), gn.Dense(1), gn.Sigmoid()])
    assert gn.gradcheck(model, X, y > 0, loss="bce").max_error < 1e-6


def test_weighted_loss(rng):
    X = rng.normal(size=(6, 3))
    model = gn.Sequential([gn.Dense(4, activation="tanh"), gn.Dense(2, activation="softmax")])
    model.build((3,), rng=0)
    m = model.astype("float64")
    m.loss_ = gn.CrossEntropy()
    w = rng.uniform(0, 2, size=6)
    y = rng.integers(0, 2, size=6)
    loss_and_gradients(m, X, y, m.loss_, weights=w)
    g = m.layers[0].grads["W"].copy()
    eps, W = 1e-6, m.layers[0].params["W"]
    W[0, 0] += eps
    plus, _ = loss_and_gradients(m, X, y, m.loss_, weights=w)
    W[0, 0] -= 2 * eps
    minus, _ = loss_and_gradients(m, X, y, m.loss_, weights=w)
    assert (plus - minus) / (2 * eps) == pytest.approx(g[0, 0], rel=1e-6)


def test_a_wrong_backward_is_caught(rng, monkeypatch):
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 1))
    model = gn.Sequential([gn.Dense(4, activation="tanh"), gn.Dense(1)])
    assert gn.gradcheck(model, X, y).max_error < 1e-6
    # a classic bug: forgetting the derivative of tanh
    monkeypatch.setattr(gn.Tanh, "derivative", lambda self: np.ones_like(self.a))
    result = gn.gradcheck(model, X, y)
    assert result.per_param["layers.0.W"] > 1e-2
    assert result.per_param["layers.1.W"] < 1e-6  # the layer above is still right


def test_gradcheck_leaves_the_model_alone(rng):
    model = gn.Sequential([gn.Dense(2, activation="sigmoid")]).build((3,), rng=0)
    before = model.get_weights()
    gn.gradcheck(model, rng.normal(size=(4, 3)), rng.uniform(size=(4, 2)))
    assert model.dtype == np.float32
    assert all(np.array_equal(before[k], v) for k, v in model.get_weights().items())
