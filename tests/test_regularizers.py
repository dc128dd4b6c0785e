"""Weight penalties L1, L2 and L1L2: by hand, in the one loss-and-gradient pass that fit,
gradcheck and explain share, saved in the model file, and against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet.nn.regularizers import add_penalties, get_regularizer
from glassnet.training.trainer import loss_and_gradients

W = np.array([[1.0, -2.0], [0.0, 3.0]])


def test_penalties_and_their_gradients_by_hand():
    # L1: 0.1 * (1 + 2 + 0 + 3) = 0.6;  L2: 0.1 * (1 + 4 + 0 + 9) = 1.4
    assert gn.L1(0.1)(W) == pytest.approx(0.6, abs=1e-15)
    assert gn.L2(0.1)(W) == pytest.approx(1.4, abs=1e-15)
    assert gn.L1L2(l1=0.1, l2=0.1)(W) == pytest.approx(2.0, abs=1e-15)
    grad = np.zeros_like(W)
    gn.L1(0.1).add_gradient(W, grad)  # 0.1 sign(w): sign(0) = 0
    assert np.array_equal(grad, [[0.1, -0.1], [0.0, 0.1]])
    grad = np.ones_like(W)
    gn.L2(0.1).add_gradient(W, grad)  # added to what is there: 1 + 2 * 0.1 * w
    np.testing.assert_allclose(grad, [[1.2, 0.6], [1.0, 1.6]], rtol=0, atol=1e-15)


def test_one_sgd_step_by_hand():
    # y_hat = w x with w = 2, x = 1, y = 0; MSE: L_data = (2 - 0)^2 = 4, dL/dw = 2 * 2 = 4
    # L2(0.5): penalty 0.5 * 2^2 = 2, gradient 2 * 0.5 * 2 = 2; L = 6, dL/dw = 6
    # SGD(0.1): w = 2 - 0.1 * 6 = 1.4
    model = gn.Sequential(
        [gn.Dense(1, use_bias=False, kernel_regularizer=gn.L2(0.5))], dtype="float64"
    ).build((1,))
    model.set_weights({"layers.0.W": [[2.0]]})
    history = model.fit(
        [[1.0]], [0.0], loss="mse", optimizer=gn.SGD(learning_rate=0.1), epochs=1, batch_size=None
    )
    assert history.loss == [6.0]
    assert model.layers[0].params["W"][0, 0] == pytest.approx(1.4, abs=1e-15)
    # what is evaluated afterwards is the data alone: (1.4 - 0)^2 = 1.96
    assert model.evaluate([[1.0]], [0.0])["loss"] == pytest.approx(1.96, abs=1e-14)


def regularized_mlp(dtype="float64"):
    return gn.Sequential(
        [
            gn.Dense(5, activation="tanh", kernel_regularizer=gn.L2(0.03), bias_regularizer="l1"),
            gn.Dense(4, activation="gelu", kernel_regularizer=gn.L1L2(l1=0.02, l2=0.01)),
            gn.Dense(3, activation="softmax", kernel_regularizer="l1"),
        ],
        dtype=dtype,
    )


def test_the_penalty_is_added_once_to_the_loss_and_to_the_gradients(rng):
    X, y = rng.normal(size=(8, 3)), rng.integers(0, 3, size=8)
    model = regularized_mlp().build((3,), rng=0)
    for layer in model.layers:
        layer.params["b"][...] = rng.normal(size=layer.params["b"].shape)  # off L1's corner
    plain = gn.Sequential(
        [gn.Dense(5, activation="tanh"), gn.Dense(4, activation="gelu"), gn.Dense(3, "softmax")],
        dtype="float64",
    ).build((3,), rng=0)
    plain.set_weights(model.get_weights())
    loss = gn.CrossEntropy()
    value, _ = loss_and_gradients(model, X, y, loss)
    data, _ = loss_and_gradients(plain, X, y, loss)
    penalty = sum(
        r(layer.params[key]) for layer in model.layers for key, r in layer.regularizers.items()
    )
    assert value == pytest.approx(data + penalty, rel=1e-14) and penalty > 0.1
    for (name, p, g), (_, _, g_plain) in zip(model.slots(), plain.slots(), strict=True):
        layer, key = model.layers[int(name.split(".")[1])], name.split(".")[2]
        extra = np.zeros_like(p)
        if key in layer.regularizers:
            layer.regularizers[key].add_gradient(p, extra)
        np.testing.assert_allclose(g, g_plain + extra, rtol=1e-13, atol=1e-16)
    assert set(model.layers[2].regularizers) == {"W"}  # no bias regularizer on that layer
    assert add_penalties(plain) == 0.0


def test_gradcheck_passes_with_regularizers_on(rng):
    X, y = rng.normal(size=(10, 3)), rng.integers(0, 3, size=10)
    model = regularized_mlp()
    assert gn.gradcheck(model, X, y, loss="cross_entropy").max_error < 1e-7
    cnn = gn.Sequential(
        [
            gn.Conv2D(3, 3, activation="relu", kernel_regularizer=gn.L2(0.1)),
            gn.Conv2D(2, 2, kernel_regularizer=gn.L1(0.05), bias_regularizer=gn.L2(0.2)),
            gn.GlobalAveragePooling2D(),
            gn.Dense(1, kernel_regularizer="l2"),
        ]
    )
    Xi = rng.normal(size=(4, 1, 6, 6))
    result = gn.gradcheck(cnn, Xi, rng.normal(size=4), loss="mse")
    assert result.max_error < 1e-7, result


def test_explain_reports_the_same_loss_as_fit(rng):
    X, y = rng.normal(size=(3, 3)), rng.integers(0, 3, size=3)
    model = regularized_mlp().build((3,), rng=0)
    value, _ = loss_and_gradients(model, X, y, gn.CrossEntropy())
    assert gn.explain(model, X, y, loss="cross_entropy").loss == pytest.approx(value, rel=1e-14)


def test_regularizers_save_and_load_with_the_layer(tmp_path, rng):
    X, y = rng.normal(size=(12, 1, 5, 5)), rng.normal(size=12)
    model = gn.Sequential(
        [
            gn.Conv2D(2, 3, kernel_regularizer=gn.L1L2(l1=1e-3, l2=1e-4), bias_regularizer="l2"),
            gn.Flatten(),
            gn.Dense(1, kernel_regularizer=gn.L1(1e-3)),
        ]
    )
    model.fit(X, y, loss="mse", epochs=2, rng=0)
    assert model.layers[0].get_config()["kernel_regularizer"] == {
        "name": "l1_l2",
        "l1": 1e-3,
        "l2": 1e-4,
    }
    assert model.layers[0].get_config()["bias_regularizer"] == {"name": "l2", "l2": 0.01}
    assert "kernel_regularizer" not in gn.Dense(2).get_config()  # recorded only when set
    model.save(tmp_path / "m.safetensors")
    loaded = gn.load(tmp_path / "m.safetensors")
    assert loaded.layers[0].kernel_regularizer == gn.L1L2(l1=1e-3, l2=1e-4)
    assert loaded.layers[0].bias_regularizer == gn.L2(0.01)
    assert loaded.layers[2].kernel_regularizer == gn.L1(1e-3)
    assert loaded.layers[2].bias_regularizer is None
    Xc, yc = model.check_inputs(X), model.check_targets(y, model.loss_, 12)
    assert loss_and_gradients(loaded, Xc, yc, loaded.loss_)[0] == pytest.approx(
        loss_and_gradients(model, Xc, yc, model.loss_)[0], rel=1e-6
    )


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"name": "l2", "l2": "big"}, r"config.kernel_regularizer.l2 must be of JSON type number"),
        ({"name": "l3"}, "unknown kernel_regularizer 'l3'"),
        ({"name": "l2", "l2": -1}, "l2 must be >= 0.0, got -1.0"),
        ({"name": "l2", "l1": 0.1}, "unexpected keyword argument 'l1'"),
    ],
)
def test_a_bad_regularizer_in_a_model_file_is_a_model_file_error(tmp_path, spec, message):
    from test_serialization import read_document, rewrite

    model = gn.Sequential([gn.Dense(2, kernel_regularizer="l2")]).build((3,), rng=0)
    model.save(tmp_path / "m.safetensors")
    document = read_document(tmp_path / "m.safetensors")
    document["layers"][0]["config"]["kernel_regularizer"] = spec
    rewrite(tmp_path / "m.safetensors", tmp_path / "edited", document=document)
    with pytest.raises(gn.ModelFileError, match=message):
        gn.load(tmp_path / "edited")


def test_names_and_model_file_forms():
    assert get_regularizer("l1") == gn.L1(0.01) and get_regularizer("L2") == gn.L2(0.01)
    assert get_regularizer("l1_l2") == gn.L1L2(0.0, 0.0)  # Keras' L1L2 defaults
    assert get_regularizer({"name": "l2", "l2": 0.5}) == gn.L2(0.5)
    assert get_regularizer(None) is None
    l2 = gn.L2(1e-4)
    assert get_regularizer(l2) is l2 and repr(l2) == "L2(l2=0.0001)"
    assert gn.Dense(2, kernel_regularizer="l1").kernel_regularizer == gn.L1(0.01)
    assert gn.L1(0.1) != gn.L1L2(l1=0.1)  # the same penalty, but saved under another name


def test_bad_regularizers_are_one_line_errors_naming_the_parameter():
    with pytest.raises(
        ValueError, match=r"unknown kernel_regularizer 'l3'; valid names are: l1, l1_l2, l2"
    ):
        gn.Dense(2, kernel_regularizer="l3")
    with pytest.raises(ValueError, match=r"unknown bias_regularizer 'ridge'"):
        gn.Conv2D(2, 3, bias_regularizer="ridge")
    with pytest.raises(TypeError, match=r"kernel_regularizer must be None, a name .* got float"):
        gn.Dense(2, kernel_regularizer=0.01)
    with pytest.raises(ValueError, match=r"l2 must be >= 0.0, got -0.1"):
        gn.L2(-0.1)
    with pytest.raises(TypeError, match=r"l1 must be a number, got '0.1'"):
        gn.L1L2(l1="0.1")


def test_l2_tames_an_over_fitting_network(rng):
    """16 noisy points of sin(3x) and 4,353 parameters: without a penalty the network fits the
    noise; L2(1e-3) keeps its weights' squares 10 times smaller and is nearer the true curve."""
    x = np.linspace(-1, 1, 16).reshape(-1, 1)
    y = np.sin(3 * x) + rng.normal(scale=0.3, size=x.shape)
    x_new = np.linspace(-1, 1, 201).reshape(-1, 1)
    result = {}
    for name, penalty in [("plain", None), ("l2", gn.L2(1e-3))]:
        model = gn.Sequential(
            [
                gn.Dense(64, "tanh", kernel_regularizer=penalty),
                gn.Dense(64, "tanh", kernel_regularizer=penalty),
                gn.Dense(1, kernel_regularizer=penalty),
            ],
            dtype="float64",
        )
        model.fit(x, y, loss="mse", optimizer=gn.Adam(0.01), epochs=1500, batch_size=None, rng=0)
        squares = sum(float(np.sum(layer.params["W"] ** 2)) for layer in model.layers)
        result[name] = (model.evaluate(x_new, np.sin(3 * x_new))["loss"], squares)
    assert result["l2"][0] < 0.75 * result["plain"][0]  # measured 0.049 against 0.074
    assert result["l2"][1] < 0.1 * result["plain"][1]  # measured 21.5 against 262


# -- PyTorch as the oracle -------------------------------------------------------------------------


def test_penalised_gradients_match_pytorch(rng):
    torch = pytest.importorskip("torch")
    X, y = rng.normal(size=(8, 3)), rng.integers(0, 3, size=8)
    model = regularized_mlp().build((3,), rng=0)
    for layer in model.layers:
        layer.params["b"][...] = rng.normal(size=layer.params["b"].shape)
    value, _ = loss_and_gradients(model, X, y, gn.CrossEntropy())
    params = {name: torch.tensor(p, requires_grad=True) for name, p, _ in model.slots()}
    F = torch.nn.functional
    h = torch.tanh(torch.tensor(X) @ params["layers.0.W"] + params["layers.0.b"])
    h = F.gelu(h @ params["layers.1.W"] + params["layers.1.b"])
    logits = h @ params["layers.2.W"] + params["layers.2.b"]
    total = F.cross_entropy(logits, torch.tensor(y))
    total = total + 0.03 * (params["layers.0.W"] ** 2).sum()  # L2(0.03)
    total = total + 0.01 * params["layers.0.b"].abs().sum()  # "l1": L1(0.01)
    w1 = params["layers.1.W"]
    total = total + 0.02 * w1.abs().sum() + 0.01 * (w1**2).sum()  # L1L2(0.02, 0.01)
    total = total + 0.01 * params["layers.2.W"].abs().sum()
    total.backward()
    assert value == pytest.approx(total.item(), rel=1e-13)
    for name, _, g in model.slots():
        np.testing.assert_allclose(g, params[name].grad.numpy(), rtol=1e-12, atol=1e-15)
