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

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from glassnet._validation import check_int, check_real
from glassnet.datasets import tabular as tables
from glassnet.io.files import atomic_path
from glassnet.nn.layers import Dense
from glassnet.nn.model import Sequential, TrainingDivergedError, stratified_holdout
from glassnet.tabular.preprocessing import IMPUTE_STRATEGIES, MissingValueError, TablePreprocessor
from glassnet.training.callbacks import EarlyStopping
from glassnet.training.optimizers import get_optimizer

#: the default hidden layers: see ``train``'s docstring for why
DEFAULT_HIDDEN = (64, 32)
DEFAULT_EPOCHS = 300
DEFAULT_PATIENCE = 20
DEFAULT_VALIDATION_SPLIT = 0.2
#: below this many rows the whole table trains: a handful of validation rows says nothing
MIN_ROWS_FOR_VALIDATION = 20
#: a target of whole numbers with at most this many distinct values is a classification
MAX_INTEGER_CLASSES = 10
MODEL_SUFFIX = ".safetensors"
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


class Interrupted(Exception):
    """Ctrl-C before a single epoch finished: there is no model to keep."""


@dataclass
class TrainResult:
    """What :func:`train` did: the model, where it went, and the numbers of the run."""

    model: Sequential
    preprocessor: TablePreprocessor
    model_path: Path | None
    plot_path: Path | None
    metrics: dict[str, dict[str, float]]  # {"training": {...}, "validation": {...}}
    epochs_run: int
    best_epoch: int | None  # 1-based; the epoch whose weights were kept
    stopped: str  # "early stopping", "epochs", "interrupted"
    seconds: float
    train_rows: np.ndarray  # 0-based data rows that trained
    validation_rows: np.ndarray  # 0-based data rows held out
    patience: int = DEFAULT_PATIENCE
    notes: list[str] = field(default_factory=list)

    @property
    def n_train(self) -> int:
        return len(self.train_rows)

    @property
    def n_validation(self) -> int:
        return len(self.validation_rows)

    @property
    def interrupted(self) -> bool:
        return self.stopped == "interrupted"


@dataclass
class EvaluateResult:
    data: str
    task: str
    target: str
    n_rows: int
    metrics: dict[str, float]
    classes: list[str] | None = None
    confusion: np.ndarray | None = None
    plot_path: Path | None = None
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------- train


def train(
    data,
    target: str,
    *,
    task: str | None = None,
    hidden=DEFAULT_HIDDEN,
    activation: str = "relu",
    epochs: int = DEFAULT_EPOCHS,
    batch_size: int = 32,
    learning_rate: float | None = None,
    optimizer: str = "adam",
    validation_split: float | None = None,
    patience: int = DEFAULT_PATIENCE,
    seed: int = 0,
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
        With a one-line reason, for any problem with the data or the options. Nothing is
        written then.
    """
    say = log or (lambda line: None)
    notes: list[str] = []
    hidden = _check_hidden(hidden)
    if impute is not None and impute not in IMPUTE_STRATEGIES:
        raise ValueError(f"impute must be one of {', '.join(IMPUTE_STRATEGIES)}, got {impute!r}")
    if impute is not None and drop_missing:
        raise ValueError("choose one of impute and drop_missing, not both")
    if task is not None and task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    if validation_split is not None:
        validation_split = check_real(
            "validation_split", validation_split, minimum=0.0, maximum=1.0, include_max=False
        )
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    patience = check_int("patience", patience, minimum=0)
    seed = check_int("seed", seed, minimum=0)
    opt = get_optimizer(optimizer, learning_rate)

    path = tables.resolve(data)
    model_path = (
        _default_model_path(data, path) if out is None else (None if out is False else Path(out))
    )
    for p, what in ((model_path, "model"), (plot and Path(plot), "plot")):
        if p:
            check_output(p, what, inputs=[path])
    if model_path and plot and Path(plot).resolve() == model_path.resolve():
        raise ValueError("the model and the plot cannot be written to the same file")

    frame, features, kinds, n_read, notes = _training_table(
        data, target, ignore, task, impute, drop_missing
    )
    n = len(frame)
    if n < 2:
        raise ValueError(f"{_name(data)} has {n} usable row: training needs at least 2")

    # the task
    y_raw = frame[target]
    detected = task is None
    if task is None:
        task = _detect_task(y_raw)
    if task == "regression" and y_raw.dtype.kind != "f":
        raise ValueError(
            f"the target column {target!r} holds text "
            f"({str(y_raw.iloc[0])!r} in row {int(y_raw.index[0]) + 1}): "
            f"regression needs numbers; use --task classification"
        )
    labels = _labels(y_raw) if task == "classification" else y_raw.to_numpy(dtype=float)
    if task == "classification" and n > 2 and len(set(labels)) == n:
        raise ValueError(
            f"the target column {target!r} has a different value in every row: "
            f"there is nothing to learn; is it the right column?"
        )

    # the split
    rng = np.random.default_rng(seed)
    if validation_split is None:
        validation_split = DEFAULT_VALIDATION_SPLIT if n >= MIN_ROWS_FOR_VALIDATION else 0.0
        if n < MIN_ROWS_FOR_VALIDATION:
            notes.append(
                f"only {n} rows: no validation split was made (that needs "
                f"{MIN_ROWS_FOR_VALIDATION} or more); every row trains, and early "
                f"stopping watches the training loss"
            )
    train_idx, val_idx = _split(labels, task, validation_split, rng)

    # preprocessing, learned on the training rows only
    pre = TablePreprocessor([(c, kinds[c]) for c in features], target, task, impute=impute)
    pre.fit(frame.iloc[train_idx], labels[train_idx])
    X_train = pre.transform(frame.iloc[train_idx])
    y_train = pre.transform_target(labels[train_idx])
    validation = None
    if len(val_idx):
        validation = (pre.transform(frame.iloc[val_idx]), pre.transform_target(labels[val_idx]))
    for name, kind in pre.columns:
        if kind == "categorical" and len(pre.encoders_[name].categories_) == len(train_idx) > 2:
            notes.append(
                f"column {name!r} has a different value in every row: if it is an "
                f"identifier, --ignore it"
            )

    # the network
    n_out, out_act, loss = _head(task, pre)
    model = Sequential(
        [
            *(Dense(units, activation=activation) for units in hidden),
            Dense(n_out, activation=out_act),
        ]
    )
    model.build((pre.n_inputs,), rng)
    keep_best = EarlyStopping(
        "val_loss" if validation else "loss", patience=patience, restore_best_weights=True
    )

    what = (
        f"{task}, {len(pre.classes)} classes ({', '.join(pre.classes)})"
        if task == "classification"
        else f"regression of {target!r}"
    )
    say(f"data: {_name(data)}, {n} rows; {len(features)} feature columns -> {pre.n_inputs} inputs")
    say(f"task: {what}{' (detected; --task to change)' if detected else ''}")
    say(
        f"split: {len(train_idx)} training rows, {len(val_idx)} validation rows"
        f"{' (stratified)' if task == 'classification' and len(val_idx) else ''}, seed {seed}"
    )
    say(
        f"network: {_architecture(model, pre.n_inputs)}; {type(opt).__name__} "
        f"(learning rate {opt.learning_rate:g}), {LOSS_NAMES[loss]} loss, batches of "
        f"{batch_size}, up to {epochs} epochs"
    )
    for note in notes:
        say(f"note: {note}")

    start = time.perf_counter()
    stopped = "epochs"
    try:
        model.fit(
            X_train,
            y_train,
            loss=loss,
            optimizer=opt,
            epochs=epochs,
            batch_size=batch_size,
            validation_data=validation,
            callbacks=[keep_best, *(callbacks or [])],
            rng=rng,
            verbose=verbose,
        )
        if keep_best.stopped_epoch is not None:
            stopped = "early stopping"
    except KeyboardInterrupt:
        if keep_best.best_weights is None:
            raise Interrupted(
                "interrupted before the first epoch finished: no model was written"
            ) from None
        stopped = "interrupted"
    except TrainingDivergedError as exc:
        raise ValueError(f"training diverged ({exc}); try a smaller --learning-rate") from None
    seconds = time.perf_counter() - start
    best_epoch = None if keep_best.best_epoch is None else keep_best.best_epoch + 1

    model.preprocessing = pre.to_dict()
    model.preprocessing["training"] = {
        "data": str(data),
        "rows": n_read,
        "rows_used": n,
        "train_rows": len(train_idx),
        "validation_rows": len(val_idx),
        "seed": seed,
        "best_epoch": best_epoch,
        "stopped": stopped,
        "ignored": list(ignore),
        "drop_missing": bool(drop_missing),
    }
    metrics = {"training": _metrics(model, pre, X_train, labels[train_idx])}
    if validation:
        metrics["validation"] = _metrics(model, pre, validation[0], labels[val_idx])

    if model_path:
        model.save(model_path)
    plot_path = None
    if plot:
        rows = val_idx if len(val_idx) else train_idx
        plot_path = _plot_report(model, pre, frame, labels, rows, Path(plot), best_epoch)
    return TrainResult(
        model=model,
        preprocessor=pre,
        model_path=model_path,
        plot_path=plot_path,
        metrics=metrics,
        epochs_run=model.history.epochs,
        best_epoch=best_epoch,
        stopped=stopped,
        seconds=seconds,
        train_rows=frame.index[train_idx].to_numpy(),
        validation_rows=frame.index[val_idx].to_numpy(),
        patience=patience,
        notes=notes,
    )


def _training_table(data, target, ignore, task, impute, drop_missing):
    """Read the table, type its columns, deal with missing values (never silently).

    Returns ``(frame, features, kinds, n_read, notes)``: ``frame`` holds the feature columns
    and the target, typed; ``n_read`` is the number of rows before any was dropped.
    """
    notes = []
    frame = tables.read_csv(data)
    _check_columns(frame, [target], data, what="target column")
    _check_columns(frame, list(ignore), data, what="column to --ignore")
    if target in ignore:
        raise ValueError(f"the target column {target!r} cannot also be ignored")
    features = [c for c in frame.columns if c != target and c not in set(ignore)]
    if not features:
        raise ValueError(
            f"no feature columns left: {_name(data)} has only {', '.join(map(repr, frame.columns))}"
        )
    for name in features:
        if frame[name].isna().all():
            raise ValueError(f"column {name!r} of {_name(data)} is empty: --ignore it")
    kinds = tables.column_kinds(frame[features])
    target_kind = (
        "categorical" if task == "classification" else tables.column_kinds(frame[[target]])[target]
    )
    frame = tables.typed(frame[[*features, target]], {**kinds, target: target_kind})

    n_read = len(frame)
    if drop_missing:
        frame = frame.dropna()
        dropped = n_read - len(frame)
        if len(frame) == 0:
            raise ValueError(
                f"every row of {_name(data)} has a missing value: "
                f"--drop-missing leaves nothing to learn from"
            )
        if dropped:
            notes.append(f"dropped {dropped} of {n_read} rows with missing values")
    else:
        if frame[target].isna().any():
            raise ValueError(
                f"the target column {target!r} has {_missing(frame[target])}: "
                f"use --drop-missing to leave those rows out"
            )
        if impute is None:
            for name in features:
                if frame[name].isna().any():
                    raise ValueError(
                        f"column {name!r} has {_missing(frame[name])}: use "
                        f"--impute mean|median|most_frequent, or --drop-missing"
                    )
    return frame, features, kinds, n_read, notes


def _check_hidden(hidden) -> tuple[int, ...]:
    if isinstance(hidden, str):
        hidden = parse_hidden(hidden)
    hidden = tuple(hidden)
    for units in hidden:
        if isinstance(units, bool) or not isinstance(units, int | np.integer) or units < 1:
            raise ValueError(f"hidden layer sizes must be integers >= 1, got {units!r}")
    return hidden


def parse_hidden(text: str) -> tuple[int, ...]:
    """``"64,32"`` -> ``(64, 32)``; ``""`` or ``"none"`` -> ``()`` (no hidden layer)."""
    text = text.strip()
    if text.lower() in ("", "none", "0"):
        return ()
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ValueError(
            f"hidden must be sizes separated by commas, e.g. 64,32; got {text!r}"
        ) from None
    return _check_hidden(sizes)


def _head(task, pre):
    """``(units, activation, loss)`` of the output layer."""
    if task == "regression":
        return 1, None, "mse"
    if len(pre.classes) == 2:
        return 1, "sigmoid", "bce"
    return len(pre.classes), "softmax", "cross_entropy"


def _detect_task(y) -> str:
    if y.dtype.kind != "f":
        return "classification"
    values = y.to_numpy(dtype=float)
    if tables.is_integer_valued(values) and len(np.unique(values)) <= MAX_INTEGER_CLASSES:
        return "classification"
    return "regression"


def _labels(y) -> np.ndarray:
    """Class labels as strings; numbers written canonically (``1.0`` -> ``"1"``)."""
    if y.dtype.kind == "f":
        return np.array([tables.canonical_number(v) for v in y.to_numpy(dtype=float)], dtype=object)
    return y.to_numpy(dtype=object).astype(str).astype(object)


def _split(labels, task, fraction, rng):
    n = len(labels)
    if fraction == 0:
        return np.arange(n), np.arange(0)
    if task == "classification":
        _, codes = np.unique(labels.astype(str), return_inverse=True)
        val_idx = stratified_holdout(codes, fraction, rng)
    else:
        val_idx = rng.permutation(n)[: int(round(n * fraction))]
    if len(val_idx) == 0 or len(val_idx) >= n:
        raise ValueError(
            f"--validation-split {fraction:g} leaves {n - len(val_idx)} training "
            f"and {len(val_idx)} validation rows out of {n}; choose another, or 0"
        )
    mask = np.ones(n, dtype=bool)
    mask[val_idx] = False
    return np.flatnonzero(mask), np.sort(val_idx)


def _architecture(model, n_inputs) -> str:
    parts = [str(n_inputs)]
    for layer in model.layers:
        act = layer.activation.name
        parts.append(f"{layer.units}" + ("" if act == "identity" else f" {act}"))
    return f"{' -> '.join(parts)} ({model.n_params:,} parameters)"


# ---------------------------------------------------------------------------------- metrics


def _metrics(model, pre, X, labels) -> dict[str, float]:
    """Loss and accuracy + macro F1 (classification) or RMSE, MAE, R² in original units."""
    output = model.predict(X)
    result = {"loss": model.evaluate(X, pre.transform_target(labels))["loss"]}
    if pre.task == "classification":
        k = len(pre.classes)
        true = pre.transform_target(labels)
        pred = _codes(output)
        matrix = confusion_matrix(true, pred, k)
        result.update(accuracy=float(np.trace(matrix) / matrix.sum()), macro_f1=macro_f1(matrix))
    else:
        result.update(
            regression_metrics(np.asarray(labels, dtype=float), pre.inverse_target(output[:, 0]))
        )
    return result


def _codes(output) -> np.ndarray:
    return (output[:, 0] >= 0.5).astype(np.intp) if output.shape[1] == 1 else output.argmax(axis=1)


def confusion_matrix(true, pred, k) -> np.ndarray:
    from glassnet.plotting import confusion_matrix as counts

    return counts(true, pred, k)


def macro_f1(matrix) -> float:
    """The mean over classes of ``F1 = 2 P R / (P + R)``; a class never predicted nor present
    counts as 0 only if it is present (as scikit-learn's ``zero_division=0`` for seen labels)."""
    matrix = np.asarray(matrix, dtype=float)
    tp = np.diag(matrix)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    denominator = predicted + actual  # 2TP + FP + FN
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    present = (actual > 0) | (predicted > 0)
    return float(f1[present].mean()) if present.any() else 0.0


def regression_metrics(y_true, y_pred) -> dict[str, float]:
    """RMSE, MAE and R² (``1 - SS_res / SS_tot``; NaN when the true values are constant)."""
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    residual = y_true - y_pred
    ss_res = float(residual @ residual)
    ss_tot = float(((y_true - y_true.mean()) ** 2).sum())
    return {
        "rmse": math.sqrt(ss_res / len(y_true)),
        "mae": float(np.abs(residual).mean()),
        "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else math.nan,
    }


# ---------------------------------------------------------------------------------- predict


def load_model(path):
    """A model file written by ``glassnet train``, with its table preprocessing."""
    from glassnet.io.model_file import load

    model = load(path)
    return model, TablePreprocessor.from_dict(model.preprocessing)


def _prepare(pre, data, *, target=None, drop_missing=False):
    """Read ``data`` and check it against the model's columns: ``(frame, used, notes)``.

    ``frame`` is the table as read (text); ``used`` holds the model's columns (and the
    column ``target``, if given), typed, without the rows left out by ``drop_missing``.
    Extra columns are ignored; a column the model needs is an error naming it.
    """
    frame = tables.read_csv(data)
    names = [name for name, _ in pre.columns]
    absent = [c for c in names if c not in frame.columns]
    if absent:
        raise ValueError(
            f"{_name(data)} has no column {absent[0]!r}, which the model needs "
            f"(it needs {', '.join(map(repr, names))}; extra columns are ignored)"
        )
    kinds = dict(pre.columns)
    if target is not None:
        if target not in frame.columns:
            raise ValueError(
                f"{_name(data)} has no target column {target!r}; its columns "
                f"are: {', '.join(map(repr, frame.columns))}"
            )
        if target in kinds:
            raise ValueError(f"{target!r} is one of the model's input columns, not a target")
        numeric_labels = all(tables.is_number(c) for c in pre.classes or [])
        kinds[target] = "numeric" if pre.task == "regression" or numeric_labels else "categorical"
    used = tables.typed(frame[list(kinds)], kinds)
    notes = []
    if drop_missing:
        missing = used.isna().any(axis=1).to_numpy()
        if missing.all():
            raise ValueError(f"every row of {_name(data)} has a missing value")
        if missing.any():
            notes.append(f"left out {int(missing.sum())} of {len(frame)} rows with missing values")
            used = used[~missing]
    elif target is not None and used[target].isna().any():
        raise ValueError(
            f"the target column {target!r} has {_missing(used[target])}: use "
            f"--drop-missing to leave those rows out"
        )
    return frame, used, notes


def _inputs(pre, features, notes):
    try:
        X = pre.transform(features)
    except MissingValueError as exc:
        raise ValueError(
            f"column {exc.column!r} has {_plural(exc.count, 'missing value')} "
            f"(first in row {exc.row}) and the model has no value to fill them "
            f"with: fill them, use --drop-missing, or train with --impute"
        ) from None
    for name, (count, first) in pre.unknown_.items():
        notes.append(
            f"column {name!r}: {_plural(count, 'row')} with a category the "
            f"model never saw (first {first!r}); encoded as none of the known ones"
        )
    return X


def predict(model, data, *, proba=False, drop_missing=False):
    """Predictions for the rows of ``data``: ``(frame, notes)``.

    ``frame`` is the input's rows as read, plus ``predicted_<target>`` (the original labels,
    or numbers in the target's units) and, with ``proba``, one ``P(<label>)`` column per
    class. ``model`` is a Sequential made by :func:`train` or a path to its file.
    """
    model, pre = (
        load_model(model)
        if not isinstance(model, Sequential)
        else (model, TablePreprocessor.from_dict(model.preprocessing))
    )
    if proba and pre.task != "classification":
        raise ValueError("--proba needs a classification model; this one does regression")
    frame, features, notes = _prepare(pre, data, drop_missing=drop_missing)
    X = _inputs(pre, features, notes)
    output = model.predict(X)
    out = frame.loc[features.index].copy()
    column = _free_name(f"predicted_{pre.target}", out.columns)
    if pre.task == "classification":
        out[column] = pre.inverse_target(output)
        if proba:
            p = pre.probabilities(output)
            for k, label in enumerate(pre.classes):
                out[_free_name(f"P({label})", out.columns)] = np.round(p[:, k], 6)
    else:
        out[column] = pre.inverse_target(output[:, 0])
    return out, notes


def _free_name(name, taken) -> str:
    candidate, k = name, 2
    while candidate in set(taken):
        candidate, k = f"{name}_{k}", k + 1
    return candidate


def write_csv(frame, path) -> Path:
    """Write ``frame`` to ``path`` atomically (a temporary file renamed over the target)."""
    path = Path(path)
    check_output(path, "output")
    with (
        atomic_path(path, what="predictions") as tmp,
        open(tmp, "w", newline="", encoding="utf-8") as f,
    ):
        frame.to_csv(f, index=False)
    return path


# ---------------------------------------------------------------------------------- evaluate


def evaluate(model, data, *, target=None, drop_missing=False, plot=None) -> EvaluateResult:
    """The model's metrics on ``data``, whose column ``target`` (by default the model's
    target) holds the true values; with ``plot``, a PNG of the confusion matrix
    (classification) or of the predictions against the true values (regression)."""
    from glassnet.tabular.preprocessing import UnknownLabelError

    model, pre = (
        load_model(model)
        if not isinstance(model, Sequential)
        else (model, TablePreprocessor.from_dict(model.preprocessing))
    )
    if plot:
        check_output(Path(plot), "plot")
    target = pre.target if target is None else target
    _, features, notes = _prepare(pre, data, target=target, drop_missing=drop_missing)
    X = _inputs(pre, features, notes)
    y = features[target]
    labels = _labels(y) if pre.task == "classification" else y.to_numpy(dtype=float)
    try:
        metrics = _metrics(model, pre, X, labels)
    except UnknownLabelError as exc:
        row = int(features.index[exc.position]) + 1
        raise ValueError(
            f"the target column {target!r} has the label {exc.label!r} in row "
            f"{row}, which the model never saw (it knows: "
            f"{', '.join(exc.classes)})"
        ) from None
    result = EvaluateResult(
        data=str(data),
        task=pre.task,
        target=target,
        n_rows=len(features),
        metrics=metrics,
        notes=notes,
    )
    output = model.predict(X)
    if pre.task == "classification":
        result.classes = list(pre.classes)
        result.confusion = confusion_matrix(
            pre.transform_target(labels), _codes(output), len(pre.classes)
        )
    if plot:
        from glassnet import plotting

        if pre.task == "classification":
            result.plot_path = plotting.plot_confusion_matrix(
                result.confusion, plot, labels=pre.classes, title=f"Confusion matrix: {_name(data)}"
            )
        else:
            result.plot_path = plotting.plot_predictions(
                labels,
                pre.inverse_target(output[:, 0]),
                plot,
                name=pre.target,
                title=f"{_name(data)}: predicted against true",
            )
    return result


# ---------------------------------------------------------------------------------- reports


def format_train_report(result: TrainResult) -> str:
    """The short summary printed after training."""
    pre = result.preprocessor
    lines = []
    watched = "validation" if result.n_validation else "training"
    how = {
        "early stopping": f"early stopping: no better {watched} loss in "
        f"{result.patience + 1} epochs",
        "epochs": "all epochs ran",
        "interrupted": "interrupted by Ctrl-C",
    }[result.stopped]
    lines.append(
        f"epochs: {result.epochs_run} ({how}); kept the weights of epoch "
        f"{result.best_epoch}; {result.seconds:.1f} s"
    )
    lines.append(format_metrics_table(result.metrics, pre.task))
    if result.model_path:
        prefix = "best model so far written to" if result.interrupted else "model written to"
        lines.append(f"{prefix} {result.model_path}")
    if result.plot_path:
        lines.append(f"plot written to {result.plot_path}")
    return "\n".join(lines)


def format_metrics_table(metrics: dict[str, dict[str, float]], task: str) -> str:
    keys = (
        ["loss", "accuracy", "macro_f1"]
        if task == "classification"
        else ["loss", "rmse", "mae", "r2"]
    )
    width = max(len(split) for split in metrics)
    rows = [" " * width + "".join(f"{METRIC_NAMES[k]:>11}" for k in keys)]
    for split, values in metrics.items():
        rows.append(f"{split:<{width}}" + "".join(f"{_fmt(values[k]):>11}" for k in keys))
    return "\n".join(rows)


def _fmt(value: float) -> str:
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
    lines = [
        f"evaluated on {result.data!r}: {result.n_rows} rows, target {result.target!r} "
        f"({result.task})"
    ]
    lines += [f"  {METRIC_NAMES[k]:<9} {_fmt(v)}" for k, v in result.metrics.items()]
    if result.confusion is not None:
        lines += [
            "",
            "confusion matrix (rows: true label, columns: predicted):",
            format_confusion(result.confusion, result.classes),
        ]
    if result.plot_path:
        lines.append(f"plot written to {result.plot_path}")
    return "\n".join(lines)


def describe(model) -> str:
    """Architecture, parameter counts, preprocessing and a digest of the training history."""
    lines = [model.format_summary()]
    pre_dict = model.preprocessing
    if isinstance(pre_dict, dict) and pre_dict.get("kind") == "table":
        pre = TablePreprocessor.from_dict(pre_dict)
        lines += [
            "",
            "preprocessing (learned on the training rows; inputs are standardised "
            "as (x - mean) / scale):",
            f"  target: {pre.target!r}, {pre.task}"
            + (
                f", labels {', '.join(pre.classes)}"
                if pre.classes
                else f", standardised with mean {pre.target_scaler_.mean_[0]:.6g}, scale "
                f"{pre.target_scaler_.scale_[0]:.6g}"
            ),
        ]
        mean, scale = pre.standardizer_.mean_, pre.standardizer_.scale_
        position = 0
        for name, kind in pre.columns:
            fill = pre.fills_.get(name)
            filled = (
                ""
                if fill is None
                else f", missing -> {fill!r}"
                if isinstance(fill, str)
                else f", missing -> {fill:.6g}"
            )
            if kind == "numeric":
                lines.append(
                    f"  {name}: numeric, mean {mean[position]:.6g}, scale "
                    f"{scale[position]:.6g}{filled}"
                )
                position += 1
            else:
                categories = pre.encoders_[name].categories_
                shown = ", ".join(categories[:8]) + (", ..." if len(categories) > 8 else "")
                lines.append(
                    f"  {name}: one-hot, {len(categories)} categories ({shown}); "
                    f"unknown -> all zeros{filled}"
                )
                position += len(categories)
        info = pre_dict.get("training") or {}
        if info:
            lines.append(
                f"  trained on {info.get('data')!r}: {info.get('train_rows')} training"
                f" rows, {info.get('validation_rows')} validation rows, seed "
                f"{info.get('seed')}"
                + (f"; ignored {', '.join(info['ignored'])}" if info.get("ignored") else "")
            )
    elif pre_dict is not None and pre_dict.get("kind") == "image":
        shape = "x".join(str(s) for s in pre_dict.get("shape", []))
        lines += [
            "",
            f"preprocessing: images of shape {shape}, pixels divided by {pre_dict.get('scale')}",
        ]
        lines += [
            f"  {key}: {pre_dict[key]}"
            for key in ("colours", "centring", "classes")
            if key in pre_dict
        ]
    elif pre_dict is not None:
        lines += ["", "preprocessing: (not a table model)"]
    else:
        lines += ["", "preprocessing: none stored"]
    history = model.history.history
    if history.get("loss"):
        lines += ["", "training history:"]
        info = (pre_dict or {}).get("training", {}) if isinstance(pre_dict, dict) else {}
        best = info.get("best_epoch")
        epochs = len(history["loss"])
        stopped = {"epochs": "all epochs ran"}.get(info.get("stopped"), info.get("stopped"))
        lines.append(
            f"  {epochs} epochs"
            + (f" ({stopped})" if stopped else "")
            + (f"; kept the weights of epoch {best}" if best else "")
        )
        at = (best or epochs) - 1
        for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
            values = history.get(key)
            if values:
                lines.append(
                    f"  {key:<13} first {values[0]:.4f}   at epoch {at + 1}: "
                    f"{values[min(at, len(values) - 1)]:.4f}   last {values[-1]:.4f}"
                )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- helpers


def _plot_report(model, pre, frame, labels, rows, path, best_epoch) -> Path:
    from glassnet import plotting

    X = pre.transform(frame.iloc[rows])
    output = model.predict(X)
    options = {"best_epoch": best_epoch, "labels": pre.classes}
    if pre.task == "classification":
        true = pre.transform_target(labels[rows])
        options["confusion"] = confusion_matrix(true, _codes(output), len(pre.classes))
    else:
        options["predictions"] = (labels[rows], pre.inverse_target(output[:, 0]), pre.target)
    if (
        pre.task == "classification"
        and len(pre.columns) == 2
        and all(kind == "numeric" for _, kind in pre.columns)
    ):
        names = [name for name, _ in pre.columns]
        import pandas as pd

        def transform(grid):
            return pre.transform(pd.DataFrame(grid, columns=names))

        every = np.arange(len(frame))
        options["boundary"] = {
            "model": model,
            "X": frame[names].to_numpy(dtype=float),
            "y": pre.transform_target(labels[every]),
            "transform": transform,
            "axis_labels": names,
        }
    return plotting.plot_training_report(model.history, path, **options)


def _check_columns(frame, names, data, *, what):
    for name in names:
        if name not in frame.columns:
            raise ValueError(
                f"{_name(data)} has no {what} {name!r}; its columns are: "
                f"{', '.join(map(repr, frame.columns))}"
            )


def check_output(path: Path, what: str, inputs=()) -> None:
    """Fail before any work if ``path`` cannot be written, or would overwrite an input."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(
            f"cannot write the {what} to {str(path)!r}: the folder {str(folder)!r} does not exist"
        )
    if path.is_dir():
        raise ValueError(f"cannot write the {what} to {str(path)!r}: it is a folder")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"cannot write the {what} to {str(path)!r}: the folder is not writable")
    for source in inputs:
        if path.exists() and path.resolve() == Path(source).resolve():
            raise ValueError(f"the {what} would overwrite the input file {str(path)!r}")


def _default_model_path(data, path: Path) -> Path:
    """``<stem>.safetensors`` next to the data — or here, for a table shipped with glassnet."""
    shipped = not Path(data).exists()
    folder = Path(".") if shipped else path.parent
    return folder / f"{path.stem}{MODEL_SUFFIX}"


def _plural(count: int, word: str) -> str:
    return f"{int(count)} {word}{'' if int(count) == 1 else 's'}"


def _missing(column) -> str:
    """``"2 missing values (first in row 4)"`` for a column (rows counted from 1)."""
    missing = column.isna().to_numpy()
    first = int(column.index[np.argmax(missing)]) + 1
    return f"{_plural(missing.sum(), 'missing value')} (first in row {first})"


def _name(data) -> str:
    return repr(str(data))
