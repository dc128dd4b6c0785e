"""Max and average pooling, forward and backward, each as one pass.

The reference (:mod:`glassnet.nn.pooling`) works tap by tap: a 2x2 max pool is three
``np.maximum`` passes over output-sized strided views forward, and backward eleven passes
(compare, claim, route per tap). Here each output window is visited once, the batch axis
innermost (contiguous in the channel-major layout, see :mod:`glassnet.nn.windows`).

The numbers are the reference's: the maximum is the same value (NaN propagating as in
``np.maximum``); the gradient goes to the same input — the first one equal to the maximum
with the columns of the window outer and its rows inner, the last one when none is (a NaN
window); an average adds the same inputs in the same order and divides as the reference
does (in float64 by the float64 count, forward; by the count in the gradient's dtype,
backward). Backward is two passes: each window's winner (one small integer), then each input's
gradient gathered from the windows it won, in the reference's order — so overlapping windows
give the reference's sums bit for bit too; where windows do not overlap (the usual 2x2,
stride 2) each input is written once. Every conditional write in a batch loop is a select,
not a branch, so that LLVM vectorises it: that made the winners 9x and the backward 2.3x
faster on a CNN's first pool (16 x 28 x 28, batch 64: 3.7 -> 0.42 ms and 1.54 -> 0.68 ms).

Parallel loops on one thread (see :class:`glassnet.fast.compiled.Kernel`): the selects were
measured vectorised that way.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from glassnet.fast.compiled import kernel
from glassnet.nn.windows import batch_first, channel_major


@kernel(parallel=True)
def max_forward(xc, ph, pw, sh, sw, out):
    """``out[c, h, w, :] = max over the window's taps of xc[c, h*sh + i, w*sw + j, :]``, the
    taps in the reference's order (``j`` outer), NaN propagating as in ``np.maximum``."""
    C, OH, OW, N = out.shape
    for c in prange(C):
        for h in range(OH):
            for w in range(OW):
                row = out[c, h, w]
                row[:] = xc[c, h * sh, w * sw]
                for j in range(pw):
                    for i in range(ph):
                        if i + j > 0:
                            tap = xc[c, h * sh + i, w * sw + j]
                            for n in range(N):
                                m, t = row[n], tap[n]
                                row[n] = t if m == m and (t != t or t > m) else m


@kernel(parallel=True)
def max_winners(xc, ac, ph, pw, sh, sw, after_relu, winner):
    """``winner[c, h, w, n]``: the tap ``j * ph + i`` of the window's first input equal to
    its maximum (the last tap if none is: a NaN window), or -1 where the window sends
    nothing (with ``after_relu``, a maximum <= 0: the ReLU's derivative is 0 there).

    The taps are visited downwards, each match overwriting the last, so the first match is
    what stays; every write is a select, not a branch, so that the batch loop vectorises."""
    C, OH, OW, N = ac.shape
    last = ph * pw - 1
    for c in prange(C):
        for h in range(OH):
            for w in range(OW):
                a, won = ac[c, h, w], winner[c, h, w]
                for n in range(N):
                    won[n] = -1 if after_relu and a[n] <= 0 else last
                for k in range(last - 1, -1, -1):
                    tap = xc[c, h * sh + k % ph, w * sw + k // ph]
                    for n in range(N):
                        hit = (tap[n] == a[n]) & (won[n] >= 0)
                        won[n] = k if hit else won[n]


@kernel(parallel=True)
def max_backward(winner, gc, ph, pw, sh, sw, dx):
    """``dx[c, r, q, :]``: the sum of ``gc`` (channel-major) over the windows whose winner is
    ``(r, q)``, added in the reference's order (by the window's tap ``(i, j)``, ``j``
    outer), from 0."""
    C, H, W, N = dx.shape
    OH, OW = winner.shape[1], winner.shape[2]
    for c in prange(C):
        for r in range(H):
            for q in range(W):
                out = dx[c, r, q]
                out[:] = 0
                for j in range(pw):
                    ww = q - j
                    if ww < 0 or ww % sw != 0 or ww // sw >= OW:
                        continue
                    for i in range(ph):
                        hh = r - i
                        if hh < 0 or hh % sh != 0 or hh // sh >= OH:
                            continue
                        won, g, k = (
                            winner[c, hh // sh, ww // sw],
                            gc[c, hh // sh, ww // sw],
                            j * ph + i,
                        )
                        zero = g.dtype.type(0)
                        for n in range(N):  # + 0 where lost: out is never -0.0 (from +0.0)
                            out[n] += g[n] if won[n] == k else zero


@kernel(parallel=True)
def max_backward_disjoint(winner, gc, ph, pw, sh, sw, dx):
    """:func:`max_backward` where no two windows overlap (strides at least the pool's size,
    as in the usual 2x2 with stride 2): an input gets at most one window's gradient, written
    as ``0 + g`` (the reference's sum from 0, -0.0 becoming 0.0 as there), in one pass over
    ``dx`` in memory order; inputs in no window get 0."""
    C, H, W, N = dx.shape
    OH, OW = winner.shape[1], winner.shape[2]
    for c in prange(C):
        for r in range(H):
            hh, i = r // sh, r % sh
            for q in range(W):
                ww, j = q // sw, q % sw
                out = dx[c, r, q]
                if i >= ph or j >= pw or hh >= OH or ww >= OW:
                    out[:] = 0
                    continue
                won, g, k = winner[c, hh, ww], gc[c, hh, ww], j * ph + i
                zero = g.dtype.type(0)
                for n in range(N):
                    out[n] = zero + g[n] if won[n] == k else zero


@kernel(parallel=True)
def average_forward(xc, ph, pw, sh, sw, top, left, count, out):
    """``out = (sum of the window's in-image inputs) / count``: inputs added rows outer,
    columns inner, from 0, then divided in float64 by the float64 count (as the reference's
    ``total /= count`` does)."""
    C, OH, OW, N = out.shape
    H, W = xc.shape[1], xc.shape[2]
    for c in prange(C):
        for h in range(OH):
            for w in range(OW):
                row = out[c, h, w]
                row[:] = 0
                for i in range(ph):
                    r = h * sh + i - top
                    for j in range(pw):
                        q = w * sw + j - left
                        if 0 <= r < H and 0 <= q < W:
                            tap = xc[c, r, q]
                            for n in range(N):
                                row[n] += tap[n]
                for n in range(N):
                    row[n] = row[n] / count[h, w]


@kernel(parallel=True)
def average_backward(gc, ph, pw, sh, sw, top, left, count, dx):
    """``dx[c, r, q, :] = sum over the windows that hold (r, q) of gc / count`` (``count`` in
    the gradient's dtype), the windows taken in the reference's tap order, from 0."""
    C, H, W, N = dx.shape
    OH, OW = count.shape
    for c in prange(C):
        for r in range(H):
            for q in range(W):
                out = dx[c, r, q]
                out[:] = 0
                for i in range(ph):
                    hh = r + top - i
                    if hh < 0 or hh % sh != 0 or hh // sh >= OH:
                        continue
                    for j in range(pw):
                        ww = q + left - j
                        if ww < 0 or ww % sw != 0 or ww // sw >= OW:
                            continue
                        g, share = gc[c, hh // sh, ww // sw], count[hh // sh, ww // sw]
                        for n in range(N):
                            out[n] += g[n] / share


# -- what the layers call: the kernel's result, or None where the layer's own NumPy runs -------
def _channel_major(x):
    """The contiguous ``(c, h, w, n)`` memory of ``x``, or None (then NumPy runs)."""
    xc = channel_major(x)
    return xc if xc.flags.c_contiguous and x.dtype.char in "fd" else None


def _gradient(grad_out, dtype):
    """``dL/da`` as contiguous channel-major memory (one transposing copy when it comes
    batch-first, as from a Flatten), or None for a dtype other than the layer's."""
    if grad_out.dtype != dtype:
        return None
    return np.ascontiguousarray(channel_major(grad_out))


def max_pool(layer, x):
    """MaxPool2D's ``a`` (an ``(n, c, h, w)`` view of channel-major memory), or None."""
    xc = _channel_major(x)
    if xc is None:
        return None
    out = np.empty((*layer.output_shape, x.shape[0]), dtype=x.dtype)
    max_forward(xc, *layer.pool_size, *layer.stride, out)
    return batch_first(out)


def max_pool_gradient(layer, grad_out, after_relu):
    """MaxPool2D's ``dL/dx`` (times ``1[a > 0]`` when ``after_relu``), or None."""
    xc, ac = _channel_major(layer.x), _channel_major(layer.a)
    gc = _gradient(grad_out, layer.x.dtype)
    if xc is None or ac is None or gc is None:
        return None
    winner = np.empty(ac.shape, dtype=np.int16)
    (ph, pw), (sh, sw) = layer.pool_size, layer.stride
    max_winners(xc, ac, ph, pw, sh, sw, after_relu, winner)
    dx = np.empty(xc.shape, dtype=gc.dtype)
    backward = max_backward_disjoint if sh >= ph and sw >= pw else max_backward
    backward(winner, gc, ph, pw, sh, sw, dx)
    return batch_first(dx)


def average_pool(layer, x):
    """AveragePooling2D's ``a``, or None."""
    xc = _channel_major(x)
    if xc is None:
        return None
    (top, _), (left, _) = layer._pads(*layer.input_shape[1:])
    out = np.empty((*layer.output_shape, x.shape[0]), dtype=x.dtype)
    count = np.ascontiguousarray(layer._count[:, :, 0])  # float64, as the reference divides
    average_forward(xc, *layer.pool_size, *layer.stride, top, left, count, out)
    return batch_first(out)


def average_pool_gradient(layer, grad_out):
    """AveragePooling2D's ``dL/dx``, or None."""
    gc = _gradient(grad_out, layer.dtype)
    if gc is None or gc.dtype.char not in "fd":
        return None
    (top, _), (left, _) = layer._pads(*layer.input_shape[1:])
    dx = np.empty((*layer.input_shape, gc.shape[-1]), dtype=gc.dtype)
    count = np.ascontiguousarray(layer._count[:, :, 0], dtype=gc.dtype)
    average_backward(gc, *layer.pool_size, *layer.stride, top, left, count, dx)
    return batch_first(dx)


def warm_up(dtype) -> None:
    """Compile every pooling kernel for ``dtype`` on a tiny image (see ``compiled.warm_up``)."""
    from glassnet.nn.pooling import AveragePooling2D, MaxPool2D

    rng = np.random.default_rng(0)
    x = batch_first(rng.standard_normal((1, 4, 4, 2)).astype(dtype))
    for layer in (MaxPool2D(2), MaxPool2D(3, 2), AveragePooling2D(2)):  # 3, 2: overlapping
        layer.build((1, 4, 4), rng, dtype)
        layer.x, layer.a = x, (max_pool if isinstance(layer, MaxPool2D) else average_pool)(layer, x)
        grad = np.ones_like(layer.a)
        if isinstance(layer, MaxPool2D):
            max_pool_gradient(layer, grad, after_relu=True)
        else:
            average_pool_gradient(layer, grad)
