"""What the tabular pipeline says about a table's columns and rows, in one place.

Task detection, class labels, and the wording of row counts, missing values and notes: used
by training (:mod:`glassnet.tabular.pipeline`) and by prediction and evaluation
(:mod:`glassnet.tabular.predict`) alike, so the two never describe a table differently.

Class labels keep the table's spelling: a class written ``01``, ``1.0`` or ``" Yes"`` (quoted,
so that its space is part of the value) comes back from ``predict`` spelled so. When every
label reads as a number, the labels are numbers: ``1`` and ``1.0`` are one class, spelled as
the table first spells it (:func:`class_labels`), and a table evaluated later may spell it
either way (:func:`spelled_as`).
"""

from __future__ import annotations

import numpy as np

from glassnet.datasets import tabular as tables
from glassnet.errors import InputError, InputValueError, Param

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


def class_labels(text) -> np.ndarray:
    """The class labels of a target column of text (no cell missing), as it spells them;
    numbers spelled two ways (``1``, ``1.0``) are one class, spelled the first way."""
    labels = np.asarray(text, dtype=object).astype(str).astype(object)
    return spelled_as(labels, labels)


def spelled_as(labels, spellings) -> np.ndarray:
    """``labels`` with each number spelled as the first of ``spellings`` of the same value,
    when every one of ``spellings`` reads as a number; otherwise ``labels`` unchanged."""
    labels = np.asarray(labels, dtype=object)
    first: dict[float, str] = {}
    for spelling in dict.fromkeys(spellings):
        if not tables.is_number(spelling):
            return labels
        first.setdefault(float(spelling), spelling)
    respelled = {
        label: first.get(float(label), label) if tables.is_number(label) else label
        for label in dict.fromkeys(labels)
    }
    return np.array([respelled[label] for label in labels], dtype=object)


def check_columns(frame, names, data, *, param) -> None:
    """ValueError naming the first of ``names`` (given as ``param``) that ``frame`` lacks,
    and the columns it has."""
    for name in names:
        if name not in frame.columns:
            raise InputValueError(
                "{data} has no column {name!r} (given as {param}); its columns are: {columns}",
                data=name_of(data),
                name=name,
                param=Param(param),
                columns=", ".join(map(repr, frame.columns)),
            )


class Note(str):
    """A note told to the user: it reads as its Python spelling (``ignore='Name'``), and
    :meth:`spelled` gives it with its parameter mentions spelled another way (the command
    line's ``--ignore Name``), as :class:`glassnet.errors.InputError` does for errors."""

    message: InputError

    def __new__(cls, template: str, /, **fields) -> Note:
        message = InputError(template, **fields)
        note = super().__new__(cls, message.format())
        note.message = message
        return note

    def spelled(self, spell) -> str:
        return self.message.format(spell)


def prefixed(prefix: str, line: str) -> str:
    """``prefix + line``, still a :class:`Note` if ``line`` is one."""
    if not isinstance(line, Note) or not line.message.fields:
        return prefix + line
    escaped = prefix.replace("{", "{{").replace("}", "}}")
    return Note(escaped + line.message.template, **line.message.fields)


def spelled(line, spell) -> str:
    """``line`` with its parameter mentions spelled by ``spell``, if it is a :class:`Note`."""
    return line.spelled(spell) if isinstance(line, Note) else str(line)


def with_target(frame, target, data, notes):
    """The rows of ``frame`` whose ``target`` is present; the others, which have nothing to
    learn or measure from, are left out and counted in ``notes``."""
    missing = frame[target].isna().to_numpy()
    if missing.all():
        raise InputValueError(
            f"the target column {target!r} of {name_of(data)} is empty: every value is missing"
        )
    if missing.any():
        notes.append(f"left out {plural(missing.sum(), 'row')} whose target is missing")
    return frame[~missing]


def plural(count: int, word: str) -> str:
    return f"{int(count)} {word}{'' if int(count) == 1 else 's'}"


def missing_of(column) -> str:
    """``"2 missing values (first in row 4)"`` for a column (rows counted from 1)."""
    missing = column.isna().to_numpy()
    first = int(column.index[np.argmax(missing)]) + 1
    return f"{plural(missing.sum(), 'missing value')} (first in row {first})"


def name_of(data) -> str:
    """``'penguins.csv'``, or ``the DataFrame``."""
    return tables.source_name(data)
