"""Load thousands of mutated model files and count what happens.

    python benchmarks/fuzz_model_file.py [N]          (default N = 3000)

The mutations and the oracle are the fuzz test's (``tests/test_model_file_fuzz.py``): mutation
``i`` is kind ``i % 8`` of model ``(i // 8) % 2`` with ``random.Random(i)``, so every count
is reproducible and any case is replayed from its number. Prints the outcomes per kind —
``clean error`` (ModelFileError, one line), ``identical`` (loads, predicts exactly as the
original), ``silent wrong load``, ``other exception``, ``too slow`` (over 2 s), ``too much
memory`` (over 20 MB traced) — the slowest load and the largest traced peak, then up to ten
findings.
"""

from __future__ import annotations

import random
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import glassnet as gn  # noqa: E402
from test_model_file_fuzz import MUTATIONS, outcome, saved_models  # noqa: E402


def run(n: int) -> int:
    folder = Path(tempfile.mkdtemp(prefix="glassnet-fuzz-"))
    models = saved_models(folder)
    kinds, names = sorted(MUTATIONS), sorted(models)
    counts: dict[str, Counter] = {kind: Counter() for kind in kinds}
    findings, slowest, largest = [], 0.0, 0
    path = folder / "mutated.safetensors"
    for i in range(n):
        kind, name = kinds[i % len(kinds)], names[(i // len(kinds)) % len(names)]
        data, X, expected = models[name]
        path.write_bytes(MUTATIONS[kind](data, random.Random(i)))
        result, detail, seconds, peak = outcome(path, X, expected)
        slowest, largest = max(slowest, seconds), max(largest, peak)
        counts[kind][result] += 1
        if result not in ("clean error", "identical"):
            findings.append(f"  #{i} {name} {kind}: {result}: {detail}")
    total = sum(counts.values(), Counter())
    print(f"{n} mutated model files ({', '.join(names)}; glassnet {gn.__version__})")
    for kind in kinds:
        print(f"  {kind:16s} " + ", ".join(f"{k} {v}" for k, v in sorted(counts[kind].items())))
    print("total: " + ", ".join(f"{k} {v}" for k, v in sorted(total.items())))
    print(f"slowest load {slowest * 1000:.1f} ms; largest traced peak {largest / 1e6:.2f} MB")
    print("\n".join(findings[:10]) or "no findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(run(int(sys.argv[1]) if len(sys.argv) > 1 else 3000))
