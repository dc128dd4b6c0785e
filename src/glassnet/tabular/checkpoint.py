"""Training that survives being killed: what a run stores of itself in its checkpoint, the
data checked against a checkpoint before a run resumes, SIGTERM taken as Ctrl-C, and what a
failed write says.

A checkpoint (:class:`~glassnet.training.callbacks.TrainingCheckpoint`) is a model file
with one more field, ``checkpoint``: the epochs done, the random generator's state at the
end of the last one, early stopping's state (and, as tensors, its best weights), and
``run`` — :func:`run_fields`: ``train``'s options, the data's path, and a digest of the
split. Resuming reads the data again with those options; the split then comes out the same
(the seed drives it), and :func:`check_same_data` proves it, so that the generator, set to
its stored state, shuffles the next epoch exactly as the uninterrupted run did.
"""

from __future__ import annotations

import hashlib
import os
import signal
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from glassnet.datasets import tabular as tables
from glassnet.errors import InputValueError, Param
from glassnet.io.model_file import load_checkpoint
from glassnet.tabular.columns import name_of
from glassnet.tabular.report import plot_report
from glassnet.tabular.table import check_ignore
from glassnet.training.callbacks import TrainingCheckpoint


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived during training: it ends training as Ctrl-C does."""


@dataclass
class Session:
    """Where this run checkpoints (or None), how often, what it stores of itself (``run``),
    and where a resumed run starts: epochs done, early stopping's state, its best weights."""

    checkpoint: Path | None
    every: float
    run: dict
    done: int = 0
    stopping: dict | None = None
    best: dict | None = None
    written: int | None = None  # the epochs the checkpoint file holds before this fit
    saver: TrainingCheckpoint | None = None  # this fit's checkpoint callback

    @property
    def ended(self) -> bool:
        """The resumed run had already ended (its epochs ran out, or early stopping)."""
        stopped = (self.stopping or {}).get("stopped_epoch")
        return stopped is not None or self.done >= self.run["epochs"]

    def callbacks(self, keep_best) -> list:
        """Set ``keep_best`` (an EarlyStopping) to where the resumed run left it; the
        checkpoint callback, if this run checkpoints."""
        if self.stopping is not None:
            keep_best.resume(self.stopping, self.best, self.done)
        if self.checkpoint is None:
            return []
        saver = TrainingCheckpoint(
            self.checkpoint, run=self.run, early_stopping=keep_best, every=self.every
        )
        saver.epoch_offset, saver.written_epoch = self.done, self.written
        self.saver = saver
        return [saver]

    @staticmethod
    def keep_best_of_ended(keep_best, model) -> None:
        """Give ``model`` the best weights of a run that had ended, as its last fit did."""
        keep_best.model = model
        keep_best.on_train_begin()
        keep_best.on_train_end()


def run_fields(data, target, options, activation, optimizer, ignore, impute, table, out) -> dict:
    """What a checkpoint stores to continue: the options, the data's path (None for a
    DataFrame, which resuming is given again) and the model's, the digests of the split and
    of the table."""
    if tables.is_frame(data):
        where = None
    else:  # a shipped table is found by its name again
        where = str(Path(data).resolve()) if Path(data).exists() else str(data)
    return {
        "data": where,
        "out": None if out is None else str(Path(out).resolve()),
        "target": target,
        "task": options.task,
        "hidden": list(options.hidden),
        "activation": activation,
        "optimizer": type(optimizer).__name__,
        "learning_rate": optimizer.get_config()["learning_rate"],  # a schedule: its config
        "epochs": options.epochs,
        "batch_size": options.batch_size,
        "validation_split": options.split,
        "patience": options.patience,
        "seed": options.seed,
        "ignore": check_ignore(ignore),
        "impute": impute,
        "drop_missing": options.drop_missing,
        **split_fields(table),
        "table_sha256": table_digest(table),
    }


def run_data(run: dict, data, path):
    """The data a resumed run reads: ``data`` if given, else the path the checkpoint stores
    (a run on a DataFrame stores none: it must be given again)."""
    data = run["data"] if data is None else data
    if data is None:
        raise InputValueError(
            "the checkpoint {path!r} was trained on a DataFrame: pass it again as {data}",
            path=str(path),
            data=Param("data"),
        )
    return data


def split_fields(table) -> dict:
    """The split's row counts and the SHA-256 of its row positions (training, then
    validation), which a resumed run must reproduce."""
    rows = np.concatenate([table.train_idx, [-1], table.val_idx]).astype("<i8")
    return {
        "train_rows": len(table.train_idx),
        "validation_rows": len(table.val_idx),
        "rows_sha256": hashlib.sha256(rows.tobytes()).hexdigest(),
    }


def table_digest(table) -> str:
    """The SHA-256 of the typed table's values, row by row (pandas' stable row hashes)."""
    import pandas as pd

    rows = pd.util.hash_pandas_object(table.frame, index=False).to_numpy().astype("<u8")
    return hashlib.sha256(rows.tobytes()).hexdigest()


def load_run(path, target):
    """``(model, fields, best_weights, run)`` of the checkpoint at ``path``; ``target``, if
    given, must be the checkpoint's."""
    model, fields, best = load_checkpoint(path)
    run = fields["run"]
    if target is not None and target != run.get("target"):
        raise InputValueError(
            "the checkpoint {path!r} predicts {stored!r}, not {target}",
            path=str(path),
            stored=run.get("target"),
            target=Param("target", target),
        )
    return model, fields, best, run


def check_same_data(table, model, run: dict, where: str) -> None:
    """Refuse data that are not the checkpoint's: other columns, another split, or other
    values."""
    data = name_of(table.data)
    stored = model.preprocessing
    if stored is None or list(stored.columns) != list(table.pre.columns):
        columns = ", ".join(f"{n} ({k})" for n, k in getattr(stored, "columns", []))
        raise InputValueError(
            f"{data} does not have the columns the checkpoint {where!r} was trained on: "
            f"{columns or 'none stored'}"
        )
    if split_fields(table) != {k: run.get(k) for k in split_fields(table)}:
        raise InputValueError(
            f"{data} is not the data of the checkpoint {where!r}: its split (seed "
            f"{run['seed']}) gives {len(table.train_idx)} training and {len(table.val_idx)} "
            f"validation rows, not the checkpoint's {run.get('train_rows')} and "
            f"{run.get('validation_rows')} (or other rows)"
        )
    if table_digest(table) != run.get("table_sha256"):
        raise InputValueError(
            f"{data} is not the data of the checkpoint {where!r}: its columns and rows are the "
            f"same, but some of its values differ"
        )


@contextmanager
def sigterm_interrupts():
    """While training, SIGTERM raises :class:`Terminated` (once); the previous handler is
    restored afterwards. Only the main thread can handle signals: elsewhere, nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = []

    def handler(signum, frame):
        if not fired:  # a second SIGTERM must not break the first one's cleanup
            fired.append(signum)
            raise Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def checkpoint_failed(exc) -> InputValueError:
    """A checkpoint that could not be written: the reason, what is intact, what to do."""
    return InputValueError(
        "{reason}; continue from it with {resume} and another {checkpoint}"
        if exc.previous is not None
        else "{reason}; choose another {checkpoint}",
        reason=str(exc),
        resume=Param("resume", str(exc.path)),
        checkpoint=Param("checkpoint"),
    )


def write_outputs(result, table, paths, session):
    """Save the model (atomically) and draw the report, on the validation rows if any; a
    failed write says which file, what is intact, and where the model still is. ``result``
    is the TrainResult, ``paths`` the model, plot and checkpoint paths (or None)."""
    model_path, plot_path, _ = paths
    if model_path:
        try:
            result.model.save(model_path)
        except OSError as exc:
            raise not_written(result.model, model_path, exc, session) from None
        result.model_path = model_path
    if plot_path:
        rows = table.val_idx if len(table.val_idx) else table.train_idx
        try:
            result.plot_path = plot_report(
                result.model, table.pre, table.frame, table.labels, rows, plot_path,
                result.best_epoch,
            )  # fmt: skip
        except OSError as exc:
            kept = f"; the model was written to {str(model_path)!r}" if model_path else ""
            raise OSError(f"{exc}{kept}") from None
    return result


def not_written(model, path: Path, exc: OSError, session) -> InputValueError:
    """The error of a model file that could not be written (``exc`` names the file and what
    is intact), with where the model still is: the run's checkpoint, or else a copy saved in
    the temporary folder."""
    if session.saver is not None and session.saver.written_epoch is not None:
        return InputValueError(
            "{exc}; the checkpoint {ckpt!r} holds the run: write the model elsewhere with "
            "{resume} and another {out}",
            exc=str(exc),
            ckpt=str(session.checkpoint),
            resume=Param("resume", str(session.checkpoint)),
            out=Param("out"),
        )
    rescue = Path(tempfile.gettempdir()) / f"glassnet-{os.getpid()}-{path.name}"
    try:
        model.save(rescue)
    except OSError:
        return InputValueError(
            "{exc}; it could not be saved anywhere else: choose another {out}",
            exc=str(exc),
            out=Param("out"),
        )
    return InputValueError("{exc}; the model was saved to {rescue!r} instead", exc=str(exc),
                           rescue=str(rescue))  # fmt: skip
