"""The implementations the benchmark compares, behind one small interface.

Every trainer is built on the data it trains on and offers:

    epoch()       one pass over that data in shuffled mini-batches (this is what is timed)
    predict(x)    the network's class probabilities for the rows of ``x``

A peer whose library is missing (or, for glassnet, whose part is not written yet) raises
:class:`Unavailable` with the reason; the report prints the reason instead of a time.

The networks are the same everywhere: 784-256-128-10 ReLU with a softmax/cross-entropy
output (the MLP), and conv(16, 3x3, same)-ReLU-maxpool2-conv(32, 3x3, same)-ReLU-maxpool2-
flatten-dense(10) (the CNN). SGD runs with learning rate 0.01 and no momentum, Adam with
0.001 and the usual betas; no weight decay anywhere.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np

LEARNING_RATE = {"sgd": 0.01, "adam": 0.001}


class Unavailable(Exception):
    """This peer cannot run here; the message says why (e.g. "PyTorch is not installed")."""


@dataclass(frozen=True)
class MLPSpec:
    """The benchmark's MLP: layer sizes and batch size."""

    n_features: int = 784
    hidden: tuple[int, ...] = (256, 128)
    n_classes: int = 10
    batch_size: int = 128

    @property
    def sizes(self) -> tuple[int, ...]:
        return (self.n_features, *self.hidden, self.n_classes)


def cpu_count() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


THREADS = cpu_count()  # threads every peer is told to use (run.py --quick sets 1)


def make_data(
    n_samples: int,
    n_features: int = 784,
    n_classes: int = 10,
    seed: int = 0,
    label_noise: float = 0.1,
):
    """Synthetic MNIST-like data: ``X`` float32 in [0, 1] of shape (n, 784), ``y`` int64.

    Like handwritten digits, most pixels are exactly 0: each class has its own random
    "strokes" (a fifth of the pixels); a sample lights its class's strokes with random
    intensities, with 10% of its pixels flipped on or off. The classes can be learnt, so
    training does real work, and no download is needed. A fraction ``label_noise`` of the
    labels is then replaced by random classes, so that, as with real data, the loss stays
    above 0: on separable data the gradients and optimizer moments shrink into subnormal
    floats, whose arithmetic is many times slower on x86, and the benchmark would time
    that instead of the code.

    ``X`` is filled block by block, so making it never holds more memory than ``X`` itself
    plus one block (which keeps the memory measurement honest).
    """
    rng = np.random.default_rng(seed)
    strokes = rng.random((n_classes, n_features)) < 0.2
    y = rng.integers(0, n_classes, size=n_samples, dtype=np.int64)
    X = np.empty((n_samples, n_features), dtype=np.float32)
    block = 4096
    for start in range(0, n_samples, block):
        rows = X[start : start + block]
        lit = strokes[y[start : start + block]] ^ (rng.random(rows.shape) < 0.1)
        rng.random(out=rows, dtype=np.float32)
        rows *= lit
    noisy = rng.random(n_samples) < label_noise
    y[noisy] = rng.integers(0, n_classes, size=int(noisy.sum()))
    return X, y


def as_images(X: np.ndarray) -> np.ndarray:
    """The (n, 784) rows as (n, 1, 28, 28) images: a view, no copy."""
    return X.reshape(len(X), 1, 28, 28)


# --------------------------------------------------------------------------------------------
# The limit: the float32 GEMM rate, and the matrix products of one MLP epoch
# --------------------------------------------------------------------------------------------


def time_large_gemm(n: int, repeats: int, seed: int = 0) -> list[float]:
    """Seconds for ``(n, n) @ (n, n)`` in float32, one per repeat (after one warm-up).

    This is the machine's float32 GEMM rate: ``2 n^3 / seconds`` FLOP/s.
    """
    import time

    rng = np.random.default_rng(seed)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    np.matmul(a, b, out=out)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        times.append(time.perf_counter() - start)
    return times


def epoch_gemm_flops(n_samples: int, sizes: tuple[int, ...]) -> int:
    """FLOPs of the matrix products of one MLP epoch (see :class:`GemmLimit`)."""
    flops = 0
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        products = 2 if i == 0 else 3  # x @ W, x.T @ delta (+ delta @ W.T)
        flops += products * 2 * n_samples * n_in * n_out
    return flops


class GemmLimit:
    """Exactly the matrix products one MLP epoch needs, and nothing else: "the limit".

    Per batch of ``m`` rows and for every layer ``i`` with weights ``W_i``:
    forward ``z_i = a_{i-1} @ W_i``; backward ``dW_i = a_{i-1}.T @ delta_i``; and
    ``delta_{i-1} = delta_i @ W_i.T`` for every layer but the first (whose input needs no
    gradient). Real shapes, float32, results written into preallocated buffers; the batches
    are contiguous slices of the real data (no gather, no activation, no update), including
    the last, partial batch.
    """

    def __init__(self, X: np.ndarray, spec: MLPSpec, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.X, self.batch = X, spec.batch_size
        pairs = list(zip(spec.sizes[:-1], spec.sizes[1:], strict=True))
        self.W = [
            (rng.standard_normal((i, o), dtype=np.float32) * np.sqrt(2 / i)).astype(np.float32)
            for i, o in pairs
        ]
        self.dW = [np.empty_like(w) for w in self.W]
        self.z = [np.empty((self.batch, o), dtype=np.float32) for _, o in pairs]
        # Small normal values (no denormals, which would slow the products down).
        self.delta = [
            rng.standard_normal((self.batch, o), dtype=np.float32) * 0.01 for _, o in pairs
        ]

    def epoch(self) -> None:
        n_layers = len(self.W)
        for start in range(0, len(self.X), self.batch):
            x = self.X[start : start + self.batch]
            m = len(x)
            inputs = [x] + [z[:m] for z in self.z[:-1]]
            for a, w, z in zip(inputs, self.W, self.z, strict=True):
                np.matmul(a, w, out=z[:m])
            for i in reversed(range(n_layers)):
                np.matmul(inputs[i].T, self.delta[i][:m], out=self.dW[i])
                if i > 0:
                    np.matmul(self.delta[i][:m], self.W[i].T, out=self.delta[i - 1][:m])


# --------------------------------------------------------------------------------------------
# The reference: a minimal hand-vectorised NumPy MLP
# --------------------------------------------------------------------------------------------


class NumpyMLP:
    """The shortest reasonable NumPy training loop: what glassnet's abstractions are
    measured against. Gathers each batch by index, ReLU hidden layers, softmax +
    cross-entropy from the logits, plain SGD or Adam, all vectorised over the batch."""

    def __init__(self, X, y, spec: MLPSpec, optimizer: str = "sgd", seed: int = 0) -> None:
        self.X, self.y, self.batch = X, y, spec.batch_size
        self.rng = np.random.default_rng(seed)
        pairs = list(zip(spec.sizes[:-1], spec.sizes[1:], strict=True))
        self.params = []
        for n_in, n_out in pairs:  # He initialisation
            w = self.rng.standard_normal((n_in, n_out), dtype=np.float32)
            self.params += [w * np.float32(np.sqrt(2 / n_in)), np.zeros(n_out, np.float32)]
        self.optimizer, self.lr = optimizer, np.float32(LEARNING_RATE[optimizer])
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def forward(self, x):
        """Activations of every layer; the last entry is the logits."""
        acts = [x]
        n_layers = len(self.params) // 2
        for i in range(n_layers):
            z = acts[-1] @ self.params[2 * i]
            z += self.params[2 * i + 1]
            acts.append(np.maximum(z, 0, out=z) if i < n_layers - 1 else z)
        return acts

    def predict(self, x):
        logits = self.forward(x)[-1]
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def epoch(self) -> None:
        order = self.rng.permutation(len(self.X))
        for start in range(0, len(order), self.batch):
            idx = order[start : start + self.batch]
            self.train_step(self.X[idx], self.y[idx])

    def train_step(self, x, y) -> None:
        acts = self.forward(x)
        delta = acts[-1]  # softmax(z) - onehot(y), / m
        delta -= delta.max(axis=1, keepdims=True)
        np.exp(delta, out=delta)
        delta /= delta.sum(axis=1, keepdims=True)
        delta[np.arange(len(y)), y] -= 1
        delta /= len(y)
        grads = [None] * len(self.params)
        for i in reversed(range(len(self.params) // 2)):
            grads[2 * i] = acts[i].T @ delta
            grads[2 * i + 1] = delta.sum(axis=0)
            if i > 0:
                delta = delta @ self.params[2 * i].T
                delta *= acts[i] > 0  # ReLU'(z) from its output
        self.adam(grads) if self.optimizer == "adam" else self.sgd(grads)

    def sgd(self, grads) -> None:
        for p, g in zip(self.params, grads, strict=True):
            g *= self.lr
            p -= g

    def adam(self, grads, b1=0.9, b2=0.999, eps=1e-8) -> None:
        self.t += 1
        lr_t = np.float32(self.lr * np.sqrt(1 - b2**self.t) / (1 - b1**self.t))
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= lr_t * m / (np.sqrt(v) + eps)


# --------------------------------------------------------------------------------------------
# glassnet
# --------------------------------------------------------------------------------------------


def import_glassnet(*names: str):
    """``import glassnet``, checking it has ``names`` (parts may still be being written)."""
    try:
        import glassnet as gn
    except Exception as exc:  # noqa: BLE001 - any import failure means "cannot run here"
        raise Unavailable(f"glassnet is not importable ({type(exc).__name__}: {exc})") from exc
    missing = [name for name in names if not hasattr(gn, name)]
    if missing:
        raise Unavailable(f"glassnet has no {', '.join(missing)} yet")
    return gn


class GlassnetTrainer:
    """glassnet's public API as a user writes it: ``Sequential(...).fit(X, y, ...)``.

    Each ``epoch()`` is one ``fit(..., epochs=1)`` call; fit continues the training, so after
    the first (warm-up) call no build cost is left in the timing. Everything ``fit`` does
    per call (checking the data, the history) is part of the measured time.
    """

    def __init__(self, gn, layers, X, y, optimizer: str, batch_size: int) -> None:
        self.X, self.y = X, y
        self.model = gn.Sequential(layers)
        lr = LEARNING_RATE[optimizer]
        self.optimizer = (
            gn.SGD(learning_rate=lr) if optimizer == "sgd" else gn.Adam(learning_rate=lr)
        )
        self.batch_size = batch_size

    def epoch(self) -> None:
        self.model.fit(
            self.X,
            self.y,
            loss="cross_entropy",
            optimizer=self.optimizer,
            epochs=1,
            batch_size=self.batch_size,
            shuffle=True,
            rng=0,
            verbose=0,
        )

    def predict(self, x):
        return self.model.predict(x)


def glassnet_mlp(X, y, spec: MLPSpec, optimizer: str) -> GlassnetTrainer:
    gn = import_glassnet("Sequential", "Dense", "SGD", "Adam")
    layers = [gn.Dense(units, activation="relu") for units in spec.hidden]
    layers.append(gn.Dense(spec.n_classes, activation="softmax"))
    return GlassnetTrainer(gn, layers, X, y, optimizer, spec.batch_size)


def glassnet_cnn(images, y, optimizer: str, batch_size: int) -> GlassnetTrainer:
    gn = import_glassnet("Sequential", "Dense", "Conv2D", "MaxPool2D", "Flatten", "SGD", "Adam")
    layers = [
        gn.Conv2D(16, 3, padding="same", activation="relu"),
        gn.MaxPool2D(2),
        gn.Conv2D(32, 3, padding="same", activation="relu"),
        gn.MaxPool2D(2),
        gn.Flatten(),
        gn.Dense(10, activation="softmax"),
    ]
    return GlassnetTrainer(gn, layers, images, y, optimizer, batch_size)


class NumpyOnly:
    """A glassnet trainer run on the NumPy fast path, without the compiled kernels
    (``glassnet.fast.numpy_only()``): the "glassnet-numpy" column beside "glassnet-numba"."""

    def __init__(self, trainer) -> None:
        from glassnet import fast

        self.trainer, self.fast = trainer, fast

    def epoch(self) -> None:
        with self.fast.numpy_only():
            self.trainer.epoch()

    def predict(self, x):
        with self.fast.numpy_only():
            return self.trainer.predict(x)


def numpy_only(make):
    """A factory of :class:`NumpyOnly` trainers, with ``make``'s signature."""
    return lambda *args: NumpyOnly(make(*args))


# --------------------------------------------------------------------------------------------
# PyTorch CPU (optional)
# --------------------------------------------------------------------------------------------


def import_torch():
    """``import torch``, told to use :data:`THREADS` threads (every core, normally)."""
    try:
        import torch
    except ImportError as exc:
        raise Unavailable("PyTorch is not installed (pip install torch)") from exc
    torch.set_num_threads(THREADS)
    return torch


class TorchTrainer:
    """The usual PyTorch loop, without a DataLoader: a ``randperm`` per epoch, each batch
    gathered by index from tensors that share the NumPy arrays' memory, float32."""

    def __init__(self, torch, net, X, y, optimizer: str, batch_size: int) -> None:
        self.torch, self.net, self.batch = torch, net, batch_size
        self.X = torch.from_numpy(X)
        self.y = torch.from_numpy(y.astype(np.int64, copy=False))
        self.generator = torch.Generator().manual_seed(0)
        lr = LEARNING_RATE[optimizer]
        opt = torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam
        self.optimizer = opt(net.parameters(), lr=lr)
        self.loss = torch.nn.CrossEntropyLoss()

    def epoch(self) -> None:
        self.net.train()
        order = self.torch.randperm(len(self.X), generator=self.generator)
        for start in range(0, len(order), self.batch):
            idx = order[start : start + self.batch]
            self.optimizer.zero_grad(set_to_none=True)
            self.loss(self.net(self.X[idx]), self.y[idx]).backward()
            self.optimizer.step()

    def predict(self, x):
        self.net.eval()
        with self.torch.inference_mode():
            return self.torch.softmax(self.net(self.torch.from_numpy(x)), dim=1).numpy()


def torch_mlp(X, y, spec: MLPSpec, optimizer: str) -> TorchTrainer:
    torch = import_torch()
    torch.manual_seed(0)
    nn, layers = torch.nn, []
    for n_in, n_out in zip(spec.sizes[:-2], spec.sizes[1:-1], strict=True):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    layers.append(nn.Linear(spec.sizes[-2], spec.n_classes))
    return TorchTrainer(torch, nn.Sequential(*layers), X, y, optimizer, spec.batch_size)


def torch_cnn(images, y, optimizer: str, batch_size: int) -> TorchTrainer:
    torch = import_torch()
    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, 10),
    )
    return TorchTrainer(torch, net, images, y, optimizer, batch_size)


# --------------------------------------------------------------------------------------------
# scikit-learn (optional)
# --------------------------------------------------------------------------------------------


class SklearnTrainer:
    """``MLPClassifier`` with ``max_iter=1``; each ``epoch()`` is one ``partial_fit`` over all
    the data (one shuffled pass of mini-batches, optimizer state kept between calls).
    scikit-learn computes in the dtype of ``X``: float32 or float64."""

    def __init__(self, X, y, spec: MLPSpec, optimizer: str, dtype) -> None:
        try:
            from sklearn.exceptions import ConvergenceWarning
            from sklearn.neural_network import MLPClassifier
        except ImportError as exc:
            raise Unavailable("scikit-learn is not installed (pip install scikit-learn)") from exc
        self.ConvergenceWarning = ConvergenceWarning
        self.dtype = np.dtype(dtype)
        self.X, self.y = X.astype(self.dtype, copy=False), y
        self.classes = np.arange(spec.n_classes)
        extra = {"momentum": 0.0, "nesterovs_momentum": False} if optimizer == "sgd" else {}
        self.clf = MLPClassifier(
            hidden_layer_sizes=spec.hidden,
            activation="relu",
            solver=optimizer,
            alpha=0.0,
            batch_size=spec.batch_size,
            learning_rate_init=LEARNING_RATE[optimizer],
            max_iter=1,
            shuffle=True,
            random_state=0,
            **extra,
        )

    def epoch(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", self.ConvergenceWarning)
            self.clf.partial_fit(self.X, self.y, classes=self.classes)

    def predict(self, x):
        return self.clf.predict_proba(x.astype(self.dtype, copy=False))


def sklearn_mlp(dtype):
    """A factory for :class:`SklearnTrainer` in ``dtype``, with the MLP factories' signature."""

    def make(X, y, spec: MLPSpec, optimizer: str) -> SklearnTrainer:
        return SklearnTrainer(X, y, spec, optimizer, dtype)

    return make


# --------------------------------------------------------------------------------------------
# The registry: short keys used on the command line and by the memory subprocess
# --------------------------------------------------------------------------------------------

NAMES = {
    "limit": "limit (the epoch's GEMMs only)",
    "numpy": "NumPy reference loop",
    "glassnet": "glassnet-numba",
    "glassnet_numpy": "glassnet-numpy",
    "torch": "PyTorch CPU",
    "sklearn32": "scikit-learn float32",
    "sklearn64": "scikit-learn float64",
}

MLP_TRAINERS = {
    "numpy": lambda X, y, spec, opt: NumpyMLP(X, y, spec, opt),
    "glassnet": glassnet_mlp,
    "glassnet_numpy": numpy_only(glassnet_mlp),
    "torch": torch_mlp,
    "sklearn32": sklearn_mlp(np.float32),
    "sklearn64": sklearn_mlp(np.float64),
}

CNN_TRAINERS = {
    "glassnet": glassnet_cnn,
    "glassnet_numpy": numpy_only(glassnet_cnn),
    "torch": torch_cnn,
}
