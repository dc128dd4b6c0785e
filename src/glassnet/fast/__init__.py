"""Named speed specialisations, selected in one place.

The network in :mod:`glassnet.nn` is the reference path: every layer's forward and backward
is the textbook computation. The specialisations here compute the same numbers by a faster
route, never change what a layer exposes (``z``, ``a``, ``delta``, ``params``, ``grads``),
and each has a test proving its numbers equal to the reference (``tests/test_fast.py``):

- :func:`glassnet.fast.parameters.pack` — every parameter and every gradient of a model in one
  contiguous vector (the layers keep views of their own shape), so that an optimizer updates
  one vector per step instead of one small array per parameter
  (:func:`glassnet.fast.parameters.parameter_groups`); the optimizer's state is still kept per
  parameter name, as views of one vector per kind of state.
- :class:`glassnet.fast.fusions.ReluMaxPool` — a ReLU followed by a MaxPool2D differentiated as
  one step, applying the ReLU's derivative to the pooled gradient.
- :class:`glassnet.fast.conv.ReusedArrays` — Conv2D's work arrays (``X_col`` and the like)
  kept between batches instead of made anew, and ``dL/dW`` summed from stacked products
  where OpenBLAS runs the single product slowly.
- :mod:`glassnet.fast.compiled` — loops compiled by numba (the optional extra
  ``glassnet[fast]``) that do in one pass over memory what NumPy does in several:
  the optimizers' steps (:mod:`~glassnet.fast.compiled.updates`), max and average
  pooling forward and backward (:mod:`~glassnet.fast.compiled.pooling`), ReLU's derivative
  (:mod:`~glassnet.fast.compiled.activations`), Conv2D's col2im
  (:mod:`~glassnet.fast.compiled.windows`). Each gives the NumPy
  path's numbers (``tests/test_fast_compiled.py``); each is used only while
  :func:`use_compiled` is True — the fast path on, numba importable
  (:func:`compiled_available`), the environment variable ``GLASSNET_NUMBA`` not ``0`` when
  glassnet was imported, and not inside ``with glassnet.fast.numpy_only(): ...``. numba is
  imported on first use, never by ``import glassnet``.

They are chosen in one place, :func:`prepare`, which ``fit`` calls before training (and a
user may call on any built model), and only while :func:`enabled` is True. A model never
prepared — or inside ``with glassnet.fast.reference_only(): ...`` — runs the plain
reference path, as the glass box (``explain``, ``gradcheck``) and the equality tests do.
"""

from __future__ import annotations

import importlib
import os
from contextlib import contextmanager

#: GLASSNET_NUMBA=0 (or false/off/no), read when glassnet is imported, switches the compiled
#: kernels off for the whole process
_SWITCHED_OFF = ("0", "false", "off", "no")
_state = {
    "enabled": True,
    "compiled": True,  # False inside numpy_only()
    "numba_allowed": os.environ.get("GLASSNET_NUMBA", "1").strip().lower() not in _SWITCHED_OFF,
}


def enabled() -> bool:
    """Whether the speed specialisations are used (True unless inside :func:`reference_only`)."""
    return _state["enabled"]


def compiled_available() -> bool:
    """Whether the compiled kernels can run in this process: numba imports (tried on the first
    call, never at ``import glassnet``) and ``GLASSNET_NUMBA`` was not ``0`` at import."""
    if not _state["numba_allowed"]:
        return False
    from glassnet.fast.compiled import available

    return available()


def use_compiled() -> bool:
    """The one place that says whether a specialisation may call a compiled kernel now:
    :func:`enabled`, :func:`compiled_available`, and not inside :func:`numpy_only`."""
    return _state["enabled"] and _state["compiled"] and compiled_available()


def compiled_module(name: str):
    """The kernels of :mod:`glassnet.fast.compiled` named ``name`` (``"pooling"``) when
    :func:`use_compiled`, else None: what a layer asks before it runs its NumPy passes."""
    if not use_compiled():
        return None
    module = _kernel_modules.get(name)
    if module is None:  # imported (and so compiled) on first use only
        module = _kernel_modules[name] = importlib.import_module(f"glassnet.fast.compiled.{name}")
    return module


_kernel_modules: dict = {}


@contextmanager
def numpy_only():
    """Run the enclosed code on the NumPy fast path: fusions and packed buffers as usual, no
    compiled kernel (whether numba is installed or not). For measuring what the kernels
    bring, and for testing them against NumPy."""
    before = _state["compiled"]
    _state["compiled"] = False
    try:
        yield
    finally:
        _state["compiled"] = before


@contextmanager
def reference_only():
    """Run the enclosed code on the reference path alone: no fusions, no packed buffers, no
    compiled kernels.

    Models built inside keep per-parameter arrays; the backward pass of any model runs layer
    by layer.
    """
    before = _state["enabled"]
    _state["enabled"] = False
    try:
        yield
    finally:
        _state["enabled"] = before


def prepare(model) -> None:
    """Choose the speed specialisations for a built ``model``: pack its parameters into one
    buffer (:func:`glassnet.fast.parameters.pack`), give every Conv2D a work space kept between
    batches (:class:`glassnet.fast.conv.ReusedArrays`) and pick its backward steps, fusions
    included (:class:`glassnet.fast.plan.BackwardPlan`). Off the fast path, the model is left
    on (or put back to) the reference path."""
    from glassnet.fast.conv import ReusedArrays
    from glassnet.fast.parameters import pack
    from glassnet.fast.plan import BackwardPlan
    from glassnet.nn.conv import Conv2D, FreshArrays

    convs = [layer for layer in model.layers if isinstance(layer, Conv2D)]
    if not enabled():
        model.backward_plan = None
        for layer in convs:
            layer.work = FreshArrays()
        return
    pack(model)
    for layer in convs:
        if not isinstance(layer.work, ReusedArrays):
            layer.work = ReusedArrays()
    model.backward_plan = BackwardPlan(model.layers)
