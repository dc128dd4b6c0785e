"""Sequential: a stack of layers — build, forward, backward, fit, predict, evaluate, summary.

The training step is the textbook loop, once per mini-batch::

    a = forward(x)                        every layer caches what its backward needs
    L, dL/da = loss(a, y)                 or, fused with the last activation, L and dL/dz
    backward(dL/da)                       every layer fills its grads and passes dL/dx down
    optimizer.step(slots)                 p <- p - eta * g, for every (name, p, g)

Speed by design: data are converted to the model's dtype once per ``fit``; each epoch
shuffles *indices*, and each batch is gathered into a reused buffer (``np.take(...,
out=)``), so no copy of the dataset is made per epoch; the first layer skips computing
``dL/dx``; the fused activation-loss gradient replaces two element-wise passes with one.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from glassnet._validation import as_generator, check_array, check_int, check_real
from glassnet.nn.activations import Activation, ReLU
from glassnet.nn.conv import MaxPool2D
from glassnet.nn.layers import Affine, Layer
from glassnet.nn.losses import Loss, get_loss
from glassnet.training import callbacks as cb
from glassnet.training.optimizers import Adam, Optimizer, get_optimizer


def _backward_through(layers, grad) -> None:
    """Backpropagate ``grad`` (``dL/d(output of layers[-1])``) down to the first layer.

    One fusion: a ReLU followed by a MaxPool2D (``Conv2D(..., activation="relu")``, then
    ``MaxPool2D``; the classes themselves, not subclasses, which may redefine them) is
    differentiated as one step, ``MaxPool2D.backward(g, relu_input=True)``, which applies the
    ReLU's derivative to the pooled gradient (a quarter of the size for a 2x2 pool) instead of
    running the ReLU's own two full-size passes. Same numbers; the gradient checks cover both
    paths.
    """
    i = len(layers) - 1
    while i >= 0:
        layer, below = layers[i], layers[i - 1] if i > 0 else None
        if type(layer) is MaxPool2D and _ends_in_relu(below):
            grad = layer.backward(grad, relu_input=True)
            grad = below.backward_linear(grad) if isinstance(below, Affine) else grad
            i -= 2
        else:
            grad = layer.backward(grad)
            i -= 1


def _ends_in_relu(layer) -> bool:
    """A plain ReLU, as the layer itself or as its activation (a subclass may redefine the
    function, so it is not fused)."""
    activation = layer.activation if isinstance(layer, Affine) else layer
    return type(activation) is ReLU


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite; the model keeps its last finite weights."""


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
    preprocessing : dict or None
        JSON-safe description of the preprocessing the model expects (written by the CLI),
        saved in the model file.
    """

    def __init__(self, layers=None, *, dtype="float32", input_shape=None) -> None:
        self.layers: list[Layer] = []
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"dtype must be a floating-point type, got {dtype!r}")
        self.input_shape = None if input_shape is None else _as_shape(input_shape)
        self.built = False
        self.history = cb.History()
        self.loss_: Loss | None = None
        self.optimizer_: Optimizer | None = None
        self.rng_: np.random.Generator | None = None
        self.preprocessing: dict | None = None
        self.stop_training = False
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: Layer) -> None:
        if not isinstance(layer, Layer):
            raise TypeError(f"layers must be glassnet Layer objects, got {layer!r}")
        if self.built:
            raise ValueError("cannot add a layer to a model that is already built")
        if not self.layers and self.input_shape is None:
            self.input_shape = getattr(layer, "_eager_input_shape", None)
        self.layers.append(layer)

    # -- building -------------------------------------------------------------------------------
    def build(self, input_shape=None, rng=None) -> Sequential:
        """Create every layer's parameters for inputs of ``input_shape`` using ``rng``."""
        if not self.layers:
            raise ValueError("the model has no layers; pass a list such as [Dense(1)]")
        shape = _as_shape(input_shape) if input_shape is not None else self.input_shape
        if shape is None:
            raise ValueError("the input shape is unknown: call fit, or build(input_shape)")
        self.rng_ = as_generator(rng) if rng is not None or self.rng_ is None else self.rng_
        self.input_shape = shape
        for layer in self.layers:
            shape = layer.build(shape, self.rng_, self.dtype)
        self.layers[0].needs_input_grad = False  # nothing below the first layer to train
        self.output_shape = shape
        self.built = True
        self._pack()
        return self

    def _pack(self):
        """Move every parameter (and gradient) into one contiguous vector; layers keep views.

        ``layers[i].params["W"]`` stays an ordinary array of its own shape — it is a view
        into ``self._flat[0]`` — so the layer contract is unchanged. The optimizer then
        updates *one* vector per step instead of one small array per parameter, which
        removes most of the per-step Python and NumPy call overhead for small networks
        (Adam on a 6-parameter network: 12 NumPy calls per step instead of 72).
        """
        slots = self.slots()
        total = sum(p.size for _, p, _ in slots)
        flat_p = np.empty(total, dtype=self.dtype)
        flat_g = np.zeros(total, dtype=self.dtype)
        offset = 0
        for layer in self.layers:
            for key, p in list(layer.params.items()):
                n = p.size
                flat_p[offset : offset + n] = p.ravel()
                layer.params[key] = flat_p[offset : offset + n].reshape(p.shape)
                layer.grads[key] = flat_g[offset : offset + n].reshape(p.shape)
                offset += n
        self._flat = (flat_p, flat_g)
        return self._flat

    def _flat_slots(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """The single slot ``("parameters", all parameters, all gradients)`` that ``fit``
        hands the optimizer. Re-packed if the views were lost (a copy, a pickle, astype)."""
        flat = getattr(self, "_flat", None)
        if flat is None or any(
            p.base is not flat[0] or g.base is not flat[1] for _, p, g in self.slots()
        ):
            flat = self._pack()
        return [("parameters", *flat)] if flat[0].size else []

    def slots(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """``(name, param, grad)`` for every parameter: ``("layers.0.W", W, dL/dW)``, ...

        The one mechanism that optimizers, gradient checks, the model file and the
        explanation ledger all use.
        """
        return [
            (f"layers.{i}.{key}", p, layer.grads[key])
            for i, layer in enumerate(self.layers)
            for key, p in layer.params.items()
        ]

    def get_weights(self) -> dict[str, np.ndarray]:
        return {name: p.copy() for name, p, _ in self.slots()}

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        """Copy ``weights`` (as returned by ``get_weights``) into the parameters, in place."""
        for name, p, _ in self.slots():
            if name not in weights:
                raise ValueError(f"weights has no entry for {name!r}")
            value = np.asarray(weights[name])
            if value.shape != p.shape:
                raise ValueError(f"{name} must have shape {p.shape}, got {value.shape}")
            p[...] = value

    @property
    def n_params(self) -> int:
        return sum(layer.n_params for layer in self.layers)

    # -- forward and backward -------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def backward(self, grad: np.ndarray) -> None:
        """Propagate ``dL/d(output)`` through every layer (filling their grads)."""
        _backward_through(self.layers, grad)

    def _head(self):
        """The activation that ends the network, and how to backpropagate past it.

        Returns ``(activation, logits_of, backward_from_logits)`` or ``(None, ...)``.
        """
        last = self.layers[-1]
        if isinstance(last, Activation):

            def backward_from_logits(delta):
                _backward_through(self.layers[:-1], delta)

            return last, (lambda: last.z), backward_from_logits
        if isinstance(last, Affine):

            def backward_from_logits(delta):
                _backward_through(self.layers[:-1], last.backward_linear(delta))

            return last.activation, (lambda: last.z), backward_from_logits
        return None, None, None

    def loss_and_gradients(self, x, y, loss, training=True, weights=None) -> float:
        """One forward and backward pass: fills every layer's grads, returns the loss.

        ``y`` must already be in the loss's form (see ``Loss.prepare_targets``). When the
        loss fuses with the final activation (sigmoid + BCE, softmax + cross-entropy) the
        loss and ``dL/dz = (p - y) / n`` are computed from the logits. ``weights`` are
        optional per-sample weights, shape ``(n,)``.
        """
        output = self.forward(x, training)
        activation, logits_of, backward_from_logits = self._head()
        if activation is not None and loss.fuses_with == activation.name:
            value, delta = loss.from_logits(logits_of(), y, weights)
            backward_from_logits(delta)
        else:
            value = loss.forward(output, y, weights)
            self.backward(loss.backward())
        self._last_output = output
        return value

    # -- training -------------------------------------------------------------------------------
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
    ) -> cb.History:
        """Train the network on ``X``, ``y`` and return the History.

        Parameters
        ----------
        X : array of shape (n_samples, n_features) or (n_samples, channels, height, width)
        y : targets — values ``(n,)``/``(n, k)`` for regression losses, labels 0/1 for
            ``"bce"``, integer labels ``(n,)`` or one-hot ``(n, k)`` for ``"cross_entropy"``.
        loss : str or Loss
            ``"mse"``, ``"sse"``, ``"bce"``, ``"cross_entropy"``. Required on the first call;
            later calls reuse it when omitted.
        optimizer : str or Optimizer
            Defaults to ``Adam()`` on the first call. Later calls continue with the same
            optimizer *and its state* (momentum, moment estimates) unless a different one is
            passed.
        epochs : int
            Passes over the training data.
        batch_size : int or None
            Samples per gradient step; None means the full batch.
        shuffle : bool
            Shuffle the order of samples every epoch (indices only; the data are not copied).
        validation_data : (X_val, y_val), optional
            Evaluated after every epoch (``val_loss``, ``val_accuracy``).
        validation_split : float
            Fraction of ``X`` held out for validation when no ``validation_data`` is given:
            drawn at random, stratified by class for classification losses.
        callbacks : list of Callback
            e.g. ``[EarlyStopping(patience=5)]``.
        rng : None, int or numpy Generator
            Drives initialisation, shuffling, the validation split and dropout.
        verbose : int
            0 prints nothing; 1 shows a progress bar.
        sample_weight : array of shape (n_samples,), optional
            Non-negative weights: each sample's loss term (and gradient) is multiplied by its
            weight; the loss is still divided by the batch size.
        """
        epochs = check_int("epochs", epochs, minimum=1)
        if batch_size is not None:
            batch_size = check_int("batch_size", batch_size, minimum=1)
        validation_split = check_real(
            "validation_split", validation_split, minimum=0.0, maximum=1.0, include_max=False
        )
        verbose = check_int("verbose", verbose, minimum=0, maximum=2)
        if not isinstance(shuffle, bool):
            raise TypeError(f"shuffle must be True or False, got {shuffle!r}")
        self.loss_ = self._resolve_loss(loss)
        self.optimizer_ = self._resolve_optimizer(optimizer)
        if rng is not None or self.rng_ is None:
            self.rng_ = as_generator(rng)
        X = self._check_X(X, "X")
        n = X.shape[0]
        if not self.built:
            self.build(X.shape[1:], self.rng_)
        y = self._check_y(y, n, "y")
        w = None if sample_weight is None else self._check_weights(sample_weight, n)

        train_idx, val = self._split(X, y, validation_split, validation_data, w)
        n_train = n if train_idx is None else len(train_idx)
        batch = n_train if batch_size is None else min(batch_size, n_train)
        n_batches = math.ceil(n_train / batch)

        callbacks = list(callbacks or [])
        for c in callbacks:
            if not isinstance(c, cb.Callback):
                raise TypeError(f"callbacks must be Callback objects, got {c!r}")
        callbacks = [self.history, *callbacks]
        if verbose:
            callbacks.append(cb.ProgressBar(epochs, n_batches))
        for c in callbacks:
            c.model = self
        self.stop_training = False

        # Batch buffers, reused every step: np.take(..., out=) writes the gathered rows
        # in place instead of allocating a new (batch, features) array per step.
        x_buf = np.empty((batch, *X.shape[1:]), dtype=X.dtype)
        y_buf = np.empty((batch, *y.shape[1:]), dtype=y.dtype)
        w_buf = None if w is None else np.empty(batch, dtype=w.dtype)
        wb = None
        full_batch = batch == n_train and train_idx is None and not shuffle
        slots = self._flat_slots()
        loss_fn, optimizer = self.loss_, self.optimizer_
        classify = loss_fn.is_classification
        averaged = loss_fn.reduction == "mean"

        for c in callbacks:
            c.on_train_begin()
        try:
            for epoch in range(epochs):  # callbacks count from 0 in each fit
                for c in callbacks:
                    c.on_epoch_begin(epoch)
                snapshot = slots[0][1].copy() if slots else None  # the flat parameters
                order = train_idx if train_idx is not None else None
                if shuffle:
                    order = (
                        self.rng_.permutation(n_train)
                        if order is None
                        else order[self.rng_.permutation(n_train)]
                    )
                total_loss, correct = 0.0, 0
                for b in range(n_batches):
                    if full_batch:
                        xb, yb, wb = X, y, w
                    else:
                        lo, hi = b * batch, min((b + 1) * batch, n_train)
                        if order is None:
                            xb, yb = X[lo:hi], y[lo:hi]  # views, no copy
                            wb = None if w is None else w[lo:hi]
                        else:
                            idx = order[lo:hi]
                            # mode="clip" lets take() write straight into out= (the
                            # default mode buffers it); indices come from a permutation,
                            # so nothing is ever clipped.
                            xb = np.take(X, idx, axis=0, out=x_buf[: hi - lo], mode="clip")
                            yb = np.take(y, idx, axis=0, out=y_buf[: hi - lo], mode="clip")
                            if w is not None:
                                wb = np.take(w, idx, out=w_buf[: hi - lo], mode="clip")
                    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                        value = self.loss_and_gradients(xb, yb, loss_fn, True, wb)
                    if not math.isfinite(value):
                        slots[0][1][...] = snapshot
                        raise TrainingDivergedError(
                            f"the loss became {value} in epoch {epoch + 1} of this fit, "
                            f"batch {b + 1}; "
                            f"try a lower learning_rate (now {optimizer.learning_rate:g}). "
                            f"The model keeps the weights from the start of that epoch."
                        )
                    optimizer.step(slots)
                    # an epoch's loss: the mean (or sum) over all its samples
                    total_loss += value * len(yb) if averaged else value
                    if classify:
                        correct += self._count_correct(self._last_output, yb)
                    if verbose:
                        for c in callbacks:
                            c.on_batch_end(b)
                logs = {"loss": total_loss / n_train if averaged else total_loss}
                if classify:
                    logs["accuracy"] = correct / n_train
                if val is not None:
                    logs.update({f"val_{k}": v for k, v in self._evaluate(*val).items()})
                for c in callbacks:
                    c.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
        finally:
            for c in callbacks:
                c.on_train_end()
        return self.history

    def _resolve_loss(self, loss) -> Loss:
        if loss is None:
            if self.loss_ is None:
                raise ValueError(
                    "loss is required the first time fit is called, "
                    "e.g. loss='mse' or loss='cross_entropy'"
                )
            return self.loss_
        return get_loss(loss)

    def _resolve_optimizer(self, optimizer) -> Optimizer:
        current = self.optimizer_
        if optimizer is None:
            return current if current is not None else Adam()
        if isinstance(optimizer, str) and current is not None and current.name == optimizer.lower():
            return current  # same optimizer named again: keep state
        return get_optimizer(optimizer)

    def _split(self, X, y, validation_split, validation_data, w=None):
        """Training indices (None = all rows) and the validation set (or None)."""
        if validation_data is not None:
            if not isinstance(validation_data, tuple | list) or len(validation_data) not in (2, 3):
                raise ValueError(
                    "validation_data must be a pair (X_val, y_val) or a triple "
                    "(X_val, y_val, sample_weight_val)"
                )
            X_val = self._check_X(validation_data[0], "X_val")
            y_val = self._check_y(validation_data[1], X_val.shape[0], "y_val")
            w_val = (
                None
                if len(validation_data) == 2 or validation_data[2] is None
                else self._check_weights(validation_data[2], X_val.shape[0])
            )
            return None, (X_val, y_val, w_val)
        if validation_split == 0:
            return None, None
        n = X.shape[0]
        if self.loss_.is_classification:
            labels = y if y.ndim == 1 else y[:, 0] if y.shape[1] == 1 else y.argmax(1)
            val_idx = stratified_holdout(labels, validation_split, self.rng_)
        else:
            val_idx = self.rng_.permutation(n)[: max(1, round(n * validation_split))]
        if len(val_idx) == 0 or len(val_idx) >= n:
            raise ValueError(
                f"validation_split={validation_split} leaves {n - len(val_idx)} training and "
                f"{len(val_idx)} validation samples out of {n}"
            )
        mask = np.ones(n, dtype=bool)
        mask[val_idx] = False
        train_idx = np.flatnonzero(mask)
        return train_idx, (X[val_idx], y[val_idx], None if w is None else w[val_idx])

    @staticmethod
    def _count_correct(output, y) -> int:
        """Samples classified right: ``argmax`` against integer labels (cross-entropy), or —
        for sigmoid outputs with 0/1 targets ``(n, k)`` — every unit on the right side of
        0.5 (exact match, as scikit-learn counts multi-label accuracy)."""
        if y.ndim == 2:
            return int(np.count_nonzero(((output >= 0.5) == (y >= 0.5)).all(axis=1)))
        return int(np.count_nonzero(output.argmax(axis=1) == y))

    # -- inference ------------------------------------------------------------------------------
    def predict(self, X, *, batch_size: int = 8192) -> np.ndarray:
        """The network's output for ``X``: ``(n_samples, n_outputs)``.

        For a sigmoid or softmax output these are probabilities; see ``predict_classes``.
        Large inputs are processed ``batch_size`` rows at a time to bound memory.
        """
        self._require_built()
        batch_size = check_int("batch_size", batch_size, minimum=1)
        X = self._check_X(X, "X")
        if X.shape[0] <= batch_size:
            return self.forward(X).copy()
        return np.concatenate(
            [self.forward(X[i : i + batch_size]).copy() for i in range(0, X.shape[0], batch_size)]
        )

    def predict_classes(self, X) -> np.ndarray:
        """Class indices: ``argmax`` of a multi-unit output, ``output >= 0.5`` for one unit."""
        out = self.predict(X)
        if out.shape[1] == 1:
            return (out[:, 0] >= 0.5).astype(np.intp)
        return out.argmax(axis=1)

    def evaluate(self, X, y, *, loss=None) -> dict[str, float]:
        """``{"loss": ..., "accuracy": ...}`` on ``X``, ``y`` (accuracy for classification)."""
        self._require_built()
        if loss is not None:
            saved, self.loss_ = self.loss_, get_loss(loss)
        elif self.loss_ is None:
            raise ValueError("evaluate needs loss= for a model that was never fitted")
        try:
            X = self._check_X(X, "X")
            return self._evaluate(X, self._check_y(y, X.shape[0], "y"))
        finally:
            if loss is not None:
                self.loss_ = saved

    def _evaluate(self, X, y, w=None, batch_size=8192) -> dict[str, float]:
        total, correct, n = 0.0, 0, X.shape[0]
        loss_fn = self.loss_
        activation, logits_of, _ = self._head()
        fused = activation is not None and loss_fn.fuses_with == activation.name
        for i in range(0, n, batch_size):
            xb, yb = X[i : i + batch_size], y[i : i + batch_size]
            wb = None if w is None else w[i : i + batch_size]
            out = self.forward(xb)
            value = (
                loss_fn.from_logits(logits_of(), yb, wb)[0]
                if fused
                else loss_fn.forward(out, yb, wb)
            )
            total += value * len(yb) if loss_fn.reduction == "mean" else value
            if loss_fn.is_classification:
                correct += self._count_correct(out, yb)
        result = {"loss": total / n if loss_fn.reduction == "mean" else total}
        if loss_fn.is_classification:
            result["accuracy"] = correct / n
        return result

    # -- checks ---------------------------------------------------------------------------------
    def _check_X(self, X, name) -> np.ndarray:
        X = check_array(name, X, dtype=self.dtype)
        if X.ndim == 1:
            raise ValueError(
                f"{name} must be 2-D (n_samples, n_features), got shape {X.shape}; "
                f"use X.reshape(-1, 1) for one feature or X.reshape(1, -1) for "
                f"one sample"
            )
        if self.input_shape is not None and X.shape[1:] != self.input_shape:
            if len(self.input_shape) == 1 and X.ndim == 2:
                raise ValueError(
                    f"{name} has {X.shape[1]} features, but the model expects "
                    f"{self.input_shape[0]}: expected {self.input_shape[0]} "
                    f"features, got {X.shape[1]}"
                )
            raise ValueError(
                f"{name} has sample shape {X.shape[1:]}, but the model expects {self.input_shape}"
            )
        return X

    def _check_y(self, y, n, name) -> np.ndarray:
        y = check_array(name, y)
        if y.shape[0] != n:
            raise ValueError(f"{name} has {y.shape[0]} rows but X has {n}: they must match")
        n_out = int(np.prod(self.output_shape))
        return self.loss_.prepare_targets(y, n_out, self.dtype)

    def _check_weights(self, sample_weight, n) -> np.ndarray:
        w = check_array("sample_weight", sample_weight, dtype=self.dtype)
        if w.shape != (n,):
            raise ValueError(f"sample_weight must have shape ({n},), got {w.shape}")
        if (w < 0).any():
            raise ValueError(f"sample_weight must be >= 0, got {w[w < 0][0]}")
        if not w.any():
            raise ValueError("sample_weight is zero for every sample")
        return w

    def _require_built(self):
        if not self.built:
            raise ValueError("the model is not built yet: call fit (or build) first")

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
        total = model.n_params if model.built else "?"
        text += [
            line,
            f"total parameters: {total:,}"
            if model.built
            else "total parameters: ? (input shape unknown)",
            f"dtype: {self.dtype}",
        ]
        if self.history.epochs:
            last = {k: round(v[-1], 4) for k, v in self.history.history.items() if v}
            text.append(f"trained: {self.history.epochs} epochs; last {last}")
        return "\n".join(text)

    def summary(self) -> None:
        """Print the layers, their output shapes and parameter counts."""
        print(self.format_summary())

    def __repr__(self):
        return f"Sequential([{', '.join(repr(layer) for layer in self.layers)}])"

    def astype(self, dtype) -> Sequential:
        """A copy of the model with parameters and computation in ``dtype``."""
        clone = copy.deepcopy(self)
        clone.dtype = np.dtype(dtype)
        for layer in clone.layers:
            layer.astype(dtype)
            act = getattr(layer, "activation", None)
            if act is not None:
                act.dtype = clone.dtype
        if clone.built:
            clone._pack()
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

    def to_onnx(self, path, **options):
        """Export the network (and its stored standardisation) as an ONNX graph; see
        :func:`glassnet.io.onnx.export_onnx`."""
        from glassnet.io.onnx import export_onnx

        return export_onnx(self, path, **options)


def _as_shape(shape) -> tuple[int, ...]:
    if isinstance(shape, int | np.integer):
        shape = (shape,)
    try:
        shape = tuple(check_int("input_shape", s, minimum=1) for s in shape)
    except TypeError:
        raise TypeError(f"input_shape must be an int or a tuple of ints, got {shape!r}") from None
    return shape


def stratified_holdout(labels, fraction, rng) -> np.ndarray:
    """Indices of a random hold-out with each class represented in proportion."""
    classes, inverse = np.unique(labels, return_inverse=True)
    picked = []
    for k in range(len(classes)):
        members = np.flatnonzero(inverse == k)
        take = int(round(len(members) * fraction))
        if len(members) >= 2:
            take = min(max(take, 1), len(members) - 1)  # keep each class on both sides
        picked.append(rng.permutation(members)[:take])
    return rng.permutation(np.concatenate(picked))
