"""Argument checks shared by every public entry point.

Each raises ``TypeError`` or ``ValueError`` with one line that names the argument and the
value, in the style ``learning_rate must be > 0, got -0.1``. ``assert`` is never used for
user input: it vanishes under ``python -O``.
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path

import numpy as np

from glassnet.errors import InputTypeError, InputValueError, Param


def check_real(
    name, value, *, minimum=None, maximum=None, include_min=True, include_max=True
) -> float:
    """A finite real number within the given bounds, returned as float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputTypeError(
            "{name} must be a number, got {value!r}", name=Param(name), value=value
        )
    value = float(value)
    if not np.isfinite(value):
        raise InputValueError("{name} must be finite, got {value!r}", name=Param(name), value=value)

    def out_of_range(relation, bound):
        return InputValueError(
            "{name} must be {relation} {bound}, got {value!r}",
            name=Param(name),
            relation=relation,
            bound=bound,
            value=value,
        )

    if minimum is not None:
        if include_min and value < minimum:
            raise out_of_range(">=", minimum)
        if not include_min and value <= minimum:
            raise out_of_range(">", minimum)
    if maximum is not None:
        if include_max and value > maximum:
            raise out_of_range("<=", maximum)
        if not include_max and value >= maximum:
            raise out_of_range("<", maximum)
    return value


def check_positive(name, value) -> float:
    return check_real(name, value, minimum=0.0, include_min=False)


def check_int(name, value, *, minimum=None, maximum=None) -> int:
    """An integer (not a bool, not a float) within the given bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputTypeError(
            "{name} must be an integer, got {value!r}", name=Param(name), value=value
        )
    value = int(value)
    if minimum is not None and value < minimum:
        raise InputValueError(
            "{name} must be >= {minimum}, got {value}",
            name=Param(name),
            minimum=minimum,
            value=value,
        )
    if maximum is not None and value > maximum:
        raise InputValueError(
            "{name} must be <= {maximum}, got {value}",
            name=Param(name),
            maximum=maximum,
            value=value,
        )
    return value


def check_bool(name, value) -> bool:
    """``True`` or ``False`` (a NumPy bool too), returned as a Python bool; ``0``, ``1``,
    ``"yes"`` and None are refused rather than guessed at."""
    if not isinstance(value, bool | np.bool_):
        raise InputTypeError(
            "{name} must be True or False, got {value!r}", name=Param(name), value=value
        )
    return bool(value)


def check_hidden_sizes(name, value) -> tuple[int, ...]:
    """Hidden-layer sizes: one integer or a sequence of integers, each >= 1, as a tuple.

    ``()`` means no hidden layer. A string is refused, not split: a front end that reads
    ``"64,32"`` parses it first (:func:`glassnet.tabular.parse_hidden`).

    >>> check_hidden_sizes("hidden", [64, 32])
    (64, 32)
    >>> check_hidden_sizes("hidden_layer_sizes", 100)
    (100,)
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise InputTypeError(
            "{name} must be an integer or a sequence of integers, got {value!r}",
            name=Param(name),
            value=value,
        )
    return tuple(check_int(name, units, minimum=1) for units in value)


def check_folder(name, value) -> Path:
    """An existing folder (``out_dir=``, where a run writes its files), as a Path: checked
    before any work, so a long run does not fail at its end."""
    if isinstance(value, bool) or not isinstance(value, str | os.PathLike):
        raise InputTypeError(
            "{name} must be a path to a folder, got {value!r}", name=Param(name), value=value
        )
    if not Path(value).is_dir():
        raise InputValueError(
            "{name} {value!r} is not a folder", name=Param(name), value=os.fspath(value)
        )
    return Path(value)


def check_float_dtype(name, value, *, none_allowed=False) -> np.dtype:
    """``"float32"`` or ``"float64"`` (or the NumPy types), as a dtype. (The caller handles
    None when ``none_allowed``; the flag only completes the message.)"""
    try:
        dtype = None if value is None else np.dtype(value)
    except TypeError:
        dtype = None
    if dtype is None or dtype not in (np.float32, np.float64):
        choices = "None, 'float32' or 'float64'" if none_allowed else "'float32' or 'float64'"
        raise InputValueError(
            "{name} must be {choices}, got {value!r}",
            name=Param(name),
            choices=choices,
            value=value,
        )
    return dtype


def unknown_name_error(kind, value, valid) -> ValueError:
    names = ", ".join(sorted(valid))
    return InputValueError(
        "unknown {kind} {value!r}; valid names are: {names}", kind=kind, value=value, names=names
    )


def as_generator(rng) -> np.random.Generator:
    """``rng`` may be None, an int seed or a Generator; global NumPy state is never used."""
    if rng is None or isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise InputTypeError(
        "{name} must be None, an int or a numpy.random.Generator, got {rng!r}",
        name=Param("rng"),
        rng=rng,
    )


def check_array(name, X, *, dtype=None, ndim=None, fits=None) -> np.ndarray:
    """A finite numeric array (no NaN, no infinity), converted to ``dtype`` if given.

    A value that is finite but beyond the range of ``dtype`` (1e308 into float32) is refused
    with its index (:func:`check_fits`), never turned into infinity. ``fits`` asks for the
    same check without the conversion (targets a loss converts later). No copy is made when
    ``X`` already has the right dtype and is contiguous.
    """
    if isinstance(X, np.ndarray):
        arr = X
    else:
        try:
            arr = np.asarray(X)
        except (ValueError, TypeError) as exc:
            raise InputTypeError(f"{name} must be array-like of numbers: {exc}") from None
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise InputTypeError(f"{name} must hold numbers, got an array of dtype {arr.dtype}")
    if arr.dtype.kind not in "biuf":
        raise InputTypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise InputValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if arr.ndim == 0:
        raise InputValueError(f"{name} must be an array, got the scalar {arr!r}")
    if arr.shape[0] == 0:
        raise InputValueError(f"{name} is empty (shape {arr.shape})")
    if arr.dtype.kind == "f" and not all_finite(arr):
        bad = np.argwhere(~np.isfinite(arr))[0]
        where = bad[0] if len(bad) == 1 else tuple(int(i) for i in bad)
        raise InputValueError(
            f"{name} contains NaN or infinity (first at index {where}: {arr[tuple(bad)]})"
        )
    if dtype is not None and arr.dtype != dtype:
        arr = _cast(name, arr, np.dtype(dtype))
    elif fits is not None and arr.dtype.kind == "f":
        check_fits(name, arr, np.dtype(fits))
    return np.ascontiguousarray(arr)


def _cast(name, arr, dtype) -> np.ndarray:
    """``arr`` in ``dtype``; a value beyond that dtype's range is refused, not made infinite."""
    narrowing = arr.dtype.kind == "f" and dtype.kind == "f" and dtype.itemsize < arr.dtype.itemsize
    if not narrowing:
        return arr.astype(dtype)
    with np.errstate(over="ignore"):
        out = arr.astype(dtype)
    if not all_finite(out):
        check_fits(name, arr, dtype)
    return out


def check_fits(name, arr: np.ndarray, dtype: np.dtype) -> None:
    """Refuse a finite value of ``arr`` that ``dtype`` cannot hold (1e308 in float32).

    The message names the first such element by its index and the two ways out: a model in
    a wider dtype (``dtype='float64'``), or data rescaled into range.
    """
    limit = float(np.finfo(dtype).max)
    with np.errstate(invalid="ignore"):
        beyond = np.abs(arr) > limit
    if not beyond.any():
        return
    bad = np.argwhere(beyond)[0]
    where = int(bad[0]) if len(bad) == 1 else tuple(int(i) for i in bad)
    raise InputValueError(
        "{name} holds {value:.6g} at index {where}, beyond the range of {dtype} (the model's "
        "dtype: |x| <= {limit:.4g}); use a model with {fix}, or rescale {name}",
        name=name,
        value=float(arr[tuple(bad)]),
        where=where,
        dtype=dtype.name,
        limit=limit,
        fix=Param("dtype", "float64"),
    )


def all_finite(arr: np.ndarray) -> bool:
    """True when ``arr`` holds no NaN and no infinity.

    One summation answers it without a temporary as large as the data: any NaN or infinity
    makes the sum NaN or infinite. Only when the sum itself overflows (huge but finite
    values) is every element checked.
    """
    if arr.size <= 4096:
        # A small array (one row to predict): the direct test is cheaper than entering
        # np.errstate, and its temporary is small.
        return bool(np.isfinite(arr).all())
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.add.reduce(arr, axis=None)):
            return True
    return bool(np.isfinite(arr).all())


def check_outputs(output: np.ndarray, dtype) -> np.ndarray:
    """The network's output, refused when it overflowed (computed under ``np.errstate``, so no
    NumPy warning reached the user first): one line naming the first row, and the fixes."""
    if all_finite(output):
        return output
    row = int(np.argwhere(~np.isfinite(output))[0][0])
    raise InputValueError(
        "the network's output for row {row} of X is {value} (it overflowed {dtype}): the inputs "
        "or the weights are too large; rescale X, or use a model with {fix}",
        row=row,
        value=float(output[row][~np.isfinite(output[row])][0]),
        dtype=np.dtype(dtype).name,
        fix=Param("dtype", "float64"),
    )
