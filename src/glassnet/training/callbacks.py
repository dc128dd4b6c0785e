"""Callbacks: code that runs at the edges of training — history, early stopping, the progress
bar, the epoch log, checkpoints. The training loop calls every hook of every callback through
one :class:`CallbackList`, whatever ``verbose`` is.
"""

from __future__ import annotations

import math
from pathlib import Path

from glassnet._validation import check_bool, check_int, check_real


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
    """Per-epoch records: ``loss``, ``val_loss``, ``accuracy``, ``val_accuracy``.

    A model keeps one History across calls to ``fit``, so a second call continues the curve.
    ``history.history`` is the same data as a plain dict of lists.
    """

    KEYS = ("loss", "val_loss", "accuracy", "val_accuracy")

    def __init__(self, records: dict | None = None) -> None:
        self.history: dict[str, list[float]] = {}
        for key, values in (records or {}).items():
            self.history[key] = [float(v) for v in values]

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))

    @property
    def epochs(self) -> int:
        return len(self.history.get("loss", []))

    def __getattr__(self, key):
        # history.loss, history.val_accuracy, ... ; [] for a metric never recorded
        if key in History.KEYS or key.startswith("val_"):
            return self.__dict__.get("history", {}).get(key, [])
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
    the monitored value improves, so the cost is small).
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

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.best = math.inf
        self.best_epoch = None
        self.best_weights = None
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        key = self.monitor if self.monitor in logs else "loss"
        if key not in logs:
            return
        value = _sign(key, self.mode if key == self.monitor else "auto") * logs[key]
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


def _sign(key: str, mode: str) -> float:
    """+1 when smaller is better (losses), -1 when larger is (accuracies, or mode="max")."""
    if mode == "max" or (mode == "auto" and "acc" in key):
        return -1.0
    return 1.0


def _check_mode(mode):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
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
        shown = {k: f"{v:.4g}" for k, v in (logs or {}).items()}
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
        shown = ", ".join(f"{k} {v:.4f}" for k, v in (logs or {}).items())
        self.out(f"epoch {epoch + 1}/{self.epochs}: {shown}")


class ModelCheckpoint(Callback):
    """Save the model to ``path`` after each epoch, or only when ``monitor`` improves
    (lower for losses, higher for accuracies; ``mode`` as in :class:`EarlyStopping`)."""

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
        key = self.monitor if self.monitor in logs else "loss"
        if key not in logs:
            return
        value = _sign(key, self.mode if key == self.monitor else "auto") * logs[key]
        if not self.save_best_only or value < self.best:
            self.best = min(self.best, value)
            self.model.save(self.path)
            self.saved_epoch = epoch
