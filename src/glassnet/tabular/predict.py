"""A trained table model at work: predictions for new rows, and metrics on rows with answers.

Both take a CSV file, a shipped table or a pandas DataFrame (read as training reads it:
:func:`glassnet.datasets.tabular.read_table`), check it against the model's columns (extra
columns are ignored, a missing one is an error naming it), encode it with the stored
:class:`TablePreprocessor`, and never fill a missing value the model has no fill for.
Evaluation leaves out the rows whose true value is missing, and says how many.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from glassnet.datasets import tabular as tables
from glassnet.errors import InputValueError, Param
from glassnet.io.files import atomic_path, check_output
from glassnet.tabular.columns import check_columns, name_of, plural, spelled_as, with_target
from glassnet.tabular.preprocessing import (
    MissingValueError,
    TablePreprocessor,
    UnknownLabelError,
    check_range,
)
from glassnet.tabular.report import EvaluateResult
from glassnet.training.heads import decode
from glassnet.training.metrics import accuracy, confusion_matrix, macro_f1, regression_metrics


def load_model(path):
    """A model file written by ``tabular.train``, with its table preprocessing:
    ``(model, preprocessor)``."""
    from glassnet.io.model_file import load

    return _with_table(load(path))


def _with_table(model):
    """``(model, its TablePreprocessor)``; ValueError when the model has none."""
    from glassnet.nn.model import Sequential

    if not isinstance(model, Sequential):
        return load_model(model)
    if not isinstance(model.preprocessing, TablePreprocessor):
        raise InputValueError(
            "the model file holds no table preprocessing (it was not made by `glassnet train`)"
        )
    return model, model.preprocessing


def predict(model, data, *, proba=False, drop_missing=False, id=None):  # noqa: A002
    """Predictions for the rows of ``data``: ``(frame, notes)``.

    ``frame`` is the input's rows as read (a CSV file's as text, a DataFrame's as they are,
    with its index) — or, given ``id`` (a column's name), that column alone — followed by
    ``predicted_<target>`` (the labels spelled as in training, or numbers in the target's
    units) and, with ``proba``, one ``P(<label>)`` column per class. ``model`` is a
    Sequential made by :func:`train` or a path to its file.
    """
    model, pre = _with_table(model)
    if proba and pre.task != "classification":
        raise InputValueError(
            "{proba} needs a classification model; this one does regression",
            proba=Param("proba", True),
        )
    frame, features, notes = _prepare(pre, data, drop_missing=drop_missing, id=id)
    output = model.predict(_inputs(pre, features, notes))
    rows = features.index.to_numpy()  # positions; a DataFrame's names may be other than text
    ids = [] if id is None else [[str(c) for c in frame.columns].index(id)]
    out = (frame.iloc[rows] if id is None else frame.iloc[rows, ids]).copy()
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


def evaluate(model, data, *, target=None, drop_missing=False, plot=None) -> EvaluateResult:
    """The model's metrics on ``data``, whose column ``target`` (by default the model's
    target) holds the true values; with ``plot``, a PNG of the confusion matrix
    (classification) or of the predictions against the true values (regression)."""
    model, pre = _with_table(model)
    if plot:
        check_output(plot, "plot", param="plot")
    target = pre.target if target is None else target
    features, notes, X, labels = labelled_rows(pre, data, target, drop_missing)
    if pre.task == "regression":
        _check_target_range(pre, target, labels, features)
    try:
        metrics = table_metrics(model, pre, X, labels)
    except UnknownLabelError as exc:
        row = int(features.index[exc.position]) + 1
        raise InputValueError(
            f"the target column {target!r} has the label {exc.label!r} in row {row}, which "
            f"the model never saw (it knows: {', '.join(exc.classes)})"
        ) from None
    result = EvaluateResult(name_of(data), pre.task, target, len(features), metrics, notes=notes)
    output = model.predict(X)
    if pre.task == "classification":
        result.classes = list(pre.classes)
        true = pre.transform_target(labels)
        result.confusion = confusion_matrix(true, decode(output), len(pre.classes))
    if plot:
        result.plot_path = _plot_evaluation(result, pre, labels, output, plot, data)
    return result


def labelled_rows(pre, data, target: str, drop_missing: bool):
    """The rows of ``data`` that have an answer in column ``target``, as the model reads them:
    ``(features, notes, X, labels)`` — the kept rows, what was said about them, the encoded
    inputs, and the true values (a classifier's labels spelled as the model spells them)."""
    _, features, notes = _prepare(pre, data, target=target, drop_missing=drop_missing)
    X = _inputs(pre, features, notes)
    y = features[target]
    if pre.task == "classification":
        labels = spelled_as(y.to_numpy(dtype=object).astype(str), pre.classes)
    else:
        labels = y.to_numpy(dtype=float)
    return features, notes, X, labels


def table_metrics(model, pre, X, labels) -> dict[str, float]:
    """Loss and accuracy + macro F1 (classification) or RMSE, MAE, R² in original units."""
    output = model.predict(X)
    result = {"loss": model.evaluate(X, pre.transform_target(labels))["loss"]}
    if pre.task == "classification":
        true = pre.transform_target(labels)
        matrix = confusion_matrix(true, decode(output), len(pre.classes))
        result.update(accuracy=accuracy(true, decode(output)), macro_f1=macro_f1(matrix))
    else:
        truth = np.asarray(labels, dtype=float)
        result.update(regression_metrics(truth, pre.inverse_target(output[:, 0])))
    return result


def write_csv(frame, path) -> Path:
    """Write ``frame`` to ``path`` atomically (a temporary file renamed over the target)."""
    path = Path(path)
    check_output(path, "output", param="path")
    with (
        atomic_path(path, what="predictions") as tmp,
        open(tmp, "w", newline="", encoding="utf-8") as f,
    ):
        frame.to_csv(f, index=False)
    return path


def _plot_evaluation(result, pre, labels, output, plot, data) -> Path:
    from glassnet import plotting

    if pre.task == "classification":
        title = f"Confusion matrix: {name_of(data)}"
        return plotting.plot_confusion_matrix(
            result.confusion, plot, labels=pre.classes, title=title
        )
    return plotting.plot_predictions(
        labels,
        pre.inverse_target(output[:, 0]),
        plot,
        name=pre.target,
        title=f"{name_of(data)}: predicted against true",
    )


def _prepare(pre, data, *, target=None, drop_missing=False, id=None):  # noqa: A002
    """Read ``data`` and check it against the model's columns: ``(frame, used, notes)``.

    ``frame`` is the table as given (a CSV file's text, or the DataFrame); ``used`` holds the
    model's columns (and the column ``target``, if given, as text for a classifier), typed,
    without the rows whose target is missing or left out by ``drop_missing``; its index
    holds their positions in ``frame``.
    """
    text = tables.read_table(data)
    names = [name for name, _ in pre.columns]
    absent = [c for c in names if c not in text.columns]
    if absent:
        raise InputValueError(
            f"{name_of(data)} has no column {absent[0]!r}, which the model needs "
            f"(it needs {', '.join(map(repr, names))}; extra columns are ignored)"
        )
    if id is not None:
        check_columns(text, [id], data, param="id")
    kinds = dict(pre.columns)
    notes = []
    if target is not None:
        check_columns(text, [target], data, param="target")
        if target in kinds:
            raise InputValueError(f"{target!r} is one of the model's input columns, not a target")
        kinds[target] = "numeric" if pre.task == "regression" else "categorical"
    used = tables.typed(text[list(kinds)], kinds)
    if target is not None:
        used = with_target(used, target, data, notes)
    if drop_missing:
        missing = used[names].isna().any(axis=1).to_numpy()
        if missing.all():
            raise InputValueError(f"every row of {name_of(data)} has a missing value")
        if missing.any():
            notes.append(
                f"left out {int(missing.sum())} of {len(text)} rows with missing feature values"
            )
            used = used[~missing]
    return data if tables.is_frame(data) else text, used, notes


def _check_target_range(pre, target, values, frame) -> None:
    """The true values must fit the network's float32, as read and once standardised."""
    check_range(target, values, frame)
    scaler = pre.target_scaler_
    standardised = pre.transform_target(values)
    check_range(target, values, frame, standardised, (scaler.mean_[0], scaler.scale_[0]))


def _inputs(pre, features, notes):
    try:
        X = pre.transform(features)
    except MissingValueError as exc:
        raise InputValueError(
            "column {column!r} has {count} (first in row {row}) and the model has no value "
            "to fill them with: fill them, use {drop}, or train with {impute}",
            column=exc.column,
            count=plural(exc.count, "missing value"),
            row=exc.row,
            drop=Param("drop_missing", True),
            impute=Param("impute"),
        ) from None
    for name, (count, first) in pre.unknown_.items():
        notes.append(
            f"column {name!r}: {plural(count, 'row')} with a category the "
            f"model never saw (first {first!r}); encoded as none of the known ones"
        )
    return X


def _free_name(name, taken) -> str:
    candidate, k = name, 2
    while candidate in set(taken):
        candidate, k = f"{name}_{k}", k + 1
    return candidate
