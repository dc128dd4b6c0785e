"""What one optimizer step costs on the benchmark MLP's 235,146 parameters, and why.

An epoch of the benchmark's MLP is 469 steps. Plain SGD reads and writes the parameter vector in
two element-wise passes (``step = eta g``; ``p -= step``); Adam needs about twelve (two
moment updates, a square root, a division, the step). NumPy runs each pass as its own loop
over memory, so the time of a step is close to (passes) x (time of one pass over ~1 MB),
and no arrangement of NumPy calls fuses them. This script measures both steps and the
single passes they are made of, so the Adam-vs-SGD ratio of ``run.py`` can be read off::

    python benchmarks/optimizer_step.py [--steps 1000]

The gradient is a fixed random vector (about 1e-3), so the moments settle near g and g^2
and never become subnormal (which would time the processor's slow path, not the code); the
times are medians over repeated blocks of steps.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

N_PARAMS = 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10  # 235,146
STEPS_PER_EPOCH = -(-60_000 // 128)  # 469


def per_call(fn, calls: int, blocks: int = 5) -> float:
    """Median over ``blocks`` of the mean time of ``calls`` calls, in seconds."""
    for _ in range(max(1, calls // 10)):
        fn()
    times = []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls)
    return float(np.median(times))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000, help="calls per timed block")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    import glassnet as gn

    rng = np.random.default_rng(0)
    p = rng.standard_normal(N_PARAMS, dtype=np.float32) * 0.05
    g = rng.standard_normal(N_PARAMS, dtype=np.float32) * np.float32(1e-3)
    q, out = p.copy(), np.empty_like(p)
    v = np.abs(p) + np.float32(1e-3)  # positive, like Adam's second moment

    def step_with(optimizer):
        slots = [("parameters", p, g)]
        return lambda: optimizer.step(slots)

    rows = [
        ("glassnet SGD step", per_call(step_with(gn.SGD(0.01)), args.steps)),
        ("glassnet Adam step", per_call(step_with(gn.Adam(0.001)), args.steps)),
        ("one pass, in place: p *= c", per_call(lambda: np.multiply(p, 1.0, out=p), args.steps)),
        ("one pass, 2 arrays: q -= g", per_call(lambda: np.subtract(q, g, out=q), args.steps)),
        (
            "one pass, 3 arrays: out = g * p",
            per_call(lambda: np.multiply(g, p, out=out), args.steps),
        ),
        ("one pass, 2 arrays: out = sqrt(v)", per_call(lambda: np.sqrt(v, out=out), args.steps)),
    ]
    print(
        f"{N_PARAMS:,} float32 parameters, {STEPS_PER_EPOCH} steps per epoch "
        f"(the MLP of benchmarks/run.py)\n"
    )
    print(f"{'':34s} {'per step':>10s} {'per epoch':>10s}")
    for name, seconds in rows:
        print(f"{name:34s} {seconds * 1e6:8.1f} µs {seconds * STEPS_PER_EPOCH:8.3f} s")
    sgd, adam = rows[0][1], rows[1][1]
    print(
        f"\nAdam's step costs {adam / sgd:.1f}x SGD's: {(adam - sgd) * STEPS_PER_EPOCH:.3f} s "
        f"more per epoch."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
