"""Sequential: the stack of layers — build, forward, backward, predict, parameters, summary.

One training step is the textbook loop (run by :mod:`glassnet.training.trainer`)::

    a = model.forward(x)                  every layer caches what its backward needs
    L, dL/da = loss(a, y)                 or, fused with the last activation, L and dL/dz
    model.backward(dL/da)                 every layer fills its grads and passes dL/dx down
    optimizer.step(model.slots())         p <- p - eta * g, for every (name, p, g)

``model.slots()`` — ``(name, parameter, gradient)`` keyed ``layers.<i>.<key>`` — is the one
mechanism that optimizers, gradient checks, the model file and the ledger all use.
"""

from __future__ import annotations

import copy

import numpy as np

from glassnet._validation import as_generator, check_array, check_int, check_outputs
from glassnet.errors import InputTypeError, InputValueError
from glassnet.fast.predict import lean_predictor
from glassnet.nn.activations import Activation
from glassnet.nn.layers import Affine, Layer
from glassnet.training import callbacks as cb


class Sequential:
    """A network that applies its layers one after another.

    Parameters
    ----------
    layers : list of Layer
        e.g. ``[Dense(2, activation="sigmoid"), Dense(1, activation="sigmoid")]``.
    dtype : str or numpy dtype
        Parameter and computation dtype, ``"float32"`` by default; ``"float64"`` for exact
        reproduction of tutorial numbers and for gradient checks.
    input_shape : int or tuple, optional
        Input feature shape (without the batch axis); otherwise taken from the first data.

    Attributes
    ----------
    history : History
        Per-epoch loss/accuracy over every call to ``fit``.
    loss_, optimizer_ : the loss and optimizer of the last ``fit`` (kept for the next one).
    metrics_ : the MetricSet of the last ``fit`` (what ``evaluate`` computes by default).
    preprocessing : object or None
        The preprocessing the model expects its inputs to have had (a table's or an image's),
        saved in the model file.
    """

    def __init__(self, layers=None, *, dtype="float32", input_shape=None) -> None:
        self.layers: list[Layer] = []
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise InputValueError(f"dtype must be a floating-point type, got {dtype!r}")
        self.input_shape = None if input_shape is None else _as_shape(input_shape)
        self.built = False
        self.history = cb.History()
        self.loss_ = None
        self.optimizer_ = None
        self.metrics_ = None
        self.rng_: np.random.Generator | None = None
        self.preprocessing = None
        self.stop_training = False
        #: the backward steps glassnet.fast chose (None: every layer's own backward)
        self.backward_plan = None
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: Layer) -> None:
        if not isinstance(layer, Layer):
            raise InputTypeError(f"layers must be glassnet Layer objects, got {layer!r}")
        if self.built:
            raise InputValueError("cannot add a layer to a model that is already built")
        if not self.layers and self.input_shape is None:
            self.input_shape = getattr(layer, "_eager_input_shape", None)
        self.layers.append(layer)

    # -- building and parameters ----------------------------------------------------------------
    def build(self, input_shape=None, rng=None) -> Sequential:
        """Create every layer's parameters for inputs of ``input_shape`` using ``rng``."""
        if not self.layers:
            raise InputValueError("the model has no layers; pass a list such as [Dense(1)]")
        shape = _as_shape(input_shape) if input_shape is not None else self.input_shape
        if shape is None:
            raise InputValueError("the input shape is unknown: call fit, or build(input_shape)")
        self.rng_ = as_generator(rng) if rng is not None or self.rng_ is None else self.rng_
        self.input_shape = shape
        for layer in self.layers:
            shape = layer.build(shape, self.rng_, self.dtype)
        self.layers[0].needs_input_grad = False  # nothing below the first layer to train
        self.output_shape = shape
        self.built = True
        return self

    def slots(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """``(name, param, grad)`` for every parameter: ``("layers.0.W", W, dL/dW)``, ..."""
        return [
            (f"layers.{i}.{key}", p, layer.grads[key])
            for i, layer in enumerate(self.layers)
            for key, p in layer.params.items()
        ]

    def buffers(self) -> list[tuple[str, np.ndarray]]:
        """``("layers.1.moving_mean", array)``, ...: the non-trainable state (no gradient)."""
        layers = enumerate(self.layers)
        return [(f"layers.{i}.{k}", b) for i, layer in layers for k, b in layer.buffers.items()]

    def named_weights(self) -> list[tuple[str, np.ndarray]]:
        """``(name, array)`` of every parameter, then every buffer: what the model file saves."""
        return [(name, p) for name, p, _ in self.slots()] + self.buffers()

    def get_weights(self) -> dict[str, np.ndarray]:
        """Copies of the parameters and the buffers (running statistics), by name."""
        return {name: p.copy() for name, p in self.named_weights()}

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        """Copy ``weights`` (as ``get_weights`` returns them) into the parameters and buffers."""
        for name, p in self.named_weights():
            if name not in weights:
                raise InputValueError(f"weights has no entry for {name!r}")
            value = np.asarray(weights[name])
            if value.shape != p.shape:
                raise InputValueError(f"{name} must have shape {p.shape}, got {value.shape}")
            p[...] = value

    @property
    def n_params(self) -> int:
        return sum(layer.n_params for layer in self.layers)

    # -- forward and backward -------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``a[l] = layer_l(a[l-1])`` from ``a[0] = x``; returns the network's output."""
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def backward(self, grad, *, from_logits: bool = False, record=None) -> np.ndarray | None:
        """Propagate ``grad`` down through every layer, filling their grads; return ``dL/dx``.

        ``grad`` is ``dL/d(output)``, or — with ``from_logits=True`` — ``dL/dz`` of the last
        layer, the pre-activation (a fused loss, e.g. softmax + cross-entropy, gives that
        directly): the last activation's own derivative is then skipped. ``record``, a dict,
        receives the gradient arriving at each step, keyed by the index of the step's top
        layer (every layer, on the reference path: the ledger reads them).
        """
        steps = self._backward_steps()
        top = len(self.layers) - 1
        if from_logits:
            if record is not None:
                record[top] = grad
            last = self.layers[-1]
            grad = last.backward_linear(grad) if isinstance(last, Affine) else grad
            steps, top = steps[1:], top - 1
        for first, step in steps:
            if record is not None:
                record[top] = grad
            grad = step(grad)
            top = first - 1
        return grad

    def _backward_steps(self):
        """``(lowest layer index, step)`` from the top down: each layer's own backward, unless
        :func:`glassnet.fast.prepare` chose faster steps for this model (as ``fit`` does) and
        they still apply (see :class:`glassnet.fast.plan.BackwardPlan`)."""
        steps = None if self.backward_plan is None else self.backward_plan.steps_for(self.layers)
        if steps is not None:
            return steps
        return [(i, layer.backward) for i, layer in reversed(list(enumerate(self.layers)))]

    @property
    def output_activation(self) -> Activation | None:
        """The activation that ends the network (a layer's own, or an activation layer)."""
        last = self.layers[-1] if self.layers else None
        if isinstance(last, Activation):
            return last
        return last.activation if isinstance(last, Affine) else None

    def logits(self) -> np.ndarray:
        """``z`` of the last layer after a forward pass: the output before its activation."""
        return self.layers[-1].z

    # -- inputs ---------------------------------------------------------------------------------
    def check_inputs(self, X, name: str = "X") -> np.ndarray:
        """``X`` as an array of the model's dtype, checked against the model's input shape."""
        X = check_array(name, X, dtype=self.dtype)
        if X.ndim == 1:
            raise InputValueError(
                f"{name} must be 2-D (n_samples, n_features), got shape {X.shape}; "
                f"use X.reshape(-1, 1) for one feature or X.reshape(1, -1) for one sample"
            )
        if self.input_shape is not None and X.shape[1:] != self.input_shape:
            if len(self.input_shape) == 1 and X.ndim == 2:
                raise InputValueError(
                    f"{name} has {X.shape[1]} features, but the model expects "
                    f"{self.input_shape[0]}: expected {self.input_shape[0]} "
                    f"features, got {X.shape[1]}"
                )
            raise InputValueError(
                f"{name} has sample shape {X.shape[1:]}, but the model expects {self.input_shape}"
            )
        return X

    def check_targets(self, y, loss, n: int, name: str = "y") -> np.ndarray:
        """``y`` in the form ``loss`` needs, for ``n`` samples of this (built) model's output."""
        y = check_array(name, y, fits=self.dtype)
        if y.shape[0] != n:
            raise InputValueError(f"{name} has {y.shape[0]} rows but X has {n}: they must match")
        return loss.prepare_targets(y, int(np.prod(self.output_shape)), self.dtype)

    # -- training and inference -----------------------------------------------------------------
    def fit(
        self,
        X,
        y,
        *,
        loss=None,
        optimizer=None,
        epochs: int = 1,
        batch_size: int | None = 32,
        shuffle: bool = True,
        validation_data=None,
        validation_split: float = 0.0,
        callbacks=None,
        rng=None,
        verbose: int = 0,
        sample_weight=None,
        metrics=None,
    ) -> cb.History:
        """Train on ``X``, ``y``; return the History (the loop: :mod:`glassnet.training.trainer`).

        Parameters
        ----------
        X : array of shape (n_samples, n_features) or (n_samples, channels, height, width);
            a finite value beyond the model's dtype (1e308 in float32) is a ValueError.
        y : values ``(n,)``/``(n, k)`` for regression losses, labels 0/1 for ``"bce"``,
            integer labels ``(n,)`` or one-hot ``(n, k)`` for ``"cross_entropy"``.
        loss : str or Loss
            ``"mse"``, ``"bce"``, ``"cross_entropy"``...; required at first, then reused when
            omitted. One that reads probabilities needs such an output (``Loss.check_output``).
        optimizer : str or Optimizer
            ``Adam()`` on the first call; later calls continue with the same optimizer *and
            its state* (momentum, moments) unless a different one is passed.
        epochs, batch_size : int, and int or None
            Passes over the training data; samples per gradient step (None: the full batch).
        shuffle : bool
            Shuffle the sample order every epoch (indices only; the data are not copied).
        validation_data : (X_val, y_val) or (X_val, y_val, sample_weight_val), optional
            Evaluated after every epoch (``val_loss``, ``val_accuracy``, ``val_<metric>``).
        validation_split : float
            Fraction of ``X`` held out for validation when no ``validation_data`` is given,
            at random, stratified by class for classification losses.
        callbacks : list of Callback
            e.g. ``[EarlyStopping(patience=5)]``; every hook fires, whatever ``verbose`` is.
        rng : None, int or numpy Generator
            Drives initialisation, shuffling, the validation split and dropout.
        verbose : int
            0 prints nothing; 1 shows a progress bar; 2 prints one line per epoch.
        sample_weight : array of shape (n_samples,), optional
            Non-negative weights of each sample's loss term (and gradient) and in every metric.
        metrics : list of names (``"f1"``, ``"auc"``, ``"r2"``...), Metric objects or functions
            ``f(y_true, y_pred)``, optional; None: the last fit's (:mod:`~.training.tracking`).
        """
        from glassnet.training.trainer import fit

        return fit(
            self, X, y, loss=loss, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
            shuffle=shuffle, validation_data=validation_data, validation_split=validation_split,
            callbacks=callbacks, rng=rng, verbose=verbose, sample_weight=sample_weight,
            metrics=metrics,
        )  # fmt: skip

    def evaluate(self, X, y, *, loss=None, metrics=None, sample_weight=None) -> dict[str, float]:
        """``{"loss": ..., "accuracy": ...}`` on ``X``, ``y``: the loss and ``metrics`` (by
        default those of the last ``fit``), weighted by ``sample_weight``; see
        :func:`glassnet.training.evaluation.evaluate`."""
        from glassnet.training.evaluation import evaluate

        return evaluate(self, X, y, loss=loss, metrics=metrics, sample_weight=sample_weight)

    def diagnose(self, X=None, y=None, **options):
        """What is wrong with this training, and the fix: :func:`glassnet.diagnose`."""
        from glassnet.glassbox.diagnose import diagnose

        return diagnose(self, X, y, **options)

    def predict(self, X, *, batch_size: int = 8192) -> np.ndarray:
        """The network's output for ``X``: ``(n_samples, n_outputs)``.

        For a sigmoid or softmax output these are probabilities; see ``predict_classes``.
        Large inputs are processed ``batch_size`` rows at a time to bound memory. An output
        that overflows the model's dtype is an error naming the row, not a NumPy warning.
        Off the reference path, :func:`glassnet.fast.predict.lean_predictor` computes the
        same numbers with cached checks and kept work arrays, and leaves the layers as they are.
        """
        lean = lean_predictor(self)
        if lean is not None:
            return lean.predict(self, X, batch_size)
        self.require_built()
        batch_size = check_int("batch_size", batch_size, minimum=1)
        X = self.check_inputs(X)
        with np.errstate(over="ignore", invalid="ignore"):
            if X.shape[0] <= batch_size:
                return check_outputs(self.forward(X).copy(), self.dtype)
            outputs = [
                self.forward(X[i : i + batch_size]).copy() for i in range(0, len(X), batch_size)
            ]
        return check_outputs(np.concatenate(outputs), self.dtype)

    def predict_classes(self, X) -> np.ndarray:
        """Class indices: ``argmax`` of a multi-unit output, ``output >= 0.5`` for one unit
        (``>= 0`` when the model was trained on its outputs as logits)."""
        from glassnet.training.heads import decode

        return decode(self.predict(X), 0.5 if self.loss_ is None else self.loss_.threshold)

    def require_built(self) -> None:
        if not self.built:
            raise InputValueError("the model is not built yet: call fit (or build) first")

    # -- description ----------------------------------------------------------------------------
    def format_summary(self) -> str:
        """The summary table as a string (layers, output shapes, parameter counts)."""
        model = self
        if not self.built and self.input_shape is not None:
            model = copy.deepcopy(self).build(rng=0)  # shapes and counts only
        rows = [("layer", "output shape", "params")]
        for i, layer in enumerate(model.layers):
            shape = ("?",) if layer.output_shape is None else layer.output_shape
            rows.append((f"{i}: {layer.describe()}", str((None, *shape)), f"{layer.n_params:,}"))
        w = [max(len(r[k]) for r in rows) for k in range(3)]
        line = "-" * (sum(w) + 4)
        text = [line, f"{rows[0][0]:<{w[0]}}  {rows[0][1]:<{w[1]}}  {rows[0][2]:>{w[2]}}", line]
        text += [f"{a:<{w[0]}}  {b:<{w[1]}}  {c:>{w[2]}}" for a, b, c in rows[1:]]
        total = f"{model.n_params:,}" if model.built else "? (input shape unknown)"
        held = sum(b.size for _, b in model.buffers())
        extra = [f"non-trainable values (running statistics): {held:,}"] if held else []
        text += [line, f"total parameters: {total}", *extra, f"dtype: {self.dtype}"]
        if self.history.epochs:
            last = {k: round(v[-1], 4) for k, v in self.history.history.items() if v}
            text.append(f"trained: {self.history.epochs} epochs; last {last}")
        return "\n".join(text)

    def summary(self) -> None:
        """Print the layers, their output shapes and parameter counts."""
        print(self.format_summary())

    def __repr__(self):
        return f"Sequential([{', '.join(repr(layer) for layer in self.layers)}])"

    def __getstate__(self):
        # a copy or a pickle runs the reference backward until fast.prepare chooses again
        return {**self.__dict__, "backward_plan": None}

    def astype(self, dtype) -> Sequential:
        """A copy of the model with parameters and computation in ``dtype``."""
        clone = copy.deepcopy(self)
        clone.dtype = np.dtype(dtype)
        for layer in clone.layers:
            layer.astype(dtype)
            act = getattr(layer, "activation", None)
            if act is not None:
                act.dtype = clone.dtype
        if clone.optimizer_ is not None:  # momentum and moments follow the dtype
            for state in clone.optimizer_.state.values():
                for key, arr in state.items():
                    state[key] = arr.astype(clone.dtype)
        return clone

    # -- the model file -------------------------------------------------------------------------
    def save(self, path) -> None:
        """Write the model to ``path`` (safetensors; see :mod:`glassnet.io.model_file`)."""
        from glassnet.io.model_file import save_model

        save_model(self, path)

    def to_onnx(self, path, *, opset: int | None = None, preprocessing: bool = True, dtype=None):
        """Export the network (and its stored preprocessing) as an ONNX graph; see
        :func:`glassnet.io.onnx.export_onnx` (``opset`` None: its default)."""
        from glassnet.io.onnx import DEFAULT_OPSET, export_onnx

        opset = DEFAULT_OPSET if opset is None else opset
        return export_onnx(self, path, opset=opset, preprocessing=preprocessing, dtype=dtype)


def _as_shape(shape) -> tuple[int, ...]:
    if isinstance(shape, int | np.integer):
        shape = (shape,)
    try:
        shape = tuple(check_int("input_shape", s, minimum=1) for s in shape)
    except TypeError:
        raise InputTypeError(
            f"input_shape must be an int or a tuple of ints, got {shape!r}"
        ) from None
    return shape
