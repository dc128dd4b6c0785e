"""GlassNetRegressor: a glassnet multi-layer perceptron behind scikit-learn's regressor contract.

One identity output unit per target, trained with mean squared error.
"""

from __future__ import annotations

from sklearn.base import RegressorMixin

from glassnet.errors import InputValueError
from glassnet.sklearn.estimator import GlassNetEstimator
from glassnet.training.heads import head_for


class GlassNetRegressor(RegressorMixin, GlassNetEstimator):
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
            raise InputValueError(
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
