"""A table model diagnosed on rows with answers: ``glassnet diagnose MODEL DATA.csv``.

The rows are encoded as ``train`` encoded its own (the model's stored preprocessing), the
target as the loss reads it; :func:`glassnet.diagnose` does the rest, with the encoded
inputs' names (``island=Biscoe``, ``bill_length_mm``) in its evidence.
"""

from __future__ import annotations

from glassnet.glassbox.diagnose import diagnose
from glassnet.glassbox.findings import Diagnosis
from glassnet.tabular.columns import spelled_as
from glassnet.tabular.predict import _inputs, _prepare, _with_table


def diagnose_table(model, data, *, target=None, drop_missing=False) -> Diagnosis:
    """The findings on ``data`` of a model made by ``tabular.train`` (or its file's path):
    its training record, and the rows of ``data`` whose column ``target`` (by default the
    model's) holds the true values."""
    model, pre = _with_table(model)
    target = pre.target if target is None else target
    _, features, notes = _prepare(pre, data, target=target, drop_missing=drop_missing)
    X = _inputs(pre, features, notes)
    y = features[target]
    if pre.task == "classification":
        labels = spelled_as(y.to_numpy(dtype=object).astype(str), pre.classes)
    else:
        labels = y.to_numpy(dtype=float)
    return diagnose(model, X, pre.transform_target(labels), feature_names=pre.input_names)
