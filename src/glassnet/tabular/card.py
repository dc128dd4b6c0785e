"""The model card: what ``glassnet summary`` prints about a saved model.

Architecture and parameter counts (``model.format_summary()``), what the stored
preprocessing does (its own ``describe()``; a table's is :meth:`TableCard.describe`), and a
digest of the training history.
"""

from __future__ import annotations

from glassnet.tabular.encoders import _show


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


class TableCard:
    """The ``describe`` of :class:`~glassnet.tabular.preprocessing.TablePreprocessor`, which
    inherits it: it reads ``target``, ``task``, ``classes``, ``columns``, ``fills_``,
    ``encoders_``, ``scaling``, ``scaler_``, ``target_scaler_`` and ``training``."""

    def describe(self) -> list[str]:
        """The target, each column's scaling, fill value and categories, and where the
        training rows came from."""
        if self.classes:
            target = f", labels {', '.join(self.classes)}"
        else:
            scaler = self.target_scaler_
            target = f", standardised with mean {scaler.mean_[0]:.6g}, scale {scaler.scale_[0]:.6g}"
        if self.scaling == "robust":
            how, centre = (
                "numeric inputs are robust-scaled as u = (x - median) / scale, then smoothly "
                "clipped as u / sqrt(1 + (u / 3)^2)",
                "median",
            )
            centres = self.scaler_.center_
        else:
            how, centre = "inputs are standardised as (x - mean) / scale", "mean"
            centres = self.scaler_.mean_
        lines = [
            f"preprocessing (learned on the training rows; {how}):",
            f"  target: {self.target!r}, {self.task}{target}",
        ]
        lines += self._column_lines(centre, centres, self.scaler_.scale_)
        info = self.training
        if info:
            ignored = f"; ignored {', '.join(info['ignored'])}" if info.get("ignored") else ""
            lines.append(
                f"  trained on {info.get('data')!r}: {info.get('train_rows')} training rows, "
                f"{info.get('validation_rows')} validation rows, seed {info.get('seed')}{ignored}"
            )
        return lines

    def _column_lines(self, centre, centres, scale) -> list[str]:
        lines, position = [], 0
        for name, kind in self.columns:
            fill = self.fills_.get(name)
            filled = "" if fill is None else f", missing -> {_show(fill)}"
            if kind == "numeric":
                lines.append(
                    f"  {name}: numeric, {centre} {centres[position]:.6g}, scale "
                    f"{scale[position]:.6g}{filled}"
                )
                position += 1
            else:
                categories = self.encoders_[name].categories_
                shown = ", ".join(categories[:8]) + (", ..." if len(categories) > 8 else "")
                lines.append(
                    f"  {name}: one-hot, {len(categories)} categories ({shown}); "
                    f"unknown -> all zeros{filled}"
                )
                position += len(categories)
        return lines
