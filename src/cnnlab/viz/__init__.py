"""Figures: every figure the seeds draw by hand, as one call.

Each function builds a matplotlib Figure on its own Agg canvas (no pyplot state, no display
needed), returns it, and with ``path=`` also writes a PNG.
"""

from cnnlab.viz.confusion import (
    plot_confusion_images,
    plot_confusion_matrix,
    plot_per_class_accuracy,
)
from cnnlab.viz.curves import ema, plot_check_curves, plot_training_curves
from cnnlab.viz.dataset import plot_dataset_samples
from cnnlab.viz.features import layer_activations, plot_feature_maps
from cnnlab.viz.grid import plot_filters, visualize_grid
from cnnlab.viz.predictions import plot_predictions
from cnnlab.viz.regions import decision_grid, plot_decision_regions, plot_k_accuracy

__all__ = [
    "decision_grid",
    "ema",
    "layer_activations",
    "plot_check_curves",
    "plot_confusion_images",
    "plot_confusion_matrix",
    "plot_dataset_samples",
    "plot_decision_regions",
    "plot_feature_maps",
    "plot_filters",
    "plot_k_accuracy",
    "plot_per_class_accuracy",
    "plot_predictions",
    "plot_training_curves",
    "visualize_grid",
]
