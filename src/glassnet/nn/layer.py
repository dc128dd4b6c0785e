"""The layer contract: what every layer — Dense, Conv2D, an activation, your own — provides.

Every layer follows one contract, so that optimizers, gradient checks, the model file and
the explanation ledger are written once, over ``params`` and ``grads``::

    params : dict[str, ndarray]   e.g. {"W": (n_in, n_out), "b": (n_out,)}
    grads  : dict[str, ndarray]   same keys and shapes, filled by ``backward``
    buffers: dict[str, ndarray]   state that is not trained, e.g. BatchNormalization's
                                  {"moving_mean": (C,), "moving_variance": (C,)}
    build(input_shape, rng, dtype) -> output_shape
    forward(x, training=False) -> y          caches what backward needs
    backward(grad_out) -> dL/dx              fills ``grads``

Shapes are batch-first: ``x`` is ``(n_samples, n_features)`` (images are
``(n_samples, channels, height, width)``); ``input_shape`` never includes the batch axis.

``buffers`` (the name PyTorch gives them; Keras calls them non-trainable weights) hold what a
layer learns without gradient descent — running statistics updated by ``forward`` in training
mode. They have no gradients and optimizers never see them; the model names them like
parameters (``model.buffers()``: ``layers.3.moving_mean``), the model file saves and checks
them like parameters, and ``astype`` converts them.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class Layer:
    """Base class: a differentiable function of its input and of its ``params``.

    Attributes
    ----------
    params, grads : dict[str, ndarray]
        Parallel dictionaries. A layer without parameters leaves both empty.
    buffers : dict[str, ndarray]
        Non-trainable state (no gradient, no optimizer), saved with the parameters.
    input_shape, output_shape : tuple of int or None
        Set by :meth:`build` (without the batch axis).
    needs_input_grad : bool
        When False (the model's first layer) ``backward`` may skip computing ``dL/dx``, which
        for the first Dense layer of an MLP saves one of its three matrix products.
    """

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
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
        """Convert parameters (and their gradient arrays) and buffers to ``dtype``, in place
        of the old arrays."""
        self.dtype = np.dtype(dtype)
        for key in list(self.params):
            self.params[key] = self.params[key].astype(self.dtype)
            self.grads[key] = np.zeros_like(self.params[key])
        for key in list(self.buffers):
            self.buffers[key] = self.buffers[key].astype(self.dtype)

    def buffer_problem(self, key: str, value: np.ndarray) -> str | None:
        """Why ``value`` cannot be this layer's buffer ``key`` (read from a model file), or
        None; e.g. a negative variance. Shape, dtype and finiteness are checked elsewhere."""
        return None

    def explained_forward(self) -> list[tuple[str, str, np.ndarray]]:
        """``(symbol, formula, value)`` of the intermediate values the last forward pass
        cached, for the ledger (:func:`glassnet.explain`); none by default (Dense and Conv2D
        show ``z`` and ``a``). In a formula ``{x}`` stands for the layer's input and ``{i}``
        for its index: ``("x̂", "({x} − μ[{i}]) / √(σ²[{i}] + ε)", x_hat)``."""
        return []

    def explained_backward(self) -> list[tuple[str, str, np.ndarray]]:
        """Like :meth:`explained_forward`, for the last backward pass (e.g. ``∂L/∂x̂``)."""
        return []

    @property
    def regularizers(self) -> dict:
        """The weight penalties on this layer's parameters, keyed like ``params`` (none by
        default; Dense and Conv2D take ``kernel_regularizer``/``bias_regularizer``)."""
        return {}

    def describe(self) -> str:
        """A short name for tables, e.g. ``Dense(64, relu)``."""
        return type(self).__name__

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
