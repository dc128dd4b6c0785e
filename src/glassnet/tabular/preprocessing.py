"""Preprocessing learned from training data and stored inside the model file.

Four small estimators, each ``fit`` on the *training split only* and each described by a
JSON-safe dict (lists of floats and strings — never a pickle), so that ``predict`` and
``evaluate`` reproduce exactly what training did:

- :class:`Standardizer`   ``x' = (x - mean) / scale``, per column (``scale`` = the standard
  deviation, or 1 for a constant column so nothing is divided by zero);
- :class:`OneHotEncoder`  one string column -> one 0/1 column per category seen in training;
  a category never seen in training becomes a row of zeros instead of an error;
- :class:`LabelEncoder`   class labels <-> ``0..k-1``, keeping the original label strings;
- :class:`Imputer`        the value that fills a missing entry (mean, median, most frequent).

:class:`TablePreprocessor` puts them together for a table (a pandas DataFrame): it turns the
feature columns into the network's input matrix and the target column into what the loss
expects, and back. Its dict, ``model.preprocessing``, is documented in :meth:`to_dict`.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

FORMAT_VERSION = 1
IMPUTE_STRATEGIES = ("mean", "median", "most_frequent")
TASKS = ("classification", "regression")


# ---------------------------------------------------------------------------------- estimators


class Standardizer:
    """``x' = (x - mean_) / scale_``, column by column.

    ``scale_`` is the population standard deviation (``ddof=0``) of the training data; a
    constant column gets ``scale_ = 1``, so it becomes 0 instead of NaN.

    Examples
    --------
    >>> s = Standardizer().fit(np.array([[1.0], [3.0]]))
    >>> s.mean_, s.scale_
    (array([2.]), array([1.]))
    """

    def fit(self, X) -> Standardizer:
        X = _as_2d_float("X", X)
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        # A constant column has a standard deviation of rounding noise (0.1 seven times:
        # 1.4e-17), not 0; dividing by that would blow new values up by 1e17.
        constant = std <= 10 * np.finfo(X.dtype).eps * np.maximum(np.abs(self.mean_), 1.0)
        self.scale_ = np.where(constant, 1.0, std)
        return self

    def transform(self, X) -> np.ndarray:
        return (_as_2d_float("X", X) - self.mean_) / self.scale_

    def inverse_transform(self, X) -> np.ndarray:
        return _as_2d_float("X", X) * self.scale_ + self.mean_

    def to_dict(self) -> dict:
        return {"mean": [float(v) for v in self.mean_], "scale": [float(v) for v in self.scale_]}

    @classmethod
    def from_dict(cls, d) -> Standardizer:
        s = cls()
        s.mean_ = np.asarray(d["mean"], dtype=float)
        s.scale_ = np.asarray(d["scale"], dtype=float)
        if s.mean_.shape != s.scale_.shape or s.mean_.ndim != 1 or not (s.scale_ > 0).all():
            raise ValueError("a standardizer needs two equally long lists, scales > 0")
        return s


class OneHotEncoder:
    """One string column -> ``k`` columns of 0/1, one per category seen in training.

    ``categories_`` is sorted. A category that training never saw is encoded as all zeros
    (the network then sees "none of the known categories"); ``transform`` counts such values
    in ``n_unknown_`` and keeps the first in ``first_unknown_`` so a caller can say so.
    Missing values must be filled (or the rows dropped) before encoding.
    """

    def fit(self, values) -> OneHotEncoder:
        values = _as_strings(values)
        self.categories_ = sorted(set(values.tolist()))
        return self

    def transform(self, values) -> np.ndarray:
        values = _as_strings(values)
        codes = _codes(values, self.categories_)
        unknown = codes < 0
        self.n_unknown_ = int(unknown.sum())
        self.first_unknown_ = values[np.argmax(unknown)] if self.n_unknown_ else None
        out = np.zeros((len(codes), len(self.categories_)))
        known = np.flatnonzero(~unknown)
        out[known, codes[known]] = 1.0
        return out

    def feature_names(self, column: str) -> list[str]:
        return [f"{column}={c}" for c in self.categories_]

    def to_dict(self) -> dict:
        return {"categories": list(self.categories_)}

    @classmethod
    def from_dict(cls, d) -> OneHotEncoder:
        e = cls()
        e.categories_ = [str(c) for c in d["categories"]]
        return e


class LabelEncoder:
    """Class labels <-> integers ``0..k-1``, keeping the labels as the original strings.

    ``classes_`` is sorted: numerically when every label is a number (``"2" < "10"``),
    alphabetically otherwise. For a binary task ``classes_[1]`` is the "positive" class, the
    one whose probability a single sigmoid unit gives.
    """

    def fit(self, labels) -> LabelEncoder:
        labels = _as_strings(labels)
        unique = set(labels.tolist())
        numbers = {v: _as_number(v) for v in unique}
        if all(x is not None for x in numbers.values()):
            self.classes_ = sorted(unique, key=lambda v: (numbers[v], v))
        else:
            self.classes_ = sorted(unique)
        return self

    def transform(self, labels) -> np.ndarray:
        """Integer codes; raises ValueError naming the first label not seen in ``fit``."""
        labels = _as_strings(labels)
        codes = _codes(labels, self.classes_)
        if (codes < 0).any():
            i = int(np.argmax(codes < 0))
            raise UnknownLabelError(labels[i], i, self.classes_)
        return codes

    def inverse_transform(self, codes) -> np.ndarray:
        return np.asarray(self.classes_, dtype=object)[np.asarray(codes, dtype=np.intp)]

    def to_dict(self) -> dict:
        return {"classes": list(self.classes_)}

    @classmethod
    def from_dict(cls, d) -> LabelEncoder:
        e = cls()
        e.classes_ = [str(c) for c in d["classes"]]
        return e


class UnknownLabelError(ValueError):
    """A label that the encoder was not fitted on (``.label``, ``.position``, ``.classes``)."""

    def __init__(self, label, position, classes):
        self.label, self.position, self.classes = label, position, list(classes)
        super().__init__(f"unknown label {label!r}; known labels: {', '.join(self.classes)}")


class Imputer:
    """The value that fills a column's missing entries, learned from training data.

    ``strategy`` is ``"mean"``, ``"median"`` or ``"most_frequent"``; a string column always
    uses the most frequent value (a mean of strings does not exist). Ties for the most
    frequent value go to the smallest, so the result does not depend on row order.
    """

    def __init__(self, strategy: str = "mean") -> None:
        if strategy not in IMPUTE_STRATEGIES:
            raise ValueError(
                f"strategy must be one of {', '.join(IMPUTE_STRATEGIES)}, got {strategy!r}"
            )
        self.strategy = strategy

    def fit(self, values, *, numeric: bool) -> Imputer:
        """Learn the fill value from ``values`` (missing entries as NaN or None)."""
        present = [v for v in values if not _is_missing(v)]
        if not present:
            raise ValueError("every value is missing: nothing to fill the gaps with")
        if numeric and self.strategy == "mean":
            self.fill_ = float(np.mean(np.asarray(present, dtype=float)))
        elif numeric and self.strategy == "median":
            self.fill_ = float(np.median(np.asarray(present, dtype=float)))
        else:
            counts = Counter(float(v) if numeric else str(v) for v in present)
            top = max(counts.values())
            self.fill_ = min(v for v, c in counts.items() if c == top)
        return self


# ---------------------------------------------------------------------------------- a table


class TablePreprocessor:
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

    Numeric columns pass through as they are and categorical ones are one-hot encoded; the
    resulting matrix is then standardised column by column (a one-hot column keeps mean 0,
    scale 1: it is already on a unit scale and stays readable as 0/1). For regression the
    target is standardised too, and predictions are mapped back to the original units.
    """

    def __init__(self, columns, target, task, *, impute=None) -> None:
        if task not in TASKS:
            raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
        if impute is not None and impute not in IMPUTE_STRATEGIES:
            raise ValueError(
                f"impute must be one of {', '.join(IMPUTE_STRATEGIES)}, got {impute!r}"
            )
        self.columns = [(str(name), kind) for name, kind in columns]
        for name, kind in self.columns:
            if kind not in ("numeric", "categorical"):
                raise ValueError(
                    f"column {name!r}: kind must be 'numeric' or 'categorical', got {kind!r}"
                )
        if not self.columns:
            raise ValueError("there are no feature columns left to learn from")
        self.target = str(target)
        self.task = task
        self.impute = impute

    # -- learning ------------------------------------------------------------------------------
    def fit(self, frame, y=None) -> TablePreprocessor:
        """Learn fill values, categories and scales from ``frame`` (the training rows).

        ``frame`` holds the feature columns, numeric ones as floats (NaN = missing) and
        categorical ones as strings (None/NaN = missing). ``y`` is the target column:
        label strings for classification, floats for regression.
        """
        self.fills_: dict[str, object] = {}
        if self.impute is not None:
            for name, kind in self.columns:
                values = frame[name].to_numpy(dtype=object)
                if any(_is_missing(v) for v in values):
                    try:
                        imputer = Imputer(self.impute).fit(values, numeric=kind == "numeric")
                    except ValueError:
                        raise ValueError(
                            f"column {name!r} has no values in the training rows: "
                            f"nothing to impute from; --ignore it"
                        ) from None
                    self.fills_[name] = imputer.fill_
        self.encoders_ = {
            name: OneHotEncoder().fit(self._filled(frame, name))
            for name, kind in self.columns
            if kind == "categorical"
        }
        self.standardizer_ = Standardizer().fit(self._encode(frame))
        onehot = self._onehot_mask()
        self.standardizer_.mean_[onehot] = 0.0
        self.standardizer_.scale_[onehot] = 1.0
        if y is not None:
            self.fit_target(y)
        return self

    def fit_target(self, y) -> TablePreprocessor:
        if self.task == "classification":
            self.labels_ = LabelEncoder().fit(y)
            if len(self.labels_.classes_) < 2:
                raise ValueError(
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
        """The network's input matrix ``(n_rows, n_inputs)``, standardised.

        Raises ValueError naming the column and the row (counted from 1) of the first missing
        value that no stored fill value covers. Unknown categories become zeros; the counts
        are left in ``self.unknown_`` (``{column: (count, first value)}``).
        """
        return self.standardizer_.transform(self._encode(frame))

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
        codes = (
            (output[:, 0] >= 0.5).astype(np.intp) if output.shape[1] == 1 else output.argmax(axis=1)
        )
        return self.labels_.inverse_transform(codes)

    def probabilities(self, output) -> np.ndarray:
        """``(n, k)`` class probabilities from the network's output (one sigmoid unit gives
        ``P(classes[1])``; its complement is ``P(classes[0])``)."""
        output = np.asarray(output, dtype=float)
        if output.shape[1] == 1:
            return np.concatenate([1.0 - output, output], axis=1)
        return output

    # -- the model file ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The JSON-safe description stored as ``model.preprocessing``::

            {"kind": "table", "format_version": 1,
             "task": "classification" | "regression", "target": "<column>",
             "columns": [{"name": "Weight", "kind": "numeric", "fill": null | 141.2},
                         {"name": "island", "kind": "categorical",
                          "categories": ["Biscoe", "Dream"], "fill": null | "Biscoe"}, ...],
             "impute": null | "mean" | "median" | "most_frequent",
             "inputs": ["Weight", "island=Biscoe", "island=Dream", ...],
             "standardize": {"mean": [...], "scale": [...]},     one value per input
             "labels": ["F", "M"],                               classification
             "target_standardize": {"mean": [m], "scale": [s]}}  regression

        The network's input is ``(encoded - mean) / scale`` where ``encoded`` holds the numeric
        columns as they are and a 0/1 column per category; its output is ``P(labels[1])``
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
            "standardize": self.standardizer_.to_dict(),
        }
        if self.task == "classification":
            d["labels"] = list(self.labels_.classes_)
        else:
            d["target_standardize"] = self.target_scaler_.to_dict()
        return d

    @classmethod
    def from_dict(cls, d) -> TablePreprocessor:
        """Rebuild from :meth:`to_dict`; ValueError (one line) if ``d`` is not such a dict."""
        if not isinstance(d, dict) or d.get("kind") != "table":
            raise ValueError(
                "the model file holds no table preprocessing (it was not made by `glassnet train`)"
            )
        version = d.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ValueError(
                f"the model's preprocessing has format version {version!r}; "
                f"this glassnet reads up to {FORMAT_VERSION}: upgrade glassnet"
            )
        try:
            columns = [(c["name"], c["kind"]) for c in d["columns"]]
            self = cls(columns, d["target"], d["task"], impute=d.get("impute"))
            self.fills_ = {c["name"]: c["fill"] for c in d["columns"] if c.get("fill") is not None}
            self.encoders_ = {
                c["name"]: OneHotEncoder.from_dict(c)
                for c in d["columns"]
                if c["kind"] == "categorical"
            }
            self.standardizer_ = Standardizer.from_dict(d["standardize"])
            if self.task == "classification":
                self.labels_ = LabelEncoder.from_dict({"classes": d["labels"]})
            else:
                self.target_scaler_ = Standardizer.from_dict(d["target_standardize"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"the model's preprocessing is invalid: {exc!r}") from None
        if len(self.standardizer_.mean_) != self.n_inputs:
            raise ValueError(
                f"the model's preprocessing is invalid: {self.n_inputs} inputs but "
                f"{len(self.standardizer_.mean_)} standardisation values"
            )
        return self


class MissingValueError(ValueError):
    """A missing value with no way to fill it (``.column``, ``.row`` from 1, ``.count``)."""

    def __init__(self, column, row, count):
        self.column, self.row, self.count = column, row, count
        plural = "" if int(count) == 1 else "s"
        super().__init__(
            f"column {column!r} has {int(count)} missing value{plural} (first in row {row})"
        )


# ---------------------------------------------------------------------------------- helpers


def _as_2d_float(name, X) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {X.shape}")
    return X


def _as_strings(values) -> np.ndarray:
    import pandas as pd

    values = np.asarray(values, dtype=object).ravel()
    if pd.isna(values).any():
        raise ValueError("values must not be missing: fill them or drop the rows first")
    return values.astype(str).astype(object)


def _codes(values, categories) -> np.ndarray:
    """The position of each value in ``categories``, -1 where it is not one of them."""
    import pandas as pd

    return pd.Index(categories, dtype=object).get_indexer(values).astype(np.intp)


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _as_number(text) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _row_label(frame, position: int) -> int:
    """The 1-based data row of ``frame``'s ``position``-th row (its index counts from 0)."""
    index = frame.index[position]
    return int(index) + 1 if isinstance(index, int | np.integer) else position + 1
