"""Tiling many small images into one: ``visualize_grid`` (the CS231n helper) and filter plots."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from cnnlab.viz._common import PathLike, finish, new_figure, scale_to_range


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


def plot_filters(
    weights: np.ndarray,
    *,
    title: str | None = "First-layer filters",
    path: PathLike | None = None,
    figsize: tuple[float, float] = (5.0, 5.0),
    dpi: float = 100,
) -> Figure:
    """Show convolution filters (F, C, HH, WW), C of 1 (grey) or 3 (RGB), as one grid.

    Each filter is scaled on its own to the full colour range (``visualize_grid``), so the
    picture shows each filter's pattern, not the relative sizes of the filters.
    """
    weights = np.asarray(weights)
    if weights.ndim != 4 or weights.shape[1] not in (1, 3):
        raise ValueError(
            f"plot_filters: weights must be (F, C, HH, WW) with C of 1 or 3; got {weights.shape}"
        )
    grid = visualize_grid(weights.transpose(0, 2, 3, 1), ubound=1.0)
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    ax.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray", interpolation="nearest")
    ax.set_axis_off()
    if title:
        f, c, hh, ww = weights.shape
        ax.set_title(f"{title} ({f} x {c} x {hh} x {ww})")
    return finish(fig, path)
