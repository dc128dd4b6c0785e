"""Your own table: train, predict, evaluate and describe — the library under ``glassnet train``.

The command line only parses arguments and prints; everything it does is here, so that the
same pipeline runs from Python::

    from glassnet import tabular
    result = tabular.train("penguins.csv", "species", impute="mean")
    print(tabular.format_train_report(result))
    frame, notes = tabular.predict(result.model, "penguins.csv", proba=True)

What ``train`` does, in order:

1. read the CSV (every cell as text) and decide which columns are numbers and which are
   categories (:mod:`glassnet.datasets.tabular`);
2. handle missing values: an error naming the column, unless ``drop_missing`` (those rows
   are left out, and counted) or ``impute`` (filled with a value learned from the training
   rows);
3. detect the task from the target — classification for text, or whole numbers with at
   most :data:`MAX_INTEGER_CLASSES` distinct values; regression otherwise;
4. split off a shuffled validation set (stratified by class), unless the table is too small
   (fewer than :data:`MIN_ROWS_FOR_VALIDATION` rows), in which case every row trains;
5. learn the preprocessing on the training rows only (:class:`TablePreprocessor`);
6. build the network: ``hidden`` Dense layers, then 1 sigmoid unit + binary cross-entropy
   (two classes), a softmax + cross-entropy (more), or 1 identity unit + MSE on the
   standardised target (regression); train it with Adam, early stopping on the validation
   loss, keeping the best epoch's weights;
7. save the model — weights, preprocessing, history — atomically; Ctrl-C saves the best
   model so far.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from glassnet._validation import check_bool, check_int, check_real
from glassnet.datasets import tabular as tables
from glassnet.errors import InputValueError, Param
from glassnet.io.files import check_output
from glassnet.nn.layers import Dense
from glassnet.nn.model import Sequential
from glassnet.tabular.columns import name_of
from glassnet.tabular.predict import table_metrics
from glassnet.tabular.preprocessing import IMPUTE_STRATEGIES, TablePreprocessor
from glassnet.tabular.report import TrainResult, plot_report
from glassnet.tabular.table import (
    note_identifiers,
    split_rows,
    task_and_labels,
    training_table,
)
from glassnet.training.callbacks import EarlyStopping
from glassnet.training.heads import TASKS, head_for
from glassnet.training.optimizers import get_optimizer
from glassnet.training.trainer import TrainingDivergedError

#: the default hidden layers: see ``train``'s docstring for why
DEFAULT_HIDDEN = (64, 32)
DEFAULT_ACTIVATION = "relu"
DEFAULT_EPOCHS = 300
DEFAULT_BATCH_SIZE = 32
DEFAULT_OPTIMIZER = "adam"
DEFAULT_PATIENCE = 20
DEFAULT_SEED = 0
MODEL_SUFFIX = ".safetensors"
LOSS_NAMES = {
    "bce": "binary cross-entropy",
    "cross_entropy": "cross-entropy",
    "mse": "mean-squared-error (on the standardised target)",
}


class Interrupted(Exception):
    """Ctrl-C before a single epoch finished: there is no model to keep."""


def train(
    data,
    target: str,
    *,
    task: str | None = None,
    hidden=DEFAULT_HIDDEN,
    activation: str = DEFAULT_ACTIVATION,
    epochs: int = DEFAULT_EPOCHS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    learning_rate: float | None = None,
    optimizer: str = DEFAULT_OPTIMIZER,
    validation_split: float | None = None,
    patience: int = DEFAULT_PATIENCE,
    seed: int = DEFAULT_SEED,
    ignore=(),
    impute: str | None = None,
    drop_missing: bool = False,
    out=None,
    plot=None,
    verbose: int = 0,
    callbacks=None,
    log=None,
) -> TrainResult:
    """Train a network on the table ``data`` to predict the column ``target``; save it.

    Parameters
    ----------
    data : path or name of a shipped table (``"penguins.csv"``)
    target : the column to predict
    task : None, "classification" or "regression"; None detects it from the target
    hidden : sizes of the hidden layers. The default ``(64, 32)`` is small enough to train in
        seconds on two cores and large enough for the tables this is for (up to some tens
        of features, thousands of rows): two ReLU layers can bend the decision surface
        where one cannot, and early stopping on the validation loss, not a smaller
        network, is what keeps it from over-fitting a small table.
    activation : the hidden layers' activation
    epochs : the most passes over the training rows (early stopping usually ends sooner)
    batch_size : rows per gradient step
    learning_rate : None for the optimizer's default (Adam: 0.001)
    optimizer : "adam", "sgd" or "rmsprop"
    validation_split : the share of rows held out; None means 0.2, or 0 when the table has
        fewer than ``MIN_ROWS_FOR_VALIDATION`` rows
    patience : epochs without a better validation loss before stopping
    seed : drives the split, the initial weights and the shuffling
    ignore : columns that are not features (names, identifiers)
    impute : None, "mean", "median" or "most_frequent" — fill missing feature values
    drop_missing : leave out rows with a missing value instead
    out : where to write the model; None means ``<data name>.safetensors`` next to the data
        (in the current folder for a shipped table); False writes nothing
    plot : a PNG path for the training report (loss curves, confusion matrix or predicted
        against true, the decision boundary when there are two numeric features)
    verbose : 1 shows a progress bar
    callbacks : more callbacks for ``fit``
    log : called with each line worth telling before training starts (e.g. ``print``)

    Raises
    ------
    ValueError
        With a one-line reason naming the parameter, for any problem with the data or the
        options. Nothing is written then.
    """
    options = _check_options(
        task, hidden, impute, drop_missing, validation_split, epochs, batch_size, patience, seed
    )
    opt = get_optimizer(optimizer, learning_rate)
    model_path, plot = _outputs(data, tables.resolve(data), out, plot)
    frame, features, kinds, n_read, notes = training_table(
        data, target, ignore, options["task"], impute, options["drop_missing"]
    )
    task, labels, detected = task_and_labels(frame, target, options["task"])
    rng = np.random.default_rng(options["seed"])
    train_idx, val_idx = split_rows(labels, task, options["validation_split"], rng, notes)
    pre = TablePreprocessor([(c, kinds[c]) for c in features], target, task, impute=impute)
    pre.fit(frame.iloc[train_idx], labels[train_idx])
    note_identifiers(pre, len(train_idx), notes)
    head = head_for(task, len(pre.classes) if pre.classes else 1)
    layers = [Dense(units, activation=activation) for units in options["hidden"]]
    model = Sequential([*layers, Dense(head.units, activation=head.activation)])
    model.build((pre.n_inputs,), rng)
    if log is not None:
        split = (len(train_idx), len(val_idx))
        for line in _plan(data, frame, features, pre, detected, split, options, model, opt, notes):
            log(line)
    start = time.perf_counter()
    keep_best, stopped = _fit(
        model,
        pre,
        frame,
        labels,
        (train_idx, val_idx),
        head.loss,
        opt,
        rng,
        options,
        verbose,
        callbacks,
    )
    seconds = time.perf_counter() - start
    best_epoch = None if keep_best.best_epoch is None else keep_best.best_epoch + 1
    pre.training = _training_info(data, frame, n_read, train_idx, val_idx, options, ignore)
    pre.training.update(best_epoch=best_epoch, stopped=stopped)
    model.preprocessing = pre
    result = TrainResult(
        model=model,
        preprocessor=pre,
        model_path=model_path,
        plot_path=None,
        metrics=_split_metrics(model, pre, frame, labels, train_idx, val_idx),
        epochs_run=model.history.epochs,
        best_epoch=best_epoch,
        stopped=stopped,
        seconds=seconds,
        train_rows=frame.index[train_idx].to_numpy(),
        validation_rows=frame.index[val_idx].to_numpy(),
        patience=options["patience"],
        notes=notes,
    )
    if model_path:
        model.save(model_path)
    if plot:
        rows = val_idx if len(val_idx) else train_idx
        result.plot_path = plot_report(model, pre, frame, labels, rows, Path(plot), best_epoch)
    return result


# -- the steps of train, in order ---------------------------------------------------------------
def _check_options(
    task, hidden, impute, drop_missing, validation_split, epochs, batch_size, patience, seed
) -> dict:
    """Every option checked before anything is read: a mistake fails at once, by name."""
    if impute is not None and impute not in IMPUTE_STRATEGIES:
        raise InputValueError(
            "{impute} must be one of {choices}, got {value!r}",
            impute=Param("impute"),
            choices=", ".join(IMPUTE_STRATEGIES),
            value=impute,
        )
    drop_missing = check_bool("drop_missing", drop_missing)
    if impute is not None and drop_missing:
        raise InputValueError(
            "choose one of {impute} and {drop}, not both",
            impute=Param("impute"),
            drop=Param("drop_missing"),
        )
    if task is not None and task not in TASKS:
        raise InputValueError(
            "{task} must be 'classification' or 'regression', got {value!r}",
            task=Param("task"),
            value=task,
        )
    if validation_split is not None:
        validation_split = check_real(
            "validation_split", validation_split, minimum=0.0, maximum=1.0, include_max=False
        )
    return {
        "task": task,
        "hidden": _check_hidden(hidden),
        "drop_missing": drop_missing,
        "validation_split": validation_split,
        "epochs": check_int("epochs", epochs, minimum=1),
        "batch_size": check_int("batch_size", batch_size, minimum=1),
        "patience": check_int("patience", patience, minimum=0),
        "seed": check_int("seed", seed, minimum=0),
    }


def _outputs(data, path: Path, out, plot):
    """The model path (None for ``out=False``) and the plot path, both checked writable."""
    model_path = (
        _default_model_path(data, path) if out is None else (None if out is False else Path(out))
    )
    plot = Path(plot) if plot else None
    for p, what in ((model_path, "model"), (plot, "plot")):
        if p:
            check_output(p, what, inputs=[path])
    if model_path and plot and plot.resolve() == model_path.resolve():
        raise ValueError("the model and the plot cannot be written to the same file")
    return model_path, plot


def _plan(data, frame, features, pre, detected, split, options, model, opt, notes):
    """The lines told before training: data, task, split, network, notes."""
    n_train, n_val = split
    if pre.task == "classification":
        what = f"classification, {len(pre.classes)} classes ({', '.join(pre.classes)})"
    else:
        what = f"regression of {pre.target!r}"
    stratified = " (stratified)" if pre.task == "classification" and n_val else ""
    loss = head_for(pre.task, len(pre.classes) if pre.classes else 1).loss
    return [
        f"data: {name_of(data)}, {len(frame)} rows; {len(features)} feature columns -> "
        f"{pre.n_inputs} inputs",
        f"task: {what}{' (detected)' if detected else ''}",
        f"split: {n_train} training rows, {n_val} validation rows{stratified}, "
        f"seed {options['seed']}",
        f"network: {_architecture(model, pre.n_inputs)}; {type(opt).__name__} "
        f"(learning rate {opt.learning_rate:g}), {LOSS_NAMES[loss]} loss, batches of "
        f"{options['batch_size']}, up to {options['epochs']} epochs",
        *(f"note: {note}" for note in notes),
    ]


def _fit(model, pre, frame, labels, split, loss, opt, rng, options, verbose, callbacks):
    """Train with early stopping on the validation (or training) loss, keeping the best
    epoch's weights: ``(the EarlyStopping, how training stopped)``."""
    train_idx, val_idx = split
    X_train = pre.transform(frame.iloc[train_idx])
    validation = None
    if len(val_idx):
        validation = (pre.transform(frame.iloc[val_idx]), pre.transform_target(labels[val_idx]))
    monitor = "val_loss" if validation else "loss"
    keep_best = EarlyStopping(monitor, patience=options["patience"], restore_best_weights=True)
    try:
        model.fit(
            X_train,
            pre.transform_target(labels[train_idx]),
            loss=loss,
            optimizer=opt,
            epochs=options["epochs"],
            batch_size=options["batch_size"],
            validation_data=validation,
            callbacks=[keep_best, *(callbacks or [])],
            rng=rng,
            verbose=verbose,
        )
    except KeyboardInterrupt:
        if keep_best.best_weights is None:
            raise Interrupted(
                "interrupted before the first epoch finished: no model was written"
            ) from None
        return keep_best, "interrupted"
    except TrainingDivergedError as exc:
        raise InputValueError(
            "training diverged ({reason}); try a smaller {rate}",
            reason=str(exc),
            rate=Param("learning_rate"),
        ) from None
    return keep_best, "early stopping" if keep_best.stopped_epoch is not None else "epochs"


def _training_info(data, frame, n_read, train_idx, val_idx, options, ignore) -> dict:
    return {
        "data": str(data),
        "rows": n_read,
        "rows_used": len(frame),
        "train_rows": len(train_idx),
        "validation_rows": len(val_idx),
        "seed": options["seed"],
        "ignored": list(ignore),
        "drop_missing": options["drop_missing"],
    }


def _split_metrics(model, pre, frame, labels, train_idx, val_idx) -> dict:
    def on(rows):
        return table_metrics(model, pre, pre.transform(frame.iloc[rows]), labels[rows])

    metrics = {"training": on(train_idx)}
    if len(val_idx):
        metrics["validation"] = on(val_idx)
    return metrics


# -- helpers ------------------------------------------------------------------------------------
def _check_hidden(hidden) -> tuple[int, ...]:
    if isinstance(hidden, str):
        hidden = parse_hidden(hidden)
    hidden = tuple(hidden)
    for units in hidden:
        if isinstance(units, bool) or not isinstance(units, int | np.integer) or units < 1:
            raise InputValueError(
                "{hidden} layer sizes must be integers >= 1, got {units!r}",
                hidden=Param("hidden"),
                units=units,
            )
    return hidden


def parse_hidden(text: str) -> tuple[int, ...]:
    """``"64,32"`` -> ``(64, 32)``; ``""`` or ``"none"`` -> ``()`` (no hidden layer)."""
    text = text.strip()
    if text.lower() in ("", "none", "0"):
        return ()
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise InputValueError(
            "{hidden} must be sizes separated by commas, e.g. 64,32; got {text!r}",
            hidden=Param("hidden"),
            text=text,
        ) from None
    return _check_hidden(sizes)


def _architecture(model, n_inputs) -> str:
    parts = [str(n_inputs)]
    for layer in model.layers:
        act = layer.activation.name
        parts.append(f"{layer.units}" + ("" if act == "identity" else f" {act}"))
    return f"{' -> '.join(parts)} ({model.n_params:,} parameters)"


def _default_model_path(data, path: Path) -> Path:
    """``<stem>.safetensors`` next to the data — or here, for a table shipped with glassnet."""
    shipped = not Path(data).exists()
    folder = Path(".") if shipped else path.parent
    return folder / f"{path.stem}{MODEL_SUFFIX}"
