"""Test images with the model's prediction, its probability and the true label.

A grid, and seed 003's four cases of right/wrong x high/low confidence with their losses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from cnnlab.metrics import confidence_cases, sample_losses
from cnnlab.validation import check_labels
from cnnlab.viz._common import (
    RIGHT_COLOUR,
    WRONG_COLOUR,
    PathLike,
    as_hwc_images,
    class_names_for,
    finish,
    image_axes,
    new_figure,
    show_image,
)

WRONG_MARK = "\u2717 "  # a ballot cross, in DejaVu Sans (matplotlib's default font)


def _check_probs(probs: np.ndarray, n: int, func: str) -> np.ndarray:
    """``probs`` as float64 (N, K) with N = ``n``; ValueError naming ``func`` otherwise."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[0] != n:
        raise ValueError(f"{func}: probs must be (N, K) with N = {n}; got {probs.shape}")
    return probs


def plot_predictions(
    images: np.ndarray,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    probs: np.ndarray,
    class_names: Sequence[str] | None = None,
    *,
    ncols: int = 5,
    path: PathLike | None = None,
    figsize: tuple[float, float] = (8.5, 9.5),
    dpi: float = 100,
) -> Figure:
    """Each image with "predicted (probability)" below it and the true label at its side.

    Wrong predictions get a thick magenta frame, magenta text and a cross (WRONG_MARK) before
    the prediction; right ones are labelled in green.

    Inputs:
    - images: (N, H, W, C) or (N, C, H, W), C of 1 or 3 (uint8 shown as is, floats min-max
      scaled per image).
    - y_true, y_pred: (N,) integer labels in [0, K).
    - probs: (N, K) class probabilities; the predicted class's probability is shown.
    """
    images = as_hwc_images(images, "plot_predictions")
    n = images.shape[0]
    probs = _check_probs(probs, n, "plot_predictions")
    k = probs.shape[1]
    y_true = check_labels("plot_predictions", y_true, n, k, "y_true")
    y_pred = check_labels("plot_predictions", y_pred, n, k, "y_pred")
    names = class_names_for(class_names, k, "plot_predictions")
    fig = new_figure(figsize, dpi)
    for i, ax in enumerate(image_axes(fig, n, ncols)):
        show_image(ax, images[i])
        right = y_true[i] == y_pred[i]
        colour = RIGHT_COLOUR if right else WRONG_COLOUR
        mark = "" if right else WRONG_MARK
        ax.set_xlabel(
            f"{mark}{names[y_pred[i]]} ({probs[i, y_pred[i]]:.3f})", color=colour, fontsize=9.5
        )
        ax.set_ylabel(names[y_true[i]], fontsize=10)
        for spine in ax.spines.values():
            spine.set_edgecolor(colour)
            spine.set_linewidth(1.0 if right else 4.0)
    correct = int(np.sum(y_true == y_pred))
    fig.suptitle(
        f"{correct} of {n} right; {WRONG_MARK}marks a wrong one. "
        "Below: predicted (probability); side: true label",
        fontsize=12,
    )
    return finish(fig, path)


def plot_confidence_cases(
    images: np.ndarray,
    y_true: np.ndarray,
    probs: np.ndarray,
    class_names: Sequence[str] | None = None,
    *,
    per_case: int = 4,
    path: PathLike | None = None,
    dpi: float = 100,
) -> Figure:
    """Seed 003's question: right/wrong x high/low confidence, one row per case, with the loss.

    The samples of each case are chosen by :func:`cnnlab.metrics.confidence_cases`; under each
    image are "predicted (probability)" and its cross-entropy loss -log p(true class), at its
    side the true label. A case with no sample says so.

    Args:
        images: (N, H, W, C) or (N, C, H, W), C of 1 or 3.
        y_true: (N,) integer labels in [0, K).
        probs: (N, K) class probabilities.
        class_names: K names (default "0", "1", ...).
        per_case: the most images per row.
        path: write the figure there as a PNG.
        dpi: dots per inch.

    Returns:
        The figure: 4 rows of ``per_case`` images.

    Raises:
        ValueError: for images, labels and probabilities whose shapes do not agree.
    """
    images = as_hwc_images(images, "plot_confidence_cases")
    probs = _check_probs(probs, images.shape[0], "plot_confidence_cases")
    cases = confidence_cases(probs, y_true, per_case)
    losses = sample_losses(probs, y_true)
    y_true = np.asarray(y_true)
    y_pred = probs.argmax(axis=1)
    names = class_names_for(class_names, probs.shape[1], "plot_confidence_cases")
    fig = new_figure((1.9 * per_case + 1.2, 2.3 * len(cases)), dpi)
    rows = fig.subfigures(len(cases), 1)
    for row, (case, chosen) in zip(rows, cases.items(), strict=True):
        right = case.startswith("right")
        row.suptitle(case, color=RIGHT_COLOUR if right else WRONG_COLOUR, fontsize=11)
        if len(chosen) == 0:
            row.text(0.5, 0.5, "no such prediction", ha="center", va="center", fontsize=10)
            continue
        for ax, i in zip(row.subplots(1, per_case, squeeze=False)[0], chosen, strict=False):
            show_image(ax, images[i])
            ax.set_xlabel(
                f"{names[y_pred[i]]} ({probs[i, y_pred[i]]:.3f})\nloss {losses[i]:.3f}",
                fontsize=8.5,
            )
            ax.set_ylabel(names[y_true[i]], fontsize=9)
        for ax in row.axes[len(chosen) :]:
            ax.remove()
    return finish(fig, path)
