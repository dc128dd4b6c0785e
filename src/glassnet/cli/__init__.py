"""The ``glassnet`` command: a thin argparse layer over library functions.

Each sub-command is ``add_<name>(subparsers)`` plus ``run_<name>(args)``; the defaults it
shows are the library's own (imported, never repeated), and the library checks the values.

=============  ==============================================================================
module         what it holds
=============  ==============================================================================
``flags``      :data:`FLAGS` (parameter -> flag, one table), the one-line error messages
``train``      ``glassnet train``: its arguments, in groups (data, network, training, output)
``models``     the commands on a saved model: ``predict``, ``evaluate``, ``summary``, ``export``
``shipped``    what ships with glassnet: ``demo`` and ``datasets``
``diagnose``   ``glassnet diagnose`` and ``train --diagnose``: what is wrong, and the fix
``playground`` ``glassnet playground``: the local web app (glassnet.glassbox.playground)
=============  ==============================================================================

Errors: every mistake a user can make ends as one line on stderr and exit status 2 — never
a traceback. Those are glassnet's input errors (:class:`glassnet.errors.InputError`, whose
parameter mentions are spelled as flags through :data:`FLAGS`), ``ValueError`` (which
glassnet raises only about values it was given), the model-file error (a ``ValueError``)
and ``OSError`` (files). Anything else — a bare ``TypeError`` or ``AttributeError`` from
inside the code — is a bug, and keeps its traceback so that it can be reported and fixed.
"""

from __future__ import annotations

import argparse
import os
import sys

from glassnet import __version__
from glassnet.cli.diagnose import add_diagnose
from glassnet.cli.flags import FLAGS, UsageError, error_message, flag_spelling
from glassnet.cli.models import add_evaluate, add_export, add_predict, add_summary
from glassnet.cli.playground import add_playground
from glassnet.cli.shipped import add_datasets, add_demo
from glassnet.cli.train import add_train
from glassnet.errors import InputError

__all__ = [
    "COMMANDS",
    "FLAGS",
    "UsageError",
    "build_parser",
    "error_message",
    "flag_spelling",
    "main",
]


COMMANDS = [
    add_demo,
    add_train,
    add_predict,
    add_evaluate,
    add_summary,
    add_diagnose,
    add_export,
    add_datasets,
    add_playground,
]
"""The sub-commands, in the order ``glassnet --help`` lists them."""


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
    except (UsageError, InputError, OSError) as exc:
        # glassnet's own errors about the input, and files the system could not read or write;
        # anything else (a plain ValueError from NumPy, say) is a bug and keeps its traceback
        print(f"glassnet: error: {error_message(exc)}", file=sys.stderr)
        return 2
