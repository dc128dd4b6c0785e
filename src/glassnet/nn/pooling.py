"""MaxPool2D: the largest value of each window, and the gradient routed back to it."""

from __future__ import annotations

import numpy as np

from glassnet.nn.layer import Layer
from glassnet.nn.windows import (
    batch_first,
    channel_major,
    check_batch,
    check_image_shape,
    compact,
    output_size,
    pair,
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
        self.a = batch_first(_max_of(self._window_taps(channel_major(x))))
        return self.a

    def backward(self, grad_out):
        """``dL/dx``: each window's ``dL/da`` sent to the position of its maximum, 0 elsewhere."""
        if not self.needs_input_grad:
            return None
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
