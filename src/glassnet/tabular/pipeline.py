"""Your own table: train, predict, evaluate and describe — the library under ``glassnet train``.

The command line only parses arguments and prints; everything it does is here, so that the
same pipeline runs from Python::

    from glassnet import tabular
    result = tabular.train("penguins.csv", "species", impute="mean")
    print(tabular.format_train_report(result))
    frame, notes = tabular.predict(result.model, "penguins.csv", proba=True)

What ``train`` does, in order:

1. read the CSV (every cell as text; a DataFrame as the CSV written from it) and decide
   which columns are numbers and which are categories (:mod:`glassnet.datasets.tabular`);
2. handle missing values: rows whose target is missing are left out, and counted; a
   missing feature value is an error naming the column, unless ``drop_missing`` (those
   rows are left out, and counted) or ``impute`` (filled with a value learned from the
   training rows);
3. detect the task from the target — classification for text, or whole numbers with at
   most :data:`MAX_INTEGER_CLASSES` distinct values; regression otherwise;
4. split off a shuffled validation set (stratified by class), unless the table is too small
   (fewer than :data:`MIN_ROWS_FOR_VALIDATION` rows), in which case every row trains;
5. learn the preprocessing on the training rows only (:class:`TablePreprocessor`);
6. build the network: ``hidden`` Dense layers, then 1 sigmoid unit + binary cross-entropy
   (two classes), a softmax + cross-entropy (more), or 1 identity unit + MSE on the
   standardised target (regression); train it with AdamW, its rate decayed by a cosine,
   label smoothing for a classifier (:mod:`.defaults` says why), early stopping on the
   validation loss, keeping the best epoch's weights;
7. save the model — weights, preprocessing, history — atomically; Ctrl-C or SIGTERM saves
   the best model so far.

``checkpoint`` writes a training checkpoint after every epoch, which :func:`resume` continues
on the same data, to the same weights as an uninterrupted run (:mod:`.checkpoint`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from glassnet._validation import check_bool, check_hidden_sizes, check_int, check_real
from glassnet.datasets import tabular as tables
from glassnet.errors import InputValueError, Param
from glassnet.io.files import check_output
from glassnet.nn.layers import Dense
from glassnet.nn.model import Sequential
from glassnet.tabular.checkpoint import (
    Session,
    Terminated,
    check_same_data,
    checkpoint_failed,
    load_run,
    run_data,
    run_fields,
    sigterm_interrupts,
    write_outputs,
)
from glassnet.tabular.defaults import (
    DEFAULT_ACTIVATION,
    DEFAULT_BATCH_SIZE,
    DEFAULT_EPOCHS,
    DEFAULT_HIDDEN,
    DEFAULT_OPTIMIZER,
    DEFAULT_PATIENCE,
    make_loss,
    make_optimizer,
)
from glassnet.tabular.predict import table_metrics
from glassnet.tabular.preprocessing import check_impute, check_task
from glassnet.tabular.report import TrainResult, plan_lines
from glassnet.tabular.table import TrainingTable, prepare_table
from glassnet.training.callbacks import CheckpointError, EarlyStopping
from glassnet.training.optimizers import get_optimizer

DEFAULT_SEED = 0
MODEL_SUFFIX = ".safetensors"
#: seconds between checkpoints at least; 0: after every epoch (a tabular model's file is small)
DEFAULT_CHECKPOINT_EVERY = 0.0


class Interrupted(Exception):
    """Ctrl-C (or SIGTERM) before a single epoch finished: there is no model to keep."""

    def __init__(self, message: str, stopped: str = "interrupted") -> None:
        super().__init__(message)
        self.stopped = stopped


def train(
    data,
    target: str,
    *,
    task: str | None = None,
    hidden=DEFAULT_HIDDEN,
    activation: str = DEFAULT_ACTIVATION,
    epochs: int = DEFAULT_EPOCHS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    learning_rate: float | None = None,
    optimizer: str = DEFAULT_OPTIMIZER,
    validation_split: float | None = None,
    patience: int = DEFAULT_PATIENCE,
    seed: int = DEFAULT_SEED,
    ignore=(),
    impute: str | None = None,
    drop_missing: bool = False,
    out=None,
    plot=None,
    checkpoint=None,
    checkpoint_every: float = DEFAULT_CHECKPOINT_EVERY,
    verbose: int = 0,
    callbacks=None,
    log=None,
) -> TrainResult:
    """Train a network on the table ``data`` to predict the column ``target``; save it.

    The steps are the module docstring's; every option is checked before anything is read.

    data, target: the table (a pandas DataFrame, a CSV file's path, or a shipped table such
    as "penguins.csv": :func:`glassnet.datasets.tabular.read_table`) and its target. task:
    None (detected), "classification" or "regression". hidden: hidden-layer sizes, a sequence
    or text such as ``"64,32"``. activation, epochs (the most; early stopping usually ends
    sooner), batch_size, optimizer ("adamw", "adam", "sgd", ... or an Optimizer) and
    learning_rate (None: :func:`.defaults.make_optimizer`). validation_split: the share held
    out (None: 0.2, or 0 under MIN_ROWS_FOR_VALIDATION). patience: epochs without a better
    validation loss before stopping. seed: the split, the initial weights, the shuffling.
    ignore: columns that are not features (a name, or several). impute (None, "mean",
    "median", "most_frequent") or drop_missing: what to do with missing feature values (rows
    missing the target are always left out). out: the model file (None: beside a CSV file,
    named after it; none for a DataFrame; False: none). plot: a PNG of the training report.
    checkpoint: a file written after every epoch, at most once every ``checkpoint_every`` s
    (:func:`resume`). verbose: 1 shows a progress bar. callbacks: more for ``fit``. log:
    called with each line told before training.
    """
    options = _check_options(
        task, hidden, impute, drop_missing, validation_split, epochs, batch_size, patience, seed
    )
    every = check_real("checkpoint_every", checkpoint_every, minimum=0.0)
    get_optimizer(optimizer, learning_rate)  # the name and the rate checked before reading
    paths = _outputs(data, tables.source_path(data), out, plot, checkpoint)
    table = prepare_table(data, target, ignore, impute, options)
    opt = make_optimizer(optimizer, learning_rate, options, len(table.train_idx))
    model = _network(table, options.hidden, activation, options.rng)
    for line in plan_lines(table, model, opt, options) if log is not None else ():
        log(line)
    run = run_fields(data, target, options, activation, opt, ignore, impute, table, paths[0])
    session = Session(paths[2], every, run)
    result = _learn(model, table, opt, options, verbose, callbacks, session)
    return write_outputs(result, table, paths, session)


def resume(
    path,
    data=None,
    *,
    target: str | None = None,
    out=None,
    plot=None,
    checkpoint=None,
    checkpoint_every: float = DEFAULT_CHECKPOINT_EVERY,
    verbose: int = 0,
    callbacks=None,
    log=None,
) -> TrainResult:
    """Continue the run a ``train(..., checkpoint=...)`` file holds, on the same data.

    The options are the checkpoint's. The data (``data``, or the path the checkpoint
    stores) are read again and checked against it — the columns, the target, the training
    and validation rows of the split, the preprocessing learned from them — then training
    continues from the checkpoint's epoch with its optimizer state, its early-stopping state
    and its random generator: the result is the uninterrupted run's, weight for weight.
    Checkpoints go on to ``checkpoint`` (default: ``path`` itself), the model to ``out``
    (default: the run's). ``target``, if given, must be the checkpoint's; the other
    parameters are :func:`train`'s.
    """
    every = check_real("checkpoint_every", checkpoint_every, minimum=0.0)
    model, fields, best, run = load_run(path, target)
    data = run_data(run, data, path)
    options = _check_options(
        *(run[k] for k in ("task", "hidden", "impute", "drop_missing", "validation_split")),
        *(run[k] for k in ("epochs", "batch_size", "patience", "seed")),
    )
    target = run["target"]
    out = (run["out"] or False) if out is None else out
    paths = _outputs(
        data, tables.source_path(data), out, plot, path if checkpoint is None else checkpoint
    )
    table = prepare_table(data, target, run["ignore"], run["impute"], options)
    check_same_data(table, model, run, str(path))
    done = fields["epoch"]
    if log is not None:
        for line in plan_lines(table, model, model.optimizer_, options):
            log(line)
        log(f"resuming: {done} of {options.epochs} epochs were done (checkpoint {path})")
    session = Session(paths[2], every, run, done, fields["early_stopping"], best)
    if Path(paths[2]).resolve() == Path(path).resolve():
        session.written = done
    result = _learn(model, table, model.optimizer_, options, verbose, callbacks, session)
    return write_outputs(result, table, paths, session)


# -- the steps of train, in order ---------------------------------------------------------------
@dataclass(frozen=True)
class Options:
    """``train``'s options, checked (:func:`_check_options`)."""

    task: str | None
    hidden: tuple[int, ...]
    drop_missing: bool
    split: float | None  # the validation split; None: the default share
    epochs: int
    batch_size: int
    patience: int
    seed: int
    rng: np.random.Generator  # made from ``seed``: drives the split, the weights, the shuffling


def _check_options(
    task, hidden, impute, drop_missing, validation_split, epochs, batch_size, patience, seed
) -> Options:
    """Every option checked before anything is read: a mistake fails at once, by name."""
    check_impute(impute)
    drop_missing = check_bool("drop_missing", drop_missing)
    if impute is not None and drop_missing:
        raise InputValueError(
            "choose one of {impute} and {drop}, not both",
            impute=Param("impute"),
            drop=Param("drop_missing"),
        )
    if task is not None:
        check_task(task)
    seed = check_int("seed", seed, minimum=0)
    if validation_split is not None:
        validation_split = check_real(
            "validation_split", validation_split, minimum=0.0, maximum=1.0, include_max=False
        )
    return Options(
        task=task,
        hidden=parse_hidden(hidden)
        if isinstance(hidden, str)
        else check_hidden_sizes("hidden", hidden),
        drop_missing=drop_missing,
        split=validation_split,
        epochs=check_int("epochs", epochs, minimum=1),
        batch_size=check_int("batch_size", batch_size, minimum=1),
        patience=check_int("patience", patience, minimum=0),
        seed=seed,
        rng=np.random.default_rng(seed),
    )


def _outputs(data, path: Path | None, out, plot, checkpoint):
    """The model path (None for ``out=False``, or a DataFrame's ``out=None``), the plot and
    checkpoint paths (or None), all checked writable, distinct, and none of them ``path``
    (the data's file, None for a DataFrame)."""
    model_path = (
        _default_model_path(data, path) if out is None else (None if out is False else Path(out))
    )
    plot = Path(plot) if plot else None
    checkpoint = Path(checkpoint) if checkpoint else None
    named = [(p, what) for p, what in ((model_path, "model"), (plot, "plot")) if p]
    named += [(checkpoint, "checkpoint")] if checkpoint else []
    for p, what in named:
        check_output(p, what, inputs=[path] if path else [], param={"model": "out"}.get(what, what))
    for i, (p, what) in enumerate(named):
        for q, other in named[i + 1 :]:
            if p.resolve() == q.resolve():
                raise InputValueError(
                    f"the {what} and the {other} cannot be written to the same file"
                )
    return model_path, plot, checkpoint


def _network(table: TrainingTable, hidden, activation, rng) -> Sequential:
    """``hidden`` Dense layers, then the task's head, built for the table's inputs."""
    head = table.head
    layers = [Dense(units, activation=activation) for units in hidden]
    model = Sequential([*layers, Dense(head.units, activation=head.activation)])
    return model.build((table.pre.n_inputs,), rng)


def _learn(model, table, opt, options, verbose, callbacks, session) -> TrainResult:
    """Train (timed), keep the best epoch's weights, and say what happened."""
    pre = table.pre
    pre.training = _training_info(table, options, session.run["ignore"])
    model.preprocessing = pre  # before training: every checkpoint holds it
    start = time.perf_counter()
    keep_best, stopped = _fit(model, table, opt, options, verbose, callbacks, session)
    seconds = time.perf_counter() - start
    best_epoch = None if keep_best.best_epoch is None else keep_best.best_epoch + 1
    pre.training.update(best_epoch=best_epoch, stopped=stopped)
    return TrainResult(
        model=model,
        preprocessor=pre,
        model_path=None,
        plot_path=None,
        metrics=_split_metrics(model, table),
        epochs_run=model.history.epochs,
        best_epoch=best_epoch,
        stopped=stopped,
        seconds=seconds,
        train_rows=table.frame.index[table.train_idx].to_numpy(),
        validation_rows=table.frame.index[table.val_idx].to_numpy(),
        patience=options.patience,
        notes=table.notes,
        resumed_after=session.done or None,
    )


def _fit(model, table, opt, options, verbose, callbacks, session):
    """Train with early stopping on the validation (or training) loss, keeping the best
    epoch's weights, checkpointing if asked: ``(the EarlyStopping, how training stopped)``."""
    validation = None
    if len(table.val_idx):
        validation = (table.inputs(table.val_idx), table.targets(table.val_idx))
    monitor = "val_loss" if validation else "loss"
    keep_best = EarlyStopping(monitor, patience=options.patience, restore_best_weights=True)
    extra = session.callbacks(keep_best)
    if session.ended:  # the resumed run had ended: only its best weights are kept
        session.keep_best_of_ended(keep_best, model)
        return keep_best, "epochs" if keep_best.stopped_epoch is None else "early stopping"
    try:
        with sigterm_interrupts():
            model.fit(
                table.inputs(table.train_idx),
                table.targets(table.train_idx),
                loss=make_loss(table.head),
                optimizer=opt,
                epochs=options.epochs - session.done,
                batch_size=options.batch_size,
                validation_data=validation,
                callbacks=[keep_best, *extra, *(callbacks or [])],
                rng=model.rng_ if session.done else options.rng,
                verbose=verbose,
            )
    except KeyboardInterrupt as exc:
        stopped = "terminated" if isinstance(exc, Terminated) else "interrupted"
        if keep_best.best_weights is None:
            raise Interrupted(
                f"{stopped} before the first epoch finished: no model was written", stopped
            ) from None
        return keep_best, stopped
    except CheckpointError as exc:
        raise checkpoint_failed(exc) from None
    return keep_best, "early stopping" if keep_best.stopped_epoch is not None else "epochs"


def _training_info(table, options, ignore) -> dict:
    return {
        "data": "the DataFrame" if tables.is_frame(table.data) else str(table.data),
        "rows": table.n_read,
        "rows_used": len(table.frame),
        "train_rows": len(table.train_idx),
        "validation_rows": len(table.val_idx),
        "seed": options.seed,
        "ignored": list(ignore),
        "drop_missing": options.drop_missing,
    }


def _split_metrics(model, table) -> dict:
    def on(rows):
        return table_metrics(model, table.pre, table.inputs(rows), table.labels[rows])

    metrics = {"training": on(table.train_idx)}
    if len(table.val_idx):
        metrics["validation"] = on(table.val_idx)
    return metrics


# -- helpers ------------------------------------------------------------------------------------
def parse_hidden(text: str) -> tuple[int, ...]:
    """``"64,32"`` -> ``(64, 32)``; ``""`` or ``"none"`` -> ``()`` (no hidden layer)."""
    text = text.strip()
    if text.lower() in ("", "none", "0"):
        return ()
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise InputValueError(
            "{hidden} must be sizes separated by commas, e.g. 64,32; got {text!r}",
            hidden=Param("hidden"),
            text=text,
        ) from None
    return check_hidden_sizes("hidden", sizes)


def _default_model_path(data, path: Path | None) -> Path | None:
    """``<stem>.safetensors`` next to the data — or here, for a table shipped with glassnet;
    None (no model file) for a DataFrame."""
    if path is None:
        return None
    shipped = not Path(data).exists()
    folder = Path(".") if shipped else path.parent
    return folder / f"{path.stem}{MODEL_SUFFIX}"
