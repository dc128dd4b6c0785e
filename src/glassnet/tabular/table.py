"""The training table: read and typed, its missing values dealt with (never silently), its
task decided, its rows split into training and validation, its preprocessing learned.

These are the first steps of :func:`glassnet.tabular.train`, which :func:`prepare_table`
runs in order; :class:`TrainingTable` holds what they make. The table is a CSV file, a
shipped table or a pandas DataFrame, read as text either way
(:func:`glassnet.datasets.tabular.read_table`), so that the same values give the same model.

Missing values: a row whose target is missing has nothing to learn from, and is always left
out (and counted in a note); missing feature values are an error naming the column, unless
``impute`` fills them or ``drop_missing`` leaves their rows out.

A text column with many distinct values gets a note before training: one-hot encoding makes
an input of each value, and a network learns such a column's rows by heart. "Many" is more
than :data:`MANY_CATEGORIES` values, which are more than :data:`MANY_CATEGORIES_SHARE` of the
training rows (a name per passenger: 257 names in 325 rows); a column with a different value
in every row is said to look like an identifier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glassnet.datasets import tabular as tables
from glassnet.errors import InputTypeError, InputValueError, Param
from glassnet.tabular.columns import (
    Note,
    check_columns,
    class_labels,
    detect_task,
    missing_of,
    name_of,
    with_target,
)
from glassnet.tabular.encoders import IMPUTE_STRATEGIES, check_range
from glassnet.tabular.preprocessing import TablePreprocessor
from glassnet.training.batches import stratified_holdout
from glassnet.training.heads import Head, head_for

DEFAULT_VALIDATION_SPLIT = 0.2
#: below this many rows the whole table trains: a handful of validation rows says nothing
MIN_ROWS_FOR_VALIDATION = 20
#: a text column with more distinct values than this, which are more than
#: MANY_CATEGORIES_SHARE of the training rows, gets a note (see the module's docstring)
MANY_CATEGORIES = 20
MANY_CATEGORIES_SHARE = 0.5


@dataclass
class TrainingTable:
    """The rows a network learns from: typed, split, with the preprocessing learned on the
    training rows."""

    data: object  # the path, the shipped table's name or the DataFrame, as given
    frame: object  # pandas DataFrame: the feature columns (typed) and the target (as text)
    features: list[str]
    labels: np.ndarray  # label strings (classification) or floats (regression), one per row
    detected: bool  # the task was detected from the target rather than given
    n_read: int  # rows in the table, before any was left out
    train_idx: np.ndarray  # positions in ``frame`` of the training rows
    val_idx: np.ndarray  # and of the validation rows (maybe none)
    pre: TablePreprocessor
    notes: list[str]

    @property
    def head(self) -> Head:
        """The output layer and loss for the table's task and classes."""
        return head_for(self.pre.task, len(self.pre.classes) if self.pre.classes else 1)

    def inputs(self, rows) -> np.ndarray:
        """The network's input matrix for the rows at positions ``rows``."""
        return self.pre.transform(self.frame.iloc[rows])

    def targets(self, rows) -> np.ndarray:
        """What the loss expects for those rows (class codes, or the standardised target)."""
        return self.pre.transform_target(self.labels[rows])


def prepare_table(data, target, ignore, impute, options) -> TrainingTable:
    """Read ``data``, decide the task, split off the validation rows and learn the
    preprocessing on the training rows.

    ``options`` are ``train``'s checked options: ``task`` (None: detect it),
    ``drop_missing``, ``split`` (the validation share; None: see :func:`split_rows`) and
    ``rng``.
    """
    frame, features, kinds, n_read, notes = training_table(
        data, target, check_ignore(ignore), options.task, impute, options.drop_missing
    )
    task, labels, detected = task_and_labels(frame, target, options.task)
    train_idx, val_idx = split_rows(labels, task, options.split, options.rng, notes)
    pre = TablePreprocessor([(c, kinds[c]) for c in features], target, task, impute=impute)
    pre.fit(frame.iloc[train_idx], labels[train_idx])
    note_many_categories(pre, len(train_idx), notes)
    return TrainingTable(
        data, frame, features, labels, detected, n_read, train_idx, val_idx, pre, notes
    )


def check_ignore(ignore) -> list[str]:
    """``ignore`` as a list of column names: one name, or a sequence of them."""
    return [ignore] if isinstance(ignore, str) else list(ignore)


def training_table(data, target, ignore, task, impute, drop_missing):
    """Read the table, type its columns, deal with missing values (never silently).

    Returns ``(frame, features, kinds, n_read, notes)``: ``frame`` holds the feature columns,
    typed, and the target, as text; ``n_read`` is the number of rows before any was left out.
    """
    frame = tables.read_table(data)
    if not isinstance(target, str):
        raise InputTypeError(
            "{target} must be a column name (a string), got {value!r}",
            target=Param("target"),
            value=target,
        )
    check_columns(frame, [target], data, param="target")
    for name in ignore:
        if name not in frame.columns:
            raise InputValueError(
                "{data} has no column {name!r} (given in {ignore}); its columns are: {columns}",
                data=name_of(data),
                name=name,
                ignore=Param("ignore"),
                columns=", ".join(map(repr, frame.columns)),
            )
    if target in ignore:
        raise InputValueError(f"the target column {target!r} cannot also be ignored")
    features = [c for c in frame.columns if c != target and c not in set(ignore)]
    if not features:
        raise InputValueError(
            f"no feature columns left: {name_of(data)} has only "
            f"{', '.join(map(repr, frame.columns))}"
        )
    for name in features:
        if frame[name].isna().all():
            raise InputValueError(
                "column {name!r} of {data} is empty: add it to {ignore}",
                name=name,
                data=name_of(data),
                ignore=Param("ignore"),
            )
    kinds = tables.column_kinds(frame[features])
    n_read, notes = len(frame), []
    frame = with_target(frame, target, data, notes)
    frame = tables.typed(frame[[*features, target]], kinds)
    if drop_missing:
        frame = _drop_missing(frame, features, data, n_read, notes)
    elif impute is None:
        _refuse_missing(frame, features)
    if len(frame) < 2:
        raise InputValueError(
            f"{name_of(data)} has {len(frame)} usable row: training needs at least 2"
        )
    return frame, features, kinds, n_read, notes


def _drop_missing(frame, features, data, n_read, notes):
    """``drop_missing``: the rows with every feature present; the others counted in a note."""
    kept = frame.dropna(subset=features)
    if len(kept) == 0:
        raise InputValueError(
            "every row of {data} has a missing value: {drop} leaves nothing to learn from",
            data=name_of(data),
            drop=Param("drop_missing", True),
        )
    if len(kept) < len(frame):
        notes.append(
            f"dropped {len(frame) - len(kept)} of {n_read} rows with missing feature values"
        )
    return kept


def _refuse_missing(frame, features) -> None:
    for name in features:
        if frame[name].isna().any():
            raise InputValueError(
                "column {name!r} has {missing}: use {impute}, or {drop}",
                name=name,
                missing=missing_of(frame[name]),
                impute=Param("impute", choices=IMPUTE_STRATEGIES),
                drop=Param("drop_missing", True),
            )


def task_and_labels(frame, target, task):
    """``(task, labels, detected)``: labels are strings as the table spells them
    (classification: :func:`~glassnet.tabular.columns.class_labels`) or floats."""
    column = frame[[target]]
    kinds = {target: "categorical"} if task == "classification" else tables.column_kinds(column)
    y = tables.typed(column, kinds)[target]
    detected = task is None
    if task is None:
        task = detect_task(y)
    if task == "regression" and y.dtype.kind != "f":
        raise InputValueError(
            "the target column {target!r} holds text ({value!r} in row {row}): regression "
            "needs numbers; use {task}",
            target=target,
            value=str(y.iloc[0]),
            row=int(y.index[0]) + 1,
            task=Param("task", "classification"),
        )
    labels = class_labels(frame[target]) if task == "classification" else y.to_numpy(float)
    if task == "regression":
        check_range(target, labels, frame)  # 1e308 would train, and print a 300-digit R²
    if task == "classification" and len(labels) > 2 and len(set(labels)) == len(labels):
        raise InputValueError(
            f"the target column {target!r} has a different value in every row: "
            f"there is nothing to learn; is it the right column?"
        )
    return task, labels, detected


def split_rows(labels, task, fraction, rng, notes):
    """``(train_idx, val_idx)``: a shuffled holdout, stratified by class."""
    n = len(labels)
    if fraction is None:
        fraction = DEFAULT_VALIDATION_SPLIT if n >= MIN_ROWS_FOR_VALIDATION else 0.0
        if n < MIN_ROWS_FOR_VALIDATION:
            notes.append(
                f"only {n} rows: no validation split was made (that needs "
                f"{MIN_ROWS_FOR_VALIDATION} or more); every row trains, and early "
                f"stopping watches the training loss"
            )
    if fraction == 0:
        return np.arange(n), np.arange(0)
    if task == "classification":
        _, codes = np.unique(labels.astype(str), return_inverse=True)
        val_idx = stratified_holdout(codes, fraction, rng)
    else:
        val_idx = rng.permutation(n)[: int(round(n * fraction))]
    if len(val_idx) == 0 or len(val_idx) >= n:
        raise InputValueError(
            "{split} leaves {n_train} training and {n_val} validation rows out of {n}; "
            "choose another, or 0",
            split=Param("validation_split", fraction),
            n_train=n - len(val_idx),
            n_val=len(val_idx),
            n=n,
        )
    mask = np.ones(n, dtype=bool)
    mask[val_idx] = False
    return np.flatnonzero(mask), np.sort(val_idx)


def note_many_categories(pre, n_train, notes) -> None:
    """A note for each text column whose values look like names or identifiers (see the
    module's docstring), suggesting to ignore it."""
    for name, kind in pre.columns:
        n = len(pre.encoders_[name].categories_) if kind == "categorical" else 0
        if n == n_train > 2:
            notes.append(
                Note(
                    "column {name!r} has a different value in every row: if it is an "
                    "identifier, leave it out with {ignore}",
                    name=name,
                    ignore=Param("ignore", name),
                )
            )
        elif n > MANY_CATEGORIES and n > MANY_CATEGORIES_SHARE * n_train:
            notes.append(
                Note(
                    "column {name!r} has {n} distinct values in {rows} training rows: one-hot "
                    "encoding makes an input of each, which a network learns by heart; if it "
                    "names or identifies rows, leave it out with {ignore}",
                    name=name,
                    n=n,
                    rows=n_train,
                    ignore=Param("ignore", name),
                )
            )
