"""How good the predictions are: the one home of glassnet's metric formulas.

``fit`` and ``evaluate`` (through :mod:`glassnet.training.tracking`, which keeps them batch
by batch), the tabular pipeline and its reports, the plots and the digits demo all count
through these functions, so a number means the same thing wherever it is printed.

Classification metrics take integer class indices ``0 .. k-1`` (see
:func:`glassnet.training.heads.decode` to get them from a network's output) or, for ROC AUC,
scores; regression metrics take real values in the target's own units. Every metric takes
optional ``sample_weight`` and then is the *weighted* metric exactly as scikit-learn defines
it (each sample counts ``w_i`` times). A metric that has no value on the data given — ROC AUC
when one class is absent, R² of a constant target, precision when nothing was predicted
positive — is :class:`Undefined`: a NaN that says why, never a NumPy warning.
"""

from __future__ import annotations

import math

import numpy as np

from glassnet.errors import InputValueError


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


def _weights(sample_weight, n: int) -> np.ndarray | None:
    """``sample_weight`` as float64 of shape ``(n,)``, or None (every sample counts once)."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64).ravel()
    if w.shape != (n,):
        raise InputValueError(f"sample_weight must have shape ({n},), got {w.shape}")
    return w


# -- classification: labels -----------------------------------------------------------------
def accuracy(y_true, y_pred, sample_weight=None) -> float:
    """The (weighted) fraction of samples whose predicted label equals the true one.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Labels of any comparable kind (class indices, strings).
    sample_weight : array-like of shape (n_samples,), optional

    Returns
    -------
    float
        ``sum(w_i [y_true_i == y_pred_i]) / sum(w_i)`` (``w_i = 1`` without weights), in
        [0, 1]: scikit-learn's ``accuracy_score``.
    """
    y_true = np.asarray(y_true).ravel()
    y_pred = np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise InputValueError(
            f"y_true and y_pred must have the same length, got {y_true.size} and {y_pred.size}"
        )
    if y_true.size == 0:
        raise InputValueError("y_true is empty: accuracy needs at least one sample")
    right = y_true == y_pred
    w = _weights(sample_weight, y_true.size)
    if w is None:
        return float(np.count_nonzero(right) / y_true.size)
    return float(w @ right / w.sum())


def correct(output, y, threshold: float = 0.5) -> np.ndarray:
    """Which samples a network's ``output`` classifies right, with targets in the loss's form.

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
    ndarray of bool, shape (n_samples,)
    """
    if y.ndim == 2:
        return ((output >= threshold) == (y >= 0.5)).all(axis=1)
    return output.argmax(axis=1) == y


def count_correct(output, y, threshold: float = 0.5) -> int:
    """The number of samples :func:`correct` finds right (divide by ``n_samples`` for accuracy)."""
    return int(np.count_nonzero(correct(output, y, threshold)))


def confusion_matrix(y_true, y_pred, k=None, sample_weight=None) -> np.ndarray:
    """Counts ``C[i, j]`` of samples of true class ``i`` predicted as class ``j``.

    Parameters
    ----------
    y_true, y_pred : array-like of int, shape (n_samples,)
        Class indices in ``0 .. k-1``.
    k : int, optional
        The number of classes; by default one more than the largest index seen. Give it
        when a class may be absent from both arrays, so that the matrix is still ``(k, k)``.
    sample_weight : array-like of shape (n_samples,), optional
        Each sample adds ``w_i`` to its cell instead of 1 (scikit-learn's weighted matrix).

    Returns
    -------
    ndarray of shape (k, k)
        int counts (float sums of weights with ``sample_weight``). Rows are the true classes,
        columns the predicted ones; the diagonal holds the samples classified right, so
        ``trace(C) / C.sum()`` is the accuracy.
    """
    y_true = np.asarray(y_true, dtype=np.intp).ravel()
    y_pred = np.asarray(y_pred, dtype=np.intp).ravel()
    if k is None:
        k = int(max(y_true.max(initial=0), y_pred.max(initial=0)) + 1)
    w = _weights(sample_weight, y_true.size)
    # One pass: the pair (i, j) is the single index i*k + j of a flattened k x k table.
    return np.bincount(y_true * k + y_pred, weights=w, minlength=k * k).reshape(k, k)


AVERAGES = ("binary", "macro", "weighted")


def precision_recall_f1(matrix, average: str = "macro") -> dict[str, float]:
    """Precision ``TP/(TP+FP)``, recall ``TP/(TP+FN)`` and ``F1 = 2 TP / (2 TP + FP + FN)``.

    Parameters
    ----------
    matrix : array-like of shape (k, k)
        A (weighted) confusion matrix as :func:`confusion_matrix` returns it.
    average : {"binary", "macro", "weighted"}
        ``"binary"`` (``k == 2``): of the positive class 1; a ratio whose denominator is 0
        (nothing predicted positive, no positive sample) is :class:`Undefined`, as
        scikit-learn's ``zero_division=np.nan`` gives NaN. ``"macro"``: the unweighted mean
        over the classes present or predicted; ``"weighted"``: their mean weighted by each
        class's (weighted) support. In both, a class's 0/0 counts as 0 — scikit-learn's
        ``average=..., zero_division=0`` over the labels seen.

    Returns
    -------
    dict
        ``{"precision", "recall", "f1"}`` as floats (0.0 each for an empty matrix).
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    tp = np.diag(matrix)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    ratios = {
        "precision": (tp, predicted),
        "recall": (tp, actual),
        "f1": (2 * tp, predicted + actual),
    }
    if average == "binary":
        if matrix.shape != (2, 2):
            raise InputValueError(f"average='binary' needs 2 classes, got {matrix.shape[0]}")
        return {
            name: float(top[1] / bottom[1]) if bottom[1] > 0 else _zero_division(name)
            for name, (top, bottom) in ratios.items()
        }
    if average not in AVERAGES:
        raise InputValueError(f"average must be one of {AVERAGES}, got {average!r}")
    present = (actual > 0) | (predicted > 0)
    if not present.any():
        return dict.fromkeys(ratios, 0.0)
    weights = None if average == "macro" else actual[present]
    scores = {}
    for name, (top, bottom) in ratios.items():
        per_class = np.divide(top, bottom, out=np.zeros_like(top), where=bottom > 0)
        scores[name] = float(np.average(per_class[present], weights=weights))
    return scores


def _zero_division(name: str) -> Undefined:
    why = {"precision": "nothing was predicted positive", "recall": "no sample is positive"}
    return Undefined(f"{why.get(name, 'no sample is or was predicted positive')}: {name} is 0/0")


def macro_f1(matrix) -> float:
    """The unweighted mean F1 over the classes present or predicted: see
    :func:`precision_recall_f1` (``average="macro"``); 0.0 for an empty matrix."""
    return precision_recall_f1(matrix, "macro")["f1"]


# -- classification: scores -----------------------------------------------------------------
def roc_auc(y_true, y_score, sample_weight=None) -> float:
    """Area under the ROC curve of a binary classifier: the Mann–Whitney statistic.

    ``AUC = sum over (positive p, negative q) of w_p w_q ([s_p > s_q] + [s_p == s_q] / 2)``
    divided by ``W_pos W_neg``: the (weighted) probability that a random positive scores
    above a random negative, a tie counting one half — the area under the ROC curve drawn
    with straight segments through tied scores, which is what scikit-learn's
    ``roc_auc_score`` integrates. One sort, then sums per group of tied scores.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        0/1 labels (or booleans); 1 is the positive class.
    y_score : array-like of shape (n_samples,)
        Any score increasing with the positive class: its probability or its logit.
    sample_weight : array-like of shape (n_samples,), optional

    Returns
    -------
    float
        In [0, 1]; :class:`Undefined` when one class has no (weight of) samples.
    """
    positive = np.asarray(y_true).ravel() >= 0.5
    score = np.asarray(y_score, dtype=np.float64).ravel()
    w = _weights(sample_weight, positive.size)
    w = np.ones(positive.size) if w is None else w
    w_pos = np.where(positive, w, 0.0)
    w_neg = w - w_pos
    total_pos, total_neg = w_pos.sum(), w_neg.sum()
    if not (total_pos > 0 and total_neg > 0):
        only = 1 if total_pos > 0 else 0
        return Undefined(f"only class {only} is present: ROC AUC needs both classes")
    order = np.argsort(score)  # the order within a tie does not matter: ties are grouped
    score = score[order]
    starts = np.flatnonzero(np.r_[True, score[1:] != score[:-1]])  # groups of tied scores
    pos = np.add.reduceat(w_pos[order], starts)
    neg = np.add.reduceat(w_neg[order], starts)
    below = np.cumsum(neg) - neg  # negative weight strictly below each group
    return float(pos @ (below + 0.5 * neg) / (total_pos * total_neg))


def roc_auc_ovr(y_true, y_score, sample_weight=None) -> float:
    """Multi-class ROC AUC, one-vs-rest, macro: the mean over classes ``j`` of
    :func:`roc_auc` of ``y_true == j`` against ``y_score[:, j]`` (scikit-learn's
    ``roc_auc_score(multi_class="ovr", average="macro")``; ``y_score`` are probabilities).

    Parameters
    ----------
    y_true : array-like of int, shape (n_samples,)
        Class indices ``0 .. k-1``.
    y_score : array-like of shape (n_samples, k)
    sample_weight : array-like of shape (n_samples,), optional

    Returns
    -------
    float
        :class:`Undefined` when a class has no samples (its AUC has no negatives to rank).
    """
    y_true = np.asarray(y_true).ravel()
    y_score = np.asarray(y_score)
    areas = []
    for j in range(y_score.shape[1]):
        area = roc_auc(y_true == j, y_score[:, j], sample_weight)
        if math.isnan(area):
            which = "the only one present" if (y_true == j).all() else "absent"
            return Undefined(f"class {j} is {which}: ROC AUC one-vs-rest needs every class")
        areas.append(area)
    return float(np.mean(areas))


# -- regression -----------------------------------------------------------------------------
class RegressionSums:
    """The weighted sums regression metrics need, added batch by batch, per output column.

    For residuals ``r = y_true - y_pred`` and weights ``w`` (1 without sample weights) it
    keeps ``W = sum w``, ``sum w |r|``, ``sum w r**2``, and the weighted mean and
    ``M2 = sum w (y - mean)**2`` of ``y_true``, combined across batches with Chan, Golub and
    LeVeque's pairwise update (``delta = mean_b - mean_a``, ``M2 = M2_a + M2_b +
    delta**2 W_a W_b / W``), which never subtracts two large sums, so R² stays exact where
    ``sum w y**2 - W mean**2`` would cancel. The functions below add all rows as one batch;
    ``fit`` adds one per training batch. Every metric is averaged over the output columns
    with equal weight: scikit-learn's ``multioutput="uniform_average"``.
    """

    def __init__(self) -> None:
        self.weight = 0.0
        self.abs = self.sq = self.mean = self.m2 = 0.0
        self.low, self.high = math.inf, -math.inf

    def add(self, y_true, y_pred, sample_weight=None) -> None:
        """Add a batch: ``y_true``, ``y_pred`` of shape ``(n,)`` or ``(n, m)``."""
        y_true = np.asarray(y_true, dtype=np.float64)
        y_true = y_true.reshape(len(y_true), -1)
        y_pred = np.asarray(y_pred, dtype=np.float64).reshape(y_true.shape)
        w = _weights(sample_weight, len(y_true))
        w = np.ones(len(y_true)) if w is None else w
        weight = float(w.sum())
        with np.errstate(over="ignore", invalid="ignore"):
            r = y_true - y_pred
            mean = w @ y_true / weight if weight > 0 else np.zeros(y_true.shape[1])
            dev = y_true - mean
            abs_, sq, m2 = w @ np.abs(r), w @ (r * r), w @ (dev * dev)
        self.low = np.minimum(self.low, y_true.min(axis=0, initial=math.inf))
        self.high = np.maximum(self.high, y_true.max(axis=0, initial=-math.inf))
        if self.weight == 0:
            self.weight, self.abs, self.sq, self.mean, self.m2 = weight, abs_, sq, mean, m2
            return
        total = self.weight + weight
        delta = mean - self.mean
        self.mean = self.mean + delta * (weight / total)
        self.m2 = self.m2 + m2 + delta * delta * (self.weight * weight / total)
        self.weight, self.abs, self.sq = total, self.abs + abs_, self.sq + sq

    def mae(self) -> float:
        """``sum w |r| / sum w``: the mean absolute error."""
        return float(np.mean(self.abs / self.weight))

    def mse(self) -> float:
        """``sum w r**2 / sum w``: the mean squared error."""
        return float(np.mean(self.sq / self.weight))

    def rmse(self) -> float:
        """``sqrt(mse)`` of each output, averaged (scikit-learn's ``root_mean_squared_error``)."""
        return float(np.mean(np.sqrt(self.sq / self.weight)))

    def r2(self) -> float:
        """``1 - SS_res / SS_tot``, ``SS_res = sum w r**2``, ``SS_tot = sum w (y - mean)**2``.

        Undefined for a constant target (there is no variance to explain), whatever the
        predictions: glassnet does not pretend a score (scikit-learn's ``r2_score`` returns
        1.0 or 0.0 there instead). "Constant" means every true value is the same number: a
        target read as ``0.1`` in every row has ``SS_tot`` of rounding noise (``1e-33``), not
        0, and dividing by it would print ``R² = -5e39``.
        """
        constant = np.flatnonzero((self.low == self.high) | ~(self.m2 > 0))
        if constant.size:
            j = int(constant[0])
            which = "" if np.size(self.m2) == 1 else f"of output {j} "
            return Undefined(
                f"every true value {which}is {np.ravel(self.low)[j]:.6g}: "
                f"there is no variance for R² to explain"
            )
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return float(np.mean(1.0 - self.sq / self.m2))


def _sums(y_true, y_pred, sample_weight) -> RegressionSums:
    sums = RegressionSums()
    if np.size(y_true):
        sums.add(y_true, y_pred, sample_weight)
    if sums.weight == 0:
        raise InputValueError("y_true is empty (or all its weights are 0): no error to average")
    return sums


def mean_absolute_error(y_true, y_pred, sample_weight=None) -> float:
    """``sum w |y_true - y_pred| / sum w``, averaged over outputs (:class:`RegressionSums`)."""
    return _sums(y_true, y_pred, sample_weight).mae()


def mean_squared_error(y_true, y_pred, sample_weight=None) -> float:
    """``sum w (y_true - y_pred)**2 / sum w``, averaged over outputs."""
    return _sums(y_true, y_pred, sample_weight).mse()


def root_mean_squared_error(y_true, y_pred, sample_weight=None) -> float:
    """The square root of each output's mean squared error, averaged over outputs."""
    return _sums(y_true, y_pred, sample_weight).rmse()


def r2_score(y_true, y_pred, sample_weight=None) -> float:
    """The coefficient of determination (:meth:`RegressionSums.r2`), averaged over outputs."""
    return _sums(y_true, y_pred, sample_weight).r2()


def regression_metrics(y_true, y_pred, sample_weight=None) -> dict[str, float]:
    """Root mean squared error, mean absolute error and the coefficient of determination::

        rmse = sqrt(sum(r**2) / n)
        mae  = sum(|r|) / n
        r2   = 1 - SS_res / SS_tot,   SS_res = sum(r**2),  SS_tot = sum((y_true - mean)**2)

    Returns
    -------
    dict
        ``{"rmse", "mae", "r2"}`` (sums weighted by ``sample_weight``); R² of a constant
        target is :class:`Undefined` (:meth:`RegressionSums.r2`). Predictions too large to
        square give ``inf``, not a NumPy warning.
    """
    sums = _sums(y_true, y_pred, sample_weight)
    return {"rmse": sums.rmse(), "mae": sums.mae(), "r2": sums.r2()}
