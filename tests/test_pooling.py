"""AveragePooling2D and GlobalAveragePooling2D: hand-worked numbers, the plain loops of
glassnet.nn.conv_reference, central differences, and PyTorch as the oracle."""

from __future__ import annotations

import json

import numpy as np
import pytest

import glassnet as gn
from glassnet.nn.conv_reference import avgpool2d_forward
from test_conv import check_layer_gradients


def built(layer, input_shape, dtype=np.float64):
    layer.build(input_shape, np.random.default_rng(0), dtype)
    return layer


# -- hand-worked -------------------------------------------------------------------------------


def test_two_by_two_average_of_a_four_by_four_image():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    layer = built(gn.AveragePooling2D(2), (1, 4, 4))
    a = layer.forward(x)
    # (0 + 1 + 4 + 5) / 4 = 2.5     (2 + 3 + 6 + 7) / 4 = 4.5
    # (8 + 9 + 12 + 13) / 4 = 10.5  (10 + 11 + 14 + 15) / 4 = 12.5
    assert np.array_equal(a, [[[[2.5, 4.5], [10.5, 12.5]]]])
    # backward: each window's gradient split equally over its 4 inputs
    dx = layer.backward(np.array([[[[4.0, 8.0], [12.0, 16.0]]]]))
    assert np.array_equal(dx[0, 0], [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]])


def test_same_padding_averages_only_the_pixels_a_window_covers():
    # 3x3 image, 2x2 windows, stride 2, "same": ceil(3 / 2) = 2 outputs per side, total
    # padding (2 - 1) * 2 + 2 - 3 = 1 zero, put after (bottom/right) as Keras does
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)  # [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    layer = built(gn.AveragePooling2D(2, padding="same"), (1, 3, 3))
    assert layer.output_shape == (1, 2, 2)
    a = layer.forward(x)
    # (1 + 2 + 4 + 5) / 4 = 3   (3 + 6) / 2 = 4.5   (7 + 8) / 2 = 7.5   9 / 1 = 9
    assert np.array_equal(a, [[[[3.0, 4.5], [7.5, 9.0]]]])
    dx = layer.backward(np.ones((1, 1, 2, 2)))
    assert np.array_equal(dx[0, 0], [[0.25, 0.25, 0.5], [0.25, 0.25, 0.5], [0.5, 0.5, 1.0]])


def test_global_average_is_the_mean_of_each_channel():
    x = np.stack([np.arange(6.0).reshape(2, 3), np.full((2, 3), 7.0)])[None]  # (1, 2, 2, 3)
    layer = built(gn.GlobalAveragePooling2D(), (2, 2, 3))
    assert layer.output_shape == (2,)
    # channel 0: (0 + 1 + 2 + 3 + 4 + 5) / 6 = 2.5; channel 1: 7
    assert np.array_equal(layer.forward(x), [[2.5, 7.0]])
    dx = layer.backward(np.array([[6.0, 12.0]]))  # 6 / 6 = 1 and 12 / 6 = 2 to every pixel
    assert np.array_equal(dx, np.stack([np.ones((2, 3)), np.full((2, 3), 2.0)])[None])


# -- against the loops, and by central differences ---------------------------------------------
CASES = [
    # pool, stride, padding, x shape (n, c, h, w), expected (out_h, out_w)
    (2, None, "valid", (2, 3, 6, 8), (3, 4)),
    (2, None, "valid", (2, 2, 7, 9), (3, 4)),  # ragged: the last row and column dropped
    (3, 2, "valid", (2, 2, 7, 9), (3, 4)),  # overlapping
    (2, 3, "valid", (1, 2, 8, 7), (3, 2)),  # gaps between windows
    ((2, 3), (1, 2), "valid", (2, 2, 5, 7), (4, 3)),
    (2, None, "same", (2, 2, 7, 9), (4, 5)),
    (3, 1, "same", (1, 3, 5, 6), (5, 6)),  # odd pool, stride 1: one zero each side
    (3, 2, "same", (2, 1, 6, 7), (3, 4)),
    ((2, 4), (2, 3), "same", (1, 2, 5, 8), (3, 3)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("pool, stride, padding, shape, out_hw", CASES)
def test_average_pooling_matches_the_loops(pool, stride, padding, shape, out_hw, dtype, rng):
    layer = built(gn.AveragePooling2D(pool, stride, padding), shape[1:], dtype)
    x = rng.standard_normal(shape).astype(dtype)
    a = layer.forward(x)
    assert a.shape == (shape[0], shape[1], *out_hw) and a.dtype == dtype
    _, height, width = shape[1:]
    expected = avgpool2d_forward(x, layer.pool_size, layer.stride, layer._pads(height, width))
    tol = {"rtol": 1e-6, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-13, "atol": 0}
    np.testing.assert_allclose(a, expected, **tol)
    assert layer.backward(np.ones_like(a)).dtype == dtype


@pytest.mark.parametrize("pool, stride, padding, shape, out_hw", CASES)
def test_average_pooling_gradients_match_central_differences(
    pool, stride, padding, shape, out_hw, rng
):
    layer = built(gn.AveragePooling2D(pool, stride, padding), shape[1:])
    check_layer_gradients(layer, rng.standard_normal(shape), rng, tolerance=1e-9)


def test_global_average_pooling_gradient_matches_central_differences(rng):
    layer = built(gn.GlobalAveragePooling2D(), (3, 4, 5))
    check_layer_gradients(layer, rng.standard_normal((2, 3, 4, 5)), rng, tolerance=1e-9)
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    layer = built(gn.GlobalAveragePooling2D(), (3, 4, 5), np.float32)
    assert layer.forward(x).dtype == np.float32
    assert layer.backward(np.ones((2, 3), np.float32)).dtype == np.float32


def small_cnn():
    return gn.Sequential(
        [
            gn.Conv2D(4, 3, padding="same", activation="relu"),
            gn.AveragePooling2D(2, padding="same"),
            gn.Conv2D(6, 3, activation="gelu"),
            gn.GlobalAveragePooling2D(),
            gn.Dense(3, activation="softmax"),
        ]
    )


def test_a_cnn_with_both_poolings_passes_a_gradient_check(rng):
    X = rng.standard_normal((4, 2, 7, 7))
    y = rng.integers(0, 3, size=4)
    result = gn.gradcheck(small_cnn(), X, y, loss="cross_entropy")
    assert result.max_error < 1e-7, result


def test_pooling_layers_save_load_and_describe_themselves(tmp_path, rng):
    model = small_cnn().build((2, 7, 7), rng=0)
    model.save(tmp_path / "cnn.safetensors")
    loaded = gn.load(tmp_path / "cnn.safetensors")
    X = rng.standard_normal((3, 2, 7, 7)).astype(np.float32)
    assert np.array_equal(loaded.predict(X), model.predict(X))
    assert loaded.layers[1].get_config() == {"pool_size": 2, "stride": 2, "padding": "same"}
    pool = gn.AveragePooling2D((2, 3), stride=1)
    config = json.loads(json.dumps(pool.get_config()))
    assert config == {"pool_size": [2, 3], "stride": 1, "padding": "valid"}
    assert gn.AveragePooling2D(**config).get_config() == config
    assert pool.describe() == "AveragePooling2D([2, 3], stride 1)"
    assert model.layers[1].describe() == "AveragePooling2D(2, same)"
    assert "GlobalAveragePooling2D" in model.format_summary()
    assert model.layers[3].output_shape == (6,)


def test_pooling_refuses_bad_arguments_and_shapes():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r'padding must be "valid" or "same", got \'full\''):
        gn.AveragePooling2D(2, padding="full")
    with pytest.raises(ValueError, match=r'padding must be "valid" or "same", got 1'):
        gn.AveragePooling2D(2, padding=1)
    with pytest.raises(ValueError, match="stride must be >= 1, got 0"):
        gn.AveragePooling2D(2, stride=0)
    with pytest.raises(
        ValueError,
        match="AveragePooling2D pool height 3 is larger than the input height 2; use a "
        'smaller pool height or padding="same"',
    ):
        gn.AveragePooling2D(3).build((1, 2, 8), rng, np.float32)
    assert gn.AveragePooling2D(3, padding="same").build((1, 2, 8), rng, np.float32) == (1, 1, 3)
    with pytest.raises(ValueError, match=r"GlobalAveragePooling2D expects inputs of shape"):
        gn.GlobalAveragePooling2D().build((5,), rng, np.float32)
    layer = built(gn.GlobalAveragePooling2D(), (2, 3, 3))
    with pytest.raises(ValueError, match=r"expects inputs of shape .* got \(1, 2, 3\)"):
        layer.forward(np.zeros((1, 2, 3)))


# -- PyTorch as the oracle ---------------------------------------------------------------------


@pytest.mark.parametrize("pool, stride, padding, shape, out_hw", CASES)
def test_average_pooling_matches_pytorch(pool, stride, padding, shape, out_hw, rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    layer = built(gn.AveragePooling2D(pool, stride, padding), shape[1:])
    x = rng.standard_normal(shape)
    g = rng.standard_normal((shape[0], shape[1], *out_hw))
    t = torch.tensor(x, requires_grad=True)
    (top, bottom), (left, right) = layer._pads(*shape[2:])
    padded = F.pad(t, (left, right, top, bottom))  # zeros, then: the sum over the count of
    ones = F.pad(torch.ones_like(t), (left, right, top, bottom))  # the pixels in the image
    kernel, step = layer.pool_size, layer.stride
    expected = F.avg_pool2d(padded, kernel, step) / F.avg_pool2d(ones, kernel, step)
    if padding == "valid":  # the plain PyTorch call
        assert torch.equal(expected, F.avg_pool2d(t, kernel, step))
    (expected * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(layer.forward(x), expected.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(layer.backward(g), t.grad.numpy(), rtol=1e-13)


def test_global_average_pooling_matches_pytorch(rng):
    torch = pytest.importorskip("torch")
    layer = built(gn.GlobalAveragePooling2D(), (3, 5, 4))
    x, g = rng.standard_normal((2, 3, 5, 4)), rng.standard_normal((2, 3))
    t = torch.tensor(x, requires_grad=True)
    expected = torch.nn.functional.adaptive_avg_pool2d(t, 1).flatten(1)
    (expected * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(layer.forward(x), expected.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(layer.backward(g), t.grad.numpy(), rtol=1e-13)
