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
        (gn.MeanAbsoluteError(), rng.normal(size=(5, 3)), y_reg),
        (gn.Huber(), 2 * rng.normal(size=(5, 3)), y_reg),  # both sides of delta = 1
        (gn.Huber(delta=0.3), rng.normal(size=(5, 3)), y_reg),
        (gn.BinaryCrossEntropy(label_smoothing=0.1), rng.uniform(0.1, 0.9, (5, 1)), y_bin),
        (gn.CrossEntropy(label_smoothing=0.2), rng.dirichlet(np.ones(4), size=5), y_cls),
        (
            gn.BinaryCrossEntropy(from_logits=True, label_smoothing=0.1),
            rng.normal(size=(5, 1)),
            y_bin,
        ),
        (gn.CrossEntropy(from_logits=True, label_smoothing=0.2), rng.normal(size=(5, 4)), y_cls),
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
    assert set(LOSSES) == {"mse", "sse", "mae", "huber", "bce", "cross_entropy"}
    assert isinstance(get_loss("mean_absolute_error"), gn.MeanAbsoluteError)
    assert isinstance(get_loss("huber_loss"), gn.Huber)
    assert isinstance(get_loss("categorical_crossentropy"), gn.CrossEntropy)
    with pytest.raises(
        ValueError,
        match="unknown loss 'hinge'; valid names are: bce, cross_entropy, huber, mae, mse, sse",
    ):
        get_loss("hinge")
    with pytest.raises(TypeError, match="loss must be a name or a Loss"):
        get_loss(3)


# -- MeanAbsoluteError, Huber, label smoothing ---------------------------------------------------


def test_mean_absolute_error_by_hand():
    y_hat, y = np.array([[1.0], [-2.0], [3.0]]), np.array([[0.0], [0.0], [3.0]])
    mae = gn.MeanAbsoluteError()
    assert mae.forward(y_hat, y) == 1.0  # (|1| + |-2| + |0|) / 3 = 3 / 3
    # sign(d) / n: the third error is exactly 0, where |d| has no slope: its gradient is 0
    assert np.array_equal(mae.backward(), [[1 / 3], [-1 / 3], [0.0]])
    w = np.array([2.0, 1.0, 0.5])
    assert mae.forward(y_hat, y, w) == 4 / 3  # (2 * 1 + 1 * 2 + 0.5 * 0) / 3
    assert np.array_equal(mae.backward(), [[2 / 3], [-1 / 3], [0.0]])


def test_huber_by_hand():
    y_hat, y = np.array([[0.5], [-2.0], [3.0]]), np.zeros((3, 1))
    huber = gn.Huber()  # delta = 1
    # 0.5^2 / 2 = 0.125;  1 * (2 - 0.5) = 1.5;  1 * (3 - 0.5) = 2.5;  4.125 / 3 = 1.375
    assert huber.forward(y_hat, y) == 1.375
    assert np.array_equal(huber.backward(), [[0.5 / 3], [-1 / 3], [1 / 3]])  # clip(d, -1, 1) / 3
    wide = gn.Huber(delta=2.0)
    # 0.125;  (-2)^2 / 2 = 2 (|d| = delta: the square side);  2 * (3 - 1) = 4;  6.125 / 3
    assert wide.forward(y_hat, y) == 6.125 / 3
    assert np.array_equal(wide.backward(), [[0.5 / 3], [-2 / 3], [2 / 3]])
    w = np.array([1.0, 0.0, 2.0])
    assert huber.forward(y_hat, y, w) == (0.125 + 0 + 2 * 2.5) / 3
    assert np.array_equal(huber.backward(), [[0.5 / 3], [0.0], [2 / 3]])


def test_label_smoothing_by_hand():
    # three classes, z = (log 4, log 2, log 2): p = (0.5, 0.25, 0.25); label 0, ls = 0.3:
    # q = 0.7 * (1, 0, 0) + 0.3 / 3 = (0.8, 0.1, 0.1)
    z = np.log([[4.0, 2.0, 2.0]])
    ce = gn.CrossEntropy(label_smoothing=0.3)
    value, grad = ce.loss_from_logits(z, np.array([0]))
    # -(0.8 log 0.5 + 0.1 log 0.25 + 0.1 log 0.25) = (0.8 + 0.2 + 0.2) log 2 = 1.2 log 2
    assert value == pytest.approx(1.2 * np.log(2), rel=1e-15)
    np.testing.assert_allclose(grad, [[-0.3, 0.15, 0.15]], rtol=0, atol=1e-16)  # p - q
    assert ce.forward(np.array([[0.5, 0.25, 0.25]]), np.array([0])) == pytest.approx(value)
    # binary: z = log 3, p = 0.75; label 1, ls = 0.2: y = 1 * 0.8 + 0.2 / 2 = 0.9
    bce = gn.BinaryCrossEntropy(label_smoothing=0.2)
    value, grad = bce.loss_from_logits(np.log([[3.0]]), np.array([[1.0]]))
    # -(0.9 log 0.75 + 0.1 log 0.25) = 0.258914 + 0.138629 = 0.397544
    assert value == pytest.approx(-(0.9 * np.log(0.75) + 0.1 * np.log(0.25)), rel=1e-14)
    assert grad[0, 0] == pytest.approx(0.75 - 0.9, rel=1e-14)
    assert bce.forward(np.array([[0.75]]), np.array([[1.0]])) == pytest.approx(value, rel=1e-12)


def test_label_smoothing_zero_is_the_plain_loss(rng):
    z, labels = rng.normal(size=(6, 4)), rng.integers(0, 4, size=6)
    plain = gn.CrossEntropy().loss_from_logits(z, labels)
    zero = gn.CrossEntropy(label_smoothing=0.0).loss_from_logits(z, labels)
    assert plain[0] == zero[0] and np.array_equal(plain[1], zero[1])


@pytest.mark.parametrize("weighted", [False, True])
def test_smoothed_fused_gradient_is_p_minus_q_over_n(rng, weighted):
    w = rng.uniform(0.5, 2, size=6) if weighted else None
    column = 1 if w is None else w[:, None]
    z, labels = rng.normal(size=(6, 4)), rng.integers(0, 4, size=6)
    value, grad = gn.CrossEntropy(label_smoothing=0.1).loss_from_logits(z, labels, w)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    q = 0.9 * np.eye(4)[labels] + 0.1 / 4
    np.testing.assert_allclose(grad, (p - q) / 6 * column, rtol=1e-12)
    assert value == pytest.approx(-np.sum(q * np.log(p) * column) / 6, rel=1e-12)
    numeric = numeric_gradient(
        lambda: gn.CrossEntropy(label_smoothing=0.1).loss_from_logits(z, labels, w)[0], z
    )
    assert relative_error(grad, numeric) < 1e-8
    zb, yb = rng.normal(size=(6, 1)), rng.integers(0, 2, size=(6, 1)).astype(float)
    value, grad = gn.BinaryCrossEntropy(label_smoothing=0.1).loss_from_logits(zb, yb, w)
    np.testing.assert_allclose(grad, (1 / (1 + np.exp(-zb)) - (0.9 * yb + 0.05)) / 6 * column)


@pytest.mark.parametrize(
    "loss",
    [
        gn.MeanAbsoluteError(),
        gn.Huber(delta=0.5),
        gn.CrossEntropy(label_smoothing=0.1),
        gn.CrossEntropy(from_logits=True, label_smoothing=0.1),
        gn.BinaryCrossEntropy(label_smoothing=0.2),
    ],
    ids=repr,
)
def test_new_losses_train_with_sample_weights_and_pass_a_gradient_check(loss, rng):
    X = rng.normal(size=(24, 3))
    if loss.is_classification:
        k = 1 if isinstance(loss, gn.BinaryCrossEntropy) else 3
        y = rng.integers(0, max(k, 2), size=24)
        head = "identity" if loss.from_logits else ("sigmoid" if k == 1 else "softmax")
        out = gn.Dense(k, activation=head)
    else:
        y, out = rng.normal(size=(24, 2)), gn.Dense(2)
    model = gn.Sequential([gn.Dense(6, activation="tanh"), out], dtype="float64")
    assert gn.gradcheck(model, X, y, loss=loss).max_error < 1e-7
    w = rng.uniform(0, 2, size=24)
    history = model.fit(X, y, loss=loss, epochs=30, sample_weight=w, rng=0, batch_size=8)
    assert history.loss[-1] < history.loss[0]


def test_new_losses_are_saved_in_the_model_file(tmp_path, rng):
    X, y = rng.normal(size=(10, 2)), rng.integers(0, 3, size=10)
    for loss, spec in [
        (gn.Huber(delta=2.5), {"name": "huber", "delta": 2.5}),
        ("mae", "mae"),
        (gn.CrossEntropy(label_smoothing=0.1), {"name": "cross_entropy", "label_smoothing": 0.1}),
    ]:
        head = "softmax" if spec != "mae" and "label_smoothing" in spec else None
        model = gn.Sequential([gn.Dense(3, activation=head)])
        model.fit(X, y if head else rng.normal(size=(10, 3)), loss=loss, epochs=1, rng=0)
        assert model.loss_.spec() == spec
        model.save(tmp_path / "m.safetensors")
        loaded = gn.load(tmp_path / "m.safetensors").loss_
        assert type(loaded) is type(model.loss_) and loaded.get_config() == model.loss_.get_config()
    bce = get_loss({"name": "bce", "from_logits": True, "label_smoothing": 0.2})
    assert bce.from_logits and bce.label_smoothing == 0.2
    assert repr(bce) == "BinaryCrossEntropy(from_logits=True, label_smoothing=0.2)"


def test_new_losses_refuse_bad_arguments():
    with pytest.raises(ValueError, match=r"delta must be > 0.0, got 0.0"):
        gn.Huber(delta=0)
    with pytest.raises(TypeError, match=r"delta must be a number, got '1'"):
        gn.Huber(delta="1")
    with pytest.raises(ValueError, match=r"label_smoothing must be <= 1.0, got 1.5"):
        gn.CrossEntropy(label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"label_smoothing must be >= 0.0, got -0.1"):
        gn.BinaryCrossEntropy(label_smoothing=-0.1)


# -- PyTorch as the oracle ------------------------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True])
def test_new_losses_match_pytorch(rng, weighted):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    w = rng.uniform(0, 2, size=8) if weighted else np.ones(8)
    tw = torch.tensor(w)
    y_reg, y_cls = rng.normal(size=(8, 3)), rng.integers(0, 5, size=8)
    y_bin = rng.integers(0, 2, size=(8, 1)).astype(float)

    def weighted_mean(per_element):  # glassnet's reduction: sum of w_i * term / (n k)
        return (per_element * tw.reshape(-1, *[1] * (per_element.dim() - 1))).mean()

    cases = [
        (gn.MeanAbsoluteError(), 3 * rng.normal(size=(8, 3)), y_reg,
         lambda t, y: weighted_mean(F.l1_loss(t, y, reduction="none"))),
        (gn.Huber(), 3 * rng.normal(size=(8, 3)), y_reg,
         lambda t, y: weighted_mean(F.huber_loss(t, y, reduction="none"))),
        (gn.Huber(delta=0.4), 3 * rng.normal(size=(8, 3)), y_reg,
         lambda t, y: weighted_mean(F.huber_loss(t, y, reduction="none", delta=0.4))),
        (gn.CrossEntropy(from_logits=True, label_smoothing=0.15), 3 * rng.normal(size=(8, 5)),
         y_cls, lambda t, y: weighted_mean(
             F.cross_entropy(t, y.long(), reduction="none", label_smoothing=0.15))),
        (gn.BinaryCrossEntropy(from_logits=True, label_smoothing=0.3), 3 * rng.normal(size=(8, 1)),
         y_bin, lambda t, y: weighted_mean(F.binary_cross_entropy_with_logits(
             t, y * 0.7 + 0.15, reduction="none"))),
    ]  # fmt: skip
    for loss, y_hat, y, reference in cases:
        t = torch.tensor(y_hat, requires_grad=True)
        expected = reference(t, torch.tensor(y))
        expected.backward()
        assert loss.forward(y_hat, y, w if weighted else None) == pytest.approx(
            expected.item(), rel=1e-13
        ), loss
        np.testing.assert_allclose(loss.backward(), t.grad.numpy(), rtol=1e-12, atol=1e-17)
    # the unweighted default reductions are glassnet's too
    t = torch.tensor(y_reg)
    assert gn.Huber()(y_reg * 2, y_reg) == pytest.approx(F.huber_loss(t * 2, t).item(), rel=1e-14)
    z = rng.normal(size=(8, 5))
    assert gn.CrossEntropy(label_smoothing=0.2).loss_from_logits(z, y_cls)[0] == pytest.approx(
        F.cross_entropy(torch.tensor(z), torch.tensor(y_cls), label_smoothing=0.2).item(),
        rel=1e-13,
    )
