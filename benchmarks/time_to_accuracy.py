"""Time to a target accuracy on full MNIST: glassnet beside PyTorch CPU, in one run.

How long, in wall-clock seconds of training, until the accuracy on the 10,000 MNIST test
digits first reaches the target: **98 %** for the dense network, **99 %** for the CNN. Both
libraries train the same network with the same recipe, glassnet's recommended one from
``benchmarks/mnist_accuracy.py`` (imported from there, so the two benchmarks cannot drift):

- **mlp**: 784-256-128-10, ReLU, dropout 0.2, softmax/cross-entropy; Adam, batches of 128.
- **cnn**: Conv2D(16, 3x3, same, ReLU) - MaxPool 2 - Conv2D(32, 3x3, same, ReLU) - MaxPool 2
  - Dense(128, ReLU) - dropout 0.3 - Dense(10); Adam, batches of 64.

Adam's learning rate is ``lr * decay**epoch`` (set at each epoch's start). PyTorch's network
starts from **glassnet's initial weights**, copied in (``Linear.weight`` is glassnet's
``W.T``; a conv kernel has the same ``(filters, channels, kh, kw)`` layout in both), so the
race starts from the same point; the batch order and the dropout masks are each library's
own, drawn from the same seed.

The test accuracy is checked ``--checks`` times per epoch (default 4, at evenly spaced
batches, the last at the epoch's end). The clock stops during a check: a check costs
the same in either library and is not training. The first check at or above the target
ends that library's race; a race that has not reached it after the recipe's epochs (or
``--epochs``) says so. glassnet trains through its public ``fit`` (with a callback that
checks and sets the learning rate), PyTorch through the usual ``zero_grad / backward /
step`` loop. Every library gets the same threads (``--threads``, default every core).

How to run, from the repository root (about 15 minutes on 2 cores)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/time_to_accuracy.py \\
        --markdown time.md
    python benchmarks/time_to_accuracy.py --only mlp
    python benchmarks/time_to_accuracy.py --quick      # 2,000 digits, 1 epoch: checks the script

The MNIST files are read from ``--data-dir`` (default: ``../shared/data/mnist`` beside the
repository); when they are not there, the script says so and exits with status 0 without
measuring (it never downloads). Without PyTorch, glassnet's column is measured alone.
The glassnet measured is this working tree's (``src/`` is put first on ``sys.path``).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402

import glassnet as gn  # noqa: E402
import peers  # noqa: E402
from glassnet.datasets import load_mnist  # noqa: E402
from mnist_accuracy import DEFAULT_DATA, SPECS, Spec, train  # noqa: E402
from report import LoadMonitor, machine_lines, openblas_warning  # noqa: E402
from run import command_line, limit_threads  # noqa: E402

QUICK_TARGETS = {"mlp": 0.70, "cnn": 0.50}  # --quick: 2,000 digits, one epoch


# --------------------------------------------------------------------------------------------
# The race: a clock that stops during checks, and the record of every check
# --------------------------------------------------------------------------------------------


class TargetReached(Exception):
    """Raised by a check that reached the target: ends the race at once, in either library."""


@dataclass
class Race:
    """One library's run: every check as ``(training seconds, epochs done, test accuracy)``."""

    library: str
    target: float
    checks: list[tuple[float, float, float]] = field(default_factory=list)
    error: str | None = None
    verbose: bool = True  # print each check (not for the warm-up)

    @property
    def reached(self) -> tuple[float, float, float] | None:
        """The first check at or above the target, or None."""
        return next((c for c in self.checks if c[2] >= self.target), None)

    @property
    def seconds(self) -> float | None:
        return None if self.reached is None else self.reached[0]


class Referee:
    """Keeps the training clock and scores the test set at the checkpoints.

    A check's training seconds are the wall time since :meth:`start` minus the time spent in
    the checks before it.
    """

    def __init__(self, race: Race, score, batches_per_epoch: int, checks_per_epoch: int):
        self.race, self.score = race, score
        self.batches = batches_per_epoch
        # evenly spaced batch numbers (1-based) of the checks; the last is the epoch's end
        points = np.linspace(0, batches_per_epoch, checks_per_epoch + 1)[1:]
        self.points = set(np.ceil(points).astype(int).tolist())
        self.paused = 0.0

    def start(self) -> None:
        self.began = time.perf_counter()

    def after_batch(self, epoch: int, batch: int) -> None:
        """Called after batch ``batch`` (from 0) of epoch ``epoch`` (from 0)."""
        if batch + 1 not in self.points:
            return
        stop = time.perf_counter()
        seconds, epochs, accuracy = (
            stop - self.began - self.paused,
            epoch + (batch + 1) / self.batches,
            self.score(),
        )
        self.race.checks.append((seconds, epochs, accuracy))
        if self.race.verbose:
            print(
                f"  {self.race.library:8s} epoch {epochs:5.2f}  test accuracy {accuracy:.4f}"
                f"  training {seconds:7.1f} s",
                flush=True,
            )
        self.paused += time.perf_counter() - stop
        if accuracy >= self.race.target:
            raise TargetReached


# --------------------------------------------------------------------------------------------
# glassnet: the public fit, with a callback
# --------------------------------------------------------------------------------------------


class RecipeAndChecks(gn.Callback):
    """Sets each epoch's learning rate (the recipe's decay) and hands every batch's end to
    the referee."""

    def __init__(self, spec: Spec, referee: Referee) -> None:
        self.spec, self.referee, self.epoch = spec, referee, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.model.optimizer_.learning_rate = self.spec.learning_rate * self.spec.decay**epoch

    def on_batch_end(self, batch, logs=None):
        self.referee.after_batch(self.epoch, batch)


def race_glassnet(race: Race, model, spec: Spec, data, epochs: int, checks: int, seed: int):
    X_train, y_train, X_test, y_test = data
    batches = -(-len(X_train) // spec.batch_size)

    def score() -> float:
        return float(np.mean(model.predict_classes(X_test) == y_test))

    referee = Referee(race, score, batches, checks)
    referee.start()
    try:
        callbacks = [RecipeAndChecks(spec, referee)]
        train(
            model, spec, X_train, y_train, epochs=epochs, callbacks=callbacks, seed=seed, verbose=0
        )
    except TargetReached:
        pass
    return race


# --------------------------------------------------------------------------------------------
# PyTorch: the same network from glassnet's initial weights, the usual loop
# --------------------------------------------------------------------------------------------


def torch_twin(model, torch):
    """A ``torch.nn.Sequential`` computing what glassnet's ``model`` computes (logits out,
    the softmax left to the loss), starting from a copy of its weights."""
    nn = torch.nn
    modules = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Dense":
            module = nn.Linear(layer.input_shape[0], layer.units)
            module.weight.data = torch.from_numpy(layer.params["W"].T.copy())
        elif kind == "Conv2D":
            module = nn.Conv2d(layer.input_shape[0], layer.filters, layer.kernel_size,
                               padding=layer.padding)  # fmt: skip
            module.weight.data = torch.from_numpy(layer.params["W"].copy())
        elif kind == "MaxPool2D":
            module = nn.MaxPool2d(layer.pool_size, layer.stride)
        elif kind == "Flatten":
            module = nn.Flatten()
        elif kind == "Dropout":
            module = nn.Dropout(layer.rate)
        else:
            raise ValueError(f"no PyTorch twin for glassnet's {kind}")
        if "b" in getattr(layer, "params", {}):
            module.bias.data = torch.from_numpy(layer.params["b"].copy())
        modules.append(module)
        activation = getattr(getattr(layer, "activation", None), "name", None)
        last_softmax = activation == "softmax" and layer is model.layers[-1]  # in the loss
        if activation == "relu":
            modules.append(nn.ReLU())
        elif activation not in (None, "linear") and not last_softmax:
            raise ValueError(f"no PyTorch twin for the activation {activation!r}")
    return nn.Sequential(*modules)


def race_torch(race: Race, model, spec: Spec, data, epochs: int, checks: int, seed: int):
    try:
        import torch
    except ImportError:
        race.error = "PyTorch is not installed"
        return race
    torch.set_num_threads(peers.THREADS)
    torch.manual_seed(seed)
    X_train, y_train, X_test, y_test = (torch.from_numpy(np.ascontiguousarray(a)) for a in data)
    y_train = y_train.long()
    net = torch_twin(model, torch)
    optimizer = torch.optim.Adam(net.parameters(), lr=spec.learning_rate)
    loss_fn = torch.nn.CrossEntropyLoss()
    order_rng = np.random.default_rng(seed)
    batches = -(-len(X_train) // spec.batch_size)

    def score() -> float:
        net.eval()
        with torch.no_grad():
            predicted = torch.cat([net(x).argmax(1) for x in X_test.split(1000)])
        net.train()
        return float((predicted == y_test).double().mean())

    referee = Referee(race, score, batches, checks)
    referee.start()
    try:
        for epoch in range(epochs):
            for group in optimizer.param_groups:
                group["lr"] = spec.learning_rate * spec.decay**epoch
            order = torch.from_numpy(order_rng.permutation(len(X_train)))
            for batch, idx in enumerate(order.split(spec.batch_size)):
                optimizer.zero_grad(set_to_none=True)
                loss_fn(net(X_train[idx]), y_train[idx]).backward()
                optimizer.step()
                referee.after_batch(epoch, batch)
    except TargetReached:
        pass
    return race


# --------------------------------------------------------------------------------------------
# The run and its report
# --------------------------------------------------------------------------------------------


def race_both(name: str, spec: Spec, data, args) -> list[Race]:
    X_train, y_train, X_test, y_test = data
    if spec.flatten:
        X_train, X_test = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)
    data = X_train, y_train, X_test, y_test
    target = QUICK_TARGETS[name] if args.quick else spec.target
    epochs = 1 if args.quick else (args.epochs or spec.epochs)
    print(
        f"\n== {name}: to {target:.1%} test accuracy within {epochs} epoch(s); "
        f"{len(X_train):,} training / {len(X_test):,} test digits, batch {spec.batch_size}, "
        f"Adam lr {spec.learning_rate:g} x {spec.decay:g}^epoch",
        flush=True,
    )
    warm = warm_up(spec, data, args.seed)
    print(f"  warm-up (two batches, not timed in the race): glassnet {warm[0]:.2f} s "
          f"(numba kernels loaded or compiled), PyTorch {warm[1]:.2f} s", flush=True)  # fmt: skip
    model = spec.build().build(X_train.shape[1:], rng=args.seed)
    twin_start = model.get_weights()  # PyTorch starts here, whatever fit does to the model
    races = [Race("glassnet", target), Race("PyTorch", target)]
    race_glassnet(races[0], model, spec, data, epochs, args.checks, args.seed)
    model.set_weights(twin_start)
    race_torch(races[1], model, spec, data, epochs, args.checks, args.seed)
    return races


def warm_up(spec: Spec, data, seed: int) -> tuple[float, float]:
    """Train a throwaway copy on two batches in each library: what is paid once per process
    (numba's kernels, PyTorch's first-call set-up, the BLAS threads) stays out of the race.
    Returns each library's seconds."""
    X_train, y_train, X_test, y_test = data
    n = 2 * spec.batch_size
    small = X_train[:n], y_train[:n], X_test[:n], y_test[:n]
    seconds = []
    for race_one, library in ((race_glassnet, "glassnet"), (race_torch, "PyTorch")):
        model = spec.build().build(X_train.shape[1:], rng=seed)
        start = time.perf_counter()
        race_one(Race(library, 2.0, verbose=False), model, spec, small, 1, 1, seed)
        seconds.append(time.perf_counter() - start)
    return seconds[0], seconds[1]


def describe(race: Race) -> str:
    if race.error:
        return race.error
    if race.reached is None:
        best = max((c[2] for c in race.checks), default=float("nan"))
        return f"not reached (best {best:.2%})"
    seconds, epochs, accuracy = race.reached
    return f"**{seconds:.1f} s** (epoch {epochs:.2f}, {accuracy:.2%})"


def table(results: dict[str, list[Race]]) -> list[str]:
    lines = [
        "| model | target | glassnet | PyTorch CPU | glassnet / PyTorch |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, (ours, theirs) in results.items():
        both = ours.seconds is not None and theirs.seconds is not None
        ratio = f"{ours.seconds / theirs.seconds:.2f}x" if both else "-"
        lines.append(
            f"| {name} | {ours.target:.1%} | {describe(ours)} | {describe(theirs)} | {ratio} |"
        )
    return lines


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="the MNIST files")
    parser.add_argument("--only", action="append", choices=sorted(SPECS), help="repeatable")
    parser.add_argument("--epochs", type=int, help="at most this many epochs (default: recipe's)")
    parser.add_argument("--checks", type=int, default=4, help="test checks per epoch")
    parser.add_argument("--threads", type=int, default=peers.cpu_count())
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--markdown", type=Path, help="also write the report here")
    parser.add_argument("--quick", action="store_true", help="2,000 digits, 1 epoch")
    args = parser.parse_args(argv)
    for option in ("epochs", "checks", "threads"):
        if getattr(args, option) is not None and getattr(args, option) < 1:
            parser.error(f"--{option} must be at least 1, got {getattr(args, option)}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if not (args.data_dir / "train-images-idx3-ubyte.gz").is_file():
        print(f"skipped: no MNIST files in {args.data_dir} (pass --data-dir DIR)")
        return 0
    limit_threads(args.threads)
    load = LoadMonitor()
    for warning in (openblas_warning(), load.busy_warning(args.threads)):
        if warning:
            print(warning)
    data = load_mnist(args.data_dir)
    if args.quick:
        X_train, y_train, X_test, y_test = data
        data = X_train[:2000], y_train[:2000], X_test[:1000], y_test[:1000]
    results = {name: race_both(name, SPECS[name], data, args) for name in args.only or SPECS}
    lines = [
        "Time to a target test accuracy on MNIST (training seconds, checks excluded)",
        "",
        *table(results),
        "",
        *(f"- {line}" for line in machine_lines(args.threads, load)),
        f"- glassnet's compiled kernels: {'on' if gn.fast.use_compiled() else 'off'}",
        f"- Command: `{command_line()}`",
    ]
    if args.quick:
        lines.append("- --quick: 2,000 digits and lowered targets; checks the script only")
    print("\n" + "\n".join(lines))
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
