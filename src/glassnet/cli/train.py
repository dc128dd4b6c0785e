"""``glassnet train``: its arguments, in the groups ``--help`` shows, and the run."""

from __future__ import annotations

import sys

from glassnet.cli import diagnose as diagnosis
from glassnet.cli.flags import UsageError, tell
from glassnet.training.optimizers import OPTIMIZERS
from glassnet.training.trainer import TrainingDivergedError

#: what a run given these options stores in its checkpoint: --resume takes them from there
RESUMED_OPTIONS = (
    "task", "ignore", "impute", "drop_missing", "hidden", "activation", "optimizer",
    "learning_rate", "epochs", "batch_size", "validation_split", "patience", "seed",
)  # fmt: skip
#: exit statuses of a run ended by Ctrl-C (SIGINT) and by SIGTERM: 128 + the signal's number
EXIT_INTERRUPTED = {"interrupted": 130, "terminated": 143}


def add_train(sub):
    p = sub.add_parser(
        "train",
        help="train a network on a CSV file and save it",
        description="Train a network to predict one column of a CSV file from the others, "
        "then save it (weights, preprocessing, history) in one model file. "
        "DATA may also name a table shipped with glassnet (glassnet datasets). "
        "With --checkpoint, a run killed midway continues with --resume, to the same weights. "
        "Ctrl-C or SIGTERM ends training early and saves the best model so far "
        "(exit status 130 or 143).",
    )
    _add_data(p.add_argument_group("the data"))
    _add_network(p.add_argument_group("the network"))
    _add_training(p.add_argument_group("training"))
    _add_output(p.add_argument_group("output"))
    _add_checkpoints(p.add_argument_group("checkpoints"))
    p.set_defaults(run=run_train, train_parser=p)


def _add_data(p):
    """The table, its target, the columns left out and the missing values."""
    from glassnet import tabular

    p.add_argument(
        "data",
        nargs="?",
        help="the CSV file, or a shipped table such as penguins.csv (with --resume: "
        "default, the checkpoint's)",
    )
    p.add_argument(
        "--target", metavar="COLUMN", help="the column to predict (required, but with --resume)"
    )
    p.add_argument(
        "--task",
        choices=["classification", "regression"],
        help="default: detected from the target (text, or whole numbers with at "
        f"most {tabular.MAX_INTEGER_CLASSES} values: classification; other numbers: regression)",
    )
    p.add_argument(
        "--ignore",
        nargs="+",
        action="extend",
        default=[],
        metavar="COLUMN",
        help="columns that are not features (names, identifiers; a note names a text "
        f"column with more than {tabular.table.MANY_CATEGORIES} values, which are more than "
        f"{100 * tabular.table.MANY_CATEGORIES_SHARE:.0f}%% of the training rows)",
    )
    missing = p.add_mutually_exclusive_group()
    missing.add_argument(
        "--impute",
        choices=tabular.IMPUTE_STRATEGIES,
        help="fill missing feature values with a value learned from the "
        "training rows (text columns: the most frequent)",
    )
    missing.add_argument(
        "--drop-missing",
        action="store_true",
        help="leave out rows with a missing feature value (a row whose target is missing "
        "is always left out, and counted)",
    )


def _add_network(p):
    """The hidden layers and their activation."""
    from glassnet import tabular

    p.add_argument(
        "--hidden",
        default=",".join(map(str, tabular.DEFAULT_HIDDEN)),
        metavar="SIZES",
        help="hidden layer sizes, e.g. 64,32, or none (default %(default)s)",
    )
    p.add_argument(
        "--activation",
        default=tabular.DEFAULT_ACTIVATION,
        help="hidden activation (default %(default)s)",
    )


def _add_training(p):
    """The optimizer, the epochs and batches, the validation split, early stopping, the seed."""
    from glassnet import tabular

    p.add_argument(
        "--optimizer",
        default=tabular.DEFAULT_OPTIMIZER,
        choices=sorted(OPTIMIZERS),
        help="default %(default)s",
    )
    p.add_argument(
        "--learning-rate",
        type=float,
        default=None,
        metavar="RATE",
        help=f"default: {tabular.defaults.DEFAULT_LEARNING_RATE:g} for adam and adamw, the "
        "optimizer's own otherwise; decayed to 0 by a cosine over the epochs",
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=tabular.DEFAULT_EPOCHS,
        help="at most this many epochs (default %(default)s; early stopping usually ends sooner)",
    )
    p.add_argument(
        "--batch-size", type=int, default=tabular.DEFAULT_BATCH_SIZE, help="default %(default)s"
    )
    p.add_argument(
        "--validation-split",
        type=float,
        default=None,
        metavar="FRACTION",
        help=f"share of rows held out, stratified by class (default "
        f"{tabular.DEFAULT_VALIDATION_SPLIT}; 0 for tables under "
        f"{tabular.MIN_ROWS_FOR_VALIDATION} rows)",
    )
    p.add_argument(
        "--patience",
        type=int,
        default=tabular.DEFAULT_PATIENCE,
        help="stop after this many epochs without a better validation loss (default %(default)s)",
    )
    p.add_argument(
        "--seed", type=int, default=tabular.DEFAULT_SEED, help="random seed (default %(default)s)"
    )


def _add_output(p):
    """Where the model and the report go, and the progress bar."""
    p.add_argument(
        "--out",
        metavar="MODEL",
        help="model file (default: DATA's name with .safetensors, next to it)",
    )
    p.add_argument("--plot", metavar="PNG", help="write a training report as a PNG")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    diagnosis.add_flag(p)


def _add_checkpoints(p):
    """Where a run keeps what it needs to continue after being killed, and continuing."""
    from glassnet import tabular

    p.add_argument(
        "--checkpoint",
        metavar="FILE",
        help="after every epoch, write all that continuing needs to FILE (atomically)",
    )
    p.add_argument(
        "--checkpoint-every",
        type=float,
        default=tabular.pipeline.DEFAULT_CHECKPOINT_EVERY,
        metavar="SECONDS",
        help="write the checkpoint at most once every SECONDS (default %(default)s: every "
        "epoch; the last epoch's is always written)",
    )
    p.add_argument(
        "--resume",
        metavar="FILE",
        help="continue the run of the checkpoint FILE with its options, on the same data; "
        "checkpoints go on to FILE unless --checkpoint names another",
    )


def run_train(args) -> int:
    from glassnet import tabular

    if args.resume is None and (args.data is None or args.target is None):
        args.train_parser.error(
            "the following arguments are required: DATA, --target (or --resume FILE)"
        )
    try:
        result = _train(args) if args.resume is None else _resume(args)
    except tabular.Interrupted as exc:
        print(f"glassnet: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED[exc.stopped]
    except TrainingDivergedError as exc:
        return diagnosis.diverged(args, exc)
    print(tabular.format_train_report(result))
    diagnosis.after_training(args, result)
    return EXIT_INTERRUPTED.get(result.stopped, 0)


def _train(args):
    from glassnet import tabular

    return tabular.train(
        args.data,
        args.target,
        task=args.task,
        hidden=args.hidden,
        activation=args.activation,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        optimizer=args.optimizer,
        validation_split=args.validation_split,
        patience=args.patience,
        seed=args.seed,
        ignore=args.ignore,
        impute=args.impute,
        drop_missing=args.drop_missing,
        out=args.out,
        plot=args.plot,
        checkpoint=args.checkpoint,
        checkpoint_every=args.checkpoint_every,
        verbose=0 if args.quiet else 1,
        log=tell,
    )


def _resume(args):
    """``glassnet train --resume FILE``: the checkpoint's options; the others refused."""
    from glassnet import tabular
    from glassnet.cli.flags import FLAGS

    for dest in RESUMED_OPTIONS:
        if getattr(args, dest) != args.train_parser.get_default(dest):
            raise UsageError(
                f"--resume continues with the options of its checkpoint: leave out {FLAGS[dest]}"
            )
    return tabular.pipeline.resume(
        args.resume,
        args.data,
        target=args.target,
        out=args.out,
        plot=args.plot,
        checkpoint=args.checkpoint,
        checkpoint_every=args.checkpoint_every,
        verbose=0 if args.quiet else 1,
        log=tell,
    )
