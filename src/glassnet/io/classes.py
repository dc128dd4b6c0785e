"""Which classes a model file may name, and how a name becomes a class again.

The model file names each layer's class and each activation a layer holds::

    {"class": "Dense", "config": {"units": 4, "activation": "relu", ...}}       glassnet's own
    {"class": "Scale", "custom": true, "config": {"factor": 2.0}}                 a user's Layer
    {"class": "Dense", "config": {"activation": {"class": "Swish", "config": {}}, ...}}

Loading turns a name into a class through two tables only: glassnet's built-in layers and
the ``custom_objects`` the caller passes to :func:`glassnet.load`. Nothing is ever imported
from a name in the file, so a file can build only classes the caller already holds.

The rules:

- A class that is not glassnet's own — a user's ``Layer`` or ``Activation`` subclass, even
  one that subclasses a built-in and keeps its ``name`` (``class Swish(ReLU)`` is still
  ``"relu"``) — is recorded by its class name and marked custom. It loads only from
  ``custom_objects``; without it the error names the class and shows how to pass it.
- ``custom_objects`` wins when it names a class: ``custom_objects={"Dense": MyDense}`` loads
  the file's glassnet ``Dense`` layers as ``MyDense``. That is the caller's explicit choice;
  the file alone never turns a built-in name into a user's class, or a user's class into the
  built-in of the same name.
- Saving checks that every layer can be rebuilt from its entry (its ``get_config()`` gives
  JSON-safe constructor arguments), so a file that could not load is never written.
"""

from __future__ import annotations

import json

from glassnet.errors import InputTypeError, InputValueError
from glassnet.io.errors import ModelFileError, one_line, shown
from glassnet.nn import activations, conv, layers, normalization, pooling


def builtin_layers() -> dict[str, type]:
    """glassnet's own layer classes by name: the only classes a file builds on its own."""
    classes = [
        layers.Dense,
        layers.Flatten,
        layers.Dropout,
        conv.Conv2D,
        pooling.MaxPool2D,
        pooling.AveragePooling2D,
        pooling.GlobalAveragePooling2D,
        normalization.BatchNormalization,
        normalization.LayerNormalization,
        *activations.ACTIVATIONS.values(),
    ]
    return {cls.__name__: cls for cls in classes}


def check_custom_objects(custom_objects) -> dict[str, type]:
    """``custom_objects`` as a dict of class names to ``Layer`` subclasses (an ``Activation``
    is one), or a one-line TypeError naming the parameter."""
    if custom_objects is None:
        return {}
    if not isinstance(custom_objects, dict):
        raise InputTypeError(
            f"custom_objects must be a dict of class names to Layer or Activation classes, "
            f"got {type(custom_objects).__name__}"
        )
    for name, cls in custom_objects.items():
        if not isinstance(name, str) or not (
            isinstance(cls, type) and issubclass(cls, layers.Layer)
        ):
            raise InputTypeError(
                f"custom_objects must map class names to Layer or Activation subclasses, "
                f"got {name!r}: {cls!r}"
            )
    return dict(custom_objects)


def is_builtin(cls: type) -> bool:
    return builtin_layers().get(cls.__name__) is cls


def layer_entry(layer: layers.Layer) -> dict:
    """The document's entry for ``layer``: its class name, config, and whether it is custom."""
    cls = type(layer)
    entry = {"class": cls.__name__, "config": layer.get_config()}
    if not is_builtin(cls):
        entry["custom"] = True
    return entry


def check_entries(model, entries: list[dict]) -> None:
    """Refuse to save a model whose file could not be loaded again.

    Every entry must be JSON-safe and rebuild its layer through the same route as loading,
    with ``custom_objects`` holding exactly the model's custom classes.
    """
    custom: dict[str, type] = {}
    for layer in model.layers:
        for obj in (layer, getattr(layer, "activation", None)):
            cls = type(obj)
            if obj is None or is_builtin(cls):
                continue
            other = custom.setdefault(cls.__name__, cls)
            if other is not cls:
                raise InputValueError(
                    f"the model uses two different classes named {cls.__name__!r} "
                    f"({other.__module__}.{other.__qualname__} and "
                    f"{cls.__module__}.{cls.__qualname__}); rename one to save the model"
                )
    for index, entry in enumerate(entries):
        name = entry["class"]
        try:
            json.dumps(entry["config"], allow_nan=True)
        except (TypeError, ValueError) as exc:
            raise InputTypeError(
                f"cannot save layer {index} ({name}): get_config() must return JSON-safe "
                f"values (numbers, strings, lists, dicts): {exc}"
            ) from None
        try:
            build_layer(entry, custom, f"layer {index}")
        except ModelFileError as exc:
            raise InputTypeError(f"cannot save {exc}") from None


def build_layer(entry: dict, custom_objects: dict[str, type], where: str):
    """A new layer from its document entry (an activation in its config built the same way)."""
    cls = _resolve(entry["class"], entry.get("custom", False), "layer", custom_objects, where)
    config = dict(entry["config"])
    spec = config.get("activation")
    if isinstance(spec, dict) and "class" in spec:
        act_cls = _resolve(spec["class"], True, "activation", custom_objects, where)
        config["activation"] = _construct(act_cls, spec["config"], where)
    return _construct(cls, config, where)


def _resolve(name, custom: bool, kind: str, custom_objects: dict[str, type], where: str) -> type:
    """The class the entry names: the caller's, else glassnet's own; never an import."""
    base = activations.Activation if kind == "activation" else layers.Layer
    if not isinstance(name, str):
        raise ModelFileError(f"{where} names a {kind} class that is not a string: {shown(name)}")
    if name in custom_objects:
        cls = custom_objects[name]
        if not issubclass(cls, base):
            raise ModelFileError(
                f"{where} uses {name!r} as an activation, but custom_objects maps it to "
                f"{cls.__name__}, which is not an Activation subclass"
            )
        return cls
    if custom and name.isidentifier():
        raise ModelFileError(
            f"{where} uses the custom {kind} {name!r}; pass custom_objects={{{name!r}: {name}}} "
            f"to load() to load it"
        )
    cls = None if custom else builtin_layers().get(name)
    if cls is None or not issubclass(cls, base):
        raise ModelFileError(f"{where} names an unknown {kind} {shown(name)}")
    return cls


def _construct(cls: type, config, where: str):
    if not isinstance(config, dict):
        raise ModelFileError(
            f"{where}: the config of {cls.__name__} is not a dict: {shown(config)}"
        )
    try:
        return cls(**config)
    except TypeError as exc:
        raise ModelFileError(
            f"{where}: {cls.__name__}(**config) fails with config {shown(config)}: "
            f"{one_line(exc)}; its "
            f"get_config() must return its constructor arguments"
        ) from None
