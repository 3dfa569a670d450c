"""A hyperparameter search's figure: the validation accuracy of every trial."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from cnnlab.viz._common import PathLike, finish, new_figure


def plot_search(
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    *,
    path: PathLike | None = None,
    dpi: float = 100,
) -> Figure:
    """Validation accuracy over the grid: a heat map for two hyperparameters, else bars.

    Args:
        rows: one per trial, with the hyperparameters ``keys``, ``val_acc`` (NaN for a trial
            that failed or diverged) and ``status``.
        keys: the hyperparameters searched, in order.
        path: also save the figure there.
        dpi: resolution.

    Returns:
        The figure; failed and diverged trials show their status instead of a value, the best
        trial is outlined.

    Raises:
        ValueError: no rows.
    """
    if not rows:
        raise ValueError("plot_search: no trials to plot")
    acc = np.array([float(row["val_acc"]) for row in rows])
    best = int(np.nanargmax(acc)) if np.isfinite(acc).any() else None
    if len(keys) == 2:
        xs = sorted({row[keys[0]] for row in rows}, key=str)
        ys = sorted({row[keys[1]] for row in rows}, key=str)
        fig = new_figure((1.6 + 1.2 * len(xs), 1.4 + 0.8 * len(ys)), dpi)
        ax = fig.subplots()
        grid = np.full((len(ys), len(xs)), np.nan)
        for i, row in enumerate(rows):
            x, y = xs.index(row[keys[0]]), ys.index(row[keys[1]])
            grid[y, x] = acc[i]
            text = f"{acc[i]:.3f}" if np.isfinite(acc[i]) else row["status"].split(":")[0]
            weight = "bold" if i == best else "normal"
            ax.text(x, y, text, ha="center", va="center", fontweight=weight)
        ax.imshow(grid, cmap="Greens", vmin=np.nanmin(grid) if best is not None else 0)
        ax.set_xticks(range(len(xs)), [str(v) for v in xs])
        ax.set_yticks(range(len(ys)), [str(v) for v in ys])
        ax.set_xlabel(keys[0])
        ax.set_ylabel(keys[1])
    else:
        fig = new_figure((2.0 + 0.6 * len(rows), 3.8), dpi)
        ax = fig.subplots()
        heights = np.nan_to_num(acc, nan=0.0)
        colours = ["#31a354" if i == best else "#a1d99b" for i in range(len(rows))]
        ax.bar(range(len(rows)), heights, color=colours)
        for i, row in enumerate(rows):
            if not np.isfinite(acc[i]):
                ax.text(i, 0.01, row["status"].split(":")[0], ha="center", rotation=90)
        labels = [", ".join(f"{k}={row[k]}" for k in keys) for row in rows]
        ax.set_xticks(range(len(rows)), labels, rotation=45, ha="right", fontsize="small")
        ax.set_ylabel("validation accuracy")
    ax.set_title("Validation accuracy of each trial")
    return finish(fig, path)
