"""The playground's JSON API gives glassnet's own numbers: after K epochs of single steps the
weights, gradients and losses are ``model.fit``'s bit for bit, the ledger is ``gn.explain``'s
text for the batch the next step uses, the trace is the real forward and backward pass, and
the copied script reproduces the session when run on its own.

The reference models here are built from the public API alone (``gn.Dense``, ``gn.SGD``,
``planar_dataset``), not from the server's code, so that a session building anything else
fails these tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import glassnet as gn
from conftest import ROOT
from glassnet.datasets import planar_dataset
from playground_client import running

OPTIMIZERS = {
    "sgd": lambda lr: gn.SGD(learning_rate=lr),
    "momentum": lambda lr: gn.SGD(learning_rate=lr, momentum=0.9),
    "adam": lambda lr: gn.Adam(learning_rate=lr),
    "rmsprop": lambda lr: gn.RMSprop(learning_rate=lr),
    "adagrad": lambda lr: gn.Adagrad(learning_rate=lr),
}


@pytest.fixture(scope="module")
def client():
    with running() as c:
        yield c


def reference(config: dict):
    """The config's data and an unbuilt model, from the public API."""
    data = planar_dataset(
        config["dataset"],
        n_samples=config["n_points"],
        noise=config["noise"],
        train_fraction=config["train_fraction"],
        rng=config["seed"],
    )
    X_train, y_train, X_test, y_test = data
    extra = np.array(config["extra_points"], dtype=float).reshape(-1, 3)
    X_train = np.vstack([X_train, extra[:, :2]])
    kind = "regression" if config["dataset"] == "regression" else "classification"
    y_train = np.concatenate([y_train, extra[:, 2] if kind == "regression" else extra[:, 2] > 0])
    options = {}
    if config["weight_init"] != "auto":
        options["weight_init"] = config["weight_init"]
    if config["l2"]:
        options["kernel_regularizer"] = gn.L2(config["l2"])
    layers = [gn.Dense(h["units"], activation=h["activation"], **options) for h in config["hidden"]]
    out = "sigmoid" if kind == "classification" else None
    model = gn.Sequential([*layers, gn.Dense(1, activation=out, **options)], dtype="float64")
    return model, X_train, y_train, X_test, y_test


def fitted(config: dict, epochs: int):
    model, X_train, y_train, X_test, y_test = reference(config)
    model.fit(
        X_train,
        y_train,
        loss=config["loss"],
        optimizer=OPTIMIZERS[config["optimizer"]](config["learning_rate"]),
        epochs=epochs,
        batch_size=config["batch_size"],
        rng=config["seed"],
    )
    return model, X_train, y_train, X_test, y_test


def state_weights(state) -> dict[str, np.ndarray]:
    weights = {}
    for w in state["network"]["weights"]:
        weights[f"layers.{w['layer'] - 1}.W"] = np.array(w["W"])
        weights[f"layers.{w['layer'] - 1}.b"] = np.array(w["b"])
    return weights


def assert_same_weights(state, model):
    assert_weights(state, model.get_weights())


def assert_weights(state, want: dict[str, np.ndarray]):
    got = state_weights(state)
    assert set(got) == set(want)
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


CONFIGS = [
    {},
    {"optimizer": "adam", "batch_size": 7, "l2": 0.01, "dataset": "moons"},
    {"optimizer": "momentum", "hidden": [{"units": 8, "activation": "relu"}] * 3,
     "dataset": "regression", "batch_size": 256},
    {"optimizer": "rmsprop", "dataset": "spiral", "loss": "mse", "learning_rate": 0.01,
     "hidden": [{"units": 5, "activation": "elu"}, {"units": 3, "activation": "sigmoid"}]},
    {"optimizer": "adagrad", "dataset": "clusters", "loss": "sse", "batch_size": 1,
     "n_points": 30, "hidden": [], "seed": 7},
    {"dataset": "gender", "hidden": [{"units": 2, "activation": "sigmoid"}], "loss": "mse",
     "learning_rate": 0.1, "batch_size": 1, "extra_points": [[0.0, 1.0, 1], [20.0, 3.0, 0]]},
]  # fmt: skip


@pytest.mark.parametrize("config", CONFIGS)
def test_epochs_of_single_steps_are_fit_bit_for_bit(client, config):
    key, state = client.session(config)
    config = state["config"]
    epochs = 3
    state = client.step(key, epochs * state["steps_per_epoch"])
    assert state["epoch"] == epochs and state["step"] == epochs * state["steps_per_epoch"]
    model, X_train, y_train, X_test, y_test = fitted(config, epochs)
    assert_same_weights(state, model)
    # the gradients of the last step: what fit's last step left in the layers' grads
    for w, layer in zip(state["network"]["weights"], model.layers, strict=True):
        np.testing.assert_array_equal(np.array(w["dW"]), layer.grads["W"])
        np.testing.assert_array_equal(np.array(w["db"]), layer.grads["b"])
    assert state["train_loss"] == model.evaluate(X_train, y_train)["loss"]
    if len(X_test):
        assert state["test_loss"] == model.evaluate(X_test, y_test)["loss"]
    else:
        assert state["test_loss"] is None
    assert state["history"]["step"][-1] == state["step"]
    assert state["history"]["train_loss"][-1] == state["train_loss"]


def test_the_first_state_holds_the_initial_weights_and_zero_gradients(client):
    _, state = client.session({"seed": 3})
    model, X_train, *_ = reference(state["config"])
    model.build(2, rng=3)
    assert_same_weights(state, model)
    for w in state["network"]["weights"]:
        assert not np.any(w["dW"]) and not np.any(w["db"])
    assert state["network"]["sizes"] == [2, 4, 2, 1]
    assert state["network"]["activations"] == ["tanh", "tanh", "sigmoid"]
    assert state["history"] == {"step": [], "train_loss": [], "test_loss": []}
    assert len(state["data"]["train"]) == len(X_train) == 100
    assert len(state["data"]["test"]) == 100


def next_batch(model, X_train, y_train, batch_size: int):
    """The rows fit's next epoch starts with, drawn from a copy of the model's generator."""
    rng = np.random.Generator(np.random.PCG64())
    rng.bit_generator.state = model.rng_.bit_generator.state
    rows = rng.permutation(len(X_train))[:batch_size]
    return rows, X_train[rows], y_train[rows]


@pytest.mark.parametrize(
    "where",
    [
        {"layer": 1, "i": 1, "j": 3},
        {"layer": 3, "i": 0, "j": 0},
        {"layer": 2, "parameter": "b", "j": 1},
    ],
)
def test_the_ledger_is_gn_explain_on_the_next_batch(client, where):
    config = {"batch_size": 8, "optimizer": "adam", "l2": 0.001}
    key, state = client.session(config)
    epochs = 2
    client.step(key, epochs * state["steps_per_epoch"])
    answer = client.ok("POST", f"/api/sessions/{key}/ledger", where)
    model, X_train, y_train, *_ = fitted(state["config"], epochs)
    rows, xb, yb = next_batch(model, X_train, y_train, 8)
    layer = where["layer"] - 1
    if "i" in where:
        parameter, value = f"layers.{layer}.W[{where['i']},{where['j']}]", None
        value = model.layers[layer].params["W"][where["i"], where["j"]]
    else:
        parameter = f"layers.{layer}.b[{where['j']}]"
        value = model.layers[layer].params["b"][where["j"]]
    ledger = gn.explain(model, xb, yb, loss="bce", parameter=parameter)
    assert answer["parameter"] == parameter
    assert answer["text"] == str(ledger)
    assert answer["value"] == value
    assert answer["gradient"] == ledger.chain.dL_dw_total
    assert answer["chain"]["dL_da"] == ledger.chain.dL_da
    assert answer["chain"]["dz_dw"] == ledger.chain.dz_dw
    # and the step that follows trains on exactly that gradient
    after = client.ok("POST", f"/api/sessions/{key}/step", {"steps": 1, "grid": 0})
    grads = after["network"]["weights"][layer]
    got = grads["dW"][where["i"]][where["j"]] if "i" in where else grads["db"][where["j"]]
    assert got == answer["gradient"]


def test_the_ledger_of_seed_002_is_the_readme_ledger(client):
    """Seed 002's hand-worked step: every weight 1, every bias 0, Alice alone in the batch
    (the seed is one whose first shuffle puts Alice, row 0, first). The ledger is the one the
    README prints: h1 = 0.0474, o1 = 0.524, dL/dy = -0.952, dy/dh1 = 0.249,
    dh1/dw1 = -0.0904, dL/dw1 = 0.0215."""
    seed = next(s for s in range(100) if np.random.default_rng(s).permutation(4)[0] == 0)
    config = {"dataset": "gender", "hidden": [{"units": 2, "activation": "sigmoid"}],
              "loss": "mse", "learning_rate": 0.1, "batch_size": 1, "weight_init": "ones",
              "seed": seed}  # fmt: skip
    key, _ = client.session(config)
    answer = client.ok("POST", f"/api/sessions/{key}/ledger", {"layer": 1, "i": 0, "j": 0})
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    printed = readme.split("It prints:\n\n```\n", 1)[1].split("```", 1)[0]
    assert answer["text"] == printed.rstrip("\n")
    chain = answer["chain"]
    assert round(chain["dL_dyhat"], 3) == -0.953  # the seed rounds -0.9526 to -0.952
    assert round(chain["dyhat_da"], 3) == 0.249
    assert round(chain["da_dw"], 4) == -0.0904
    assert round(chain["dL_dw"], 4) == 0.0215 == round(answer["gradient"], 4)
    # the step: w1 <- 1 - 0.1 * 0.02147
    state = client.ok("POST", f"/api/sessions/{key}/step", {"steps": 1})
    assert state["network"]["weights"][0]["W"][0][0] == 1 - 0.1 * answer["gradient"]


def test_the_trace_is_the_forward_and_backward_pass_of_the_next_step(client):
    config = {"batch_size": 5, "learning_rate": 0.5}
    key, state = client.session(config)
    client.step(key, state["steps_per_epoch"] + 3)
    before = client.ok("GET", f"/api/sessions/{key}?grid=0")
    trace = client.ok("POST", f"/api/sessions/{key}/trace")
    after = trace["state"]
    assert after["step"] == before["step"] + 1
    X = np.array(before["data"]["train"])[:, :2]
    rows = trace["batch"]
    assert len(rows) == 5
    np.testing.assert_array_equal(np.array(trace["x"]), X[rows])
    # forward, layer by layer, from the weights before the step
    a = X[rows]
    for f, w in zip(trace["forward"], before["network"]["weights"], strict=True):
        z = a @ np.array(w["W"]) + np.array(w["b"])
        np.testing.assert_allclose(np.array(f["z"]), z, rtol=1e-13, atol=1e-15)
        a = np.array(f["a"])
    assert [b["layer"] for b in trace["backward"]] == [3, 2, 1]  # top down
    for b, u, w in zip(
        reversed(trace["backward"]), trace["update"], after["network"]["weights"], strict=True
    ):
        np.testing.assert_array_equal(np.array(b["dW"]), np.array(w["dW"]))
        np.testing.assert_array_equal(np.array(u["W_after"]), np.array(w["W"]))
        # SGD: W_after = W_before - eta dW
        W = np.array(u["W_before"]) - 0.5 * np.array(b["dW"])
        np.testing.assert_allclose(np.array(u["W_after"]), W, rtol=0, atol=1e-15)
    for u, w in zip(trace["update"], before["network"]["weights"], strict=True):
        np.testing.assert_array_equal(np.array(u["W_before"]), np.array(w["W"]))
    # the loss of the batch: binary cross-entropy of the output against the targets
    p, y = np.array(trace["forward"][-1]["a"]), np.array(trace["y"])
    bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert trace["loss"] == pytest.approx(bce, rel=1e-12)
    # delta of the output: (p - y) / n, the fused gradient
    np.testing.assert_allclose(np.array(trace["backward"][0]["delta"]), (p - y) / 5, atol=1e-16)


def assert_ruff_clean(code: str, folder):
    """The script reads as the project's code does: ruff finds nothing, and it is formatted."""
    ruff = shutil.which("ruff")
    if ruff is None:
        return  # ruff is in the test extra; without it, the numbers are still checked
    script = folder / "session.py"
    script.write_text(code, encoding="utf-8")
    for command in ([ruff, "check", "-q", "--no-cache", "--isolated", "--line-length", "100",
                     str(script)],
                    [ruff, "format", "--check", "--no-cache", "--isolated", "--line-length",
                     "100", str(script)]):  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr


def run_script(code: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    printed = {}
    for line in done.stdout.splitlines():
        name, value = line.split(" ", 1) if not line.endswith("loss") else (line, "")
        printed[name] = value
    return printed


@pytest.mark.parametrize(
    ("config", "steps"),
    [
        ({}, 47),  # four epochs and 7 steps
        ({"optimizer": "adam", "batch_size": 7, "l2": 0.01}, 3),  # within the first epoch
        ({"dataset": "gender", "extra_points": [[1.0, 2.0, 1]]}, 0),  # untrained
        ({"dataset": "regression", "loss": "huber", "weight_init": "glorot_uniform"}, 40),
        ({"dataset": "xor", "hidden": [{"units": 4, "activation": "sigmoid"}], "loss": "sse",
          "learning_rate": 1.0, "batch_size": 4}, 250),
    ],
)  # fmt: skip
def test_the_copied_script_prints_the_sessions_numbers(client, config, steps, tmp_path):
    key, _ = client.session(config)
    state = client.step(key, steps) if steps else client.ok("GET", f"/api/sessions/{key}?grid=0")
    code = client.ok("GET", f"/api/sessions/{key}/python")["code"]
    assert "gn.Sequential(" in code and "gn.Dense(" in code
    assert_ruff_clean(code, tmp_path)
    assert ("model.fit(" in code) == (steps >= state["steps_per_epoch"])
    printed = run_script(code)
    assert float(printed.pop("train")[5:]) == state["train_loss"]
    if state["test_loss"] is not None:
        assert float(printed.pop("test")[5:]) == state["test_loss"]
    weights = state_weights(state)
    assert set(printed) == set(weights)
    for name, value in printed.items():
        np.testing.assert_array_equal(np.array(eval(value)), weights[name], err_msg=name)


def test_every_dataset_builds_and_trains_with_its_preset(client):
    options = client.ok("GET", "/api/options")
    names = [d["name"] for d in options["datasets"]]
    assert names == ["gender", "perceptron", "xor", "circle", "moons", "spiral", "clusters",
                     "regression"]  # fmt: skip
    for dataset in options["datasets"]:
        key, first = client.session({"dataset": dataset["name"], **dataset["preset"]}, grid=8)
        state = client.step(key, 200, grid=16)
        assert state["kind"] == dataset["kind"]
        assert state["train_loss"] < first["train_loss"], dataset["name"]
        grid = state["grid"]
        assert grid["n"] == 16 and len(grid["output"]) == 256
        sizes = state["network"]["sizes"]
        assert [len(layer) for layer in grid["neurons"]] == sizes[1:]
        assert all(len(unit) == 256 for layer in grid["neurons"] for unit in layer)
        if dataset["seed_table"]:
            assert state["test_loss"] is None and len(state["data"]["train"]) == 4


def test_the_seed_presets_learn_their_tables(client):
    """Seed 002's people: Emily female, Frank male; seed 001's XOR within 0.1."""
    options = {d["name"]: d for d in client.ok("GET", "/api/options")["datasets"]}
    key, _ = client.session({"dataset": "gender", **options["gender"]["preset"]})
    state = client.step(key, 4000)
    model, *_ = fitted(state["config"], 1000)
    emily, frank = model.predict(np.array([[-7.0, -3.0], [20.0, 2.0]]))[:, 0]
    assert emily > 0.9 and frank < 0.1
    assert_same_weights(state, model)


def test_the_heat_maps_are_the_network_over_the_grid(client):
    key, _ = client.session({"hidden": [{"units": 3, "activation": "relu"}]})
    state = client.step(key, 30, grid=12)
    model, *_ = fitted(state["config"], 3)
    xmin, xmax, ymin, ymax = state["data"]["domain"]
    gx, gy = np.meshgrid(np.linspace(xmin, xmax, 12), np.linspace(ymax, ymin, 12))
    points = np.c_[gx.ravel(), gy.ravel()]
    grid = state["grid"]
    np.testing.assert_allclose(grid["output"], model.predict(points)[:, 0], atol=5e-5)
    hidden = np.maximum(points @ model.layers[0].params["W"] + model.layers[0].params["b"], 0)
    np.testing.assert_allclose(np.array(grid["neurons"][0]).T, hidden, atol=5e-5)
    np.testing.assert_allclose(np.array(grid["inputs"]).T, points, atol=5e-5)
    assert grid["range"] == [min(grid["output"]), max(grid["output"])]
    assert state["data"]["domain"][0] < min(p[0] for p in state["data"]["train"])


def test_reset_and_config_start_again_from_the_seeds_weights(client):
    key, first = client.session({"seed": 5})
    client.step(key, 25)
    again = client.ok("POST", f"/api/sessions/{key}/reset")
    assert again["step"] == again["epoch"] == 0 and again["history"]["step"] == []
    assert state_weights(again).keys() == state_weights(first).keys()
    for name, value in state_weights(first).items():
        np.testing.assert_array_equal(state_weights(again)[name], value)
    other = client.ok("PUT", f"/api/sessions/{key}/config", {"seed": 5, "optimizer": "adam"})
    for name, value in state_weights(first).items():
        np.testing.assert_array_equal(state_weights(other)[name], value)
    assert other["config"]["optimizer"] == "adam"


def test_an_added_point_trains_and_the_script_knows_it(client):
    key, first = client.session({"n_points": 20, "batch_size": 4})
    state = client.ok("POST", f"/api/sessions/{key}/points", {"x": 0.25, "y": -0.5, "target": 1})
    assert state["data"]["train"][-1] == [0.25, -0.5, 1.0]
    assert len(state["data"]["train"]) == len(first["data"]["train"]) + 1
    assert state["config"]["extra_points"] == [[0.25, -0.5, 1]]
    assert state["steps_per_epoch"] == 3  # 11 rows in batches of 4
    state = client.step(key, 9)
    model, *_ = fitted(state["config"], 3)
    assert_same_weights(state, model)


def test_delete_ends_a_session(client):
    key, _ = client.session()
    status, answer, _ = client.request("DELETE", f"/api/sessions/{key}")
    assert (status, answer) == (204, b"")
    status, message = client.error("GET", f"/api/sessions/{key}")
    assert status == 404 and key in message


def test_a_diverging_session_says_so_and_keeps_its_weights(client):
    """A step whose loss is infinite or NaN is not a refused request: it answers 200 with the
    State of the steps before it, which ``diverged`` explains; so do further steps, with no
    step taken, until a reset."""
    key, _ = client.session({"dataset": "regression", "learning_rate": 10, "optimizer": "sgd",
                             "hidden": [{"units": 8, "activation": "linear"}] * 6})  # fmt: skip
    last = client.step(key, 1)
    for _ in range(200):
        state = client.ok("POST", f"/api/sessions/{key}/step", {"steps": 1})
        if state["diverged"] is not None:
            break
        last = state
    message = state["diverged"]
    assert message == (
        f"training diverged: the loss became nan at step {last['step'] + 1}; try a smaller "
        "learning_rate (now 10). The session keeps the weights from before that step."
    )
    # the diverging step was not taken: the weights, the count and the history are the last's
    assert state["step"] == last["step"] == last["history"]["step"][-1]
    assert state["history"] == last["history"]
    assert_weights(state, state_weights(last))
    assert client.ok("GET", f"/api/sessions/{key}?grid=8")["diverged"] == message
    assert client.ok("POST", f"/api/sessions/{key}/step", {"steps": 5}) == state
    refusal = (409, f"{message} Reset to train again.")
    assert client.error("POST", f"/api/sessions/{key}/trace") == refusal
    assert client.ok("POST", f"/api/sessions/{key}/reset")["diverged"] is None
    assert client.step(key, 1)["step"] == 1


#: adagrad at learning rate 1 on two linear layers: a finite loss 7760 times its start at
#: the end of epoch 2 (two batches of 50 an epoch)
RUNAWAY = {"dataset": "regression", "optimizer": "adagrad", "learning_rate": 1,
           "batch_size": 50, "hidden": [{"units": 8, "activation": "linear"}] * 2}  # fmt: skip


def test_a_loss_that_runs_away_stops_the_session_with_the_weights_before_training(client):
    """fit's guard, at the end of each epoch: a finite loss over 1000 times the loss before
    training stops the session, as it stops fit; the weights go back to the seed's."""
    key, first = client.session(RUNAWAY)
    states = [client.step(key, 1) for _ in range(4)]
    assert [s["diverged"] for s in states[:3]] == [None] * 3
    assert all(np.isfinite(s["train_loss"]) for s in states)
    assert max(s["train_loss"] for s in states) > 1000 * first["train_loss"]
    # until the guard trips, the session is fit: after epoch 1, fit(epochs=1)'s weights
    assert_same_weights(states[1], fitted(first["config"], 1)[0])
    state = states[3]
    assert state["diverged"].startswith("training diverged: the training loss rose to ")
    assert " in epoch 2 of this fit, " in state["diverged"]
    assert state["diverged"].endswith("The model keeps the weights it had before this fit.")
    assert (state["step"], state["epoch"]) == (4, 2)
    assert_weights(state, state_weights(first))
    assert state["train_loss"] == first["train_loss"] and state["test_loss"] == first["test_loss"]
    assert client.ok("POST", f"/api/sessions/{key}/step", {"steps": 3, "grid": 0}) == state


@pytest.mark.parametrize(
    ("config", "epoch", "verdict"),
    [
        (RUNAWAY, 2, "the training loss rose to "),
        ({"dataset": "regression", "learning_rate": 10}, 1, "the training loss rose to "),
        # momentum at rate 3 on the circle: never below its start, 10.8 times it in epoch 12
        ({"optimizer": "momentum", "learning_rate": 3}, 12, "in 12 epochs of this fit the "),
    ],
)
def test_fit_and_the_session_stop_at_the_same_epoch_with_the_same_message(
    client, config, epoch, verdict
):
    key, first = client.session(config)
    state = client.step(key, 1000)  # it stops on its own
    with pytest.raises(gn.TrainingDivergedError) as stopped:
        fitted(first["config"], 1000)
    model = stopped.value.model
    assert state["diverged"] == str(stopped.value)
    assert state["diverged"].startswith(f"training diverged: {verdict}")
    assert len(model.history.loss) == epoch - 1  # the epochs fit finished before the verdict
    assert (state["epoch"], state["step"]) == (epoch, epoch * state["steps_per_epoch"])
    # the same weights put back, and the same last step's gradients: the same steps were taken
    assert_same_weights(state, model)
    for w, layer in zip(state["network"]["weights"], model.layers, strict=True):
        np.testing.assert_array_equal(np.array(w["dW"]), layer.grads["W"])
        np.testing.assert_array_equal(np.array(w["db"]), layer.grads["b"])
