"""The rules of :func:`glassnet.diagnose`: each reads the :class:`Evidence` and returns its
findings (none, for a healthy run). Every threshold is a named constant saying why, in
:mod:`glassnet.glassbox.thresholds`."""

from __future__ import annotations

import math

import numpy as np

from glassnet.errors import Param
from glassnet.glassbox.findings import Advice, Finding
from glassnet.glassbox.thresholds import (
    DEAD_SHARE,
    EXPLODING_RATIO,
    FLAT_EPOCHS,
    FLAT_SHARE,
    LOSS_ABOVE_START,
    LOSS_BARELY_MOVED,
    LOSS_GIVEN_BACK,
    OSCILLATION_EPOCHS,
    OSCILLATION_JUMPS,
    OSCILLATION_RISE,
    OVERFIT_EPOCHS,
    SATURATED_SHARE,
    SATURATED_STUCK,
    UNDERFIT_SHARE,
    UNSCALED_MAX,
    UNSCALED_MIN,
    UNSCALED_RATIO,
    UPDATE_RATIO_HIGH,
    UPDATE_RATIO_LOW,
    VANISHING_RATIO,
)

RATE = Param("learning_rate")


def _rate(evidence) -> float | None:
    optimizer = getattr(evidence.model, "optimizer_", None)
    if optimizer is None:
        return None
    # the rate given: a schedule's start (a decayed rate ends near 0: a fix from it says 0)
    rate = optimizer.learning_rate
    return float(getattr(rate, "initial_learning_rate", optimizer.current_learning_rate))


def _ratios(evidence) -> dict[str, tuple[int, float]]:
    """``{weight name: (epoch, update ratio)}`` at each weight's last measured epoch."""
    out = {}
    for name, _ in evidence.weights:
        found = evidence.last(f"{name}/update_ratio")
        if found is not None:
            out[name] = found
    return out


def _given_back(curve) -> float:
    """The share of a curve's improvement (first to best) that its last value has lost;
    for a curve that never improved, how far above its start it ended."""
    curve = [v for v in curve if math.isfinite(v)]
    if len(curve) < 2:
        return 0.0
    first, best, last = curve[0], min(curve), curve[-1]
    if first > best:
        return (last - best) / (first - best)
    return max(0.0, (last - first) / abs(first)) if first else 0.0


def _diverged(evidence) -> bool:
    """The statistics hold an epoch the History does not: the run was cut short."""
    epochs = evidence.statistics.get("epoch", [])
    return bool(epochs) and epochs[-1] > len(evidence.curves.get("loss", []))


# -- the rules ----------------------------------------------------------------------------------
def learning_rate_too_high(evidence) -> list[Finding]:
    name, epoch, ratio = _peak_ratio(evidence)
    loss_words = _loss_unstable(evidence)
    if loss_words is None:
        name, epoch, ratio = _peak_ratio(evidence, OSCILLATION_EPOCHS)
        loss_words = _loss_swings(evidence)
    if ratio < UPDATE_RATIO_HIGH or loss_words is None:
        return []
    evidence_text = (
        f"each step moved {name} by {ratio:.3g} of its size in epoch {epoch} "
        f"(healthy: about 1e-3); {loss_words}"
    )
    fix = Advice("divide the learning rate by 10: {rate}", {"rate": _scaled(_rate(evidence), 0.1)})
    values = {"update_ratio": ratio}
    return [Finding("learning_rate_too_high", evidence_text, fix, _layer(name), epoch, values)]


def _loss_unstable(evidence) -> str | None:
    """How the training loss shows steps that overshoot, in words, or None: the run
    diverged, an epoch's loss rose to :data:`LOSS_ABOVE_START` times where training began,
    or the loss gave back :data:`LOSS_GIVEN_BACK` of its improvement."""
    if _diverged(evidence):
        return "the run diverged"
    curve = [v for v in evidence.curves.get("loss", []) if math.isfinite(v)]
    start = evidence.statistics.get("loss_before", [math.nan])[0]
    if curve and start > 0 and max(curve) >= LOSS_ABOVE_START * start:
        worst = int(np.argmax(curve))
        rose = f"the loss rose to {curve[worst]:.4g} in epoch {worst + 1}"
        return f"{rose}, from {start:.4g} before training"
    given_back = _given_back(curve)
    if given_back >= LOSS_GIVEN_BACK:
        return f"the training loss gave back {given_back:.0%} of its improvement"
    return None


def _layer(slot: str) -> str:
    return slot.rsplit(".", 1)[0]  # "layers.0.W" -> "layers.0"


def _loss_swings(evidence) -> str | None:
    """The loss rose by :data:`OSCILLATION_RISE` from one epoch to the next at least
    :data:`OSCILLATION_JUMPS` times in the last :data:`OSCILLATION_EPOCHS`, in words."""
    curve = [v for v in evidence.curves.get("loss", []) if math.isfinite(v)]
    window = curve[-(OSCILLATION_EPOCHS + 1) :]
    jumps = sum(b > a * (1 + OSCILLATION_RISE) for a, b in zip(window, window[1:], strict=False))
    if jumps < OSCILLATION_JUMPS:
        return None
    return f"the loss jumped up by over 20% {jumps} times in its last {len(window) - 1} epochs"


def _peak_ratio(evidence, last: int | None = None) -> tuple[str, int, float]:
    """The largest update ratio of any weight in any epoch (of the ``last`` ones, if given):
    ``(weight, epoch, ratio)``."""
    best = ("", 0, 0.0)
    epochs = evidence.statistics.get("epoch", [])
    start = 0 if last is None else max(0, len(epochs) - last)
    for name, _ in evidence.weights:
        values = evidence.statistics.get(f"{name}/update_ratio", [])
        for epoch, value in list(zip(epochs, values, strict=False))[start:]:
            if math.isfinite(value) and value > best[2]:
                best = (name, int(epoch), float(value))
    return best


def _scaled(rate, factor):
    return RATE if rate is None else Param("learning_rate", float(f"{rate * factor:.3g}"))


def learning_rate_too_low(evidence) -> list[Finding]:
    ratios = _ratios(evidence)
    curve = [v for v in evidence.curves.get("loss", []) if math.isfinite(v)]
    if not ratios or len(curve) < 2 or curve[0] <= 0:
        return []
    name, (epoch, ratio) = max(ratios.items(), key=lambda item: item[1][1])
    moved = (curve[0] - curve[-1]) / curve[0]
    if ratio > UPDATE_RATIO_LOW or moved >= LOSS_BARELY_MOVED:
        return []
    text = (
        f"the largest step moved {name} by {ratio:.2g} of its size in epoch {epoch} "
        f"(healthy: about 1e-3); in {len(curve)} epochs the loss fell by {moved:.2%}"
    )
    fix = Advice(
        "multiply the learning rate by 100: {rate}", {"rate": _scaled(_rate(evidence), 100)}
    )
    return [Finding("learning_rate_too_low", text, fix, None, epoch, {"update_ratio": ratio})]


def unscaled_inputs(evidence) -> list[Finding]:
    X = evidence.X
    if X is None or X.shape[0] == 0 or _normalises_its_input(evidence.model):
        return []
    X = X.reshape(X.shape[0], -1)  # an image's pixels are features too
    with np.errstate(invalid="ignore"):
        scale = np.nanmax(np.abs(np.where(np.isfinite(X), X, np.nan)), axis=0)
        varying = np.nanmax(X, axis=0) > np.nanmin(X, axis=0)
    scale = np.where(varying & np.isfinite(scale), scale, np.nan)
    if np.isnan(scale).all():
        return []
    big, small = int(np.nanargmax(scale)), int(np.nanargmin(scale))
    high, low = float(scale[big]), float(scale[small])
    problems = []
    if high > UNSCALED_MAX:
        problems.append(f"feature {_feature(evidence, big)} reaches {high:.3g}")
    if low < UNSCALED_MIN:
        problems.append(f"feature {_feature(evidence, small)} never exceeds {low:.3g}")
    if low > 0 and high / low > UNSCALED_RATIO:
        problems.append(f"the largest values of the features differ {high / low:.3g} times")
    if not problems:
        return []
    fix = Advice(
        "standardise every feature: x' = (x - mean) / std, with mean and std of the training "
        "rows (glassnet train does it for a table; for images, divide pixels by 255)"
    )
    text = "; ".join(problems) + " (unit scale: values of about 1)"
    return [Finding("unscaled_inputs", text, fix, values={"largest": high, "smallest": low})]


def _normalises_its_input(model) -> bool:
    """Whether the network's first layer is a normalisation, which rescales every feature
    itself (a BatchNormalization in front needs no scaled inputs)."""
    from glassnet.nn.normalization import BatchNormalization, LayerNormalization

    layers = getattr(model, "layers", [])
    return bool(layers) and isinstance(layers[0], BatchNormalization | LayerNormalization)


def _feature(evidence, j: int) -> str:
    names = evidence.feature_names
    return repr(names[j]) if names is not None and j < len(names) else str(j)


def dead_relu(evidence) -> list[Finding]:
    findings = []
    for name, share, epoch in _layer_shares(evidence, "dead"):
        if share >= DEAD_SHARE:
            where = f"in epoch {epoch}" if epoch else "on the data given"
            text = f"{share:.0%} of the units of {name} never fired {where}"
            fix = Advice(
                "lower the learning rate (dead units are often knocked out by large steps), "
                "start from He initialisation (weight_init='he_normal'), or use "
                "activation='leaky_relu', whose slope is never 0"
            )
            findings.append(Finding("dead_relu", text, fix, name, epoch or None, {"dead": share}))
    return findings


def _layer_shares(evidence, kind: str):
    """``(layer, share, epoch)`` from the statistics' last epoch, else the live pass (epoch 0)."""
    names = {k.split("/")[0] for k in evidence.statistics if k.endswith(f"/{kind}")}
    names |= set(evidence.live.get(kind, {}))
    out = []
    for name in sorted(names, key=lambda n: int(n.split(".")[1])):
        found = evidence.last(f"{name}/{kind}")
        if found is not None:
            out.append((name, found[1], found[0]))
        else:
            out.append((name, evidence.live[kind][name], 0))
    return out


def saturated_units(evidence) -> list[Finding]:
    last = f"layers.{len(evidence.model.layers) - 1}"  # the output: confident, not stuck
    curve = [v for v in evidence.curves.get("loss", []) if math.isfinite(v)]
    if len(curve) >= 2 and curve[-1] < SATURATED_STUCK * curve[0]:
        return []  # the network learns, saturated or not
    findings = []
    for name, share, epoch in _layer_shares(evidence, "saturated"):
        if name != last and share >= SATURATED_SHARE:
            where = f"in epoch {epoch}" if epoch else "on the data given"
            text = f"{share:.0%} of the outputs of {name} were within 1% of a flat end {where}"
            fix = Advice(
                "scale the inputs to unit size, start from smaller weights "
                "(weight_init='glorot_uniform'), or use activation='relu' in hidden layers"
            )
            findings.append(Finding("saturated_units", text, fix, name, epoch or None))
    return findings


def gradient_flow(evidence) -> list[Finding]:
    """``vanishing_gradients`` / ``exploding_gradients``: the gradient reaching the first
    layer against the one leaving the last, as root mean squares per value. Given ``X`` and
    ``y``, the gradient arriving at each layer's output in the live pass (dL/da: it shrinks
    or grows by the same factor at each layer); otherwise, the statistics' weight gradients
    per weight."""
    flow, epoch = _gradient_by_layer(evidence)
    if len(flow) < 2:
        return []
    (first, g_first), (_top, g_top) = flow[0], flow[-1]
    if not (g_top > 0 and g_first > 0 and math.isfinite(g_first / g_top)):
        return []
    ratio = g_first / g_top
    if VANISHING_RATIO <= ratio <= EXPLODING_RATIO:
        return []
    chain = ", ".join(f"{n} {g:.2g}" for n, g in flow)
    text = (
        f"the gradient's size (root mean square), first layer up: {chain}; first/last {ratio:.2g}"
    )
    text += f" (epoch {epoch})" if epoch else " (on the data given)"
    if ratio < VANISHING_RATIO:
        fix = Advice(
            "use activation='relu' in the hidden layers (its slope is 1, not at most 0.25 "
            "like the sigmoid's), He initialisation, or fewer layers"
        )
        return [Finding("vanishing_gradients", text, fix, first, epoch, {"ratio": ratio})]
    fix = Advice(
        "start from smaller weights (weight_init='auto': Glorot or He, scaled to each "
        "layer's width), and lower the learning rate"
    )
    return [Finding("exploding_gradients", text, fix, first, epoch, {"ratio": ratio})]


def _gradient_by_layer(evidence) -> tuple[list[tuple[str, float]], int | None]:
    """``([(layer or weight, rms)], epoch)``, lowest first: the live pass's arriving gradients,
    else the last epoch's weight gradients (``epoch`` None for the live pass)."""
    delta = evidence.live.get("delta_rms", {})
    if len(delta) >= 2:
        return list(delta.items()), None
    flow, epoch = [], None
    for name, W in evidence.weights:
        found = evidence.last(f"{name}/grad_norm")
        if found is None:
            return [], None
        epoch = found[0]
        flow.append((name, found[1] / math.sqrt(W.size)))
    return flow, epoch


def overfitting(evidence) -> list[Finding]:
    val = [v for v in evidence.curves.get("val_loss", []) if math.isfinite(v)]
    train = evidence.curves.get("loss", [])
    if len(val) < 3 or len(train) != len(val):
        return []
    best = int(np.argmin(val))
    given_back = _given_back(val)
    if val[0] <= val[best] or given_back < LOSS_GIVEN_BACK or train[-1] >= train[best]:
        return []
    if len(val) - 1 - best < OVERFIT_EPOCHS:
        return []
    text = (
        f"the validation loss was lowest in epoch {best + 1} ({val[best]:.4g}) and rose to "
        f"{val[-1]:.4g} by epoch {len(val)} ({given_back:.0%} of its improvement given back), "
        f"while the training loss fell from {train[best]:.4g} to {train[-1]:.4g}"
    )
    fix = Advice(
        "stop at the best epoch (callbacks=[EarlyStopping(patience=5, "
        "restore_best_weights=True)]), add Dropout or weight_decay, or use a smaller network"
    )
    return [Finding("overfitting", text, fix, None, best + 1, {"given_back": given_back})]


def underfitting(evidence) -> list[Finding]:
    if evidence.y is None or evidence.output_problem is not None:
        return []
    from glassnet.glassbox.baseline import constant_loss, model_loss

    constant = constant_loss(evidence.loss, evidence.y, evidence.model)
    now = model_loss(evidence.model, evidence.X, evidence.y, evidence.loss)
    curve = evidence.curves.get("loss", [])[-(FLAT_EPOCHS + 1) :]
    flat = len(curve) < 2 or (curve[0] - curve[-1]) < FLAT_SHARE * abs(curve[0])
    if not math.isfinite(now):
        return []  # outputs beyond the loss's range: another finding says why
    if not (constant > 0 and now >= UNDERFIT_SHARE * constant and flat):
        return []
    text = (
        f"the loss on the data is {now:.4g}; always predicting the average gives {constant:.4g} "
        f"({now / constant:.0%} of it)"
    )
    fix = Advice(
        "give the network more capacity (more or wider hidden layers, a nonlinear activation "
        "such as 'relu'), train for more epochs, or raise the learning rate"
    )
    return [Finding("underfitting", text, fix, values={"loss": now, "constant": constant})]


def wrong_output_for_loss(evidence) -> list[Finding]:
    if evidence.output_problem is not None:
        fix = Advice(
            "end the network with the output the loss reads: activation='sigmoid' for 'bce', "
            "'softmax' for 'cross_entropy' (or the loss with from_logits=True)"
        )
        return [Finding("wrong_output_for_loss", evidence.output_problem, fix)]
    from glassnet.glassbox.baseline import output_range_problem

    problem = output_range_problem(evidence.model, evidence.loss, evidence.y)
    if problem is None:
        return []
    fix = Advice("end a regression network with no activation (Dense(k)): its output is unbounded")
    return [Finding("wrong_output_for_loss", problem, fix)]


RULES = (
    wrong_output_for_loss,
    unscaled_inputs,
    learning_rate_too_high,
    learning_rate_too_low,
    gradient_flow,
    dead_relu,
    saturated_units,
    overfitting,
    underfitting,
)
"""The rules, in the order their findings are reported."""
