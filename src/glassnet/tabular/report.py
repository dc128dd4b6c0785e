"""What a run tells its user: its plan, the results of training and evaluation, as text and
pictures.

:func:`plan_lines` is what ``train`` tells before training; :class:`TrainResult` and
:class:`EvaluateResult` hold the numbers; ``format_*`` turn them into the tables
``glassnet train`` and ``glassnet evaluate`` print; :func:`plot_report` draws the training
report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from glassnet.tabular.columns import name_of, prefixed
from glassnet.tabular.defaults import loss_suffix, optimizer_phrase
from glassnet.training.heads import decode
from glassnet.training.metrics import Undefined, confusion_matrix

METRIC_NAMES = {
    "loss": "loss",
    "accuracy": "accuracy",
    "macro_f1": "macro F1",
    "rmse": "RMSE",
    "mae": "MAE",
    "r2": "R²",
}


LOSS_NAMES = {
    "bce": "binary cross-entropy",
    "cross_entropy": "cross-entropy",
    "mse": "mean-squared-error (on the standardised target)",
}


def plan_lines(table, model, optimizer, options) -> list[str]:
    """What training is about to do: data, task, split, network, notes (one line each).

    ``table`` is the :class:`~glassnet.tabular.table.TrainingTable`, ``options`` the checked
    options of ``train`` (``seed``, ``batch_size``, ``epochs``)."""
    pre = table.pre
    n_train, n_val = len(table.train_idx), len(table.val_idx)
    if pre.task == "classification":
        what = f"classification, {len(pre.classes)} classes ({', '.join(pre.classes)})"
    else:
        what = f"regression of {pre.target!r}"
    stratified = " (stratified)" if pre.task == "classification" and n_val else ""
    return [
        f"data: {name_of(table.data)}, {len(table.frame)} rows; {len(table.features)} feature "
        f"columns -> {pre.n_inputs} inputs",
        f"task: {what}{' (detected)' if table.detected else ''}",
        f"split: {n_train} training rows, {n_val} validation rows{stratified}, seed {options.seed}",
        f"network: {architecture(model, pre.n_inputs)}; {optimizer_phrase(optimizer)}, "
        f"{LOSS_NAMES[table.head.loss]} loss{loss_suffix(model, table.head)}, "
        f"batches of {options.batch_size}, up to {options.epochs} epochs; "
        f"{pre.scaling} scaling of the inputs",
        *(prefixed("note: ", note) for note in table.notes),
    ]


def architecture(model, n_inputs) -> str:
    """``"4 -> 64 relu -> 32 relu -> 3 softmax (2,499 parameters)"``."""
    parts = [str(n_inputs)]
    for layer in model.layers:
        act = layer.activation.name
        parts.append(f"{layer.units}" + ("" if act == "identity" else f" {act}"))
    return f"{' -> '.join(parts)} ({model.n_params:,} parameters)"


@dataclass
class TrainResult:
    """What :func:`glassnet.tabular.train` did: the model, where it went, and the numbers."""

    model: object  # the trained Sequential
    preprocessor: object  # its TablePreprocessor (also ``model.preprocessing``)
    model_path: Path | None
    plot_path: Path | None
    metrics: dict[str, dict[str, float]]  # {"training": {...}, "validation": {...}}
    epochs_run: int
    best_epoch: int | None  # 1-based; the epoch whose weights were kept
    stopped: str  # "early stopping", "epochs", "interrupted" (Ctrl-C), "terminated" (SIGTERM)
    seconds: float
    train_rows: np.ndarray  # 0-based data rows that trained
    validation_rows: np.ndarray  # 0-based data rows held out
    patience: int
    notes: list[str] = field(default_factory=list)
    resumed_after: int | None = None  # the epochs a resumed run's checkpoint had done

    @property
    def n_train(self) -> int:
        return len(self.train_rows)

    @property
    def n_validation(self) -> int:
        return len(self.validation_rows)

    @property
    def interrupted(self) -> bool:
        """Ctrl-C or SIGTERM ended training before its end."""
        return self.stopped in ("interrupted", "terminated")


@dataclass
class EvaluateResult:
    """What :func:`glassnet.tabular.evaluate` measured on a table."""

    data: str  # the table, as messages name it: 'penguins.csv', the DataFrame
    task: str
    target: str
    n_rows: int
    metrics: dict[str, float]
    classes: list[str] | None = None
    confusion: np.ndarray | None = None
    plot_path: Path | None = None
    notes: list[str] = field(default_factory=list)


def format_seconds(seconds: float) -> str:
    """A duration a reader can use: ``0.04 s`` (two significant digits under a second, never
    ``0.0 s``), ``3.2 s``, ``2 min 5 s``."""
    if seconds < 1:
        return f"{seconds:.2g} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def format_train_report(result: TrainResult) -> str:
    """The short summary printed after training."""
    watched = "validation" if result.n_validation else "training"
    how = {
        "early stopping": f"early stopping: no better {watched} loss in {result.patience} epochs",
        "epochs": "all epochs ran",
        "interrupted": "interrupted by Ctrl-C",
        "terminated": "terminated by SIGTERM",
    }[result.stopped]
    if result.resumed_after is not None:
        how += f"; resumed after epoch {result.resumed_after}"
    lines = [
        f"epochs: {result.epochs_run} ({how}); kept the weights of epoch "
        f"{result.best_epoch}; {format_seconds(result.seconds)}",
        format_metrics_table(result.metrics, result.preprocessor.task),
    ]
    if result.model_path:
        prefix = "best model so far written to" if result.interrupted else "model written to"
        lines.append(f"{prefix} {result.model_path}")
    if result.plot_path:
        lines.append(f"plot written to {result.plot_path}")
    return "\n".join(lines)


def format_metrics_table(metrics: dict[str, dict[str, float]], task: str) -> str:
    """One row per split (training, validation), one column per metric of the task."""
    keys = (
        ["loss", "accuracy", "macro_f1"]
        if task == "classification"
        else ["loss", "rmse", "mae", "r2"]
    )
    width = max(len(split) for split in metrics)
    rows = [" " * width + "".join(f"{METRIC_NAMES[k]:>11}" for k in keys)]
    for split, values in metrics.items():
        rows.append(f"{split:<{width}}" + "".join(f"{format_value(values[k]):>11}" for k in keys))
    return "\n".join(rows + _undefined_reasons(metrics.values()))


def _undefined_reasons(metric_dicts) -> list[str]:
    """``R²: n/a (the true values are all 3: …)`` once for each undefined metric's reason."""
    reasons = {
        f"{METRIC_NAMES[key]}: n/a ({value.reason})": None
        for values in metric_dicts
        for key, value in values.items()
        if isinstance(value, Undefined)
    }
    return list(reasons)


def format_value(value: float) -> str:
    """Four decimals for small numbers, thousands separators for large ones, n/a for NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if abs(value) < 10:
        return f"{value:.4f}"
    return f"{value:,.1f}" if abs(value) < 1e5 else f"{value:,.0f}"


def format_confusion(matrix, labels) -> str:
    """The confusion matrix as text: rows are the true labels, columns the predicted."""
    labels = [str(v) for v in labels]
    width = max(4, *(len(v) for v in labels), *(len(str(int(v))) for v in np.ravel(matrix)))
    head = "true \\ predicted"
    first = max(len(head), *(len(v) for v in labels))
    lines = [f"{head:<{first}}" + "".join(f"  {v:>{width}}" for v in labels)]
    for label, row in zip(labels, matrix, strict=True):
        lines.append(f"{label:<{first}}" + "".join(f"  {int(v):>{width}}" for v in row))
    return "\n".join(lines)


def format_evaluation(result: EvaluateResult) -> str:
    """The metrics of an evaluation, and its confusion matrix for a classifier."""
    lines = [
        f"evaluated on {result.data}: {result.n_rows} rows, target {result.target!r} "
        f"({result.task})"
    ]
    lines += [
        f"  {METRIC_NAMES[k]:<9} {format_value(v)}"
        + (f" ({v.reason})" if isinstance(v, Undefined) else "")
        for k, v in result.metrics.items()
    ]
    if result.confusion is not None:
        lines += [
            "",
            "confusion matrix (rows: true label, columns: predicted):",
            format_confusion(result.confusion, result.classes),
        ]
    if result.plot_path:
        lines.append(f"plot written to {result.plot_path}")
    return "\n".join(lines)


def plot_report(model, pre, frame, labels, rows, path, best_epoch) -> Path:
    """The training report PNG: loss curves, the confusion matrix (or predicted against
    true) on ``rows``, and the decision boundary when there are two numeric features."""
    import pandas as pd

    from glassnet import plotting

    output = model.predict(pre.transform(frame.iloc[rows]))
    options = {"best_epoch": best_epoch, "labels": pre.classes}
    if pre.task == "classification":
        true = pre.transform_target(labels[rows])
        options["confusion"] = confusion_matrix(true, decode(output), len(pre.classes))
    else:
        options["predictions"] = (labels[rows], pre.inverse_target(output[:, 0]), pre.target)
    numeric = all(kind == "numeric" for _, kind in pre.columns)
    if pre.task == "classification" and len(pre.columns) == 2 and numeric:
        names = [name for name, _ in pre.columns]

        def transform(grid):
            return pre.transform(pd.DataFrame(grid, columns=names))

        options["boundary"] = {
            "model": model,
            "X": frame[names].to_numpy(dtype=float),
            "y": pre.transform_target(labels),
            "transform": transform,
            "axis_labels": names,
        }
    return plotting.plot_training_report(model.history, path, **options)
