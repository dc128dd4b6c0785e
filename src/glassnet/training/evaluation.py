"""The loss and metrics of one pass over data: ``evaluate``, and the validation data that
``fit`` evaluates after every epoch.

:class:`Totals` is the one bookkeeping of a pass — the training epoch's (in
:mod:`glassnet.training.trainer`) and an evaluation's: the loss, and the metrics of a
:class:`~glassnet.training.tracking.MetricSet`, updated batch by batch.
"""

from __future__ import annotations

import math

import numpy as np

from glassnet.errors import InputValueError
from glassnet.nn.losses import Loss, get_loss
from glassnet.training.batches import check_sample_weight
from glassnet.training.tracking import MetricSet, metric_set


def evaluate(model, X, y, *, loss=None, metrics=None, sample_weight=None) -> dict[str, float]:
    """``{"loss": ..., <metric>: ...}`` on ``X``, ``y``, weighted by ``sample_weight``.

    ``loss`` defaults to the loss of the last ``fit``; ``metrics`` to that fit's metrics
    (accuracy for a classification loss, when the model was never fitted or ``loss`` is
    given). A loss that overflows (the network's output beyond its dtype) is an error
    naming the row, not an infinite number.
    """
    model.require_built()
    if loss is None and model.loss_ is None:
        raise InputValueError("evaluate needs loss= for a model that was never fitted")
    same_loss = loss is None
    loss = model.loss_ if loss is None else get_loss(loss)
    X = model.check_inputs(X)
    y = model.check_targets(y, loss, X.shape[0])
    w = None if sample_weight is None else check_sample_weight(sample_weight, len(y), model.dtype)
    if metrics is None and same_loss and model.metrics_ is not None:
        metrics = model.metrics_.metrics  # the last fit's, checked again against the weights
    chosen = metric_set(metrics, loss, n_outputs(model), weighted=w is not None)
    result = evaluate_pass(model, X, y, w, loss=loss, metrics=chosen)
    if not math.isfinite(result["loss"]):
        model.predict(X)  # says which row's output overflowed
        raise InputValueError(
            f"the loss on X is {result['loss']}: the network's outputs are finite but too "
            f"far from y for {model.dtype}; rescale y, or use a model with dtype='float64'"
        )
    return result


def evaluate_pass(model, X, y, w=None, *, loss=None, metrics=None, batch_size=8192) -> dict:
    """The loss (and ``metrics``, a MetricSet) on ``X``, ``y`` in batches, under
    ``np.errstate``: an overflow is a non-finite loss for the caller to judge, never a
    NumPy warning."""
    loss = model.loss_ if loss is None else loss
    metrics = MetricSet([]) if metrics is None else metrics
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _evaluate_batches(model, X, y, w, loss, metrics, batch_size)


def _evaluate_batches(model, X, y, w, loss, metrics, batch_size) -> dict[str, float]:
    loss.check_output(model.output_activation)
    fused = loss.fuses_with_output(model.output_activation)
    totals = Totals(loss, metrics)
    for i in range(0, X.shape[0], batch_size):
        xb, yb = X[i : i + batch_size], y[i : i + batch_size]
        wb = None if w is None else w[i : i + batch_size]
        out = model.forward(xb)
        if fused:
            value = loss.loss_from_logits(model.logits(), yb, wb)[0]
        else:
            value = loss.forward(out, yb, wb)
        totals.add(value, out, yb, wb)
    return totals.logs()


class Totals:
    """A pass's loss and metrics, batch by batch: the loss of every batch weighted by its
    size when the loss averages (so the result is the mean over all samples: with sample
    weights ``sum w_i L_i / n``, as each batch's loss is), added up when it sums; each
    metric of ``metrics`` (a :class:`~glassnet.training.tracking.MetricSet`) updated with
    the batch's targets, outputs and weights."""

    def __init__(self, loss: Loss, metrics: MetricSet) -> None:
        self.averaged = loss.reduction == "mean"
        self.metrics = metrics
        self.total, self.n = 0.0, 0
        metrics.reset()

    def add(self, value: float, output, y, w=None) -> None:
        self.total += value * len(y) if self.averaged else value
        self.n += len(y)
        self.metrics.update(y, output, w)

    def logs(self) -> dict[str, float]:
        return {
            "loss": self.total / self.n if self.averaged else self.total,
            **self.metrics.results(),
        }


def n_outputs(model) -> int:
    return int(np.prod(model.output_shape))
