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


@pytest.mark.parametrize("cls", [gn.SGD, gn.Adam, gn.AdamW, gn.RMSprop, gn.Adagrad])
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
        ValueError,
        match="unknown optimizer 'lbfgs'; valid names are: adagrad, adam, adamw, rmsprop, sgd",
    ):
        gn.Sequential([gn.Dense(1)]).fit(np.ones((2, 1)), np.ones(2), loss="mse", optimizer="lbfgs")


@pytest.mark.parametrize(
    "optimizer",
    [
        gn.SGD(0.01),
        gn.SGD(0.01, momentum=0.9, nesterov=True, weight_decay=1e-4),
        gn.Adam(0.001),
        gn.Adam(0.001, weight_decay=1e-4),
        gn.RMSprop(0.001, weight_decay=1e-4),
        gn.AdamW(gn.CosineDecay(0.001, 100, warmup_target=0.01, warmup_steps=5)),
        gn.Adagrad(0.01, weight_decay=1e-4, clipnorm=1.0),
        gn.SGD(gn.OneCycle(0.1, 100), global_clipnorm=0.01),
        gn.Adam(gn.ExponentialDecay(0.001, 10, 0.9), clipvalue=1e-4),
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


# -- AdamW and Adagrad, by hand ------------------------------------------------------------------
def test_adamw_decays_the_weight_then_takes_the_adam_step():
    p, g = np.array([2.0]), np.array([0.5])
    gn.AdamW(learning_rate=0.1, weight_decay=0.1).step(_slots(p, g))
    # p <- p - eta lambda p = 2 - 0.1 * 0.1 * 2 = 1.98
    # Adam's first step: m_hat = g, v_hat = g^2: 0.1 * 0.5 / (0.5 + 1e-8) = 0.1 (less 2e-9)
    assert p[0] == pytest.approx(1.98 - 0.1 * 0.5 / (0.5 + 1e-8), abs=1e-15)
    assert p[0] == pytest.approx(1.88, abs=1e-8)


def test_adamw_leaves_biases_alone_and_its_decay_does_not_pass_through_v():
    W, b = np.array([1.0]), np.array([1.0])
    zero = np.zeros(1)
    opt = gn.AdamW(learning_rate=0.1, weight_decay=0.5)
    opt.step([("layers.0.W", W, zero), ("layers.0.b", b, zero)])
    # g = 0: Adam moves nothing (m = 0); W = 1 - 0.1 * 0.5 * 1 = 0.95; b excluded: 1.0.
    # (L2 decay would put 0.5 * W into g, and Adam would step a full eta = 0.1 on it.)
    assert W[0] == 0.95 and b[0] == 1.0
    assert gn.AdamW().weight_decay == 0.01  # PyTorch's default


def test_adagrad_two_steps_by_hand():
    p = np.array([1.0])
    opt = gn.Adagrad(learning_rate=0.1, initial_accumulator_value=0.1, epsilon=1e-10)
    opt.step(_slots(p, np.array([2.0])))
    # G = 0.1 + 2^2 = 4.1; p = 1 - 0.1 * 2 / sqrt(4.1) = 1 - 0.2 / 2.0248457 = 0.9012270
    assert p[0] == pytest.approx(1 - 0.2 / (np.sqrt(4.1) + 1e-10), abs=1e-15)
    assert p[0] == pytest.approx(0.9012270, abs=1e-7)
    opt.step(_slots(p, np.array([1.0])))
    # G = 4.1 + 1 = 5.1; p = 0.9012270 - 0.1 / sqrt(5.1) = 0.9012270 - 0.0442807 = 0.8569463
    assert p[0] == pytest.approx(0.8569463, abs=1e-7)
    assert opt.state["w"]["accumulator"][0] == pytest.approx(5.1, abs=1e-15)


# -- weight decay: which parameters ---------------------------------------------------------------
def _w_and_b(opt):
    W, b, zero = np.array([1.0]), np.array([1.0]), np.zeros(1)
    opt.step([("layers.0.W", W, zero), ("layers.0.b", b, zero.copy())])
    return W[0], b[0]


def test_l2_decay_skips_biases_unless_told_and_takes_keys_or_names():
    # g' = 0 + 0.5 * 1 = 0.5; p = 1 - 0.1 * 0.5 = 0.95 where decayed
    assert _w_and_b(gn.SGD(0.1, weight_decay=0.5)) == (0.95, 1.0)
    assert _w_and_b(gn.SGD(0.1, weight_decay=0.5, exclude_from_weight_decay=())) == (0.95, 0.95)
    by_name = gn.SGD(0.1, weight_decay=0.5, exclude_from_weight_decay=["layers.0.W"])
    assert _w_and_b(by_name) == (1.0, 0.95)
    assert gn.Adam().decays("layers.3.gamma") is False and gn.Adam().decays("layers.3.W")


# -- clipping, by hand ---------------------------------------------------------------------------
def _moved(opt, *grads):
    """The step SGD(learning_rate=1) takes on each gradient: the gradient it used."""
    params = [np.zeros_like(g) for g in grads]
    kept = [g.copy() for g in grads]
    opt.step([(f"p{i}", p, g) for i, (p, g) in enumerate(zip(params, grads, strict=True))])
    for g, k in zip(grads, kept, strict=True):
        np.testing.assert_array_equal(g, k)  # the model's gradient itself is untouched
    return [-p for p in params]


def test_clipnorm_scales_each_gradient_over_the_bound_on_its_own():
    a, b = _moved(gn.SGD(1.0, clipnorm=1.0), np.array([3.0, 4.0]), np.array([0.1]))
    # ||a|| = 5 > 1: a * 1 / 5 = [0.6, 0.8]; ||b|| = 0.1 <= 1: as it is
    np.testing.assert_allclose(a, [0.6, 0.8], rtol=0, atol=2e-16)
    assert b[0] == 0.1


def test_global_clipnorm_scales_all_gradients_together():
    a, b = _moved(gn.SGD(1.0, global_clipnorm=1.0), np.array([3.0, 4.0]), np.array([12.0]))
    # ||G|| = sqrt(9 + 16 + 144) = 13: every gradient * 1 / 13
    np.testing.assert_allclose(a, [3 / 13, 4 / 13], rtol=0, atol=1e-16)
    assert b[0] == pytest.approx(12 / 13, abs=1e-16)
    (small,) = _moved(gn.SGD(1.0, global_clipnorm=1.0), np.array([0.3, 0.4]))
    np.testing.assert_array_equal(small, [0.3, 0.4])  # ||G|| = 0.5: within the bound


def test_clipvalue_clips_each_element():
    (a,) = _moved(gn.SGD(1.0, clipvalue=0.5), np.array([3.0, -0.2, -4.0]))
    assert a.tolist() == [0.5, -0.2, -0.5]


def test_clipping_comes_before_weight_decay():
    p, g = np.array([2.0]), np.array([30.0])
    gn.SGD(0.1, weight_decay=0.5, clipvalue=1.0).step([("w", p, g)])
    # g = clip(30) = 1; g' = 1 + 0.5 * 2 = 2; p = 2 - 0.1 * 2 = 1.8
    assert p[0] == pytest.approx(1.8, abs=1e-15)


def test_clipping_and_decay_options_are_checked():
    with pytest.raises(ValueError, match=r"^clipnorm must be > 0.0, got 0.0$"):
        gn.Adam(clipnorm=0)
    with pytest.raises(TypeError, match=r"^clipvalue must be a number, got 'big'$"):
        gn.SGD(clipvalue="big")
    with pytest.raises(
        ValueError,
        match=r"^only one of clipnorm, global_clipnorm and clipvalue can be set, got "
        r"clipnorm=1.0 and clipvalue=0.5$",
    ):
        gn.AdamW(clipnorm=1.0, clipvalue=0.5)
    with pytest.raises(
        TypeError, match=r"^exclude_from_weight_decay must be a sequence of parameter keys"
    ):
        gn.AdamW(exclude_from_weight_decay="b")
    with pytest.raises(ValueError, match=r"^initial_accumulator_value must be >= 0.0, got -1.0$"):
        gn.Adagrad(initial_accumulator_value=-1)
    with pytest.raises(TypeError, match=r"^learning_rate must be a number, got <function"):
        gn.Adam(learning_rate=lambda step: 0.1)


def test_repr_shows_the_options_that_are_not_their_defaults():
    assert (
        repr(gn.SGD(0.1))
        == "SGD(learning_rate=0.1, weight_decay=0.0, momentum=0.0, nesterov=False)"
    )
    assert repr(gn.Adagrad(clipnorm=2.0, exclude_from_weight_decay=())) == (
        "Adagrad(learning_rate=0.01, weight_decay=0.0, exclude_from_weight_decay=[], "
        "clipnorm=2.0, initial_accumulator_value=0.0, epsilon=1e-10)"
    )
    assert repr(gn.AdamW(gn.StepDecay(0.1, 5))).startswith(
        "AdamW(learning_rate=StepDecay(initial_learning_rate=0.1, step_size=5, gamma=0.1), "
        "weight_decay=0.01, beta1=0.9"
    )


# -- PyTorch as the oracle ------------------------------------------------------------------------
def _torch_run(torch, make, params, grads_per_step):
    """PyTorch's parameters after the steps; ``make(tensors)`` builds its optimizer."""
    tensors = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in params]
    opt = make(tensors)
    for grads in grads_per_step:
        for t, g in zip(tensors, grads, strict=True):
            t.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    return [t.detach().numpy() for t in tensors]


def _glassnet_run(opt, names, params, grads_per_step):
    params = [np.array(p, dtype=np.float64) for p in params]
    for grads in grads_per_step:
        opt.step([(n, p, np.array(g)) for n, p, g in zip(names, params, grads, strict=True)])
    return params


@pytest.fixture
def steps():
    rng = np.random.default_rng(3)
    params = [rng.standard_normal((3, 2)), rng.standard_normal(2)]
    grads = [[rng.standard_normal((3, 2)), rng.standard_normal(2)] for _ in range(6)]
    return params, grads


def _torch_adamw(torch, t):
    # the bias in a group of its own without decay: what glassnet's default exclusion does
    groups = [{"params": [t[0]]}, {"params": [t[1]], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.2)


def _torch_adagrad(torch, t):
    return torch.optim.Adagrad(t, lr=0.1, initial_accumulator_value=0.3, eps=1e-10)


@pytest.mark.parametrize(
    "make_torch, optimizer",
    [
        (_torch_adamw, gn.AdamW(0.05, beta1=0.8, beta2=0.99, epsilon=1e-6, weight_decay=0.2)),
        (_torch_adagrad, gn.Adagrad(0.1, initial_accumulator_value=0.3, epsilon=1e-10)),
    ],
    ids=["AdamW", "Adagrad"],
)
def test_six_steps_are_torchs(make_torch, optimizer, steps):
    torch = pytest.importorskip("torch")
    params, grads = steps
    expected = _torch_run(torch, lambda t: make_torch(torch, t), params, grads)
    got = _glassnet_run(optimizer, ["layers.0.W", "layers.0.b"], params, grads)
    for a, b in zip(got, expected, strict=True):
        # Adam's eps_t form and torch's bias-corrected form agree up to rounding
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("per_parameter", [False, True], ids=["global_clipnorm", "clipnorm"])
def test_norm_clipping_is_torch_clip_grad_norm(per_parameter, steps):
    torch = pytest.importorskip("torch")
    params, grads = steps
    grads = [[1e4 * g for g in step] for step in grads]  # norms ~1e4: torch's + 1e-6 is 1e-10
    tensors = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in params]
    opt = torch.optim.SGD(tensors, lr=0.01)
    for step in grads:
        for t, g in zip(tensors, step, strict=True):
            t.grad = torch.tensor(g, dtype=torch.float64)
        for group in [[t] for t in tensors] if per_parameter else [tensors]:
            torch.nn.utils.clip_grad_norm_(group, max_norm=2.0)
        opt.step()
    expected = [t.detach().numpy() for t in tensors]
    option = "clipnorm" if per_parameter else "global_clipnorm"
    got = _glassnet_run(gn.SGD(0.01, **{option: 2.0}), ["a", "b"], params, grads)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=0)


# -- the model file -------------------------------------------------------------------------------
RESUMABLE = [
    lambda: gn.AdamW(gn.CosineDecay(0.0, 20, warmup_target=0.02, warmup_steps=4), clipnorm=1.0),
    lambda: gn.Adagrad(gn.OneCycle(0.1, 30), clipvalue=0.05, weight_decay=1e-3),
    lambda: gn.SGD(
        gn.PiecewiseConstantDecay([5, 12], [0.1, 0.05, 0.01]), momentum=0.9, global_clipnorm=0.5
    ),
    lambda: gn.Adam(gn.ExponentialDecay(0.01, 4, 0.7, staircase=True), weight_decay=1e-2),
    lambda: gn.RMSprop(gn.StepDecay(0.01, 6), exclude_from_weight_decay=(), weight_decay=1e-2),
]


@pytest.mark.parametrize("make_optimizer", RESUMABLE)
def test_save_load_and_train_on_is_training_straight_through(make_optimizer, tmp_path, rng):
    """2 epochs, save, load, 1 more epoch == 3 epochs, bit for bit: the schedule, the
    clipping, the exclusions and the state all come back."""
    X, y = rng.standard_normal((40, 4)), rng.integers(0, 3, 40)

    def trained(epochs):
        model = gn.Sequential([gn.Dense(6, activation="tanh"), gn.Dense(3, activation="softmax")])
        optimizer = make_optimizer()
        model.fit(
            X,
            y,
            loss="cross_entropy",
            optimizer=optimizer,
            epochs=epochs,
            batch_size=8,
            shuffle=False,
            rng=1,
        )
        return model

    straight, first = trained(3), trained(2)
    first.save(tmp_path / "m.safetensors")
    loaded = gn.load(tmp_path / "m.safetensors")
    assert repr(loaded.optimizer_) == repr(first.optimizer_)
    assert loaded.optimizer_.iterations == 10
    loaded.fit(X, y, epochs=1, batch_size=8, shuffle=False)
    for (name, p, _), (_, q, _) in zip(loaded.slots(), straight.slots(), strict=True):
        np.testing.assert_array_equal(p, q, err_msg=name)
    assert loaded.history.learning_rate == straight.history.learning_rate
    state, ref = loaded.optimizer_.state_arrays(), straight.optimizer_.state_arrays()
    assert state.keys() == ref.keys()
    for key in state:
        np.testing.assert_array_equal(state[key], ref[key], err_msg=key)


def test_a_file_naming_an_unknown_schedule_is_refused(tmp_path, rng):
    from glassnet.io import model_file

    model = gn.Sequential([gn.Dense(1)])
    model.fit(
        rng.standard_normal((4, 2)), np.ones(4), loss="mse", optimizer=gn.SGD(gn.StepDecay(0.1, 2))
    )
    document = model_file.model_document(model)
    document["training"]["optimizer"]["config"]["learning_rate"]["class"] = "Cyclic"
    model_file.write_model(tmp_path / "m.safetensors", document, model_file.model_tensors(model))
    with pytest.raises(gn.ModelFileError, match=r"unknown learning-rate schedule 'Cyclic'"):
        gn.load(tmp_path / "m.safetensors")
    document["training"]["optimizer"]["config"]["learning_rate"] = {"class": "StepDecay"}
    model_file.write_model(tmp_path / "m.safetensors", document, model_file.model_tensors(model))
    with pytest.raises(gn.ModelFileError, match=r"learning_rate"):
        gn.load(tmp_path / "m.safetensors")


def test_files_from_before_the_exclusions_go_on_decaying_every_parameter():
    """A config without exclude_from_weight_decay (every file before it existed) continues
    the training it comes from: biases decayed too."""
    old = gn.Adam.from_config({"learning_rate": 0.01, "weight_decay": 0.1})
    assert old.exclude_from_weight_decay == () and old.decays("layers.0.b")
    assert gn.Adam(weight_decay=0.1).exclude_from_weight_decay == ("b", "beta", "gamma")
