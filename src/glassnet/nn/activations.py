"""Activation functions: layers without parameters.

Each activation says which value its derivative is computed from — ``uses = "output"``
(sigmoid: ``s'(z) = a (1 - a)``) or ``uses = "input"`` (ReLU: ``1[z > 0]``) — and caches
that one. (Tutorial code often mixes the two; here every activation states its choice.)
All of them keep a reference to their input ``z`` (no copy), which is what a fused loss
reads as the logits.
"""

from __future__ import annotations

import math

import numpy as np

from glassnet import fast
from glassnet._validation import check_bool, check_real, unknown_name_error
from glassnet.errors import InputTypeError, InputValueError
from glassnet.nn.erf import normal_cdf, normal_pdf
from glassnet.nn.layer import Layer


class Activation(Layer):
    """Base class. Subclasses implement ``function(z)`` and ``derivative()``."""

    name = "activation"
    uses = "input"

    def forward(self, z, training=False):
        self.z = z
        self.a = self.function(z)
        return self.a

    def backward(self, grad_out):
        """``dL/dz = dL/da * a'(z)`` (element-wise)."""
        return grad_out * self.derivative()

    def function(self, z):
        raise NotImplementedError

    def derivative(self):
        """``da/dz`` at the cached point, element-wise."""
        raise NotImplementedError

    def spec(self):
        """How a parent layer records this activation: a built-in's name (a dict with its
        arguments if it has any); any other class as ``{"class": ..., "config": ...}``, so a
        subclass that keeps a built-in's ``name`` never comes back as that built-in."""
        config = self.get_config()
        if ACTIVATIONS.get(self.name) is not type(self):
            return {"class": type(self).__name__, "config": config}
        return {"name": self.name, **config} if config else self.name

    def __call__(self, z):
        return self.function(np.asarray(z, dtype=float))


class Identity(Activation):
    """``a = z``; ``da/dz = 1``."""

    name = "identity"

    def forward(self, z, training=False):
        self.z = self.a = z
        return z

    def backward(self, grad_out):
        return grad_out

    def function(self, z):
        return z

    def derivative(self):
        return np.ones_like(self.z)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """``1 / (1 + e^-z)``, element-wise, without overflow.

    ``e^-z`` overflows only for ``z`` below ``-log(max float)`` (about -709 in float64, -88 in
    float32), where the sigmoid is already smaller than the smallest normal number; clamping
    ``z`` there keeps the textbook formula — bit for bit the tutorials' numbers everywhere
    else — and makes overflow impossible. Computed in one buffer: no temporaries.
    """
    limit = _EXP_LIMIT[z.dtype.char] if z.dtype.char in _EXP_LIMIT else 700.0
    t = np.maximum(z, -limit)
    np.negative(t, out=t)
    np.exp(t, out=t)
    t += 1
    np.reciprocal(t, out=t)
    return t


_EXP_LIMIT = {
    np.dtype(t).char: float(np.log(np.finfo(t).max)) - 1.0
    for t in (np.float16, np.float32, np.float64)
}


class Sigmoid(Activation):
    """``a = 1 / (1 + e^-z)``; ``da/dz = a (1 - a)`` (from the output).

    Stable by construction: see :func:`sigmoid`.
    """

    name = "sigmoid"
    uses = "output"

    def function(self, z):
        return sigmoid(z)

    def derivative(self):
        return self.a * (1 - self.a)

    def backward(self, grad_out):
        return grad_out * (self.a * (1 - self.a))


class Tanh(Activation):
    """``a = tanh(z)``; ``da/dz = 1 - a^2`` (from the output)."""

    name = "tanh"
    uses = "output"

    def function(self, z):
        return np.tanh(z)

    def derivative(self):
        return 1 - self.a * self.a


class ReLU(Activation):
    """``a = max(0, z)``; ``da/dz = 1 if z > 0 else 0`` (from the input)."""

    name = "relu"
    uses = "input"

    def function(self, z):
        return np.maximum(z, 0)

    def derivative(self):
        return (self.z > 0).astype(self.z.dtype)

    def backward(self, grad_out):
        kernels = fast.compiled_module("activations")  # the same numbers in one pass, or None
        delta = kernels.relu_delta(self, grad_out) if kernels else None
        if delta is not None:
            return delta
        # Multiplying by the boolean mask keeps grad_out's dtype and memory layout and is
        # about 3x faster than np.where, which branches per element.
        return grad_out * (self.z > 0)


class LeakyReLU(Activation):
    """``a = z if z > 0 else alpha z``; ``da/dz = 1 or alpha`` (from the input)."""

    name = "leaky_relu"
    uses = "input"

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        self.alpha = check_real("alpha", alpha, minimum=0.0)

    def function(self, z):
        return np.where(z > 0, z, z * self.alpha).astype(z.dtype, copy=False)

    def derivative(self):
        return np.where(self.z > 0, 1, self.alpha).astype(self.z.dtype)

    def get_config(self):
        return {"alpha": self.alpha}


class ELU(Activation):
    """Exponential linear unit: ``a = z`` for ``z > 0``, ``alpha (e^z - 1)`` otherwise;
    ``da/dz = 1`` for ``z > 0``, ``alpha e^z`` otherwise (from the input).

    Keras ``ELU(alpha)`` and PyTorch ``nn.ELU(alpha)`` (Clevert et al., 2016). Smooth for
    ``alpha = 1``, and its negative side saturates at ``-alpha`` instead of ReLU's dead 0.
    ``e^z - 1`` is computed as ``expm1(min(z, 0))``: exact near 0, and no ``e^z`` of a large
    positive ``z`` is ever taken. At exactly ``z = 0`` the derivative is the left-hand
    ``alpha`` (as PyTorch; with the default ``alpha = 1`` both sides agree).
    """

    name = "elu"
    uses = "input"

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = check_real("alpha", alpha, minimum=0.0)

    def function(self, z):
        negative = np.expm1(np.minimum(z, 0))
        negative *= self.alpha
        return np.where(z > 0, z, negative)

    def derivative(self):
        slope = np.exp(np.minimum(self.z, 0))
        slope *= self.alpha
        return np.where(self.z > 0, 1, slope).astype(self.z.dtype, copy=False)

    def get_config(self):
        return {"alpha": self.alpha}


class GELU(Activation):
    """Gaussian error linear unit (Hendrycks & Gimpel, 2016): ``a = z Phi(z)``, with ``Phi``
    the standard normal CDF; ``da/dz = Phi(z) + z phi(z)``, ``phi`` its density (from the
    input).

    ``Phi(z) = (1 + erf(z / sqrt 2)) / 2`` is computed without SciPy by
    :func:`glassnet.nn.erf.normal_cdf`, accurate to about 1e-14 in float64 (why, and how:
    :mod:`glassnet.nn.erf`), so the exact form matches PyTorch's default
    ``nn.GELU(approximate="none")`` and Keras' ``gelu(approximate=False)``.

    ``approximate=True`` (Keras' name; PyTorch's ``approximate="tanh"``) is the tanh form
    ``a = z/2 (1 + tanh(u))``, ``u = sqrt(2/pi) (z + 0.044715 z^3)``. Since
    ``(1 + tanh u)/2 = sigmoid(2u)``, it is computed as ``a = z sigmoid(2u)``, with
    ``da/dz = s + 2 z s (1 - s) du/dz``, ``s = sigmoid(2u)``,
    ``du/dz = sqrt(2/pi) (1 + 3 * 0.044715 z^2)``: the same numbers, but ``1 - tanh^2 u``
    never cancels to a rounding error (float32 ``tanh(-9.9)`` is ``-1 + 6e-8``, not
    ``-1 + 4.5e-9``). In ``u`` the input is held within +-1e6, where ``sigmoid(2u)`` is
    already 0 or 1, so ``z^3`` cannot overflow.
    """

    name = "gelu"
    uses = "input"

    def __init__(self, approximate: bool = False) -> None:
        super().__init__()
        self.approximate = check_bool("approximate", approximate)

    @staticmethod
    def _tanh_form(z):
        """``(sigmoid(2u), 2 du/dz)`` of the tanh form."""
        zc = np.clip(z, -1e6, 1e6)
        c = math.sqrt(2.0 / math.pi)
        u2 = (2 * c) * (zc + 0.044715 * zc * zc * zc)
        return sigmoid(u2), (2 * c) * (1 + 3 * 0.044715 * zc * zc)

    def function(self, z):
        if self.approximate:
            return z * self._tanh_form(z)[0]
        return z * normal_cdf(z)

    def derivative(self):
        z = self.z
        if self.approximate:
            s, du2 = self._tanh_form(z)
            return s + z * s * (1 - s) * du2
        return normal_cdf(z) + z * normal_pdf(z)

    def get_config(self):
        return {"approximate": True} if self.approximate else {}


class SiLU(Activation):
    """Sigmoid linear unit, also called swish: ``a = z sigmoid(z)``;
    ``da/dz = s (1 + z (1 - s))`` with ``s = sigmoid(z)`` (from the input).

    Keras ``silu`` (which Keras also calls ``swish``; glassnet knows it as ``"silu"`` only),
    PyTorch ``nn.SiLU`` (Elfwing et al., 2018; Ramachandran et al., 2017). Stable:
    :func:`sigmoid` never overflows, so neither does ``z s``.
    """

    name = "silu"
    uses = "input"

    def function(self, z):
        s = sigmoid(z)
        s *= z
        return s

    def derivative(self):
        s = sigmoid(self.z)
        return s * (1 + self.z * (1 - s))


class Softplus(Activation):
    """``a = log(1 + e^z)``, a smooth ReLU; ``da/dz = sigmoid(z)`` (from the input).

    Computed as ``log1p(e^{-|z|}) + max(z, 0)`` — the same number, written so that no
    exponent is positive (no overflow for large ``z``, no ``log(1)`` rounding away a small
    ``e^z``). Keras ``softplus``; PyTorch ``nn.Softplus()`` with its default ``beta = 1``
    (PyTorch returns ``z`` itself above ``threshold = 20``, which differs from the exact value
    by less than ``e^{-20} = 2e-9``).
    """

    name = "softplus"
    uses = "input"

    def function(self, z):
        a = np.exp(-np.abs(z))
        np.log1p(a, out=a)
        a += np.maximum(z, 0)
        return a

    def derivative(self):
        return sigmoid(self.z)


class Softmax(Activation):
    """``a_k = e^{z_k} / sum_j e^{z_j}`` over the last axis (from the output).

    Stable: the row maximum is subtracted first, so no exponent exceeds 0.
    The Jacobian is ``da_k/dz_j = a_k (1[k=j] - a_j)``, so
    ``dL/dz = a * (g - sum_k g_k a_k)`` with ``g = dL/da``.
    """

    name = "softmax"
    uses = "output"

    def function(self, z):
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        e /= e.sum(axis=-1, keepdims=True)
        return e

    def build(self, input_shape, rng, dtype):
        if tuple(input_shape) == (1,):
            raise InputValueError(
                "a softmax over one unit is always 1, whatever the input: use "
                "activation='sigmoid' for one output unit, or softmax over two or more"
            )
        return super().build(input_shape, rng, dtype)

    def derivative(self):
        raise NotImplementedError("softmax has a full Jacobian; use backward()")

    def backward(self, grad_out):
        a = self.a
        return a * (grad_out - (grad_out * a).sum(axis=-1, keepdims=True))


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls
    for cls in (Identity, Sigmoid, Tanh, ReLU, LeakyReLU, ELU, GELU, SiLU, Softplus, Softmax)
}
ALIASES = {"linear": "identity", "none": "identity", "leakyrelu": "leaky_relu"}


def get_activation(activation, **kwargs) -> Activation:
    """An Activation from a name (``"relu"``), a class, an instance, or None (identity).

    An instance is copied, so one object never ends up shared by two layers.
    """
    if activation is None:
        return Identity()
    if isinstance(activation, Activation):
        return type(activation)(**activation.get_config())
    if isinstance(activation, type) and issubclass(activation, Activation):
        return activation(**kwargs)
    if isinstance(activation, dict):  # the model file's form: {"name": ..., **arguments}
        spec = dict(activation)
        return get_activation(spec.pop("name", None) or "identity", **spec)
    if isinstance(activation, str):
        key = activation.lower().replace("-", "_")
        key = ALIASES.get(key, key)
        if key not in ACTIVATIONS:
            raise unknown_name_error("activation", activation, ACTIVATIONS)
        return ACTIVATIONS[key](**kwargs)
    raise InputTypeError(
        f"activation must be a name, an Activation or None, got {type(activation).__name__}"
    )
