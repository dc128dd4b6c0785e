"""Loss functions ``L(y_hat, y)`` and their gradients ``dL/dy_hat``.

Reduction: every loss *averages over the batch* (and, for MSE, over the outputs too),
except :class:`SumSquaredError`, which sums, as seed 001's tutorial does. A loss that
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

from glassnet._validation import check_bool, unknown_name_error
from glassnet.errors import InputTypeError, InputValueError


class Loss:
    """Base class.

    ``forward(y_pred, y_true) -> float`` and ``backward() -> dL/dy_pred`` (same shape as
    ``y_pred``). ``y_true`` is first passed through :meth:`prepare_targets`, which checks the
    labels fit the loss and returns them in the shape of ``y_pred``.
    """

    name = "loss"
    reduction = "mean"  # how per-sample terms combine: "mean" or "sum"
    fuses_with: str | None = None  # the activation whose logits this loss can take
    #: output activations that give what this loss reads (None: any output will do)
    probability_outputs: tuple[str, ...] | None = None
    is_classification = False
    from_logits = False

    def check_output(self, activation) -> None:
        """Refuse an output activation this loss cannot read, naming the fix."""
        name = "identity" if activation is None else activation.name
        if self.from_logits and name != "identity":
            raise InputValueError(
                f"{self!r} reads the network's raw outputs as logits, but the network's output "
                f"is {name}: end it with no activation (Dense(k)), or use from_logits=False"
            )
        if (
            not self.from_logits
            and self.probability_outputs
            and name not in self.probability_outputs
        ):
            want = " or ".join(self.probability_outputs)
            raise InputValueError(
                f"loss {self.name!r} needs probabilities, but the network's output is {name}: "
                f"end it with a {want} output (activation={self.fuses_with!r}), or use "
                f"{type(self).__name__}(from_logits=True) to read the outputs as logits"
            )

    @property
    def threshold(self) -> float:
        """Where one output unit switches from class 0 to 1: 0.5 for a probability, 0 for a
        logit (``from_logits=True``)."""
        return 0.0 if self.from_logits else 0.5

    def fuses_with_output(self, activation) -> bool:
        """Whether the loss is computed from the logits of this output activation."""
        return (
            not self.from_logits and activation is not None and activation.name == self.fuses_with
        )

    def get_config(self) -> dict:
        return {"from_logits": True} if self.from_logits else {}

    def spec(self):
        """How the model file records this loss: its name, or a dict with arguments."""
        config = self.get_config()
        return {"name": self.name, **config} if config else self.name

    def prepare_targets(self, y: np.ndarray, n_outputs: int, dtype) -> np.ndarray:
        """Shape ``y`` like the network's output ``(n, n_outputs)`` and check it fits."""
        y = np.asarray(y)
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        if y.ndim != 2 or y.shape[1] != n_outputs:
            raise InputValueError(
                f"y has shape {y.shape}, but the network has {n_outputs} output(s); "
                f"expected y of shape (n_samples, {n_outputs})"
            )
        return y.astype(dtype, copy=False)

    def forward(self, y_pred, y_true, weights=None) -> float:
        """The loss; ``weights`` (shape ``(n,)``) multiplies each sample's term."""
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        raise NotImplementedError

    def loss_from_logits(self, z, y_true, weights=None):
        """``(loss, dL/dz)`` computed from the logits ``z`` (only where ``fuses_with`` is set)."""
        raise NotImplementedError(f"{self.name} has no fused form")

    def __call__(self, y_pred, y_true) -> float:
        y_pred = np.asarray(y_pred, dtype=float)
        y_true = np.asarray(y_true, dtype=float).reshape(y_pred.shape)
        return self.forward(y_pred, y_true)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _ReadsLogits(Loss):
    """A loss with a fused form that can also take the network's raw outputs as logits."""

    def __init__(self, *, from_logits: bool = False) -> None:
        self.from_logits = check_bool("from_logits", from_logits)

    def forward(self, y_pred, y_true, weights=None):
        if not self.from_logits:
            return self.forward_probabilities(y_pred, y_true, weights)
        value, self.delta = self.loss_from_logits(y_pred, y_true, weights)
        return value

    def backward(self):
        return self.delta if self.from_logits else self.backward_probabilities()


def _column(weights):
    """Per-sample weights as a column ``(n, 1)`` that broadcasts over the outputs."""
    return None if weights is None else weights.reshape(-1, 1)


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


class BinaryCrossEntropy(_ReadsLogits):
    """``L = -1/(n k) * sum w_i [y log p + (1 - y) log(1 - p)]`` for labels ``y`` in {0, 1}
    (``k`` outputs, usually 1).

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

    def forward_probabilities(self, y_pred, y_true, weights=None):
        p = np.clip(y_pred, self.eps, 1 - self.eps)
        self.p, self.y, self.w = p, y_true, _column(weights)
        per = y_true * np.log(p) + (1 - y_true) * np.log1p(-p)
        return float(-np.mean(per if self.w is None else per * self.w))

    def backward_probabilities(self):
        p, y = self.p, self.y
        grad = (p - y) / (p * (1 - p)) / p.size
        return grad if self.w is None else grad * self.w

    def loss_from_logits(self, z, y_true, weights=None):
        from glassnet.nn.activations import sigmoid

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
    """Categorical cross-entropy ``L = -1/n * sum_i log p_{i, y_i}``.

    Labels are integers ``0..k-1`` of shape ``(n,)`` or one-hot rows of shape ``(n, k)``.
    From logits (used with a softmax output), with ``log p = z - logsumexp(z)``:
    ``dL/dz = (softmax(z) - onehot(y)) / n`` — exact, finite for any ``z``.
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
        return float(-np.mean(per if weights is None else per * weights))

    def backward_probabilities(self):
        p, y = self.p, self.y
        grad = np.zeros_like(p)
        rows = np.arange(len(y))
        grad[rows, y] = -1.0 / p[rows, y] / len(y)
        return grad if self.w is None else grad * self.w.reshape(-1, 1)

    def loss_from_logits(self, z, y_true, weights=None):
        n = z.shape[0]
        rows = np.arange(n)
        shifted = z - z.max(axis=1, keepdims=True)  # every exponent <= 0
        e = np.exp(shifted)
        sum_e = e.sum(axis=1, keepdims=True)
        log_p_true = shifted[rows, y_true] - np.log(sum_e[:, 0])
        e /= sum_e  # e is now softmax(z)
        e[rows, y_true] -= 1  # p - onehot(y), in place
        e /= n
        if weights is not None:
            log_p_true *= weights
            e *= weights.reshape(-1, 1)
        return float(-log_p_true.sum() / n), e

    @staticmethod
    def _labels(y_true, k):
        y_true = np.asarray(y_true)
        if y_true.ndim == 2 and y_true.shape[1] == k and k > 1:
            return y_true.argmax(axis=1)
        return y_true.reshape(-1).astype(np.intp)

    def __call__(self, y_pred, y_true):
        return self.forward(np.asarray(y_pred, dtype=float), np.asarray(y_true))


LOSSES: dict[str, type[Loss]] = {
    cls.name: cls for cls in (MeanSquaredError, SumSquaredError, BinaryCrossEntropy, CrossEntropy)
}
ALIASES = {
    "mean_squared_error": "mse",
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
    """A Loss from a name (``"mse"``, ``"sse"``, ``"bce"``, ``"cross_entropy"``), class,
    instance, or the model file's form ``{"name": ..., **arguments}``."""
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
