"""The metrics module: hand-worked numbers, with scikit-learn's metrics as an oracle."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as sk

from glassnet.training.metrics import (
    accuracy,
    confusion_matrix,
    count_correct,
    macro_f1,
    regression_metrics,
)


def test_accuracy_by_hand_and_against_sklearn():
    y_true = np.array([0, 1, 2, 2, 1])
    y_pred = np.array([0, 2, 2, 2, 0])
    assert accuracy(y_true, y_pred) == 3 / 5
    assert accuracy(["a", "b"], ["a", "a"]) == 0.5
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    assert accuracy(a, b) == sk.accuracy_score(a, b)


def test_accuracy_refuses_mismatched_or_empty():
    with pytest.raises(ValueError, match="same length, got 2 and 3"):
        accuracy([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="y_true is empty"):
        accuracy([], [])


def test_count_correct_integer_labels_is_argmax():
    output = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.4, 0.5, 0.1], [0.2, 0.2, 0.6]])
    # argmax per row: 0, 2, 1, 2; labels 0, 2, 0, 1 -> rows 0 and 1 right
    assert count_correct(output, np.array([0, 2, 0, 1])) == 2


def test_count_correct_zero_one_targets_need_every_unit_right():
    output = np.array([[0.9, 0.2], [0.6, 0.7], [0.5, 0.1], [0.4, 0.4]])
    y = np.array([[1, 0], [1, 0], [1, 0], [0, 0]])
    # row 0: both right; row 1: second unit wrong; row 2: 0.5 counts as 1 -> right; row 3 right
    assert count_correct(output, y) == 3
    # one sigmoid unit (n, 1): the same rule, and sklearn's exact-match accuracy agrees
    p = np.array([[0.2], [0.5], [0.8], [0.49]])
    t = np.array([[0], [1], [0], [1]])
    assert count_correct(p, t) == 2
    assert count_correct(output, y) / 4 == sk.accuracy_score(y, (output >= 0.5).astype(int))


def test_confusion_matrix_by_hand_and_against_sklearn():
    true = [0, 0, 1, 2, 2, 2]
    pred = [0, 1, 1, 2, 0, 2]
    expected = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_array_equal(confusion_matrix(true, pred, 3), expected)
    np.testing.assert_array_equal(confusion_matrix(true, pred), expected)  # k inferred
    # an absent class keeps its row and column when k is given
    np.testing.assert_array_equal(
        confusion_matrix([0, 1], [1, 1], 3), [[0, 1, 0], [0, 1, 0], [0, 0, 0]]
    )
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 5, 300), rng.integers(0, 5, 300)
    np.testing.assert_array_equal(
        confusion_matrix(a, b, 5), sk.confusion_matrix(a, b, labels=range(5))
    )


def test_macro_f1_by_hand():
    # class 0: TP 1, FP 1, FN 1 -> F1 = 2/4; class 1: TP 1, FP 1, FN 0 -> 2/3;
    # class 2: TP 2, FP 0, FN 1 -> 4/5
    matrix = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert macro_f1(matrix) == pytest.approx((1 / 2 + 2 / 3 + 4 / 5) / 3, abs=1e-15)


def test_macro_f1_against_sklearn_with_an_absent_class():
    rng = np.random.default_rng(2)
    a, b = rng.integers(0, 4, 100), rng.integers(0, 4, 100)
    matrix = confusion_matrix(a, b, 4)
    assert macro_f1(matrix) == pytest.approx(sk.f1_score(a, b, average="macro"), abs=1e-12)
    # class 2 present but never predicted scores 0; class 3 absent everywhere is left out
    true, pred = [0, 1, 2, 2], [0, 1, 0, 1]
    expected = sk.f1_score(true, pred, average="macro", zero_division=0)
    assert macro_f1(confusion_matrix(true, pred, 4)) == pytest.approx(expected, abs=1e-15)
    assert macro_f1(np.zeros((3, 3))) == 0.0


def test_regression_metrics_by_hand_and_against_sklearn():
    y_true = np.array([1.0, 2.0, 3.0, 4.0])
    y_pred = np.array([1.5, 2.0, 2.0, 5.0])
    # residuals -0.5, 0, 1, -1: SS_res 2.25, |r| sum 2.5; mean 2.5 -> SS_tot 5
    result = regression_metrics(y_true, y_pred)
    assert result == {"rmse": math.sqrt(2.25 / 4), "mae": 2.5 / 4, "r2": 1 - 2.25 / 5}
    assert result["rmse"] == pytest.approx(math.sqrt(sk.mean_squared_error(y_true, y_pred)))
    assert result["mae"] == pytest.approx(sk.mean_absolute_error(y_true, y_pred))
    assert result["r2"] == pytest.approx(sk.r2_score(y_true, y_pred))


def test_r2_of_a_constant_target_is_nan():
    result = regression_metrics([3.0, 3.0, 3.0], [3.0, 3.0, 3.0])
    assert result["rmse"] == 0.0 and result["mae"] == 0.0
    assert math.isnan(result["r2"])
    assert math.isnan(regression_metrics([2.0, 2.0], [1.0, 4.0])["r2"])
