"""The optimizer's state in the model file: one tensor per parameter and key, checked on load.

Names are the truth: the state is stored under the parameter it belongs to, whatever buffer
held the numbers in memory::

    optimizer/layers.0.W/m    Adam's first moment of layers.0.W, shape of layers.0.W
    optimizer/layers.0.W/v    its second moment
    optimizer/layers.0.b/m    ...

Loading checks every such tensor against the rebuilt model: the parameter exists, the shape
is the parameter's, the dtype is the model's, and each parameter holds exactly the keys the
optimizer keeps (Adam: ``m`` and ``v``; SGD with momentum: ``velocity``; plain SGD: none).

Files of format version 1 stored one flat vector per key, ``optimizer/parameters/m``: every
parameter raveled and laid end to end in ``model.slots()`` order. :func:`split_flat_state`
cuts such a vector back into per-name pieces, so those files still load and train on.
"""

from __future__ import annotations

import numpy as np

from glassnet.io.errors import ModelFileError

PREFIX = "optimizer/"
FLAT_SLOT = "parameters"  # the one slot name format version 1 used for all parameters


def state_tensors(optimizer) -> dict[str, np.ndarray]:
    """``{"optimizer/<param>/<key>": array}``: the tensors the model file stores."""
    return {
        f"{PREFIX}{name}": np.ascontiguousarray(arr)
        for name, arr in optimizer.state_arrays().items()
    }


def read_state(tensors, model, optimizer, iterations: int, version: int, where: str) -> dict:
    """The optimizer tensors of a file as ``{"<param>/<key>": array}``, checked (see module)."""
    arrays = {k[len(PREFIX) :]: v for k, v in tensors.items() if k.startswith(PREFIX)}
    slots = model.slots()
    if version == 1:
        arrays = split_flat_state(arrays, slots, where)
    check_state(arrays, slots, optimizer, iterations, model.dtype, where)
    return arrays


def split_flat_state(arrays: dict, slots, where: str) -> dict:
    """Cut each format-1 flat vector ``parameters/<key>`` into ``<param>/<key>`` pieces.

    The vector of length ``N = sum(p.size)`` holds the parameters in ``slots`` order, each
    raveled in C order: parameter ``i`` is ``vector[o_i : o_i + size_i]`` reshaped to its
    shape, with ``o_i`` the sizes of the parameters before it.
    """
    flat = {k: v for k, v in arrays.items() if k.split("/", 1)[0] == FLAT_SLOT}
    if not flat:
        return arrays
    if len(flat) != len(arrays):
        raise ModelFileError(
            f"{where} holds two optimizer states, one flat and one per parameter; "
            f"it cannot tell which one training used"
        )
    total = sum(p.size for _, p, _ in slots)
    pieces = {}
    for flat_name, vector in flat.items():
        key = flat_name.split("/", 1)[1]
        if vector.ndim != 1 or vector.size != total:
            raise ModelFileError(
                f"{where}: optimizer tensor {PREFIX + flat_name!r} has shape {vector.shape}, "
                f"but the model's {len(slots)} parameters hold {total} numbers"
            )
        offset = 0
        for name, p, _ in slots:
            pieces[f"{name}/{key}"] = vector[offset : offset + p.size].reshape(p.shape)
            offset += p.size
    return pieces


def check_state(arrays: dict, slots, optimizer, iterations: int, dtype, where: str) -> None:
    """Raise ModelFileError unless ``arrays`` is a state ``optimizer`` could have kept for
    the parameters in ``slots``."""
    params = {name: p for name, p, _ in slots}
    keys: dict[str, set[str]] = {}
    for flat_name, value in arrays.items():
        name, _, key = flat_name.rpartition("/")
        p = params.get(name)
        if p is None:
            raise ModelFileError(
                f"{where}: optimizer tensor {PREFIX + flat_name!r} names no parameter of the model"
            )
        if value.shape != p.shape or value.dtype != dtype:
            raise ModelFileError(
                f"{where}: optimizer tensor {PREFIX + flat_name!r} has shape {value.shape} and "
                f"dtype {value.dtype}, expected {p.shape} {np.dtype(dtype)} like {name!r}"
            )
        keys.setdefault(name, set()).add(key)
    expected = state_keys(optimizer, dtype)
    if expected and (keys or iterations):  # once it has stepped, every parameter has state
        for name in params:
            keys.setdefault(name, set())
    for name, found in keys.items():
        if found != expected:
            raise ModelFileError(
                f"{where}: the optimizer state of {name!r} has keys {sorted(found)}, but "
                f"{optimizer!r} keeps {sorted(expected)}"
            )


def state_keys(optimizer, dtype) -> set[str]:
    """The keys ``optimizer`` keeps per parameter, as a fresh copy of it keeps them after one
    step on a one-number parameter (only the public ``step``/``state_arrays`` are used)."""
    probe = type(optimizer).from_config(optimizer.get_config())
    p = np.zeros(1, dtype=dtype)
    probe.step([("probe", p, np.zeros_like(p))])
    return {flat_name.rpartition("/")[2] for flat_name in probe.state_arrays()}
