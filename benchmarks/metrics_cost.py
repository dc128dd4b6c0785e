"""What metrics cost during fit: one MNIST-sized MLP epoch with and without them.

The MLP of ``run.py`` (784-256-128-10, ReLU, softmax, Adam, batch 128) trains one epoch on
60,000 synthetic MNIST-like rows (``peers.make_data``; no download) with

- ``metrics=[]``: the loss only;
- ``metrics=None``: the default, the loss and accuracy (what every fit logged before);
- ``metrics=["accuracy"]``;
- ``metrics=["auc", "f1"]``: ROC AUC keeps the epoch's 60,000 x 10 scores and ranks them
  once per class at the epoch's end; F1 adds a 10 x 10 confusion matrix per batch;
- ``metrics=["accuracy", "precision", "recall", "f1", "auc"]``.

The configurations are timed in turn, round after round (so that a machine busy with other
work slows them alike), after one warm-up epoch each; the table gives the median epoch (wall
clock and process CPU time) and its ratio to the loss-only epoch. On a busy machine those
ratios are mostly noise, so the script also times the metrics' own work alone: every
batch's ``update_state`` and the epoch's ``result``, on the outputs of a real epoch's
batches, in a tight loop — that time over the loss-only epoch is what the metrics add::

    python benchmarks/metrics_cost.py [--repeats 5] [--samples 60000] [--threads N] [--quick]

``--quick`` runs 2,000 rows once, to check that the script works, not to measure.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIGS = {
    "loss only (metrics=[])": [],
    "default (metrics=None)": None,
    'metrics=["accuracy"]': ["accuracy"],
    'metrics=["auc", "f1"]': ["auc", "f1"],
    "accuracy, precision, recall, f1, auc": ["accuracy", "precision", "recall", "f1", "auc"],
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs per configuration")
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads (default: all)")
    parser.add_argument("--quick", action="store_true", help="2,000 rows, one epoch each")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.samples = 1, 2_000
    if args.threads:  # before NumPy is imported
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    sys.path[:0] = [str(HERE.parent / "src"), str(HERE)]
    import numpy as np

    import glassnet as gn
    from peers import make_data

    X, y = make_data(args.samples)
    models = {}
    for name, metrics in CONFIGS.items():
        model = gn.Sequential(
            [gn.Dense(256, "relu"), gn.Dense(128, "relu"), gn.Dense(10, "softmax")]
        )
        # the warm-up epoch (not timed) builds the model and sets loss, optimizer, metrics
        model.fit(X, y, loss="cross_entropy", optimizer=gn.Adam(1e-3), batch_size=128,
                  metrics=metrics, rng=0)  # fmt: skip
        models[name] = model
    wall = {name: [] for name in CONFIGS}
    cpu = {name: [] for name in CONFIGS}
    for _ in range(args.repeats):
        for name, metrics in CONFIGS.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            models[name].fit(X, y, batch_size=128, metrics=metrics)
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    alone = _metrics_alone(models["loss only (metrics=[])"], X, y, args.repeats)
    base, base_cpu = (float(np.median(t["loss only (metrics=[])"])) for t in (wall, cpu))
    print(f"one epoch, {args.samples:,} rows, 784-256-128-10, batch 128, Adam; "
          f"median of {args.repeats}")  # fmt: skip
    width = max(map(len, CONFIGS))
    print(f"{'':<{width}}  {'wall':>8} {'ratio':>7}  {'cpu':>8} {'ratio':>7}  "
          f"{'metrics alone':>13} {'1 + alone/epoch':>15}")  # fmt: skip
    for name in CONFIGS:
        w, c = float(np.median(wall[name])), float(np.median(cpu[name]))
        print(f"{name:<{width}}  {w:7.3f}s {w / base:6.3f}x  {c:7.3f}s {c / base_cpu:6.3f}x  "
              f"{alone[name] * 1e3:10.1f} ms {1 + alone[name] / base:14.4f}x")  # fmt: skip
    return 0


def _metrics_alone(model, X, y, repeats: int) -> dict[str, float]:
    """Seconds the metrics of each configuration take over one epoch's 128-row batches of
    the trained model's outputs (the median of ``repeats`` runs), nothing else timed."""
    import numpy as np

    from glassnet.training.tracking import metric_set

    order = np.random.default_rng(0).permutation(len(X))
    batches = [(y[i], model.predict(X[i]).copy()) for i in np.array_split(order, len(X) // 128)]
    times = {}
    for name, metrics in CONFIGS.items():
        chosen = metric_set(metrics, model.loss_, 10)
        runs = []
        for _ in range(max(repeats, 3)):
            start = time.perf_counter()
            chosen.reset()
            for yb, out in batches:
                chosen.update(yb, out)
            chosen.results()
            runs.append(time.perf_counter() - start)
        times[name] = float(np.median(runs))
    return times


if __name__ == "__main__":
    raise SystemExit(main())
