"""The benchmark harness (benchmarks/run.py) must keep working: run its --quick mode.

This checks that the script runs every workload end to end and prints its table; it never
checks a timing (how fast this machine is has no place in a unit test). PyTorch and
scikit-learn are optional peers: the script skips them, saying so, when they are missing.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

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


# -- benchmarks/tabular.py: glassnet train's defaults against other learners on real tables ------
def _benchmark(name: str, filename: str):
    """The script ``benchmarks/filename`` imported as module ``name`` (beside the benchmarks'
    own modules, which it imports)."""
    import importlib.util

    if str(ROOT / "benchmarks") not in sys.path:
        sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / filename)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def _tabular_benchmark():
    return _benchmark("tabular_bench", "tabular.py")


def test_quick_tabular_benchmark_runs_every_method_on_the_same_splits(tmp_path):
    markdown = tmp_path / "tabular.md"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "tabular.py"),
            "--quick",
            "--markdown",
            markdown,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = markdown.read_text(encoding="utf-8")
    assert report in done.stdout
    assert "| table | rows | metric | glassnet | sklearn MLP | HistGB |" in report
    for row in (
        "| iris | 150 | accuracy |",
        "| penguins | 344 | accuracy |",
        "| diabetes | 442 | R² |",
    ):
        assert row in report, row
    assert "| **mean rank** |" in report
    assert "glassnet beats sklearn MLP on " in report and " of 3 tables." in report
    assert "Command: `python benchmarks/tabular.py --quick --markdown" in report


def test_mean_ranks_share_ties_and_wins_count_tables():
    bench = _tabular_benchmark()
    cell = bench.Cell
    results = {
        # a: 0.9 > b: 0.8 = c: 0.8 -> ranks 1, 2.5, 2.5
        "one": {"a": cell([0.9]), "b": cell([0.7, 0.9]), "c": cell([0.8])},
        # c: 0.5 > a: 0.4 > b: 0.3 -> ranks 2, 3, 1
        "two": {"a": cell([0.4]), "b": cell([0.3]), "c": cell([0.5])},
    }
    assert bench.mean_ranks(results, ["a", "b", "c"]) == {"a": 1.5, "b": 2.75, "c": 1.75}
    assert bench.wins(results, "a", "b") == (2, 2)
    assert bench.wins(results, "a", "c") == (1, 2)
    results["two"]["c"] = cell(skipped="pytabkit does not import")
    assert bench.mean_ranks(results, ["a", "b", "c"]) == {"a": 1.0, "b": 2.0}  # c is not ranked
    assert bench.wins(results, "a", "c") == (1, 1)


def test_a_table_whose_package_is_missing_is_skipped_saying_so():
    bench = _tabular_benchmark()

    def missing():
        raise bench.Unavailable("statsmodels is not installed")

    tables = [bench.Table("anes96", "classification", "vote", "statsmodels", missing)]
    results, rows, skipped = bench.run(tables, ["glassnet"], 1, 0, {}, True, progress=None)
    assert (results, rows, skipped) == ({}, {}, {"anes96": "statsmodels is not installed"})
    report = bench.markdown(results, rows, skipped, ["glassnet"], tables, 1, "cmd")
    assert "table anes96 skipped: statsmodels is not installed." in report


# -- benchmarks/time_to_accuracy.py: the race to 98 % / 99 % on full MNIST --------------------
MNIST = ROOT.parent / "shared" / "data" / "mnist"


def _time_to_accuracy():
    return _benchmark("time_to_accuracy", "time_to_accuracy.py")


def _run_time_to_accuracy(*args):
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "time_to_accuracy.py"), *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.skipif(not MNIST.is_dir(), reason=f"the MNIST files are not in {MNIST}")
def test_quick_time_to_accuracy_races_both_models_and_reports(tmp_path):
    markdown = tmp_path / "time.md"
    done = _run_time_to_accuracy("--quick", "--markdown", markdown)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = markdown.read_text(encoding="utf-8")
    assert report.strip() in done.stdout
    assert "| model | target | glassnet | PyTorch CPU | glassnet / PyTorch |" in report
    assert "| mlp | 70.0% |" in report and "| cnn | 50.0% |" in report
    assert "Command: `" in report and "time_to_accuracy.py --quick --markdown" in report
    assert "glassnet epoch  0.25  test accuracy" in done.stdout  # four checks per epoch


def test_time_to_accuracy_without_the_mnist_files_says_so_and_measures_nothing(tmp_path):
    done = _run_time_to_accuracy("--quick", "--data-dir", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"skipped: no MNIST files in {tmp_path} (pass --data-dir DIR)"


def test_the_race_reports_the_first_check_at_the_target_and_the_ratio():
    bench = _time_to_accuracy()
    ours = bench.Race("glassnet", 0.98, checks=[(1.0, 0.25, 0.97), (2.0, 0.5, 0.981), (3, 1, 0.99)])
    theirs = bench.Race("PyTorch", 0.98, checks=[(4.0, 0.5, 0.98)])
    assert ours.reached == (2.0, 0.5, 0.981) and ours.seconds == 2.0
    assert theirs.seconds == 4.0  # "first reaches": at the target counts
    short = bench.Race("PyTorch", 0.98, checks=[(1.0, 1.0, 0.95), (2.0, 2.0, 0.97)])
    assert short.reached is None
    lines = bench.table({"mlp": [ours, theirs], "cnn": [ours, short]})
    assert lines[2] == (
        "| mlp | 98.0% | **2.0 s** (epoch 0.50, 98.10%) | **4.0 s** (epoch 0.50, 98.00%) | 0.50x |"
    )
    assert lines[3].endswith("| not reached (best 97.00%) | - |")


def test_the_pytorch_twin_computes_what_the_glassnet_network_computes():
    torch = pytest.importorskip("torch")
    bench = _time_to_accuracy()
    x = np.random.default_rng(1).random((5, 1, 28, 28), dtype=np.float32)
    for name, spec in bench.SPECS.items():
        inputs = x.reshape(5, -1) if spec.flatten else x
        model = spec.build().build(inputs.shape[1:], rng=0)
        twin = bench.torch_twin(model, torch).eval()
        with torch.no_grad():
            theirs = torch.softmax(twin(torch.from_numpy(inputs)), dim=1).numpy()
        np.testing.assert_allclose(
            model.predict(inputs), theirs, rtol=1e-4, atol=1e-6, err_msg=name
        )
