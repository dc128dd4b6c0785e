"""Plots: loss curves, decision boundaries, confusion matrices, predicted-against-true,
training reports, digits and first-layer weights.

matplotlib is imported inside each function, with the non-interactive Agg backend, so that
importing glassnet stays fast and works on machines without a display. Every function
writes a PNG to ``path`` (atomically) and returns the path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from glassnet.errors import InputValueError
from glassnet.io.files import atomic_path
from glassnet.training.heads import decode


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path) -> Path:
    """Write ``fig`` to ``path`` through a temporary file, so no half-written PNG is left."""
    plt = _pyplot()
    try:
        with atomic_path(path, what="plot") as tmp:
            fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    finally:
        plt.close(fig)
    return Path(path)


def plot_loss(history, path, *, title="Loss per epoch", log_scale=None) -> Path:
    """The training (and validation) loss per epoch; accuracy on a second panel if recorded.

    ``history`` is a History, a dict of lists, or a plain list of losses.
    """
    plt = _pyplot()
    records = _records(history)
    has_acc = bool(records.get("accuracy"))
    fig, axes = plt.subplots(1, 2 if has_acc else 1, figsize=(10 if has_acc else 6, 4))
    axes = np.atleast_1d(axes)
    _draw_loss(axes[0], records, title=title, log_scale=log_scale)
    if has_acc:
        _draw_accuracy(axes[1], records)
    return _save(fig, path)


def _records(history) -> dict:
    records = history.history if hasattr(history, "history") else history
    if not isinstance(records, dict):
        records = {"loss": list(records)}
    if len(records.get("loss", [])) == 0:
        raise InputValueError("history has no loss values to plot")
    return records


def _draw_loss(ax, records, *, title="Loss per epoch", log_scale=None, best_epoch=None):
    loss = np.asarray(records["loss"], dtype=float)
    epochs = np.arange(1, loss.size + 1)
    ax.plot(epochs, loss, label="training")
    if records.get("val_loss"):
        ax.plot(epochs[: len(records["val_loss"])], records["val_loss"], label="validation")
    if best_epoch is not None:
        ax.axvline(best_epoch, color="gray", linestyle=":", label=f"best (epoch {best_epoch})")
    if log_scale or (log_scale is None and loss.min() > 0 and loss.max() / loss.min() > 100):
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()


def _draw_accuracy(ax, records):
    epochs = np.arange(1, len(records["accuracy"]) + 1)
    ax.plot(epochs, records["accuracy"], label="training")
    if records.get("val_accuracy"):
        ax.plot(epochs[: len(records["val_accuracy"])], records["val_accuracy"], label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_title("Accuracy per epoch")
    ax.grid(alpha=0.3)
    ax.legend()


def plot_decision_boundary(
    model, X, y, path, *, resolution=200, title="Decision boundary", transform=None, labels=None
) -> Path:
    """The model's predicted class over the plane of two input features, with the data.

    ``transform`` maps raw points to what the model expects (e.g. standardisation).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 5))
    _draw_boundary(
        fig, ax, model, X, y, resolution=resolution, title=title, transform=transform, labels=labels
    )
    return _save(fig, path)


def _draw_boundary(
    fig,
    ax,
    model,
    X,
    y,
    *,
    resolution=200,
    title="Decision boundary",
    transform=None,
    labels=None,
    axis_labels=None,
):
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise InputValueError(f"a decision boundary needs exactly 2 features, got shape {X.shape}")
    gx, gy = _grid_over(X, resolution)
    grid = np.c_[gx.ravel(), gy.ravel()]
    out = model.predict(transform(grid) if transform else grid)
    one_unit = out.shape[1] == 1
    if one_unit:
        _draw_probability_surface(fig, ax, gx, gy, out[:, 0].reshape(gx.shape), labels)
    else:
        _draw_class_regions(ax, gx, gy, decode(out).reshape(gx.shape), out.shape[1])
    _scatter_classes(ax, X, np.asarray(y), labels, one_unit)
    if axis_labels is not None:
        ax.set_xlabel(axis_labels[0])
        ax.set_ylabel(axis_labels[1])
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8)


def _grid_over(X, resolution):
    """A ``resolution x resolution`` grid ``(gx, gy)`` over the data, with a 10 % margin."""
    pad = 0.1 * (X.max(axis=0) - X.min(axis=0) + 1e-9)
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    return np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))


def _draw_probability_surface(fig, ax, gx, gy, surface, labels):
    """One sigmoid unit: ``P(class 1)`` as colours, the 0.5 contour as the boundary."""
    cs = ax.contourf(gx, gy, surface, levels=np.linspace(0, 1, 21), cmap="RdBu_r", alpha=0.6)
    if surface.min() < 0.5 < surface.max():
        ax.contour(gx, gy, surface, levels=[0.5], colors="k", linewidths=1)
    positive = labels[1] if labels is not None and len(labels) > 1 else "class 1"
    fig.colorbar(cs, ax=ax, label=f"P({positive})")


def _draw_class_regions(ax, gx, gy, surface, n_classes):
    """Several outputs: the region of each predicted class in its own colour."""
    ax.contourf(
        gx,
        gy,
        surface,
        levels=np.arange(n_classes + 1) - 0.5,
        cmap="tab10",
        vmin=0,
        vmax=9,
        alpha=0.35,
    )


def _scatter_classes(ax, X, y, labels, one_unit):
    """The data points, one colour (and legend entry) per class."""
    plt = _pyplot()
    classes = np.unique(y)
    for k, c in enumerate(classes):
        sel = y == c
        index = int(c) if np.issubdtype(classes.dtype, np.integer) else k
        name = labels[index] if labels is not None and index < len(labels) else str(c)
        # one sigmoid unit: the points take the two ends of the probability colour map
        color = (
            plt.cm.RdBu_r(0.05 if index == 0 else 0.95) if one_unit else plt.cm.tab10(index % 10)
        )
        ax.scatter(
            X[sel, 0],
            X[sel, 1],
            s=24,
            linewidths=0.8,
            label=name,
            color=color,
            edgecolors="white" if one_unit else "k",
        )


def plot_confusion_matrix(matrix, path, *, labels=None, title="Confusion matrix") -> Path:
    """A confusion matrix (:func:`glassnet.training.metrics.confusion_matrix`) as a heat map
    with the counts written in the cells."""
    plt = _pyplot()
    k = np.asarray(matrix).shape[0]
    fig, ax = plt.subplots(figsize=(max(3.0, 1.0 + 0.55 * k), max(2.6, 0.8 + 0.5 * k)))
    _draw_confusion(ax, matrix, labels=labels, title=title)
    return _save(fig, path)


def _draw_confusion(ax, matrix, *, labels=None, title="Confusion matrix"):
    matrix = np.asarray(matrix)
    k = matrix.shape[0]
    labels = [str(v) for v in (labels if labels is not None else range(k))]
    ax.imshow(matrix, cmap="Blues", vmin=0)
    threshold = matrix.max() / 2 if matrix.size else 0
    for i in range(k):
        for j in range(k):
            ax.text(
                j,
                i,
                str(matrix[i, j]),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if matrix[i, j] > threshold else "black",
            )
    ax.set_xticks(range(k), labels, rotation=45 if max(map(len, labels)) > 2 else 0)
    ax.set_yticks(range(k), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)


def plot_predictions(
    y_true, y_pred, path, *, title="Predicted against true", name="target"
) -> Path:
    """Regression: each prediction against its true value; perfect ones lie on the diagonal."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5))
    _draw_predictions(ax, y_true, y_pred, title=title, name=name)
    return _save(fig, path)


def _draw_predictions(ax, y_true, y_pred, *, title="Predicted against true", name="target"):
    y_true = np.asarray(y_true, dtype=float).ravel()
    y_pred = np.asarray(y_pred, dtype=float).ravel()
    lo = min(y_true.min(), y_pred.min())
    hi = max(y_true.max(), y_pred.max())
    ax.plot([lo, hi], [lo, hi], color="gray", linestyle=":", linewidth=1)
    ax.scatter(y_true, y_pred, s=14, alpha=0.7, edgecolors="k", linewidths=0.3)
    ax.set_xlabel(f"true {name}")
    ax.set_ylabel(f"predicted {name}")
    ax.set_title(title)
    ax.grid(alpha=0.3)


def plot_training_report(
    history,
    path,
    *,
    best_epoch=None,
    confusion=None,
    labels=None,
    boundary=None,
    predictions=None,
    title=None,
) -> Path:
    """One PNG that sums up a training run, a panel per view:

    - the loss per epoch, training and validation (and the best epoch, if given);
    - the accuracy per epoch, when recorded;
    - ``confusion``: a confusion matrix (with ``labels``), e.g. on the validation rows;
    - ``predictions``: ``(y_true, y_pred, name)`` for regression, drawn against each other;
    - ``boundary``: ``dict(model=, X=, y=, transform=, axis_labels=)`` for two input
      features: the decision boundary over the plane of the raw features, with the data.
    """
    plt = _pyplot()
    records = _records(history)
    panels = _report_panels(records, confusion, predictions, boundary)
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.4))
    axes = np.atleast_1d(axes)
    rows = "validation" if records.get("val_loss") else "training"
    for ax, panel in zip(axes, panels, strict=True):
        if panel == "loss":
            _draw_loss(ax, records, best_epoch=best_epoch)
        elif panel == "accuracy":
            _draw_accuracy(ax, records)
        elif panel == "confusion":
            _draw_confusion(ax, confusion, labels=labels, title=f"Confusion matrix ({rows})")
        elif panel == "predictions":
            y_true, y_pred, name = predictions
            _draw_predictions(ax, y_true, y_pred, name=name, title=f"{rows.capitalize()} rows")
        else:
            _draw_boundary(fig, ax, labels=labels, resolution=120, **boundary)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def _report_panels(records, confusion, predictions, boundary) -> list[str]:
    """The training report's panels, in order: those that have something to show."""
    shown = {
        "loss": True,
        "accuracy": bool(records.get("accuracy")),
        "confusion": confusion is not None,
        "predictions": predictions is not None,
        "boundary": boundary is not None,
    }
    return [panel for panel, show in shown.items() if show]


def plot_digits(
    images,
    path,
    *,
    predicted=None,
    true=None,
    probabilities=None,
    n=36,
    title="Test digits and predictions",
) -> Path:
    """A grid of images with their predictions; mistakes are marked in red."""
    plt = _pyplot()
    images = np.asarray(images)
    images = (
        images.reshape(images.shape[0], *images.shape[-2:])
        if images.ndim > 2
        else images.reshape(images.shape[0], 28, 28)
    )
    n = min(n, images.shape[0])
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.3 * cols, 1.45 * rows))
    for i, ax in enumerate(np.atleast_1d(axes).ravel()):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i], cmap="gray_r")
        if predicted is not None:
            wrong = true is not None and predicted[i] != true[i]
            text = f"{predicted[i]}"
            if probabilities is not None:
                text += f" {probabilities[i]:.0%}"
            if wrong:
                text += f" (true {true[i]})"
            ax.set_title(text, fontsize=7, color="red" if wrong else "black")
    fig.suptitle(title)
    return _save(fig, path)


def plot_weights(weights, path, *, image_shape=None, title="First-layer weights") -> Path:
    """First-layer weights as images: Dense ``W`` (n_in, units) columns reshaped to
    ``image_shape`` (28x28 for MNIST), or Conv2D filters ``(filters, channels, kh, kw)``."""
    plt = _pyplot()
    W = np.asarray(weights, dtype=float)
    if W.ndim == 4:
        tiles = W[:, 0]
    elif W.ndim == 2:
        side = int(round(np.sqrt(W.shape[0])))
        shape = image_shape or (side, side)
        if shape[0] * shape[1] != W.shape[0]:
            raise InputValueError(f"cannot show {W.shape[0]} inputs as images of shape {shape}")
        tiles = W.T.reshape(-1, *shape)
    else:
        raise InputValueError(f"weights must be 2-D (Dense) or 4-D (Conv2D), got shape {W.shape}")
    n = min(len(tiles), 64)
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.1 * cols, 1.1 * rows))
    for i, ax in enumerate(np.atleast_1d(axes).ravel()):
        ax.axis("off")
        if i < n:
            limit = np.abs(tiles[i]).max() or 1.0
            ax.imshow(tiles[i], cmap="RdBu_r", vmin=-limit, vmax=limit)
    fig.suptitle(title)
    return _save(fig, path)
