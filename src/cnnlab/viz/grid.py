"""Tiling many small images into one.

``visualize_grid`` (the CS231n helper) and the filters of any convolution layer, as pictures or
channel by channel.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from cnnlab.viz._common import PathLike, finish, new_figure, scale_to_range, tile_images


def grid_layout(
    n: int, h: int, w: int, padding: int
) -> tuple[tuple[int, int], list[tuple[int, int]]]:
    """Where ``visualize_grid`` puts ``n`` tiles of h x w pixels with ``padding`` between them.

    Returns ``((G, G'), origins)``: the grid's height and width and the (top, left) pixel of
    each tile, filled row by row in a square of ``g = ceil(sqrt(n))`` tiles per side.
    """
    per_side = math.ceil(math.sqrt(n))
    shape = (per_side * h + (per_side - 1) * padding, per_side * w + (per_side - 1) * padding)
    origins = [((i // per_side) * (h + padding), (i % per_side) * (w + padding)) for i in range(n)]
    return shape, origins


def visualize_grid(Xs: np.ndarray, ubound: float = 255.0, padding: int = 1) -> np.ndarray:
    """Tile N images into a square grid, each image scaled on its own to [0, ubound].

    Inputs:
    - Xs: (N, H, W, C) images (any real dtype).
    - ubound: each image is mapped linearly so that its minimum becomes 0 and its maximum
      ``ubound``; a constant image becomes all zeros.
    - padding: pixels of zeros between neighbouring tiles (none around the border).

    Returns a float64 array (G, G', C) with ``g = ceil(sqrt(N))`` tiles per side,
    ``G = g * H + (g - 1) * padding`` and ``G' = g * W + (g - 1) * padding``. Image ``i`` sits
    in row ``i // g`` and column ``i % g``, its top-left corner at
    ``((i // g) * (H + padding), (i % g) * (W + padding))``; unused cells stay zero.
    """
    Xs = np.asarray(Xs)
    if Xs.ndim != 4 or Xs.shape[0] == 0:
        raise ValueError(f"visualize_grid: Xs must be (N, H, W, C) with N >= 1; got {Xs.shape}")
    if int(padding) != padding or padding < 0:
        raise ValueError(f"visualize_grid: padding must be a non-negative integer; got {padding}")
    n, h, w, c = Xs.shape
    shape, origins = grid_layout(n, h, w, int(padding))
    grid = np.zeros((*shape, c))
    for image, (top, left) in zip(Xs, origins, strict=True):
        grid[top : top + h, left : left + w] = scale_to_range(image, ubound)
    return grid


def channel_mosaic(weights: np.ndarray) -> np.ndarray:
    """Every channel of every filter as a grey tile: one row per filter, one column per channel.

    Each filter is divided by its own largest absolute weight (over all its channels), so within
    a row the channels keep their relative sizes; 0 is the middle of the scale.

    Args:
        weights: (F, C, HH, WW) convolution weights, any C.

    Returns:
        (F * (HH + 1) - 1, C * (WW + 1) - 1) float64 values in [-1, 1], tiles separated by
        lines of -1 (:func:`cnnlab.viz._common.tile_images`).

    Raises:
        ValueError: for weights that are not 4-D.
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 4:
        raise ValueError(f"channel_mosaic: weights must be (F, C, HH, WW); got {weights.shape}")
    f, c, hh, ww = weights.shape
    scale = np.abs(weights).max(axis=(1, 2, 3), keepdims=True)
    scaled = weights / np.where(scale > 0, scale, 1.0)
    return tile_images(scaled.reshape(f * c, hh, ww), cols=c, fill=-1.0)


def plot_filters(
    weights: np.ndarray,
    *,
    title: str | None = "First-layer filters",
    channels: str = "auto",
    path: PathLike | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: float = 100,
) -> Figure:
    """Show convolution filters (F, C, HH, WW) of any layer as one image.

    As a picture (``channels='rgb'``, for C of 1 or 3; grey or colour), each filter is one tile
    scaled on its own to the full colour range (``visualize_grid``), so the grid shows each
    filter's pattern, not the relative sizes of the filters. Channel by channel
    (``channels='each'``, any C), filter f's channel c is the tile in row f and column c
    (:func:`channel_mosaic`), grey with zero in the middle. ``'auto'`` is ``'rgb'`` for C of 1
    or 3 and ``'each'`` otherwise.

    Args:
        weights: (F, C, HH, WW) convolution weights.
        title: a line above the grid, followed by the shape; None for none.
        channels: 'auto', 'rgb' or 'each'.
        path: write the figure there as a PNG.
        figsize: inches; default 5 x 5 for a picture grid, sized by the mosaic channel by
            channel (4 to 10 inches wide).
        dpi: dots per inch.

    Returns:
        The figure.

    Raises:
        ValueError: weights that are not 4-D, an unknown ``channels``, or 'rgb' for C not 1
            or 3.
    """
    weights = np.asarray(weights)
    if channels not in ("auto", "rgb", "each"):
        raise ValueError(
            f"plot_filters: channels must be 'auto', 'rgb' or 'each'; got {channels!r}"
        )
    if weights.ndim != 4:
        raise ValueError(f"plot_filters: weights must be (F, C, HH, WW); got {weights.shape}")
    pictures = weights.shape[1] in (1, 3)
    if channels == "rgb" and not pictures:
        raise ValueError(
            f"plot_filters: channels='rgb' needs C of 1 or 3; got weights {weights.shape}"
        )
    if channels == "each" or (channels == "auto" and not pictures):
        mosaic = channel_mosaic(weights)
        width = min(10.0, max(4.0, mosaic.shape[1] / 40))
        size = figsize or (width, min(30.0, width * mosaic.shape[0] / mosaic.shape[1]) + 0.5)
        shown = {"image": mosaic, "cmap": "gray", "vmin": -1.0, "vmax": 1.0}
        layout = "rows: filters, columns: input channels"
    else:
        grid = visualize_grid(weights.transpose(0, 2, 3, 1), ubound=1.0)
        size = figsize or (5.0, 5.0)
        shown = {"image": grid[..., 0] if grid.shape[-1] == 1 else grid, "cmap": "gray"}
        layout = ""
    fig = new_figure(size, dpi)
    ax = fig.add_subplot()
    ax.imshow(shown.pop("image"), interpolation="nearest", **shown)
    ax.set_axis_off()
    if title:
        f, c, hh, ww = weights.shape
        text = f"{title} ({f} x {c} x {hh} x {ww})" + (f"\n{layout}" if layout else "")
        ax.set_title(text, fontsize=10 if layout else None)
    return finish(fig, path)
