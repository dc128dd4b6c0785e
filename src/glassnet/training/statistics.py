"""Training statistics: what every layer did in each epoch, recorded while ``fit`` trains.

``fit`` adds a :class:`TrainingStatistics` callback of its own (unless ``callbacks`` holds
one); it writes into ``model.history.statistics``, a dict of lists saved in the model file
beside the loss curves (as ``"statistics/<key>"``). One value per recorded epoch::

    epoch                         the History epoch (1-based) the values of that position
                                  belong to; a run cut short (diverged, Ctrl-C) adds its
                                  unfinished epoch, one past the History's last
    loss_before                   the loss before this fit's first step (on up to 64
                                  training rows: what fit's divergence guard compares with)
    layers.<i>.<p>/grad_norm      ||dL/dp||_2, the gradient of parameter p (W, b, ...)
    layers.<i>.<p>/update_ratio   ||p_after - p_before|| / ||p_after||: the step's size
                                  relative to the weight's (healthy: about 1e-3)
    layers.<i>/activation_mean    mean of a = g(z), the layer's output
    layers.<i>/activation_std     standard deviation of a
    layers.<i>/dead               ReLU: share of units (columns; Conv2D: channels) whose z
                                  was never > 0 on any row of the epoch's batches
    layers.<i>/saturated          sigmoid/tanh: share of the values of a within
                                  SATURATION_MARGIN of the activation's range from a flat end

and, once per layer (not per epoch), ``layers.<i>/histogram_first`` and
``layers.<i>/histogram_last`` (counts of a in HISTOGRAM_BINS equal bins) with their bin
edges ``..._edges``: the first epoch of the History and the last one trained.

A long run keeps at most MAX_EPOCHS epochs of each statistic (the ``epoch`` list says
which: every epoch recently, fewer further back).

Cost. The dead-unit share is over the epoch's data: every batch, each ReLU layer's ``z``
is reduced to one maximum per unit (until every unit has fired). The rest is measured on
SAMPLED_BATCHES batches per epoch, evenly spaced (all of them if there are fewer): their
gradient norms, the update of their optimizer step (the parameters are copied before the
step) and their activations. ``benchmarks/statistics_overhead.py`` measures what that
costs an epoch. The losses on training and validation data are the History's ``loss`` and
``val_loss``.
"""

from __future__ import annotations

import math

import numpy as np

from glassnet._validation import check_bool, check_int
from glassnet.nn.activations import Activation, ReLU
from glassnet.training.callbacks import Callback

#: Batches per epoch whose gradients, updates and activations are measured. Eight evenly
#: spaced batches give a stable mean of each value (a noisy batch moves it by an eighth)
#: while copying the parameters only eight times an epoch: on an MNIST epoch of 1,875
#: batches the sampled work is well under 1% of the epoch.
SAMPLED_BATCHES = 8
#: A sigmoid or tanh value is saturated when it lies within this share of the function's
#: range from either flat end (sigmoid: below 0.01 or above 0.99; tanh: beyond +-0.98).
#: There the slope is under 4% of its largest value: gradients through the unit all but stop.
SATURATION_MARGIN = 0.01
#: Bins of the stored activation histograms: enough to show a shape (a spike at zero,
#: a pile-up at both ends) while each histogram stays a short list in the model file.
HISTOGRAM_BINS = 30
#: Values of a kept for a histogram (every k-th of the batch's): a picture, not a census.
HISTOGRAM_VALUES = 10_000
#: Statistics keys at most: the model file's History holds up to 1,000 lists, curves
#: included; layers beyond the budget are not recorded (eighty-odd Dense layers fit).
MAX_KEYS = 900
#: Epochs kept per statistic: when a run's record would hold more, every other one of the
#: epochs recorded so far is dropped (the first and the latest kept): a long run keeps
#: between 1,000 and 2,000 epochs, its recent ones densely, its early ones sparsely. It
#: bounds the model file: 2,000 epochs of a 10-layer network's statistics are about 2 MB.
MAX_EPOCHS = 2_000
#: the largest float: a norm that overflowed (a diverging step) is stored as this, finite
LARGEST = float(np.finfo(np.float64).max)

_RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}


class TrainingStatistics(Callback):
    """Record the per-layer statistics of the module docstring into ``model.history``.

    Parameters
    ----------
    sample_batches : int
        Batches per epoch measured (see :data:`SAMPLED_BATCHES`).
    enabled : bool
        False records nothing (``fit(callbacks=[TrainingStatistics(enabled=False)])``).
    """

    def __init__(self, *, sample_batches: int = SAMPLED_BATCHES, enabled: bool = True) -> None:
        self.sample_batches = check_int("sample_batches", sample_batches, minimum=1)
        self.enabled = check_bool("enabled", enabled)
        self.batches_per_epoch = None  # told by fit (see recording)
        self._epoch = None

    # -- the hooks ------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        if not self.enabled:
            return
        self.watched = watched_layers(self.model)
        self.slots = self.model.slots()
        self.store = self.model.history.__dict__.setdefault("statistics", {})
        self.loss_before = float((logs or {}).get("loss_before", math.nan))
        self._keys, self._has_first = None, False  # the per-epoch keys, once known

    def on_epoch_begin(self, epoch, logs=None):
        if not self.enabled:
            return
        self.sampled = sampled_batches(self.batches_per_epoch or 1, self.sample_batches)
        self._epoch = _Epoch(self.watched, self.slots)
        if 0 in self.sampled:
            self._epoch.snapshot()

    def on_batch_end(self, batch, logs=None):
        if self._epoch is None:
            return
        self._epoch.fired()
        if batch in self.sampled:
            self._epoch.measure(keep_values=not self._epoch.values)  # the first: a full batch
        if batch + 1 in self.sampled:
            self._epoch.snapshot()

    def on_epoch_end(self, epoch, logs=None):
        if self._epoch is not None:
            self._write(self.model.history.epochs)

    def on_train_end(self, logs=None):
        if self._epoch is not None:  # an epoch cut short: diverged, interrupted
            self._write(self.model.history.epochs + 1)
        if self.enabled and getattr(self, "values", None):
            self._histograms("last")

    # -- writing --------------------------------------------------------------------------------
    def _write(self, epoch_number: int) -> None:
        epoch, self._epoch = self._epoch, None
        if not epoch.measured:
            return
        values = {"epoch": float(epoch_number), "loss_before": self.loss_before}
        values.update(epoch.summary())
        if len(set(self.store) | set(values)) > MAX_KEYS:
            values = {k: v for k, v in values.items() if k in self.store or k == "epoch"}
        store = self.store
        n = len(store.get("epoch", []))
        if (
            self._keys is None
            or len(values) != len(self._keys)
            or not values.keys() <= store.keys()
        ):
            for key in values:  # a statistic new in this epoch: NaN for the epochs before
                store.setdefault(key, [math.nan] * n)
            self._keys = [k for k in store if "/histogram_" not in k]
        for key in self._keys:
            store[key].append(values.get(key, math.nan))  # NaN: not measured this epoch
        if len(store["epoch"]) > MAX_EPOCHS:
            for key in self._keys:  # every other epoch of the record, the latest kept
                store[key][:] = store[key][-1::-2][::-1]
        self.values = epoch.values or getattr(self, "values", {})
        if not self._has_first:
            self._has_first = any(k.endswith("/histogram_first") for k in store)
            if not self._has_first:
                self._histograms("first")
                self._has_first = True

    def _histograms(self, which: str) -> None:
        for name, a in self.values.items():
            counts, edges = histogram(a)
            if f"{name}/activation_mean" in self.store:
                self.store[f"{name}/histogram_{which}"] = counts
                self.store[f"{name}/histogram_{which}_edges"] = edges


class _Epoch:
    """One epoch's running sums: units that fired, and the sampled batches' measurements."""

    def __init__(self, watched, slots) -> None:
        self.watched, self.slots = watched, slots
        self.alive = {name: None for name, _, act in watched if isinstance(act, ReLU)}
        self.sums: dict[str, list[float]] = {}
        self.moments: dict[str, list[tuple[int, float, float]]] = {}
        self.before = None
        self.values: dict[str, np.ndarray] = {}
        self.measured = 0

    def snapshot(self) -> None:
        self.before = [p.copy() for _, p, _ in self.slots]

    def fired(self) -> None:
        """Every batch: which ReLU units had ``z > 0`` on some row (until all of them have)."""
        for name, layer, _ in self.watched:
            if name in self.alive:
                alive = self.alive[name]
                if alive is None or not alive.all():
                    z = layer.z
                    now = z.max(axis=tuple(k for k in range(z.ndim) if k != 1)) > 0
                    self.alive[name] = now if alive is None else alive | now

    def measure(self, keep_values: bool) -> None:
        """A sampled batch: gradient norms, the step's size, the activations' moments."""
        self.measured += 1
        for i, (name, p, g) in enumerate(self.slots):
            self._add(f"{name}/grad_norm", norm(g))
            if self.before is not None:
                size = norm(p)
                if size > 0:
                    self._add(f"{name}/update_ratio", norm(p - self.before[i]) / size)
        self.before = None
        with np.errstate(over="ignore", invalid="ignore"):
            for name, layer, act in self.watched:
                a = layer.a
                mean = float(np.add.reduce(a, axis=None, dtype=np.float64)) / a.size
                d = a - mean
                var = float(np.add.reduce(d * d, axis=None, dtype=np.float64)) / a.size
                self.moments.setdefault(name, []).append((a.size, mean, var))
                if act.name in _RANGES:
                    self._add(f"{name}/saturated", saturated_share(a, act.name))
                if keep_values:
                    step = max(1, a.size // HISTOGRAM_VALUES)
                    self.values[name] = np.array(a.ravel()[::step], dtype=np.float64)

    def _add(self, key: str, value: float) -> None:
        self.sums.setdefault(key, []).append(min(value, LARGEST))  # inf: the largest float

    def summary(self) -> dict[str, float]:
        """The epoch's values: means over the sampled batches, the dead share over all."""
        out = {key: math.fsum(v) / len(v) for key, v in self.sums.items()}
        for name, parts in self.moments.items():
            mean, std = combined_moments(parts)
            out[f"{name}/activation_mean"], out[f"{name}/activation_std"] = mean, std
        for name, alive in self.alive.items():
            if alive is not None:
                out[f"{name}/dead"] = float(1.0 - alive.mean())
        return {k: (v if math.isfinite(v) or math.isnan(v) else LARGEST) for k, v in out.items()}


def recording(callbacks: list, batches_per_epoch: int) -> list[TrainingStatistics]:
    """The recorder ``fit`` adds: a new :class:`TrainingStatistics`, unless ``callbacks``
    holds one already (then none; the caller's is told the epoch's batch count)."""
    given = [c for c in callbacks if isinstance(c, TrainingStatistics)]
    recorders = given or [TrainingStatistics()]
    for r in recorders:
        r.batches_per_epoch = batches_per_epoch
    return [] if given else recorders


def sampled_batches(count: int, k: int) -> set[int]:
    """``k`` batch indices evenly spaced over ``0 .. count - 1``, both ends included."""
    k = min(k, count)
    return {round(j * (count - 1) / max(k - 1, 1)) for j in range(k)}


def watched_layers(model) -> list[tuple[str, object, Activation]]:
    """``(name, layer, activation)`` of every layer that caches ``z`` and ``a``: a layer with
    its own activation (Dense, Conv2D) and an activation layer; ``name`` is ``layers.<i>``."""
    out = []
    for i, layer in enumerate(model.layers):
        act = layer if isinstance(layer, Activation) else getattr(layer, "activation", None)
        if isinstance(act, Activation):
            out.append((f"layers.{i}", layer, act))
    return out


def norm(x: np.ndarray) -> float:
    """``||x||_2`` as a Python float, in float64 where float32 would overflow."""
    flat = x.ravel()
    with np.errstate(over="ignore", invalid="ignore"):
        value = float(np.sqrt(np.dot(flat, flat)))
    if not math.isfinite(value):
        flat = flat.astype(np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            value = float(np.sqrt(np.dot(flat, flat)))
    return value


def saturated_share(a: np.ndarray, activation: str) -> float:
    """The share of ``a`` within :data:`SATURATION_MARGIN` of the range's ends."""
    low, high = _RANGES[activation]
    margin = SATURATION_MARGIN * (high - low)
    return float(np.count_nonzero((a < low + margin) | (a > high - margin)) / a.size)


def combined_moments(parts) -> tuple[float, float]:
    """Mean and standard deviation of the union of batches given as ``(n, mean, var)``:
    ``var = sum n_b (var_b + (mean_b - mean)^2) / N`` (exact, no cancellation)."""
    total = sum(n for n, _, _ in parts)
    mean = _sum([n * m for n, m, _ in parts]) / total
    var = _sum([n * (v + (m - mean) * (m - mean)) for n, m, v in parts]) / total
    return mean, math.sqrt(max(var, 0.0))  # nan stays nan, inf stays inf


def _sum(terms: list[float]) -> float:
    """``math.fsum``, or where a diverging run's values pass the float range (fsum raises
    on an intermediate overflow and on inf + -inf) the plain sum: inf or nan, no error."""
    try:
        return math.fsum(terms)
    except (OverflowError, ValueError):
        return sum(terms)


def histogram(values: np.ndarray) -> tuple[list[float], list[float]]:
    """Counts in :data:`HISTOGRAM_BINS` equal bins over the finite values' range, and edges."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return [0.0] * HISTOGRAM_BINS, [0.0] * (HISTOGRAM_BINS + 1)
    low, high = float(values.min()), float(values.max())
    if low == high:
        low, high = low - 0.5, high + 0.5
    counts, edges = np.histogram(values, bins=HISTOGRAM_BINS, range=(low, high))
    return [float(c) for c in counts], [float(e) for e in edges]


def epoch_values(statistics: dict, key: str) -> dict[int, float]:
    """``{epoch: value}`` of one statistic (the epochs from ``statistics["epoch"]``)."""
    epochs = [int(e) for e in statistics.get("epoch", [])]
    return dict(zip(epochs, statistics.get(key, [math.nan] * len(epochs)), strict=True))
