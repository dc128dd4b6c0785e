"""Problems in the plane: two inputs, one target — the playground's data, and the seeds' own.

Every set is two features ``X`` of shape ``(n, 2)`` and one target per row:

==============  ===============  ==========================================================
name            kind             what it is
==============  ===============  ==========================================================
``gender``      classification   seed 002's four people (weight - 135 lb, height - 66 in),
                                 1 = female
``perceptron``  classification   seed 000's table, its two varying inputs (the third input
                                 is a constant 1, which a bias plays here); y = first input
``xor``         classification   seed 001's XOR of two inputs
``circle``      classification   a disc (1) inside a ring (0)
``moons``       classification   two interleaving half circles (:func:`make_moons`)
``spiral``      classification   two interleaved spiral arms (:func:`make_spirals`)
``clusters``    classification   two Gaussian clusters
``regression``  regression       the surface ``y = sin(pi x1) cos(pi x2 / 2)`` plus noise
==============  ===============  ==========================================================

:func:`planar_dataset` draws one and splits it into training and test rows with one
generator: the same name, sizes, noise and ``rng`` give the same rows, in the same order.
The seeds' sets are their tables as printed: ``n_samples`` and ``noise`` do not apply, and
every row trains (there is no test set).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from glassnet._validation import as_generator, check_int, check_real
from glassnet.errors import InputValueError


class Planar(NamedTuple):
    """One named problem: its title, its kind, and whether it is a seed's fixed table."""

    title: str
    kind: str  # "classification" or "regression"
    fixed: bool


PLANAR = {
    "gender": Planar("Seed 002: four people", "classification", True),
    "perceptron": Planar("Seed 000: the perceptron table", "classification", True),
    "xor": Planar("Seed 001: XOR", "classification", True),
    "circle": Planar("Circle", "classification", False),
    "moons": Planar("Two moons", "classification", False),
    "spiral": Planar("Spiral", "classification", False),
    "clusters": Planar("Gaussian clusters", "classification", False),
    "regression": Planar("Regression surface", "regression", False),
}


def make_circle(n_samples=200, *, noise=0.1, rng=None):
    """A disc of radius 0.5 (class 1) inside a ring from 0.7 to 1 (class 0), each point moved
    by Gaussian noise of standard deviation ``noise``. Returns ``(X, y)``, rows shuffled."""
    n = check_int("n_samples", n_samples, minimum=2)
    noise = check_real("noise", noise, minimum=0.0)
    rng = as_generator(rng)
    inside = n // 2
    radius = np.r_[rng.uniform(0, 0.5, inside), rng.uniform(0.7, 1.0, n - inside)]
    angle = rng.uniform(0, 2 * np.pi, n)
    X = np.c_[radius * np.cos(angle), radius * np.sin(angle)] + rng.normal(0, noise, (n, 2))
    y = np.r_[np.ones(inside, dtype=int), np.zeros(n - inside, dtype=int)]
    perm = rng.permutation(n)
    return X[perm], y[perm]


def make_clusters(n_samples=200, *, noise=0.1, rng=None):
    """Two Gaussian clusters around ``(0.5, 0.5)`` (class 1) and ``(-0.5, -0.5)`` (class 0),
    of standard deviation ``0.2 + noise``. Returns ``(X, y)``, rows shuffled."""
    n = check_int("n_samples", n_samples, minimum=2)
    noise = check_real("noise", noise, minimum=0.0)
    rng = as_generator(rng)
    ones = n // 2
    centres = np.r_[np.full((ones, 2), 0.5), np.full((n - ones, 2), -0.5)]
    X = centres + rng.normal(0, 0.2 + noise, (n, 2))
    y = np.r_[np.ones(ones, dtype=int), np.zeros(n - ones, dtype=int)]
    perm = rng.permutation(n)
    return X[perm], y[perm]


def make_surface(n_samples=200, *, noise=0.1, rng=None):
    """Points uniform on ``[-1, 1]^2`` with the target ``sin(pi x1) cos(pi x2 / 2)`` plus
    Gaussian noise of standard deviation ``noise``. Returns ``(X, y)``, ``y`` float."""
    n = check_int("n_samples", n_samples, minimum=2)
    noise = check_real("noise", noise, minimum=0.0)
    rng = as_generator(rng)
    X = rng.uniform(-1, 1, (n, 2))
    y = np.sin(np.pi * X[:, 0]) * np.cos(np.pi * X[:, 1] / 2) + rng.normal(0, noise, n)
    return X, y


def _seed_table(name: str):
    from glassnet import datasets

    if name == "gender":
        return datasets.gender()
    if name == "perceptron":
        X, y = datasets.perceptron_table()
        return X[:, :2], y[:, 0].astype(int)  # the constant third input is the bias here
    return datasets.xor()


def planar_dataset(name, *, n_samples=200, noise=0.1, train_fraction=0.5, rng=None):
    """The problem ``name`` (one of :data:`PLANAR`), split into training and test rows.

    Returns ``(X_train, y_train, X_test, y_test)``: ``X`` float64 of shape ``(n, 2)``, ``y``
    integer labels (classification) or floats (regression). A random ``train_fraction`` of
    the ``n_samples`` rows trains (at least one row on each side); the generator ``rng``
    draws the points, then the split. The seeds' tables ignore ``n_samples``, ``noise`` and
    ``train_fraction``: all their rows train, and the test set is empty.

    >>> X_train, y_train, X_test, y_test = planar_dataset("circle", n_samples=10, rng=0)
    >>> X_train.shape, X_test.shape
    ((5, 2), (5, 2))
    """
    if name not in PLANAR:
        raise InputValueError(f"name must be one of {', '.join(PLANAR)}, got {name!r}")
    train_fraction = check_real(
        "train_fraction",
        train_fraction,
        minimum=0.0,
        maximum=1.0,
        include_min=False,
        include_max=False,
    )
    if PLANAR[name].fixed:
        X, y = _seed_table(name)
        return X, y, np.empty((0, 2)), y[:0]
    maker = {
        "circle": make_circle,
        "clusters": make_clusters,
        "regression": make_surface,
        "moons": _moons,
        "spiral": _spiral,
    }[name]
    rng = as_generator(rng)
    X, y = maker(n_samples, noise=noise, rng=rng)
    n = len(X)
    n_train = min(max(round(n * train_fraction), 1), n - 1)
    order = rng.permutation(n)
    train, test = order[:n_train], order[n_train:]
    return X[train], y[train], X[test], y[test]


def _moons(n_samples, *, noise, rng):
    from glassnet.datasets import make_moons

    return make_moons(n_samples, noise=noise, rng=rng)


def _spiral(n_samples, *, noise, rng):
    from glassnet.datasets import make_spirals

    return make_spirals(n_samples, noise=noise, rng=rng)
