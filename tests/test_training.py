"""The training loop: callbacks that always fire, early stopping and checkpoints that count
right, verbose levels, and losses that refuse an output they cannot read."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import datasets


def blobs(n, centers, rng):
    """``n`` points around ``centers`` well-separated centres in 4-D, labels 0..centers-1."""
    g = np.random.default_rng(rng)
    y = np.arange(n) % centers
    return g.normal(size=(n, 4)) + 3 * np.eye(4)[y], y


class Counter(gn.Callback):
    def __init__(self):
        self.calls = {}

    def _count(self, hook):
        self.calls[hook] = self.calls.get(hook, 0) + 1

    def on_train_begin(self, logs=None):
        self._count("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self._count("epoch_begin")

    def on_batch_end(self, batch, logs=None):
        self._count("batch_end")
        assert np.isfinite(logs["loss"])

    def on_epoch_end(self, epoch, logs=None):
        self._count("epoch_end")

    def on_train_end(self, logs=None):
        self._count("train_end")


@pytest.mark.parametrize("verbose", [0, 1, 2])
def test_every_hook_fires_whatever_verbose_is(verbose, capsys):
    """32 samples in batches of 4: 8 batches an epoch, 2 epochs -> 16 on_batch_end calls."""
    X, y = datasets.make_moons(32, rng=0)
    counter = Counter()
    model = gn.Sequential([gn.Dense(4, activation="tanh"), gn.Dense(1, activation="sigmoid")])
    model.fit(X, y, loss="bce", epochs=2, batch_size=4, callbacks=[counter], verbose=verbose)
    assert counter.calls == {
        "train_begin": 1,
        "epoch_begin": 2,
        "batch_end": 16,
        "epoch_end": 2,
        "train_end": 1,
    }
    out = capsys.readouterr().out
    if verbose == 2:  # one line per epoch, documented in fit
        assert out.splitlines()[0].startswith("epoch 1/2: loss ")
        assert out.splitlines()[1].startswith("epoch 2/2: loss ") and "accuracy" in out
    else:
        assert out == ""


def test_verbose_above_2_is_refused():
    X, y = datasets.make_moons(8, rng=0)
    model = gn.Sequential([gn.Dense(1, activation="sigmoid")])
    with pytest.raises(ValueError, match="verbose must be <= 2, got 3"):
        model.fit(X, y, loss="bce", verbose=3)


class Losses(gn.Callback):
    """Feeds EarlyStopping a scripted val_loss curve."""

    def __init__(self, curve):
        self.curve = curve

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.curve[epoch]


@pytest.mark.parametrize("patience", [0, 1, 3])
def test_early_stopping_stops_after_patience_epochs_without_improvement(patience):
    """Best at epoch index 2; then no improvement: with patience k the run stops at epoch
    index 2 + k (k epochs without improvement, as Keras counts), patience 0 at the first."""
    curve = [5.0, 4.0, 3.0] + [3.5] * 20
    X, y = datasets.make_moons(16, rng=0)
    stop = gn.EarlyStopping(patience=patience, restore_best_weights=False)
    model = gn.Sequential([gn.Dense(1, activation="sigmoid")])
    model.fit(X, y, loss="bce", epochs=20, callbacks=[Losses(curve), stop], rng=0)
    assert stop.best_epoch == 2
    assert stop.stopped_epoch == 2 + max(patience, 1) if patience else stop.stopped_epoch == 3
    assert model.history.epochs == stop.stopped_epoch + 1


def test_a_checkpoint_reused_across_fits_never_overwrites_a_better_file(tmp_path):
    X, y = datasets.make_moons(16, rng=0)
    path = tmp_path / "best.safetensors"
    checkpoint = gn.ModelCheckpoint(path, monitor="val_loss")
    model = gn.Sequential([gn.Dense(1, activation="sigmoid")])
    model.fit(X, y, loss="bce", epochs=3, callbacks=[Losses([3.0, 2.0, 1.0]), checkpoint], rng=0)
    saved = path.read_bytes()
    assert checkpoint.saved_epoch == 2 and checkpoint.best == 1.0
    model.fit(X, y, epochs=2, callbacks=[Losses([1.5, 1.2]), checkpoint])
    assert path.read_bytes() == saved  # both worse than 1.0: the better file stays


# -- a loss that needs probabilities ------------------------------------------------------------
@pytest.mark.parametrize(
    "loss, message",
    [
        ("cross_entropy", "loss 'cross_entropy' needs probabilities, but the network's output "
         "is identity: end it with a softmax output"),
        ("bce", "loss 'bce' needs probabilities, but the network's output is identity: end it "
         "with a sigmoid or softmax output"),
    ],
)  # fmt: skip
def test_a_probability_loss_on_an_identity_output_is_refused(loss, message):
    X, y = blobs(30, centers=2, rng=0)
    model = gn.Sequential([gn.Dense(4, "relu"), gn.Dense(1 if loss == "bce" else 2)])
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, loss=loss, epochs=1)
    with pytest.raises(ValueError, match="from_logits=True"):
        model.fit(X, y, loss=loss, epochs=1)


def test_from_logits_on_a_probability_output_is_refused():
    X, y = blobs(30, centers=3, rng=0)
    model = gn.Sequential([gn.Dense(3, activation="softmax")])
    with pytest.raises(ValueError, match=r"CrossEntropy\(from_logits=True\) reads the network's"):
        model.fit(X, y, loss=gn.CrossEntropy(from_logits=True))
    with pytest.raises(TypeError, match="from_logits must be True or False, got 1"):
        gn.CrossEntropy(from_logits=1)


@pytest.mark.parametrize(
    "loss, activation, units",
    [(gn.CrossEntropy, "softmax", 3), (gn.BinaryCrossEntropy, "sigmoid", 1)],
)
def test_from_logits_trains_exactly_like_the_probability_output(loss, activation, units):
    """An identity output with from_logits=True computes the same dL/dz = (p - y)/n as the
    fused softmax (sigmoid) output, so training gives the same weights to the last bit."""
    centers = 3 if units == 3 else 2
    X, y = blobs(60, centers=centers, rng=0)
    runs = []
    for out, fn in ((activation, loss()), (None, loss(from_logits=True))):
        model = gn.Sequential([gn.Dense(8, activation="relu"), gn.Dense(units, activation=out)])
        model.fit(X, y, loss=fn, optimizer=gn.Adam(0.01), epochs=5, batch_size=16, rng=3)
        runs.append(model)
    probs, logits = runs
    for (name, p, _), (_, q, _) in zip(probs.slots(), logits.slots(), strict=True):
        np.testing.assert_array_equal(p, q, err_msg=name)
    assert probs.history.loss == logits.history.loss
    assert probs.history.accuracy == logits.history.accuracy
    np.testing.assert_array_equal(probs.predict_classes(X), logits.predict_classes(X))


def test_the_loss_spec_round_trips_from_logits(tmp_path):
    X, y = blobs(20, centers=3, rng=0)
    model = gn.Sequential([gn.Dense(3)])
    model.fit(X, y, loss=gn.CrossEntropy(from_logits=True), epochs=1, rng=0)
    model.save(tmp_path / "m.safetensors")
    loaded = gn.load(tmp_path / "m.safetensors")
    assert repr(loaded.loss_) == "CrossEntropy(from_logits=True)"
    loaded.fit(X, y, epochs=1)  # continues with the same loss


@pytest.mark.parametrize(
    "layers", [[gn.Dense(1, activation="softmax")], [gn.Dense(1), gn.Softmax()]]
)
def test_a_softmax_over_one_unit_is_refused_at_build(layers):
    """Its output is 1.0 for every input, so BCE on it would report a loss while learning
    nothing: refused when the model is built, naming the fix."""
    X, y = blobs(20, 2, rng=0)
    model = gn.Sequential(layers)
    with pytest.raises(ValueError, match="a softmax over one unit is always 1.*'sigmoid'"):
        model.fit(X, y, loss="bce", epochs=1)


def test_a_misspelt_monitor_is_an_error_and_val_falls_back_without_validation(tmp_path):
    X, y = blobs(20, 2, rng=0)
    model = gn.Sequential([gn.Dense(1, activation="sigmoid")])
    with pytest.raises(ValueError, match=r"EarlyStopping\(monitor='val_los'\): fit logs no such"):
        model.fit(X, y, loss="bce", epochs=2, callbacks=[gn.EarlyStopping(monitor="val_los")])
    # no validation data: val_accuracy falls back to the training accuracy (higher is better)
    stop = gn.EarlyStopping(monitor="val_accuracy", patience=50, restore_best_weights=False)
    model.fit(X, y, loss="bce", epochs=3, callbacks=[stop], rng=0)
    assert stop.best == -max(model.history.accuracy[-3:])


# -- metrics in fit and evaluate -----------------------------------------------------------------
class Outputs(gn.Callback):
    """The network's outputs on X before each epoch (what a full-batch epoch trains on) and on
    the validation data after it (what val_ metrics read)."""

    def __init__(self, X, X_val):
        self.X, self.X_val, self.before, self.after = X, X_val, [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.before.append(self.model.predict(self.X))

    def on_epoch_end(self, epoch, logs=None):
        self.after.append(self.model.predict(self.X_val))


def _sklearn_values(task, y, output, w):
    """The oracle: scikit-learn's metric of each name fit logs, from the network's output."""
    from sklearn import metrics as sk

    if task == "regression":
        return {
            "mae": sk.mean_absolute_error(y, output, sample_weight=w),
            "mse": sk.mean_squared_error(y, output, sample_weight=w),
            "rmse": sk.root_mean_squared_error(y, output, sample_weight=w),
            "r2": sk.r2_score(y, output, sample_weight=w),
        }
    binary = output.shape[1] == 1
    pred = (output[:, 0] >= 0.5).astype(int) if binary else output.argmax(axis=1)
    # binary: of class 1, 0/0 undefined (NaN); macro, weighted: a class's 0/0 counts 0
    average, zero = ("binary", np.nan) if binary else ("macro", 0)
    scores = output[:, 0] if binary else output
    options = {"sample_weight": w, "zero_division": zero}
    return {
        "accuracy": sk.accuracy_score(y, pred, sample_weight=w),
        "precision": sk.precision_score(y, pred, average=average, **options),
        "recall": sk.recall_score(y, pred, average=average, **options),
        "f1": sk.f1_score(y, pred, average=average, **options),
        "f1_macro": sk.f1_score(y, pred, average="macro", sample_weight=w, zero_division=0),
        "f1_weighted": sk.f1_score(y, pred, average="weighted", sample_weight=w, zero_division=0),
        "auc": sk.roc_auc_score(y, scores, multi_class="ovr", sample_weight=w),
    }


TASKS = {  # task: (loss, output layer, classes, metrics)
    "binary": ("bce", gn.Dense(1, activation="sigmoid"), 2,
               ["accuracy", "precision", "recall", "f1", "f1_macro", "f1_weighted", "auc"]),
    "multiclass": ("cross_entropy", gn.Dense(3, activation="softmax"), 3,
                   ["accuracy", "precision", "recall", "f1", "f1_weighted", "auc"]),
    "regression": ("mse", gn.Dense(1), 0, ["mae", "mse", "rmse", "r2"]),
}  # fmt: skip


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("task", list(TASKS))
def test_fit_logs_exactly_sklearns_metrics_of_each_epochs_outputs(task, weighted):
    """Full-batch training: the epoch's training metrics are those of the outputs before its
    one step, the validation metrics those after it; both equal scikit-learn's, weighted."""
    import copy

    loss, head, k, names = TASKS[task]
    g = np.random.default_rng(1)
    X = g.normal(size=(120, 4))
    y = (X @ [1.0, -2.0, 0.5, 0.0] + g.normal(size=120)) if k == 0 else g.integers(0, k, 120)
    w = g.uniform(0.2, 2.0, 120) if weighted else None
    train, val = slice(0, 80), slice(80, None)
    wt, wv = (None, None) if w is None else (w[train], w[val])
    model = gn.Sequential([gn.Dense(5, activation="tanh"), copy.deepcopy(head)], dtype="float64")
    outputs = Outputs(X[train], X[val])
    model.fit(X[train], y[train], loss=loss, epochs=3, batch_size=None, metrics=names,
              sample_weight=wt, validation_data=(X[val], y[val], wv), callbacks=[outputs],
              optimizer=gn.Adam(0.05), rng=0)  # fmt: skip
    history = model.history.history
    val_names = [f"val_{n}" for n in names]
    assert list(history) == ["loss", *names, "val_loss", *val_names, "learning_rate"]
    kind = "regression" if k == 0 else "classification"
    for epoch in range(3):
        before = _sklearn_values(kind, y[train], outputs.before[epoch], wt)
        after = _sklearn_values(kind, y[val], outputs.after[epoch], wv)
        for name in names:
            got, got_val = history[name][epoch], history[f"val_{name}"][epoch]
            assert got == pytest.approx(before[name], abs=1e-12, nan_ok=True), name
            assert got_val == pytest.approx(after[name], abs=1e-12, nan_ok=True), name
    result = model.evaluate(X[val], y[val], sample_weight=wv)  # the fit's metrics by default
    last = {key[4:]: values[-1] for key, values in history.items() if key.startswith("val_")}
    assert result == pytest.approx(last, abs=1e-12, nan_ok=True)


def test_without_metrics_fit_logs_loss_and_accuracy_as_before_and_evaluate_takes_weights():
    X, y = blobs(60, centers=2, rng=0)
    model = gn.Sequential([gn.Dense(1, activation="sigmoid")], dtype="float64")
    model.fit(X, y, loss="bce", epochs=2, rng=0)
    assert list(model.history.history) == ["loss", "accuracy", "learning_rate"]
    regression = gn.Sequential([gn.Dense(1)])
    regression.fit(X, X[:, 0], loss="mse", epochs=1, rng=0)
    assert list(regression.history.history) == ["loss", "learning_rate"]
    # evaluate's loss with weights is the loss's own weighted mean sum(w_i l_i) / n
    w = np.linspace(0.0, 2.0, 60)
    result = model.evaluate(X, y, sample_weight=w, metrics=["accuracy", "auc"])
    p = model.predict(X)
    expected = model.loss_.forward(p, y.reshape(-1, 1).astype(float), w)
    assert result["loss"] == pytest.approx(expected, rel=1e-12)
    from sklearn import metrics as sk

    assert result["accuracy"] == pytest.approx(
        sk.accuracy_score(y, p[:, 0] >= 0.5, sample_weight=w), abs=1e-15
    )
    assert result["auc"] == pytest.approx(sk.roc_auc_score(y, p[:, 0], sample_weight=w))
    assert all(type(value) is float for value in result.values())
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(60,\), got \(3,\)"):
        model.evaluate(X, y, sample_weight=[1.0, 2.0, 3.0])


def test_mini_batch_training_metrics_are_running_metrics_over_the_epoch():
    """Batches of 16, no shuffle: the epoch's accuracy is the weighted count right over the
    outputs of each batch's forward pass, each with the weights at its step (as Keras)."""

    X, y = blobs(64, centers=3, rng=2)
    w = np.random.default_rng(0).uniform(0.5, 1.5, 64)
    model = gn.Sequential([gn.Dense(3, activation="softmax")], dtype="float64")
    seen = []
    forward = model.forward

    def recording(x, training=False):
        out = forward(x, training)
        if training:
            seen.append(out.copy())
        return out

    model.forward = recording
    model.fit(X, y, loss="cross_entropy", epochs=1, batch_size=16, shuffle=False,
              sample_weight=w, metrics=["accuracy", "f1"], optimizer=gn.SGD(0.5))  # fmt: skip
    from sklearn import metrics as sk

    pred = np.concatenate(seen).argmax(axis=1)
    assert len(seen) == 4
    assert model.history.accuracy[0] == pytest.approx(sk.accuracy_score(y, pred, sample_weight=w))
    expected_f1 = sk.f1_score(y, pred, average="macro", sample_weight=w)
    assert model.history.f1[0] == pytest.approx(expected_f1, abs=1e-12)


def test_a_function_metric_is_called_on_the_epochs_rows_and_logged_by_its_name():
    def max_error(y_true, y_pred, sample_weight=None):
        return float(np.max(np.abs(y_true - y_pred)))

    X, _ = blobs(40, centers=2, rng=1)
    y = X @ [1.0, 2.0, 0.0, -1.0]
    model = gn.Sequential([gn.Dense(1)], dtype="float64")
    outputs = Outputs(X, X)
    model.fit(X, y, loss="mse", epochs=2, batch_size=None, metrics=[max_error, "r2"],
              callbacks=[outputs], rng=0)  # fmt: skip
    for epoch in range(2):
        expected = np.max(np.abs(y - outputs.before[epoch][:, 0]))
        assert model.history.max_error[epoch] == pytest.approx(expected, rel=1e-15)
    stop = gn.EarlyStopping(monitor="max_error", patience=10, restore_best_weights=False)
    model.fit(X, y, epochs=2, callbacks=[stop])  # loss and metrics omitted: the same again
    assert len(model.history.max_error) == len(model.history.r2) == 4
    assert stop.best == min(model.history.max_error[-2:])  # an "_error": lower is better


@pytest.mark.parametrize(
    "metrics, loss, units, message",
    [
        (["aucc"], "bce", 1, "metrics: unknown metric 'aucc'; valid names are: accuracy, auc,"),
        (["auc"], "mse", 1, "metrics: 'auc' needs a classification loss, but the loss is 'mse'"),
        (["r2"], "bce", 1, "metrics: 'r2' needs a regression loss, but the loss is 'bce'"),
        (["f1"], "bce", 2, "metrics: 'f1' needs one class per sample, but the network has 2 "
         r"sigmoid outputs trained with 'bce' \(multi-label\)"),
        (["f1", "f1"], "bce", 1, "metrics: 'f1' is logged twice"),
        ("f1", "bce", 1, r"metrics must be a list such as \['accuracy', 'f1'\], got 'f1'"),
        ([3], "bce", 1, "metrics must hold names, Metric objects or functions"),
        ([lambda t, p: 0.0], "bce", 1, "metrics: the function .* has no name to log it under"),
    ],
)  # fmt: skip
def test_a_metric_that_does_not_fit_is_refused_at_fit_start_naming_metrics(
    metrics, loss, units, message
):
    X, y = blobs(20, centers=2, rng=0)
    y = np.stack([y, 1 - y], axis=1) if units == 2 else y
    model = gn.Sequential([gn.Dense(units, activation="sigmoid")])
    counter = Counter()
    with pytest.raises((ValueError, TypeError), match=message):
        model.fit(X, y, loss=loss, epochs=1, metrics=metrics, callbacks=[counter])
    assert counter.calls == {}  # refused before anything ran


def test_a_function_without_sample_weight_is_refused_when_the_data_have_weights():
    def spread(y_true, y_pred):
        return float(np.ptp(y_pred))

    X, y = blobs(20, centers=2, rng=0)
    model = gn.Sequential([gn.Dense(1, activation="sigmoid")])
    with pytest.raises(ValueError, match="metrics: spread takes no sample_weight, but the data"):
        model.fit(X, y, loss="bce", metrics=[spread], sample_weight=np.ones(20))
    model.fit(X, y, loss="bce", metrics=[spread])
    with pytest.raises(ValueError, match="metrics: spread takes no sample_weight"):
        model.evaluate(X, y, sample_weight=np.ones(20))


class Scripted(gn.Callback):
    """Feeds the callbacks after it a scripted curve under ``key``."""

    def __init__(self, key, curve):
        self.key, self.curve = key, curve

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.curve[epoch]


@pytest.mark.parametrize(
    "monitor, curve, best_epoch",
    [
        ("val_auc", [0.6, 0.8, 0.7, 0.75, 0.7, 0.7], 1),  # better higher
        ("val_f1_weighted", [0.5, 0.4, 0.9, 0.3, 0.3, 0.3], 2),
        ("val_r2", [0.1, 0.2, 0.3, 0.25, 0.2, 0.1], 2),
        ("val_rmse", [3.0, 2.0, 2.5, 2.6, 2.7, 2.8], 1),  # better lower
    ],
)
def test_early_stopping_auto_mode_maximises_scores_and_minimises_errors(monitor, curve, best_epoch):
    X, y = blobs(20, centers=2, rng=0)
    task_metric = monitor[4:]
    regression = task_metric in ("r2", "rmse")
    model = gn.Sequential([gn.Dense(1, activation=None if regression else "sigmoid")])
    stop = gn.EarlyStopping(monitor, patience=2, restore_best_weights=False)
    model.fit(X, X[:, 0] if regression else y, loss="mse" if regression else "bce", epochs=6,
              metrics=[task_metric], validation_split=0.25,
              callbacks=[Scripted(monitor, curve), stop], rng=0)  # fmt: skip
    assert stop.best_epoch == best_epoch and stop.stopped_epoch == best_epoch + 2


def test_verbose_2_prints_every_metric_and_n_a_for_an_undefined_one(capsys, tmp_path):
    X, y = blobs(20, centers=2, rng=0)
    model = gn.Sequential([gn.Dense(1, activation="sigmoid")])
    # validation rows of class 1 only: their AUC is undefined
    X_val, y_val = X[y == 1][:4], y[y == 1][:4]
    model.fit(X, y, loss="bce", epochs=1, metrics=["accuracy", "auc"], verbose=2,
              validation_data=(X_val, y_val), rng=0)  # fmt: skip
    line = capsys.readouterr().out.strip()
    assert line.startswith("epoch 1/1: loss ") and ", auc 0." in line
    assert line.endswith(", val_auc n/a")
    assert np.isnan(model.history.val_auc[0])
    model.save(tmp_path / "m.safetensors")  # a NaN in the history saves and loads back
    loaded = gn.load(tmp_path / "m.safetensors")
    assert np.isnan(loaded.history.val_auc[0]) and loaded.history.auc == model.history.auc


def test_model_checkpoint_keeps_the_best_f1_and_a_loaded_model_evaluates_the_default(tmp_path):
    X, y = blobs(40, centers=2, rng=0)
    path = tmp_path / "best.safetensors"
    checkpoint = gn.ModelCheckpoint(path, monitor="val_f1")
    model = gn.Sequential([gn.Dense(1, activation="sigmoid")])
    model.fit(X, y, loss="bce", epochs=4, metrics=["f1"], validation_split=0.25, rng=0,
              callbacks=[Scripted("val_f1", [0.5, 0.9, 0.7, 0.8]), checkpoint])  # fmt: skip
    assert checkpoint.saved_epoch == 1 and checkpoint.best == -0.9  # higher F1 is better
    loaded = gn.load(path)  # the model file keeps the loss, not the fit's metrics
    assert list(loaded.evaluate(X, y)) == ["loss", "accuracy"]
    assert list(loaded.evaluate(X, y, metrics=["f1", "auc"])) == ["loss", "f1", "auc"]


def test_gradients_that_overflow_the_optimizers_averages_are_a_divergence_and_the_model_saves(
    tmp_path,
):
    # a feature of size 1e30: dL/dW of its row is about 1e30, and Adam's g^2 (1e60) is
    # infinite in float32 while the weights stay finite (m / sqrt(v) is 0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2))
    X[:, 0] *= 1e30
    y = (X[:, 1] > 0).astype(int)
    model = gn.Sequential([gn.Dense(4, activation="relu"), gn.Dense(1, activation="sigmoid")])
    with pytest.raises(gn.TrainingDivergedError, match=r"running averages .* inputs scaled"):
        model.fit(X, y, loss="bce", optimizer="adam", epochs=3, rng=0)
    assert model.optimizer_.state == {} and model.optimizer_.iterations == 0
    model.save(tmp_path / "m.safetensors")  # before: a file gn.load refused (v infinite)
    loaded = gn.load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(loaded.predict(X[:, :]), model.predict(X))


def test_the_loss_before_training_includes_the_weight_penalties_the_epochs_include():
    # an L2 penalty of 1e4 * sum(W^2) dominates every epoch's loss; measured without it, the
    # loss before training looked 1000x smaller than the first epoch and stopped the fit
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(32, 3)), rng.normal(size=32)
    model = gn.Sequential([gn.Dense(1, kernel_regularizer=gn.L2(1e4))])
    model.fit(X, y, loss="mse", optimizer=gn.SGD(1e-6), epochs=2, batch_size=32, rng=0)
    assert len(model.history.loss) == 2
