"""The IDX file format: read and write the n-dimensional arrays MNIST is distributed in.

An IDX file (http://yann.lecun.com/exdb/mnist/) is a 4-byte big-endian *magic number*
``0x0000TTNN`` (two zero bytes, a type code ``TT``, the number of dimensions ``NN``), then one
big-endian uint32 per dimension, then the values in C order, big-endian. MNIST's images have
magic number 2051 = ``0x00000803`` (uint8, 3 dimensions) and its labels 2049 = ``0x00000801``
(uint8, 1 dimension). Files are often gzip-compressed; the reader tells by the first two bytes.

The reader trusts nothing in the header: a file that ends early, holds bytes beyond what its
header declares, or claims a shape far larger than the file raises :class:`IDXFormatError`
naming the file, and never makes the reader allocate more memory than the file holds.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib

import numpy as np

from glassnet.datasets.errors import IDXFormatError
from glassnet.errors import InputTypeError, InputValueError

__all__ = ["read_idx", "write_idx", "IDX_DTYPES", "IMAGES_MAGIC", "LABELS_MAGIC"]

# type code -> dtype (the values are stored big-endian in the file)
IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(np.int16),
    0x0C: np.dtype(np.int32),
    0x0D: np.dtype(np.float32),
    0x0E: np.dtype(np.float64),
}
_IDX_CODES = {dtype: code for code, dtype in IDX_DTYPES.items()}

IMAGES_MAGIC = 2051  # 0x00000803: uint8, 3 dimensions (n, rows, cols)
LABELS_MAGIC = 2049  # 0x00000801: uint8, 1 dimension (n,)
_MAGIC_NAMES = {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}

GZIP_MAGIC = b"\x1f\x8b"
CHUNK_BYTES = 1 << 20  # files are read (and hashed, and downloaded) this many bytes at a time


def read_idx(source, *, magic: int | None = None) -> np.ndarray:
    """Read an IDX file into an ndarray.

    Parameters
    ----------
    source : str, path-like or binary file object
        The file, gzip-compressed or not (recognised by its first two bytes, not its name).
    magic : int, optional
        The magic number the file must have, e.g. 2051 for MNIST images; ``None`` accepts any
        valid IDX header.

    Returns
    -------
    ndarray
        Shape as given by the header; dtype uint8, int8, int16, int32, float32 or float64
        (type codes 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E) in native byte order. The array is
        writable and owns no copy of the file beyond its values.

    Raises
    ------
    IDXFormatError
        Wrong magic number, unknown type code, truncated header or data, data beyond what the
        header declares, or a corrupt gzip stream. The message names the file.

    Examples
    --------
    >>> labels = read_idx("t10k-labels-idx1-ubyte.gz", magic=2049)  # doctest: +SKIP
    >>> labels.shape, labels.dtype                                    # doctest: +SKIP
    ((10000,), dtype('uint8'))
    """
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        with open(source, "rb") as raw:
            if raw.read(2) == GZIP_MAGIC:
                raw.seek(0)
                with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                    return _parse_idx(stream, name, magic)
            raw.seek(0)
            return _parse_idx(raw, name, magic)
    if not hasattr(source, "read"):
        raise InputTypeError(f"source must be a path or a binary file object, got {source!r}")
    name = getattr(source, "name", None)
    name = os.fspath(name) if isinstance(name, (str, os.PathLike)) else "<file object>"
    data = source.read()
    if not isinstance(data, (bytes, bytearray)):
        raise InputTypeError(f"source must be opened in binary mode, its read() gave {type(data)}")
    if data[:2] == GZIP_MAGIC:
        with gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb") as stream:
            return _parse_idx(stream, name, magic)
    return _parse_idx(io.BytesIO(data), name, magic)


def _parse_idx(stream, name: str, magic: int | None) -> np.ndarray:
    """The header, then the values; ``stream`` is already decompressed.

    gzip errors are turned into :class:`IDXFormatError` here, around both steps, because a
    corrupt or cut-off gzip stream shows itself only when its bytes are read.
    """
    try:
        shape, dtype, header_bytes = _read_header(stream, name, magic)
        data = _read_values(stream, name, shape, dtype, header_bytes)
    except EOFError:  # a gzip stream that stops inside the header
        raise IDXFormatError(
            f"{name}: truncated gzip stream, it ends inside the IDX header"
        ) from None
    except (gzip.BadGzipFile, zlib.error) as exc:  # bad gzip header, CRC, corrupt deflate data
        raise IDXFormatError(f"{name}: corrupt gzip data ({exc})") from None

    array = np.frombuffer(data, dtype=dtype.newbyteorder(">")).reshape(shape)
    if not array.dtype.isnative:  # swap in place: no copy of the values
        array = array.byteswap(inplace=True).view(array.dtype.newbyteorder("="))
    return array


def _read_header(stream, name: str, magic: int | None) -> tuple[tuple[int, ...], np.dtype, int]:
    """The magic number and dimensions: ``(shape, dtype, header size in bytes)``.

    The magic number is compared with the expected one first, so that an images file given
    where labels were expected says so rather than something vaguer.
    """
    header = _read_up_to(stream, 4)
    if len(header) < 4:
        raise IDXFormatError(f"{name}: truncated IDX header, expected 4 bytes, found {len(header)}")
    found = int.from_bytes(header, "big")
    if magic is not None and found != magic:
        what = _MAGIC_NAMES.get(magic, "IDX")
        raise IDXFormatError(
            f"{name}: wrong magic number, expected {magic} ({what}), found {found}"
        )
    if header[:2] != b"\0\0":
        raise IDXFormatError(
            f"{name}: not an IDX file, magic number {found} = {found:#010x} "
            "does not start with two zero bytes"
        )
    code, ndim = header[2], header[3]
    if code not in IDX_DTYPES:
        raise IDXFormatError(
            f"{name}: unknown IDX type code {code:#04x}; known codes are "
            + ", ".join(f"{c:#04x}" for c in IDX_DTYPES)
        )
    dims = _read_up_to(stream, 4 * ndim)
    if len(dims) < 4 * ndim:
        raise IDXFormatError(
            f"{name}: truncated IDX header, expected {4 + 4 * ndim} "
            f"bytes for {ndim} dimensions, found {4 + len(dims)}"
        )
    shape = tuple(int.from_bytes(dims[4 * i : 4 * i + 4], "big") for i in range(ndim))
    return shape, IDX_DTYPES[code], 4 + 4 * ndim


def _read_values(stream, name: str, shape, dtype: np.dtype, header_bytes: int) -> bytearray:
    """Exactly the values the header declares, or :class:`IDXFormatError`.

    Reads in chunks, never more than the header declares plus one byte: a header that claims
    a huge shape cannot make us allocate more memory than the file holds. The extra byte tells
    a file with data beyond its declared shape, whose surplus is then counted, not kept.
    """
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    data = bytearray()
    truncated_gzip = False
    try:
        while len(data) <= nbytes:
            chunk = stream.read(min(CHUNK_BYTES, nbytes + 1 - len(data)))
            if not chunk:
                break
            data += chunk
    except EOFError:  # a gzip stream that stops before its end-of-stream marker
        truncated_gzip = True
    if len(data) < nbytes or truncated_gzip:
        shape_text = " x ".join(map(str, shape)) or "scalar"
        raise IDXFormatError(
            f"{name}: truncated data, expected {nbytes} bytes ({shape_text} "
            f"{dtype}) after the {header_bytes}-byte header, found "
            f"{len(data)}" + (" (the gzip stream ends early)" if truncated_gzip else "")
        )
    if len(data) > nbytes:
        extra = len(data) - nbytes
        while chunk := stream.read(CHUNK_BYTES):
            extra += len(chunk)
        raise IDXFormatError(
            f"{name}: {extra} bytes after the data, expected {nbytes} bytes of data "
            f"for shape {shape} and found {nbytes + extra}"
        )
    return data


def _read_up_to(stream, n: int) -> bytes:
    """Up to ``n`` bytes: fewer only at the end of the stream."""
    parts, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def write_idx(destination, array, *, compress: bool | None = None) -> None:
    """Write an ndarray as an IDX file, the inverse of :func:`read_idx`.

    Parameters
    ----------
    destination : str, path-like or binary file object
    array : array-like
        dtype uint8, int8, int16, int32, float32 or float64; at least one dimension.
    compress : bool, optional
        gzip the file. Default: True for a path ending in ``.gz``, False otherwise. The gzip
        header holds no file name and time 0, so the same array always gives the same bytes
        (for a given zlib).
    """
    array = np.asarray(array)
    code = _IDX_CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise InputTypeError(
            f"array dtype must be one of {', '.join(map(str, IDX_DTYPES.values()))},"
            f" got {array.dtype}"
        )
    if not 1 <= array.ndim <= 255 or any(n >= 2**32 for n in array.shape):
        raise InputValueError(
            f"array must have 1 to 255 dimensions, each < 2**32, got shape {array.shape}"
        )
    header = bytes([0, 0, code, array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape)
    values = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder(">")).tobytes()

    if isinstance(destination, (str, os.PathLike)):
        if compress is None:
            compress = os.fspath(destination).endswith(".gz")
        with open(destination, "wb") as out:
            _write_idx_bytes(out, header, values, compress)
    else:
        _write_idx_bytes(destination, header, values, bool(compress))


def _write_idx_bytes(out, header: bytes, values: bytes, compress: bool) -> None:
    """Header then values, through a reproducible gzip stream if ``compress``."""
    if compress:
        with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=9, mtime=0) as stream:
            stream.write(header)
            stream.write(values)
    else:
        out.write(header)
        out.write(values)
