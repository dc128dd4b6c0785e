"""Each compiled kernel (glassnet.fast.compiled) against the NumPy fast path, at the shapes
of the benchmark's workloads, in one run: best of ``--repeat`` rounds, microseconds per call.

    python benchmarks/kernels.py                 # the kernels, one by one
    python benchmarks/kernels.py --epochs        # + whole epochs: MLP SGD and Adam, CNN
    python benchmarks/kernels.py --compile       # + compile time with an empty cache, import time

"numpy" is the same call inside ``glassnet.fast.numpy_only()``; the ratio is numpy/compiled.
``--compile`` runs fresh interpreters: ``warm_up()`` with an empty ``NUMBA_CACHE_DIR`` (the
first use after installing), again with that cache filled, and ``import glassnet``'s time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import glassnet as gn  # noqa: E402
from glassnet import fast  # noqa: E402
from glassnet.nn.windows import batch_first  # noqa: E402


def best_us(call, repeat: int, number: int) -> float:
    call()  # first call: compile or load from the cache
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            call()
        times.append((time.perf_counter() - start) / number)
    return min(times) * 1e6


def optimizer_case(make):
    model = gn.Sequential([gn.Dense(256, "relu"), gn.Dense(128, "relu"), gn.Dense(10, "softmax")])
    model.build((784,), rng=0)
    fast.prepare(model)
    for _, _, g in model.slots():
        g[...] = np.random.default_rng(1).standard_normal(g.shape) * 1e-3
    opt, slots = make(), model.slots()
    return lambda: opt.step(slots)


def layer_case(layer, shape, channel_major=True):
    """forward then backward of ``layer`` on a float32 batch (channel-major images, as a
    Conv2D leaves them)."""
    rng = np.random.default_rng(0)
    layer.build(shape[1:], rng, np.float32)
    if channel_major and len(shape) == 4:
        n, c, h, w = shape
        x = batch_first(rng.standard_normal((c, h, w, n), dtype=np.float32))
    else:
        x = rng.standard_normal(shape, dtype=np.float32)
    g = np.ascontiguousarray(rng.standard_normal(layer.forward(x).shape, dtype=np.float32))

    def call():
        layer.forward(x, training=True)
        layer.backward(g)

    return call


def relu_case(shape):
    """ReLU's backward alone, at a conv layer's (channel-major) or a Dense layer's shape."""
    rng = np.random.default_rng(0)
    relu = gn.ReLU()
    z = rng.standard_normal(shape[1:] + shape[:1], dtype=np.float32)
    relu.z = np.moveaxis(z, -1, 0)
    g = np.ones_like(relu.z)
    return lambda: relu.backward(g)


def conv_case(shape, filters):
    """Conv2D's backward (col2im and its two products) on channel-major input."""
    from glassnet.fast.conv import ReusedArrays

    conv = gn.Conv2D(filters, 3, padding="same")
    rng = np.random.default_rng(0)
    conv.build(shape[1:], rng, np.float32)
    conv.work = ReusedArrays()
    n, c, h, w = shape
    x = batch_first(rng.standard_normal((c, h, w, n), dtype=np.float32))
    g = np.ones_like(conv.forward(x, training=True))
    return lambda: conv.backward(g)


CASES = {
    "SGD step, 235,146 params": lambda: optimizer_case(lambda: gn.SGD(0.01)),
    "SGD momentum step": lambda: optimizer_case(lambda: gn.SGD(0.01, momentum=0.9)),
    "Adam step": lambda: optimizer_case(lambda: gn.Adam(1e-3)),
    "AdamW step": lambda: optimizer_case(lambda: gn.AdamW(1e-3)),
    "MaxPool2D(2) 64x16x28x28": lambda: layer_case(gn.MaxPool2D(2), (64, 16, 28, 28)),
    "MaxPool2D(2) 64x32x14x14": lambda: layer_case(gn.MaxPool2D(2), (64, 32, 14, 14)),
    "MaxPool2D(3, 2) 64x16x28x28": lambda: layer_case(gn.MaxPool2D(3, 2), (64, 16, 28, 28)),
    "ReLU backward 64x16x28x28": lambda: relu_case((64, 16, 28, 28)),
    "ReLU backward 128x256 (NumPy: < MIN_SIZE)": lambda: relu_case((128, 256)),
    "Conv2D(32, 3, same) backward 64x16x14x14": lambda: conv_case((64, 16, 14, 14), 32),
    "AveragePooling2D(2) 64x16x28x28": lambda: layer_case(gn.AveragePooling2D(2), (64, 16, 28, 28)),
}


def kernels_table(repeat: int, number: int) -> None:
    print(f"{'kernel (forward + backward for layers)':40s} {'numpy':>10s} {'compiled':>10s}  ratio")
    for name, make in CASES.items():
        call = make()
        compiled = best_us(call, repeat, number)
        with fast.numpy_only():
            numpy = best_us(call, repeat, number)
        print(f"{name:40s} {numpy:8.1f}us {compiled:8.1f}us  {numpy / compiled:5.2f}x")


def epochs_table(repeat: int) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import peers

    X, y = peers.make_data(60_000)
    runs = {
        "MLP epoch, SGD": lambda: peers.glassnet_mlp(X, y, peers.MLPSpec(), "sgd"),
        "MLP epoch, Adam": lambda: peers.glassnet_mlp(X, y, peers.MLPSpec(), "adam"),
        "CNN epoch, 10k, SGD": lambda: peers.glassnet_cnn(
            peers.as_images(X[:10_000]), y[:10_000], "sgd", 64
        ),
    }
    print(f"\n{'epoch':40s} {'numpy':>10s} {'compiled':>10s}  ratio")
    for name, make in runs.items():
        trainer = make()
        compiled = best_us(trainer.epoch, repeat, 1) / 1e6
        with fast.numpy_only():
            numpy = best_us(trainer.epoch, repeat, 1) / 1e6
        print(f"{name:40s} {numpy:9.3f}s {compiled:9.3f}s  {numpy / compiled:5.2f}x")


def fresh_python(code: str, env: dict) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), **env}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)
    return done.stdout.strip()


def compile_table() -> None:
    warm = (
        "import time; t = time.perf_counter(); from glassnet.fast import compiled; "
        "r = compiled.warm_up('float32'); print(f'{time.perf_counter() - t:.2f}', "
        "' '.join(f'{k}={v:.2f}' for k, v in r.items()))"
    )
    with tempfile.TemporaryDirectory() as cache:
        for label in ("empty cache", "cache filled"):
            total, *each = fresh_python(warm, {"NUMBA_CACHE_DIR": cache}).split()
            print(f"\nwarm_up float32, {label}: {total} s in all; seconds per kernel:")
            print("  " + "\n  ".join(each))
    timed = "import time; t = time.perf_counter(); import glassnet; print(time.perf_counter() - t)"
    for label, env in (("", {}), (" (GLASSNET_NUMBA=0)", {"GLASSNET_NUMBA": "0"})):
        best = min(float(fresh_python(timed, env)) for _ in range(5))
        print(f"import glassnet{label}: {best * 1e3:.0f} ms (best of 5)")
    numba = "import time; t = time.perf_counter(); import numba; print(time.perf_counter() - t)"
    print(f"import numba (paid on first use): {float(fresh_python(numba, {})) * 1e3:.0f} ms")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--number", type=int, default=50, help="calls per round")
    parser.add_argument("--epochs", action="store_true")
    parser.add_argument("--compile", action="store_true")
    args = parser.parse_args(argv)
    if not fast.compiled_available():
        raise SystemExit("numba is not installed: pip install 'glassnet[fast]'")
    kernels_table(args.repeat, args.number)
    if args.epochs:
        epochs_table(args.repeat)
    if args.compile:
        compile_table()
    return 0


if __name__ == "__main__":
    sys.exit(main())
