"""The optimizers' steps as one pass over the parameters: SGD (momentum, Nesterov) and
Adam/AdamW, weight decay included.

The reference (:mod:`glassnet.training.optimizers`) writes each step as NumPy passes over the
whole vector — Adam with weight decay: thirteen, each reading and writing memory. Here each
element is read once and written once, every operation the same one in the same order, in
the parameters' dtype (the scalars are converted to it first, as NumPy converts a Python
float), so the numbers are the reference's bit for bit (``tests/test_fast_compiled.py``).

Weight decay, for element ``i`` with ``m_i`` the group's 1/0 mask (``mask`` of one element
when the whole group is decayed)::

    L2 (SGD, Adam)     g_i <- (p_i m_i) lambda + g_i
    decoupled (AdamW)  p_i <- p_i - (p_i m_i) eta lambda

One thread. SGD's step is a plain loop; Adam's is compiled as a parallel loop on one thread,
which lets LLVM vectorise it (see :class:`glassnet.fast.compiled.Kernel` for both whys).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from glassnet.fast.compiled import kernel


@kernel()
def sgd_step(p, g, velocity, mask, weight_decay, lr, momentum, nesterov):
    """``v <- mu v + g``; ``p <- p - eta (g + mu v)`` (Nesterov) or ``p <- p - eta v``, or
    ``p <- p - eta g`` without momentum (``velocity`` is then not read)."""
    whole = mask.size == 1
    for i in prange(p.size):
        gi = g[i]
        if weight_decay != 0:
            gi = p[i] * (mask[0] if whole else mask[i]) * weight_decay + gi
        if momentum != 0:
            vi = velocity[i] * momentum + gi
            velocity[i] = vi
            step = vi * momentum + gi if nesterov else vi
        else:
            step = gi
        p[i] = p[i] - step * lr


@kernel(parallel=True)
def adam_step(p, g, m, v, mask, weight_decay, decay_rate, beta1, c1, beta2, c2, eta_t, eps_t):
    """``m <- b1 m + c1 g``; ``v <- b2 v + c2 g^2`` (``c1 = 1 - b1``, ``c2 = 1 - b2``, rounded
    to the dtype from the Python floats, as the reference's are);
    ``p <- p - eta_t m / (sqrt(v) + eps_t)``, after L2 (``weight_decay``) or decoupled
    (``decay_rate = eta lambda``) weight decay."""
    whole = mask.size == 1
    for i in prange(p.size):
        pi, gi = p[i], g[i]
        mi = mask[0] if whole else mask[i]
        if decay_rate != 0:
            pi = pi - pi * mi * decay_rate
        if weight_decay != 0:
            gi = pi * mi * weight_decay + gi
        mt = m[i] * beta1 + gi * c1
        vt = v[i] * beta2 + gi * gi * c2
        m[i], v[i] = mt, vt
        p[i] = pi - mt / (np.sqrt(vt) + eps_t) * eta_t


def update(optimizer, group, g, lr) -> bool:
    """Run ``optimizer``'s step on ``group`` (a :class:`glassnet.fast.parameters.Group`, ``g``
    its gradient after clipping) as one compiled pass, weight decay included; False, having
    done nothing, for a rule without a kernel here (any subclass too: it may redefine its
    update) or arrays that are not contiguous."""
    from glassnet.training.optimizers import SGD, Adam, AdamW

    kind = type(optimizer)
    if kind not in (SGD, Adam, AdamW) or group.p.dtype.char not in _ONE:
        return False
    p, state = group.p, group.state
    keys = (
        ("velocity",)
        if kind is SGD and optimizer.momentum
        else ("m", "v")
        if kind is not SGD
        else ()
    )
    arrays = (p, g, *(state[k] for k in keys))
    if not all(a.flags.c_contiguous and a.dtype == p.dtype for a in arrays):
        return False
    flat = [a.reshape(-1) for a in arrays]
    real = p.dtype.type
    decayed = bool(optimizer.weight_decay) and group.decay is not False
    mask = group.decay.reshape(-1) if isinstance(group.decay, np.ndarray) else _ONE[p.dtype.char]
    l2 = real(optimizer.weight_decay if decayed and not optimizer.decoupled else 0)
    if kind is SGD:
        velocity = flat[2] if optimizer.momentum else _NONE[p.dtype.char]
        sgd_step(
            flat[0],
            flat[1],
            velocity,
            mask,
            l2,
            real(lr),
            real(optimizer.momentum),
            optimizer.nesterov,
        )
        return True
    rate = real(lr * optimizer.weight_decay if decayed and optimizer.decoupled else 0)
    eta_t, eps_t = optimizer.corrected_rates(lr)
    b1, b2 = optimizer.beta1, optimizer.beta2
    adam_step(
        *flat,
        mask,
        l2,
        rate,
        real(b1),
        real(1 - b1),
        real(b2),
        real(1 - b2),
        real(eta_t),
        real(eps_t),
    )
    return True


_ONE = {np.dtype(t).char: np.ones(1, dtype=t) for t in (np.float32, np.float64)}
_NONE = {np.dtype(t).char: np.zeros(0, dtype=t) for t in (np.float32, np.float64)}  # unread


def warm_up(dtype) -> None:
    """Compile both steps for ``dtype`` on a few elements (see ``compiled.warm_up``)."""
    real = dtype.type
    p, g, m, v = (np.zeros(4, dtype) for _ in range(4))
    sgd_step(p, g, m, _ONE[dtype.char], real(0), real(0.1), real(0.9), True)
    zero, half = real(0), real(0.5)
    adam_step(p, g, m, v, _ONE[dtype.char], zero, zero, half, half, half, half, half, half)
