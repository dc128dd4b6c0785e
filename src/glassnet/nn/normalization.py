"""Normalisation layers: BatchNormalization and LayerNormalization.

Both compute the same three lines and differ only in *which* numbers share a mean::

    mu, var = mean and (biased) variance of x over the statistics' axes
    x_hat   = (x - mu) / sqrt(var + epsilon)            zero mean, unit variance
    a       = gamma * x_hat + beta                      a learned scale and shift

- BatchNormalization (Ioffe & Szegedy, 2015): one mean per *feature* (per channel of an
  image), over the samples of the batch (and an image's height and width). In training
  the batch's own statistics are used and a running average of them is kept (the layer's
  ``buffers``); at prediction time those running statistics are used instead, so a
  prediction does not depend on which other samples share its batch.
- LayerNormalization (Ba, Kiros & Hinton, 2016): one mean per *sample*, over its features.
  The same in training and at prediction time; no running state.

The backward pass is the same formula for both (only the axes differ). With ``N`` numbers
per statistic and every sum over the statistics' axes::

    dL/dbeta  = sum(dL/da)                dL/dgamma = sum(dL/da * x_hat)   (over the others)
    dx_hat    = dL/da * gamma
    dL/dx     = (1/N) * inv_std * (N * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat))

where ``inv_std = 1 / sqrt(var + epsilon)``. The two sums are the paths through ``mu`` and
through ``var``: moving one input moves the batch's mean and variance, and so every other
output of its group. (Written with ``dy = dL/da`` instead, the same line reads
``dL/dx = (gamma * inv_std / N) * (N*dy - sum(dy) - x_hat * sum(dy * x_hat))``.) When the
statistics are constants — BatchNormalization at prediction time — only the direct path
remains: ``dL/dx = dx_hat * inv_std``.
"""

from __future__ import annotations

import numpy as np

from glassnet._validation import check_bool, check_int, check_positive, check_real
from glassnet.errors import InputTypeError, InputValueError
from glassnet.nn.layer import Layer

__all__ = ["BatchNormalization", "LayerNormalization"]

#: the ledger's line for x_hat ({x}: the layer's input, {i}: its index; Layer.explained_forward)
_X_HAT = ("x̂", "({x} − μ[{i}]) / √(σ²[{i}] + ε)")


class _Normalization(Layer):
    """What both normalisations share: ``gamma``/``beta``, the normalising step and its
    backward. Subclasses set, in ``build``, :attr:`stat_axes` (the axes of ``x``, batch axis
    0 included, that share one mean) and :attr:`param_axes` (the axes ``gamma`` runs along),
    and compute ``mu`` and ``var`` in ``forward``."""

    #: the caches of the last pass (left out of copies and pickles, see Layer.transient)
    transient = (*Layer.transient, "mu", "var", "inv_std", "x_hat", "dx_hat")

    def _init_norm(self, epsilon, center, scale) -> None:
        self.epsilon = check_positive("epsilon", epsilon)
        self.center = check_bool("center", center)
        self.scale = check_bool("scale", scale)
        self.through_stats = True  # does dL/dx flow through mu and var (see the module)?

    def compute_output_shape(self, input_shape):
        self.param_axes_for(input_shape)  # an axis the input does not have is an error
        return input_shape

    def param_shapes(self, input_shape) -> dict[str, tuple[int, ...]]:
        """The shape ``build`` gives each parameter and buffer, for inputs of ``input_shape``
        (the model file checks its tensors against them before building)."""
        shape = tuple(input_shape[a - 1] for a in self.param_axes_for(input_shape))
        keys = ["gamma"] * self.scale + ["beta"] * self.center
        keys += ["moving_mean", "moving_variance"] * isinstance(self, BatchNormalization)
        return dict.fromkeys(keys, shape)

    def _build_norm(self, input_shape, param_axes, rng, dtype) -> tuple:
        """Set the axes, create ``gamma`` (ones) and ``beta`` (zeros) of the shape of
        ``param_axes`` (axes of ``x``, batch axis 0 included) and their gradients."""
        out = super().build(input_shape, rng, dtype)
        ndim = len(self.input_shape) + 1
        self.param_axes = tuple(param_axes)
        self.sum_axes = tuple(k for k in range(ndim) if k not in self.param_axes)
        shape = tuple(self.input_shape[k - 1] for k in self.param_axes)
        self.broadcast = tuple(
            self.input_shape[k - 1] if k in self.param_axes else 1 for k in range(ndim)
        )
        if self.scale:
            self.params["gamma"] = np.ones(shape, dtype=self.dtype)
        if self.center:
            self.params["beta"] = np.zeros(shape, dtype=self.dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        return out

    # forward and backward, side by side -------------------------------------------------------
    def _normalize(self, x, mu, var):
        """``x_hat = (x - mu) * inv_std``, ``a = gamma * x_hat + beta``; caches the symbols."""
        self.x, self.mu, self.var = x, mu, var
        self.inv_std = 1.0 / np.sqrt(var + self.epsilon)
        self.x_hat = (x - mu) * self.inv_std
        a = self.x_hat * self.params["gamma"].reshape(self.broadcast) if self.scale else None
        a = self.x_hat.copy() if a is None else a
        if self.center:
            a += self.params["beta"].reshape(self.broadcast)
        self.a = a
        return a

    def backward(self, grad_out):
        """``dL/dgamma``, ``dL/dbeta`` into ``grads``; returns ``dL/dx`` (module docstring)."""
        dy = grad_out
        if self.center:
            self.grads["beta"][...] = dy.sum(axis=self.sum_axes)
        if self.scale:
            self.grads["gamma"][...] = (dy * self.x_hat).sum(axis=self.sum_axes)
        dx_hat = dy * self.params["gamma"].reshape(self.broadcast) if self.scale else dy
        self.dx_hat = dx_hat
        if not self.needs_input_grad:
            return None
        if not self.through_stats:  # constant statistics: the direct path only
            return dx_hat * self.inv_std
        axes = self.stat_axes
        N = self.x_hat.size // self.mu.size  # numbers per statistic
        sum_dx_hat = dx_hat.sum(axis=axes, keepdims=True)
        sum_dx_hat_x_hat = (dx_hat * self.x_hat).sum(axis=axes, keepdims=True)
        return (self.inv_std / N) * (N * dx_hat - sum_dx_hat - self.x_hat * sum_dx_hat_x_hat)

    # -- what the ledger shows ----------------------------------------------------------------
    def _output_formula(self) -> str:
        return ("γ[{i}] · x̂[{i}]" if self.scale else "x̂[{i}]") + (
            " + β[{i}]" if self.center else ""
        )

    def explained_backward(self):
        return [("∂L/∂x̂", "∂L/∂a[{i}] · γ[{i}]" if self.scale else "∂L/∂a[{i}]", self.dx_hat)]

    def _norm_config(self) -> dict:
        return {"epsilon": self.epsilon, "center": self.center, "scale": self.scale}


def sample_axis(name, axis, ndim, input_shape) -> int:
    """``axis`` (negative counts from the end) as an axis of ``x``: 1 to ``ndim - 1``."""
    a = axis + ndim if axis < 0 else axis
    if not 1 <= a < ndim:
        raise InputValueError(
            f"{name} must be an axis of the samples, 1 to {ndim - 1} (or -{ndim - 1} to -1), "
            f"for inputs of shape {(None, *input_shape)}, got {axis}"
        )
    return a


class BatchNormalization(_Normalization):
    r"""Batch normalisation: each feature scaled to zero mean and unit variance over the batch,
    then scaled and shifted by the learned ``gamma`` and ``beta`` (Ioffe & Szegedy, 2015).

    For feature (or channel) ``c``, with the mean over the batch (and, for images, over the
    height and width)::

        training:    mu_c = mean(x[:, c]),  var_c = mean((x[:, c] - mu_c)**2)
                     moving_mean_c     <- momentum * moving_mean_c     + (1 - momentum) * mu_c
                     moving_variance_c <- momentum * moving_variance_c + (1 - momentum) * var_c
        prediction:  mu_c = moving_mean_c,  var_c = moving_variance_c
        both:        x_hat = (x - mu_c) / sqrt(var_c + epsilon),  a = gamma_c * x_hat + beta_c

    Why: each layer's inputs keep a steady scale while the layers below learn, so larger
    learning rates train stably, and a network is far less sensitive to how its inputs and
    weights were scaled. The batch statistics depend on the other samples of the batch,
    which is why prediction uses the running averages instead (``fit`` trains with
    ``training=True``; ``predict``, ``evaluate`` and validation use ``training=False``).

    Parameters
    ----------
    axis : int or None
        The axis of the features, each with its own statistics, ``gamma`` and ``beta``.
        None (the default): axis 1 — the features of ``(n, features)`` and the channels of
        glassnet's channels-first images ``(n, C, H, W)``, normalised over ``(n, H, W)``.
        (Keras's default ``axis=-1`` is the same for ``(n, features)``; it assumes
        channels-last images.)
    momentum : float in [0, 1), default 0.99
        Keras's convention: the weight of the *old* running value. PyTorch's ``momentum`` is
        the weight of the new one: PyTorch ``momentum=0.01`` is this ``momentum=0.99``.
    epsilon : float > 0, default 1e-3
        Added to the variance before the square root (Keras's default; PyTorch's is 1e-5).
    center, scale : bool
        Whether the layer has ``beta`` / ``gamma``. A Dense or Conv2D layer right before it
        needs no bias (``use_bias=False``): the mean subtraction cancels any bias, whose
        gradient is then exactly 0.

    Attributes
    ----------
    params : ``gamma`` (ones), ``beta`` (zeros), each of shape ``(features,)``
    buffers : ``moving_mean`` (zeros) and ``moving_variance`` (ones), shape ``(features,)``

    Notes
    -----
    The running variance averages the *biased* batch variance (divided by ``N``), as Keras
    does; PyTorch averages the unbiased one (divided by ``N - 1``). Both normalise the batch
    itself with the biased variance. Sources: the Keras ``BatchNormalization`` and PyTorch
    ``BatchNorm1d``/``BatchNorm2d`` documentation.
    """

    def __init__(self, axis=None, momentum=0.99, epsilon=1e-3, center=True, scale=True) -> None:
        super().__init__()
        self.axis = None if axis is None else check_int("axis", axis)
        self.momentum = check_real(
            "momentum", momentum, minimum=0.0, maximum=1.0, include_max=False
        )
        self._init_norm(epsilon, center, scale)

    def param_axes_for(self, input_shape) -> tuple[int, ...]:
        """The feature axis of ``x`` (batch axis 0 counted), checked against the input."""
        ndim = len(input_shape) + 1
        return (1 if self.axis is None else sample_axis("axis", self.axis, ndim, input_shape),)

    def build(self, input_shape, rng, dtype):
        axis = self.param_axes_for(input_shape)[0]
        out = self._build_norm(input_shape, (axis,), rng, dtype)
        self.stat_axes = self.sum_axes  # every axis but the features'
        features = self.input_shape[axis - 1]
        self.buffers = {
            "moving_mean": np.zeros(features, dtype=self.dtype),
            "moving_variance": np.ones(features, dtype=self.dtype),
        }
        return out

    def forward(self, x, training=False):
        """Normalise with the batch's statistics (and update the running ones) when
        ``training``, else with the running statistics; caches ``mu``, ``var``, ``x_hat``."""
        self.training = bool(training)
        self.through_stats = self.training
        if not self.training:
            mu = self.buffers["moving_mean"].reshape(self.broadcast)
            var = self.buffers["moving_variance"].reshape(self.broadcast)
            return self._normalize(x, mu, var)
        mu = x.mean(axis=self.stat_axes, keepdims=True)
        var = np.square(x - mu).mean(axis=self.stat_axes, keepdims=True)  # biased, as Keras
        m = self.momentum
        for key, batch_value in (("moving_mean", mu), ("moving_variance", var)):
            running = self.buffers[key]
            running *= m
            running += (1 - m) * batch_value.reshape(-1)
        return self._normalize(x, mu, var)

    def buffer_problem(self, key, value):
        if key == "moving_variance" and (value < 0).any():
            return "holds a negative variance"
        return None

    def explained_forward(self):
        over = "the batch" if len(self.stat_axes) == 1 else "the batch, height and width"
        stats = (
            [
                ("μ", f"mean of {{x}} over {over}"),
                ("σ²", f"mean of ({{x}} − μ[{{i}}])² over {over}"),
            ]
            if self.training
            else [("μ", "moving_mean[{i}]"), ("σ²", "moving_variance[{i}]")]
        )
        values = [self.mu.reshape(-1), self.var.reshape(-1)]
        shown = [(s, f, v) for (s, f), v in zip(stats, values, strict=True)]
        return [*shown, (*_X_HAT, self.x_hat), ("a", self._output_formula(), self.a)]

    def describe(self):
        return (
            "BatchNormalization" if self.axis is None else f"BatchNormalization(axis {self.axis})"
        )

    def get_config(self):
        return {"axis": self.axis, "momentum": self.momentum, **self._norm_config()}


class LayerNormalization(_Normalization):
    r"""Layer normalisation: each *sample* scaled to zero mean and unit variance over its
    features, then scaled and shifted by ``gamma`` and ``beta`` (Ba, Kiros & Hinton, 2016)::

        mu_n  = mean(x[n]),  var_n = mean((x[n] - mu_n)**2)       over the normalised axes
        x_hat = (x[n] - mu_n) / sqrt(var_n + epsilon),   a = gamma * x_hat + beta

    Why: like batch normalisation it keeps a layer's inputs at a steady scale, but from one
    sample alone — so it behaves the same in training and prediction, for any batch size
    (one sample included), and has no running state.

    Parameters
    ----------
    axis : int, tuple of int, or None
        The axes normalised together (and along which ``gamma``, ``beta`` have one entry
        each). None (the default): all of a sample's axes — the features of
        ``(n, features)`` (Keras's ``axis=-1``), or ``(C, H, W)`` of an image, as
        PyTorch's ``LayerNorm(normalized_shape=(C, H, W))``.
    epsilon : float > 0, default 1e-3
        Added to the variance before the square root (Keras's default; PyTorch's is 1e-5).
    center, scale : bool
        Whether the layer has ``beta`` / ``gamma``.

    Attributes
    ----------
    params : ``gamma`` (ones) and ``beta`` (zeros), of the shape of the normalised axes
    """

    def __init__(self, axis=None, epsilon=1e-3, center=True, scale=True) -> None:
        super().__init__()
        if axis is None or isinstance(axis, int | np.integer) and not isinstance(axis, bool):
            self.axis = None if axis is None else int(axis)
        elif isinstance(axis, list | tuple) and axis:
            self.axis = [check_int("axis", a) for a in axis]
        else:
            raise InputTypeError(f"axis must be an int, a list of ints or None, got {axis!r}")
        self._init_norm(epsilon, center, scale)

    def param_axes_for(self, input_shape) -> tuple[int, ...]:
        """The normalised axes of ``x`` (batch axis 0 counted), checked against the input."""
        ndim = len(input_shape) + 1
        given = range(1, ndim) if self.axis is None else np.atleast_1d(self.axis)
        return tuple(sorted({sample_axis("axis", int(a), ndim, input_shape) for a in given}))

    def build(self, input_shape, rng, dtype):
        out = self._build_norm(input_shape, self.param_axes_for(input_shape), rng, dtype)
        self.stat_axes = self.param_axes  # one mean per sample, over the normalised axes
        return out

    def forward(self, x, training=False):
        """Normalise each sample over :attr:`stat_axes`; caches ``mu``, ``var``, ``x_hat``."""
        mu = x.mean(axis=self.stat_axes, keepdims=True)
        var = np.square(x - mu).mean(axis=self.stat_axes, keepdims=True)
        return self._normalize(x, mu, var)

    def explained_forward(self):
        return [
            ("μ", "mean of each sample's {x}", self.mu.reshape(self.mu.shape[0], -1)),
            (
                "σ²",
                "mean of each sample's ({x} − μ[{i}])²",
                self.var.reshape(self.var.shape[0], -1),
            ),
            (*_X_HAT, self.x_hat),
            ("a", self._output_formula(), self.a),
        ]

    def describe(self):
        return (
            "LayerNormalization" if self.axis is None else f"LayerNormalization(axis {self.axis})"
        )

    def get_config(self):
        return {"axis": self.axis, **self._norm_config()}
