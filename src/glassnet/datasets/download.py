"""Checksummed, resumable, atomic downloads into a cache folder.

A file is fetched from the first of a list of mirrors that serves it with an accepted SHA-256.
Why each step:

- The bytes go to ``NAME.part`` and are renamed (``os.replace``) only after their checksum
  passes, so the cache never holds a file that failed its check, even after a crash.
- An interrupted download is resumed with an HTTP Range request on the next attempt; if the
  resumed file then fails its check it is thrown away and fetched once more from the start,
  since the bytes kept from the interrupted attempt may be the broken ones.
- A checksum may be that of the file as served or of its gzip-decompressed content, so a
  mirror that serves the same data uncompressed, or gzipped by another zlib, is still accepted.
- No more than :data:`MAX_DOWNLOAD_BYTES` are written, whatever the server sends.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import logging
import os
import urllib.error
import urllib.request
import zlib
from pathlib import Path

from glassnet.datasets.errors import ChecksumError, DownloadError
from glassnet.datasets.idx import CHUNK_BYTES, GZIP_MAGIC
from glassnet.errors import InputValueError

__all__ = ["download_file", "verify_checksum", "MAX_DOWNLOAD_BYTES"]

logger = logging.getLogger(__name__)

USER_AGENT = "glassnet-mnist-loader (Python urllib)"
MAX_DOWNLOAD_BYTES = 1 << 28  # 256 MiB: far above any MNIST file, stops a runaway server


# --------------------------------------------------------------------------- checksums


def verify_checksum(path: Path, accepted: frozenset) -> None:
    """The file's SHA-256, or its decompressed content's, must be an accepted one.

    Raises :class:`ChecksumError` naming the file, the accepted digests and the ones found.
    """
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
    """SHA-256 of the file's bytes as stored, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _sha256_gunzipped(path: Path) -> str | None:
    """SHA-256 of a gzip file's content; None if the file is not (valid) gzip."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as raw:
            if raw.read(2) != GZIP_MAGIC:
                return None
            raw.seek(0)
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                while chunk := stream.read(CHUNK_BYTES):
                    digest.update(chunk)
    except (OSError, EOFError, zlib.error):
        return None
    return digest.hexdigest()


# --------------------------------------------------------------------------- downloading


def download_file(
    filename: str, folder: Path, mirrors, accepted: frozenset, timeout: float, *, by_hand: str
) -> Path:
    """Fetch ``filename`` from the first mirror that serves it with an accepted SHA-256.

    Parameters
    ----------
    filename : str
        Appended to each mirror's base URL, e.g. ``train-images-idx3-ubyte.gz``.
    folder : Path
        The cache folder (created if needed); the file is stored there under ``filename``, or
        without ``.gz`` if the mirror served it uncompressed.
    mirrors : sequence of str
        Base URLs, tried in order.
    accepted : frozenset of str
        SHA-256 hex digests of the file, or of its decompressed content.
    timeout : float
        Seconds to wait for a server before trying the next mirror.
    by_hand : str
        How to install the file without downloading, appended to the error message.

    Returns
    -------
    Path
        The checked file in ``folder``.

    Raises
    ------
    DownloadError
        No mirror served the file with an accepted checksum; the message lists every URL
        tried and why it failed.
    """
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / (filename + ".part")
    failures = []
    for mirror in mirrors:
        url = (mirror if mirror.endswith("/") else mirror + "/") + filename
        for _attempt in range(2):  # a second attempt only when a resumed file fails its check
            try:
                resumed = _fetch(url, part, timeout)
            except (OSError, http.client.HTTPException, ValueError) as exc:
                failures.append(f"{url} ({_why(exc)})")
                break
            found = _sha256(part)
            if found in accepted or _sha256_gunzipped(part) in accepted:
                target = _keep(part, folder, filename)
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
        f"could not download {filename} from any mirror: {'; '.join(failures)}. {by_hand}"
    )


def _why(exc: Exception) -> str:
    """One mirror's failure in a few words: the HTTP status, the network reason, or the error."""
    if isinstance(exc, urllib.error.HTTPError):
        exc.close()
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return f"{type(exc).__name__}: {exc}"


def _keep(part: Path, folder: Path, filename: str) -> Path:
    """Rename a checked ``.part`` file into place, named by what it holds (gzip or not)."""
    with open(part, "rb") as f:
        is_gzip = f.read(2) == GZIP_MAGIC
    target = folder / (filename if is_gzip else filename.removesuffix(".gz"))
    os.replace(part, target)
    return target


def _fetch(url: str, part: Path, timeout: float) -> bool:
    """Download ``url`` into ``part``, resuming a partial file; True if it resumed."""
    offset = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": USER_AGENT}
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
            while chunk := response.read(CHUNK_BYTES):
                out.write(chunk)
                received += len(chunk)
                if start + received > MAX_DOWNLOAD_BYTES:
                    break
    if start + received > MAX_DOWNLOAD_BYTES:
        part.unlink()
        raise InputValueError(f"more than {MAX_DOWNLOAD_BYTES} bytes, not an MNIST file")
    if length is not None and length.isdigit() and received != int(length):
        raise ConnectionError(f"connection closed after {received} of {length} bytes")
    return resumed
