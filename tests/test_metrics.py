"""The metrics module: hand-worked numbers, with scikit-learn's metrics as an oracle."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as sk

import glassnet as gn
from glassnet.training.metrics import (
    RegressionSums,
    Undefined,
    accuracy,
    confusion_matrix,
    count_correct,
    macro_f1,
    mean_absolute_error,
    mean_squared_error,
    precision_recall_f1,
    r2_score,
    regression_metrics,
    roc_auc,
    roc_auc_ovr,
    root_mean_squared_error,
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


# -- weighted metrics, against scikit-learn's with sample_weight --------------------------------
def _labels_and_weights(seed, n=300, k=2):
    rng = np.random.default_rng(seed)
    return rng.integers(0, k, n), rng.integers(0, k, n), rng.uniform(0.1, 3.0, n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weighted_accuracy_and_confusion_matrix_match_sklearn(seed):
    a, b, w = _labels_and_weights(seed, k=4)
    assert accuracy(a, b, w) == pytest.approx(sk.accuracy_score(a, b, sample_weight=w), 1e-14)
    np.testing.assert_allclose(
        confusion_matrix(a, b, 4, sample_weight=w),
        sk.confusion_matrix(a, b, labels=range(4), sample_weight=w),
        rtol=1e-14,
    )
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(300,\), got \(2,\)"):
        accuracy(a, b, [1.0, 2.0])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_precision_recall_f1_match_sklearn_binary_macro_weighted(seed, weighted):
    for k, averages in ((2, ("binary", "macro", "weighted")), (4, ("macro", "weighted"))):
        a, b, w = _labels_and_weights(seed, k=k)
        w = w if weighted else None
        matrix = confusion_matrix(a, b, k, sample_weight=w)
        for average in averages:
            got = precision_recall_f1(matrix, average)
            for name, oracle in (
                ("precision", sk.precision_score),
                ("recall", sk.recall_score),
                ("f1", sk.f1_score),
            ):
                expected = oracle(a, b, average=average, sample_weight=w, zero_division=0)
                assert got[name] == pytest.approx(expected, abs=1e-13), (k, average, name)


def test_binary_scores_of_a_zero_denominator_are_undefined_like_sklearns_nan():
    true, pred = [0, 0, 1, 1], [0, 0, 0, 0]  # nothing predicted positive
    got = precision_recall_f1(confusion_matrix(true, pred, 2), "binary")
    assert math.isnan(sk.precision_score(true, pred, zero_division=np.nan))
    assert isinstance(got["precision"], Undefined)
    assert got["precision"].reason == "nothing was predicted positive: precision is 0/0"
    assert got["recall"] == 0.0 and got["f1"] == 0.0  # TP 0, FN 2: defined, and 0
    got = precision_recall_f1(confusion_matrix([0, 0], [0, 0], 2), "binary")
    assert got["f1"].reason == "no sample is or was predicted positive: f1 is 0/0"
    assert got["recall"].reason == "no sample is positive: recall is 0/0"
    with pytest.raises(ValueError, match="average='binary' needs 2 classes, got 3"):
        precision_recall_f1(np.eye(3), "binary")
    with pytest.raises(ValueError, match="average must be one of"):
        precision_recall_f1(np.eye(3), "micro")


def test_roc_auc_by_hand_with_a_tie():
    # positives score 0.8 and 0.4, negatives 0.4 and 0.1: of the 4 (positive, negative)
    # pairs, 0.8 beats both, 0.4 beats 0.1 and ties 0.4 (1/2): AUC = (1 + 1 + 1 + 0.5) / 4
    assert roc_auc([1, 1, 0, 0], [0.8, 0.4, 0.4, 0.1]) == 3.5 / 4
    # weights 2 on the first positive: (2*2 + 1*1.5) / (3 * 2)
    assert roc_auc([1, 1, 0, 0], [0.8, 0.4, 0.4, 0.1], [2, 1, 1, 1]) == 5.5 / 6
    only = roc_auc([1, 1], [0.2, 0.3])
    assert math.isnan(only) and only.reason == "only class 1 is present: ROC AUC needs both classes"


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("weighted", [False, True])
def test_roc_auc_matches_sklearn_with_many_ties(seed, weighted):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 500)
    score = np.round(rng.uniform(size=500) + 0.3 * y, 1)  # 14 distinct values: ties everywhere
    w = rng.uniform(0.1, 2.0, 500) if weighted else None
    assert roc_auc(y, score, w) == pytest.approx(sk.roc_auc_score(y, score, sample_weight=w), 1e-12)
    # a logit ranks like its probability
    assert roc_auc(y, np.log(score + 1e-3), w) == roc_auc(y, score, w)


@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 4), st.integers(1, 3)), min_size=2))
@settings(max_examples=60, deadline=None)
def test_roc_auc_equals_sklearn_on_any_small_sample(rows):
    y, score, w = (np.array(column) for column in zip(*rows, strict=True))
    if y.min() == y.max():
        assert math.isnan(roc_auc(y, score, w))
        return
    assert roc_auc(y, score, w) == pytest.approx(sk.roc_auc_score(y, score, sample_weight=w))


@pytest.mark.parametrize("weighted", [False, True])
def test_multiclass_roc_auc_is_sklearns_one_vs_rest_macro(weighted):
    rng = np.random.default_rng(5)
    y = rng.integers(0, 4, 400)
    logits = rng.normal(size=(400, 4)) + np.eye(4)[y]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    w = rng.uniform(0.1, 2.0, 400) if weighted else None
    expected = sk.roc_auc_score(y, p, multi_class="ovr", average="macro", sample_weight=w)
    assert roc_auc_ovr(y, p, w) == pytest.approx(expected, abs=1e-13)
    absent = roc_auc_ovr(y[y != 2], p[y != 2])
    assert absent.reason == "class 2 is absent: ROC AUC one-vs-rest needs every class"


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("outputs", [1, 3])
def test_regression_metrics_match_sklearn_weighted_and_multioutput(weighted, outputs):
    rng = np.random.default_rng(outputs)
    y = rng.normal(size=(200, outputs)) * [1.0, 10.0, 0.1][:outputs]
    y_hat = y + rng.normal(size=y.shape)
    w = rng.uniform(0.1, 2.0, 200) if weighted else None
    for ours, oracle in (
        (mean_absolute_error, sk.mean_absolute_error),
        (mean_squared_error, sk.mean_squared_error),
        (root_mean_squared_error, sk.root_mean_squared_error),
        (r2_score, sk.r2_score),
    ):
        assert ours(y, y_hat, w) == pytest.approx(oracle(y, y_hat, sample_weight=w), rel=1e-12)


@given(st.lists(st.integers(1, 40), min_size=1, max_size=6), st.booleans())
@settings(max_examples=40, deadline=None)
def test_regression_sums_added_batch_by_batch_equal_one_pass(sizes, weighted):
    """Chan's pairwise update: any split into batches gives the one-pass sums (to rounding)."""
    rng = np.random.default_rng(sum(sizes))
    n = sum(sizes)
    y = 1e6 + rng.normal(size=(n, 2))  # a large mean: the naive sum of squares would cancel
    y_hat = y + rng.normal(size=y.shape)
    w = rng.uniform(0.1, 2.0, n) if weighted else None
    sums, start = RegressionSums(), 0
    for size in sizes:
        rows = slice(start, start + size)
        sums.add(y[rows], y_hat[rows], None if w is None else w[rows])
        start += size
    if n > 1:
        # each y = 1e6 + x is stored to 1.2e-10 (its ulp): SS_tot, SS_res of deviations ~1
        # carry ~1e-10 relative noise either way, and R² ~0 is compared absolutely too
        expected = sk.r2_score(y, y_hat, sample_weight=w)
        assert sums.r2() == pytest.approx(expected, rel=1e-8, abs=1e-8)
    assert sums.mae() == pytest.approx(sk.mean_absolute_error(y, y_hat, sample_weight=w))


def test_an_empty_regression_is_refused():
    with pytest.raises(ValueError, match=r"y_true is empty \(or all its weights are 0\)"):
        mean_absolute_error([], [])


# -- the losses' weighted means ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["mse", "sse", "bce", "cross_entropy"])
def test_a_weighted_loss_is_the_mean_of_weighted_terms_over_the_batch(name):
    """``L_w = sum_i w_i l_i / n`` (``sum_i w_i l_i`` for SSE): with weights all 1 it is the
    unweighted loss; weights 2 double it; the per-sample terms ``l_i`` are PyTorch's."""
    torch = pytest.importorskip("torch")
    from torch.nn import functional as F

    rng = np.random.default_rng(0)
    loss = gn.nn.losses.get_loss(name)
    if name == "cross_entropy":
        z, y = rng.normal(size=(6, 3)), rng.integers(0, 3, 6)
        per = F.cross_entropy(torch.tensor(z), torch.tensor(y), reduction="none").numpy()
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    elif name == "bce":
        z, y = rng.normal(size=(6, 1)), rng.integers(0, 2, (6, 1)).astype(float)
        per = F.binary_cross_entropy_with_logits(
            torch.tensor(z), torch.tensor(y), reduction="none"
        ).numpy()[:, 0]
        p = 1 / (1 + np.exp(-z))
    else:
        p, y = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
        per = ((p - y) ** 2).mean(axis=1) if name == "mse" else ((p - y) ** 2).sum(axis=1)
    w = rng.uniform(0.1, 2.0, 6)
    expected = (w * per).sum() / (1 if name == "sse" else 6)
    assert loss.forward(p, y, w) == pytest.approx(expected, rel=1e-12)
    assert loss.forward(p, y, np.ones(6)) == pytest.approx(loss.forward(p, y), rel=1e-15)
    if name in ("bce", "cross_entropy"):
        assert loss.loss_from_logits(z, y, w)[0] == pytest.approx(expected, rel=1e-12)


def test_the_metrics_cost_benchmark_runs():
    """benchmarks/metrics_cost.py --quick: every configuration runs (no timing is checked)."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "metrics_cost.py"
    done = subprocess.run(
        [sys.executable, str(script), "--quick"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert 'metrics=["auc", "f1"]' in done.stdout and "1.000x" in done.stdout
