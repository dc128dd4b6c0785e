"""The digits showcase: a CNN trained on the shipped MNIST subset, the demo end to end, and
the model's answers for digits drawn as PNG files.

The training here is short (8,000 digits, 2 epochs) so the file runs in well under a minute;
the accuracy floor is set above what a linear model reaches with the same budget (about
90 %), so the convolutions must be learning for the test to pass.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import glassnet as gn
from glassnet.datasets import load_digits_subset
from glassnet.datasets.images import predict_image
from glassnet.digits import (
    FILES,
    IMAGE_PREPROCESSING,
    _digits_to_show,
    _most_confused,
    digits_cnn,
    run_digits_demo,
)

MNIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def subset():
    return load_digits_subset()


@pytest.fixture(scope="module")
def trained(subset):
    """The demo's network, half as wide, after a short training run (about 5 s of one
    core)."""
    X_train, y_train, _, _ = subset
    model = digits_cnn(filters=(8, 16))
    model.fit(
        X_train[:8000],
        y_train[:8000],
        loss="cross_entropy",
        optimizer=gn.Adam(learning_rate=0.002),
        epochs=2,
        batch_size=32,
        rng=0,
    )
    model.preprocessing = IMAGE_PREPROCESSING
    return model


def test_short_training_on_the_shipped_digits_reaches_the_floor(subset, trained):
    """Measured with seeds 0-4: 95.2 % to 96.6 % on the 2,000 test digits; a softmax layer
    on the raw pixels, trained the same way, gets 89.6-89.9 %."""
    _, _, X_test, y_test = subset
    assert X_test.shape == (2000, 1, 28, 28)
    accuracy = trained.evaluate(X_test, y_test)["accuracy"]
    assert accuracy >= 0.94


def paint(digit, path, *, dark_on_light=True, mode="RGB"):
    """An MNIST digit (float in [0, 1], bright on black) enlarged 4x, as a user's PNG."""
    level = np.kron(digit, np.ones((4, 4)))
    grey = 255 * (1 - level) if dark_on_light else 255 * level
    Image.fromarray(np.round(grey).astype(np.uint8)).convert(mode).save(path)
    return path


def test_drawn_digits_are_read_correctly(subset, trained, tmp_path):
    """The first test digit of each class, drawn black on white (RGB) and white on black
    (grey): the model trained above reads every one as its label."""
    _, _, X_test, y_test = subset
    for label in range(10):
        i = int(np.flatnonzero(y_test == label)[0])
        black_on_white = paint(X_test[i, 0], tmp_path / f"{label}.png")
        white_on_black = paint(
            X_test[i, 0], tmp_path / f"{label}w.png", dark_on_light=False, mode="L"
        )
        for path in (black_on_white, white_on_black):
            answer, probability = predict_image(trained, path)
            assert answer == label, path.name
            assert 0.5 < probability <= 1.0


def test_bad_files_give_one_line_errors(trained, tmp_path):
    text = tmp_path / "digit.png"
    text.write_text("this is not a picture\n")
    with pytest.raises(ValueError, match=r"digit\.png' is not an image file") as error:
        predict_image(trained, text)
    assert "\n" not in str(error.value)
    blank = tmp_path / "blank.png"
    Image.new("RGB", (280, 280), "white").save(blank)
    with pytest.raises(ValueError, match=r"blank\.png' is blank") as error:
        predict_image(trained, blank)
    assert "\n" not in str(error.value)


def test_wrong_model_input_shape(subset, tmp_path):
    _, _, X_test, _ = subset
    png = paint(X_test[0, 0], tmp_path / "seven.png")
    table = gn.Sequential([gn.Dense(3, activation="softmax")]).build((4,), rng=0)
    with pytest.raises(
        ValueError,
        match=r"the model expects inputs of shape \(4,\), not a "
        r"28x28 image",
    ):
        predict_image(table, png)


# -- the demo ------------------------------------------------------------------------------------
def test_demo_runs_end_to_end(subset, tmp_path, capsys):
    """A small run (1,000 digits, 1 epoch, progress bar on): the report, three PNGs, and a
    model file that loads, keeps its image preprocessing, and reads a drawn digit."""
    _, _, X_test, _ = subset
    lines = []
    result = run_digits_demo(out=lines.append, out_dir=tmp_path, rng=1, epochs=1, n_train=1000)
    report = "\n".join(lines)
    assert "1,000 training and 2,000 test images" in report
    assert f"Test accuracy: {result['accuracy']:.2%}" in report
    assert "glassnet predict" in report
    assert "epoch 1/1" in capsys.readouterr().err  # the progress bar
    assert 0.5 < result["accuracy"] <= 1.0
    assert set(result["paths"]) == set(FILES)
    for name, path in result["paths"].items():
        assert path == tmp_path / FILES[name]
        assert path.stat().st_size > 1000, name
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == PNG_SIGNATURE
    loaded = gn.load(result["paths"]["model"])
    assert loaded.preprocessing == IMAGE_PREPROCESSING
    np.testing.assert_allclose(
        loaded.predict(X_test[:50]), result["model"].predict(X_test[:50]), rtol=1e-5, atol=1e-6
    )
    png = paint(X_test[0, 0], tmp_path / "mine.png")
    assert predict_image(loaded, png) == predict_image(result["model"], png)


def test_a_short_training_time_reads_like_0_04_s_not_0_0_s(tmp_path, monkeypatch):
    """The demo's clock, replaced by one that ticks 0.04 s during training: the report says
    ``0.04 s`` (two significant digits), as every glassnet report does, not ``0.0 s``."""
    ticks = iter([100.0, 100.04])

    class Clock:
        @staticmethod
        def perf_counter():
            return next(ticks)

    monkeypatch.setattr("glassnet.digits.time", Clock)
    lines = []
    result = run_digits_demo(out=lines.append, out_dir=tmp_path, epochs=1, n_train=64, verbose=0)
    assert result["seconds"] == pytest.approx(0.04)
    assert "Trained in 0.04 s. Test accuracy: " in "\n".join(lines)


def test_demo_is_registered_and_validates(tmp_path):
    from glassnet.demos import DEMOS

    assert DEMOS["digits"][0] is run_digits_demo
    lines = []
    with pytest.raises(ValueError, match="is not a folder"):
        run_digits_demo(out=lines.append, out_dir=tmp_path / "missing")
    with pytest.raises(ValueError, match="epochs must be >= 1, got 0"):
        run_digits_demo(out=lines.append, out_dir=tmp_path, epochs=0)
    with pytest.raises(ValueError, match="n_train must be >= 1, got 0"):
        run_digits_demo(out=lines.append, out_dir=tmp_path, n_train=0)
    assert lines == [] and not list(tmp_path.iterdir())  # nothing half-done


@pytest.mark.skipif(
    not MNIST_DIR.is_dir(), reason="../shared/data/mnist is not beside the checkout"
)
def test_demo_on_full_mnist_from_a_data_dir(tmp_path):
    lines = []
    result = run_digits_demo(
        out=lines.append,
        out_dir=tmp_path,
        epochs=1,
        n_train=200,
        data_dir=str(MNIST_DIR),
        verbose=0,
    )
    assert "200 training and 10,000 test images from MNIST" in lines[0]
    assert 0.2 < result["accuracy"] <= 1.0


def test_the_picture_shows_mistakes_and_the_report_names_them():
    predicted = np.array([1, 2, 3, 4, 0, 6, 7, 8, 9, 9])
    true = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 4])
    shown = _digits_to_show(predicted, true, n=4, max_mistakes=2)
    assert shown.tolist() == [0, 1, 4, 9]  # both mistakes, in order
    matrix = np.zeros((10, 10), int)
    matrix[4, 9], matrix[5, 3], matrix[7, 1] = 5, 1, 2
    assert _most_confused(matrix) == (
        "4 read as 9 (5 times), 7 read as 1 (2 times), 5 read as 3 (1 time)"
    )
    assert _most_confused(np.eye(10, dtype=int)).startswith("nothing")
