"""Conv2D's work space kept between batches, and ``dL/dW`` summed the faster way.

The reference (:class:`glassnet.nn.conv.FreshArrays`) makes ``X_col``, ``dL/dX_col`` and the
small matrices anew for every batch and computes ``dL/dW`` as one matrix product. Here:

- Arrays are kept between calls, one per name (a new batch size replaces it). That saves,
  per batch, allocating and page-faulting arrays of up to ``kh*kw`` times the input's size,
  and the entries of ``X_col`` that never change — the zeros that stand for padding, the row
  of ones for the bias — are written once, when the array is made: each batch only copies the
  pixels that fall inside the image. The arrays a layer *returns* (``z``, ``a``, ``dL/dx``)
  are never reused, so nothing a caller holds is overwritten by the next batch.
- For ``X_col`` with few rows (a first layer on 1-3 channels) and a very long second axis,
  OpenBLAS runs the one product at a fraction of its speed; as ``out_h`` stacked products over
  ``out_w * n`` positions each, then summed, it was 2-2.5x faster here (10 rows, 50,176
  positions: 1.5 ms -> 0.6 ms); slower from about 46 rows on.
"""

from __future__ import annotations

import numpy as np

#: Up to this many rows in X_col (weights per filter, plus the bias), dL/dW is summed from
#: stacked products.
FEW_ROWS = 32


class ReusedArrays:
    """The work space :func:`glassnet.fast.prepare` gives every Conv2D (same interface as
    :class:`glassnet.nn.conv.FreshArrays`)."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, name, shape, dtype, fill=0) -> np.ndarray:
        """The array kept under ``name`` — created filled with ``fill``, then reused as it is."""
        buf = self.arrays.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self.arrays[name] = np.full(shape, fill, dtype=dtype)
        return buf

    def weight_gradient(self, x_col, delta_mat, out) -> None:
        """``out = X_col @ delta.T``, as stacked products when X_col has few rows."""
        rows, positions = x_col.shape
        stack = _stack(positions)
        if rows > FEW_ROWS or stack == 1:
            np.matmul(x_col, delta_mat.T, out=out)
            return
        filters = delta_mat.shape[0]
        parts = np.matmul(
            x_col.reshape(rows, stack, -1).transpose(1, 0, 2),
            delta_mat.reshape(filters, stack, -1).transpose(1, 2, 0),
        )
        np.sum(parts, axis=0, out=out)


def _stack(positions: int) -> int:
    """How many equal parts to cut ``positions`` into: the largest divisor up to 32 (so each
    product still runs over long rows)."""
    return next(k for k in range(min(32, positions), 0, -1) if positions % k == 0)
