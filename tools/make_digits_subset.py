"""Make the MNIST subset shipped in src/glassnet/datasets/data (run once, by hand).

The subset is every fifth image of each MNIST file, in file order, with its label:

    training images 0, 5, 10, ..., 59995  ->  12,000 images
    test images     0, 5, 10, ...,  9995  ->   2,000 images

A fixed stride, not a random draw, so the subset is the same on every machine and NumPy
version and can be described in one line. It spans the whole of each file: MNIST's test set
takes its first 5,000 digits from NIST's training set and its last 5,000 from NIST's
test set, and the first half is the cleaner and easier one (LeCun's MNIST page), so a
"first 2,000" subset would hold only easy digits. The class proportions stay close to
MNIST's own (they are printed below).

The source files must be the canonical MNIST files: they are checked against their published
SHA-256 by ``load_mnist``. The output is four gzip IDX files (gzip header without a file name,
time 0, level 9: the same input gives the same bytes for a given zlib), read back by the same
reader as MNIST itself. The script prints the SHA-256 of each file, compressed and
decompressed, for ``SUBSET_SHA256`` in glassnet/datasets/mnist.py and for MNIST-ATTRIBUTION.md.

Usage::

    python tools/make_digits_subset.py [--source ../shared/data/mnist] [--out DIR]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from glassnet.datasets.mnist import (  # noqa: E402  (after the sys.path line above)
    SUBSET_FILES,
    load_mnist,
    read_idx,
    write_idx,
)

STEP = 5


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source",
        type=Path,
        default=ROOT.parent / "shared" / "data" / "mnist",
        help="folder holding the four canonical MNIST files",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "src" / "glassnet" / "datasets" / "data",
        help="where to write the subset",
    )
    args = parser.parse_args(argv)

    # cache_dir=source: read the source folder only, never a cache or the network
    X_train, y_train, X_test, y_test = load_mnist(
        args.source, download=False, kind="uint8", cache_dir=args.source
    )
    train_index = np.arange(0, len(X_train), STEP)
    test_index = np.arange(0, len(X_test), STEP)
    arrays = (
        X_train[train_index, 0].astype(np.uint8),
        y_train[train_index].astype(np.uint8),
        X_test[test_index, 0].astype(np.uint8),
        y_test[test_index].astype(np.uint8),
    )

    args.out.mkdir(parents=True, exist_ok=True)
    print("SUBSET_SHA256 = {")
    total = 0
    for name, array in zip(SUBSET_FILES, arrays, strict=True):
        path = args.out / (name + ".gz")
        write_idx(path, array, compress=True)
        if not np.array_equal(read_idx(path), array):
            raise SystemExit(f"{path} does not read back as written")
        data = path.read_bytes()
        total += len(data)
        raw = gzip.decompress(data)
        print(f'    "{name}": (  # {len(data):,} bytes, {len(raw):,} uncompressed')
        print(f'        "{hashlib.sha256(data).hexdigest()}",')
        print(f'        "{hashlib.sha256(raw).hexdigest()}",')
        print("    ),")
    print("}")
    print(f"total {total:,} bytes compressed")
    for split, labels in (("train", arrays[1]), ("test", arrays[3])):
        counts = " ".join(map(str, np.bincount(labels, minlength=10)))
        print(f"{split}: {len(labels)} images, label counts 0-9: {counts}")


if __name__ == "__main__":
    main()
