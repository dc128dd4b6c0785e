import numpy as np
import pytest

import glassnet as gn
from glassnet import datasets
from glassnet.training.batches import validation_rows


def test_design_example_gender():
    X, y = datasets.gender()
    model = gn.Sequential([gn.Dense(2, activation="sigmoid"), gn.Dense(1, activation="sigmoid")])
    history = model.fit(
        X, y, loss="mse", optimizer=gn.SGD(learning_rate=0.1), epochs=1000, batch_size=1, rng=0
    )
    emily, frank = model.predict(np.array([[-7, -3], [20, 2]]))[:, 0]
    assert emily > 0.8 and frank < 0.2
    assert len(history.loss) == 1000 and history.loss[-1] < history.loss[0] / 10
    assert history.accuracy == []  # mse is a regression loss: no accuracy recorded


def test_same_rng_gives_identical_weights_and_training():
    X, y = datasets.make_moons(100, rng=0)

    def run(seed):
        model = gn.Sequential([gn.Dense(8, activation="tanh"), gn.Dense(1, activation="sigmoid")])
        model.fit(X, y, loss="bce", epochs=3, batch_size=16, rng=seed)
        return model.get_weights()

    a, b, c = run(7), run(7), run(8)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["layers.0.W"], c["layers.0.W"])


def test_xor_is_learned():
    X, y = datasets.xor()
    model = gn.Sequential([gn.Dense(4, activation="tanh"), gn.Dense(1, activation="sigmoid")])
    model.fit(X, y, loss="bce", optimizer=gn.Adam(0.05), epochs=500, batch_size=None, rng=0)
    assert np.array_equal(model.predict_classes(X), y)


@pytest.mark.parametrize("maker", ["moons", "spirals"])
def test_interleaved_two_class_problems_reach_95_percent(maker):
    if maker == "moons":
        X, y = datasets.make_moons(600, noise=0.1, rng=1)
    else:
        X, y = datasets.make_spirals(600, noise=0.1, rng=1)
    X_test, y_test = X[400:], y[400:]
    model = gn.Sequential(
        [
            gn.Dense(32, activation="relu"),
            gn.Dense(32, activation="relu"),
            gn.Dense(2, activation="softmax"),
        ]
    )
    model.fit(
        X[:400],
        y[:400],
        loss="cross_entropy",
        optimizer=gn.Adam(0.01),
        epochs=300,
        batch_size=32,
        rng=0,
    )
    assert model.evaluate(X_test, y_test)["accuracy"] >= 0.95


def test_regression_with_mse():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(300, 2))
    y = np.sin(2 * X[:, :1]) + X[:, 1:] ** 2
    model = gn.Sequential([gn.Dense(32, activation="tanh"), gn.Dense(1)])
    history = model.fit(X, y, loss="mse", optimizer=gn.Adam(0.01), epochs=200, batch_size=32, rng=0)
    assert history.loss[-1] < 0.01
    assert "accuracy" not in history.history


def test_fit_continues_with_the_same_optimizer_state():
    X, y = datasets.make_moons(64, rng=0)
    model = gn.Sequential([gn.Dense(4, activation="tanh"), gn.Dense(1, activation="sigmoid")])
    model.fit(X, y, loss="bce", optimizer=gn.Adam(0.01), epochs=2, batch_size=16, rng=0)
    optimizer, iterations = model.optimizer_, model.optimizer_.iterations
    assert iterations == 8
    model.fit(X, y, epochs=3, batch_size=16)
    assert model.optimizer_ is optimizer and optimizer.iterations == iterations + 12
    assert model.history.epochs == 5
    model.fit(X, y, optimizer="adam", epochs=1, batch_size=16)  # same name: same state
    assert model.optimizer_ is optimizer
    model.fit(X, y, optimizer="sgd", epochs=1)
    assert isinstance(model.optimizer_, gn.SGD)


def test_continued_training_equals_one_long_run():
    X, y = datasets.make_moons(64, rng=0)

    def model():
        return gn.Sequential(
            [gn.Dense(4, activation="tanh"), gn.Dense(1, activation="sigmoid")], dtype="float64"
        )

    a, b = model(), model()
    a.fit(X, y, loss="bce", optimizer=gn.SGD(0.1, momentum=0.9), epochs=4, batch_size=16, rng=3)
    b.fit(X, y, loss="bce", optimizer=gn.SGD(0.1, momentum=0.9), epochs=2, batch_size=16, rng=3)
    b.fit(X, y, epochs=2, batch_size=16)
    assert np.allclose(a.layers[0].params["W"], b.layers[0].params["W"], rtol=0, atol=1e-14)


def test_validation_split_is_shuffled_and_stratified():
    # the last 30% of rows are all class 1: a "last rows" split would hold out one class only
    X = np.arange(200, dtype=float).reshape(100, 2)
    y = np.r_[np.zeros(70, int), np.ones(30, int)]
    val_idx = validation_rows(y, 100, 0.2, True, np.random.default_rng(0))
    y_val, X_val = y[val_idx], X[val_idx]
    train_idx = np.setdiff1d(np.arange(100), val_idx)
    assert len(y_val) == 20 and np.bincount(y_val).tolist() == [14, 6]  # 20% of each class
    assert len(train_idx) == 80 and not np.isin(X_val[:, 0] // 2, train_idx).any()
    assert not np.array_equal(np.sort(X_val[:, 0] // 2), np.arange(80, 100))


def test_validation_data_and_early_stopping_restore_best_weights():
    X, y = datasets.make_moons(200, noise=0.3, rng=0)
    model = gn.Sequential(
        [
            gn.Dense(64, activation="relu"),
            gn.Dense(64, activation="relu"),
            gn.Dense(1, activation="sigmoid"),
        ]
    )
    stop = gn.EarlyStopping(patience=3, restore_best_weights=True)
    history = model.fit(
        X[:40],
        y[:40],
        loss="bce",
        optimizer=gn.Adam(0.05),
        epochs=300,
        batch_size=8,
        validation_data=(X[100:], y[100:]),
        callbacks=[stop],
        rng=0,
    )
    assert stop.stopped_epoch is not None and history.epochs < 300
    assert len(history.val_loss) == history.epochs and len(history.val_accuracy) == history.epochs
    best = int(np.argmin(history.val_loss))
    assert best == stop.best_epoch
    assert model.evaluate(X[100:], y[100:])["loss"] == pytest.approx(
        history.val_loss[best], rel=1e-5
    )


def test_validation_split_records_val_metrics():
    X, y = datasets.make_moons(100, rng=0)
    model = gn.Sequential([gn.Dense(4, activation="tanh"), gn.Dense(2, activation="softmax")])
    history = model.fit(X, y, loss="cross_entropy", epochs=2, validation_split=0.25, rng=0)
    assert set(history.history) == {
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
        "learning_rate",
    }


def test_sample_weight_zero_ignores_samples():
    X, y = datasets.make_moons(80, rng=0)
    w = np.r_[np.ones(40), np.zeros(40)]
    a = gn.Sequential(
        [gn.Dense(4, activation="tanh"), gn.Dense(1, activation="sigmoid")], dtype="float64"
    )
    b = gn.Sequential(
        [gn.Dense(4, activation="tanh"), gn.Dense(1, activation="sigmoid")], dtype="float64"
    )
    a.fit(
        X,
        y,
        loss="bce",
        optimizer=gn.SGD(0.5),
        epochs=5,
        batch_size=None,
        shuffle=False,
        sample_weight=w,
        rng=0,
    )
    # the same run on the first 40 rows, scaled: the loss divides by the batch size (80 vs 40)
    b.fit(
        X[:40],
        y[:40],
        loss="bce",
        optimizer=gn.SGD(0.25),
        epochs=5,
        batch_size=None,
        shuffle=False,
        rng=0,
    )
    assert np.allclose(a.layers[0].params["W"], b.layers[0].params["W"], atol=1e-12)
    with pytest.raises(ValueError, match="sample_weight must be >= 0, got -1.0"):
        a.fit(X, y, sample_weight=-w)
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(80,\), got \(3,\)"):
        a.fit(X, y, sample_weight=[1, 2, 3])


def test_divergence_stops_with_a_clear_error_and_keeps_finite_weights():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)) * 100
    y = rng.normal(size=(64, 1)) * 100
    model = gn.Sequential([gn.Dense(16, activation="relu"), gn.Dense(1)])
    with pytest.raises(gn.TrainingDivergedError, match="try a smaller learning_rate"):
        model.fit(X, y, loss="mse", optimizer=gn.SGD(10.0), epochs=50, batch_size=8, rng=0)
    assert all(np.isfinite(p).all() for _, p, _ in model.slots())


def test_verbose_zero_prints_nothing_and_verbose_one_shows_a_bar(capsys):
    X, y = datasets.xor()
    model = gn.Sequential([gn.Dense(2, activation="tanh"), gn.Dense(1, activation="sigmoid")])
    model.fit(X, y, loss="bce", epochs=3, verbose=0, rng=0)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    model.fit(X, y, epochs=3, verbose=1)
    assert "epoch 3/3" in capsys.readouterr().err


def test_float32_end_to_end():
    X, y = datasets.make_moons(64, rng=0)
    model = gn.Sequential([gn.Dense(4, activation="relu"), gn.Dense(2, activation="softmax")])
    model.fit(X, y, loss="cross_entropy", epochs=1, rng=0)
    assert all(p.dtype == np.float32 for _, p, _ in model.slots())
    assert model.predict(X).dtype == np.float32


def test_bad_input_messages():
    X, y = datasets.gender()
    model = gn.Sequential([gn.Dense(1, activation="sigmoid")])
    with pytest.raises(ValueError, match="loss is required the first time fit is called"):
        model.fit(X, y)
    bad = X.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN or infinity \(first at index \(2, 1\)"):
        model.fit(bad, y, loss="bce")
    with pytest.raises(ValueError, match=r"y contains NaN or infinity"):
        model.fit(X, np.array([1, 0, np.inf, 1]), loss="mse")
    with pytest.raises(ValueError, match="y has 3 rows but X has 4"):
        model.fit(X, y[:3], loss="bce")
    with pytest.raises(ValueError, match="epochs must be >= 1, got 0"):
        model.fit(X, y, loss="bce", epochs=0)
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        model.fit(X, y, loss="bce", batch_size=0)
    with pytest.raises(TypeError, match="epochs must be an integer, got 1.5"):
        model.fit(X, y, loss="bce", epochs=1.5)
    with pytest.raises(ValueError, match="binary cross-entropy needs labels 0 or 1"):
        model.fit(X, y + 1, loss="bce")
    with pytest.raises(TypeError, match="X must hold numbers"):
        model.fit(np.array([["a", "b"]] * 4), y, loss="bce")
    with pytest.raises(ValueError, match="validation_split must be < 1.0, got 1.0"):
        model.fit(X, y, loss="bce", validation_split=1.0)
    model.fit(X, y, loss="bce", epochs=1, rng=0)
    with pytest.raises(ValueError, match="expected 2 features, got 3"):
        model.predict(np.ones((1, 3)))
    with pytest.raises(ValueError, match="X must be 2-D"):
        model.predict(np.ones(2))
    with pytest.raises(ValueError, match="class label 2 does not fit a network with 2 outputs"):
        gn.Sequential([gn.Dense(2, activation="softmax")]).fit(
            X, [0, 1, 2, 0], loss="cross_entropy"
        )
    with pytest.raises(ValueError, match="not built yet"):
        gn.Sequential([gn.Dense(1)]).predict(X)
    with pytest.raises(TypeError, match="rng must be None, an int or a numpy.random.Generator"):
        model.fit(X, y, rng="seed")


def test_model_checkpoint_keeps_the_best_epoch(tmp_path):
    X, y = datasets.make_moons(200, noise=0.3, rng=0)
    model = gn.Sequential([gn.Dense(16, activation="relu"), gn.Dense(1, activation="sigmoid")])
    checkpoint = gn.ModelCheckpoint(tmp_path / "best.safetensors")
    history = model.fit(
        X[:100],
        y[:100],
        loss="bce",
        optimizer=gn.Adam(0.01),
        epochs=20,
        validation_data=(X[100:], y[100:]),
        callbacks=[checkpoint],
        rng=0,
    )
    best = int(np.argmin(history.val_loss))
    assert checkpoint.saved_epoch == best
    saved = gn.load(tmp_path / "best.safetensors")
    assert saved.history.epochs == best + 1
    assert saved.evaluate(X[100:], y[100:])["loss"] == pytest.approx(
        history.val_loss[best], rel=1e-5
    )


@pytest.mark.parametrize("rows", [4, 3000])  # the small-array path, the sum path
def test_finite_check_needs_no_copy_and_handles_huge_values(rows):
    from glassnet._validation import all_finite

    huge = np.full((rows, 3), 3e38, dtype=np.float32)  # the sum overflows; every value is fine
    assert all_finite(huge)
    huge[2, 1] = np.inf
    assert not all_finite(huge)
    nan = np.zeros((rows, 2))
    nan[rows - 1, 0] = np.nan
    assert not all_finite(nan)


def test_multi_label_sigmoid_outputs_train_and_count_exact_matches():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    Y = np.c_[X[:, 0] > 0, X[:, 1] > 0, X[:, 0] + X[:, 1] > 0].astype(int)
    model = gn.Sequential([gn.Dense(16, activation="tanh"), gn.Dense(3, activation="sigmoid")])
    history = model.fit(X, Y, loss="bce", optimizer=gn.Adam(0.02), epochs=150, rng=0)
    exact = np.mean(((model.predict(X) >= 0.5) == Y).all(axis=1))
    assert history.accuracy[-1] > 0.9
    assert model.evaluate(X, Y)["accuracy"] == pytest.approx(exact)


def test_checkpoint_on_accuracy_keeps_the_highest(tmp_path):
    X, y = datasets.make_moons(100, noise=0.2, rng=0)
    model = gn.Sequential([gn.Dense(8, activation="tanh"), gn.Dense(1, activation="sigmoid")])
    checkpoint = gn.ModelCheckpoint(tmp_path / "m.safetensors", monitor="accuracy")
    history = model.fit(
        X, y, loss="bce", optimizer=gn.SGD(0.05), epochs=15, callbacks=[checkpoint], rng=0
    )
    assert history.accuracy[checkpoint.saved_epoch] == max(history.accuracy)
    with pytest.raises(TypeError, match="save_best_only must be True or False, got 1"):
        gn.ModelCheckpoint(tmp_path / "m", save_best_only=1)


def test_astype_converts_optimizer_state_and_predict_checks_batch_size():
    X, y = datasets.make_moons(40, rng=0)
    model = gn.Sequential([gn.Dense(4, activation="tanh"), gn.Dense(1, activation="sigmoid")])
    model.fit(X, y, loss="bce", optimizer=gn.SGD(0.1, momentum=0.9), epochs=2, rng=0)
    wide = model.astype("float64")
    assert all(a.dtype == np.float64 for st in wide.optimizer_.state.values() for a in st.values())
    wide.fit(X, y, epochs=1)
    assert model.optimizer_.state["layers.0.W"]["velocity"].dtype == np.float32
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        model.predict(X, batch_size=0)
