"""The steps of the lean predict (:mod:`glassnet.fast.predict`): one per layer, each the
reference forward's arithmetic at prediction time, written into kept arrays.

A step is made for one layer and says which arrays it needs for a batch of ``n`` rows
(:meth:`Step.arrays`: its output, and any scratch such as softmax's row maxima); the
predictor keeps those per batch size and hands them back on every call:
``step.run(x, out, scratch)`` returns the layer's output for the rows ``x``. ``out`` is the
step's kept output array — or, for the last layer, the rows of the array ``predict``
returns; it is None for a step that makes its own (see :attr:`Step.fresh`).

No step writes into its input ``x`` (the caller's ``X``, or an array a layer caches), and
none writes into a layer: ``z``, ``a``, ``x``, Dropout's ``mask`` are left as they are.
"""

from __future__ import annotations

import numpy as np

from glassnet.nn import activations as act
from glassnet.nn.conv import Conv2D
from glassnet.nn.layers import Dense, Dropout, Flatten
from glassnet.nn.normalization import BatchNormalization, LayerNormalization
from glassnet.nn.pooling import AveragePooling2D, GlobalAveragePooling2D, MaxPool2D

#: glassnet layers the lean path runs through their own ``forward`` (exact classes)
REFERENCE_LAYERS = (Conv2D, MaxPool2D, AveragePooling2D, GlobalAveragePooling2D, LayerNormalization)


# -- the activations: ``g(src)`` into ``out`` (the same array for a Dense layer) ----------------
# Positional ``out`` and reduction arguments: on one row, keywords cost more than the arithmetic.
def _identity(activation, src, out, scratch):
    return src  # the reference's Identity returns its input itself


def _relu(activation, src, out, scratch):
    """``max(z, 0)``, the 0 a kept 0-d array of the dtype (``scratch``): NumPy converts a
    Python 0 to the same value on every call, which on one row costs more than the max."""
    return np.maximum(src, scratch[0], out=out)  # (np.maximum refuses a positional out)


def _tanh(activation, src, out, scratch):
    return np.tanh(src, out)


def _sigmoid(activation, src, out, scratch):
    """:func:`glassnet.nn.activations.sigmoid`'s five passes, in ``out``."""
    char = out.dtype.char
    limit = act._EXP_LIMIT[char] if char in act._EXP_LIMIT else 700.0
    np.maximum(src, -limit, out=out)
    np.negative(out, out)
    np.exp(out, out)
    out += 1
    return np.reciprocal(out, out)


def _softmax(activation, src, out, scratch):
    """:class:`glassnet.nn.activations.Softmax`: ``e = exp(z - max z)``, then ``e / sum e``
    over the last axis; ``scratch`` holds the row maxima and sums, shape ``(..., 1)``."""
    peak, total = scratch
    np.maximum.reduce(src, -1, None, peak, True)  # axis, dtype, out, keepdims
    np.subtract(src, peak, out)
    np.exp(out, out)
    np.add.reduce(out, -1, None, total, True)
    out /= total
    return out


def _function(activation, src, out, scratch):
    return activation.function(src)  # a fresh array, as the activation's forward makes


#: how each activation (of exactly that class) is computed; the last five make a new array
ACTIVATIONS = {
    act.Identity: _identity,
    act.ReLU: _relu,
    act.Tanh: _tanh,
    act.Sigmoid: _sigmoid,
    act.Softmax: _softmax,
    **dict.fromkeys((act.LeakyReLU, act.ELU, act.GELU, act.SiLU, act.Softplus), _function),
}


def _scratch(activation, out_shape) -> tuple:
    """The scratch shapes an activation needs for outputs of ``out_shape`` (made as zeros):
    softmax's row maxima and sums, ReLU's 0."""
    kind = type(activation)
    if kind is act.Softmax:
        return ((*out_shape[:-1], 1),) * 2
    return ((),) if kind is act.ReLU else ()


class Stale(Exception):
    """A Dense layer's activation was replaced after its step was made."""


# -- the steps ----------------------------------------------------------------------------------
class Step:
    """One layer's part of the prediction (see the module)."""

    #: True when the next layer that computes (past Dropout and Flatten) is one that runs its
    #: own forward, which caches its input: this step then makes a new output every call.
    fresh = False
    makes_output = True

    def __init__(self, layer) -> None:
        self.layer = layer

    def arrays(self, n: int, dtype, last: bool) -> tuple[np.ndarray | None, tuple]:
        """``(out, scratch)`` kept for batches of ``n`` rows (``out`` None: none kept)."""
        shape = (n, *self.layer.output_shape)
        keep = self.makes_output and not (self.fresh or last)
        out = np.empty(shape, dtype=dtype) if keep else None
        return out, tuple(np.zeros(s, dtype=dtype) for s in self.scratch_shapes(shape))

    def scratch_shapes(self, out_shape) -> tuple:
        return ()

    def new_output(self, x):
        return np.empty((x.shape[0], *self.layer.output_shape), dtype=self.layer.dtype)


class DenseStep(Step):
    """``z = x @ W``, ``z += b``, ``a = g(z)``, all in one ``(n, units)`` array."""

    def __init__(self, layer) -> None:
        super().__init__(layer)
        self.activation = layer.activation
        self.apply = ACTIVATIONS[type(layer.activation)]

    def scratch_shapes(self, out_shape):
        return _scratch(self.activation, out_shape)

    def run(self, x, z, scratch):
        layer = self.layer
        if layer.activation is not self.activation:
            raise Stale
        if z is None:
            z = self.new_output(x)
        np.dot(x, layer.params["W"], z)  # x @ W (the same BLAS call; less overhead per call)
        if layer.use_bias:
            z += layer.params["b"]
        return self.apply(self.activation, z, z, scratch)


class ActivationStep(Step):
    """An activation layer: its function from its input into an array of the same shape."""

    def scratch_shapes(self, out_shape):
        return _scratch(self.layer, out_shape)

    def run(self, x, out, scratch):
        if out is None:
            out = self.new_output(x)
        return ACTIVATIONS[type(self.layer)](self.layer, x, out, scratch)


class BatchNormStep(Step):
    """BatchNormalization at prediction time, as ``_normalize`` computes it from the running
    statistics: ``inv_std = 1 / sqrt(var + epsilon)``, ``(x - mu) * inv_std * gamma + beta``."""

    def scratch_shapes(self, out_shape):
        return (self.layer.broadcast,)

    def run(self, x, out, scratch):
        layer = self.layer
        shape = layer.broadcast
        (inv_std,) = scratch
        np.add(layer.buffers["moving_variance"].reshape(shape), layer.epsilon, inv_std)
        np.sqrt(inv_std, inv_std)
        np.divide(1.0, inv_std, inv_std)
        if out is None:
            out = self.new_output(x)
        np.subtract(x, layer.buffers["moving_mean"].reshape(shape), out)
        out *= inv_std
        if layer.scale:
            out *= layer.params["gamma"].reshape(shape)
        if layer.center:
            out += layer.params["beta"].reshape(shape)
        return out


class PassStep(Step):
    """Dropout (the identity at prediction time) and Flatten (a reshape): no arithmetic."""

    makes_output = False

    def run(self, x, out, scratch):
        return x if type(self.layer) is Dropout else x.reshape(x.shape[0], -1)


class ReferenceStep(Step):
    """A layer's own ``forward(x, training=False)``: it caches the textbook values."""

    makes_output = False

    def run(self, x, out, scratch):
        return self.layer.forward(x, False)


def _same_dtype(layer) -> bool:
    """Whether the layer's parameters are in its dtype (np.dot writes only into that)."""
    return all(p.dtype == layer.dtype for p in layer.params.values())


def plan_steps(layers) -> list[Step] | None:
    """One step per layer, or None when a layer is not one of those above."""
    steps = []
    for layer in layers:
        kind = type(layer)
        if kind is Dense and type(layer.activation) in ACTIVATIONS and _same_dtype(layer):
            steps.append(DenseStep(layer))
        elif kind in (Dropout, Flatten):
            steps.append(PassStep(layer))
        elif kind is BatchNormalization:
            steps.append(BatchNormStep(layer))
        elif kind in ACTIVATIONS:
            steps.append(ActivationStep(layer))
        elif kind in REFERENCE_LAYERS:
            steps.append(ReferenceStep(layer))
        else:
            return None
    producer = None  # the last step that made an array, looking through Dropout and Flatten
    for step in steps:
        if isinstance(step, ReferenceStep):
            if producer is not None:
                producer.fresh = True  # that layer will cache the array: never reuse it
            producer = None  # what follows reads the layer's own output
        elif step.makes_output:
            producer = step
    return steps
