"""Image shapes and sliding windows: what Conv2D and the pooling layers share.

Images are batch-first, ``x`` of shape ``(n, channels, height, width)``, like every other
layer's input. What follows is about *memory layout*, which only matters for speed.

Why the arrays these layers return are views of "channel-major" memory
-------------------------------------------------------------------------
Both layers compute on the same data arranged as ``(channels, height, width, n)`` — the
batch axis last, in memory — and hand back ``(n, channels, height, width)`` *views* of it
(``ndarray.transpose``, no copy). Shapes and values are exactly those of the usual layout;
only the strides differ. The reasons:

* A convolution is one matrix product ``Z = W_mat @ X_col`` in which ``X_col`` has one row
  per weight ``(c, i, j)`` and one column per output position ``(h, w, n)``. With the batch
  innermost, the product ``Z`` of shape ``(filters, h*w*n)`` *is* the next layer's
  channel-major input: no transpose between layers.
* Filling ``X_col`` ("im2col") copies, for each kernel offset ``(i, j)``, a shifted window
  of the image. In channel-major memory each window row is one contiguous run of
  ``width * n`` numbers, so NumPy copies long runs instead of looping over short rows
  (a per-loop cost that otherwise dominates small images).
* Max pooling works on long contiguous runs too (see :class:`MaxPool2D`), and the final
  ``Flatten`` of a channel-major ``(n, c, h, w)`` view is itself a view (the ``(c, h, w)``
  axes are adjacent in memory), so the ``Dense`` layer reads it with no copy.

Any array works as input, a C-ordered ``(n, c, h, w)`` batch straight from the user too:
Conv2D brings it into channel-major order with one copy, MaxPool2D works on it as it is.
"""

from __future__ import annotations

import numbers

import numpy as np

from glassnet._validation import check_int
from glassnet.errors import InputTypeError, InputValueError

IMAGE_SHAPE = "(n, channels, height, width)"


def pair(name, value, minimum):
    """An int or a pair of ints (rows, columns), each >= ``minimum``; returned as a tuple."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = check_int(name, value, minimum=minimum)
        return (value, value)
    if isinstance(value, list | tuple) and len(value) == 2:
        return tuple(check_int(name, v, minimum=minimum) for v in value)
    raise InputTypeError(f"{name} must be an integer or a pair of integers, got {value!r}")


def compact(pair):
    """``(3, 3)`` -> ``3``; ``(3, 5)`` -> ``[3, 5]`` (the JSON-safe form for configs)."""
    return pair[0] if pair[0] == pair[1] else list(pair)


def channel_major(x):
    """The ``(c, h, w, n)`` view of an ``(n, c, h, w)`` array (no copy)."""
    return x.transpose(1, 2, 3, 0)


def batch_first(x):
    """The ``(n, c, h, w)`` view of a ``(c, h, w, n)`` array (no copy)."""
    return x.transpose(3, 0, 1, 2)


def check_image_shape(layer, input_shape):
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise InputValueError(
            f"{layer} expects inputs of shape {IMAGE_SHAPE}, got feature shape {input_shape} "
            f"(the shape of one sample, without the batch axis, must be (channels, height, "
            f"width))"
        )
    return input_shape


def check_batch(layer, x, input_shape):
    """The input of ``forward``: a 4-D array matching the shape the layer was built for."""
    if not layer.built:
        raise RuntimeError(
            f"{type(layer).__name__} is not built: add it to a Sequential model, or call "
            f"build(input_shape, rng, dtype) first"
        )
    if not isinstance(x, np.ndarray):
        x = np.asarray(x, dtype=layer.dtype)
    if x.ndim != 4:
        raise InputValueError(
            f"{type(layer).__name__} expects inputs of shape {IMAGE_SHAPE}, got {x.shape}"
        )
    if x.shape[1:] != input_shape:
        raise InputValueError(
            f"{type(layer).__name__} expects inputs of shape {IMAGE_SHAPE} = "
            f"(n, {', '.join(map(str, input_shape))}) as it was built, got {x.shape}"
        )
    return x


def output_size(size, kernel, stride, pad_total, what, layer, axis, hint=""):
    """``(size + pad_total - kernel) // stride + 1``, or a clear error if the window does not
    fit even once."""
    padded = size + pad_total
    if kernel > padded:
        raise InputValueError(
            f"{layer} {what} {kernel} is larger than the {'padded ' if pad_total else ''}"
            f"input {axis} {padded}; use a smaller {what}{hint}"
        )
    return (padded - kernel) // stride + 1


def same_padding(size, kernel, stride):
    """``(before, after)`` zeros for ``"same"`` padding along one axis: enough that the output
    has ``ceil(size / stride)`` positions; an odd total puts the extra zero after (at the
    bottom/right), as in TensorFlow/Keras and PyTorch."""
    out = -(-size // stride)  # ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return (total // 2, total - total // 2)


def tap_slices(size, kernel, stride, pad_before, out_size):
    """For each kernel offset ``i`` along one axis: which output positions read an input
    position that is inside the image, and which input positions those are.

    Output position ``h`` with offset ``i`` reads padded row ``h*stride + i``, i.e. input
    row ``r = h*stride + i - pad_before``; it is inside the image when ``0 <= r < size``.
    Returns a list of ``(output_slice, input_slice)``, or None where an offset only ever
    sees padding (possible only with large padding).
    """
    taps = []
    for i in range(kernel):
        first = max(0, -(-(pad_before - i) // stride))  # ceil((pad_before - i)/stride)
        last = min(out_size - 1, (size - 1 + pad_before - i) // stride)
        if last < first:
            taps.append(None)
            continue
        start = first * stride + i - pad_before
        stop = last * stride + i - pad_before + 1
        taps.append((slice(first, last + 1), slice(start, stop, stride)))
    return taps
