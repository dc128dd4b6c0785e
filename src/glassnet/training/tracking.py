"""Metrics as ``fit`` and ``evaluate`` keep them: one object per name, updated batch by batch.

``fit(metrics=["accuracy", "f1", "auc"])`` turns each name into a :class:`Metric` (Keras's
``keras.metrics.Metric`` shape: ``reset_state``, ``update_state``, ``result``). The formulas
are all in :mod:`glassnet.training.metrics`; a Metric only decides what it keeps between
batches:

- sums (accuracy: the weight classified right; the regression metrics:
  :class:`~glassnet.training.metrics.RegressionSums`) and a (weighted) confusion matrix
  (precision, recall, F1) are added up per batch — the epoch's value is then exactly the
  metric over all of its rows, at the cost of a few sums per batch;
- ROC AUC ranks every sample against every other, and a function ``f(y_true, y_pred)`` may
  need all rows at once: these keep the epoch's scores (targets, weights) in buffers that
  grow once and are reused every epoch.

Training metrics are *running* metrics, as in Keras: each batch's outputs are those of the
forward pass that trained on it, so the epoch's ``accuracy`` mixes the weights of every step
of the epoch (free: no second pass over the data). Validation metrics (``val_f1``) are of the
weights at the end of the epoch. With sample weights every metric is the weighted one.
"""

from __future__ import annotations

import copy

import numpy as np

from glassnet.errors import InputTypeError, InputValueError
from glassnet.training import metrics as m


class Metric:
    """A metric kept over the batches of an epoch (or of an evaluation).

    Subclasses set ``name`` (the key in the logs, ``val_<name>`` on validation data),
    ``greater_is_better`` (what ``mode="auto"`` of EarlyStopping and ModelCheckpoint
    follows) and ``regression`` (None: any loss; True/False: only a regression /
    classification loss), and implement the three methods. ``update_state`` receives the
    targets in the loss's form (integer labels ``(n,)`` for cross-entropy, 0/1 ``(n, k)`` for
    binary cross-entropy, values ``(n, m)`` for regression) and the network's output.
    """

    name = "metric"
    greater_is_better = True
    regression: bool | None = None

    def prepare(self, loss, n_outputs: int) -> None:
        """Refuse a loss this metric cannot read (at the start of ``fit``), naming it."""
        if self.regression is not None and self.regression == loss.is_classification:
            need = "a regression" if self.regression else "a classification"
            raise InputValueError(
                f"metrics: {self.name!r} needs {need} loss, but the loss is {loss.name!r}"
            )
        self.threshold, self.from_logits = loss.threshold, loss.from_logits
        self.k = n_outputs

    def reset_state(self) -> None: ...
    def update_state(self, y_true, y_pred, sample_weight=None) -> None: ...

    def result(self) -> float:
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r})"


class Accuracy(Metric):
    """The (weighted) fraction classified right (:func:`glassnet.training.metrics.correct`).

    Any loss will do: with MSE on 0/1 targets (seed 002's network) a sample is right when
    its output is on the right side of 0.5.
    """

    name = "accuracy"

    def reset_state(self):
        self.right = self.total = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        right = m.correct(y_pred, y_true, self.threshold)
        if sample_weight is None:
            self.right += int(np.count_nonzero(right))
            self.total += len(right)
        else:
            w = sample_weight.astype(np.float64, copy=False)
            self.right += float(w @ right)
            self.total += float(w.sum())

    def result(self):
        if not self.total > 0:
            return m.Undefined("no weight to count")
        return float(self.right / self.total)


class _SingleLabel(Metric):
    """A metric of one class per sample: refuses several sigmoid units (multi-label)."""

    regression = False

    def prepare(self, loss, n_outputs):
        super().prepare(loss, n_outputs)
        if loss.name == "bce" and n_outputs > 1:
            raise InputValueError(
                f"metrics: {self.name!r} needs one class per sample, but the network has "
                f"{n_outputs} sigmoid outputs trained with 'bce' (multi-label)"
            )
        self.k = max(n_outputs, 2)

    def labels(self, y_true):
        return y_true[:, 0].astype(np.intp) if y_true.ndim == 2 else y_true


class ClassScore(_SingleLabel):
    """Precision, recall or F1 from a (weighted) confusion matrix added up batch by batch.

    ``average`` None: of the positive class for one sigmoid output, macro for more classes.
    """

    def __init__(self, score: str, average: str | None = None, name: str | None = None):
        self.score, self.average = score, average
        self.name = name or (score if average is None else f"{score}_{average}")

    def reset_state(self):
        self.matrix = np.zeros((self.k, self.k))

    def update_state(self, y_true, y_pred, sample_weight=None):
        from glassnet.training.heads import decode

        predicted = decode(y_pred, self.threshold)
        self.matrix += m.confusion_matrix(self.labels(y_true), predicted, self.k, sample_weight)

    def result(self):
        average = self.average or ("binary" if self.k == 2 else "macro")
        return m.precision_recall_f1(self.matrix, average)[self.score]


class _Rows:
    """Rows of an epoch kept in one buffer that grows (doubling) and is reused."""

    def __init__(self) -> None:
        self.buffer, self.n = None, 0

    def append(self, rows) -> None:
        end = self.n + len(rows)
        if self.buffer is None or end > len(self.buffer):
            grown = np.empty((max(end, 2 * self.n), *rows.shape[1:]), dtype=rows.dtype)
            if self.buffer is not None:
                grown[: self.n] = self.buffer[: self.n]
            self.buffer = grown
        self.buffer[self.n : end] = rows
        self.n = end

    def rows(self):
        return None if self.buffer is None else self.buffer[: self.n]


class _Kept:
    """The epoch's targets, scores and weights, as :class:`_Rows`."""

    def __init__(self) -> None:
        self.y, self.scores, self.w = _Rows(), _Rows(), _Rows()

    def clear(self) -> None:
        self.y.n = self.scores.n = self.w.n = 0

    def add(self, y, scores, w) -> None:
        self.y.append(y)
        self.scores.append(scores)
        if w is not None:
            self.w.append(w)

    def arrays(self):
        return self.y.rows(), self.scores.rows(), self.w.rows()


class AUC(_SingleLabel):
    """ROC AUC over the epoch's rows: :func:`~glassnet.training.metrics.roc_auc` of the
    positive unit's output (probability or logit: the ranking is the same) for one sigmoid
    output; one-vs-rest macro :func:`~glassnet.training.metrics.roc_auc_ovr` of the softmax
    probabilities (of the logits' softmax, with ``from_logits=True``) for more classes."""

    name = "auc"

    def reset_state(self):
        self.kept = getattr(self, "kept", None) or _Kept()
        self.kept.clear()

    def update_state(self, y_true, y_pred, sample_weight=None):
        scores = y_pred[:, 0] if y_pred.shape[1] == 1 else y_pred
        self.kept.add(self.labels(y_true), scores, sample_weight)

    def result(self):
        from glassnet.nn.activations import Softmax

        y, scores, w = self.kept.arrays()
        if scores.ndim == 1:
            return m.roc_auc(y, scores, w)
        return m.roc_auc_ovr(y, Softmax().function(scores) if self.from_logits else scores, w)


class Regression(Metric):
    """``"mae"``, ``"mse"``, ``"rmse"`` or ``"r2"`` from
    :class:`~glassnet.training.metrics.RegressionSums` added up batch by batch."""

    regression = True

    def __init__(self, name: str) -> None:
        self.name, self.greater_is_better = name, name == "r2"

    def reset_state(self):
        self.sums = m.RegressionSums()

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.sums.add(y_true, y_pred, sample_weight)

    def result(self):
        if not self.sums.weight > 0:
            return m.Undefined(f"no weight to average: {self.name} is 0/0")
        return getattr(self.sums, self.name)()


class FunctionMetric(Metric):
    """A function ``f(y_true, y_pred)`` called once per epoch on all the epoch's rows.

    ``y_true`` is in the loss's form and ``y_pred`` is the network's output, as Keras passes
    them; with sample weights it is called as ``f(y_true, y_pred, sample_weight=w)``.
    ``name`` defaults to the function's ``__name__``; ``greater_is_better`` to a guess from
    it, following scikit-learn's naming (``..._score`` and accuracies are better higher,
    ``..._error`` and ``..._loss`` lower).
    """

    def __init__(self, fn, name: str | None = None, greater_is_better: bool | None = None):
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "")
        if not self.name.isidentifier():
            raise InputValueError(
                f"metrics: the function {fn!r} has no name to log it under; define it with "
                f"def, or wrap it as FunctionMetric(fn, name=...)"
            )
        if greater_is_better is None:
            greater_is_better = self.name.endswith("_score") or "acc" in self.name
        self.greater_is_better = bool(greater_is_better)

    def takes_weights(self) -> bool:
        import inspect

        try:
            parameters = inspect.signature(self.fn).parameters
        except (TypeError, ValueError):
            return True  # a builtin that does not say: let it answer
        return "sample_weight" in parameters or any(
            p.kind is p.VAR_KEYWORD for p in parameters.values()
        )

    def reset_state(self):
        self.kept = getattr(self, "kept", None) or _Kept()
        self.kept.clear()

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.kept.add(y_true, y_pred, sample_weight)

    def result(self):
        y, out, w = self.kept.arrays()
        return float(self.fn(y, out) if w is None else self.fn(y, out, sample_weight=w))


def _builtins() -> dict:
    table = {"accuracy": Accuracy, "auc": AUC}
    for score in ("precision", "recall", "f1"):
        table[score] = lambda s=score: ClassScore(s)
        for average in ("macro", "weighted"):
            table[f"{score}_{average}"] = lambda s=score, a=average: ClassScore(s, a)
    for name in ("mae", "mse", "rmse", "r2"):
        table[name] = lambda n=name: Regression(n)
    return table


BUILTINS = _builtins()
ALIASES = {
    "acc": "accuracy",
    "roc_auc": "auc",
    "mean_absolute_error": "mae",
    "mean_squared_error": "mse",
    "root_mean_squared_error": "rmse",
    "r2_score": "r2",
}
#: the built-in metrics that are better higher (EarlyStopping's mode="auto" maximises them)
MAXIMISED = frozenset(k for k, make in BUILTINS.items() if make().greater_is_better)


def get_metric(spec) -> Metric:
    """A fresh :class:`Metric` from a name, a Metric (copied), a Metric class or a function."""
    if isinstance(spec, str):
        key = ALIASES.get(spec.lower(), spec.lower())
        if key not in BUILTINS:
            names = ", ".join(sorted(BUILTINS))
            raise InputValueError(f"metrics: unknown metric {spec!r}; valid names are: {names}")
        return BUILTINS[key]()
    if isinstance(spec, Metric):
        return copy.deepcopy(spec)
    if isinstance(spec, type) and issubclass(spec, Metric):
        return spec()
    if callable(spec):
        return FunctionMetric(spec)
    raise InputTypeError(
        f"metrics must hold names, Metric objects or functions f(y_true, y_pred), got {spec!r}"
    )


class MetricSet:
    """The metrics of one pass (an epoch's training rows, or the validation data)."""

    def __init__(self, metrics: list[Metric]) -> None:
        self.metrics = metrics

    def reset(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    def update(self, y_true, y_pred, sample_weight=None) -> None:
        for metric in self.metrics:
            metric.update_state(y_true, y_pred, sample_weight)

    def results(self) -> dict[str, float]:
        return {metric.name: metric.result() for metric in self.metrics}

    def fresh(self) -> MetricSet:
        """The same metrics with their own state (for the validation data)."""
        return MetricSet([copy.deepcopy(metric) for metric in self.metrics])


def metric_set(metrics, loss, n_outputs: int, *, weighted: bool = False) -> MetricSet:
    """The :class:`MetricSet` ``fit(metrics=...)`` or ``evaluate`` asks for, checked against
    the loss: None gives the default — accuracy for a classification loss, nothing more
    for regression — as ``fit`` always logged."""
    if metrics is None:
        metrics = ["accuracy"] if loss.is_classification else []
    if isinstance(metrics, str) or not isinstance(metrics, list | tuple):
        raise InputTypeError(f"metrics must be a list such as ['accuracy', 'f1'], got {metrics!r}")
    chosen = [get_metric(spec) for spec in metrics]
    seen = set()
    for metric in chosen:
        if metric.name in seen or metric.name == "loss" or metric.name.startswith("val_"):
            raise InputValueError(
                f"metrics: {metric.name!r} is logged twice (or is a name fit logs itself)"
            )
        seen.add(metric.name)
        metric.prepare(loss, n_outputs)
        if weighted and isinstance(metric, FunctionMetric) and not metric.takes_weights():
            raise InputValueError(
                f"metrics: {metric.name} takes no sample_weight, but the data have sample "
                f"weights; give it a sample_weight=None parameter"
            )
    return MetricSet(chosen)


def greater_is_better(key: str, model=None) -> bool:
    """Whether a logged ``key`` is better higher: as the metric of the model's last fit says,
    else for the built-in names (and any name with "acc" in it, as Keras guesses)."""
    name = key[4:] if key.startswith("val_") else key
    for metric in getattr(getattr(model, "metrics_", None), "metrics", ()):
        if metric.name == name:
            return metric.greater_is_better
    return name in MAXIMISED or "acc" in name
