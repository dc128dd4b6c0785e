import json
import os

import numpy as np
import pytest

import glassnet as gn
from glassnet import datasets


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
    model.preprocessing = {"columns": ["a", "b"], "mean": [0.5, 0.25]}
    return model, X, y


def test_round_trip_gives_identical_predictions(tmp_path, trained):
    model, X, y = trained
    path = tmp_path / "moons.safetensors"
    model.save(path)
    loaded = gn.load(path)
    assert np.array_equal(loaded.predict(X), model.predict(X))
    assert loaded.history.history == model.history.history
    assert loaded.preprocessing == model.preprocessing
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
    # Adam's moments for all parameters, as one vector in the order of model.slots()
    n_params = sum(p.size for _, p, _ in model.slots())
    assert tensors["optimizer/parameters/m"].shape == (n_params,)
    header_len = int.from_bytes(path.read_bytes()[:8], "little")
    header = json.loads(path.read_bytes()[8 : 8 + header_len])
    document = json.loads(header["__metadata__"]["glassnet"])
    assert document["format"] == "glassnet" and document["format_version"] == 1
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
    flipped = bytearray(data)
    flipped[-4:] = b"\xff\xff\xff\x7f"  # a NaN in the last parameter
    (tmp_path / "nan").write_bytes(bytes(flipped))
    with pytest.raises(gn.ModelFileError, match="NaN or infinity"):
        gn.load(tmp_path / "nan")
    with pytest.raises(gn.ModelFileError, match="model file not found"):
        gn.load(tmp_path / "missing.safetensors")
    assert issubclass(gn.ModelFileError, ValueError)


def test_loading_runs_no_code_and_builds_only_known_layers(tmp_path, trained):
    model, _, _ = trained
    path = tmp_path / "m.safetensors"
    model.save(path)
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    document = json.loads(header["__metadata__"]["glassnet"])
    document["layers"][0]["class"] = "os.system"
    header["__metadata__"]["glassnet"] = json.dumps(document)
    raw = json.dumps(header).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    (tmp_path / "evil").write_bytes(len(raw).to_bytes(8, "little") + raw + data[8 + n :])
    with pytest.raises(gn.ModelFileError, match="unknown layer 'os.system'"):
        gn.load(tmp_path / "evil")


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
