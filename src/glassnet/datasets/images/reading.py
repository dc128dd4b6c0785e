"""Reading a picture file: any image Pillow reads, as grey levels in [0, 1].

Step 1 of bringing a drawing into MNIST's form (see :mod:`glassnet.datasets.images`): colour,
16-bit and floating-point images become grey; a transparent background counts as white paper,
as it looks in a viewer, except that strokes of one colour on a transparent layer are read
from the transparency itself (so that white strokes count too); a phone photo is turned
upright; a very large image is shrunk by averaging blocks of pixels.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from glassnet.errors import InputValueError

MAX_SIDE = 1024  # larger images are first shrunk by averaging blocks of pixels


def read_grey(path: Path) -> np.ndarray:
    """The image as grey levels in [0, 1] (0 = black), upright, at most ``MAX_SIDE``
    pixels on a side."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not path.exists():
        raise FileNotFoundError(f"no such image file: {os.fspath(path)!r}")
    if path.is_dir():
        raise InputValueError(f"{os.fspath(path)!r} is a folder, not an image file")
    try:
        with Image.open(path) as image:
            image.seek(0)  # the first frame of an animated GIF
            image.load()
            grey = _to_grey(ImageOps.exif_transpose(image))  # a phone photo, upright
    except UnidentifiedImageError:
        raise InputValueError(
            f"{os.fspath(path)!r} is not an image file that Pillow can read "
            f"(PNG, JPEG, BMP, GIF, ...)"
        ) from None
    except (OSError, SyntaxError, Image.DecompressionBombError) as exc:  # corrupt, huge
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputValueError(f"{os.fspath(path)!r} is not a readable image: {reason}") from None
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
