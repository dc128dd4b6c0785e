"""The layer contract, and the layers that hold weights: Dense, Dropout, Flatten.

Every layer follows one contract, so that optimizers, gradient checks, the model file and
the explanation ledger are written once, over ``params`` and ``grads``::

    params : dict[str, ndarray]   e.g. {"W": (n_in, n_out), "b": (n_out,)}
    grads  : dict[str, ndarray]   same keys and shapes, filled by ``backward``
    build(input_shape, rng, dtype) -> output_shape
    forward(x, training=False) -> y          caches what backward needs
    backward(grad_out) -> dL/dx              fills ``grads``

Shapes are batch-first: ``x`` is ``(n_samples, n_features)`` (images are
``(n_samples, channels, height, width)``); ``input_shape`` never includes the batch axis.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._validation import check_int, check_real
from glassnet.nn import initializers


class Layer:
    """Base class: a differentiable function of its input and of its ``params``.

    Attributes
    ----------
    params, grads : dict[str, ndarray]
        Parallel dictionaries. A layer without parameters leaves both empty.
    input_shape, output_shape : tuple of int or None
        Set by :meth:`build` (without the batch axis).
    needs_input_grad : bool
        When False (the model's first layer) ``backward`` may skip computing ``dL/dx``, which
        for the first Dense layer of an MLP saves one of its three matrix products.
    """

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.input_shape: tuple[int, ...] | None = None
        self.output_shape: tuple[int, ...] | None = None
        self.dtype = np.dtype(np.float32)
        self.built = False
        self.needs_input_grad = True

    #: What the last forward/backward pass left behind (the caches backward reads, scratch
    #: buffers). Pickling or copying a layer leaves these out: after a prediction they hold
    #: that batch's activations — megabytes in a pickled scikit-learn estimator — and the
    #: next forward pass makes them again.
    transient = ("x", "z", "a", "delta", "mask", "x_shape", "x_col")

    def __getstate__(self):
        state = {k: v for k, v in self.__dict__.items() if k not in self.transient}
        if "_scratch" in state:
            state["_scratch"] = {}
        return state

    # -- the contract -------------------------------------------------------------------------
    def build(self, input_shape: tuple[int, ...], rng: np.random.Generator, dtype) -> tuple:
        """Create the parameters for inputs of ``input_shape``; return the output shape."""
        self.input_shape = tuple(int(s) for s in input_shape)
        self.output_shape = self.compute_output_shape(self.input_shape)
        self.dtype = np.dtype(dtype)
        self.built = True
        return self.output_shape

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return input_shape

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        raise NotImplementedError

    # -- helpers shared by all layers ------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, as JSON-safe values (used by the model file)."""
        return {}

    @property
    def n_params(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    def astype(self, dtype) -> None:
        """Convert parameters (and gradient buffers) to ``dtype`` in place of the old arrays."""
        self.dtype = np.dtype(dtype)
        for key in list(self.params):
            self.params[key] = self.params[key].astype(self.dtype)
            self.grads[key] = np.zeros_like(self.params[key])

    def describe(self) -> str:
        """A short name for tables, e.g. ``Dense(64, relu)``."""
        return type(self).__name__

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Affine(Layer):
    """A layer with weights, an optional bias and its own activation:
    ``z = linear(x; W, b)``, ``a = activation(z)`` — what Dense and Conv2D share.

    Subclasses implement ``forward`` (caching ``x``, ``z``, ``a``) and ``backward_linear``
    (from ``delta = dL/dz``); ``backward`` chains the activation's derivative in front of it,
    and the model calls ``backward_linear`` directly when the loss is fused with the
    activation (softmax + cross-entropy: ``delta = (p - y) / n``).
    """

    def _init_affine(self, activation, use_bias, weight_init, bias_init) -> None:
        from glassnet.nn.activations import get_activation

        self.activation = get_activation(activation)
        if not isinstance(use_bias, bool):
            raise TypeError(f"use_bias must be True or False, got {use_bias!r}")
        self.use_bias = use_bias
        self.weight_init = initializers.resolve_name(weight_init, self.activation)
        self.bias_init = initializers.resolve_name(bias_init, self.activation)

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
        return {
            "activation": self.activation.spec(),
            "use_bias": self.use_bias,
            "weight_init": self.weight_init,
            "bias_init": self.bias_init,
        }


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
        input_shape=None,
    ) -> None:
        super().__init__()
        self.units = check_int("units", units, minimum=1)
        self._init_affine(activation, use_bias, weight_init, bias_init)
        self._eager_input_shape = None
        if input_shape is not None:
            shape = (input_shape,) if isinstance(input_shape, int | np.integer) else input_shape
            self._eager_input_shape = tuple(check_int("input_shape", s, minimum=1) for s in shape)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ValueError(
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
