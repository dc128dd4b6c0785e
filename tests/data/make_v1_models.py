"""Write the format-version-1 model files in this folder with the glassnet of that time.

Run with the glassnet of commit c221e26 on the path (the tree before the layout move):

    PYTHONPATH=<that checkout>/src python tests/data/make_v1_models.py tests/data

Each model ``NAME`` gives ``NAME.safetensors`` (the file that version wrote, its optimizer
state one flat vector per slot, ``optimizer/parameters/<key>``) and ``NAME.npz`` holding
``X``, ``y``, ``predictions`` (what that version predicted for ``X`` after loading the file)
and ``continued`` (what it predicted after loading the file and training one more epoch on
``X, y`` with ``batch_size=4, shuffle=False``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import glassnet as gn


def models():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    sgd = gn.Sequential([gn.Dense(4, activation="tanh"), gn.Dense(1, activation="sigmoid")])
    sgd.fit(X, y, loss="bce", optimizer=gn.SGD(0.1, momentum=0.9), epochs=3, batch_size=4, rng=0)
    yield "v1_sgd_momentum", sgd, X, y

    adam = gn.Sequential([gn.Dense(5, activation="leaky_relu"), gn.Dense(3, activation="softmax")])
    y3 = np.argmax(X, axis=1)
    adam.fit(X, y3, loss="cross_entropy", optimizer=gn.Adam(0.01), epochs=3, batch_size=4, rng=0)
    yield "v1_adam", adam, X, y3

    images = rng.normal(size=(8, 1, 6, 6))
    labels = (images[:, 0, :3].mean(axis=(1, 2)) > 0).astype(int)
    cnn = gn.Sequential(
        [
            gn.Conv2D(2, 3, activation="relu"),
            gn.MaxPool2D(2),
            gn.Flatten(),
            gn.Dense(2, activation="softmax"),
        ]
    )
    cnn.fit(
        images, labels, loss="cross_entropy", optimizer=gn.Adam(0.01), epochs=2, batch_size=4, rng=0
    )
    yield "v1_cnn_adam", cnn, images, labels


def main(folder: Path) -> None:
    for name, model, X, y in models():
        path = folder / f"{name}.safetensors"
        model.save(path)
        loaded = gn.load(path)
        predictions = loaded.predict(X)
        loaded.fit(X, y, epochs=1, batch_size=4, shuffle=False)
        np.savez(
            folder / f"{name}.npz", X=X, y=y, predictions=predictions, continued=loaded.predict(X)
        )
        print(path, path.stat().st_size, "bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
