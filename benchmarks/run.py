"""Side-by-side speed of glassnet against the hardware limit, a NumPy loop, PyTorch, scikit-learn.

One run measures, on the same synthetic MNIST-shaped float32 data
(60,000 x 784, 10 classes, from a fixed seed; no download):

- the limit: the float32 GEMM rate, and the time of exactly the matrix products one MLP epoch
  needs (784-256-128-10, batch 128);
- (a) one epoch of that MLP with SGD and with Adam: the limit, a minimal hand-vectorised NumPy
  loop, glassnet, PyTorch CPU, scikit-learn's MLPClassifier in float32 and float64;
- (b) one epoch of a small CNN, batch 64, on the first 10,000 samples as 1x28x28 images;
- (c) prediction: latency for one row (median of many calls) and time for 10,000 rows;
- (d) peak memory of ``fit`` on 60,000 samples, each in a fresh subprocess (glassnet-numba with
  numba and its kernels loaded first, their memory reported beside it);
- (e) scaling: one epoch at 10,000, 30,000 and 60,000 samples.

It prints medians over repeated runs (after one warm-up epoch that is not timed) with
ratios to the limit and to glassnet, then the speed targets (reported, never asserted).
PyTorch and scikit-learn are optional: a peer that is not installed is skipped, saying so.

How to run, from the repository root, for numbers worth publishing::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/run.py --markdown bench.md

On some processors this workplace sets OPENBLAS_CORETYPE (and OPENBLAS_L2_SIZE) so that old
OpenBLAS builds run safely; they make a current numpy pick a slower kernel, so unset both in
the benchmark's command (and only there: never in tests or CI). The script warns when they
are set, and the report names the BLAS kernel actually used. The full run takes a few
minutes on 2 cores; ``--quick`` runs every workload on tiny data in seconds, to check the
script works (the test suite does that), not to measure speed.

Options: ``--repeats N`` timed runs per measurement (default 5; 1 with --quick);
``--threads N`` threads for every library (default: every core; on a machine busy with
other work, ``--threads 1`` gives steadier ratios than a multi-threaded run);
``--only WORKLOAD`` (repeatable: mlp, cnn, predict, memory, scaling);
``--markdown FILE`` also writes the report as Markdown, with the machine and the command.

The glassnet measured is this working tree's (``src/`` is put first on ``sys.path``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shlex
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import peers
from peers import NAMES, MLPSpec, Unavailable
from report import (
    OPENBLAS_VARS,
    Entry,
    LoadMonitor,
    Results,
    Workload,
    machine_lines,
    openblas_warning,
    render,
)

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = ("mlp", "cnn", "predict", "memory", "scaling", "compile")
MB = 1e6


@dataclass(frozen=True)
class Config:
    """Sizes of one run: the published run's by default; :data:`QUICK` only checks the script."""

    n_samples: int = 60_000
    cnn_samples: int = 10_000
    cnn_batch: int = 64
    predict_rows: int = 10_000
    latency_calls: int = 2_000
    memory_samples: int = 60_000
    scaling_sizes: tuple[int, ...] = (10_000, 30_000, 60_000)
    gemm_size: int = 2048
    repeats: int = 5
    quick: bool = False


QUICK = Config(
    n_samples=512,
    cnn_samples=128,
    predict_rows=128,
    latency_calls=10,
    memory_samples=512,
    scaling_sizes=(128, 256, 512),
    gemm_size=256,
    repeats=1,
    quick=True,
)


START = time.perf_counter()


def progress(message: str) -> None:
    """Progress goes to stderr (with the time since start), so stdout holds only the report."""
    print(f"[{time.perf_counter() - START:6.1f} s] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Running one implementation safely
# --------------------------------------------------------------------------------------------


def attempt(entry: Entry, fn, *args):
    """``fn(*args)``, or None after recording on ``entry`` why it could not run.

    :class:`Unavailable` (a peer not installed) is a skip; any other exception is a failure,
    reported in the table and in the exit status, but the other measurements go on.
    """
    try:
        return fn(*args)
    except Unavailable as exc:
        entry.note = f"skipped: {exc}"
    except Exception as exc:  # noqa: BLE001 - report it, keep measuring the others
        entry.note = f"FAILED: {type(exc).__name__}: {exc}"
        entry.failed = True
        entry.times.clear()
    return None


def warmed_up(entry: Entry, trainer) -> bool:
    """Run one untimed epoch; False (with the reason on ``entry``) if it raised."""
    attempt(entry, trainer.epoch)
    return not entry.note


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def settle(cfg: Config) -> None:
    """Pause briefly between implementations: BLAS and OpenMP worker threads keep spinning
    for a moment after their last call, and would otherwise steal a core from the next."""
    if not cfg.quick:
        time.sleep(0.2)


def time_epochs(factories: dict, cfg: Config) -> list[Entry]:
    """Build every trainer, run one untimed warm-up epoch each (first-call costs: building
    the model, allocating buffers, loading kernels), then time ``cfg.repeats`` epochs of
    each, taking the implementations in turn so that a slow spell of the machine hits all
    alike."""
    entries, trainers = [], {}
    for key, factory in factories.items():
        entry = Entry(key, NAMES[key])
        entries.append(entry)
        progress(f"  {entry.name}: building and warming up")
        trainer = attempt(entry, factory)
        if trainer is not None and warmed_up(entry, trainer):
            trainers[key] = trainer
    for r in range(cfg.repeats):
        progress(f"  timing run {r + 1}/{cfg.repeats}")
        for entry in entries:
            if entry.key in trainers and not entry.failed:
                settle(cfg)
                seconds = attempt(entry, timed, trainers[entry.key].epoch)
                if seconds is not None:
                    entry.times.append(seconds)
    return entries


# --------------------------------------------------------------------------------------------
# The workloads
# --------------------------------------------------------------------------------------------


def measure_gemm(cfg: Config, n_samples: int) -> dict:
    """The float32 GEMM rate of a large square product, and the FLOPs of an MLP epoch."""
    progress(
        f"GEMM rate: ({cfg.gemm_size}, {cfg.gemm_size}) @ ({cfg.gemm_size}, "
        f"{cfg.gemm_size}) float32"
    )
    n = cfg.gemm_size
    seconds = float(np.median(peers.time_large_gemm(n, max(cfg.repeats, 3))))
    spec = MLPSpec()
    return {
        "n": n,
        "gflops": 2 * n**3 / seconds / 1e9,
        "batch": spec.batch_size,
        "epoch_gflop": peers.epoch_gemm_flops(n_samples, spec.sizes) / 1e9,
    }


def mlp_workload(X, y, optimizer: str, cfg: Config) -> Workload:
    """(a) One epoch of the 784-256-128-10 MLP, every implementation, one optimizer."""
    spec = MLPSpec()
    label = {"sgd": "SGD", "adam": "Adam"}[optimizer]
    progress(f"MLP, {label}: {len(X):,} samples, batch {spec.batch_size}")
    factories = {"limit": lambda: peers.GemmLimit(X, spec)}
    for key, make in peers.MLP_TRAINERS.items():
        factories[key] = lambda make=make: make(X, y, spec, optimizer)
    return Workload(
        f"MLP, {label}",
        "s",
        time_epochs(factories, cfg),
        f"one epoch of 784-256-128-10 ReLU + softmax/cross-entropy, {len(X):,} x 784 "
        f"float32, batch {spec.batch_size}, {label} lr {peers.LEARNING_RATE[optimizer]}",
    )


def cnn_workload(X, y, cfg: Config) -> Workload:
    """(b) One epoch of the small CNN on the first ``cfg.cnn_samples`` rows as images."""
    n = min(cfg.cnn_samples, len(X))
    images, labels = peers.as_images(X[:n]), y[:n]
    progress(f"CNN: {n:,} images, batch {cfg.cnn_batch}")
    factories = {
        key: (lambda make=make: make(images, labels, "sgd", cfg.cnn_batch))
        for key, make in peers.CNN_TRAINERS.items()
    }
    return Workload(
        "CNN, SGD",
        "s",
        time_epochs(factories, cfg),
        f"one epoch of conv(16,3x3,same)-relu-maxpool2-conv(32,3x3,same)-relu-maxpool2-"
        f"flatten-dense(10), {n:,} samples of 1x28x28 (fewer than the MLP's, to keep the run "
        f"short), batch {cfg.cnn_batch}, SGD lr 0.01",
    )


def predict_workloads(X, y, cfg: Config) -> list[Workload]:
    """(c) Prediction: one-row latency and bulk time for the MNIST MLP, and the one-row
    latency of a small tabular network (10 features, 32-32 ReLU, 3 classes), which is what
    the "< 50 µs for a small network" target is about."""
    big = _predict_workloads(X, y, cfg, MLPSpec(), "")
    small_spec = MLPSpec(n_features=10, hidden=(32, 32), n_classes=3)
    small = _predict_workloads(
        np.ascontiguousarray(X[:, :10]),
        y % 3,
        cfg,
        small_spec,
        ", small net 10-32-32-3",
        bulk=False,
    )
    return big + small


def _predict_workloads(X, y, cfg: Config, spec, label, bulk=True) -> list[Workload]:
    """Latency of one row, and time for ``predict_rows`` rows, for the network ``spec``.

    Each model is built and trained for one epoch on 2,048 rows first (the arithmetic of
    prediction does not depend on how well trained the weights are). Every call starts and
    ends in NumPy: PyTorch's time includes ``from_numpy``/``.numpy()`` and a softmax, and
    scikit-learn's is ``predict_proba``, so all return the same class probabilities.
    """
    progress(f"prediction{label}: building the models")
    small_X, small_y = X[:2048], y[:2048]
    models, latency, bulk_entries = {}, [], []
    for key, make in peers.MLP_TRAINERS.items():
        one, many = Entry(key, NAMES[key]), Entry(key, NAMES[key])
        latency.append(one)
        bulk_entries.append(many)
        trainer = attempt(one, make, small_X, small_y, spec, "sgd")
        if trainer is not None and warmed_up(one, trainer):
            models[key] = trainer
        many.note, many.failed = one.note, one.failed

    row, rows = X[:1], X[: cfg.predict_rows]
    for entry, many in zip(latency, bulk_entries, strict=True):
        if entry.key not in models:
            continue
        predict = models[entry.key].predict
        progress(
            f"  {entry.name}: {cfg.latency_calls} one-row calls, {cfg.repeats} x {len(rows):,} rows"
        )
        for _ in range(max(10, cfg.latency_calls // 20)):  # warm-up
            attempt(entry, predict, row)
        for _ in range(cfg.latency_calls):
            seconds = attempt(entry, timed, predict, row)
            if seconds is None:
                break
            entry.times.append(seconds)
        attempt(many, predict, rows)  # warm-up
        for _ in range(cfg.repeats if bulk else 0):
            seconds = attempt(many, timed, predict, rows)
            if seconds is None:
                break
            many.times.append(seconds)
        if entry.times:
            entry.note = f"median of {len(entry.times)} calls"
        if many.times:
            many.note = f"{len(rows) / many.median:,.0f} rows/s"
    workloads = [
        Workload(
            f"predict 1 row{label}",
            "us",
            latency,
            "latency of predict(X[:1]) (predict_proba for scikit-learn), median of "
            f"{cfg.latency_calls} calls",
        ),
    ]
    if bulk:
        workloads.append(
            Workload(
                f"predict {len(rows):,} rows",
                "ms",
                bulk_entries,
                f"throughput: one predict call on {len(rows):,} rows",
            )
        )
    return workloads


COMPILE_CHILD = (
    "import json, time; start = time.perf_counter(); "
    "from glassnet.fast.compiled import available, warm_up; "
    "report = warm_up('float32') if available() else None; "
    "print(json.dumps({'report': report, 'wall': time.perf_counter() - start}))"
)


def compile_time() -> dict:
    """The compiled kernels' cost on first use: every kernel compiled for float32 in a fresh
    process with an empty ``NUMBA_CACHE_DIR`` (nothing cached), then once more from that
    cache (what every later process pays). ``glassnet.fast.compiled.warm_up`` compiles them
    and ``compile_report`` gives the seconds per kernel."""
    import tempfile

    result = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(ROOT / "src")}
        for run_name in ("empty cache", "cached"):
            progress(f"compile time: warm_up() in a fresh process, {run_name}")
            done = subprocess.run(
                [sys.executable, "-c", COMPILE_CHILD],
                capture_output=True, text=True, env=env, timeout=1200, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
                return {"error": f"FAILED: {tail}"}
            result[run_name] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def scaling_entries(X, y, cfg: Config) -> list[Entry]:
    """(e) One SGD epoch of the MLP at each of ``cfg.scaling_sizes`` samples: the time should
    grow linearly (constant time per sample). The NumPy loop is the baseline."""
    spec, entries = MLPSpec(), []
    for key in ("glassnet", "glassnet_numpy", "numpy"):
        for n in cfg.scaling_sizes:
            progress(f"scaling: {NAMES[key]}, {n:,} samples")
            make = peers.MLP_TRAINERS[key]
            factories = {key: lambda make=make, n=n: make(X[:n], y[:n], spec, "sgd")}
            entries += time_epochs(factories, cfg)
    return entries


# --------------------------------------------------------------------------------------------
# (d) Peak memory, each implementation in a fresh process
# --------------------------------------------------------------------------------------------

MEMORY_PEERS = ("glassnet", "glassnet_numpy", "numpy", "torch", "sklearn32")
# --quick: the code path, without slow imports
QUICK_MEMORY_PEERS = ("glassnet", "glassnet_numpy", "numpy")


def _status_bytes(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise OSError(f"no {field} in /proc/self/status")


def fit_memory(key: str, n_samples: int) -> dict:
    """Run in a fresh process: make the data, build the model, then measure one ``fit``
    epoch's peak resident memory above what the process held just before it.

    The peak is read from the kernel (VmHWM, reset just before ``fit`` through
    /proc/self/clear_refs), so it counts every allocation: NumPy's, PyTorch's, BLAS
    buffers. tracemalloc adds the peak of NumPy's (and Python's) own allocations during fit;
    it cannot see PyTorch's allocator, so that column is left empty for PyTorch.
    """
    X, y = peers.make_data(n_samples)
    trainer = peers.MLP_TRAINERS[key](X, y, MLPSpec(), "sgd")
    runtime = numba_runtime_mb() if key == "glassnet" else None
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM (the peak RSS) to the current RSS
    before = _status_bytes("VmRSS")
    tracemalloc.start()
    seconds = timed(trainer.epoch)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    peak = _status_bytes("VmHWM")
    return {
        "dataset_mb": (X.nbytes + y.nbytes) / MB,
        "rss_extra_mb": (peak - before) / MB,
        "traced_mb": None if key == "torch" else traced / MB,
        "seconds": seconds,
        "runtime_mb": runtime,
    }


def numba_runtime_mb() -> float | None:
    """Load numba and glassnet's compiled kernels now (from the disk cache, as every run
    after the first does) and return the resident memory that took: paid once per process,
    whatever the data, so it is reported beside fit's peak rather than inside it (about
    80 MB of it is ``import numba`` alone)."""
    from glassnet.fast import compiled

    if not compiled.available():
        return None
    before = _status_bytes("VmRSS")
    compiled.warm_up("float32")
    return (_status_bytes("VmRSS") - before) / MB


def memory_results(cfg: Config) -> list[dict]:
    """Run :func:`fit_memory` for every peer, each in its own subprocess."""
    results = []
    for key in QUICK_MEMORY_PEERS if cfg.quick else MEMORY_PEERS:
        progress(f"memory: {NAMES[key]}, fit on {cfg.memory_samples:,} samples, fresh process")
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--memory-child",
            key,
            "--samples",
            str(cfg.memory_samples),
        ]
        row = {"key": key, "name": NAMES[key]}
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=1200, check=False
            )
        except subprocess.TimeoutExpired:
            row.update(error="FAILED: timed out", failed=True)
        else:
            if done.returncode == 0:
                row.update(json.loads(done.stdout.strip().splitlines()[-1]))
            else:
                tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
                row.update(error=f"FAILED: {tail}", failed=True)
        if "skipped" in row:
            row["skipped"] = f"skipped: {row['skipped']}"
        results.append(row)
    return results


def memory_child(key: str, n_samples: int) -> int:
    """The subprocess side of :func:`memory_results`: one JSON line on stdout."""
    try:
        result = fit_memory(key, n_samples)
    except Unavailable as exc:
        result = {"skipped": str(exc)}
    print(json.dumps(result))
    return 0


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------


def command_line() -> str:
    """The command that reproduces this run of the script being run (run.py, or a benchmark
    that imports this), with the OpenBLAS overrides unset if they were."""
    args = [
        "python",
        sys.argv[0] if os.path.isabs(sys.argv[0]) else os.path.relpath(sys.argv[0]),
        *sys.argv[1:],
    ]
    prefix = (
        ""
        if any(v in os.environ for v in OPENBLAS_VARS)
        else "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "
    )
    return prefix + shlex.join(args)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="glassnet vs the GEMM limit, a NumPy loop, PyTorch CPU and scikit-learn.",
        epilog="For real numbers: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "
        "python benchmarks/run.py --markdown bench.md",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny data and 1 repeat: checks the script works (seconds)",
    )
    parser.add_argument(
        "--markdown", metavar="FILE", type=Path, help="also write the report as Markdown to FILE"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        metavar="N",
        help="timed runs per measurement (default 5, 1 with --quick)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="threads for every library (default: every core; 1 with --quick)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=WORKLOADS,
        metavar="WORKLOAD",
        help=f"run only this workload (repeatable): {', '.join(WORKLOADS)}",
    )
    parser.add_argument("--memory-child", choices=MEMORY_PEERS, help=argparse.SUPPRESS)
    parser.add_argument("--samples", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for option in ("repeats", "threads"):
        if getattr(args, option) is not None and getattr(args, option) < 1:
            parser.error(f"--{option} must be at least 1")
    return args


def limit_threads(n: int) -> None:
    """Run every library on ``n`` threads (--threads; --quick uses 1).

    On a busy machine a multi-threaded product waits for its descheduled threads, and
    timings swing by 10x; on one thread each the comparison between implementations still
    holds. (--quick checks the script, not the speed, so it takes one thread and stays fast.)
    """
    peers.THREADS = n  # PyTorch
    # Read by the BLAS and OpenMP libraries loaded from now on (scikit-learn's, PyTorch's)
    # and by the memory subprocesses.
    os.environ.update(OMP_NUM_THREADS=str(n), OPENBLAS_NUM_THREADS=str(n), MKL_NUM_THREADS=str(n))
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        progress(
            "WARNING: threadpoolctl is not installed, so NumPy's BLAS keeps its threads; "
            f"set OPENBLAS_NUM_THREADS={n} in the command instead"
        )
        return
    threadpool_limits(n)  # the pools already loaded (NumPy's OpenBLAS)


def use_working_tree() -> None:
    """Measure this checkout's glassnet, whether or not (or wherever) it is installed."""
    sys.path.insert(0, str(ROOT / "src"))


def run(cfg: Config, only: set[str]) -> Results:
    results = Results(command=command_line(), repeats=cfg.repeats, quick=cfg.quick)
    X, y = peers.make_data(cfg.n_samples)
    results.gemm = measure_gemm(cfg, len(X))
    if "mlp" in only:
        for optimizer in ("sgd", "adam"):
            results.workloads.append(mlp_workload(X, y, optimizer, cfg))
        sgd = results.workloads[0]
        results.gemm["limit_s"] = sgd.median("limit")
    if "cnn" in only:
        results.workloads.append(cnn_workload(X, y, cfg))
    if "predict" in only:
        results.workloads += predict_workloads(X, y, cfg)
    if "memory" in only:
        results.memory = memory_results(cfg)
    if "compile" in only:
        results.compile = compile_time()
    if "scaling" in only:
        sizes = tuple(n for n in cfg.scaling_sizes if n <= len(X))
        results.scaling, results.scaling_sizes = scaling_entries(X, y, cfg), sizes
    results.notes.append(
        "Data: synthetic MNIST-like float32 (per-class random strokes, 10% of pixels "
        "flipped, 10% of labels random; np.random.default_rng(0)); no download."
    )
    threads = f"{peers.THREADS} thread" + ("s" if peers.THREADS > 1 else "")
    results.notes.append(f"Every implementation runs on {threads}.")
    return results


def main(argv=None) -> int:
    args = parse_args(argv)
    use_working_tree()
    if args.memory_child:
        return memory_child(args.memory_child, args.samples or Config.memory_samples)
    warning = openblas_warning()
    if warning:
        progress(warning)
    cfg = QUICK if args.quick else Config()
    if args.repeats:
        cfg = Config(**{**cfg.__dict__, "repeats": args.repeats})
    if args.threads or cfg.quick:
        limit_threads(args.threads or 1)
    load = LoadMonitor()
    busy = load.busy_warning(peers.cpu_count())
    if busy:
        progress(busy)
    results = run(cfg, set(args.only or WORKLOADS))
    if warning:
        results.notes.insert(0, warning)
    machine = machine_lines(peers.cpu_count(), load)
    print(render(results, machine, markdown=False))
    if args.markdown:
        args.markdown.write_text(render(results, machine, markdown=True), encoding="utf-8")
        progress(f"Markdown report written to {args.markdown}")
    if results.failed:
        progress("Some measurements FAILED (see the table).")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
