"""Several training runs on one figure: accuracy per epoch of each.

For example with and without batch normalisation (seed 003's task 2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from cnnlab.viz._common import PathLike, finish, new_figure


def plot_accuracy_comparison(
    histories: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    title: str | None = None,
    path: PathLike | None = None,
    dpi: float = 100,
) -> Figure:
    """Validation (solid) and training (dashed) accuracy per epoch of each run, one colour each.

    Args:
        histories: label -> a run's history (``val_acc_history`` and ``train_acc_history``,
            one value per epoch from epoch 0, as the Solver records them).
        title: a line above the axes.
        path: write the figure there as a PNG.
        dpi: dots per inch.

    Returns:
        The figure.

    Raises:
        ValueError: a history without ``val_acc_history``.
    """
    fig = new_figure((6.5, 4.2), dpi)
    ax = fig.add_subplot()
    colours = iter(f"C{k}" for k in range(10))
    for label, history in histories.items():
        if "val_acc_history" not in history:
            raise ValueError(f"plot_accuracy_comparison: {label!r} has no val_acc_history")
        colour = next(colours)
        val = np.asarray(history["val_acc_history"], dtype=np.float64)
        ax.plot(np.arange(len(val)), val, color=colour, marker="o", label=f"{label}, validation")
        train = history.get("train_acc_history")
        if train:
            ax.plot(
                np.arange(len(train)),
                train,
                color=colour,
                linestyle="--",
                label=f"{label}, training",
            )
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return finish(fig, path)
