"""The problems in the plane (glassnet.datasets.planar): the seeds' tables as the seeds print
them, each generator's shape made exactly at zero noise, and a split that one seed fixes."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import datasets
from glassnet.datasets import PLANAR, make_circle, make_clusters, make_surface, planar_dataset


def test_the_seeds_tables_are_theirs_and_all_train():
    X, y, X_test, y_test = planar_dataset("gender")
    np.testing.assert_array_equal(X, [[-2, -1], [25, 6], [17, 4], [-15, -6]])
    np.testing.assert_array_equal(y, [1, 0, 0, 1])
    assert X_test.shape == (0, 2) and y_test.shape == (0,)
    X, y, *_ = planar_dataset("perceptron", n_samples=50, noise=0.3)  # ignored
    table, labels = datasets.perceptron_table()
    np.testing.assert_array_equal(X, table[:, :2])
    np.testing.assert_array_equal(y, labels[:, 0])
    np.testing.assert_array_equal(y, X[:, 0])  # seed 000: the output is the first input
    X, y, *_ = planar_dataset("xor")
    np.testing.assert_array_equal(y, np.logical_xor(X[:, 0], X[:, 1]))


def test_without_noise_each_shape_is_exact():
    X, y = make_circle(400, noise=0.0, rng=1)
    r = np.hypot(X[:, 0], X[:, 1])
    assert r[y == 1].max() <= 0.5 and r[y == 0].min() >= 0.7 and r.max() <= 1.0
    assert y.sum() == 200
    X, y = make_clusters(10, noise=0.0, rng=1)
    assert y.sum() == 5 and X.shape == (10, 2)
    X, y = make_surface(50, noise=0.0, rng=1)
    np.testing.assert_array_equal(y, np.sin(np.pi * X[:, 0]) * np.cos(np.pi * X[:, 1] / 2))
    assert np.abs(X).max() <= 1


@pytest.mark.parametrize("name", [n for n, p in PLANAR.items() if not p.fixed])
def test_a_split_is_fixed_by_its_seed(name):
    X_train, y_train, X_test, y_test = planar_dataset(
        name, n_samples=101, train_fraction=0.3, rng=4
    )
    assert X_train.shape == (30, 2) and X_test.shape == (71, 2)
    assert y_train.shape == (30,) and y_test.shape == (71,)
    again = planar_dataset(name, n_samples=101, train_fraction=0.3, rng=4)
    for a, b in zip(again, (X_train, y_train, X_test, y_test), strict=True):
        np.testing.assert_array_equal(a, b)
    other = planar_dataset(name, n_samples=101, train_fraction=0.3, rng=5)
    assert not np.array_equal(other[0], X_train)
    if PLANAR[name].kind == "classification":
        assert set(np.unique(np.r_[y_train, y_test])) == {0, 1}


def test_every_row_is_on_one_side_of_the_split():
    X_train, _, X_test, _ = planar_dataset("moons", n_samples=40, rng=0)
    X, _ = datasets.make_moons(40, noise=0.1, rng=np.random.default_rng(0))
    rows = {tuple(r) for r in np.r_[X_train, X_test]}
    assert rows == {tuple(r) for r in X} and len(rows) == 40


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": "mnist"}, "name must be one of gender, .*, got 'mnist'"),
        ({"name": "circle", "train_fraction": 1.0}, "train_fraction must be < 1"),
        ({"name": "circle", "train_fraction": 0}, "train_fraction must be > 0"),
        ({"name": "circle", "n_samples": 1}, "n_samples must be >= 2"),
        ({"name": "circle", "noise": -1}, "noise must be >= 0"),
    ],
)
def test_bad_arguments_name_the_parameter(options, message):
    with pytest.raises(ValueError, match=message):
        planar_dataset(**options)
