"""Neuron: the unit every network is made of.

    y = g(w . x + b)

weights ``w`` and inputs ``x`` are vectors of the same length, ``b`` is a number, ``g`` is
the activation. Seed 002's example: ``Neuron(weights=[0, 1], bias=4).forward([2, 3])`` is
``g(0*2 + 1*3 + 4) = sigmoid(7) = 0.9990889488055994``.

A :class:`~glassnet.nn.layers.Dense` layer is many neurons side by side: neuron ``j`` of a
Dense layer is ``Neuron(weights=W[:, j], bias=b[j])``.
"""

from __future__ import annotations

import numpy as np

from glassnet._validation import check_array, check_real
from glassnet.errors import InputValueError
from glassnet.nn.activations import get_activation


class Neuron:
    """One neuron with ``weights``, ``bias`` and an ``activation`` (sigmoid by default)."""

    def __init__(self, weights, bias: float = 0.0, activation="sigmoid") -> None:
        self.weights = check_array("weights", weights, dtype=np.float64, ndim=1)
        self.bias = check_real("bias", bias)
        self.activation = get_activation(activation)

    def forward(self, inputs) -> float:
        """``g(w . x + b)`` for one input vector ``x``; returns a float."""
        x = check_array("inputs", inputs, dtype=np.float64, ndim=1)
        if x.shape != self.weights.shape:
            raise InputValueError(
                f"inputs has {x.shape[0]} values but the neuron has {self.weights.shape[0]} weights"
            )
        z = float(self.weights @ x + self.bias)
        return float(self.activation(np.array([z]))[0])

    feed_forward = forward  # the tutorial's name

    def __repr__(self):
        return (
            f"Neuron(weights={self.weights.tolist()}, bias={self.bias}, "
            f"activation={self.activation.name!r})"
        )
