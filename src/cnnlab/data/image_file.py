"""Reading one image file for a network: decode, convert, resize (Pillow)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from cnnlab.data.pixels import ImageDecodeError, open_image, to_uint8


def read_image(
    path: str | os.PathLike[str], size: tuple[int, int], channels: int = 3
) -> np.ndarray:
    """Load an image file as a network input.

    path: any format Pillow reads (16-bit images are scaled by their bit depth). size: (H, W)
    to resize to (bilinear, aspect ratio not kept). channels: 3 (RGB) or 1 (grayscale).
    Returns uint8 (channels, H, W). Raises ValueError naming the file when it cannot be read,
    is corrupt, or has more pixels than Pillow's decompression-bomb limit.
    """
    if channels not in (1, 3):
        raise ValueError(f"read_image: channels must be 1 or 3, got {channels}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_image: {path} does not exist")
    try:
        with open_image(path.read_bytes(), str(path)) as img:
            pixels = to_uint8(img, "RGB" if channels == 3 else "L", str(path))
    except ImageDecodeError as exc:
        raise ValueError(f"read_image: {exc}") from exc
    resized = Image.fromarray(pixels).resize((size[1], size[0]), Image.Resampling.BILINEAR)
    arr = np.asarray(resized, dtype=np.uint8)
    return arr[None] if channels == 1 else arr.transpose(2, 0, 1).copy()
