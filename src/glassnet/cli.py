"""The ``glassnet`` command: a thin argparse layer over library functions.

Every error a user can cause ends as one line on stderr and exit status 2 — never a
traceback. Each sub-command is ``add_<name>(subparsers)`` plus ``run_<name>(args)``.
"""

from __future__ import annotations

import argparse
import sys

from . import __version__


class UsageError(Exception):
    """A problem with the user's input: printed as one line, exit status 2."""


def add_demo(sub):
    p = sub.add_parser("demo", help="run one of the seed tutorials or a showcase",
                       description="Run a demo; without a name, list them.")
    p.add_argument("name", nargs="?", help="the demo to run")
    p.add_argument("--out-dir", default=".", help="folder for pictures (default: here)")
    p.add_argument("--seed", type=int, default=None, help="random seed")
    p.add_argument("--full", action="store_true", help="digits: use all 70,000 MNIST digits")
    p.add_argument("--data-dir", default=None, help="digits: folder holding the MNIST files")
    p.add_argument("--epochs", type=int, default=None, help="digits: training epochs")
    p.set_defaults(run=run_demo)


def run_demo(args) -> int:
    from pathlib import Path

    from .demos import DEMOS

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
    DEMOS[args.name][0](**options)
    return 0


def add_summary(sub):
    p = sub.add_parser("summary", help="describe a saved model")
    p.add_argument("model", help="a model file written by glassnet")
    p.set_defaults(run=run_summary)


def run_summary(args) -> int:
    from .serialization import load

    model = load(args.model)
    print(model.format_summary())
    return 0


COMMANDS = [add_demo, add_summary]


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
    args = parser.parse_args(argv)          # argparse itself exits with status 2 on misuse
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("glassnet: interrupted", file=sys.stderr)
        return 130
    except (UsageError, ValueError, TypeError, OSError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"glassnet: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
