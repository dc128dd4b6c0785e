"""Conv2D: a 2-D convolution, computed as one matrix product ("im2col").

The arrays it returns are ``(n, channels, height, width)`` views of channel-major memory;
:mod:`glassnet.nn.windows` explains why. :mod:`glassnet.nn.conv_reference` holds the same
computation written as plain loops — the definition this layer is tested against.
"""

from __future__ import annotations

import numpy as np

from glassnet import fast
from glassnet._validation import check_int
from glassnet.errors import InputValueError
from glassnet.nn.layers import Affine
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

#: Above this size, Conv2D builds X_col for prediction in slices of the batch (see forward).
INFERENCE_SCRATCH_BYTES = 64 * 2**20


class FreshArrays:
    """Conv2D's work space on the reference path: every array made anew for each batch.

    :func:`glassnet.fast.prepare` swaps in :class:`glassnet.fast.conv.ReusedArrays`, which
    keeps the arrays between batches and sums ``dL/dW`` a faster way for some shapes; both
    give the same numbers (``tests/test_fast.py``).
    """

    def array(self, name, shape, dtype, fill=0) -> np.ndarray:
        """An array of ``shape`` filled with ``fill`` (``name`` says what it is for)."""
        return np.full(shape, fill, dtype=dtype)

    def weight_gradient(self, x_col, delta_mat, out) -> None:
        """``out = X_col @ delta.T``: ``[dL/dW | dL/db]`` transposed, ``(rows, filters)``."""
        np.matmul(x_col, delta_mat.T, out=out)


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
    kernel_regularizer, bias_regularizer : None, "l1", "l2" or a regularizer
        A penalty on ``W`` (``b``) added to the training loss, as in Dense.
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
        kernel_regularizer=None,
        bias_regularizer=None,
        input_shape=None,
    ) -> None:
        super().__init__()
        self.filters = check_int("filters", filters, minimum=1)
        self.kernel_size = pair("kernel_size", kernel_size, minimum=1)
        self.stride = pair("stride", stride, minimum=1)
        if isinstance(padding, str) and padding.lower() in ("valid", "same"):
            self.padding = padding.lower()
        elif isinstance(padding, str):
            raise InputValueError(
                f'padding must be "valid", "same", an integer >= 0 or a pair of them, '
                f"got {padding!r}"
            )
        else:
            self.padding = pair("padding", padding, minimum=0)
        self._init_affine(
            activation, use_bias, weight_init, bias_init, kernel_regularizer, bias_regularizer
        )
        self._eager_input_shape = None
        if input_shape is not None:
            if not isinstance(input_shape, list | tuple) or len(input_shape) != 3:
                raise InputValueError(
                    f"input_shape must be (channels, height, width), got {input_shape!r}"
                )
            self._eager_input_shape = tuple(
                check_int("input_shape", s, minimum=1) for s in input_shape
            )
        self.work = FreshArrays()

    # -- shapes --------------------------------------------------------------------------------
    def _pads(self, height, width):
        """``((top, bottom), (left, right))`` zeros added around an image of this size."""
        if self.padding == "valid":
            return (0, 0), (0, 0)
        if self.padding == "same":
            (kh, kw), (sh, sw) = self.kernel_size, self.stride
            return same_padding(height, kh, sh), same_padding(width, kw, sw)
        (ph, pw) = self.padding
        return (ph, ph), (pw, pw)

    def compute_output_shape(self, input_shape):
        channels, height, width = check_image_shape("Conv2D", input_shape)
        (top, bottom), (left, right) = self._pads(height, width)
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        hint = ' or padding="same"'
        out_h = output_size(height, kh, sh, top + bottom, "kernel height", "Conv2D", "height", hint)
        out_w = output_size(width, kw, sw, left + right, "kernel width", "Conv2D", "width", hint)
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
        rows = tap_slices(height, kh, self.stride[0], top, out[1])
        cols = tap_slices(width, kw, self.stride[1], left, out[2])
        self._taps = [
            (i, j, rows[i], cols[j])
            for i in range(kh)
            for j in range(kw)
            if rows[i] is not None and cols[j] is not None
        ]
        whole = (slice(0, height, 1), slice(0, width, 1))
        self._full_tap = next((t for t in self._taps if (t[2][1], t[3][1]) == whole), None)
        self._other_taps = [t for t in self._taps if t is not self._full_tap]
        self.work = type(self.work)()
        self.x_col = None
        return out

    def _buffer(self, name, shape, fill=0):
        """A work array of ``shape`` filled with ``fill``, from :attr:`work`."""
        return self.work.array(name, shape, self.dtype, fill)

    def __getstate__(self):
        # Copies (model.astype, checkpoints) and pickles leave the work arrays and the caches
        # behind (Layer.__getstate__); they are made again on the next forward pass.
        state = super().__getstate__()
        state["x_col"] = None
        state["work"] = type(self.work)()
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
        x = check_batch(self, x, self.input_shape)
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
        self.z = batch_first(z.reshape(self.filters, out_h, out_w, n))
        self.a = self.activation.forward(self.z, training)
        return self.a

    def _linear(self, x):
        """``Z = [W_mat | b] @ X_col``, of shape ``(filters, out_h * out_w * n)``."""
        n = x.shape[0]
        channels, _, _ = self.input_shape
        kh, kw = self.kernel_size
        _, out_h, out_w = self.output_shape
        K = channels * kh * kw
        xc = channel_major(x)  # (c, h, w, n) view
        if not xc.flags.c_contiguous:
            # One transposing copy, so that the kh*kw window copies below read long
            # contiguous runs instead of single numbers.
            xc = np.ascontiguousarray(xc, dtype=self.dtype)
        # im2col: X_col[c, i, j, h, w, n] = x_pad[n, c, h*s + i, w*s + j], then the ones.
        # Padding entries are zero from the array's creation: only the in-image rectangle of
        # each kernel offset is copied.
        x_col = self._buffer("x_col", (self.x_col_rows, out_h * out_w * n), fill=0)
        if self.use_bias and x_col[K, 0] != 1:
            x_col[K] = 1  # once per array (a reused one keeps its row of ones)
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
        delta_mat = channel_major(delta).reshape(self.filters, P)
        # [dL/dW | dL/db] = delta @ X_col.T, computed as its transpose X_col @ delta.T
        # (the orientation OpenBLAS runs fastest here; the small result is then copied).
        dWb_T = self._buffer("dWb_T", (rows, self.filters))
        self.work.weight_gradient(self.x_col, delta_mat, dWb_T)
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
        kernels = fast.compiled_module("windows")  # the same sums in one pass, or None
        dx = kernels.gather_columns(self, dx_col) if kernels else None
        if dx is not None:
            return batch_first(dx)
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
        return batch_first(dx)

    def describe(self):
        kh, kw = self.kernel_size
        parts = [str(self.filters), f"{kh}x{kw}"]
        if self.stride != (1, 1):
            parts.append(f"stride {compact(self.stride)}")
        if self.padding != "valid":
            parts.append(
                str(
                    self.padding
                    if isinstance(self.padding, str)
                    else f"pad {compact(self.padding)}"
                )
            )
        if self.activation.name != "identity":
            parts.append(self.activation.name)
        return f"Conv2D({', '.join(parts)})"

    def get_config(self):
        return {
            "filters": self.filters,
            "kernel_size": compact(self.kernel_size),
            "stride": compact(self.stride),
            "padding": self.padding if isinstance(self.padding, str) else compact(self.padding),
            **self._affine_config(),
        }
