"""Learning-rate schedules: the step size as a function of the step, and the two callbacks
that change it between epochs.

A schedule is passed where a number would be::

    gn.Adam(learning_rate=gn.CosineDecay(1e-3, decay_steps=1000))

and the optimizer asks it, before every step, for that step's rate: ``schedule(step)`` with
``step`` the number of steps taken before this one (0 for the first; Keras's convention).
Every schedule here counts *optimizer steps* (batches), not epochs: with 50 batches an
epoch, ``StepDecay(0.1, step_size=500)`` divides the rate by ten every 10 epochs. To change
the rate per epoch from the epoch's number or from a monitored value, use the callbacks
:class:`LearningRateScheduler` and :class:`ReduceLROnPlateau` with a constant rate.

Schedules compute in Python floats (``math``), so the optimizer's update stays in the
parameters' dtype (see :class:`glassnet.training.optimizers.Adam`), and they save in the
model file through ``get_config``/:func:`schedule_from_config`.
"""

from __future__ import annotations

import bisect
import math

from glassnet._validation import check_int, check_positive, check_real
from glassnet.errors import InputTypeError, InputValueError
from glassnet.training.callbacks import Callback, _check_mode, _sign, monitored_key


class LearningRateSchedule:
    """Base class: ``schedule(step) -> float``, the rate of the step after ``step`` steps.

    Subclasses implement ``rate(step)`` (``step`` a checked int >= 0) and name their
    constructor's arguments in ``config_keys``; ``from_config`` rebuilds from ``get_config``.
    """

    def __call__(self, step) -> float:
        if type(step) is not int or step < 0:  # the optimizer's int passes at once
            step = check_int("step", step, minimum=0)
        return self.rate(step)

    def rate(self, step: int) -> float:
        raise NotImplementedError

    #: the constructor's arguments, which are also the attributes that hold them
    config_keys: tuple[str, ...] = ()

    def get_config(self) -> dict:
        """The constructor's arguments, JSON-safe: ``cls(**schedule.get_config())``."""
        return {k: getattr(self, k) for k in self.config_keys}

    @classmethod
    def from_config(cls, config: dict) -> LearningRateSchedule:
        return cls(**config)

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class StepDecay(LearningRateSchedule):
    """``eta_t = eta_0 * gamma ** floor(t / step_size)``: PyTorch's ``StepLR``, counted in
    optimizer steps (PyTorch counts calls of ``scheduler.step()``, usually epochs).

    Parameters
    ----------
    initial_learning_rate : float
        ``eta_0`` (> 0).
    step_size : int
        Steps between two decays (>= 1).
    gamma : float, default 0.1
        The factor of each decay (> 0).
    """

    config_keys = ("initial_learning_rate", "step_size", "gamma")

    def __init__(self, initial_learning_rate, step_size, gamma=0.1) -> None:
        self.initial_learning_rate = check_positive("initial_learning_rate", initial_learning_rate)
        self.step_size = check_int("step_size", step_size, minimum=1)
        self.gamma = check_positive("gamma", gamma)

    def rate(self, step):
        return self.initial_learning_rate * self.gamma ** (step // self.step_size)


class ExponentialDecay(LearningRateSchedule):
    """``eta_t = eta_0 * decay_rate ** (t / decay_steps)`` (Keras ``ExponentialDecay``);
    with ``staircase=True`` the exponent is ``floor(t / decay_steps)``, a step function.

    Parameters
    ----------
    initial_learning_rate : float
        ``eta_0`` (> 0).
    decay_steps : int
        Steps over which the rate is multiplied by ``decay_rate`` once (>= 1).
    decay_rate : float
        The factor per ``decay_steps`` steps (> 0).
    staircase : bool, default False
    """

    config_keys = ("initial_learning_rate", "decay_steps", "decay_rate", "staircase")

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False) -> None:
        self.initial_learning_rate = check_positive("initial_learning_rate", initial_learning_rate)
        self.decay_steps = check_int("decay_steps", decay_steps, minimum=1)
        self.decay_rate = check_positive("decay_rate", decay_rate)
        if not isinstance(staircase, bool):
            raise InputTypeError(f"staircase must be True or False, got {staircase!r}")
        self.staircase = staircase

    def rate(self, step):
        p = step // self.decay_steps if self.staircase else step / self.decay_steps
        return self.initial_learning_rate * self.decay_rate**p


class CosineDecay(LearningRateSchedule):
    """Cosine decay with an optional linear warm-up (Keras 3 ``CosineDecay``).

    Without warm-up: ``eta_t = eta_0 * ((1 - alpha) * c + alpha)``, with
    ``c = (1 + cos(pi * min(t, T) / T)) / 2`` and ``T = decay_steps``: from ``eta_0`` down to
    ``alpha * eta_0`` at step ``T``, and constant after. (PyTorch's ``CosineAnnealingLR``
    with ``T_max = T`` and ``eta_min = alpha * eta_0``, up to rounding, for ``t <= T``.)

    With ``warmup_target`` and ``warmup_steps = W``: the rate rises linearly from
    ``initial_learning_rate`` to ``warmup_target`` over the first ``W`` steps,
    ``eta_t = eta_0 + (target - eta_0) * t / W``, then decays by the cosine above from
    ``warmup_target`` over ``decay_steps`` more steps (``t - W`` in place of ``t``).

    Parameters
    ----------
    initial_learning_rate : float
        > 0; may be 0 with a warm-up (which then starts from 0, as is common).
    decay_steps : int
        ``T`` (>= 1).
    alpha : float, default 0.0
        The final rate as a fraction of the rate the decay starts from (in [0, 1]).
    warmup_target : float or None
        The rate the warm-up reaches (> 0); None for no warm-up.
    warmup_steps : int, default 0
        ``W`` (>= 1 with a ``warmup_target``, else 0).
    """

    config_keys = ("initial_learning_rate", "decay_steps", "alpha", "warmup_target", "warmup_steps")

    def __init__(
        self, initial_learning_rate, decay_steps, alpha=0.0, warmup_target=None, warmup_steps=0
    ) -> None:
        self.warmup_target = (
            None if warmup_target is None else check_positive("warmup_target", warmup_target)
        )
        self.initial_learning_rate = check_real(
            "initial_learning_rate",
            initial_learning_rate,
            minimum=0.0,
            include_min=self.warmup_target is not None,
        )
        self.decay_steps = check_int("decay_steps", decay_steps, minimum=1)
        self.alpha = check_real("alpha", alpha, minimum=0.0, maximum=1.0)
        self.warmup_steps = check_int("warmup_steps", warmup_steps, minimum=0)
        if (self.warmup_target is None) != (self.warmup_steps == 0):
            raise InputValueError(
                f"warmup_target and warmup_steps go together: got warmup_target="
                f"{warmup_target!r} and warmup_steps={warmup_steps!r}"
            )

    def rate(self, step):
        W, T = self.warmup_steps, self.decay_steps
        start = self.initial_learning_rate
        if self.warmup_target is not None:
            if step < W:
                return (self.warmup_target - start) * (step / W) + start
            step, start = step - W, self.warmup_target
        cosine = 0.5 * (1.0 + math.cos(math.pi * (min(step, T) / T)))
        return start * ((1.0 - self.alpha) * cosine + self.alpha)


class OneCycle(LearningRateSchedule):
    """The one-cycle policy (Smith & Topin, 2017), as PyTorch's ``OneCycleLR`` with cosine
    annealing and two phases.

    The rate rises from ``max_lr / div_factor`` to ``max_lr`` over the steps 0 to
    ``s = pct_start * total_steps - 1``, then falls to ``max_lr / div_factor /
    final_div_factor`` at step ``total_steps - 1``; within a phase from ``a`` to ``b``,
    ``eta = b + (a - b) * (1 + cos(pi * f)) / 2``, ``f`` the fraction of the phase done.
    After ``total_steps`` steps the rate stays at its final value (PyTorch raises an
    error). PyTorch also cycles the momentum by default; this schedule does not.

    Parameters
    ----------
    max_lr : float
        The peak rate (> 0).
    total_steps : int
        The steps of the cycle (>= 2).
    pct_start : float, default 0.3
        The share of the cycle spent rising (in (0, 1)).
    div_factor : float, default 25.0
        The first rate is ``max_lr / div_factor`` (> 0).
    final_div_factor : float, default 1e4
        The last rate is the first one divided by this (> 0).
    """

    config_keys = ("max_lr", "total_steps", "pct_start", "div_factor", "final_div_factor")

    def __init__(
        self, max_lr, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4
    ) -> None:
        self.max_lr = check_positive("max_lr", max_lr)
        self.total_steps = check_int("total_steps", total_steps, minimum=2)
        self.pct_start = check_real(
            "pct_start", pct_start, minimum=0.0, maximum=1.0, include_min=False, include_max=False
        )
        self.div_factor = check_positive("div_factor", div_factor)
        self.final_div_factor = check_positive("final_div_factor", final_div_factor)
        self._peak = self.pct_start * self.total_steps - 1.0  # PyTorch's first phase end
        if self._peak == 0:
            raise InputValueError(
                f"pct_start * total_steps must not be 1 (a rise of no steps), got "
                f"{self.pct_start!r} * {self.total_steps}"
            )

    def rate(self, step):
        initial = self.max_lr / self.div_factor
        step = min(step, self.total_steps - 1)
        if step <= self._peak:
            a, b, f = initial, self.max_lr, step / self._peak
        else:
            a, b = self.max_lr, initial / self.final_div_factor
            f = (step - self._peak) / (self.total_steps - 1 - self._peak)
        return b + (a - b) / 2.0 * (math.cos(math.pi * f) + 1.0)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``t <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < t <= boundaries[i]``, ``values[-1]`` after the last boundary
    (Keras ``PiecewiseConstantDecay``).

    Parameters
    ----------
    boundaries : sequence of int
        Strictly increasing steps (>= 0).
    values : sequence of float
        One more rate than boundaries, each > 0.
    """

    config_keys = ("boundaries", "values")

    def __init__(self, boundaries, values) -> None:
        self.boundaries = [check_int("boundaries", b, minimum=0) for b in boundaries]
        self.values = [check_positive("values", v) for v in values]
        if any(b >= c for b, c in zip(self.boundaries, self.boundaries[1:], strict=False)):
            raise InputValueError(f"boundaries must increase strictly, got {self.boundaries}")
        if len(self.values) != len(self.boundaries) + 1:
            raise InputValueError(
                f"values must hold one rate more than boundaries ({len(self.boundaries)}), "
                f"got {len(self.values)}"
            )

    def rate(self, step):
        return self.values[bisect.bisect_left(self.boundaries, step)]


SCHEDULES: dict[str, type[LearningRateSchedule]] = {
    cls.__name__: cls
    for cls in (StepDecay, ExponentialDecay, CosineDecay, OneCycle, PiecewiseConstantDecay)
}


def schedule_to_config(schedule: LearningRateSchedule) -> dict:
    """``{"class": "CosineDecay", "config": {...}}``: how the model file stores a schedule."""
    return {"class": type(schedule).__name__, "config": schedule.get_config()}


def schedule_from_config(entry: dict) -> LearningRateSchedule:
    """The schedule :func:`schedule_to_config` described (glassnet's own classes only)."""
    cls = SCHEDULES.get(entry["class"])
    if cls is None:
        raise InputValueError(
            f"unknown learning-rate schedule {entry['class']!r}; valid names are: "
            f"{', '.join(sorted(SCHEDULES))}"
        )
    return cls.from_config(entry["config"])


# -- callbacks that set a constant learning rate between epochs ---------------------------------
def _optimizer_with_constant_rate(callback):
    optimizer = callback.model.optimizer_
    if isinstance(optimizer.learning_rate, LearningRateSchedule):
        raise InputValueError(
            f"{type(callback).__name__} sets the learning rate between epochs, but the "
            f"optimizer's learning_rate is {optimizer.learning_rate!r}: use one or the other"
        )
    return optimizer


class LearningRateScheduler(Callback):
    """Before each epoch, set the rate to ``schedule(epoch, lr)`` (Keras
    ``LearningRateScheduler``): ``epoch`` counts from 0 in each ``fit``, ``lr`` is the rate
    so far. E.g. ``lambda epoch, lr: lr if epoch < 10 else lr * 0.9``. The rate of every
    epoch is in ``history.learning_rate``.
    """

    def __init__(self, schedule, verbose=0) -> None:
        if not callable(schedule):
            raise InputTypeError(f"schedule must be a function (epoch, lr) -> lr, got {schedule!r}")
        self.schedule = schedule
        self.verbose = check_int("verbose", verbose, minimum=0, maximum=1)

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = _optimizer_with_constant_rate(self)
        lr = optimizer.learning_rate
        new = self.schedule(epoch, lr)
        try:
            new = check_positive("learning_rate", new)
        except (InputTypeError, InputValueError) as exc:
            raise type(exc)(
                f"LearningRateScheduler: schedule({epoch}, {lr!r}) gave {exc}"
            ) from None
        optimizer.learning_rate = new
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {new:g}.")


class ReduceLROnPlateau(Callback):
    """Multiply the rate by ``factor`` when ``monitor`` has not improved by ``min_delta`` for
    ``patience`` epochs (Keras ``ReduceLROnPlateau``, same defaults).

    After a reduction ``wait`` starts again from 0 and, for ``cooldown`` epochs, no epoch
    counts as one without improvement. The rate never goes below ``min_lr``. ``monitor``
    and ``mode`` as in :class:`glassnet.EarlyStopping` (``"val_loss"`` falls back to
    ``"loss"`` without validation data; a name fit does not log is an error).
    """

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
    ) -> None:
        self.monitor = monitor
        self.factor = check_real(
            "factor", factor, minimum=0.0, maximum=1.0, include_min=False, include_max=False
        )
        self.patience = check_int("patience", patience, minimum=0)
        self.verbose = check_int("verbose", verbose, minimum=0, maximum=1)
        self.mode = _check_mode(mode)
        self.min_delta = check_real("min_delta", min_delta, minimum=0.0)
        self.cooldown = check_int("cooldown", cooldown, minimum=0)
        self.min_lr = check_real("min_lr", min_lr, minimum=0.0)

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooldown_counter = math.inf, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        key = monitored_key(self, logs)
        value = _sign(key, self.mode if key == self.monitor else "auto") * logs[key]
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if value < self.best - self.min_delta:
            self.best, self.wait = value, 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience:
                self._reduce(epoch)

    def _reduce(self, epoch):
        optimizer = _optimizer_with_constant_rate(self)
        old = optimizer.learning_rate
        if old > self.min_lr:
            optimizer.learning_rate = max(old * self.factor, self.min_lr)
            self.cooldown_counter, self.wait = self.cooldown, 0
            if self.verbose:
                print(
                    f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                    f"{optimizer.learning_rate:g}."
                )
