"""The Optimizer base class: one step of any rule, its per-name state, its config.

The rules themselves (SGD, Adam, AdamW, RMSprop, Adagrad) are in
:mod:`glassnet.training.optimizers`.

An optimizer never sees layers. It receives the model's *slots*, ``(name, param, grad)``
triples from the one params/grads mechanism, and keeps its per-parameter state (velocities,
moment estimates) under the same names, which is how that state is saved in the model file
and how a second call to ``fit`` — or a hand-called ``optimizer.step(model.slots())`` —
continues where the last step stopped.

One step, for every parameter (:meth:`Optimizer.step`)::

    eta = learning_rate, or learning_rate(step) for a schedule    (glassnet.training.schedules)
    g   = the gradient, clipped (clipnorm, global_clipnorm or clipvalue; never in place)
    g   = g + lambda p           L2 weight decay (SGD, Adam, RMSprop, Adagrad)
    p   = p - eta lambda p       or decoupled weight decay (AdamW), before the rule
    p   = rule(p, g, state, eta) the optimizer's own update

Weight decay leaves out the biases and normalisation shifts and scales (keys ``b``,
``beta``, ``gamma``) unless told otherwise, as PyTorch and Keras practice does and as
scikit-learn's MLP penalises only its coefficients.

Updates are written in place with reused scratch buffers: no new arrays per step. When the
model's parameters live in one packed buffer, :mod:`glassnet.fast.parameters` lets one update
cover them all (the per-name state then being views into one vector per kind of state).
"""

from __future__ import annotations

import numpy as np

from glassnet import fast
from glassnet._validation import check_positive, check_real
from glassnet.fast.parameters import parameter_groups
from glassnet.training import clipping
from glassnet.training.schedules import (
    LearningRateSchedule,
    schedule_from_config,
    schedule_to_config,
)
from glassnet.training.weight_decay import (
    NOT_DECAYED,
    check_exclusions,
    decay_weights,
    decayed_gradient,
    is_decayed,
)


class Optimizer:
    """Base class. Subclasses implement ``init_state(p)`` and ``update(p, g, state, lr)``.

    Parameters
    ----------
    learning_rate : float or LearningRateSchedule
        The step size ``eta`` (> 0), or a schedule giving it for each step.
    weight_decay : float
        ``lambda`` (>= 0): L2, the gradient used is ``g + lambda * p`` (AdamW: decoupled).
    exclude_from_weight_decay : sequence of str, default ("b", "beta", "gamma")
        Parameters weight decay leaves alone: by key (``"b"`` is every layer's bias) or by
        full name (``"layers.0.W"``). ``()`` decays every parameter.
    clipnorm, global_clipnorm, clipvalue : float or None
        At most one (> 0): scale each parameter's gradient down to L2 norm ``clipnorm``, or
        all gradients together to global norm ``global_clipnorm``, or clip each element to
        ``[-clipvalue, clipvalue]`` (Keras; see :mod:`glassnet.training.clipping`).

    Attributes
    ----------
    state : dict[str, dict[str, ndarray]]
        Per parameter name (``"layers.0.W"``), the optimizer's arrays for it (``"m"``,
        ``"v"``, ``"velocity"``; ``"scratch"``, ``"decayed"``, ``"clipped"`` are work space).
    iterations : int
        Steps taken so far (Adam's ``t``).
    """

    name = "optimizer"
    #: work-space arrays kept between steps to avoid allocating, but not part of the state
    scratch_keys = ("scratch", "decayed", "clipped")
    #: weight decay applied to the weights (AdamW), not added to the gradient
    decoupled = False

    def __init__(
        self,
        learning_rate=0.01,
        *,
        weight_decay=0.0,
        exclude_from_weight_decay=NOT_DECAYED,
        clipnorm=None,
        global_clipnorm=None,
        clipvalue=None,
    ) -> None:
        if not isinstance(learning_rate, LearningRateSchedule):
            learning_rate = check_positive("learning_rate", learning_rate)
        self.learning_rate = learning_rate
        self.weight_decay = check_real("weight_decay", weight_decay, minimum=0.0)
        self.exclude_from_weight_decay = check_exclusions(exclude_from_weight_decay)
        self.clipnorm, self.global_clipnorm, self.clipvalue = clipping.check_options(
            clipnorm, global_clipnorm, clipvalue
        )
        self.iterations = 0
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self._packed = None  # see glassnet.fast.parameters.parameter_groups

    def step(self, slots) -> None:
        """Apply one update to every ``(name, param, grad)`` in ``slots``, in place."""
        lr = self.current_learning_rate
        self.iterations += 1
        scale = clipping.norm_scale(self, slots)
        kernels = fast.compiled_module("updates")
        for group in parameter_groups(self, slots):
            g = clipping.clipped(self, group, scale)
            # one compiled pass where there is a kernel for the rule (glassnet.fast.compiled),
            # else the NumPy passes: the same numbers
            if not (kernels and kernels.update(self, group, g, lr)):
                self._step_group(group, g, lr)
            if self.iterations % 100 == 0:
                _flush_tiny(group.state)

    def _step_group(self, group, g, lr) -> None:
        """Weight decay, then the rule's own update, on one group (NumPy passes)."""
        p, state = group.p, group.state
        if self.weight_decay and group.decay is not False:
            if self.decoupled:
                decay_weights(p, group.decay, lr * self.weight_decay, state["scratch"])
            else:
                g = decayed_gradient(p, g, group.decay, self.weight_decay, state)
        self.update(p, g, state, lr)

    @property
    def current_learning_rate(self) -> float:
        """The learning rate the next step will use: a Python float, so the update's
        arithmetic stays in the parameters' dtype."""
        return self.learning_rate_at(self.iterations)

    def learning_rate_at(self, step: int) -> float:
        """The rate of the step after ``step`` steps (``History`` records each epoch's
        first); the constant rate, whatever ``step``, without a schedule."""
        lr = self.learning_rate
        return float(lr(step) if isinstance(lr, LearningRateSchedule) else lr)

    def decays(self, name: str) -> bool:
        """Whether weight decay applies to the parameter ``name`` (``"layers.0.b"``)."""
        return is_decayed(name, self.exclude_from_weight_decay)

    def state_for(self, name, p) -> dict[str, np.ndarray]:
        """The state kept for parameter ``name``, made on first use (zeros, ``p``'s shape)."""
        state = self.state.get(name)
        if state is None or state["scratch"].shape != p.shape:
            state = self.state[name] = self.init_state(p)
        return state

    def init_state(self, p) -> dict[str, np.ndarray]:
        return {"scratch": np.zeros_like(p)}

    def update(self, p, g, state, lr) -> None:
        raise NotImplementedError

    def __getstate__(self):
        # a copy starts without the packed-buffer cache; it rebuilds it on its first step
        return {**self.__dict__, "_packed": None}

    # -- the model file -------------------------------------------------------------------------
    def get_config(self) -> dict:
        """The constructor's arguments, JSON-safe (a schedule as ``{"class", "config"}``)."""
        lr = self.learning_rate
        return {
            "learning_rate": schedule_to_config(lr) if isinstance(lr, LearningRateSchedule) else lr,
            "weight_decay": self.weight_decay,
            "exclude_from_weight_decay": list(self.exclude_from_weight_decay),
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
        }

    @classmethod
    def from_config(cls, config: dict) -> Optimizer:
        """The optimizer :meth:`get_config` described. A config without
        ``exclude_from_weight_decay`` comes from a file written before glassnet left biases
        out of weight decay: it decays every parameter, as the training it continues did."""
        config = {"exclude_from_weight_decay": (), **config}
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedule_from_config(config["learning_rate"])
        return cls(**config)

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
        # the clipping and exclusion options only when they are not their defaults
        quiet = {"exclude_from_weight_decay": list(NOT_DECAYED)} | dict.fromkeys(clipping.OPTIONS)
        config = {**self.get_config(), "learning_rate": self.learning_rate}
        shown = [(k, v) for k, v in config.items() if k not in quiet or v != quiet[k]]
        args = ", ".join(f"{k}={v!r}" for k, v in shown)
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
