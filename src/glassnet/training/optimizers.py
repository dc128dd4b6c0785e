"""Optimizers: rules that move every parameter against its gradient, in place.

An optimizer never sees layers. It receives the model's *slots*, ``(name, param, grad)``
triples from the one params/grads mechanism, and keeps its per-parameter state (velocities,
moment estimates) under the same names, which is how that state is saved in the model file
and how a second call to ``fit`` — or a hand-called ``optimizer.step(model.slots())`` —
continues where the last step stopped.

Updates are written in place with reused scratch buffers: no new arrays per step. When the
model's parameters live in one packed buffer, :mod:`glassnet.fast.parameters` lets one update
cover them all (the per-name state then being views into one vector per kind of state).
"""

from __future__ import annotations

import math

import numpy as np

from glassnet._validation import check_positive, check_real, unknown_name_error
from glassnet.errors import InputTypeError, InputValueError
from glassnet.fast.parameters import parameter_groups


class Optimizer:
    """Base class. Subclasses implement ``init_state(p)`` and ``update(p, g, state)``.

    Parameters
    ----------
    learning_rate : float
        The step size ``eta`` (> 0).
    weight_decay : float
        L2 penalty ``lambda``: the gradient used is ``g + lambda * p`` (>= 0).

    Attributes
    ----------
    state : dict[str, dict[str, ndarray]]
        Per parameter name (``"layers.0.W"``), the optimizer's arrays for it (``"m"``,
        ``"v"``, ``"velocity"``; ``"scratch"`` and ``"decayed"`` are work space, not state).
    iterations : int
        Steps taken so far (Adam's ``t``).
    """

    name = "optimizer"
    #: work-space arrays kept between steps to avoid allocating, but not part of the state
    scratch_keys = ("scratch", "decayed")

    def __init__(self, learning_rate: float = 0.01, *, weight_decay: float = 0.0) -> None:
        self.learning_rate = check_positive("learning_rate", learning_rate)
        self.weight_decay = check_real("weight_decay", weight_decay, minimum=0.0)
        self.iterations = 0
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self._packed = None  # see glassnet.fast.parameters.parameter_groups

    def step(self, slots) -> None:
        """Apply one update to every ``(name, param, grad)`` in ``slots``, in place."""
        self.iterations += 1
        for p, g, state in parameter_groups(self, slots):
            if self.weight_decay:
                g = self._decayed(p, g, state)
            self.update(p, g, state)
            if self.iterations % 100 == 0:
                _flush_tiny(state)

    @property
    def current_learning_rate(self) -> float:
        """The learning rate the next step will use (what ``History`` records each epoch)."""
        return float(self.learning_rate)

    def state_for(self, name, p) -> dict[str, np.ndarray]:
        """The state kept for parameter ``name``, made on first use (zeros, ``p``'s shape)."""
        state = self.state.get(name)
        if state is None or state["scratch"].shape != p.shape:
            state = self.state[name] = self.init_state(p)
        return state

    def _decayed(self, p, g, state) -> np.ndarray:
        """``g + lambda p``, written into a work-space array kept in ``state``."""
        decayed = state.get("decayed")
        if decayed is None or decayed.shape != g.shape:
            decayed = state["decayed"] = np.empty_like(g)
        np.multiply(p, self.weight_decay, out=decayed)
        decayed += g
        return decayed

    def init_state(self, p) -> dict[str, np.ndarray]:
        return {"scratch": np.zeros_like(p)}

    def update(self, p, g, state) -> None:
        raise NotImplementedError

    def __getstate__(self):
        # a copy starts without the packed-buffer cache; it rebuilds it on its first step
        return {**self.__dict__, "_packed": None}

    # -- the model file -------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {"learning_rate": self.learning_rate, "weight_decay": self.weight_decay}

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Persistent state as flat ``{"<param name>/<key>": array}`` (work space excluded)."""
        return {
            f"{name}/{key}": arr
            for name, st in self.state.items()
            for key, arr in st.items()
            if key not in self.scratch_keys
        }

    def load_state_arrays(self, arrays: dict[str, np.ndarray], iterations: int) -> None:
        """Replace the state with ``arrays`` (the form :meth:`state_arrays` returns)."""
        self.iterations = int(iterations)
        self.state, self._packed = {}, None
        for flat, arr in arrays.items():
            name, key = flat.rsplit("/", 1)
            st = self.state.setdefault(name, {"scratch": np.zeros_like(arr)})
            st[key] = np.array(arr)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _flush_tiny(state) -> None:
    """Set moment estimates below 1e-30 to exactly zero.

    A weight whose gradient stays 0 (a dead ReLU unit) has its momentum or moments decay
    geometrically into subnormal numbers — and then stay there, since 0.9 times the smallest
    subnormal rounds back to it — and subnormal arithmetic is many times slower on x86.
    Their effect on a step is below 1e-22 times the learning rate: zeroing them changes
    nothing measurable and keeps every step on the fast path.
    """
    for key, arr in state.items():
        if key not in Optimizer.scratch_keys:
            np.copyto(arr, 0, where=np.abs(arr) < 1e-30)


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum.

    Plain:      ``p <- p - eta g``
    Momentum:   ``v <- mu v + g``;  ``p <- p - eta v``
    Nesterov:   ``v <- mu v + g``;  ``p <- p - eta (g + mu v)``

    (The velocity accumulates gradients and the step is ``eta v``; the same convention as
    PyTorch. Keras folds ``eta`` into ``v``; the two agree while ``eta`` is constant.)
    """

    name = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, *, weight_decay=0.0):
        super().__init__(learning_rate, weight_decay=weight_decay)
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

    def update(self, p, g, state):
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
            step *= self.learning_rate
        else:
            np.multiply(g, self.learning_rate, out=step)  # step = eta g
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
    ``weight_decay`` adds ``lambda p`` to the gradient (L2, not AdamW's decoupled decay).
    """

    name = "adam"

    def __init__(
        self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, *, weight_decay=0.0
    ):
        super().__init__(learning_rate, weight_decay=weight_decay)
        self.beta1 = check_real("beta1", beta1, minimum=0.0, maximum=1.0, include_max=False)
        self.beta2 = check_real("beta2", beta2, minimum=0.0, maximum=1.0, include_max=False)
        self.epsilon = check_positive("epsilon", epsilon)

    def init_state(self, p):
        return {**super().init_state(p), "m": np.zeros_like(p), "v": np.zeros_like(p)}

    def update(self, p, g, state):
        t = self.iterations
        m, v, tmp = state["m"], state["v"], state["scratch"]
        m *= self.beta1  # m <- b1 m + (1 - b1) g
        np.multiply(g, 1 - self.beta1, out=tmp)
        m += tmp
        v *= self.beta2  # v <- b2 v + (1 - b2) g^2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.beta2
        v += tmp
        # Python floats, not NumPy float64 scalars: a float64 scalar would make every in-place
        # pass below run through float64 casting buffers (7x slower on float32 parameters)
        correction2 = math.sqrt(1.0 - self.beta2**t)
        eta_t = self.learning_rate * correction2 / (1.0 - self.beta1**t)
        np.sqrt(v, out=tmp)  # p <- p - eta_t m / (sqrt(v) + eps_t)
        tmp += self.epsilon * correction2
        np.divide(m, tmp, out=tmp)
        tmp *= eta_t
        p -= tmp

    def get_config(self):
        return {
            **super().get_config(),
            "beta1": self.beta1,
            "beta2": self.beta2,
            "epsilon": self.epsilon,
        }


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012): ``v <- rho v + (1 - rho) g^2``;
    ``p <- p - eta g / (sqrt(v) + eps)``."""

    name = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-8, *, weight_decay=0.0):
        super().__init__(learning_rate, weight_decay=weight_decay)
        self.rho = check_real("rho", rho, minimum=0.0, maximum=1.0, include_max=False)
        self.epsilon = check_positive("epsilon", epsilon)

    def init_state(self, p):
        return {**super().init_state(p), "v": np.zeros_like(p)}

    def update(self, p, g, state):
        v, tmp = state["v"], state["scratch"]
        v *= self.rho  # v <- rho v + (1 - rho) g^2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.rho
        v += tmp
        np.sqrt(v, out=tmp)  # p <- p - eta g / (sqrt(v) + eps)
        tmp += self.epsilon
        np.divide(g, tmp, out=tmp)
        tmp *= self.learning_rate
        p -= tmp

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (SGD, Adam, RMSprop)}


def get_optimizer(optimizer, learning_rate=None) -> Optimizer:
    """An Optimizer from a name (``"sgd"``, ``"adam"``, ``"rmsprop"``), class or instance."""
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
