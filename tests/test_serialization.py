import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet import datasets
from glassnet.datasets.images import ImagePreprocessing
from glassnet.io import integrity

DATA = Path(__file__).parent / "data"


def read_document(path) -> dict:
    from safetensors import safe_open

    with safe_open(path, "np") as f:
        return json.loads(f.metadata()["glassnet"])


def rewrite(path, out, *, document=None, change=None):
    """Write to ``out`` the file at ``path`` with its document replaced and/or its tensors
    passed through ``change(tensors)`` (a dict edited in place). A document of format
    version 3 is sealed again with fresh checksums, as ``save`` would: what such a test
    breaks on purpose must be caught by the check it is about, not by a checksum."""
    from safetensors.numpy import load_file, save_file

    tensors = load_file(path)
    if change is not None:
        change(tensors)
    document = read_document(path) if document is None else document
    if document.get("format_version") == 3:
        document = {k: v for k, v in document.items() if k != "tensor_sha256"}
        metadata = integrity.sealed_metadata(document, tensors)
    else:
        metadata = {"glassnet": json.dumps(document)}
    save_file(tensors, out, metadata=metadata)


@pytest.fixture
def trained():
    X, y = datasets.make_moons(64, rng=0)
    model = gn.Sequential(
        [
            gn.Dense(8, activation="leaky_relu"),
            gn.Dropout(0.1),
            gn.Dense(8, activation="tanh"),
            gn.Dense(2, activation="softmax"),
        ]
    )
    model.fit(
        X,
        y,
        loss="cross_entropy",
        optimizer=gn.Adam(0.01),
        epochs=3,
        batch_size=16,
        validation_split=0.25,
        rng=0,
    )
    # any typed preprocessing object travels with the model; the image kind is the smallest
    model.preprocessing = ImagePreprocessing(shape=(2,), scale=4.0, classes=("a", "b"))
    return model, X, y


def test_round_trip_gives_identical_predictions(tmp_path, trained):
    model, X, y = trained
    path = tmp_path / "moons.safetensors"
    model.save(path)
    loaded = gn.load(path)
    assert np.array_equal(loaded.predict(X), model.predict(X))
    assert loaded.history.history == model.history.history
    assert loaded.preprocessing == model.preprocessing
    assert loaded.preprocessing.to_dict() == {
        "kind": "image",
        "shape": [2],
        "scale": 4.0,
        "classes": ["a", "b"],
    }
    assert loaded.layers[0].activation.alpha == model.layers[0].activation.alpha
    assert isinstance(loaded.loss_, gn.CrossEntropy)
    assert loaded.format_summary().splitlines()[:6] == model.format_summary().splitlines()[:6]


def test_loaded_model_continues_training_like_the_original(tmp_path):
    X, y = datasets.make_moons(64, rng=0)
    model = gn.Sequential([gn.Dense(8, activation="relu"), gn.Dense(2, activation="softmax")])
    model.fit(X, y, loss="cross_entropy", optimizer=gn.Adam(0.01), epochs=3, batch_size=16, rng=0)
    model.save(tmp_path / "m.safetensors")
    loaded = gn.load(tmp_path / "m.safetensors")
    assert loaded.optimizer_.iterations == model.optimizer_.iterations
    for key, value in model.optimizer_.state_arrays().items():
        assert np.array_equal(loaded.optimizer_.state_arrays()[key], value)
    # same state, same data order: the next epoch gives the same weights
    model.fit(X, y, epochs=1, batch_size=16, shuffle=False)
    loaded.fit(X, y, epochs=1, batch_size=16, shuffle=False)
    for (name, a, _), (_, b, _) in zip(model.slots(), loaded.slots(), strict=True):
        assert np.allclose(a, b, rtol=0, atol=1e-6), name


def test_file_is_plain_safetensors_with_a_versioned_document(tmp_path, trained):
    from safetensors.numpy import load_file

    model, _, _ = trained
    path = tmp_path / "m.safetensors"
    model.save(path)
    tensors = load_file(path)
    assert tensors["layers.0.W"].shape == (2, 8)
    # Adam's moments stored per parameter name, each of its parameter's shape
    optimizer_tensors = {k: v for k, v in tensors.items() if k.startswith("optimizer/")}
    assert sorted(optimizer_tensors) == sorted(
        f"optimizer/{name}/{key}" for name, _, _ in model.slots() for key in ("m", "v")
    )
    for name, p, _ in model.slots():
        assert tensors[f"optimizer/{name}/m"].shape == p.shape
        assert np.array_equal(tensors[f"optimizer/{name}/v"], model.optimizer_.state[name]["v"])
    document = read_document(path)
    assert document["format"] == "glassnet" and document["format_version"] == 3
    assert document["layers"][0] == {
        "class": "Dense",
        "config": {
            "units": 8,
            "activation": {"name": "leaky_relu", "alpha": 0.01},
            "use_bias": True,
            "weight_init": "he_uniform",
            "bias_init": "zeros",
        },
    }


def test_truncated_corrupted_and_foreign_files_raise_clear_errors(tmp_path, trained):
    model, _, _ = trained
    path = tmp_path / "m.safetensors"
    model.save(path)
    data = path.read_bytes()

    (tmp_path / "cut").write_bytes(data[: len(data) // 2])
    with pytest.raises(gn.ModelFileError, match="is truncated: its header needs"):
        gn.load(tmp_path / "cut")
    (tmp_path / "cut2").write_bytes(data[:-10])  # header intact, tensors cut
    with pytest.raises(gn.ModelFileError, match="corrupted or truncated"):
        gn.load(tmp_path / "cut2")
    (tmp_path / "short").write_bytes(data[:5])
    with pytest.raises(gn.ModelFileError, match="too short"):
        gn.load(tmp_path / "short")
    (tmp_path / "text.csv").write_text("a,b\n1,2\n")
    with pytest.raises(gn.ModelFileError, match="is not a glassnet model file"):
        gn.load(tmp_path / "text.csv")
    from safetensors.numpy import save_file

    save_file({"x": np.zeros(3)}, tmp_path / "other.safetensors")
    with pytest.raises(gn.ModelFileError, match="no glassnet document"):
        gn.load(tmp_path / "other.safetensors")
    nan = _set("layers.0.b", np.full(8, np.nan, np.float32))  # checksums written to fit
    rewrite(path, tmp_path / "nan", change=nan)
    with pytest.raises(gn.ModelFileError, match="tensor 'layers.0.b' holds NaN or infinity"):
        gn.load(tmp_path / "nan")
    with pytest.raises(gn.ModelFileError, match="model file not found"):
        gn.load(tmp_path / "missing.safetensors")
    assert issubclass(gn.ModelFileError, ValueError)


def test_loading_runs_no_code_and_builds_only_known_layers(tmp_path, trained):
    model, _, _ = trained
    path = tmp_path / "m.safetensors"
    model.save(path)
    document = read_document(path)
    document["layers"][0]["class"] = "os.system"
    rewrite(path, tmp_path / "evil", document=document)
    with pytest.raises(gn.ModelFileError, match="unknown layer 'os.system'"):
        gn.load(tmp_path / "evil")


def test_a_file_naming_a_module_imports_nothing(tmp_path, trained, monkeypatch):
    # a module that would leave a mark if anything imported it
    (tmp_path / "glassnet_payload.py").write_text(
        "import pathlib\npathlib.Path(__file__).with_name('imported').touch()\n"
        "class Payload:\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    model, _, _ = trained
    model.save(tmp_path / "m.safetensors")
    for name, custom in [
        ("glassnet_payload.Payload", False),
        ("glassnet_payload.Payload", True),
        ("glassnet_payload", True),
    ]:
        document = read_document(tmp_path / "m.safetensors")
        document["layers"][0] = {"class": name, "custom": custom, "config": {}}
        rewrite(tmp_path / "m.safetensors", tmp_path / "evil", document=document)
        with pytest.raises(gn.ModelFileError, match=f"'{name}'"):
            gn.load(tmp_path / "evil")
    assert "glassnet_payload" not in sys.modules
    assert not (tmp_path / "imported").exists()


def test_save_is_atomic_and_keeps_the_old_file_on_failure(tmp_path, trained, monkeypatch):
    model, _, _ = trained
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"the user's old model")

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == b"the user's old model"
    assert os.listdir(tmp_path) == ["m.safetensors"]  # no temporary file left


def test_save_errors(tmp_path):
    with pytest.raises(ValueError, match="not built yet"):
        gn.Sequential([gn.Dense(1)]).save(tmp_path / "m.safetensors")
    model = gn.Sequential([gn.Dense(1)]).build((2,))
    with pytest.raises(ValueError, match="folder .* does not exist"):
        model.save(tmp_path / "no" / "m.safetensors")


def test_saved_files_get_the_usual_permissions(tmp_path, trained):
    model, _, _ = trained
    umask = os.umask(0o022)
    try:
        model.save(tmp_path / "m.safetensors")
    finally:
        os.umask(umask)
    assert (tmp_path / "m.safetensors").stat().st_mode & 0o777 == 0o644


# -- the optimizer state: per parameter name, checked on load ---------------------------------
@pytest.fixture
def momentum_file(tmp_path):
    X, y = datasets.make_moons(32, rng=0)
    model = gn.Sequential([gn.Dense(3, activation="tanh"), gn.Dense(1, activation="sigmoid")])
    model.fit(X, y, loss="bce", optimizer=gn.SGD(0.1, momentum=0.9), epochs=2, rng=0)
    model.save(tmp_path / "sgd.safetensors")
    return model, tmp_path / "sgd.safetensors"


def test_loaded_optimizer_state_is_kept_per_parameter_name(momentum_file):
    model, path = momentum_file
    loaded = gn.load(path)
    assert sorted(loaded.optimizer_.state_arrays()) == [
        "layers.0.W/velocity",
        "layers.0.b/velocity",
        "layers.1.W/velocity",
        "layers.1.b/velocity",
    ]
    for name, p, _ in loaded.slots():
        velocity = loaded.optimizer_.state[name]["velocity"]
        assert velocity.shape == p.shape and velocity.dtype == np.float32
        assert np.array_equal(velocity, model.optimizer_.state[name]["velocity"])


def _set(key, value):
    def change(tensors):
        tensors[key] = value

    return change


def _drop(*keys):
    def change(tensors):
        for key in keys:
            del tensors[key]

    return change


@pytest.mark.parametrize(
    "change, message",
    [
        (
            _set("optimizer/layers.7.W/velocity", np.zeros((2, 3), np.float32)),
            "optimizer tensor 'optimizer/layers.7.W/velocity' names no parameter of the model",
        ),
        (
            _set("optimizer/layers.0.W/velocity", np.zeros((3, 2), np.float32)),
            "optimizer tensor 'optimizer/layers.0.W/velocity' has shape (3, 2) and dtype "
            "float32, expected (2, 3) float32 like 'layers.0.W'",
        ),
        (
            _set("optimizer/layers.0.b/velocity", np.zeros(3, np.float64)),
            "optimizer tensor 'optimizer/layers.0.b/velocity' has shape (3,) and dtype "
            "float64, expected (3,) float32 like 'layers.0.b'",
        ),
        (
            _set("optimizer/layers.1.b/m", np.zeros(1, np.float32)),
            "the optimizer state of 'layers.1.b' has keys ['m', 'velocity'], but "
            "SGD(learning_rate=0.1, weight_decay=0.0, momentum=0.9, nesterov=False) keeps "
            "['velocity']",
        ),
        (
            _drop("optimizer/layers.1.W/velocity"),
            "the optimizer state of 'layers.1.W' has keys [], but SGD(",
        ),
        (
            _drop(*[f"optimizer/layers.{i}.{k}/velocity" for i in (0, 1) for k in "Wb"]),
            "the optimizer state of 'layers.0.W' has keys [], but SGD(",
        ),
    ],
)
def test_every_optimizer_tensor_is_checked_against_the_model(
    tmp_path, momentum_file, change, message
):
    _, path = momentum_file
    rewrite(path, tmp_path / "bad", change=change)
    with pytest.raises(gn.ModelFileError, match=re.escape(f"'{tmp_path / 'bad'}': {message}")):
        gn.load(tmp_path / "bad")


def test_an_untrained_optimizer_may_have_no_state(tmp_path):
    model = gn.Sequential([gn.Dense(2)]).build((3,))
    model.optimizer_ = gn.Adam()
    model.save(tmp_path / "m.safetensors")
    loaded = gn.load(tmp_path / "m.safetensors")
    assert loaded.optimizer_.iterations == 0 and loaded.optimizer_.state_arrays() == {}


def test_format_versions_outside_1_to_3_are_refused(tmp_path, momentum_file):
    _, path = momentum_file
    for version in (0, 4):
        document = read_document(path)
        document["format_version"] = version
        rewrite(path, tmp_path / "v", document=document)
        with pytest.raises(
            gn.ModelFileError,
            match=f"has format version {version}; this glassnet reads versions 1 to 3",
        ):
            gn.load(tmp_path / "v")


# -- files written by glassnet 0.1 (format version 1): made by tests/data/make_v1_models.py -----
V1_FILES = ["v1_sgd_momentum", "v1_adam", "v1_cnn_adam"]


@pytest.mark.parametrize("name", V1_FILES)
def test_version_1_files_load_and_predict_what_the_old_code_predicted(name):
    expected = np.load(DATA / f"{name}.npz")
    model = gn.load(DATA / f"{name}.safetensors")
    assert np.array_equal(model.predict(expected["X"]), expected["predictions"])


@pytest.mark.parametrize("name", V1_FILES)
def test_version_1_files_train_on_from_their_optimizer_state(name):
    # the old code loaded the file and trained one more epoch: the same continuation here
    # (it differs clearly from one started with a fresh optimizer; see the next test)
    expected = np.load(DATA / f"{name}.npz")
    model = gn.load(DATA / f"{name}.safetensors")
    model.fit(expected["X"], expected["y"], epochs=1, batch_size=4, shuffle=False)
    assert np.allclose(model.predict(expected["X"]), expected["continued"], rtol=0, atol=1e-6)


def test_a_fresh_optimizer_would_continue_differently():
    expected = np.load(DATA / "v1_adam.npz")
    model = gn.load(DATA / "v1_adam.safetensors")
    model.optimizer_ = gn.Adam(0.01)
    model.fit(expected["X"], expected["y"], epochs=1, batch_size=4, shuffle=False)
    assert np.abs(model.predict(expected["X"]) - expected["continued"]).max() > 1e-3


@pytest.mark.parametrize(
    "name, pieces",
    [
        # parameters end to end in model.slots() order: W (3, 5), b (5,), W (5, 3), b (3,)
        (
            "v1_adam",
            {
                "layers.0.W": (0, 15),
                "layers.0.b": (15, 20),
                "layers.1.W": (20, 35),
                "layers.1.b": (35, 38),
            },
        ),
        # Conv2D W (2, 1, 3, 3) and b (2,), then Dense W (8, 2) and b (2,)
        (
            "v1_cnn_adam",
            {
                "layers.0.W": (0, 18),
                "layers.0.b": (18, 20),
                "layers.3.W": (20, 36),
                "layers.3.b": (36, 38),
            },
        ),
    ],
)
def test_version_1_flat_moments_are_cut_into_per_name_state(name, pieces):
    from safetensors.numpy import load_file

    flat = load_file(DATA / f"{name}.safetensors")
    model = gn.load(DATA / f"{name}.safetensors")
    assert (
        model.optimizer_.iterations
        == read_document(DATA / f"{name}.safetensors")["training"]["optimizer"]["iterations"]
    )
    assert sorted(model.optimizer_.state_arrays()) == sorted(
        f"{p}/{k}" for p in pieces for k in ("m", "v")
    )
    for param, (start, stop) in pieces.items():
        shape = model.get_weights()[param].shape
        for key in ("m", "v"):
            piece = flat[f"optimizer/parameters/{key}"][start:stop].reshape(shape)
            assert np.array_equal(model.optimizer_.state[param][key], piece)


def test_version_1_flat_vector_of_the_wrong_length_is_refused(tmp_path):
    def shorten(tensors):
        tensors["optimizer/parameters/v"] = tensors["optimizer/parameters/v"][:-1]

    rewrite(DATA / "v1_adam.safetensors", tmp_path / "short", change=shorten)
    with pytest.raises(
        gn.ModelFileError,
        match=re.escape(
            "optimizer tensor 'optimizer/parameters/v' has shape (37,), but the model's "
            "4 parameters hold 38 numbers"
        ),
    ):
        gn.load(tmp_path / "short")


def test_version_1_file_with_flat_and_per_name_state_is_refused(tmp_path):
    both = _set("optimizer/layers.0.b/m", np.zeros(5, np.float32))
    rewrite(DATA / "v1_adam.safetensors", tmp_path / "both", change=both)
    with pytest.raises(gn.ModelFileError, match="two optimizer states, one flat and one per"):
        gn.load(tmp_path / "both")


def test_per_name_state_in_a_version_2_file_is_never_read_as_flat(tmp_path):
    document = read_document(DATA / "v1_adam.safetensors")
    document["format_version"] = 2
    rewrite(DATA / "v1_adam.safetensors", tmp_path / "v2", document=document)
    with pytest.raises(gn.ModelFileError, match="'optimizer/parameters/[mv]' names no parameter"):
        gn.load(tmp_path / "v2")


# -- custom layers and activations ----------------------------------------------------------
class Scale(gn.Layer):
    """``y = factor * s * x``: one learned scale ``s`` per feature, starting at 1."""

    def __init__(self, factor=1.0):
        super().__init__()
        self.factor = factor

    def build(self, input_shape, rng, dtype):
        shape = super().build(input_shape, rng, dtype)
        self.params = {"scale": np.ones(input_shape, dtype=self.dtype)}
        self.grads = {"scale": np.zeros(input_shape, dtype=self.dtype)}
        return shape

    def forward(self, x, training=False):
        self.x = x
        return self.factor * self.params["scale"] * x

    def backward(self, grad_out):
        self.grads["scale"][...] = self.factor * (grad_out * self.x).sum(axis=0)
        return self.factor * self.params["scale"] * grad_out

    def get_config(self):
        return {"factor": self.factor}


class Swish(gn.Activation):
    """``a = z sigmoid(beta z)``; ``da/dz = s + beta z s (1 - s)`` with ``s = sigmoid(beta z)``."""

    name = "swish"

    def __init__(self, beta=1.0):
        super().__init__()
        self.beta = beta

    def function(self, z):
        return z / (1 + np.exp(-self.beta * z))

    def derivative(self):
        s = 1 / (1 + np.exp(-self.beta * self.z))
        return s + self.beta * self.z * s * (1 - s)

    def get_config(self):
        return {"beta": self.beta}


class ClippedReLU(gn.ReLU):
    """``a = min(max(z, 0), 1)``: a ReLU subclass that keeps the name ``"relu"``."""

    def function(self, z):
        return np.clip(z, 0, 1)

    def derivative(self):
        return ((self.z > 0) & (self.z < 1)).astype(self.z.dtype)

    def backward(self, grad_out):
        return grad_out * self.derivative()


CUSTOM = {"Scale": Scale, "Swish": Swish, "ClippedReLU": ClippedReLU}


@pytest.fixture
def custom_model():
    X, y = datasets.make_moons(64, rng=0)
    model = gn.Sequential(
        [
            gn.Dense(6, activation=Swish(beta=1.5)),
            Scale(factor=2.0),
            gn.Dense(6),
            ClippedReLU(),
            gn.Dense(4, activation=ClippedReLU()),
            Swish(),
            gn.Dense(1, activation="sigmoid"),
        ]
    )
    model.fit(X, y, loss="bce", optimizer=gn.Adam(0.01), epochs=3, batch_size=16, rng=0)
    return model, X, y


def test_custom_layers_and_activations_round_trip(tmp_path, custom_model):
    model, X, y = custom_model
    path = tmp_path / "custom.safetensors"
    model.save(path)
    loaded = gn.load(path, custom_objects=CUSTOM)
    assert np.array_equal(loaded.predict(X), model.predict(X))
    kinds = [type(layer) for layer in loaded.layers]
    assert kinds == [gn.Dense, Scale, gn.Dense, ClippedReLU, gn.Dense, Swish, gn.Dense]
    assert type(loaded.layers[0].activation) is Swish and loaded.layers[0].activation.beta == 1.5
    assert type(loaded.layers[4].activation) is ClippedReLU
    assert loaded.layers[1].factor == 2.0
    # the custom parameter goes through the same names, trained and restored like any other
    assert not np.array_equal(model.get_weights()["layers.1.scale"], np.ones(6))
    assert np.array_equal(
        loaded.get_weights()["layers.1.scale"], model.get_weights()["layers.1.scale"]
    )
    assert np.array_equal(
        loaded.optimizer_.state["layers.1.scale"]["m"],
        model.optimizer_.state["layers.1.scale"]["m"],
    )
    model.fit(X, y, epochs=1, batch_size=16, shuffle=False)
    loaded.fit(X, y, epochs=1, batch_size=16, shuffle=False)
    assert np.allclose(loaded.predict(X), model.predict(X), rtol=0, atol=1e-6)


def test_the_document_records_custom_classes(tmp_path, custom_model):
    model, _, _ = custom_model
    model.save(tmp_path / "custom.safetensors")
    layers = read_document(tmp_path / "custom.safetensors")["layers"]
    assert layers[0]["config"]["activation"] == {"class": "Swish", "config": {"beta": 1.5}}
    assert layers[1] == {"class": "Scale", "custom": True, "config": {"factor": 2.0}}
    assert layers[3] == {"class": "ClippedReLU", "custom": True, "config": {}}
    # a subclass keeping the built-in's name is recorded by its class, not as "relu"
    assert layers[4]["config"]["activation"] == {"class": "ClippedReLU", "config": {}}
    assert layers[6]["config"]["activation"] == "sigmoid"
    assert "custom" not in layers[0]


@pytest.mark.parametrize(
    "given, kind, name",
    [
        ({}, "activation", "Swish"),
        ({"Swish": Swish}, "layer", "Scale"),
        ({"Swish": Swish, "Scale": Scale}, "layer", "ClippedReLU"),
    ],
)
def test_a_missing_custom_class_is_named_with_how_to_pass_it(
    tmp_path, custom_model, given, kind, name
):
    model, _, _ = custom_model
    path = tmp_path / "model.safetensors"
    model.save(path)
    message = (
        f"'{path}' uses the custom {kind} '{name}'; pass custom_objects={{'{name}': {name}}} "
        f"to load() to load it"
    )
    with pytest.raises(gn.ModelFileError, match=f"^{re.escape(message)}$"):
        gn.load(path, custom_objects=given or None)


def test_custom_activation_in_a_dense_layer_needs_custom_objects_too(tmp_path):
    model = gn.Sequential([gn.Dense(2, activation=ClippedReLU())]).build((3,))
    model.save(tmp_path / "m.safetensors")
    with pytest.raises(gn.ModelFileError, match="uses the custom activation 'ClippedReLU'"):
        gn.load(tmp_path / "m.safetensors")


@pytest.mark.parametrize(
    "custom_objects, shown",
    [
        (["Scale"], "got list"),
        ({"Scale": "Scale"}, "got 'Scale': 'Scale'"),
        ({"Scale": int}, "got 'Scale': <class 'int'>"),
        ({"Scale": Scale()}, "got 'Scale': Scale(factor=1.0)"),
        ({Scale: Scale}, "got <class "),
    ],
)
def test_custom_objects_must_map_names_to_layer_classes(tmp_path, custom_objects, shown):
    with pytest.raises(TypeError, match=r"^custom_objects must .*" + re.escape(shown)):
        gn.load(tmp_path / "any.safetensors", custom_objects=custom_objects)


def test_custom_objects_for_an_activation_must_be_an_activation(tmp_path):
    model = gn.Sequential([gn.Dense(2, activation=Swish())]).build((3,))
    model.save(tmp_path / "m.safetensors")
    with pytest.raises(
        gn.ModelFileError,
        match="uses 'Swish' as an activation, but custom_objects maps it to Scale",
    ):
        gn.load(tmp_path / "m.safetensors", custom_objects={"Swish": Scale})


def test_custom_layer_tensors_are_checked_against_the_rebuilt_model(tmp_path, custom_model):
    class OneScale(Scale):
        def build(self, input_shape, rng, dtype):
            shape = super().build(input_shape, rng, dtype)
            self.params = {"scale": np.ones(1, dtype=self.dtype)}
            self.grads = {"scale": np.zeros(1, dtype=self.dtype)}
            return shape

    model, _, _ = custom_model
    model.save(tmp_path / "m.safetensors")
    with pytest.raises(
        gn.ModelFileError, match=re.escape("tensor 'layers.1.scale' has shape (6,) and dtype")
    ):
        gn.load(tmp_path / "m.safetensors", custom_objects={**CUSTOM, "Scale": OneScale})


class Dense(gn.Dense):
    """A user's class that happens to share a built-in's name."""

    def forward(self, x, training=False):
        return 2 * super().forward(x, training)


def test_a_class_named_like_a_built_in_never_loads_as_the_built_in(tmp_path):
    model = gn.Sequential([Dense(2)]).build((3,), rng=0)
    model.save(tmp_path / "m.safetensors")
    assert read_document(tmp_path / "m.safetensors")["layers"][0]["custom"] is True
    with pytest.raises(gn.ModelFileError, match="uses the custom layer 'Dense'"):
        gn.load(tmp_path / "m.safetensors")
    loaded = gn.load(tmp_path / "m.safetensors", custom_objects={"Dense": Dense})
    X = np.ones((1, 3))
    assert type(loaded.layers[0]) is Dense
    assert np.array_equal(loaded.predict(X), model.predict(X))


def test_custom_objects_wins_over_a_built_in_only_when_passed(tmp_path):
    model = gn.Sequential([gn.Dense(2)]).build((3,), rng=0)
    model.save(tmp_path / "m.safetensors")
    assert type(gn.load(tmp_path / "m.safetensors").layers[0]) is gn.Dense
    loaded = gn.load(tmp_path / "m.safetensors", custom_objects={"Dense": Dense})
    X = np.ones((1, 3))
    assert type(loaded.layers[0]) is Dense
    assert np.array_equal(loaded.predict(X), 2 * model.predict(X))


def test_save_refuses_a_layer_its_file_could_not_rebuild(tmp_path):
    class Shift(gn.Layer):  # needs an argument but get_config() does not return it
        def __init__(self, by):
            super().__init__()
            self.by = by

        def forward(self, x, training=False):
            return x + self.by

    class Tagged(Shift):
        def get_config(self):
            return {"by": np.float32(1.0)}

    for layer, message in [
        (Shift(1.0), "cannot save layer 0: Shift(**config) fails with config {}: "),
        (Tagged(1.0), "cannot save layer 0 (Tagged): get_config() must return JSON-safe values"),
    ]:
        model = gn.Sequential([layer, gn.Dense(1)]).build((2,))
        with pytest.raises(TypeError, match=re.escape(message)):
            model.save(tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


def test_save_refuses_two_classes_of_one_name(tmp_path):
    class Other(gn.Layer):
        def forward(self, x, training=False):
            return x

    Other.__name__ = "Scale"
    model = gn.Sequential([Scale(), Other(), gn.Dense(1)]).build((2,))
    with pytest.raises(ValueError, match="the model uses two different classes named 'Scale'"):
        model.save(tmp_path / "m.safetensors")


def test_a_class_that_does_not_take_the_stored_config_is_a_model_file_error(tmp_path):
    model = gn.Sequential([Scale(factor=2.0), gn.Dense(1)]).build((2,))
    model.save(tmp_path / "m.safetensors")
    with pytest.raises(
        gn.ModelFileError, match=re.escape("Flatten(**config) fails with config {'factor': 2.0}: ")
    ):
        gn.load(tmp_path / "m.safetensors", custom_objects={"Scale": gn.Flatten})


# -- checked before believed: schema, shapes, checksums, regular files ----------------------
def _load_error(path) -> str:
    with pytest.raises(gn.ModelFileError) as info:
        gn.load(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"'{path}'")
    return message[len(f"'{path}'") :]


def _edited(tmp_path, path, edit):
    document = read_document(path)
    edit(document)
    rewrite(path, tmp_path / "edited", document=document)
    return tmp_path / "edited"


def _set_item(*keys_and_value):
    *keys, key, value = keys_and_value

    def edit(document):
        for k in keys:
            document = document[k]
        document[key] = value

    return edit


@pytest.mark.parametrize(
    "edit, message",
    [
        (_set_item("training", 5), "$.training must be of JSON type object or null, got integer 5"),
        (_set_item("history", "x"), "$.history must be of JSON type object or null, got string"),
        (_set_item("history", "loss", ["x"]), "$.history.loss[0] must be of JSON type number"),
        (_set_item("preprocessing", 5), "$.preprocessing must be null or object, got integer 5"),
        (_set_item("layers", "x"), "$.layers must be of JSON type array, got string 'x'"),
        (_set_item("input_shape", [2, -1]), "$.input_shape[1] = -1 breaks the rule minimum: 1"),
        (_set_item("dtype", "int8"), "$.dtype = 'int8' breaks the rule enum"),
        (
            _set_item("training", "optimizer", "iterations", -1),
            "$.training.optimizer.iterations = -1 breaks the rule minimum: 0",
        ),
        (
            _set_item("layers", 0, "config", "units", "8"),
            "$.layers[0].config.units must be of JSON type integer, got string '8'",
        ),
        (
            _set_item("layers", 1, "config", "rate", 1.5),
            "$.layers[1].config.rate = 1.5 breaks the rule exclusiveMaximum: 1",
        ),
        (
            _set_item("layers", 0, "class", "D" * 5000),
            "$.layers[0].class breaks the limit maxLength=200 (it has 5000)",
        ),
        (_set_item("evil", 1), "$ has fields this format does not have: ['evil']"),
    ],
)
def test_the_document_is_checked_against_its_schema(tmp_path, trained, edit, message):
    model, _, _ = trained
    model.save(tmp_path / "m.safetensors")
    edited = _edited(tmp_path, tmp_path / "m.safetensors", edit)
    assert _load_error(edited).startswith(f" has an invalid model description: {message}")


def test_values_from_the_file_are_echoed_at_most_100_characters(tmp_path, trained):
    model, _, _ = trained
    model.save(tmp_path / "m.safetensors")
    edited = _edited(tmp_path, tmp_path / "m.safetensors", _set_item("history", "x" * 10_000))
    message = _load_error(edited)
    assert message.endswith("got string '" + "x" * 99 + "... (10002 characters)")
    assert len(message) < 250


@pytest.mark.parametrize(
    "preprocessing, message",
    [
        ({"kind": "x"}, "unknown preprocessing kind 'x'; this glassnet knows: image, table"),
        ({"kind": "table", "format_version": 1, "columns": 5}, "the model's preprocessing is"),
        ({"kind": "image", "shape": [2], "evil": 1}, "the image preprocessing has unknown"),
    ],
)
def test_whatever_the_preprocessing_refuses_is_a_model_file_error(
    tmp_path, trained, preprocessing, message
):
    model, _, _ = trained
    model.save(tmp_path / "m.safetensors")
    edit = _set_item("preprocessing", preprocessing)
    edited = _edited(tmp_path, tmp_path / "m.safetensors", edit)
    assert _load_error(edited).startswith(f" has invalid preprocessing: {message}")


def _raw_document(path, out, text):
    """``path``'s tensors under a document given as raw text (no checksum: never reached)."""
    from safetensors.numpy import load_file, save_file

    save_file(load_file(path), out, metadata={"glassnet": text})


def test_deep_nesting_is_an_error_not_a_recursion_error(tmp_path, trained):
    model, _, _ = trained
    model.save(tmp_path / "m.safetensors")
    text = json.dumps(read_document(tmp_path / "m.safetensors"))
    deep = text.replace('"history": {', '"history": {"x": ' + "[" * 2000 + "]" * 2000 + ", ")
    _raw_document(tmp_path / "m.safetensors", tmp_path / "deep", deep)
    message = _load_error(tmp_path / "deep")
    # the document's object, the history's, then the 2,000 lists
    assert (
        message == ": its glassnet document is nested 2002 levels deep; a model file has at most 64"
    )
    # a bracket inside a string is no nesting; a deep header is refused as well
    from glassnet.io.container import check_nesting

    check_nesting(b'{"a": "[[[[[[[[\\"[[[[["}', "f", "header", limit=1)
    header = b'{"a":' + b"[" * 2000 + b"]" * 2000 + b"}"
    (tmp_path / "deep_header").write_bytes(len(header).to_bytes(8, "little") + header)
    assert "its header is nested 2001 levels deep" in _load_error(tmp_path / "deep_header")


@pytest.mark.parametrize("units", [20_000, 10**9])
def test_huge_declared_layers_fail_before_anything_is_built(tmp_path, units):
    import time
    import tracemalloc

    model = gn.Sequential([gn.Dense(8, activation="relu"), gn.Dense(8), gn.Dense(1)]).build((2,))
    model.save(tmp_path / "m.safetensors")

    def widen(document):
        for layer in document["layers"][:2]:
            layer["config"]["units"] = units

    edited = _edited(tmp_path, tmp_path / "m.safetensors", widen)
    assert edited.stat().st_size < 2_500  # a 2 KB file
    tracemalloc.start()
    start = time.perf_counter()
    message = _load_error(edited)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert message == (
        f": layer 0 (Dense({units}, relu)) declares tensor 'layers.0.W' of shape (2, {units}) "
        f"float32, but the file holds (2, 8) float32"
    )
    assert seconds < 0.5 and peak < 2_000_000, (seconds, peak)


def test_a_flipped_bit_in_any_tensor_is_named(tmp_path, trained):
    model, _, _ = trained
    path = tmp_path / "m.safetensors"
    model.save(path)
    data = path.read_bytes()
    body = 8 + int.from_bytes(data[:8], "little")
    from safetensors import safe_open

    with safe_open(path, "np") as f:
        names = list(f.keys())
    header = json.loads(data[8:body])
    for name in names:
        begin, end = header[name]["data_offsets"]
        for position in (begin, end - 1):
            flipped = bytearray(data)
            flipped[body + position] ^= 0x01  # the lowest mantissa bit: a finite, close number
            (tmp_path / "flipped").write_bytes(bytes(flipped))
            assert _load_error(tmp_path / "flipped") == (
                f": tensor '{name}' does not match its checksum: the file is corrupted"
            )


def test_an_edited_document_no_longer_matches_its_checksum(tmp_path, trained):
    model, _, _ = trained
    path = tmp_path / "m.safetensors"
    model.save(path)
    data = path.read_bytes()
    assert data.count(b'\\"alpha\\": 0.01') == 1
    edited = data.replace(b'\\"alpha\\": 0.01', b'\\"alpha\\": 0.03')
    (tmp_path / "edited").write_bytes(edited)
    assert _load_error(tmp_path / "edited") == (
        ": its glassnet document does not match its checksum: the file is corrupted"
    )


def test_a_version_3_file_without_checksums_is_refused(tmp_path, trained):
    from safetensors.numpy import load_file, save_file

    model, _, _ = trained
    model.save(tmp_path / "m.safetensors")
    document = read_document(tmp_path / "m.safetensors")
    tensors = load_file(tmp_path / "m.safetensors")
    save_file(tensors, tmp_path / "bare", metadata={"glassnet": json.dumps(document)})
    assert _load_error(tmp_path / "bare") == (
        " is corrupted: its format version 3 document has no checksum"
    )
    document.pop("tensor_sha256")
    metadata = integrity.sealed_metadata(document, tensors)
    tensors["extra"] = np.zeros(2, np.float32)
    save_file(tensors, tmp_path / "extra", metadata=metadata)
    assert _load_error(tmp_path / "extra") == " is corrupted: tensor 'extra' has no checksum"


def test_a_version_2_file_without_checksums_still_loads(tmp_path, trained):
    model, X, _ = trained
    model.save(tmp_path / "m.safetensors")
    document = read_document(tmp_path / "m.safetensors")
    document["format_version"] = 2
    del document["tensor_sha256"]
    rewrite(tmp_path / "m.safetensors", tmp_path / "v2", document=document)
    assert np.array_equal(gn.load(tmp_path / "v2").predict(X), model.predict(X))
    # saving it again writes the checksums of version 3
    gn.load(tmp_path / "v2").save(tmp_path / "v3")
    assert read_document(tmp_path / "v3")["format_version"] == 3
    assert len(read_document(tmp_path / "v3")["tensor_sha256"]) == 2 * 3 * 3


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and /dev/zero")
def test_only_regular_files_are_opened_and_never_block(tmp_path):
    import time

    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "zero").symlink_to("/dev/zero")
    (tmp_path / "folder").mkdir()
    start = time.perf_counter()
    for name, kind in [
        ("fifo", "a FIFO (named pipe)"),
        ("zero", "a character device"),
        ("folder", "a folder"),
    ]:
        assert _load_error(tmp_path / name) == (
            f" is {kind}, not a regular file: a model file must be a regular file"
        )
    assert time.perf_counter() - start < 1.0


def test_reading_is_bounded(tmp_path, trained):
    model, X, _ = trained
    path = tmp_path / "m.safetensors"
    model.save(path)
    size = path.stat().st_size
    with pytest.raises(gn.ModelFileError, match=f"is {size} bytes, more than the limit of 100 "):
        gn.load(path, max_bytes=100)
    assert np.array_equal(gn.load(path, max_bytes=size).predict(X), model.predict(X))
    with pytest.raises(TypeError, match="^max_bytes must be an int, got float$"):
        gn.load(path, max_bytes=1e9)
    with pytest.raises(ValueError, match="^max_bytes must be >= 0, got -1$"):
        gn.load(path, max_bytes=-1)
