"""How the command line speaks of the library's parameters, and its one-line errors.

:data:`FLAGS` is the one table from parameter names (``impute``) to flags (``--impute``);
:func:`flag_spelling` spells an :class:`~glassnet.errors.InputError`'s parameter mentions
with it, so that a library message is shown in the user's terms without rewriting its text.
:class:`UsageError` is a mistake the command line itself finds.
"""

from __future__ import annotations

from glassnet.errors import InputError, Param

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
    "full": "--full",
    "data_dir": "--data-dir",
    "checkpoint": "--checkpoint",
    "checkpoint_every": "--checkpoint-every",
    "resume": "--resume",
    "onnx": "--onnx",
    "id": "--id",
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


def tell(line, *, prefix: str = "", file=None) -> None:
    """Print a line the library tells (a plan line, a note) with its parameter mentions
    spelled as flags: ``ignore='Name'`` becomes ``--ignore Name``."""
    from glassnet.tabular.columns import spelled

    print(prefix + spelled(line, flag_spelling), file=file)


def error_message(exc: BaseException) -> str:
    """The one line shown for an error the user caused."""
    message = exc.format(flag_spelling) if isinstance(exc, InputError) else str(exc)
    return message.splitlines()[0] if message else type(exc).__name__
