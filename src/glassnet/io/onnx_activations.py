"""The activations as ONNX nodes: one operator where ONNX has it, a few where it does not.

Used by :mod:`glassnet.io.onnx` (whose table lists every layer's operators); ``graph`` is its
graph under construction (``node``, ``constant`` and the ``opset`` it is written for).
"""

from __future__ import annotations

import numpy as np

from glassnet.errors import OnnxExportError

#: the first opset with a Gelu operator; older ones get GELU written out with Erf or Tanh
GELU_OPSET = 20


def _silu(graph, activation, prefix: str, z: str) -> str:
    """``z * Sigmoid(z)`` (ONNX has no SiLU operator before opset 24's Swish)."""
    return graph.node("Mul", [z, graph.node("Sigmoid", [z], f"{prefix}.s")], f"{prefix}.a")


def _gelu(graph, activation, prefix: str, z: str) -> str:
    """``Gelu`` from opset 20; before it ``0.5 z (1 + Erf(z / sqrt 2))``, or for the tanh
    form ``0.5 z (1 + Tanh(sqrt(2/pi) (z + 0.044715 z^3)))``."""
    if graph.opset >= GELU_OPSET:
        form = "tanh" if activation.approximate else "none"
        return graph.node("Gelu", [z], f"{prefix}.a", approximate=form)

    def op(kind, inputs, name):
        return graph.node(kind, inputs, f"{prefix}.{name}")

    def const(name, value):
        return graph.constant(f"{prefix}.{name}", value)

    if activation.approximate:
        z3 = op("Mul", [z, op("Mul", [z, z], "z2")], "z3")
        inner = op("Add", [z, op("Mul", [z3, const("c", 0.044715)], "c_z3")], "inner")
        u = op("Mul", [inner, const("sqrt_2_over_pi", np.sqrt(2 / np.pi))], "u")
        curve = op("Tanh", [u], "tanh_u")
    else:
        curve = op("Erf", [op("Div", [z, const("sqrt_2", np.sqrt(2.0))], "u")], "erf_u")
    one_plus = op("Add", [curve, const("one", 1.0)], "one_plus")
    return op("Mul", [op("Mul", [z, const("half", 0.5)], "half_z"), one_plus], "a")


#: activation name -> (ONNX operator, its attributes from the activation), None (identity),
#: or a function ``(graph, activation, prefix, z) -> tensor`` writing several nodes
ACTIVATION_OPS = {
    "identity": None,
    "sigmoid": ("Sigmoid", lambda act: {}),
    "tanh": ("Tanh", lambda act: {}),
    "relu": ("Relu", lambda act: {}),
    "leaky_relu": ("LeakyRelu", lambda act: {"alpha": float(act.alpha)}),
    "elu": ("Elu", lambda act: {"alpha": float(act.alpha)}),
    "gelu": _gelu,
    "silu": _silu,
    "softplus": ("Softplus", lambda act: {}),
    "softmax": ("Softmax", lambda act: {"axis": -1}),
}


def convert_activation(graph, activation, prefix: str, z: str, layer) -> str:
    """The nodes computing ``activation`` (of ``layer``) on tensor ``z``; its output tensor.
    Only glassnet's own activation classes export: a subclass may compute something else."""
    from glassnet.nn.activations import ACTIVATIONS

    known = ACTIVATIONS.get(activation.name)
    if known is None or type(activation) is not known or activation.name not in ACTIVATION_OPS:
        raise OnnxExportError(
            "{reason}",
            reason=f"cannot export the activation {type(activation).__name__} of "
            f"{layer.describe()} to ONNX: the export knows {', '.join(ACTIVATION_OPS)}",
        )
    spec = ACTIVATION_OPS[activation.name]
    if spec is None:
        return z
    if callable(spec):
        return spec(graph, activation, prefix, z)
    op, attributes = spec
    return graph.node(op, [z], f"{prefix}.a", **attributes(activation))
