"""Weight decay: ``lambda`` pulling every weight towards 0, and which weights it leaves out.

Two forms, by optimizer (``lambda`` the optimizer's ``weight_decay``, ``eta`` the step's rate)::

    L2 (SGD, Adam, RMSprop, Adagrad)   g <- g + lambda p           the gradient of lambda/2 ||p||^2
    decoupled (AdamW)                  p <- p - eta lambda p       before the update rule

For SGD the two are the same step; under Adam's per-weight scaling they are not (see
:class:`glassnet.training.optimizers.AdamW`).

Which parameters: every one except those named in ``exclude_from_weight_decay``, by key or
by full name — by default the biases (``b``) and normalisation's shift and scale (``beta``,
``gamma``). Shrinking a bias towards 0 does not make the function the network computes any
simpler, and shrinking ``gamma`` fights the normalisation; PyTorch and Keras users exclude
them as a matter of course, and scikit-learn's MLP penalises only its coefficients.

A packed model (:mod:`glassnet.fast.parameters`) updates all parameters as one vector; there
the decay is multiplied by a 1/0 mask of the decayed elements. ``(p * 1) * lambda`` is
``p * lambda`` and ``(p * 0) * lambda`` is 0 exactly, so both paths give the same bits.
"""

from __future__ import annotations

import numpy as np

from glassnet.errors import InputTypeError
from glassnet.training.clipping import work_array

#: the parameter keys weight decay leaves out by default: biases, normalisation's beta, gamma
NOT_DECAYED = ("b", "beta", "gamma")


def check_exclusions(value) -> tuple[str, ...]:
    """``exclude_from_weight_decay``: a sequence of parameter keys or names, as a tuple."""
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise InputTypeError(
            f"exclude_from_weight_decay must be a sequence of parameter keys or names, "
            f"got {value!r}"
        )
    return tuple(value)


def is_decayed(name: str, excluded: tuple[str, ...]) -> bool:
    """Whether decay applies to the parameter ``name`` (``"layers.0.b"``: key ``"b"``)."""
    return name not in excluded and name.rpartition(".")[2] not in excluded


def decayed_gradient(p, g, decay, weight_decay: float, state) -> np.ndarray:
    """L2: ``g + lambda p``, written into the work-space array ``state["decayed"]``; where
    ``decay`` is a mask, ``g + lambda (mask p)``: the excluded elements keep ``g`` exactly."""
    decayed = work_array(state, "decayed", g)
    if decay is True:
        np.multiply(p, weight_decay, out=decayed)
    else:
        np.multiply(p, decay, out=decayed)
        decayed *= weight_decay
    decayed += g
    return decayed


def decay_weights(p, decay, rate: float, tmp) -> None:
    """Decoupled: ``p <- p - eta lambda p``, ``rate = eta lambda`` (a Python float), through
    ``tmp`` (the update's scratch array, which the update then overwrites)."""
    if decay is True:
        np.multiply(p, rate, out=tmp)
    else:
        np.multiply(p, decay, out=tmp)
        tmp *= rate
    p -= tmp
