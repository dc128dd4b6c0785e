"""Finite-difference gradient checks: is backpropagation computing the true derivative?

For every parameter entry ``p_i`` the central difference

    dL/dp_i ~ (L(p_i + eps) - L(p_i - eps)) / (2 eps)          error O(eps^2)

is compared with the gradient that ``backward`` produced. The check runs on a float64 copy
of the model (float32 rounding, ~1e-7 relative, would swamp the O(eps^2) error), through the
same training path as ``fit`` — the fused activation-loss gradient and the fusions of
:mod:`glassnet.fast` included (``with glassnet.fast.reference_only():`` checks the reference).

Per parameter array the relative error is ``|a - n| / (|a| + |n|)`` (Euclidean norms of the
analytic and numeric gradient arrays): near 1e-10 when backward is right, near 1 when wrong.
A gradient that is truly zero — a bias right before BatchNormalization in training mode,
whose mean subtraction cancels it — would give rounding noise over rounding noise, about 1;
so when both norms are below what central differences can resolve (``resolution``: the
loss's rounding error, ~1e-16 of it, divided by ``eps``) the two agree and the error is 0.

The check runs in the mode ``fit`` trains in (``training=True``): BatchNormalization
normalises with the batch's own statistics, and its gradient flows through them; Dropout
uses one fixed mask. ``training=False`` checks the prediction function instead.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from glassnet import fast
from glassnet.nn.losses import get_loss
from glassnet.training.trainer import loss_and_gradients


@dataclass
class GradcheckResult:
    """``max_error`` over all parameters; ``per_param`` maps each slot name to its error."""

    max_error: float
    per_param: dict[str, float] = field(default_factory=dict)
    analytic: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    numeric: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __float__(self) -> float:
        return self.max_error

    def __str__(self) -> str:
        rows = [f"{name:<20} {err:.3e}" for name, err in self.per_param.items()]
        return "\n".join([*rows, f"{'max':<20} {self.max_error:.3e}"])


def gradcheck(
    model, X, y, loss="mse", *, eps: float = 1e-6, training: bool = True, rng=0
) -> GradcheckResult:
    """Compare backpropagated gradients with central differences, in float64.

    Parameters
    ----------
    model : Sequential
        Built or not (an unbuilt model is built with ``rng``). It is not modified.
    X, y : the data; the loss is evaluated on all of it as one batch.
    loss : str or Loss
    eps : float
        The finite-difference step.
    training : bool, default True
        Forward in training mode, as ``fit`` does (for Dropout, each evaluation reuses one
        fixed mask; BatchNormalization uses the batch's statistics). False: prediction mode.

    Returns
    -------
    GradcheckResult
    """
    loss_fn = get_loss(loss)
    m = float64_copy(model, X, rng)
    fast.prepare(m)  # check the steps fit takes, fusions included
    X = m.check_inputs(X)
    y = m.check_targets(y, loss_fn, X.shape[0])
    loss_fn.check_output(m.output_activation)

    def evaluate() -> float:
        for layer in m.layers:  # the same dropout mask in every evaluation
            if hasattr(layer, "rng"):
                layer.rng = np.random.default_rng(12345)
        return loss_and_gradients(m, X, y, loss_fn, training=training)[0]

    value = evaluate()
    resolution = 16 * np.finfo(np.float64).eps * max(1.0, abs(value)) / eps
    analytic = {name: g.copy() for name, _, g in m.slots()}
    result = GradcheckResult(max_error=0.0)
    for name, p, _ in m.slots():
        numeric = numeric_gradient(evaluate, p, eps)
        a = analytic[name]
        error = relative_error(a, numeric, floor=resolution * np.sqrt(a.size))
        result.per_param[name] = error
        result.analytic[name], result.numeric[name] = a, numeric
        result.max_error = max(result.max_error, error)
    return result


def float64_copy(model, X, rng=0):
    """A float64 copy of ``model`` (built for ``X`` with ``rng`` first if it is not), with every
    layer computing ``dL/dx``: what gradient checks and the ledger work on, leaving ``model``
    as it was."""
    if not model.built:
        model = copy.deepcopy(model)
        model.build(model.check_inputs(X).shape[1:], rng)
    m = model.astype(np.float64)
    for layer in m.layers:
        layer.needs_input_grad = True
    return m


def numeric_gradient(f, array, eps: float = 1e-6) -> np.ndarray:
    """``d f() / d array`` by central differences, one entry at a time.

    ``f`` takes no argument and reads ``array``, which is changed in place (entry ``i`` to
    ``a_i + eps``, then ``a_i - eps``) and restored exactly.
    """
    numeric = np.zeros_like(array)
    flat, out = array.reshape(-1), numeric.reshape(-1)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        plus = f()
        flat[i] = original - eps
        minus = f()
        flat[i] = original
        out[i] = (plus - minus) / (2 * eps)
    return numeric


def relative_error(analytic, numeric, floor: float = 0.0) -> float:
    """``|a - n| / (|a| + |n|)`` over the whole array (Euclidean norms); 0 when both norms
    are at most ``floor`` (both zero, to within what the numeric gradient can resolve)."""
    norm_a, norm_n = np.linalg.norm(analytic), np.linalg.norm(numeric)
    if max(norm_a, norm_n) <= floor or norm_a + norm_n == 0:
        return 0.0
    return float(np.linalg.norm(analytic - numeric) / (norm_a + norm_n))
