"""glassnet.datasets.images: a drawn digit brought into MNIST's form, and the model's answer for it.

The drawings are made here with Pillow from real MNIST test digits (the shipped subset),
scaled up and painted the way a user would: dark ink on white paper, light on black, on a
transparent layer, on grey paper saved as JPEG, thin pen strokes. Training is left to
test_digits.py; the models here are built, untrained, to check shapes and errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

import glassnet as gn
from glassnet.datasets import load_digits_subset
from glassnet.datasets.images import ImagePreprocessing, load_digit_image, predict_image
from glassnet.tabular.preprocessing import TablePreprocessor


@pytest.fixture(scope="module")
def digits():
    """A few real MNIST test digits, uint8 (28, 28), white ink on black."""
    _, _, X_test, y_test = load_digits_subset(kind="uint8")
    return X_test[:, 0], y_test


def draw(
    digit,
    path,
    *,
    dark_on_light=True,
    scale=4,
    mode="RGB",
    paper=255,
    ink=0,
    canvas=None,
    at=(0, 0),
):
    """Paint an MNIST digit (uint8, bright on black) as a user's drawing and save it.

    ``scale`` enlarges it (nearest neighbour: crisp pixels, as a paint program makes), the
    grey levels are mapped between ``paper`` and ``ink``, and the result is pasted at ``at``
    on a ``canvas`` (width, height) of paper.
    """
    level = digit.astype(np.float64) / 255.0  # 1 = full ink
    if not dark_on_light:
        paper, ink = 255 - paper, 255 - ink
    picture = np.round(paper + (ink - paper) * level).astype(np.uint8)
    image = Image.fromarray(picture).resize((28 * scale, 28 * scale), Image.Resampling.NEAREST)
    if canvas is not None:
        sheet = Image.new("L", canvas, paper)
        sheet.paste(image, at)
        image = sheet
    image.convert(mode).save(path)
    return path


def correlation(a, b):
    """Correlation of two images, at the best relative shift of at most one pixel: centring
    rounds the centre of mass to whole pixels, so a re-made digit may sit one pixel off."""
    a = np.asarray(a, dtype=np.float64).reshape(28, 28)
    b = np.asarray(b, dtype=np.float64).reshape(28, 28)
    return max(
        float(np.corrcoef(np.roll(a, (dy, dx), axis=(0, 1)).ravel(), b.ravel())[0, 1])
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    )


def centre_of_mass(x):
    x = np.asarray(x, dtype=np.float64)
    rows, cols = np.arange(x.shape[0]), np.arange(x.shape[1])
    return (x.sum(axis=1) @ rows) / x.sum(), (x.sum(axis=0) @ cols) / x.sum()


# -- the MNIST form ------------------------------------------------------------------------------
def test_dark_ink_on_white_rgb_gives_back_the_mnist_digit(digits, tmp_path):
    X, _ = digits
    for i in range(10):
        x = load_digit_image(draw(X[i], tmp_path / f"d{i}.png"))
        assert x.shape == (1, 1, 28, 28) and x.dtype == np.float32
        assert x.min() >= 0.0 and x.max() == pytest.approx(1.0)
        # The same digit, re-made as MNIST made it: up to a pixel of centring, the same image.
        assert correlation(x, X[i]) > 0.95, i


def test_light_on_dark_and_dark_on_light_give_the_same_image(digits, tmp_path):
    X, _ = digits
    dark_on_light = load_digit_image(draw(X[3], tmp_path / "a.png", mode="RGB"))
    light_on_dark = load_digit_image(draw(X[3], tmp_path / "b.png", mode="L", dark_on_light=False))
    np.testing.assert_allclose(dark_on_light, light_on_dark, atol=1e-6)
    assert correlation(light_on_dark, X[3]) > 0.95


def test_transparent_layers(digits, tmp_path):
    """Strokes of one colour on a transparent layer are the digit, whatever the colour
    (white strokes included); a picture with a transparent margin is seen over white."""
    X, _ = digits
    reference = load_digit_image(draw(X[0], tmp_path / "ref.png"))
    big = np.kron(X[0], np.ones((4, 4), np.uint8))
    for colour in ((0, 0, 0), (255, 255, 255), (200, 30, 30)):
        layer = np.zeros((112, 112, 4), np.uint8)  # transparent black
        layer[big > 0, :3] = colour
        layer[..., 3] = big
        Image.fromarray(layer).save(tmp_path / "layer.png")
        assert correlation(load_digit_image(tmp_path / "layer.png"), reference) > 0.98, colour
    framed = np.zeros((160, 160, 4), np.uint8)  # transparent margin
    framed[24:136, 24:136, :3] = (255 - big)[..., None]  # black ink on white card
    framed[24:136, 24:136, 3] = 255
    Image.fromarray(framed).save(tmp_path / "framed.png")
    assert correlation(load_digit_image(tmp_path / "framed.png"), reference) > 0.98


def test_grey_paper_jpeg_is_cleaned(digits, tmp_path):
    """Pencil-grey ink on off-white paper, with JPEG artefacts: contrast is stretched and
    the paper becomes exactly 0."""
    X, _ = digits
    path = draw(X[5], tmp_path / "scan.jpg", paper=215, ink=70)
    x = load_digit_image(path)[0, 0]
    assert correlation(x, X[5]) > 0.9
    assert x.max() == pytest.approx(1.0)
    assert np.count_nonzero(x) < np.count_nonzero(X[5]) * 1.5  # no halo of noise


def test_noisy_paper_does_not_stretch_the_digit(digits, tmp_path):
    """Grainy paper (Gaussian noise, standard deviation 12 grey levels): the noise is
    measured on the image's edge and what does not rise above it, or stands alone, is not
    ink — one stray speck would otherwise widen the bounding box and shrink the digit."""
    X, _ = digits
    rng = np.random.default_rng(0)
    level = np.kron(X[5] / 255.0, np.ones((4, 4)))
    grey = 215 + (60 - 215) * level + rng.normal(0, 12, level.shape)
    Image.fromarray(np.clip(np.round(grey), 0, 255).astype(np.uint8)).save(tmp_path / "n.png")
    assert correlation(load_digit_image(tmp_path / "n.png"), X[5]) > 0.97
    grey[3, 100] = 0  # one black speck
    Image.fromarray(np.clip(np.round(grey), 0, 255).astype(np.uint8)).save(tmp_path / "s.png")
    assert correlation(load_digit_image(tmp_path / "s.png"), X[5]) > 0.97
    noise = np.clip(np.round(rng.normal(200, 12, (120, 120))), 0, 255).astype(np.uint8)
    Image.fromarray(noise).save(tmp_path / "paper.png")  # no digit at all
    with pytest.raises(ValueError, match="is blank"):
        load_digit_image(tmp_path / "paper.png")


def test_digit_anywhere_on_a_large_canvas_is_scaled_and_centred(digits, tmp_path):
    X, _ = digits
    path = draw(X[7], tmp_path / "corner.png", scale=6, canvas=(600, 400), at=(420, 200))
    x = load_digit_image(path)[0, 0]
    rows = np.flatnonzero(x.any(axis=1))
    cols = np.flatnonzero(x.any(axis=0))
    assert max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) == 20  # longer side: 20 px
    cy, cx = centre_of_mass(x)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5  # whole-pixel shift to (14, 14)
    assert correlation(x, X[7]) > 0.9


def test_thin_pen_strokes_are_thickened_to_mnist_width(tmp_path):
    """A '7' drawn with a 3-pixel pen on a 500x500 canvas would shrink to a faint thread a
    tenth of a pixel wide; it comes out with strokes about as bold as MNIST's."""
    image = Image.new("RGB", (500, 500), "white")
    pen = ImageDraw.Draw(image)
    pen.line([(120, 80), (380, 80), (220, 440)], fill="black", width=3)
    image.save(tmp_path / "seven.png")
    x = load_digit_image(tmp_path / "seven.png")[0, 0]
    _, _, X_test, _ = load_digits_subset()
    typical_mass = np.median(X_test.sum(axis=(1, 2, 3)))
    assert x.max() == pytest.approx(1.0)
    assert x.sum() > 0.35 * typical_mass
    assert np.count_nonzero(x >= 0.5) > 25  # not a faint grey thread


def test_a_large_sideways_photo_is_turned_upright_and_shrunk(digits, tmp_path):
    """A camera JPEG stores its pixels sideways with an EXIF orientation tag (6: turn 90
    degrees clockwise to view); larger than 1024 pixels, it is first shrunk by averaging."""
    X, _ = digits
    sheet = Image.new("L", (1500, 1200), 235)
    sheet.paste(
        Image.fromarray(255 - X[0]).resize((980, 980), Image.Resampling.NEAREST), (300, 110)
    )
    stored = sheet.transpose(Image.Transpose.ROTATE_90)  # as the sensor saw it
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.convert("RGB").save(tmp_path / "photo.jpg", exif=exif, quality=90)
    assert correlation(load_digit_image(tmp_path / "photo.jpg"), X[0]) > 0.97


def test_other_modes_are_read(digits, tmp_path):
    """Palette GIF, 16-bit grey PNG, grey + alpha: all give the digit."""
    X, _ = digits
    reference = load_digit_image(draw(X[1], tmp_path / "ref.png"))
    gif = draw(X[1], tmp_path / "d.gif", mode="P")
    assert correlation(load_digit_image(gif), reference) > 0.98
    wide = (255 - np.kron(X[1], np.ones((4, 4), np.uint8)).astype(np.uint16)) * 257
    Image.fromarray(wide).save(tmp_path / "d16.png")
    with Image.open(tmp_path / "d16.png") as saved:
        assert saved.mode.startswith("I")
    assert correlation(load_digit_image(tmp_path / "d16.png"), reference) > 0.98
    draw(X[1], tmp_path / "la.png", mode="LA")
    assert correlation(load_digit_image(tmp_path / "la.png"), reference) > 0.98


# -- bad files -----------------------------------------------------------------------------------
def test_a_file_that_is_not_an_image_is_named_in_one_line(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("x,y\n1,2\n")
    with pytest.raises(ValueError, match=r"'.*notes\.png' is not an image file") as error:
        load_digit_image(path)
    assert "\n" not in str(error.value)


def test_a_truncated_image_is_a_one_line_error(digits, tmp_path):
    X, _ = digits
    whole = draw(X[0], tmp_path / "whole.png").read_bytes()
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match=r"cut\.png' is not a readable image") as error:
        load_digit_image(cut)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("colour", ["white", "black", (128, 128, 128)])
def test_a_blank_image_is_an_error(tmp_path, colour):
    path = tmp_path / "blank.png"
    Image.new("RGB", (200, 200), colour).save(path)
    with pytest.raises(ValueError, match=r"blank\.png' is blank: no digit"):
        load_digit_image(path)


def test_a_single_speck_is_blank_not_a_crash(tmp_path):
    path = tmp_path / "speck.png"
    image = Image.new("L", (100, 100), 255)
    image.putpixel((50, 50), 0)  # stands out, then is removed as a speck
    image.save(path)
    with pytest.raises(ValueError, match=r"speck\.png' is blank: no digit"):
        load_digit_image(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such image file"):
        load_digit_image(tmp_path / "nowhere.png")
    with pytest.raises(ValueError, match="is a folder, not an image file"):
        load_digit_image(tmp_path)


# -- predict_image -------------------------------------------------------------------------------
def built(layers, input_shape, preprocessing=None):
    model = gn.Sequential(layers).build(input_shape, rng=0)
    model.preprocessing = preprocessing
    return model


def test_a_model_that_does_not_take_images_is_refused(digits, tmp_path):
    X, _ = digits
    png = draw(X[0], tmp_path / "d.png")
    table = built([gn.Dense(3, activation="softmax")], (4,))
    with pytest.raises(
        ValueError,
        match=r"the model expects inputs of shape \(4,\), "
        r"not a 28x28 image",
    ):
        predict_image(table, png)
    other = built([gn.Flatten(), gn.Dense(3, activation="softmax")], (3, 32, 32))
    with pytest.raises(ValueError, match=r"shape \(3, 32, 32\), not a 28x28 image"):
        predict_image(other, png)
    with pytest.raises(ValueError, match="the model is not built"):
        predict_image(gn.Sequential([gn.Dense(10)]), png)
    pixels_as_table = built(
        [gn.Dense(10, activation="softmax")],
        (784,),
        TablePreprocessor([("a", "numeric")], "y", "classification"),
    )
    with pytest.raises(ValueError, match="trained on table data"):
        predict_image(pixels_as_table, png)


def test_the_model_is_checked_before_the_file(tmp_path):
    """A wrong model is reported even when the file is no image either (the model is the
    first thing to fix)."""
    path = tmp_path / "notes.png"
    path.write_text("hello")
    with pytest.raises(ValueError, match="not a 28x28 image"):
        predict_image(built([gn.Dense(2)], (4,)), path)


def test_predict_image_feeds_the_model_what_it_expects(digits, tmp_path):
    """A dense model on (784,) inputs and a convolutional one on (1, 28, 28) see exactly
    load_digit_image's pixels (scaled by 255/scale); the answer is the argmax and its
    probability, or the class name the preprocessing lists."""
    X, _ = digits
    png = draw(X[0], tmp_path / "d.png")
    x = load_digit_image(png)
    dense = built([gn.Dense(10, activation="softmax")], (784,))
    label, probability = predict_image(dense, png)
    p = dense.predict(x.reshape(1, 784))[0]
    assert label == int(p.argmax()) and isinstance(label, int)
    assert probability == pytest.approx(float(p.max()), rel=1e-6)

    from glassnet.nn.conv import Conv2D

    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    conv = built(
        [Conv2D(2, 3, activation="relu"), gn.Flatten(), gn.Dense(10, activation="softmax")],
        (1, 28, 28),
        ImagePreprocessing(shape=(1, 28, 28), scale=1, classes=names),
    )
    label, probability = predict_image(conv, png)
    p = conv.predict(x * 255)[0]  # scale 1: raw 0-255 pixels
    assert label == names[int(p.argmax())]
    assert probability == pytest.approx(float(p.max()), rel=1e-5)


def test_outputs_that_are_not_probabilities(digits, tmp_path):
    X, _ = digits
    png = draw(X[0], tmp_path / "d.png")
    x = load_digit_image(png).reshape(1, 784)
    logits = built([gn.Dense(10)], (784,))
    z = logits.predict(x)[0].astype(np.float64)
    label, probability = predict_image(logits, png)
    assert label == int(z.argmax())
    assert probability == pytest.approx(1 / np.exp(z - z.max()).sum(), rel=1e-5)
    one_unit = built([gn.Dense(1, activation="sigmoid")], (784,))
    p1 = float(one_unit.predict(x)[0, 0])
    label, probability = predict_image(one_unit, png)
    assert label == int(p1 >= 0.5)
    assert probability == pytest.approx(max(p1, 1 - p1), rel=1e-6)


@pytest.mark.parametrize(
    "classes, error, message",
    [
        ("x", TypeError, "classes must be a non-empty list of labels, got 'x'"),
        ({}, TypeError, "classes must be a non-empty list of labels"),
        ([], TypeError, "classes must be a non-empty list of labels"),
        ([5, "b"], TypeError, "classes must be all whole numbers or all texts"),
        ([True, False], TypeError, "classes must be all whole numbers or all texts"),
        ([1, 1], ValueError, r"classes must be distinct, got \[1, 1\]"),
    ],
)
def test_image_preprocessing_refuses_labels_it_could_not_print(classes, error, message):
    from glassnet.datasets.images import ImagePreprocessing

    with pytest.raises(error, match=message):
        ImagePreprocessing.from_dict({"kind": "image", "shape": [1, 28, 28], "classes": classes})
    assert ImagePreprocessing((1, 28, 28), classes=["a", "b"]).classes == ("a", "b")
