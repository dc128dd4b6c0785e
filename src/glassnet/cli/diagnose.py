"""``glassnet diagnose`` and ``glassnet train --diagnose``: what is wrong with a training.

The findings of :func:`glassnet.diagnose` (codes documented in docs/diagnostics.md), with
their fixes spelled as flags (``--learning-rate 0.01``). ``glassnet train`` diagnoses every
run it finishes: ``--diagnose`` prints the whole report; without it, a run with findings
ends with one line each, and a run that diverged shows what its statistics found.
"""

from __future__ import annotations

import sys

from glassnet.cli.flags import error_message, flag_spelling

#: exit status of ``glassnet diagnose`` when it finds a problem (0: none; 2: an error)
EXIT_FOUND = 1


def add_diagnose(sub):
    p = sub.add_parser(
        "diagnose",
        help="say what is wrong with a trained model, and how to fix it",
        description="Diagnose a saved model: its training record (loss curves, per-layer "
        "statistics) and, given DATA, the data it was trained on. Prints each problem found "
        "with its code, evidence and fix, or one line saying there is none. Exit status 0: "
        f"no problem; {EXIT_FOUND}: problems found.",
    )
    p.add_argument("model", help="a model file (from glassnet train, or saved from Python)")
    p.add_argument("data", nargs="?", help="a CSV file of rows with answers (optional)")
    p.add_argument(
        "--target",
        metavar="COLUMN",
        help="the column with the true values (default: the model's, for glassnet train's)",
    )
    p.add_argument(
        "--drop-missing", action="store_true", help="leave out rows with a missing value"
    )
    p.add_argument(
        "--plot",
        metavar="PNG",
        help="write the training report (loss, gradients, activations, findings) as a PNG",
    )
    p.set_defaults(run=run_diagnose)


def run_diagnose(args) -> int:
    from glassnet.glassbox.training_report import plot_training_diagnostics
    from glassnet.io.files import check_output
    from glassnet.io.model_file import load
    from glassnet.tabular.diagnosis import diagnose_file

    if args.plot:
        check_output(
            args.plot, "plot", [args.model, *([args.data] if args.data else [])], param="plot"
        )
    model = load(args.model)
    report = diagnose_file(model, args.data, target=args.target, drop_missing=args.drop_missing)
    print(report.format(flag_spelling))
    if args.plot:
        plot_training_diagnostics(model, args.plot, report=report, title=f"{args.model}")
        print(f"training report written to {args.plot}")
    return 0 if report.healthy else EXIT_FOUND


def add_flag(group) -> None:
    """``glassnet train --diagnose``."""
    group.add_argument(
        "--diagnose",
        action="store_true",
        help="after training, print what glassnet diagnose finds, with evidence and fixes",
    )


def after_training(args, result) -> None:
    """The diagnosis of a finished run, on its data: whole with ``--diagnose``, otherwise
    one line per finding (nothing for a healthy run)."""
    from glassnet.tabular.diagnosis import diagnose_table

    data = args.data if args.data is not None else result.preprocessor.training["data"]
    report = diagnose_table(result.model, data, drop_missing=True)
    if args.diagnose:
        print(report.format(flag_spelling))
    elif not report.healthy:
        print("diagnosis (--diagnose shows the evidence and the fixes):")
        print("\n".join(f"  {line}" for line in report.brief().splitlines()))


def diverged(args, exc) -> int:
    """A run that diverged: the error's one line (stderr), then what the run's statistics
    show (stdout: one line per finding, the whole report with ``--diagnose``); status 2."""
    from glassnet.glassbox.diagnose import diagnose

    print(f"glassnet: error: {error_message(exc)}", file=sys.stderr, flush=True)
    model = getattr(exc, "model", None)
    report = None if model is None else diagnose(model)
    if report is not None and not report.healthy:
        text = report.format(flag_spelling) if args.diagnose else report.brief()
        print(f"diagnosis of the run that diverged:\n{text}")
    return 2
