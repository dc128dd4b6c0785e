"""Where glassnet writes: only regular files (a link is written through), failures that name
the file and keep the old one, the temporary files of killed writers removed, and two
writers of one path that both finish, the last complete file winning."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import threading
import time

import pytest

import glassnet as gn
from glassnet import plotting
from glassnet.cli import main
from glassnet.errors import InputValueError
from glassnet.io.files import (
    STALE_AFTER,
    FileWriteError,
    atomic_path,
    check_output,
    remove_stale_temporaries,
    write_bytes,
)


def names(folder):
    return sorted(p.name for p in folder.iterdir())


def long_ago(path):
    """Make ``path`` look untouched for twice the stale age."""
    old = time.time() - 2 * STALE_AFTER
    os.utime(path, (old, old))


# --------------------------------------------------------------------------- not a regular file


@pytest.fixture
def null_device(tmp_path):
    """A character device like /dev/null (same numbers) in the test's folder: the tests that
    try to write to a device write to this one, so that a regression cannot replace the
    machine's /dev/null with a regular file."""
    path = tmp_path / "null"
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root")
    return path


def test_dev_null_is_refused_before_any_work():
    with pytest.raises(
        InputValueError,
        match="^cannot write the model to out='/dev/null': "
        "it is a character device, not a regular file$",
    ):
        check_output("/dev/null", "model")


def test_a_device_is_refused_and_left_a_device(null_device):
    message = (
        f"cannot write the model to path='{null_device}': "
        "it is a character device, not a regular file"
    )
    with pytest.raises(InputValueError, match=f"^{message}$"):
        write_bytes(null_device, b"model", what="model")
    assert stat.S_ISCHR(os.stat(null_device).st_mode)
    assert names(null_device.parent) == ["null"]


def test_a_fifo_and_a_folder_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InputValueError, match=r"it is a FIFO \(named pipe\), not a regular file$"):
        write_bytes(fifo, b"x", what="model")
    with pytest.raises(
        InputValueError,
        match=f"^cannot write the plot to plot='{tmp_path}': it is a folder, not a regular file$",
    ):
        check_output(tmp_path, "plot", param="plot")
    with pytest.raises(InputValueError, match=f"^cannot write the plot to path='{tmp_path}'"):
        plotting.plot_loss([3.0, 2.0, 1.0], tmp_path)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and names(tmp_path) == ["pipe"]


def test_the_command_line_names_the_flag(capsys, tmp_path, monkeypatch, null_device):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "xor.csv", "--target", "y", "--out", str(null_device), "-q"]) == 2
    assert capsys.readouterr().err == (
        f"glassnet: error: cannot write the model to --out {null_device}: "
        "it is a character device, not a regular file\n"
    )
    assert names(tmp_path) == ["null"]  # refused before training
    assert stat.S_ISCHR(os.stat(null_device).st_mode)
    folder = tmp_path / "predictions"
    folder.mkdir()  # checked before the model is read: it need not exist
    assert main(["predict", "xor.safetensors", "xor.csv", "--out", str(folder)]) == 2
    assert capsys.readouterr().err == (
        f"glassnet: error: cannot write the predictions to --out {folder}: "
        "it is a folder, not a regular file\n"
    )


# --------------------------------------------------------------------------- symbolic links


def test_a_link_is_written_through_and_stays_a_link(tmp_path):
    target = tmp_path / "run3.safetensors"
    target.write_bytes(b"old")
    link = tmp_path / "latest.safetensors"
    link.symlink_to(target.name)
    write_bytes(link, b"new", what="model")
    assert link.is_symlink() and os.readlink(link) == target.name
    assert target.read_bytes() == b"new"
    assert names(tmp_path) == ["latest.safetensors", "run3.safetensors"]

    dangling = tmp_path / "next.safetensors"
    dangling.symlink_to("made-by-the-write.safetensors")
    write_bytes(dangling, b"first", what="model")
    assert (tmp_path / "made-by-the-write.safetensors").read_bytes() == b"first"


def test_a_link_to_a_device_is_refused(tmp_path, null_device):
    link = tmp_path / "out.csv"
    link.symlink_to(null_device)
    message = (
        f"^cannot write the predictions to out='{link}': it links to '{null_device}', "
        "a character device, not a regular file$"
    )
    with pytest.raises(InputValueError, match=message):
        check_output(link, "predictions")
    with pytest.raises(InputValueError, match=f"links to '{null_device}', a character device"):
        write_bytes(link, b"x")
    assert link.is_symlink() and os.readlink(link) == str(null_device)
    assert stat.S_ISCHR(os.stat(null_device).st_mode)


# --------------------------------------------------------------------------- failed writes


def test_a_full_disk_names_the_file_and_keeps_the_old_one(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"the user's old model")
    with pytest.raises(FileWriteError) as caught, atomic_path(path, what="model") as tmp:
        tmp.write_bytes(b"half a mod")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert str(caught.value) == (
        f"could not write the model to '{path}': No space left on device; "
        "the previous file there is intact"
    )
    assert caught.value.errno == errno.ENOSPC and caught.value.path == path
    assert isinstance(caught.value, OSError)
    assert path.read_bytes() == b"the user's old model"
    assert names(tmp_path) == ["m.safetensors"]


def test_a_parent_that_is_a_file(tmp_path):
    (tmp_path / "f").write_text("a file")
    model = gn.Sequential([gn.Dense(1)]).build((2,), rng=0)
    with pytest.raises(FileWriteError) as caught:
        model.save(tmp_path / "f" / "m.safetensors")
    assert str(caught.value) == (
        f"could not write the model to '{tmp_path}/f/m.safetensors': "
        f"'{tmp_path}/f' is a file, not a folder; no file was written"
    )
    with pytest.raises(ValueError, match=r"^cannot write the model to '.*': '.*/f' is a file, not"):
        check_output(tmp_path / "f" / "m.safetensors", "model")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to a read-only folder")
def test_permission_denied(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"previous export")
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(FileWriteError) as caught:
            write_bytes(path, b"new", what="ONNX file")
    finally:
        tmp_path.chmod(0o700)
    assert str(caught.value) == (
        f"could not write the ONNX file to '{path}': Permission denied; "
        "the previous file there is intact"
    )
    assert path.read_bytes() == b"previous export"


def test_permission_denied_as_the_writer_sees_it(tmp_path, monkeypatch):
    path = tmp_path / "m.png"
    path.write_bytes(b"previous plot")

    def denied(**_):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr("tempfile.mkstemp", denied)
    with pytest.raises(FileWriteError) as caught:
        plotting.plot_loss([3.0, 2.0, 1.0], path)
    assert str(caught.value) == (
        f"could not write the plot to '{path}': Permission denied; "
        "the previous file there is intact"
    )
    assert path.read_bytes() == b"previous plot"


# --------------------------------------------------------------------------- killed writers


KILLED_WRITER = """
import sys, time
from glassnet.io.files import atomic_path
with atomic_path(sys.argv[1], what="model") as tmp:
    tmp.write_bytes(b"half a model")
    print(tmp, flush=True)
    time.sleep(60)
"""


def test_a_killed_writers_temporary_file_is_removed_by_the_next_write(tmp_path):
    path = tmp_path / "m.safetensors"
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    orphan = tmp_path / os.path.basename(writer.stdout.readline().strip())
    writer.kill()  # kill -9: no finally block runs
    writer.wait()
    writer.stdout.close()
    assert orphan.name.startswith(f".m.safetensors.{writer.pid}.") and orphan.exists()

    write_bytes(path, b"fresh", what="model")
    assert orphan.exists()  # too recent: its writer might be on another machine
    long_ago(orphan)
    write_bytes(path, b"complete", what="model")
    assert names(tmp_path) == ["m.safetensors"] and path.read_bytes() == b"complete"


def test_only_a_dead_writers_old_temporary_files_of_the_same_target_go(tmp_path):
    path = tmp_path / "m.safetensors"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        files = {
            "dead": f".m.safetensors.{dead.pid}.abcd1234.tmp",
            "live": f".m.safetensors.{sleeper.pid}.abcd1234.tmp",
            "mine": f".m.safetensors.{os.getpid()}.abcd1234.tmp",
            "other target": f".m.safetensors.bak.{dead.pid}.abcd1234.tmp",
            "not ours": ".m.safetensors.backup.tmp",
        }
        for name in files.values():
            (tmp_path / name).write_bytes(b"x")
            long_ago(tmp_path / name)
        removed = remove_stale_temporaries(path)
        assert removed == [tmp_path / files["dead"]]
        kept = sorted(v for k, v in files.items() if k != "dead")
        assert names(tmp_path) == kept
    finally:
        sleeper.kill()
        sleeper.wait()


# --------------------------------------------------------------------------- concurrent writers


WRITER = """
import sys
from glassnet.io.files import write_bytes
for _ in range(int(sys.argv[3])):
    write_bytes(sys.argv[1], sys.argv[2].encode() * 200_000, what="model")
print("wrote", sys.argv[1])
"""


def test_two_processes_writing_one_path_both_finish_and_the_last_complete_file_wins(tmp_path):
    path = tmp_path / "m.safetensors"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), letter, "40"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for letter in "ab"
    ]
    results = [w.communicate(timeout=120) for w in writers]
    assert [w.returncode for w in writers] == [0, 0], [err for _, err in results]
    assert [out for out, _ in results] == [f"wrote {path}\n"] * 2
    data = path.read_bytes()
    assert data in (b"a" * 200_000, b"b" * 200_000)
    assert names(tmp_path) == ["m.safetensors"]


def test_two_threads_writing_one_path(tmp_path):
    path = tmp_path / "m.csv"
    errors = []

    def write(letter):
        try:
            for _ in range(50):
                write_bytes(path, letter * 100_000)
        except OSError as exc:  # pragma: no cover - the failure this test exists to catch
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(letter,)) for letter in (b"a", b"b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert path.read_bytes() in (b"a" * 100_000, b"b" * 100_000)
    assert names(tmp_path) == ["m.csv"]


def test_export_and_plot_refusals_name_their_own_flags(tmp_path, monkeypatch, capsys):
    from glassnet.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["train", "xor.csv", "--target", "y", "--out", "m.safetensors", "-q"]) == 0
    capsys.readouterr()
    assert main(["export", "m.safetensors", "--onnx", str(tmp_path)]) == 2
    assert f"--onnx {tmp_path}: it is a folder" in capsys.readouterr().err
    assert main(["train", "xor.csv", "--target", "y", "--plot", str(tmp_path), "-q"]) == 2
    assert f"--plot {tmp_path}: it is a folder" in capsys.readouterr().err
