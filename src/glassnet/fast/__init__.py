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

They are chosen in one place, :func:`prepare`, which ``fit`` calls before training (and a
user may call on any built model), and only while :func:`enabled` is True. A model never
prepared — or inside ``with glassnet.fast.reference_only(): ...`` — runs the plain
reference path, as the glass box (``explain``, ``gradcheck``) and the equality tests do.
"""

from __future__ import annotations

from contextlib import contextmanager

_state = {"enabled": True}


def enabled() -> bool:
    """Whether the speed specialisations are used (True unless inside :func:`reference_only`)."""
    return _state["enabled"]


@contextmanager
def reference_only():
    """Run the enclosed code on the reference path alone: no fusions, no packed buffers.

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
