"""ONNX export: a glassnet model as an ONNX graph, for ONNX Runtime and other engines.

    >>> model.to_onnx("model.onnx")                     # or export_onnx(model, "model.onnx")
    >>> import onnxruntime as ort
    >>> session = ort.InferenceSession("model.onnx")
    >>> session.run(None, {"input": X.astype("float32")})[0]   # == model.predict(X)

Each layer becomes the ONNX operators that compute the same function, with the weights
stored in the graph as initializers:

======================  ===================================================================
glassnet                ONNX
======================  ===================================================================
Dense                   ``Gemm(x, W, b)``: ``W`` is ``(n_in, n_out)`` in both, so no transpose
Conv2D                  ``Conv`` (both compute a cross-correlation; ``W`` is
                        ``(filters, channels, kh, kw)`` in both), ``pads`` as glassnet pads:
                        for ``"same"`` the odd row/column goes at the bottom/right
MaxPool2D               ``MaxPool`` (windows past the edge dropped, as glassnet does)
AveragePooling2D        ``AveragePool(count_include_pad=0)`` with glassnet's pads (padding
                        zeros not counted, as Keras and glassnet)
GlobalAveragePooling2D  ``GlobalAveragePool``, then ``Flatten(axis=1)``: ``(n, c)``
Flatten                 ``Flatten(axis=1)`` (C order, as ``reshape(n, -1)``)
Dropout                 nothing: at prediction time dropout is the identity
Sigmoid, Tanh           ``Sigmoid``, ``Tanh``
ReLU                    ``Relu``
LeakyReLU               ``LeakyRelu(alpha)``
ELU, Softplus           ``Elu(alpha)``, ``Softplus``
SiLU                    ``Mul(z, Sigmoid(z))``
GELU                    ``Gelu`` (opset >= 20); before it ``0.5 z (1 + Erf(z / sqrt 2))``, or
                        the same with ``Tanh`` for ``approximate=True``
Softmax                 ``Softmax(axis=-1)`` (the last axis, as glassnet; opset >= 13 semantics)
Identity                nothing
======================  ===================================================================

BatchNormalization becomes ONNX's ``BatchNormalization`` with the running statistics (its
prediction-time form), LayerNormalization ``LayerNormalization`` from opset 17 and its
definition operator by operator before: see :mod:`glassnet.io.onnx_normalization`.

A layer (or activation) not in this table raises :class:`OnnxExportError` naming it.

The stored preprocessing (``model.preprocessing``, written by ``glassnet train``)
------------------------------------------------------------------------------
When every feature column is numeric, the graph takes the *raw* columns and does what
``glassnet predict`` does before the network: fill missing values (``IsNaN`` + ``Where``,
if the model was trained with ``impute=``), then standardise (``Sub`` the mean, ``Div`` by
the scale). For regression it also maps the network's output back to the target's units
(``Mul`` the scale, ``Add`` the mean). The graph's input is then ``(n, n_columns)`` in the
order of the ``columns`` metadata entry, and its output is what ``glassnet predict``
computes: the target in its units, or the class probabilities.

A table with text (categorical) columns is one-hot encoded before the network; this export
does not express that in ONNX. Such a model raises :class:`OnnxExportError`, unless
``preprocessing=False``: then only the network is exported, its input is the encoded,
standardised matrix (the ``inputs`` metadata entry names its columns, the ``preprocessing``
entry holds the whole description needed to compute it), and for regression its output is
the *standardised* target. Refusing by default is deliberate: a graph that silently expects
preprocessed data gives wrong answers, without an error, to whoever feeds it raw rows.

The file carries metadata (``graph.metadata_props``): ``glassnet_version``, ``output``
(what the output means), ``labels`` (class labels, JSON) and, for table models,
``columns``/``inputs`` (JSON lists) and ``preprocessing`` (``"included"`` or
``"not included"`` plus the stored description as JSON).

The file is written atomically (a temporary file in the same folder, renamed over the
target) after ``onnx.checker`` has accepted the graph, so a failed export leaves nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from glassnet._validation import check_bool, check_float_dtype, check_int
from glassnet.errors import InputTypeError, InputValueError, OnnxExportError
from glassnet.io.files import write_bytes
from glassnet.io.onnx_activations import ACTIVATION_OPS as _ACTIVATION_OPS
from glassnet.io.onnx_activations import convert_activation as _convert_activation

#: the opset written by default: supported by every ONNX Runtime since 1.12 (2022)
DEFAULT_OPSET = 17
#: the oldest opset whose Softmax normalises one axis (older ones flatten the trailing axes)
MIN_OPSET = 13

INPUT_NAME = "input"
OUTPUT_NAME = "output"


def export_onnx(
    model, path, *, opset: int = DEFAULT_OPSET, preprocessing: bool = True, dtype=None
) -> Path:
    """Write ``model`` to ``path`` as an ONNX graph (atomically) and return the path.

    Parameters
    ----------
    model : Sequential
        A built model of the layers in the module's table.
    path : str or Path
        The ``.onnx`` file to write; its folder must exist.
    opset : int, default 17
        The ONNX operator set version, from 13 to the newest the installed ``onnx`` knows.
    preprocessing : bool, default True
        Include ``model.preprocessing`` (numeric standardisation, imputation, the target's
        scale). With text columns that is impossible and raises; pass False to export the
        network alone (see the module's docstring).
    dtype : None, "float32" or "float64"
        The graph's tensor type; None keeps the model's. (ONNX Runtime's CPU provider has no
        float64 ``Conv``, ``Elu``, ``Softplus`` or ``Erf``: export a float64 model that has
        them with ``dtype="float32"`` to run it there.)

    Raises
    ------
    OnnxExportError
        A layer, activation or preprocessing step that cannot be exported, named.
    """
    proto = make_onnx_model(model, opset=opset, preprocessing=preprocessing, dtype=dtype)
    path = Path(path)
    write_bytes(path, proto.SerializeToString(), what="ONNX file")
    return path


def make_onnx_model(model, *, opset: int = DEFAULT_OPSET, preprocessing: bool = True, dtype=None):
    """The ``onnx.ModelProto`` that :func:`export_onnx` writes, checked by ``onnx.checker``."""
    onnx = _import_onnx()
    from onnx import helper

    from glassnet import __version__
    from glassnet.nn.model import Sequential

    if not isinstance(model, Sequential):
        raise InputTypeError(f"model must be a glassnet Sequential, got {type(model).__name__}")
    if not model.built:
        raise InputValueError("the model is not built yet: fit it (or call build) before exporting")
    opset = check_int("opset", opset, minimum=MIN_OPSET, maximum=onnx.defs.onnx_opset_version())
    preprocessing = check_bool("preprocessing", preprocessing)

    if dtype is not None:
        dtype = check_float_dtype("dtype", dtype, none_allowed=True)
    graph = _Graph(model.dtype if dtype is None else dtype, opset)
    steps = model.preprocessing if preprocessing else None
    if steps is not None:
        x = graph.input(INPUT_NAME, steps.onnx_input_shape(model))
        x = steps.onnx_preprocess(graph, x)
    else:
        x = graph.input(INPUT_NAME, model.input_shape)
    for i, layer in enumerate(model.layers):
        x = _convert_layer(graph, layer, i, x)
    if steps is not None:
        x = steps.onnx_postprocess(graph, x)
    graph.output(x, OUTPUT_NAME, model.output_shape)

    onnx_model = helper.make_model(
        graph.make(name="glassnet"),
        opset_imports=[helper.make_opsetid("", opset)],
        producer_name="glassnet",
        producer_version=__version__,
        doc_string=f"glassnet model: {', '.join(layer.describe() for layer in model.layers)}",
    )
    # the oldest IR version that can carry this opset, so older runtimes can read the file
    onnx_model.ir_version = helper.find_min_ir_version_for(list(onnx_model.opset_import))
    helper.set_model_props(onnx_model, _metadata(model, included=steps is not None))
    onnx.checker.check_model(onnx_model, full_check=True)
    return onnx_model


# -- the graph under construction -----------------------------------------------------------------
class _Graph:
    """Nodes, weights (initializers), inputs and outputs, with unique tensor names; ``opset``
    is the operator set the graph is written for (some layers' nodes depend on it)."""

    def __init__(self, dtype, opset: int = DEFAULT_OPSET) -> None:
        from onnx import TensorProto

        self.dtype = np.dtype(dtype)
        self.opset = opset
        self.elem_type = {np.float32: TensorProto.FLOAT, np.float64: TensorProto.DOUBLE}[
            self.dtype.type
        ]
        self.nodes, self.initializers, self.inputs, self.outputs = [], [], [], []
        self._names: set[str] = set()

    def name(self, base: str) -> str:
        name, k = base, 1
        while name in self._names:
            k += 1
            name = f"{base}_{k}"
        self._names.add(name)
        return name

    def constant(self, base: str, value) -> str:
        """A weight or constant, stored in the model's dtype; returns its tensor name."""
        from onnx import numpy_helper

        name = self.name(base)
        array = np.ascontiguousarray(np.asarray(value, dtype=self.dtype))
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def node(self, op: str, inputs: list[str], base: str, **attributes) -> str:
        from onnx import helper

        output = self.name(base)
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    def input(self, name: str, shape) -> str:
        from onnx import helper

        self._names.add(name)
        self.inputs.append(
            helper.make_tensor_value_info(name, self.elem_type, ["n", *(int(s) for s in shape)])
        )
        return name

    def output(self, tensor: str, name: str, shape) -> None:
        """Make ``tensor`` the graph's output called ``name`` (renaming the last node's
        output, or through an Identity when no node made it)."""
        from onnx import helper

        last = self.nodes[-1] if self.nodes else None
        if last is not None and last.output[0] == tensor:
            last.output[0] = name
        else:
            self.nodes.append(helper.make_node("Identity", [tensor], [name], name=name))
        self.outputs.append(
            helper.make_tensor_value_info(name, self.elem_type, ["n", *(int(s) for s in shape)])
        )

    def make(self, name: str):
        from onnx import helper

        return helper.make_graph(
            self.nodes, name, self.inputs, self.outputs, initializer=self.initializers
        )


# -- layers ---------------------------------------------------------------------------------------
def _convert_layer(graph: _Graph, layer, index: int, x: str) -> str:
    """The ONNX nodes computing ``layer`` on tensor ``x``; returns the output tensor."""
    from glassnet.io.onnx_normalization import convert_normalization
    from glassnet.nn.activations import Activation
    from glassnet.nn.conv import Conv2D
    from glassnet.nn.layers import Dense, Dropout, Flatten
    from glassnet.nn.normalization import BatchNormalization, LayerNormalization
    from glassnet.nn.pooling import AveragePooling2D, GlobalAveragePooling2D, MaxPool2D

    prefix = f"layers.{index}"
    kind = type(layer)
    if kind is Dense:
        inputs = [x, graph.constant(f"{prefix}.W", layer.params["W"])]
        if layer.use_bias:
            inputs.append(graph.constant(f"{prefix}.b", layer.params["b"]))
        z = graph.node("Gemm", inputs, f"{prefix}.z")
        return _convert_activation(graph, layer.activation, prefix, z, layer)
    if kind is Conv2D:
        _, height, width = layer.input_shape
        (top, bottom), (left, right) = layer._pads(height, width)
        inputs = [x, graph.constant(f"{prefix}.W", layer.params["W"])]
        if layer.use_bias:
            inputs.append(graph.constant(f"{prefix}.b", layer.params["b"]))
        z = graph.node(
            "Conv",
            inputs,
            f"{prefix}.z",
            kernel_shape=list(layer.kernel_size),
            strides=list(layer.stride),
            pads=[top, left, bottom, right],
        )
        return _convert_activation(graph, layer.activation, prefix, z, layer)
    if kind in (MaxPool2D, AveragePooling2D, GlobalAveragePooling2D):
        return _convert_pooling(graph, layer, prefix, x)
    if kind is Flatten:
        return graph.node("Flatten", [x], f"{prefix}.a", axis=1)
    if kind is Dropout:
        return x  # the identity at prediction time
    if kind in (BatchNormalization, LayerNormalization):
        return convert_normalization(graph, layer, prefix, x, graph.opset)
    if isinstance(layer, Activation):
        return _convert_activation(graph, layer, prefix, x, layer)
    raise OnnxExportError(
        "{reason}",
        reason=f"cannot export layer {index} ({layer.describe()}) to ONNX: the export knows Dense, "
        f"Conv2D, MaxPool2D, AveragePooling2D, GlobalAveragePooling2D, Flatten, Dropout, "
        f"BatchNormalization, LayerNormalization and the activations "
        f"({', '.join(_ACTIVATION_OPS)}), not {type(layer).__name__}",
    )


def _convert_pooling(graph: _Graph, layer, prefix: str, x: str) -> str:
    """``MaxPool``, ``AveragePool`` (padding not counted) or ``GlobalAveragePool`` + Flatten."""
    from glassnet.nn.pooling import AveragePooling2D, MaxPool2D

    kind = type(layer)
    if kind is MaxPool2D:
        return graph.node(
            "MaxPool",
            [x],
            f"{prefix}.a",
            kernel_shape=list(layer.pool_size),
            strides=list(layer.stride),
        )
    if kind is AveragePooling2D:
        _, height, width = layer.input_shape
        (top, bottom), (left, right) = layer._pads(height, width)
        return graph.node(
            "AveragePool",
            [x],
            f"{prefix}.a",
            kernel_shape=list(layer.pool_size),
            strides=list(layer.stride),
            pads=[top, left, bottom, right],
            count_include_pad=0,
        )
    # GlobalAveragePooling2D
    pooled = graph.node("GlobalAveragePool", [x], f"{prefix}.pooled")  # (n, c, 1, 1)
    return graph.node("Flatten", [pooled], f"{prefix}.a", axis=1)


# -- what the file says about itself -------------------------------------------------------------
def _metadata(model, *, included: bool) -> dict[str, str]:
    """``glassnet_version``, what the output means, and the stored preprocessing's entries."""
    from glassnet import __version__
    from glassnet.nn.activations import Activation

    last = model.layers[-1]
    head = last if isinstance(last, Activation) else getattr(last, "activation", None)
    head = "identity" if head is None else head.name
    props = {"glassnet_version": __version__, "output": "the network's output"}
    if head == "sigmoid" and model.output_shape == (1,):
        props["output"] = "probability of the second class (labels[1])"
    elif head == "softmax":
        props["output"] = "probability of each class (in the order of labels)"
    if model.preprocessing is not None:
        props.update(model.preprocessing.onnx_metadata(included=included))
    return props


# -- writing --------------------------------------------------------------------------------------
def _import_onnx():
    try:
        import onnx
    except ImportError as exc:
        raise ImportError(
            f"ONNX export needs the onnx package: pip install 'glassnet[onnx]' ({exc})"
        ) from None
    return onnx
