"""Input normalisation fitted on the training images and applied to every split.

The statistics are a dict ``{"mean", "std"}`` of float64 arrays that broadcast against one
(C, H, W) image; :mod:`cnnlab.runs` stores it in the model file, so that evaluation and
prediction normalise new images exactly as training did.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from cnnlab.data.transforms import channel_mean_std

PREPROCESS = ("mean_image", "channel")
"""The preprocessing kinds: 'mean_image' subtracts the mean image, std 1 (CS231n); 'channel'
uses the per-channel mean and standard deviation (the TensorFlow notebook)."""


def fit_preprocess(X_train: np.ndarray, kind: str) -> dict[str, np.ndarray]:
    """Normalisation statistics of the training images.

    Args:
        X_train: (N, C, H, W) training images in 0..255.
        kind: one of :data:`PREPROCESS`.

    Returns:
        ``{"mean": (C, H, W), "std": (1, 1, 1) ones}`` for 'mean_image';
        ``{"mean": (C, 1, 1), "std": (C, 1, 1)}`` for 'channel'; float64.

    Raises:
        ValueError: for another ``kind``, or ``X_train`` not (N, C, H, W).
    """
    if kind not in PREPROCESS:
        raise ValueError(f"fit_preprocess: kind must be one of {PREPROCESS}, got {kind!r}")
    if kind == "mean_image":
        if np.ndim(X_train) != 4:
            raise ValueError(
                f"fit_preprocess: expected (N, C, H, W) images, got shape {np.shape(X_train)}"
            )
        return {"mean": X_train.astype(np.float64).mean(axis=0), "std": np.ones((1, 1, 1))}
    mean, std = channel_mean_std(X_train)
    return {"mean": mean[:, None, None], "std": std[:, None, None]}


def apply_preprocess(X: np.ndarray, prep: dict[str, np.ndarray], dtype: DTypeLike) -> np.ndarray:
    """``(X - mean) / std`` in ``dtype``.

    Args:
        X: (N, C, H, W) images in 0..255.
        prep: the statistics of :func:`fit_preprocess`.
        dtype: the dtype of the result and of the arithmetic.

    Returns:
        (N, C, H, W) array of ``dtype``.
    """
    mean = prep["mean"].astype(dtype)
    std = prep["std"].astype(dtype)
    return ((X.astype(dtype) - mean) / std).astype(dtype, copy=False)
