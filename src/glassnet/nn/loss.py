"""The loss contract: what every loss — MSE, cross-entropy, your own — provides.

``forward(y_pred, y_true, weights=None) -> L`` and ``backward() -> dL/dy_pred``; where the
loss meets its natural output activation, ``loss_from_logits(z, y_true, weights) ->
(L, dL/dz)``. The losses themselves are in :mod:`glassnet.nn.losses`.
"""

from __future__ import annotations

import numpy as np

from glassnet.errors import InputValueError


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


def _column(weights):
    """Per-sample weights as a column ``(n, 1)`` that broadcasts over the outputs."""
    return None if weights is None else weights.reshape(-1, 1)
