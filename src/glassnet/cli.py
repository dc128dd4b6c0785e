"""The ``glassnet`` command: a thin argparse layer over library functions.

Each sub-command is ``add_<name>(subparsers)`` plus ``run_<name>(args)``; the defaults it
shows are the library's own (imported, never repeated).

Errors: every mistake a user can make ends as one line on stderr and exit status 2 — never
a traceback. Those are glassnet's input errors (:class:`glassnet.errors.InputError`, whose
parameter mentions are spelled here as flags through :data:`FLAGS`), ``ValueError`` (which
glassnet raises only about values it was given), the model-file error (a ``ValueError``)
and ``OSError`` (files). Anything else — a bare ``TypeError`` or ``AttributeError`` from
inside the code — is a bug, and keeps its traceback so that it can be reported and fixed.
"""

from __future__ import annotations

import argparse
import os
import sys

from glassnet import __version__
from glassnet.errors import InputError, Param
from glassnet.training.optimizers import OPTIMIZERS

#: the library's parameter names -> the flags that set them (one table for every command)
FLAGS = {
    "task": "--task",
    "hidden": "--hidden",
    "activation": "--activation",
    "optimizer": "--optimizer",
    "learning_rate": "--learning-rate",
    "epochs": "--epochs",
    "batch_size": "--batch-size",
    "validation_split": "--validation-split",
    "patience": "--patience",
    "seed": "--seed",
    "ignore": "--ignore",
    "impute": "--impute",
    "drop_missing": "--drop-missing",
    "out": "--out",
    "plot": "--plot",
    "proba": "--proba",
    "target": "--target",
    "preprocessing": "--network-only",
    "out_dir": "--out-dir",
    "rng": "--seed",
}


class UsageError(Exception):
    """A problem with the user's input found by the CLI itself: one line, exit status 2."""


def flag_spelling(param: Param) -> str:
    """A parameter mention as a user of the command line types it: ``--impute
    mean|median|most_frequent``, ``--drop-missing``, ``--learning-rate`` — or the Python
    name, for a parameter no flag sets. ``preprocessing=False`` is ``--network-only``."""
    flag = FLAGS.get(param.name)
    if flag is None:
        return param.python()
    if param.choices:
        return f"{flag} {'|'.join(map(str, param.choices))}"
    if isinstance(param.value, bool) or param.python() == param.name:
        return flag
    return f"{flag} {param.value}"


def error_message(exc: BaseException) -> str:
    """The one line shown for an error the user caused."""
    message = exc.format(flag_spelling) if isinstance(exc, InputError) else str(exc)
    return message.splitlines()[0] if message else type(exc).__name__


def add_demo(sub):
    p = sub.add_parser(
        "demo",
        help="run one of the seed tutorials or a showcase",
        description="Run a demo; without a name, list them.",
    )
    p.add_argument("name", nargs="?", help="the demo to run")
    p.add_argument("--out-dir", default=".", help="folder for pictures (default: here)")
    p.add_argument("--seed", type=int, default=None, help="random seed")
    p.add_argument("--full", action="store_true", help="digits: use all 70,000 MNIST digits")
    p.add_argument("--data-dir", default=None, help="digits: folder holding the MNIST files")
    p.add_argument("--epochs", type=int, default=None, help="digits: training epochs")
    p.set_defaults(run=run_demo)


def run_demo(args) -> int:
    from inspect import signature
    from pathlib import Path

    from glassnet.demos import DEMOS

    if args.name is None:
        width = max(map(len, DEMOS))
        print("demos (run one with: glassnet demo NAME)")
        for name, (_, description) in DEMOS.items():
            print(f"  {name:<{width}}  {description}")
        return 0
    if args.name not in DEMOS:
        raise UsageError(f"unknown demo {args.name!r}; choose from: {', '.join(DEMOS)}")
    if not Path(args.out_dir).is_dir():
        raise UsageError(f"--out-dir {args.out_dir!r} is not a folder")
    options = {"out_dir": args.out_dir, "full": args.full, "data_dir": args.data_dir}
    if args.seed is not None:
        options["rng"] = args.seed
    if args.epochs is not None:
        if args.epochs < 1:
            raise UsageError(f"--epochs must be >= 1, got {args.epochs}")
        options["epochs"] = args.epochs
    demo = DEMOS[args.name][0]
    taken = signature(demo).parameters  # a demo takes only the options it uses
    demo(**{key: value for key, value in options.items() if key in taken})
    return 0


def add_train(sub):
    from glassnet import tabular

    p = sub.add_parser(
        "train",
        help="train a network on a CSV file and save it",
        description="Train a network to predict one column of a CSV file from the others, "
        "then save it (weights, preprocessing, history) in one model file. "
        "DATA may also name a table shipped with glassnet (glassnet datasets).",
    )
    p.add_argument("data", help="the CSV file, or a shipped table such as penguins.csv")
    p.add_argument("--target", required=True, metavar="COLUMN", help="the column to predict")
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
        help="columns that are not features (names, identifiers)",
    )
    missing = p.add_mutually_exclusive_group()
    missing.add_argument(
        "--impute",
        choices=tabular.IMPUTE_STRATEGIES,
        help="fill missing feature values with a value learned from the "
        "training rows (text columns: the most frequent)",
    )
    missing.add_argument(
        "--drop-missing", action="store_true", help="leave out rows with a missing value"
    )
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
        help="default: the optimizer's (adam 0.001)",
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
    p.add_argument(
        "--out",
        metavar="MODEL",
        help="model file (default: DATA's name with .safetensors, next to it)",
    )
    p.add_argument("--plot", metavar="PNG", help="write a training report as a PNG")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run_train)


def run_train(args) -> int:
    from glassnet import tabular

    try:
        result = tabular.train(
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
            verbose=0 if args.quiet else 1,
            log=print,
        )
    except tabular.Interrupted as exc:
        print(f"glassnet: {exc}", file=sys.stderr)
        return 130
    print(tabular.format_train_report(result))
    return 130 if result.interrupted else 0


def add_predict(sub):
    p = sub.add_parser(
        "predict",
        help="predict the rows of a CSV file with a trained model",
        description="Write the rows of DATA with the model's prediction (the original labels, "
        "or numbers in the target's units) as CSV, to stdout or --out.",
    )
    p.add_argument("model", help="a model file written by glassnet train")
    p.add_argument(
        "data",
        help="a CSV file with the model's feature columns (extra columns "
        "are ignored), or an image for a digits model",
    )
    p.add_argument("--out", metavar="FILE", help="write the CSV here instead of stdout")
    p.add_argument("--proba", action="store_true", help="add a probability column per class")
    p.add_argument(
        "--drop-missing",
        action="store_true",
        help="leave out rows with a missing value the model cannot fill",
    )
    p.set_defaults(run=run_predict)


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def run_predict(args) -> int:
    from pathlib import Path

    from glassnet import tabular

    if Path(args.data).suffix.lower() in IMAGE_SUFFIXES:
        return _predict_image(args)
    if args.out:
        tabular.check_output(Path(args.out), "predictions", inputs=[args.data, args.model])
    frame, notes = tabular.predict(
        args.model, args.data, proba=args.proba, drop_missing=args.drop_missing
    )
    for note in notes:
        print(f"glassnet: note: {note}", file=sys.stderr)
    if args.out:
        tabular.write_csv(frame, args.out)
        print(f"{len(frame)} predictions written to {args.out}", file=sys.stderr)
    else:
        frame.to_csv(sys.stdout, index=False)
    return 0


def _predict_image(args) -> int:
    """``glassnet predict MODEL digit.png``: the digit and its probability."""
    from pathlib import Path

    from glassnet.io.model_file import load

    if args.out or args.proba or args.drop_missing:
        raise UsageError("--out, --proba and --drop-missing apply to CSV files, not images")
    if not Path(args.data).is_file():
        raise UsageError(f"image not found: {args.data!r}")
    model = load(args.model)
    from glassnet.datasets.images import predict_image

    label, probability = predict_image(model, args.data)
    print(f"digit: {label} (probability {probability:.3f})")
    return 0


def add_evaluate(sub):
    p = sub.add_parser(
        "evaluate",
        help="measure a trained model on a CSV file with known targets",
        description="Metrics of a model on DATA: loss, accuracy and macro F1 with the "
        "confusion matrix (classification), or RMSE, MAE and R² (regression).",
    )
    p.add_argument("model", help="a model file written by glassnet train")
    p.add_argument("data", help="a CSV file holding the feature and target columns")
    p.add_argument(
        "--target",
        metavar="COLUMN",
        help="the column with the true values (default: the model's target)",
    )
    p.add_argument(
        "--plot",
        metavar="PNG",
        help="write the confusion matrix (or predicted against true) as a PNG",
    )
    p.add_argument(
        "--drop-missing",
        action="store_true",
        help="leave out rows with a missing value the model cannot fill",
    )
    p.set_defaults(run=run_evaluate)


def run_evaluate(args) -> int:
    from glassnet import tabular

    result = tabular.evaluate(
        args.model, args.data, target=args.target, drop_missing=args.drop_missing, plot=args.plot
    )
    for note in result.notes:
        print(f"glassnet: note: {note}", file=sys.stderr)
    print(tabular.format_evaluation(result))
    return 0


def add_summary(sub):
    p = sub.add_parser(
        "summary",
        help="describe a saved model",
        description="Architecture, parameter counts, preprocessing and a "
        "digest of the training history of a model file.",
    )
    p.add_argument("model", help="a model file written by glassnet")
    p.set_defaults(run=run_summary)


def run_summary(args) -> int:
    from glassnet.io.model_file import load
    from glassnet.tabular import describe

    print(describe(load(args.model)))
    return 0


def add_export(sub):
    p = sub.add_parser(
        "export",
        help="export a model as an ONNX graph",
        description="Export a model file as an ONNX graph (needs the onnx "
        "extra: pip install glassnet[onnx]).",
    )
    p.add_argument("model", help="a model file written by glassnet")
    p.add_argument("--onnx", required=True, metavar="FILE", help="write the ONNX graph here")
    p.add_argument(
        "--network-only",
        action="store_true",
        help="leave the stored preprocessing out: the graph then takes the "
        "encoded, standardised inputs (needed when there are text columns)",
    )
    p.set_defaults(run=run_export)


def run_export(args) -> int:
    from pathlib import Path

    from glassnet.io.files import check_output
    from glassnet.io.model_file import load

    out = Path(args.onnx)
    check_output(out, "ONNX graph", inputs=[args.model])
    model = load(args.model)
    try:
        from glassnet.io.onnx import export_onnx

        export_onnx(model, out, preprocessing=not args.network_only)  # writes atomically
    except ImportError as exc:
        raise UsageError(
            f"ONNX export needs the onnx extra: pip install glassnet[onnx] ({exc})"
        ) from None
    print(f"ONNX graph written to {out} ({out.stat().st_size:,} bytes)")
    return 0


def add_datasets(sub):
    p = sub.add_parser(
        "datasets",
        help="list the tables shipped with glassnet",
        description="The example tables shipped with glassnet: use their "
        "names wherever a CSV file is expected.",
    )
    p.set_defaults(run=run_datasets)


def run_datasets(args) -> int:
    from glassnet.datasets.tabular import TABLES, table_path

    width = max(map(len, TABLES))
    print("tables shipped with glassnet (use the name wherever a CSV file is expected)")
    for name, (description, example) in TABLES.items():
        print(f"  {name:<{width}}  {description}")
        print(f"  {'':<{width}}  e.g. {example}")
    print(f"folder: {table_path('xor.csv').parent}")
    return 0


COMMANDS = [add_demo, add_train, add_predict, add_evaluate, add_summary, add_export, add_datasets]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glassnet",
        description="Neural networks on NumPy in which every step of learning can be seen.",
    )
    parser.add_argument("--version", action="version", version=f"glassnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``glassnet`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)  # argparse itself exits with status 2 on misuse
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except BrokenPipeError:  # e.g. `glassnet predict ... | head`
        # Python would complain again when flushing stdout at exit: point it at /dev/null
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("glassnet: interrupted", file=sys.stderr)
        return 130
    except (UsageError, InputError, ValueError, OSError) as exc:
        print(f"glassnet: error: {error_message(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
