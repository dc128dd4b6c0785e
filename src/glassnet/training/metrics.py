"""How good the predictions are: the one home of glassnet's metrics.

``fit`` (its accuracy per epoch), the tabular pipeline and its reports, the plots and the
scikit-learn estimators all count through these functions, so a number means the same thing
wherever it is printed.

Classification metrics take integer class indices ``0 .. k-1`` (see
:func:`glassnet.training.heads.decode` to get them from a network's output); regression
metrics take real values in the target's own units.
"""

from __future__ import annotations

import math

import numpy as np

from glassnet.errors import InputValueError


def accuracy(y_true, y_pred) -> float:
    """The fraction of samples whose predicted label equals the true one.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Labels of any comparable kind (class indices, strings).

    Returns
    -------
    float
        ``mean(y_true == y_pred)``, in [0, 1].
    """
    y_true = np.asarray(y_true).ravel()
    y_pred = np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise InputValueError(
            f"y_true and y_pred must have the same length, got {y_true.size} and {y_pred.size}"
        )
    if y_true.size == 0:
        raise InputValueError("y_true is empty: accuracy needs at least one sample")
    return float(np.count_nonzero(y_true == y_pred) / y_true.size)


def count_correct(output, y, threshold: float = 0.5) -> int:
    """Samples a network's ``output`` classifies right, with targets in the loss's own form.

    Parameters
    ----------
    output : ndarray of shape (n_samples, k)
        The network's output (probabilities or scores).
    y : ndarray of shape (n_samples,) or (n_samples, k)
        Integer labels ``(n,)`` (cross-entropy): a sample is right when ``argmax(output)``
        equals its label. 0/1 targets ``(n, k)`` (sigmoid units with binary cross-entropy or
        MSE): a sample is right only when *every* unit is on the right side of 0.5 — exact
        match, as scikit-learn counts multi-label accuracy.
    threshold : float
        The side of a unit's decision: 0.5 for probabilities, 0.0 for logits (a loss with
        ``from_logits=True``), since ``sigmoid(z) >= 0.5`` exactly when ``z >= 0``.

    Returns
    -------
    int
        The number of samples classified right (divide by ``n_samples`` for accuracy).
    """
    if y.ndim == 2:
        return int(np.count_nonzero(((output >= threshold) == (y >= 0.5)).all(axis=1)))
    return int(np.count_nonzero(output.argmax(axis=1) == y))


def confusion_matrix(y_true, y_pred, k=None) -> np.ndarray:
    """Counts ``C[i, j]`` of samples of true class ``i`` predicted as class ``j``.

    Parameters
    ----------
    y_true, y_pred : array-like of int, shape (n_samples,)
        Class indices in ``0 .. k-1``.
    k : int, optional
        The number of classes; by default one more than the largest index seen. Give it
        when a class may be absent from both arrays, so that the matrix is still ``(k, k)``.

    Returns
    -------
    ndarray of int, shape (k, k)
        Rows are the true classes, columns the predicted ones; the diagonal holds the
        samples classified right, so ``trace(C) / C.sum()`` is the accuracy.
    """
    y_true = np.asarray(y_true, dtype=np.intp).ravel()
    y_pred = np.asarray(y_pred, dtype=np.intp).ravel()
    if k is None:
        k = int(max(y_true.max(initial=0), y_pred.max(initial=0)) + 1)
    # One pass: the pair (i, j) is the single index i*k + j of a flattened k x k table.
    return np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)


def macro_f1(matrix) -> float:
    """The unweighted mean over classes of ``F1 = 2 P R / (P + R) = 2 TP / (2 TP + FP + FN)``.

    Parameters
    ----------
    matrix : array-like of shape (k, k)
        A confusion matrix as :func:`confusion_matrix` returns it.

    Returns
    -------
    float
        The mean F1 over the classes that are present or predicted at least once; a class
        that is present but never predicted right scores 0 (scikit-learn's
        ``f1_score(average="macro", zero_division=0)`` over the labels seen). 0.0 for an
        empty matrix.
    """
    matrix = np.asarray(matrix, dtype=float)
    tp = np.diag(matrix)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    denominator = predicted + actual  # 2TP + FP + FN
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    present = (actual > 0) | (predicted > 0)
    return float(f1[present].mean()) if present.any() else 0.0


class Undefined(float):
    """A metric that has no value here: a NaN that carries the reason (``.reason``).

    It is a float, so arithmetic, ``math.isnan`` and JSON (as NaN) work on it unchanged; a
    printer shows it as ``n/a`` and may give ``reason`` beside it.

    >>> r2 = Undefined("the true values are all 3: there is no variance to explain")
    >>> math.isnan(r2), r2.reason
    (True, 'the true values are all 3: there is no variance to explain')
    """

    reason: str

    def __new__(cls, reason: str) -> Undefined:
        value = super().__new__(cls, math.nan)
        value.reason = reason
        return value

    def __repr__(self) -> str:
        return f"Undefined({self.reason!r})"


def regression_metrics(y_true, y_pred) -> dict[str, float]:
    """Root mean squared error, mean absolute error and the coefficient of determination.

    With residuals ``r = y_true - y_pred`` over ``n`` samples::

        rmse = sqrt(sum(r**2) / n)
        mae  = sum(|r|) / n
        r2   = 1 - SS_res / SS_tot,   SS_res = sum(r**2),  SS_tot = sum((y_true - mean)**2)

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted values, in the target's units.

    Returns
    -------
    dict
        ``{"rmse", "mae", "r2"}`` as floats. R² is undefined for a constant target (there
        is no variance to explain) and is then :class:`Undefined` — a NaN with its reason —
        whatever the predictions: glassnet does not pretend a score (scikit-learn's
        ``r2_score`` returns 1.0 or 0.0 there instead). "Constant" means every true value is
        the same number: a target read as ``0.1`` in every row has ``SS_tot`` of rounding
        noise (``1e-33``), not 0, and dividing by it would print ``R² = -5e39``. The sums run
        under ``np.errstate``: predictions too large to square give ``inf``, not a warning.
    """
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        residual = y_true - y_pred
        ss_res = float(residual @ residual)
        ss_tot = float(((y_true - y_true.mean()) ** 2).sum())
        mae = float(np.abs(residual).mean())
    if y_true.min() == y_true.max():
        r2 = Undefined(
            f"every true value is {y_true[0]:.6g}: there is no variance for R² to explain"
        )
    else:
        r2 = 1.0 - ss_res / ss_tot
    return {"rmse": math.sqrt(ss_res / len(y_true)), "mae": mae, "r2": r2}
