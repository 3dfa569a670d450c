"""A preview of a dataset: random images with their class names."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from cnnlab.validation import check_labels
from cnnlab.viz._common import (
    PathLike,
    as_hwc_images,
    class_names_for,
    finish,
    image_axes,
    new_figure,
    show_image,
)


def plot_dataset_samples(
    images: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str] | None = None,
    *,
    n: int = 25,
    seed: int | np.random.Generator = 0,
    title: str | None = "Random training images",
    path: PathLike | None = None,
    figsize: tuple[float, float] = (8.0, 8.8),
    dpi: float = 100,
) -> Figure:
    """``n`` images drawn at random without replacement, each with its class name below.

    All of them when there are fewer.

    Inputs: images (N, H, W, C) or (N, C, H, W), C of 1 or 3; labels (N,) integers in
    [0, K) where K is the number of class names (or the largest label + 1 when none given);
    seed: an int or a ``numpy.random.Generator`` choosing the images.
    """
    images = as_hwc_images(images, "plot_dataset_samples")
    total = images.shape[0]
    if total == 0 or n < 1:
        raise ValueError(
            f"plot_dataset_samples: need at least one image and n >= 1; got "
            f"{total} images and n = {n}"
        )
    labels = np.asarray(labels)
    k = len(class_names) if class_names is not None else int(labels.max()) + 1
    labels = check_labels("plot_dataset_samples", labels, total, k, "labels")
    names = class_names_for(class_names, k, "plot_dataset_samples")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    chosen = rng.choice(total, size=min(n, total), replace=False)
    fig = new_figure(figsize, dpi)
    for ax, index in zip(image_axes(fig, len(chosen)), chosen, strict=True):
        show_image(ax, images[index])
        ax.set_xlabel(names[labels[index]], fontsize=9)
    if title:
        fig.suptitle(title)
    return finish(fig, path)
