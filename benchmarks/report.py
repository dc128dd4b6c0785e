"""What the benchmark prints: the machine, the tables, the speed targets.

Everything is rendered twice from the same rows: as aligned plain text (stdout) and as
Markdown (``--markdown FILE``).
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import time
from dataclasses import dataclass, field

import numpy as np

OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass
class Entry:
    """One implementation's measurements in one workload (seconds), or why there are none."""

    key: str
    name: str
    times: list[float] = field(default_factory=list)
    note: str = ""  # the reason it was skipped, or the error it raised
    failed: bool = False  # True when it raised (the run then exits non-zero)

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None


@dataclass
class Workload:
    """A row group of the timing table: the same work done by every implementation."""

    title: str
    unit: str  # "s", "ms" or "us": how medians are shown
    entries: list[Entry]
    detail: str = ""  # data size, batch, optimizer...

    def median(self, key: str) -> float | None:
        entry = next((e for e in self.entries if e.key == key), None)
        return entry.median if entry else None


@dataclass
class Results:
    """Everything one run measured."""

    command: str
    repeats: int
    quick: bool
    gemm: dict | None = None  # large-GEMM rate and the epoch's FLOPs
    workloads: list[Workload] = field(default_factory=list)
    memory: list[dict] = field(default_factory=list)
    scaling: list[Entry] = field(default_factory=list)  # one entry per sample count
    scaling_sizes: tuple[int, ...] = ()
    compile: dict = field(default_factory=dict)  # the kernels' compile seconds (run.compile_time)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        entries = [e for w in self.workloads for e in w.entries] + self.scaling
        return any(e.failed for e in entries) or any(m.get("failed") for m in self.memory)

    def workload(self, title_start: str) -> Workload | None:
        return next((w for w in self.workloads if w.title.startswith(title_start)), None)


# --------------------------------------------------------------------------------------------
# The machine
# --------------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_total() -> str:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def version_of(module: str) -> str:
    try:
        return __import__(module).__version__
    except Exception:  # noqa: BLE001 - missing or broken: either way, not used
        return "not installed"


def numpy_blas() -> str:
    """The BLAS NumPy was built with, from its own build record."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"NumPy's {blas['name']} {blas.get('version', '')}".rstrip()
    except Exception:  # noqa: BLE001 - older NumPy: no machine-readable config
        return "NumPy's BLAS (unknown)"


def blas_description() -> list[str]:
    """Every BLAS / OpenMP pool loaded in this process: library, version, kernel, threads.

    Called at the end of a run, so that the pools of torch and scikit-learn are loaded too.
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [numpy_blas() + " (threads and kernel unknown: pip install threadpoolctl)"]
    lines = []
    for pool in threadpool_info():
        kernel = f", kernel {pool['architecture']}" if pool.get("architecture") else ""
        lines.append(
            f"{pool['internal_api']} {pool.get('version') or ''} "
            f"({pool['user_api']}{kernel}), {pool['num_threads']} thread(s), "
            f"{os.path.basename(pool['filepath'])}"
        )
    return lines


def machine_lines(cores: int, load: LoadMonitor | None = None) -> list[str]:
    import sys

    lines = [
        f"CPU: {cpu_model()}, {cores} cores for this process ({os.cpu_count()} online), "
        f"memory {memory_total()}",
        f"Python {sys.version.split()[0]}, numpy {np.__version__}, "
        f"glassnet {version_of('glassnet')}, torch {version_of('torch')}, "
        f"scikit-learn {version_of('sklearn')}",
    ]
    lines += [f"BLAS: {line}" for line in blas_description()]
    torch = sys.modules.get("torch")  # described only if the run imported it
    if torch is not None:
        blas = "MKL" if torch.backends.mkl.is_available() else "its own BLAS"
        lines.append(
            f"PyTorch: {torch.get_num_threads()} thread(s), {blas}, "
            f"oneDNN {'on' if torch.backends.mkldnn.is_available() else 'off'}"
        )
    set_vars = [f"{v}={os.environ[v]}" for v in OPENBLAS_VARS if v in os.environ]
    lines.append(
        "Environment: "
        + (
            ", ".join(set_vars) + " SET (numbers are not comparable)"
            if set_vars
            else "OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE unset"
        )
    )
    if load is not None:
        lines.append(load.describe(cores))
    lines.append(f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    return lines


class LoadMonitor:
    """How busy the machine was with *other* work while the benchmark ran.

    On a shared machine, another process on one of the two cores stalls every
    multi-threaded matrix product (each waits for its slowest thread), so the numbers are
    only as good as the machine was quiet. Compares the CPU time the whole machine spent
    (/proc/stat) with this process's and its children's (os.times), and reports the
    hypervisor's steal time too.
    """

    def __init__(self) -> None:
        self.start = self._sample()
        self.loadavg = os.getloadavg()[0] if hasattr(os, "getloadavg") else None

    def busy_warning(self, cores: int) -> str | None:
        """A warning if the machine is already busy as the benchmark starts."""
        if self.loadavg is None or self.loadavg < 0.5 * cores:
            return None
        return (
            f"WARNING: the machine is busy (load average {self.loadavg:.1f} on {cores} "
            f"cores): multi-threaded timings will be slow and noisy"
        )

    @staticmethod
    def _sample():
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:9]]
        except (OSError, ValueError):
            return None
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields
        t = os.times()
        own = t.user + t.system + t.children_user + t.children_system
        tick = os.sysconf("SC_CLK_TCK")
        return ((user + nice + system + irq + softirq) / tick, steal / tick, own, time.monotonic())

    def describe(self, cores: int) -> str:
        end = self._sample()
        if self.start is None or end is None:
            return "Background load: unknown (no /proc/stat)"
        busy, steal, own, wall = (b - a for a, b in zip(self.start, end, strict=True))
        capacity = max(wall * cores, 1e-9)
        others = max(busy - own, 0.0) / capacity
        start = "" if self.loadavg is None else f"load average {self.loadavg:.1f} at start; "
        return (
            f"Background load: {start}other processes used {others:.0%} of the "
            f"{cores} cores during the run, hypervisor steal {steal / capacity:.0%} "
            f"(both should be near 0% for trustworthy numbers)"
        )


def openblas_warning() -> str | None:
    """The warning to print when the OpenBLAS overrides are set (they slow numpy down)."""
    set_vars = [v for v in OPENBLAS_VARS if v in os.environ]
    if not set_vars:
        return None
    return (
        f"WARNING: {' and '.join(set_vars)} set: OpenBLAS may run a slower kernel, so "
        f"these numbers are not the machine's. Run: "
        f"env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/run.py"
    )


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------

UNITS = {"s": (1.0, "s"), "ms": (1e3, "ms"), "us": (1e6, "µs")}


def fmt_time(seconds: float | None, unit: str) -> str:
    if seconds is None:
        return "-"
    scale, label = UNITS[unit]
    value = seconds * scale
    digits = 3 if value < 10 else 2 if value < 100 else 1 if value < 1000 else 0
    return f"{value:.{digits}f} {label}"


def fmt_ratio(num: float | None, den: float | None) -> str:
    if num is None or den is None or den == 0:
        return "-"
    return f"{num / den:.2f}x"


def table(headers: list[str], rows: list[list[str]], markdown: bool) -> str:
    """A table as aligned plain text, or as Markdown."""
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
        lines += [
            "| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows
        ]
        return "\n".join(lines)
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]

    def line(cells):
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def timing_rows(results: Results) -> list[list[str]]:
    """One row per (workload, implementation): median, x the limit, x glassnet's time."""
    rows = []
    for w in results.workloads:
        limit, glassnet = w.median("limit"), w.median("glassnet")
        for e in w.entries:
            note = e.note or (
                f"n={len(e.times)}, min {fmt_time(min(e.times), w.unit)}"
                if len(e.times) > 1
                else ""
            )
            rows.append(
                [
                    w.title,
                    e.name,
                    fmt_time(e.median, w.unit),
                    fmt_ratio(e.median, limit),
                    fmt_ratio(e.median, glassnet),
                    note,
                ]
            )
    return rows


def memory_rows(results: Results) -> list[list[str]]:
    rows = []
    for m in results.memory:
        if "error" in m or "skipped" in m:
            rows.append([m["name"], "-", "-", "-", "-", m.get("error") or m["skipped"]])
            continue
        within = m["rss_extra_mb"] <= 100
        runtime = m.get("runtime_mb")
        rows.append(
            [
                m["name"]
                if runtime is None
                else f"{m['name']} (numba and its kernels, "
                f"loaded before: +{runtime:.0f} MB once per process)",
                f"{m['dataset_mb']:.0f} MB",
                f"{m['rss_extra_mb']:.0f} MB",
                "-" if m["traced_mb"] is None else f"{m['traced_mb']:.0f} MB",
                f"{m['dataset_mb'] + m['rss_extra_mb']:.0f} MB",
                "within dataset + 100 MB" if within else "over dataset + 100 MB",
            ]
        )
    return rows


def scaling_rows(results: Results) -> list[list[str]]:
    """Seconds per epoch at each size, and per 10,000 samples relative to the smallest size."""
    rows = []
    by_key: dict[str, list[Entry]] = {}
    for e in results.scaling:
        by_key.setdefault(e.key, []).append(e)
    for entries in by_key.values():
        base = None
        for n, e in zip(results.scaling_sizes, entries, strict=True):
            per_10k = None if e.median is None else e.median / n * 10_000
            base = base if base is not None else per_10k
            rows.append(
                [
                    e.name,
                    f"{n:,}",
                    fmt_time(e.median, "s"),
                    fmt_time(per_10k, "s"),
                    fmt_ratio(per_10k, base),
                    e.note,
                ]
            )
    return rows


# --------------------------------------------------------------------------------------------
# The speed targets (reported, never asserted)
# --------------------------------------------------------------------------------------------


def _needs(value: float, target: float, unit: str) -> str:
    """What meeting a target would take, from this run's numbers: e.g. ``needs 12% less``."""
    if value <= target:
        return f"{(1 - value / target):.0%} to spare" if target else ""
    return f"needs {1 - target / value:.0%} less ({unit} <= {target:.3g})"


def issue_targets(results: Results) -> list[tuple]:
    """The six targets of issue 16, as ``(target, value, bound, unit, measured text)``; a
    target whose numbers were not measured in this run is left out."""
    w = results.workload
    sgd, adam, cnn = w("MLP, SGD"), w("MLP, Adam"), w("CNN")
    small = w("predict 1 row, small net")
    big = next((x for x in results.workloads if x.title == "predict 1 row"), None)
    bulk = next((x for x in results.workloads if x.title.startswith("predict 10,000")), None)
    bulk = bulk or next((x for x in results.workloads if x.title.endswith(" rows")), None)
    rows = []

    def add(target, workload, key, bound_key, factor, unit, scale, describe):
        if workload is None:
            return
        value, other = workload.median(key), (bound_key(workload) if bound_key else None)
        if value is None or other is None:
            return
        bound = factor * other
        rows.append((target, value * scale, bound * scale, unit, describe(value, other)))

    limit = (lambda _: sgd.median("limit")) if sgd else None
    add(
        "MLP SGD epoch <= 1.35x the limit",
        sgd,
        "glassnet",
        limit,
        1.35,
        "s",
        1,
        lambda v, o: f"{v:.3f} s = {v / o:.2f}x the limit",
    )
    if sgd and adam:
        add(
            "Adam epoch <= 1.15x glassnet's SGD epoch",
            adam,
            "glassnet",
            lambda _: sgd.median("glassnet"),
            1.15,
            "s",
            1,
            lambda v, o: f"{v:.3f} s = {v / o:.2f}x SGD",
        )
    add(
        "CNN epoch <= 0.9x PyTorch's",
        cnn,
        "glassnet",
        lambda x: x.median("torch"),
        0.9,
        "s",
        1,
        lambda v, o: f"{v:.3f} s = {v / o:.2f}x PyTorch",
    )
    for name, work in (("MNIST MLP", big), ("small net", small)):
        add(
            f"predict 1 row, {name}, <= 1.2x the NumPy loop",
            work,
            "glassnet",
            lambda x: x.median("numpy"),
            1.2,
            "µs",
            1e6,
            lambda v, o: f"{v * 1e6:.1f} µs = {v / o:.2f}x NumPy",
        )
    add(
        "predict 10,000 rows <= PyTorch's time",
        bulk,
        "glassnet",
        lambda x: x.median("torch"),
        1.0,
        "ms",
        1e3,
        lambda v, o: f"{v * 1e3:.1f} ms = {v / o:.2f}x PyTorch",
    )
    return rows  # fmt: skip


def target_rows(results: Results) -> list[list[str]]:
    """One row per target of issue 16 (glassnet-numba's time; glassnet-numpy's beside it in
    the timing table): what was measured, whether it is met, and what meeting it would take
    in this run. A target below 1.0x the limit would ask for less time than the matrix
    products alone take. Then the memory and linear-time checks of the first speed issue."""
    rows = []

    def status(ok):
        return "not judged (--quick)" if results.quick else ("met" if ok else "NOT met")

    for target, value, bound, unit, text in issue_targets(results):
        rows.append([target, text, status(value <= bound), _needs(value, bound, unit)])
    for m in results.memory:
        if m["key"] == "glassnet" and "rss_extra_mb" in m:
            ok = m["rss_extra_mb"] <= 100
            runtime = m.get("runtime_mb")
            value = f"+{m['rss_extra_mb']:.0f} MB" + (
                "" if runtime is None else f" (numba's runtime: +{runtime:.0f} MB once)"
            )
            rows.append(["fit peak memory <= dataset + 100 MB", value, status(ok), ""])
    scaled = [e for e in results.scaling if e.key == "glassnet"]
    if len(scaled) > 1 and all(e.median for e in scaled):
        n0, n1 = results.scaling_sizes[0], results.scaling_sizes[-1]
        r = (scaled[-1].median / n1) / (scaled[0].median / n0)
        rows.append(["time linear in samples (per-sample time, largest / smallest <= 1.2)",
                     f"{r:.2f}x", status(r <= 1.2), ""])  # fmt: skip
    return rows


def compile_lines(results: Results) -> list[str]:
    """The compiled kernels' first-use cost, from :func:`run.compile_time`."""
    c = results.compile
    if not c:
        return []
    if "error" in c:
        return [c["error"]]
    lines = []
    for name, run in c.items():
        if run.get("report") is None:
            return ["numba is not installed: no kernel to compile (glassnet-numba = numpy)"]
        total = sum(run["report"].values())
        lines.append(
            f"{name}: {total:.2f} s compiling {len(run['report'])} kernels "
            f"({run['wall']:.2f} s for import + warm_up in a fresh process)"
        )
    worst = max(c["empty cache"]["report"].items(), key=lambda kv: kv[1])
    lines.append(f"slowest to compile: {worst[0]} ({worst[1]:.2f} s)")
    return lines


# --------------------------------------------------------------------------------------------
# The whole report
# --------------------------------------------------------------------------------------------


def gemm_lines(results: Results) -> list[str]:
    g = results.gemm
    if not g:
        return []
    lines = [
        f"float32 GEMM rate: {g['gflops']:.1f} GFLOP/s (median, "
        f"({g['n']}x{g['n']}) @ ({g['n']}x{g['n']}))"
    ]
    if g.get("epoch_gflop"):
        at_rate = g["epoch_gflop"] / g["gflops"]
        lines.append(
            f"MLP epoch: {g['epoch_gflop']:.1f} GFLOP of matrix products = "
            f"{at_rate:.3f} s at that rate"
        )
    if g.get("limit_s"):
        lines.append(
            f"the limit (those products timed at their real shapes, batch "
            f"{g['batch']}): {g['limit_s']:.3f} s = "
            f"{g['epoch_gflop'] / g['limit_s']:.1f} GFLOP/s"
        )
    return lines


def render(results: Results, machine: list[str], markdown: bool) -> str:
    """The full report as plain text or Markdown."""

    def heading(text):
        return f"## {text}" if markdown else f"{text}\n{'=' * len(text)}"

    def bullets(lines):
        return "\n".join(f"- {line}" if markdown else f"  {line}" for line in lines)

    title = "glassnet benchmark" + (
        " (--quick: checks the script, not the speed)" if results.quick else ""
    )
    parts = [
        f"# {title}" if markdown else title,
        ("Command: `" + results.command + "`") if markdown else "Command: " + results.command,
        heading("Machine"),
        bullets(machine),
    ]
    if results.gemm:
        parts += [heading("The limit"), bullets(gemm_lines(results))]
    if results.workloads:
        parts += [
            heading(
                f"Time (median of {results.repeats} runs after a warm-up; "
                f"x limit = time / limit, x glassnet = time / glassnet's time)"
            ),
            bullets([f"{w.title}: {w.detail}" for w in results.workloads if w.detail]),
            table(
                ["workload", "implementation", "median", "x limit", "x glassnet", "note"],
                timing_rows(results),
                markdown,
            ),
        ]
    if results.memory:
        parts += [
            heading("Peak memory of fit (one epoch from a fresh model, fresh process)"),
            table(
                [
                    "implementation",
                    "dataset",
                    "peak RSS growth",
                    "NumPy allocations",
                    "peak total",
                    "target",
                ],
                memory_rows(results),
                markdown,
            ),
        ]
    if results.compile:
        parts += [
            heading("Compile time of the kernels (fresh process, empty NUMBA_CACHE_DIR)"),
            bullets(compile_lines(results)),
        ]
    if results.scaling:
        parts += [
            heading("Scaling: one SGD epoch of the MLP at growing sample counts"),
            table(
                ["implementation", "samples", "epoch", "per 10k samples", "vs smallest", "note"],
                scaling_rows(results),
                markdown,
            ),
        ]
    targets = target_rows(results)
    if targets:
        parts += [
            heading("Speed targets (reported, not asserted)"),
            table(
                ["target", "measured", "status", "meeting it needs (this run)"],
                targets,
                markdown,
            ),
        ]
    if results.notes:
        parts += [heading("Notes"), bullets(results.notes)]
    return "\n\n".join(parts) + "\n"
