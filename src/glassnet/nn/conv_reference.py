"""Convolution and pooling as the definitions write them: plain loops, one number at a time.

These are the reference that :class:`~glassnet.nn.conv.Conv2D` (one matrix product, "im2col"),
:class:`~glassnet.nn.pooling.MaxPool2D` and :class:`~glassnet.nn.pooling.AveragePooling2D`
(window-offset views) are tested against. They are slow — a Python loop per output number —
and obviously right, which is the point: read them to see what the fast layers compute.

Shapes: ``x`` is ``(n, channels, height, width)``, ``W`` is ``(filters, channels, kh, kw)``,
``b`` is ``(filters,)`` or None; ``stride`` is ``(sh, sw)``; ``pads`` is
``((top, bottom), (left, right))`` zeros added around each image.
"""

from __future__ import annotations

import numpy as np


def conv2d_forward(x, W, b, stride, pads):
    """``z[n, f, h, w] = b[f] + sum_{c, i, j} W[f, c, i, j] * x_pad[n, c, h*sh + i, w*sw + j]``."""
    x_pad = _pad(x, pads)
    n, _, height, width = x_pad.shape
    filters, _, kh, kw = W.shape
    sh, sw = stride
    out_h, out_w = (height - kh) // sh + 1, (width - kw) // sw + 1
    z = np.zeros((n, filters, out_h, out_w), dtype=np.result_type(x, W))
    for s in range(n):
        for f in range(filters):
            for h in range(out_h):
                for w in range(out_w):
                    window = x_pad[s, :, h * sh : h * sh + kh, w * sw : w * sw + kw]
                    z[s, f, h, w] = np.sum(window * W[f]) + (0 if b is None else b[f])
    return z


def conv2d_backward(x, W, delta, stride, pads):
    """``(dL/dx, dL/dW, dL/db)`` from ``delta = dL/dz``, by the chain rule on the definition.

    Each output ``z[s, f, h, w]`` was ``b[f]`` plus the window times ``W[f]``, so it sends
    ``delta[s, f, h, w]`` times the window to ``dL/dW[f]``, itself to ``dL/db[f]``, and
    ``delta[s, f, h, w] * W[f]`` back onto the window's pixels of ``dL/dx_pad``.
    """
    x_pad = _pad(x, pads)
    dx_pad = np.zeros_like(x_pad, dtype=delta.dtype)
    dW = np.zeros_like(W, dtype=delta.dtype)
    db = np.zeros(W.shape[0], dtype=delta.dtype)
    _, _, kh, kw = W.shape
    sh, sw = stride
    n, filters, out_h, out_w = delta.shape
    for s in range(n):
        for f in range(filters):
            for h in range(out_h):
                for w in range(out_w):
                    d = delta[s, f, h, w]
                    rows, cols = slice(h * sh, h * sh + kh), slice(w * sw, w * sw + kw)
                    dW[f] += d * x_pad[s, :, rows, cols]
                    db[f] += d
                    dx_pad[s, :, rows, cols] += d * W[f]
    (top, bottom), (left, right) = pads
    height, width = x_pad.shape[2] - bottom, x_pad.shape[3] - right
    return dx_pad[:, :, top:height, left:width], dW, db


def maxpool2d_forward(x, pool, stride):
    """``a[n, c, h, w] = max_{i < ph, j < pw} x[n, c, h*sh + i, w*sw + j]``."""
    n, channels, height, width = x.shape
    (ph, pw), (sh, sw) = pool, stride
    out_h, out_w = (height - ph) // sh + 1, (width - pw) // sw + 1
    a = np.zeros((n, channels, out_h, out_w), dtype=x.dtype)
    for s in range(n):
        for c in range(channels):
            for h in range(out_h):
                for w in range(out_w):
                    a[s, c, h, w] = x[s, c, h * sh : h * sh + ph, w * sw : w * sw + pw].max()
    return a


def avgpool2d_forward(x, pool, stride, pads=((0, 0), (0, 0))):
    """``a[n, c, h, w]`` = the mean of the in-image inputs of window ``(h, w)`` of the padded
    image: padding zeros are not counted (Keras' ``AveragePooling2D``)."""
    n, channels, height, width = x.shape
    (ph, pw), (sh, sw) = pool, stride
    (top, bottom), (left, right) = pads
    out_h = (height + top + bottom - ph) // sh + 1
    out_w = (width + left + right - pw) // sw + 1
    a = np.zeros((n, channels, out_h, out_w), dtype=x.dtype)
    for s in range(n):
        for c in range(channels):
            for h in range(out_h):
                for w in range(out_w):
                    r0, c0 = h * sh - top, w * sw - left  # the window's corner, unpadded
                    rows = slice(max(r0, 0), min(r0 + ph, height))
                    cols = slice(max(c0, 0), min(c0 + pw, width))
                    a[s, c, h, w] = x[s, c, rows, cols].mean()
    return a


def _pad(x, pads):
    (top, bottom), (left, right) = pads
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
