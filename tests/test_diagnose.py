"""gn.diagnose: for every code, a small training broken on purpose (fixed seed) that must
produce it and the fixed training that must not; healthy trainings (the seeds' networks,
penguins, digits) with no finding at all; the report's form and its errors."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import datasets, demos
from glassnet.cli.flags import flag_spelling
from glassnet.glassbox import findings


def data(n=300, seed=0):
    """Three classes from four features, one of them an interaction (a network's job)."""
    g = np.random.default_rng(seed)
    X = g.normal(size=(n, 4))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int) + (X[:, 3] > 1)
    return X, y


def mlp(act="relu", widths=(32, 32), out=3, output="softmax", **layer):
    hidden = [gn.Dense(w, activation=act, **layer) for w in widths]
    return gn.Sequential([*hidden, gn.Dense(out, activation=output)])


def codes(model, X, y, loss="cross_entropy", diagnose_loss=None, **fit):
    """Train (a run that diverges is diagnosed too) and return the diagnosis' codes."""
    try:
        model.fit(X, y, loss=loss, rng=0, **fit)
    except gn.TrainingDivergedError:
        pass
    return gn.diagnose(model, X, y, loss=diagnose_loss).codes


X, Y = data()


def test_learning_rate_too_high():
    # SGD at 3.0: the first epoch's loss jumps far above where it began, the ReLUs die
    assert "learning_rate_too_high" in codes(mlp(), X, Y, optimizer=gn.SGD(3.0), epochs=30)
    assert "learning_rate_too_high" not in codes(mlp(), X, Y, optimizer=gn.SGD(0.1), epochs=30)


def test_learning_rate_too_high_after_a_diverged_run():
    g = np.random.default_rng(0)
    Xr = g.normal(size=(64, 4))
    yr = Xr @ np.array([1.0, 2.0, -1.0, 0.5])
    model = gn.Sequential([gn.Dense(16, activation="relu"), gn.Dense(1)])
    found = codes(model, Xr, yr, loss="mse", optimizer=gn.SGD(10.0), epochs=5)
    assert "learning_rate_too_high" in found
    model = gn.Sequential([gn.Dense(16, activation="relu"), gn.Dense(1)])
    assert codes(model, Xr, yr, loss="mse", optimizer=gn.SGD(0.01), epochs=5) == []


def test_learning_rate_too_low():
    assert "learning_rate_too_low" in codes(mlp(), X, Y, optimizer=gn.SGD(1e-6), epochs=10)
    assert "learning_rate_too_low" not in codes(mlp(), X, Y, optimizer=gn.SGD(0.1), epochs=10)


def test_unscaled_inputs():
    raw = X.copy()
    raw[:, 0] *= 1e4
    assert "unscaled_inputs" in codes(mlp(), raw, Y, epochs=10)
    scaled = (raw - raw.mean(axis=0)) / raw.std(axis=0)
    assert "unscaled_inputs" not in codes(mlp(), scaled, Y, epochs=10)


def test_a_batch_normalization_in_front_scales_the_inputs_itself():
    raw = X.copy()
    raw[:, 0] *= 1e4
    model = gn.Sequential([gn.BatchNormalization(), *mlp().layers])
    assert "unscaled_inputs" not in codes(model, raw, Y, epochs=10)


def test_unscaled_inputs_of_a_feature_scaled_by_1e30_that_stalls_adam():
    raw = X.copy()
    raw[:, 1] *= 1e30
    report = gn.diagnose(mlp().build((4,), rng=0), raw, Y, loss="cross_entropy")
    assert report.codes[:1] == ["unscaled_inputs"]
    assert "feature 1 reaches" in report.findings[0].evidence
    # a regression on it diverges at once (the loss overflows): the diagnosis says why
    target = X @ np.array([1.0, 2.0, -1.0, 0.5])
    model = gn.Sequential([gn.Dense(32, activation="relu"), gn.Dense(1)])
    assert codes(model, raw, target, loss="mse", epochs=20) == ["unscaled_inputs"]


def test_dead_relu():
    positive = np.abs(X)  # all inputs positive, all weights negative: every z < 0
    dead = mlp(weight_init={"name": "uniform", "low": -1.0, "high": 0.0})
    assert codes(dead, positive, Y, epochs=10) == ["dead_relu", "dead_relu"]
    assert "dead_relu" not in codes(mlp(weight_init="he_normal"), positive, Y, epochs=10)


def test_saturated_units():
    big = mlp(act="sigmoid", weight_init={"name": "normal", "std": 10.0})
    assert "saturated_units" in codes(big, X, Y, epochs=10)
    assert "saturated_units" not in codes(mlp(act="sigmoid"), X, Y, epochs=10)


def test_vanishing_gradients():
    assert "vanishing_gradients" in codes(mlp("sigmoid", (16,) * 10), X, Y, epochs=5)
    assert "vanishing_gradients" not in codes(mlp("relu", (16,) * 10), X, Y, epochs=5)


def test_exploding_gradients():
    big = mlp("relu", (64,) * 6, weight_init={"name": "normal", "std": 1.0})
    assert "exploding_gradients" in codes(big, X, Y, optimizer=gn.SGD(1e-12), epochs=2)
    fine = mlp("relu", (64,) * 6)
    assert "exploding_gradients" not in codes(fine, X, Y, optimizer=gn.SGD(1e-3), epochs=2)


def test_overfitting():
    Xs, ys = data(40, 1)
    ys = np.where(np.random.default_rng(3).random(40) < 0.3, (ys + 1) % 3, ys)  # noisy labels
    run = {"epochs": 150, "optimizer": gn.Adam(0.01), "validation_data": data(300, 2)}
    assert "overfitting" in codes(mlp(widths=(128,)), Xs, ys, **run)
    run["optimizer"] = gn.Adam(0.01)
    stopped = codes(mlp(widths=(128,)), Xs, ys, callbacks=[gn.EarlyStopping(patience=3)], **run)
    assert "overfitting" not in stopped


def test_underfitting():
    g = np.random.default_rng(4)
    Xc = g.normal(size=(400, 2))
    yc = ((Xc**2).sum(axis=1) < 1.4).astype(int)  # a disc: no straight line separates it
    line = gn.Sequential([gn.Dense(1, activation="sigmoid")])
    assert codes(line, Xc, yc, loss="bce", epochs=30, optimizer=gn.Adam(0.05)) == ["underfitting"]
    net = gn.Sequential([gn.Dense(16, activation="relu"), gn.Dense(1, activation="sigmoid")])
    assert codes(net, Xc, yc, loss="bce", epochs=100, optimizer=gn.Adam(0.05)) == []


def test_wrong_output_for_loss_even_for_a_pair_fit_refuses():
    identity = mlp(output=None).build((4,), rng=0)
    with pytest.raises(ValueError, match="needs probabilities"):
        identity.fit(X, Y, loss="cross_entropy")
    report = gn.diagnose(identity, X, Y, loss="cross_entropy")
    assert report.codes == ["wrong_output_for_loss"]
    assert "the network's output is identity" in report.findings[0].evidence
    softmax = mlp().build((4,), rng=0)  # untrained: it underfits, but its output is right
    assert gn.diagnose(softmax, X, Y, loss="cross_entropy").codes == ["underfitting"]


def test_wrong_output_for_loss_when_a_bounded_output_cannot_reach_the_targets():
    target = X[:, 0] * 50 + 100
    found = codes(mlp(out=1, output="sigmoid"), X, target, loss="mse", epochs=5)
    assert "wrong_output_for_loss" in found
    standardised = (target - target.mean()) / target.std()
    assert codes(mlp(out=1, output=None), X, standardised, loss="mse", epochs=5) == []


# -- healthy trainings: no finding ------------------------------------------------------------
def quiet(line):
    pass


def test_the_seeds_networks_are_healthy():
    perceptron = demos.perceptron(out=quiet)["model"]
    assert gn.diagnose(perceptron, *datasets.perceptron_table()).healthy
    gender = demos.gender(out=quiet)["model"]
    assert gn.diagnose(gender, *datasets.gender()).healthy
    Xx, yx = datasets.xor3()
    init = {"name": "uniform", "low": 0.0, "high": 1.0}
    layers = [gn.Dense(n, activation="sigmoid", use_bias=False, weight_init=init) for n in (4, 1)]
    two_layer = gn.Sequential(layers, dtype="float64")
    two_layer.fit(Xx, yx, loss="sse", optimizer=gn.SGD(1.0), epochs=1500, batch_size=None,
                  shuffle=False, rng=1)  # fmt: skip
    assert gn.diagnose(two_layer, Xx, yx).healthy


def test_penguins_trained_by_glassnet_train_is_healthy():
    from glassnet import tabular
    from glassnet.tabular.diagnosis import diagnose_table

    result = tabular.train("penguins.csv", "species", out=False, impute="mean")
    report = diagnose_table(result.model, "penguins.csv", drop_missing=True)
    assert report.healthy, str(report)
    assert str(report).startswith("no problems found (looked at")


def test_a_small_digits_run_is_healthy():
    from glassnet.datasets.mnist import load_digits_subset
    from glassnet.digits import digits_cnn

    Xd, yd, _, _ = load_digits_subset()
    model = digits_cnn((4, 8))
    model.fit(Xd[:1000], yd[:1000], loss="cross_entropy", epochs=2, rng=0)
    assert gn.diagnose(model, Xd[:1000], yd[:1000]).healthy
    raw = Xd[:1000] * 255  # pixels as stored: 0..255
    assert gn.diagnose(model, raw, yd[:1000]).codes[:1] == ["unscaled_inputs"]


# -- the report ---------------------------------------------------------------------------------
def test_a_finding_has_its_code_explanation_evidence_fix_layer_and_epoch():
    model = mlp()
    model.fit(X, Y, loss="cross_entropy", optimizer=gn.SGD(3.0), epochs=30, rng=0)
    report = model.diagnose(X, Y)
    high = report.findings[report.codes.index("learning_rate_too_high")]
    assert high.explanation == findings.CODES["learning_rate_too_high"]
    assert high.layer == "layers.2" and high.epoch == 1  # its largest step: the output layer
    assert "healthy: about 1e-3" in high.evidence
    assert str(high.fix) == "divide the learning rate by 10: learning_rate=0.3"
    assert high.fix.format(flag_spelling) == "divide the learning rate by 10: --learning-rate 0.3"
    text = str(report)
    assert text.startswith(f"{len(report.findings)} problems found:\nlearning_rate_too_high: ")
    assert "  evidence: " in text and "  fix: " in text
    assert report.brief().splitlines()[0] == (
        "learning_rate_too_high: " + findings.CODES["learning_rate_too_high"]
    )


def test_every_code_is_documented_and_every_rule_threshold_has_a_docstring():
    import ast
    import inspect

    assert set(findings.CODES) == {
        "learning_rate_too_high", "learning_rate_too_low", "unscaled_inputs", "dead_relu",
        "saturated_units", "vanishing_gradients", "exploding_gradients", "overfitting",
        "underfitting", "wrong_output_for_loss",
    }  # fmt: skip
    for code in findings.CODES:
        assert f"``{code}``" in findings.__doc__
    from glassnet.glassbox import thresholds

    body = ast.parse(inspect.getsource(thresholds)).body
    constants = [node for node in body if isinstance(node, ast.Assign)]
    assert len(constants) == 20
    for node in constants:
        after = body[body.index(node) + 1]
        name = node.targets[0].id
        assert isinstance(after, ast.Expr) and isinstance(after.value.value, str), name


def test_a_model_without_data_is_diagnosed_from_its_record():
    model = mlp()
    model.fit(X, Y, loss="cross_entropy", epochs=3, rng=0)
    assert gn.diagnose(model).healthy


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda m: gn.diagnose(m, None, Y), "diagnose needs X with y"),
        (lambda m: gn.diagnose(mlp(), X, Y), "the model is not built yet"),
        (lambda m: gn.diagnose(m, X[:, :3], Y), "X has 3 features, but the model expects 4"),
    ],
)
def test_bad_arguments_are_one_line_errors(call, match):
    model = mlp().build((4,), rng=0)
    with pytest.raises(gn.errors.InputError, match=match):
        call(model)


# -- the command line -------------------------------------------------------------------------
def cli(capsys, *argv):
    from glassnet.cli import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


TRAIN = ["train", "penguins.csv", "--target", "species", "--impute", "mean", "-q"]


def test_train_diagnose_prints_the_report_and_diagnose_reads_the_saved_model(capsys, tmp_path):
    model = tmp_path / "p.safetensors"
    code, out, _ = cli(capsys, *TRAIN, "--out", model, "--diagnose")
    assert code == 0
    assert out.splitlines()[-1].startswith("no problems found (looked at ")
    code, out, _ = cli(capsys, "diagnose", model, "penguins.csv", "--drop-missing")
    assert (code, out.splitlines()[0][:25]) == (0, "no problems found (looked")


def test_a_run_that_ends_badly_says_so_briefly_and_diagnose_gives_the_fix(capsys, tmp_path):
    model = tmp_path / "slow.safetensors"
    slow = ["--optimizer", "sgd", "--learning-rate", "1e-7", "--epochs", "5", "--out", model]
    code, out, _ = cli(capsys, *TRAIN, *slow)
    assert code == 0
    tail = out.splitlines()[-3:]
    assert tail[0] == "diagnosis (--diagnose shows the evidence and the fixes):"
    assert tail[1] == "  learning_rate_too_low: " + findings.CODES["learning_rate_too_low"]
    code, out, _ = cli(capsys, "diagnose", model, "penguins.csv", "--drop-missing")
    assert code == 1
    assert "  fix: multiply the learning rate by 100: --learning-rate 1e-05" in out


def test_a_diverged_run_shows_the_error_and_the_finding(capsys, tmp_path):
    code, out, err = cli(capsys, *TRAIN, "--learning-rate", "100", "--out", tmp_path / "x")
    assert code == 2
    assert err.startswith("glassnet: error: training diverged: ") and err.count("\n") == 1
    lines = out.splitlines()
    at = lines.index("diagnosis of the run that diverged:")
    assert lines[at + 1 : at + 2] == [
        "learning_rate_too_high: " + findings.CODES["learning_rate_too_high"],
    ]


def test_diagnose_a_python_model_on_a_csv_of_numbers(capsys, tmp_path):
    import pandas as pd

    raw = X.copy()
    raw[:, 1] *= 1e4  # (at 1e30, Adam's second moment overflows float32: see the report)
    table = pd.DataFrame(raw, columns=["a", "b", "c", "d"]).assign(label=Y)
    table.to_csv(tmp_path / "big.csv", index=False)
    model = mlp()
    model.fit(raw, Y, loss="cross_entropy", epochs=5, rng=0)
    model.save(tmp_path / "big.safetensors")
    code, out, _ = cli(capsys, "diagnose", tmp_path / "big.safetensors", tmp_path / "big.csv",
                       "--target", "label")  # fmt: skip
    assert code == 1
    assert "unscaled_inputs: " in out and f"feature 'b' reaches {abs(raw[:, 1]).max():.3g}" in out
    code, _, err = cli(capsys, "diagnose", tmp_path / "big.safetensors", tmp_path / "big.csv")
    assert code == 2
    assert err.startswith("glassnet: error: --target must name the column of DATA that holds")


# -- the training report (PNG) --------------------------------------------------------------
def test_the_training_report_has_every_panel_and_the_findings(tmp_path):
    from glassnet.glassbox.training_report import plot_training_diagnostics, training_report_figure

    model = mlp()
    model.fit(X, Y, loss="cross_entropy", optimizer=gn.SGD(3.0), epochs=30, rng=0,
              validation_split=0.2)  # fmt: skip
    report = model.diagnose(X, Y)
    fig = training_report_figure(model, report=report)
    titles = [ax.get_title() or ax.get_title(loc="left") for ax in fig.axes]
    assert titles == [
        "Loss per epoch", "Gradient norm per layer", "Update / weight ratio",
        "Activations, first epoch", "Activations, last epoch", "Dead and saturated units",
        "Diagnosis",
    ]  # fmt: skip
    written = fig.axes[-1].texts[0].get_text()
    assert written.startswith("1 problem found:\ndead_relu: many ReLU units are dead")
    assert [line.get_label() for line in fig.axes[1].lines] == [
        "layers.0.W", "layers.1.W", "layers.2.W"
    ]  # fmt: skip
    import matplotlib.pyplot as plt

    plt.close(fig)
    path = plot_training_diagnostics(model, tmp_path / "report.png", report=report)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 50_000


def test_the_report_module_does_not_import_matplotlib_until_it_draws():
    import subprocess
    import sys

    code = "import sys, glassnet.glassbox.training_report; print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_a_model_never_trained_has_no_report_to_draw():
    from glassnet.glassbox.training_report import training_report_figure

    with pytest.raises(gn.errors.InputError, match="no training history to report: call fit"):
        training_report_figure(mlp().build((4,), rng=0))


def test_glassnet_diagnose_plot_writes_the_report(capsys, tmp_path):
    model = tmp_path / "p.safetensors"
    cli(capsys, *TRAIN, "--out", model, "--epochs", "20")
    code, out, _ = cli(capsys, "diagnose", model, "--plot", tmp_path / "r.png")
    assert code in (0, 1)
    assert out.splitlines()[-1] == f"training report written to {tmp_path / 'r.png'}"
    assert (tmp_path / "r.png").stat().st_size > 50_000
