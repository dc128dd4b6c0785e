"""Atomic writes: a file appears complete under its name, or not at all.

Everything glassnet writes for a user — model files, ONNX graphs, plots, prediction CSVs —
goes through :func:`atomic_path`: the content is written to a temporary file in the target's
folder (so the final rename stays on one file system), then renamed over the target with
``os.replace``, which is atomic. A crash or an error midway leaves the user's old file as it
was and no temporary file behind.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path, *, what: str = "file"):
    """Yield a temporary path next to ``path``; when the block succeeds, rename it to ``path``."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"cannot write the {what}: the folder {str(folder)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp makes the file private (0600); give it the mode a plain open() would
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_bytes(path, data: bytes, *, what: str = "file") -> Path:
    """Write ``data`` to ``path`` atomically and flushed to disk."""
    with atomic_path(path, what=what) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return Path(path)


def check_output(path, what: str, inputs=()) -> None:
    """Fail before any work if ``path`` cannot be written, or would overwrite an input.

    Parameters
    ----------
    path : str or Path
        Where the ``what`` (``"model"``, ``"plot"``, ...) is to be written.
    inputs : sequence of paths
        Files the run reads: writing over one of them is refused.

    Raises
    ------
    ValueError
        One line naming the path and the reason (no folder, a folder, not writable, an input).
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(
            f"cannot write the {what} to {str(path)!r}: the folder {str(folder)!r} does not exist"
        )
    if path.is_dir():
        raise ValueError(f"cannot write the {what} to {str(path)!r}: it is a folder")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"cannot write the {what} to {str(path)!r}: the folder is not writable")
    for source in inputs:
        if path.exists() and path.resolve() == Path(source).resolve():
            raise ValueError(f"the {what} would overwrite the input file {str(path)!r}")
