"""What a model knows about its inputs: typed preprocessing objects and their one dispatch.

``model.preprocessing`` is None or a :class:`Preprocessing`: a
:class:`~glassnet.tabular.preprocessing.TablePreprocessor` (``glassnet train``'s tables) or a
:class:`~glassnet.datasets.images.ImagePreprocessing` (the digits demo's 28x28 images). Each
has the same interface:

- ``to_dict()`` — the JSON-safe description stored in the model file, with its ``"kind"``;
- ``from_dict(d)`` — the object again (ValueError, one line, for a bad description);
- ``describe()`` — lines for ``glassnet summary``;
- the ONNX hooks used by :mod:`glassnet.io.onnx`: ``onnx_input_shape``, ``onnx_preprocess``,
  ``onnx_postprocess`` and ``onnx_metadata`` (the defaults here add nothing to the graph).

:func:`preprocessing_from_dict` is the only place that reads ``"kind"``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar


class Preprocessing(ABC):
    """The interface every kind of stored preprocessing has (see the module docstring)."""

    kind: ClassVar[str]

    @abstractmethod
    def to_dict(self) -> dict:
        """The JSON-safe description, ``{"kind": self.kind, ...}``."""

    @classmethod
    @abstractmethod
    def from_dict(cls, d: dict) -> Preprocessing:
        """Rebuild from :meth:`to_dict`'s output; ValueError if ``d`` is not one."""

    @abstractmethod
    def describe(self) -> list[str]:
        """Lines that tell a reader what the model does to its inputs (and outputs)."""

    def onnx_input_shape(self, model) -> tuple:
        """The ONNX graph's input shape (without the batch axis) when this preprocessing is
        in the graph; raises ``OnnxExportError`` if it cannot be expressed in ONNX."""
        return tuple(model.input_shape)

    def onnx_preprocess(self, graph, x: str) -> str:
        """Add the nodes from the graph's input ``x`` to the network's input; return it."""
        return x

    def onnx_postprocess(self, graph, y: str) -> str:
        """Add the nodes from the network's output ``y`` to the graph's output; return it."""
        return y

    def onnx_metadata(self, *, included: bool) -> dict[str, str]:
        """Entries for the graph's ``metadata_props`` (``included``: the steps are in the graph)."""
        return {}


def preprocessing_kinds() -> dict[str, type[Preprocessing]]:
    """Every kind a model file may name, to its class. Nothing outside it is ever built."""
    from glassnet.datasets.images import ImagePreprocessing
    from glassnet.tabular.preprocessing import TablePreprocessor

    return {cls.kind: cls for cls in (TablePreprocessor, ImagePreprocessing)}


def preprocessing_from_dict(d) -> Preprocessing | None:
    """The object a stored description names by its ``"kind"`` (None stays None).

    Raises
    ------
    ValueError
        ``d`` is not a dict, names no kind or an unknown one, or is not a valid description
        of its kind.
    """
    if d is None:
        return None
    if not isinstance(d, dict):
        raise ValueError(f"the stored preprocessing must be a dict, got {type(d).__name__}")
    kinds = preprocessing_kinds()
    kind = d.get("kind")
    if kind not in kinds:
        raise ValueError(
            f"unknown preprocessing kind {kind!r}; this glassnet knows: {', '.join(sorted(kinds))}"
        )
    return kinds[kind].from_dict(d)


def preprocessing_to_dict(preprocessing) -> dict | None:
    """What the model file stores for ``model.preprocessing`` (None stays None)."""
    if preprocessing is None:
        return None
    if not isinstance(preprocessing, Preprocessing):
        raise TypeError(
            "model.preprocessing must be None or a glassnet preprocessing object "
            "(TablePreprocessor, ImagePreprocessing), got "
            f"{type(preprocessing).__name__}"
        )
    return preprocessing.to_dict()
