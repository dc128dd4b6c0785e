"""Convolutional layers for images: Conv2D and MaxPool2D.

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
from glassnet.nn.layers import Affine, Layer

IMAGE_SHAPE = "(n, channels, height, width)"
#: Above this size, Conv2D builds X_col for prediction in slices of the batch (see forward).
INFERENCE_SCRATCH_BYTES = 64 * 2**20
#: Up to this many rows in X_col (weights per filter, plus the bias), dL/dW is summed from
#: stacked products (see Conv2D.backward_linear); measured slower from about 46 rows on.
FEW_ROWS = 32


# -- small helpers shared by both layers --------------------------------------------------------
def _pair(name, value, minimum):
    """An int or a pair of ints (rows, columns), each >= ``minimum``; returned as a tuple."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = check_int(name, value, minimum=minimum)
        return (value, value)
    if isinstance(value, list | tuple) and len(value) == 2:
        return tuple(check_int(name, v, minimum=minimum) for v in value)
    raise TypeError(f"{name} must be an integer or a pair of integers, got {value!r}")


def _compact(pair):
    """``(3, 3)`` -> ``3``; ``(3, 5)`` -> ``[3, 5]`` (the JSON-safe form for configs)."""
    return pair[0] if pair[0] == pair[1] else list(pair)


def _channel_major(x):
    """The ``(c, h, w, n)`` view of an ``(n, c, h, w)`` array (no copy)."""
    return x.transpose(1, 2, 3, 0)


def _batch_first(x):
    """The ``(n, c, h, w)`` view of a ``(c, h, w, n)`` array (no copy)."""
    return x.transpose(3, 0, 1, 2)


def _check_image_shape(layer, input_shape):
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(
            f"{layer} expects inputs of shape {IMAGE_SHAPE}, got feature shape {input_shape} "
            f"(the shape of one sample, without the batch axis, must be (channels, height, "
            f"width))"
        )
    return input_shape


def _check_batch(layer, x, input_shape):
    """The input of ``forward``: a 4-D array matching the shape the layer was built for."""
    if not layer.built:
        raise RuntimeError(
            f"{type(layer).__name__} is not built: add it to a Sequential model, or call "
            f"build(input_shape, rng, dtype) first"
        )
    if not isinstance(x, np.ndarray):
        x = np.asarray(x, dtype=layer.dtype)
    if x.ndim != 4:
        raise ValueError(
            f"{type(layer).__name__} expects inputs of shape {IMAGE_SHAPE}, got {x.shape}"
        )
    if x.shape[1:] != input_shape:
        raise ValueError(
            f"{type(layer).__name__} expects inputs of shape {IMAGE_SHAPE} = "
            f"(n, {', '.join(map(str, input_shape))}) as it was built, got {x.shape}"
        )
    return x


def _output_size(size, kernel, stride, pad_total, what, layer, axis, hint=""):
    """``(size + pad_total - kernel) // stride + 1``, or a clear error if the window does not
    fit even once."""
    padded = size + pad_total
    if kernel > padded:
        raise ValueError(
            f"{layer} {what} {kernel} is larger than the {'padded ' if pad_total else ''}"
            f"input {axis} {padded}; use a smaller {what}{hint}"
        )
    return (padded - kernel) // stride + 1


def _tap_slices(size, kernel, stride, pad_before, out_size):
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


# -- Conv2D ---------------------------------------------------------------------------------------
class Conv2D(Affine):
    r"""A 2-D convolution: ``filters`` learned kernels slid over the image.

    For each sample ``n``, filter ``f`` and output position ``(h, w)``::

        z[n, f, h, w] = b[f] + sum_{c, i, j} W[f, c, i, j] * x_pad[n, c, h*s + i, w*s + j]
        a = activation(z)

    where ``s`` is the stride and ``x_pad`` the input with ``padding`` zeros around it.
    (As in every deep-learning library this is, strictly, a cross-correlation: the kernel is
    not flipped. Since ``W`` is learned, the flip would change nothing.)

    Why a convolution: one small kernel of shared weights looks for the same local pattern
    (an edge, a stroke) everywhere in the image, so a 3x3 layer with 16 filters on a
    28x28 digit has 160 parameters instead of the 9.8 million of a dense layer with an
    output of the same size, and a pattern learned in one place is recognised in all.

    Parameters
    ----------
    filters : int
        Number of kernels, i.e. of output channels.
    kernel_size : int or (int, int)
        Height and width ``(kh, kw)`` of each kernel.
    stride : int or (int, int), default 1
        Step between two positions of the kernel.
    padding : "valid", "same", int or (int, int), default "valid"
        ``"valid"``: no padding; the output shrinks to ``(height - kh) // s + 1``.
        ``"same"``: zeros added so that the output has ``ceil(height / s)`` rows (for
        stride 1, the input's size); when the total padding is odd the extra row/column
        goes at the bottom/right, as in TensorFlow and PyTorch. An int ``p`` (or a pair)
        adds ``p`` zeros on each side.
    activation : str, Activation or None
        Applied to ``z``; None means identity. See :mod:`glassnet.nn.activations`.
    use_bias : bool
        Whether the layer has one bias per filter.
    weight_init, bias_init : str or (str, dict)
        Initializer names (see :mod:`glassnet.nn.initializers`); ``"auto"`` picks He for the
        ReLU family and Glorot otherwise, with ``fan_in = channels * kh * kw`` (the inputs
        of one output value) and ``fan_out = filters * kh * kw``.
    input_shape : (int, int, int), optional
        ``(channels, height, width)``: build eagerly instead of waiting for the first batch.

    Shapes
    ------
    x : (n, channels, height, width) -> a : (n, filters, out_height, out_width)
    W : (filters, channels, kh, kw), b : (filters,)

    Notes
    -----
    Computed as one matrix product ("im2col"): the ``K = channels*kh*kw`` input values under
    the kernel at each of the ``P = out_height*out_width*n`` output positions are copied into
    the columns of ``X_col`` (shape ``(K, P)``), and ``Z = W_mat @ X_col + b`` with
    ``W_mat = W.reshape(filters, K)``. With ``delta = dL/dz`` arranged as ``(filters, P)``,
    the backward pass is the same matrix product, differentiated::

        dL/dW = delta @ X_col.T        dL/db = sum over positions of delta
        dL/dX_col = W_mat.T @ delta    then each column is added back where it was copied
                                       from ("col2im"): dL/dx sums over every kernel
                                       position that saw a pixel.

    In the code ``X_col`` has one more row, all ones, and ``W_mat`` one more column, ``b``:
    the bias is the weight of an input that is always 1, so the same products compute
    ``+ b`` and ``dL/db``. The layout of every array is explained in the module docstring.

    Examples
    --------
    >>> import numpy as np
    >>> conv = Conv2D(8, 3, padding="same", activation="relu")
    >>> conv.build((1, 28, 28), np.random.default_rng(0), np.float32)
    (8, 28, 28)
    >>> conv.forward(np.zeros((5, 1, 28, 28), np.float32)).shape
    (5, 8, 28, 28)
    """

    def __init__(
        self,
        filters: int,
        kernel_size,
        *,
        stride=1,
        padding="valid",
        activation=None,
        use_bias: bool = True,
        weight_init="auto",
        bias_init="zeros",
        input_shape=None,
    ) -> None:
        super().__init__()
        self.filters = check_int("filters", filters, minimum=1)
        self.kernel_size = _pair("kernel_size", kernel_size, minimum=1)
        self.stride = _pair("stride", stride, minimum=1)
        if isinstance(padding, str) and padding.lower() in ("valid", "same"):
            self.padding = padding.lower()
        elif isinstance(padding, str):
            raise ValueError(
                f'padding must be "valid", "same", an integer >= 0 or a pair of them, '
                f"got {padding!r}"
            )
        else:
            self.padding = _pair("padding", padding, minimum=0)
        self._init_affine(activation, use_bias, weight_init, bias_init)
        self._eager_input_shape = None
        if input_shape is not None:
            if not isinstance(input_shape, list | tuple) or len(input_shape) != 3:
                raise ValueError(
                    f"input_shape must be (channels, height, width), got {input_shape!r}"
                )
            self._eager_input_shape = tuple(
                check_int("input_shape", s, minimum=1) for s in input_shape
            )
        self._scratch: dict[str, np.ndarray] = {}

    # -- shapes --------------------------------------------------------------------------------
    def _pads(self, height, width):
        """``((top, bottom), (left, right))`` zeros added around an image of this size."""
        if self.padding == "valid":
            return (0, 0), (0, 0)
        if self.padding == "same":
            pads = []
            for size, k, s in zip((height, width), self.kernel_size, self.stride, strict=True):
                out = -(-size // s)  # ceil(size / s)
                total = max((out - 1) * s + k - size, 0)
                pads.append((total // 2, total - total // 2))  # the odd one at the end
            return tuple(pads)
        (ph, pw) = self.padding
        return (ph, ph), (pw, pw)

    def compute_output_shape(self, input_shape):
        channels, height, width = _check_image_shape("Conv2D", input_shape)
        (top, bottom), (left, right) = self._pads(height, width)
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        hint = ' or padding="same"'
        out_h = _output_size(
            height, kh, sh, top + bottom, "kernel height", "Conv2D", "height", hint
        )
        out_w = _output_size(width, kw, sw, left + right, "kernel width", "Conv2D", "width", hint)
        return (self.filters, out_h, out_w)

    def build(self, input_shape, rng, dtype):
        out = super().build(input_shape, rng, dtype)
        channels, height, width = self.input_shape
        kh, kw = self.kernel_size
        fan_in, fan_out = channels * kh * kw, self.filters * kh * kw
        self._init_params(
            (self.filters, channels, kh, kw), self.filters, fan_in=fan_in, fan_out=fan_out, rng=rng
        )
        self.activation.build(out, rng, dtype)

        # Which (output, input) rectangle each kernel offset (i, j) connects, computed once.
        (top, _), (left, _) = self._pads(height, width)
        rows = _tap_slices(height, kh, self.stride[0], top, out[1])
        cols = _tap_slices(width, kw, self.stride[1], left, out[2])
        self._taps = [
            (i, j, rows[i], cols[j])
            for i in range(kh)
            for j in range(kw)
            if rows[i] is not None and cols[j] is not None
        ]
        whole = (slice(0, height, 1), slice(0, width, 1))
        self._full_tap = next((t for t in self._taps if (t[2][1], t[3][1]) == whole), None)
        self._other_taps = [t for t in self._taps if t is not self._full_tap]
        self._scratch = {}
        self.x_col = None
        return out

    def _buffer(self, name, shape, fill=0):
        """A scratch array kept between calls (created filled with ``fill``, then reused).

        Reusing saves, per batch, allocating and page-faulting a fresh array of up to
        ``kh*kw`` times the input's size. It also means that the entries of ``X_col`` which
        never change — the zeros that stand for padding, the row of ones for the bias — are
        written once, when the buffer is made: each batch only copies the pixels that fall
        inside the image. One buffer per name is kept; a new batch size replaces it.
        """
        buf = self._scratch.get(name)
        if buf is None or buf.shape != shape or buf.dtype != self.dtype:
            buf = self._scratch[name] = np.full(shape, fill, dtype=self.dtype)
        return buf

    def __getstate__(self):
        # Copies (model.astype, checkpoints) and pickles leave the scratch buffers and the
        # caches behind (Layer.__getstate__); they are rebuilt on the next forward pass.
        state = super().__getstate__()
        state["x_col"] = None
        return state

    def _weight_matrix(self):
        """``[W_mat | b]`` of shape ``(filters, K + 1)``, or ``W_mat`` without a bias.

        The bias is the weight of an input that is always 1: ``X_col`` carries a last row of
        ones, so the product adds ``b`` (no second pass over ``z``) and the product for
        ``dL/dW`` also yields ``dL/db`` in its last column (no separate sum).
        """
        K = self.x_col_rows - self.use_bias
        if not self.use_bias:
            return self.params["W"].reshape(self.filters, K)
        Wb = self._buffer("Wb", (self.filters, K + 1))
        Wb[:, :K] = self.params["W"].reshape(self.filters, K)
        Wb[:, K] = self.params["b"]
        return Wb

    @property
    def x_col_rows(self):
        """Rows of ``X_col``: one per weight ``(c, i, j)``, plus the row of ones for the bias."""
        channels, _, _ = self.input_shape
        return channels * self.kernel_size[0] * self.kernel_size[1] + self.use_bias

    # forward and backward, side by side ---------------------------------------------------------
    def forward(self, x, training=False):
        x = _check_batch(self, x, self.input_shape)
        self.x = x
        n = x.shape[0]
        _, out_h, out_w = self.output_shape
        per_sample = self.x_col_rows * out_h * out_w * self.dtype.itemsize
        if training or n * per_sample <= INFERENCE_SCRATCH_BYTES:
            z = self._linear(x)
        else:
            # Prediction on a large batch: X_col is not needed afterwards, so build it for a
            # slice of the samples at a time, which bounds its memory.
            z = np.empty((self.filters, out_h * out_w, n), dtype=self.dtype)
            step = max(1, INFERENCE_SCRATCH_BYTES // per_sample)
            for start in range(0, n, step):
                part = self._linear(x[start : start + step])
                z[:, :, start : start + step] = part.reshape(self.filters, out_h * out_w, -1)
            self.x_col = None
        self.z = _batch_first(z.reshape(self.filters, out_h, out_w, n))
        self.a = (
            self.activation.forward_owned(self.z, training)
            if training
            else self.activation.forward(self.z, training)
        )
        return self.a

    def _linear(self, x):
        """``Z = [W_mat | b] @ X_col``, of shape ``(filters, out_h * out_w * n)``."""
        n = x.shape[0]
        channels, _, _ = self.input_shape
        kh, kw = self.kernel_size
        _, out_h, out_w = self.output_shape
        K = channels * kh * kw
        xc = _channel_major(x)  # (c, h, w, n) view
        if not xc.flags.c_contiguous:
            # One transposing copy, so that the kh*kw window copies below read long
            # contiguous runs instead of single numbers.
            xc = np.ascontiguousarray(xc, dtype=self.dtype)
        # im2col: X_col[c, i, j, h, w, n] = x_pad[n, c, h*s + i, w*s + j], then the ones.
        # Padding entries stay zero from the buffer's creation: only the in-image
        # rectangle of each kernel offset is copied.
        x_col = self._buffer("x_col", (self.x_col_rows, out_h * out_w * n), fill=0)
        if self.use_bias and x_col[K, 0] != 1:
            x_col[K] = 1  # once per buffer
        windows = x_col[:K].reshape(channels, kh, kw, out_h, out_w, n)
        for i, j, (out_rows, in_rows), (out_cols, in_cols) in self._taps:
            windows[:, i, j, out_rows, out_cols] = xc[:, in_rows, in_cols]
        self.x_col = x_col
        return self._weight_matrix() @ x_col  # (filters, P), bias included

    def backward_linear(self, delta):
        """Backward from ``delta = dL/dz`` of shape ``(n, filters, out_height, out_width)``
        (used directly when the loss is fused with the activation)."""
        if self.x_col is None:
            raise RuntimeError(
                "Conv2D.backward needs a forward pass with training=True "
                "(a large prediction batch does not keep X_col)"
            )
        self.delta = delta
        rows, P = self.x_col.shape
        K = rows - self.use_bias
        # (filters, P) view when delta is channel-major (the usual case), else one copy.
        delta_mat = _channel_major(delta).reshape(self.filters, P)
        # [dL/dW | dL/db] = delta @ X_col.T, computed as its transpose X_col @ delta.T
        # (the orientation OpenBLAS runs fastest here; the small result is then copied).
        dWb_T = self._buffer("dWb_T", (rows, self.filters))
        if rows <= FEW_ROWS:
            # A first layer on 1-3 channels: X_col has few rows and a very long P. As one
            # product OpenBLAS runs this shape at a fraction of its speed; as out_h stacked
            # products over out_w * n positions each, then summed, it was 2-2.5x faster here
            # (10 rows, P = 50,176: 1.5 ms -> 0.6 ms).
            stack = self.output_shape[1]
            parts = np.matmul(
                self.x_col.reshape(rows, stack, -1).transpose(1, 0, 2),
                delta_mat.reshape(self.filters, stack, -1).transpose(1, 2, 0),
            )
            np.sum(parts, axis=0, out=dWb_T)
        else:
            np.matmul(self.x_col, delta_mat.T, out=dWb_T)
        self.grads["W"].reshape(self.filters, K)[...] = dWb_T[:K].T
        if self.use_bias:
            self.grads["b"][...] = dWb_T[K]
        if not self.needs_input_grad:
            return None  # first layer: skip a product
        n = delta.shape[0]
        channels, height, width = self.input_shape
        kh, kw = self.kernel_size
        _, out_h, out_w = self.output_shape
        dx_col = self._buffer("dx_col", (K, P))
        np.matmul(self.params["W"].reshape(self.filters, K).T, delta_mat, out=dx_col)
        dx_col = dx_col.reshape(channels, kh, kw, out_h, out_w, n)
        # col2im: each input pixel receives the gradients of all the copies made of it.
        # A kernel offset that read the whole image (the centre one, for stride 1 and
        # "same") is assigned first, which spares zero-filling dx.
        if self._full_tap is None:
            dx = np.zeros((channels, height, width, n), dtype=dx_col.dtype)
        else:
            i, j, (out_rows, _), (out_cols, _) = self._full_tap
            dx = dx_col[:, i, j, out_rows, out_cols].copy()  # a new (c, h, w, n) array
        for i, j, (out_rows, in_rows), (out_cols, in_cols) in self._other_taps:
            dx[:, in_rows, in_cols] += dx_col[:, i, j, out_rows, out_cols]
        return _batch_first(dx)

    def describe(self):
        kh, kw = self.kernel_size
        parts = [str(self.filters), f"{kh}x{kw}"]
        if self.stride != (1, 1):
            parts.append(f"stride {_compact(self.stride)}")
        if self.padding != "valid":
            parts.append(
                str(
                    self.padding
                    if isinstance(self.padding, str)
                    else f"pad {_compact(self.padding)}"
                )
            )
        if self.activation.name != "identity":
            parts.append(self.activation.name)
        return f"Conv2D({', '.join(parts)})"

    def get_config(self):
        return {
            "filters": self.filters,
            "kernel_size": _compact(self.kernel_size),
            "stride": _compact(self.stride),
            "padding": self.padding if isinstance(self.padding, str) else _compact(self.padding),
            **self._affine_config(),
        }


# -- MaxPool2D -------------------------------------------------------------------------------------
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
        self.pool_size = _pair("pool_size", pool_size, minimum=1)
        self.stride = self.pool_size if stride is None else _pair("stride", stride, minimum=1)

    def compute_output_shape(self, input_shape):
        channels, height, width = _check_image_shape("MaxPool2D", input_shape)
        (ph, pw), (sh, sw) = self.pool_size, self.stride
        out_h = _output_size(height, ph, sh, 0, "pool height", "MaxPool2D", "height")
        out_w = _output_size(width, pw, sw, 0, "pool width", "MaxPool2D", "width")
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
        x = _check_batch(self, x, self.input_shape)
        self.x = x
        self.a = _batch_first(_max_of(self._window_taps(_channel_major(x))))
        return self.a

    def backward(self, grad_out, relu_input=False):
        """``dL/dx``: ``grad_out`` sent to the position of each window's maximum.

        Each window's gradient goes to its first input (in ``_window_taps`` order) equal to
        the maximum; ``claimed`` marks the windows whose gradient has been sent, so a tie
        sends it once. The bookkeeping is on booleans, a quarter of the memory of float
        passes. When the windows tile the input, each share is written straight into its
        place in ``dx`` (no zero-filling); otherwise (overlaps, rows left over) the shares
        are added into zeros.

        ``relu_input=True`` (the model passes it when the layer below ends in a ReLU) returns
        ``dL/dz`` for an input ``x = relu(z)`` instead, so the ReLU's own backward pass is
        skipped. ReLU is increasing, so ``max(relu(z)) = relu(max(z))`` and the window's
        winner is the same: its gradient is ``g * 1[a > 0]``, and every other input gets 0
        either way. So the windows whose maximum is 0 start out claimed: they send nothing,
        and the ReLU's two full-size passes (mask, multiply) are not needed.
        """
        if not self.needs_input_grad:
            return None
        channels, height, width = self.input_shape
        g, a = _channel_major(grad_out), _channel_major(self.a)
        tiles = self._tiles()
        shape = (channels, height, width, grad_out.shape[0])
        dx = (
            np.empty(shape, dtype=grad_out.dtype)
            if tiles
            else np.zeros(shape, dtype=grad_out.dtype)
        )
        x_taps, dx_taps = self._window_taps(_channel_major(self.x)), self._window_taps(dx)
        claimed = np.less_equal(a, 0) if relu_input else np.zeros(a.shape, dtype=bool)
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
        return _batch_first(dx)

    def describe(self):
        return f"MaxPool2D({_compact(self.pool_size)})"

    def get_config(self):
        return {"pool_size": _compact(self.pool_size), "stride": _compact(self.stride)}


def _max_of(arrays):
    """Element-wise maximum of a list of equal-shape arrays (a new array)."""
    result = np.maximum(arrays[0], arrays[1]) if len(arrays) > 1 else arrays[0].copy()
    for a in arrays[2:]:
        np.maximum(result, a, out=result)
    return result
