"""A lean ``predict``: the reference forward's arithmetic, with the checks cached and the work
arrays kept.

On the reference path, :meth:`glassnet.Sequential.predict` checks ``X`` in full
(:func:`glassnet._validation.check_array`), then runs every layer's ``forward``, which makes
fresh ``z`` and ``a`` arrays and caches them in the layer, and copies the output. For one row
of a small network those Python and allocation costs are most of the time. Here, for a built
model, a :class:`LeanPredictor` is made once and kept (per model, weakly):

- **O(1) checks.** The model's dtype and input shape are cached; an ``X`` that is already a
  C-contiguous array of that dtype and shape, with no NaN or infinity, passes a handful of
  attribute tests and one finiteness test (the sum of squares, one BLAS call, for small
  inputs). Anything else goes through the model's own ``check_inputs``, which converts it or
  raises exactly the reference's error. The output is checked as the reference checks it
  (:func:`glassnet._validation.check_outputs`: the same message naming the row).
- **No work array made per call.** For each batch size (the last four, per thread) every
  layer's output array is kept and written in place: ``z = x @ W`` with ``out=``, then
  ``z += b`` and the activation (identity, ReLU, sigmoid, tanh, softmax) in the same array.
  The last layer writes straight into the returned array, which is made fresh for every
  call, so a caller never sees its result overwritten by the next one; a large ``X`` is split
  every ``batch_size`` rows as on the reference path, each part written into its rows of the
  result (no concatenation).
- **The same numbers.** The same NumPy operations in the same order on the same shapes,
  only into kept arrays: the results equal the reference's bit for bit
  (``tests/test_fast_predict.py``). The other activations (leaky ReLU, ELU, GELU, SiLU,
  softplus) call the activation's own ``function``; Dropout is the identity, as it is at
  prediction time; BatchNormalization uses its running statistics, as its ``forward`` does
  with ``training=False``.

**What a layer exposes is never changed.** The specialised layers (Dense, Dropout, Flatten,
BatchNormalization, the activation layers, each of exactly that class) are *not* written at
all: after a lean predict their ``x``, ``z``, ``a`` (Dropout's ``mask``, BatchNormalization's
``x_hat``) are untouched, still what their last ``forward`` left. Every other glassnet layer
(Conv2D, the pooling layers, LayerNormalization) runs its own ``forward(x, training=False)``
and so caches the textbook values for this input, as on the reference path; the array a
layer caches is never one that a later call overwrites. A model with any other layer (your
own Layer subclass) runs the reference ``predict``, as does every model inside
``with glassnet.fast.reference_only():``.

The predictor is chosen in one place, :func:`lean_predictor`, which ``Sequential.predict``
calls. It stays valid while the model has the same layers, dtype and input shape; parameters
and activations are read from the layers on every call, so new weights (``set_weights``,
``fit``) or a swapped activation are always seen.
"""

from __future__ import annotations

import math
import threading
import weakref

import numpy as np

from glassnet import fast
from glassnet._validation import all_finite, check_int, check_outputs
from glassnet.fast.predict_steps import Stale, plan_steps

#: inputs and outputs up to this many numbers are checked for NaN/infinity by one dot product
SMALL = 4096
#: batch sizes whose work arrays a thread keeps
KEPT_SIZES = 4

#: id(model) -> (a weak reference to the model, its predictor); an entry goes with its model
_PREDICTORS: dict[int, tuple[weakref.ref, LeanPredictor]] = {}


def lean_predictor(model) -> LeanPredictor | None:
    """The lean predictor of a built ``model``, or None where the reference ``predict`` runs:
    inside :func:`glassnet.fast.reference_only`, before the model is built, or for a model
    with a layer :func:`glassnet.fast.predict_steps.plan_steps` does not know."""
    if not fast.enabled() or not model.built:
        return None
    entry = _PREDICTORS.get(id(model))
    if entry is None or entry[0]() is not model or not entry[1].fits(model):
        key = id(model)
        forget = weakref.ref(model, lambda _, key=key: _PREDICTORS.pop(key, None))
        entry = _PREDICTORS[key] = (forget, LeanPredictor(model))
    return entry[1] if entry[1].steps is not None else None


def _finite(a: np.ndarray) -> bool:
    """True when ``a`` has no NaN and no infinity. False may also mean that the sum of squares
    overflowed: the caller then runs the full check, which decides."""
    if a.size > SMALL:
        return all_finite(a)
    return math.isfinite(np.vdot(a, a))  # any NaN or infinity makes it NaN or infinity


# ``np.errstate(over="ignore", invalid="ignore")`` around the arithmetic, as the reference
# predict runs it (an overflow is reported by the output check, never as a NumPy warning). On
# NumPy >= 2 it is set in NumPy's own context variable: 0.2 µs instead of the wrapper's 1.1 µs
# on one row; the other settings stay the caller's, as with ``np.errstate``.
try:
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj
except ImportError:  # pragma: no cover - NumPy 1.x

    def _quiet():
        state = np.errstate(over="ignore", invalid="ignore")
        state.__enter__()
        return state

    def _restore(state) -> None:
        state.__exit__(None, None, None)

else:

    def _quiet():
        return _extobj_contextvar.set(_make_extobj(over="ignore", invalid="ignore"))

    _restore = _extobj_contextvar.reset


class LeanPredictor:
    """One model's prediction steps, and each thread's work arrays (see the module)."""

    def __init__(self, model) -> None:
        self.layers = list(model.layers)
        self.dtype, self.input_shape = model.dtype, model.input_shape
        self.output_shape = model.output_shape
        self.steps = plan_steps(self.layers)
        self.local = threading.local()

    def fits(self, model) -> bool:
        """Whether this predictor still describes ``model`` (same layers, dtype, input shape)."""
        return (
            model.layers == self.layers
            and model.dtype == self.dtype
            and model.input_shape == self.input_shape
        )

    def predict(self, model, X, batch_size) -> np.ndarray:
        """``model.predict(X, batch_size=batch_size)``: the same result and the same errors."""
        if type(batch_size) is not int or batch_size < 1:
            batch_size = check_int("batch_size", batch_size, minimum=1)
        if not (
            type(X) is np.ndarray
            and X.dtype == self.dtype
            and X.shape[1:] == self.input_shape
            and X.shape[0] > 0
            and X.flags.c_contiguous
            and _finite(X)
        ):
            X = model.check_inputs(X)  # converts, or raises the reference's error
        n = X.shape[0]
        out = np.empty((n, *self.output_shape), dtype=self.dtype)
        state = _quiet()
        try:
            if n <= batch_size:
                self.forward(X, self.work(n), out)
            for start in range(0, n if n > batch_size else 0, batch_size):
                rows = X[start : start + batch_size]
                self.forward(rows, self.work(rows.shape[0]), out[start : start + batch_size])
        except Stale:  # an activation was swapped: choose the steps again
            _PREDICTORS.pop(id(model), None)
            return model.predict(X, batch_size=batch_size)
        finally:
            _restore(state)
        if not _finite(out):
            check_outputs(out, self.dtype)  # raises, naming the row (or the values are fine)
        return out

    def forward(self, x, work, dest: np.ndarray) -> None:
        """Every step on the rows ``x``, the last one into ``dest``."""
        body, last, scratch = work
        for step, out, kept in body:
            x = step.run(x, out, kept)
        x = last.run(x, dest, scratch)
        if x is not dest:
            np.copyto(dest, x)

    def work(self, n: int) -> tuple:
        """This thread's arrays for batches of ``n`` rows: ``[(step, out, scratch), ...]`` for
        every layer but the last, then the last step and its scratch (its output is the rows
        of the returned array). The oldest of :data:`KEPT_SIZES` sizes is dropped."""
        try:
            sizes = self.local.sizes
        except AttributeError:  # this thread's first call
            sizes = self.local.sizes = {}
        work = sizes.get(n)
        if work is None:
            if len(sizes) >= KEPT_SIZES:
                del sizes[next(iter(sizes))]
            *body, last = self.steps
            kept = [(step, *step.arrays(n, self.dtype, last=False)) for step in body]
            work = sizes[n] = (kept, last, last.arrays(n, self.dtype, last=True)[1])
        return work
