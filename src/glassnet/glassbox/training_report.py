"""The one-page training report: what a training did, layer by layer, with its diagnosis.

:func:`plot_training_diagnostics` writes it as a PNG; :func:`training_report_figure` gives
the same matplotlib figure to draw on or show; each panel is a ``draw_*`` function of an
axes, for a figure of your own. The panels, from the History and its statistics
(:mod:`glassnet.training.statistics`)::

    loss per epoch (training, validation)   gradient norm per layer    update/weight ratio
    activations, first epoch                activations, last epoch    dead / saturated shares
    the findings of glassnet.diagnose, each with its evidence and fix

matplotlib is imported inside the functions (the Agg backend, as in :mod:`glassnet.plotting`).
"""

from __future__ import annotations

import textwrap

import numpy as np

from glassnet.errors import InputValueError
from glassnet.plotting import _draw_loss, _pyplot, _save

#: the update/weight ratio the rule of thumb calls healthy, drawn as a reference line
HEALTHY_RATIO = 1e-3


def plot_training_diagnostics(model, path, *, report=None, title=None):
    """Write the training report of ``model`` (after ``fit``) to ``path`` as a PNG.

    ``report`` is a :class:`~glassnet.glassbox.findings.Diagnosis` to write on it (default:
    ``glassnet.diagnose(model)``, from the model's record alone). Returns the path.
    """
    return _save(training_report_figure(model, report=report, title=title), path)


def training_report_figure(model, *, report=None, title=None):
    """The training report as a matplotlib Figure (see the module docstring)."""
    from glassnet.glassbox.diagnose import diagnose

    history = model.history
    statistics = getattr(history, "statistics", {})
    if not history.history.get("loss"):
        raise InputValueError("the model has no training history to report: call fit first")
    report = diagnose(model) if report is None else report
    plt = _pyplot()
    fig = plt.figure(figsize=(16, 11))
    grid = fig.add_gridspec(3, 3, height_ratios=(1, 1, 0.8), hspace=0.45, wspace=0.28)
    _draw_loss(fig.add_subplot(grid[0, 0]), history.history)
    draw_gradient_norms(fig.add_subplot(grid[0, 1]), statistics)
    draw_update_ratios(fig.add_subplot(grid[0, 2]), statistics)
    draw_histograms(fig.add_subplot(grid[1, 0]), statistics, "first")
    draw_histograms(fig.add_subplot(grid[1, 1]), statistics, "last")
    draw_unit_shares(fig.add_subplot(grid[1, 2]), statistics)
    draw_findings(fig.add_subplot(grid[2, :]), report)
    fig.suptitle(title or "Training report", fontsize=14)
    return fig


def _epochs(statistics) -> np.ndarray:
    return np.asarray(statistics.get("epoch", []), dtype=float)


def _series(statistics, suffix: str) -> list[tuple[str, np.ndarray]]:
    """``(name, values)`` of every statistic ending in ``suffix``, in layer order."""
    keys = [k for k in statistics if k.endswith(suffix)]
    keys.sort(key=lambda k: int(k.split(".")[1].split("/")[0]))
    return [(k[: -len(suffix)], np.asarray(statistics[k], dtype=float)) for k in keys]


def _empty(ax, title: str, why: str = "no statistics recorded") -> None:
    ax.set_title(title)
    ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes, color="gray")
    ax.set_xticks([])
    ax.set_yticks([])


def draw_gradient_norms(ax, statistics) -> None:
    """``||dL/dW||`` of every weight matrix per epoch, log scale: layers drifting apart by
    orders of magnitude are vanishing or exploding gradients."""
    lines = [(n, v) for n, v in _series(statistics, "/grad_norm") if n.endswith(".W")]
    if not lines:
        return _empty(ax, "Gradient norm per layer")
    epochs = _epochs(statistics)
    for name, values in lines:
        ax.plot(epochs, np.where(values > 0, values, np.nan), label=name)
    ax.set_yscale("log")
    _finish(ax, "Gradient norm per layer", "||dL/dW||")


def draw_update_ratios(ax, statistics) -> None:
    """``||step|| / ||W||`` per epoch with the healthy ~1e-3 marked: far above, the learning
    rate is too high; far below, too low."""
    lines = [(n, v) for n, v in _series(statistics, "/update_ratio") if n.endswith(".W")]
    if not lines:
        return _empty(ax, "Update / weight ratio")
    epochs = _epochs(statistics)
    for name, values in lines:
        ax.plot(epochs, np.where(values > 0, values, np.nan), label=name)
    ax.axhline(HEALTHY_RATIO, color="gray", linestyle=":", label="healthy (1e-3)")
    ax.set_yscale("log")
    _finish(ax, "Update / weight ratio", "||step|| / ||W||")


def draw_histograms(ax, statistics, which: str) -> None:
    """The activations ``a`` of each layer in the ``which`` ("first" or "last") epoch, as
    shares of the values per bin (a spike at 0: dead ReLUs; piles at both ends: saturation)."""
    title = f"Activations, {which} epoch"
    drawn = False
    for name, counts in _series(statistics, f"/histogram_{which}"):
        edges = np.asarray(statistics[f"{name}/histogram_{which}_edges"], dtype=float)
        total = counts.sum()
        if total > 0 and edges[-1] > edges[0]:
            ax.stairs(counts / total, edges, label=name)
            drawn = True
    if not drawn:
        return _empty(ax, title)
    ax.set_xlabel("activation value a")
    ax.set_ylabel("share of values")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def draw_unit_shares(ax, statistics) -> None:
    """Per epoch, the share of dead ReLU units and of saturated sigmoid/tanh values."""
    lines = [(f"{n} dead", v) for n, v in _series(statistics, "/dead")]
    lines += [(f"{n} saturated", v) for n, v in _series(statistics, "/saturated")]
    if not lines:
        return _empty(ax, "Dead and saturated units", "no ReLU, sigmoid or tanh layer")
    epochs = _epochs(statistics)
    for name, values in lines:
        ax.plot(epochs, values, label=name)
    ax.set_ylim(-0.03, 1.03)
    _finish(ax, "Dead and saturated units", "share")


def _finish(ax, title: str, ylabel: str) -> None:
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def draw_findings(ax, report) -> None:
    """The diagnosis, written out: each finding's code, evidence and fix (wrapped)."""
    ax.axis("off")
    ax.set_title("Diagnosis", loc="left")
    lines = []
    for line in str(report).splitlines():
        indent = "      " if line.startswith("  ") else "    "
        lines += textwrap.wrap(line, width=150, subsequent_indent=indent) or [""]
    ax.text(0.0, 1.0, "\n".join(lines), va="top", ha="left", family="monospace", fontsize=8.5,
            transform=ax.transAxes)  # fmt: skip
