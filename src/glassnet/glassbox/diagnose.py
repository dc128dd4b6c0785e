"""``gn.diagnose(model, X, y)``: what is wrong with a training, in words, with the fix.

The evidence is what ``fit`` recorded (the loss curves of ``model.history`` and its
per-layer statistics, :mod:`glassnet.training.statistics`) and, given ``X`` (and ``y``),
what one pass over up to :data:`LIVE_ROWS` of them shows: the inputs' scales, the units
that fire, the gradient layer by layer, the loss against always predicting the average.
Each rule (:mod:`glassnet.glassbox.rules`) compares them with a named threshold and, past
it, returns a :class:`~glassnet.glassbox.findings.Finding`; a healthy run has none, and its
report says so in one line. The codes are the contract of :mod:`glassnet.glassbox.findings`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from glassnet.errors import InputValueError
from glassnet.glassbox.findings import Diagnosis
from glassnet.nn.losses import Loss, get_loss
from glassnet.training.statistics import norm, saturated_share, watched_layers
from glassnet.training.trainer import loss_and_gradients

LIVE_ROWS = 2048
"""Rows of ``X`` the live pass uses (the first ones): enough to see which units ever fire
and the gradient's size per layer, in one forward and backward pass of a few milliseconds."""


@dataclass
class Evidence:
    """All a rule may look at, gathered once.

    ``loss`` (None when there is none to judge by); ``curves``: the History's lists;
    ``statistics``: its per-layer statistics; ``X``, ``y`` (y in the loss's form, or None);
    ``live``: the live pass's ``dead``/``saturated`` shares and ``grad_norm`` per name, and
    ``delta_rms``: the root mean square of the gradient arriving at each layer's output;
    ``output_problem``: why the output cannot serve the loss, if it cannot.
    """

    model: object
    loss: Loss | None
    curves: dict
    statistics: dict
    X: np.ndarray | None = None
    y: np.ndarray | None = None
    feature_names: list | None = None
    live: dict = field(default_factory=dict)
    output_problem: str | None = None

    @property
    def weights(self) -> list[tuple[str, np.ndarray]]:
        """``(name, W)`` of every weight matrix or kernel, from the first layer up."""
        return [(n, p) for n, p, _ in self.model.slots() if n.endswith(".W")]

    def last(self, key: str):
        """``(epoch, value)`` of a statistic's last measured value, or None."""
        epochs, values = self.statistics.get("epoch", []), self.statistics.get(key, [])
        for epoch, value in zip(reversed(epochs), reversed(values), strict=False):
            if np.isfinite(value):
                return int(epoch), float(value)
        return None


def diagnose(model, X=None, y=None, *, loss=None, feature_names=None) -> Diagnosis:
    """Diagnose a training: the findings, each with a code, evidence and a fix.

    Parameters
    ----------
    model : Sequential
        A built model, usually after ``fit`` (whose History and statistics are read).
    X : array, optional
        Inputs the model is trained on (the training rows, as ``fit`` saw them): their
        scales, and a live pass over the first :data:`LIVE_ROWS` of them.
    y : array, optional
        The targets of ``X``: the live gradient, the loss against a constant prediction,
        and whether the output can produce them.
    loss : str or Loss, optional
        Default: the loss of the last ``fit``. Diagnose judges the pair it is given, even
        one ``fit`` would refuse (see ``wrong_output_for_loss``).
    feature_names : list of str, optional
        Names of ``X``'s columns, for the evidence.

    Returns
    -------
    Diagnosis
        ``str(report)`` prints it; ``report.codes`` lists the codes found.
    """
    from glassnet.glassbox import rules

    evidence = gather(model, X, y, loss, feature_names)
    findings = [f for rule in rules.RULES for f in rule(evidence)]
    return Diagnosis(findings, _checked(evidence))


def gather(model, X, y, loss, feature_names) -> Evidence:
    """The :class:`Evidence` for a model (and data): inputs checked, the live pass run."""
    model.require_built()
    loss = model.loss_ if loss is None else get_loss(loss)
    history = model.history
    evidence = Evidence(
        model, loss, history.history, getattr(history, "statistics", {}), feature_names=None
    )
    if loss is not None:
        evidence.output_problem = _output_problem(model, loss)
    if X is None:
        if y is not None:
            raise InputValueError("diagnose needs X with y: pass the inputs y belongs to")
        return evidence
    evidence.X = model.check_inputs(X)
    if feature_names is not None:
        evidence.feature_names = [str(n) for n in feature_names]
    if y is not None and loss is not None:
        evidence.y = model.check_targets(y, loss, evidence.X.shape[0])
    evidence.live = live_pass(evidence)
    return evidence


def _output_problem(model, loss: Loss) -> str | None:
    try:
        loss.check_output(model.output_activation)
    except InputValueError as exc:
        return str(exc)
    return None


def live_pass(evidence: Evidence) -> dict:
    """One forward pass (and, when the output suits the loss, one backward pass) over the
    first :data:`LIVE_ROWS` rows, in prediction mode (nothing the model keeps changes):
    ``{"dead": {layer: share}, "saturated": {...}, "grad_norm": {slot: norm}}``."""
    model = evidence.model
    x = evidence.X[:LIVE_ROWS]
    backward = evidence.y is not None and evidence.output_problem is None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        arriving = {}
        if backward:
            y = evidence.y[:LIVE_ROWS]
            loss_and_gradients(model, x, y, evidence.loss, training=False, record=arriving)
        else:
            model.forward(x)
        live = {"dead": {}, "saturated": {}, "grad_norm": {}, "delta_rms": {}}
        for i, g in sorted(arriving.items()):
            live["delta_rms"][f"layers.{i}"] = norm(g) / np.sqrt(max(g.size, 1))
        for name, layer, act in watched_layers(model):
            if act.name == "relu":
                z = layer.z
                fired = z.max(axis=tuple(k for k in range(z.ndim) if k != 1)) > 0
                live["dead"][name] = float(1.0 - fired.mean())
            elif act.name in ("sigmoid", "tanh"):
                live["saturated"][name] = saturated_share(layer.a, act.name)
        if backward:
            live["grad_norm"] = {n: norm(g) for n, _, g in model.slots()}
    return live


def _checked(evidence: Evidence) -> str:
    """What the report looked at, for the one line of a healthy run."""
    epochs = len(evidence.curves.get("loss", []))
    parts = [f"{epochs} epoch{'s' if epochs != 1 else ''} of history"]
    if evidence.statistics.get("epoch"):
        parts.append("per-layer statistics")
    if evidence.X is not None:
        parts.append(f"{len(evidence.X):,} rows of data")
    return "looked at " + ", ".join(parts)
