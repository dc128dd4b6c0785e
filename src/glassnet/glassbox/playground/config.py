"""What a playground request may ask for: the choices, the limits, and the checks.

Every body the server accepts is checked against a JSON Schema (:data:`CONFIG_SCHEMA` and
the small ones below) before anything is built, with ``jsonschema`` — unknown fields, wrong
types, counts and ranges are refused there — and the first error becomes one line naming
the field and the value (:func:`validate`), which the server answers with status 400.
The limits bound what one session can cost: at most 6 hidden layers of 8 units, 500 drawn
points plus 200 added ones, a 64 x 64 grid, 1000 steps per request.
"""

from __future__ import annotations

import copy

from jsonschema import Draft202012Validator

from glassnet.datasets.planar import PLANAR


class RequestError(ValueError):
    """A request the playground refuses: ``status`` (400, 404, 413, ...) and a one-line
    message naming the field and the value."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


ACTIVATIONS = ["tanh", "relu", "sigmoid", "linear", "leaky_relu", "elu", "gelu", "silu", "softplus"]
LOSSES = {"classification": ["bce", "mse", "sse"], "regression": ["mse", "mae", "huber", "sse"]}
OPTIMIZERS = ["sgd", "momentum", "adam", "rmsprop", "adagrad"]
WEIGHT_INITS = ["auto", "ones", "glorot_uniform", "he_normal"]
LIMITS = {
    "hidden_layers": 6,
    "units": 8,
    "batch_size": [1, 256],
    "learning_rate": [1e-5, 10],
    "points": 500,
    "extra_points": 200,
    "noise": [0, 0.5],
    "train_fraction": [0.1, 0.9],
    "steps": 1000,
    "grid": [8, 64],
    "l2": [0, 1],
    "seed": [0, 2**32 - 1],
}
DEFAULTS = {
    "dataset": "circle",
    "noise": 0.1,
    "train_fraction": 0.5,
    "n_points": 200,
    "seed": 0,
    "extra_points": [],
    "hidden": [{"units": 4, "activation": "tanh"}, {"units": 2, "activation": "tanh"}],
    "loss": None,  # the kind's first loss: bce for classification, mse for regression
    "optimizer": "sgd",
    "learning_rate": 0.03,
    "batch_size": 10,
    "l2": 0.0,
    "weight_init": "auto",
}
#: the networks the seeds train, offered with their data
PRESETS = {
    "gender": {"hidden": [{"units": 2, "activation": "sigmoid"}], "loss": "mse",
               "learning_rate": 0.1, "batch_size": 1},
    "perceptron": {"hidden": [], "loss": "mse", "learning_rate": 1.0, "batch_size": 4},
    "xor": {"hidden": [{"units": 4, "activation": "sigmoid"}], "loss": "sse",
            "learning_rate": 1.0, "batch_size": 4},
}  # fmt: skip


def _number(low, high):
    return {"type": "number", "minimum": low, "maximum": high}


def _integer(low, high):
    return {"type": "integer", "minimum": low, "maximum": high}


CONFIG_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "dataset": {"enum": list(PLANAR)},
        "noise": _number(*LIMITS["noise"]),
        "train_fraction": _number(*LIMITS["train_fraction"]),
        "n_points": _integer(10, LIMITS["points"]),
        "seed": _integer(*LIMITS["seed"]),
        "extra_points": {
            "type": "array",
            "maxItems": LIMITS["extra_points"],
            "items": {"type": "array", "items": {"type": "number"}, "minItems": 3, "maxItems": 3},
        },
        "hidden": {
            "type": "array",
            "maxItems": LIMITS["hidden_layers"],
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["units"],
                "properties": {
                    "units": _integer(1, LIMITS["units"]),
                    "activation": {"enum": ACTIVATIONS},
                },
            },
        },
        "loss": {"enum": sorted({name for names in LOSSES.values() for name in names})},
        "optimizer": {"enum": OPTIMIZERS},
        "learning_rate": _number(*LIMITS["learning_rate"]),
        "batch_size": _integer(*LIMITS["batch_size"]),
        "l2": _number(*LIMITS["l2"]),
        "weight_init": {"enum": WEIGHT_INITS},
    },
}
POINT_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["x", "y", "target"],
    "properties": {"x": {"type": "number"}, "y": {"type": "number"}, "target": {"type": "number"}},
}
#: 0 asks for no heat maps at all (a State without them is much smaller)
GRID_SCHEMA = {"anyOf": [{"const": 0}, _integer(*LIMITS["grid"])]}
STEP_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"steps": _integer(1, LIMITS["steps"]), "grid": GRID_SCHEMA},
}
TRACE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"grid": GRID_SCHEMA},
}
LEDGER_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["layer", "j"],
    "properties": {
        "layer": _integer(1, LIMITS["hidden_layers"] + 1),
        "i": _integer(0, max(LIMITS["units"], 2) - 1),
        "j": _integer(0, LIMITS["units"] - 1),
        "parameter": {"enum": ["W", "b"]},
    },
}
EMPTY_SCHEMA = {"type": "object", "additionalProperties": False, "properties": {}}


def validate(body, schema, what: str = "body") -> dict:
    """``body`` if it satisfies ``schema``; else a :class:`RequestError` naming the first
    wrong field (``hidden[1].units``) and its value, in one line."""
    errors = sorted(Draft202012Validator(schema).iter_errors(body), key=_error_order)
    if errors:
        raise RequestError(_message(errors[0], what))
    return body


def _error_order(error):
    return (list(error.absolute_path) and len(error.absolute_path), list(map(str, error.path)))


def _message(error, what: str) -> str:
    field = _field(error.absolute_path) or what
    value = _short(error.instance)
    kind = error.validator
    if kind == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(known))
        where = f" in {field}" if error.absolute_path else ""
        return f"unknown field {extra[0]!r}{where}; the fields are: {', '.join(known)}"
    if kind == "type":
        wanted = error.validator_value
        return f"{field} must be {_article(wanted)}, got {value}"
    if kind in ("minimum", "maximum"):
        relation = ">=" if kind == "minimum" else "<="
        return f"{field} must be {relation} {error.validator_value}, got {value}"
    if kind == "enum":
        choices = ", ".join(map(str, error.validator_value))
        return f"{field} must be one of {choices}, got {value}"
    if kind in ("maxItems", "minItems"):
        bound = "at most" if kind == "maxItems" else "at least"
        return f"{field} must have {bound} {error.validator_value} items, got {len(error.instance)}"
    if kind == "required":
        return f"{field} needs the field {error.message.split(' ')[0]}"
    if kind == "anyOf":
        low, high = LIMITS["grid"]
        return f"{field} must be 0 or an integer from {low} to {high}, got {value}"
    return f"{field}: {error.message[:200]}"


def _field(path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _article(kind) -> str:
    names = {"object": "a JSON object", "array": "a list", "integer": "an integer",
             "number": "a number", "string": "a string"}  # fmt: skip
    return names.get(kind, str(kind))


def _short(value) -> str:
    text = repr(value) if not isinstance(value, dict | list) else type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def full_config(body) -> dict:
    """The checked config with every omitted field at its default (a copy: never shared)."""
    if body is None:
        body = {}
    validate(body, CONFIG_SCHEMA, "config")
    config = copy.deepcopy(DEFAULTS)
    config.update(copy.deepcopy(body))
    config["hidden"] = [
        {"units": int(h["units"]), "activation": h.get("activation", "tanh")}
        for h in config["hidden"]
    ]
    for name in ("n_points", "seed", "batch_size"):
        config[name] = int(config[name])
    for name in ("noise", "train_fraction", "learning_rate", "l2"):
        config[name] = float(config[name])
    kind = PLANAR[config["dataset"]].kind
    if config["loss"] is None:
        config["loss"] = LOSSES[kind][0]
    elif config["loss"] not in LOSSES[kind]:
        raise RequestError(
            f"loss must be one of {', '.join(LOSSES[kind])} for the {kind} set "
            f"{config['dataset']!r}, got {config['loss']!r}"
        )
    return config


def options() -> dict:
    """What ``GET /api/options`` answers: the choices, the limits and the defaults."""
    datasets = [
        {"name": name, "title": p.title, "kind": p.kind, "seed_table": p.fixed,
         "preset": PRESETS.get(name, {})}
        for name, p in PLANAR.items()
    ]  # fmt: skip
    return {
        "datasets": datasets,
        "activations": ACTIVATIONS,
        "losses": LOSSES,
        "optimizers": OPTIMIZERS,
        "weight_inits": WEIGHT_INITS,
        "limits": LIMITS,
        "defaults": full_config({}),
    }
