"""BatchNormalization and LayerNormalization as ONNX operators (used by :mod:`glassnet.io.onnx`).

An exported graph predicts, so it computes each layer's prediction-time function:

==========================  ============================================================
glassnet                    ONNX
==========================  ============================================================
BatchNormalization, axis 1  ``BatchNormalization`` with the running statistics as its
(features; image channels)  ``input_mean``/``input_var`` (the inference form)
BatchNormalization, other   ``Mul``, ``Add``: the same affine map, ``x * s + t`` with
axis                        ``s = gamma / sqrt(moving_variance + epsilon)``,
                            ``t = beta - moving_mean * s`` (ONNX's operator normalises
                            axis 1 only)
LayerNormalization,         ``LayerNormalization(axis=k)`` (opset 17 and later) when the
trailing axes               normalised axes are the last ones, ``k`` to the end
LayerNormalization,         its definition, operator by operator: ``ReduceMean``, ``Sub``,
otherwise                   ``Mul``, ``ReduceMean``, ``Add`` epsilon, ``Sqrt``, ``Div``,
                            then ``Mul`` gamma and ``Add`` beta
==========================  ============================================================

A missing ``gamma`` (``scale=False``) is ones, a missing ``beta`` (``center=False``) zeros.
"""

from __future__ import annotations

import numpy as np

#: the first opset with a LayerNormalization operator
LAYER_NORM_OPSET = 17
#: the first opset whose ReduceMean takes its axes as an input instead of an attribute
REDUCE_AXES_INPUT_OPSET = 18


def convert_normalization(graph, layer, prefix: str, x: str, opset: int) -> str:
    """The ONNX nodes computing ``layer`` (at prediction time) on ``x``; its output tensor."""
    from glassnet.nn.normalization import BatchNormalization

    if isinstance(layer, BatchNormalization):
        return _batch_norm(graph, layer, prefix, x)
    return _layer_norm(graph, layer, prefix, x, opset)


def _gamma_beta(layer) -> tuple[np.ndarray, np.ndarray]:
    shape = tuple(layer.broadcast[k] for k in layer.param_axes)
    gamma = layer.params["gamma"] if layer.scale else np.ones(shape, layer.dtype)
    beta = layer.params["beta"] if layer.center else np.zeros(shape, layer.dtype)
    return gamma, beta


def _batch_norm(graph, layer, prefix, x) -> str:
    gamma, beta = _gamma_beta(layer)
    mean, var = layer.buffers["moving_mean"], layer.buffers["moving_variance"]
    if layer.param_axes == (1,):
        inputs = [
            graph.constant(f"{prefix}.gamma", gamma),
            graph.constant(f"{prefix}.beta", beta),
            graph.constant(f"{prefix}.moving_mean", mean),
            graph.constant(f"{prefix}.moving_variance", var),
        ]
        return graph.node(
            "BatchNormalization", [x, *inputs], f"{prefix}.a", epsilon=float(layer.epsilon)
        )
    # x_hat * gamma + beta = x * s + t, computed in float64 and stored in the graph's dtype
    s = gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + layer.epsilon)
    t = beta - mean.astype(np.float64) * s
    shape = layer.broadcast  # (1, ..., features, ..., 1): broadcasts like NumPy
    scaled = graph.node("Mul", [x, graph.constant(f"{prefix}.s", s.reshape(shape))], f"{prefix}.xs")
    return graph.node(
        "Add", [scaled, graph.constant(f"{prefix}.t", t.reshape(shape))], f"{prefix}.a"
    )


def _layer_norm(graph, layer, prefix, x, opset) -> str:
    gamma, beta = _gamma_beta(layer)
    ndim = len(layer.broadcast)
    first = layer.param_axes[0]
    if opset >= LAYER_NORM_OPSET and layer.param_axes == tuple(range(first, ndim)):
        inputs = [graph.constant(f"{prefix}.gamma", gamma), graph.constant(f"{prefix}.beta", beta)]
        return graph.node(
            "LayerNormalization",
            [x, *inputs],
            f"{prefix}.a",
            axis=first,
            epsilon=float(layer.epsilon),
            stash_type=graph.elem_type,  # mean and variance in the graph's own precision
        )
    mu = _reduce_mean(graph, layer.param_axes, x, f"{prefix}.mu", opset)
    centred = graph.node("Sub", [x, mu], f"{prefix}.x_minus_mu")
    squared = graph.node("Mul", [centred, centred], f"{prefix}.squared")
    var = _reduce_mean(graph, layer.param_axes, squared, f"{prefix}.var", opset)
    eps = graph.constant(f"{prefix}.epsilon", layer.epsilon)
    std = graph.node("Sqrt", [graph.node("Add", [var, eps], f"{prefix}.var_eps")], f"{prefix}.std")
    x_hat = graph.node("Div", [centred, std], f"{prefix}.x_hat")
    gamma_b = graph.constant(f"{prefix}.gamma", gamma.reshape(layer.broadcast))
    scaled = graph.node("Mul", [x_hat, gamma_b], f"{prefix}.scaled")
    beta_b = graph.constant(f"{prefix}.beta", beta.reshape(layer.broadcast))
    return graph.node("Add", [scaled, beta_b], f"{prefix}.a")


def _reduce_mean(graph, axes, x: str, base: str, opset: int) -> str:
    """``ReduceMean(x)`` over ``axes``, keeping them; the axes an attribute before opset 18
    and an int64 input from it on."""
    from onnx import numpy_helper

    if opset < REDUCE_AXES_INPUT_OPSET:
        return graph.node("ReduceMean", [x], base, axes=list(axes), keepdims=1)
    name = graph.name(f"{base}.axes")
    graph.initializers.append(numpy_helper.from_array(np.array(axes, dtype=np.int64), name))
    return graph.node("ReduceMean", [x, name], base, keepdims=1)
