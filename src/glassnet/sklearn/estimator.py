"""What the classifier and the regressor share: storing, building and training.

:class:`GlassNetEstimator` stores the hyper-parameters in ``__init__`` (nothing else, as
scikit-learn requires), checks them at ``fit`` (:func:`~glassnet.sklearn.settings.check_settings`),
builds a plain :class:`glassnet.Sequential` (kept as ``model_``) and trains it with
``Sequential.fit``.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from glassnet.errors import InputValueError
from glassnet.nn.layers import Dense, Dropout
from glassnet.nn.model import Sequential
from glassnet.sklearn.settings import Settings, check_settings
from glassnet.training.callbacks import EarlyStopping
from glassnet.training.optimizers import OPTIMIZERS

# batch_size="auto": scikit-learn's MLP default, min(200, n_samples) (no batch outgrows the data)
AUTO_BATCH_SIZE = 200


class GlassNetEstimator(BaseEstimator):
    """The shared base of :class:`GlassNetClassifier` and :class:`GlassNetRegressor`.

    Subclasses provide ``_encode_targets`` (``y`` as the network learns it), ``_head``
    (the output layer and loss, from :func:`glassnet.training.heads.head_for`) and
    ``_validate_y_options`` (what scikit-learn's ``validate_data`` accepts as ``y``).
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

    def _fit(self, X, y, sample_weight, *, incremental, classes=None):
        """``fit`` (a new network, ``epochs`` passes) or ``partial_fit`` (one pass, continuing
        the network and its optimizer state when there is one)."""
        settings = check_settings(self)
        first_call = not (incremental and hasattr(self, "model_"))
        dtype = settings.dtype if first_call else self.model_.dtype
        X, y = validate_data(self, X, y, reset=first_call, dtype=dtype, **self._validate_y_options)
        targets = self._encode_targets(y, classes, incremental)
        weights = self._sample_weights(X, targets, sample_weight, incremental)
        first_fit_options = self._new_network(settings, X.shape[1]) if first_call else {}
        validation_split, callbacks = _early_stopping(settings, incremental)
        self.model_.fit(
            X,
            targets,
            epochs=1 if incremental else settings.epochs,
            batch_size=AUTO_BATCH_SIZE if settings.batch_size == "auto" else settings.batch_size,
            validation_split=validation_split,
            callbacks=callbacks,
            sample_weight=weights,
            verbose=settings.verbose,
            **first_fit_options,
        )
        history = self.model_.history
        self.loss_curve_ = list(history.loss)
        self.validation_loss_curve_ = list(history.val_loss) or None
        self.n_iter_ = len(self.loss_curve_)
        return self

    def _new_network(self, settings: Settings, n_features: int) -> dict:
        """Build ``model_`` and return what its first ``fit`` needs: the loss, a new optimizer
        and the seed (later ``partial_fit`` calls continue with the same ones)."""
        head = self._head()
        self.model_ = _network(settings, n_features, head.units, head.activation)
        optimizer = OPTIMIZERS[settings.optimizer](
            learning_rate=settings.learning_rate, weight_decay=settings.alpha
        )
        return {"loss": head.loss, "optimizer": optimizer, "rng": settings.seed}

    def _sample_weights(self, X, targets, sample_weight, incremental):
        """Per-sample weights rescaled to average 1, or None when none are given."""
        if sample_weight is None:
            return None
        w = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        if not w.any():
            raise InputValueError(
                "Sample weights must contain at least one non-zero number; "
                "sample_weight is zero for every sample"
            )
        return w * (len(w) / w.sum())  # a new array: the caller's is never modified

    def _predict_network(self, X):
        """The network's output for ``X``, as float64 (scikit-learn's working precision)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=self.model_.dtype)
        return self.model_.predict(X).astype(np.float64, copy=False)


def _early_stopping(settings: Settings, incremental: bool) -> tuple[float, list]:
    """The validation split and callbacks of one ``fit``: with ``early_stopping`` (never in
    ``partial_fit``), hold out ``validation_fraction`` and keep the best epoch's weights."""
    if not settings.early_stopping or incremental:
        return 0.0, []
    stop = EarlyStopping("val_loss", patience=settings.n_iter_no_change, restore_best_weights=True)
    return settings.validation_fraction, [stop]


def _network(settings: Settings, n_features: int, units: int, activation: str) -> Sequential:
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
