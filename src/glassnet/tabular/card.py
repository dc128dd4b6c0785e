"""The model card: what ``glassnet summary`` prints about a saved model.

Architecture and parameter counts (``model.format_summary()``), what the stored
preprocessing does (its own ``describe()``), and a digest of the training history.
"""

from __future__ import annotations


def describe(model) -> str:
    """Architecture, parameter counts, preprocessing and a digest of the training history."""
    lines = [model.format_summary(), ""]
    pre = model.preprocessing
    lines += pre.describe() if pre is not None else ["preprocessing: none stored"]
    lines += _history_lines(model.history.history, getattr(pre, "training", {}))
    return "\n".join(lines)


def _history_lines(history: dict, info: dict) -> list[str]:
    """First value, value at the kept epoch, and last value of each curve."""
    if not history.get("loss"):
        return []
    best = info.get("best_epoch")
    epochs = len(history["loss"])
    stopped = {"epochs": "all epochs ran"}.get(info.get("stopped"), info.get("stopped"))
    lines = [
        "",
        "training history:",
        f"  {epochs} epochs"
        + (f" ({stopped})" if stopped else "")
        + (f"; kept the weights of epoch {best}" if best else ""),
    ]
    at = (best or epochs) - 1
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        values = history.get(key)
        if values:
            lines.append(
                f"  {key:<13} first {values[0]:.4f}   at epoch {at + 1}: "
                f"{values[min(at, len(values) - 1)]:.4f}   last {values[-1]:.4f}"
            )
    return lines
