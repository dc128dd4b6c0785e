"""Optimizers: rules that move every parameter against its gradient, in place.

Each rule is an ``update(p, g, state, lr)`` on one array (or the packed vector of all
parameters) with the state it keeps per parameter name; what every rule shares — the
learning rate or its schedule, clipping, weight decay, the state and the model file — is
the base class, :class:`glassnet.training.optimizer.Optimizer`.

Updates are written in place with reused scratch buffers: no new arrays per step.
"""

from __future__ import annotations

import math

import numpy as np

from glassnet._validation import check_positive, check_real, unknown_name_error
from glassnet.errors import InputTypeError, InputValueError
from glassnet.training.optimizer import Optimizer

__all__ = ["OPTIMIZERS", "SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "get_optimizer"]


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum.

    Plain:      ``p <- p - eta g``
    Momentum:   ``v <- mu v + g``;  ``p <- p - eta v``
    Nesterov:   ``v <- mu v + g``;  ``p <- p - eta (g + mu v)``

    (The velocity accumulates gradients and the step is ``eta v``; the same convention as
    PyTorch. Keras folds ``eta`` into ``v``; the two agree while ``eta`` is constant.)
    ``**options``: weight decay and clipping, as :class:`Optimizer` documents them.
    """

    name = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **options):
        super().__init__(learning_rate, **options)
        self.momentum = check_real(
            "momentum", momentum, minimum=0.0, maximum=1.0, include_max=False
        )
        if not isinstance(nesterov, bool):
            raise InputTypeError(f"nesterov must be True or False, got {nesterov!r}")
        if nesterov and self.momentum == 0:
            raise InputValueError("nesterov=True needs momentum > 0, got momentum=0")
        self.nesterov = nesterov

    def init_state(self, p):
        state = super().init_state(p)
        if self.momentum:
            state["velocity"] = np.zeros_like(p)
        return state

    def update(self, p, g, state, lr):
        step = state["scratch"]
        if self.momentum:
            v = state["velocity"]
            v *= self.momentum  # v <- mu v + g
            v += g
            if self.nesterov:
                np.multiply(v, self.momentum, out=step)  # step = eta (g + mu v)
                step += g
            else:
                step[...] = v  # step = eta v
            step *= lr
        else:
            np.multiply(g, lr, out=step)  # step = eta g
        p -= step  # p <- p - step

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015).

    ``m <- b1 m + (1 - b1) g``;  ``v <- b2 v + (1 - b2) g^2``;
    ``p <- p - eta * m_hat / (sqrt(v_hat) + eps)`` with ``m_hat = m / (1 - b1^t)``,
    ``v_hat = v / (1 - b2^t)``. Computed as the paper's equivalent form
    ``p <- p - eta_t m / (sqrt(v) + eps_t)`` with ``eta_t = eta sqrt(1 - b2^t) / (1 - b1^t)``
    and ``eps_t = eps sqrt(1 - b2^t)``, which needs no bias-corrected copies.
    ``weight_decay`` adds ``lambda p`` to the gradient (L2, as PyTorch's ``Adam``; for the
    decoupled decay use :class:`AdamW`). ``**options`` as :class:`Optimizer` documents them.
    """

    name = "adam"

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, **options):
        super().__init__(learning_rate, **options)
        self.beta1 = check_real("beta1", beta1, minimum=0.0, maximum=1.0, include_max=False)
        self.beta2 = check_real("beta2", beta2, minimum=0.0, maximum=1.0, include_max=False)
        self.epsilon = check_positive("epsilon", epsilon)

    def init_state(self, p):
        return {**super().init_state(p), "m": np.zeros_like(p), "v": np.zeros_like(p)}

    def update(self, p, g, state, lr):
        m, v, tmp = state["m"], state["v"], state["scratch"]
        m *= self.beta1  # m <- b1 m + (1 - b1) g
        np.multiply(g, 1 - self.beta1, out=tmp)
        m += tmp
        v *= self.beta2  # v <- b2 v + (1 - b2) g^2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.beta2
        v += tmp
        eta_t, eps_t = self.corrected_rates(lr)
        np.sqrt(v, out=tmp)  # p <- p - eta_t m / (sqrt(v) + eps_t)
        tmp += eps_t
        np.divide(m, tmp, out=tmp)
        tmp *= eta_t
        p -= tmp

    def corrected_rates(self, lr) -> tuple[float, float]:
        """``(eta_t, eps_t)`` of step ``t = iterations``: ``eta sqrt(1 - b2^t) / (1 - b1^t)``
        and ``eps sqrt(1 - b2^t)``. Python floats, not NumPy float64 scalars: a float64 scalar
        would make every in-place pass run through float64 casting buffers (7x slower on
        float32 parameters)."""
        t = self.iterations
        correction2 = math.sqrt(1.0 - self.beta2**t)
        return lr * correction2 / (1.0 - self.beta1**t), self.epsilon * correction2

    def get_config(self):
        return {
            **super().get_config(),
            "beta1": self.beta1,
            "beta2": self.beta2,
            "epsilon": self.epsilon,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as PyTorch's ``AdamW``.

    ``p <- p - eta lambda p``, then the :class:`Adam` step on the gradient itself. Unlike
    L2 (``g + lambda p``), the decay is not divided by Adam's ``sqrt(v_hat)``: every weight
    shrinks by the same fraction ``eta lambda`` a step, large gradients or small — which is
    what makes weight decay regularise under Adam. ``eta`` is the step's (scheduled) rate.

    ``weight_decay`` defaults to 0.01 (PyTorch); biases and normalisation parameters are
    left out (``exclude_from_weight_decay``, see :class:`Optimizer`).
    """

    name = "adamw"
    decoupled = True

    def __init__(
        self,
        learning_rate=0.001,
        beta1=0.9,
        beta2=0.999,
        epsilon=1e-8,
        *,
        weight_decay=0.01,
        **options,
    ):
        super().__init__(learning_rate, beta1, beta2, epsilon, weight_decay=weight_decay, **options)


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012): ``v <- rho v + (1 - rho) g^2``;
    ``p <- p - eta g / (sqrt(v) + eps)``. ``**options`` as :class:`Optimizer` documents."""

    name = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-8, **options):
        super().__init__(learning_rate, **options)
        self.rho = check_real("rho", rho, minimum=0.0, maximum=1.0, include_max=False)
        self.epsilon = check_positive("epsilon", epsilon)

    def init_state(self, p):
        return {**super().init_state(p), "v": np.zeros_like(p)}

    def update(self, p, g, state, lr):
        v, tmp = state["v"], state["scratch"]
        v *= self.rho  # v <- rho v + (1 - rho) g^2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.rho
        v += tmp
        _divided_step(p, g, v, tmp, self.epsilon, lr)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer, 2011), as PyTorch's ``Adagrad``.

    ``G <- G + g^2`` (the ``accumulator``, starting at ``initial_accumulator_value``);
    ``p <- p - eta g / (sqrt(G) + eps)``. Each weight's step shrinks with the gradients it
    has seen: frequent features learn slowly, rare ones fast. (Keras puts ``eps`` inside the
    square root and defaults to ``learning_rate=0.001``, ``initial_accumulator_value=0.1``,
    ``epsilon=1e-7``; the defaults here are PyTorch's.) ``**options`` as :class:`Optimizer`.
    """

    name = "adagrad"

    def __init__(self, learning_rate=0.01, initial_accumulator_value=0.0, epsilon=1e-10, **options):
        super().__init__(learning_rate, **options)
        self.initial_accumulator_value = check_real(
            "initial_accumulator_value", initial_accumulator_value, minimum=0.0
        )
        self.epsilon = check_positive("epsilon", epsilon)

    def init_state(self, p):
        accumulator = np.full_like(p, self.initial_accumulator_value)
        return {**super().init_state(p), "accumulator": accumulator}

    def update(self, p, g, state, lr):
        G, tmp = state["accumulator"], state["scratch"]
        np.multiply(g, g, out=tmp)  # G <- G + g^2
        G += tmp
        _divided_step(p, g, G, tmp, self.epsilon, lr)

    def get_config(self):
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }


def _divided_step(p, g, v, tmp, epsilon, lr) -> None:
    """``p <- p - eta g / (sqrt(v) + eps)``, through ``tmp``: RMSprop's step (``v`` its
    average of ``g^2``) and Adagrad's (``v`` its sum of ``g^2``)."""
    np.sqrt(v, out=tmp)
    tmp += epsilon
    np.divide(g, tmp, out=tmp)
    tmp *= lr
    p -= tmp


OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, Adam, AdamW, RMSprop, Adagrad)
}


def get_optimizer(optimizer, learning_rate=None) -> Optimizer:
    """An Optimizer from a name (``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``,
    ``"adagrad"``), class or instance."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    kwargs = {} if learning_rate is None else {"learning_rate": learning_rate}
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        return optimizer(**kwargs)
    if isinstance(optimizer, str):
        key = optimizer.lower()
        if key not in OPTIMIZERS:
            raise unknown_name_error("optimizer", optimizer, OPTIMIZERS)
        return OPTIMIZERS[key](**kwargs)
    raise InputTypeError(
        f"optimizer must be a name or an Optimizer, got {type(optimizer).__name__}"
    )
