"""Conv2D and MaxPool2D: against the plain loops of glassnet.nn.conv_reference (themselves
checked by finite differences), and by finite differences."""

from __future__ import annotations

import json

import numpy as np
import pytest

from glassnet.fast.conv import FEW_ROWS, ReusedArrays
from glassnet.glassbox.gradcheck import numeric_gradient, relative_error
from glassnet.nn.conv import Conv2D, FreshArrays
from glassnet.nn.conv_reference import conv2d_backward, conv2d_forward, maxpool2d_forward
from glassnet.nn.layers import Dense, Flatten
from glassnet.nn.pooling import MaxPool2D


def built(layer, input_shape, dtype=np.float64, seed=0):
    layer.build(input_shape, np.random.default_rng(seed), dtype)
    return layer


def channel_major_copy(x):
    """The same values as ``x``, stored as (c, h, w, n) in memory (what Conv2D returns)."""
    return np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)


# -- forward against the loops --------------------------------------------------------------------
CONV_CASES = [
    # kernel, stride, padding, x shape (n, c, h, w), filters, expected (out_h, out_w)
    (3, 1, "valid", (2, 1, 7, 9), 4, (5, 7)),
    (3, 1, "same", (2, 3, 7, 9), 4, (7, 9)),
    (3, 2, "same", (2, 3, 7, 9), 2, (4, 5)),
    (2, 1, "same", (1, 2, 5, 6), 3, (5, 6)),  # even kernel: extra zero at bottom/right
    (3, 2, 1, (2, 3, 7, 8), 5, (4, 4)),
    (4, 3, "valid", (2, 2, 9, 11), 1, (2, 3)),
    (1, 1, "valid", (3, 4, 5, 5), 2, (5, 5)),  # 1x1: a Dense layer over channels
    ((2, 3), (1, 2), (2, 0), (2, 2, 5, 7), 3, (8, 3)),
    (5, 1, 3, (1, 1, 3, 3), 2, (5, 5)),  # padding wider than the kernel's reach
    (3, 3, 0, (2, 2, 7, 7), 2, (2, 2)),  # stride 3 skips a column: 7 = 2*3 + 1
    (3, 3, 2, (2, 2, 1, 4), 2, (1, 2)),  # kernel offsets that only see padding
]


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("kernel, stride, padding, shape, filters, out_hw", CONV_CASES)
def test_conv_forward_matches_loops(kernel, stride, padding, shape, filters, out_hw, use_bias, rng):
    conv = Conv2D(
        filters,
        kernel,
        stride=stride,
        padding=padding,
        use_bias=use_bias,
        bias_init=("uniform", {"low": -1.0, "high": 1.0}),
    )
    out_shape = built(conv, shape[1:]).output_shape
    assert out_shape == (filters, *out_hw)
    x = rng.standard_normal(shape)
    a = conv.forward(x)
    assert a.shape == (shape[0], *out_shape)
    expected = conv2d_forward(
        x, conv.params["W"], conv.params.get("b"), conv.stride, conv._pads(*shape[2:])
    )
    np.testing.assert_allclose(a, expected, rtol=1e-12, atol=1e-12)
    assert ("b" in conv.params) == use_bias


def test_conv_same_padding_follows_the_usual_convention():
    # total padding (out - 1) * s + k - size, the odd zero at the bottom/right
    conv = Conv2D(1, 3, stride=2, padding="same")
    assert conv._pads(8, 7) == ((0, 1), (1, 1))
    assert Conv2D(1, 4, padding="same")._pads(6, 6) == ((1, 2), (1, 2))
    assert Conv2D(1, 3, padding=2)._pads(6, 6) == ((2, 2), (2, 2))


def test_conv_applies_its_activation_and_caches_z_and_a(rng):
    conv = built(Conv2D(3, 3, padding="same", activation="relu"), (2, 5, 5))
    x = rng.standard_normal((4, 2, 5, 5))
    a = conv.forward(x)
    z = conv2d_forward(x, conv.params["W"], conv.params["b"], (1, 1), ((1, 1), (1, 1)))
    np.testing.assert_allclose(conv.z, z, atol=1e-12)
    np.testing.assert_array_equal(a, np.maximum(conv.z, 0))
    assert conv.a is a and conv.x is x


def test_conv_result_does_not_depend_on_the_input_memory_layout(rng):
    conv = built(Conv2D(4, 3, stride=(2, 1), padding=1), (3, 6, 7))
    x = rng.standard_normal((5, 3, 6, 7))
    np.testing.assert_array_equal(conv.forward(x), conv.forward(channel_major_copy(x)))
    np.testing.assert_array_equal(conv.forward(x), conv.forward(np.asfortranarray(x)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_end_to_end(dtype, rng):
    conv = built(Conv2D(2, 3, padding="same", activation="tanh"), (1, 6, 6), dtype=dtype)
    pool = built(MaxPool2D(2), (2, 6, 6), dtype=dtype)
    x = rng.standard_normal((3, 1, 6, 6)).astype(dtype)
    a = pool.forward(conv.forward(x, training=True), training=True)
    assert a.dtype == dtype
    dx = conv.backward(pool.backward(np.ones_like(a)))
    assert dx.dtype == dtype
    assert all(g.dtype == dtype for g in conv.grads.values())


def test_a_new_batch_size_gets_new_scratch_buffers(rng):
    conv = built(Conv2D(2, 3, padding="same"), (1, 5, 5))
    for n in (4, 7, 4):
        x = rng.standard_normal((n, 1, 5, 5))
        expected = conv2d_forward(x, conv.params["W"], conv.params["b"], (1, 1), ((1, 1), (1, 1)))
        np.testing.assert_allclose(conv.forward(x), expected, atol=1e-12)


def test_outputs_are_not_overwritten_by_the_next_batch(rng):
    # Scratch buffers are reused between batches; the arrays a layer returns never are.
    conv = built(Conv2D(2, 3, padding="same"), (1, 5, 5))
    x1, x2 = rng.standard_normal((2, 3, 1, 5, 5))
    a1 = conv.forward(x1)
    saved = a1.copy()
    conv.forward(x2)
    np.testing.assert_array_equal(a1, saved)


def test_large_prediction_batches_are_computed_in_slices(rng, monkeypatch):
    import glassnet.nn.conv

    conv = built(Conv2D(3, 3, stride=2, padding="same", activation="tanh"), (2, 7, 6))
    x = rng.standard_normal((10, 2, 7, 6))
    whole = conv.forward(x, training=True).copy()
    per_sample = conv.x_col_rows * 4 * 3 * 8  # rows * out_h * out_w * bytes
    monkeypatch.setattr(glassnet.nn.conv, "INFERENCE_SCRATCH_BYTES", 3 * per_sample)
    conv.work = ReusedArrays()  # keeps the last X_col made, to see its size
    sliced = conv.forward(x)  # slices of 3, 3, 3 and 1 samples
    np.testing.assert_allclose(sliced, whole, atol=1e-14)
    assert conv.x_col is None and conv.work.arrays["x_col"].shape[1] == 4 * 3 * 1
    with pytest.raises(RuntimeError, match="needs a forward pass with training=True"):
        conv.backward(np.ones_like(sliced))
    conv.forward(x, training=True)  # training always keeps X_col
    assert conv.x_col.shape[1] == 4 * 3 * 10


POOL_CASES = [
    # pool, stride, x shape, expected (out_h, out_w)
    (2, None, (2, 3, 6, 8), (3, 4)),
    (2, None, (2, 3, 7, 9), (3, 4)),  # odd sizes: the last row/column is dropped
    (3, 2, (2, 2, 7, 9), (3, 4)),  # overlapping windows
    (2, 1, (1, 2, 5, 5), (4, 4)),
    (2, 3, (2, 2, 8, 7), (3, 2)),  # gaps between windows
    ((2, 3), (1, 2), (2, 2, 5, 7), (4, 3)),
    (1, None, (1, 2, 3, 4), (3, 4)),
]


@pytest.mark.parametrize("pool, stride, shape, out_hw", POOL_CASES)
def test_maxpool_forward_matches_loops(pool, stride, shape, out_hw, rng):
    layer = built(MaxPool2D(pool, stride), shape[1:])
    assert layer.output_shape == (shape[1], *out_hw)
    x = rng.standard_normal(shape)
    expected = maxpool2d_forward(x, layer.pool_size, layer.stride)
    np.testing.assert_array_equal(layer.forward(x), expected)
    np.testing.assert_array_equal(layer.forward(channel_major_copy(x)), expected)


# -- gradients by central differences --------------------------------------------------------------
def check_layer_gradients(layer, x, rng, tolerance=1e-6):
    """For L = sum(R * layer(x)) with a fixed random R, compare backward's dL/dx and dL/dp
    for every parameter p with central differences; return the errors by name."""
    x = x.copy()
    R = rng.standard_normal((x.shape[0], *layer.output_shape))

    def loss():
        return float(np.sum(R * layer.forward(x, training=True)))

    loss()
    dx = layer.backward(R)
    analytic = {"x": dx, **{k: g.copy() for k, g in layer.grads.items()}}
    numeric = {
        "x": numeric_gradient(loss, x),
        **{k: numeric_gradient(loss, p) for k, p in layer.params.items()},
    }
    errors = {k: relative_error(analytic[k], numeric[k]) for k in analytic}
    assert max(errors.values()) < tolerance, errors
    return errors


@pytest.mark.parametrize(
    "stride, padding, shape",
    [
        (1, "valid", (2, 3, 6, 7)),
        (1, "same", (2, 3, 5, 7)),
        (2, "same", (2, 3, 7, 6)),
        (2, 1, (2, 3, 7, 9)),
        (1, 1, (3, 3, 5, 5)),
        ((2, 1), "valid", (2, 3, 7, 5)),
        (3, 2, (2, 3, 1, 4)),
    ],
)
@pytest.mark.parametrize("activation", ["tanh", None])
def test_conv_gradients_match_central_differences(stride, padding, shape, activation, rng):
    conv = built(
        Conv2D(
            4,
            3,
            stride=stride,
            padding=padding,
            activation=activation,
            bias_init=("uniform", {"low": -0.5, "high": 0.5}),
        ),
        shape[1:],
    )
    errors = check_layer_gradients(conv, rng.standard_normal(shape), rng)
    assert set(errors) == {"x", "W", "b"}


@pytest.mark.parametrize("channels", [1, 5])  # X_col of 10 rows (stacked dL/dW), 46 rows
@pytest.mark.parametrize("work", [FreshArrays, ReusedArrays])
def test_conv_gradients_on_both_ways_of_summing_dW(channels, work, rng):
    conv = built(Conv2D(3, 3, padding="same", activation="tanh"), (channels, 6, 5))
    conv.work = work()
    assert (conv.x_col_rows <= FEW_ROWS) == (channels == 1)
    x = rng.standard_normal((3, channels, 6, 5))
    errors = check_layer_gradients(conv, x, rng)
    assert set(errors) == {"x", "W", "b"}


def test_stacked_and_single_products_give_the_same_dW(rng):
    conv = built(Conv2D(4, 3, padding="same"), (1, 8, 6))
    x, delta = rng.standard_normal((5, 1, 8, 6)), rng.standard_normal((5, 4, 8, 6))
    conv.forward(x, training=True)
    conv.backward_linear(delta)  # the reference: one product
    single = {k: g.copy() for k, g in conv.grads.items()}
    conv.work = ReusedArrays()
    conv.forward(x, training=True)
    conv.backward_linear(delta)  # 10 rows: stacked products
    for k, g in conv.grads.items():
        np.testing.assert_allclose(g, single[k], rtol=1e-12, atol=1e-12)


def test_conv_gradients_without_bias_and_with_an_even_kernel(rng):
    conv = built(Conv2D(2, (2, 3), stride=(1, 2), padding="same", use_bias=False), (3, 5, 7))
    errors = check_layer_gradients(conv, rng.standard_normal((2, 3, 5, 7)), rng)
    assert set(errors) == {"x", "W"}


def test_conv_gradients_with_relu_away_from_its_kink(rng):
    conv = built(Conv2D(3, 3, padding="same", activation="relu"), (2, 5, 5))
    x = rng.standard_normal((2, 2, 5, 5))
    conv.forward(x)
    assert np.abs(conv.z).min() > 1e-4  # so that z +- eps stays on one side of 0
    check_layer_gradients(conv, x, rng)


def test_conv_gradients_for_a_channel_major_upstream_gradient(rng):
    # what the layer receives from a MaxPool2D above it: a (c, h, w, n) memory layout
    conv = built(Conv2D(2, 3, padding=1), (3, 4, 5))
    x = rng.standard_normal((2, 3, 4, 5))
    R = rng.standard_normal((2, 2, 4, 5))
    conv.forward(x, training=True)
    dx_a = conv.backward(R).copy()
    W_a = conv.grads["W"].copy()
    conv.forward(x, training=True)
    np.testing.assert_allclose(conv.backward(channel_major_copy(R)), dx_a, atol=1e-13)
    np.testing.assert_allclose(conv.grads["W"], W_a, atol=1e-13)


@pytest.mark.parametrize(
    "pool, stride, shape",
    [
        (2, None, (2, 3, 6, 8)),
        (2, None, (2, 3, 7, 9)),  # odd sizes
        (3, 2, (2, 2, 7, 9)),  # overlapping
        (2, 3, (2, 2, 8, 7)),  # gaps
        ((2, 3), (1, 2), (2, 2, 5, 7)),
    ],
)
def test_maxpool_gradients_match_central_differences(pool, stride, shape, rng):
    layer = built(MaxPool2D(pool, stride), shape[1:])
    x = rng.permutation(np.prod(shape)).reshape(shape) * 0.01  # distinct values: no ties
    check_layer_gradients(layer, x.astype(np.float64), rng)


@pytest.mark.parametrize("pool, stride", [(2, None), (3, 2), (2, 1)])
def test_maxpool_sends_each_gradient_to_exactly_one_input_of_a_tied_window(pool, stride):
    layer = built(MaxPool2D(pool, stride), (1, 6, 6))
    x = np.ones((1, 1, 6, 6))  # every window is one big tie
    a = layer.forward(x, training=True)
    g = np.arange(1.0, a.size + 1).reshape(a.shape)
    dx = layer.backward(g)
    assert dx.sum() == g.sum()
    if stride is None:  # non-overlapping: one entry per window
        windows = dx.reshape(1, 1, 3, 2, 3, 2)
        assert np.all(np.count_nonzero(windows, axis=(3, 5)) == 1)
        assert sorted(dx[dx != 0]) == sorted(g.ravel())


def test_maxpool_backward_for_a_batch_first_upstream_gradient(rng):
    # from Flatten: a C-ordered (n, c, h, w) gradient
    layer = built(MaxPool2D(2), (3, 4, 6))
    x = channel_major_copy(rng.standard_normal((2, 3, 4, 6)))
    a = layer.forward(x, training=True)
    g = rng.standard_normal(a.shape)
    dx = layer.backward(g)
    dx_cm = layer.backward(channel_major_copy(g))
    np.testing.assert_array_equal(dx, dx_cm)
    window_max = x == np.repeat(np.repeat(a, 2, axis=2), 2, axis=3)
    np.testing.assert_array_equal(
        dx, np.where(window_max, np.repeat(np.repeat(g, 2, axis=2), 2, axis=3), 0)
    )


def test_backward_linear_stores_delta_and_skips_dx_for_the_first_layer(rng):
    conv = built(Conv2D(2, 3), (1, 5, 5))
    x = rng.standard_normal((3, 1, 5, 5))
    conv.forward(x, training=True)
    delta = rng.standard_normal((3, 2, 3, 3))
    dx = conv.backward_linear(delta)
    assert dx.shape == x.shape and conv.delta is delta
    W_grad, b_grad = conv.grads["W"], conv.grads["b"]
    expected_W = conv.grads["W"].copy()
    conv.needs_input_grad = False
    conv.forward(x, training=True)
    assert conv.backward_linear(delta) is None
    # the gradient buffers are filled in place, not replaced
    assert conv.grads["W"] is W_grad and conv.grads["b"] is b_grad
    np.testing.assert_allclose(conv.grads["W"], expected_W)
    np.testing.assert_allclose(conv.grads["b"], delta.sum(axis=(0, 2, 3)))


# -- construction, configuration, initialisation ---------------------------------------------------
def test_conv_parameters_have_the_documented_shapes_and_initialisation():
    conv = Conv2D(16, 3, activation="relu")
    assert conv.weight_init == "he_uniform"  # "auto" with ReLU
    out = conv.build((3, 28, 28), np.random.default_rng(0), np.float32)
    assert out == (16, 26, 26)
    assert conv.params["W"].shape == (16, 3, 3, 3) and conv.params["b"].shape == (16,)
    assert conv.params["W"].dtype == np.float32
    fan_in = 3 * 3 * 3
    assert np.abs(conv.params["W"]).max() <= np.sqrt(6 / fan_in)
    assert conv.params["W"].std() > 0.5 * np.sqrt(2 / fan_in)
    assert not conv.params["b"].any()
    assert conv.n_params == 16 * 27 + 16
    assert Conv2D(4, 3, activation="tanh").weight_init == "glorot_uniform"


def test_config_round_trips_through_json():
    conv = Conv2D(
        8,
        (3, 5),
        stride=2,
        padding=(1, 2),
        activation={"name": "leaky_relu", "alpha": 0.2},
        use_bias=False,
        weight_init="he_normal",
    )
    config = json.loads(json.dumps(conv.get_config()))
    assert config == {
        "filters": 8,
        "kernel_size": [3, 5],
        "stride": 2,
        "padding": [1, 2],
        "activation": {"name": "leaky_relu", "alpha": 0.2},
        "use_bias": False,
        "weight_init": "he_normal",
        "bias_init": "zeros",
    }
    assert Conv2D(**config).get_config() == config
    same = Conv2D(4, 3, padding="SAME").get_config()
    assert same["padding"] == "same" and same["kernel_size"] == 3 and same["stride"] == 1
    pool = MaxPool2D(3, stride=2)
    assert MaxPool2D(**json.loads(json.dumps(pool.get_config()))).get_config() == {
        "pool_size": 3,
        "stride": 2,
    }
    assert repr(MaxPool2D(2)) == "MaxPool2D(pool_size=2, stride=2)"


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"filters": 0, "kernel_size": 3}, ValueError, "filters must be >= 1, got 0"),
        ({"filters": 2.0, "kernel_size": 3}, TypeError, "filters must be an integer, got 2.0"),
        ({"filters": 2, "kernel_size": 0}, ValueError, "kernel_size must be >= 1, got 0"),
        (
            {"filters": 2, "kernel_size": "3"},
            TypeError,
            "kernel_size must be an integer or a pair of integers, got '3'",
        ),
        ({"filters": 2, "kernel_size": (3, 3, 3)}, TypeError, r"kernel_size must be .*\(3, 3, 3\)"),
        ({"filters": 2, "kernel_size": 3, "stride": 0}, ValueError, "stride must be >= 1, got 0"),
        (
            {"filters": 2, "kernel_size": 3, "stride": True},
            TypeError,
            "stride must be an integer or a pair of integers, got True",
        ),
        (
            {"filters": 2, "kernel_size": 3, "padding": "full"},
            ValueError,
            'padding must be "valid", "same", an integer >= 0 or a pair of them, got \'full\'',
        ),
        (
            {"filters": 2, "kernel_size": 3, "padding": -1},
            ValueError,
            "padding must be >= 0, got -1",
        ),
        (
            {"filters": 2, "kernel_size": 3, "padding": 1.5},
            TypeError,
            "padding must be an integer or a pair of integers, got 1.5",
        ),
        (
            {"filters": 2, "kernel_size": 3, "use_bias": 1},
            TypeError,
            "use_bias must be True or False, got 1",
        ),
        (
            {"filters": 2, "kernel_size": 3, "activation": "relux"},
            ValueError,
            "unknown activation 'relux'",
        ),
        (
            {"filters": 2, "kernel_size": 3, "weight_init": "he"},
            ValueError,
            "unknown initializer 'he'",
        ),
        (
            {"filters": 2, "kernel_size": 3, "input_shape": (28, 28)},
            ValueError,
            r"input_shape must be \(channels, height, width\), got \(28, 28\)",
        ),
    ],
)
def test_conv_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        Conv2D(**kwargs)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"pool_size": 0}, ValueError, "pool_size must be >= 1, got 0"),
        ({"pool_size": 2.0}, TypeError, "pool_size must be an integer or a pair of integers"),
        ({"pool_size": 2, "stride": -1}, ValueError, "stride must be >= 1, got -1"),
    ],
)
def test_maxpool_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        MaxPool2D(**kwargs)


def test_a_kernel_larger_than_the_padded_input_is_a_clear_error():
    rng = np.random.default_rng(0)
    with pytest.raises(
        ValueError, match="Conv2D kernel height 5 is larger than the input height 4"
    ):
        Conv2D(1, 5).build((1, 4, 9), rng, np.float32)
    with pytest.raises(
        ValueError, match="Conv2D kernel width 7 is larger than the padded input width 6"
    ):
        Conv2D(1, (3, 7), padding=1).build((1, 4, 4), rng, np.float32)
    assert Conv2D(1, 5, padding="same").build((1, 4, 4), rng, np.float32) == (1, 4, 4)
    with pytest.raises(
        ValueError, match="MaxPool2D pool height 3 is larger than the input height 2"
    ):
        MaxPool2D(3).build((1, 2, 8), rng, np.float32)


@pytest.mark.parametrize("layer", [Conv2D(2, 3), MaxPool2D(2)], ids=["Conv2D", "MaxPool2D"])
def test_inputs_of_the_wrong_shape_are_clear_errors(layer):
    name = type(layer).__name__
    rng = np.random.default_rng(0)
    with pytest.raises(
        ValueError,
        match=rf"{name} expects inputs of shape \(n, channels, "
        r"height, width\), got feature shape \(784,\)",
    ):
        layer.build((784,), rng, np.float32)
    with pytest.raises(RuntimeError, match=f"{name} is not built"):
        layer.forward(np.zeros((1, 1, 8, 8)))
    layer.build((1, 8, 8), rng, np.float32)
    with pytest.raises(
        ValueError,
        match=rf"{name} expects inputs of shape \(n, channels, "
        r"height, width\), got \(4, 8, 8\)",
    ):
        layer.forward(np.zeros((4, 8, 8)))
    with pytest.raises(
        ValueError,
        match=r"= \(n, 1, 8, 8\) as it was built, got "
        r"\(4, 3, 8, 8\)",
    ):
        layer.forward(np.zeros((4, 3, 8, 8)))


# -- in a model ------------------------------------------------------------------------------------
def test_a_layer_stack_matches_the_loops_end_to_end(rng):
    """conv -> relu -> pool -> conv -> pool -> flatten -> dense, each layer's output fed
    to the next in the memory layout the previous one returned."""
    layers = [
        Conv2D(3, 3, padding="same", activation="relu"),
        MaxPool2D(2),
        Conv2D(4, 3, padding=1, activation="tanh"),
        MaxPool2D(2),
        Flatten(),
        Dense(2),
    ]
    shape = (2, 9, 8)
    for layer in layers:
        shape = built(layer, shape).output_shape
    x = rng.standard_normal((3, 2, 9, 8))
    out = x
    for layer in layers:
        out = layer.forward(out)
    c1, _, c2, _, _, dense = layers
    ref = np.maximum(conv2d_forward(x, c1.params["W"], c1.params["b"], (1, 1), ((1, 1), (1, 1))), 0)
    ref = maxpool2d_forward(ref, (2, 2), (2, 2))
    ref = np.tanh(conv2d_forward(ref, c2.params["W"], c2.params["b"], (1, 1), ((1, 1), (1, 1))))
    ref = maxpool2d_forward(ref, (2, 2), (2, 2)).reshape(3, -1)
    np.testing.assert_allclose(out, ref @ dense.params["W"] + dense.params["b"], atol=1e-12)


def test_model_gradcheck_of_a_small_cnn(rng):
    gn = pytest.importorskip("glassnet")
    if not hasattr(gn, "gradcheck") or not hasattr(gn, "Sequential"):
        pytest.skip("glassnet.glassbox.gradcheck / Sequential not available yet")
    model = gn.Sequential(
        [
            Conv2D(3, 3, padding="same", activation="tanh"),
            MaxPool2D(2),
            Conv2D(2, 2, stride=2, activation="sigmoid"),
            Flatten(),
            Dense(3, activation="softmax"),
        ],
        dtype="float64",
    )
    X = rng.standard_normal((4, 2, 9, 8))
    y = np.array([0, 1, 2, 1])
    result = gn.gradcheck(model, X, y, loss="cross_entropy")
    assert result.max_error < 1e-6, str(result)
    assert len(result.per_param) == 6


def bars(n, rng, size=8):
    """Images of one horizontal (class 0), vertical (1) or diagonal (2) bar, plus noise."""
    X = rng.normal(0.0, 0.1, size=(n, 1, size, size))
    y = rng.integers(0, 3, n)
    position = rng.integers(1, size - 1, n)
    for k in range(n):
        if y[k] == 0:
            X[k, 0, position[k], :] += 1.0
        elif y[k] == 1:
            X[k, 0, :, position[k]] += 1.0
        else:
            X[k, 0] += np.eye(size)[:, :: rng.choice([1, -1])]
    return X.astype(np.float32), y


def test_a_small_cnn_learns_bars(rng):
    gn = pytest.importorskip("glassnet")
    if not hasattr(gn, "Sequential") or not hasattr(gn, "Adam"):
        pytest.skip("glassnet.Sequential / Adam not available yet")
    X, y = bars(300, rng)
    model = gn.Sequential(
        [
            Conv2D(4, 3, padding="same", activation="relu"),
            MaxPool2D(2),
            Flatten(),
            Dense(3, activation="softmax"),
        ],
        dtype="float32",
    )
    model.fit(
        X,
        y,
        loss="cross_entropy",
        optimizer=gn.Adam(1e-2),
        epochs=15,
        batch_size=32,
        rng=0,
        verbose=0,
    )
    X_test, y_test = bars(300, np.random.default_rng(1))
    accuracy = np.mean(model.predict(X_test).argmax(axis=1) == y_test)
    assert accuracy >= 0.95


def test_a_copy_leaves_the_scratch_buffers_behind_and_still_works(rng):
    import copy

    conv = built(Conv2D(2, 3, padding="same"), (1, 6, 6))
    x = rng.standard_normal((4, 1, 6, 6))
    a = conv.forward(x, training=True)
    conv.work = ReusedArrays()
    a = conv.forward(x, training=True)
    clone = copy.deepcopy(conv)
    assert clone.work.arrays == {} and conv.work.arrays
    assert clone.x_col is None and conv.x_col is not None
    np.testing.assert_array_equal(clone.forward(x, training=True), a)
    clone.backward(np.ones_like(a))
    conv.backward(np.ones_like(a))
    np.testing.assert_array_equal(clone.grads["W"], conv.grads["W"])


def test_a_tied_window_sends_its_gradient_to_the_first_input_column_by_column():
    """Which input of a tie gets the gradient is fixed: inputs are taken column by column."""
    layer = built(MaxPool2D(2), (1, 2, 2))
    layer.forward(np.array([[[[0.1, 0.9], [0.9, 0.2]]]]))  # (0, 1) and (1, 0) tie
    dx = layer.backward(np.array([[[[1.0]]]]))
    np.testing.assert_array_equal(dx[0, 0], [[0.0, 0.0], [1.0, 0.0]])


# -- the reference loops themselves ---------------------------------------------------------------
@pytest.mark.parametrize(
    "stride, padding, shape",
    [(1, "valid", (2, 2, 5, 6)), (2, "same", (2, 3, 7, 6)), ((2, 1), 1, (1, 2, 5, 5))],
)
def test_the_reference_backward_matches_central_differences_and_conv2d(stride, padding, shape, rng):
    """The loop backward is the chain rule on the loop forward (checked by finite differences),
    and Conv2D's im2col backward gives the same dL/dx, dL/dW and dL/db."""
    conv = built(Conv2D(3, 3, stride=stride, padding=padding), shape[1:])
    W, b = conv.params["W"], conv.params["b"]
    b[...] = rng.standard_normal(3)
    x = rng.standard_normal(shape)
    pads = conv._pads(*shape[2:])
    R = rng.standard_normal((shape[0], *conv.output_shape))

    def loss():
        return float(np.sum(R * conv2d_forward(x, W, b, conv.stride, pads)))

    dx, dW, db = conv2d_backward(x, W, R, conv.stride, pads)
    for analytic, array in ((dx, x), (dW, W), (db, b)):
        assert relative_error(analytic, numeric_gradient(loss, array)) < 1e-7
    np.testing.assert_allclose(
        conv.forward(x, training=True), conv2d_forward(x, W, b, conv.stride, pads), atol=1e-12
    )
    np.testing.assert_allclose(conv.backward(R), dx, atol=1e-12)
    np.testing.assert_allclose(conv.grads["W"], dW, atol=1e-12)
    np.testing.assert_allclose(conv.grads["b"], db, atol=1e-12)


def test_maxpool_describes_its_stride_when_it_is_not_the_pool_size():
    assert MaxPool2D(3, stride=2).describe() == "MaxPool2D(3, stride 2)"
    assert MaxPool2D(2).describe() == "MaxPool2D(2)"
