"""glassnet.fast.predict: the lean predict gives the reference forward's numbers bit for bit,
a fresh output every call, the reference's errors, and leaves every layer as it was."""

import copy
import threading
import tracemalloc

import numpy as np
import pytest

import glassnet as gn
from glassnet import fast
from glassnet.fast import predict as lean
from glassnet.nn.activations import ACTIVATIONS

ACTIVATION_NAMES = sorted(ACTIVATIONS)


def fitted(layers, X, y, dtype="float32", epochs=1, loss="cross_entropy"):
    model = gn.Sequential(layers, dtype=dtype)
    model.fit(X, y, loss=loss, epochs=epochs, batch_size=16, rng=0)
    return model


def reference(model, X, **kwargs):
    with fast.reference_only():
        return model.predict(X, **kwargs)


def mlp_data(n=200, features=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, features))
    return X, (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)


def mlp(activation, dtype="float32", X=None, y=None):
    X, y = mlp_data() if X is None else (X, y)
    layers = [
        gn.Dense(16, activation=activation),
        gn.Dropout(0.3),
        gn.Dense(8, activation=activation),
        gn.BatchNormalization(),
        gn.Dense(3, activation="softmax"),
    ]
    return fitted(layers, X.astype(dtype), y, dtype), X.astype(dtype)


def image_data(n=40, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 1, 8, 8))
    return X, (X[:, 0, :4].mean(axis=(1, 2)) > 0).astype(int)


def cnn(dtype="float32"):
    X, y = image_data()
    layers = [
        gn.BatchNormalization(),  # a lean step whose output a Conv2D caches
        gn.Conv2D(4, 3, padding="same", activation="relu"),
        gn.MaxPool2D(2),
        gn.Conv2D(4, 3, padding="same"),
        gn.Tanh(),
        gn.AveragePooling2D(2),
        gn.Flatten(),
        gn.Dense(6, activation="sigmoid"),
        gn.Dropout(0.2),
        gn.Dense(2, activation="softmax"),
    ]
    return fitted(layers, X.astype(dtype), y, dtype), X.astype(dtype)


# -- the same numbers -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_every_activation_gives_the_reference_numbers(activation, dtype):
    if activation == "softmax":
        activation = gn.Softmax()  # hidden softmax layers: unusual, but a layer like another
    model, X = mlp(activation, dtype)
    assert lean.lean_predictor(model) is not None
    for rows in (X[:1], X[:7], X):
        out = model.predict(rows)
        assert out.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(out, reference(model, rows))
        np.testing.assert_array_equal(out, model.forward(rows))  # the textbook forward


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ["relu", "softmax", "sigmoid"])
def test_the_activation_steps_match_the_reference_bit_for_bit_on_special_values(activation, dtype):
    from glassnet.fast import predict_steps

    layer = ACTIVATIONS[activation]()
    z = np.array([[-0.0, 0.0, -1.5, 2.5, np.inf, -np.inf, np.nan, 1e-40]], dtype=dtype)
    with np.errstate(all="ignore"):
        expected = layer.function(z)
        step = predict_steps.ActivationStep(layer)
        layer.output_shape = z.shape[1:]
        out, scratch = step.arrays(1, dtype, last=False)
        got = step.run(z, out, scratch)
    bits = np.uint32 if dtype == "float32" else np.uint64
    np.testing.assert_array_equal(got.view(bits), expected.view(bits))  # -0.0 and NaN too


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_cnn_gives_the_reference_numbers(dtype):
    model, X = cnn(dtype)
    assert lean.lean_predictor(model) is not None
    for rows in (X[:1], X):
        np.testing.assert_array_equal(model.predict(rows), reference(model, rows))
    np.testing.assert_array_equal(model.predict(X), model.forward(X))


@pytest.mark.parametrize("batch_size", [1, 7, 64, 199, 200, 10_000])
def test_batch_splits_give_the_reference_numbers(batch_size):
    model, X = mlp("relu")
    out = model.predict(X, batch_size=batch_size)
    np.testing.assert_array_equal(out, reference(model, X, batch_size=batch_size))
    assert out.shape == (200, 3) and out.flags.c_contiguous


def test_standalone_activation_layers_and_a_last_layer_that_makes_no_array():
    X, y = mlp_data()
    layers = [gn.Dense(8), gn.Sigmoid(), gn.Dense(4), gn.Identity(), gn.Softmax(), gn.Dropout(0.5)]
    model = fitted(layers, X, np.eye(4)[y], loss="mse")
    out = model.predict(X)
    np.testing.assert_array_equal(out, reference(model, X))
    assert not np.shares_memory(out, model.layers[4].a)


def test_a_regression_output_and_a_layer_without_bias():
    X, _ = mlp_data()
    y = X @ np.arange(12.0).reshape(6, 2)
    model = fitted([gn.Dense(5, activation="gelu", use_bias=False), gn.Dense(2)], X, y, loss="mse")
    np.testing.assert_array_equal(model.predict(X), reference(model, X))


# -- the output is the caller's ----------------------------------------------------------------
@pytest.mark.parametrize("rows", [1, 50, 200])
def test_outputs_are_fresh_arrays_never_overwritten_by_the_next_call(rows):
    model, X = mlp("relu")
    first = model.predict(X[:rows], batch_size=64)
    kept = first.copy()
    second = model.predict(X[-rows:][::-1].copy(), batch_size=64)
    np.testing.assert_array_equal(first, kept)
    assert not np.shares_memory(first, second)
    assert not any(np.shares_memory(first, a) for a in _work_arrays(model))


def _work_arrays(model):
    sizes = getattr(lean.lean_predictor(model).local, "sizes", {})
    for body, _, scratch in sizes.values():
        for _, out, kept in body:
            yield from [a for a in (out, *kept) if a is not None]
        yield from scratch


def test_no_work_array_is_made_per_call():
    X, y = mlp_data(1000)
    model = fitted([gn.Dense(256, activation="relu"), gn.Dense(3, activation="softmax")], X, y)
    X = X.astype(np.float32)
    model.predict(X)  # the first call makes the kept arrays
    tracemalloc.start()
    out = model.predict(X)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # The output, and no (1000, 256) array (1,024,000 bytes); NumPy's broadcasting ``z += b``
    # uses a buffer of its own of at most 8,192 numbers (np.getbufsize()), whatever the rows.
    assert peak < out.nbytes + 4 * np.getbufsize() + 8192
    with fast.reference_only():
        tracemalloc.start()
        model.predict(X)
        assert tracemalloc.get_traced_memory()[1] > 1_024_000  # the reference makes z and a
        tracemalloc.stop()


def test_work_arrays_are_kept_for_a_few_batch_sizes_per_thread():
    model, X = mlp("relu")
    for n in range(1, 10):
        model.predict(X[:n])
    assert list(lean.lean_predictor(model).local.sizes) == [6, 7, 8, 9]


def test_threads_predicting_at_once_each_get_their_own_numbers():
    model, X = mlp("tanh")
    expected = [reference(model, X[i : i + 20]) for i in range(0, 200, 20)]
    results, errors = {}, []

    def worker(k):
        try:
            for _ in range(30):
                i = (k * 20) % 200
                results.setdefault(k, []).append(model.predict(X[i : i + 20]))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k, outs in results.items():
        for out in outs:
            np.testing.assert_array_equal(out, expected[k % 10])


# -- what the layers expose is unchanged ----------------------------------------------------------
CACHES = ("x", "z", "a", "mask", "x_hat", "mu", "var", "inv_std")


def test_layers_are_left_untouched_or_with_the_textbook_values():
    model, X = cnn()
    model.forward(X[:5])  # every layer caches its values for these five rows
    before = [{k: getattr(layer, k) for k in CACHES if hasattr(layer, k)} for layer in model.layers]
    textbook = copy.deepcopy(model)
    textbook.forward(X[10:30])  # what a reference forward on the predicted rows leaves
    model.predict(X[10:30])
    specialised = (gn.Dense, gn.Dropout, gn.Flatten, gn.BatchNormalization, gn.Tanh)
    for layer, cached, ref in zip(model.layers, before, textbook.layers, strict=True):
        for key, old in cached.items():
            now = getattr(layer, key)
            if type(layer) in specialised:
                assert now is old, (layer, key)  # untouched
            elif now is not old:
                np.testing.assert_array_equal(now, getattr(ref, key), err_msg=f"{layer} {key}")


def test_an_array_a_layer_caches_is_never_overwritten_later():
    model, X = cnn()
    model.predict(X[:8])
    conv = model.layers[1]
    cached_input, values = conv.x, conv.x.copy()  # the BatchNormalization step's output
    model.predict(X[8:16])
    np.testing.assert_array_equal(cached_input, values)
    np.testing.assert_array_equal(conv.x, model.layers[0].forward(X[8:16]))


def test_new_weights_and_a_swapped_activation_are_seen():
    model, X = mlp("relu")
    model.predict(X)
    weights = model.get_weights()
    weights["layers.0.W"] = weights["layers.0.W"] * 2
    model.set_weights(weights)
    np.testing.assert_array_equal(model.predict(X), reference(model, X))
    model.layers[2].activation = gn.ELU()
    np.testing.assert_array_equal(model.predict(X), reference(model, X))
    model.layers[2].activation = gn.Sigmoid()
    np.testing.assert_array_equal(model.predict(X), reference(model, X))


def test_reference_only_and_unknown_layers_run_the_reference_predict():
    model, X = mlp("relu")
    with fast.reference_only():
        assert lean.lean_predictor(model) is None

    class Doubling(gn.Layer):
        def forward(self, x, training=False):
            self.x = x
            return 2 * x

        def backward(self, grad_out):
            return 2 * grad_out

    custom = fitted([gn.Dense(4), Doubling(), gn.Dense(3, activation="softmax")], *mlp_data())
    assert lean.lean_predictor(custom) is None
    assert custom.predict(X[:3]).shape == (3, 3)
    assert custom.layers[1].x.shape == (3, 4)  # its own forward ran


def test_a_copied_or_pickled_model_predicts_the_same():
    import pickle

    model, X = mlp("relu")
    out = model.predict(X)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        np.testing.assert_array_equal(clone.predict(X), out)


# -- the same errors -------------------------------------------------------------------------
def _error(call):
    with pytest.raises((TypeError, ValueError)) as info:
        call()
    return type(info.value), str(info.value)


def _same_error(model, X, **kwargs):
    lean_error = _error(lambda: model.predict(X, **kwargs))
    with fast.reference_only():
        assert _error(lambda: model.predict(X, **kwargs)) == lean_error
    return lean_error[1]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (lambda X: X[0], "X must be 2-D"),
        (lambda X: X[:, :4], "X has 4 features, but the model expects 6"),
        (lambda X: X[:0], "X is empty"),
        (lambda X: np.where(np.arange(6) == 2, np.nan, X[:3]), r"X contains NaN or infinity"),
        (lambda X: np.where(np.arange(6) == 5, -np.inf, X[:1]), "first at index (0, 5)"),
        (lambda X: np.where(np.arange(6) == 1, 1e308, X[:2]), "beyond the range of float32"),
        (lambda X: X[:2].astype(str), "X must hold numbers"),
        (lambda X: [[1, 2], [3]], "X must be array-like"),
        (lambda X: X[:2].astype(complex), "X must hold real numbers"),
        (lambda X: X.reshape(-1, 2, 3), "X has sample shape (2, 3)"),
    ],
)
def test_bad_inputs_raise_the_reference_errors(bad, message):
    model, X = mlp("relu")
    X64 = X.astype(np.float64)
    assert message in _same_error(model, bad(X64))


@pytest.mark.parametrize(("batch_size", "message"), [(0, ">= 1, got 0"), (2.0, "an integer")])
def test_a_bad_batch_size_raises_the_reference_error(batch_size, message):
    model, X = mlp("relu")
    assert message in _same_error(model, X, batch_size=batch_size)


def test_an_overflowing_output_raises_the_reference_error():
    model, X = mlp("relu")
    for _, p, _ in model.slots():
        p *= 1e20
    assert "the network's output for row 0 of X is nan" in _same_error(model, X)
    assert "row 0" in _same_error(model, X[:1])


def test_large_but_finite_values_are_accepted_as_by_the_reference():
    model, X = mlp("relu")
    big = X[:2].copy()
    big[0, 0] = 3e19  # its square overflows float32: the quick check defers to the full one
    np.testing.assert_array_equal(model.predict(big), reference(model, big))


def test_inputs_the_checks_convert_give_the_reference_numbers():
    model, X = mlp("relu")
    for rows in (X[:5].astype(np.float64), X[:5].tolist(), np.asfortranarray(X[:5]), X[::2]):
        np.testing.assert_array_equal(model.predict(rows), reference(model, rows))


def test_an_unbuilt_model_raises_the_reference_error():
    with pytest.raises(ValueError, match="not built yet"):
        gn.Sequential([gn.Dense(1)]).predict(np.ones((1, 2)))
