"""Class-level results drawn: the confusion matrix and per-class accuracy.

The matrix shows counts and row fractions, or example images; the numbers come from
:mod:`cnnlab.metrics`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from cnnlab.metrics import check_confusion, row_fractions
from cnnlab.validation import check_labels
from cnnlab.viz._common import (
    RIGHT_COLOUR,
    WRONG_COLOUR,
    PathLike,
    as_hwc_images,
    class_names_for,
    displayable,
    finish,
    new_figure,
)


def plot_confusion_matrix(
    confusion: np.ndarray,
    class_names: Sequence[str] | None = None,
    *,
    title: str = "Confusion matrix",
    path: PathLike | None = None,
    figsize: tuple[float, float] = (7.5, 6.2),
    dpi: float = 100,
) -> Figure:
    """A (K, K) confusion matrix of counts (rows: truth, columns: prediction).

    Each cell is coloured by its fraction of the true class and labelled with its count and that
    fraction.
    """
    confusion = check_confusion(confusion, "plot_confusion_matrix")
    k = confusion.shape[0]
    names = class_names_for(class_names, k, "plot_confusion_matrix")
    fractions = row_fractions(confusion)
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    image = ax.imshow(fractions, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, shrink=0.8, label="fraction of the true class")
    if k <= 20:
        size = 10 if k <= 12 else 6
        for i in range(k):
            for j in range(k):
                colour = "white" if fractions[i, j] > 0.55 else "black"
                if confusion[i, j] == 0:
                    ax.text(j, i, "0", ha="center", va="center", fontsize=size, color="0.7")
                elif k <= 12:
                    ax.text(
                        j,
                        i,
                        f"{confusion[i, j]:g}",
                        ha="center",
                        va="bottom",
                        fontsize=size,
                        color=colour,
                    )
                    ax.text(
                        j,
                        i + 0.05,
                        f"{100 * fractions[i, j]:.0f}%",
                        ha="center",
                        va="top",
                        fontsize=size - 3,
                        color=colour,
                    )
                else:
                    ax.text(
                        j,
                        i,
                        f"{confusion[i, j]:g}",
                        ha="center",
                        va="center",
                        fontsize=size,
                        color=colour,
                    )
    ax.set_xticks(range(k), names, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"{title} ({confusion.sum():g} samples)")
    return finish(fig, path)


def plot_per_class_accuracy(
    accuracy: Sequence[float] | np.ndarray,
    class_names: Sequence[str] | None = None,
    *,
    title: str = "Per-class accuracy",
    path: PathLike | None = None,
    figsize: tuple[float, float] = (7.0, 4.5),
    dpi: float = 100,
) -> Figure:
    """Horizontal bars of each class's accuracy (K,) in [0, 1], with the mean as a line."""
    accuracy = np.asarray(accuracy, dtype=np.float64)
    if accuracy.ndim != 1 or accuracy.size == 0:
        raise ValueError(f"plot_per_class_accuracy: accuracy must be (K,); got {accuracy.shape}")
    names = class_names_for(class_names, accuracy.size, "plot_per_class_accuracy")
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    rows = np.arange(accuracy.size)
    mean = accuracy.mean()
    colours = [RIGHT_COLOUR if a >= mean else WRONG_COLOUR for a in accuracy]
    ax.barh(rows, accuracy, color=colours, alpha=0.85)
    for row, value in zip(rows, accuracy, strict=True):
        ax.text(value + 0.01, row, f"{100 * value:.1f}%", va="center", fontsize=10)
    ax.axvline(mean, color="0.3", linestyle="--", linewidth=1, label=f"mean {100 * mean:.1f}%")
    ax.set_yticks(rows, names, fontsize=11)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.12)
    ax.set_xlabel("accuracy", fontsize=11)
    ax.set_title(title, fontsize=13)
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(True, axis="x", alpha=0.3)
    return finish(fig, path)


def plot_confusion_images(
    images: np.ndarray,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    class_names: Sequence[str] | None = None,
    *,
    num_classes: int | None = None,
    path: PathLike | None = None,
    figsize: tuple[float, float] = (7.5, 7.5),
    dpi: float = 100,
) -> Figure:
    """Images in a confusion matrix.

    The first image of each (true, predicted) pair is drawn in cell [true, predicted], framed in
    green on the diagonal and magenta off it; cells with no image stay light grey.

    Inputs: images (N, H, W, C) or (N, C, H, W), C of 1 or 3; y_true, y_pred (N,) labels;
    num_classes defaults to the number of class names, else to the largest label + 1.
    """
    images = as_hwc_images(images, "plot_confusion_images")
    n, h, w, _ = images.shape
    if num_classes is None:
        labels = np.concatenate([np.ravel(y_true), np.ravel(y_pred)]).astype(np.int64)
        num_classes = len(class_names) if class_names is not None else int(labels.max()) + 1
    y_true = check_labels("plot_confusion_images", y_true, n, num_classes, "y_true")
    y_pred = check_labels("plot_confusion_images", y_pred, n, num_classes, "y_pred")
    names = class_names_for(class_names, num_classes, "plot_confusion_images")
    frame = max(1, h // 16)
    cell_h, cell_w = h + 2 * frame, w + 2 * frame
    gap = max(1, h // 8)
    side_h = num_classes * (cell_h + gap) - gap
    side_w = num_classes * (cell_w + gap) - gap
    mosaic = np.ones((side_h, side_w, 3))
    for i in range(num_classes):
        for j in range(num_classes):
            top, left = i * (cell_h + gap), j * (cell_w + gap)
            mosaic[top : top + cell_h, left : left + cell_w] = 0.92
    placed: set[tuple[int, int]] = set()
    for image, t, p in zip(images, y_true, y_pred, strict=True):
        if (t, p) in placed:
            continue
        placed.add((t, p))
        top, left = t * (cell_h + gap), p * (cell_w + gap)
        mosaic[top : top + cell_h, left : left + cell_w] = to_rgb(
            RIGHT_COLOUR if t == p else WRONG_COLOUR
        )
        tile = displayable(image).astype(np.float64)
        tile = tile / 255.0 if image.dtype == np.uint8 else tile
        if tile.ndim == 2:
            tile = np.repeat(tile[..., None], 3, axis=-1)
        mosaic[top + frame : top + frame + h, left + frame : left + frame + w] = tile
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    ax.imshow(mosaic, interpolation="nearest")
    centres_y = np.arange(num_classes) * (cell_h + gap) + cell_h / 2 - 0.5
    centres_x = np.arange(num_classes) * (cell_w + gap) + cell_w / 2 - 0.5
    ax.set_xticks(centres_x, names, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(centres_y, names)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"Example images by (true, predicted) class ({len(placed)} cells filled)")
    return finish(fig, path)
