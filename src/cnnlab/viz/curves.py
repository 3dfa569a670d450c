"""Training curves.

Loss per iteration (raw and smoothed), accuracy and learning rate per epoch; seed 004's loss and
validation checks per iteration with the early-stopping point.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from cnnlab.viz._common import PathLike, finish, new_figure


def ema(values: Sequence[float] | np.ndarray, beta: float = 0.9) -> np.ndarray:
    """Bias-corrected exponential moving average of a 1-D series.

    ``s_t = beta * s_{t-1} + (1 - beta) * x_t`` from ``s_0 = 0``, returned as
    ``s_t / (1 - beta ** t)`` (t = 1, 2, ...), so the first value equals ``x_1`` and a constant
    series stays constant. Returns a float64 array of the same length as ``values``.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"ema: values must be 1-D; got shape {values.shape}")
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"ema: beta must be in [0, 1); got {beta}")
    out = np.empty_like(values)
    state = 0.0
    for t, x in enumerate(values, start=1):
        state = beta * state + (1.0 - beta) * x
        out[t - 1] = state / (1.0 - beta**t)
    return out


def auto_beta(n: int) -> float:
    """A smoothing factor whose window (1 / (1 - beta)) is about n / 30 points, within [5, 200]."""
    window = min(max(n / 30.0, 5.0), 200.0)
    return 1.0 - 1.0 / window


def epoch_axis(length: int, num_epochs: int) -> np.ndarray:
    """Epoch numbers for a per-epoch series of ``length`` values.

    The series' last value belongs to epoch ``num_epochs``: (num_epochs - length + 1, ...,
    num_epochs).

    A series one longer than the number of epochs (the CS231n Solver checks accuracy once
    before training too) thus starts at epoch 0. Raises ValueError for a longer series.
    """
    if length > num_epochs + 1:
        raise ValueError(f"epoch_axis: {length} per-epoch values for {num_epochs} epochs")
    return np.arange(num_epochs - length + 1, num_epochs + 1)


def default_num_epochs(history: Mapping[str, Sequence[float]]) -> int:
    """The number of epochs a history shows.

    The length of ``lr_history`` if it has one, else of the longest accuracy series.
    """

    def length(key: str) -> int:
        value = history.get(key)
        return 0 if value is None else len(value)

    return length("lr_history") or max(length("train_acc_history"), length("val_acc_history"))


def _plot_loss(ax: Axes, loss: np.ndarray, beta: float | None) -> None:
    iterations = np.arange(1, len(loss) + 1)
    ax.plot(iterations, loss, color="#9ecae1", linewidth=0.8, label="per iteration")
    beta = auto_beta(len(loss)) if beta is None else beta
    ax.plot(
        iterations,
        ema(loss, beta),
        color="#08519c",
        linewidth=2.0,
        label=f"smoothed (EMA, beta={beta:.2f})",
    )
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.set_title("Training loss")
    ax.legend(loc="upper right", fontsize="small")


def _circle_best(ax: Axes, x: np.ndarray, y: np.ndarray, label: str) -> None:
    """Circle the point of highest ``y`` (the first of ties) among (x, y), both (n,), n >= 1.

    ``label`` is a format string given that highest value, e.g. ``"best {:.3f}"``.
    """
    best = int(np.argmax(y))
    ax.scatter(
        [x[best]],
        [y[best]],
        s=80,
        facecolors="none",
        edgecolors="black",
        zorder=3,
        label=label.format(y[best]),
    )


def _plot_accuracy(ax: Axes, train: np.ndarray, val: np.ndarray, num_epochs: int) -> None:
    for series, label, colour in ((train, "train", "#e6550d"), (val, "validation", "#31a354")):
        if len(series):
            ax.plot(
                epoch_axis(len(series), num_epochs),
                series,
                marker="o",
                markersize=3,
                color=colour,
                label=label,
            )
    if len(val):
        _circle_best(ax, epoch_axis(len(val), num_epochs), val, "best val {:.3f}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_title("Accuracy")
    ax.legend(loc="lower right", fontsize="small")


def _plot_lr(ax: Axes, lr: np.ndarray, num_epochs: int) -> None:
    ax.step(
        epoch_axis(len(lr), num_epochs), lr, where="mid", color="#756bb1", marker="o", markersize=3
    )
    if np.all(lr > 0) and lr.max() / lr.min() > 20:
        ax.set_yscale("log")
    else:
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate")
    ax.set_title("Learning rate")


def _empty(ax: Axes, title: str, note: str) -> None:
    ax.set_title(title)
    ax.text(0.5, 0.5, note, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def plot_training_curves(
    history: Mapping[str, Sequence[float]],
    *,
    num_epochs: int | None = None,
    smoothing: float | None = None,
    path: PathLike | None = None,
    figsize: tuple[float, float] = (13.0, 3.8),
    dpi: float = 100,
) -> Figure:
    """Three panels: loss per iteration (raw + EMA), train/val accuracy and learning rate.

    Inputs:
    - history: the solver's histories, keys ``loss_history`` (per iteration),
      ``train_acc_history``, ``val_acc_history`` and ``lr_history`` (per epoch); any may be
      missing or empty, and its panel then says so.
    - num_epochs: the number of epochs trained. Per-epoch series are aligned at their end
      (see :func:`epoch_axis`), so accuracies checked also before training start at epoch 0.
      Default: :func:`default_num_epochs`.
    - smoothing: EMA factor beta for the loss (default: chosen from the number of iterations).
    """
    keys = ("loss_history", "train_acc_history", "val_acc_history", "lr_history")
    series = {
        key: np.asarray(() if history.get(key) is None else history[key], dtype=np.float64).ravel()
        for key in keys
    }
    if num_epochs is None:
        num_epochs = default_num_epochs(series)
    longest = max(len(series[k]) for k in ("train_acc_history", "val_acc_history", "lr_history"))
    if longest > num_epochs + 1:
        raise ValueError(
            f"plot_training_curves: per-epoch series of {longest} values for {num_epochs} epochs"
        )
    fig = new_figure(figsize, dpi)
    ax_loss, ax_acc, ax_lr = fig.subplots(1, 3, width_ratios=[1.5, 1.0, 1.0])
    if len(series["loss_history"]):
        _plot_loss(ax_loss, series["loss_history"], smoothing)
    else:
        _empty(ax_loss, "Training loss", "no loss history")
    if len(series["train_acc_history"]) or len(series["val_acc_history"]):
        _plot_accuracy(ax_acc, series["train_acc_history"], series["val_acc_history"], num_epochs)
    else:
        _empty(ax_acc, "Accuracy", "no accuracy history")
    if len(series["lr_history"]):
        _plot_lr(ax_lr, series["lr_history"], num_epochs)
    else:
        _empty(ax_lr, "Learning rate", "no learning-rate history")
    for ax in (ax_loss, ax_acc, ax_lr):
        ax.grid(True, alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return finish(fig, path)


def plot_check_curves(
    history: Mapping[str, Sequence[float]],
    *,
    stopped_at: int | None = None,
    smoothing: float | None = None,
    path: PathLike | None = None,
    figsize: tuple[float, float] = (11.0, 3.8),
    dpi: float = 100,
) -> Figure:
    """Seed 004's two plots: training loss per iteration and validation accuracy at the checks.

    Both share the iteration axis. The best check (the parameters restored) is circled and,
    when training stopped early, a dashed line marks the iteration where patience ran out.

    Args:
        history: a Solver's history with ``loss_history`` (per iteration), ``check_iterations``
            and ``check_val_acc`` (one per check, ``Solver(check_every=...)``).
        stopped_at: the iteration where early stopping ended training (``solver.stopped_at``),
            or None.
        smoothing: EMA factor beta for the loss (default: chosen from the number of
            iterations).
        path: also save the figure there.
        figsize: figure size in inches.
        dpi: resolution.

    Returns:
        The figure.

    Raises:
        ValueError: check series of different lengths.
    """
    loss = np.asarray(history.get("loss_history") or (), dtype=np.float64)
    its = np.asarray(history.get("check_iterations") or (), dtype=np.float64)
    acc = np.asarray(history.get("check_val_acc") or (), dtype=np.float64)
    if its.shape != acc.shape:
        raise ValueError(
            f"plot_check_curves: {its.size} check_iterations but {acc.size} check_val_acc"
        )
    fig = new_figure(figsize, dpi)
    ax_loss, ax_acc = fig.subplots(1, 2)
    if loss.size:
        _plot_loss(ax_loss, loss, smoothing)
    else:
        _empty(ax_loss, "Training loss", "no loss history")
    if acc.size:
        ax_acc.plot(its, acc, marker="o", markersize=3, color="#31a354", label="validation")
        _circle_best(ax_acc, its, acc, "best {:.3f} (restored)")
        ax_acc.set_xlabel("iteration")
        ax_acc.set_ylabel("validation accuracy")
        ax_acc.set_title("Validation accuracy at the checks")
    else:
        _empty(ax_acc, "Validation accuracy at the checks", "no checks (check_every)")
    if stopped_at is not None:
        for ax in (ax_loss, ax_acc):
            ax.axvline(
                stopped_at, color="#de2d26", linestyle="--", label=f"early stop ({stopped_at})"
            )
    for ax in (ax_loss, ax_acc):
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="best", fontsize="small")
        ax.grid(True, alpha=0.3)
    return finish(fig, path)
