"""The one place that selects speed specialisations for a model's backward pass."""

from __future__ import annotations

from glassnet import fast
from glassnet.fast.fusions import FUSIONS


def backward_steps(layers) -> list[tuple[int, object]]:
    """The backward pass as steps, from the top layer down: ``(lowest layer index, step)``.

    Each step takes ``dL/d(its output)`` and returns ``dL/d(its input)``. A step is a layer's
    own ``backward`` — the reference — or, when :func:`glassnet.fast.enabled`, a fusion from
    :data:`glassnet.fast.fusions.FUSIONS` that covers several layers at once.
    """
    steps = []
    i = len(layers) - 1
    while i >= 0:
        fusion = next((f for f in FUSIONS if fast.enabled() and f.matches(layers, i)), None)
        if fusion is None:
            steps.append((i, layers[i].backward))
            i -= 1
        else:
            first = i - fusion.covers + 1
            steps.append((first, fusion(*layers[first : i + 1]).backward))
            i = first - 1
    return steps


class BackwardPlan:
    """The backward steps chosen for one model's layers — valid only for those layers, with
    the activations they had, and only while the fast path is on.

    A model that changes after :func:`glassnet.fast.prepare` (a layer's activation swapped,
    a layer replaced) or runs inside :func:`glassnet.fast.reference_only` gets None from
    :meth:`steps_for`, and so runs its layers' own backward passes.
    """

    def __init__(self, layers) -> None:
        self.signature = _signature(layers)
        self.steps = backward_steps(layers)

    def steps_for(self, layers):
        """The chosen steps, or None where they no longer apply."""
        if not fast.enabled() or _signature(layers) != self.signature:
            return None
        return self.steps


def _signature(layers) -> tuple:
    return tuple((id(layer), type(getattr(layer, "activation", layer))) for layer in layers)
