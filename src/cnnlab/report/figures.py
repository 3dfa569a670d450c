"""A run's figures, each drawn when the run's files allow it.

Training curves, confusion matrix, per-class accuracy, first-layer filters, sample predictions and
their right/wrong x high/low confidence cases.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from matplotlib.figure import Figure

from cnnlab.report.run import Run, load_layer_filters, load_run
from cnnlab.viz._common import png_bytes, write_bytes_atomic
from cnnlab.viz.confusion import (
    plot_confusion_images,
    plot_confusion_matrix,
    plot_per_class_accuracy,
)
from cnnlab.viz.curves import plot_training_curves
from cnnlab.viz.grid import plot_filters
from cnnlab.viz.predictions import plot_confidence_cases, plot_predictions

CASE_IMAGES = 3  # images per confidence case (the run keeps 25 test samples)


def _figure_makers(run: Run, dpi: float) -> dict[str, tuple[str, Callable[[], Figure] | None]]:
    """Name -> (what it needs, a maker or None when that is missing)."""
    names = run.class_names
    samples = run.samples
    confusion = run.confusion
    accuracy = run.class_accuracy
    return {
        "curves": (
            "history.json",
            run.history
            and (lambda: plot_training_curves(run.history, num_epochs=run.num_epochs, dpi=dpi)),
        ),
        "confusion": (
            "a confusion matrix in results.json",
            confusion is not None and (lambda: plot_confusion_matrix(confusion, names, dpi=dpi)),
        ),
        "per_class": (
            "per-class accuracy in results.json",
            accuracy is not None and (lambda: plot_per_class_accuracy(accuracy, names, dpi=dpi)),
        ),
        "filters": (
            "model weights",
            run.filters is not None and (lambda: plot_filters(run.filters, dpi=dpi)),
        ),
        "predictions": (
            "samples.npz",
            samples is not None
            and (
                lambda: plot_predictions(
                    samples["images"],
                    samples["y_true"],
                    samples["y_pred"],
                    samples["probs"],
                    names,
                    dpi=dpi,
                )
            ),
        ),
        "confusion_images": (
            "samples.npz",
            samples is not None
            and (
                lambda: plot_confusion_images(
                    samples["images"],
                    samples["y_true"],
                    samples["y_pred"],
                    names,
                    num_classes=samples["probs"].shape[-1],
                    dpi=dpi,
                )
            ),
        ),
        "confidence_cases": (
            "samples.npz",
            samples is not None
            and (
                lambda: plot_confidence_cases(
                    samples["images"],
                    samples["y_true"],
                    samples["probs"],
                    names,
                    per_case=CASE_IMAGES,
                    dpi=dpi,
                )
            ),
        ),
    }


def make_figures(run: Run, dpi: float = 100) -> tuple[dict[str, Figure], dict[str, str]]:
    """Every figure the run's files allow, and a note for each one that could not be made."""
    figures: dict[str, Figure] = {}
    notes: dict[str, str] = {}
    for name, (needs, maker) in _figure_makers(run, dpi).items():
        if not maker:
            notes[name] = f"not drawn: needs {needs}"
            continue
        try:
            figures[name] = maker()
        except (ValueError, KeyError, IndexError) as err:
            notes[name] = f"not drawn: {err}"
    return figures, notes


def write_figures(run_dir: str | os.PathLike, filter_layers: Sequence[str] = ()) -> list[Path]:
    """Write every figure of a run as ``RUN/figures/<name>.png``; return the paths written.

    Args:
        run_dir: the run folder.
        filter_layers: names of convolution layers (e.g. ``conv2``) whose filters are drawn
            too, as ``filters_<layer>.png`` (:func:`cnnlab.viz.grid.plot_filters`: RGB for 3
            input channels, else channel by channel).

    Returns:
        The paths written.

    Raises:
        ValueError: a layer in ``filter_layers`` that is not a convolution of the model.
    """
    run = load_run(run_dir)
    figures, _ = make_figures(run)
    for layer in filter_layers:
        weights = load_layer_filters(run.path, layer)
        figures[f"filters_{layer}"] = plot_filters(weights, title=f"{layer} filters")
    return [
        write_bytes_atomic(run.path / "figures" / f"{name}.png", png_bytes(fig))
        for name, fig in figures.items()
    ]
