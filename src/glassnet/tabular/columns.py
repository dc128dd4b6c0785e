"""What the tabular pipeline says about a table's columns and rows, in one place.

Task detection, label strings, and the wording of row counts and missing values: used by
training (:mod:`glassnet.tabular.pipeline`) and by prediction and evaluation
(:mod:`glassnet.tabular.predict`) alike, so the two never describe a table differently.
"""

from __future__ import annotations

import numpy as np

from glassnet.datasets import tabular as tables
from glassnet.errors import InputValueError

#: a target of whole numbers with at most this many distinct values is a classification
MAX_INTEGER_CLASSES = 10


def detect_task(y) -> str:
    """``"classification"`` for text, or whole numbers with at most
    :data:`MAX_INTEGER_CLASSES` distinct values; ``"regression"`` otherwise."""
    if y.dtype.kind != "f":
        return "classification"
    values = y.to_numpy(dtype=float)
    if tables.is_integer_valued(values) and len(np.unique(values)) <= MAX_INTEGER_CLASSES:
        return "classification"
    return "regression"


def labels_of(y) -> np.ndarray:
    """Class labels as strings; numbers written canonically (``1.0`` -> ``"1"``)."""
    if y.dtype.kind == "f":
        return np.array([tables.canonical_number(v) for v in y.to_numpy(dtype=float)], dtype=object)
    return y.to_numpy(dtype=object).astype(str).astype(object)


def check_columns(frame, names, data, *, what) -> None:
    """ValueError naming the first of ``names`` that ``frame`` lacks, and its columns."""
    for name in names:
        if name not in frame.columns:
            raise InputValueError(
                f"{name_of(data)} has no {what} {name!r}; its columns are: "
                f"{', '.join(map(repr, frame.columns))}"
            )


def plural(count: int, word: str) -> str:
    return f"{int(count)} {word}{'' if int(count) == 1 else 's'}"


def missing_of(column) -> str:
    """``"2 missing values (first in row 4)"`` for a column (rows counted from 1)."""
    missing = column.isna().to_numpy()
    first = int(column.index[np.argmax(missing)]) + 1
    return f"{plural(missing.sum(), 'missing value')} (first in row {first})"


def name_of(data) -> str:
    return repr(str(data))
