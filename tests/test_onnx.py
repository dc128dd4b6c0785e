"""ONNX export: the graph passes onnx.checker and ONNX Runtime reproduces glassnet."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from conftest import ecosystem_blocks

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import glassnet as gn  # noqa: E402
from glassnet import datasets  # noqa: E402
from glassnet.datasets.images import ImagePreprocessing  # noqa: E402
from glassnet.io.onnx import OnnxExportError, export_onnx, make_onnx_model  # noqa: E402
from glassnet.nn.conv import Conv2D  # noqa: E402
from glassnet.nn.pooling import MaxPool2D  # noqa: E402


def run_onnx(path, x):
    """The exported graph's output for ``x`` in ONNX Runtime (after onnx.checker)."""
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (name,) = [i.name for i in session.get_inputs()]
    return session.run(None, {name: x})[0]


def mlp(dtype="float32"):
    """Every activation, as a Dense activation and as a layer of its own, and a Dropout."""
    return gn.Sequential(
        [
            gn.Dense(16, activation="relu"),
            gn.Dropout(0.5),
            gn.Dense(12, activation="tanh"),
            gn.Dense(12, activation=gn.LeakyReLU(0.2)),
            gn.Dense(10),
            gn.Sigmoid(),
            gn.Dense(8, activation="identity", use_bias=False),
            gn.ReLU(),
            gn.Dense(4, activation="softmax"),
        ],
        dtype=dtype,
    )


def cnn():
    """'same' padding with stride 2 (odd total: the extra zero at the bottom/right), integer
    and per-axis padding, a rectangular kernel, overlapping and ragged pooling."""
    return gn.Sequential(
        [
            Conv2D(6, 3, stride=2, padding="same", activation="relu"),
            MaxPool2D(2),
            Conv2D(8, (3, 2), padding=(1, 2), activation="leaky_relu"),
            MaxPool2D(3, stride=2),
            Conv2D(4, 1, activation="tanh"),
            gn.Flatten(),
            gn.Dropout(0.25),
            gn.Dense(10, activation="softmax"),
        ]
    )


@pytest.mark.parametrize("opset", [13, 17, 19])  # 19: what onnxruntime 1.16 runs
def test_mlp_matches_glassnet_in_onnx_runtime(tmp_path, opset):
    rng = np.random.default_rng(opset)
    model = mlp().build((7,), rng=1)
    X = rng.normal(scale=3.0, size=(64, 7)).astype(np.float32)
    path = model.to_onnx(tmp_path / "mlp.onnx", opset=opset)
    assert path == tmp_path / "mlp.onnx"
    out = run_onnx(path, X)
    assert out.shape == (64, 4) and out.dtype == np.float32
    np.testing.assert_allclose(out, model.predict(X), atol=1e-5, rtol=0)
    proto = onnx.load(str(path))
    assert proto.opset_import[0].version == opset
    assert [n.op_type for n in proto.graph.node] == [
        "Gemm",
        "Relu",
        "Gemm",
        "Tanh",
        "Gemm",
        "LeakyRelu",
        "Gemm",
        "Sigmoid",
        "Gemm",
        "Relu",
        "Gemm",
        "Softmax",
    ]  # Dropout and Identity add nothing


def test_trained_mlp_matches_too(tmp_path):
    X, y = datasets.make_moons(200, noise=0.1, rng=0)
    model = gn.Sequential(
        [gn.Dense(16, activation="relu"), gn.Dropout(0.1), gn.Dense(1, activation="sigmoid")]
    )
    model.fit(X, y, loss="bce", optimizer=gn.Adam(0.02), epochs=30, rng=0)
    X_new = np.random.default_rng(1).uniform(-2, 3, size=(500, 2)).astype(np.float32)
    out = run_onnx(export_onnx(model, tmp_path / "moons.onnx"), X_new)
    np.testing.assert_allclose(out, model.predict(X_new), atol=1e-5, rtol=0)


def test_cnn_matches_glassnet_in_onnx_runtime(tmp_path):
    rng = np.random.default_rng(0)
    model = cnn().build((3, 19, 17), rng=2)
    X = rng.normal(size=(16, 3, 19, 17)).astype(np.float32)
    out = run_onnx(model.to_onnx(tmp_path / "cnn.onnx"), X)
    assert out.shape == (16, 10)
    np.testing.assert_allclose(out, model.predict(X), atol=1e-5, rtol=0)
    conv = [n for n in onnx.load(str(tmp_path / "cnn.onnx")).graph.node if n.op_type == "Conv"]
    attributes = {a.name: list(a.ints) for a in conv[0].attribute}
    # 19 rows, stride 2: 10 outputs need 2 zeros (1 + 1), 17 columns: 9 outputs need 2 too
    assert attributes == {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}


def test_same_padding_with_an_odd_total_puts_the_extra_zero_at_the_end(tmp_path):
    model = gn.Sequential([Conv2D(2, (4, 2), padding="same"), gn.Flatten()]).build((1, 6, 5), rng=0)
    X = np.random.default_rng(0).normal(size=(3, 1, 6, 5)).astype(np.float32)
    out = run_onnx(model.to_onnx(tmp_path / "pad.onnx"), X)
    np.testing.assert_allclose(out, model.predict(X), atol=1e-5, rtol=0)
    conv = onnx.load(str(tmp_path / "pad.onnx")).graph.node[0]
    pads = [list(a.ints) for a in conv.attribute if a.name == "pads"][0]
    assert pads == [1, 0, 2, 1]  # top, left, bottom, right


def test_float64_models_export_as_float64_or_as_float32(tmp_path):
    rng = np.random.default_rng(0)
    model = mlp("float64").build((5,), rng=0)
    X = rng.normal(size=(20, 5))
    out = run_onnx(model.to_onnx(tmp_path / "f64.onnx"), X)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, model.predict(X), atol=1e-9, rtol=0)
    # ONNX Runtime's CPU provider has no float64 Conv: a float64 CNN runs as float32
    cnn64 = gn.Sequential(
        [Conv2D(3, 3, activation="relu"), MaxPool2D(2), gn.Flatten(), gn.Dense(2)], dtype="float64"
    ).build((1, 8, 8), rng=0)
    Xi = rng.normal(size=(4, 1, 8, 8))
    out = run_onnx(cnn64.to_onnx(tmp_path / "cnn32.onnx", dtype="float32"), Xi.astype(np.float32))
    np.testing.assert_allclose(out, cnn64.predict(Xi), atol=1e-5, rtol=0)


def test_scikit_learn_estimator_network_exports(tmp_path):
    pytest.importorskip("sklearn")
    from sklearn.datasets import make_blobs

    from glassnet.sklearn import GlassNetClassifier

    X, y = make_blobs(n_samples=90, centers=3, n_features=4, random_state=0)
    clf = GlassNetClassifier(hidden_layer_sizes=(8,), epochs=5, random_state=0).fit(X, y)
    out = run_onnx(clf.model_.to_onnx(tmp_path / "clf.onnx"), X.astype(np.float32))
    np.testing.assert_allclose(out, clf.predict_proba(X), atol=1e-5, rtol=0)


# -- what cannot be exported, and bad options ------------------------------------------------
class Doubler(gn.Layer):
    """A layer the exporter has never heard of."""

    def forward(self, x, training=False):
        return 2 * x


class Swish(gn.Sigmoid):
    """An activation the exporter does not know (it is not one of glassnet's own)."""

    name = "swish"


def test_unknown_layer_raises_naming_it(tmp_path):
    model = gn.Sequential([gn.Dense(3), Doubler()]).build((2,), rng=0)
    with pytest.raises(
        OnnxExportError,
        match=r"cannot export layer 1 \(Doubler\) to ONNX: "
        r"the export knows Dense, Conv2D",
    ):
        model.to_onnx(tmp_path / "x.onnx")
    assert list(tmp_path.iterdir()) == []


def test_unknown_activation_raises_naming_it(tmp_path):
    model = gn.Sequential([gn.Dense(3, activation=Swish())]).build((2,), rng=0)
    with pytest.raises(
        OnnxExportError,
        match=r"cannot export the activation Swish of "
        r"Dense\(3, swish\)",
    ):
        model.to_onnx(tmp_path / "x.onnx")


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="the model is not built yet"):
        gn.Sequential([gn.Dense(1)]).to_onnx(tmp_path / "x.onnx")
    model = gn.Sequential([gn.Dense(1)]).build((2,), rng=0)
    with pytest.raises(ValueError, match=r"opset must be >= 13, got 12"):
        model.to_onnx(tmp_path / "x.onnx", opset=12)
    with pytest.raises(ValueError, match=r"dtype must be None, 'float32' or 'float64', got 'int8'"):
        model.to_onnx(tmp_path / "x.onnx", dtype="int8")
    with pytest.raises(ValueError, match="the folder .* does not exist"):
        model.to_onnx(tmp_path / "missing" / "x.onnx")
    with pytest.raises(TypeError, match="model must be a glassnet Sequential"):
        export_onnx("model.safetensors", tmp_path / "x.onnx")


def test_write_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "model.onnx"
    target.write_bytes(b"previous export")
    model = gn.Sequential([gn.Dense(2), Doubler()]).build((2,), rng=0)
    with pytest.raises(OnnxExportError):  # fails before anything is written
        model.to_onnx(target)
    good = gn.Sequential([gn.Dense(2)]).build((2,), rng=0)

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):  # fails after writing the temporary file
        good.to_onnx(target)
    assert target.read_bytes() == b"previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]  # no temporary left
    monkeypatch.undo()
    good.to_onnx(target)
    np.testing.assert_allclose(
        run_onnx(target, np.ones((1, 2), np.float32)), good.predict(np.ones((1, 2))), atol=1e-6
    )


# -- the stored preprocessing (glassnet train's table models) -------------------------------------
def table_model(task, columns, rng):
    """A model as ``glassnet train`` leaves it: preprocessing learned on a table, stored."""
    pd = pytest.importorskip("pandas")
    from glassnet.tabular.preprocessing import TablePreprocessor

    n = 60
    frame = pd.DataFrame(
        {
            "weight": rng.normal(70, 15, n),
            "height": rng.normal(170, 10, n),
            "score": rng.uniform(0, 1e4, n),
            "island": rng.choice(["Biscoe", "Dream"], n),
        }
    )
    frame.loc[[3, 17], "weight"] = np.nan
    frame = frame[[name for name, _ in columns]]
    y = rng.normal(4000, 500, n) if task == "regression" else rng.choice(["F", "M", "X"], n)
    pre = TablePreprocessor(columns, "target", task, impute="mean").fit(frame, y)
    n_out = 1 if task == "regression" else 3
    model = gn.Sequential(
        [
            gn.Dense(8, activation="tanh"),
            gn.Dense(n_out, activation=None if task == "regression" else "softmax"),
        ]
    ).build((pre.n_inputs,), rng=0)
    model.preprocessing = pre
    return model, pre, frame


NUMERIC = [("weight", "numeric"), ("height", "numeric"), ("score", "numeric")]


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_numeric_table_preprocessing_is_in_the_graph(tmp_path, task):
    model, pre, frame = table_model(task, NUMERIC, np.random.default_rng(0))
    raw = frame.to_numpy(dtype=np.float32)  # NaNs included: the graph fills them
    out = run_onnx(model.to_onnx(tmp_path / "table.onnx"), raw)
    expected = model.predict(pre.transform(frame))  # what glassnet predict computes
    if task == "regression":
        expected = pre.inverse_target(expected[:, 0])[:, None]  # back in grams
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    meta = {p.key: p.value for p in onnx.load(str(tmp_path / "table.onnx")).metadata_props}
    assert json.loads(meta["columns"]) == ["weight", "height", "score"]
    assert meta["preprocessing"].startswith("included: ")
    if task == "classification":
        assert json.loads(meta["labels"]) == ["F", "M", "X"]
        assert meta["output"] == "probability of each class (in the order of labels)"
    else:
        assert meta["output"] == "the predicted target, in its own units"


@pytest.mark.parametrize("scaling", ["robust", "standard"])
def test_each_scaling_is_in_the_graph_outliers_included(tmp_path, scaling):
    from glassnet.tabular.preprocessing import TablePreprocessor

    rng = np.random.default_rng(3)
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": rng.normal(0, 1, 40), "b": rng.exponential(5.0, 40)})
    pre = TablePreprocessor(
        [("a", "numeric"), ("b", "numeric")], "y", "regression", scaling=scaling
    )
    pre.fit(frame, rng.normal(size=40))
    model = gn.Sequential([gn.Dense(4, activation="tanh"), gn.Dense(1)]).build((2,), rng=0)
    model.preprocessing = pre
    # far outliers too: robust scaling clips them smoothly below 3, in NumPy and in the graph
    rows = pd.DataFrame({"a": [0.3, 40.0, -3e37, 1e30], "b": [2.0, 1e6, 0.0, -1e30]})
    out = run_onnx(model.to_onnx(tmp_path / "t.onnx"), rows.to_numpy(dtype=np.float32))
    expected = pre.inverse_target(model.predict(pre.transform(rows))[:, 0])[:, None]
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    assert np.isfinite(out).all()


def test_text_columns_refuse_unless_the_network_alone_is_asked_for(tmp_path):
    columns = [*NUMERIC, ("island", "categorical")]
    model, pre, frame = table_model("classification", columns, np.random.default_rng(1))
    with pytest.raises(
        OnnxExportError,
        match=r"one-hot encodes the text column 'island'.*"
        r"pass preprocessing=False",
    ):
        model.to_onnx(tmp_path / "table.onnx")
    assert list(tmp_path.iterdir()) == []
    path = model.to_onnx(tmp_path / "table.onnx", preprocessing=False)
    encoded = pre.transform(frame).astype(np.float32)
    np.testing.assert_allclose(run_onnx(path, encoded), model.predict(encoded), atol=1e-5)
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(meta["inputs"]) == pre.input_names
    assert meta["preprocessing"].startswith("not included: ")
    assert json.loads(meta["preprocessing"].split(": ", 1)[1]) == model.preprocessing.to_dict()


def test_make_onnx_model_builds_in_memory():
    model = mlp().build((3,), rng=0)
    newest = make_onnx_model(model, opset=onnx.defs.onnx_opset_version())  # checked, too new
    assert newest.opset_import[0].version == onnx.defs.onnx_opset_version()  # for some runtimes
    proto = make_onnx_model(model)
    assert proto.graph.input[0].name == "input" and proto.graph.output[0].name == "output"
    dims = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["n", 3]  # any batch size
    assert proto.ir_version <= onnx.IR_VERSION  # the oldest IR that carries the opset
    assert proto.producer_name == "glassnet"


# -- the documentation ----------------------------------------------------------------------


def test_the_documented_onnx_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {}
    blocks = ecosystem_blocks("ONNX")
    assert len(blocks) == 2
    for i, block in enumerate(blocks):
        exec(compile(block, f"docs/ecosystem.md ONNX block {i + 1}", "exec"), namespace)
    assert (tmp_path / "cnn.onnx").exists()


def test_an_image_model_exports_with_its_labels(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    rng = np.random.default_rng(0)
    model = gn.Sequential(
        [
            Conv2D(2, 3, activation="relu"),
            MaxPool2D(2),
            gn.Flatten(),
            gn.Dense(3, activation="softmax"),
        ]
    )
    X = rng.random((8, 1, 8, 8), dtype=np.float32)
    model.fit(X, rng.integers(0, 3, 8), loss="cross_entropy", epochs=1, rng=0)
    model.preprocessing = ImagePreprocessing(shape=(1, 8, 8), scale=255, classes=(0, 1, 2))
    path = tmp_path / "image.onnx"
    export_onnx(model, path)  # no --network-only needed
    session = ort.InferenceSession(str(path))
    out = session.run(None, {session.get_inputs()[0].name: X})[0]
    assert np.abs(out - model.predict(X)).max() < 1e-5
    import onnx

    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(props["labels"]) == [0, 1, 2]
    assert props["inputs"] == "images of shape (n, 1, 8, 8), pixel values divided by 255"


# -- ELU, GELU, SiLU, Softplus ----------------------------------------------------------------


def smooth_mlp(dtype="float32"):
    """The four activations (GELU in both forms), in Dense layers and as layers of their own."""
    return gn.Sequential(
        [
            gn.Dense(12, activation=gn.ELU(alpha=0.7)),
            gn.Dense(12, activation="gelu"),
            gn.Dense(12, activation=gn.GELU(approximate=True)),
            gn.Dense(12),
            gn.SiLU(),
            gn.Dense(12, activation="softplus"),
            gn.Dense(3),
            gn.GELU(),
        ],
        dtype=dtype,
    )


@pytest.mark.parametrize("opset", [13, 17, 19, 20])  # Gelu is an operator from opset 20
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_new_activations_match_glassnet_in_onnx_runtime(tmp_path, opset, dtype):
    rng = np.random.default_rng(opset)
    model = smooth_mlp(dtype).build((5,), rng=1)
    X = rng.normal(scale=4.0, size=(200, 5))
    X[:4] = [[60.0] * 5, [-60.0] * 5, [1e4] * 5, [-1e4] * 5]  # far out on both sides
    # ONNX Runtime's CPU provider has no float64 Elu, Softplus or Erf: a float64 model is
    # checked as a float64 graph (onnx.checker) and run as a float32 one
    onnx.checker.check_model(make_onnx_model(model, opset=opset), full_check=True)
    path = model.to_onnx(tmp_path / "smooth.onnx", opset=opset, dtype="float32")
    out = run_onnx(path, X.astype(np.float32))
    expected = model.predict(X)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    assert ops.count("Elu") == 1 and ops.count("Softplus") == 1 and ops.count("Sigmoid") == 1
    if opset >= 20:
        assert ops.count("Gelu") == 3 and "Erf" not in ops
    else:  # written out: 0.5 z (1 + Erf(z / sqrt 2)) twice, the tanh form once
        assert "Gelu" not in ops and ops.count("Erf") == 2 and ops.count("Tanh") == 1


# -- normalisation layers -------------------------------------------------------------------------
def trained(model, X, epochs=3):
    """``model`` fitted a few epochs on ``X`` (random classes), so that its running statistics
    are away from their start (0 and 1) and gamma, beta from theirs (1 and 0)."""
    y = np.random.default_rng(1).integers(0, 3, size=len(X))
    model.fit(X, y, loss="cross_entropy", epochs=epochs, batch_size=8, rng=0)
    return model


@pytest.mark.parametrize("opset", [13, 17, 19])
def test_batch_and_layer_normalization_in_an_mlp(tmp_path, opset):
    rng = np.random.default_rng(opset)
    X = rng.normal(2.0, 3.0, size=(48, 6)).astype(np.float32)
    model = gn.Sequential(
        [
            gn.Dense(8, use_bias=False),
            gn.BatchNormalization(momentum=0.5),
            gn.ReLU(),
            gn.Dense(8),
            gn.LayerNormalization(),
            gn.Dense(5, use_bias=False),
            gn.BatchNormalization(center=False, scale=False),
            gn.Dense(3, activation="softmax"),
        ]
    )
    trained(model, X)
    assert not np.allclose(model.layers[1].buffers["moving_mean"], 0)
    out = run_onnx(model.to_onnx(tmp_path / "norm.onnx", opset=opset), X)
    np.testing.assert_allclose(out, model.predict(X), atol=1e-5, rtol=0)
    ops = [n.op_type for n in onnx.load(str(tmp_path / "norm.onnx")).graph.node]
    assert ops.count("BatchNormalization") == 2
    assert ("LayerNormalization" in ops) == (opset >= 17)  # decomposed before opset 17
    assert ("ReduceMean" in ops) == (opset < 17)


@pytest.mark.parametrize("opset", [13, 17, 19])
def test_normalization_in_a_cnn(tmp_path, opset):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 2, 6, 6)).astype(np.float32)
    model = gn.Sequential(
        [
            Conv2D(4, 3, padding="same", use_bias=False),
            gn.BatchNormalization(),  # per channel: ONNX's BatchNormalization
            gn.ReLU(),
            gn.BatchNormalization(axis=-1, momentum=0.5),  # per column: Mul and Add
            MaxPool2D(2),
            gn.LayerNormalization(),  # over (C, H, W): LayerNormalization(axis=1)
            gn.LayerNormalization(axis=1),  # over the channels, per pixel: decomposed
            gn.Flatten(),
            gn.Dense(3, activation="softmax"),
        ]
    )
    trained(model, X)
    out = run_onnx(model.to_onnx(tmp_path / "cnn_norm.onnx", opset=opset), X)
    np.testing.assert_allclose(out, model.predict(X), atol=1e-5, rtol=0)
    ops = [n.op_type for n in onnx.load(str(tmp_path / "cnn_norm.onnx")).graph.node]
    assert ops.count("BatchNormalization") == 1
    assert ops.count("LayerNormalization") == (1 if opset >= 17 else 0)
    assert ops.count("ReduceMean") == (2 if opset >= 17 else 4)


def test_normalization_exports_as_float64(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 4))
    model = gn.Sequential(
        [gn.Dense(6), gn.BatchNormalization(), gn.LayerNormalization(), gn.Dense(3), gn.Softmax()],
        dtype="float64",
    )
    trained(model, X)
    out = run_onnx(model.to_onnx(tmp_path / "norm64.onnx"), X)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, model.predict(X), atol=1e-9, rtol=0)
    # ONNX stores an operator's epsilon as a float32 attribute: 1e-3 becomes
    # 0.0010000000474974513, which moves the outputs by ~1e-11. With that epsilon in glassnet
    # too, the two agree to float64 rounding.
    for layer in model.layers[1:3]:
        layer.epsilon = float(np.float32(layer.epsilon))
    out = run_onnx(model.to_onnx(tmp_path / "norm64.onnx"), X)
    np.testing.assert_allclose(out, model.predict(X), atol=1e-14, rtol=0)


# -- AveragePooling2D and GlobalAveragePooling2D ------------------------------------------------


def test_average_pooling_cnn_matches_glassnet_in_onnx_runtime(tmp_path):
    """Valid, overlapping, and "same" windows whose edge averages count only the image."""
    model = gn.Sequential(
        [
            Conv2D(4, 3, padding="same", activation="relu"),
            gn.AveragePooling2D(2, padding="same"),  # 11 x 9 -> 6 x 5, ragged edges padded
            gn.AveragePooling2D(3, stride=1, padding="same"),
            Conv2D(5, 2, activation="silu"),
            gn.AveragePooling2D((2, 1), stride=(1, 2)),
            gn.GlobalAveragePooling2D(),
            gn.Dense(3, activation="softmax"),
        ]
    ).build((2, 11, 9), rng=0)
    X = np.random.default_rng(0).normal(size=(8, 2, 11, 9)).astype(np.float32)
    path = model.to_onnx(tmp_path / "avg.onnx")
    out = run_onnx(path, X)
    assert out.shape == (8, 3)
    np.testing.assert_allclose(out, model.predict(X), atol=1e-6, rtol=0)
    nodes = onnx.load(str(path)).graph.node
    pools = [n for n in nodes if n.op_type == "AveragePool"]
    attributes = {a.name: (list(a.ints) or a.i) for a in pools[0].attribute}
    # 11 rows in windows of 2: 6 outputs need 1 zero, after; 9 columns: 5 outputs, 1 zero
    assert attributes == {
        "kernel_shape": [2, 2],
        "strides": [2, 2],
        "pads": [0, 0, 1, 1],
        "count_include_pad": 0,
    }
    assert [n.op_type for n in nodes][-4:] == ["GlobalAveragePool", "Flatten", "Gemm", "Softmax"]
