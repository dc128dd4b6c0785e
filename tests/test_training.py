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
