"""Errors about the caller's input, which know the parameters they are about.

A check that refuses an argument raises :class:`InputValueError` or :class:`InputTypeError`
(subclasses of ``ValueError`` and ``TypeError``, so ``except ValueError`` still works). Their
message is a template whose parameter mentions are :class:`Param` objects, spelled the
Python way by default::

    >>> error = InputValueError(
    ...     "column {column!r} has missing values: use {impute}, or {drop}",
    ...     column="age",
    ...     impute=Param("impute", choices=("mean", "median")),
    ...     drop=Param("drop_missing", True),
    ... )
    >>> str(error)
    "column 'age' has missing values: use impute='mean' or 'median', or drop_missing=True"

A front end spells the same mentions its own way, with no rewriting of text: the command
line passes a function that turns ``Param("drop_missing", True)`` into its flag
(see :func:`glassnet.cli.flags.flag_spelling`). Only the template is parsed by ``str.format``;
values (a user's column name holding ``{``) are substituted, never parsed.

Why a class for input errors: a program that turns errors into one-line messages must tell
the user's mistake apart from a bug. Every ``InputError`` is the former; a bare
``TypeError`` raised deep in the code is the latter and should keep its traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

_NO_VALUE = object()


@dataclass(frozen=True)
class Param:
    """A mention of the parameter ``name`` in a message: alone, with a value to pass, or
    with the choices it takes."""

    name: str
    value: object = _NO_VALUE
    choices: tuple = ()

    def python(self) -> str:
        """``impute``, ``impute='mean'``, ``impute='mean', 'median' or 'most_frequent'``."""
        if self.choices:
            *first, last = (repr(c) for c in self.choices)
            return f"{self.name}={', '.join(first)} or {last}" if first else f"{self.name}={last}"
        if self.value is _NO_VALUE:
            return self.name
        return f"{self.name}={self.value!r}"


class InputError(Exception):
    """The caller's input is wrong; the message says which parameter and why.

    Parameters
    ----------
    template : str
        The message, with ``{field}`` places (``str.format`` syntax, conversions allowed);
        without fields, the finished message as it is (braces and all).
    **fields
        The values of the places; :class:`Param` values are spelled by ``format``'s
        ``spell`` (the Python spelling by default).
    """

    def __init__(self, template: str, /, **fields) -> None:
        self.template = template
        self.fields = fields
        super().__init__(self.format())

    @property
    def parameters(self) -> list[str]:
        """The names of the parameters the message mentions, in order of the fields."""
        return [value.name for value in self.fields.values() if isinstance(value, Param)]

    def format(self, spell: Callable[[Param], str] = Param.python) -> str:
        """The message, each :class:`Param` written as ``spell(param)``."""
        if not self.fields:
            return self.template  # a finished message: nothing in it is a place to fill
        values = {
            key: _Spelled(spell(value)) if isinstance(value, Param) else value
            for key, value in self.fields.items()
        }
        return self.template.format(**values)


class InputValueError(InputError, ValueError):
    """A value the caller passed is out of range, unknown, or inconsistent with another."""


class InputTypeError(InputError, TypeError):
    """A value the caller passed has the wrong type."""


class OnnxExportError(InputValueError):
    """The model (a layer, an activation, its preprocessing) cannot be expressed in ONNX.

    Defined here, with the other input errors, so that a preprocessing class can refuse an
    export without importing the exporter (:mod:`glassnet.io.onnx` re-exports it)."""


class _Spelled(str):
    """A spelled parameter: its ``repr`` is itself, so ``{p!r}`` in a template is harmless."""

    def __repr__(self) -> str:
        return str(self)
