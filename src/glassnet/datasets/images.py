"""A digit drawn by a user, turned into the 28x28 image an MNIST model expects.

MNIST digits were made in a particular way (LeCun, Cortes and Burges): each black-and-white
NIST digit was scaled, keeping its aspect ratio, so that its longer side is 20 pixels (with
anti-aliasing, hence the grey levels), then placed in a 28x28 field so that its centre of
mass falls on the centre of the field. The digit is bright (255) on a black (0) background.

A model trained on MNIST has only ever seen digits like that, so a digit drawn in a paint
program must be brought into the same form before the model can read it:

1. read it with Pillow and convert it to grey levels in [0, 1] (a transparent background
   counts as white paper, as it looks in a viewer; strokes of one colour on a transparent
   layer are read from the transparency itself, so that white strokes count too);
2. if the background is light (dark ink on white paper, the usual drawing), invert it so
   that the digit is bright on black;
3. subtract the background level and stretch the contrast, so that faint pencil or a grey
   scan gives strokes as bright as MNIST's, and clear what does not rise above the
   paper's noise (grain, JPEG artefacts, lone specks);
4. crop to the bounding box of the ink;
5. thicken strokes that would be too thin once shrunk (a 3-pixel brush on a 500-pixel canvas
   becomes a faint thread a quarter of a pixel wide at MNIST's scale);
6. scale the longer side to 20 pixels, keeping the aspect ratio, with anti-aliasing;
7. paste it into a 28x28 field so that its centre of mass is at pixel (14, 14) — where it
   is, on average, in MNIST (measured on the training images; the spread, 0.29 pixels,
   is that of rounding to whole pixels).

Example, with the model that ``glassnet demo digits`` saves::

    >>> x = load_digit_image("my_digit.png")                        # doctest: +SKIP
    >>> x.shape, x.dtype                                            # doctest: +SKIP
    ((1, 1, 28, 28), dtype('float32'))
    >>> predict_image(gn.load("digits.safetensors"), "my_digit.png")  # doctest: +SKIP
    (7, 0.9981)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from glassnet.io.preprocessing import Preprocessing
from glassnet.training.heads import decode, probabilities

IMAGE_SIZE = 28  # the MNIST field
DIGIT_SIZE = 20  # the longer side of the digit inside it
CENTRE = 14.0  # where MNIST puts the centre of mass (row and column index)
STROKE_WIDTH = 2.0  # median stroke width of MNIST digits, in pixels of the field
THIN = 1.0  # narrower strokes are thickened (MNIST's 10th percentile: 1.4)
INK = 0.25  # grey level (after contrast stretching) that counts as ink
MIN_CONTRAST = 0.08  # below this difference between ink and paper, the image is blank
MAX_SIDE = 1024  # larger images are first shrunk by averaging blocks of pixels


@dataclass(frozen=True)
class ImagePreprocessing(Preprocessing):
    """How a model's images were made: their shape, the pixel scale, and what they show.

    Stored as ``{"kind": "image", "shape": [1, 28, 28], "scale": 255, "colours": ...,
    "centring": ..., "classes": [0, 1, ...]}``: the model's input is ``pixel / scale`` for
    pixels on the 0-255 scale. ``colours`` and ``centring`` are notes for a reader (how
    :func:`load_digit_image` brings a drawing into that form); ``classes`` names the output
    units (their labels), if given.
    """

    kind = "image"

    shape: tuple[int, ...]
    scale: float = 255
    colours: str | None = None
    centring: str | None = None
    classes: tuple | None = None

    def __post_init__(self) -> None:
        shape = tuple(self.shape)
        if not shape or not all(isinstance(s, int) and s >= 1 for s in shape):
            raise ValueError(f"shape must be a list of sizes >= 1, got {self.shape!r}")
        if isinstance(self.scale, bool) or not isinstance(self.scale, int | float):
            raise TypeError(f"scale must be a number, got {self.scale!r}")
        if not self.scale > 0:
            raise ValueError(f"scale must be > 0, got {self.scale!r}")
        object.__setattr__(self, "shape", shape)
        if self.classes is not None:
            object.__setattr__(self, "classes", tuple(self.classes))

    def to_dict(self) -> dict:
        d = {"kind": self.kind, "shape": list(self.shape), "scale": self.scale}
        for key in ("colours", "centring"):
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        if self.classes is not None:
            d["classes"] = list(self.classes)
        return d

    @classmethod
    def from_dict(cls, d) -> ImagePreprocessing:
        if not isinstance(d, dict) or d.get("kind") != cls.kind:
            raise ValueError("the model holds no image preprocessing")
        unknown = set(d) - {"kind", "shape", "scale", "colours", "centring", "classes"}
        if unknown:
            raise ValueError(f"the image preprocessing has unknown entries {sorted(unknown)}")
        return cls(
            shape=tuple(d["shape"]),
            scale=d.get("scale", 255),
            colours=d.get("colours"),
            centring=d.get("centring"),
            classes=d.get("classes"),
        )

    def describe(self) -> list[str]:
        shape = "x".join(str(s) for s in self.shape)
        lines = [f"preprocessing: images of shape {shape}, pixels divided by {self.scale}"]
        lines += [
            f"  {key}: {value}"
            for key, value in self.to_dict().items()
            if key in ("colours", "centring", "classes")
        ]
        return lines

    def onnx_metadata(self, *, included: bool) -> dict[str, str]:
        """The graph takes ``pixel / scale`` as the network does: nothing to add but words."""
        shape = ", ".join(str(s) for s in self.shape)
        props = {"inputs": f"images of shape (n, {shape}), pixel values divided by {self.scale}"}
        if self.classes is not None:
            props["labels"] = json.dumps(list(self.classes))
        return props


def load_digit_image(path) -> np.ndarray:
    """Read an image of one handwritten digit and return it as MNIST would have it.

    Parameters
    ----------
    path : str or path-like
        Any image Pillow reads (PNG, JPEG, BMP, GIF, ...), in colour or grey, with or
        without transparency, dark-on-light or light-on-dark, of any size.

    Returns
    -------
    ndarray of shape (1, 1, 28, 28), float32 in [0, 1]
        The digit bright on black, its longer side 20 pixels, centred by centre of mass:
        a batch of one image, ready for ``model.predict``.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        The file is not an image, or the image is blank (no digit to see).
    """
    path = Path(path)
    grey = _read_grey(path)  # (h, w) float, 0 = black, 1 = white
    ink = _ink(grey, path)  # (h, w) float, 0 = paper, 1 = full ink
    ink = _crop(ink)
    ink = _thicken(ink)
    digit = _resize_longer_side(ink, DIGIT_SIZE)
    return _centre(digit)[None, None].astype(np.float32)


def predict_image(model, path):
    """The model's answer for the digit in the image at ``path``: ``(label, probability)``.

    ``model`` must take 28x28 images: input shape ``(1, 28, 28)`` (a convolutional network)
    or ``(784,)`` (a dense network on flattened images). If the model file describes its
    image preprocessing (an :class:`ImagePreprocessing` with its ``scale``, as the digits
    demo writes), the pixels are given as ``pixel / scale`` on the 0-255
    scale; without one they are in [0, 1], as :func:`glassnet.datasets.load_mnist` gives.

    Returns
    -------
    label : int (or the model's class name, if its preprocessing lists ``classes``)
    probability : float
        The probability the model gives to that label (its softmax output; for a model
        whose outputs are not probabilities, the softmax of them).

    Raises
    ------
    ValueError
        The model does not take 28x28 images, the file is not an image, or it is blank.
    """
    input_shape, preprocessing = _image_input(model)
    x = load_digit_image(path)
    if preprocessing.scale != 255:
        x = x * np.float32(255 / preprocessing.scale)
    output = np.asarray(model.predict(x.reshape(1, *input_shape)), dtype=float)
    if output.shape[1] > 1 and (output.min() < 0 or abs(output.sum() - 1.0) > 1e-3):
        output = np.exp(output - output.max())  # logits: their softmax
        output /= output.sum()
    index = int(decode(output)[0])
    probability = float(probabilities(output)[0, index])
    classes = preprocessing.classes
    label = classes[index] if classes is not None and index < len(classes) else index
    return label, probability


# -- the model's side ----------------------------------------------------------------------------
def _image_input(model):
    """The model's input shape, checked to be a 28x28 image, and its image preprocessing
    (the MNIST convention, pixels in [0, 1], when the model stores none)."""
    input_shape = getattr(model, "input_shape", None)
    if input_shape is None:
        raise ValueError(
            "the model is not built (its input shape is unknown): train it on 28x28 images first"
        )
    input_shape = tuple(input_shape)
    if input_shape not in ((1, IMAGE_SIZE, IMAGE_SIZE), (IMAGE_SIZE * IMAGE_SIZE,)):
        shape = f"({input_shape[0]},)" if len(input_shape) == 1 else str(input_shape)
        raise ValueError(
            f"the model expects inputs of shape {shape}, not a 28x28 image; images can be "
            f"given to models with input shape (1, 28, 28) or (784,)"
        )
    preprocessing = model.preprocessing
    if preprocessing is None:
        return input_shape, ImagePreprocessing(shape=input_shape)  # pixels in [0, 1]
    if not isinstance(preprocessing, ImagePreprocessing):
        raise ValueError(
            f"the model was trained on {preprocessing.kind} data with its own preprocessing, "
            f"not on images; give it a data file instead of an image"
        )
    return input_shape, preprocessing


# -- 1. reading ----------------------------------------------------------------------------------
def _read_grey(path: Path) -> np.ndarray:
    """The image as grey levels in [0, 1] (0 = black), upright, at most ``MAX_SIDE``
    pixels on a side."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not path.exists():
        raise FileNotFoundError(f"no such image file: {os.fspath(path)!r}")
    if path.is_dir():
        raise ValueError(f"{os.fspath(path)!r} is a folder, not an image file")
    try:
        with Image.open(path) as image:
            image.seek(0)  # the first frame of an animated GIF
            image.load()
            grey = _to_grey(ImageOps.exif_transpose(image))  # a phone photo, upright
    except UnidentifiedImageError:
        raise ValueError(
            f"{os.fspath(path)!r} is not an image file that Pillow can read "
            f"(PNG, JPEG, BMP, GIF, ...)"
        ) from None
    except (OSError, SyntaxError, Image.DecompressionBombError) as exc:  # corrupt, huge
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"{os.fspath(path)!r} is not a readable image: {reason}") from None
    return _shrink(grey, MAX_SIDE)


def _shrink(grey: np.ndarray, max_side: int) -> np.ndarray:
    """Average ``k x k`` blocks so that no side exceeds ``max_side`` (a 12-megapixel photo
    needs no more detail than this to become a 20-pixel digit, and far less memory)."""
    k = -(-max(grey.shape) // max_side)  # ceil
    if k <= 1:
        return grey
    h, w = grey.shape[0] // k * k, grey.shape[1] // k * k
    return grey[:h, :w].reshape(h // k, k, w // k, k).mean(axis=(1, 3))


def _to_grey(image) -> np.ndarray:
    """A Pillow image -> grey levels in [0, 1] (float64), whatever its mode."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):  # 16-bit grey (PNG)
        values = np.asarray(image, dtype=np.float64)
        return np.clip(values / (65535.0 if values.max() > 255 else 255.0), 0.0, 1.0)
    if mode == "F":
        values = np.nan_to_num(np.asarray(image, dtype=np.float64))
        top = values.max()
        return np.clip(values / (top if top > 1 else 1.0), 0.0, 1.0)
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if not has_alpha:
        return np.asarray(image.convert("L"), dtype=np.float64) / 255.0
    rgba = image.convert("RGBA")
    grey = np.asarray(rgba.convert("RGB").convert("L"), dtype=np.float64) / 255.0
    alpha = np.asarray(rgba.getchannel("A"), dtype=np.float64) / 255.0
    opaque = alpha > 0.5
    if np.ptp(alpha) >= 0.5 and opaque.any() and grey[opaque].std() < 0.1:
        # Strokes of one colour on a transparent layer: the drawing is the alpha channel,
        # whatever the colour (white strokes would vanish over white paper).
        return alpha
    return grey * alpha + (1.0 - alpha)  # over white paper, as a viewer shows it


# -- 2, 3. which way round, and how much contrast ------------------------------------------------
def _ink(grey: np.ndarray, path: Path) -> np.ndarray:
    """How much ink each pixel holds, in [0, 1]: the digit bright on a zero background.

    The paper's level is the median of the outermost ring of pixels (a digit may touch the
    edge, but it does not fill the frame), and its noise (grain, a scan's or a camera's) the
    spread of that ring (1.4826 x median absolute deviation, the standard deviation for
    Gaussian noise). A light paper means dark ink: invert. What is not above the noise is
    set to zero, so that specks do not stretch the digit's bounding box.
    """
    border = np.concatenate([grey[0], grey[-1], grey[1:-1, 0], grey[1:-1, -1]])
    if np.median(border) > 0.5:
        grey = 1.0 - grey  # dark digit on light paper -> MNIST's way
        border = 1.0 - border
    paper = float(np.median(border))
    noise = 1.4826 * float(np.median(np.abs(border - paper)))
    contrast = float(grey.max()) - paper
    if contrast < max(MIN_CONTRAST, 8 * noise):
        raise ValueError(f"{os.fspath(path)!r} is blank: no digit stands out from the background")
    ink = np.clip((grey - paper) / contrast, 0.0, 1.0)
    ink[ink < max(0.5 * INK, 4 * noise / contrast)] = 0.0  # paper grain, JPEG noise
    ink[_isolated(ink > 0)] = 0.0  # specks of dust or noise
    if not (ink >= INK).any():  # only a speck stood out
        raise ValueError(f"{os.fspath(path)!r} is blank: no digit stands out from the background")
    return ink


def _isolated(mask: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` none of whose 8 neighbours is in ``mask``."""
    padded = np.pad(mask, 1)
    h, w = mask.shape
    neighbours = sum(
        padded[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w].astype(np.uint8)
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
        if dy or dx
    )
    return mask & (neighbours == 0)


# -- 4. crop -------------------------------------------------------------------------------------
def _crop(ink: np.ndarray) -> np.ndarray:
    """The smallest rectangle holding every pixel with at least ``INK``."""
    rows = np.flatnonzero((ink >= INK).any(axis=1))
    cols = np.flatnonzero((ink >= INK).any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


# -- 5. stroke width -----------------------------------------------------------------------------
def _stroke_width(ink: np.ndarray) -> float:
    """Average width of the strokes, in pixels: area / (perimeter / 2).

    A stroke of length L and width w has area L*w and a perimeter of about 2L.
    """
    mask = ink >= 0.5
    area = np.count_nonzero(mask)
    padded = np.pad(mask, 1)
    perimeter = np.count_nonzero(padded[1:] != padded[:-1]) + np.count_nonzero(
        padded[:, 1:] != padded[:, :-1]
    )
    return 2.0 * area / perimeter if perimeter else 0.0


def _thicken(ink: np.ndarray) -> np.ndarray:
    """Grow strokes (a grey dilation) to MNIST's typical width when, once shrunk to
    ``DIGIT_SIZE``, they would be thinner than ``THIN`` pixels — thinner than almost any
    MNIST digit. Other strokes, MNIST's own included, are left alone."""
    scale = DIGIT_SIZE / max(ink.shape)
    width = _stroke_width(ink)
    if width * scale >= THIN:
        return ink
    grow = int(round(STROKE_WIDTH / scale - width))  # pixels to add across the stroke
    if grow < 1:
        return ink
    # out[i, j] = max of ink[i - grow : i + 1, j - grow : j + 1]: every stroke widens by
    # ``grow`` pixels (the whole image shifts by grow/2, which centring undoes).
    padded = np.pad(ink, ((grow, 0), (grow, 0)))
    return _max_filter(_max_filter(padded, grow + 1, axis=0), grow + 1, axis=1)


def _max_filter(x: np.ndarray, size: int, axis: int) -> np.ndarray:
    """``out[i] = max(x[i : i + size])`` along ``axis`` (shorter at the end), computed
    by doubling: the max over 2k values is the max of two overlapping maxima over k,
    so the cost is log2(size) passes over the image, whatever the size."""
    x = np.moveaxis(x, axis, 0)
    n = x.shape[0]
    size = min(size, n)  # a window never reaches past the end
    result, span = x.copy(), 1
    while span * 2 <= size:  # result[i] = max(x[i : i + span])
        result[: n - span] = np.maximum(result[: n - span], result[span:])
        span *= 2
    if span < size:  # cover [i, i + size) with two windows
        rest = size - span
        result[: n - rest] = np.maximum(result[: n - rest], result[rest:])
    return np.moveaxis(result, 0, axis)


# -- 6. resize -----------------------------------------------------------------------------------
def _resize_longer_side(ink: np.ndarray, size: int) -> np.ndarray:
    """Scale so the longer side is ``size`` pixels, keeping the aspect ratio (Lanczos,
    which averages over the source pixels when shrinking: anti-aliased)."""
    from PIL import Image

    height, width = ink.shape
    scale = size / max(height, width)
    new = (max(1, round(width * scale)), max(1, round(height * scale)))  # Pillow: (w, h)
    lanczos = getattr(Image, "Resampling", Image).LANCZOS
    resized = Image.fromarray(ink.astype(np.float32)).resize(new, lanczos)
    digit = np.clip(np.asarray(resized, dtype=np.float64), 0.0, 1.0)
    top = digit.max()
    return digit / top if top > 0 else digit  # MNIST strokes reach full brightness


# -- 7. centre -----------------------------------------------------------------------------------
def _centre(digit: np.ndarray) -> np.ndarray:
    """Paste into a 28x28 field, shifted by whole pixels so that the centre of mass lands
    as near as possible to (14, 14) while the digit stays inside the field."""
    height, width = digit.shape
    mass = digit.sum()
    cy = (digit.sum(axis=1) @ np.arange(height)) / mass
    cx = (digit.sum(axis=0) @ np.arange(width)) / mass
    top = int(np.clip(round(CENTRE - cy), 0, IMAGE_SIZE - height))
    left = int(np.clip(round(CENTRE - cx), 0, IMAGE_SIZE - width))
    field = np.zeros((IMAGE_SIZE, IMAGE_SIZE))
    field[top : top + height, left : left + width] = digit
    return field
