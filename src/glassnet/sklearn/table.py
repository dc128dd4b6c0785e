"""TableTransformer: the table preprocessing of ``glassnet train`` as a scikit-learn transformer.

``tabular.train`` turns a table's feature columns into the network's inputs in one way, and
this transformer is that way, step for step, for a scikit-learn ``Pipeline``: each column is
read as text (a DataFrame's cells as ``to_csv`` writes them) and typed — numbers where every
present value is one, text otherwise (:mod:`glassnet.datasets.tabular`) —, missing values are
filled (``impute``) with values learned in ``fit``, text columns are one-hot encoded (a category
``fit`` never saw becomes all zeros), and numeric columns scaled (``scaling``), all by the same
:class:`~glassnet.tabular.preprocessing.TablePreprocessor` that ``train`` stores in its
model. Fitted on the rows ``train`` learns from, it gives exactly the features ``train``
feeds its network (``tests/test_sklearn.py`` checks it)::

    >>> from sklearn.pipeline import make_pipeline
    >>> from glassnet.sklearn import GlassNetClassifier, TableTransformer
    >>> clf = make_pipeline(TableTransformer(impute="mean"), GlassNetClassifier(random_state=0))

``X`` is a pandas DataFrame (or a 2-D array, whose columns are named ``x0``, ``x1``, ...);
``y`` is ignored. The output is a float64 array with one column per name of
:meth:`TableTransformer.get_feature_names_out` (``island=Biscoe``, ``bill_length_mm``, ...);
``set_output(transform="pandas")`` makes it a DataFrame. It passes every check of
scikit-learn's ``check_estimator`` (``tests/test_sklearn.py``): clone, ``get_params``,
pickling, ``NotFittedError``, its messages for arrays that are empty, 1-D, sparse or complex.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from glassnet.datasets import tabular as tables
from glassnet.errors import InputValueError, Param
from glassnet.tabular.columns import plural
from glassnet.tabular.preprocessing import (
    IMPUTE_STRATEGIES,
    MissingValueError,
    TablePreprocessor,
)


class TableTransformer(TransformerMixin, BaseEstimator):
    """A table's feature columns -> the scaled, one-hot encoded matrix ``train`` uses.

    Parameters
    ----------
    impute : None or {"mean", "median", "most_frequent"}, default None
        How missing values are filled, with a value learned in ``fit`` from the column's
        present values (a text column always takes its most frequent value). None: a missing
        value is an error naming its column and row.
    scaling : {"robust", "standard"}, default "robust"
        How numeric columns are scaled, as ``train`` does: ``"robust"`` (median and
        interquartile range, then a smooth clip into (-3, 3)) or ``"standard"``
        (``(x - mean) / std``); see :class:`~glassnet.tabular.preprocessing.TablePreprocessor`.

    Attributes
    ----------
    preprocessor_ : TablePreprocessor
        What ``fit`` learned: column kinds, fill values, categories, means and scales (its
        target side is unused: a transformer sees the features only).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` was a DataFrame with string column names.
    """

    def __init__(self, impute=None, scaling="robust"):
        self.impute = impute
        self.scaling = scaling

    def fit(self, X, y=None):
        """Learn the column kinds, fill values, categories and scales from ``X``."""
        X = _checked(X)
        validate_data(self, X, reset=True, skip_check_array=True)
        text = _as_text(X)
        kinds = tables.column_kinds(text)
        try:  # the target side of a TablePreprocessor is never fitted here: only the features
            pre = TablePreprocessor(
                list(kinds.items()), "(target)", "regression", impute=self.impute,
                scaling=self.scaling,
            )  # fmt: skip
        except ValueError as exc:  # impute or scaling: the hyper-parameters
            raise InvalidParameterError(str(exc)) from None
        for name in text.columns:
            if text[name].isna().all():
                raise InputValueError(
                    f"column {name!r} of X is empty: leave it out before this transformer"
                )
        frame = tables.typed(text, kinds)
        if self.impute is None:
            _refuse_missing(frame)
        self.preprocessor_ = pre.fit(frame)
        return self

    def transform(self, X):
        """The network's inputs for the rows of ``X``: ``(n_rows, n_outputs)``, float64."""
        check_is_fitted(self)
        X = _checked(X)
        validate_data(self, X, reset=False, skip_check_array=True)
        text = _as_text(X)
        pre = self.preprocessor_
        names = [name for name, _ in pre.columns]
        absent = [name for name in names if name not in text.columns]
        if absent:
            raise InputValueError(
                f"X has no column {absent[0]!r}, which the transformer was fitted on"
            )
        try:
            return pre.transform(tables.typed(text[names], dict(pre.columns)))
        except MissingValueError as exc:
            raise InputValueError(
                "column {column!r} has {count} (NaN or None, first in row {row}) and nothing "
                "to fill them with: fit with {impute}",
                column=exc.column,
                count=plural(exc.count, "missing value"),
                row=exc.row,
                impute=Param("impute", choices=IMPUTE_STRATEGIES),
            ) from None

    def get_feature_names_out(self, input_features=None):
        """The output columns' names: ``"bill_length_mm"``, ``"island=Biscoe"``, ..."""
        check_is_fitted(self)
        return np.asarray(self.preprocessor_.input_names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.impute is not None
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags


def _checked(X):
    """A DataFrame as it is; anything else checked as scikit-learn checks it (2-D, dense, not
    empty, not complex), with its messages."""
    return X if tables.is_frame(X) else check_array(X, dtype=None, ensure_all_finite=False)


def _as_text(X):
    """``X`` as a table of text: a DataFrame's cells, or an array's as columns x0, x1, ..."""
    import pandas as pd

    if not tables.is_frame(X):
        X = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    return tables.frame_as_text(X, "X")


def _refuse_missing(frame) -> None:
    for name in frame.columns:
        missing = frame[name].isna().to_numpy()
        if missing.any():
            raise InputValueError(
                "column {name!r} has {count} (NaN or None, first in row {row}): fill them "
                "with {impute}, or leave those rows out first",
                name=name,
                count=plural(missing.sum(), "missing value"),
                row=int(np.argmax(missing)) + 1,
                impute=Param("impute", choices=IMPUTE_STRATEGIES),
            )
