"""Figures for the sparse autoencoder (seed 002, question 1, parts A-D).

Every function builds a headless figure (:func:`cnnlab.viz._common.new_figure`), writes it as a
PNG atomically when ``save`` is given, and returns it. Grids of patches are drawn as one mosaic
image (one ``imshow``), far quicker than one axes per patch; unlike
:func:`cnnlab.viz.grid.visualize_grid`, the mosaic keeps the values as they are, so patches
are shown on one common scale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import ScalarFormatter

from cnnlab.viz._common import PathLike, finish, new_figure, tile_images


def _as_squares(images: np.ndarray, name: str) -> np.ndarray:
    """(n, p*p) or (n, p, p) grey images -> (n, p, p)."""
    a = np.asarray(images, dtype=np.float64)
    if a.ndim == 2:
        p = math.isqrt(a.shape[1])
        if p * p != a.shape[1]:
            raise ValueError(f"{name}: rows of length {a.shape[1]} are not square images")
        a = a.reshape(-1, p, p)
    if a.ndim != 3 or a.shape[1] != a.shape[2]:
        raise ValueError(f"{name}: expected (n, p*p) or (n, p, p) images, got shape {a.shape}")
    return a


def _mosaic_axes(
    fig: Figure, where, mosaic: np.ndarray, title: str, fontsize: float = 12, **imshow
) -> None:
    ax = fig.add_subplot(where)
    ax.imshow(mosaic, interpolation="nearest", **imshow)
    ax.set_title(title, fontsize=fontsize)
    ax.axis("off")


def plot_patches(
    rgb: np.ndarray,
    normalised: np.ndarray,
    num: int = 200,
    cols: int = 20,
    seed: int | np.random.Generator | None = None,
    save: PathLike | None = None,
) -> Figure:
    """Part A: ``num`` random patches in colour beside their normalised grey versions.

    Inputs: rgb (N, 3, p, p) in [0, 1]; normalised (N, p*p) or (N, p, p), same order.
    """
    rgb = np.asarray(rgb)
    grey = _as_squares(normalised, "plot_patches")
    if rgb.ndim != 4 or rgb.shape[1] != 3 or rgb.shape[0] != grey.shape[0]:
        raise ValueError(
            f"plot_patches: rgb must be (N, 3, p, p) matching normalised "
            f"{grey.shape}, got shape {rgb.shape}"
        )
    pick = np.random.default_rng(seed).permutation(rgb.shape[0])[:num]
    fig = new_figure((14, 4 + 0.2 * len(pick) / cols))
    _mosaic_axes(
        fig,
        121,
        tile_images(np.clip(rgb[pick].transpose(0, 2, 3, 1), 0, 1), cols),
        f"{len(pick)} random patches (RGB)",
    )
    _mosaic_axes(
        fig,
        122,
        tile_images(grey[pick], cols),
        "normalised (grey, [0.1, 0.9])",
        cmap="gray",
        vmin=0.0,
        vmax=1.0,
    )
    return finish(fig, save)


def grid_columns(n: int) -> int:
    """Columns for n tiles.

    The smallest divisor of n from sqrt(n) up to 2 sqrt(n) (a full grid: 10 -> 2x5, 60 -> 6x10, 64
    -> 8x8), else ceil(sqrt(n)).
    """
    root = math.ceil(math.sqrt(n))
    return next((c for c in range(root, 2 * root + 1) if n % c == 0), root)


def hidden_weight_mosaic(W1: np.ndarray, cols: int | None = None) -> np.ndarray:
    """Each hidden unit's input weights W1[:, j] as a p x p tile, scaled by its own max |w|.

    Inputs: W1 (p*p, Lhid); cols per row (default :func:`grid_columns`). Returns the mosaic
    (see :func:`tile_images`) with values in [-1, 1]: mid-grey is zero weight, white the unit's
    largest positive weight. This is the per-unit scaling of UFLDL's ``display_network``, so a
    unit whose weights are confined to part of the patch shows grey elsewhere.
    """
    W1 = np.asarray(W1, dtype=np.float64)
    if W1.ndim != 2:
        raise ValueError(f"hidden_weight_mosaic: W1 must be (p*p, Lhid), got shape {W1.shape}")
    tiles = _as_squares(W1.T, "hidden_weight_mosaic")
    scale = np.abs(tiles).max(axis=(1, 2), keepdims=True)
    tiles = tiles / np.where(scale > 0, scale, 1.0)
    return tile_images(tiles, cols or grid_columns(len(tiles)), fill=-1.0)


def plot_hidden_weights(
    W1: np.ndarray, title: str | None = None, save: PathLike | None = None
) -> Figure:
    """Part C: the hidden-weight grid, one p x p image per hidden unit, normalised per unit.

    Inputs: W1 (p*p, Lhid).
    """
    mosaic = hidden_weight_mosaic(W1)
    side = min(7.0, max(3.0, mosaic.shape[1] / 20))
    fig = new_figure((side, side * mosaic.shape[0] / mosaic.shape[1] + 0.4))
    _mosaic_axes(
        fig,
        111,
        mosaic,
        title or f"hidden weights ({W1.shape[1]} units)",
        fontsize=12 if side >= 5 else 9,
        cmap="gray",
        vmin=-1.0,
        vmax=1.0,
    )
    return finish(fig, save)


def plot_reconstructions(
    data: np.ndarray,
    recon: np.ndarray,
    num: int = 20,
    cols: int = 10,
    title: str = "test patches (top) and reconstructions (bottom)",
    save: PathLike | None = None,
) -> Figure:
    """Patches and their reconstructions, in pairs of rows, on one grey scale [0, 1].

    Inputs: data, recon (N, p*p) or (N, p, p); the first ``num`` are shown.
    """
    x = _as_squares(data, "plot_reconstructions")[:num]
    y = _as_squares(recon, "plot_reconstructions")[:num]
    if x.shape != y.shape:
        raise ValueError(f"plot_reconstructions: data {x.shape} and recon {y.shape} differ")
    cols = min(cols, len(x))
    tiles = []
    for start in range(0, len(x), cols):
        row_x, row_y = x[start : start + cols], y[start : start + cols]
        blank = np.ones((cols - len(row_x), *x.shape[1:]))
        tiles += [row_x, blank, row_y, blank]
    fig = new_figure((1.0 * cols, 2.1 * math.ceil(len(x) / cols) + 0.5))
    _mosaic_axes(
        fig, 111, tile_images(np.concatenate(tiles), cols), title, cmap="gray", vmin=0.0, vmax=1.0
    )
    return finish(fig, save)


def plot_cost(
    histories: Sequence[float] | Mapping[str, Sequence[float]],
    log: bool = True,
    title: str = "sparse autoencoder cost",
    save: PathLike | None = None,
) -> Figure:
    """Cost curve(s): a sequence, or a dict label -> sequence (cost after k iterations)."""
    if not isinstance(histories, Mapping):
        histories = {"cost": histories}
    fig = new_figure((6, 4))
    ax = fig.add_subplot(111)
    for label, h in histories.items():
        ax.plot(np.arange(len(h)), h, label=label)
    if log:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.yaxis.set_minor_formatter(ScalarFormatter())
    ax.set_xlabel("iteration")
    ax.set_ylabel("J")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if len(histories) > 1:
        ax.legend()
    return finish(fig, save)


def plot_sweep_reconstructions(
    original: np.ndarray,
    recons: Mapping[str, np.ndarray],
    cols: int | None = None,
    save: PathLike | None = None,
) -> Figure:
    """Part D: one test patch beside its reconstruction by each swept setting.

    Inputs: original (p*p,) or (p, p); recons: label -> (p*p,) or (p, p).
    """
    images = [original, *recons.values()]
    labels = ["original", *recons.keys()]
    squares = _as_squares(np.stack([np.ravel(a) for a in images]), "plot_sweep_reconstructions")
    cols = cols or len(images)
    rows = math.ceil(len(images) / cols)
    fig = new_figure((1.6 * cols, 1.9 * rows))
    for k, (img, label) in enumerate(zip(squares, labels, strict=True)):
        ax = fig.add_subplot(rows, cols, k + 1)
        ax.imshow(img, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_title(label, fontsize=8)
        ax.axis("off")
    return finish(fig, save)


def plot_framework_twin(
    histories: Mapping[str, Sequence[float]],
    original: np.ndarray,
    recons: Mapping[str, np.ndarray],
    save: PathLike | None = None,
) -> Figure:
    """Part B's check: the cost curves of two trainings side by side with what each reconstructs.

    Left, every cost history (log scale) and, when there are two, the absolute difference
    between them step by step below it; right, the test patch and each training's
    reconstruction of it.

    Args:
        histories: label -> costs after 0, 1, ... steps (one label per framework).
        original: (p*p,) or (p, p) test patch.
        recons: label -> its (p*p,) or (p, p) reconstruction.
        save: write the figure there as a PNG.

    Returns:
        The figure.
    """
    squares = _as_squares(
        np.stack([np.ravel(a) for a in (original, *recons.values())]), "plot_framework_twin"
    )
    fig = new_figure((11, 4.6))
    left, right = fig.subfigures(1, 2, width_ratios=[1.3, 1])
    runs = list(histories.values())
    paired = len(runs) == 2 and len(runs[0]) == len(runs[1])
    if paired:
        ax, below = left.subplots(2, 1, sharex=True, height_ratios=[3, 1])
        below.plot(np.abs(np.asarray(runs[0]) - np.asarray(runs[1])), color="0.3", linewidth=0.8)
        below.set_ylabel("|difference|", fontsize=8)
        below.set_xlabel("gradient-descent step")
        below.grid(True, alpha=0.3)
    else:
        ax = left.add_subplot(111)
        ax.set_xlabel("gradient-descent step")
    for label, h in histories.items():
        ax.plot(np.arange(len(h)), h, label=label, linewidth=1.2)
    ax.set_yscale("log")
    ax.set_ylabel("J")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("cost from the same initial weights")
    axes = right.subplots(1, len(squares))
    for a, img, label in zip(axes, squares, ["test patch", *recons.keys()], strict=True):
        a.imshow(img, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        a.set_title(label, fontsize=9)
        a.axis("off")
    return finish(fig, save)
