"""ImagePreprocessing: how a model's images were made, stored with the model.

The typed counterpart of :class:`glassnet.tabular.preprocessing.TablePreprocessor` for
image models (the digits demo's 28x28 images): ``to_dict``/``from_dict`` for the model file,
``describe`` for ``glassnet info``, ``onnx_metadata`` for the ONNX export.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from glassnet.errors import InputTypeError, InputValueError
from glassnet.io.preprocessing import Preprocessing


@dataclass(frozen=True)
class ImagePreprocessing(Preprocessing):
    """How a model's images were made: their shape, the pixel scale, and what they show.

    Stored as ``{"kind": "image", "shape": [1, 28, 28], "scale": 255, "colours": ...,
    "centring": ..., "classes": [0, 1, ...]}``: the model's input is ``pixel / scale`` for
    pixels on the 0-255 scale. ``colours`` and ``centring`` are notes for a reader (how
    :func:`load_digit_image` brings a drawing into that form); ``classes`` names the output
    units (their labels), if given.
    """

    kind = "image"

    shape: tuple[int, ...]
    scale: float = 255
    colours: str | None = None
    centring: str | None = None
    classes: tuple | None = None

    def __post_init__(self) -> None:
        shape = tuple(self.shape)
        if not shape or not all(isinstance(s, int) and s >= 1 for s in shape):
            raise InputValueError(f"shape must be a list of sizes >= 1, got {self.shape!r}")
        if isinstance(self.scale, bool) or not isinstance(self.scale, int | float):
            raise InputTypeError(f"scale must be a number, got {self.scale!r}")
        if not self.scale > 0:
            raise InputValueError(f"scale must be > 0, got {self.scale!r}")
        object.__setattr__(self, "shape", shape)
        for key in ("colours", "centring"):
            if getattr(self, key) is not None and not isinstance(getattr(self, key), str):
                raise InputTypeError(f"{key} must be text or None, got {getattr(self, key)!r:.100}")
        if self.classes is not None:
            object.__setattr__(self, "classes", _check_classes(self.classes))

    def to_dict(self) -> dict:
        d = {"kind": self.kind, "shape": list(self.shape), "scale": self.scale}
        for key in ("colours", "centring"):
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        if self.classes is not None:
            d["classes"] = list(self.classes)
        return d

    @classmethod
    def from_dict(cls, d) -> ImagePreprocessing:
        if not isinstance(d, dict) or d.get("kind") != cls.kind:
            raise InputValueError("the model holds no image preprocessing")
        unknown = set(d) - {"kind", "shape", "scale", "colours", "centring", "classes"}
        if unknown:
            raise InputValueError(f"the image preprocessing has unknown entries {sorted(unknown)}")
        return cls(
            shape=tuple(d["shape"]),
            scale=d.get("scale", 255),
            colours=d.get("colours"),
            centring=d.get("centring"),
            classes=d.get("classes"),
        )

    def describe(self) -> list[str]:
        shape = "x".join(str(s) for s in self.shape)
        lines = [f"preprocessing: images of shape {shape}, pixels divided by {self.scale}"]
        lines += [
            f"  {key}: {value}"
            for key, value in self.to_dict().items()
            if key in ("colours", "centring", "classes")
        ]
        return lines

    def onnx_metadata(self, *, included: bool) -> dict[str, str]:
        """The graph takes ``pixel / scale`` as the network does: nothing to add but words."""
        shape = ", ".join(str(s) for s in self.shape)
        props = {"inputs": f"images of shape (n, {shape}), pixel values divided by {self.scale}"}
        if self.classes is not None:
            props["labels"] = json.dumps(list(self.classes))
        return props


def _check_classes(classes) -> tuple:
    """The output units' labels: a non-empty list of distinct whole numbers, or of texts."""
    if not isinstance(classes, list | tuple) or not classes:
        raise InputTypeError(f"classes must be a non-empty list of labels, got {classes!r:.100}")
    ints = all(isinstance(c, int) and not isinstance(c, bool) for c in classes)
    if not ints and not all(isinstance(c, str) for c in classes):
        raise InputTypeError(
            f"classes must be all whole numbers or all texts, got {classes!r:.100}"
        )
    if len(set(classes)) != len(classes):
        raise InputValueError(f"classes must be distinct, got {classes!r:.100}")
    return tuple(classes)
