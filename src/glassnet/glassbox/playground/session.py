"""A playground session: one network learning one problem in the plane, a batch at a time.

The session trains with glassnet's own pieces, in the order ``fit`` uses them
(:mod:`glassnet.training.trainer`), so that its numbers are ``fit``'s::

    rng = default_rng(seed)                       fit(rng=seed)
    model.build((2,), rng)                        the initial weights
    fast.prepare(model)                           the packed buffers fit trains in
    watch = LossWatch(loss_before(model, data))   the loss the guard compares with
    batches = Batches(TrainingData(X, y), size)   the mini-batches
    each epoch: order = batches.order(True, rng)  the epoch's shuffle, from the same rng
    each step:  train_step(model, loss, optimizer, slots, xb, yb)
                Totals.add(L, output, yb)         the epoch's mean training loss
    each epoch's end: stop_if_runaway(...)        fit's guard, on that loss

After ``K * steps_per_epoch`` single steps the weights are those of
``model.fit(X, y, epochs=K, batch_size=B, rng=seed, ...)``, bit for bit (the tests check it),
and a session stops where that fit would (its ``diverged`` says why, and training stays
stopped until a reset or a new config):

- at the end of an epoch whose mean training loss has run away (``LossWatch``: a thousandfold
  the loss before training, or a stall), with ``fit``'s message; as ``fit`` does, the
  weights go back to those before training (the seed's), while ``steps`` still counts the
  batches trained;
- at a step whose loss is infinite or NaN (``train_step`` raises ``TrainingDivergedError``),
  with the weights as they were before that step (``fit`` goes back to the start of the
  epoch; the session keeps every step that was finite).

Everything runs in float64 (``Sequential(dtype="float64")``): the networks are tiny, and the
ledger, which works in float64, then shows exactly the numbers that train.
"""

from __future__ import annotations

import numpy as np

import glassnet as gn
from glassnet import fast
from glassnet._validation import as_generator
from glassnet.datasets.planar import PLANAR, planar_dataset
from glassnet.glassbox.playground.config import LIMITS, RequestError
from glassnet.nn.losses import get_loss
from glassnet.training.batches import Batches, TrainingData
from glassnet.training.evaluation import Totals, evaluate_pass
from glassnet.training.tracking import MetricSet
from glassnet.training.trainer import (
    LossWatch,
    TrainingDivergedError,
    loss_before,
    stop_if_runaway,
    train_step,
)

#: optimizer name -> (class in glassnet, its arguments besides the learning rate)
OPTIMIZER_SPECS = {
    "sgd": ("SGD", {}),
    "momentum": ("SGD", {"momentum": 0.9}),
    "adam": ("Adam", {}),
    "rmsprop": ("RMSprop", {}),
    "adagrad": ("Adagrad", {}),
}
#: the history keeps at most this many points; when full, every other older one goes
HISTORY_LIMIT = 1000


class PlaneData:
    """A config's rows: training (the drawn ones, then the added ``extra_points``) and test,
    and the domain ``[xmin, xmax, ymin, ymax]`` the heat maps cover."""

    def __init__(self, config: dict) -> None:
        self.kind = PLANAR[config["dataset"]].kind
        X, y, self.X_test, self.y_test = planar_dataset(
            config["dataset"],
            n_samples=config["n_points"],
            noise=config["noise"],
            train_fraction=config["train_fraction"],
            rng=config["seed"],
        )
        self.domain = _domain(np.concatenate([X, self.X_test]))
        extra = np.asarray(config["extra_points"], dtype=float).reshape(-1, 3)
        for k, (px, py, target) in enumerate(extra):
            self._check_point(f"extra_points[{k}]", px, py, target)
        self.X_train = np.concatenate([X, extra[:, :2]])
        targets = extra[:, 2] if self.kind == "regression" else extra[:, 2].astype(int)
        self.y_train = np.concatenate([y, targets])

    def _check_point(self, field: str, x: float, y: float, target: float) -> None:
        xmin, xmax, ymin, ymax = self.domain
        if not (xmin <= x <= xmax and ymin <= y <= ymax):
            raise RequestError(
                f"{field} must lie in the domain x in [{xmin:g}, {xmax:g}], "
                f"y in [{ymin:g}, {ymax:g}], got ({x:g}, {y:g})"
            )
        if self.kind == "classification" and target not in (0, 1):
            raise RequestError(f"{field}'s target must be 0 or 1, got {target:g}")
        if self.kind == "regression" and not -10 <= target <= 10:
            raise RequestError(f"{field}'s target must be between -10 and 10, got {target:g}")

    def check_point(self, x: float, y: float, target: float) -> None:
        """Refuse a point outside the domain, or a target the problem cannot have."""
        self._check_point("the point", x, y, target)


def _domain(X: np.ndarray) -> list[float]:
    """The box around the points, widened by 15% of its span on each side (at least 0.1)."""
    low, high = X.min(axis=0), X.max(axis=0)
    pad = np.maximum(0.15 * (high - low), 0.1)
    (xmin, ymin), (xmax, ymax) = low - pad, high + pad
    return [float(xmin), float(xmax), float(ymin), float(ymax)]


def build_network(config: dict, kind: str) -> gn.Sequential:
    """The config's hidden layers, then the output the data call for: one sigmoid unit for
    two classes, one linear unit for regression; float64."""
    extra = {} if config["weight_init"] == "auto" else {"weight_init": config["weight_init"]}
    if config["l2"] > 0:
        extra["kernel_regularizer"] = gn.L2(config["l2"])
    layers = [gn.Dense(h["units"], activation=h["activation"], **extra) for h in config["hidden"]]
    output = "sigmoid" if kind == "classification" else "linear"
    layers.append(gn.Dense(1, activation=output, **extra))
    return gn.Sequential(layers, dtype="float64")


def build_optimizer(config: dict) -> gn.Optimizer:
    name, options = OPTIMIZER_SPECS[config["optimizer"]]
    return getattr(gn, name)(learning_rate=config["learning_rate"], **options)


class Session:
    """One network and its data; :meth:`step` trains on the next batch.

    Attributes: ``config`` (checked, complete), ``data`` (:class:`PlaneData`), ``model``,
    ``steps`` (batches trained since the start), ``history`` (step, train and test loss,
    one point per request that trained), ``diverged`` (None, or why training stopped).
    """

    def __init__(self, config: dict) -> None:
        self.configure(config)

    def configure(self, config: dict) -> None:
        """A new config: new data, and the weights it starts from."""
        data = PlaneData(config)
        self.config, self.data = config, data
        self.reset()

    def reset(self) -> None:
        """The weights back to the start (the seed's), epoch 0, history cleared."""
        config, data = self.config, self.data
        self.loss = get_loss(config["loss"])
        self.optimizer = build_optimizer(config)
        model = build_network(config, data.kind)
        model.rng_ = as_generator(config["seed"])
        model.loss_, model.optimizer_ = self.loss, self.optimizer
        X = model.check_inputs(data.X_train)
        model.build(X.shape[1:], model.rng_)
        fast.prepare(model)
        y = model.check_targets(data.y_train, self.loss, X.shape[0])
        self.model = model
        self.batches = Batches(TrainingData(X, y, None, None, None), config["batch_size"])
        self.slots = model.slots()
        self.before = model.get_weights()  # what fit's guard puts back
        self.watch = LossWatch(loss_before(model, self.batches.data))
        self.steps = 0
        self._order = self._epoch = self._totals = None
        self.diverged: str | None = None
        self.history = {"step": [], "train_loss": [], "test_loss": []}

    @property
    def steps_per_epoch(self) -> int:
        return self.batches.count

    def next_rows(self) -> np.ndarray:
        """The training rows of the next step (drawing the epoch's shuffle when one begins)."""
        if self._epoch is None:
            self._order = self.batches.order(True, self.model.rng_)
            self._epoch = self.batches.epoch(self._order)
            self._totals = Totals(self.loss, MetricSet([]))  # the epoch's loss, as fit's
        size, at = self.batches.size, self.steps % self.steps_per_epoch
        return self._order[at * size : (at + 1) * size]

    def next_batch(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(rows, X_batch, y_batch)`` of the next step, ``y`` as the data give it."""
        rows = self.next_rows()
        return rows, self.data.X_train[rows], self.data.y_train[rows]

    def step(self) -> bool:
        """Train on the next batch: one ``train_step``, and at the end of an epoch ``fit``'s
        guard. False, and no step, once training has diverged."""
        if self.diverged is not None:
            return False
        self.next_rows()
        xb, yb, wb = next(self._epoch)
        try:
            value, output = train_step(
                self.model, self.loss, self.optimizer, self.slots, xb, yb, wb
            )
        except TrainingDivergedError as exc:
            # train_step raised before its update: the weights are those of the last step
            self.diverged = (
                f"training diverged: {exc} at step {self.steps + 1}; try a smaller "
                f"learning_rate (now {self.optimizer.current_learning_rate:g}). The session "
                "keeps the weights from before that step."
            )
            return False
        self._totals.add(value, output, yb, wb)
        self.steps += 1
        if self.steps % self.steps_per_epoch == 0:
            self._end_epoch()
        return True

    def _end_epoch(self) -> None:
        """``fit``'s guard on the epoch's mean training loss; the next step draws a new
        shuffle."""
        self._epoch = None
        epoch = self.steps // self.steps_per_epoch - 1  # from 0, as fit counts
        try:
            stop_if_runaway(self.model, self.watch, self._totals.logs()["loss"], epoch, self.before)
        except TrainingDivergedError as exc:
            self.diverged = str(exc)  # fit's very message; the weights are the seed's again

    def train(self, steps: int) -> None:
        """Up to ``steps`` batches (fewer if training diverges), then one point of history
        if any was trained."""
        trained = 0
        while trained < steps and self.step():
            trained += 1
        if trained:
            self.record()

    def losses(self) -> tuple[float, float | None]:
        """The loss of the current weights on every training row and every test row (the
        data alone, as ``model.evaluate`` measures it); None for an empty test set."""
        model, loss = self.model, self.loss
        train = evaluate_pass(model, self.batches.data.X, self.batches.data.y)["loss"]
        if len(self.data.X_test) == 0:
            return train, None
        X = model.check_inputs(self.data.X_test)
        y = model.check_targets(self.data.y_test, loss, X.shape[0])
        return train, evaluate_pass(model, X, y)["loss"]

    def record(self) -> None:
        train, test = self.losses()
        history = self.history
        if len(history["step"]) >= HISTORY_LIMIT:
            for key in history:
                history[key] = history[key][::2]
        history["step"].append(self.steps)
        history["train_loss"].append(train)
        history["test_loss"].append(test)

    def add_point(self, x: float, y: float, target: float) -> None:
        """A training point more: the config's ``extra_points`` grows, and, as with any new
        config, training starts again from the seed's weights."""
        self.data.check_point(x, y, target)
        extra = self.config["extra_points"]
        if len(extra) >= LIMITS["extra_points"]:
            raise RequestError(
                f"the session has {len(extra)} added points already, the most it keeps"
            )
        config = {**self.config, "extra_points": [*extra, [x, y, target]]}
        self.configure(config)
