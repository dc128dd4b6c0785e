"""Weight penalties (Keras' regularizers): a term added to the loss that keeps weights small.

A layer with ``kernel_regularizer=gn.L2(1e-4)`` (and/or ``bias_regularizer=``) makes
training minimise

    L_total = L_data + sum over regularized parameters w of  l1 * sum|w| + l2 * sum w^2

so its gradient gains ``l1 * sign(w) + 2 * l2 * w`` (``sign(0) = 0``). The penalty is
added to every batch's loss, at full strength whatever the batch size (as in Keras). Small
weights make a smoother function of the inputs, which over-fits less: see
``docs/layers.md`` for an example.

One place adds it: :func:`add_penalties`, which the one forward-and-backward pass
(:func:`glassnet.training.trainer.loss_and_gradients`) calls after backpropagation — so
``fit``, ``gradcheck`` and ``explain`` see the same loss and the same gradients. Each
layer only says which of its parameters are regularized, and how: its ``regularizers``,
a dict keyed like ``params`` (``{"W": L2(0.0001)}``).

What is reported: the training loss (``history.loss``, what ``fit`` prints and
``gradcheck`` differentiates) includes the penalty; ``evaluate`` and the validation loss
(``val_loss``) measure the data alone, so models with different penalties compare on the
same scale.

L2 penalty or weight decay?
---------------------------
For plain SGD they are the same thing: ``L2(l2)`` adds ``2 l2 w`` to the gradient, so the
step ``w <- w - lr (g + 2 l2 w)`` shrinks ``w`` by the factor ``1 - 2 lr l2`` —
what an optimizer's ``weight_decay = 2 * l2`` would do. For Adam (and RMSprop) they differ:
the penalty's gradient is divided by Adam's running scale of each weight's gradient like
the rest of it, so weights with large gradients are barely decayed. AdamW's *decoupled*
weight decay (Loshchilov & Hutter, 2019) instead shrinks every weight by
``lr * weight_decay * w`` outside the adaptive step, and is not part of the loss at all.
Use a regularizer when you want the penalty in the objective (it shows in the loss and in
gradient checks) or per layer; an optimizer's decay when you want AdamW's behaviour.
"""

from __future__ import annotations

import numpy as np

from glassnet._validation import check_real, unknown_name_error
from glassnet.errors import InputTypeError


class L1L2:
    """``penalty(w) = l1 * sum|w| + l2 * sum w^2``; ``d penalty/dw = l1 sign(w) + 2 l2 w``.

    Keras ``L1L2(l1=0.0, l2=0.0)``. :class:`L1` and :class:`L2` are its two special cases.
    """

    name = "l1_l2"

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = check_real("l1", l1, minimum=0.0)
        self.l2 = check_real("l2", l2, minimum=0.0)

    def __call__(self, w: np.ndarray) -> float:
        """The penalty of the weights ``w``."""
        total = 0.0
        if self.l1:
            total += self.l1 * float(np.abs(w).sum())
        if self.l2:
            total += self.l2 * float(np.vdot(w, w))
        return total

    def add_gradient(self, w: np.ndarray, grad: np.ndarray) -> None:
        """``grad += l1 sign(w) + 2 l2 w``, in place (``grad`` is the parameter's ``dL/dw``)."""
        if self.l1:
            grad += self.l1 * np.sign(w)
        if self.l2:
            grad += (2.0 * self.l2) * w

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}

    def spec(self) -> dict:
        """How a layer's config records it: ``{"name": "l2", "l2": 0.0001}``."""
        return {"name": self.name, **self.get_config()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.get_config() == self.get_config()


class L1(L1L2):
    """``penalty(w) = l1 * sum|w|``; gradient ``l1 sign(w)`` (0 at ``w = 0``). Keras ``L1``:
    it pushes weights to exactly 0 at a constant rate, so it tends to switch inputs off."""

    name = "l1"

    def __init__(self, l1: float = 0.01) -> None:
        super().__init__(l1=l1)

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(L1L2):
    """``penalty(w) = l2 * sum w^2``; gradient ``2 l2 w``. Keras ``L2`` (no factor 1/2, as in
    Keras): it shrinks every weight in proportion to its size."""

    name = "l2"

    def __init__(self, l2: float = 0.01) -> None:
        super().__init__(l2=l2)

    def get_config(self) -> dict:
        return {"l2": self.l2}


REGULARIZERS: dict[str, type[L1L2]] = {cls.name: cls for cls in (L1, L2, L1L2)}


def get_regularizer(regularizer, name: str = "kernel_regularizer") -> L1L2 | None:
    """None, a regularizer (used as given), a name (``"l1"``, ``"l2"`` with Keras' default
    factor 0.01, ``"l1_l2"``), or the model file's ``{"name": "l2", "l2": 0.0001}``."""
    if regularizer is None or isinstance(regularizer, L1L2):
        return regularizer
    if isinstance(regularizer, dict):
        spec = dict(regularizer)
        cls = type(get_regularizer(spec.pop("name", None) or "", name))
        return cls(**spec)
    if isinstance(regularizer, str):
        key = regularizer.lower()
        if key not in REGULARIZERS:
            raise unknown_name_error(name, regularizer, REGULARIZERS)
        return REGULARIZERS[key]()
    raise InputTypeError(
        f"{name} must be None, a name ('l1', 'l2', 'l1_l2') or a regularizer such as "
        f"gn.L2(1e-4), got {type(regularizer).__name__}"
    )


def penalised(model):
    """``(layer, key, regularizer)`` for every penalised parameter of the model."""
    for layer in model.layers:
        for key, regularizer in layer.regularizers.items():
            yield layer, key, regularizer


def penalty(model) -> float:
    """The sum of every layer's weight penalties, the term the training loss includes."""
    return sum(regularizer(layer.params[key]) for layer, key, regularizer in penalised(model))


def add_penalties(model) -> float:
    """Add every layer's weight penalties to its gradients (in place); return their sum.

    Called once per forward-and-backward pass, after ``backward`` has filled the grads:
    for each layer and each ``key, regularizer`` in its ``regularizers``,
    ``grads[key] += d penalty / d params[key]``. The returned sum is added to the loss.
    """
    total = 0.0
    for layer, key, regularizer in penalised(model):
        total += regularizer(layer.params[key])
        regularizer.add_gradient(layer.params[key], layer.grads[key])
    return total
