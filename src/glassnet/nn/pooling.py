"""Pooling: each window of a channel summarised by one number, and the gradient sent back.

- :class:`MaxPool2D` — the largest value of each window; the gradient goes to it alone.
- :class:`AveragePooling2D` — the mean of each window; the gradient is shared equally.
- :class:`GlobalAveragePooling2D` — the mean of each whole channel: ``(n, c, h, w) -> (n, c)``.

Images are channels-first, ``(n, channels, height, width)``; the arrays these layers return
are views of channel-major memory (see :mod:`glassnet.nn.windows`).
"""

from __future__ import annotations

import numpy as np

from glassnet import fast
from glassnet.errors import InputValueError
from glassnet.nn.layer import Layer
from glassnet.nn.windows import (
    batch_first,
    channel_major,
    check_batch,
    check_image_shape,
    compact,
    output_size,
    pair,
    same_padding,
    tap_slices,
)


class MaxPool2D(Layer):
    """Max pooling: each output is the largest value in a ``pool_size`` window of its channel.

    ::

        a[n, c, h, w] = max_{i < ph, j < pw} x[n, c, h*s + i, w*s + j]

    Why: it halves (for a 2x2 pool) the height and width, so later layers see a wider part
    of the image for the same cost, and it keeps a detected feature when it moves by a pixel.
    It has no parameters. Windows that would run past the edge are dropped ("valid").

    Backward: the max passes the gradient to the input it picked and nothing to the others,
    ``dL/dx = dL/da`` at the position of the maximum, 0 elsewhere. When several inputs tie
    for the max, exactly one of them receives it (so a constant window does not multiply the
    gradient by its size).

    Parameters
    ----------
    pool_size : int or (int, int)
        Window height and width ``(ph, pw)``.
    stride : int or (int, int), optional
        Step between windows; by default ``pool_size`` (non-overlapping windows).

    Shapes
    ------
    x : (n, channels, height, width) -> a : (n, channels, (height - ph) // s + 1, ...)

    Notes
    -----
    Each window offset ``(i, j)`` is a strided view of the channel-major input (see the
    module's docstring), so the forward pass is ``ph * pw - 1`` element-wise maxima of
    output-sized views, and the backward pass sends the gradient through the same views.
    """

    def __init__(self, pool_size=2, stride=None) -> None:
        super().__init__()
        self.pool_size = pair("pool_size", pool_size, minimum=1)
        self.stride = self.pool_size if stride is None else pair("stride", stride, minimum=1)

    def compute_output_shape(self, input_shape):
        channels, height, width = check_image_shape("MaxPool2D", input_shape)
        (ph, pw), (sh, sw) = self.pool_size, self.stride
        out_h = output_size(height, ph, sh, 0, "pool height", "MaxPool2D", "height")
        out_w = output_size(width, pw, sw, 0, "pool width", "MaxPool2D", "width")
        return (channels, out_h, out_w)

    def _window_taps(self, xc):
        """The ``ph * pw`` strided views of ``xc`` (channel-major ``(c, h, w, n)``) whose
        element-wise max is the pooled output: tap ``(i, j)`` holds ``x[h*sh + i, w*sw + j]``
        for every output ``(h, w)``, shape ``(c, out_h, out_w, n)``. Taken column by column
        (``j`` outer), which fixes which input of a tied window wins."""
        (ph, pw), (sh, sw) = self.pool_size, self.stride
        _, out_h, out_w = self.output_shape
        return [
            xc[:, i : i + sh * (out_h - 1) + 1 : sh, j : j + sw * (out_w - 1) + 1 : sw]
            for j in range(pw)
            for i in range(ph)
        ]

    def _tiles(self) -> bool:
        """True when the windows tile the input exactly: stride == pool size and both sides
        divisible, so every input lies in exactly one window (the common 2x2 case)."""
        return self.stride == self.pool_size and all(
            self.input_shape[axis] == self.pool_size[axis - 1] * self.output_shape[axis]
            for axis in (1, 2)
        )

    def forward(self, x, training=False):
        x = check_batch(self, x, self.input_shape)
        self.x = x
        kernels = fast.compiled_module("pooling")  # the same numbers in one pass, or None
        a = kernels.max_pool(self, x) if kernels else None
        self.a = batch_first(_max_of(self._window_taps(channel_major(x)))) if a is None else a
        return self.a

    def backward(self, grad_out):
        """``dL/dx``: each window's ``dL/da`` sent to the position of its maximum, 0 elsewhere."""
        if not self.needs_input_grad:
            return None
        kernels = fast.compiled_module("pooling")
        dx = kernels.max_pool_gradient(self, grad_out, after_relu=False) if kernels else None
        if dx is not None:
            return dx
        nothing_sent = np.zeros(channel_major(self.a).shape, dtype=bool)
        return self.route(grad_out, nothing_sent)

    def route(self, grad_out, claimed):
        """Send each window's gradient to its first input equal to the maximum.

        Inputs are visited in ``_window_taps`` order; ``claimed`` (boolean, channel-major
        ``(c, out_h, out_w, n)`` like the taps) marks the windows whose gradient has already
        been sent — none at first — so a tie sends it once. A window that starts claimed
        sends nothing (the one fusion in :mod:`glassnet.fast.fusions` uses that). When the
        windows tile the input, each share is written straight into its place in ``dx``;
        otherwise (overlaps, rows left over) the shares are added into zeros. ``claimed`` is
        updated in place.
        """
        channels, height, width = self.input_shape
        g, a = channel_major(grad_out), channel_major(self.a)
        tiles = self._tiles()
        shape = (channels, height, width, grad_out.shape[0])
        dx = np.empty(shape, grad_out.dtype) if tiles else np.zeros(shape, grad_out.dtype)
        x_taps, dx_taps = self._window_taps(channel_major(self.x)), self._window_taps(dx)
        wins = np.empty(a.shape, dtype=bool)
        for k, (x_tap, dx_tap) in enumerate(zip(x_taps, dx_taps, strict=True)):
            if k < len(x_taps) - 1:
                np.equal(x_tap, a, out=wins)
                np.greater(wins, claimed, out=wins)  # equal to the max, and first
                np.logical_or(claimed, wins, out=claimed)
            else:
                np.logical_not(claimed, out=wins)  # the last input takes the rest
            if tiles:
                np.multiply(g, wins, out=dx_tap)
            else:
                dx_tap += g * wins
        return batch_first(dx)

    def describe(self):
        stride = "" if self.stride == self.pool_size else f", stride {compact(self.stride)}"
        return f"MaxPool2D({compact(self.pool_size)}{stride})"

    def get_config(self):
        return {"pool_size": compact(self.pool_size), "stride": compact(self.stride)}


def _max_of(arrays):
    """Element-wise maximum of a list of equal-shape arrays (a new array)."""
    result = np.maximum(arrays[0], arrays[1]) if len(arrays) > 1 else arrays[0].copy()
    for a in arrays[2:]:
        np.maximum(result, a, out=result)
    return result


class AveragePooling2D(Layer):
    """Average pooling: each output is the mean of a ``pool_size`` window of its channel.

    ::

        a[n, c, h, w] = 1/|W(h, w)| * sum_{(r, s) in W(h, w)} x[n, c, r, s]

    where ``W(h, w)`` holds the input positions ``(h*sh + i - top, w*sw + j - left)``,
    ``i < ph``, ``j < pw``, that lie inside the image. Keras ``AveragePooling2D`` (and
    PyTorch ``avg_pool2d`` with ``count_include_pad=False``): padding zeros are not
    counted, so an edge window of ``"same"`` padding is the mean of the pixels it covers.

    Why: like max pooling it shrinks the image (halves it, for 2x2), but keeps how strong
    a feature is over the whole window instead of only its peak; every input contributes.

    Backward: each output spreads its gradient equally over the inputs it averaged,
    ``dL/dx[r, s] = sum over the windows W containing (r, s) of dL/da[W] / |W|``.

    Parameters
    ----------
    pool_size : int or (int, int)
        Window height and width ``(ph, pw)``.
    stride : int or (int, int), optional
        Step between windows; by default ``pool_size`` (non-overlapping). (Keras calls it
        ``strides``; glassnet's MaxPool2D and Conv2D say ``stride``, and so does this.)
    padding : "valid" or "same"
        ``"valid"``: windows that would run past the edge are dropped; ``"same"``: the
        output has ``ceil(height / sh)`` rows (``ceil(width / sw)`` columns), the windows at
        the edge averaging only what they cover.

    Shapes
    ------
    x : (n, channels, height, width) -> a : (n, channels, out_height, out_width)

    Notes
    -----
    For each window offset ``(i, j)``, :func:`glassnet.nn.windows.tap_slices` gives the
    rectangle of outputs whose window reads an in-image input at that offset, and which
    inputs those are (a strided slice): forward adds those ``ph * pw`` input views into the
    outputs, then divides by ``|W|`` (computed once, in ``build``); backward adds the
    divided gradient back through the same views.
    """

    def __init__(self, pool_size=2, stride=None, padding="valid") -> None:
        super().__init__()
        self.pool_size = pair("pool_size", pool_size, minimum=1)
        self.stride = self.pool_size if stride is None else pair("stride", stride, minimum=1)
        if not (isinstance(padding, str) and padding.lower() in ("valid", "same")):
            raise InputValueError(f'padding must be "valid" or "same", got {padding!r}')
        self.padding = padding.lower()

    def _pads(self, height, width):
        """``((top, bottom), (left, right))``: the padding the windows are placed over."""
        if self.padding == "valid":
            return (0, 0), (0, 0)
        (ph, pw), (sh, sw) = self.pool_size, self.stride
        return same_padding(height, ph, sh), same_padding(width, pw, sw)

    def compute_output_shape(self, input_shape):
        channels, height, width = check_image_shape("AveragePooling2D", input_shape)
        (top, bottom), (left, right) = self._pads(height, width)
        (ph, pw), (sh, sw) = self.pool_size, self.stride
        name, hint = "AveragePooling2D", ' or padding="same"'
        out_h = output_size(height, ph, sh, top + bottom, "pool height", name, "height", hint)
        out_w = output_size(width, pw, sw, left + right, "pool width", name, "width", hint)
        return (channels, out_h, out_w)

    def build(self, input_shape, rng, dtype):
        out = super().build(input_shape, rng, dtype)
        _, height, width = self.input_shape
        (top, _), (left, _) = self._pads(height, width)
        rows = tap_slices(height, self.pool_size[0], self.stride[0], top, out[1])
        cols = tap_slices(width, self.pool_size[1], self.stride[1], left, out[2])
        #: (output rectangle, input rectangle) of every window offset that sees the image
        self._taps = [(r, c) for r in rows if r is not None for c in cols if c is not None]
        count = np.zeros(out[1:], dtype=np.float64)
        for (out_rows, _), (out_cols, _) in self._taps:
            count[out_rows, out_cols] += 1
        self._count = count[:, :, None]  # |W(h, w)|, broadcast over (c, h, w, n)
        return out

    def forward(self, x, training=False):
        """``a = (sum of the window's in-image inputs) / |W|``; caches nothing but ``a``."""
        x = check_batch(self, x, self.input_shape)
        kernels = fast.compiled_module("pooling")  # the same numbers in one pass, or None
        self.a = kernels.average_pool(self, x) if kernels else None
        if self.a is not None:
            return self.a
        xc = channel_major(x)
        channels, out_h, out_w = self.output_shape
        total = np.zeros((channels, out_h, out_w, x.shape[0]), dtype=x.dtype)
        for (out_rows, in_rows), (out_cols, in_cols) in self._taps:
            total[:, out_rows, out_cols] += xc[:, in_rows, in_cols]
        total /= self._count
        self.a = batch_first(total)
        return self.a

    def backward(self, grad_out):
        """``dL/dx``: each window's ``dL/da / |W|`` added to every input it averaged."""
        if not self.needs_input_grad:
            return None
        kernels = fast.compiled_module("pooling")
        dx = kernels.average_pool_gradient(self, grad_out) if kernels else None
        if dx is not None:
            return dx
        share = channel_major(grad_out) / self._count.astype(grad_out.dtype)
        channels, height, width = self.input_shape
        dx = np.zeros((channels, height, width, grad_out.shape[0]), dtype=grad_out.dtype)
        for (out_rows, in_rows), (out_cols, in_cols) in self._taps:
            dx[:, in_rows, in_cols] += share[:, out_rows, out_cols]
        return batch_first(dx)

    def describe(self):
        stride = "" if self.stride == self.pool_size else f", stride {compact(self.stride)}"
        same = ", same" if self.padding == "same" else ""
        return f"AveragePooling2D({compact(self.pool_size)}{stride}{same})"

    def get_config(self):
        return {
            "pool_size": compact(self.pool_size),
            "stride": compact(self.stride),
            "padding": self.padding,
        }


class GlobalAveragePooling2D(Layer):
    """The mean of each channel over the whole image: ``(n, c, h, w) -> (n, c)``.

    ::

        a[n, c] = 1/(h w) * sum_{r, s} x[n, c, r, s]        dL/dx[n, c, r, s] = dL/da[n, c] / (h w)

    Keras ``GlobalAveragePooling2D`` (PyTorch ``adaptive_avg_pool2d(x, 1)`` followed by a
    flatten). Why: it turns the last feature maps of a CNN into one number per channel —
    "how much of this feature is in the image" — whatever the image size, with no
    parameters, so the Dense classifier after it is small (``c`` inputs instead of
    ``c h w``) and does not care where in the image a feature was.
    """

    def compute_output_shape(self, input_shape):
        channels, _, _ = check_image_shape("GlobalAveragePooling2D", input_shape)
        return (channels,)

    def forward(self, x, training=False):
        x = check_batch(self, x, self.input_shape)
        self.a = x.mean(axis=(2, 3))
        return self.a

    def backward(self, grad_out):
        if not self.needs_input_grad:
            return None
        channels, height, width = self.input_shape
        share = grad_out.T / grad_out.dtype.type(height * width)  # (c, n)
        dx = np.empty((channels, height, width, grad_out.shape[0]), dtype=grad_out.dtype)
        dx[...] = share[:, None, None, :]  # channel-major, like the layers' own outputs
        return batch_first(dx)
