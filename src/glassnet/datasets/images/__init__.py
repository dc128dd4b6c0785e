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

Step 1 is :mod:`~glassnet.datasets.images.reading` (a picture file as grey levels), steps 2
to 7 :mod:`~glassnet.datasets.images.mnist_form` (ink into an MNIST-like digit);
:mod:`~glassnet.datasets.images.preprocessing` holds :class:`ImagePreprocessing`, what a
model file says about its images.

Example, with the model that ``glassnet demo digits`` saves::

    >>> x = load_digit_image("my_digit.png")                        # doctest: +SKIP
    >>> x.shape, x.dtype                                            # doctest: +SKIP
    ((1, 1, 28, 28), dtype('float32'))
    >>> predict_image(gn.load("digits.safetensors"), "my_digit.png")  # doctest: +SKIP
    (7, 0.9981)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from glassnet.datasets.images.mnist_form import IMAGE_SIZE, mnist_digit
from glassnet.datasets.images.preprocessing import ImagePreprocessing
from glassnet.datasets.images.reading import read_grey
from glassnet.errors import InputValueError
from glassnet.training.heads import decode, probabilities

__all__ = ["ImagePreprocessing", "load_digit_image", "predict_image"]


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
    grey = read_grey(path)  # (h, w) float, 0 = black, 1 = white
    return mnist_digit(grey, path)[None, None].astype(np.float32)


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


def _image_input(model):
    """The model's input shape, checked to be a 28x28 image, and its image preprocessing
    (the MNIST convention, pixels in [0, 1], when the model stores none)."""
    input_shape = getattr(model, "input_shape", None)
    if input_shape is None:
        raise InputValueError(
            "the model is not built (its input shape is unknown): train it on 28x28 images first"
        )
    input_shape = tuple(input_shape)
    if input_shape not in ((1, IMAGE_SIZE, IMAGE_SIZE), (IMAGE_SIZE * IMAGE_SIZE,)):
        shape = f"({input_shape[0]},)" if len(input_shape) == 1 else str(input_shape)
        raise InputValueError(
            f"the model expects inputs of shape {shape}, not a 28x28 image; images can be "
            f"given to models with input shape (1, 28, 28) or (784,)"
        )
    preprocessing = model.preprocessing
    if preprocessing is None:
        return input_shape, ImagePreprocessing(shape=input_shape)  # pixels in [0, 1]
    if not isinstance(preprocessing, ImagePreprocessing):
        raise InputValueError(
            f"the model was trained on {preprocessing.kind} data with its own preprocessing, "
            f"not on images; give it a data file instead of an image"
        )
    return input_shape, preprocessing
