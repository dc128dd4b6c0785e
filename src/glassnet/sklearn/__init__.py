"""scikit-learn estimators: :class:`GlassNetClassifier` and :class:`GlassNetRegressor`, and
:class:`TableTransformer`, the table preprocessing of ``glassnet train`` as a transformer.

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
* ``alpha`` is the optimizer's ``weight_decay``: every weight's gradient gets
  ``+ alpha * p`` (not the biases'), i.e. ``alpha / 2 * ||W||^2`` is added to the averaged loss.
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

Where things are: :mod:`~glassnet.sklearn.settings` checks the hyper-parameters,
:mod:`~glassnet.sklearn.estimator` holds what both estimators share (storing, building the
network, training), :mod:`~glassnet.sklearn.classifier` and :mod:`~glassnet.sklearn.regressor`
what differs (the targets, the output head, the predictions); :mod:`~glassnet.sklearn.table`
holds :class:`TableTransformer`.
"""

from __future__ import annotations

try:
    from sklearn.utils.validation import validate_data  # noqa: F401  (new in scikit-learn 1.6)
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "glassnet.sklearn needs scikit-learn >= 1.6: pip install 'glassnet[sklearn]'"
    ) from exc

from glassnet.sklearn.classifier import GlassNetClassifier
from glassnet.sklearn.regressor import GlassNetRegressor
from glassnet.sklearn.table import TableTransformer

__all__ = ["GlassNetClassifier", "GlassNetRegressor", "TableTransformer"]
