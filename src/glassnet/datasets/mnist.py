"""MNIST handwritten digits: the IDX file format, a checksummed download, an offline subset.

MNIST (LeCun, Cortes and Burges) is 70,000 grey-scale images of handwritten digits, 28 x 28
pixels, 0 = background and 255 = ink, split into 60,000 training and 10,000 test images. It is
distributed as four IDX files, usually gzip-compressed::

    train-images-idx3-ubyte.gz   train-labels-idx1-ubyte.gz
    t10k-images-idx3-ubyte.gz    t10k-labels-idx1-ubyte.gz

Three entry points:

- :func:`read_idx` reads any IDX file (gzip or not) into an ndarray.
- :func:`load_mnist` finds the four files (a folder you name, ``$GLASSNET_DATA``, the cache),
  downloads what is missing from a list of mirrors into the cache, checks every file's SHA-256
  and returns ``(X_train, y_train, X_test, y_test)``.
- :func:`load_digits_subset` returns a real subset of MNIST (every fifth image, 12,000 training
  and 2,000 test images) shipped inside the package, so that the digits demo runs offline.

The IDX format (http://yann.lecun.com/exdb/mnist/): a 4-byte big-endian *magic number*
``0x0000TTNN`` (two zero bytes, a type code ``TT``, the number of dimensions ``NN``), then one
big-endian uint32 per dimension, then the values in C order, big-endian. MNIST's images have
magic number 2051 = ``0x00000803`` (uint8, 3 dimensions) and its labels 2049 = ``0x00000801``
(uint8, 1 dimension).

Every problem with a file raises a subclass of ``ValueError`` (:class:`DatasetError`) whose
message is one line naming the file and what was expected and found.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import logging
import os
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from glassnet._validation import check_positive, unknown_name_error

__all__ = [
    "DatasetError",
    "IDXFormatError",
    "ChecksumError",
    "DownloadError",
    "DataNotFoundError",
    "read_idx",
    "write_idx",
    "load_mnist",
    "load_digits_subset",
    "MNIST_FILES",
    "MNIST_SHA256",
    "MNIST_MIRRORS",
    "SUBSET_FILES",
    "SUBSET_SHA256",
]

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- errors


class DatasetError(ValueError):
    """A data file is malformed, fails its checksum, is missing or cannot be downloaded."""


class IDXFormatError(DatasetError):
    """A file is not a valid IDX file, or not the IDX file that was expected."""


class ChecksumError(DatasetError):
    """A file's SHA-256 is not one of the known values."""


class DownloadError(DatasetError, OSError):
    """A file could not be downloaded from any mirror (also an ``OSError``)."""


class DataNotFoundError(DatasetError, FileNotFoundError):
    """A file is in none of the folders searched and downloading is off."""


# --------------------------------------------------------------------------- the IDX format

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

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


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
            if raw.read(2) == _GZIP_MAGIC:
                raw.seek(0)
                with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                    return _parse_idx(stream, name, magic)
            raw.seek(0)
            return _parse_idx(raw, name, magic)
    if not hasattr(source, "read"):
        raise TypeError(f"source must be a path or a binary file object, got {source!r}")
    name = getattr(source, "name", None)
    name = os.fspath(name) if isinstance(name, (str, os.PathLike)) else "<file object>"
    data = source.read()
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"source must be opened in binary mode, its read() gave {type(data)}")
    if data[:2] == _GZIP_MAGIC:
        with gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb") as stream:
            return _parse_idx(stream, name, magic)
    return _parse_idx(io.BytesIO(data), name, magic)


def _parse_idx(stream, name: str, magic: int | None) -> np.ndarray:
    """The header, then the values; ``stream`` is already decompressed."""
    try:
        header = _read_up_to(stream, 4)
        if len(header) < 4:
            raise IDXFormatError(
                f"{name}: truncated IDX header, expected 4 bytes, found {len(header)}"
            )
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
        dtype = IDX_DTYPES[code].newbyteorder(">")
        nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize

        # Read in chunks, never more than the header declares plus one byte: a header that
        # claims a huge shape cannot make us allocate more memory than the file holds.
        data = bytearray()
        truncated_gzip = False
        try:
            while len(data) <= nbytes:
                chunk = stream.read(min(_CHUNK, nbytes + 1 - len(data)))
                if not chunk:
                    break
                data += chunk
        except EOFError:  # a gzip stream that stops before its end-of-stream marker
            truncated_gzip = True
        if len(data) < nbytes or truncated_gzip:
            shape_text = " x ".join(map(str, shape)) or "scalar"
            raise IDXFormatError(
                f"{name}: truncated data, expected {nbytes} bytes ({shape_text} "
                f"{IDX_DTYPES[code]}) after the {4 + 4 * ndim}-byte header, found "
                f"{len(data)}" + (" (the gzip stream ends early)" if truncated_gzip else "")
            )
        if len(data) > nbytes:
            extra = len(data) - nbytes
            while chunk := stream.read(_CHUNK):
                extra += len(chunk)
            raise IDXFormatError(
                f"{name}: {extra} bytes after the data, expected {nbytes} bytes of data "
                f"for shape {shape} and found {nbytes + extra}"
            )
    except EOFError:  # a gzip stream that stops inside the header
        raise IDXFormatError(
            f"{name}: truncated gzip stream, it ends inside the IDX header"
        ) from None
    except (gzip.BadGzipFile, zlib.error) as exc:  # bad gzip header, CRC, corrupt deflate data
        raise IDXFormatError(f"{name}: corrupt gzip data ({exc})") from None

    array = np.frombuffer(data, dtype=dtype).reshape(shape)
    if not array.dtype.isnative:  # swap in place: no copy of the values
        array = array.byteswap(inplace=True).view(array.dtype.newbyteorder("="))
    return array


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
        raise TypeError(
            f"array dtype must be one of {', '.join(map(str, IDX_DTYPES.values()))},"
            f" got {array.dtype}"
        )
    if not 1 <= array.ndim <= 255 or any(n >= 2**32 for n in array.shape):
        raise ValueError(
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
    if compress:
        with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=9, mtime=0) as stream:
            stream.write(header)
            stream.write(values)
    else:
        out.write(header)
        out.write(values)


# --------------------------------------------------------------------------- MNIST

MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

# SHA-256 of each file, (as distributed, gzip-compressed), (after gunzip). Either is accepted.
MNIST_SHA256 = {
    "train-images-idx3-ubyte": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    "train-labels-idx1-ubyte": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    "t10k-images-idx3-ubyte": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    "t10k-labels-idx1-ubyte": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
}

# Public copies of the original files, tried in this order. The third is the original site,
# which now often refuses downloads; the checksums make the plain-HTTP URL safe to try.
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

# The subset shipped in glassnet/datasets/data, made by tools/make_digits_subset.py, and the
# SHA-256 of each file, (gzip file), (decompressed); the second survives a different zlib.
SUBSET_FILES = (
    "mnist-subset-train-images-idx3-ubyte",
    "mnist-subset-train-labels-idx1-ubyte",
    "mnist-subset-t10k-images-idx3-ubyte",
    "mnist-subset-t10k-labels-idx1-ubyte",
)
SUBSET_SHA256 = {
    "mnist-subset-train-images-idx3-ubyte": (  # 1,931,596 bytes, 9,408,016 uncompressed
        "6e8bc1e079b2bd63a180a2820b2a1c9bec47fba061058b4757129c47edafe4c9",
        "8a10b85c5abe2c55f158cd103566eeaab7860c0022193a9fadb6f6240c05ca5a",
    ),
    "mnist-subset-train-labels-idx1-ubyte": (  # 6,043 bytes, 12,008 uncompressed
        "96516ff0e31d6b6ebf49eac84871f8eeffa141b7a590e6f811650b0e7b140a19",
        "da62d6bb1c5b219a6219ecfa5de4c2631404804308c046a5f8033bdc4cb0e3c0",
    ),
    "mnist-subset-t10k-images-idx3-ubyte": (  # 320,039 bytes, 1,568,016 uncompressed
        "63ab0e7e480bd341675edf1d411f6f81d57c3453b0be9b4c341d4319a9be0c00",
        "544b11e980491b35ea0a29d267be603798a522d267bd875eefdf185f2a90b4ed",
    ),
    "mnist-subset-t10k-labels-idx1-ubyte": (  # 1,015 bytes, 2,008 uncompressed
        "a61618755f7c2f42008ead8dd519547384db7a3bf7b8bc7bcaf354a2010312f7",
        "00c8ee896b56b1f141feedeefecd0ec606a7715b411eb44be7e1b1decd17e3fd",
    ),
}

_KINDS = ("float32", "uint8")
_USER_AGENT = "glassnet-mnist-loader (Python urllib)"
_MAX_DOWNLOAD_BYTES = 1 << 28  # 256 MiB: far above any MNIST file, stops a runaway server


def load_mnist(
    data_dir=None,
    *,
    cache_dir=None,
    download: bool = True,
    mirrors=None,
    kind: str = "float32",
    flatten: bool = False,
    timeout: float = 30,
    checksums: Mapping[str, Iterable[str]] | None = None,
):
    """Load MNIST, downloading it into a cache folder the first time if needed.

    Each of the four files is looked for, as ``NAME.gz`` or uncompressed ``NAME``, in

    1. ``data_dir``, if given (it must be an existing folder);
    2. ``$GLASSNET_DATA`` and ``$GLASSNET_DATA/mnist``, if that variable is set;
    3. the cache folder: ``cache_dir`` if given, else ``$GLASSNET_CACHE/mnist``, else
       ``$XDG_CACHE_HOME/glassnet/mnist``, else ``~/.cache/glassnet/mnist``;

    and, if found nowhere and ``download`` is true, downloaded into the cache folder from
    the first of ``mirrors`` that serves it with the right SHA-256. A download goes to
    ``NAME.gz.part`` in the cache folder, is checked, then renamed (``os.replace``), so the
    cache never holds a file that failed its check. An interrupted download is resumed
    (HTTP Range request) on the next attempt, and thrown away if it then fails its check.

    Every file, found or downloaded, must match ``checksums``: the SHA-256 of the file as
    stored, or of its decompressed content, must be one of the known values.

    Parameters
    ----------
    data_dir : str or path-like, optional
        A folder holding the four files.
    cache_dir : str or path-like, optional
        Where downloaded files go (and are looked for).
    download : bool, default True
        Download missing files; if False, a missing file raises :class:`DataNotFoundError`.
    mirrors : sequence of str, optional
        Base URLs, tried in order; the file name ``NAME.gz`` is appended. Default
        :data:`MNIST_MIRRORS`.
    kind : {"float32", "uint8"}, default "float32"
        float32 images are ``pixel / 255`` in [0, 1]; uint8 images are the file's values.
    flatten : bool, default False
        Images of shape ``(n, 784)`` instead of ``(n, 1, 28, 28)``.
    timeout : float, default 30
        Seconds to wait for a server before trying the next mirror.
    checksums : mapping, optional
        File name (without ``.gz``) -> accepted SHA-256 hex digests. Default
        :data:`MNIST_SHA256`; replace it to load other files in the MNIST layout.

    Returns
    -------
    X_train : ndarray of shape (60000, 1, 28, 28), or (60000, 784) if ``flatten``
    y_train : ndarray of shape (60000,), int64 digits 0-9
    X_test : ndarray of shape (10000, 1, 28, 28), or (10000, 784) if ``flatten``
    y_test : ndarray of shape (10000,), int64 digits 0-9

    Labels are int64 whatever ``kind`` is: ``kind`` is about pixels only.

    Raises
    ------
    IDXFormatError, ChecksumError, DataNotFoundError, DownloadError
        All subclasses of ``ValueError``, with a one-line message naming the file.

    Examples
    --------
    >>> X_train, y_train, X_test, y_test = load_mnist()          # doctest: +SKIP
    >>> X_train.shape, X_train.dtype, y_train[:5]                 # doctest: +SKIP
    ((60000, 1, 28, 28), dtype('float32'), array([5, 0, 4, 1, 9]))
    """
    kind = _check_kind(kind)
    flatten = _check_bool("flatten", flatten)
    download = _check_bool("download", download)
    timeout = check_positive("timeout", timeout)
    checksums = _check_checksums(MNIST_SHA256 if checksums is None else checksums, MNIST_FILES)
    mirrors = _check_mirrors(MNIST_MIRRORS if mirrors is None else mirrors)

    folders = _search_folders(data_dir)
    cache = _cache_folder(cache_dir)
    folders.append(("cache", cache))

    paths = []
    for name in MNIST_FILES:
        path = _find(name, folders)
        if path is None:
            if not download:
                where = ", ".join(f"{os.fspath(folder)} ({label})" for label, folder in folders)
                raise DataNotFoundError(
                    f"MNIST file {name}.gz (or {name}) is in none of: {where}; download=False. "
                    f"{_by_hand(cache)}"
                )
            if not mirrors:
                raise ValueError("mirrors must hold at least one URL, got an empty list")
            path = _download(name + ".gz", cache, mirrors, checksums[name], timeout)
        paths.append(path)
    return _load_four(paths, checksums, MNIST_FILES, kind, flatten)


def load_digits_subset(kind: str = "float32", flatten: bool = False):
    """A real subset of MNIST shipped with glassnet: 12,000 training and 2,000 test images.

    Every fifth image of each MNIST file, in file order: training images 0, 5, 10, ...,
    59995 and test images 0, 5, ..., 9995, with their labels (see
    ``glassnet/datasets/data/MNIST-ATTRIBUTION.md`` and ``tools/make_digits_subset.py``).
    No network is needed; the files' SHA-256 are checked.

    Parameters
    ----------
    kind : {"float32", "uint8"}, default "float32"
    flatten : bool, default False

    Returns
    -------
    X_train : ndarray of shape (12000, 1, 28, 28), or (12000, 784) if ``flatten``
    y_train : ndarray of shape (12000,), int64
    X_test : ndarray of shape (2000, 1, 28, 28), or (2000, 784) if ``flatten``
    y_test : ndarray of shape (2000,), int64
    """
    kind = _check_kind(kind)
    flatten = _check_bool("flatten", flatten)
    folder = Path(__file__).resolve().parent / "data"
    paths = []
    for name in SUBSET_FILES:
        path = _find(name, [("package data", folder)])
        if path is None:
            raise DataNotFoundError(
                f"the shipped MNIST subset file {name}.gz is missing from "
                f"{folder}; reinstall glassnet"
            )
        paths.append(path)
    checksums = _check_checksums(SUBSET_SHA256, SUBSET_FILES)
    return _load_four(paths, checksums, SUBSET_FILES, kind, flatten)


# --------------------------------------------------------------------------- reading


def _load_four(paths, checksums, names, kind, flatten):
    """Read, check and convert the four files (train images, labels, test images, labels)."""
    arrays = []
    for path, name in zip(paths, names, strict=True):
        magic = IMAGES_MAGIC if "-images-" in name else LABELS_MAGIC
        array = read_idx(path, magic=magic)
        _verify(path, checksums[name])
        arrays.append(array)
    out = []
    for i in (0, 2):  # (train images, train labels), then (test images, test labels)
        images, labels = arrays[i], arrays[i + 1]
        images_path, labels_path = paths[i], paths[i + 1]
        if images.shape[1:] != (28, 28):
            raise IDXFormatError(
                f"{images_path}: images must be 28 x 28 pixels, found "
                f"{images.shape[1]} x {images.shape[2]}"
            )
        if len(images) != len(labels):
            raise IDXFormatError(
                f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels"
            )
        if labels.size and labels.max() > 9:
            raise IDXFormatError(
                f"{labels_path}: labels must be digits 0-9, found {int(labels.max())}"
            )
        images = images.reshape(len(images), -1) if flatten else images[:, np.newaxis]
        if kind == "float32":
            images = np.divide(images, np.float32(255), dtype=np.float32)
        out += [images, labels.astype(np.int64)]
    return tuple(out)


def _verify(path: Path, accepted: frozenset) -> None:
    """The file's SHA-256, or its decompressed content's, must be an accepted one."""
    found = _sha256(path)
    if found in accepted:
        return
    content = _sha256_gunzipped(path)
    if content in accepted:
        return
    also = f" (decompressed {content})" if content is not None else ""
    raise ChecksumError(
        f"checksum mismatch for {os.fspath(path)}: expected SHA-256 "
        f"{' or '.join(sorted(accepted))}, found {found}{also}"
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _sha256_gunzipped(path: Path) -> str | None:
    """SHA-256 of a gzip file's content; None if the file is not (valid) gzip."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as raw:
            if raw.read(2) != _GZIP_MAGIC:
                return None
            raw.seek(0)
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                while chunk := stream.read(_CHUNK):
                    digest.update(chunk)
    except (OSError, EOFError, zlib.error):
        return None
    return digest.hexdigest()


# --------------------------------------------------------------------------- finding files


def _search_folders(data_dir) -> list[tuple[str, Path]]:
    folders = []
    if data_dir is not None:
        path = Path(data_dir).expanduser()
        if not path.is_dir():
            raise DataNotFoundError(
                f"data_dir must be an existing folder, got {os.fspath(data_dir)!r}"
            )
        folders.append(("data_dir", path))
    env = os.environ.get("GLASSNET_DATA")
    if env:
        path = Path(env).expanduser()
        folders += [("$GLASSNET_DATA", path), ("$GLASSNET_DATA", path / "mnist")]
    return folders


def _cache_folder(cache_dir) -> Path:
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    if os.environ.get("GLASSNET_CACHE"):
        return Path(os.environ["GLASSNET_CACHE"]).expanduser() / "mnist"
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root).expanduser() / "glassnet" / "mnist"


def _find(name: str, folders) -> Path | None:
    for _, folder in folders:
        for candidate in (folder / (name + ".gz"), folder / name):
            if candidate.is_file():
                return candidate
    return None


def _by_hand(cache: Path) -> str:
    files = ", ".join(name + ".gz" for name in MNIST_FILES)
    return (
        f"To install by hand, put {files} (gzip or uncompressed) in {os.fspath(cache)} "
        "or in a folder given as data_dir= or $GLASSNET_DATA"
    )


# --------------------------------------------------------------------------- downloading


def _download(filename: str, folder: Path, mirrors, accepted: frozenset, timeout: float) -> Path:
    """Fetch ``filename`` from the first mirror that serves it with an accepted SHA-256."""
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / (filename + ".part")
    failures = []
    for mirror in mirrors:
        url = mirror if mirror.endswith("/") else mirror + "/"
        url += filename
        for _attempt in range(2):  # a second attempt only when a resumed file fails its check
            try:
                resumed = _fetch(url, part, timeout)
            except urllib.error.HTTPError as exc:
                failures.append(f"{url} (HTTP {exc.code} {exc.reason})")
                exc.close()
                break
            except urllib.error.URLError as exc:
                failures.append(f"{url} ({exc.reason})")
                break
            except (OSError, http.client.HTTPException, ValueError) as exc:
                failures.append(f"{url} ({type(exc).__name__}: {exc})")
                break
            found = _sha256(part)
            if found in accepted or _sha256_gunzipped(part) in accepted:
                with open(part, "rb") as f:
                    is_gzip = f.read(2) == _GZIP_MAGIC
                target = folder / (filename if is_gzip else filename.removesuffix(".gz"))
                os.replace(part, target)
                logger.info("downloaded %s to %s", url, target)
                return target
            part.unlink()
            if not resumed:
                failures.append(
                    f"{url} (checksum mismatch: expected SHA-256 "
                    f"{' or '.join(sorted(accepted))}, found {found})"
                )
                break
            logger.info("resumed download of %s failed its checksum; starting again", url)
    raise DownloadError(
        f"could not download {filename} from any mirror: {'; '.join(failures)}. {_by_hand(folder)}"
    )


def _fetch(url: str, part: Path, timeout: float) -> bool:
    """Download ``url`` into ``part``, resuming a partial file; True if it resumed."""
    offset = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": _USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    logger.info("downloading %s%s", url, f" from byte {offset}" if offset else "")
    try:
        response = urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=timeout
        )
    except urllib.error.HTTPError as exc:
        if offset and exc.code == 416:  # range not satisfiable: the partial file is no good
            exc.close()
            part.unlink()
            return _fetch(url, part, timeout)
        raise
    with response:
        resumed = (
            bool(offset)
            and response.status == 206
            and response.headers.get("Content-Range", "").startswith(f"bytes {offset}-")
        )
        length = response.headers.get("Content-Length")
        received = 0
        start = offset if resumed else 0
        with open(part, "ab" if resumed else "wb") as out:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                received += len(chunk)
                if start + received > _MAX_DOWNLOAD_BYTES:
                    break
    if start + received > _MAX_DOWNLOAD_BYTES:
        part.unlink()
        raise ValueError(f"more than {_MAX_DOWNLOAD_BYTES} bytes, not an MNIST file")
    if length is not None and length.isdigit() and received != int(length):
        raise ConnectionError(f"connection closed after {received} of {length} bytes")
    return resumed


# --------------------------------------------------------------------------- argument checks


def _check_kind(kind) -> str:
    if kind not in _KINDS:
        raise unknown_name_error("kind", kind, _KINDS)
    return kind


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _check_mirrors(mirrors) -> tuple[str, ...]:
    if isinstance(mirrors, str):
        mirrors = (mirrors,)
    mirrors = tuple(mirrors)
    for url in mirrors:
        if not isinstance(url, str):
            raise TypeError(f"mirrors must be URLs (str), got {url!r}")
    return mirrors


def _check_checksums(checksums, names) -> dict[str, frozenset]:
    if not isinstance(checksums, Mapping):
        raise TypeError(
            f"checksums must be a mapping of file name to SHA-256 digests, "
            f"got {type(checksums).__name__}"
        )
    table = {}
    for name in names:
        if name not in checksums:
            raise ValueError(f"checksums has no entry for {name!r}")
        digests = checksums[name]
        digests = (digests,) if isinstance(digests, str) else tuple(digests)
        table[name] = frozenset(d.lower() for d in digests)
    return table
