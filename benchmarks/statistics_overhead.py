"""What recording the training statistics costs an epoch of the benchmark MLP.

``fit`` records per-layer statistics by default (:mod:`glassnet.training.statistics`): every
batch, each ReLU layer's units that fired; on eight sampled batches an epoch, the gradient
norms, the step's size against the weights' and the activations' moments. This script
times epochs of the 784-256-128-10 ReLU + softmax MLP (Adam) on the MNIST digits shipped
with glassnet (12,000 training images, flattened, scaled to [0, 1]), with the recorder on
and off, alternating so that a busy machine slows both alike, at batch sizes 32 and 128::

    python benchmarks/statistics_overhead.py [--repeats 5] [--rows 12000]

Times are the process's CPU time (all its threads), which other programs loading the
machine disturb less than the wall clock. It prints the median epoch time of each, their
ratio (the target: under 1.05), and the share of an epoch's time spent inside the
recorder's own hooks.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np


def network(gn):
    return gn.Sequential(
        [
            gn.Dense(256, activation="relu"),
            gn.Dense(128, activation="relu"),
            gn.Dense(10, activation="softmax"),
        ]
    )


def timed_recorder(enabled: bool):
    """A TrainingStatistics that also adds up the time spent inside its own hooks."""
    from glassnet.training.statistics import TrainingStatistics

    class Timed(TrainingStatistics):
        spent = 0.0

    hooks = ("on_train_begin", "on_epoch_begin", "on_batch_end", "on_epoch_end", "on_train_end")
    for hook in hooks:
        setattr(Timed, hook, _timing(getattr(TrainingStatistics, hook)))
    return Timed(enabled=enabled)


def _timing(hook):
    def timed(self, *args, **kwargs):
        start = time.process_time()
        hook(self, *args, **kwargs)
        type(self).spent += time.process_time() - start

    return timed


def epoch_times(gn, X, y, batch_size: int, repeats: int) -> dict:
    """Seconds per epoch with the recorder on (True) and off (False), alternating, and the
    seconds spent inside the recorder's hooks in each epoch with it on ("hooks")."""
    model = network(gn)
    times = {True: [], False: [], "hooks": []}
    model.fit(X, y, loss="cross_entropy", epochs=1, batch_size=batch_size, rng=0)  # warm up
    for _ in range(repeats):
        for on in (True, False):
            record = timed_recorder(on)
            start = time.process_time()
            model.fit(X, y, epochs=1, batch_size=batch_size, callbacks=[record])
            times[on].append(time.process_time() - start)
            if on:
                times["hooks"].append(type(record).spent)
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="epochs timed each way")
    parser.add_argument("--rows", type=int, default=12_000, help="training rows used")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    import glassnet as gn
    from glassnet.datasets.mnist import load_digits_subset

    X, y, _, _ = load_digits_subset(flatten=True)
    X, y = X[: args.rows], y[: args.rows]
    print(f"784-256-128-10 ReLU MLP, Adam, {len(X):,} MNIST digits; median of {args.repeats}")
    print(f"{'batch':>5}  {'off (s)':>8}  {'on (s)':>8}  {'on / off':>8}  {'in hooks':>8}")
    for batch_size in (32, 128):
        times = epoch_times(gn, X, y, batch_size, args.repeats)
        off, on = float(np.median(times[False])), float(np.median(times[True]))
        share = float(np.median(np.array(times["hooks"]) / np.array(times[True])))
        print(f"{batch_size:>5}  {off:>8.3f}  {on:>8.3f}  {on / off:>8.3f}  {share:>8.2%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
