"""The showcase: a small convolutional network learns to read real handwritten digits.

``glassnet demo digits`` runs :func:`run_digits_demo`: it trains the network of
:func:`digits_cnn` on the MNIST subset shipped inside glassnet (12,000 training and 2,000
test digits, no network needed; ``full=True`` or a ``data_dir`` uses all 70,000), prints
the test accuracy, draws the test digits with the network's answers, the confusion matrix
and the first layer's filters, and saves the model so that it can read a digit you draw::

    glassnet demo digits
    glassnet predict digits.safetensors my_digit.png

The preprocessing saved with the model (:data:`IMAGE_PREPROCESSING`) tells
``glassnet predict`` that the model takes 28x28 images, pixels scaled by 1/255 — see
:mod:`glassnet.datasets.images` for how a drawing is brought into MNIST's form.
"""

from __future__ import annotations

import time

import numpy as np

from glassnet._validation import as_generator, check_folder, check_int
from glassnet.datasets.images import ImagePreprocessing
from glassnet.tabular.report import format_seconds
from glassnet.training.heads import decode
from glassnet.training.metrics import confusion_matrix, count_correct

DEFAULT_EPOCHS = 5  # the shipped subset: under a minute on two cores
DEFAULT_EPOCHS_FULL = 3  # all 60,000 training digits: five times the work per epoch
BATCH_SIZE = 32
LEARNING_RATE = 0.001

# What ``glassnet predict`` needs to know to feed an image to the model (saved in the file).
IMAGE_PREPROCESSING = ImagePreprocessing(
    shape=(1, 28, 28),
    scale=255,  # model input = pixel / 255
    colours="light digit on a dark background (MNIST); dark-on-light input is inverted",
    centring="digit scaled to 20 pixels, centre of mass at (14, 14) in a 28x28 field",
    classes=tuple(range(10)),
)

FILES = {
    "predictions": "digits_predictions.png",
    "confusion": "digits_confusion.png",
    "filters": "digits_filters.png",
    "model": "digits.safetensors",
}


def digits_cnn(filters=(16, 32)):
    """The demo's network: two convolution + max-pooling stages, then a softmax layer.

    ::

        (1, 28, 28) -Conv2D 3x3 same, ReLU-> (16, 28, 28) -MaxPool 2-> (16, 14, 14)
                    -Conv2D 3x3 same, ReLU-> (32, 14, 14) -MaxPool 2-> (32, 7, 7)
                    -Flatten-> (1568,) -Dense softmax-> (10,)

    20,490 parameters, three quarters of them in the last layer: the convolutions share
    their 3x3 kernels over the whole image. ``filters`` sets the two layers' widths.
    """
    from glassnet.nn.conv import Conv2D
    from glassnet.nn.layers import Dense, Flatten
    from glassnet.nn.model import Sequential
    from glassnet.nn.pooling import MaxPool2D

    first, second = filters
    return Sequential(
        [
            Conv2D(first, 3, padding="same", activation="relu"),
            MaxPool2D(2),
            Conv2D(second, 3, padding="same", activation="relu"),
            MaxPool2D(2),
            Flatten(),
            Dense(10, activation="softmax"),
        ],
        input_shape=(1, 28, 28),
    )


def run_digits_demo(
    out=print,
    out_dir=".",
    rng=0,
    full=False,
    data_dir=None,
    epochs=None,
    *,
    n_train=None,
    verbose=1,
):
    """Train :func:`digits_cnn` on real MNIST digits, report and draw what it learned.

    Parameters
    ----------
    out : callable
        Where the report's lines go (``print``).
    out_dir : str or path-like
        Folder for the three PNGs and the model file (see :data:`FILES`).
    rng : int or numpy Generator
        Seed for initialisation and shuffling.
    full : bool
        Use all of MNIST (60,000 + 10,000 digits, from ``data_dir``, the cache, or
        downloaded) instead of the shipped subset (12,000 + 2,000).
    data_dir : str, optional
        A folder holding the MNIST files; implies ``full``.
    epochs : int, optional
        Passes over the training digits; default :data:`DEFAULT_EPOCHS` on the subset,
        :data:`DEFAULT_EPOCHS_FULL` on all of MNIST.
    n_train : int, optional
        Train on only the first ``n_train`` training digits (for quick checks).
    verbose : int
        1 shows a progress bar, 0 none.

    Returns
    -------
    dict with ``accuracy`` (on the test digits), ``paths`` (name -> Path of each file
    written), ``model``, ``history`` and ``seconds`` (training time).
    """
    out_dir, rng, full, epochs, n_train = _check_arguments(
        out_dir, rng, full, data_dir, epochs, n_train
    )
    X_train, y_train, X_test, y_test, source = _load(full, data_dir, n_train)
    model = digits_cnn()
    _introduce(out, model, source, len(X_train), len(X_test), epochs, full and n_train is None)
    seconds, history = _train(model, X_train, y_train, epochs, rng, verbose)
    probabilities, accuracy = _test(out, model, X_test, y_test, seconds)
    paths = {name: out_dir / filename for name, filename in FILES.items()}
    matrix = confusion_matrix(y_test, decode(probabilities), 10)
    _draw(model, X_test, y_test, probabilities, matrix, accuracy, paths)
    model.preprocessing = IMAGE_PREPROCESSING
    model.save(paths["model"])
    _conclude(out, matrix, paths)
    return {
        "accuracy": accuracy,
        "paths": paths,
        "model": model,
        "history": history,
        "seconds": seconds,
    }


def _check_arguments(out_dir, rng, full, data_dir, epochs, n_train):
    """The demo's arguments, checked: ``(out_dir, rng, full, epochs, n_train)``."""
    out_dir = check_folder("out_dir", out_dir)
    rng = as_generator(rng)
    full = bool(full) or data_dir is not None
    if epochs is None:
        epochs = DEFAULT_EPOCHS_FULL if full else DEFAULT_EPOCHS
    epochs = check_int("epochs", epochs, minimum=1)
    if n_train is not None:
        n_train = check_int("n_train", n_train, minimum=1)
    return out_dir, rng, full, epochs, n_train


def _load(full, data_dir, n_train):
    """``(X_train, y_train, X_test, y_test, source)``: all of MNIST or the shipped subset,
    the training digits cut to the first ``n_train`` if given."""
    from glassnet.datasets import load_digits_subset, load_mnist

    if full:
        X_train, y_train, X_test, y_test = load_mnist(data_dir)
        source = "MNIST"
    else:
        X_train, y_train, X_test, y_test = load_digits_subset()
        source = "the MNIST subset shipped with glassnet"
    if n_train is not None:
        X_train, y_train = X_train[:n_train], y_train[:n_train]
    return X_train, y_train, X_test, y_test, source


def _introduce(out, model, source, n_train, n_test, epochs, slow):
    """What the demo is about to do: the data, the network, the training."""
    out(
        f"Handwritten digits: {n_train:,} training and {n_test:,} test images "
        f"from {source} (28x28 pixels, 0 = black, 1 = white)."
    )
    out(
        "The network: two convolutions (3x3 kernels slid over the image) with max pooling, "
        "then one softmax layer:"
    )
    out(model.format_summary())
    out(
        f"Training for {epochs} epoch{'s' * (epochs != 1)}: Adam, learning rate "
        f"{LEARNING_RATE}, mini-batches of {BATCH_SIZE}, cross-entropy loss"
        f"{' (all of MNIST: a few minutes)' if slow else ''}."
    )


def _train(model, X_train, y_train, epochs, rng, verbose):
    """Train with the demo's settings: ``(seconds, history)``."""
    from glassnet.training.optimizers import Adam

    start = time.perf_counter()
    history = model.fit(
        X_train,
        y_train,
        loss="cross_entropy",
        optimizer=Adam(learning_rate=LEARNING_RATE),
        epochs=epochs,
        batch_size=BATCH_SIZE,
        rng=rng,
        verbose=verbose,
    )
    return time.perf_counter() - start, history


def _test(out, model, X_test, y_test, seconds):
    """The network's answers for the test digits, reported with the training time:
    ``(probabilities, accuracy)``."""
    probabilities = model.predict(X_test)
    correct = count_correct(probabilities, y_test)
    accuracy = correct / len(y_test)
    out(
        f"Trained in {format_seconds(seconds)}. Test accuracy: {accuracy:.2%} "
        f"({correct:,} of {len(y_test):,} test digits it has never seen)."
    )
    return probabilities, accuracy


def _draw(model, X_test, y_test, probabilities, matrix, accuracy, paths):
    """The three pictures: test digits with the answers, the confusion matrix, the filters."""
    from glassnet import plotting

    predicted = decode(probabilities)
    shown = _digits_to_show(predicted, y_test, n=48, max_mistakes=12)
    plotting.plot_digits(
        X_test[shown],
        paths["predictions"],
        predicted=predicted[shown],
        true=y_test[shown],
        probabilities=probabilities[shown, predicted[shown]],
        n=len(shown),
        title="Test digits: the network's answer and its probability (mistakes in red)",
    )
    plotting.plot_confusion_matrix(
        matrix,
        paths["confusion"],
        title=f"Confusion matrix, {len(y_test):,} test digits ({accuracy:.2%} correct)",
    )
    plotting.plot_weights(
        model.layers[0].params["W"],
        paths["filters"],
        title="The first layer's 3x3 filters (red +, blue -)",
    )


def _conclude(out, matrix, paths):
    """The closing lines: the most frequent mistakes, the files written, what to try next."""
    out(f"Most confused: {_most_confused(matrix)}.")
    out(
        f"Wrote {paths['predictions']} (test digits with the network's answers), "
        f"{paths['confusion']} (confusion matrix) and {paths['filters']} "
        f"(first-layer filters)."
    )
    out(
        f"Saved the model to {paths['model']}. Draw a digit in any paint program, save it "
        f"as a PNG, and ask the model: glassnet predict {paths['model']} my_digit.png"
    )


def _digits_to_show(predicted, true, *, n, max_mistakes):
    """Indices of test digits for the picture: the first ``n`` in order, but with up to
    ``max_mistakes`` of the network's mistakes among them (so that some are shown)."""
    mistakes = np.flatnonzero(predicted != true)[:max_mistakes]
    right = np.flatnonzero(predicted == true)[: n - len(mistakes)]
    return np.sort(np.concatenate([mistakes, right]))


def _most_confused(matrix) -> str:
    """The three most frequent mistakes, e.g. ``"4 read as 9 (7 times), ..."``."""
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None)[::-1][:3]
    pairs = [np.unravel_index(k, off.shape) for k in order if off.flat[k] > 0]
    if not pairs:
        return "nothing — every test digit was read correctly"
    return ", ".join(
        f"{t} read as {p} ({off[t, p]} time{'' if off[t, p] == 1 else 's'})" for t, p in pairs
    )
