"""The data side of training: checked arrays, the validation split, and mini-batches.

Speed by design: data are converted to the model's dtype once per ``fit``; each epoch shuffles
*indices*, and each batch is gathered into a reused buffer (``np.take(..., out=)``), so no
copy of the dataset is made per epoch and no new batch array per step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from glassnet._validation import check_array
from glassnet.errors import InputValueError


@dataclass
class TrainingData:
    """What ``fit`` trains on: inputs, targets in the loss's form, optional sample weights,
    the rows that train (None: all, in order) and the validation set (or None)."""

    X: np.ndarray
    y: np.ndarray
    w: np.ndarray | None
    train_idx: np.ndarray | None
    validation: tuple | None

    @property
    def n_train(self) -> int:
        return self.X.shape[0] if self.train_idx is None else len(self.train_idx)


def check_sample_weight(sample_weight, n: int, dtype, name: str = "sample_weight") -> np.ndarray:
    """Non-negative weights of shape ``(n,)``, not all zero."""
    w = check_array(name, sample_weight, dtype=dtype)
    if w.shape != (n,):
        raise InputValueError(f"{name} must have shape ({n},), got {w.shape}")
    if (w < 0).any():
        raise InputValueError(f"{name} must be >= 0, got {w[w < 0][0]}")
    if not w.any():
        raise InputValueError(f"{name} is zero for every sample")
    return w


def validation_rows(labels, n: int, fraction: float, classify: bool, rng) -> np.ndarray:
    """Indices of the rows held out for validation: a random ``fraction`` of ``n``, stratified
    by class when ``classify``; a clear error if either side would be empty."""
    if classify:
        val_idx = stratified_holdout(labels, fraction, rng)
    else:
        val_idx = rng.permutation(n)[: max(1, round(n * fraction))]
    if len(val_idx) == 0 or len(val_idx) >= n:
        raise InputValueError(
            f"validation_split={fraction} leaves {n - len(val_idx)} training and "
            f"{len(val_idx)} validation samples out of {n}"
        )
    return val_idx


def stratified_holdout(labels, fraction, rng) -> np.ndarray:
    """Indices of a random hold-out with each class represented in proportion."""
    classes, inverse = np.unique(labels, return_inverse=True)
    picked = []
    for k in range(len(classes)):
        members = np.flatnonzero(inverse == k)
        take = int(round(len(members) * fraction))
        if len(members) >= 2:
            take = min(max(take, 1), len(members) - 1)  # keep each class on both sides
        picked.append(rng.permutation(members)[:take])
    return rng.permutation(np.concatenate(picked))


def class_labels(y: np.ndarray) -> np.ndarray:
    """One label per row from targets in a loss's form (labels, one 0/1 column, or one-hot)."""
    if y.ndim == 1:
        return y
    return y[:, 0] if y.shape[1] == 1 else y.argmax(axis=1)


class Batches:
    """Mini-batches of a :class:`TrainingData`, gathered into buffers reused every step.

    ``epoch(order)`` yields ``(x, y, w)`` batches of at most ``size`` rows in ``order`` (an
    index array, or None for the stored order — then batches are views, no copy).
    """

    def __init__(self, data: TrainingData, size: int | None) -> None:
        self.data = data
        n = data.n_train
        self.size = n if size is None else min(size, n)
        self.count = math.ceil(n / self.size)
        X, y, w = data.X, data.y, data.w
        self._x = np.empty((self.size, *X.shape[1:]), dtype=X.dtype)
        self._y = np.empty((self.size, *y.shape[1:]), dtype=y.dtype)
        self._w = None if w is None else np.empty(self.size, dtype=w.dtype)

    def order(self, shuffle: bool, rng) -> np.ndarray | None:
        """This epoch's order of the training rows (None: the stored order, unshuffled)."""
        idx = self.data.train_idx
        if not shuffle:
            return idx
        perm = rng.permutation(self.data.n_train)
        return perm if idx is None else idx[perm]

    def epoch(self, order):
        X, y, w = self.data.X, self.data.y, self.data.w
        n = self.data.n_train
        if order is None and self.size == n:
            yield X, y, w  # one full batch, as it is
            return
        for lo in range(0, n, self.size):
            hi = min(lo + self.size, n)
            if order is None:
                yield X[lo:hi], y[lo:hi], None if w is None else w[lo:hi]
                continue
            idx = order[lo:hi]
            # mode="clip" lets take() write straight into out= (the default mode buffers it);
            # the indices come from a permutation, so nothing is ever clipped.
            xb = np.take(X, idx, axis=0, out=self._x[: hi - lo], mode="clip")
            yb = np.take(y, idx, axis=0, out=self._y[: hi - lo], mode="clip")
            wb = None if w is None else np.take(w, idx, out=self._w[: hi - lo], mode="clip")
            yield xb, yb, wb
