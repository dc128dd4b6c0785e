"""The model file: one safetensors file holding weights, optimizer state and a JSON document.

Layout::

    tensors   "layers.0.W", "layers.0.b", ...            the parameters (the model's slots)
              "optimizer/layers.0.W/m", ...              the optimizer's state, per parameter
                                                         (see glassnet.io.optimizer_state)
    metadata  {"glassnet": "<JSON>"}                      the document below

    {"format": "glassnet", "format_version": 2, "glassnet_version": "...",
     "dtype": "float32", "input_shape": [2],
     "layers": [{"class": "Dense", "config": {...}}, ...],
     "training": {"loss": "mse", "optimizer": {"class": "SGD", "config": {...},
                                                "iterations": 1000}},
     "history": {"loss": [...], ...},
     "preprocessing": {...} or null}

Format version 1 (glassnet 0.1) differs only in the optimizer state: one flat vector per key,
``optimizer/parameters/m``, the parameters in ``model.slots()`` order. Those files still load;
their vectors are cut into per-parameter state.

Why safetensors: loading parses a JSON header and copies bytes — it never runs code, unlike
pickle. Loading builds layers only from glassnet's own classes and the ``custom_objects`` the
caller passes (see :mod:`glassnet.io.classes`; nothing is imported from a name in the file),
and checks every tensor's name, shape and dtype against the rebuilt model, so a truncated,
corrupted or foreign file raises :class:`ModelFileError` with a one-line reason.

Writes are atomic: the file is written to a temporary name in the same folder, flushed to
disk and renamed over the target, so a crash never leaves a half-written model.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from glassnet.io import classes, optimizer_state
from glassnet.io.errors import ModelFileError
from glassnet.io.files import write_bytes
from glassnet.io.preprocessing import preprocessing_from_dict, preprocessing_to_dict

FORMAT = "glassnet"
FORMAT_VERSION = 2


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
        "layers": [classes.layer_entry(layer) for layer in model.layers],
        "training": {
            "loss": model.loss_.spec() if model.loss_ is not None else None,
            "optimizer": None
            if optimizer is None
            else {
                "class": type(optimizer).__name__,
                "config": optimizer.get_config(),
                "iterations": optimizer.iterations,
            },
        },
        "history": model.history.history,
        "preprocessing": preprocessing_to_dict(model.preprocessing),
    }


def save_model(model, path) -> None:
    """Write ``model`` to ``path`` atomically (see the module docstring).

    Raises
    ------
    ValueError
        If the model is not built, or uses two different classes of the same name.
    TypeError
        If a layer's ``get_config()`` is not JSON-safe or does not rebuild the layer.
    """
    from safetensors.numpy import save

    if not model.built:
        raise ValueError("the model is not built yet: fit it (or call build) before saving")
    document = model_document(model)
    classes.check_entries(model, document["layers"])
    tensors = {name: np.ascontiguousarray(p) for name, p, _ in model.slots()}
    if model.optimizer_ is not None:
        tensors.update(optimizer_state.state_tensors(model.optimizer_))
    data = save(tensors, metadata={"glassnet": json.dumps(document, allow_nan=True)})
    write_bytes(path, data, what="model")


def load(path, *, custom_objects=None):
    """Read a model written by ``Sequential.save``. Runs no code from the file.

    Parameters
    ----------
    path : str or Path
        The ``.safetensors`` file.
    custom_objects : dict of str to class, optional
        The user's ``Layer`` and ``Activation`` subclasses the file names, by class name:
        ``custom_objects={"Scale": Scale}``. The file can only name them; it can never
        bring in a class of its own. A name given here wins over glassnet's class of the
        same name.

    Raises
    ------
    TypeError
        If ``custom_objects`` is not a dict of names to Layer or Activation subclasses.
    ModelFileError
        If the file is missing, truncated, corrupted, not a glassnet model, or names a
        custom class that ``custom_objects`` does not hold.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load as load_bytes

    custom_objects = classes.check_custom_objects(custom_objects)
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
    return model_from_document(document, tensors, where, custom_objects=custom_objects)


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
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise ModelFileError(
            f"{where} has format version {version!r}; this glassnet reads "
            f"versions 1 to {FORMAT_VERSION}: upgrade glassnet"
        )
    return document


def model_from_document(
    document: dict, tensors: dict, where: str = "the model file", *, custom_objects=None
):
    """The model a checked document and its tensors describe (see the module docstring)."""
    from glassnet.nn.model import Sequential
    from glassnet.training import callbacks

    custom_objects = classes.check_custom_objects(custom_objects)
    try:
        layers = [classes.build_layer(e, custom_objects, where) for e in document["layers"]]
        model = Sequential(layers, dtype=document["dtype"])
        input_shape = document["input_shape"]
        if input_shape is not None:
            model.build(tuple(input_shape), rng=0)
        model.history = callbacks.History(document.get("history") or {})
        model.preprocessing = preprocessing_from_dict(document.get("preprocessing"))
        training = document.get("training") or {}
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{where} has an invalid model description: {exc}") from None
    for name, value in tensors.items():
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise ModelFileError(f"{where}: tensor {name!r} holds NaN or infinity")
    _copy_parameters(model, tensors, where)
    _restore_training(model, training, tensors, document["format_version"], where)
    return model


def _copy_parameters(model, tensors: dict, where: str) -> None:
    """Copy the parameter tensors into the rebuilt model, each checked by name, shape, dtype."""
    expected = {name: p for name, p, _ in model.slots()}
    stored = {k for k in tensors if not k.startswith(optimizer_state.PREFIX)}
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


def _restore_training(model, training: dict, tensors: dict, version: int, where: str) -> None:
    """The loss, and the optimizer with its per-parameter state, as training left them."""
    from glassnet.nn.losses import get_loss
    from glassnet.training import optimizers

    try:
        if training.get("loss"):
            model.loss_ = get_loss(training["loss"])
        spec = training.get("optimizer")
        if not spec:
            return
        cls = optimizers.OPTIMIZERS.get(str(spec["class"]).lower())
        if cls is None:
            raise ModelFileError(f"{where} names an unknown optimizer {spec['class']!r}")
        optimizer = cls(**spec["config"])
        iterations = int(spec.get("iterations", 0))
    except ModelFileError:
        raise
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{where} has an invalid training description: {exc}") from None
    state = optimizer_state.read_state(tensors, model, optimizer, iterations, version, where)
    optimizer.load_state_arrays(state, iterations)
    model.optimizer_ = optimizer
