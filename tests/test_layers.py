import numpy as np
import pytest

import glassnet as gn
from glassnet.training.trainer import loss_and_gradients


def test_dense_forward_and_one_sgd_step_by_hand():
    """A 2 -> 1 Dense layer, identity activation, MSE, one sample, learning rate 0.1."""
    model = gn.Sequential([gn.Dense(1)], dtype="float64").build((2,))
    model.set_weights({"layers.0.W": [[0.5], [-1.0]], "layers.0.b": [0.25]})
    x, y = np.array([[2.0, 1.0]]), np.array([[1.0]])
    # z = 2*0.5 + 1*(-1) + 0.25 = 0.25 ;  L = (0.25 - 1)^2 = 0.5625
    loss, _ = loss_and_gradients(model, x, y, gn.MeanSquaredError())
    assert loss == pytest.approx(0.5625, abs=1e-15)
    # dL/dz = 2 (0.25 - 1) / 1 = -1.5 ; dL/dW = x.T * -1.5 = [[-3], [-1.5]] ; dL/db = -1.5
    dense = model.layers[0]
    assert np.allclose(dense.grads["W"], [[-3.0], [-1.5]], atol=1e-15)
    assert np.allclose(dense.grads["b"], [-1.5], atol=1e-15)
    gn.SGD(learning_rate=0.1).step(model.slots())
    # W = [0.5 + 0.3, -1 + 0.15] = [0.8, -0.85] ; b = 0.25 + 0.15 = 0.4
    assert np.allclose(dense.params["W"], [[0.8], [-0.85]], atol=1e-15)
    assert np.allclose(dense.params["b"], [0.4], atol=1e-15)
    # the new prediction 2*0.8 - 0.85 + 0.4 = 1.15 is closer to 1 than 0.25 was
    assert model.predict(x)[0, 0] == pytest.approx(1.15, abs=1e-14)


def test_dense_shapes_and_lazy_build(rng):
    layer = gn.Dense(3, activation="relu")
    assert not layer.built
    out = layer.build((5,), rng, np.float32)
    assert out == (3,)
    assert layer.params["W"].shape == (5, 3) and layer.params["b"].shape == (3,)
    assert layer.params["W"].dtype == np.float32
    assert np.all(layer.params["b"] == 0)
    assert layer.weight_init == "he_uniform"  # auto: He for ReLU
    assert gn.Dense(3, activation="tanh").weight_init == "glorot_uniform"
    no_bias = gn.Dense(2, use_bias=False)
    no_bias.build((4,), rng, np.float32)
    assert set(no_bias.params) == {"W"} and set(no_bias.grads) == {"W"}


def test_explicit_input_shape_builds_summary_before_fit(capsys):
    model = gn.Sequential([gn.Dense(4, activation="relu", input_shape=3), gn.Dense(2)])
    model.summary()
    text = capsys.readouterr().out
    assert "Dense(4, relu)" in text and "(None, 4)" in text and "total parameters: 26" in text
    assert not model.built  # summary did not fix the weights


def test_initializers_scale_with_fan_in(rng):
    from glassnet.nn.initializers import initialize

    w = initialize("he_normal", (1000, 500), fan_in=1000, fan_out=500, rng=rng)
    assert w.std() == pytest.approx(np.sqrt(2 / 1000), rel=0.02)
    w = initialize("glorot_uniform", (400, 600), fan_in=400, fan_out=600, rng=rng)
    assert np.abs(w).max() <= np.sqrt(6 / 1000)
    assert w.std() == pytest.approx(np.sqrt(2 / 1000), rel=0.02)
    w = initialize({"name": "uniform", "low": 0, "high": 1}, (100,), fan_in=1, fan_out=1, rng=rng)
    assert 0 <= w.min() and w.max() < 1
    assert np.all(
        initialize(("constant", {"value": 0.5}), (3,), fan_in=1, fan_out=1, rng=rng) == 0.5
    )


def test_unknown_initializer_lists_valid_names():
    with pytest.raises(
        ValueError, match="unknown initializer 'random'; valid names are: constant, glorot_normal"
    ):
        gn.Dense(2, weight_init="random")


def test_dense_validation():
    with pytest.raises(ValueError, match="units must be >= 1, got 0"):
        gn.Dense(0)
    with pytest.raises(TypeError, match="units must be an integer, got 2.5"):
        gn.Dense(2.5)
    with pytest.raises(TypeError, match="use_bias must be True or False, got 'no'"):
        gn.Dense(2, use_bias="no")
    with pytest.raises(ValueError, match="put a Flatten"):
        gn.Sequential([gn.Dense(2)]).build((1, 4, 4))


def test_flatten_and_dropout(rng):
    flat = gn.Flatten()
    assert flat.build((2, 3, 4), rng, np.float32) == (24,)
    x = rng.normal(size=(5, 2, 3, 4))
    assert flat.forward(x).shape == (5, 24)
    assert flat.backward(np.ones((5, 24))).shape == x.shape

    drop = gn.Dropout(0.5)
    drop.build((1000,), np.random.default_rng(0), np.float32)
    x = np.ones((20, 1000), dtype=np.float32)
    assert drop.forward(x, training=False) is x  # identity at prediction time
    y = drop.forward(x, training=True)
    assert set(np.unique(y)) == {0.0, 2.0}  # survivors scaled by 1/(1-0.5)
    assert y.mean() == pytest.approx(1.0, abs=0.02)  # expectation unchanged
    g = drop.backward(np.ones_like(x))
    assert np.array_equal(g, y)  # same mask backward
    with pytest.raises(ValueError, match="rate must be < 1.0, got 1.0"):
        gn.Dropout(1.0)


def test_dropout_masks_follow_the_model_rng():
    X = np.random.default_rng(1).normal(size=(32, 4))
    y = (X[:, 0] > 0).astype(int)

    def train(seed):
        model = gn.Sequential(
            [gn.Dense(8, activation="relu"), gn.Dropout(0.3), gn.Dense(1, activation="sigmoid")]
        )
        model.fit(X, y, loss="bce", epochs=3, batch_size=8, rng=seed)
        return model.get_weights()

    a, b, c = train(3), train(3), train(4)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not all(np.array_equal(a[k], c[k]) for k in a)


@pytest.mark.parametrize("training", [False, True])
def test_an_affine_layer_caches_the_textbook_z_and_a(training, rng):
    """After any forward — training or not — z is x @ W + b and a is g(z), in arrays of their
    own; a standalone ReLU layer never writes over its input, which may be the caller's data."""
    layer = gn.Dense(6, activation="relu")
    layer.build((4,), rng, np.float64)
    layer.params["b"][...] = rng.standard_normal(6)
    x = rng.standard_normal((50, 4))
    expected_z = x @ layer.params["W"] + layer.params["b"]
    a = layer.forward(x, training=training)
    np.testing.assert_array_equal(layer.z, expected_z)
    assert layer.z.min() < 0  # relu(z) would have no negative entry
    np.testing.assert_array_equal(a, np.maximum(expected_z, 0))
    assert not np.shares_memory(a, layer.z)
    grad = rng.standard_normal((50, 6))
    np.testing.assert_array_equal(layer.activation.backward(grad), grad * (expected_z > 0))

    relu, z = gn.ReLU(), rng.standard_normal((5, 3))
    before = z.copy()
    relu.forward(z, training=training)
    np.testing.assert_array_equal(z, before)


def test_after_fit_every_layer_holds_the_textbook_values_of_its_last_batch(rng):
    """The first thing a learner inspects after fit: z of a ReLU layer is x @ W + b (with its
    negative entries), a is relu(z), for the last batch fit saw."""
    X = rng.standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(int)
    model = gn.Sequential([gn.Dense(8, activation="relu"), gn.Dense(2, activation="softmax")])
    model.fit(X, y, loss="cross_entropy", epochs=2, batch_size=40, shuffle=False, rng=0)
    first, last = model.layers
    W, b = first.params["W"], first.params["b"]
    # the last forward ran before the last step moved W and b, so check its relations here
    assert first.z.min() < 0

    np.testing.assert_array_equal(first.a, np.maximum(first.z, 0))
    np.testing.assert_array_equal(first.x, X.astype(np.float32))
    model.forward(X)  # and a forward with the current weights (predict leaves the caches)
    np.testing.assert_allclose(first.z, X.astype(np.float32) @ W + b, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(last.z, first.a @ last.params["W"] + last.params["b"])


def test_a_custom_activation_with_its_own_forward_still_trains(rng):
    """Activations written by users may override forward(z, training=False) itself; Affine
    layers call it as it is."""

    class Swish(gn.Activation):
        name = "swish"

        def forward(self, z, training=False):
            self.z = z
            self.s = 1 / (1 + np.exp(-z))
            self.a = z * self.s
            return self.a

        def backward(self, grad_out):
            return grad_out * (self.s + self.a * (1 - self.s))

    X = rng.standard_normal((64, 3))
    y = (X[:, 0] > 0).astype(int)
    model = gn.Sequential(
        [gn.Dense(8, activation=Swish()), gn.Dense(2, activation="softmax")], dtype="float64"
    )
    model.fit(X, y, loss="cross_entropy", epochs=2, verbose=0, rng=0)
    result = gn.gradcheck(model, X[:5], y[:5], loss="cross_entropy", training=True)
    assert result.max_error < 1e-6, str(result)
