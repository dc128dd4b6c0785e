"""The training loop: batches, one ``train_step``, and callbacks that always fire.

::

    for epoch in range(epochs):                       callbacks: on_epoch_begin
        for x, y, w in batches:
            L = train_step(model, loss, optimizer)    forward, loss, backward, optimizer.step
                                                      callbacks: on_batch_end
        logs = {loss, accuracy, val_loss, ...}        the divergence guard, then
                                                      (metrics: glassnet.training.tracking)
                                                      callbacks: on_epoch_end

:func:`loss_and_gradients` is one forward and backward pass; ``gradcheck`` and ``explain``
call it too, so they see exactly the gradients ``fit`` uses.

The divergence guard: every step runs under ``np.errstate`` (no NumPy warning reaches the
user); a NaN or infinite loss, weights left non-finite by an epoch's last step, a non-finite
validation loss, or a finite loss that has become absurd (:class:`LossWatch`) each raise
:class:`TrainingDivergedError`, naming the learning rate, with the last finite weights
restored.
"""

from __future__ import annotations

import math

import numpy as np

from glassnet import fast
from glassnet._validation import all_finite, as_generator, check_bool, check_int, check_real
from glassnet.errors import InputError, InputTypeError, InputValueError, Param
from glassnet.nn.losses import Loss, get_loss
from glassnet.nn.regularizers import add_penalties, penalty
from glassnet.training import callbacks as cb
from glassnet.training import statistics
from glassnet.training.batches import (
    Batches,
    TrainingData,
    check_sample_weight,
    class_labels,
    validation_rows,
)
from glassnet.training.evaluation import Totals, evaluate_pass, n_outputs
from glassnet.training.optimizers import Adam, Optimizer, get_optimizer
from glassnet.training.tracking import metric_set

#: an epoch's loss this many times the loss before training: the learning rate is too high
DIVERGED_RATIO = 1000.0
#: or, after this many epochs, no epoch below the loss before training and the last one
#: STALLED_RATIO times above it
STALLED_EPOCHS = 10
STALLED_RATIO = 10.0
#: the training rows the loss before training is measured on (one small forward pass)
REFERENCE_ROWS = 64


class TrainingDivergedError(InputError, FloatingPointError):
    """Training diverged: the loss or the weights became NaN or infinite, or the loss became
    absurd (:class:`LossWatch`). The message names the learning rate (as a parameter, so the
    command line spells it as its flag); the model keeps its last finite weights."""


class LossWatch:
    """The signs, epoch by epoch, that a finite loss has run away.

    ``start`` is the loss before training (on the first :data:`REFERENCE_ROWS` training
    rows, scaled to the whole epoch for a summed loss). :meth:`verdict` says why training
    must stop, or None: an epoch loss above ``DIVERGED_RATIO * start``, or, from epoch
    :data:`STALLED_EPOCHS` on, no epoch ever below ``start`` and the last above
    ``STALLED_RATIO * start``. A learning rate that is merely large never trips either: its
    loss still falls below where it began.
    """

    def __init__(self, start: float) -> None:
        self.start = start
        self.best = math.inf

    def verdict(self, loss: float, epoch: int) -> str | None:
        self.best = min(self.best, loss)
        if not self.start > 0 or not math.isfinite(self.start):
            return None  # a perfect (or already broken) start: no ratio to judge by
        times = loss / self.start
        if times > DIVERGED_RATIO:
            return (
                f"the training loss rose to {loss:.4g} in epoch {epoch + 1} of this fit, "
                f"{times:.3g} times its value before training ({self.start:.4g})"
            )
        if epoch + 1 >= STALLED_EPOCHS and self.best >= self.start and times > STALLED_RATIO:
            return (
                f"in {epoch + 1} epochs of this fit the training loss was never below its value "
                f"before training ({self.start:.4g}) and is now {times:.3g} times it ({loss:.4g})"
            )
        return None


def loss_and_gradients(model, x, y, loss: Loss, *, training=True, weights=None, record=None):
    """One forward and backward pass: fills every layer's grads; returns ``(L, output)``.

    ``y`` must already be in the loss's form (``model.check_targets``). Where the loss meets
    its natural activation (sigmoid + BCE, softmax + cross-entropy) the loss and
    ``dL/dz = (p - y) / n`` are computed from the logits ``z`` and passed below the
    activation. ``weights`` are optional per-sample weights, shape ``(n,)``; ``record`` is
    passed to ``model.backward`` (the ledger's view of each gradient on its way down). The
    layers' weight penalties (:mod:`glassnet.nn.regularizers`) are added last, to ``L`` and
    to the grads.
    """
    output = model.forward(x, training)
    if loss.fuses_with_output(model.output_activation):
        value, delta = loss.loss_from_logits(model.logits(), y, weights)
        model.backward(delta, from_logits=True, record=record)
    else:
        value = loss.forward(output, y, weights)
        model.backward(loss.backward(), record=record)
    return value + add_penalties(model), output  # the layers' weight penalties, if any


def train_step(model, loss, optimizer, slots, x, y, w=None) -> tuple[float, np.ndarray]:
    """Gradients of the batch, then one optimizer step; ``(L, output)``. A NaN or infinite
    loss raises :class:`TrainingDivergedError` before the step is taken. Both run under
    ``np.errstate``: an overflow shows as a non-finite loss (or weights, which the epoch's
    end checks), never as a NumPy warning."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        value, output = loss_and_gradients(model, x, y, loss, weights=w)
        if not math.isfinite(value):
            raise TrainingDivergedError(f"the loss became {value}")
        optimizer.step(slots)
    return value, output


def fit(
    model,
    X,
    y,
    *,
    loss=None,
    optimizer=None,
    epochs: int = 1,
    batch_size: int | None = 32,
    shuffle: bool = True,
    validation_data=None,
    validation_split: float = 0.0,
    callbacks=None,
    rng=None,
    verbose: int = 0,
    sample_weight=None,
    metrics=None,
) -> cb.History:
    """Train ``model`` on ``X``, ``y`` and return its History: the loop this module's
    docstring shows. The parameters are those of :meth:`glassnet.nn.model.Sequential.fit`,
    documented there."""
    epochs = check_int("epochs", epochs, minimum=1)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, minimum=1)
    check_bool("shuffle", shuffle)
    verbose = check_int("verbose", verbose, minimum=0, maximum=2)
    model.loss_ = _resolve_loss(model, loss)
    model.optimizer_ = _resolve_optimizer(model, optimizer)
    if rng is not None or model.rng_ is None:
        model.rng_ = as_generator(rng)
    data = _training_data(model, X, y, sample_weight, validation_data, validation_split)
    model.metrics_ = _fit_metrics(model, metrics, loss is None, data)
    batches = Batches(data, batch_size)
    callbacks = _callback_list(model, callbacks, verbose, epochs, batches.count)
    before = model.get_weights()  # the parameters and buffers (running statistics)
    watch = LossWatch(loss_before(model, data))
    model.stop_training = False
    val_metrics = model.metrics_.fresh()
    callbacks.on_train_begin({"loss_before": watch.start})  # read by the statistics
    try:
        for epoch in range(epochs):  # callbacks count from 0 in each fit
            callbacks.on_epoch_begin(epoch)
            logs = _run_epoch(model, batches, shuffle, callbacks, epoch, val_metrics)
            stop_if_runaway(model, watch, logs["loss"], epoch, before)
            callbacks.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
    finally:
        callbacks.on_train_end()
    return model.history


def _run_epoch(model, batches, shuffle, callbacks, epoch, val_metrics) -> dict[str, float]:
    """One pass over the training rows; the epoch's logs (loss, metrics, validation).

    The weights at the start of the epoch are kept: a step that diverges puts them back.
    A non-finite loss shows at its batch; weights that only the epoch's last step made
    non-finite, at the one check of every parameter per epoch below.
    """
    loss, optimizer = model.loss_, model.optimizer_
    slots = model.slots()
    snapshot = model.get_weights()
    totals = Totals(loss, model.metrics_)
    epoch_name = f"epoch {epoch + 1} of this fit"
    for b, (xb, yb, wb) in enumerate(batches.epoch(batches.order(shuffle, model.rng_))):
        try:
            value, output = train_step(model, loss, optimizer, slots, xb, yb, wb)
        except TrainingDivergedError as exc:
            _diverged(model, snapshot, f"{exc} in {epoch_name}, batch {b + 1}")
        totals.add(value, output, yb, wb)
        callbacks.on_batch_end(b, {"loss": value})
    if not all(all_finite(p) for _, p in model.named_weights()):
        _diverged(model, snapshot, f"the weights became infinite or NaN in {epoch_name}")
    if not all(all_finite(a) for a in optimizer.state_arrays().values()):
        optimizer.load_state_arrays({}, 0)  # the next fit starts it afresh; saving stays possible
        _diverged(
            model,
            snapshot,
            f"the optimizer's running averages of the gradients became infinite or NaN in "
            f"{epoch_name}: the gradients outgrew {model.dtype} (are the inputs scaled?)",
        )
    logs = totals.logs()
    if batches.data.validation is not None:
        validation = evaluate_pass(model, *batches.data.validation, metrics=val_metrics)
        logs.update({f"val_{k}": v for k, v in validation.items()})
        if not math.isfinite(logs["val_loss"]):
            _diverged(
                model, snapshot, f"the validation loss became {logs['val_loss']} after {epoch_name}"
            )
    return logs


def _diverged(model, snapshot, what: str):
    """Put back the weights from the start of the epoch and say what happened."""
    model.set_weights(snapshot)
    raise _diverged_error(model, what, "the weights from the start of that epoch") from None


def _diverged_error(model, what: str, kept: str) -> TrainingDivergedError:
    error = TrainingDivergedError(
        "training diverged: {what}; try a smaller {rate} (now {value:g}). The model keeps {kept}.",
        what=what,
        rate=Param("learning_rate"),
        value=model.optimizer_.current_learning_rate,
        kept=kept,
    )
    error.model = model  # with its record of the run, for glassnet.diagnose
    return error


def stop_if_runaway(model, watch: LossWatch, loss: float, epoch: int, before: dict) -> None:
    """The guard at the end of epoch ``epoch`` (from 0): on :class:`LossWatch`'s verdict on
    the epoch's mean training loss, the weights ``before`` the fit are put back and
    :class:`TrainingDivergedError` says why. The playground's sessions apply it too."""
    reason = watch.verdict(loss, epoch)
    if reason is not None:
        model.set_weights(before)
        raise _diverged_error(model, reason, "the weights it had before this fit")


def loss_before(model, data) -> float:
    """The loss of the weights before training, on the first :data:`REFERENCE_ROWS` training
    rows (for a summed loss, scaled to a whole epoch): what :class:`LossWatch` compares
    each epoch with."""
    rows = slice(0, REFERENCE_ROWS) if data.train_idx is None else data.train_idx[:REFERENCE_ROWS]
    y = data.y[rows]
    value = evaluate_pass(model, data.X[rows], y, None if data.w is None else data.w[rows])["loss"]
    if model.loss_.reduction != "mean":
        value *= data.n_train / len(y)
    return value + penalty(model)  # as each training step's loss includes it


# -- setting up a fit ---------------------------------------------------------------------------
def _resolve_loss(model, loss) -> Loss:
    if loss is None:
        if model.loss_ is None:
            raise InputValueError(
                "loss is required the first time fit is called, "
                "e.g. loss='mse' or loss='cross_entropy'"
            )
        return model.loss_
    return get_loss(loss)


def _resolve_optimizer(model, optimizer) -> Optimizer:
    current = model.optimizer_
    if optimizer is None:
        return current if current is not None else Adam()
    if isinstance(optimizer, str) and current is not None and current.name == optimizer.lower():
        return current  # the same optimizer named again: keep its state
    return get_optimizer(optimizer)


def _training_data(model, X, y, sample_weight, validation_data, validation_split):
    """Checked arrays, the model built (and packed) for them, and the validation split."""
    validation_split = check_real(
        "validation_split", validation_split, minimum=0.0, maximum=1.0, include_max=False
    )
    X = model.check_inputs(X)
    n = X.shape[0]
    if not model.built:
        model.build(X.shape[1:], model.rng_)
    fast.prepare(model)  # the speed specialisations, chosen once per fit
    loss = model.loss_
    loss.check_output(model.output_activation)
    y = model.check_targets(y, loss, n)
    w = None if sample_weight is None else check_sample_weight(sample_weight, n, model.dtype)
    if validation_data is not None:
        return TrainingData(X, y, w, None, _validation_data(model, validation_data))
    if validation_split == 0:
        return TrainingData(X, y, w, None, None)
    val_idx = validation_rows(
        class_labels(y), n, validation_split, loss.is_classification, model.rng_
    )
    mask = np.ones(n, dtype=bool)
    mask[val_idx] = False
    held_out = (X[val_idx], y[val_idx], None if w is None else w[val_idx])
    return TrainingData(X, y, w, np.flatnonzero(mask), held_out)


def _validation_data(model, validation_data) -> tuple:
    if not isinstance(validation_data, tuple | list) or len(validation_data) not in (2, 3):
        raise InputValueError(
            "validation_data must be a pair (X_val, y_val) or a triple "
            "(X_val, y_val, sample_weight_val)"
        )
    X_val = model.check_inputs(validation_data[0], "X_val")
    n = X_val.shape[0]
    y_val = model.check_targets(validation_data[1], model.loss_, n, "y_val")
    w_val = None
    if len(validation_data) == 3 and validation_data[2] is not None:
        w_val = check_sample_weight(validation_data[2], n, model.dtype, "sample_weight_val")
    return X_val, y_val, w_val


def _callback_list(model, callbacks, verbose: int, epochs: int, count: int) -> cb.CallbackList:
    """The History, the statistics recorder (:mod:`glassnet.training.statistics`), the
    caller's callbacks, then the printers ``verbose`` asks for."""
    user = _check_callbacks(callbacks)
    recorders = statistics.recording(user, count)
    return cb.CallbackList(
        [model.history, *recorders, *user, *_printers(verbose, epochs, count)], model
    )


def _fit_metrics(model, metrics, same_loss: bool, data):
    """The MetricSet of this fit, checked against its loss (and its weights, if any): those
    named, or — ``metrics`` and ``loss`` omitted — the last fit's, or the default."""
    if metrics is None and same_loss and model.metrics_ is not None:
        metrics = model.metrics_.metrics  # a later fit continues with the same metrics
    validation = data.validation
    weighted = data.w is not None or (validation is not None and validation[2] is not None)
    return metric_set(metrics, model.loss_, n_outputs(model), weighted=weighted)


def _check_callbacks(callbacks) -> list[cb.Callback]:
    callbacks = list(callbacks or [])
    for c in callbacks:
        if not isinstance(c, cb.Callback):
            raise InputTypeError(f"callbacks must be Callback objects, got {c!r}")
    return callbacks


def _printers(verbose: int, epochs: int, batches_per_epoch: int) -> list[cb.Callback]:
    if verbose == 1:
        return [cb.ProgressBar(epochs, batches_per_epoch)]
    if verbose == 2:
        return [cb.EpochLog(epochs)]
    return []
