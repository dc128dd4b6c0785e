"""Fusions: two layers differentiated as one step, with the same numbers as the two steps.

Each fusion says which layers it covers (:meth:`matches`) and how to run their backward pass
together (:meth:`backward`). :func:`glassnet.fast.plan.backward_steps` is the one place that
looks for them.
"""

from __future__ import annotations

import numpy as np

from glassnet import fast
from glassnet.nn.activations import ReLU
from glassnet.nn.layers import Affine
from glassnet.nn.pooling import MaxPool2D
from glassnet.nn.windows import channel_major


def _plain_relu(layer) -> bool:
    """A ReLU itself, as the layer or as its activation — not a subclass, which may redefine
    its function or derivative."""
    activation = layer.activation if isinstance(layer, Affine) else layer
    return type(activation) is ReLU


class ReluMaxPool:
    """A ReLU (a layer's activation, or a standalone ReLU layer) followed by a MaxPool2D.

    Reference: ``dL/da = pool.backward(g)`` (full size), then ``dL/dz = dL/da * 1[z > 0]``
    (two more full-size passes). Fused: ReLU is increasing, so ``max(relu(z)) = relu(max(z))``
    and each window's winner is the same input; its gradient is ``g * 1[a > 0]``, and every
    other input gets 0 either way. So the windows whose maximum is 0 start out *claimed*
    (:meth:`MaxPool2D.route`): they send nothing, and the ReLU's own passes are not needed.
    For a 2x2 pool the mask is taken on a quarter of the values.

    The layer below still receives its ``delta = dL/dz`` through ``backward_linear``, so what
    every layer caches is exactly what the reference leaves.
    """

    name = "relu+maxpool"
    covers = 2  # layers, counted downwards from the pool

    @staticmethod
    def matches(layers, i) -> bool:
        """Whether ``layers[i - 1], layers[i]`` is a (layer ending in) ReLU, then a MaxPool2D."""
        return i > 0 and type(layers[i]) is MaxPool2D and _plain_relu(layers[i - 1])

    def __init__(self, below, pool) -> None:
        self.below, self.pool = below, pool

    def backward(self, grad):
        """``dL/dz`` of the ReLU (passed on through ``below.backward_linear`` for an affine
        layer), from ``grad = dL/d(pool output)``."""
        kernels = fast.compiled_module("pooling")  # the same numbers in one pass, or None
        delta = kernels.max_pool_gradient(self.pool, grad, after_relu=True) if kernels else None
        if delta is None:
            claimed = np.less_equal(channel_major(self.pool.a), 0)
            delta = self.pool.route(grad, claimed)
        return self.below.backward_linear(delta) if isinstance(self.below, Affine) else delta


FUSIONS = (ReluMaxPool,)
