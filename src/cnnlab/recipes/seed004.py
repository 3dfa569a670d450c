"""Seed 004, part 3.2: the simple CIFAR-10 network, early stopping by checks, a grid search.

The seed's setting: :class:`~cnnlab.models.SpatialSumNet` on 24 x 24 crops (random crops for
training, the centre crop for evaluation), plain SGD at 0.05, batches of 100, 1000 iterations,
the validation accuracy measured every 50 iterations. Data: CIFAR-10 cut 49,000 / 1,000 /
10,000 and normalised per channel (:func:`cnnlab.data.load_cifar10`); the seed validated and
tested on batches of 100 test images, standardised per image. ``tiny`` runs use the bundled
sample (400 / 100 / 100) and a few dozen iterations.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from cnnlab.data import load_cifar10
from cnnlab.data.transforms import center_crop, random_crop
from cnnlab.metrics import accuracy
from cnnlab.models import SpatialSumNet
from cnnlab.training.solver import Solver
from cnnlab.viz.curves import plot_check_curves
from cnnlab.viz.search import plot_search

CROP = 24
LR, BATCH, ITERATIONS, CHECK_EVERY = 0.05, 100, 1000, 50
#: early stopping: checks without a new best validation accuracy before training stops
PATIENCE = 5
#: 3.2.2's two factors: the learning rate, and the widths of the three convolutions
GRID_LRS, GRID_WIDTHS = (0.02, 0.05, 0.1), ((16, 16, 32), (32, 32, 64))
TINY_LRS, TINY_WIDTHS = (0.05, 0.1), ((4, 4, 8),)


class Scale(NamedTuple):
    """The sizes of a full or a tiny run."""

    split: tuple[int, int, int]
    iterations: int
    check_every: int
    patience: int
    source: str | None


FULL = Scale((49000, 1000, 10000), ITERATIONS, CHECK_EVERY, PATIENCE, None)
TINY = Scale((400, 100, 100), 24, 4, 2, "sample")


def cropped_data(scale: Scale) -> dict[str, np.ndarray]:
    """CIFAR-10 as the Solver takes it.

    32 x 32 training images (cropped per batch), centre crops (N, 3, 24, 24) for validation and
    test.
    """
    X_tr, y_tr, X_val, y_val, X_te, y_te = load_cifar10(
        *scale.split, layout="NCHW", source=scale.source
    )
    return {
        "X_train": X_tr,
        "y_train": y_tr,
        "X_val": center_crop(X_val, CROP),
        "y_val": y_val,
        "X_test": center_crop(X_te, CROP),
        "y_test": y_te,
    }


def train_spatial_sum(
    data: dict[str, np.ndarray],
    scale: Scale,
    seed: int,
    patience: int | None,
    lr: float = LR,
    widths: tuple[int, int, int] = (16, 16, 32),
) -> Solver:
    """Train the seed's network with its loop: SGD, random crops, checks every k iterations."""
    solver = Solver(
        SpatialSumNet(widths=widths, seed=seed),
        data,
        update_rule="sgd",
        optim_config={"learning_rate": lr},
        batch_size=BATCH,
        num_epochs=scale.iterations,  # max_iterations ends it
        max_iterations=scale.iterations,
        check_every=scale.check_every,
        patience=patience,
        augment=functools.partial(random_crop, padding=0, size=CROP),
        verbose=False,
        seed=seed,
    )  # its per-epoch training accuracy is of uncropped 32 x 32 images: not reported
    solver.train()
    return solver


def centre_crop_accuracy(model: SpatialSumNet, data: dict[str, np.ndarray]) -> float:
    """Accuracy on the centre-cropped test images."""
    return accuracy(data["y_test"], model.predict(data["X_test"]))


def early_stopping(out: Path, tiny: bool = False, seed: int = 0) -> dict[str, Any]:
    """3.2.1: the seed's 1000 iterations with checks, then the same run with early stopping.

    Both runs restore the parameters of their best check (cnnlab's Solver always does); the
    first checks all 1000 iterations, the second stops after ``PATIENCE`` checks without a new
    best. Writes curves.png and curves_early_stopping.png (the stopping point marked).

    Returns:
        For each run: test accuracy, best validation accuracy, iterations run, the stopping
        point and the validation accuracy of every check.
    """
    scale = TINY if tiny else FULL
    data = cropped_data(scale)
    results = {}
    for name, patience in (("all_iterations", None), ("early_stopping", scale.patience)):
        solver = train_spatial_sum(data, scale, seed, patience)
        figure = "curves.png" if patience is None else "curves_early_stopping.png"
        plot_check_curves(solver.history, stopped_at=solver.stopped_at, path=out / figure)
        results[name] = {
            "test_acc": centre_crop_accuracy(solver.model, data),
            "best_val_acc": solver.best_val_acc,
            "iterations": solver.t,
            "patience": patience,
            "stopped_at": solver.stopped_at,
            "checks": dict(zip(solver.check_iterations, solver.check_val_acc, strict=True)),
        }
    return results


def grid_search(out: Path, tiny: bool = False, seed: int = 0) -> dict[str, Any]:
    """3.2.2: learning rate x convolution widths, each point trained with early stopping.

    Every grid point runs the seed's loop (:func:`train_spatial_sum`, patience ``PATIENCE``)
    from the same seed and is judged by its best validation accuracy; only the winner sees the
    test set. Writes val_acc.png (the grid as a heat map, the winner outlined) and
    curves_winner.png.

    Returns:
        One row per point (lr, widths, best validation accuracy, iterations, stopping point),
        the winner's point and its test accuracy.
    """
    scale = TINY if tiny else FULL
    data = cropped_data(scale)
    rows, solvers = [], []
    for lr in TINY_LRS if tiny else GRID_LRS:
        for widths in TINY_WIDTHS if tiny else GRID_WIDTHS:
            solver = train_spatial_sum(data, scale, seed, scale.patience, lr=lr, widths=widths)
            solvers.append(solver)
            rows.append(
                {
                    "lr": lr,
                    "widths": str(list(widths)),
                    "val_acc": solver.best_val_acc,
                    "status": "ok",
                    "iterations": solver.t,
                    "stopped_at": solver.stopped_at,
                }
            )
    plot_search(rows, ["lr", "widths"], path=out / "val_acc.png")
    best = int(np.argmax([row["val_acc"] for row in rows]))
    winner = solvers[best]
    plot_check_curves(winner.history, stopped_at=winner.stopped_at, path=out / "curves_winner.png")
    return {
        "grid": rows,
        "winner": {"lr": rows[best]["lr"], "widths": rows[best]["widths"]},
        "winner_val_acc": winner.best_val_acc,
        "winner_test_acc": centre_crop_accuracy(winner.model, data),
    }
