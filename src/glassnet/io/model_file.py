"""The model file: one safetensors file holding weights, optimizer state and a JSON document.

Layout::

    tensors   "layers.0.W", "layers.0.b", ...            the parameters (the model's slots)
              "optimizer/parameters/m", ...              the optimizer's state: one vector per
                                                         slot, parameters in model.slots() order
    metadata  {"glassnet": "<JSON>"}                      the document below

    {"format": "glassnet", "format_version": 1, "glassnet_version": "...",
     "dtype": "float32", "input_shape": [2],
     "layers": [{"class": "Dense", "config": {...}}, ...],
     "training": {"loss": "mse", "optimizer": {"class": "SGD", "config": {...},
                                                "iterations": 1000}},
     "history": {"loss": [...], ...},
     "preprocessing": {...} or null}

Why safetensors: loading parses a JSON header and copies bytes — it never runs code,
unlike pickle. Loading here builds layers only from a fixed registry of glassnet classes and
checks every tensor's name, shape and dtype against the rebuilt model, so a truncated,
corrupted or foreign file raises :class:`ModelFileError` with a one-line reason.

Writes are atomic: the file is written to a temporary name in the same folder, flushed to
disk and renamed over the target, so a crash never leaves a half-written model.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from glassnet.io.files import write_bytes

FORMAT = "glassnet"
FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """The file is not a readable glassnet model (missing, truncated, corrupted, foreign)."""


def layer_registry() -> dict[str, type]:
    """Every layer class a model file may name. Nothing outside this table is ever built."""
    from glassnet.nn import activations, layers

    classes = [layers.Dense, layers.Flatten, layers.Dropout, *activations.ACTIVATIONS.values()]
    try:
        from glassnet.nn import conv

        classes += [conv.Conv2D, conv.MaxPool2D]
    except ImportError:  # pragma: no cover - conv is part of the package
        pass
    return {cls.__name__: cls for cls in classes}


def model_document(model) -> dict:
    """The JSON-safe description of ``model`` (everything but the arrays)."""
    from glassnet import __version__

    optimizer = model.optimizer_
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "glassnet_version": __version__,
        "dtype": str(model.dtype),
        "input_shape": list(model.input_shape) if model.input_shape else None,
        "layers": [
            {"class": type(layer).__name__, "config": layer.get_config()} for layer in model.layers
        ],
        "training": {
            "loss": model.loss_.name if model.loss_ is not None else None,
            "optimizer": None
            if optimizer is None
            else {
                "class": type(optimizer).__name__,
                "config": optimizer.get_config(),
                "iterations": optimizer.iterations,
            },
        },
        "history": model.history.history,
        "preprocessing": model.preprocessing,
    }


def save_model(model, path) -> None:
    """Write ``model`` to ``path`` atomically (see the module docstring)."""
    from safetensors.numpy import save

    if not model.built:
        raise ValueError("the model is not built yet: fit it (or call build) before saving")
    tensors = {name: np.ascontiguousarray(p) for name, p, _ in model.slots()}
    if model.optimizer_ is not None:
        for name, arr in model.optimizer_.state_arrays().items():
            tensors[f"optimizer/{name}"] = np.ascontiguousarray(arr)
    document = json.dumps(model_document(model), allow_nan=True)
    data = save(tensors, metadata={"glassnet": document})

    write_bytes(path, data, what="model")


def load(path):
    """Read a model written by ``Sequential.save``. Runs no code from the file.

    Raises
    ------
    ModelFileError
        If the file is missing, truncated, corrupted or not a glassnet model.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load as load_bytes

    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ModelFileError(f"model file not found: {str(path)!r}") from None
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {str(path)!r}: {exc.strerror}") from None
    where = f"{str(path)!r}"
    document = _read_document(data, where)
    try:
        tensors = load_bytes(data)
    except (SafetensorError, ValueError, OverflowError) as exc:
        raise ModelFileError(f"{where} is corrupted or truncated: {exc}") from None
    return model_from_document(document, tensors, where)


def _read_document(data: bytes, where: str) -> dict:
    """The glassnet JSON document from a safetensors header (checked, not trusted)."""
    if len(data) < 8:
        raise ModelFileError(f"{where} is not a glassnet model file (too short)")
    header_len = int.from_bytes(data[:8], "little")
    if header_len <= 0 or header_len > 100_000_000 or data[8:9] != b"{":
        raise ModelFileError(f"{where} is not a glassnet model file")
    if 8 + header_len > len(data):
        raise ModelFileError(
            f"{where} is truncated: its header needs {header_len} bytes, the "
            f"file has {len(data) - 8} after the length"
        )
    try:
        header = json.loads(data[8 : 8 + header_len])
        document = json.loads(header["__metadata__"]["glassnet"])
    except (ValueError, KeyError, TypeError):
        raise ModelFileError(
            f"{where} is not a glassnet model file (no glassnet document in its header)"
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(f"{where} is not a glassnet model file")
    version = document.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{where} has format version {version!r}; this glassnet reads "
            f"versions up to {FORMAT_VERSION}: upgrade glassnet"
        )
    return document


def model_from_document(document: dict, tensors: dict, where: str = "the model file"):
    from glassnet.nn.losses import get_loss
    from glassnet.nn.model import Sequential
    from glassnet.training import callbacks, optimizers

    registry = layer_registry()
    try:
        layers = []
        for spec in document["layers"]:
            cls = registry.get(spec["class"])
            if cls is None:
                raise ModelFileError(f"{where} names an unknown layer {spec['class']!r}")
            layers.append(cls(**spec["config"]))
        model = Sequential(layers, dtype=document["dtype"])
        input_shape = document["input_shape"]
        if input_shape is not None:
            model.build(tuple(input_shape), rng=0)
        training = document.get("training") or {}
        if training.get("loss"):
            model.loss_ = get_loss(training["loss"])
        opt = training.get("optimizer")
        if opt:
            cls = optimizers.OPTIMIZERS.get(str(opt["class"]).lower())
            if cls is None:
                raise ModelFileError(f"{where} names an unknown optimizer {opt['class']!r}")
            model.optimizer_ = cls(**opt["config"])
            state = {
                k[len("optimizer/") :]: v for k, v in tensors.items() if k.startswith("optimizer/")
            }
            model.optimizer_.load_state_arrays(state, opt.get("iterations", 0))
        model.history = callbacks.History(document.get("history") or {})
        model.preprocessing = document.get("preprocessing")
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{where} has an invalid model description: {exc}") from None

    for name, value in tensors.items():
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise ModelFileError(f"{where}: tensor {name!r} holds NaN or infinity")
    expected = {name: p for name, p, _ in model.slots()}
    stored = {k for k in tensors if not k.startswith("optimizer/")}
    if set(expected) != stored:
        missing = sorted(set(expected) - stored)
        extra = sorted(stored - set(expected))
        raise ModelFileError(
            f"{where} does not match its own description "
            f"(missing tensors {missing}, unexpected {extra})"
        )
    for name, p in expected.items():
        value = tensors[name]
        if value.shape != p.shape or value.dtype != p.dtype:
            raise ModelFileError(
                f"{where}: tensor {name!r} has shape {value.shape} and dtype "
                f"{value.dtype}, expected {p.shape} {p.dtype}"
            )
        p[...] = value
    return model
