"""Copy as Python: the glassnet script that rebuilds a session and gives its numbers.

The script draws the same data (:func:`glassnet.datasets.planar_dataset`, plus the points
the learner added), builds the same network in float64, trains it with ``model.fit`` for the
session's whole epochs — with the same seed, so the same initial weights and the same
shuffles — and, when the session is part-way into an epoch, takes the remaining steps one
``train_step`` at a time on the rows ``fit`` would have drawn next. It prints the training
loss, the test loss and every weight, as ``repr`` of the float64 values: equal, digit for
digit, to the session's State (a test runs it and compares).
"""

from __future__ import annotations

from glassnet.datasets.planar import PLANAR
from glassnet.glassbox.playground.session import OPTIMIZER_SPECS

LOSS_CLASSES = {
    "bce": "BinaryCrossEntropy",
    "mse": "MeanSquaredError",
    "sse": "SumSquaredError",
    "mae": "MeanAbsoluteError",
    "huber": "Huber",
}


def _arguments(**values) -> list[str]:
    return [f"{k}={v!r}" for k, v in values.items()]


def _call(head: str, arguments: list[str], indent: str = "", end: str = "") -> list[str]:
    """``head(arguments)`` laid out as ruff formats it in 100 columns: on one line if it
    fits, else the arguments on one indented line, else one per line with a trailing comma;
    ``end`` follows the closing parenthesis."""
    joined, inner = ", ".join(arguments), indent + "    "
    if len(indent) + len(head) + len(joined) + 2 + len(end) <= 100:
        return [f"{indent}{head}({joined}){end}"]
    if len(inner) + len(joined) <= 100:
        return [f"{indent}{head}(", f"{inner}{joined}", f"{indent}){end}"]
    return [f"{indent}{head}(", *(f"{inner}{a}," for a in arguments), f"{indent}){end}"]


def _data_lines(config: dict) -> list[str]:
    name = config["dataset"]
    arguments = [f'"{name}"']
    if not PLANAR[name].fixed:
        arguments += _arguments(
            n_samples=config["n_points"],
            noise=config["noise"],
            train_fraction=config["train_fraction"],
            rng=config["seed"],
        )
    lines = _call("X_train, y_train, X_test, y_test = planar_dataset", arguments)
    extra = config["extra_points"]
    if extra:
        targets = "added[:, 2]" if PLANAR[name].kind == "regression" else "added[:, 2].astype(int)"
        rows = [f"        {[float(x), float(y), t]!r}," for x, y, t in extra]
        lines += [
            "# the points added by clicking: x, y, target",
            "added = np.array(",
            "    [",
            *rows,
            "    ]",
            ")",
            "X_train = np.vstack([X_train, added[:, :2]])",
            f"y_train = np.concatenate([y_train, {targets}])",
        ]
    return lines


def _network_lines(config: dict, kind: str) -> list[str]:
    extra = [] if config["weight_init"] == "auto" else [f'weight_init="{config["weight_init"]}"']
    if config["l2"] > 0:
        extra.append(f"kernel_regularizer=gn.L2({config['l2']!r})")
    output = "sigmoid" if kind == "classification" else "linear"
    units = [(h["units"], h["activation"]) for h in config["hidden"]] + [(1, output)]
    layers = []
    for n, activation in units:
        layers += _call("gn.Dense", [str(n), f'activation="{activation}"', *extra], " " * 8, ",")
    return ["model = gn.Sequential(", "    [", *layers, "    ],", '    dtype="float64",', ")"]


def _optimizer(config: dict) -> str:
    name, options = OPTIMIZER_SPECS[config["optimizer"]]
    arguments = _arguments(learning_rate=config["learning_rate"], **options)
    return f"gn.{name}({', '.join(arguments)})"


def _training_lines(config: dict, epochs: int, steps: int) -> list[str]:
    loss, seed, size = config["loss"], config["seed"], config["batch_size"]
    if epochs:
        arguments = ["X_train", "y_train", f'loss="{loss}"', f"optimizer={_optimizer(config)}"]
        arguments += _arguments(epochs=epochs, batch_size=size, rng=seed)
        lines = _call("model.fit", arguments)
        setup = ["loss, optimizer = model.loss_, model.optimizer_"]
    else:
        lines = [f"model.build(input_shape=2, rng={seed})  # the weights fit would start from"]
        setup = [f"loss, optimizer = gn.{LOSS_CLASSES[loss]}(), {_optimizer(config)}"]
    if steps == 0:
        return lines
    return [
        *lines,
        f"# the session is {steps} steps into epoch {epochs + 1}: the same batches, a step each",
        *setup,
        "targets = model.check_targets(y_train, loss, len(y_train))",
        "order = model.rng_.permutation(len(X_train))  # the shuffle fit draws for the epoch",
        f"for k in range({steps}):",
        f"    rows = order[k * {size} : (k + 1) * {size}]",
        "    train_step(model, loss, optimizer, model.slots(), X_train[rows], targets[rows])",
    ]


def _evaluate_line(split: str, loss: str) -> str:
    data = f"X_{split}, y_{split}"
    return f'print("{split} loss", repr(model.evaluate({data}, loss="{loss}")["loss"]))'


def python_script(session) -> str:
    """The script for ``session`` as it is now (its config, epochs and steps)."""
    config = session.config
    epochs, steps = divmod(session.steps, session.steps_per_epoch)
    imports = ["import numpy as np", ""] if config["extra_points"] else []
    imports.append("import glassnet as gn")
    imports.append("from glassnet.datasets import planar_dataset")
    if steps:
        imports.append("from glassnet.training.trainer import train_step")
    evaluate = [_evaluate_line("train", config["loss"])]
    if len(session.data.X_test):
        evaluate.append(_evaluate_line("test", config["loss"]))
    lines = [
        f'"""The glassnet playground\'s session: {PLANAR[config["dataset"]].title}, '
        f'{session.steps} steps."""',
        "",
        *imports,
        "",
        *_data_lines(config),
        *_network_lines(config, session.data.kind),
        *_training_lines(config, epochs, steps),
        "",
        *evaluate,
        "for name, value in model.get_weights().items():",
        "    print(name, value.tolist())",
    ]
    return "\n".join(lines) + "\n"
