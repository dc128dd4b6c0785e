"""Conv2D's col2im as one pass: each input pixel gathers the gradients of its copies.

The reference (:class:`glassnet.nn.conv.Conv2D`) sends ``dL/dX_col`` back with one slice
addition per kernel offset ``(i, j)`` (``kh * kw`` passes over the image). Here each input
pixel gathers its ``kh * kw`` gradients in one visit, added in the reference's order (the
offset that read the whole image first, then the others, ``i`` outer), so the sums are the
reference's bit for bit. Layouts as in :mod:`glassnet.nn.windows`: images ``(c, h, w, n)``,
``dL/dX_col`` as ``(c, kh, kw, out_h, out_w, n)``.

Measured (``benchmarks/kernels.py``, float32, batch 64, 3x3 "same"): 16 channels of 14x14,
734 us against NumPy's 823; 1 channel of 28x28, 151 against 259. im2col as one loop was no
faster than the reference's ``kh * kw`` slice copies (430 against 423 us; 111 against 94),
which copy long contiguous runs already, and was left out.

Plain loops on one thread, not parallel ones (see :class:`glassnet.fast.compiled.Kernel`).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from glassnet.fast.compiled import kernel


@kernel()
def col2im(dcol, sh, sw, top, left, full_i, full_j, dx):
    """``dx[c, r, q, :]``: the sum of the ``dcol[c, i, j, h, w, :]`` whose window read
    ``(r, q)`` — offset ``(full_i, full_j)`` first (-1: none), then the others, ``i`` outer."""
    C, kh, kw, OH, OW = dcol.shape[0], dcol.shape[1], dcol.shape[2], dcol.shape[3], dcol.shape[4]
    H, W = dx.shape[1], dx.shape[2]
    for c in prange(C):
        for r in range(H):
            for q in range(W):
                out = dx[c, r, q]
                if full_i >= 0:
                    out[:] = dcol[
                        c, full_i, full_j, (r + top - full_i) // sh, (q + left - full_j) // sw
                    ]
                else:
                    out[:] = 0
                for i in range(kh):
                    hh = r + top - i
                    if hh < 0 or hh % sh != 0 or hh // sh >= OH:
                        continue
                    for j in range(kw):
                        ww = q + left - j
                        if (i == full_i and j == full_j) or ww < 0 or ww % sw != 0:
                            continue
                        if ww // sw < OW:
                            h, w = hh // sh, ww // sw
                            for n in range(out.size):
                                out[n] += dcol[c, i, j, h, w, n]


def gather_columns(layer, dcol):
    """Conv2D's ``dL/dx`` ``(c, h, w, n)`` from ``dL/dX_col`` ``(c, kh, kw, out_h, out_w, n)``,
    or None where NumPy must."""
    if not dcol.flags.c_contiguous or dcol.dtype.char not in "fd":
        return None
    channels, height, width = layer.input_shape
    (top, _), (left, _) = layer._pads(height, width)
    full_i, full_j = (-1, -1) if layer._full_tap is None else layer._full_tap[:2]
    dx = np.empty((channels, height, width, dcol.shape[-1]), dtype=dcol.dtype)
    col2im(dcol, *layer.stride, top, left, full_i, full_j, dx)
    return dx


def warm_up(dtype) -> None:
    """Compile the kernel for ``dtype`` on a tiny image (see ``compiled.warm_up``)."""
    dcol = np.ones((1, 3, 3, 3, 3, 2), dtype)
    col2im(dcol, 1, 1, 1, 1, 1, 1, np.empty((1, 3, 3, 2), dtype))
