import numpy as np
import pytest

import glassnet as gn
from glassnet.glassbox.gradcheck import numeric_gradient, relative_error
from glassnet.nn.activations import ACTIVATIONS, get_activation, sigmoid

ALL = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "softmax"]


def test_sigmoid_matches_textbook_formula_bit_for_bit():
    z = np.linspace(-30, 30, 601)
    assert np.array_equal(sigmoid(z), 1 / (1 + np.exp(-z)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_softmax_never_overflow(dtype):
    z = np.array([[-1e4, -800.0, 0.0, 800.0, 1e4]], dtype=dtype)
    s = sigmoid(z)  # the suite turns NumPy warnings into errors
    assert s.dtype == dtype
    assert np.all(np.isfinite(s)) and s[0, 0] < 1e-30 and s[0, -1] == 1.0 and s[0, 2] == 0.5
    p = gn.Softmax().forward(z)
    assert np.all(np.isfinite(p)) and p.sum() == pytest.approx(1.0) and p[0, -1] == 1.0


def test_derivatives_say_what_they_use():
    # sigmoid and tanh use their output a, ReLU-family their input z; each says so
    assert gn.Sigmoid.uses == "output" and gn.Tanh.uses == "output"
    assert gn.ReLU.uses == "input" and gn.LeakyReLU.uses == "input"
    s = gn.Sigmoid()
    s.forward(np.array([0.0]))
    assert s.derivative()[0] == 0.25  # a (1 - a) = 0.5 * 0.5
    r = gn.LeakyReLU(alpha=0.1)
    r.forward(np.array([-2.0, 3.0]))
    assert np.array_equal(r.derivative(), [0.1, 1.0])


@pytest.mark.parametrize("name", ALL)
def test_backward_matches_finite_differences(name, rng):
    act = get_activation(name)
    z = rng.normal(size=(4, 5))
    z[np.abs(z) < 1e-3] = 0.5  # keep away from the ReLU kink
    g = rng.normal(size=z.shape)
    act.forward(z)
    analytic = act.backward(g)
    numeric = numeric_gradient(lambda: np.sum(g * act.function(z)), z)
    assert relative_error(analytic, numeric) < 1e-6


def test_names_instances_and_classes():
    assert isinstance(get_activation("ReLU"), gn.ReLU)
    assert isinstance(get_activation(None), gn.Identity)
    assert isinstance(get_activation(gn.Tanh), gn.Tanh)
    leaky = gn.LeakyReLU(0.2)
    copy = get_activation(leaky)
    assert copy is not leaky and copy.alpha == 0.2
    assert get_activation({"name": "leaky_relu", "alpha": 0.3}).alpha == 0.3
    assert set(ALL) == set(ACTIVATIONS)


def test_unknown_activation_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"unknown activation 'relux'; valid names are: .*relu"):
        gn.Dense(3, activation="relux")
    with pytest.raises(TypeError, match="activation must be a name"):
        gn.Dense(3, activation=3)
    with pytest.raises(ValueError, match="alpha must be >= 0.0, got -1.0"):
        gn.LeakyReLU(alpha=-1)


def test_dtype_is_kept():
    for name in ALL:
        z = np.ones((2, 3), dtype=np.float32)
        act = get_activation(name)
        assert act.forward(z).dtype == np.float32, name
        assert act.backward(z).dtype == np.float32, name
