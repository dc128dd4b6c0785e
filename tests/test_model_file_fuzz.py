"""Mutated model files: every load raises ModelFileError or gives the original's predictions.

Each mutation is a function of the saved file's bytes and a seeded ``random.Random``, so a
failing case is replayed from its (kind, seed) alone. The same mutations drive
``benchmarks/fuzz_model_file.py``, which runs thousands of them and counts the outcomes.

Mutations whose checksums are written again to fit (``sealed``) stand for a writer that
meant what it wrote; they change one field of the document to a value of another JSON type,
so only the schema and the checks behind it are between them and a wrong model.
"""

from __future__ import annotations

import json
import random
import time
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import glassnet as gn
from glassnet import datasets
from glassnet.datasets.images import ImagePreprocessing
from glassnet.io import integrity

SECONDS_PER_LOAD = 2.0
PEAK_BYTES_PER_LOAD = 20_000_000


def saved_models(folder):
    """Two small trained models saved in ``folder``: ``{name: (bytes, X, predictions)}``."""
    X, y = datasets.make_moons(48, rng=0)
    mlp = gn.Sequential(
        [
            gn.Dense(6, activation="leaky_relu"),
            gn.Dropout(0.1),
            gn.Dense(2, activation="softmax"),
        ]
    )
    mlp.fit(X, y, loss="cross_entropy", optimizer=gn.Adam(0.01), epochs=2, batch_size=16, rng=0)
    mlp.preprocessing = ImagePreprocessing(shape=(2,), scale=4.0, classes=("a", "b"))
    rng = np.random.default_rng(0)
    images = rng.normal(size=(6, 1, 5, 5))
    cnn = gn.Sequential(
        [gn.Conv2D(2, 3, activation="relu"), gn.Flatten(), gn.Dense(1, activation="sigmoid")]
    )
    cnn.fit(
        images,
        (images[:, 0, 0, 0] > 0).astype(int),
        loss="bce",
        optimizer=gn.SGD(0.1, momentum=0.9),
        epochs=2,
        batch_size=3,
        rng=0,
    )
    models = {}
    for name, model, inputs in [("mlp", mlp, X), ("cnn", cnn, images)]:
        path = folder / f"{name}.safetensors"
        model.save(path)
        models[name] = (path.read_bytes(), inputs, model.predict(inputs))
    return models


# -- the mutations -------------------------------------------------------------------------
def _split(data: bytes):
    n = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def _join(header: dict, body: bytes) -> bytes:
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + body


def truncate(data, r):
    return data[: r.randrange(len(data))]


def flip_header_bit(data, r):
    n = int.from_bytes(data[:8], "little")
    return _flip(data, r.randrange(0, 8 + n), r)


def flip_body_bit(data, r):
    n = int.from_bytes(data[:8], "little")
    return _flip(data, r.randrange(8 + n, len(data)), r)


def _flip(data, position, r):
    out = bytearray(data)
    out[position] ^= 1 << r.randrange(8)
    return bytes(out)


def overwrite_bytes(data, r):
    out = bytearray(data)
    start = r.randrange(len(out))
    for i in range(start, min(len(out), start + r.randint(1, 16))):
        out[i] = r.randrange(256)
    return bytes(out)


def splice(data, r):
    """Insert, delete or duplicate a run of bytes somewhere."""
    a = r.randrange(len(data))
    b = min(len(data), a + r.randint(1, 64))
    choice = r.randrange(3)
    if choice == 0:
        return data[:a] + bytes(r.randrange(256) for _ in range(r.randint(1, 8))) + data[a:]
    if choice == 1:
        return data[:a] + data[b:]
    return data[:b] + data[a:b] + data[b:]


OTHER_TYPES = [5, -1, 1e308, "x", "x" * 5000, [], [1, "a"], {}, {"a": [1]}, True]


def _json_kind(value):
    return "number" if type(value) in (int, float) else type(value).__name__


def _paths(value, path=()):
    yield path
    if isinstance(value, dict | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in items:
            yield from _paths(child, (*path, key))


def wrong_json_type(data, r):
    """One field of the document (at any depth) set to a value of another JSON type."""
    header, body = _split(data)
    document = json.loads(header["__metadata__"]["glassnet"])
    document.pop("tensor_sha256")
    path = r.choice([p for p in _paths(document) if p and p[0] != "format"])
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    old = parent[path[-1]]
    parent[path[-1]] = r.choice([v for v in OTHER_TYPES if _json_kind(v) != _json_kind(old)])
    header["__metadata__"] = integrity.sealed_metadata(document, _tensors(header, body))
    return _join(header, body)


def _tensors(header, body):
    from glassnet.io.container import tensor_table, tensor_views

    data = b"\0" * 8 + body
    return tensor_views(data, 8, tensor_table(header, len(body), "fuzz"))


def deep_nesting(data, r):
    """Lists nested 50 to 5,000 deep in the document (no checksum can be written for it)."""
    header, body = _split(data)
    depth = r.choice([50, 65, 100, 1000, 2000, 5000])
    text = header["__metadata__"]["glassnet"]
    header["__metadata__"]["glassnet"] = text.replace(
        '"history": {', '"history": {"deep": ' + "[" * depth + "]" * depth + ", ", 1
    )
    return _join(header, body)


def huge_shape(data, r):
    """A layer's width, or a tensor's declared shape in the table, made huge."""
    header, body = _split(data)
    big = r.choice([20_000, 10**6, 10**9, 2**31 - 1, 2**62])
    if r.random() < 0.5:
        name = r.choice([k for k in header if k != "__metadata__"])
        header[name]["shape"] = [big] + header[name]["shape"][1:]
        return _join(header, body)
    document = json.loads(header["__metadata__"]["glassnet"])
    document.pop("tensor_sha256")
    dense = [layer for layer in document["layers"] if "units" in layer["config"]]
    for layer in r.sample(dense, r.randint(1, len(dense))):
        layer["config"]["units"] = big
    header["__metadata__"] = integrity.sealed_metadata(document, _tensors(header, body))
    return _join(header, body)


MUTATIONS = {
    f.__name__: f
    for f in (
        truncate,
        flip_header_bit,
        flip_body_bit,
        overwrite_bytes,
        splice,
        wrong_json_type,
        deep_nesting,
        huge_shape,
    )
}


# -- the oracle ------------------------------------------------------------------------------
def outcome(path, X, expected) -> tuple[str, str, float, int]:
    """``(kind, detail, seconds, peak traced bytes)`` of loading ``path`` and predicting
    ``X``; kind is ``clean error``, ``identical``, ``silent wrong load``, ``other
    exception``, or ``too slow``/``too much memory`` for a load past its bound."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        model = gn.load(path)
        predictions = model.predict(X)
        kind, detail = (
            ("identical", "")
            if np.array_equal(predictions, expected, equal_nan=True)
            else ("silent wrong load", "predictions differ")
        )
    except gn.ModelFileError as exc:
        kind, detail = "clean error", str(exc)
        if "\n" in detail or len(detail) > 400:
            kind = "unclear error"
    except Exception as exc:  # the fuzz test's purpose: any other exception is a finding
        kind, detail = "other exception", f"{type(exc).__name__}: {exc}"[:300]
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    if seconds > SECONDS_PER_LOAD:
        kind, detail = "too slow", f"{seconds:.1f} s"
    elif peak > PEAK_BYTES_PER_LOAD:
        kind, detail = "too much memory", f"{peak} bytes"
    return kind, detail, seconds, peak


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return saved_models(tmp_path_factory.mktemp("fuzz"))


@settings(
    max_examples=200,
    deadline=int(SECONDS_PER_LOAD * 1000),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
@given(
    model=st.sampled_from(["mlp", "cnn"]),
    kind=st.sampled_from(sorted(MUTATIONS)),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_mutated_file_is_refused_or_loads_identically(
    models, tmp_path_factory, model, kind, seed
):
    data, X, expected = models[model]
    mutated = MUTATIONS[kind](data, random.Random(seed))
    path = tmp_path_factory.getbasetemp() / "mutated.safetensors"
    path.write_bytes(mutated)
    result, detail, _, _ = outcome(path, X, expected)
    assert result in ("clean error", "identical"), (model, kind, seed, result, detail)


def test_the_unmutated_files_load_identically(models, tmp_path):
    for name, (data, X, expected) in models.items():
        (tmp_path / name).write_bytes(data)
        assert outcome(tmp_path / name, X, expected)[:2] == ("identical", "")
