"""ReLU's derivative backward in one pass: ``delta = dL/da * 1[z > 0]``.

The reference makes two passes (the mask ``z > 0``, then the product); here each element is
read once. The numbers are the reference's bit for bit: the gradient is ``g * 1`` or
``g * 0`` as the product with a boolean mask is (so a NaN gradient stays NaN).

Measured, and what did not pay (``benchmarks/kernels.py``, float32): on a conv layer's
64x16x28x28 the pass takes 480 us against NumPy's 820; on a Dense layer's 128x256 both take
about 22 us — the call's fixed cost eats the gain — so the kernel runs from
:data:`MIN_SIZE` elements on. The forward pass ``z += b``, ``a = max(z, 0)`` in one loop
(both arrays written) was no faster than NumPy's two passes at any size measured (128x256:
26 against 24 us; 64x12,544: 507 against 514 us) and was dropped; so were sigmoid and tanh,
whose ``exp``/``tanh`` round differently in numba (libm) and NumPy (SIMD) in the last bit.

Plain loops on one thread, not parallel ones (see :class:`glassnet.fast.compiled.Kernel`).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from glassnet.fast.compiled import kernel
from glassnet.nn.activations import ReLU

#: below this many elements NumPy's two passes are as fast as the kernel's call
MIN_SIZE = 1 << 16


@kernel()
def relu_gradient(g, z, delta):
    """``delta = g * 1[z > 0]`` over flat arrays of one memory layout."""
    for i in prange(z.size):
        delta[i] = g[i] * (1 if z[i] > 0 else 0)


def _flat(x):
    """A 1-D view of ``x``'s elements in memory order, or None when they are not dense."""
    order = np.argsort(x.strides, kind="stable")[::-1]
    t = x.transpose(order)
    return t.reshape(-1) if t.flags.c_contiguous else None


def relu_delta(activation, grad_out):
    """``dL/dz`` of a plain ReLU (a layer's, or a ReLU layer) from ``grad_out = dL/da``, or
    None (then NumPy runs)."""
    z = getattr(activation, "z", None)
    if type(activation) is not ReLU or z is None or grad_out.dtype != z.dtype:
        return None
    if z.size < MIN_SIZE:
        return None
    if grad_out.strides != z.strides or z.dtype.char not in "fd":
        return None
    delta = np.empty_like(z)
    flat = [_flat(x) for x in (grad_out, z, delta)]
    if any(f is None for f in flat):
        return None
    relu_gradient(*flat)
    return delta


def warm_up(dtype) -> None:
    """Compile the kernel for ``dtype`` (see ``compiled.warm_up``)."""
    z = np.ones((2, 3), dtype)
    relu_gradient(z.ravel(), z.ravel(), np.empty(6, dtype))
