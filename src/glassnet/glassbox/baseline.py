"""What a model's loss is compared with by :func:`glassnet.diagnose`: always predicting the
average, and the values an output activation can produce at all."""

from __future__ import annotations

import numpy as np

from glassnet.errors import InputValueError

#: What each bounded output activation can produce: a target outside can never be reached.
OUTPUT_RANGES = {
    "sigmoid": (0.0, 1.0),
    "softmax": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "relu": (0.0, np.inf),
}


def constant_loss(loss, y: np.ndarray, model) -> float:
    """The loss of always predicting the average of ``y`` (in the loss's form): the class
    frequencies for a cross-entropy, the mean target for a squared error.

    ``y`` is as ``model.check_targets`` gave it: integer labels ``(n,)`` for
    cross-entropy, ``(n, k)`` arrays otherwise.
    """
    if y.shape[0] == 0:
        return 0.0
    if loss.name == "cross_entropy":
        k = int(np.prod(model.output_shape))
        p = np.bincount(y, minlength=k) / y.shape[0]
        prediction = np.broadcast_to(p, (y.shape[0], k))
    else:
        prediction = np.broadcast_to(y.astype(np.float64).mean(axis=0), y.shape)
    if loss.is_classification:
        eps = 1e-7
        prediction = np.clip(prediction, eps, 1 - eps)
        if loss.from_logits:  # the logits whose sigmoid/softmax are these probabilities
            prediction = np.log(prediction)
            if loss.name == "bce":
                prediction = prediction - np.log1p(-np.exp(prediction))
    return float(loss.forward(np.array(prediction, dtype=np.float64), y))


def model_loss(model, X, y, loss) -> float:
    """The model's loss on ``X``, ``y`` (infinite when its outputs overflow the loss)."""
    try:
        return float(model.evaluate(X, y, loss=loss)["loss"])
    except InputValueError:
        return float("inf")


def output_range_problem(model, loss, y) -> str | None:
    """Why the output activation cannot reach the targets of a regression loss, or None."""
    if y is None or loss is None or loss.is_classification or y.size == 0:
        return None
    act = model.output_activation
    name = "identity" if act is None else act.name
    if name not in OUTPUT_RANGES:
        return None
    low, high = OUTPUT_RANGES[name]
    y_min, y_max = float(np.min(y)), float(np.max(y))
    if y_min >= low and y_max <= high:
        return None
    return (
        f"the output is {name}, which only gives values in [{low:g}, {high:g}], but y "
        f"ranges from {y_min:.4g} to {y_max:.4g}"
    )
