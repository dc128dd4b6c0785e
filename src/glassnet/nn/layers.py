"""The layers that hold weights — Dense (and the Affine base it shares with Conv2D) — and
Flatten and Dropout. The contract they follow is in :mod:`glassnet.nn.layer`."""

from __future__ import annotations

import numpy as np

from glassnet._validation import check_int, check_real
from glassnet.errors import InputTypeError, InputValueError
from glassnet.nn import initializers
from glassnet.nn.activations import get_activation
from glassnet.nn.layer import Layer
from glassnet.nn.regularizers import get_regularizer

__all__ = ["Affine", "Dense", "Dropout", "Flatten", "Layer"]


class Affine(Layer):
    """A layer with weights, an optional bias and its own activation:
    ``z = linear(x; W, b)``, ``a = activation(z)`` — what Dense and Conv2D share.

    Subclasses implement ``forward`` (caching ``x``, ``z``, ``a``) and ``backward_linear``
    (from ``delta = dL/dz``); ``backward`` chains the activation's derivative in front of it,
    and the model calls ``backward_linear`` directly when the loss is fused with the
    activation (softmax + cross-entropy: ``delta = (p - y) / n``).
    """

    def _init_affine(
        self, activation, use_bias, weight_init, bias_init, kernel_regularizer, bias_regularizer
    ) -> None:
        self.activation = get_activation(activation)
        if not isinstance(use_bias, bool):
            raise InputTypeError(f"use_bias must be True or False, got {use_bias!r}")
        self.use_bias = use_bias
        self.weight_init = initializers.resolve_name(weight_init, self.activation)
        self.bias_init = initializers.resolve_name(bias_init, self.activation)
        self.kernel_regularizer = get_regularizer(kernel_regularizer, "kernel_regularizer")
        self.bias_regularizer = get_regularizer(bias_regularizer, "bias_regularizer")

    @property
    def regularizers(self) -> dict:
        """The penalised parameters, keyed like ``params``: ``{"W": L2(0.0001)}`` (see
        :mod:`glassnet.nn.regularizers`, whose ``add_penalties`` reads this)."""
        chosen = {"W": self.kernel_regularizer}
        if self.use_bias:
            chosen["b"] = self.bias_regularizer
        return {key: r for key, r in chosen.items() if r is not None}

    def _init_params(self, w_shape, n_out, *, fan_in, fan_out, rng) -> None:
        """Draw ``W`` (and ``b`` of ``n_out`` zeros-by-default) and their gradient buffers."""
        self.params["W"] = initializers.initialize(
            self.weight_init, w_shape, fan_in=fan_in, fan_out=fan_out, rng=rng, dtype=self.dtype
        )
        if self.use_bias:
            self.params["b"] = initializers.initialize(
                self.bias_init, (n_out,), fan_in=fan_in, fan_out=fan_out, rng=rng, dtype=self.dtype
            )
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def backward(self, grad_out):
        """``grad_out = dL/da``; returns ``dL/dx`` (None if the input needs no gradient)."""
        return self.backward_linear(self.activation.backward(grad_out))

    def backward_linear(self, delta):
        raise NotImplementedError

    def _affine_config(self) -> dict:
        config = {
            "activation": self.activation.spec(),
            "use_bias": self.use_bias,
            "weight_init": self.weight_init,
            "bias_init": self.bias_init,
        }
        for name in ("kernel_regularizer", "bias_regularizer"):  # recorded only when set
            if getattr(self, name) is not None:
                config[name] = getattr(self, name).spec()
        return config


class Dense(Affine):
    """A fully connected layer: ``z = x @ W + b``, ``a = activation(z)``.

    Parameters
    ----------
    units : int
        Number of output neurons.
    activation : str, Activation or None
        Applied to ``z``; None means identity. See :mod:`glassnet.nn.activations`.
    use_bias : bool
        Whether the layer has the bias vector ``b`` (seeds 000 and 001 have none).
    weight_init, bias_init : str or callable
        Initializer names (see :mod:`glassnet.nn.initializers`). ``"auto"`` picks He for the
        ReLU family and Glorot otherwise. Biases start at zero: the random weights already
        break the symmetry between neurons, so random biases add nothing.
    kernel_regularizer, bias_regularizer : None, "l1", "l2" or a regularizer
        A penalty on ``W`` (``b``) added to the training loss, e.g. ``gn.L2(1e-4)``; see
        :mod:`glassnet.nn.regularizers` (and, there, how it differs from weight decay).
    input_shape : int or tuple, optional
        Build eagerly for this many input features instead of waiting for the first batch.

    Shapes
    ------
    x : (n_samples, n_in) -> a : (n_samples, units);  W : (n_in, units), b : (units,)

    Backward, with ``delta = dL/dz`` (shape ``(n, units)``)::

        dL/dW = x.T @ delta       dL/db = sum_n delta       dL/dx = delta @ W.T
    """

    def __init__(
        self,
        units: int,
        activation=None,
        *,
        use_bias: bool = True,
        weight_init="auto",
        bias_init="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        input_shape=None,
    ) -> None:
        super().__init__()
        self.units = check_int("units", units, minimum=1)
        self._init_affine(
            activation, use_bias, weight_init, bias_init, kernel_regularizer, bias_regularizer
        )
        self._eager_input_shape = None
        if input_shape is not None:
            shape = (input_shape,) if isinstance(input_shape, int | np.integer) else input_shape
            self._eager_input_shape = tuple(check_int("input_shape", s, minimum=1) for s in shape)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise InputValueError(
                f"Dense expects inputs of shape (n_samples, n_features), got feature shape "
                f"{input_shape}; put a Flatten() layer before it"
            )
        return (self.units,)

    def build(self, input_shape, rng, dtype):
        out = super().build(input_shape, rng, dtype)
        n_in = self.input_shape[0]
        self._init_params((n_in, self.units), self.units, fan_in=n_in, fan_out=self.units, rng=rng)
        self.activation.build(out, rng, dtype)
        return out

    # forward and backward, side by side ---------------------------------------------------------
    def forward(self, x, training=False):
        """``z = x @ W + b``, ``a = g(z)``; caches ``x``, ``z`` and ``a`` for backward."""
        self.x = x  # for dL/dW = x.T @ delta
        z = x @ self.params["W"]
        if self.use_bias:
            z += self.params["b"]  # added into the fresh product: no second (n, units) array
        self.z = z
        self.a = self.activation.forward(z, training)
        return self.a

    def backward_linear(self, delta):
        """Backward from ``delta = dL/dz`` (used directly when the loss is fused with the
        activation, e.g. softmax + cross-entropy, where ``delta = (p - y) / n``)."""
        self.delta = delta
        np.matmul(self.x.T, delta, out=self.grads["W"])  # written into the reused buffer
        if self.use_bias:
            np.add.reduce(delta, axis=0, out=self.grads["b"])
        if not self.needs_input_grad:
            return None  # first layer: skip one matrix product
        return delta @ self.params["W"].T

    def describe(self):
        act = "" if self.activation.name == "identity" else f", {self.activation.name}"
        return f"Dense({self.units}{act}{'' if self.use_bias else ', no bias'})"

    def get_config(self):
        return {"units": self.units, **self._affine_config()}


class Flatten(Layer):
    """Reshape ``(n, c, h, w)`` (or any ``(n, ...)``) to ``(n, c*h*w)``; no copy."""

    def compute_output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)

    def forward(self, x, training=False):
        self.x_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out):
        return grad_out.reshape(self.x_shape)


class Dropout(Layer):
    """Inverted dropout: while training, zero each input with probability ``rate`` and scale
    the survivors by ``1 / (1 - rate)``, so that at prediction time the layer is the identity
    and the expected activation is unchanged.

    The mask comes from the model's random generator (set by ``build``), never from global
    NumPy state, so a fixed ``rng`` gives the same masks.
    """

    def __init__(self, rate: float) -> None:
        super().__init__()
        self.rate = check_real("rate", rate, minimum=0.0, maximum=1.0, include_max=False)

    def build(self, input_shape, rng, dtype):
        self.rng = rng
        return super().build(input_shape, rng, dtype)

    def forward(self, x, training=False):
        if not training or self.rate == 0.0:
            self.mask = None
            return x
        keep = 1.0 - self.rate
        self.mask = (self.rng.random(x.shape, dtype=np.float32) < keep).astype(x.dtype)
        self.mask /= x.dtype.type(keep)
        return x * self.mask

    def backward(self, grad_out):
        return grad_out if self.mask is None else grad_out * self.mask

    def describe(self):
        return f"Dropout({self.rate:g})"

    def get_config(self):
        return {"rate": self.rate}
