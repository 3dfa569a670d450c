"""Feature maps: what one layer of a network computes for one image."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from matplotlib.figure import Figure

from cnnlab.viz._common import PathLike, finish, new_figure, scale_to_range, show_image
from cnnlab.viz.grid import grid_layout


def layer_activations(model: Iterable, image: np.ndarray, layer: int) -> np.ndarray:
    """Run one image through the layers of a sequential model up to ``layer`` (inclusive).

    Inputs:
    - model: an iterable of layers each having ``forward(x) -> out`` (e.g. ``nn.Sequential``).
      If the model has ``eval``/``train`` and a ``training`` flag, it runs in eval mode and its
      mode is restored afterwards.
    - image: (C, H, W) or (1, C, H, W).
    - layer: index of the layer whose output is returned (negative counts from the end).

    Returns the activations (C', H', W') of that layer for the image.
    """
    x = np.asarray(image)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[0] != 1:
        raise ValueError(
            f"layer_activations: image must be (C, H, W) or (1, C, H, W); got {np.shape(image)}"
        )
    layers = list(model)
    if not -len(layers) <= layer < len(layers):
        raise ValueError(
            f"layer_activations: layer {layer} out of range for a model of {len(layers)} layers"
        )
    stop = layer % len(layers)
    was_training = getattr(model, "training", None)
    if was_training is not None:
        model.eval()
    try:
        for module in layers[: stop + 1]:
            x = module.forward(x)
    finally:
        if was_training is not None:
            model.train(was_training)
    if np.ndim(x) != 4:
        raise ValueError(
            f"layer_activations: layer {layer} ({type(layers[stop]).__name__}) "
            f"gives shape {np.shape(x)}, not feature maps (1, C, H, W)"
        )
    return np.asarray(x)[0]


def plot_feature_maps(
    maps: np.ndarray,
    *,
    image: np.ndarray | None = None,
    max_maps: int = 64,
    title: str = "Feature maps",
    path: PathLike | None = None,
    figsize: tuple[float, float] = (10.0, 6.5),
    dpi: float = 100,
) -> Figure:
    """The first ``max_maps`` channels of feature maps (C, H, W) in a grid.

    The grid is laid out as by ``visualize_grid``, each channel scaled on its own, optionally beside
    the input ``image`` (H, W, C) or (C, H, W).
    """
    maps = np.asarray(maps)
    if maps.ndim != 3 or maps.shape[0] == 0:
        raise ValueError(f"plot_feature_maps: maps must be (C, H, W); got {maps.shape}")
    shown = maps[:max_maps]
    c, h, w = maps.shape
    shape, origins = grid_layout(len(shown), h, w, padding=1)
    grid = np.ma.masked_array(np.zeros(shape), mask=True)  # gaps and spare cells stay blank
    for tile, (top, left) in zip(shown, origins, strict=True):
        grid[top : top + h, left : left + w] = scale_to_range(tile, 1.0)
    fig = new_figure(figsize, dpi)
    if image is not None:
        image = np.asarray(image)
        if image.ndim == 3 and image.shape[0] in (1, 3) and image.shape[-1] not in (1, 3):
            image = image.transpose(1, 2, 0)
        if image.ndim != 3 or image.shape[-1] not in (1, 3):
            raise ValueError(
                f"plot_feature_maps: image must be (H, W, C) or (C, H, W) with "
                f"C of 1 or 3; got {np.shape(image)}"
            )
        ax_image, ax_maps = fig.subplots(1, 2, width_ratios=[1, 2.5])
        show_image(ax_image, image)
        ax_image.set_title("input")
    else:
        ax_maps = fig.add_subplot()
    ax_maps.imshow(grid, cmap="viridis", interpolation="nearest")
    ax_maps.set_axis_off()
    note = f"first {len(shown)} of {c}" if len(shown) < c else f"{c}"
    ax_maps.set_title(f"{title}: {note} channels of {h} x {w}")
    return finish(fig, path)
