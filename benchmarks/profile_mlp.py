"""Where glassnet's MLP epoch spends its time: cProfile of ``fit`` on the benchmark's data.

Profiles the same workload as ``run.py`` (784-256-128-10 ReLU, 60,000 x 784 float32, batch
128) after one warm-up epoch, and prints the functions sorted by their own time (tottime),
then by cumulative time. Compare the total with the limit that ``run.py`` prints: whatever
is not a matrix product (``matmul`` in layers.py) is glassnet's overhead.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/profile_mlp.py [--adam]

For a sampling profile of the native code as well: ``pip install py-spy`` and
``py-spy record --native -o profile.svg -- python benchmarks/profile_mlp.py``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from pathlib import Path

import peers


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adam", action="store_true", help="Adam instead of SGD")
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--epochs", type=int, default=3, help="profiled epochs")
    parser.add_argument("--top", type=int, default=25, help="rows of each listing")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

    X, y = peers.make_data(args.samples)
    trainer = peers.glassnet_mlp(X, y, peers.MLPSpec(), "adam" if args.adam else "sgd")
    trainer.epoch()  # warm-up: build, first allocations
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.epochs):
        trainer.epoch()
    profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
