"""GlassNetClassifier: a glassnet multi-layer perceptron behind scikit-learn's classifier contract.

Labels are learned as indices into ``classes_``; the output head is glassnet's
(:func:`glassnet.training.heads.head_for`): one sigmoid unit for two classes, a softmax for more.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import _check_partial_fit_first_call, check_classification_targets
from sklearn.utils.validation import _check_sample_weight

from glassnet.errors import InputValueError
from glassnet.sklearn.estimator import GlassNetEstimator
from glassnet.training.heads import decode, head_for, probabilities


class GlassNetClassifier(ClassifierMixin, GlassNetEstimator):
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
        L2 penalty: the optimizer's ``weight_decay`` (see :mod:`glassnet.sklearn`).
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
                raise InputValueError(
                    f"y has labels {unknown.tolist()} that are not in classes_ "
                    f"{self.classes_.tolist()}"
                )
        else:
            self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise InputValueError(
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
                raise InputValueError(
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
