"""The State a session answers with: where training is, the data, the weights and their last
gradients, and every neuron's output over the plane.

The heat maps: an ``n x n`` grid over the domain ``[xmin, xmax] x [ymin, ymax]``, row-major
with ``y`` from ``ymax`` down (the first row is the top of a picture), goes through the
network once; for each layer ``L`` (counted from 1) and unit ``J``,
``grid["neurons"][L-1][J]`` is that unit's activation ``a`` at the ``n * n`` points, and
``grid["inputs"]`` are the two inputs themselves. Heat-map values are rounded to 4 decimals
(they are drawn, not checked); every other number is the float64 itself.
"""

from __future__ import annotations

import math

import numpy as np

#: decimals kept in heat-map values: a picture needs no more, and the State stays small
GRID_DECIMALS = 4


def clean(value):
    """``value`` made JSON-safe: arrays as lists, NumPy scalars as Python numbers, and a
    non-finite number (a diverging loss) as None, since JSON has no infinity."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "iub" or np.isfinite(value).all():
            return value.tolist()  # nothing to replace: no walk over every number
        return clean(value.tolist())
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def grid_points(domain, n: int) -> np.ndarray:
    """The ``(n * n, 2)`` grid points, row-major, ``y`` from the top (``ymax``) down."""
    xmin, xmax, ymin, ymax = domain
    xs, ys = np.linspace(xmin, xmax, n), np.linspace(ymax, ymin, n)
    gx, gy = np.meshgrid(xs, ys)
    return np.c_[gx.ravel(), gy.ravel()]


def heat_maps(model, domain, n: int) -> dict:
    """Every unit's activation over the grid, layer by layer, and the output's."""
    points = grid_points(domain, n)
    maps, a = [], points
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for layer in model.layers:
            a = layer.forward(a)
            maps.append(np.round(a.T, GRID_DECIMALS))
    output = maps[-1][0]
    finite = output[np.isfinite(output)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    return {
        "n": n,
        "inputs": np.round(points.T, GRID_DECIMALS),
        "neurons": maps,
        "output": output,
        "range": [low, high],
    }


def network(session) -> dict:
    """Sizes, activations, and each layer's W, b and the gradients of the last step."""
    model = session.model
    weights = [
        {
            "layer": k + 1,
            "W": layer.params["W"],
            "b": layer.params["b"],
            "dW": layer.grads["W"],
            "db": layer.grads["b"],
        }
        for k, layer in enumerate(model.layers)
    ]
    return {
        "sizes": [2, *(layer.params["W"].shape[1] for layer in model.layers)],
        "activations": [layer.activation.name for layer in model.layers],
        "weights": weights,
    }


def state(session, grid: int = 32) -> dict:
    """The State of ``session`` as JSON-ready data (see ``docs/playground.md``); ``grid`` 0
    leaves the heat maps out."""
    data = session.data
    train, test = session.losses()
    per_epoch = session.steps_per_epoch
    answer = {
        "epoch": session.steps // per_epoch,
        "step": session.steps,
        "steps_per_epoch": per_epoch,
        "kind": data.kind,
        "train_loss": train,
        "test_loss": test,
        "diverged": session.diverged,
        "history": session.history,
        "data": {
            "train": np.c_[data.X_train, data.y_train],
            "test": np.c_[data.X_test, data.y_test],
            "domain": data.domain,
        },
        "network": network(session),
        "grid": None if grid == 0 else heat_maps(session.model, data.domain, grid),
        "config": session.config,
    }
    return clean(answer)
