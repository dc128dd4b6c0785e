"""Weight initializers: functions of a shape, the fan-in and fan-out, and a random generator.

Why the scales: with ``n_in`` inputs of unit variance, ``z = x @ W`` has variance
``n_in * Var(W)``. Glorot (Xavier) keeps the variance of signals *and* gradients near 1 for
symmetric activations (tanh, sigmoid) with ``Var(W) = 2 / (n_in + n_out)``; He doubles the
variance, ``Var(W) = 2 / n_in``, because ReLU zeroes half of its inputs.
A uniform distribution on ``[-r, r]`` has variance ``r^2 / 3``, hence the ``sqrt(6 / ...)``.
"""

from __future__ import annotations

import numpy as np

from glassnet._validation import unknown_name_error
from glassnet.errors import InputTypeError


def glorot_uniform(shape, fan_in, fan_out, rng):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)


def glorot_normal(shape, fan_in, fan_out, rng):
    return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=shape)


def he_uniform(shape, fan_in, fan_out, rng):
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, size=shape)


def he_normal(shape, fan_in, fan_out, rng):
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)


def uniform(shape, fan_in, fan_out, rng, low=-0.05, high=0.05):
    """Uniform on ``[low, high)``; ``("uniform", {"low": 0, "high": 1})`` is seed 001's rand."""
    return rng.uniform(low, high, size=shape)


def normal(shape, fan_in, fan_out, rng, mean=0.0, std=0.05):
    return rng.normal(mean, std, size=shape)


def constant(shape, fan_in, fan_out, rng, value=0.0):
    return np.full(shape, value, dtype=float)


def zeros(shape, fan_in, fan_out, rng):
    return np.zeros(shape)


def ones(shape, fan_in, fan_out, rng):
    return np.ones(shape)


INITIALIZERS = {
    f.__name__: f
    for f in (
        glorot_uniform,
        glorot_normal,
        he_uniform,
        he_normal,
        uniform,
        normal,
        constant,
        zeros,
        ones,
    )
}
ALIASES = {
    "xavier_uniform": "glorot_uniform",
    "xavier_normal": "glorot_normal",
    "kaiming_uniform": "he_uniform",
    "kaiming_normal": "he_normal",
}
RELU_FAMILY = {"relu", "leaky_relu"}


def resolve_name(spec, activation=None):
    """Turn ``"auto"`` into a concrete choice and check names early.

    ``spec`` is a name, ``(name, {arguments})``/``[name, {arguments}]``, or ``{"name": ...,
    **arguments}``; the returned value is JSON-safe so the model file can store it.
    """
    if spec == "auto":
        name = getattr(activation, "name", None)
        return "he_uniform" if name in RELU_FAMILY else "glorot_uniform"
    name, kwargs = _split(spec)
    return name if not kwargs else {"name": name, **kwargs}


def _split(spec):
    if isinstance(spec, str):
        name, kwargs = spec, {}
    elif isinstance(spec, dict):
        kwargs = dict(spec)
        name = kwargs.pop("name", None)
    elif isinstance(spec, list | tuple) and len(spec) == 2 and isinstance(spec[1], dict):
        name, kwargs = spec[0], dict(spec[1])
    else:
        raise InputTypeError(f"an initializer must be a name or (name, arguments), got {spec!r}")
    name = ALIASES.get(name, name)
    if name not in INITIALIZERS:
        raise unknown_name_error("initializer", name, INITIALIZERS)
    return name, kwargs


def initialize(spec, shape, *, fan_in, fan_out, rng, dtype=np.float32) -> np.ndarray:
    """Draw an array of ``shape`` from the initializer ``spec`` with ``rng``, as ``dtype``."""
    name, kwargs = _split(spec)
    try:
        values = INITIALIZERS[name](shape, fan_in, fan_out, rng, **kwargs)
    except TypeError as exc:
        raise InputTypeError(f"bad arguments for initializer {name!r}: {kwargs} ({exc})") from None
    return np.asarray(values, dtype=dtype)
