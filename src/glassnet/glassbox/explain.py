"""The backpropagation ledger: every value and every partial derivative of one training step.

Layers are numbered as the model numbers them — ``layers.0`` is the first, and its weight is
the parameter ``layers.0.W`` — so the ledger, ``model.layers[l]`` and ``model.slots()`` speak
of the same thing. For each layer ``l`` it records

    z[l] = a[l-1] @ W[l] + b[l]        the pre-activations (a[-1] is the input x)
    a[l] = g(z[l])                      the activations
    dL/da[l]                            the gradient arriving from above
    delta[l] = dL/dz[l]                 = dL/da[l] * g'(z[l])
    dL/dW[l] = a[l-1].T @ delta[l]      dL/db[l] = sum over samples of delta[l]

and, for one chosen weight ``W[l]_ij``, the chain rule written out factor by factor::

    dL/dw = dL/dy_hat * dy_hat/da[l]_j * da[l]_j/dw        (one output)
    da[l]_j/dw = a[l-1]_i * g'(z[l]_j)

which is exactly how seed 002 derives ``dL/dw1 = -0.952 * 0.249 * -0.0904 = 0.0215`` by hand.
The numbers come from the model's own forward and backward — the reference path of
:mod:`glassnet.nn`, in float64, through the same ``loss_and_gradients`` as ``fit`` — so the
ledger is the computation, not a re-enactment of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from glassnet import fast
from glassnet.errors import InputValueError
from glassnet.glassbox.gradcheck import float64_copy
from glassnet.nn.activations import Softmax
from glassnet.nn.layers import Affine
from glassnet.nn.losses import get_loss
from glassnet.training.trainer import loss_and_gradients


@dataclass
class LayerEntry:
    """One layer's values. Arrays have a row per sample."""

    index: int  # the layer's number in the model (``layers.<index>``)
    name: str
    z: np.ndarray | None
    a: np.ndarray
    dL_da: np.ndarray | None
    delta: np.ndarray | None
    grads: dict[str, np.ndarray] = field(default_factory=dict)
    #: the layer's own intermediate values, ``(symbol, formula, value)``: e.g. BatchNormalization's
    #: ``μ``, ``σ²``, ``x̂`` (:meth:`Layer.explained_forward`) and ``∂L/∂x̂`` (``explained_backward``)
    values: list = field(default_factory=list)
    backward_values: list = field(default_factory=list)


@dataclass
class ChainRule:
    """The factors of ``dL/dw`` for one parameter entry and one sample (``sample``);
    ``dL_dw`` is that sample's share of the gradient, ``dL_dw_total`` the gradient over
    every sample given, as backward computed it (equal when one sample is given)."""

    parameter: str
    sample: int
    dL_dyhat: float | None  # one-output networks only
    dyhat_da: float | None  # one-output networks only
    dL_da: float  # the upstream gradient at the unit the weight feeds
    da_dz: float | None  # g'(z) (None for softmax, whose Jacobian is not diagonal)
    dz_dw: float  # the input the weight multiplies (1 for a bias)
    da_dw: float | None  # da/dw = dz/dw * g'(z)
    dL_dw: float  # this sample's share of the gradient
    dL_dw_total: float  # the gradient over all samples, as backward computed it


@dataclass
class Ledger:
    loss_name: str
    loss: float
    x: np.ndarray
    y_hat: np.ndarray
    dL_dyhat: np.ndarray
    layers: list[LayerEntry]
    chain: ChainRule | None

    def __str__(self) -> str:
        return format_ledger(self)


def explain(
    model, X, y, loss="mse", *, parameter: str | None = "auto", sample: int = 0, training=True
) -> Ledger:
    """Run one forward and backward pass on ``X``, ``y`` and record every step.

    Parameters
    ----------
    model : Sequential (built, or built here from ``X``); not modified.
    X, y : a few samples (one is clearest).
    loss : str or Loss
    parameter : str or None
        The weight whose chain rule is written out, as ``"layers.<i>.<key>[<index>]"``
        (0-based, like ``model.slots()``); ``"auto"`` picks the first weight of the first
        Dense layer (seed 002's ``w1``); None writes out no chain.
    sample : int
        Which sample's chain rule is written out (the gradient itself sums over all).
    training : bool, default True
        The mode of ``fit``'s steps: BatchNormalization uses the batch's statistics (and
        Dropout draws a mask); False shows the prediction-time pass.
    """
    loss_fn = get_loss(loss)
    with fast.reference_only():
        m = float64_copy(model, X)
        X = m.check_inputs(X)
        y = m.check_targets(y, loss_fn, X.shape[0])
        loss_fn.check_output(m.output_activation)
        if not 0 <= sample < X.shape[0]:
            raise InputValueError(f"sample must be between 0 and {X.shape[0] - 1}, got {sample}")
        arriving: dict[int, np.ndarray] = {}
        value, y_hat = loss_and_gradients(m, X, y, loss_fn, training=training, record=arriving)
        y_hat = y_hat.copy()
        loss_fn.forward(y_hat, y)
        dL_dyhat = loss_fn.backward()  # dL/dy_hat, even where training used the logits
        arriving[len(m.layers) - 1] = dL_dyhat
        entries = [_entry(i, layer, arriving) for i, layer in enumerate(m.layers)]
        if parameter == "auto":
            dense = [i for i, layer in enumerate(m.layers) if _is_dense(layer)]
            parameter = f"layers.{dense[0]}.W[0,0]" if dense else None
        chain = None if parameter is None else _chain(m, parameter, dL_dyhat, arriving, sample)
    return Ledger(loss_fn.name, float(value), X, y_hat, dL_dyhat, entries, chain)


def _is_dense(layer) -> bool:
    return isinstance(layer, Affine) and layer.params["W"].ndim == 2


def _entry(i, layer, arriving) -> LayerEntry:
    return LayerEntry(
        index=i,
        name=repr(layer),
        z=getattr(layer, "z", None),
        a=getattr(layer, "a", None),
        dL_da=arriving.get(i),
        delta=getattr(layer, "delta", None),
        grads={k: g.copy() for k, g in layer.grads.items()},
        values=[(sym, f, np.copy(v)) for sym, f, v in layer.explained_forward()],
        backward_values=[(sym, f, np.copy(v)) for sym, f, v in layer.explained_backward()],
    )


def _chain(m, parameter, dL_dyhat, arriving, sample) -> ChainRule:
    li, key, index = _parse_parameter(m, parameter)
    layer = m.layers[li]
    j, s = index[-1], sample  # the unit the weight feeds; the sample
    x_i = float(layer.x[s, index[0]]) if key == "W" else 1.0
    softmax = isinstance(layer.activation, Softmax)
    g_prime = None if softmax else float(layer.activation.derivative()[s, j])
    dL_da = float(arriving[li][s, j])
    delta = float(layer.delta[s, j])  # dL/dz for this sample
    total = float(layer.grads[key][index])
    dL_dy = dy_da = None
    if m.output_shape == (1,):
        # how the single output moves with unit j: backpropagate 1 from the output
        ones: dict[int, np.ndarray] = {}
        m.backward(np.ones_like(dL_dyhat), record=ones)
        dy_da = float(ones[li][s, j])
        dL_dy = float(dL_dyhat[s, 0])
    return ChainRule(
        parameter=parameter,
        sample=s,
        dL_dyhat=dL_dy,
        dyhat_da=dy_da,
        dL_da=dL_da,
        da_dz=g_prime,
        dz_dw=x_i,
        da_dw=None if softmax else x_i * g_prime,
        dL_dw=delta * x_i,
        dL_dw_total=total,
    )


def _parse_parameter(m, parameter):
    """``"layers.0.W[0,1]"`` -> ``(0, "W", (0, 1))``, checked against the model."""
    match = re.fullmatch(r"layers\.(\d+)\.(\w+)\[([\d, ]+)\]", parameter.replace(" ", ""))
    if not match:
        raise InputValueError(f"parameter must look like 'layers.0.W[0,0]', got {parameter!r}")
    li, key = int(match.group(1)), match.group(2)
    index = tuple(int(s) for s in match.group(3).split(","))
    if li >= len(m.layers) or key not in m.layers[li].params:
        names = [name for name, _, _ in m.slots()]
        raise InputValueError(f"parameter {parameter!r} does not exist; parameters are {names}")
    p = m.layers[li].params[key]
    if len(index) != p.ndim or any(not 0 <= k < s for k, s in zip(index, p.shape, strict=True)):
        raise InputValueError(f"index {index} is outside {key} of shape {p.shape}")
    if not _is_dense(m.layers[li]):
        raise InputValueError("the chain rule is written out for Dense layers only")
    return li, key, index


def _fmt(v) -> str:
    if v is None:
        return "—"
    arr = np.asarray(v, dtype=float)
    if arr.ndim == 0:
        return f"{float(arr):.4g}"
    return np.array2string(
        arr, precision=4, suppress_small=True, separator=", ", floatmode="maxprec"
    )


def _values(values, i: int) -> list[str]:
    """A layer's own ``(symbol, formula, value)`` lines, the formula's ``{x}`` its input."""
    below = "x" if i == 0 else f"a[{i - 1}]"
    return [
        f"  {sym}[{i}] = {formula.format(x=below, i=i)} = {_fmt(v)}" for sym, formula, v in values
    ]


def format_ledger(ledger: Ledger) -> str:
    """The ledger as text: the forward pass layer by layer, the loss, then the backward pass
    from the top, then the chain rule of the chosen weight."""
    lines = [f"input x = {_fmt(ledger.x)}"]
    for e in ledger.layers:
        i = e.index
        lines.append(f"layers.{i}: {e.name}")
        if e.z is not None and e.grads:
            op = "⊛" if e.grads.get("W", np.empty((0, 0))).ndim == 4 else "@"  # ⊛: convolution
            below = "x" if i == 0 else f"a[{i - 1}]"
            bias = f" + b[{i}]" if "b" in e.grads else ""
            lines.append(f"  z[{i}] = {below} {op} W[{i}]{bias} = {_fmt(e.z)}")
        lines += _values(e.values, i)
        if all(sym != "a" for sym, _, _ in e.values):
            lines.append(f"  a[{i}] = {_fmt(e.a)}")
    lines.append(f"output ŷ = {_fmt(ledger.y_hat)}")
    lines.append(f"loss ({ledger.loss_name}) L = {ledger.loss:.6g}")
    lines.append(f"∂L/∂ŷ = {_fmt(ledger.dL_dyhat)}")
    for e in reversed(ledger.layers):
        if not e.grads and e.delta is None:
            continue
        lines.append(f"layers.{e.index} backward:")
        if e.dL_da is not None:
            lines.append(f"  ∂L/∂a[{e.index}] = {_fmt(e.dL_da)}")
        if e.delta is not None:
            lines.append(f"  δ[{e.index}] = ∂L/∂z[{e.index}] = {_fmt(e.delta)}")
        lines += _values(e.backward_values, e.index)
        for key, g in e.grads.items():
            lines.append(f"  ∂L/∂{key}[{e.index}] = {_fmt(g)}")
    c = ledger.chain
    if c is not None:
        n = ledger.x.shape[0]
        which = "" if n == 1 else f", sample {c.sample} of {n}"
        lines.append(f"chain rule for {c.parameter}{which}:")
        if c.dL_dyhat is not None:
            lines.append(
                f"  ∂L/∂w = ∂L/∂ŷ · ∂ŷ/∂a · ∂a/∂w = {_fmt(c.dL_dyhat)} · "
                f"{_fmt(c.dyhat_da)} · {_fmt(c.da_dw)} = {_fmt(c.dL_dw)}"
            )
        if c.da_dz is not None:
            lines.append(
                f"  ∂a/∂w = ∂z/∂w · g'(z) = {_fmt(c.dz_dw)} · {_fmt(c.da_dz)} = {_fmt(c.da_dw)}"
            )
        lines.append(f"  ∂L/∂a (arriving from above) = {_fmt(c.dL_da)}; ∂L/∂w = {_fmt(c.dL_dw)}")
        if n > 1:
            lines.append(f"  summed over the {n} samples: ∂L/∂w = {_fmt(c.dL_dw_total)}")
    return "\n".join(lines)
