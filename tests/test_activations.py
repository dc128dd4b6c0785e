import math

import numpy as np
import pytest

import glassnet as gn
from glassnet.glassbox.gradcheck import numeric_gradient, relative_error
from glassnet.nn import erf
from glassnet.nn.activations import ACTIVATIONS, get_activation, sigmoid

NEW = ["elu", "gelu", "silu", "softplus"]
ALL = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "softmax", *NEW]


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


# -- ELU, GELU, SiLU, Softplus -------------------------------------------------------------------

#: each new activation as a layer, with its non-default forms
SMOOTH = {
    "elu": gn.ELU(),
    "elu alpha=0.5": gn.ELU(alpha=0.5),
    "gelu": gn.GELU(),
    "gelu tanh": gn.GELU(approximate=True),
    "silu": gn.SiLU(),
    "softplus": gn.Softplus(),
}


def test_hand_worked_values():
    z = np.array([-1.0, 0.0, 1.0, 2.0])
    # ELU: alpha (e^z - 1) for z <= 0: e^-1 - 1 = 0.36787944117144233 - 1
    assert np.array_equal(gn.ELU()(z), [math.exp(-1) - 1, 0.0, 1.0, 2.0])
    assert gn.ELU(alpha=0.5)(z)[0] == 0.5 * (math.exp(-1) - 1)
    # GELU: z Phi(z); Phi(1) = (1 + erf(1/sqrt 2)) / 2 = 0.8413447460685429
    phi = 0.5 * (1 + np.array([math.erf(v / math.sqrt(2)) for v in z]))
    np.testing.assert_allclose(gn.GELU()(z), z * phi, rtol=1e-15, atol=0)
    assert gn.GELU()(z)[2] == pytest.approx(0.8413447460685429, rel=1e-15)
    # SiLU: z sigmoid(z); sigmoid(1) = 1 / (1 + e^-1) = 0.7310585786300049
    assert gn.SiLU()(z)[2] == 1 / (1 + math.exp(-1))
    assert gn.SiLU()(z)[1] == 0.0
    # Softplus: log(1 + e^z); log 2 = 0.6931471805599453 at 0, log(1 + e^2) = 2.1269280110429727
    assert gn.Softplus()(z)[1] == math.log(2)
    assert gn.Softplus()(z)[3] == pytest.approx(math.log1p(math.exp(2)), rel=1e-15)


@pytest.mark.parametrize("name", SMOOTH)
def test_new_activations_backward_matches_finite_differences(name, rng):
    act = get_activation(SMOOTH[name])
    z = rng.normal(scale=3.0, size=(6, 7))
    z[np.abs(z) < 1e-3] = 0.5  # ELU with alpha != 1 has a kink at 0
    g = rng.normal(size=z.shape)
    act.forward(z)
    analytic = act.backward(g)
    numeric = numeric_gradient(lambda: np.sum(g * act.function(z)), z)
    assert relative_error(analytic, numeric) < 1e-9
    assert np.array_equal(analytic, g * act.derivative())


@pytest.mark.parametrize("name", SMOOTH)
def test_new_activations_train_and_pass_a_model_gradient_check(name, rng):
    X, y = rng.normal(size=(12, 3)), rng.normal(size=(12, 2))
    model = gn.Sequential([gn.Dense(5, activation=SMOOTH[name]), gn.Dense(2)])
    assert gn.gradcheck(model, X, y, loss="mse").max_error < 1e-7
    history = model.fit(X, y, loss="mse", optimizer=gn.Adam(0.01), epochs=20, rng=0)
    assert history.loss[-1] < history.loss[0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", SMOOTH)
def test_new_activations_never_overflow(name, dtype):
    act = get_activation(SMOOTH[name])
    z = np.array([-1e4, -100.0, 100.0, 1e4], dtype=dtype)
    a = act.forward(z)  # the suite turns NumPy warnings into errors
    d = act.derivative()
    assert a.dtype == dtype and d.dtype == dtype
    alpha = getattr(act, "alpha", 0.0)
    # ELU saturates at -alpha, the others at 0; every one is z itself far to the right
    assert a[0] == pytest.approx(-alpha) and a[-1] == 1e4 and a[2] == 100.0
    # (the sigmoid inside SiLU, Softplus and the tanh GELU holds -1e4 at its overflow limit)
    assert abs(d[0]) < 1e-20 and abs(d[1]) < 1e-20 and d[2] == 1 and d[3] == 1


def test_every_new_activation_says_it_reads_its_input():
    assert all(ACTIVATIONS[name].uses == "input" for name in NEW)


def test_by_name_in_dense_and_conv_and_aliases():
    for name in NEW:
        assert gn.Dense(3, activation=name).activation.name == name
        assert gn.Conv2D(2, 3, activation=name).activation.name == name
    assert get_activation({"name": "gelu", "approximate": True}).approximate is True
    assert get_activation({"name": "elu", "alpha": 0.3}).alpha == 0.3
    assert gn.GELU(approximate=True).spec() == {"name": "gelu", "approximate": True}
    assert gn.GELU().spec() == "gelu"


def test_new_activations_save_and_load(tmp_path, rng):
    model = gn.Sequential(
        [
            gn.Dense(4, activation=gn.ELU(alpha=0.7)),
            gn.Dense(4, activation=gn.GELU(approximate=True)),
            gn.GELU(),
            gn.Dense(3, activation="silu"),
            gn.Softplus(),
        ]
    ).build((2,), rng=0)
    model.save(tmp_path / "m.safetensors")
    loaded = gn.load(tmp_path / "m.safetensors")
    assert loaded.layers[0].activation.alpha == 0.7
    assert loaded.layers[1].activation.approximate is True
    assert loaded.layers[2].approximate is False
    X = rng.normal(size=(5, 2)).astype(np.float32)
    assert np.array_equal(loaded.predict(X), model.predict(X))


def test_new_activations_refuse_bad_arguments():
    with pytest.raises(TypeError, match="approximate must be True or False, got 'tanh'"):
        gn.GELU(approximate="tanh")
    with pytest.raises(ValueError, match="alpha must be >= 0.0, got -1.0"):
        gn.ELU(alpha=-1)


def test_erfc_matches_the_c_library_to_float64_rounding():
    x = np.linspace(-26, 26, 52_001)
    expected = np.array([math.erfc(v) for v in x])
    rel = np.abs(erf.erfc(x) - expected) / expected
    assert rel[np.abs(x) <= 6].max() < 1e-14  # measured 8.8e-15
    assert rel.max() < 3e-13  # measured 1.7e-13 (x^2 rounds to 1e-16 of 676 at x = 26)
    assert np.abs(erf.erf(x) - [math.erf(v) for v in x]).max() < 2e-15  # measured 1.0e-15
    cdf = [0.5 * math.erfc(-v / math.sqrt(2)) for v in x]
    assert (np.abs(erf.normal_cdf(x) - cdf) / cdf).max() < 3e-13


def test_erfc_beyond_its_fit_is_zero_and_never_overflows():
    x = np.array([27.0, 28.0, 1e4, 1e300, np.inf])
    assert np.all(erf.erfc(x)[1:] == 0) and 0 < erf.erfc(x)[0] < 1e-300
    assert np.array_equal(erf.erfc(-x), [2.0] * 5)
    big = np.array([-1e30, 1e30], dtype=np.float32)
    assert np.array_equal(erf.normal_cdf(big), [0, 1]) and erf.normal_cdf(big).dtype == np.float32
    assert np.array_equal(erf.normal_pdf(big), [0, 0])


# -- PyTorch as the oracle ------------------------------------------------------------------------


def torch_pairs(torch):
    """(glassnet activation, the same function in PyTorch)."""
    F = torch.nn.functional
    return {
        "elu": (gn.ELU(), F.elu),
        "elu alpha=0.5": (gn.ELU(alpha=0.5), lambda t: F.elu(t, alpha=0.5)),
        "gelu": (gn.GELU(), F.gelu),
        "gelu tanh": (gn.GELU(approximate=True), lambda t: F.gelu(t, approximate="tanh")),
        "silu": (gn.SiLU(), F.silu),
        "softplus": (gn.Softplus(), F.softplus),
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", SMOOTH)
def test_values_and_derivatives_match_pytorch(name, dtype):
    torch = pytest.importorskip("torch")
    act, reference = torch_pairs(torch)[name]
    z = np.concatenate([np.linspace(-12, 12, 2401), [-1e4, -50.0, 50.0, 1e4]]).astype(dtype)
    z = z[z != 0]  # ELU's one-sided derivative at 0 is a convention
    t = torch.tensor(z, requires_grad=True)
    expected = reference(t)
    expected.sum().backward()
    a = act.forward(z)
    tol = {"rtol": 1e-12, "atol": 1e-14} if dtype == np.float64 else {"rtol": 2e-6, "atol": 1e-6}
    np.testing.assert_allclose(a, expected.detach().numpy(), **tol)
    np.testing.assert_allclose(act.derivative(), t.grad.numpy(), **tol)
