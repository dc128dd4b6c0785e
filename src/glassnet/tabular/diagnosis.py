"""A table model diagnosed on rows with answers: ``glassnet diagnose MODEL DATA.csv``.

The rows are encoded as ``train`` encoded its own (the model's stored preprocessing), the
target as the loss reads it; :func:`glassnet.diagnose` does the rest, with the encoded
inputs' names (``island=Biscoe``, ``bill_length_mm``) in its evidence.
"""

from __future__ import annotations

from glassnet.glassbox.diagnose import diagnose
from glassnet.glassbox.findings import Diagnosis
from glassnet.tabular.predict import _with_table, labelled_rows


def diagnose_table(model, data, *, target=None, drop_missing=False) -> Diagnosis:
    """The findings on ``data`` of a model made by ``tabular.train`` (or its file's path):
    its training record, and the rows of ``data`` whose column ``target`` (by default the
    model's) holds the true values."""
    model, pre = _with_table(model)
    target = pre.target if target is None else target
    _, _, X, labels = labelled_rows(pre, data, target, drop_missing)
    return diagnose(model, X, pre.transform_target(labels), feature_names=pre.input_names)


def diagnose_file(model, data=None, *, target=None, drop_missing=False) -> Diagnosis:
    """``glassnet diagnose``: a saved model (a path, or a Sequential), on the CSV ``data``.

    A model made by ``train`` reads ``data`` through its stored preprocessing
    (:func:`diagnose_table`). Any other model takes every column of ``data`` but ``target``
    (required) as its inputs, in the file's order, and ``target`` as ``y`` in the form its
    loss reads. Without ``data``, the model's training record alone is diagnosed.
    """
    from glassnet.io.model_file import load
    from glassnet.nn.model import Sequential
    from glassnet.tabular.preprocessing import TablePreprocessor

    model = model if isinstance(model, Sequential) else load(model)
    if data is None:
        return diagnose(model)
    if isinstance(model.preprocessing, TablePreprocessor):
        return diagnose_table(model, data, target=target, drop_missing=drop_missing)
    X, y, names = _numeric_columns(data, target, drop_missing)
    return diagnose(model, X, y, feature_names=names)


def _numeric_columns(data, target, drop_missing):
    """``(X, y, names)`` from a table of numbers: every column but ``target``, and it."""
    from glassnet.datasets import tabular as tables
    from glassnet.errors import InputValueError, Param

    frame = tables.load_table(data)
    if target is None or target not in frame.columns:
        raise InputValueError(
            "{target} must name the column of DATA that holds the true values; its columns "
            "are: {columns}",
            target=Param("target"),
            columns=", ".join(map(repr, frame.columns)),
        )
    if drop_missing:
        frame = frame.dropna()
    names = [c for c in frame.columns if c != target]
    return frame[names].to_numpy(dtype=float), frame[target].to_numpy(), names
