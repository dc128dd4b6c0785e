"""The model file: one safetensors file holding weights, optimizer state and a JSON document.

Layout::

    tensors   "layers.0.W", "layers.0.b", ...            the parameters (the model's slots)
              "layers.1.moving_mean", ...                the buffers (model.buffers())
              "optimizer/layers.0.W/m", ...              the optimizer's state, per parameter
                                                         (see glassnet.io.optimizer_state)
    metadata  {"glassnet": "<JSON>",                     the document below
               "glassnet_sha256": "<hex>"}               the SHA-256 of that text

    {"format": "glassnet", "format_version": 3, "glassnet_version": "...",
     "dtype": "float32", "input_shape": [2],
     "layers": [{"class": "Dense", "config": {...}}, ...],
     "training": {"loss": "mse", "optimizer": {"class": "SGD", "config": {...},
                                                "iterations": 1000}},
     "history": {"loss": [...], ...},
     "preprocessing": {...} or null,
     "tensor_sha256": {"layers.0.W": "<hex>", ...}}

Format version 3 added the checksums (see :mod:`glassnet.io.integrity`). Version 2 files
have neither; version 1 files (glassnet 0.1) also store the optimizer state as one flat
vector per key, ``optimizer/parameters/m``, the parameters in ``model.slots()`` order. Both
still load, checked like any other file except for the checksums they predate.

Why safetensors: loading parses a JSON header and reads bytes — it never runs code, unlike
pickle. Nothing in the file is believed before it is checked, in this order: the file is a
regular file under a size limit (:mod:`glassnet.io.container`); the header's nesting depth,
then its tensor table against the file's bytes; the document's text against its checksum and
its fields against the schema (:mod:`glassnet.io.schema`); every tensor's bytes against its
checksum; the shapes the layers declare against the tensors (:mod:`glassnet.io.shapes`).
Only then are layers built — from glassnet's own classes and the ``custom_objects`` the
caller passes (:mod:`glassnet.io.classes`; nothing is imported from a name in the file) —
and every tensor's name, shape and dtype checked against the rebuilt model. Any failure is
a :class:`ModelFileError` with a one-line reason naming the file.

Writes are atomic: the file is written to a temporary name in the same folder, flushed to
disk and renamed over the target, so a crash never leaves a half-written model.

A training checkpoint is a model file with a ``"checkpoint"`` field (the epochs done, the
random generator's state with its 128-bit integers as decimal strings, early stopping's
state, the trainer's own ``run`` fields) and the early-stopping weights as tensors
``checkpoint/best/layers.0.W``, ...; :func:`load` reads it as the model of its last epoch,
:func:`load_checkpoint` as everything needed to continue.
"""

from __future__ import annotations

import json

import numpy as np

from glassnet.errors import InputTypeError, InputValueError
from glassnet.io import classes, container, integrity, optimizer_state, schema, shapes
from glassnet.io.errors import ModelFileError, one_line, shown
from glassnet.io.files import write_bytes
from glassnet.io.preprocessing import preprocessing_from_dict, preprocessing_to_dict

FORMAT = "glassnet"
FORMAT_VERSION = 3
MAX_FILE_BYTES = container.MAX_FILE_BYTES
BEST = "checkpoint/best/"  # a checkpoint's early-stopping weights: "checkpoint/best/layers.0.W"


def model_document(model) -> dict:
    """The JSON-safe description of ``model`` (everything but the arrays and checksums)."""
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
        "history": {key: list(values) for key, values in model.history.records().items()},
        "preprocessing": preprocessing_to_dict(model.preprocessing),
    }


def model_tensors(model) -> dict[str, np.ndarray]:
    """Copies of the parameters, the buffers and the optimizer's state, by tensor name (a
    snapshot that later training steps do not change)."""
    tensors = {name: np.array(p, order="C") for name, p in model.get_weights().items()}
    if model.optimizer_ is not None:
        state = optimizer_state.state_tensors(model.optimizer_)
        tensors.update({name: np.array(t, order="C") for name, t in state.items()})
    return tensors


def save_model(model, path, *, checkpoint=None, best_weights=None) -> None:
    """Write ``model`` to ``path`` atomically, with its checksums (see the module docstring).

    ``checkpoint`` (a dict, see :func:`checkpoint_fields`) and ``best_weights`` (parameters
    by name) make the file a training checkpoint, which :func:`load_checkpoint` reads back.

    Raises
    ------
    ValueError
        If the model is not built, or uses two different classes of the same name.
    TypeError
        If a layer's ``get_config()`` is not JSON-safe or does not rebuild the layer.
    OSError
        If the file cannot be written; a previous file at ``path`` is left as it was.
    """
    if not model.built:
        raise InputValueError("the model is not built yet: fit it (or call build) before saving")
    document = model_document(model)
    classes.check_entries(model, document["layers"])
    write_model(path, document, model_tensors(model), checkpoint, best_weights)


def write_model(path, document: dict, tensors: dict, checkpoint=None, best_weights=None) -> None:
    """Seal ``document`` and ``tensors`` (and a checkpoint's fields and best weights) into one
    file at ``path``, atomically (:func:`glassnet.io.files.write_bytes`: a failure is a
    ``FileWriteError`` naming the file, the previous one intact)."""
    from safetensors.numpy import save

    if checkpoint is not None:
        document = {**document, "checkpoint": checkpoint}
        tensors = {**tensors, **{BEST + k: v for k, v in (best_weights or {}).items()}}
    data = save(tensors, metadata=integrity.sealed_metadata(document, tensors))
    what = "model" if checkpoint is None else "checkpoint"
    write_bytes(path, data, what=what, param="out" if checkpoint is None else "checkpoint")


def load(path, *, custom_objects=None, max_bytes: int = MAX_FILE_BYTES):
    """Read a model written by ``Sequential.save``. Runs no code from the file.

    Parameters
    ----------
    path : str or Path
        The ``.safetensors`` file; it must be a regular file (not a FIFO or a device).
    custom_objects : dict of str to class, optional
        The user's ``Layer`` and ``Activation`` subclasses the file names, by class name:
        ``custom_objects={"Scale": Scale}``. The file can only name them; it can never
        bring in a class of its own. A name given here wins over glassnet's class of the
        same name.
    max_bytes : int, default 4 GiB
        The largest file read; a larger one is refused before any of it is read.

    Raises
    ------
    TypeError
        If ``custom_objects`` is not a dict of names to Layer or Activation subclasses, or
        ``max_bytes`` is not an int.
    ValueError
        If ``max_bytes`` is negative.
    ModelFileError
        If the file is missing, not a regular file, too large, truncated, corrupted (its
        checksums do not match), not a glassnet model, describes a model its tensors do not
        fit, or names a custom class that ``custom_objects`` does not hold.
    """
    document, tensors, where = _read(path, custom_objects, max_bytes)
    plain = {k: v for k, v in tensors.items() if not k.startswith(BEST)}
    return model_from_document(document, plain, where, custom_objects=custom_objects)


def _read(path, custom_objects, max_bytes):
    """The checked document, the tensors (checksums verified) and how errors name the file."""
    classes.check_custom_objects(custom_objects)
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool):
        raise InputTypeError(f"max_bytes must be an int, got {type(max_bytes).__name__}")
    if max_bytes < 0:
        raise InputValueError(f"max_bytes must be >= 0, got {max_bytes}")
    where = repr(str(path))
    data = container.read_regular_file(path, where, max_bytes)
    header, body = container.read_header(data, where)
    document = read_document(header.get("__metadata__"), where)
    table = container.tensor_table(header, len(data) - body, where)
    if "tensor_sha256" in document:
        integrity.check_tensors(data, body, table, document["tensor_sha256"], where)
    return document, container.tensor_views(data, body, table), where


def read_document(metadata, where: str) -> dict:
    """The glassnet document from a safetensors header's metadata: its nesting, format,
    version, checksum and schema checked, in that order (see the module docstring)."""
    if not isinstance(metadata, dict) or not isinstance(metadata.get("glassnet"), str):
        raise ModelFileError(
            f"{where} is not a glassnet model file (no glassnet document in its header)"
        )
    text = metadata["glassnet"]
    container.check_nesting(text.encode("utf-8", "surrogatepass"), where, "glassnet document")
    try:
        document = json.loads(text)
    except ValueError:
        raise ModelFileError(f"{where} is corrupted: its glassnet document is not JSON") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(f"{where} is not a glassnet model file")
    version = document.get("format_version")
    if type(version) is not int or not 1 <= version <= FORMAT_VERSION:
        raise ModelFileError(
            f"{where} has format version {shown(version)}; this glassnet reads "
            f"versions 1 to {FORMAT_VERSION}: upgrade glassnet"
        )
    integrity.check_document(metadata, version, where)
    schema.check(document, version, where, "model description")
    builtin = classes.builtin_layers()
    for index, entry in enumerate(document["layers"]):
        name = entry["class"]
        if entry.get("custom") or name not in builtin:
            continue
        key = name if name in schema.BUILTIN_CONFIGS else "activation"
        path = f"$.layers[{index}].config"
        schema.check(entry["config"], key, where, "model description", path)
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
        input_shape = tuple(document["input_shape"])
        shapes.check_declared_shapes(layers, input_shape, model.dtype, tensors, where)
        model.build(input_shape, rng=0)
        model.history = callbacks.History(document.get("history") or {})
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{where} has an invalid model description: {one_line(exc)}") from None
    model.preprocessing = _preprocessing(document.get("preprocessing"), where)
    for name, value in tensors.items():
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise ModelFileError(f"{where}: tensor {name!r} holds NaN or infinity")
    _copy_parameters(model, tensors, where)
    training = document.get("training") or {}
    _restore_training(model, training, tensors, document["format_version"], where)
    return model


def _preprocessing(description, where: str):
    """The stored preprocessing object; whatever its ``from_dict`` raises on a bad
    description (ValueError by contract; the rest from reading a malformed dict) is a
    ModelFileError."""
    try:
        return preprocessing_from_dict(description)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise ModelFileError(f"{where} has invalid preprocessing: {one_line(exc)}") from None


def _copy_parameters(model, tensors: dict, where: str) -> None:
    """Copy the parameter and buffer tensors into the rebuilt model, each checked by name,
    shape, dtype (and a buffer by its layer: :meth:`Layer.buffer_problem`)."""
    expected = dict(model.named_weights())
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
    for name, value in model.buffers():
        _, index, key = name.split(".", 2)
        problem = model.layers[int(index)].buffer_problem(key, value)
        if problem is not None:
            raise ModelFileError(f"{where}: tensor {name!r} {problem}")


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
        optimizer = cls.from_config(spec["config"])
        iterations = int(spec.get("iterations", 0))
    except ModelFileError:
        raise
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{where} has an invalid training description: {exc}") from None
    state = optimizer_state.read_state(tensors, model, optimizer, iterations, version, where)
    optimizer.load_state_arrays(state, iterations)
    model.optimizer_ = optimizer


# -- training checkpoints -----------------------------------------------------------------------
def load_checkpoint(path, *, max_bytes: int = MAX_FILE_BYTES):
    """Read a training checkpoint: ``(model, fields, best_weights)``.

    The model is as the checkpoint's epoch left it — weights, optimizer state, history — with
    ``model.rng_`` set to the random generator's state at that epoch's end, so that the next
    epoch shuffles (and draws dropout masks) exactly as an uninterrupted run would.
    (The generator the model was built with is set in place, so that Dropout layers, which
    hold it, draw from it too.) ``fields`` is the document's ``"checkpoint"`` object (see
    :mod:`glassnet.io.schema`); ``best_weights`` the early-stopping weights by parameter name
    (empty if none were kept).

    Raises
    ------
    ModelFileError
        Everything :func:`load` refuses; a model file that is not a checkpoint; best weights
        that do not fit the model.
    """
    document, tensors, where = _read(path, None, max_bytes)
    fields = document.get("checkpoint")
    if fields is None:
        raise ModelFileError(f"{where} is a model file but not a training checkpoint")
    plain = {k: v for k, v in tensors.items() if not k.startswith(BEST)}
    model = model_from_document(document, plain, where)
    best = {k[len(BEST) :]: np.array(v) for k, v in tensors.items() if k.startswith(BEST)}
    expected = dict(model.named_weights())
    if best and set(best) != set(expected):
        raise ModelFileError(f"{where}: its best weights do not name the model's parameters")
    for name, value in best.items():
        p = expected[name]
        if value.shape != p.shape or value.dtype != p.dtype or not np.isfinite(value).all():
            raise ModelFileError(
                f"{where}: best-weights tensor {name!r} is not finite {p.shape} {p.dtype}"
            )
    restore_generator(model.rng_, fields["rng"], where)
    return model, fields, best


def generator_state(rng) -> dict:
    """A PCG64 generator's state as JSON: its 128-bit integers as decimal strings."""
    state = rng.bit_generator.state
    if state["bit_generator"] not in schema.BIT_GENERATORS:
        raise InputValueError(
            f"a checkpoint stores a PCG64 random generator; this one is {state['bit_generator']}"
        )
    return {
        "bit_generator": state["bit_generator"],
        "state": str(state["state"]["state"]),
        "inc": str(state["state"]["inc"]),
        "has_uint32": int(state["has_uint32"]),
        "uinteger": int(state["uinteger"]),
    }


def restore_generator(rng: np.random.Generator, fields: dict, where: str) -> None:
    """Set ``rng`` (a PCG64 generator) to the state :func:`generator_state` described (its
    fields already schema-checked), in place: every layer built with it (Dropout) follows."""
    state, inc = int(fields["state"]), int(fields["inc"])
    if max(state, inc) >= 2**128:
        raise ModelFileError(f"{where}: its random generator state is not a 128-bit number")
    rng.bit_generator.state = {
        "bit_generator": fields["bit_generator"],
        "state": {"state": state, "inc": inc},
        "has_uint32": fields["has_uint32"],
        "uinteger": fields["uinteger"],
    }
