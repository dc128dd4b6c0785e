"""The output head: which last layer and loss a task needs, and how to read its output.

One decision, written once (the tabular pipeline and the scikit-learn estimators both ask
here):

============================  ==========================  ==================
task                          output layer                loss
============================  ==========================  ==================
classification, 2 classes     1 sigmoid unit: P(class 1)  ``"bce"``
classification, k > 2         k softmax units             ``"cross_entropy"``
regression, m targets         m identity units            ``"mse"``
============================  ==========================  ==================

Why one sigmoid unit for two classes rather than two softmax units: the two are the same
model (``softmax([z, 0])[1] = sigmoid(z)``), but one unit has half the output weights and its
binary cross-entropy is computed stably from the logit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glassnet.errors import InputTypeError, InputValueError

TASKS = ("classification", "regression")


@dataclass(frozen=True)
class Head:
    """The output layer and loss for a task.

    Attributes
    ----------
    units : int
        Units of the last ``Dense`` layer.
    activation : str
        Its activation: ``"sigmoid"``, ``"softmax"`` or ``"identity"``.
    loss : str
        The loss name ``Sequential.fit`` takes: ``"bce"``, ``"cross_entropy"`` or ``"mse"``.
    """

    units: int
    activation: str
    loss: str


def head_for(task: str, n_outputs: int) -> Head:
    """The :class:`Head` for ``task`` with ``n_outputs`` classes (classification) or targets
    (regression).

    >>> head_for("classification", 2)
    Head(units=1, activation='sigmoid', loss='bce')
    >>> head_for("classification", 3)
    Head(units=3, activation='softmax', loss='cross_entropy')
    >>> head_for("regression", 1)
    Head(units=1, activation='identity', loss='mse')
    """
    if task not in TASKS:
        raise InputValueError(f"task must be 'classification' or 'regression', got {task!r}")
    if isinstance(n_outputs, bool) or not isinstance(n_outputs, int | np.integer):
        raise InputTypeError(f"n_outputs must be an integer, got {n_outputs!r}")
    if task == "regression":
        if n_outputs < 1:
            raise InputValueError(f"regression needs n_outputs >= 1 targets, got {n_outputs}")
        return Head(int(n_outputs), "identity", "mse")
    if n_outputs < 2:
        raise InputValueError(f"classification needs n_outputs >= 2 classes, got {n_outputs}")
    if n_outputs == 2:
        return Head(1, "sigmoid", "bce")
    return Head(int(n_outputs), "softmax", "cross_entropy")


def decode(output, threshold: float = 0.5) -> np.ndarray:
    """Class indices from a classifier's output.

    Parameters
    ----------
    output : ndarray of shape (n_samples, k)
        ``k > 1``: class scores or probabilities, decoded by ``argmax`` (the first maximum on
        a tie). ``k == 1``: ``P(class 1)`` of a sigmoid unit, decoded as ``output >= 0.5``
        (a tie at exactly 0.5 goes to class 1).
    threshold : float
        Where one unit's output switches to class 1: 0.5 for a probability, 0.0 for a logit
        (a model trained with ``from_logits=True``).

    Returns
    -------
    ndarray of intp, shape (n_samples,)
    """
    output = _as_output(output)
    if output.shape[1] == 1:
        return (output[:, 0] >= threshold).astype(np.intp)
    return output.argmax(axis=1)


def probabilities(output) -> np.ndarray:
    """Class probabilities with one column per class.

    Parameters
    ----------
    output : ndarray of shape (n_samples, k)
        A softmax output (returned as is) or one sigmoid unit ``p`` (``k == 1``).

    Returns
    -------
    ndarray of shape (n_samples, max(k, 2))
        For one unit, the columns ``[1 - p, p]``: P(class 0) and P(class 1).
    """
    output = _as_output(output)
    if output.shape[1] == 1:
        return np.hstack([1 - output, output])
    return output


def _as_output(output) -> np.ndarray:
    output = np.asarray(output)
    if output.ndim != 2 or output.shape[1] == 0:
        raise InputValueError(
            f"output must have shape (n_samples, n_units) with n_units >= 1, got {output.shape}"
        )
    return output
