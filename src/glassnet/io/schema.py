"""The declared shape of a model file's JSON: the safetensors tensor table and glassnet's
document, checked with JSON Schema before anything is built from them.

Why JSON Schema (the ``jsonschema`` package) and not pydantic or hand-written checks: the
document *is* JSON, and a JSON Schema states its rules as data — every field's JSON type,
ranges, lengths and string sizes — in the same vocabulary as the file, with no coercion
(pydantic would turn ``"5"`` into ``5`` unless told otherwise at every field). The schema
below is the format's reference: :func:`document_schema` gives it for each format version,
and it can be printed for anyone writing a reader in another language.

What the schema cannot say is checked around it:

- nesting depth, which ``json.loads`` would meet as a RecursionError — bounded by
  :func:`glassnet.io.container.check_nesting` before parsing;
- relations between fields (the declared layers against the tensor table) — in
  :mod:`glassnet.io.shapes`; the preprocessing's own fields — by its ``from_dict``.

Every failure becomes a :class:`ModelFileError` naming the field by its JSON path
(``$.layers[0].config.units``) and echoing at most ~100 characters of the value.
"""

from __future__ import annotations

from functools import cache

from glassnet.io.errors import ModelFileError, shown

MAX_STRING = 10_000  # characters in any string of the document
MAX_NAME = 200  # characters in a key, a class or a tensor name
MAX_ITEMS = 10_000_000  # items in any list (a history of ten million epochs)
MAX_FIELDS = 100_000  # keys in any object
MAX_DIM = 2**31 - 1  # any one dimension or count
MAX_LAYERS = 10_000

_NAME = {"type": "string", "minLength": 1, "maxLength": MAX_NAME}
_COUNT = {"type": "integer", "minimum": 1, "maximum": MAX_DIM}
_PAIR = {"oneOf": [_COUNT, {"type": "array", "items": _COUNT, "minItems": 2, "maxItems": 2}]}
_NUMBERS = {
    "type": "object",
    "propertyNames": _NAME,
    "maxProperties": 100,
    "additionalProperties": {"type": ["number", "boolean", "null"]},
}

_NAMED = {**_NUMBERS, "properties": {"name": _NAME}, "required": ["name"]}  # {"name": ..., k: 1}

# any JSON value, bounded in size (its depth is bounded before parsing)
_VALUE = {
    "anyOf": [
        {"type": ["number", "boolean", "null"]},
        {"type": "string", "maxLength": MAX_STRING},
        {"type": "array", "maxItems": MAX_ITEMS, "items": {"$ref": "#/$defs/value"}},
        {
            "type": "object",
            "maxProperties": MAX_FIELDS,
            "propertyNames": {"maxLength": MAX_NAME},
            "additionalProperties": {"$ref": "#/$defs/value"},
        },
    ]
}
_CONFIG = {
    "type": "object",
    "maxProperties": 1_000,
    "propertyNames": _NAME,
    "additionalProperties": {"$ref": "#/$defs/value"},
}
# "relu", {"name": "leaky_relu", "alpha": 0.01}, or a custom {"class": ..., "config": {...}}
_ACTIVATION = {
    "anyOf": [
        _NAME,
        _NAMED,
        {
            "type": "object",
            "properties": {"class": _NAME, "config": _CONFIG},
            "required": ["class", "config"],
            "additionalProperties": False,
        },
    ]
}
# "he_uniform", {"name": "uniform", "low": 0, "high": 1}, or ["uniform", {"low": 0, ...}]
_INIT = {
    "anyOf": [
        _NAME,
        _NAMED,
        {"type": "array", "prefixItems": [_NAME, _NUMBERS], "minItems": 2, "maxItems": 2},
    ]
}
_AFFINE = {"activation": _ACTIVATION, "use_bias": {"type": "boolean"}}
_AFFINE |= {"weight_init": _INIT, "bias_init": _INIT}
_REGULARIZER = {"anyOf": [{"type": "null"}, _NAME, _NAMED]}  # {"name": "l2", "l2": 0.0001}
_AFFINE |= {"kernel_regularizer": _REGULARIZER, "bias_regularizer": _REGULARIZER}
_SHAPE = {"type": "array", "items": _COUNT, "minItems": 1, "maxItems": 8}
_AXIS = {"type": ["integer", "null"], "minimum": -8, "maximum": 8}  # a sample axis, or None
_AXES = {"type": "array", "items": {"type": "integer", "minimum": -8, "maximum": 8}}
_AXES |= {"maxItems": 8}
_NORMALIZATION = {"epsilon": {"type": "number", "exclusiveMinimum": 0}}
_NORMALIZATION |= {"center": {"type": "boolean"}, "scale": {"type": "boolean"}}


def _config(properties: dict, required: list[str]) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


#: the config of each of glassnet's own parametric or configurable layers; the activation
#: layers (``ReLU()``, ``LeakyReLU(alpha=...)``) take numbers only
BUILTIN_CONFIGS = {
    "Dense": _config({"units": _COUNT, "input_shape": _SHAPE, **_AFFINE}, ["units"]),
    "Conv2D": _config(
        {
            "filters": _COUNT,
            "kernel_size": _PAIR,
            "stride": _PAIR,
            "padding": {
                "anyOf": [{"enum": ["valid", "same"]}, {"type": "integer", "minimum": 0}, _PAIR]
            },
            "input_shape": _SHAPE,
            **_AFFINE,
        },
        ["filters", "kernel_size"],
    ),
    "MaxPool2D": _config({"pool_size": _PAIR, "stride": {"anyOf": [_PAIR, {"type": "null"}]}}, []),
    "AveragePooling2D": _config(
        {"pool_size": _PAIR, "stride": _PAIR, "padding": {"enum": ["valid", "same"]}}, []
    ),
    "GlobalAveragePooling2D": _config({}, []),
    "Flatten": _config({}, []),
    "Dropout": _config({"rate": {"type": "number", "minimum": 0, "exclusiveMaximum": 1}}, []),
    "BatchNormalization": _config(
        {"axis": _AXIS, "momentum": {"type": "number", "minimum": 0, "exclusiveMaximum": 1}}
        | _NORMALIZATION,
        [],
    ),
    "LayerNormalization": _config(
        {"axis": {"anyOf": [_AXIS, {**_AXES, "minItems": 1}]}} | _NORMALIZATION, []
    ),
}
ACTIVATION_CONFIG = _NUMBERS

_LAYER = {
    "type": "object",
    "properties": {"class": _NAME, "custom": {"type": "boolean"}, "config": _CONFIG},
    "required": ["class", "config"],
    "additionalProperties": False,
}
# a learning-rate schedule: {"class": "CosineDecay", "config": {"decay_steps": 1000, ...}};
# PiecewiseConstantDecay's boundaries and values are lists of numbers
_SCHEDULE = _config(
    {
        "class": _NAME,
        "config": {
            **_NUMBERS,
            "additionalProperties": {
                "anyOf": [
                    {"type": ["number", "boolean", "null"]},
                    {"type": "array", "items": {"type": "number"}, "maxItems": MAX_LAYERS},
                ]
            },
        },
    },
    ["class", "config"],
)
# numbers, but the learning rate may be a schedule and the decay names its exclusions
_OPTIMIZER_CONFIG = {
    **_NUMBERS,
    "properties": {
        "learning_rate": {"anyOf": [{"type": "number"}, _SCHEDULE]},
        "exclude_from_weight_decay": {"type": "array", "items": _NAME, "maxItems": MAX_LAYERS},
    },
}
_OPTIMIZER = {
    "type": "object",
    "properties": {
        "class": _NAME,
        "config": _OPTIMIZER_CONFIG,
        "iterations": {"type": "integer", "minimum": 0, "maximum": 2**53},
    },
    "required": ["class", "config"],
    "additionalProperties": False,
}
_TRAINING = {
    "type": ["object", "null"],
    "properties": {
        "loss": {"anyOf": [{"type": "null"}, _NAME, _NAMED]},
        "optimizer": {"anyOf": [{"type": "null"}, _OPTIMIZER]},
    },
    "additionalProperties": False,
}
_HISTORY = {
    "type": ["object", "null"],
    "maxProperties": 1_000,
    "propertyNames": _NAME,
    "additionalProperties": {"type": "array", "maxItems": MAX_ITEMS, "items": {"type": "number"}},
}
#: the random generators a checkpoint can store: numpy's default (``default_rng``)
BIT_GENERATORS = ("PCG64",)
_DECIMAL = {"type": "string", "pattern": "^[0-9]{1,39}$"}  # a 128-bit number, as text
_EPOCH = {"type": "integer", "minimum": 0, "maximum": MAX_DIM}
_MAYBE_EPOCH = {**_EPOCH, "type": ["integer", "null"]}
_RNG = _config(
    {
        "bit_generator": {"enum": list(BIT_GENERATORS)},
        "state": _DECIMAL,
        "inc": _DECIMAL,
        "has_uint32": {"enum": [0, 1]},
        "uinteger": {"type": "integer", "minimum": 0, "maximum": 2**32 - 1},
    },
    ["bit_generator", "state", "inc", "has_uint32", "uinteger"],
)
_EARLY_STOPPING = _config(
    {
        "best": {"type": ["number", "null"]},
        "wait": _EPOCH,
        "best_epoch": _MAYBE_EPOCH,
        "stopped_epoch": _MAYBE_EPOCH,
    },
    ["best", "wait", "best_epoch", "stopped_epoch"],
)
#: a training checkpoint: the epochs done, the generator's state at the last one's end, the
#: early-stopping state, and ``run`` — what the trainer needs to go on, checked by it
_CHECKPOINT = _config(
    {
        "epoch": _EPOCH,
        "rng": _RNG,
        "early_stopping": {"anyOf": [{"type": "null"}, _EARLY_STOPPING]},
        "run": _CONFIG,
    },
    ["epoch", "rng", "early_stopping", "run"],
)
_DIGESTS = {
    "type": "object",
    "maxProperties": MAX_FIELDS,
    "propertyNames": _NAME,
    "additionalProperties": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
}


def document_schema(version: int) -> dict:
    """The JSON Schema of the glassnet document of format ``version`` (1, 2 or 3).

    Versions 1 and 2 differ only in how the optimizer's tensors are named (not in the
    document); version 3 adds ``tensor_sha256``, the SHA-256 of each tensor's bytes.
    """
    properties = {
        "format": {"const": "glassnet"},
        "format_version": {"const": version},
        "glassnet_version": {"type": "string", "maxLength": 100},
        "dtype": {"enum": ["float16", "float32", "float64"]},
        "input_shape": _SHAPE,
        "layers": {"type": "array", "items": _LAYER, "minItems": 1, "maxItems": MAX_LAYERS},
        "training": _TRAINING,
        "history": _HISTORY,
        "preprocessing": {"anyOf": [{"type": "null"}, {**_CONFIG, "required": ["kind"]}]},
    }
    if version >= 3:
        properties["tensor_sha256"] = _DIGESTS
        properties["checkpoint"] = _CHECKPOINT
    required = ["format", "format_version", "dtype", "input_shape", "layers"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": required + (["tensor_sha256"] if version >= 3 else []),
        "additionalProperties": False,
        "$defs": {"value": _VALUE},
    }


#: the safetensors header: ``__metadata__`` (strings) and one entry per tensor
TENSOR_TABLE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "maxProperties": MAX_FIELDS,
    "propertyNames": {"maxLength": MAX_NAME},
    "properties": {
        "__metadata__": {
            "type": "object",
            "maxProperties": 16,
            "additionalProperties": {"type": "string"},
        }
    },
    "additionalProperties": {
        "type": "object",
        "properties": {
            "dtype": {"type": "string", "maxLength": 10},
            "shape": {
                "type": "array",
                "items": {"type": "integer", "minimum": 0, "maximum": 2**62},
                "maxItems": 8,
            },
            "data_offsets": {
                "type": "array",
                "items": {"type": "integer", "minimum": 0, "maximum": 2**62},
                "minItems": 2,
                "maxItems": 2,
            },
        },
        "required": ["dtype", "shape", "data_offsets"],
        "additionalProperties": False,
    },
}


@cache
def _validator(key):
    from jsonschema import Draft202012Validator

    if isinstance(key, int):
        schema = document_schema(key)
    elif key == "table":
        schema = TENSOR_TABLE
    elif key == "activation":
        schema = {**ACTIVATION_CONFIG, "$defs": {"value": _VALUE}}
    else:
        schema = {**BUILTIN_CONFIGS[key], "$defs": {"value": _VALUE}}
    return Draft202012Validator(schema)


def check(instance, key, where: str, what: str, path: str = "$") -> None:
    """Raise ModelFileError unless ``instance`` fits the schema named by ``key`` (a format
    version, ``"table"``, ``"activation"`` or a class of :data:`BUILTIN_CONFIGS`)."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator(key).iter_errors(instance))
    if error is not None:
        place = path + "".join(
            f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path
        )
        raise ModelFileError(f"{where} has an invalid {what}: {place} {_rule(error)}")


def _rule(error) -> str:
    """What the value breaks, in words, echoing at most ~100 characters of it."""
    value, rule, limit = error.instance, error.validator, error.validator_value
    if rule == "type":
        expected = " or ".join(limit) if isinstance(limit, list) else limit
        return f"must be of JSON type {expected}, got {_json_type(value)} {shown(value)}"
    if rule == "required":
        missing = [k for k in limit if k not in value]
        return f"lacks the field {missing[0]!r}"
    if rule == "additionalProperties" and limit is False:
        extra = sorted(set(value) - set(error.schema.get("properties", {})))
        return f"has fields this format does not have: {shown(extra)}"
    if rule in ("anyOf", "oneOf"):
        forms = sorted({t for sub in limit for t in _types(sub)})
        return f"must be {' or '.join(forms)}, got {_json_type(value)} {shown(value)}"
    if rule in ("maxLength", "maxItems", "maxProperties", "minItems", "minLength"):
        return f"breaks the limit {rule}={limit} (it has {len(value)})"
    return f"= {shown(value)} breaks the rule {rule}: {shown(limit, 60)}"


def _types(subschema) -> list[str]:
    """The JSON types one alternative of an ``anyOf`` allows (its ``enum``/``const`` values)."""
    if not isinstance(subschema, dict):
        return []
    if "type" in subschema:
        kind = subschema["type"]
        return kind if isinstance(kind, list) else [kind]
    if "enum" in subschema or "const" in subschema:
        return [shown(v) for v in subschema.get("enum", [subschema.get("const")])]
    return [t for sub in subschema.get("anyOf", subschema.get("oneOf", [])) for t in _types(sub)]


def _json_type(value) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string"}
    names |= {list: "array", dict: "object", type(None): "null"}
    return names.get(type(value), type(value).__name__)
