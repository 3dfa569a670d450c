"""Mini-batch iteration over arrays, as the TensorFlow practical's ``Dataset`` does."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


class Dataset:
    """Iterate over ``(X_batch, y_batch)`` pairs.

    Parameters
    ----------
    X: array (N, ...) of samples, any trailing shape.
    y: array (N, ...) of labels.
    batch_size: samples per batch; the last batch holds the remainder.
    shuffle: visit the samples in a new random order on every pass (every ``iter()``).
    seed: seed of the Dataset's own ``numpy.random.Generator`` (used only when shuffling); the
        same seed gives the same sequence of epochs.

    ``len(dataset)`` is the number of batches per pass, ``ceil(N / batch_size)``.
    """

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        batch_size: int,
        shuffle: bool = False,
        seed: int | None = None,
    ):
        X, y = np.asarray(X), np.asarray(y)
        if X.ndim == 0 or y.ndim == 0 or X.shape[0] != y.shape[0]:
            raise ValueError(
                f"Dataset: X {X.shape} and y {y.shape} must have the same first dimension"
            )
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, (int, np.integer))
            or (batch_size < 1)
        ):
            raise ValueError(f"Dataset: batch_size must be a positive int, got {batch_size!r}")
        self.X, self.y = X, y
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return -(-self.X.shape[0] // self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        N, B = self.X.shape[0], self.batch_size
        if not self.shuffle:
            return ((self.X[i : i + B], self.y[i : i + B]) for i in range(0, N, B))
        order = self._rng.permutation(N)
        return ((self.X[order[i : i + B]], self.y[order[i : i + B]]) for i in range(0, N, B))
