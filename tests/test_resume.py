"""Training that survives being killed: checkpoints, --resume, SIGTERM, failed writes.

The claim under test is exact: a run stopped after epoch k and resumed from its checkpoint
ends with the same bits as the run never stopped — every parameter, every optimizer moment,
the history — because the checkpoint holds the random generator's state at the epoch's end,
from which the next epoch's shuffle (and dropout masks) are drawn.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import Interrupt
from glassnet import Dense, Dropout, Sequential, load, tabular
from glassnet.cli import main
from glassnet.io.model_file import load_checkpoint
from glassnet.tabular.pipeline import resume
from glassnet.training.callbacks import EarlyStopping, TrainingCheckpoint

# patience 5: with train's cosine-decayed AdamW this run stops after 13 epochs, so an
# interruption after 9 still comes before the end
OPTIONS = {"epochs": 30, "patience": 5, "batch_size": 8, "seed": 3, "learning_rate": 0.03}


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def table(path="t.csv", n=80, seed=0, change=None):
    """A small three-class table (two numbers, one category); ``change`` edits row 0."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    colour = rng.choice(["red", "blue"], size=n)
    label = np.where(x[:, 0] + 0.5 * (colour == "red") > 0.3, "a", "b")
    label[x[:, 1] > 0.8] = "c"
    rows = [f"{a:.6f},{b:.6f},{c},{y}" for (a, b), c, y in zip(x, colour, label, strict=True)]
    if change is not None:
        rows[0] = change
    Path(path).write_text("x1,x2,colour,y\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def same_state(a, b):
    """Every parameter and every optimizer tensor bit for bit, and the step count."""
    wa, wb = a.get_weights(), b.get_weights()
    sa, sb = a.optimizer_.state_arrays(), b.optimizer_.state_arrays()
    assert wa.keys() == wb.keys() and sa.keys() == sb.keys()
    assert all(np.array_equal(wa[k], wb[k]) for k in wa)
    assert all(np.array_equal(sa[k], sb[k]) for k in sa)
    assert a.optimizer_.iterations == b.optimizer_.iterations


def max_difference(a, b) -> float:
    wa, wb = a.get_weights(), b.get_weights()
    return max(float(np.abs(wa[k] - wb[k]).max()) for k in wa)


# --------------------------------------------------------------------------- exact resume
@pytest.mark.parametrize("k", [1, 5, 9])
def test_resume_equals_uninterrupted(k):
    data = table()
    full = tabular.train(data, "y", out="full.safetensors", checkpoint="full.ckpt", **OPTIONS)
    assert full.stopped == "early stopping" and full.epochs_run > 5  # the state matters
    part = tabular.train(
        data, "y", out=False, checkpoint="c.ckpt", callbacks=[Interrupt(at=k)], **OPTIONS
    )
    assert part.stopped == "interrupted" and load_checkpoint("c.ckpt")[1]["epoch"] == k
    again = resume("c.ckpt", out="again.safetensors")
    assert again.resumed_after == k
    assert (again.epochs_run, again.best_epoch, again.stopped) == (
        full.epochs_run,
        full.best_epoch,
        full.stopped,
    )
    same_state(full.model, again.model)  # the best epoch's weights, and the optimizer
    assert full.model.history.history == again.model.history.history
    # the checkpoints of both runs' last epochs are the same state too
    a, fa, best_a = load_checkpoint("full.ckpt")
    b, fb, best_b = load_checkpoint("c.ckpt")
    same_state(a, b)
    assert fa.pop("run").pop("out").endswith("full.safetensors")
    assert fb.pop("run").pop("out") is None  # that run was given out=False
    assert fa == fb and best_a.keys() == best_b.keys()
    assert all(np.array_equal(best_a[n], best_b[n]) for n in best_a)
    # without the generator's state the resumed run would shuffle differently
    assert fa["rng"]["state"] != str(np.random.default_rng(OPTIONS["seed"]).bit_generator.state)


def test_resume_of_an_ended_run_writes_the_same_model():
    data = table()
    full = tabular.train(data, "y", out="full.safetensors", checkpoint="c.ckpt", **OPTIONS)
    again = resume("c.ckpt", out="again.safetensors")
    assert again.stopped == "early stopping" and again.best_epoch == full.best_epoch
    same_state(full.model, again.model)
    assert load("again.safetensors").predict(np.zeros((1, 4))).tolist() == (
        load("full.safetensors").predict(np.zeros((1, 4))).tolist()
    )


def test_dropout_masks_resume_exactly():
    """The generic callback on a network with Dropout: masks come from ``model.rng_``."""
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 2, size=40)

    def net():
        return Sequential([Dense(8, activation="relu"), Dropout(0.5), Dense(1, "sigmoid")])

    def fit(model, epochs, callbacks=(), rng=5):
        model.fit(X, y, loss="bce", epochs=epochs, batch_size=8, callbacks=list(callbacks),
                  rng=rng)  # fmt: skip

    whole = net()
    fit(whole, 6)
    first = net()
    fit(first, 3, [TrainingCheckpoint("d.ckpt", run={})])
    model, fields, _ = load_checkpoint("d.ckpt")
    assert fields["epoch"] == 3
    fit(model, 3, rng=model.rng_)
    same_state(whole, model)


def test_throttled_checkpoint_still_holds_the_last_epoch():
    keep = EarlyStopping("loss", patience=100)
    saver = TrainingCheckpoint("t.ckpt", run={}, early_stopping=keep, every=3600.0)
    rng = np.random.default_rng(2)
    model = Sequential([Dense(4, activation="relu"), Dense(1)])
    with pytest.raises(KeyboardInterrupt):
        model.fit(rng.normal(size=(16, 2)), rng.normal(size=16), loss="mse", epochs=5,
                  callbacks=[keep, saver, Interrupt(at=4)], rng=0)  # fmt: skip
    # epoch 1 was written at once; epochs 2-4 waited for the hour, and Ctrl-C wrote epoch 4
    assert saver.written_epoch == 4
    assert load_checkpoint("t.ckpt")[1]["epoch"] == 4


# --------------------------------------------------------------------------- refusals
def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2, (out, err)
    assert err.startswith("glassnet: error: ") and err.count("\n") == 1, err
    assert message in err, err
    return err


def test_resume_refuses_other_data(capsys):
    table()
    tabular.train("t.csv", "y", out=False, checkpoint="c.ckpt", callbacks=[Interrupt(at=2)],
                  **OPTIONS)  # fmt: skip
    table("other.csv", change="9.0,0.1,red,a")
    refused(capsys, ["train", "other.csv", "--resume", "c.ckpt", "-q"],
            "'other.csv' is not the data of the checkpoint 'c.ckpt': its columns and rows "
            "are the same, but some of its values differ")  # fmt: skip
    Path("cols.csv").write_text(Path("t.csv").read_text().replace("colour", "hue"))
    refused(capsys, ["train", "cols.csv", "--resume", "c.ckpt", "-q"],
            "'cols.csv' does not have the columns the checkpoint 'c.ckpt' was trained on: "
            "x1 (numeric), x2 (numeric), colour (categorical)")  # fmt: skip
    table("fewer.csv", n=70)
    refused(capsys, ["train", "fewer.csv", "--resume", "c.ckpt", "-q"],
            "'fewer.csv' is not the data of the checkpoint 'c.ckpt': its split (seed 3) gives "
            "56 training and 14 validation rows, not the checkpoint's 64 and 16")  # fmt: skip
    refused(capsys, ["train", "--resume", "c.ckpt", "--target", "x1"],
            "the checkpoint 'c.ckpt' predicts 'y', not --target x1")  # fmt: skip
    refused(
        capsys,
        ["train", "--resume", "c.ckpt", "--epochs", "9"],
        "--resume continues with the options of its checkpoint: leave out --epochs",
    )
    tabular.train("t.csv", "y", out="plain.safetensors", **OPTIONS)
    refused(
        capsys,
        ["train", "--resume", "plain.safetensors"],
        "'plain.safetensors' is a model file but not a training checkpoint",
    )
    code, out, err = run(capsys, "train", "--resume", "c.ckpt", "--out", "m.safetensors", "-q")
    assert code == 0 and "resumed after epoch 2" in out, err


def test_outputs_that_cannot_be_written_are_refused_before_training(capsys):
    table()
    Path("file").write_text("a regular file, not a folder")
    for flag in ("--out", "--checkpoint"):
        what = flag[2:].replace("out", "model")
        err = refused(capsys, ["train", "t.csv", "--target", "y", flag, "file/x.safetensors"],
                      f"cannot write the {what} to 'file/x.safetensors': ")  # fmt: skip
        assert err.endswith("/file' is a file, not a folder\n"), err
    refused(capsys, ["train", "t.csv", "--target", "y", "--out", "a", "--checkpoint", "a"],
            "the model and the checkpoint cannot be written to the same file")  # fmt: skip


def test_train_needs_data_and_target_without_resume(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "t.csv"])
    assert info.value.code == 2
    assert "DATA, --target (or --resume FILE)" in capsys.readouterr().err


# --------------------------------------------------------------------------- subprocesses
SLOW = ["--epochs", "60", "--patience", "60", "--batch-size", "1", "--seed", "4", "-q"]


def glassnet(*argv, **kw):
    script = Path(sys.executable).with_name("glassnet")
    return subprocess.Popen([str(script), *map(str, argv)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)  # fmt: skip


def wait_for_epoch(proc, path, k, timeout=60.0) -> int:
    """Poll the checkpoint until it holds at least ``k`` epochs; its epoch then."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            pytest.fail(f"training ended before epoch {k}: {proc.communicate()}")
        if Path(path).exists():
            epoch = load_checkpoint(path)[1]["epoch"]
            if epoch >= k:
                return epoch
        time.sleep(0.005)
    pytest.fail("no checkpoint appeared")


def test_kill_9_then_resume_loses_at_most_one_epoch(in_tmp):
    data = table(n=60)
    whole = tabular.train(data, "y", out=False, epochs=60, patience=60, batch_size=1, seed=4)
    proc = glassnet("train", data, "--target", "y", "--checkpoint", "c.ckpt", "--out",
                    "m.safetensors", *SLOW)  # fmt: skip
    seen = wait_for_epoch(proc, "c.ckpt", 8)
    proc.kill()  # SIGKILL: no handler runs, nothing is saved at exit
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    kept = load_checkpoint("c.ckpt")[1]["epoch"]
    # every epoch seen done is in the file; at the kill the process was inside epoch kept + 1,
    # or writing its checkpoint: at most that one epoch is lost
    assert kept >= seen
    # what a writer killed mid-write leaves (files.atomic_path's name: the dead writer's pid)
    orphan = Path(f".c.ckpt.{proc.pid}.0rphan__.tmp")
    orphan.write_bytes(b"left by a killed writer")
    os.utime(orphan, (time.time() - 60, time.time() - 60))
    done = subprocess.run([str(Path(sys.executable).with_name("glassnet")), "train",
                           "--resume", "c.ckpt", "-q"], capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"resumed after epoch {kept}" in done.stdout
    model = load("m.safetensors")
    difference = max_difference(whole.model, model)
    print(
        f"kill -9 once the checkpoint held epoch {seen}: it held {kept} after the kill; "
        f"the resumed run trained epochs {kept + 1}-60; max weight difference {difference}"
    )
    assert difference == 0.0
    assert all(
        np.array_equal(w, model.get_weights()[k]) for k, w in whole.model.get_weights().items()
    )
    # removed by the next successful write of c.ckpt; a temporary the kill itself left is
    # younger than files.STALE_AFTER and stays until a later write
    assert not orphan.exists()


def test_sigterm_saves_the_best_model_and_exits_143():
    data = table(n=60)
    proc = glassnet("train", data, "--target", "y", "--checkpoint", "c.ckpt", "--out",
                    "m.safetensors", *SLOW)  # fmt: skip
    wait_for_epoch(proc, "c.ckpt", 3)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, (out, err)
    assert "(terminated by SIGTERM)" in out and "best model so far written to m.safetensors" in out
    assert "Traceback" not in err
    model = load("m.safetensors")
    assert model.preprocessing.training["stopped"] == "terminated"
    assert model.history.epochs >= 3


def test_sigterm_handler_only_during_training():
    before = signal.getsignal(signal.SIGTERM)
    seen = []

    class Look(Interrupt):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(signal.getsignal(signal.SIGTERM))

    tabular.train(table(), "y", out=False, callbacks=[Look(at=0)], epochs=2)
    assert seen[0] is not before and signal.getsignal(signal.SIGTERM) is before


# --------------------------------------------------------------------------- a full disk
@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs (needs root and a kernel that lets us mount); skipped otherwise."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)],
                             capture_output=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    yield disk
    subprocess.run(["umount", str(disk)], check=True)


def test_full_disk_model(capsys, small_disk, tmp_path, monkeypatch):
    table()
    rescue = tmp_path / "rescue"
    rescue.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(rescue))
    old = small_disk / "m.safetensors"
    old.write_bytes(b"the previous model" * 2000)  # 36 KB: no room for a 40 KB model beside it
    err = refused(capsys, ["train", "t.csv", "--target", "y", "--out", old, "-q"],
                  f"could not write the model to '{old}': No space left on device; the previous "
                  f"file there is intact; the model was saved to ")  # fmt: skip
    assert old.read_bytes() == b"the previous model" * 2000
    saved = Path(err.split("the model was saved to ")[1].split("'")[1])
    assert saved.parent == rescue and load(saved).preprocessing.target == "y"
    assert [p.name for p in small_disk.iterdir()] == ["m.safetensors"]


def test_full_disk_checkpoint(capsys, small_disk):
    table()
    ckpt = small_disk / "c.ckpt"  # one checkpoint (about 37 KB) fits; two at once do not
    err = refused(capsys, ["train", "t.csv", "--target", "y", "--checkpoint", ckpt, "--out",
                           "m.safetensors", "-q"],
                  f"after epoch 2, could not write the checkpoint to '{ckpt}': No space left on "
                  f"device; the previous file there is intact: it holds epoch 1; continue from "
                  f"it with --resume {ckpt} and another --checkpoint")  # fmt: skip
    assert load_checkpoint(ckpt)[1]["epoch"] == 1
    assert [p.name for p in small_disk.iterdir()] == ["c.ckpt"]
    code, out, err = run(capsys, "train", "--resume", ckpt, "--checkpoint", "c2.ckpt", "-q",
                         "--out", "m.safetensors")  # fmt: skip
    assert code == 0 and "resumed after epoch 1" in out, err
