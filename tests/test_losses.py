import numpy as np
import pytest

import glassnet as gn
from glassnet.glassbox.gradcheck import numeric_gradient, relative_error
from glassnet.nn.losses import LOSSES, get_loss


def test_seed_002_mse_example():
    # MSE([1, 0, 0, 1], [0, 0, 0, 0]) = (1 + 0 + 0 + 1) / 4 = 0.5
    assert gn.MeanSquaredError()(np.array([0, 0, 0, 0]), np.array([1, 0, 0, 1])) == 0.5


def test_sum_squared_error_sums_and_mse_averages():
    y_hat, y = np.array([[1.0], [3.0]]), np.array([[0.0], [0.0]])
    assert gn.SumSquaredError()(y_hat, y) == 10.0  # 1 + 9
    assert gn.MeanSquaredError()(y_hat, y) == 5.0  # (1 + 9) / 2


def test_seed_000_parkinson_loss_is_finite_from_logits():
    # output = sigmoid(100 * 0.5 - 0.2) = sigmoid(49.8): in float64 exactly 1.0, so the
    # tutorial's -log(1 - 1) is infinite. From the logit it is log(1 + e^49.8) = 49.8.
    z = np.array([[100 * 0.5 - 0.2]])
    loss, grad = gn.BinaryCrossEntropy().loss_from_logits(z, np.array([[0.0]]))
    assert loss == pytest.approx(49.8, abs=1e-12)
    assert grad[0, 0] == pytest.approx(1.0)  # sigmoid(49.8) - 0


def test_seed_000_gradient_descent_step():
    # w = 0.5 - 0.01 * (-10) = 0.6 ;  b = -0.2 - 0.01 * (-5) = -0.15
    model = gn.Sequential([gn.Dense(1, activation="sigmoid")], dtype="float64").build((1,))
    model.set_weights({"layers.0.W": [[0.5]], "layers.0.b": [-0.2]})
    W, b = model.layers[0].params["W"], model.layers[0].params["b"]
    model.layers[0].grads["W"][...] = -10.0
    model.layers[0].grads["b"][...] = -5.0
    gn.SGD(learning_rate=0.01).step(model.slots())
    assert W[0, 0] == pytest.approx(0.6, abs=1e-15)
    assert b[0] == pytest.approx(-0.15, abs=1e-15)


@pytest.mark.parametrize("name", ["bce", "cross_entropy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logits_of_plus_minus_1e4_give_finite_losses_and_gradients(name, dtype):
    loss = get_loss(name)
    if name == "bce":
        z = np.array([[1e4], [-1e4], [1e4], [-1e4]], dtype=dtype)
        y = np.array([[0.0], [1.0], [1.0], [0.0]], dtype=dtype)
    else:
        z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], dtype=dtype)
        y = np.array([1, 0])
    value, grad = loss.loss_from_logits(z, y)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    # bce: rows 1 and 2 are wrong by 1e4, rows 3 and 4 right (loss 0): (1e4 + 1e4) / 4
    # cross-entropy: each row puts its label 2e4 below the winner: -log p = 2e4
    assert value == pytest.approx(5e3 if name == "bce" else 2e4, rel=1e-6)
    assert grad.dtype == dtype


def test_probability_forms_are_clipped_not_infinite():
    assert np.isfinite(gn.BinaryCrossEntropy()(np.array([[1.0]]), np.array([[0.0]])))
    assert np.isfinite(gn.CrossEntropy()(np.array([[1.0, 0.0]]), np.array([1])))


@pytest.mark.parametrize("weighted", [False, True])
def test_loss_gradients_match_finite_differences(rng, weighted):
    w = rng.uniform(0.5, 2, size=5) if weighted else None
    y_reg = rng.normal(size=(5, 3))
    y_bin = rng.integers(0, 2, size=(5, 1)).astype(float)
    y_cls = rng.integers(0, 4, size=5)
    cases = [
        (gn.MeanSquaredError(), rng.normal(size=(5, 3)), y_reg),
        (gn.SumSquaredError(), rng.normal(size=(5, 3)), y_reg),
        (gn.BinaryCrossEntropy(), rng.uniform(0.1, 0.9, size=(5, 1)), y_bin),
        (gn.CrossEntropy(), rng.dirichlet(np.ones(4), size=5), y_cls),
    ]
    for loss, y_hat, y in cases:
        loss.forward(y_hat, y, w)
        analytic = loss.backward()
        numeric = numeric_gradient(
            lambda loss=loss, y_hat=y_hat, y=y: loss.forward(y_hat, y, w), y_hat
        )
        assert relative_error(analytic, numeric) < 1e-6, loss.name


@pytest.mark.parametrize("weighted", [False, True])
def test_fused_gradient_is_p_minus_y_over_n_and_matches_finite_differences(rng, weighted):
    w = rng.uniform(0.5, 2, size=6) if weighted else None
    z = rng.normal(size=(6, 1))
    y = rng.integers(0, 2, size=(6, 1)).astype(float)
    value, grad = gn.BinaryCrossEntropy().loss_from_logits(z, y, w)
    p = 1 / (1 + np.exp(-z))
    expected = (p - y) / 6 * (1 if w is None else w[:, None])
    assert np.allclose(grad, expected, rtol=1e-12)
    # and the loss agrees with the probability form
    assert value == pytest.approx(gn.BinaryCrossEntropy().forward(p, y, w), rel=1e-9)
    numeric = numeric_gradient(lambda: gn.BinaryCrossEntropy().loss_from_logits(z, y, w)[0], z)
    assert relative_error(grad, numeric) < 1e-6

    z = rng.normal(size=(6, 4))
    labels = rng.integers(0, 4, size=6)
    value, grad = gn.CrossEntropy().loss_from_logits(z, labels, w)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    onehot = np.eye(4)[labels]
    expected = (p - onehot) / 6 * (1 if w is None else w[:, None])
    assert np.allclose(grad, expected, rtol=1e-12)
    assert value == pytest.approx(gn.CrossEntropy().forward(p, labels, w), rel=1e-9)
    numeric = numeric_gradient(lambda: gn.CrossEntropy().loss_from_logits(z, labels, w)[0], z)
    assert relative_error(grad, numeric) < 1e-6


def test_cross_entropy_accepts_one_hot_and_checks_labels():
    ce = gn.CrossEntropy()
    assert np.array_equal(ce.prepare_targets(np.eye(3)[[2, 0]], 3, np.float32), [2, 0])
    with pytest.raises(ValueError, match="class label 3 does not fit a network with 3 outputs"):
        ce.prepare_targets(np.array([0, 3]), 3, np.float32)
    with pytest.raises(ValueError, match="one-hot y must have exactly one 1 per row"):
        ce.prepare_targets(np.array([[1, 1, 0]]), 3, np.float32)
    with pytest.raises(ValueError, match="integer class labels"):
        ce.prepare_targets(np.array([0.5, 1.0]), 3, np.float32)


def test_bce_needs_zero_one_labels():
    with pytest.raises(
        ValueError, match=r"binary cross-entropy needs labels 0 or 1, got array\(\[2"
    ):
        gn.BinaryCrossEntropy().prepare_targets(np.array([0, 2]), 1, np.float32)


def test_names_and_aliases():
    assert set(LOSSES) == {"mse", "sse", "bce", "cross_entropy"}
    assert isinstance(get_loss("categorical_crossentropy"), gn.CrossEntropy)
    with pytest.raises(
        ValueError, match="unknown loss 'hinge'; valid names are: bce, cross_entropy, mse, sse"
    ):
        get_loss("hinge")
    with pytest.raises(TypeError, match="loss must be a name or a Loss"):
        get_loss(3)
