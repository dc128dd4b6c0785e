"""The benchmark harness (benchmarks/run.py) must keep working: run its --quick mode.

This checks that the script runs every workload end to end and prints its table; it never
checks a timing (how fast this machine is has no place in a unit test). PyTorch and
scikit-learn are optional peers: the script skips them, saying so, when they are missing.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_benchmark_runs_and_reports(tmp_path):
    markdown = tmp_path / "bench.md"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--quick",
            "--markdown",
            str(markdown),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = done.stdout
    assert "glassnet" in table
    assert "limit" in table
    for workload in (
        "MLP, SGD",
        "MLP, Adam",
        "CNN",
        "predict 1 row",
        "Peak memory",
        "Scaling",
        "GFLOP/s",
    ):
        assert workload in table, workload
    report = markdown.read_text(encoding="utf-8")
    assert "| workload | implementation |" in report
    assert "glassnet" in report and "Command:" in report and "BLAS" in report
    assert "meeting it needs" in report and "x the limit" in report


def test_optimizer_step_script_runs():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "optimizer_step.py"), "--steps", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "glassnet SGD step" in done.stdout and "glassnet Adam step" in done.stdout
    assert "more per epoch" in done.stdout
