"""BatchNormalization and LayerNormalization: a step worked by hand, gradient checks against
central differences, PyTorch as the oracle, running statistics as buffers (saved, loaded,
converted, never trained), and the errors."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import glassnet as gn
from glassnet import fast
from glassnet.errors import InputValueError
from glassnet.io.model_file import model_document, read_document, write_model
from glassnet.training.trainer import loss_and_gradients


def built(layer, shape, dtype="float64"):
    layer.build(shape, np.random.default_rng(0), np.dtype(dtype))
    return layer


# -- one step by hand ----------------------------------------------------------------------------
def test_a_batch_normalization_step_worked_by_hand():
    """2 features, 3 samples; epsilon 0.25 and momentum 0.9 make the arithmetic short."""
    bn = built(gn.BatchNormalization(momentum=0.9, epsilon=0.25), (2,))
    bn.params["gamma"][...] = [2.0, 0.5]
    bn.params["beta"][...] = [1.0, -1.0]
    x = np.array([[0.0, 1.0], [3.0, 1.0], [6.0, 4.0]])
    a = bn.forward(x, training=True)
    # feature 0: mu = (0 + 3 + 6)/3 = 3, var = (9 + 0 + 9)/3 = 6, sqrt(6 + 0.25) = 2.5
    # feature 1: mu = (1 + 1 + 4)/3 = 2, var = (1 + 1 + 4)/3 = 2, sqrt(2 + 0.25) = 1.5
    np.testing.assert_array_equal(bn.mu.ravel(), [3.0, 2.0])
    np.testing.assert_array_equal(bn.var.ravel(), [6.0, 2.0])
    # x_hat[:, 0] = [-3, 0, 3] / 2.5 = [-1.2, 0, 1.2];  x_hat[:, 1] = [-1, -1, 2] / 1.5
    np.testing.assert_allclose(bn.x_hat, [[-1.2, -2 / 3], [0, -2 / 3], [1.2, 4 / 3]], rtol=1e-15)
    # a = gamma * x_hat + beta: [2*-1.2 + 1, 2*0 + 1, 2*1.2 + 1] = [-1.4, 1, 3.4]
    #                           [0.5*-2/3 - 1, 0.5*-2/3 - 1, 0.5*4/3 - 1] = [-4/3, -4/3, -1/3]
    np.testing.assert_allclose(a, [[-1.4, -4 / 3], [1.0, -4 / 3], [3.4, -1 / 3]], rtol=1e-15)
    # moving_mean = 0.9 * 0 + 0.1 * [3, 2] = [0.3, 0.2]
    # moving_variance = 0.9 * 1 + 0.1 * [6, 2] = [1.5, 1.1]   (the biased variance, as Keras)
    np.testing.assert_allclose(bn.buffers["moving_mean"], [0.3, 0.2], rtol=1e-15)
    np.testing.assert_allclose(bn.buffers["moving_variance"], [1.5, 1.1], rtol=1e-15)

    dy = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 3.0]])
    dx = bn.backward(dy)
    # dL/dbeta = sum(dy) = [1, 3];  dL/dgamma = sum(dy * x_hat) = [1*-1.2, 3*4/3] = [-1.2, 4]
    np.testing.assert_allclose(bn.grads["beta"], [1.0, 3.0], rtol=1e-15)
    np.testing.assert_allclose(bn.grads["gamma"], [-1.2, 4.0], rtol=1e-15)
    # dx_hat = dy * gamma = [[2, 0], [0, 0], [0, 1.5]]
    # feature 0: inv_std = 0.4, sum(dx_hat) = 2, sum(dx_hat * x_hat) = 2 * -1.2 = -2.4
    #   dx = 0.4/3 * (3*[2, 0, 0] - 2 - [-1.2, 0, 1.2] * -2.4)
    #      = 0.4/3 * [6 - 2 - 2.88, -2, -2 + 2.88] = 0.4/3 * [1.12, -2, 0.88]
    # feature 1: inv_std = 2/3, sum(dx_hat) = 1.5, sum(dx_hat * x_hat) = 1.5 * 4/3 = 2
    #   dx = (2/3)/3 * (3*[0, 0, 1.5] - 1.5 - [-2/3, -2/3, 4/3] * 2)
    #      = 2/9 * [-1.5 + 4/3, -1.5 + 4/3, 4.5 - 1.5 - 8/3] = 2/9 * [-1/6, -1/6, 1/3]
    #      = [-1/27, -1/27, 2/27]
    expected = np.array(
        [[0.4 / 3 * 1.12, -1 / 27], [0.4 / 3 * -2, -1 / 27], [0.4 / 3 * 0.88, 2 / 27]]
    )
    np.testing.assert_allclose(dx, expected, rtol=1e-13)

    # prediction: the running statistics, x_hat = (x - 0.3) / sqrt(1.5 + 0.25) for feature 0
    a = bn.forward(np.array([[0.3, 1.2]]), training=False)
    # feature 0: (0.3 - 0.3)/... = 0 -> a = beta = 1;  feature 1: (1.2 - 0.2)/sqrt(1.35)
    np.testing.assert_allclose(a, [[1.0, 0.5 * 1.0 / np.sqrt(1.35) - 1.0]], rtol=1e-15)
    np.testing.assert_allclose(bn.buffers["moving_mean"], [0.3, 0.2], rtol=1e-15)  # unchanged


def test_layer_normalization_worked_by_hand():
    ln = built(gn.LayerNormalization(epsilon=0.25), (3,))
    a = ln.forward(np.array([[0.0, 3.0, 6.0], [1.0, 1.0, 4.0]]))
    # sample 0: mu = 3, var = 6, sqrt(6.25) = 2.5 -> [-1.2, 0, 1.2]
    # sample 1: mu = 2, var = 2, sqrt(2.25) = 1.5 -> [-2/3, -2/3, 4/3]
    np.testing.assert_allclose(a, [[-1.2, 0.0, 1.2], [-2 / 3, -2 / 3, 4 / 3]], rtol=1e-15)
    assert ln.buffers == {} and set(ln.params) == {"gamma", "beta"}


# -- gradient checks against central differences ------------------------------------------------
def dense_bn(**bn):
    return gn.Sequential(
        [
            gn.Dense(5, use_bias=False),
            gn.BatchNormalization(**bn),
            gn.ReLU(),
            gn.Dense(3, activation="softmax"),
        ]
    )


def conv_bn(norm):
    return gn.Sequential(
        [
            gn.Conv2D(3, 3, padding="same", use_bias=False),
            norm,
            gn.ReLU(),
            gn.MaxPool2D(2),
            gn.Flatten(),
            gn.Dense(3, activation="softmax"),
        ]
    )


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(
    "config", [{}, {"center": False}, {"scale": False}, {"momentum": 0.5, "epsilon": 0.1}]
)
def test_gradcheck_dense_batchnorm_relu_dense(training, config, rng):
    X, y = rng.normal(size=(7, 4)), rng.integers(0, 3, size=7)
    model = dense_bn(**config)
    if not training:  # running statistics away from 0 and 1
        model.fit(X, y, loss="cross_entropy", epochs=3, batch_size=4, rng=0)
    result = gn.gradcheck(model, X, y, loss="cross_entropy", training=training)
    assert result.max_error < 1e-7, str(result)
    assert {"layers.1.gamma", "layers.1.beta"} & set(result.per_param) == {
        k for k, on in (("layers.1.gamma", config.get("scale", True)),) if on
    } | {k for k, on in (("layers.1.beta", config.get("center", True)),) if on}


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(
    "norm",
    [
        gn.BatchNormalization(),
        gn.BatchNormalization(axis=-1),  # along the width: a statistic per column
        gn.LayerNormalization(),  # over (C, H, W)
        gn.LayerNormalization(axis=1),  # over the channels, per pixel
        gn.LayerNormalization(axis=[-2, -1]),
    ],
)
def test_gradcheck_conv_norm_relu_pool_dense(training, norm, rng):
    X, y = rng.normal(size=(4, 2, 6, 6)), np.array([0, 1, 2, 1])
    model = conv_bn(copy.deepcopy(norm))
    result = gn.gradcheck(model, X, y, loss="cross_entropy", training=training)
    assert result.max_error < 1e-7, str(result)


def test_layer_normalization_gradcheck_in_a_dense_network(rng):
    X, y = rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    model = gn.Sequential([gn.Dense(6), gn.LayerNormalization(), gn.Tanh(), gn.Dense(2)])
    result = gn.gradcheck(model, X, y, loss="mse")
    assert result.max_error < 1e-7, str(result)
    one = gn.gradcheck(model, X[:1], y[:1], loss="mse")  # one sample is enough for LayerNorm
    assert one.max_error < 1e-7, str(one)


def test_a_bias_before_batch_normalization_has_a_zero_gradient_and_gradcheck_says_they_agree(rng):
    """The mean subtraction cancels the bias exactly: backward gives rounding noise (~1e-17)
    and central differences 0; their relative error would be 1, but both are below what
    central differences resolve, so the check reports agreement (0), not a failure."""
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 3, size=6)
    model = gn.Sequential([gn.Dense(4), gn.BatchNormalization(), gn.Dense(3, activation="softmax")])
    result = gn.gradcheck(model, X, y, loss="cross_entropy")
    assert np.linalg.norm(result.analytic["layers.0.b"]) < 1e-15
    assert result.per_param["layers.0.b"] == 0.0
    assert result.max_error < 1e-7, str(result)


def test_a_wrong_batchnorm_backward_is_caught(rng, monkeypatch):
    """Dropping the path through the batch statistics (the inference-mode formula in training
    mode) is a classic mistake: the check in fit's mode catches it."""
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 3, size=6)
    model = dense_bn()
    forward = gn.BatchNormalization.forward

    def through_nothing(self, x, training=False):
        out = forward(self, x, training)
        self.through_stats = False
        return out

    monkeypatch.setattr(gn.BatchNormalization, "forward", through_nothing)
    assert gn.gradcheck(model, X, y, loss="cross_entropy").per_param["layers.0.W"] > 1e-2


# -- PyTorch as the oracle -------------------------------------------------------------------------
def torch_bn(torch, features, ndim, gamma, beta):
    cls = torch.nn.BatchNorm1d if ndim == 2 else torch.nn.BatchNorm2d
    bn = cls(features, eps=1e-3, momentum=0.01, dtype=torch.float64)  # 0.01 = 1 - 0.99
    with torch.no_grad():
        bn.weight[...] = torch.from_numpy(gamma)
        bn.bias[...] = torch.from_numpy(beta)
    return bn


@pytest.mark.parametrize("shape", [(8, 5), (4, 3, 5, 6)])
def test_batchnorm_matches_pytorch_forward_gradients_and_running_statistics(shape, rng):
    torch = pytest.importorskip("torch")
    features = shape[1]
    bn = built(gn.BatchNormalization(), shape[1:])
    bn.params["gamma"][...] = rng.uniform(0.5, 2, features)
    bn.params["beta"][...] = rng.normal(size=features)
    ref = torch_bn(torch, features, len(shape), bn.params["gamma"], bn.params["beta"])
    steps, n = 5, shape[0] * int(np.prod(shape[2:]))  # n: numbers per statistic
    for _ in range(steps):
        x = rng.normal(2.0, 3.0, size=shape)
        dy = rng.normal(size=shape)
        a = bn.forward(x, training=True)
        dx = bn.backward(dy)
        xt = torch.from_numpy(x).requires_grad_()
        ref.weight.grad = ref.bias.grad = None
        at = ref.train()(xt)
        at.backward(torch.from_numpy(dy))
        np.testing.assert_allclose(a, at.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(bn.grads["gamma"], ref.weight.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(bn.grads["beta"], ref.bias.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(bn.buffers["moving_mean"], ref.running_mean.numpy(), rtol=1e-12)
    # PyTorch averages the unbiased batch variance v * n/(n-1), Keras (and glassnet) the
    # biased v. Both start at 1 and the update is linear, so after k steps with m = 0.99:
    #   ours  = m**k + (1-m) * sum_j m**(k-j) * v_j
    #   torch = m**k + (1-m) * sum_j m**(k-j) * v_j * n/(n-1)
    # hence ours = m**k + (torch - m**k) * (n-1)/n.
    start = 0.99**steps
    expected = start + (ref.running_var.numpy() - start) * (n - 1) / n
    np.testing.assert_allclose(bn.buffers["moving_variance"], expected, rtol=1e-12)
    # prediction mode: both use the running statistics (PyTorch's, for its own)
    x = rng.normal(size=shape)
    bn.buffers["moving_variance"][...] = ref.running_var.numpy()
    with torch.no_grad():
        np.testing.assert_allclose(
            bn.forward(x), ref.eval()(torch.from_numpy(x)).numpy(), rtol=1e-10, atol=1e-12
        )


def test_a_network_with_batchnorm_trains_as_in_pytorch(rng):
    """Dense -> BN -> ReLU -> Dense, five full-batch SGD steps on the MSE: the same weights
    and running mean as PyTorch (the variance as the previous test converts it)."""
    torch = pytest.importorskip("torch")
    X, y = rng.normal(size=(10, 3)), rng.normal(size=(10, 1))
    model = gn.Sequential(
        [gn.Dense(4, use_bias=False), gn.BatchNormalization(), gn.ReLU(), gn.Dense(1)],
        dtype="float64",
    ).build((3,), rng=0)
    W0, W3, b3 = (model.layers[i].params[k] for i, k in ((0, "W"), (3, "W"), (3, "b")))
    ref = torch.nn.Sequential(
        torch.nn.Linear(3, 4, bias=False, dtype=torch.float64),
        torch.nn.BatchNorm1d(4, eps=1e-3, momentum=0.01, dtype=torch.float64),
        torch.nn.ReLU(),
        torch.nn.Linear(4, 1, dtype=torch.float64),
    )
    with torch.no_grad():
        ref[0].weight[...] = torch.from_numpy(W0.T)  # torch keeps (n_out, n_in)
        ref[3].weight[...] = torch.from_numpy(W3.T)
        ref[3].bias[...] = torch.from_numpy(b3)
    model.fit(X, y, loss="mse", optimizer=gn.SGD(learning_rate=0.1), epochs=5, batch_size=None)
    sgd = torch.optim.SGD(ref.parameters(), lr=0.1)
    for _ in range(5):
        sgd.zero_grad()
        torch.nn.functional.mse_loss(ref(torch.from_numpy(X)), torch.from_numpy(y)).backward()
        sgd.step()
    bn = model.layers[1]
    W0, W3 = model.layers[0].params["W"], model.layers[3].params["W"]  # fit packed them anew
    np.testing.assert_allclose(W0, ref[0].weight.detach().numpy().T, rtol=1e-10)
    np.testing.assert_allclose(W3, ref[3].weight.detach().numpy().T, rtol=1e-10)
    np.testing.assert_allclose(bn.params["gamma"], ref[1].weight.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(bn.buffers["moving_mean"], ref[1].running_mean.numpy(), rtol=1e-10)
    start = 0.99**5
    expected = start + (ref[1].running_var.numpy() - start) * 9 / 10
    np.testing.assert_allclose(bn.buffers["moving_variance"], expected, rtol=1e-10)


@pytest.mark.parametrize("shape", [(6, 5), (3, 2, 4, 5)])
def test_layernorm_matches_pytorch(shape, rng):
    torch = pytest.importorskip("torch")
    ln = built(gn.LayerNormalization(), shape[1:])
    ln.params["gamma"][...] = rng.uniform(0.5, 2, shape[1:])
    ln.params["beta"][...] = rng.normal(size=shape[1:])
    ref = torch.nn.LayerNorm(shape[1:], eps=1e-3, dtype=torch.float64)
    with torch.no_grad():
        ref.weight[...] = torch.from_numpy(ln.params["gamma"])
        ref.bias[...] = torch.from_numpy(ln.params["beta"])
    x, dy = rng.normal(1.0, 2.0, size=shape), rng.normal(size=shape)
    a, dx = ln.forward(x, training=True), ln.backward(dy)
    xt = torch.from_numpy(x).requires_grad_()
    at = ref(xt)
    at.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(a, at.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ln.grads["gamma"], ref.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ln.grads["beta"], ref.bias.grad.numpy(), rtol=1e-10)


# -- training and prediction modes; buffers are not parameters ------------------------------------
def test_fit_uses_batch_statistics_and_predict_the_running_ones(rng):
    X, y = rng.normal(3.0, 2.0, size=(64, 4)), rng.integers(0, 3, size=64)
    model = dense_bn()
    model.fit(X, y, loss="cross_entropy", epochs=2, batch_size=16, rng=0)
    bn = model.layers[1]
    assert [name for name, _ in model.buffers()] == [
        "layers.1.moving_mean",
        "layers.1.moving_variance",
    ]
    assert not any(name in model.optimizer_.state for name, _ in model.buffers())
    assert all("moving" not in name for name, _, _ in model.slots())
    before = {k: v.copy() for k, v in bn.buffers.items()}
    z = X @ model.layers[0].params["W"]
    mean, var = before["moving_mean"], before["moving_variance"]
    expected = (z - mean) / np.sqrt(var + 1e-3) * bn.params["gamma"] + bn.params["beta"]
    model.forward(X)  # at prediction time (predict's numbers: tests/test_fast_predict.py)
    np.testing.assert_allclose(bn.a, expected, rtol=1e-5, atol=1e-5)
    model.predict(X)
    model.evaluate(X, y)
    for key, value in bn.buffers.items():  # prediction and evaluation leave them alone
        np.testing.assert_array_equal(value, before[key])
    model.forward(X[:8], training=True)
    assert not np.array_equal(bn.buffers["moving_mean"], before["moving_mean"])


def test_buffers_follow_astype_copies_and_pickles(rng):
    model = dense_bn().build((4,), rng=0)
    model.forward(rng.normal(size=(8, 4)).astype(np.float32), training=True)
    m64 = model.astype("float64")
    for (name, b), (_, b64) in zip(model.buffers(), m64.buffers(), strict=True):
        assert b64.dtype == np.float64 and b.dtype == np.float32, name
        np.testing.assert_array_equal(b64, b.astype(np.float64))
    clone = pickle.loads(pickle.dumps(model))
    assert not hasattr(clone.layers[1], "x_hat")  # the caches are left behind
    for (_, b), (_, c) in zip(model.buffers(), clone.buffers(), strict=True):
        np.testing.assert_array_equal(b, c)
    weights = model.get_weights()
    assert "layers.1.moving_variance" in weights
    weights["layers.1.moving_variance"] = np.full(5, 4.0)
    model.set_weights(weights)
    np.testing.assert_array_equal(model.layers[1].buffers["moving_variance"], 4.0)


def test_summary_shows_the_layers_and_the_running_statistics():
    text = gn.Sequential(
        [gn.Conv2D(4, 3, use_bias=False), gn.BatchNormalization(), gn.Flatten(), gn.Dense(2)],
        input_shape=(1, 5, 5),
    ).format_summary()
    assert "1: BatchNormalization  (None, 4, 3, 3)       8" in text  # gamma and beta
    assert "non-trainable values (running statistics): 8" in text
    plain = gn.Sequential([gn.LayerNormalization(axis=-1), gn.Dense(1)], input_shape=(3,))
    assert "0: LayerNormalization(axis -1)" in plain.format_summary()
    assert "non-trainable" not in plain.format_summary()


# -- the fast path ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "layers",
    [
        # BN -> ReLU -> MaxPool2D: the ReLU+pool fusion applies, its gradient reaches BN
        [gn.Conv2D(3, 3, use_bias=False), gn.BatchNormalization(), gn.ReLU(), gn.MaxPool2D(2)],
        # a ReLU conv, then BN, then the pool: no fusion across BN
        [gn.Conv2D(3, 3, activation="relu"), gn.BatchNormalization(), gn.MaxPool2D(2)],
    ],
)
def test_the_fast_path_trains_exactly_as_the_reference(layers, rng):
    X, y = rng.normal(size=(12, 1, 8, 8)), rng.integers(0, 3, size=12)

    def trained(reference):
        model = gn.Sequential(
            [*copy.deepcopy(layers), gn.Flatten(), gn.Dense(3, activation="softmax")]
        )
        if reference:
            with fast.reference_only():
                model.fit(X, y, loss="cross_entropy", epochs=2, batch_size=4, rng=0)
        else:
            model.fit(X, y, loss="cross_entropy", epochs=2, batch_size=4, rng=0)
        return model

    ref, fst = trained(True), trained(False)
    fused = [type(s.__self__).__name__ for _, s in fst.backward_plan.steps]
    assert ("ReluMaxPool" in fused) == (type(layers[2]) is gn.ReLU)
    for (name, a), (_, b) in zip(ref.named_weights(), fst.named_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=name)


def test_gradients_through_batchnorm_are_the_same_on_both_paths(rng):
    model = conv_bn(gn.BatchNormalization())
    model.dtype = np.dtype(np.float64)
    model.build((2, 6, 6), rng=0)
    X, y = rng.normal(size=(4, 2, 6, 6)), np.array([0, 1, 2, 1])
    state = copy.deepcopy(model)
    with fast.reference_only():
        loss_and_gradients(model, X, y, gn.CrossEntropy())
    ref = {name: g.copy() for name, _, g in model.slots()}
    fast.prepare(state)
    loss_and_gradients(state, X, y, gn.CrossEntropy())
    assert any(type(s.__self__).__name__ == "ReluMaxPool" for _, s in state.backward_plan.steps)
    for name, _, g in state.slots():  # the fast Conv2D sums dL/dW in another order
        np.testing.assert_allclose(g, ref[name], rtol=1e-12, atol=1e-14, err_msg=name)


# -- the ledger ------------------------------------------------------------------------------------
def test_explain_shows_the_statistics_x_hat_and_their_gradients():
    X = np.array([[0.0, 1.0], [3.0, 1.0], [6.0, 4.0]])
    model = gn.Sequential([gn.BatchNormalization(epsilon=0.25), gn.Dense(1)], dtype="float64")
    model.build((2,), rng=0)
    text = str(gn.explain(model, X, np.zeros((3, 1)), loss="mse"))
    assert "μ[0] = mean of x over the batch = [3., 2.]" in text
    assert "σ²[0] = mean of (x − μ[0])² over the batch = [6., 2.]" in text
    assert "x̂[0] = (x − μ[0]) / √(σ²[0] + ε) = [[-1.2   , -0.6667]," in text
    assert "a[0] = γ[0] · x̂[0] + β[0] = [[-1.2   , -0.6667]," in text
    assert "∂L/∂x̂[0] = ∂L/∂a[0] · γ[0] = " in text and "∂L/∂gamma[0] = " in text
    inference = str(gn.explain(model, X, np.zeros((3, 1)), loss="mse", training=False))
    assert "μ[0] = moving_mean[0] = [0., 0.]" in inference
    assert "σ²[0] = moving_variance[0] = [1., 1.]" in inference
    image = gn.Sequential([gn.Conv2D(2, 3, use_bias=False), gn.BatchNormalization(), gn.Flatten()])
    image.add(gn.Dense(1))
    ledger = str(gn.explain(image, np.ones((2, 1, 4, 4)), np.zeros((2, 1)), loss="mse"))
    assert "μ[1] = mean of a[0] over the batch, height and width = " in ledger


# -- the model file --------------------------------------------------------------------------------
def trained_cnn(rng, X, y):
    model = gn.Sequential(
        [
            gn.Conv2D(3, 3, use_bias=False),
            gn.BatchNormalization(momentum=0.9),
            gn.ReLU(),
            gn.Flatten(),
            gn.Dense(4, use_bias=False),
            gn.LayerNormalization(),
            gn.Dense(2, activation="softmax"),
        ]
    )
    model.fit(X, y, loss="cross_entropy", epochs=2, batch_size=5, rng=0)
    return model


def test_saved_and_loaded_back_predictions_and_training_continue_identically(rng, tmp_path):
    X, y = rng.normal(size=(20, 1, 5, 5)), rng.integers(0, 2, size=20)
    model = trained_cnn(rng, X, y)
    model.save(tmp_path / "bn.safetensors")
    loaded = gn.load(tmp_path / "bn.safetensors")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    for (name, a), (_, b) in zip(model.buffers(), loaded.buffers(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)
    for m in (model, loaded):
        m.fit(X, y, epochs=2, batch_size=5, rng=1)
    for (name, a), (_, b) in zip(model.named_weights(), loaded.named_weights(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)


def resealed(path, out, change):
    """The model file at ``path`` with ``change(tensors)`` applied, checksums made anew."""
    from safetensors.numpy import load_file

    model = gn.load(path)
    tensors = {k: np.array(v) for k, v in load_file(str(path)).items()}
    change(tensors)
    write_model(out, model_document(model), tensors)
    return out


def test_tampered_or_inconsistent_buffers_are_refused(rng, tmp_path):
    X, y = rng.normal(size=(20, 1, 5, 5)), rng.integers(0, 2, size=20)
    path = tmp_path / "bn.safetensors"
    trained_cnn(rng, X, y).save(path)
    # a flipped bit in the running variance fails its checksum, as a parameter's would
    data = bytearray(path.read_bytes())
    target = np.float32(trained_model_variance(path)).tobytes()
    at = bytes(data).index(target)
    data[at] ^= 0x01
    flipped = tmp_path / "flipped.safetensors"
    flipped.write_bytes(bytes(data))
    with pytest.raises(
        gn.ModelFileError, match="layers.1.moving_variance.*does not match its checksum"
    ):
        gn.load(flipped)

    def negative(t):
        t["layers.1.moving_variance"][0] = -1.0

    with pytest.raises(
        gn.ModelFileError, match="'layers.1.moving_variance' holds a negative variance"
    ):
        gn.load(resealed(path, tmp_path / "neg.safetensors", negative))
    with pytest.raises(
        gn.ModelFileError,
        match=r"needs a tensor 'layers.1.moving_mean' of shape \(3,\), which the file does not",
    ):
        gn.load(
            resealed(path, tmp_path / "miss.safetensors", lambda t: t.pop("layers.1.moving_mean"))
        )

    def wrong_shape(t):
        t["layers.1.moving_mean"] = np.zeros(4, np.float32)

    with pytest.raises(gn.ModelFileError, match="declares tensor 'layers.1.moving_mean' of shape"):
        gn.load(resealed(path, tmp_path / "shape.safetensors", wrong_shape))


def trained_model_variance(path):
    return gn.load(path).layers[1].buffers["moving_variance"][0]


def test_the_document_schema_checks_the_configs(rng, tmp_path):
    model = gn.Sequential([gn.BatchNormalization(), gn.Dense(1)]).build((3,), rng=0)
    document = model_document(model)
    assert document["layers"][0]["config"] == {
        "axis": None, "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True
    }  # fmt: skip
    import json

    from glassnet.io import integrity

    def metadata(doc):
        return integrity.sealed_metadata(doc, {})

    document["layers"][0]["config"]["momentum"] = 1.0
    with pytest.raises(gn.ModelFileError, match=r"\$.layers\[0\].config.momentum = 1.0 breaks"):
        read_document(metadata(document), "'f'")
    document["layers"][0]["config"] = {"axis": [1], "epsilon": 0.0}
    document["layers"][0]["class"] = "LayerNormalization"
    with pytest.raises(gn.ModelFileError, match=r"config.epsilon = 0.0 breaks the rule"):
        read_document(metadata(document), "'f'")
    assert json.dumps(gn.LayerNormalization(axis=(1, 2)).get_config())


# -- errors ----------------------------------------------------------------------------------------
def test_bad_arguments_are_one_line_errors_naming_the_parameter():
    with pytest.raises(InputValueError, match=r"momentum must be < 1.0, got 1.5"):
        gn.BatchNormalization(momentum=1.5)
    with pytest.raises(ValueError, match=r"momentum must be >= 0.0, got -0.1"):
        gn.BatchNormalization(momentum=-0.1)
    with pytest.raises(ValueError, match=r"epsilon must be > 0.0, got 0"):
        gn.LayerNormalization(epsilon=0)
    with pytest.raises(TypeError, match=r"center must be True or False, got 'yes'"):
        gn.BatchNormalization(center="yes")
    with pytest.raises(TypeError, match=r"axis must be an integer"):
        gn.BatchNormalization(axis=1.0)
    with pytest.raises(TypeError, match=r"axis must be an int, a list of ints or None, got 'x'"):
        gn.LayerNormalization(axis="x")
    with pytest.raises(
        ValueError,
        match=r"axis must be an axis of the samples, 1 to 1 \(or -1 to -1\), "
        r"for inputs of shape \(None, 3\), got 0",
    ):
        gn.Sequential([gn.BatchNormalization(axis=0)]).build((3,))
    with pytest.raises(ValueError, match=r"axis must be an axis of the samples, 1 to 3 .* got 4"):
        gn.Sequential([gn.LayerNormalization(axis=[1, 4])]).build((2, 3, 3))


def test_early_stopping_restores_the_running_statistics_of_the_best_epoch(rng):
    X, y = rng.normal(size=(40, 4)), rng.integers(0, 3, size=40)
    X_val, y_val = rng.normal(size=(20, 4)), rng.integers(0, 3, size=20)
    kept = {}

    class Keep(gn.Callback):
        def on_epoch_end(self, epoch, logs=None):
            kept[epoch] = self.model.get_weights()

    stop = gn.EarlyStopping(patience=2, restore_best_weights=True)
    model = dense_bn()
    model.fit(X, y, loss="cross_entropy", epochs=30, batch_size=8, rng=0,
              validation_data=(X_val, y_val), callbacks=[Keep(), stop])  # fmt: skip
    assert stop.best_epoch < max(kept)  # it did go back
    for name, value in model.get_weights().items():
        np.testing.assert_array_equal(value, kept[stop.best_epoch][name], err_msg=name)


def test_a_diverged_fit_puts_back_the_running_statistics_with_the_weights(rng):
    X, y = rng.normal(size=(64, 3)), rng.normal(size=(64, 1)) * 1e3
    model = gn.Sequential(
        [gn.Dense(8, use_bias=False), gn.BatchNormalization(), gn.ReLU(), gn.Dense(1)]
    ).build((3,), rng=0)
    before = model.get_weights()
    with pytest.raises(gn.TrainingDivergedError, match="training diverged"):
        model.fit(X, y, loss="mse", optimizer=gn.SGD(learning_rate=1e6), epochs=5, rng=0)
    for name, value in model.get_weights().items():  # moving_mean, moving_variance included
        np.testing.assert_array_equal(value, before[name], err_msg=name)
