"""scikit-learn estimators: :class:`GlassNetClassifier` and :class:`GlassNetRegressor`.

A glassnet multi-layer perceptron behind scikit-learn's estimator contract, so that it works
in ``Pipeline``, ``GridSearchCV``, ``cross_val_score`` and everything else built on
``fit``/``predict``/``get_params``. Both estimators pass scikit-learn's own
``check_estimator`` (``tests/test_sklearn.py`` runs it; the two checks that compare results
to 1e-7, finer than float32 resolves, run with ``dtype="float64"``).

    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from glassnet.sklearn import GlassNetClassifier
    >>> clf = make_pipeline(StandardScaler(),
    ...                     GlassNetClassifier(hidden_layer_sizes=(32, 16), dropout=0.1,
    ...                                        early_stopping=True, random_state=0))

The discipline is scikit-learn's: ``__init__`` only stores the hyper-parameters, ``fit``
checks them (an error names the parameter and the value: ``learning_rate must be > 0, got
-0.1``), and everything learned ends in ``_``. The network itself is a plain
:class:`glassnet.Sequential`, kept as ``model_``: it can be inspected, explained, saved or
exported to ONNX like any other glassnet model.

What scikit-learn's ``MLPClassifier`` does not have: dropout, one activation per hidden
layer, ``class_weight``, the validation loss curve (``validation_loss_curve_``).

Differences from ``MLPClassifier``/``MLPRegressor`` worth knowing:

* ``epochs`` is the number of passes (``max_iter``); training runs all of them unless
  ``early_stopping`` stops it, which watches the *validation loss* (not the score) and
  restores the weights of the best epoch.
* ``alpha`` is the optimizer's ``weight_decay``: every parameter's gradient gets
  ``+ alpha * p`` (biases too), i.e. ``alpha / 2 * ||p||^2`` is added to the averaged loss.
  scikit-learn divides its ``alpha`` by the batch size, so the same number is a stronger
  penalty here.
* ``sample_weight`` (and ``class_weight``) are rescaled once to average 1 over the samples,
  so that a batch's loss is a weighted mean whose scale, and thus the meaning of
  ``learning_rate``, does not depend on the weights' units; integer weights then count a
  sample that many times.
* Computation is in float32 unless ``dtype="float64"``, whatever the input's dtype;
  predictions are returned as float64.
* ``partial_fit`` runs one epoch on the batch it is given, continuing the network and the
  optimizer's state; it never holds data out, so ``early_stopping`` does not apply to it.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils._param_validation import InvalidParameterError
    from sklearn.utils.class_weight import compute_class_weight
    from sklearn.utils.multiclass import (
        _check_partial_fit_first_call,
        check_classification_targets,
    )
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "glassnet.sklearn needs scikit-learn >= 1.6: pip install 'glassnet[sklearn]'"
    ) from exc

from glassnet._validation import check_bool, check_float_dtype, check_int, check_real
from glassnet.nn.activations import get_activation
from glassnet.nn.layers import Dense, Dropout
from glassnet.nn.model import Sequential
from glassnet.training.callbacks import EarlyStopping
from glassnet.training.heads import decode, head_for, probabilities
from glassnet.training.optimizers import OPTIMIZERS

__all__ = ["GlassNetClassifier", "GlassNetRegressor"]

# scikit-learn's name for the sigmoid, accepted so that MLP settings carry over unchanged
_ACTIVATION_ALIASES = {"logistic": "sigmoid"}


@dataclass(frozen=True)
class _Settings:
    """The hyper-parameters after checking, in the form the training code uses."""

    hidden_layer_sizes: tuple[int, ...]
    activations: tuple[str, ...]
    dropouts: tuple[float, ...]
    optimizer: str
    learning_rate: float
    batch_size: int | str | None
    epochs: int
    early_stopping: bool
    validation_fraction: float
    n_iter_no_change: int
    alpha: float
    dtype: np.dtype
    verbose: int
    seed: int | np.random.Generator | None


class _GlassNetEstimator(BaseEstimator):
    """What the classifier and the regressor share: checking, building and training.

    Subclasses provide ``_encode_targets`` (``y`` as the network learns it) and
    ``_head`` (the output layer and loss, from :func:`glassnet.training.heads.head_for`).
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        optimizer="adam",
        learning_rate=0.001,
        batch_size="auto",
        epochs=200,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        alpha=0.0001,
        dropout=0.0,
        dtype="float32",
        random_state=None,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.alpha = alpha
        self.dropout = dropout
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    # -- checking the hyper-parameters (in fit, as scikit-learn does) ---------------------------
    def _settings(self) -> _Settings:
        """Every hyper-parameter, checked.

        Raises scikit-learn's ``InvalidParameterError`` (a ``ValueError`` and a
        ``TypeError``) with glassnet's one-line message naming the parameter and the value.
        """
        try:
            sizes = _check_sizes(self.hidden_layer_sizes)
            n_hidden = len(sizes)
            return _Settings(
                hidden_layer_sizes=sizes,
                activations=_per_layer("activation", self.activation, n_hidden, _check_activation),
                dropouts=_per_layer("dropout", self.dropout, n_hidden, _check_dropout),
                optimizer=_check_optimizer(self.optimizer),
                learning_rate=check_real(
                    "learning_rate", self.learning_rate, minimum=0, include_min=False
                ),
                batch_size=_check_batch_size(self.batch_size),
                epochs=check_int("epochs", self.epochs, minimum=1),
                early_stopping=check_bool("early_stopping", self.early_stopping),
                validation_fraction=check_real(
                    "validation_fraction",
                    self.validation_fraction,
                    minimum=0,
                    maximum=1,
                    include_min=False,
                    include_max=False,
                ),
                n_iter_no_change=check_int("n_iter_no_change", self.n_iter_no_change, minimum=1),
                alpha=check_real("alpha", self.alpha, minimum=0),
                dtype=check_float_dtype("dtype", self.dtype),
                verbose=_check_verbose(self.verbose),
                seed=_seed(self.random_state),
            )
        except (TypeError, ValueError) as exc:
            raise InvalidParameterError(str(exc)) from None

    # -- training -------------------------------------------------------------------------------
    def _fit(self, X, y, sample_weight, *, incremental, classes=None):
        """``fit`` (a new network, ``epochs`` passes) or ``partial_fit`` (one pass, continuing
        the network and its optimizer state when there is one)."""
        settings = self._settings()
        first_call = not (incremental and hasattr(self, "model_"))
        dtype = settings.dtype if first_call else self.model_.dtype
        X, y = validate_data(self, X, y, reset=first_call, dtype=dtype, **self._validate_y_options)
        targets = self._encode_targets(y, classes, incremental)
        weights = self._sample_weights(X, targets, sample_weight, incremental)

        fit_options = {}
        if first_call:
            head = self._head()
            units, activation, loss = head.units, head.activation, head.loss
            self.model_ = _network(settings, X.shape[1], units, activation)
            fit_options = {
                "loss": loss,
                "optimizer": OPTIMIZERS[settings.optimizer](
                    learning_rate=settings.learning_rate, weight_decay=settings.alpha
                ),
                "rng": settings.seed,
            }
        callbacks, validation_split = [], 0.0
        if settings.early_stopping and not incremental:
            validation_split = settings.validation_fraction
            callbacks.append(
                EarlyStopping(
                    "val_loss", patience=settings.n_iter_no_change, restore_best_weights=True
                )
            )
        batch_size = 200 if settings.batch_size == "auto" else settings.batch_size
        self.model_.fit(
            X,
            targets,
            epochs=1 if incremental else settings.epochs,
            batch_size=batch_size,
            validation_split=validation_split,
            callbacks=callbacks,
            sample_weight=weights,
            verbose=settings.verbose,
            **fit_options,
        )

        history = self.model_.history
        self.loss_curve_ = list(history.loss)
        self.validation_loss_curve_ = list(history.val_loss) or None
        self.n_iter_ = len(self.loss_curve_)
        return self

    def _sample_weights(self, X, targets, sample_weight, incremental):
        """Per-sample weights rescaled to average 1, or None when none are given."""
        if sample_weight is None:
            return None
        w = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        if not w.any():
            raise ValueError(
                "Sample weights must contain at least one non-zero number; "
                "sample_weight is zero for every sample"
            )
        return w * (len(w) / w.sum())  # a new array: the caller's is never modified

    def _predict_network(self, X):
        """The network's output for ``X``, as float64 (scikit-learn's working precision)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=self.model_.dtype)
        return self.model_.predict(X).astype(np.float64, copy=False)


class GlassNetClassifier(ClassifierMixin, _GlassNetEstimator):
    """A multi-layer perceptron classifier trained with glassnet.

    Two classes: one sigmoid output trained with binary cross-entropy. More: a softmax
    output trained with cross-entropy. Both are computed from the logits (stable, exact
    gradients).

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default (100,)
        Units of each hidden ``Dense`` layer; ``()`` gives logistic regression.
    activation : str or list of str, default "relu"
        Activation of the hidden layers: one name for all, or one per layer: ``"relu"``,
        ``"leaky_relu"``, ``"tanh"``, ``"sigmoid"`` (alias ``"logistic"``), ``"identity"``.
    optimizer : {"adam", "sgd", "rmsprop"}, default "adam"
    learning_rate : float, default 0.001
        The optimizer's step size (> 0).
    batch_size : int, "auto" or None, default "auto"
        Samples per gradient step; "auto" is ``min(200, n_samples)``, None the full batch.
    epochs : int, default 200
        Passes over the training data (``fit`` runs them all unless early stopping stops it;
        ``partial_fit`` runs one).
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the training data (stratified by class), stop when
        its loss has not improved for ``n_iter_no_change`` epochs, and keep the weights of the
        best epoch.
    validation_fraction : float in (0, 1), default 0.1
    n_iter_no_change : int, default 10
    alpha : float, default 0.0001
        L2 penalty: the optimizer's ``weight_decay`` (see the module's notes).
    dropout : float or list of float, default 0.0
        Dropout rate after each hidden layer (one for all, or one per layer), in [0, 1).
    dtype : {"float32", "float64"}, default "float32"
    random_state : None, int, numpy RandomState or Generator
        Drives initialisation, shuffling, the validation split and dropout.
    verbose : int, default 0
        1 shows a progress bar.
    class_weight : None, "balanced" or dict {label: weight}
        Multiplies each sample's weight by the weight of its class; ``"balanced"`` uses
        ``n_samples / (n_classes * count(class))``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    loss_curve_ : list of float
        Training loss after each epoch (continued by ``partial_fit``).
    validation_loss_curve_ : list of float or None
        Validation loss after each epoch, when ``early_stopping`` held data out.
    n_iter_ : int
        Epochs run.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had string column names (a pandas DataFrame).
    model_ : glassnet.Sequential
        The trained network; its output is ``P(classes_[1])`` for two classes, else the
        probabilities of ``classes_``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = GlassNetClassifier((16,), learning_rate=0.01, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:1]).shape
    (1, 3)
    """

    _validate_y_options: dict = {}

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        optimizer="adam",
        learning_rate=0.001,
        batch_size="auto",
        epochs=200,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        alpha=0.0001,
        dropout=0.0,
        dtype="float32",
        random_state=None,
        verbose=0,
        class_weight=None,
    ):
        super().__init__(
            hidden_layer_sizes,
            activation,
            optimizer=optimizer,
            learning_rate=learning_rate,
            batch_size=batch_size,
            epochs=epochs,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            alpha=alpha,
            dropout=dropout,
            dtype=dtype,
            random_state=random_state,
            verbose=verbose,
        )
        self.class_weight = class_weight

    def fit(self, X, y, sample_weight=None):
        """Train a new network on ``X`` (n_samples, n_features) and labels ``y``."""
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch on ``X``, ``y``, continuing the network (and optimizer) if fitted.

        ``classes`` (every label that will ever appear) is required on the first call.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def predict_proba(self, X):
        """Class probabilities, shape ``(n_samples, n_classes)``, columns as ``classes_``."""
        return probabilities(self._predict_network(X))

    def predict(self, X):
        """The most probable class of each sample (labels from ``classes_``)."""
        output = self._predict_network(X)  # checks that the estimator is fitted
        return self.classes_[decode(output)]

    # -- what differs from the regressor --------------------------------------------------------
    def _encode_targets(self, y, classes, incremental):
        """Labels as indices into ``classes_`` (set by ``fit`` and a first ``partial_fit``)."""
        check_classification_targets(y)
        if incremental:
            _check_partial_fit_first_call(self, classes)  # sets or checks classes_
            unknown = np.setdiff1d(y, self.classes_)
            if unknown.size:
                raise ValueError(
                    f"y has labels {unknown.tolist()} that are not in classes_ "
                    f"{self.classes_.tolist()}"
                )
        else:
            self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes to learn from, got 1 class: "
                f"{self.classes_[0]!r}"
            )
        return np.searchsorted(self.classes_, y)

    def _head(self):
        """Two classes: one sigmoid unit and binary cross-entropy; more: softmax."""
        return head_for("classification", len(self.classes_))

    def _sample_weights(self, X, targets, sample_weight, incremental):
        if self.class_weight is not None:
            if incremental and isinstance(self.class_weight, str):
                raise ValueError(
                    "class_weight='balanced' is not supported by partial_fit: "
                    "one batch does not show the class frequencies; pass a "
                    "dict {label: weight}"
                )
            per_class = compute_class_weight(
                self.class_weight, classes=self.classes_, y=self.classes_[targets]
            )
            by_sample = per_class[targets]
            sample_weight = (
                by_sample
                if sample_weight is None
                else by_sample * _check_sample_weight(sample_weight, X, dtype=np.float64)
            )
        return super()._sample_weights(X, targets, sample_weight, incremental)


class GlassNetRegressor(RegressorMixin, _GlassNetEstimator):
    """A multi-layer perceptron regressor trained with glassnet (mean squared error).

    One identity output unit per target; ``y`` may be ``(n_samples,)`` or
    ``(n_samples, n_targets)``. Networks learn best when the targets are scaled too (see
    scikit-learn's ``TransformedTargetRegressor``).

    The parameters are those of :class:`GlassNetClassifier` but ``class_weight``.

    Attributes
    ----------
    loss_curve_, validation_loss_curve_, n_iter_, n_features_in_, feature_names_in_, model_
        As for :class:`GlassNetClassifier`.
    n_outputs_ : int
        Number of targets.
    """

    _validate_y_options = {"multi_output": True, "y_numeric": True}

    def fit(self, X, y, sample_weight=None):
        """Train a new network on ``X`` (n_samples, n_features) and targets ``y``."""
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch on ``X``, ``y``, continuing the network (and optimizer) if fitted."""
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """Predicted targets: ``(n_samples,)`` for one target, else ``(n_samples, n_targets)``."""
        out = self._predict_network(X)
        return out.ravel() if out.shape[1] == 1 else out

    def _encode_targets(self, y, classes, incremental):
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if incremental and hasattr(self, "model_") and n_outputs != self.n_outputs_:
            raise ValueError(
                f"y has {n_outputs} targets, but the model was fitted with {self.n_outputs_}"
            )
        self.n_outputs_ = n_outputs
        return y.reshape(len(y), n_outputs)

    def _head(self):
        return head_for("regression", self.n_outputs_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _network(settings: _Settings, n_features: int, units: int, activation: str) -> Sequential:
    """Dense hidden layers (each followed by its Dropout, if any), then the output layer."""
    layers = []
    for size, hidden, rate in zip(
        settings.hidden_layer_sizes, settings.activations, settings.dropouts, strict=True
    ):
        layers.append(Dense(size, activation=hidden))
        if rate > 0:
            layers.append(Dropout(rate))
    layers.append(Dense(units, activation=activation))
    return Sequential(layers, dtype=settings.dtype, input_shape=n_features)


# -- checks of single hyper-parameters ----------------------------------------------------------
def _check_sizes(value) -> tuple[int, ...]:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise TypeError(
            f"hidden_layer_sizes must be an integer or a sequence of integers, got {value!r}"
        )
    return tuple(check_int("hidden_layer_sizes", v, minimum=1) for v in value)


def _per_layer(name, value, n_layers, check) -> tuple:
    """One value for every hidden layer, or a list with one per layer, each checked."""
    if isinstance(value, list | tuple):
        if len(value) != n_layers:
            raise ValueError(
                f"{name} has {len(value)} entries but hidden_layer_sizes has "
                f"{n_layers} layers: give one {name} per hidden layer, or one "
                f"for all, got {value!r}"
            )
        return tuple(check(v) for v in value)
    return (check(value),) * n_layers


def _check_activation(value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"activation must be a name such as 'relu', got {value!r}")
    name = _ACTIVATION_ALIASES.get(value.lower(), value)
    return get_activation(name).name  # raises "unknown activation ...; valid names are ..."


def _check_dropout(value) -> float:
    return check_real("dropout", value, minimum=0, maximum=1, include_max=False)


def _check_optimizer(value) -> str:
    if not isinstance(value, str) or value.lower() not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(sorted(OPTIMIZERS))}, got {value!r}")
    return value.lower()


def _check_batch_size(value):
    if value is None or (isinstance(value, str) and value == "auto"):
        return value
    if isinstance(value, str):
        raise ValueError(f"batch_size must be 'auto', None or an integer >= 1, got {value!r}")
    return check_int("batch_size", value, minimum=1)


def _check_verbose(value) -> int:
    if isinstance(value, bool | np.bool_):
        return int(value)
    return check_int("verbose", value, minimum=0, maximum=2)


def _seed(random_state):
    """What ``Sequential.fit(rng=...)`` takes, from scikit-learn's ``random_state``.

    None and ints pass through (an int gives the same network every fit); a RandomState
    gives up one integer, advancing as scikit-learn estimators do; a Generator is used as is.
    """
    if random_state is None or isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return check_int("random_state", random_state, minimum=0)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    raise TypeError(
        f"random_state must be None, an int, a numpy RandomState or Generator, got {random_state!r}"
    )
