"""glassnet.fast: every speed specialisation gives the reference path's numbers, and leaves
every layer exposing what the reference leaves."""

import copy

import numpy as np
import pytest

import glassnet as gn
from glassnet import fast
from glassnet.fast.fusions import ReluMaxPool
from glassnet.fast.parameters import parameter_groups
from glassnet.fast.plan import backward_steps
from glassnet.nn.windows import channel_major
from glassnet.training.trainer import loss_and_gradients


def relu_cnn(standalone_relu=False):
    """conv(relu) -> pool -> conv(relu) -> pool -> dense; or with the first ReLU as a layer."""
    first = (
        [gn.Conv2D(3, 3, padding="same"), gn.ReLU()]
        if standalone_relu
        else [gn.Conv2D(3, 3, padding="same", activation="relu")]
    )
    return gn.Sequential(
        [
            *first,
            gn.MaxPool2D(2),
            gn.Conv2D(4, 3, padding=1, activation="relu"),
            gn.MaxPool2D(2),
            gn.Flatten(),
            gn.Dense(3, activation="softmax"),
        ],
        dtype="float64",
    )


def prepare_fusions_only(model):
    """fast.prepare, with every Conv2D back on the reference's fresh work arrays: what is left
    to compare bit for bit is the fusion (and the packed parameters)."""
    from glassnet.nn.conv import FreshArrays

    fast.prepare(model)
    for layer in model.layers:
        if isinstance(layer, gn.Conv2D):
            layer.work = FreshArrays()


def gradients_and_caches(model, X, y, loss):
    """Every gradient and every cached value (z, a, delta) after one training step's backward."""
    loss_and_gradients(model, X, y, loss)
    grads = {name: g.copy() for name, _, g in model.slots()}
    caches = {
        (i, key): np.array(getattr(layer, key))
        for i, layer in enumerate(model.layers)
        for key in ("z", "a", "delta")
        if getattr(layer, key, None) is not None
    }
    return grads, caches


# -- the selection ------------------------------------------------------------------------------
def test_the_plan_fuses_relu_then_maxpool_and_nothing_on_the_reference_path():
    model = relu_cnn().build((2, 8, 8), rng=0)
    steps = backward_steps(model.layers)
    fused = [step.__self__ for _, step in steps if isinstance(step.__self__, ReluMaxPool)]
    assert len(fused) == 2 and len(steps) == len(model.layers) - 2
    with fast.reference_only():
        assert all(step.__self__ is model.layers[i] for i, step in backward_steps(model.layers))
        assert len(backward_steps(model.layers)) == len(model.layers)


def test_subclasses_of_relu_and_maxpool_are_not_fused(rng):
    """A ReLU subclass may redefine the function (here ReLU6) and a MaxPool2D subclass its
    backward: both keep working, unfused, and gradient-check."""

    class ReLU6(gn.ReLU):
        def function(self, z):
            return np.minimum(np.maximum(z, 0), 6)

        def derivative(self):
            return ((self.z > 0) & (self.z < 6)).astype(self.z.dtype)

        def backward(self, grad_out):
            return grad_out * self.derivative()

    class MyPool(gn.MaxPool2D):
        def backward(self, grad_out):
            return super().backward(grad_out)

    X = rng.standard_normal((4, 2, 8, 8)) * 4  # some z above 6
    for activation, pool in ((ReLU6(), gn.MaxPool2D(2)), ("relu", MyPool(2))):
        layers = [gn.Conv2D(3, 3, padding="same", activation=activation), pool]
        model = gn.Sequential([*layers, gn.Flatten(), gn.Dense(3, activation="softmax")])
        model.build((2, 8, 8), rng=0)
        fast.prepare(model)
        assert not any(isinstance(s.__self__, ReluMaxPool) for _, s in model.backward_plan.steps)
        result = gn.gradcheck(model, X, np.array([0, 1, 2, 1]), loss="cross_entropy", training=True)
        assert result.max_error < 1e-6, str(result)


# -- ReLU -> MaxPool2D ----------------------------------------------------------------------------
@pytest.mark.parametrize("standalone_relu", [False, True])
def test_the_fused_step_gives_the_reference_gradients_and_caches_exactly(standalone_relu, rng):
    """The mask is applied before instead of after the routing, to the same numbers: every
    gradient and every cached z, a and delta equal the layer-by-layer reference bit for bit."""
    model = relu_cnn(standalone_relu).build((2, 8, 8), rng=0)
    X, y = rng.standard_normal((5, 2, 8, 8)), np.array([0, 1, 2, 1, 0])
    ref_grads, ref_caches = gradients_and_caches(model, X, y, gn.CrossEntropy())
    prepare_fusions_only(model)
    assert any(isinstance(s.__self__, ReluMaxPool) for _, s in model.backward_plan.steps)
    grads, caches = gradients_and_caches(model, X, y, gn.CrossEntropy())
    assert grads.keys() == ref_grads.keys() and caches.keys() == ref_caches.keys()
    for name in grads:
        np.testing.assert_array_equal(grads[name], ref_grads[name], err_msg=name)
    for key in caches:
        np.testing.assert_array_equal(caches[key], ref_caches[key], err_msg=str(key))
    pool = model.layers[2 if standalone_relu else 1]
    dead = pool.a == 0  # windows whose maximum is 0 send nothing down
    assert dead.any() and (~dead).any()


@pytest.mark.parametrize("standalone_relu", [False, True])
@pytest.mark.parametrize("training", [False, True])
def test_model_gradcheck_through_the_fused_step(standalone_relu, training, rng):
    model = relu_cnn(standalone_relu)
    X = rng.standard_normal((4, 2, 8, 8))
    result = gn.gradcheck(model, X, np.array([0, 1, 2, 1]), loss="cross_entropy", training=training)
    assert result.max_error < 1e-6, str(result)


@pytest.mark.parametrize(
    "layers, image",
    [
        # pools that do not tile the input: overlapping windows, rows and columns left over
        ([gn.Conv2D(3, 3, padding="same", activation="relu"), gn.MaxPool2D(3, 2)], (2, 9, 8)),
        ([gn.Conv2D(3, 3, padding="same", activation="relu"), gn.MaxPool2D(2)], (2, 9, 7)),
        # a ReLU layer first: the fused step ends the backward pass
        ([gn.ReLU(), gn.MaxPool2D(2)], (2, 8, 8)),
    ],
)
def test_fused_step_for_pools_that_do_not_tile_and_a_relu_first(layers, image, rng):
    model = gn.Sequential(
        [*copy.deepcopy(layers), gn.Flatten(), gn.Dense(3, activation="softmax")],
        dtype="float64",
    )
    X, y = rng.standard_normal((4, *image)), np.array([0, 1, 2, 1])
    result = gn.gradcheck(model, X, y, loss="cross_entropy", training=True)
    assert result.max_error < 1e-6, str(result)
    model.build(image, rng=0)
    ref, _ = gradients_and_caches(model, X, y, gn.CrossEntropy())
    prepare_fusions_only(model)
    grads, _ = gradients_and_caches(model, X, y, gn.CrossEntropy())
    for name in grads:
        np.testing.assert_array_equal(grads[name], ref[name], err_msg=name)


@pytest.mark.parametrize("pool", [2, (2, 3), 3])
def test_windows_claimed_up_front_send_nothing_and_the_rest_route_as_before(pool, rng):
    """route(g, claimed=a <= 0) is the routed gradient times 1[z > 0] for x = relu(z), ties
    included (a constant region ties every window; two inputs tie that row-by-row order
    would rank apart); also for pools that do not tile."""
    for stride in (None, 1):
        layer = gn.MaxPool2D(pool, stride)
        layer.build((3, 6, 6), rng, np.float64)
        z = rng.standard_normal((4, 3, 6, 6))
        z[:, :, :3] = 0.25
        z[:, :, 3:, :3] = 0.1
        z[:, :, 4, 1] = z[:, :, 5, 0] = 0.9
        z[0, 0] = -1.0  # a channel whose maxima are all 0
        layer.forward(np.maximum(z, 0))
        g = rng.standard_normal((4, *layer.output_shape))
        expected = layer.backward(g) * (z > 0)
        claimed = np.less_equal(channel_major(layer.a), 0)
        np.testing.assert_array_equal(layer.route(g, claimed), expected)


# -- packed parameters and the optimizer's per-name state -----------------------------------------
OPTIMIZERS = [
    lambda: gn.SGD(0.05),
    lambda: gn.SGD(0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda: gn.Adam(0.01, weight_decay=1e-2),
    lambda: gn.RMSprop(0.01),
    # weight decay on some parameters only (the packed path's 1/0 mask), decoupled and L2
    lambda: gn.AdamW(gn.CosineDecay(0.01, 20, warmup_target=0.05, warmup_steps=3)),
    lambda: gn.RMSprop(0.01, weight_decay=1e-2, exclude_from_weight_decay=["layers.0.W"]),
    # clipping: some gradients over the bound, some not (see the test below)
    lambda: gn.Adagrad(0.05, weight_decay=1e-2, clipnorm=0.15),
    lambda: gn.SGD(gn.OneCycle(0.2, 20), momentum=0.9, global_clipnorm=0.1),
    lambda: gn.Adam(gn.StepDecay(0.02, 4), clipvalue=0.01, exclude_from_weight_decay=()),
]


def mlp():
    return gn.Sequential(
        [gn.Dense(8, activation="relu"), gn.Dense(6, activation="tanh"), gn.Dense(3, "softmax")]
    )


@pytest.mark.parametrize("make_optimizer", OPTIMIZERS)
def test_packed_and_per_parameter_training_are_identical(make_optimizer, rng):
    """Training on the packed buffers (one update per step) and per parameter (the
    reference) gives bit-identical weights and optimizer state, every state keyed by name."""
    X, y = rng.standard_normal((60, 4)), rng.integers(0, 3, 60)

    def train():
        model = mlp()
        model.fit(X, y, loss="cross_entropy", optimizer=make_optimizer(), epochs=3, rng=1)
        return model

    packed = train()
    with fast.reference_only():
        plain = train()
    assert packed.layers[0].params["W"].base is not None  # a view into the packed vector
    assert plain.layers[0].params["W"].base is None
    for (name, p, _), (_, q, _) in zip(packed.slots(), plain.slots(), strict=True):
        np.testing.assert_array_equal(p, q, err_msg=name)
    state, ref = packed.optimizer_.state_arrays(), plain.optimizer_.state_arrays()
    assert state.keys() == ref.keys() and all(k.startswith("layers.") for k in state)
    for key in state:
        np.testing.assert_array_equal(state[key], ref[key], err_msg=key)


def test_the_packed_group_decays_and_clips_by_name(rng):
    """The packed group's mask decays exactly the weights, and clipnorm's factors are per
    parameter name: in the run above some gradients are clipped and some are not."""
    from glassnet.training import clipping
    from glassnet.training.trainer import loss_and_gradients

    X, y = rng.standard_normal((60, 4)), rng.integers(0, 3, 60)
    model = mlp().build((4,), rng=1)
    fast.prepare(model)
    opt = gn.Adagrad(0.05, weight_decay=1e-2, clipnorm=0.15)
    (group,) = parameter_groups(opt, model.slots())
    for name, start, stop in group.names:
        assert (group.decay[start:stop] == (0 if name.endswith(".b") else 1)).all()
    loss_and_gradients(model, X, model.check_targets(y, gn.CrossEntropy(), 60), gn.CrossEntropy())
    scale = clipping.norm_scale(opt, model.slots())
    assert 0 < len(scale) < len(model.slots()) and all(0 < f < 1 for f in scale.values())


def test_a_hand_called_step_continues_the_state_fit_left(rng):
    """optimizer.step(model.slots()) after fit moves the same per-name state fit used."""
    X, y = rng.standard_normal((40, 4)), rng.integers(0, 3, 40)
    model = mlp()
    model.fit(X, y, loss="cross_entropy", optimizer=gn.Adam(0.01), epochs=2, rng=0)
    opt = model.optimizer_
    m_before = opt.state["layers.0.W"]["m"].copy()
    loss_and_gradients(model, X, y, model.loss_)
    g = model.layers[0].grads["W"].copy()
    opt.step(model.slots())
    # m <- b1 m + (1 - b1) g, for the very arrays fit kept under "layers.0.W"
    np.testing.assert_allclose(opt.state["layers.0.W"]["m"], 0.9 * m_before + 0.1 * g, rtol=1e-6)
    assert len(opt.state) == len(model.slots())  # no second, separate state


def test_per_name_state_is_a_view_of_one_vector_while_packed(rng):
    model = mlp().build((4,), rng=0)
    fast.prepare(model)
    opt = gn.SGD(0.1, momentum=0.9)
    slots = model.slots()
    ((p, g, state, names, decay),) = parameter_groups(opt, slots)
    assert p.size == model.n_params and state["velocity"].shape == (model.n_params,)
    assert [n for n, _, _ in names] == [n for n, _, _ in slots] and names[-1][2] == p.size
    assert opt.state["layers.1.W"]["velocity"].base is state["velocity"]
    with fast.reference_only():
        assert len(parameter_groups(opt, slots)) == len(slots)


def test_a_copy_of_a_model_keeps_the_state_and_is_packed_again_by_fit(rng):
    X, y = rng.standard_normal((40, 4)), rng.integers(0, 3, 40)
    model = mlp()
    model.fit(X, y, loss="cross_entropy", optimizer=gn.Adam(0.01), epochs=1, rng=0)
    clone = model.astype("float64")
    np.testing.assert_array_equal(
        clone.optimizer_.state["layers.2.b"]["v"], model.optimizer_.state["layers.2.b"]["v"]
    )
    clone.fit(X, y, epochs=1)
    assert clone.layers[0].params["W"].base is not None  # fit packed the copy again
    assert np.isfinite(clone.predict(X)).all()


def test_weight_decay_allocates_nothing_per_step(rng):
    """On the NumPy path the decayed gradient is written into a work-space array kept between
    steps (a compiled step needs none: it decays each element as it goes)."""
    model = mlp().build((4,), rng=0)
    fast.prepare(model)
    opt = gn.SGD(0.1, weight_decay=0.01)
    with fast.numpy_only():
        opt.step(model.slots())
        ((_, _, state, _, _),) = parameter_groups(opt, model.slots())
        buffer = state["decayed"]
        opt.step(model.slots())
    assert state["decayed"] is buffer


@pytest.fixture
def count_fused(monkeypatch):
    """``count(model, X, y)``: how many times the fused step runs in one forward and backward
    pass (the step is counted from before ``fast.prepare`` binds it)."""
    calls = []
    original = ReluMaxPool.backward
    monkeypatch.setattr(
        ReluMaxPool, "backward", lambda self, g: calls.append(1) or original(self, g)
    )

    def count(model, X, y):
        calls.clear()
        loss_and_gradients(model, X, y, gn.CrossEntropy())
        return len(calls)

    return count


def test_a_prepared_model_runs_the_reference_inside_reference_only(rng, count_fused):
    model = relu_cnn().build((2, 8, 8), rng=0)
    X, y = rng.standard_normal((3, 2, 8, 8)), np.array([0, 1, 2])
    fast.prepare(model)
    assert count_fused(model, X, y) == 2
    with fast.reference_only():
        assert count_fused(model, X, y) == 0


def test_a_plan_no_longer_applies_once_an_activation_is_swapped(rng, count_fused):
    """Swapping the first ReLU for tanh after prepare must not keep the ReLU fusion (it would
    apply the ReLU's derivative to a tanh layer): the gradients then match the reference."""
    model = relu_cnn().build((2, 8, 8), rng=0)
    X, y = rng.standard_normal((3, 2, 8, 8)), np.array([0, 1, 2])
    prepare_fusions_only(model)
    model.layers[0].activation = gn.Tanh()
    assert count_fused(model, X, y) == 0  # the plan no longer applies: the reference runs
    grads, _ = gradients_and_caches(model, X, y, gn.CrossEntropy())
    with fast.reference_only():
        ref, _ = gradients_and_caches(model, X, y, gn.CrossEntropy())
    for name in grads:
        np.testing.assert_array_equal(grads[name], ref[name], err_msg=name)
    fast.prepare(model)  # chosen again: only the second conv's ReLU is fused
    assert count_fused(model, X, y) == 1


# -- Conv2D's work space --------------------------------------------------------------------------
def test_fit_gives_every_conv_a_reused_work_space_and_reference_only_takes_it_back(rng):
    from glassnet.fast.conv import ReusedArrays
    from glassnet.nn.conv import FreshArrays

    model = relu_cnn().build((2, 8, 8), rng=0)
    convs = [model.layers[0], model.layers[2]]
    assert all(isinstance(c.work, FreshArrays) for c in convs)
    fast.prepare(model)
    assert all(isinstance(c.work, ReusedArrays) for c in convs)
    with fast.reference_only():
        fast.prepare(model)
    assert all(isinstance(c.work, FreshArrays) for c in convs)


@pytest.mark.parametrize("channels", [1, 5])  # stacked dL/dW products (10 rows) or one (46)
def test_training_with_reused_work_arrays_equals_the_reference(channels, rng):
    """Three epochs of a CNN with every specialisation (packed parameters, the fusion, reused
    work arrays, stacked dL/dW) against the reference: the same weights to float rounding
    (the stacked sum adds in another order), the same caches' relations."""
    X = rng.standard_normal((24, channels, 8, 8))
    y = rng.integers(0, 3, 24)

    def train():
        model = relu_cnn()
        model.fit(X, y, loss="cross_entropy", optimizer=gn.SGD(0.05), epochs=3, batch_size=8, rng=2)
        return model

    fast_model = train()
    with fast.reference_only():
        ref = train()
    for (name, p, _), (_, q, _) in zip(fast_model.slots(), ref.slots(), strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-9, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(fast_model.predict(X), ref.predict(X), rtol=1e-9, atol=1e-12)


def test_the_arrays_a_conv_returns_are_never_reused(rng):
    """Work arrays are kept between batches; z, a and dL/dx never are."""
    from glassnet.fast.conv import ReusedArrays

    conv = gn.Conv2D(2, 3, padding="same", activation="relu")
    conv.build((1, 5, 5), rng, np.float64)
    conv.work = ReusedArrays()
    x1, x2 = rng.standard_normal((2, 3, 1, 5, 5))
    a1, z1 = conv.forward(x1, training=True), conv.z
    dx1 = conv.backward(np.ones_like(a1))
    saved = a1.copy(), z1.copy(), dx1.copy()
    conv.forward(x2, training=True)
    conv.backward(np.ones_like(a1))
    for kept, before in zip((a1, z1, dx1), saved, strict=True):
        np.testing.assert_array_equal(kept, before)
