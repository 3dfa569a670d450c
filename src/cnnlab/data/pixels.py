"""Decoding one image with Pillow into uint8 pixels, safely.

Shared by the image-tree reader and the single-file reader: images larger than Pillow's
decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``, about 89 megapixels) are refused
before they are decoded, and images with more than 8 bits per sample (16-bit PNG, mode
``I;16``/``I``) are scaled by their bit depth instead of being clipped to white.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from PIL import Image, UnidentifiedImageError

WIDE_MODES = {"I;16": 16, "I;16B": 16, "I;16L": 16, "I;16N": 16, "I": 16}  # bits per sample


class ImageDecodeError(ValueError):
    """An image file cannot be decoded (not an image, truncated, too large)."""


@contextmanager
def open_image(data: bytes, name: str) -> Iterator[Image.Image]:
    """Open encoded image bytes.

    Raises ImageDecodeError naming ``name`` when Pillow cannot, or when the image has more pixels
    than ``PIL.Image.MAX_IMAGE_PIXELS``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as err:
            raise ImageDecodeError(f"{name} is too large to decode safely ({err})") from err
        except UnidentifiedImageError as err:
            raise ImageDecodeError(f"cannot read {name} as an image (no format found)") from err
        except (OSError, ValueError, SyntaxError) as err:
            raise ImageDecodeError(f"cannot read {name} as an image ({err})") from err
    with image:
        yield image


def to_uint8(image: Image.Image, mode: str, name: str) -> np.ndarray:
    """Pixels of ``image`` converted to ``mode`` ('RGB' or 'L') as uint8, (H, W, 3) or (H, W).

    Samples wider than 8 bits are scaled by the bit depth (65535 -> 255). Raises
    ImageDecodeError naming ``name`` when the data is truncated or corrupt.
    """
    try:
        if image.mode in WIDE_MODES:
            wide = np.asarray(image).astype(np.float64)
            top = 2 ** WIDE_MODES[image.mode] - 1
            scaled = np.clip(np.rint(wide * (255 / top)), 0, 255).astype(np.uint8)
            image = Image.fromarray(scaled, "L")
        return np.asarray(image.convert(mode), dtype=np.uint8)
    except (OSError, ValueError, SyntaxError) as err:
        raise ImageDecodeError(f"cannot read {name} as an image ({err})") from err
