"""Loss functions ``L(y_hat, y)`` and their gradients ``dL/dy_hat``.

Reduction: every loss *averages over the batch* (and, for MSE, MAE and Huber, over the
outputs too), except :class:`SumSquaredError`, which sums, as seed 001's tutorial does.
Sample weights ``w_i`` multiply each sample's term, and the average still divides by ``n``
(Keras' "sum over batch size"), so weights of 2 double the loss. A loss that
averages gives gradients whose scale does not depend on the batch size.

Where an activation meets its natural loss — sigmoid with binary cross-entropy, softmax with
cross-entropy — the pair is computed from the pre-activation ``z`` (the logits). That is
stable by construction (no ``log(0)``, no ``exp`` overflow) and gives the exact, simple
gradient ``dL/dz = (p - y) / n``. :meth:`Loss.loss_from_logits` implements this; training
uses it automatically when the last activation matches (see ``Loss.fuses_with``).

A loss that reads probabilities refuses a network whose output is not one
(:meth:`Loss.check_output`): cross-entropy on an identity output would take any number for a
probability and report nonsense while learning nothing. ``CrossEntropy(from_logits=True)``
and ``BinaryCrossEntropy(from_logits=True)`` instead take the raw output as the logits —
and then train exactly like the softmax (sigmoid) version, whose gradient they compute.
"""

from __future__ import annotations

import numpy as np

from glassnet._validation import check_bool, check_real, unknown_name_error
from glassnet.errors import InputTypeError, InputValueError
from glassnet.nn.loss import Loss, _column

__all__ = [
    "BinaryCrossEntropy",
    "CrossEntropy",
    "Huber",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SumSquaredError",
    "get_loss",
]


class _ReadsLogits(Loss):
    """A classification loss with a fused form, which can also take the network's raw outputs
    as logits (``from_logits``) and soften its targets (``label_smoothing``, Keras' name and
    meaning: the one-hot target ``y`` of ``K`` classes becomes ``y (1 - ls) + ls / K``; for
    the binary loss, ``K = 2``: ``y (1 - ls) + ls / 2``). Smoothing keeps a network from
    driving its logits ever further apart to reach probabilities of exactly 0 and 1."""

    def __init__(self, *, from_logits: bool = False, label_smoothing: float = 0.0) -> None:
        self.from_logits = check_bool("from_logits", from_logits)
        self.label_smoothing = check_real(
            "label_smoothing", label_smoothing, minimum=0.0, maximum=1.0
        )

    def get_config(self) -> dict:
        config = super().get_config()
        if self.label_smoothing:
            config["label_smoothing"] = self.label_smoothing
        return config

    def forward(self, y_pred, y_true, weights=None):
        if not self.from_logits:
            return self.forward_probabilities(y_pred, y_true, weights)
        value, self.delta = self.loss_from_logits(y_pred, y_true, weights)
        return value

    def backward(self):
        return self.delta if self.from_logits else self.backward_probabilities()


class MeanSquaredError(Loss):
    """``L = 1/(n k) * sum_i w_i sum_k (y_hat - y)^2`` over ``n`` samples and ``k`` outputs
    (``w_i = 1`` unless sample weights are given); ``dL/dy_hat = 2 w (y_hat - y) / (n k)``."""

    name = "mse"

    def forward(self, y_pred, y_true, weights=None):
        self.diff, self.w = y_pred - y_true, _column(weights)
        sq = self.diff * self.diff
        return float(np.mean(sq if self.w is None else sq * self.w))

    def backward(self):
        grad = self.diff * (2.0 / self.diff.size)
        return grad if self.w is None else grad * self.w


class SumSquaredError(Loss):
    """``L = sum_i w_i sum_k (y_hat - y)^2`` (summed, not averaged: seed 001's loss);
    ``dL/dy_hat = 2 w (y_hat - y)``."""

    name = "sse"
    reduction = "sum"

    def forward(self, y_pred, y_true, weights=None):
        self.diff, self.w = y_pred - y_true, _column(weights)
        sq = self.diff * self.diff
        return float(np.sum(sq if self.w is None else sq * self.w))

    def backward(self):
        grad = 2 * self.diff
        return grad if self.w is None else grad * self.w


class MeanAbsoluteError(Loss):
    """``L = 1/(n k) * sum_i w_i sum_k |y_hat - y|``; ``dL/dy_hat = w sign(y_hat - y) / (n k)``.

    Keras ``MeanAbsoluteError``, PyTorch ``l1_loss``. Where ``y_hat = y`` exactly, ``|.|``
    has no derivative; the gradient there is 0 (``sign(0) = 0``, as in PyTorch and
    TensorFlow). Why use it: an outlier pulls on the fit in proportion to its distance
    under MSE, but only with a fixed force here; it estimates the median rather than the
    mean.
    """

    name = "mae"

    def forward(self, y_pred, y_true, weights=None):
        self.diff, self.w = y_pred - y_true, _column(weights)
        absolute = np.abs(self.diff)
        return float(np.mean(absolute if self.w is None else absolute * self.w))

    def backward(self):
        grad = np.sign(self.diff)
        grad /= self.diff.size
        return grad if self.w is None else grad * self.w


class Huber(Loss):
    """The Huber loss: squared for small errors, absolute for large ones.

    With ``d = y_hat - y``, per output ``h(d) = d^2 / 2`` if ``|d| <= delta``, else
    ``delta (|d| - delta / 2)``; ``L = 1/(n k) * sum_i w_i sum_k h(d)`` and
    ``dL/dy_hat = w clip(d, -delta, delta) / (n k)``. The two pieces meet with the same
    value and slope at ``|d| = delta``. Keras ``Huber(delta)``, PyTorch
    ``huber_loss(delta=)`` (not ``smooth_l1_loss``, which divides by its ``beta``).

    Why: near the fit it behaves like MSE (smooth, strong pull on small errors), but an
    outlier far away pulls with at most ``delta``, as in MAE.
    """

    name = "huber"

    def __init__(self, delta: float = 1.0) -> None:
        self.delta = check_real("delta", delta, minimum=0.0, include_min=False)

    def forward(self, y_pred, y_true, weights=None):
        self.diff, self.w = y_pred - y_true, _column(weights)
        absolute = np.abs(self.diff)
        small = absolute <= self.delta
        per = np.where(
            small, 0.5 * self.diff * self.diff, self.delta * (absolute - 0.5 * self.delta)
        )
        return float(np.mean(per if self.w is None else per * self.w))

    def backward(self):
        grad = np.clip(self.diff, -self.delta, self.delta)
        grad /= self.diff.size
        return grad if self.w is None else grad * self.w

    def get_config(self) -> dict:
        return {"delta": self.delta}


class BinaryCrossEntropy(_ReadsLogits):
    """``L = -1/(n k) * sum w_i [y log p + (1 - y) log(1 - p)]`` for labels ``y`` in {0, 1}
    (``k`` outputs, usually 1); with ``label_smoothing = ls`` the target is
    ``y (1 - ls) + ls / 2`` (Keras), and every formula below reads that for ``y``.

    From probabilities ``p`` (``forward``) the log is clipped at ``eps`` so it stays finite.
    From logits ``z`` (``loss_from_logits``, used with a sigmoid output) it is exact:
    ``L = mean(max(z, 0) - z y + log(1 + e^-|z|))`` and ``dL/dz = (sigmoid(z) - y) / n``.
    Seed 000's Parkinson example, ``z = 100 * 0.5 - 0.2 = 49.8`` with label 0, gives
    ``L = 49.8`` from the logits instead of the tutorial's infinity.
    """

    name = "bce"
    fuses_with = "sigmoid"
    probability_outputs = ("sigmoid", "softmax")
    is_classification = True
    eps = 1e-7

    def prepare_targets(self, y, n_outputs, dtype):
        y = np.asarray(y)
        if y.dtype.kind == "b":
            y = y.astype(np.int8)
        if y.dtype.kind not in "biuf" or not np.isin(y, (0, 1)).all():
            bad = y.ravel()[~np.isin(y.ravel(), (0, 1))][:3] if y.dtype.kind in "biuf" else y
            raise InputValueError(
                f"binary cross-entropy needs labels 0 or 1, got {bad!r}; "
                f"encode the two classes as 0/1 or use loss='cross_entropy'"
            )
        return super().prepare_targets(y, n_outputs, dtype)

    def _smooth(self, y):
        """``y (1 - ls) + ls / 2``: the labels 0 and 1 moved towards each other."""
        ls = self.label_smoothing
        return y if not ls else y * (1 - ls) + 0.5 * ls

    def forward_probabilities(self, y_pred, y_true, weights=None):
        p = np.clip(y_pred, self.eps, 1 - self.eps)
        y_true = self._smooth(y_true)
        self.p, self.y, self.w = p, y_true, _column(weights)
        per = y_true * np.log(p) + (1 - y_true) * np.log1p(-p)
        return float(-np.mean(per if self.w is None else per * self.w))

    def backward_probabilities(self):
        p, y = self.p, self.y
        grad = (p - y) / (p * (1 - p)) / p.size
        return grad if self.w is None else grad * self.w

    def loss_from_logits(self, z, y_true, weights=None):
        from glassnet.nn.activations import sigmoid

        y_true = self._smooth(y_true)
        # log(1 + e^z) - z y, written so that no exponent is positive
        per = np.maximum(z, 0) - z * y_true + np.log1p(np.exp(-np.abs(z)))
        delta = sigmoid(z)
        delta -= y_true
        delta /= z.size
        if weights is not None:
            w = _column(weights)
            per *= w
            delta *= w
        return float(per.sum() / z.size), delta


class CrossEntropy(_ReadsLogits):
    """Categorical cross-entropy ``L = -1/n * sum_i w_i sum_k q_ik log p_ik``, with the target
    ``q_i = onehot(y_i)`` — so ``L = -1/n * sum_i w_i log p_{i, y_i}`` — or, with
    ``label_smoothing = ls``, ``q_i = (1 - ls) onehot(y_i) + ls / K`` over ``K`` classes
    (Keras; PyTorch's ``cross_entropy(label_smoothing=)`` is the same).

    Labels are integers ``0..k-1`` of shape ``(n,)`` or one-hot rows of shape ``(n, k)``.
    From logits (used with a softmax output), with ``log p = z - logsumexp(z)``:
    ``dL/dz = w (softmax(z) - q) / n`` — exact, finite for any ``z``. Smoothed, the loss
    is ``(1 - ls)`` times the plain one plus ``ls`` times the mean over classes of
    ``-log p_k``.
    """

    name = "cross_entropy"
    fuses_with = "softmax"
    probability_outputs = ("softmax",)
    is_classification = True
    eps = 1e-7

    def prepare_targets(self, y, n_outputs, dtype):
        """Integer labels stay integers ``(n,)`` (no one-hot copy); one-hot rows are checked."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == n_outputs and n_outputs > 1:
            if y.dtype.kind not in "biuf" or not (
                np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all()
            ):
                raise InputValueError("one-hot y must have exactly one 1 per row and 0 elsewhere")
            return y.argmax(axis=1).astype(np.intp)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if y.ndim != 1:
            raise InputValueError(
                f"cross-entropy needs integer labels of shape (n_samples,) or one-hot "
                f"(n_samples, {n_outputs}), got shape {y.shape}"
            )
        if y.dtype.kind == "f" and np.all(y == np.round(y)):
            y = y.astype(np.intp)
        if y.dtype.kind not in "iu":
            raise InputValueError(f"cross-entropy needs integer class labels, got dtype {y.dtype}")
        if y.size and (y.min() < 0 or y.max() >= n_outputs):
            bad = y[(y < 0) | (y >= n_outputs)][0]
            raise InputValueError(
                f"class label {bad} does not fit a network with {n_outputs} outputs "
                f"(labels must be 0..{n_outputs - 1})"
            )
        return y.astype(np.intp, copy=False)

    def forward_probabilities(self, y_pred, y_true, weights=None):
        y = self._labels(y_true, y_pred.shape[1])
        p = np.clip(y_pred, self.eps, 1.0)
        self.p, self.y, self.w = p, y, weights
        per = np.log(p[np.arange(len(y)), y])
        if self.label_smoothing:
            ls = self.label_smoothing
            per = (1 - ls) * per + ls * np.log(p).mean(axis=1)
        return float(-np.mean(per if weights is None else per * weights))

    def backward_probabilities(self):
        """``dL/dp = -q / p / n`` (only the true class's entry without smoothing)."""
        p, y, ls = self.p, self.y, self.label_smoothing
        rows = np.arange(len(y))
        grad = np.zeros_like(p) if not ls else -(ls / p.shape[1]) / p
        grad[rows, y] -= (1.0 - ls) / p[rows, y]
        grad /= len(y)
        return grad if self.w is None else grad * self.w.reshape(-1, 1)

    def loss_from_logits(self, z, y_true, weights=None):
        n = z.shape[0]
        rows = np.arange(n)
        shifted = z - z.max(axis=1, keepdims=True)  # every exponent <= 0
        e = np.exp(shifted)
        sum_e = e.sum(axis=1, keepdims=True)
        log_sum = np.log(sum_e[:, 0])
        per = shifted[rows, y_true] - log_sum  # log p of the true class
        e /= sum_e  # e is now softmax(z)
        ls = self.label_smoothing
        e[rows, y_true] -= 1 - ls  # p - q, in place: q = (1 - ls) onehot(y) + ls / K
        if ls:
            per *= 1 - ls
            per += ls * (shifted.mean(axis=1) - log_sum)  # ls * mean_k log p_k
            e -= ls / z.shape[1]
        e /= n
        if weights is not None:
            per *= weights
            e *= weights.reshape(-1, 1)
        return float(-per.sum() / n), e

    @staticmethod
    def _labels(y_true, k):
        y_true = np.asarray(y_true)
        if y_true.ndim == 2 and y_true.shape[1] == k and k > 1:
            return y_true.argmax(axis=1)
        return y_true.reshape(-1).astype(np.intp)

    def __call__(self, y_pred, y_true):
        return self.forward(np.asarray(y_pred, dtype=float), np.asarray(y_true))


LOSSES: dict[str, type[Loss]] = {
    cls.name: cls
    for cls in (
        MeanSquaredError,
        SumSquaredError,
        MeanAbsoluteError,
        Huber,
        BinaryCrossEntropy,
        CrossEntropy,
    )
}
ALIASES = {
    "mean_squared_error": "mse",
    "mean_absolute_error": "mae",
    "huber_loss": "huber",
    "sum_squared_error": "sse",
    "binary_cross_entropy": "bce",
    "binary_crossentropy": "bce",
    "log_loss": "bce",
    "crossentropy": "cross_entropy",
    "categorical_crossentropy": "cross_entropy",
    "sparse_categorical_crossentropy": "cross_entropy",
    "ce": "cross_entropy",
}


def get_loss(loss) -> Loss:
    """A Loss from a name (``"mse"``, ``"sse"``, ``"mae"``, ``"huber"``, ``"bce"``,
    ``"cross_entropy"``), class, instance, or the model file's form
    ``{"name": ..., **arguments}`` (``{"name": "huber", "delta": 2.0}``)."""
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, type) and issubclass(loss, Loss):
        return loss()
    if isinstance(loss, dict):
        spec = dict(loss)
        cls = type(get_loss(spec.pop("name", None)))
        return cls(**spec)
    if isinstance(loss, str):
        key = ALIASES.get(loss.lower(), loss.lower())
        if key not in LOSSES:
            raise unknown_name_error("loss", loss, LOSSES)
        return LOSSES[key]()
    raise InputTypeError(f"loss must be a name or a Loss, got {type(loss).__name__}")
