"""Minibatch order and accuracy for the Solver; all randomness from a passed-in Generator."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnlab import metrics


def iterations_per_epoch(num_train: int, batch_size: int) -> int:
    """Number of full minibatches per epoch (at least 1, as in CS231n)."""
    return max(num_train // batch_size, 1)


def epoch_order(num_train: int, rng: np.random.Generator) -> np.ndarray:
    """A random permutation of ``range(num_train)``: the sample order of one epoch."""
    return rng.permutation(num_train)


def batch_indices(order: np.ndarray, index_in_epoch: int, batch_size: int) -> np.ndarray:
    """Indices of minibatch ``index_in_epoch`` of an epoch whose sample order is ``order``.

    Each epoch visits ``iterations_per_epoch`` disjoint batches of ``batch_size`` samples (a
    trailing partial batch is dropped); with fewer samples than ``batch_size`` the one batch is
    the whole set.
    """
    start = index_in_epoch * batch_size
    return order[start : start + batch_size]


def _predict_with_width(model: Any, X: np.ndarray, batch_size: int) -> tuple[np.ndarray, int]:
    """Class predictions (N,) and the number of classes K of the scores (N, K)."""
    if batch_size < 1:
        raise ValueError(f"predict: batch_size must be >= 1, got {batch_size}")
    if len(X) == 0:
        return np.zeros(0, dtype=np.int64), 0
    chunks, width = [], 0
    for i in range(0, len(X), batch_size):
        scores = model.loss(X[i : i + batch_size])
        chunks.append(np.argmax(scores, axis=1))
        width = scores.shape[1]
    return np.concatenate(chunks), width


def predict(model: Any, X: np.ndarray, batch_size: int = 100) -> np.ndarray:
    """Class predictions (N,) from ``model.loss(X)`` scores (N, K), computed in batches."""
    return _predict_with_width(model, X, batch_size)[0]


def accuracy(
    model: Any,
    X: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator,
    num_samples: int | None = None,
    batch_size: int = 100,
) -> float:
    """Fraction of the samples of (X (N, ...), y (N,)) that the model classifies correctly.

    With ``num_samples`` < N, a random subset of that size (drawn from ``rng`` without
    replacement) is used. Raises ValueError when a label is not one of the model's K classes.
    """
    if len(X) != len(y):
        raise ValueError(f"check_accuracy: X has {len(X)} samples but y has {len(y)}")
    if num_samples is not None and num_samples < len(X):
        subset = rng.choice(len(X), num_samples, replace=False)
        X, y = X[subset], y[subset]
    if len(X) == 0:
        raise ValueError("check_accuracy: no samples to evaluate")
    pred, width = _predict_with_width(model, X, batch_size)
    if y.min() < 0 or y.max() >= width:
        raise ValueError(
            f"check_accuracy: labels range over {y.min()}..{y.max()} but the model scores "
            f"{width} classes (0..{width - 1})"
        )
    return metrics.accuracy(y, pred)
