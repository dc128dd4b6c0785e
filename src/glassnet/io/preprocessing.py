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

Why a registry: this module is the bottom of the preprocessing code and imports none of the
concrete classes (they import it, for the base class). A class joins :data:`_KINDS` when it is
defined (``__init_subclass__``), that is when its module is imported. The modules of the kinds
glassnet ships are named in :data:`SHIPPED_KINDS` — names, not imports — and imported the
first time a stored description names them (:func:`preprocessing_class`): a lazy dispatch, so that
loading a model file never needs the table code unless the file holds a table, and no import
runs in a circle. A file can name only the shipped kinds, or a subclass the running program
itself defined; nothing else is ever built.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import ClassVar

from glassnet.errors import InputTypeError, InputValueError


class Preprocessing(ABC):
    """The interface every kind of stored preprocessing has (see the module docstring)."""

    kind: ClassVar[str]

    def __init_subclass__(cls, **kwargs) -> None:
        """A subclass that names its ``kind`` joins the registry (one class per kind)."""
        super().__init_subclass__(**kwargs)
        kind = cls.__dict__.get("kind")
        if kind is None:
            return
        taken = _KINDS.get(kind)
        if taken is not None and _name(taken) != _name(cls):  # the same class again: a reload
            raise InputTypeError(f"preprocessing kind {kind!r} is already taken by {_name(taken)}")
        _KINDS[kind] = cls

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


#: the kinds glassnet ships -> the module that defines each (imported when first needed)
SHIPPED_KINDS = {
    "image": "glassnet.datasets.images.preprocessing",
    "table": "glassnet.tabular.preprocessing",
}

#: kind -> class, filled by :meth:`Preprocessing.__init_subclass__`
_KINDS: dict[str, type[Preprocessing]] = {}


def _name(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def preprocessing_class(kind) -> type[Preprocessing]:
    """The class of ``kind``; a shipped kind's module is imported now if it was not yet.

    Raises
    ------
    ValueError
        ``kind`` is none of the shipped kinds nor a kind the running program defined.
    """
    if isinstance(kind, str) and kind in SHIPPED_KINDS:
        importlib.import_module(SHIPPED_KINDS[kind])
    if not isinstance(kind, str) or kind not in _KINDS:
        known = ", ".join(sorted(set(SHIPPED_KINDS) | set(_KINDS)))
        raise InputValueError(f"unknown preprocessing kind {kind!r}; this glassnet knows: {known}")
    return _KINDS[kind]


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
        raise InputValueError(f"the stored preprocessing must be a dict, got {type(d).__name__}")
    return preprocessing_class(d.get("kind")).from_dict(d)


def preprocessing_to_dict(preprocessing) -> dict | None:
    """What the model file stores for ``model.preprocessing`` (None stays None)."""
    if preprocessing is None:
        return None
    if not isinstance(preprocessing, Preprocessing):
        raise InputTypeError(
            "model.preprocessing must be None or a glassnet preprocessing object "
            "(TablePreprocessor, ImagePreprocessing), got "
            f"{type(preprocessing).__name__}"
        )
    return preprocessing.to_dict()
