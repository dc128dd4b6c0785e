"""The ONNX side of a table's preprocessing: imputation and scaling as graph nodes.

:class:`TableOnnxSteps` holds the ONNX hooks of the stored-preprocessing interface
(:class:`glassnet.io.preprocessing.Preprocessing`) for
:class:`~glassnet.tabular.preprocessing.TablePreprocessor`, which inherits them: the graph
takes the raw numeric columns, fills the missing values a fill was learned for, scales them
(robust: ``u = (x - center) / scale``, smoothly clipped as ``u / sqrt(1 + (u / clip)^2)``;
standard: ``(x - mean) / scale``) and, for regression, maps the standardised prediction back
to the target's units. One-hot encoding of text columns is not expressed in ONNX: such a
preprocessing refuses the export (:class:`glassnet.errors.OnnxExportError`) and says how to
export the network alone.

The hooks read the fitted state of the preprocessor (``columns``, ``fills_``,
``scaling``, ``scaler_``, ``target_scaler_``, ``task``, ``n_inputs``, ``classes``, ``to_dict``).
"""

from __future__ import annotations

import json

import numpy as np

from glassnet.errors import OnnxExportError, Param


class TableOnnxSteps:
    """The ONNX hooks of :class:`~glassnet.tabular.preprocessing.TablePreprocessor`."""

    def onnx_input_shape(self, model) -> tuple:
        """``(n_columns,)``: the graph takes the raw numeric columns. A text column (one-hot
        encoding is not expressed in ONNX) or a network of another input size raises."""
        advice = (
            "; pass {network_only} to export the network alone, whose input is then the "
            "encoded, standardised matrix (see glassnet.io.onnx)"
        )
        network_only = Param("preprocessing", False)
        text = [name for name, kind in self.columns if kind != "numeric"]
        if text:
            raise OnnxExportError(
                "the model's preprocessing one-hot encodes the text column{s} {names}, which "
                "this export does not express in ONNX (only numeric standardisation and "
                "imputation)" + advice,
                s="s" if len(text) > 1 else "",
                names=", ".join(map(repr, text)),
                network_only=network_only,
            )
        if len(model.input_shape) != 1 or self.n_inputs != model.input_shape[0]:
            raise OnnxExportError(
                "the model's preprocessing makes {n} inputs but the network expects inputs "
                "of shape {shape}" + advice,
                n=self.n_inputs,
                shape=tuple(model.input_shape),
                network_only=network_only,
            )
        return (len(self.columns),)

    def onnx_preprocess(self, graph, x: str) -> str:
        """Fill missing values (where a fill was learned), then scale (:meth:`_onnx_robust`
        or ``(x - mean) / scale``)."""
        fill = np.array([self.fills_.get(name, np.nan) for name, _ in self.columns], dtype=float)
        if not np.isnan(fill).all():
            # A column without a fill keeps its NaN: Where puts the fill's NaN back in its place.
            missing = graph.node("IsNaN", [x], "preprocessing.missing")
            fills = graph.constant("preprocessing.fill", fill)
            x = graph.node("Where", [missing, fills, x], "preprocessing.filled")
        if self.scaling == "robust":
            return self._onnx_robust(graph, x)
        mean = graph.constant("preprocessing.mean", self.scaler_.mean_)
        x = graph.node("Sub", [x, mean], "preprocessing.centred")
        scale = graph.constant("preprocessing.scale", self.scaler_.scale_)
        return graph.node("Div", [x, scale], "preprocessing.standardised")

    def _onnx_robust(self, graph, x: str) -> str:
        """``u = (x - center) / scale``; where a column has a clip ``c``, ``v = u / c``
        limited to ``+-LIMIT`` (so ``v * v`` stays finite in float32), then
        ``c * v / sqrt(1 + v * v)``: :func:`glassnet.tabular.encoders.smooth_clip`, node by
        node."""
        scaler = self.scaler_
        x = graph.node(
            "Sub",
            [x, graph.constant("preprocessing.center", scaler.center_)],
            "preprocessing.centred",
        )
        u = graph.node(
            "Div", [x, graph.constant("preprocessing.scale", scaler.scale_)], "preprocessing.scaled"
        )
        # a one-hot column has no clip, but onnx_input_shape refuses text columns: every
        # column here is numeric, and clipped
        c = graph.constant("preprocessing.clip", scaler.clip_)
        v = graph.node("Div", [u, c], "preprocessing.over_clip")
        low = graph.constant("preprocessing.low", -scaler.LIMIT)
        high = graph.constant("preprocessing.high", scaler.LIMIT)
        v = graph.node("Clip", [v, low, high], "preprocessing.limited")
        square = graph.node("Mul", [v, v], "preprocessing.square")
        one = graph.constant("preprocessing.one", 1.0)
        root = graph.node(
            "Sqrt",
            [graph.node("Add", [square, one], "preprocessing.one_plus")],
            "preprocessing.root",
        )
        ratio = graph.node("Div", [v, root], "preprocessing.ratio")
        return graph.node("Mul", [ratio, c], "preprocessing.smooth_clipped")

    def onnx_postprocess(self, graph, y: str) -> str:
        """Regression: the network predicts the standardised target; ``y * scale + mean``
        gives its units. Classification: the probabilities pass through."""
        if self.task != "regression":
            return y
        scale = graph.constant("target.scale", self.target_scaler_.scale_)
        y = graph.node("Mul", [y, scale], "target.scaled")
        mean = graph.constant("target.mean", self.target_scaler_.mean_)
        return graph.node("Add", [y, mean], "target.value")

    def onnx_metadata(self, *, included: bool) -> dict[str, str]:
        d = self.to_dict()
        props = {
            "inputs": json.dumps(d["inputs"]),
            "columns": json.dumps([name for name, _ in self.columns]),
            "preprocessing": ("included" if included else "not included") + ": " + json.dumps(d),
        }
        if self.classes:
            props["labels"] = json.dumps(self.classes)
        elif included:
            props["output"] = "the predicted target, in its own units"
        else:
            props["output"] = "the standardised target (see target_standardize)"
        return props
