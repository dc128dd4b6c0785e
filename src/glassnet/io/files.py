"""Atomic writes: a file appears complete under its name, or not at all.

Everything glassnet writes for a user — model files, ONNX graphs, plots, prediction CSVs —
goes through :func:`atomic_path`: the content is written to a temporary file in the target's
folder (so the final rename stays on one file system), then renamed over the target with
``os.replace``, which is atomic. A crash or an error midway leaves the user's old file as it
was; an error also removes the temporary file.

What may be written to
    A regular file, or nothing yet. A folder, a device (``/dev/null``), a FIFO or a socket
    is refused before anything is written: renaming a file over ``/dev/null`` would replace
    the device. A symbolic link is written *through*: the link stays, and the file it points
    to is replaced (atomically, next to that file), as ``>`` does in a shell.

Temporary files
    They are named ``.<name>.<pid>.<random>.tmp`` next to the target, ``pid`` being the
    writer's process id. A writer killed with ``kill -9`` cannot remove its own, so every
    successful write removes the ones a dead writer left for the same target: those whose
    process is gone and which have not been touched for :data:`STALE_AFTER` seconds. A live
    writer's temporary file is never removed, so two processes writing one path both finish,
    and the last complete file wins. (A process id reused by a new process keeps its dead
    predecessor's file until that process ends.)

Failures
    A write that fails (disk full, permission denied, a "folder" that is a file) raises
    :class:`FileWriteError`, an ``OSError`` whose one line names the file and says that the
    previous file there, if any, is intact.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import time
from contextlib import contextmanager, suppress
from pathlib import Path

from glassnet.errors import InputValueError, Param

#: a dead writer's temporary file is removed once it has been untouched this many seconds
STALE_AFTER = 5.0

_NOT_REGULAR = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class FileWriteError(OSError):
    """A file could not be written; the previous file at that path, if any, is intact.

    ``str(error)`` is one line naming the file; ``path`` is the file, ``errno`` the cause's.
    """

    def __init__(self, message: str, path, errno: int | None = None) -> None:
        super().__init__(message)
        self.path = Path(path)
        self.errno = errno


@contextmanager
def atomic_path(path, *, what: str = "file", param: str = "path"):
    """Yield a temporary path next to ``path``'s file; when the block succeeds, rename it
    over that file and remove the temporary files dead writers left for it.

    Parameters
    ----------
    path : str or Path
        The file to write. A symbolic link is followed: the file it points to is replaced
        and the link stays (a dangling link creates the file it names).
    what : str
        The thing written (``"model"``, ``"plot"``), for messages.
    param : str
        The caller's parameter that holds ``path``, named when ``path`` is refused.

    Raises
    ------
    InputValueError
        ``path`` is a folder, device, FIFO or socket (naming ``param``).
    ValueError
        The folder of ``path`` does not exist.
    FileWriteError
        Creating, writing (in the block) or renaming the file failed; the old file is kept.
    """
    target = writable_target(path, what, param)
    existed = target.exists()
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent
        )
    except OSError as exc:
        raise _write_error(path, what, exc, existed) from exc
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp makes the file private (0600); give it the mode a plain open() would
        os.chmod(tmp, _default_mode())
        os.replace(tmp, target)
    except OSError as exc:
        raise _write_error(path, what, exc, existed) from exc
    finally:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
    remove_stale_temporaries(target)


def writable_target(path, what: str, param: str) -> Path:
    """The file a write to ``path`` replaces (a link's target), refused unless it is a
    regular file or does not exist yet, and its folder exists.

    Raises
    ------
    InputValueError
        One line naming ``param`` and the path: ``cannot write the model to out='/dev/null':
        it is a character device, not a regular file``.
    ValueError
        The folder does not exist.
    """
    folder = Path(path).parent
    if not folder.exists():
        raise InputValueError(
            f"cannot write the {what} to {str(path)!r}: the folder {str(folder)!r} does not exist"
        )
    target = Path(os.path.realpath(path))
    kind = _not_regular(target)
    if kind is not None:
        link = f"links to {str(target)!r}, " if Path(path).is_symlink() else "is "
        raise InputValueError(
            "cannot write the {what} to {param}: it {link}{kind}, not a regular file",
            what=what,
            param=Param(param, str(path)),
            link=link,
            kind=kind,
        )
    if not target.parent.exists():  # a dangling link into a missing folder
        raise InputValueError(
            f"cannot write the {what} to {str(path)!r}: it links into the folder "
            f"{str(target.parent)!r}, which does not exist"
        )
    return target


def _not_regular(target: Path) -> str | None:
    """What ``target`` is when it exists and is not a regular file (``"a folder"``), or None."""
    try:
        mode = os.stat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    return next((kind for test, kind in _NOT_REGULAR if test(mode)), None)


def _write_error(path, what: str, exc: OSError, existed: bool) -> FileWriteError:
    if isinstance(exc, NotADirectoryError):
        reason = f"{str(Path(path).parent)!r} is a file, not a folder"
    else:
        reason = exc.strerror or str(exc)
    kept = "the previous file there is intact" if existed else "no file was written"
    message = f"could not write the {what} to {str(path)!r}: {reason}; {kept}"
    return FileWriteError(message, path, exc.errno)


def remove_stale_temporaries(target: Path, *, now: float | None = None) -> list[Path]:
    """Remove the temporary files of ``target`` whose writer is gone; return them.

    A temporary file is stale when it has not been modified for :data:`STALE_AFTER`
    seconds and the process id in its name is not a running process. Both must hold: a
    slow live writer's file may be old, and a fresh file may belong to a writer on another
    machine sharing the folder, whose process id means nothing here.
    """
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(\d+)\.\w+\.tmp")
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:  # a folder one may write to but not list: nothing to clean
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or _running(int(match[1])):
            continue
        with suppress(FileNotFoundError):
            if now - entry.stat().st_mtime >= STALE_AFTER:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _running(pid: int) -> bool:
    """Whether ``pid`` is a process on this machine (True when that cannot be told)."""
    if os.name != "posix":  # os.kill(pid, 0) would terminate the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_bytes(path, data: bytes, *, what: str = "file", param: str = "path") -> Path:
    """Write ``data`` to ``path`` atomically and flushed to disk (see :func:`atomic_path`)."""
    with atomic_path(path, what=what, param=param) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return Path(path)


def check_output(path, what: str, inputs=(), *, param: str = "out") -> None:
    """Fail before any work if ``path`` cannot be written, or would overwrite an input.

    Parameters
    ----------
    path : str or Path
        Where the ``what`` (``"model"``, ``"plot"``, ...) is to be written. A symbolic link
        is checked as the file it points to, which is what :func:`atomic_path` replaces.
    inputs : sequence of paths
        Files the run reads: writing over one of them is refused.
    param : str
        The caller's parameter that holds ``path`` (``"out"``, ``"plot"``), named when
        ``path`` is a folder, device, FIFO or socket.

    Raises
    ------
    ValueError
        One line naming the path and the reason (no folder, a folder or another file that
        is not a regular one, not writable, an input).
    """
    folder = writable_target(path, what, param).parent
    if not folder.is_dir():
        raise InputValueError(
            f"cannot write the {what} to {str(path)!r}: {str(folder)!r} is a file, not a folder"
        )
    if not os.access(folder, os.W_OK):
        raise InputValueError(
            f"cannot write the {what} to {str(path)!r}: the folder is not writable"
        )
    for source in inputs:
        if Path(path).exists() and Path(path).resolve() == Path(source).resolve():
            raise InputValueError(f"the {what} would overwrite the input file {str(path)!r}")
