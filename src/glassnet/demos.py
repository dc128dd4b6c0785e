"""The seeds' programs, reproduced with glassnet — and the showcase runs.

``glassnet demo`` lists them (:data:`DEMOS`); ``glassnet demo NAME`` runs one. Each demo is a
function that prints what the tutorial printed (through ``out``) and returns its numbers, so
the tests check the very code a reader runs. A demo takes only the options it uses
(``out_dir``, ``rng``, ...); the CLI passes each one those its signature names.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from glassnet import datasets
from glassnet._validation import check_folder
from glassnet.digits import run_digits_demo
from glassnet.glassbox.explain import explain
from glassnet.nn.layers import Dense
from glassnet.nn.losses import MeanSquaredError
from glassnet.nn.model import Sequential
from glassnet.nn.neuron import Neuron
from glassnet.plotting import plot_loss
from glassnet.training.callbacks import Callback
from glassnet.training.optimizers import SGD


def _sigmoid_layers(*units, use_bias=True, weight_init="glorot_uniform"):
    """A float64 stack of sigmoid ``Dense`` layers of the given widths."""
    return Sequential(
        [Dense(n, activation="sigmoid", use_bias=use_bias, weight_init=weight_init) for n in units],
        dtype="float64",
    )


def neuron(out=print):
    """Seed 002: one neuron, ``w = [0, 1]``, ``b = 4``, input ``[2, 3]``."""
    n = Neuron(weights=[0, 1], bias=4)
    y = n.forward([2, 3])
    out(f"{n}")
    out("z = w . x + b = 0*2 + 1*3 + 4 = 7")
    out(f"y = sigmoid(7) = {y!r}")
    return y


def network(out=print):
    """Seed 002: the 2-2-1 network in which every neuron has weights ``[0, 1]`` and bias 0,
    the MSE example, and the backpropagation ledger for Alice with every weight 1 and every
    bias 0 (the tutorial's starting point for training)."""
    model = _sigmoid_layers(2, 1).build((2,))
    # neuron j of a Dense layer has weights W[:, j]: both hidden neurons get [0, 1]
    weights = {
        "layers.0.W": [[0, 0], [1, 1]],
        "layers.0.b": [0, 0],
        "layers.1.W": [[0], [1]],
        "layers.1.b": [0],
    }
    model.set_weights(weights)
    out("every neuron has weights [0, 1] and bias 0 (column j of W holds neuron j's weights):")
    for name, value in weights.items():
        out(f"  {name} = {value}")
    x = np.array([[2.0, 3.0]])
    h1 = float(model.layers[0].forward(x)[0, 0])
    o1 = float(model.predict(x)[0, 0])
    out(f"h1 = h2 = sigmoid(0*2 + 1*3 + 0) = sigmoid(3) = {h1:.4f}")
    out(f"o1 = sigmoid(0*h1 + 1*h2 + 0) = {o1!r}")
    mse = MeanSquaredError()(np.array([0, 0, 0, 0]), np.array([1, 0, 0, 1]))
    out(f"MSE(y_true=[1, 0, 0, 1], y_pred=[0, 0, 0, 0]) = {mse}")

    X, y = datasets.gender()
    ones = _sigmoid_layers(2, 1, weight_init="ones").build((2,))  # biases start at zero
    ledger = explain(ones, X[:1], y[:1], loss="mse", parameter="layers.0.W[0,0]")
    out(
        "\nOne step of backpropagation for Alice (x = [-2, -1], y = 1), "
        "every weight 1 and every bias 0:"
    )
    out(str(ledger))
    return {"o1": o1, "mse": mse, "ledger": ledger}


class _EveryK(Callback):
    """Seed 000's print: at the start of iteration k, the mean absolute error of the forward
    pass that iteration makes (before its update)."""

    def __init__(self, X, y, every, last, out):
        self.X, self.y, self.every, self.last, self.out = X, y, every, last, out
        self.lines, self.final_output = [], None

    def on_epoch_begin(self, epoch, logs=None):
        if epoch % self.every == 0 or epoch == self.last:
            output = self.model.predict(self.X)
            if epoch % self.every == 0:
                line = f"Error at iteration {epoch}: {np.mean(np.abs(self.y - output))}"
                self.lines.append(line)
                self.out(line)
            if epoch == self.last:
                self.final_output = output


def perceptron(out=print):
    """Seed 000: one sigmoid layer, 3 inputs, no bias, 10,000 full-batch steps.

    The tutorial's update ``W += X.T @ (error * s'(out))`` with ``error = y - out`` is
    gradient descent on ``1/2 * sum (y - out)^2`` with learning rate 1, which is the sum of
    squares ``sum (out - y)^2`` with learning rate 0.5: the same step. The initial weights
    are the tutorial's ``2 * random((3, 1)) - 1`` after ``seed(42)``, drawn from NumPy's
    legacy generator as an explicit object (no global state).
    """
    X, y = datasets.perceptron_table()
    model = _sigmoid_layers(1, use_bias=False).build((3,))
    w0 = 2 * np.random.RandomState(42).random_sample((3, 1)) - 1
    model.set_weights({"layers.0.W": w0})
    epochs = 10_000
    printer = _EveryK(X, y, 1000, epochs - 1, out)
    model.fit(
        X,
        y,
        loss="sse",
        optimizer=SGD(learning_rate=0.5),
        epochs=epochs,
        batch_size=None,
        shuffle=False,
        callbacks=[printer],
    )
    # The tutorial prints the output of its last forward pass (made before the last update).
    out(f"Output after training: \n{printer.final_output}")
    return {"lines": printer.lines, "output": printer.final_output, "model": model}


def two_layer(out=print, out_dir=".", rng=1):
    """Seed 001: 3 -> 4 sigmoid -> 1 sigmoid, no biases, sum-of-squares loss, learning rate 1,
    full batch, 1,500 iterations on XOR with a constant third input; weights start
    uniform on [0, 1) like the tutorial's ``np.random.rand``. Writes the loss-per-iteration
    graph as ``two_layer_loss.png`` in ``out_dir``."""
    out_dir = check_folder("out_dir", out_dir)
    X, y = datasets.xor3()
    init = {"name": "uniform", "low": 0.0, "high": 1.0}
    model = Sequential(
        [
            Dense(4, activation="sigmoid", use_bias=False, weight_init=init),
            Dense(1, activation="sigmoid", use_bias=False, weight_init=init),
        ],
        dtype="float64",
    )
    history = model.fit(
        X,
        y,
        loss="sse",
        optimizer=SGD(learning_rate=1.0),
        epochs=1500,
        batch_size=None,
        shuffle=False,
        rng=rng,
    )
    prediction = model.predict(X)
    path = plot_loss(
        history,
        Path(out_dir) / "two_layer_loss.png",
        title="Seed 001: sum-of-squares loss per iteration",
        log_scale=False,
    )
    out(f"loss after 1 iteration: {history.loss[0]:.4f}, after 1500: {history.loss[-1]:.4f}")
    out(f"prediction after 1500 iterations:\n{prediction}")
    out(f"target:\n{y}")
    out(f"loss-per-iteration graph: {path}")
    return {"prediction": prediction, "history": history, "plot": path}


def gender(out=print, rng=0):
    """Seed 002: the 2-2-1 sigmoid network trained by SGD (one sample per step, learning rate
    0.1, 1,000 epochs, MSE) on four people; then Emily and Frank."""
    X, y = datasets.gender()
    model = Sequential([Dense(2, activation="sigmoid"), Dense(1, activation="sigmoid")])
    history = model.fit(
        X, y, loss="mse", optimizer=SGD(learning_rate=0.1), epochs=1000, batch_size=1, rng=rng
    )
    for epoch in range(0, 1000, 100):
        out(f"Epoch {epoch} loss: {history.loss[epoch]:.3f}")
    people = {"Emily": (128, 63), "Frank": (155, 68)}
    shifted = np.array(
        [[w - datasets.WEIGHT_SHIFT, h - datasets.HEIGHT_SHIFT] for w, h in people.values()],
        dtype=float,
    )
    p = model.predict(shifted)[:, 0]
    verdict = {}
    for (name, (w, h)), pf in zip(people.items(), p, strict=True):
        sex = "F" if pf >= 0.5 else "M"
        confidence = pf if sex == "F" else 1 - pf
        verdict[name] = (sex, float(pf))
        out(
            f"{name} ({w} lb, {h} in): {'female' if sex == 'F' else 'male'} "
            f"(P(female) = {pf:.3f}, confidence {confidence:.1%})"
        )
    return {"verdict": verdict, "history": history, "model": model}


DEMOS = {
    "neuron": (neuron, "seed 002: one neuron, sigmoid(0*2 + 1*3 + 4)"),
    "network": (
        network,
        "seed 002: the 2-2-1 network (weights [0, 1], bias 0), MSE, the ledger (weights 1)",
    ),
    "perceptron": (perceptron, "seed 000: one sigmoid layer trained for 10,000 steps"),
    "two-layer": (two_layer, "seed 001: 3-4-1 network on XOR, loss graph as PNG"),
    "gender": (gender, "seed 002: train on four people, predict Emily and Frank"),
    "digits": (run_digits_demo, "showcase: a convolutional network reads handwritten digits"),
}
