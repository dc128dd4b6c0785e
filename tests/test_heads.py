"""The output head: task and k -> last layer and loss; decoding outputs to labels."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from glassnet.training.heads import Head, decode, head_for, probabilities


def test_head_for_each_task():
    assert head_for("classification", 2) == Head(1, "sigmoid", "bce")
    assert head_for("classification", 3) == Head(3, "softmax", "cross_entropy")
    assert head_for("classification", np.int64(10)) == Head(10, "softmax", "cross_entropy")
    assert head_for("regression", 1) == Head(1, "identity", "mse")
    assert head_for("regression", 4) == Head(4, "identity", "mse")


def test_head_is_frozen():
    head = head_for("classification", 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        head.units = 2


def test_head_for_refuses_bad_task_and_counts():
    with pytest.raises(
        ValueError, match="task must be 'classification' or 'regression', got 'clf'"
    ):
        head_for("clf", 2)
    with pytest.raises(ValueError, match="classification needs n_outputs >= 2 classes, got 1"):
        head_for("classification", 1)
    with pytest.raises(ValueError, match="regression needs n_outputs >= 1 targets, got 0"):
        head_for("regression", 0)
    with pytest.raises(TypeError, match="n_outputs must be an integer, got 2.0"):
        head_for("classification", 2.0)
    with pytest.raises(TypeError, match="n_outputs must be an integer, got True"):
        head_for("regression", True)


def test_decode_one_unit_thresholds_at_one_half():
    np.testing.assert_array_equal(decode(np.array([[0.1], [0.5], [0.4999], [0.9]])), [0, 1, 0, 1])
    assert decode(np.array([[0.7]])).dtype == np.intp


def test_decode_several_units_is_argmax_first_on_ties():
    output = np.array([[0.2, 0.5, 0.3], [0.4, 0.4, 0.2], [0.0, 0.1, 0.9]])
    np.testing.assert_array_equal(decode(output), [1, 0, 2])


def test_probabilities_expand_one_unit():
    p = np.array([[0.25], [0.875]])  # exact in binary, so 1 - p is exact too
    np.testing.assert_array_equal(probabilities(p), [[0.75, 0.25], [0.125, 0.875]])
    softmax = np.array([[0.2, 0.3, 0.5]])
    np.testing.assert_array_equal(probabilities(softmax), softmax)


def test_decode_and_probabilities_refuse_bad_shapes():
    with pytest.raises(ValueError, match=r"output must have shape \(n_samples, n_units\).*\(3,\)"):
        decode(np.array([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match=r"got \(2, 0\)"):
        probabilities(np.zeros((2, 0)))
