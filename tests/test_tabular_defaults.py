"""glassnet train's defaults (glassnet.tabular.defaults): the optimizer with its cosine decay,
label smoothing for classifiers, and the line of the report that says so."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import glassnet as gn
from glassnet import load, tabular
from glassnet.tabular import defaults
from glassnet.training.heads import head_for
from glassnet.training.schedules import CosineDecay, ExponentialDecay

OPTIONS = SimpleNamespace(epochs=100, batch_size=64)


def test_a_named_optimizer_gets_the_default_rate_decayed_by_a_cosine_over_every_step():
    opt = defaults.make_optimizer("adamw", None, OPTIONS, 275)
    assert type(opt) is gn.AdamW and opt.weight_decay == 0.05
    rate = opt.learning_rate
    # 275 rows in batches of 64: ceil(275 / 64) = 5 steps an epoch, 100 epochs: 500 steps
    assert isinstance(rate, CosineDecay)
    assert (rate.initial_learning_rate, rate.decay_steps, rate.alpha) == (0.002, 500, 0.0)
    assert rate(0) == 0.002 and rate(250) == pytest.approx(0.001, rel=1e-15) and rate(500) == 0
    adam = defaults.make_optimizer("adam", None, OPTIONS, 64)
    assert type(adam) is gn.Adam and adam.weight_decay == 0.0
    assert (adam.learning_rate.initial_learning_rate, adam.learning_rate.decay_steps) == (
        0.002,
        100,
    )
    sgd = defaults.make_optimizer("sgd", None, OPTIONS, 64)  # its own default rate, 0.01
    assert sgd.learning_rate.initial_learning_rate == 0.01
    assert defaults.make_optimizer("rmsprop", 0.5, OPTIONS, 64).learning_rate(0) == 0.5


def test_an_optimizer_given_is_used_as_it_is_and_a_bad_name_is_refused():
    mine = gn.SGD(0.1)
    assert defaults.make_optimizer(mine, None, OPTIONS, 100) is mine
    with pytest.raises(ValueError, match="optimizer"):
        defaults.make_optimizer("adamax", None, OPTIONS, 100)


def test_classifiers_smooth_their_labels_and_regression_keeps_mse():
    ce = defaults.make_loss(head_for("classification", 3))
    bce = defaults.make_loss(head_for("classification", 2))
    assert type(ce) is gn.CrossEntropy and ce.label_smoothing == 0.1
    assert type(bce) is gn.BinaryCrossEntropy and bce.label_smoothing == 0.1
    assert defaults.make_loss(head_for("regression", 1)) == "mse"


def test_the_report_phrases_name_the_rate_its_decay_and_the_weight_decay():
    opt = defaults.make_optimizer("adamw", None, OPTIONS, 275)
    assert defaults.optimizer_phrase(opt) == (
        "AdamW (learning rate 0.002, cosine decay to 0 over 500 steps, weight decay 0.05)"
    )
    assert defaults.optimizer_phrase(gn.SGD(0.1)) == "SGD (learning rate 0.1)"
    other = gn.Adam(ExponentialDecay(0.01, decay_steps=10, decay_rate=0.5))
    assert defaults.optimizer_phrase(other) == "Adam (learning rate by ExponentialDecay)"
    head = head_for("classification", 3)
    assert defaults.loss_suffix(None, head) == " with label smoothing 0.1"
    assert defaults.loss_suffix(None, head_for("regression", 1)) == ""
    plain = SimpleNamespace(loss_=gn.CrossEntropy())  # a model fitted without smoothing
    assert defaults.loss_suffix(plain, head) == ""


def test_train_uses_the_defaults_says_so_and_the_model_file_keeps_them(tmp_path):
    lines = []
    result = tabular.train(
        "penguins.csv", "species", impute="mean", out=tmp_path / "p.safetensors", log=lines.append
    )
    assert lines[3] == (
        "network: 10 -> 256 relu -> 3 softmax (3,587 parameters); AdamW (learning rate 0.002, "
        "cosine decay to 0 over 500 steps, weight decay 0.05), cross-entropy loss with label "
        "smoothing 0.1, batches of 64, up to 100 epochs; robust scaling of the inputs"
    )
    assert result.metrics["validation"]["accuracy"] >= 0.98
    model = load(tmp_path / "p.safetensors")
    assert model.loss_.label_smoothing == 0.1
    rate = model.optimizer_.learning_rate
    assert isinstance(rate, CosineDecay) and rate.decay_steps == 500
    assert model.preprocessing.scaling == "robust"
