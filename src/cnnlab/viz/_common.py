"""Helpers shared by the figure modules: headless figures, atomic PNG files, image arrays.

Figures are built with :class:`matplotlib.figure.Figure` attached to an Agg canvas, so nothing
here touches pyplot's global state or the user's chosen backend, and everything works without a
display. Every public figure function in :mod:`cnnlab.viz` returns its ``Figure`` and, when given
``path``, also writes it as a PNG of exactly ``figsize * dpi`` pixels.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from cnnlab._io import atomic_open

PathLike = str | os.PathLike

#: Colours used across the figures (colour-blind-safe pair for right / wrong).
RIGHT_COLOUR = "#1b7837"
WRONG_COLOUR = "#c51b7d"


def new_figure(figsize: tuple[float, float], dpi: float = 100) -> Figure:
    """A Figure with constrained layout on its own Agg canvas (no pyplot, no display needed)."""
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig: Figure) -> bytes:
    """The figure rendered as PNG bytes, ``figsize * dpi`` pixels (no tight cropping)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    return buf.getvalue()


def write_bytes_atomic(path: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename; return the path.

    Parent folders are created. The file gets the usual ``rw-r--r--`` permissions.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path) as f:
        f.write(data)
    return path


def finish(fig: Figure, path: PathLike | None) -> Figure:
    """Save ``fig`` as a PNG at ``path`` when one is given; return ``fig``."""
    if path is not None:
        write_bytes_atomic(path, png_bytes(fig))
    return fig


def as_hwc_images(images: np.ndarray, func: str) -> np.ndarray:
    """View a batch of images as (N, H, W, C) with C of 1 or 3.

    Accepts (N, H, W, C) and (N, C, H, W) with C in {1, 3}, and grey (N, H, W). Raises
    ValueError naming ``func`` and the shape otherwise.
    """
    images = np.asarray(images)
    if images.ndim == 3:
        return images[..., None]
    if images.ndim == 4 and images.shape[-1] in (1, 3):
        return images
    if images.ndim == 4 and images.shape[1] in (1, 3):
        return images.transpose(0, 2, 3, 1)
    raise ValueError(
        f"{func}: images must be (N, H, W, C), (N, C, H, W) with C of 1 or 3, or (N, H, W); "
        f"got shape {images.shape}"
    )


def scale_to_range(image: np.ndarray, ubound: float) -> np.ndarray:
    """``image`` mapped linearly onto [0, ubound] (min to 0, max to ubound) as float64.

    A constant image becomes all zeros.
    """
    image = np.asarray(image, dtype=np.float64)
    low, high = image.min(), image.max()
    if high > low:
        return ubound * (image - low) / (high - low)
    return np.zeros_like(image)


def displayable(image: np.ndarray) -> np.ndarray:
    """One (H, W, C) image ready for ``imshow``.

    A uint8 image is kept as is, anything else min-max scaled to [0, 1] (a constant image becomes
    0); a single channel is dropped to (H, W).
    """
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = scale_to_range(image, 1.0)
    return image[..., 0] if image.shape[-1] == 1 else image


def show_image(ax: Axes, image: np.ndarray) -> None:
    """Draw one (H, W, C) image on ``ax`` without ticks (grey colour map for one channel)."""
    ax.imshow(displayable(image), cmap="gray", interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def image_axes(fig: Figure, n: int, ncols: int | None = None) -> list[Axes]:
    """``n`` image axes in a grid of ``ncols`` columns (default ceil(sqrt(n))).

    Spare cells are removed.
    """
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.remove()
    return list(axes[:n])


def class_names_for(class_names: Sequence[str] | None, num_classes: int, func: str) -> list[str]:
    """The given class names as strings, or "0", "1", ... when none are given."""
    if class_names is None:
        return [str(k) for k in range(num_classes)]
    names = [str(name) for name in class_names]
    if len(names) != num_classes:
        raise ValueError(f"{func}: {len(names)} class names for {num_classes} classes")
    return names


def tile_images(
    images: np.ndarray, cols: int | None = None, pad: int = 1, fill: float = 1.0
) -> np.ndarray:
    """Mosaic of equally sized images in a grid, separated by ``pad`` pixels of ``fill``.

    Inputs: images (n, h, w) or (n, h, w, 3); cols per row (default about sqrt(n)).
    Returns: (rows*(h+pad)-pad, cols*(w+pad)-pad[, 3]) with rows = ceil(n / cols).
    """
    images = np.asarray(images)
    n, h, w = images.shape[:3]
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.full(
        (rows * (h + pad) - pad, cols * (w + pad) - pad, *images.shape[3:]), fill, dtype=np.float64
    )
    for k in range(n):
        r, c = divmod(k, cols)
        grid[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = images[k]
    return grid
