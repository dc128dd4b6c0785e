"""Datasets: the seeds' tables, XOR, two-moons and spirals, problems in the plane, MNIST, and
CSV loading.

Every generator takes an explicit ``rng`` (int, Generator or None) and returns ``(X, y)``
with ``X`` float64 of shape ``(n_samples, n_features)`` and ``y`` integer labels.
"""

from __future__ import annotations

import numpy as np

from glassnet._validation import as_generator, check_int, check_real


def perceptron_table():
    """Seed 000's table: the output is the first input column. Returns ``(X, y)``."""
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
    y = np.array([[0], [0], [1], [1]], dtype=float)
    return X, y


def xor3():
    """Seed 001's table: ``y = x1 XOR x2`` with a constant third input. Returns ``(X, y)``."""
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
    y = np.array([[0], [1], [1], [0]], dtype=float)
    return X, y


def xor():
    """The four points of XOR with labels ``[0, 1, 1, 0]``."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    return X, np.array([0, 1, 1, 0])


# Seed 002's people: weight (lb) and height (in), female = 1. The network sees them shifted
# by 135 lb and 66 in, as the tutorial does.
PEOPLE = [
    ("Alice", 133, 65, "F"),
    ("Bob", 160, 72, "M"),
    ("Charlie", 152, 70, "M"),
    ("Diana", 120, 60, "F"),
]
WEIGHT_SHIFT, HEIGHT_SHIFT = 135, 66


def gender():
    """Seed 002's four people, shifted: ``X = [[-2, -1], [25, 6], [17, 4], [-15, -6]]``,
    ``y = [1, 0, 0, 1]`` (1 = female)."""
    X = np.array([[w - WEIGHT_SHIFT, h - HEIGHT_SHIFT] for _, w, h, _ in PEOPLE], dtype=float)
    y = np.array([1 if g == "F" else 0 for *_, g in PEOPLE])
    return X, y


def make_moons(n_samples=400, *, noise=0.1, rng=None):
    """Two interleaving half circles (classes 0 and 1) with Gaussian noise."""
    n = check_int("n_samples", n_samples, minimum=2)
    noise = check_real("noise", noise, minimum=0.0)
    rng = as_generator(rng)
    n0 = n // 2
    t0 = rng.uniform(0, np.pi, n0)
    t1 = rng.uniform(0, np.pi, n - n0)
    X = np.concatenate([np.c_[np.cos(t0), np.sin(t0)], np.c_[1 - np.cos(t1), 0.5 - np.sin(t1)]])
    X += rng.normal(0, noise, X.shape)
    y = np.r_[np.zeros(n0, dtype=int), np.ones(n - n0, dtype=int)]
    perm = rng.permutation(n)
    return X[perm], y[perm]


def make_spirals(n_samples=600, *, n_classes=2, turns=1.5, noise=0.1, rng=None):
    """``n_classes`` interleaved spiral arms in the plane."""
    n = check_int("n_samples", n_samples, minimum=n_classes)
    k = check_int("n_classes", n_classes, minimum=2)
    noise = check_real("noise", noise, minimum=0.0)
    rng = as_generator(rng)
    per = np.full(k, n // k)
    per[: n % k] += 1
    X, y = [], []
    for c in range(k):
        r = np.linspace(0.05, 1, per[c])
        t = r * turns * 2 * np.pi + 2 * np.pi * c / k
        X.append(np.c_[r * np.cos(t), r * np.sin(t)] + rng.normal(0, noise * 0.1, (per[c], 2)))
        y.append(np.full(per[c], c))
    X, y = np.concatenate(X), np.concatenate(y)
    perm = rng.permutation(n)
    return X[perm], y[perm]


from glassnet.datasets.mnist import (  # noqa: E402
    ChecksumError,
    DataNotFoundError,
    DatasetError,
    DownloadError,
    IDXFormatError,
    load_digits_subset,
    load_mnist,
    read_idx,
    write_idx,
)
from glassnet.datasets.planar import (  # noqa: E402
    PLANAR,
    make_circle,
    make_clusters,
    make_surface,
    planar_dataset,
)

__all__ = [
    "PEOPLE",
    "PLANAR",
    "ChecksumError",
    "DataNotFoundError",
    "DatasetError",
    "DownloadError",
    "IDXFormatError",
    "gender",
    "load_digits_subset",
    "load_mnist",
    "make_circle",
    "make_clusters",
    "make_moons",
    "make_spirals",
    "make_surface",
    "perceptron_table",
    "planar_dataset",
    "read_idx",
    "write_idx",
    "xor",
    "xor3",
]
