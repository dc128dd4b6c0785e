"""A table's preprocessing, learned from the training rows and stored inside the model file.

:class:`TablePreprocessor` turns the feature columns of a table (a pandas DataFrame) into
the network's input matrix and the target column into what the loss expects, and back. It
is made of the small estimators of :mod:`glassnet.tabular.encoders` (re-exported here), is
the ``model.preprocessing`` of every model ``glassnet train`` makes, and has the interface
of every stored preprocessing (:class:`glassnet.io.preprocessing.Preprocessing`):
``to_dict``/``from_dict`` (documented in :meth:`TablePreprocessor.to_dict`), ``describe``
and its ONNX export (imputation and the numeric scaling in the graph).
"""

from __future__ import annotations

import numpy as np

from glassnet.errors import InputValueError, Param
from glassnet.io.preprocessing import Preprocessing
from glassnet.tabular.card import TableCard
from glassnet.tabular.encoders import (
    IMPUTE_STRATEGIES,
    Imputer,
    LabelEncoder,
    MissingValueError,
    OneHotEncoder,
    OutOfRangeError,
    RobustScaler,
    Standardizer,
    UnknownLabelError,
    _row_label,
    check_range,
)
from glassnet.tabular.onnx_steps import TableOnnxSteps
from glassnet.training.heads import TASKS, decode, probabilities

#: 2: the inputs may be robust-scaled (``"robust_scale"``); 1 knew only ``"standardize"``
FORMAT_VERSION = 2
SCALER_KEYS = {"robust": "robust_scale", "standard": "standardize"}
#: how numeric inputs are scaled: ``"robust"`` (:class:`RobustScaler`) or ``"standard"``
SCALINGS = ("robust", "standard")

__all__ = [
    "IMPUTE_STRATEGIES",
    "Imputer",
    "LabelEncoder",
    "MissingValueError",
    "OneHotEncoder",
    "OutOfRangeError",
    "RobustScaler",
    "SCALINGS",
    "Standardizer",
    "TablePreprocessor",
    "UnknownLabelError",
    "check_impute",
    "check_task",
]


def check_task(task) -> str:
    """``"classification"`` or ``"regression"``; anything else is refused by name."""
    if task not in TASKS:
        raise InputValueError(
            "{task} must be 'classification' or 'regression', got {value!r}",
            task=Param("task"),
            value=task,
        )
    return task


def check_impute(impute) -> str | None:
    """None (a missing value is an error) or one of :data:`IMPUTE_STRATEGIES`."""
    if impute is not None and impute not in IMPUTE_STRATEGIES:
        raise InputValueError(
            "{impute} must be one of {choices}, got {value!r}",
            impute=Param("impute"),
            choices=", ".join(IMPUTE_STRATEGIES),
            value=impute,
        )
    return impute


class TablePreprocessor(TableOnnxSteps, TableCard, Preprocessing):
    """A table's feature and target columns -> the network's inputs and targets, and back.

    Parameters
    ----------
    columns : list of (name, kind)
        The feature columns in order, ``kind`` being ``"numeric"`` or ``"categorical"``.
    target : str
        The target column's name.
    task : {"classification", "regression"}
    impute : None or {"mean", "median", "most_frequent"}
        How missing feature values are filled; None means a missing value is an error.
    scaling : {"robust", "standard"}
        How the numeric columns are scaled: ``"robust"`` (:class:`RobustScaler`: median and
        interquartile range, then a smooth clip into (-3, 3)) or ``"standard"``
        (:class:`Standardizer`: ``(x - mean) / std``).

    Numeric columns pass through as they are and categorical ones are one-hot encoded; the
    resulting matrix is then scaled column by column (a one-hot column keeps centre 0, scale
    1 and no clip: it is already on a unit scale and stays readable as 0/1). For regression
    the target is standardised, and predictions are mapped back to the original units.
    """

    kind = "table"

    def __init__(self, columns, target, task, *, impute=None, scaling="robust") -> None:
        task = check_task(task)
        impute = check_impute(impute)
        if scaling not in SCALINGS:
            raise InputValueError(f"scaling must be one of {', '.join(SCALINGS)}, got {scaling!r}")
        self.scaling = scaling
        self.columns = [(str(name), kind) for name, kind in columns]
        for name, kind in self.columns:
            if kind not in ("numeric", "categorical"):
                raise InputValueError(
                    f"column {name!r}: kind must be 'numeric' or 'categorical', got {kind!r}"
                )
        if not self.columns:
            raise InputValueError("there are no feature columns left to learn from")
        self.target = str(target)
        self.task = task
        self.impute = impute
        #: how the model was trained (rows, seed, best epoch, ...), set by ``tabular.train``
        self.training: dict = {}

    # -- learning ------------------------------------------------------------------------------
    def fit(self, frame, y=None) -> TablePreprocessor:
        """Learn fill values, categories and scales from ``frame`` (the training rows).

        ``frame`` holds the feature columns, numeric ones as floats (NaN = missing) and
        categorical ones as strings (None/NaN = missing). ``y`` is the target column:
        label strings for classification, floats for regression.
        """
        self.fills_: dict[str, object] = {}
        if self.impute is not None:
            # every column gets a fill, not only those with a gap in the training rows: a
            # validation row, or a row to predict, may have one where training had none
            for name, kind in self.columns:
                values = frame[name].to_numpy(dtype=object)
                try:
                    imputer = Imputer(self.impute).fit(values, numeric=kind == "numeric")
                except ValueError:
                    raise InputValueError(
                        "column {name!r} has no values in the training rows: "
                        "nothing to impute from; add it to {ignore}",
                        name=name,
                        ignore=Param("ignore"),
                    ) from None
                self.fills_[name] = imputer.fill_
        self.encoders_ = {
            name: OneHotEncoder().fit(self._filled(frame, name))
            for name, kind in self.columns
            if kind == "categorical"
        }
        encoded = self._encode(frame)
        onehot = self._onehot_mask()
        if self.scaling == "robust":
            self.scaler_ = RobustScaler().fit(encoded)
            self.scaler_.center_[onehot], self.scaler_.clip_[onehot] = 0.0, np.inf
        else:
            self.scaler_ = Standardizer().fit(encoded)
            self.scaler_.mean_[onehot] = 0.0
        self.scaler_.scale_[onehot] = 1.0
        if y is not None:
            self.fit_target(y)
        return self

    def fit_target(self, y) -> TablePreprocessor:
        if self.task == "classification":
            self.labels_ = LabelEncoder().fit(y)
            if len(self.labels_.classes_) < 2:
                raise InputValueError(
                    f"the target column {self.target!r} has a single class "
                    f"({self.labels_.classes_[0]!r}): a classifier needs at "
                    f"least two"
                )
        else:
            self.target_scaler_ = Standardizer().fit(np.asarray(y, dtype=float).reshape(-1, 1))
        return self

    # -- the features --------------------------------------------------------------------------
    @property
    def input_names(self) -> list[str]:
        """The network's inputs in order, e.g. ``["Weight", "island=Biscoe", ...]``."""
        names = []
        for name, kind in self.columns:
            names += self.encoders_[name].feature_names(name) if kind == "categorical" else [name]
        return names

    @property
    def n_inputs(self) -> int:
        return len(self.input_names)

    def transform(self, frame) -> np.ndarray:
        """The network's input matrix ``(n_rows, n_inputs)``, scaled.

        Raises ValueError naming the column and the row (counted from 1) of the first missing
        value that no stored fill value covers, and :class:`OutOfRangeError` for the first
        value the network's float32 cannot hold, as read or (standard scaling, whose values
        are not clipped) once standardised (a column whose training rows hardly varied has a
        tiny scale). Unknown categories become zeros; the counts are left in
        ``self.unknown_`` (``{column: (count, first value)}``).
        """
        encoded = self._encode(frame)
        X = self.scaler_.transform(encoded)
        if self.scaling == "robust":
            return X  # smoothly clipped into (-3, 3): every value fits
        position = 0
        for name, kind in self.columns:
            if kind == "numeric":
                scaler = (self.scaler_.mean_[position], self.scaler_.scale_[position])
                check_range(name, encoded[:, position], frame, X[:, position], scaler)
                position += 1
            else:
                position += len(self.encoders_[name].categories_)  # 0/1 columns: in range
        return X

    def _filled(self, frame, name) -> np.ndarray:
        column = frame[name]
        kind = dict(self.columns)[name]
        missing = column.isna().to_numpy()
        values = column.to_numpy(dtype=float if kind == "numeric" else object, copy=True)
        if missing.any():
            if name not in self.fills_:
                row = _row_label(frame, int(np.argmax(missing)))
                raise MissingValueError(name, row, int(missing.sum()))
            values[missing] = self.fills_[name]
        if kind == "numeric":
            check_range(name, values, frame)  # before a mean or a spread can overflow
        return values

    def _encode(self, frame) -> np.ndarray:
        blocks, self.unknown_ = [], {}
        for name, kind in self.columns:
            values = self._filled(frame, name)
            if kind == "numeric":
                blocks.append(values.reshape(-1, 1))
            else:
                encoder = self.encoders_[name]
                blocks.append(encoder.transform(values))
                if encoder.n_unknown_:
                    self.unknown_[name] = (encoder.n_unknown_, encoder.first_unknown_)
        return np.concatenate(blocks, axis=1)

    def _onehot_mask(self) -> np.ndarray:
        mask = []
        for name, kind in self.columns:
            mask += (
                [True] * len(self.encoders_[name].categories_) if kind == "categorical" else [False]
            )
        return np.array(mask, dtype=bool)

    # -- the target ----------------------------------------------------------------------------
    @property
    def classes(self) -> list[str] | None:
        return self.labels_.classes_ if self.task == "classification" else None

    def transform_target(self, y) -> np.ndarray:
        """Class codes ``0..k-1`` (classification) or the standardised target (regression)."""
        if self.task == "classification":
            return self.labels_.transform(y)
        return self.target_scaler_.transform(np.asarray(y, dtype=float).reshape(-1, 1))[:, 0]

    def inverse_target(self, output) -> np.ndarray:
        """Network outputs -> original units (regression) or label strings (classification)."""
        output = np.asarray(output, dtype=float)
        if self.task == "regression":
            return self.target_scaler_.inverse_transform(output.reshape(-1, 1))[:, 0]
        return self.labels_.inverse_transform(decode(output))

    def probabilities(self, output) -> np.ndarray:
        """``(n, k)`` class probabilities from the network's output (one sigmoid unit gives
        ``P(classes[1])``; its complement is ``P(classes[0])``)."""
        return probabilities(np.asarray(output, dtype=float))

    # -- the model file ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The JSON-safe description stored as ``model.preprocessing``::

            {"kind": "table", "format_version": 2,
             "task": "classification" | "regression", "target": "<column>",
             "columns": [{"name": "Weight", "kind": "numeric", "fill": null | 141.2},
                         {"name": "island", "kind": "categorical",
                          "categories": ["Biscoe", "Dream"], "fill": null | "Biscoe"}, ...],
             "impute": null | "mean" | "median" | "most_frequent",
             "inputs": ["Weight", "island=Biscoe", "island=Dream", ...],
             "robust_scale": {"center": [...], "scale": [...],   one value per input
                              "clip": [3.0, null, ...]},        (null: not clipped)
             or "standardize": {"mean": [...], "scale": [...]},  (scaling "standard")
             "labels": ["F", "M"],                               classification
             "target_standardize": {"mean": [m], "scale": [s]}}  regression

        The network's input is ``u = (encoded - center) / scale`` smoothly clipped as
        ``u / sqrt(1 + (u / clip)^2)`` (or ``(encoded - mean) / scale``) where ``encoded``
        holds the numeric columns as they are and a 0/1 column per category; a format-1 file
        (before robust scaling) has ``"standardize"``. Its output is ``P(labels[1])``
        (one sigmoid unit), one softmax probability per label, or the target standardised
        by ``target_standardize``.
        """
        columns = []
        for name, kind in self.columns:
            entry = {"name": name, "kind": kind, "fill": self.fills_.get(name)}
            if kind == "categorical":
                entry["categories"] = list(self.encoders_[name].categories_)
            columns.append(entry)
        d = {
            "kind": "table",
            "format_version": FORMAT_VERSION,
            "task": self.task,
            "target": self.target,
            "columns": columns,
            "impute": self.impute,
            "inputs": self.input_names,
            SCALER_KEYS[self.scaling]: self.scaler_.to_dict(),
        }
        if self.task == "classification":
            d["labels"] = list(self.labels_.classes_)
        else:
            d["target_standardize"] = self.target_scaler_.to_dict()
        if self.training:
            d["training"] = dict(self.training)
        return d

    @classmethod
    def from_dict(cls, d) -> TablePreprocessor:
        """Rebuild from :meth:`to_dict`; ValueError (one line) if ``d`` is not such a dict."""
        if not isinstance(d, dict) or d.get("kind") != "table":
            raise InputValueError(
                "the model file holds no table preprocessing (it was not made by `glassnet train`)"
            )
        version = d.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise InputValueError(
                f"the model's preprocessing has format version {version!r}; "
                f"this glassnet reads up to {FORMAT_VERSION}: upgrade glassnet"
            )
        try:
            columns = [(c["name"], c["kind"]) for c in d["columns"]]
            scaling = "robust" if "robust_scale" in d else "standard"
            self = cls(columns, d["target"], d["task"], impute=d.get("impute"), scaling=scaling)
            self.fills_ = {c["name"]: c["fill"] for c in d["columns"] if c.get("fill") is not None}
            self.encoders_ = {
                c["name"]: OneHotEncoder.from_dict(c)
                for c in d["columns"]
                if c["kind"] == "categorical"
            }
            scaler = RobustScaler if scaling == "robust" else Standardizer
            self.scaler_ = scaler.from_dict(d[SCALER_KEYS[scaling]])
            if self.task == "classification":
                self.labels_ = LabelEncoder.from_dict({"classes": d["labels"]})
            else:
                self.target_scaler_ = Standardizer.from_dict(d["target_standardize"])
            self.training = dict(d.get("training") or {})
        except (KeyError, TypeError, ValueError) as exc:
            raise InputValueError(f"the model's preprocessing is invalid: {exc!r}") from None
        if len(self.scaler_.scale_) != self.n_inputs:
            raise InputValueError(
                f"the model's preprocessing is invalid: {self.n_inputs} inputs but "
                f"{len(self.scaler_.scale_)} scaling values"
            )
        return self
