"""Ink into an MNIST-like digit: steps 2 to 7 of :mod:`glassnet.datasets.images`.

:func:`mnist_digit` takes grey levels (:func:`~glassnet.datasets.images.reading.read_grey`)
and returns the 28x28 field an MNIST model expects: the digit bright on black, its contrast
stretched, cropped, its strokes thickened if they would be too thin, its longer side scaled
to 20 pixels and its centre of mass at pixel (14, 14).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from glassnet.errors import InputValueError

IMAGE_SIZE = 28  # the MNIST field
DIGIT_SIZE = 20  # the longer side of the digit inside it
CENTRE = 14.0  # where MNIST puts the centre of mass (row and column index)
STROKE_WIDTH = 2.0  # median stroke width of MNIST digits, in pixels of the field
THIN = 1.0  # narrower strokes are thickened (MNIST's 10th percentile: 1.4)
INK = 0.25  # grey level (after contrast stretching) that counts as ink
MIN_CONTRAST = 0.08  # below this difference between ink and paper, the image is blank


def mnist_digit(grey: np.ndarray, path: Path) -> np.ndarray:
    """Grey levels ``(h, w)`` in [0, 1] (0 = black) -> the digit in a 28x28 field, float64 in
    [0, 1], bright on black. ``path`` names the file in the error for a blank image."""
    ink = _ink(grey, path)  # (h, w) float, 0 = paper, 1 = full ink
    ink = _crop(ink)
    ink = _thicken(ink)
    digit = _resize_longer_side(ink, DIGIT_SIZE)
    return _centre(digit)


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
        raise InputValueError(
            f"{os.fspath(path)!r} is blank: no digit stands out from the background"
        )
    ink = np.clip((grey - paper) / contrast, 0.0, 1.0)
    ink[ink < max(0.5 * INK, 4 * noise / contrast)] = 0.0  # paper grain, JPEG noise
    ink[_isolated(ink > 0)] = 0.0  # specks of dust or noise
    if not (ink >= INK).any():  # only a speck stood out
        raise InputValueError(
            f"{os.fspath(path)!r} is blank: no digit stands out from the background"
        )
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
