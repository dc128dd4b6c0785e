"""The errors of data files: one ``ValueError`` family, so one ``except`` catches them all.

Every problem with a data file (its format, its checksum, finding it, downloading it) raises a
subclass of :class:`DatasetError` whose message is one line naming the file and what was
expected and found. The download and not-found errors are also ``OSError`` and
``FileNotFoundError``, so code written for plain file access still catches them.
"""

from __future__ import annotations

from glassnet.errors import InputValueError

__all__ = [
    "DatasetError",
    "IDXFormatError",
    "ChecksumError",
    "DownloadError",
    "DataNotFoundError",
]


class DatasetError(InputValueError):
    """A data file is malformed, fails its checksum, is missing or cannot be downloaded."""


class IDXFormatError(DatasetError):
    """A file is not a valid IDX file, or not the IDX file that was expected."""


class ChecksumError(DatasetError):
    """A file's SHA-256 is not one of the known values."""


class DownloadError(DatasetError, OSError):
    """A file could not be downloaded from any mirror (also an ``OSError``)."""


class DataNotFoundError(DatasetError, FileNotFoundError):
    """A file is in none of the folders searched and downloading is off."""
