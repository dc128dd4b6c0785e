"""glassnet.plotting: what each picture shows, read from the figure before it is saved."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import glassnet as gn  # noqa: E402
from glassnet import plotting  # noqa: E402
from glassnet.datasets import make_moons, make_spirals  # noqa: E402


@pytest.fixture
def figures(monkeypatch):
    """Every figure a plot function would save, kept open instead of written."""
    kept = []

    def keep(fig, path):
        kept.append(fig)
        return path

    monkeypatch.setattr(plotting, "_save", keep)
    yield kept
    import matplotlib.pyplot as plt

    for fig in kept:
        plt.close(fig)


def network(X, y, units, activation, loss, **fit):
    model = gn.Sequential([gn.Dense(8, activation="tanh"), gn.Dense(units, activation=activation)])
    history = model.fit(X, y, loss=loss, epochs=3, rng=0, verbose=0, **fit)
    return model, history


def test_one_sigmoid_unit_shows_the_probability_of_the_second_label(figures, tmp_path):
    X, y = make_moons(60, rng=0)
    model, _ = network(X, y, 1, "sigmoid", "bce")
    plotting.plot_decision_boundary(model, X, y, tmp_path / "b.png", labels=["Adelie", "Gentoo"])
    (fig,) = figures
    ax, colorbar = fig.axes
    assert colorbar.get_ylabel() == "P(Gentoo)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Adelie", "Gentoo"]
    assert ax.get_title() == "Decision boundary"


def test_several_classes_get_one_region_each_and_no_colorbar(figures, tmp_path):
    X, y = make_spirals(60, n_classes=3, rng=0)
    model, _ = network(X, y, 3, "softmax", "cross_entropy")
    names = np.array(["x", "y", "z"])[y]  # string labels: named by themselves
    plotting.plot_decision_boundary(model, X, names, tmp_path / "b.png")
    (fig,) = figures
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["x", "y", "z"]


def test_a_boundary_needs_exactly_two_features(tmp_path):
    X = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"exactly 2 features, got shape \(4, 3\)"):
        plotting.plot_decision_boundary(None, X, np.zeros(4), tmp_path / "b.png")
    assert not list(tmp_path.iterdir())


def test_the_training_report_has_one_panel_per_view_in_order(figures, tmp_path):
    X, y = make_spirals(60, n_classes=3, rng=0)
    model, history = network(X, y, 3, "softmax", "cross_entropy", validation_split=0.25)
    history.history["accuracy"] = [0.4, 0.5, 0.6]
    confusion = np.array([[3, 1, 0], [0, 4, 1], [1, 0, 5]])
    boundary = {"model": model, "X": X, "y": y}
    plotting.plot_training_report(
        history, tmp_path / "r.png", confusion=confusion, boundary=boundary, title="Run"
    )
    (fig,) = figures
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [
        "Loss per epoch",
        "Accuracy per epoch",
        "Confusion matrix (validation)",
        "Decision boundary",
    ]
    assert fig.get_suptitle() == "Run"


def test_a_regression_report_without_validation_names_the_training_rows(figures, tmp_path):
    plotting.plot_training_report(
        [1.0, 0.5], tmp_path / "r.png", predictions=([1.0, 2.0], [1.1, 1.9], "mass")
    )
    (fig,) = figures
    loss, predictions = fig.axes
    assert predictions.get_title() == "Training rows"
    assert predictions.get_xlabel() == "true mass"
    assert loss.get_legend().get_texts()[0].get_text() == "training"
