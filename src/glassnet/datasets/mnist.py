"""MNIST handwritten digits: the four files found, downloaded if missing, checked and loaded.

MNIST (LeCun, Cortes and Burges) is 70,000 grey-scale images of handwritten digits, 28 x 28
pixels, 0 = background and 255 = ink, split into 60,000 training and 10,000 test images. It is
distributed as four IDX files (see :mod:`glassnet.datasets.idx`), usually gzip-compressed::

    train-images-idx3-ubyte.gz   train-labels-idx1-ubyte.gz
    t10k-images-idx3-ubyte.gz    t10k-labels-idx1-ubyte.gz

Two entry points:

- :func:`load_mnist` returns ``(X_train, y_train, X_test, y_test)``. Each of the four files is
  looked for, as ``NAME.gz`` or uncompressed ``NAME``, in

  1. ``data_dir``, if given (it must be an existing folder);
  2. ``$GLASSNET_DATA`` and ``$GLASSNET_DATA/mnist``, if that variable is set;
  3. the cache folder: ``cache_dir`` if given, else ``$GLASSNET_CACHE/mnist``, else
     ``$XDG_CACHE_HOME/glassnet/mnist``, else ``~/.cache/glassnet/mnist``;

  and, if found nowhere and downloading is on, downloaded into the cache folder from the first
  mirror that serves it with the right SHA-256 (resumable and atomic, see
  :mod:`glassnet.datasets.download`). Every file, found or downloaded, must match its
  checksums: the SHA-256 of the file as stored, or of its decompressed content, must be one of
  the known values, so a file found on disk is trusted no more than a downloaded one.
- :func:`load_digits_subset` returns a real subset of MNIST (every fifth image, 12,000 training
  and 2,000 test images) shipped inside the package, so that the digits demo runs offline.

Every problem with a file raises a subclass of ``ValueError`` (:class:`DatasetError`) whose
message is one line naming the file and what was expected and found. The IDX reader and writer
and the errors are importable from here too, beside the loaders that use them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from glassnet._validation import check_positive, unknown_name_error
from glassnet.datasets.download import download_file, verify_checksum
from glassnet.datasets.errors import (
    ChecksumError,
    DataNotFoundError,
    DatasetError,
    DownloadError,
    IDXFormatError,
)
from glassnet.datasets.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx, write_idx
from glassnet.errors import InputTypeError, InputValueError

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

    The search order, the download and the checks are those told in the module docstring.

    Parameters
    ----------
    data_dir : str or path-like, optional
        A folder holding the four files, searched first.
    cache_dir : str or path-like, optional
        Where downloaded files go (and are looked for).
    download : bool, default True
        Download missing files; if False, a missing file raises :class:`DataNotFoundError`.
    mirrors : sequence of str, optional
        Base URLs, tried in order, ``NAME.gz`` appended. Default :data:`MNIST_MIRRORS`.
    kind : {"float32", "uint8"}, default "float32"
        Pixels only: float32 is ``pixel / 255`` in [0, 1], uint8 the file's values.
    flatten : bool, default False
        Images of shape ``(n, 784)`` instead of ``(n, 1, 28, 28)``.
    timeout : float, default 30
        Seconds to wait for a server before trying the next mirror.
    checksums : mapping, optional
        File name (without ``.gz``) -> accepted SHA-256 hex digests. Default
        :data:`MNIST_SHA256`; replace it to load other files in the MNIST layout.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray
        Images of shape (60000, 1, 28, 28) and (10000, 1, 28, 28), or (n, 784) if ``flatten``;
        labels of shape (60000,) and (10000,), int64 digits 0-9.

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
    paths = _mnist_paths(data_dir, cache_dir, download, mirrors, checksums, timeout)
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
    """Read, check and convert the four files (train images, labels, test images, labels).

    All four are read and checksummed before any is converted, so a bad file is reported
    before time is spent on the others.
    """
    arrays = []
    for path, name in zip(paths, names, strict=True):
        magic = IMAGES_MAGIC if "-images-" in name else LABELS_MAGIC
        array = read_idx(path, magic=magic)
        verify_checksum(path, checksums[name])
        arrays.append(array)
    train = _images_and_labels(arrays[0], arrays[1], paths[0], paths[1], kind, flatten)
    test = _images_and_labels(arrays[2], arrays[3], paths[2], paths[3], kind, flatten)
    return (*train, *test)


def _images_and_labels(images, labels, images_path, labels_path, kind, flatten):
    """One split's images and labels, checked against each other, as the caller asked.

    The IDX header alone cannot say that the files are MNIST: 28 x 28 pixels, one label per
    image and digits 0-9 are checked here.
    """
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
        raise IDXFormatError(f"{labels_path}: labels must be digits 0-9, found {int(labels.max())}")
    images = images.reshape(len(images), -1) if flatten else images[:, np.newaxis]
    if kind == "float32":
        images = np.divide(images, np.float32(255), dtype=np.float32)
    return images, labels.astype(np.int64)


# --------------------------------------------------------------------------- finding files


def _search_folders(data_dir) -> list[tuple[str, Path]]:
    """``data_dir`` then ``$GLASSNET_DATA`` (and its ``mnist`` folder), labelled for messages."""
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
    """``cache_dir``, else ``$GLASSNET_CACHE/mnist``, else the XDG cache's ``glassnet/mnist``."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    if os.environ.get("GLASSNET_CACHE"):
        return Path(os.environ["GLASSNET_CACHE"]).expanduser() / "mnist"
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root).expanduser() / "glassnet" / "mnist"


def _find(name: str, folders) -> Path | None:
    """The first ``NAME.gz`` or ``NAME`` in the folders, in order; None if there is none."""
    for _, folder in folders:
        for candidate in (folder / (name + ".gz"), folder / name):
            if candidate.is_file():
                return candidate
    return None


def _mnist_paths(data_dir, cache_dir, download, mirrors, checksums, timeout) -> list[Path]:
    """The four MNIST files, each found in the search order or downloaded into the cache."""
    folders = _search_folders(data_dir)
    cache = _cache_folder(cache_dir)
    folders.append(("cache", cache))
    return [
        _find_or_download(name, folders, cache, download, mirrors, checksums[name], timeout)
        for name in MNIST_FILES
    ]


def _find_or_download(name, folders, cache, download, mirrors, accepted, timeout) -> Path:
    """The file ``name`` found in ``folders``, else downloaded into ``cache`` if allowed."""
    path = _find(name, folders)
    if path is not None:
        return path
    if not download:
        where = ", ".join(f"{os.fspath(folder)} ({label})" for label, folder in folders)
        raise DataNotFoundError(
            f"MNIST file {name}.gz (or {name}) is in none of: {where}; download=False. "
            f"{_by_hand(cache)}"
        )
    if not mirrors:
        raise InputValueError("mirrors must hold at least one URL, got an empty list")
    return download_file(name + ".gz", cache, mirrors, accepted, timeout, by_hand=_by_hand(cache))


def _by_hand(cache: Path) -> str:
    """How to install MNIST without downloading: the end of every not-found message."""
    files = ", ".join(name + ".gz" for name in MNIST_FILES)
    return (
        f"To install by hand, put {files} (gzip or uncompressed) in {os.fspath(cache)} "
        "or in a folder given as data_dir= or $GLASSNET_DATA"
    )


# --------------------------------------------------------------------------- argument checks


def _check_kind(kind) -> str:
    """``kind`` is one of the pixel types the loaders return."""
    if kind not in _KINDS:
        raise unknown_name_error("kind", kind, _KINDS)
    return kind


def _check_bool(name: str, value) -> bool:
    """A real bool (NumPy's too): ``"no"`` or ``0`` would pass a plain truth test."""
    if not isinstance(value, (bool, np.bool_)):
        raise InputTypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _check_mirrors(mirrors) -> tuple[str, ...]:
    """A tuple of URLs; a single URL string is one mirror, not a sequence of characters."""
    if isinstance(mirrors, str):
        mirrors = (mirrors,)
    mirrors = tuple(mirrors)
    for url in mirrors:
        if not isinstance(url, str):
            raise InputTypeError(f"mirrors must be URLs (str), got {url!r}")
    return mirrors


def _check_checksums(checksums, names) -> dict[str, frozenset]:
    """File name -> lower-case digests, one entry per name; a lone digest string is allowed."""
    if not isinstance(checksums, Mapping):
        raise InputTypeError(
            f"checksums must be a mapping of file name to SHA-256 digests, "
            f"got {type(checksums).__name__}"
        )
    table = {}
    for name in names:
        if name not in checksums:
            raise InputValueError(f"checksums has no entry for {name!r}")
        digests = checksums[name]
        digests = (digests,) if isinstance(digests, str) else tuple(digests)
        table[name] = frozenset(d.lower() for d in digests)
    return table
