"""Numbers that never overflow silently: values a float32 model cannot hold are refused with
their index (API) or column (tables); no NumPy warning escapes (the suite turns warnings into
errors); undefined metrics say why; runaway training stops, naming the learning rate, with
finite weights kept."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import glassnet as gn
from glassnet.tabular.encoders import OutOfRangeError
from glassnet.tabular.preprocessing import TablePreprocessor
from glassnet.training.metrics import Undefined, regression_metrics
from glassnet.training.trainer import TrainingDivergedError

FLOAT32_LIMIT = "|x| <= 3.403e+38"


def regression_data(n=64):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([1.0, 2.0, -1.0])


def small_model(dtype="float32"):
    return gn.Sequential([gn.Dense(8, activation="relu"), gn.Dense(1)], dtype=dtype)


# -- values a float32 model cannot hold ---------------------------------------------------------
@pytest.mark.parametrize("value", [1e308, -1e308])
def test_fit_refuses_a_value_beyond_float32_with_its_index_and_the_fixes(value):
    X, y = regression_data()
    X[3, 1] = value
    message = (
        f"X holds {value:.6g} at index (3, 1), beyond the range of float32 (the model's dtype: "
        f"{FLOAT32_LIMIT}); use a model with dtype='float64', or rescale X"
    )
    with pytest.raises(ValueError) as info:
        small_model().fit(X, y, loss="mse", rng=0)
    assert str(info.value) == message
    small_model("float64").fit(X / 1e300, y, loss="mse", rng=0)  # the fix: float64 holds it


def test_predict_and_evaluate_refuse_it_too_and_the_target_is_checked():
    X, y = regression_data()
    model = small_model()
    model.fit(X, y, loss="mse", rng=0)
    bad = X.copy()
    bad[5, 0] = 1e308
    for call in (lambda: model.predict(bad), lambda: model.evaluate(bad, y)):
        with pytest.raises(ValueError, match=r"^X holds 1e\+308 at index \(5, 0\), beyond"):
            call()
    y_bad = y.copy()
    y_bad[7] = 1e308
    with pytest.raises(
        ValueError, match=r"^y holds 1e\+308 at index 7, beyond the range of float32"
    ):
        small_model().fit(X, y_bad, loss="mse", rng=0)


def test_an_output_that_overflows_names_its_row():
    X, y = regression_data()
    model = small_model()
    model.fit(X, y, loss="mse", rng=0)
    for _, p, _ in model.slots():
        p *= 1e20  # finite weights, far too large: the output overflows float32
    with pytest.raises(ValueError) as info:
        model.predict(X)
    assert str(info.value) == (
        "the network's output for row 0 of X is nan (it overflowed float32): the inputs or the "
        "weights are too large; rescale X, or use a model with dtype='float64'"
    )


# -- tables: the column and the row -------------------------------------------------------------
def table(values, target=None):
    n = len(values)
    rng = np.random.default_rng(1)
    target = rng.normal(size=n) if target is None else target
    return pd.DataFrame({"x1": values, "x2": rng.normal(size=n), "y": target})


def fitted(frame):
    pre = TablePreprocessor([("x1", "numeric"), ("x2", "numeric")], "y", "regression")
    return pre.fit(frame[["x1", "x2"]], frame["y"].to_numpy())


def test_a_table_value_beyond_float32_names_column_and_row():
    values = np.linspace(0, 1, 10)
    values[4] = -1e308
    with pytest.raises(OutOfRangeError) as info:
        fitted(table(values))
    assert str(info.value) == (
        "column 'x1' holds -1e+308 in row 5, beyond the range of float32, the dtype the network "
        f"computes in ({FLOAT32_LIMIT}): rescale the column (for example, into other units)"
    )


def test_a_value_that_overflows_only_once_standardised_is_refused():
    frame = table(np.array([0.0, 1e-14, 2e-14, 3e-14]))  # scale 1.118e-14
    pre = TablePreprocessor([("x1", "numeric"), ("x2", "numeric")], "y", "regression")
    new = table(np.array([1e30, 0.0]))
    # robust scaling (the default) clips it smoothly: it reaches the network as 3 - 1.5e-12
    robust = pre.fit(frame[["x1", "x2"]], frame["y"].to_numpy()).transform(new[["x1", "x2"]])
    assert 3 - 1e-11 < robust[0, 0] < 3
    pre = TablePreprocessor(
        [("x1", "numeric"), ("x2", "numeric")], "y", "regression", scaling="standard"
    )
    pre.fit(frame[["x1", "x2"]], frame["y"].to_numpy())
    with pytest.raises(OutOfRangeError) as info:
        pre.transform(new[["x1", "x2"]])
    assert str(info.value) == (
        "column 'x1' holds 1e+30 in row 1, which standardised ((x - mean) / scale, mean "
        "1.5e-14, scale 1.118e-14) is 8.944e+43, beyond the range of float32, the dtype the "
        f"network computes in ({FLOAT32_LIMIT}): rescale the column (for example, into other "
        "units)"
    )


def test_a_regression_target_beyond_float32_is_refused_before_training(tmp_path):
    from glassnet.tabular.table import task_and_labels

    frame = table(np.linspace(0, 1, 30), target=np.r_[np.zeros(29), 1e308])
    with pytest.raises(OutOfRangeError, match=r"^column 'y' holds 1e\+308 in row 30, beyond"):
        task_and_labels(frame, "y", "regression")


# -- undefined metrics --------------------------------------------------------------------------
def test_r2_of_a_constant_target_is_undefined_with_its_reason():
    # 0.1 twenty times: SS_tot is rounding noise (3.9e-33), not 0; R² would print -5e30
    y_true = np.full(20, 0.1)
    assert ((y_true - y_true.mean()) ** 2).sum() > 0
    r2 = regression_metrics(y_true, y_true + 0.05)["r2"]
    assert isinstance(r2, Undefined) and math.isnan(r2)
    assert r2.reason == "every true value is 0.1: there is no variance for R² to explain"
    assert regression_metrics([1.0, 3.0], [1.0, 2.0])["r2"] == 1 - 1 / 2


# -- training that runs away --------------------------------------------------------------------
def test_adam_with_a_huge_learning_rate_stops_naming_it_and_keeps_the_weights_before_fit():
    X, y = regression_data(256)
    model = small_model()
    model.build((3,), 0)
    before = model.get_weights()
    with pytest.raises(TrainingDivergedError) as info:
        model.fit(X, y, loss="mse", optimizer=gn.Adam(learning_rate=100), epochs=20, rng=0)
    message = str(info.value)
    assert message.startswith("training diverged: the training loss rose to ")
    assert " in epoch 1 of this fit, " in message
    assert message.endswith(
        "; try a smaller learning_rate (now 100). The model keeps the weights it had before "
        "this fit."
    )
    for name, value in model.get_weights().items():
        np.testing.assert_array_equal(value, before[name])


def test_a_loss_that_never_falls_below_its_start_stops_after_ten_epochs(monkeypatch):
    from glassnet.training import trainer

    watch = trainer.LossWatch(2.0)
    verdicts = [watch.verdict(loss, epoch) for epoch, loss in enumerate([30.0] * 9)]
    assert verdicts == [None] * 9  # 15x: too early to judge
    assert watch.verdict(30.0, 9) == (
        "in 10 epochs of this fit the training loss was never below its value before training "
        "(2) and is now 15 times it (30)"
    )
    assert watch.verdict(2001.0, 10).startswith("the training loss rose to 2001 in epoch 11")
    settled = trainer.LossWatch(2.0)
    assert [settled.verdict(v, e) for e, v in enumerate([1.0] + [25.0] * 10)] == [None] * 11


def test_sgd_at_learning_rate_10_raises_without_any_numpy_warning():
    X, y = regression_data(256)
    with pytest.raises(TrainingDivergedError, match=r"try a smaller learning_rate \(now 10\)"):
        small_model().fit(X, y, loss="mse", optimizer=gn.SGD(learning_rate=10), epochs=5, rng=0)


def test_weights_made_infinite_by_an_epochs_last_step_are_restored(tmp_path):
    X, y = regression_data(8)
    model = small_model()
    model.fit(X, y, loss="mse", optimizer=gn.SGD(learning_rate=0.01), epochs=1, rng=0)
    start = model.get_weights()

    class LastStepBlowsUp(gn.SGD):
        def step(self, slots):
            super().step(slots)
            for _, p, _ in slots:
                p[...] = np.inf  # the loss of this batch was finite: only the weights show it

    with pytest.raises(TrainingDivergedError) as info:
        model.fit(X, y, optimizer=LastStepBlowsUp(learning_rate=0.01), batch_size=None)
    model.optimizer_ = gn.SGD(learning_rate=0.01)  # a model file names glassnet's own
    assert str(info.value) == (
        "training diverged: the weights became infinite or NaN in epoch 1 of this fit; try a "
        "smaller learning_rate (now 0.01). The model keeps the weights from the start of that "
        "epoch."
    )
    for name, value in model.get_weights().items():
        np.testing.assert_array_equal(value, start[name])
    model.save(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(gn.load(tmp_path / "m.safetensors").predict(X), model.predict(X))
