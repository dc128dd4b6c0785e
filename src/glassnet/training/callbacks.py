"""Callbacks: code that runs at the edges of training — history, early stopping, the progress
bar, the epoch log, checkpoints. The training loop calls every hook of every callback through
one :class:`CallbackList`, whatever ``verbose`` is.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from glassnet._validation import check_bool, check_int, check_real
from glassnet.errors import InputValueError
from glassnet.training.tracking import greater_is_better


class Callback:
    """Base class: override the hooks you need. ``self.model`` is set before training."""

    model = None

    def on_train_begin(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_end(self, logs=None): ...


class CallbackList:
    """Calls one hook on every callback in order; sets ``callback.model`` first."""

    def __init__(self, callbacks, model) -> None:
        self.callbacks = list(callbacks)
        for c in self.callbacks:
            c.model = model

    def on_train_begin(self, logs=None):
        for c in self.callbacks:
            c.on_train_begin(logs)

    def on_epoch_begin(self, epoch, logs=None):
        for c in self.callbacks:
            c.on_epoch_begin(epoch, logs)

    def on_batch_end(self, batch, logs=None):
        for c in self.callbacks:
            c.on_batch_end(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        for c in self.callbacks:
            c.on_epoch_end(epoch, logs)

    def on_train_end(self, logs=None):
        for c in self.callbacks:
            c.on_train_end(logs)


class History(Callback):
    """Per-epoch records: ``loss``, ``val_loss``, ``accuracy``, ``val_accuracy``,
    ``learning_rate`` (the rate of the epoch's first step), and every metric
    ``fit(metrics=...)`` logs (``history.f1``, ``history.val_auc``; an undefined value is
    recorded as NaN).

    A model keeps one History across calls to ``fit``, so a second call continues the curve.
    ``history.history`` is the same data as a plain dict of lists.
    """

    KEYS = ("loss", "val_loss", "accuracy", "val_accuracy", "learning_rate")
    #: how the model file names a training statistic: "statistics/<key>" beside the curves
    STATISTICS = "statistics/"

    def __init__(self, records: dict | None = None) -> None:
        self.history: dict[str, list[float]] = {}
        #: per-layer statistics of each epoch (:mod:`glassnet.training.statistics`)
        self.statistics: dict[str, list[float]] = {}
        for key, values in (records or {}).items():
            kept, is_statistic = self.history, key.startswith(History.STATISTICS)
            if is_statistic:
                kept, key = self.statistics, key[len(History.STATISTICS) :]
            kept[key] = [float(v) for v in values]

    def records(self) -> dict[str, list[float]]:
        """The curves and the statistics in one dict of lists, as the model file stores them."""
        prefix = History.STATISTICS
        statistics = self.__dict__.get("statistics", {})  # none in a History pickled before
        return {**self.history, **{prefix + k: v for k, v in statistics.items()}}

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = getattr(self.model, "optimizer_", None)
        self._first_step = None if optimizer is None else optimizer.iterations

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))
        first = self.__dict__.get("_first_step")
        if first is not None and "learning_rate" not in logs:
            # a callback changes the rate before an epoch's first step or after its last
            rate = self.model.optimizer_.learning_rate_at(first)
            self.history.setdefault("learning_rate", []).append(rate)

    @property
    def epochs(self) -> int:
        return len(self.history.get("loss", []))

    def __getattr__(self, key):
        # history.loss, history.val_accuracy, history.f1 ... ; [] for a metric never recorded
        records = self.__dict__.get("history", {})
        if key in records or key in History.KEYS or key.startswith("val_"):
            return records.get(key, [])
        raise AttributeError(key)

    def __repr__(self):
        last = {k: round(v[-1], 6) for k, v in self.history.items() if v}
        return f"History(epochs={self.epochs}, last={last})"


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs in a row
    (``patience=3``: epochs 1-3 without improvement after the best one, then stop; 0 stops at the
    first epoch that does not improve).

    ``monitor`` defaults to ``"val_loss"``; without validation data it falls back to
    ``"loss"``. With ``restore_best_weights`` the model ends with the parameters of its best
    epoch — after an early stop, after the last epoch, or after Ctrl-C — (copied only when
    the monitored value improves, so the cost is small). An undefined metric (NaN, such as
    ``val_auc`` of a validation set with one class) never counts as an improvement.
    """

    def __init__(
        self,
        monitor="val_loss",
        *,
        patience=5,
        min_delta=0.0,
        restore_best_weights=True,
        mode="auto",
    ) -> None:
        self.monitor = monitor
        self.patience = check_int("patience", patience, minimum=0)
        self.min_delta = check_real("min_delta", min_delta, minimum=0.0)
        self.restore_best_weights = check_bool("restore_best_weights", restore_best_weights)
        self.mode = _check_mode(mode)
        self._resumed = None  # see resume

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.best = math.inf
        self.best_epoch = None
        self.best_weights = None
        self.stopped_epoch = None
        self.epoch_offset = 0  # epochs done before this fit (a resumed run)
        if self._resumed is not None:
            state, self.best_weights, self.epoch_offset = self._resumed
            best = state["best"]
            self.best = math.inf if best is None else best
            self.wait, self.best_epoch = state["wait"], state["best_epoch"]
            self.stopped_epoch = state["stopped_epoch"]

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        key = monitored_key(self, logs)
        if key not in logs:
            return
        epoch += self.epoch_offset
        value = _sign(key, self.mode if key == self.monitor else "auto", self.model) * logs[key]
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True

    def on_train_end(self, logs=None):
        # Whether training stopped early, ran out of epochs or was interrupted, the model
        # ends with the weights of its best epoch.
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)

    def state(self) -> dict:
        """What a checkpoint stores to continue: ``best`` (None before any epoch), ``wait``,
        and ``best_epoch``, ``stopped_epoch`` counted from 0 over the whole run."""
        return {
            "best": None if math.isinf(self.best) else self.best,
            "wait": self.wait,
            "best_epoch": self.best_epoch,
            "stopped_epoch": self.stopped_epoch,
        }

    def resume(self, state: dict, best_weights, epochs_done: int) -> None:
        """Start the next fit where a run that did ``epochs_done`` epochs left off: ``state``
        as :meth:`state` gave it, and that run's best weights. Epochs the next fit counts from
        0 are then epochs ``epochs_done``, ``epochs_done + 1``, ... of the run."""
        self._resumed = (state, best_weights or None, epochs_done)


def monitored_key(callback, logs) -> str:
    """The logged value ``callback.monitor`` names; without validation data ``"val_loss"``
    (or any ``"val_..."``) falls back to the training value (``"loss"``). A name that is not
    logged at all — a typo such as ``"val_los"`` — is a clear error, not a silent fallback."""
    monitor = callback.monitor
    if monitor in logs:
        return monitor
    validation = any(k.startswith("val_") for k in logs)
    if monitor.startswith("val_") and not validation and monitor[4:] in logs:
        return monitor[4:]
    raise InputValueError(
        f"{type(callback).__name__}(monitor={monitor!r}): fit logs no such value; it logs "
        f"{', '.join(repr(k) for k in logs)}"
    )


def _sign(key: str, mode: str, model=None) -> float:
    """+1 when smaller is better (losses, errors), -1 when larger is (mode="max", or "auto"
    for a metric better higher: accuracy, precision, recall, F1, AUC, R², ... — see
    :func:`glassnet.training.tracking.greater_is_better`)."""
    if mode == "max" or (mode == "auto" and greater_is_better(key, model)):
        return -1.0
    return 1.0


def _shown(value: float, spec: str) -> str:
    """A logged value as printed: ``n/a`` for an undefined metric (a NaN)."""
    return "n/a" if math.isnan(value) else format(value, spec)


def _check_mode(mode):
    if mode not in ("auto", "min", "max"):
        raise InputValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    return mode


class ProgressBar(Callback):
    """A tqdm bar over the batches of the whole run, with the latest losses as its postfix.

    Added by ``fit`` when ``verbose`` is 1; ``verbose=0`` prints nothing at all.
    """

    def __init__(self, epochs: int, batches_per_epoch: int) -> None:
        self.epochs, self.batches_per_epoch = epochs, batches_per_epoch

    def on_train_begin(self, logs=None):
        from tqdm.auto import tqdm

        self.bar = tqdm(
            total=self.epochs * self.batches_per_epoch,
            unit="batch",
            leave=True,
            dynamic_ncols=True,
            mininterval=0.2,
        )

    def on_epoch_begin(self, epoch, logs=None):
        self.bar.set_description(f"epoch {epoch + 1}/{self.epochs}", refresh=False)

    def on_batch_end(self, batch, logs=None):
        self.bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        shown = {k: _shown(v, ".4g") for k, v in (logs or {}).items()}
        self.bar.set_postfix(shown, refresh=False)

    def on_train_end(self, logs=None):
        # an early stop leaves the bar short: fill it to its real end
        self.bar.total = self.bar.n
        self.bar.refresh()
        self.bar.close()


class EpochLog(Callback):
    """One line per epoch, as ``fit(verbose=2)`` prints (for logs and notebooks, where a
    progress bar is noise): ``epoch 3/20: loss 0.4213, accuracy 0.8750, val_loss 0.4518``."""

    def __init__(self, epochs: int, out=print) -> None:
        self.epochs, self.out = epochs, out

    def on_epoch_end(self, epoch, logs=None):
        shown = ", ".join(f"{k} {_shown(v, '.4f')}" for k, v in (logs or {}).items())
        self.out(f"epoch {epoch + 1}/{self.epochs}: {shown}")


class ModelCheckpoint(Callback):
    """Save the model to ``path`` after each epoch, or only when ``monitor`` improves
    (lower for losses and errors, higher for accuracy, F1, AUC, R²...; ``mode`` as in
    :class:`EarlyStopping`)."""

    def __init__(self, path, monitor="val_loss", *, save_best_only=True, mode="auto") -> None:
        self.path = Path(path)
        self.monitor = monitor
        self.save_best_only = check_bool("save_best_only", save_best_only)
        self.mode = _check_mode(mode)
        self.saved_epoch = None
        # kept across calls to fit: a later fit never overwrites a better file
        self.best = math.inf

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        key = monitored_key(self, logs)
        if key not in logs:
            return
        value = _sign(key, self.mode if key == self.monitor else "auto", self.model) * logs[key]
        if not self.save_best_only or value < self.best:
            self.best = min(self.best, value)
            self.model.save(self.path)
            self.saved_epoch = epoch


class TrainingCheckpoint(Callback):
    """Write, after each epoch, all that continuing the training needs to one model file.

    The file (:func:`glassnet.io.model_file.write_model`, atomic) holds the model as the
    epoch left it, its optimizer state and history, the random generator's state at the
    epoch's end — the next epoch's shuffle and dropout masks are drawn from it — the
    ``early_stopping`` callback's state and best weights, and ``run``, the caller's own
    fields (the options, the data). :func:`glassnet.io.model_file.load_checkpoint` reads it.

    ``every`` (seconds) throttles the writes: an epoch's state is written only if ``every``
    seconds have passed since the last write; the state of the last epoch is always written
    when training ends (by its end, an early stop, an error or Ctrl-C).

    Attributes
    ----------
    written_epoch : int or None
        The run's epochs the file holds (1-based count), once it was written.
    """

    def __init__(self, path, *, run: dict, early_stopping=None, every=0.0, epoch_offset=0):
        self.path = Path(path)
        self.run = run
        self.early_stopping = early_stopping
        self.every = check_real("every", every, minimum=0.0)
        self.epoch_offset = epoch_offset
        self.written_epoch = None
        self._pending = None
        self._last = -math.inf

    def on_epoch_end(self, epoch, logs=None):
        from glassnet.io import model_file

        es = self.early_stopping
        fields = {
            "epoch": self.epoch_offset + epoch + 1,
            "rng": model_file.generator_state(self.model.rng_),
            "early_stopping": None if es is None else es.state(),
            "run": self.run,
        }
        best = None if es is None or es.best_weights is None else es.best_weights
        document = model_file.model_document(self.model)
        self._pending = (document, model_file.model_tensors(self.model), fields, best)
        if time.monotonic() - self._last >= self.every:
            self._write()

    def on_train_end(self, logs=None):
        if self._pending is not None:
            self._write()

    def _write(self):
        from glassnet.io import model_file

        document, tensors, fields, best = self._pending
        self._pending = None  # a failed write is not retried when training ends
        try:
            model_file.write_model(self.path, document, tensors, fields, best)
        except OSError as exc:
            raise CheckpointError(self.path, fields["epoch"], self.written_epoch, exc) from exc
        self._last = time.monotonic()
        self.written_epoch = fields["epoch"]


class CheckpointError(OSError):
    """A checkpoint could not be written; the one before it (if any) is intact.

    ``path`` is the file, ``epoch`` the epoch that was not written, ``previous`` the epoch
    the file still holds (None if this run wrote none)."""

    def __init__(self, path, epoch, previous, exc) -> None:
        self.path, self.epoch, self.previous = Path(path), epoch, previous
        held = "" if previous is None else f": it holds epoch {previous}"
        super().__init__(f"after epoch {epoch}, {exc}{held}")
