"""glassnet.fast.compiled: every compiled kernel gives the NumPy path's numbers, in the
parameters' dtype; the switches turn them off; without numba everything runs on NumPy."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import glassnet as gn
from glassnet import fast
from glassnet.fast import compiled
from glassnet.training.trainer import loss_and_gradients

numba_missing = not fast.compiled_available()
needs_numba = pytest.mark.skipif(numba_missing, reason="numba is not installed (glassnet[fast])")
SRC = str(compiled.__file__).rsplit("/glassnet/", 1)[0]


def run_python(code, tmp_path, env=None, block_numba=False):
    """Run ``code`` in a fresh interpreter on this checkout, warnings as errors; its stdout."""
    site = tmp_path / "site"
    site.mkdir(parents=True, exist_ok=True)
    if block_numba:  # as if numba were not installed: importing it raises ImportError
        (site / "sitecustomize.py").write_text("import sys\nsys.modules['numba'] = None\n")
    path = os.pathsep.join([str(site), SRC])
    full_env = {**os.environ, "PYTHONPATH": path, **(env or {})}
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# -- the switches ---------------------------------------------------------------------------------
def test_the_switches_decide_in_one_place():
    assert isinstance(fast.compiled_available(), bool)
    assert fast.use_compiled() is fast.compiled_available()
    with fast.numpy_only():
        assert not fast.use_compiled() and fast.enabled()
        with fast.numpy_only():
            pass
        assert not fast.use_compiled()  # nested: still off until the outer one ends
    with fast.reference_only():
        assert not fast.use_compiled() and not fast.enabled()
    assert fast.use_compiled() is fast.compiled_available()


def test_import_glassnet_does_not_import_numba(tmp_path):
    out = run_python("import sys, glassnet; print('numba' in sys.modules)", tmp_path)
    assert out.split() == ["False"]


@pytest.mark.parametrize("value", ["0", "off"])
def test_glassnet_numba_0_switches_the_kernels_off(value, tmp_path):
    code = "from glassnet import fast; print(fast.compiled_available(), fast.use_compiled())"
    out = run_python(code, tmp_path, env={"GLASSNET_NUMBA": value})
    assert out.split() == ["False", "False"]


RUN_A_KERNEL_AND_PRINT_THE_LAYER = """
import numpy as np, glassnet as gn, numba
model = gn.Sequential([gn.Dense(3, activation="relu"), gn.Dense(2, activation="softmax")])
model.fit(np.ones((8, 4)), np.arange(8) % 2, loss="cross_entropy", optimizer=gn.Adam(), rng=0)
print(numba.threading_layer())
"""


@needs_numba
def test_the_kernels_run_on_numbas_workqueue_threads_unless_the_user_chose(tmp_path, monkeypatch):
    # numba's default OpenMP layer slowed a PyTorch in the same process 2.4x (see
    # compiled._choose_threading_layer); a layer the user names is kept
    monkeypatch.delenv("NUMBA_THREADING_LAYER", raising=False)
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    out = run_python(RUN_A_KERNEL_AND_PRINT_THE_LAYER, tmp_path, env=env)
    assert out.split() == ["workqueue"]
    chosen = {**env, "NUMBA_THREADING_LAYER": "omp"}
    assert run_python(RUN_A_KERNEL_AND_PRINT_THE_LAYER, tmp_path, env=chosen).split() == ["omp"]


TRAIN_AND_PRINT = """
import json, sys, numpy as np, glassnet as gn
from glassnet import fast
rng = np.random.default_rng(0)
X, y = rng.standard_normal((40, 1, 6, 6)), rng.integers(0, 3, 40)
model = gn.Sequential([gn.Conv2D(2, 3, padding="same", activation="relu"), gn.MaxPool2D(2),
                       gn.Flatten(), gn.Dense(5, activation="tanh"), gn.Dense(3, "softmax")])
model.fit(X, y, loss="cross_entropy", optimizer=gn.Adam(0.01), epochs=2, rng=0)
print(json.dumps([fast.compiled_available(), sys.modules.get("numba") is not None,
                  [p.ravel().tolist() for _, p, _ in model.slots()]]))
"""


def test_without_numba_everything_runs_on_numpy(tmp_path):
    """numba made unimportable: compiled_available() is False, and training gives exactly
    what the NumPy fast path gives in a process that has numba."""
    absent, imported, weights = json.loads(run_python(TRAIN_AND_PRINT, tmp_path, block_numba=True))
    assert absent is False and imported is False
    code = TRAIN_AND_PRINT.replace("model.fit(", "fast.numpy_only().__enter__(); model.fit(")
    _, _, numpy_weights = json.loads(run_python(code, tmp_path / "b"))
    assert weights == numpy_weights


def test_an_unavailable_numba_falls_back_to_numpy(monkeypatch, rng):
    monkeypatch.setitem(compiled._numba, "module", None)
    assert not fast.compiled_available() and not fast.use_compiled()
    model = gn.Sequential([gn.Dense(4, activation="relu"), gn.Dense(2, "softmax")])
    model.fit(
        rng.standard_normal((20, 3)),
        rng.integers(0, 2, 20),
        loss="cross_entropy",
        optimizer=gn.Adam(),
        epochs=1,
    )
    assert np.isfinite(model.predict(rng.standard_normal((3, 3)))).all()


# -- the optimizers' steps ----------------------------------------------------------------------
OPTIMIZERS = [
    lambda: gn.SGD(0.05),
    lambda: gn.SGD(0.05, momentum=0.9),
    lambda: gn.SGD(0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda: gn.SGD(0.05, weight_decay=1e-2, exclude_from_weight_decay=()),  # decay, no mask
    lambda: gn.Adam(0.01, weight_decay=1e-2),
    lambda: gn.AdamW(gn.CosineDecay(0.01, 20, warmup_target=0.05, warmup_steps=3)),
    lambda: gn.AdamW(0.01, weight_decay=0.1, exclude_from_weight_decay=()),
    lambda: gn.Adam(gn.StepDecay(0.02, 4), clipvalue=0.01),
    lambda: gn.SGD(gn.OneCycle(0.2, 20), momentum=0.9, global_clipnorm=0.1),
]


def mlp(dtype):
    return gn.Sequential(
        [gn.Dense(8, activation="relu"), gn.Dense(6, activation="tanh"), gn.Dense(3, "softmax")],
        dtype=dtype,
    )


@pytest.fixture
def count_updates(monkeypatch):
    """The number of compiled optimizer steps taken so far (a list that grows)."""
    from glassnet.fast.compiled import updates

    calls = []
    original = updates.update

    def counted(*args):
        done = original(*args)
        calls.extend([1] if done else [])
        return done

    monkeypatch.setattr(updates, "update", counted)
    return calls


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("make_optimizer", OPTIMIZERS)
def test_compiled_steps_equal_the_numpy_steps_bit_for_bit(
    make_optimizer, dtype, rng, count_updates
):
    """Each element's operations are the reference's, in the same order and dtype: the same
    weights and the same per-name optimizer state, bit for bit."""
    X, y = rng.standard_normal((60, 4)), rng.integers(0, 3, 60)

    def train():
        model = mlp(dtype)
        model.fit(X, y, loss="cross_entropy", optimizer=make_optimizer(), epochs=3, rng=1)
        return model

    kernels = train()
    assert len(count_updates) == 6  # 3 epochs of 2 batches, each one compiled step
    with fast.numpy_only():
        plain = train()
    assert len(count_updates) == 6
    for (name, p, _), (_, q, _) in zip(kernels.slots(), plain.slots(), strict=True):
        assert p.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(p, q, err_msg=name)
    state, ref = kernels.optimizer_.state_arrays(), plain.optimizer_.state_arrays()
    assert state.keys() == ref.keys()
    for key in state:
        assert state[key].dtype == np.dtype(dtype)
        np.testing.assert_array_equal(state[key], ref[key], err_msg=key)


@needs_numba
def test_a_step_on_unpacked_parameters_and_a_subclass(rng, count_updates):
    """A hand-called step on a model never prepared runs the kernel per parameter (4-D conv
    weights too); a subclass of SGD, which may redefine its update, runs its own."""

    class Halved(gn.SGD):
        def update(self, p, g, state, lr):
            super().update(p, g, state, lr / 2)

    model = gn.Sequential([gn.Conv2D(2, 3, activation="relu"), gn.Flatten(), gn.Dense(2)])
    model.build((1, 5, 5), rng=0)
    X, y = rng.standard_normal((4, 1, 5, 5)), rng.standard_normal((4, 2))
    loss_and_gradients(model, X, y, gn.MeanSquaredError())
    before = {name: p.copy() for name, p, _ in model.slots()}
    opt = gn.SGD(0.1, momentum=0.5)
    opt.step(model.slots())
    assert len(count_updates) == len(before)
    for name, p, g in model.slots():
        np.testing.assert_array_equal(p, before[name] - g * np.float32(0.1), err_msg=name)
    Halved(0.1).step(model.slots())
    assert len(count_updates) == len(before)


# -- pooling ------------------------------------------------------------------------------------
POOLS = [
    lambda: gn.MaxPool2D(2),  # disjoint windows (one write per input), a row and column left
    lambda: gn.MaxPool2D(2, 3),  # gaps between the windows: inputs in no window
    lambda: gn.MaxPool2D(3, 2),  # overlapping windows, rows and columns left over
    lambda: gn.MaxPool2D((2, 3), stride=(1, 2)),
    lambda: gn.AveragePooling2D(2),
    lambda: gn.AveragePooling2D(3, 2, padding="same"),
    lambda: gn.AveragePooling2D((2, 3), stride=1, padding="same"),
]


def images(rng, shape, dtype, channel_major=True):
    """A batch with ties (a constant region), a window that is all 0, and, in float64, a NaN;
    channel-major memory as a Conv2D leaves it, or C-ordered as a user passes it."""
    n, c, h, w = shape
    x = rng.standard_normal((c, h, w, n) if channel_major else shape).astype(dtype)
    x = x.transpose(3, 0, 1, 2) if channel_major else x
    x[0, 0, :3] = 0.25
    x[1, 0] = 0.0
    if dtype == "float64":
        x[2, 1, 2, 2] = np.nan
    return x


@needs_numba
@pytest.mark.parametrize("channel_major", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("make_pool", POOLS)
def test_pooling_kernels_equal_the_numpy_passes_bit_for_bit(make_pool, dtype, channel_major, rng):
    """Forward ``a`` and backward ``dL/dx`` of every pool (ties, NaN, overlaps, padding; a
    gradient batch-first as a Flatten sends it): the NumPy passes' numbers exactly."""
    layer = make_pool()
    layer.build((3, 7, 9), rng, np.dtype(dtype))
    x = images(rng, (5, 3, 7, 9), dtype, channel_major)
    g = rng.standard_normal((5, *layer.output_shape)).astype(dtype)
    a, dx = layer.forward(x).copy(), layer.backward(g).copy()
    with fast.numpy_only():
        a_ref, dx_ref = layer.forward(x).copy(), layer.backward(g).copy()
    assert a.dtype == dx.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(a, a_ref)
    np.testing.assert_array_equal(dx, dx_ref)


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("pool", [2, 3])
def test_the_relu_maxpool_fusion_through_the_kernel(pool, dtype, rng):
    """The fused ReLU -> MaxPool2D step (windows whose maximum is 0 send nothing) gives every
    gradient and cache the NumPy passes give."""
    from test_fast import gradients_and_caches

    model = gn.Sequential(
        [
            gn.Conv2D(3, 3, padding="same", activation="relu"),
            gn.MaxPool2D(pool, 2),
            gn.Flatten(),
            gn.Dense(3, activation="softmax"),
        ],
        dtype=dtype,
    ).build((2, 9, 9), rng=0)
    fast.prepare(model)
    X, y = rng.standard_normal((6, 2, 9, 9)).astype(dtype), np.array([0, 1, 2, 1, 0, 2])
    grads, caches = gradients_and_caches(model, X, y, gn.CrossEntropy())
    with fast.numpy_only():
        ref_grads, ref_caches = gradients_and_caches(model, X, y, gn.CrossEntropy())
    for name in grads:
        np.testing.assert_array_equal(grads[name], ref_grads[name], err_msg=name)
    for key in caches:
        np.testing.assert_array_equal(caches[key], ref_caches[key], err_msg=str(key))


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_training_a_cnn_with_kernels_equals_training_without(dtype, rng):
    """Three epochs of a CNN (max and average pooling, Adam with weight decay): the same
    weights, optimizer state and predictions with the kernels as on the NumPy path."""
    X, y = rng.standard_normal((24, 1, 10, 10)).astype(dtype), rng.integers(0, 3, 24)

    def train():
        model = gn.Sequential(
            [
                gn.Conv2D(4, 3, padding="same", activation="relu"),
                gn.MaxPool2D(2),
                gn.Conv2D(4, 3, padding="same", activation="tanh"),
                gn.AveragePooling2D(2, padding="same"),
                gn.Flatten(),
                gn.Dense(3, activation="softmax"),
            ],
            dtype=dtype,
        )
        opt = gn.AdamW(0.01, weight_decay=0.05)
        model.fit(X, y, loss="cross_entropy", optimizer=opt, epochs=3, batch_size=8, rng=2)
        return model

    kernels = train()
    with fast.numpy_only():
        plain = train()
    for (name, p, _), (_, q, _) in zip(kernels.slots(), plain.slots(), strict=True):
        assert p.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(p, q, err_msg=name)
    state, ref = kernels.optimizer_.state_arrays(), plain.optimizer_.state_arrays()
    for key in state:
        np.testing.assert_array_equal(state[key], ref[key], err_msg=key)
    np.testing.assert_array_equal(kernels.predict(X), plain.predict(X))


@needs_numba
def test_the_kernels_compile_on_first_use_into_the_disk_cache_without_a_warning(tmp_path):
    """A fresh process with an empty NUMBA_CACHE_DIR (warnings as errors): warm_up compiles
    every kernel, reports seconds for each, and leaves them in that cache."""
    cache = tmp_path / "cache"
    code = (
        "import json; from glassnet.fast import compiled; "
        "print(json.dumps(compiled.warm_up('float64')))"
    )
    report = json.loads(run_python(code, tmp_path, env={"NUMBA_CACHE_DIR": str(cache)}))
    expected = {"updates.sgd_step", "updates.adam_step", "pooling.max_forward"}
    assert expected <= report.keys() and all(seconds > 0 for seconds in report.values())
    assert any(cache.rglob("*.nbi")) and any(cache.rglob("*.nbc"))


# -- ReLU's derivative ----------------------------------------------------------------------------
@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_relu_gradient_kernel_equals_the_mask_product(dtype, rng, monkeypatch):
    """Channel-major (a conv's z) and C-ordered (a Dense's), a NaN gradient where z <= 0
    stays NaN, zeros of z send nothing; below MIN_SIZE, or for layouts that differ, NumPy."""
    from glassnet.fast.compiled import activations

    calls = []
    original = activations.relu_gradient
    monkeypatch.setattr(activations, "relu_gradient", lambda *a: calls.append(1) or original(*a))
    relu = gn.ReLU()
    n = activations.MIN_SIZE // 64 + 1
    z_cm = rng.standard_normal((4, 4, 4, n)).astype(dtype).transpose(3, 0, 1, 2)
    for z, g in [
        (z_cm, np.empty_like(z_cm)),  # a conv's layout, the gradient in the same one
        (rng.standard_normal((n, 64)).astype(dtype), np.empty((n, 64), dtype)),
    ]:
        z[0] = 0  # a sample whose z is all 0: nothing sent
        g[...] = rng.standard_normal(z.shape)
        g[z <= 0] = np.where(rng.random(np.count_nonzero(z <= 0)) < 0.01, np.nan, 1.5)
        relu.z = z
        before = len(calls)
        delta = relu.backward(g)
        assert len(calls) == before + 1 and delta.dtype == np.dtype(dtype)
        expected = g * (z > 0)
        np.testing.assert_array_equal(delta, expected)
        assert np.isnan(delta).any()
    g_cm = np.ones_like(z_cm)  # the same layout as z_cm
    relu.z = z_cm
    relu.backward(np.ascontiguousarray(g_cm))  # another layout: NumPy
    relu.z = z_cm[:2]
    relu.backward(g_cm[:2])  # small: NumPy
    assert len(calls) == 2


# -- Conv2D's col2im ------------------------------------------------------------------------------
CONVS = [
    dict(filters=4, kernel_size=3, padding="same"),  # a centre offset reads the whole image
    dict(filters=4, kernel_size=3, stride=2, padding="same"),
    dict(filters=3, kernel_size=(2, 3), stride=(2, 1), padding=2),
    dict(filters=3, kernel_size=3),  # "valid": no offset reads the whole image
]


@needs_numba
@pytest.mark.parametrize("reused", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("config", CONVS)
def test_the_col2im_kernel_gives_the_reference_dl_dx_bit_for_bit(
    config, dtype, reused, rng, monkeypatch
):
    from glassnet.fast.compiled import windows
    from glassnet.fast.conv import ReusedArrays

    calls = []
    original = windows.col2im
    monkeypatch.setattr(windows, "col2im", lambda *a: calls.append(1) or original(*a))
    conv = gn.Conv2D(**config, activation="tanh")
    conv.build((2, 9, 8), rng, np.dtype(dtype))
    if reused:
        conv.work = ReusedArrays()
    x = rng.standard_normal((5, 2, 9, 8)).astype(dtype)
    g = rng.standard_normal((5, *conv.output_shape)).astype(dtype)
    conv.forward(x, training=True)
    dx = conv.backward(g).copy()
    assert len(calls) == 1
    with fast.numpy_only():
        conv.forward(x, training=True)
        dx_ref = conv.backward(g).copy()
    assert dx.dtype == np.dtype(dtype) and dx.shape == x.shape
    np.testing.assert_array_equal(dx, dx_ref)
