"""Training statistics (glassnet.training.statistics): every value checked against numbers
worked out by hand on a tiny network, the dead-unit share over all of an epoch's batches,
the record saved in the model file, and the recorder's options."""

import math
import pickle

import numpy as np
import pytest

import glassnet as gn
from glassnet.datasets.planar import planar_dataset
from glassnet.training import statistics
from glassnet.training.statistics import TrainingStatistics


def tiny():
    """2 -> Dense(2, relu) -> Dense(1), float64, weights chosen for hand arithmetic."""
    model = gn.Sequential([gn.Dense(2, activation="relu"), gn.Dense(1)], dtype="float64")
    model.build((2,))
    model.set_weights(
        {
            "layers.0.W": [[1.0, -1.0], [0.0, -1.0]],
            "layers.0.b": [0.0, 0.0],
            "layers.1.W": [[1.0], [1.0]],
            "layers.1.b": [0.0],
        }
    )
    return model


def test_one_full_batch_step_matches_the_hand_arithmetic():
    X = np.array([[1.0, 1.0], [2.0, 0.0]])
    y = np.array([[0.0], [0.0]])
    model = tiny()
    model.fit(X, y, loss="mse", optimizer=gn.SGD(learning_rate=0.1), batch_size=None)
    s = model.history.statistics
    # z1 = X @ W1 = [[1, -2], [2, -2]]; a1 = relu(z1) = [[1, 0], [2, 0]]
    # the second unit never fires: dead share 1/2
    assert s["layers.0/dead"] == [0.5]
    # a1: mean (1 + 0 + 2 + 0) / 4 = 0.75; var (1 + 4) / 4 - 0.75^2 = 0.6875
    assert s["layers.0/activation_mean"] == [0.75]
    assert s["layers.0/activation_std"] == pytest.approx([math.sqrt(0.6875)], rel=1e-15)
    # out = a1 @ W2 = [[1], [2]]: mean 1.5, std 0.5 (the identity's a is z)
    assert s["layers.1/activation_mean"] == [1.5]
    assert s["layers.1/activation_std"] == [0.5]
    # MSE = (1 + 4) / 2 = 2.5; dL/dout = 2 (out - y) / n = [[1], [2]] = delta2
    # dW2 = a1.T @ delta2 = [[1*1 + 2*2], [0]] = [[5], [0]]: norm 5; db2 = 1 + 2 = 3
    assert s["layers.1.W/grad_norm"] == [5.0]
    assert s["layers.1.b/grad_norm"] == [3.0]
    # delta1 = (delta2 @ W2.T) * relu'(z1) = [[1, 1], [2, 2]] * [[1, 0], [1, 0]]
    # dW1 = X.T @ delta1 = [[1*1 + 2*2, 0], [1*1 + 0*2, 0]] = [[5, 0], [1, 0]]: sqrt(26)
    # db1 = [3, 0]: norm 3
    assert s["layers.0.W/grad_norm"] == pytest.approx([math.sqrt(26)], rel=1e-15)
    assert s["layers.0.b/grad_norm"] == [3.0]
    # SGD, learning rate 0.1: W2' = [[1 - 0.5], [1]], ||dW2 step|| = 0.5, ||W2'|| = sqrt(1.25)
    assert s["layers.1.W/update_ratio"] == pytest.approx([0.5 / math.sqrt(1.25)], rel=1e-14)
    # b2' = -0.3: the step is the whole bias, ratio 1; likewise b1' = [-0.3, 0]
    assert s["layers.1.b/update_ratio"] == pytest.approx([1.0], rel=1e-14)
    assert s["layers.0.b/update_ratio"] == pytest.approx([1.0], rel=1e-14)
    # W1' = [[0.5, -1], [-0.1, -1]]: step 0.1 * sqrt(26), size sqrt(0.25 + 1 + 0.01 + 1)
    want = 0.1 * math.sqrt(26) / math.sqrt(2.26)
    assert s["layers.0.W/update_ratio"] == pytest.approx([want], rel=1e-14)
    assert s["epoch"] == [1.0]


def test_the_dead_share_is_over_every_batch_of_the_epoch_not_only_the_sampled_ones():
    # row 1: z1 = [1, -2] (unit 1 fires); row 2 = [-2, 0]: z1 = [-2, 2] (unit 2 fires)
    X = np.array([[1.0, 1.0], [-2.0, 0.0]])
    y = np.zeros((2, 1))
    model = tiny()
    record = TrainingStatistics(sample_batches=1)  # measures batch 1 only
    model.fit(
        X, y, loss="mse", optimizer=gn.SGD(learning_rate=1e-12), batch_size=1, shuffle=False,
        callbacks=[record],
    )  # fmt: skip
    s = model.history.statistics
    assert s["layers.0/dead"] == [0.0]  # each unit fired on one of the two batches
    # the sampled batch alone (row 1): a1 = [1, 0], mean 0.5
    assert s["layers.0/activation_mean"] == [0.5]


def test_saturation_counts_values_within_the_margin_of_a_flat_end():
    z = np.array([[-5.0, 0.0, 5.0, 10.0]])
    # sigmoid: 0.0067 (< 0.01), 0.5, 0.9933 (> 0.99), 0.99995: three of four saturated
    assert statistics.saturated_share(gn.Sigmoid()(z), "sigmoid") == 0.75
    # tanh: beyond +-0.98 is saturated: tanh(2) = 0.964 is not, tanh(2.5) = 0.9866 is
    t = np.tanh(np.array([-2.5, -2.0, 0.0, 2.0, 2.5]))
    assert statistics.saturated_share(t, "tanh") == 0.4


def test_sampled_batches_are_evenly_spaced_and_include_the_first_and_last():
    assert sorted(statistics.sampled_batches(20, 8)) == [0, 3, 5, 8, 11, 14, 16, 19]
    assert sorted(statistics.sampled_batches(3, 8)) == [0, 1, 2]
    assert statistics.sampled_batches(1, 8) == {0}


def test_combined_moments_equal_the_moments_of_all_values():
    g = np.random.default_rng(0)
    parts = [g.normal(3.0, 2.0, size=n) for n in (5, 17, 1)]
    mean, std = statistics.combined_moments([(p.size, p.mean(), p.var()) for p in parts])
    every = np.concatenate(parts)
    assert mean == pytest.approx(every.mean(), rel=1e-14)
    assert std == pytest.approx(every.std(), rel=1e-13)


def test_combined_moments_past_the_float_range_are_inf_or_nan_not_an_error():
    # a diverging run's batches: (m - mean)**2 would raise OverflowError, math.fsum raises
    # on an intermediate overflow (1.7e308 + 1.7e308) and on inf + -inf
    assert statistics.combined_moments([(10, 1e200, 0.0), (10, -1e200, 0.0)]) == (0.0, math.inf)
    mean, std = statistics.combined_moments([(1, 1.7e308, 0.0), (1, 1.7e308, 0.0)])
    assert mean == math.inf and std == math.inf
    mean, std = statistics.combined_moments([(1, math.inf, 0.0), (1, -math.inf, 0.0)])
    assert math.isnan(mean) and math.isnan(std)


def test_a_run_whose_statistics_overflow_still_stops_with_the_divergence_error():
    # circle data, three linear layers, momentum at rate 3: the loss reaches ~1e211 in
    # epoch 1, whose weight statistics then passed the float range; fit used to raise
    # OverflowError from them at the end of training, hiding the divergence
    X, y, _, _ = planar_dataset("circle", n_samples=200, noise=0.1, train_fraction=0.5, rng=0)
    model = gn.Sequential(
        [*(gn.Dense(8, activation="linear") for _ in range(3)), gn.Dense(1, "sigmoid")],
        dtype="float64",
    )
    with pytest.raises(gn.TrainingDivergedError, match="training loss rose to"):
        model.fit(
            X, y, loss="bce", optimizer=gn.SGD(3, momentum=0.9), epochs=30, batch_size=10, rng=0
        )


def test_norm_does_not_overflow_in_float32():
    assert statistics.norm(np.full(4, 1e30, dtype=np.float32)) == pytest.approx(2e30, rel=1e-6)


def fitted(epochs=3, **kwargs):
    g = np.random.default_rng(1)
    X = g.normal(size=(100, 3))
    y = (X[:, 0] > 0).astype(int)
    model = gn.Sequential([gn.Dense(8, activation="tanh"), gn.Dense(1, activation="sigmoid")])
    model.fit(X, y, loss="bce", epochs=epochs, batch_size=10, rng=0, **kwargs)
    return model, X, y


def test_fit_records_by_default_and_every_list_has_one_value_per_recorded_epoch():
    model, X, y = fitted()
    s = model.history.statistics
    assert s["epoch"] == [1.0, 2.0, 3.0]
    per_epoch = [k for k in s if "/histogram_" not in k]
    assert {len(s[k]) for k in per_epoch} == {3}
    assert "layers.0/saturated" in s and "layers.0/dead" not in s  # tanh: no dead share
    assert len(s["layers.0/histogram_first"]) == statistics.HISTOGRAM_BINS
    assert len(s["layers.0/histogram_last_edges"]) == statistics.HISTOGRAM_BINS + 1
    # a second fit continues the epochs; the first histogram stays the first epoch's
    first = list(s["layers.0/histogram_first"])
    model.fit(X, y, epochs=2, batch_size=10)
    assert s["epoch"] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert s["layers.0/histogram_first"] == first
    assert not any("/" in key or key == "epoch" for key in model.history.history)  # apart


def test_statistics_are_saved_in_the_model_file_and_load_back_identically(tmp_path):
    model, _, _ = fitted()
    model.save(tmp_path / "m.safetensors")
    loaded = gn.load(tmp_path / "m.safetensors")
    assert loaded.history.statistics == model.history.statistics
    assert loaded.history.history == model.history.history


def test_a_recorder_that_is_off_records_nothing_and_is_not_replaced():
    model, _, _ = fitted(callbacks=[TrainingStatistics(enabled=False)])
    assert model.history.statistics == {}
    assert model.history.records() == model.history.history


def test_a_diverged_run_keeps_the_statistics_of_its_unfinished_epoch():
    g = np.random.default_rng(0)
    X = g.normal(size=(64, 4))
    y = X @ np.array([1.0, 2.0, -1.0, 0.5])
    model = gn.Sequential([gn.Dense(16, activation="relu"), gn.Dense(1)])
    with pytest.raises(gn.TrainingDivergedError, match="try a smaller learning_rate"):
        model.fit(X, y, loss="mse", optimizer=gn.SGD(learning_rate=10.0), epochs=5, rng=0)
    s = model.history.statistics
    assert s["epoch"][-1] == model.history.epochs + 1  # the epoch that was cut short
    assert max(s["layers.1.W/update_ratio"]) > 1  # steps bigger than the weights


def test_a_history_pickled_before_statistics_existed_still_saves():
    history = gn.History({"loss": [1.0, 0.5]})
    del history.__dict__["statistics"]
    assert pickle.loads(pickle.dumps(history)).records() == {"loss": [1.0, 0.5]}


def test_history_splits_the_file_keys_into_curves_and_statistics():
    history = gn.History({"loss": [1.0], "statistics/epoch": [1], "statistics/layers.0/dead": [0]})
    assert history.history == {"loss": [1.0]}
    assert history.statistics == {"epoch": [1.0], "layers.0/dead": [0.0]}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sample_batches": 0}, "sample_batches must be >= 1, got 0"),
        ({"enabled": "yes"}, "enabled must be True or False"),
    ],
)
def test_bad_options_are_one_line_errors(kwargs, match):
    with pytest.raises(gn.errors.InputError, match=match):
        TrainingStatistics(**kwargs)


def test_a_long_run_keeps_every_other_epoch_once_its_record_is_full(monkeypatch):
    monkeypatch.setattr(statistics, "MAX_EPOCHS", 4)
    model, _, _ = fitted(epochs=9)
    s = model.history.statistics
    # epochs 1..5: full at 5 -> [1, 3, 5]; 6, 7: [1, 3, 5, 6, 7]: full -> [1, 5, 7];
    # 8, 9: [1, 5, 7, 8, 9]: full -> [1, 7, 9]
    assert s["epoch"] == [1.0, 7.0, 9.0]
    assert {len(v) for k, v in s.items() if "/histogram_" not in k} == {3}
