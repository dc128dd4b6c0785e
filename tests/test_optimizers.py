"""One step of each optimizer, worked by hand."""

import numpy as np
import pytest

import glassnet as gn


def _slots(p, g):
    return [("w", p, g)]


def test_sgd_plain_step():
    p, g = np.array([1.0, -2.0]), np.array([0.5, -1.0])
    gn.SGD(learning_rate=0.1).step(_slots(p, g))
    # p - 0.1 g = [1 - 0.05, -2 + 0.1]
    assert np.allclose(p, [0.95, -1.9], rtol=0, atol=1e-15)


def test_sgd_momentum_two_steps():
    p, g = np.array([1.0]), np.array([0.5])
    opt = gn.SGD(learning_rate=0.1, momentum=0.9)
    opt.step(_slots(p, g))
    # v = 0.9*0 + 0.5 = 0.5 ; p = 1 - 0.1*0.5 = 0.95
    assert p[0] == pytest.approx(0.95, abs=1e-15)
    opt.step(_slots(p, g))
    # v = 0.9*0.5 + 0.5 = 0.95 ; p = 0.95 - 0.1*0.95 = 0.855
    assert p[0] == pytest.approx(0.855, abs=1e-15)


def test_sgd_nesterov_two_steps():
    p, g = np.array([1.0]), np.array([0.5])
    opt = gn.SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    opt.step(_slots(p, g))
    # v = 0.5 ; step = g + 0.9 v = 0.5 + 0.45 = 0.95 ; p = 1 - 0.095 = 0.905
    assert p[0] == pytest.approx(0.905, abs=1e-15)
    opt.step(_slots(p, g))
    # v = 0.9*0.5 + 0.5 = 0.95 ; step = 0.5 + 0.855 = 1.355 ; p = 0.905 - 0.1355 = 0.7695
    assert p[0] == pytest.approx(0.7695, abs=1e-15)


def test_sgd_weight_decay():
    p, g = np.array([2.0]), np.array([0.5])
    gn.SGD(learning_rate=0.1, weight_decay=0.01).step(_slots(p, g))
    # g' = 0.5 + 0.01*2 = 0.52 ; p = 2 - 0.052 = 1.948 ; the gradient itself is untouched
    assert p[0] == pytest.approx(1.948, abs=1e-15)
    assert g[0] == 0.5


def test_adam_first_step_moves_by_learning_rate():
    p, g = np.array([1.0, 1.0]), np.array([0.2, -3.0])
    gn.Adam(learning_rate=0.01).step(_slots(p, g))
    # m = 0.1 g ; v = 0.001 g^2 ; m_hat = g ; v_hat = g^2 ;
    # step = 0.01 * g / (|g| + 1e-8) = 0.01 * sign(g) (up to 1e-8 / |g|)
    assert np.allclose(p, [0.99, 1.01], rtol=0, atol=1e-9)


def test_adam_second_step_by_hand():
    p, opt = np.array([0.0]), gn.Adam(learning_rate=0.1, beta1=0.9, beta2=0.999, epsilon=1e-8)
    opt.step(_slots(p, np.array([1.0])))
    # m_hat = 1, v_hat = 1: p = -0.1 * 1 / (1 + 1e-8)
    assert p[0] == pytest.approx(-0.1 / (1 + 1e-8), abs=1e-15)
    opt.step(_slots(p, np.array([0.5])))
    # m = 0.9*0.1 + 0.1*0.5 = 0.14 ; v = 0.999*0.001 + 0.001*0.25 = 0.001249
    # m_hat = 0.14 / (1 - 0.81) = 0.736842 ; v_hat = 0.001249 / (1 - 0.998001) = 0.624812
    # p = -0.1 - 0.1 * 0.736842 / (sqrt(0.624812) + 1e-8) = -0.1 - 0.093218 = -0.193218
    m_hat, v_hat = 0.14 / 0.19, 0.001249 / (1 - 0.999**2)
    expected = -0.1 / (1 + 1e-8) - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8)
    assert p[0] == pytest.approx(expected, abs=1e-12)
    assert p[0] == pytest.approx(-0.193218, abs=1e-6)


def test_rmsprop_step_by_hand():
    p = np.array([1.0])
    gn.RMSprop(learning_rate=0.01, rho=0.9, epsilon=1e-8).step(_slots(p, np.array([2.0])))
    # v = 0.1 * 4 = 0.4 ; p = 1 - 0.01 * 2 / sqrt(0.4) = 1 - 0.0316228 = 0.9683772
    assert p[0] == pytest.approx(1 - 0.02 / (np.sqrt(0.4) + 1e-8), abs=1e-12)
    assert p[0] == pytest.approx(0.9683772, abs=1e-7)


@pytest.mark.parametrize("cls", [gn.SGD, gn.Adam, gn.RMSprop])
def test_updates_are_in_place_and_keep_float32(cls):
    p = np.ones(3, dtype=np.float32)
    before = p
    cls(learning_rate=0.1, weight_decay=0.1).step(_slots(p, np.ones(3, dtype=np.float32)))
    assert p is before and p.dtype == np.float32 and np.all(p < 1)


def test_validation_messages():
    with pytest.raises(ValueError, match="learning_rate must be > 0.0, got -0.1"):
        gn.SGD(learning_rate=-0.1)
    with pytest.raises(ValueError, match="learning_rate must be > 0.0, got 0.0"):
        gn.Adam(learning_rate=0)
    with pytest.raises(TypeError, match="learning_rate must be a number, got 'fast'"):
        gn.RMSprop(learning_rate="fast")
    with pytest.raises(ValueError, match="momentum must be < 1.0, got 1.5"):
        gn.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0"):
        gn.SGD(nesterov=True)
    with pytest.raises(ValueError, match="beta2 must be < 1.0, got 1.0"):
        gn.Adam(beta2=1.0)
    with pytest.raises(ValueError, match="weight_decay must be >= 0.0, got -1.0"):
        gn.SGD(weight_decay=-1)
    with pytest.raises(
        ValueError, match="unknown optimizer 'adamw'; valid names are: adam, rmsprop, sgd"
    ):
        gn.Sequential([gn.Dense(1)]).fit(np.ones((2, 1)), np.ones(2), loss="mse", optimizer="adamw")


@pytest.mark.parametrize(
    "optimizer",
    [
        gn.SGD(0.01),
        gn.SGD(0.01, momentum=0.9, nesterov=True, weight_decay=1e-4),
        gn.Adam(0.001),
        gn.Adam(0.001, weight_decay=1e-4),
        gn.RMSprop(0.001, weight_decay=1e-4),
    ],
    ids=repr,
)
def test_a_step_allocates_nothing_the_size_of_the_parameters(optimizer):
    """Updates are written in place into kept buffers: a step on 100,000 float32 parameters
    (400 KB) allocates at most a few hundred bytes of Python objects. (A float64 scalar in
    Adam's update once made every in-place pass go through 130 KB casting buffers.)"""
    import tracemalloc

    rng = np.random.default_rng(0)
    p = rng.standard_normal(100_000).astype(np.float32)
    g = (rng.standard_normal(100_000) * 1e-3).astype(np.float32)
    slots = [("w", p, g)]
    optimizer.step(slots)  # the state and work space are made on the first step
    tracemalloc.start()
    optimizer.step(slots)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 4_000, peak
    assert p.dtype == np.float32 and optimizer.state["w"]["scratch"].dtype == np.float32
