"""The safetensors container, read without trusting it.

A safetensors file is 8 bytes holding ``N`` (little-endian), ``N`` bytes of a JSON header,
then the tensor bytes::

    {"__metadata__": {"glassnet": "<the document>", ...},
     "layers.0.W": {"dtype": "F32", "shape": [2, 8], "data_offsets": [0, 64]}, ...}

with each tensor's offsets counted from the first tensor byte. Reading it here:

1. :func:`read_regular_file` opens the path without blocking (``O_NONBLOCK``: a FIFO would
   wait forever for a writer), refuses anything ``fstat`` does not call a regular file (a
   FIFO, ``/dev/zero``, a folder) and reads at most its size, under a limit.
2. :func:`read_header` bounds the header's length and its nesting depth *before*
   ``json.loads`` (which recurses once per level, so 2,000 levels would be a RecursionError).
3. :func:`tensor_table` checks the table against the file: known dtypes, every tensor's
   ``prod(shape) * itemsize`` bytes at offsets that tile the body exactly — so no declared
   shape can reach past the bytes the file really has.
4. :func:`tensor_views` gives each tensor as a read-only NumPy view of the file's bytes: no
   copy, and no array is sized from anything but the checked table.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat

import numpy as np

from glassnet.io import schema
from glassnet.io.errors import ModelFileError, shown

MAX_FILE_BYTES = 4 * 2**30  # the default limit on a model file's size (4 GiB)
MAX_HEADER_BYTES = 64 * 2**20
MAX_DEPTH = 64  # nesting of lists and objects, header or document
DTYPES = {"F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8")}

_KINDS = [
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
]


def read_regular_file(path, where: str, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file at ``path``, at most ``max_bytes`` of them.

    Raises
    ------
    ModelFileError
        The path is missing, unreadable, not a regular file, or larger than ``max_bytes``.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ModelFileError(f"model file not found: {where}") from None
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {where}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a file")
            raise ModelFileError(
                f"{where} is {kind}, not a regular file: a model file must be a regular file"
            )
        if info.st_size > max_bytes:
            raise ModelFileError(
                f"{where} is {info.st_size} bytes, more than the limit of {max_bytes} bytes; "
                f"pass a larger max_bytes to load() if you trust it"
            )
        return _read_at_most(fd, info.st_size, where)
    finally:
        os.close(fd)


def _read_at_most(fd: int, size: int, where: str) -> bytes:
    """Read the ``size`` bytes ``fstat`` promised; one byte more means the file is growing."""
    chunks, remaining = [], size + 1
    while remaining > 0:
        chunk = os.read(fd, min(remaining, 2**24))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    data = b"".join(chunks)
    if len(data) != size:
        raise ModelFileError(f"{where} changed size while it was read: write it again")
    return data


_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def check_nesting(text: bytes, where: str, what: str, limit: int = MAX_DEPTH) -> None:
    """Refuse JSON nested deeper than ``limit`` without parsing it: the depth at each byte
    is the running count of ``[``/``{`` minus ``]``/``}`` outside strings (strings are
    blanked first, so a bracket inside one never counts). Linear time, no recursion."""
    blanked = np.frombuffer(_STRINGS.sub(b'""', text), dtype=np.uint8)
    opens = (blanked == ord("[")) | (blanked == ord("{"))
    closes = (blanked == ord("]")) | (blanked == ord("}"))
    step = opens.astype(np.int32) - closes.astype(np.int32)
    depth = int(np.cumsum(step).max()) if step.size else 0
    if depth > limit:
        raise ModelFileError(
            f"{where}: its {what} is nested {depth} levels deep; a model file has at most {limit}"
        )


def read_header(data: bytes, where: str) -> tuple[dict, int]:
    """The parsed safetensors header and the offset of the first tensor byte."""
    if len(data) < 8:
        raise ModelFileError(f"{where} is not a glassnet model file (too short)")
    header_len = int.from_bytes(data[:8], "little")
    if header_len <= 0 or header_len > MAX_HEADER_BYTES or data[8:9] != b"{":
        raise ModelFileError(f"{where} is not a glassnet model file")
    if 8 + header_len > len(data):
        raise ModelFileError(
            f"{where} is truncated: its header needs {header_len} bytes, the "
            f"file has {len(data) - 8} after the length"
        )
    raw = data[8 : 8 + header_len]
    check_nesting(raw, where, "header")
    try:
        header = json.loads(raw)
    except ValueError as exc:  # also UnicodeDecodeError and over-long integers
        raise ModelFileError(
            f"{where} is not a glassnet model file (its header is not valid JSON: "
            f"{shown(str(exc), 80)})"
        ) from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{where} is not a glassnet model file")
    return header, 8 + header_len


def tensor_table(header: dict, body_size: int, where: str) -> dict[str, tuple]:
    """``{name: (dtype, shape, begin, end)}`` from the header, checked against the body."""
    schema.check(header, "table", where, "tensor table")
    entries = {k: v for k, v in header.items() if k != "__metadata__"}
    table, expected_begin = {}, 0
    for name, e in sorted(entries.items(), key=lambda item: item[1]["data_offsets"]):
        dtype = DTYPES.get(e["dtype"])
        if dtype is None:
            raise ModelFileError(
                f"{where}: tensor {shown(name)} has dtype {shown(e['dtype'])}; a glassnet "
                f"model file holds only {', '.join(DTYPES)}"
            )
        begin, end = e["data_offsets"]
        shape = tuple(e["shape"])
        if begin != expected_begin or end - begin != math.prod(shape) * dtype.itemsize:
            raise ModelFileError(
                f"{where} is corrupted: tensor {shown(name)} of shape {shape} ({e['dtype']}) "
                f"does not fit its offsets [{begin}, {end}]"
            )
        table[name] = (dtype, shape, begin, end)
        expected_begin = end
    if expected_begin != body_size:
        raise ModelFileError(
            f"{where} is corrupted or truncated: its tensors need {expected_begin} bytes, "
            f"the file holds {body_size}"
        )
    return table


def tensor_views(data: bytes, body: int, table: dict) -> dict[str, np.ndarray]:
    """Each tensor as a read-only view of ``data`` (no copy; C order, little-endian)."""
    return {
        name: np.frombuffer(data, dtype, math.prod(shape), body + begin).reshape(shape)
        for name, (dtype, shape, begin, _) in table.items()
    }
