"""Preprocessing and data augmentation for image batches.

Every augmentation has the signature ``f(X_batch, rng) -> X_batch``: it takes an NCHW batch and
a ``numpy.random.Generator`` and returns a new array of the same shape and dtype (the input is
never modified). The Solver calls it once per training batch. Options are keyword arguments
with defaults, so ``functools.partial(random_crop, padding=2)`` is again an augmentation, and
:func:`compose` chains several.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnnlab.validation import check_choice, check_ndim

Augmentation = Callable[[np.ndarray, np.random.Generator], np.ndarray]
_CHANNEL_AXIS = {"NCHW": 1, "NHWC": 3}


def _channel_axis(name: str, X: np.ndarray, layout: str) -> int:
    """The channel axis of a 4-D batch X in ``layout`` ('NCHW' or 'NHWC'), after checking both."""
    check_choice(name, "layout", layout, tuple(_CHANNEL_AXIS))
    check_ndim(name, X, 4, "X", f"{layout} batch")
    return _CHANNEL_AXIS[layout]


def channel_mean_std(X: np.ndarray, layout: str = "NCHW") -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation over all images and pixels, in float64.

    X: (N, C, H, W) for ``layout='NCHW'`` or (N, H, W, C) for ``'NHWC'``.
    Returns ``(mean (C,), std (C,))``. Fit these on the training set only, then apply them to
    every split with :func:`normalize_channels`.
    """
    axis = _channel_axis("channel_mean_std", X, layout)
    reduce = tuple(a for a in range(4) if a != axis)
    X64 = X.astype(np.float64, copy=False)
    return X64.mean(axis=reduce), X64.std(axis=reduce)


def normalize_channels(
    X: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray,
    layout: str = "NCHW",
    dtype: np.dtype | type | None = None,
) -> np.ndarray:
    """``(X - mean) / std`` per channel; mean, std (C,); result in ``dtype`` (default float32).

    X: (N, C, H, W) or (N, H, W, C) as ``layout`` says; returns the same shape.
    """
    axis = _channel_axis("normalize_channels", X, layout)
    mean, std = np.asarray(mean), np.asarray(std)
    C = X.shape[axis]
    if mean.shape != (C,) or std.shape != (C,):
        raise ValueError(
            f"normalize_channels: X {X.shape} ({layout}) has {C} channels but mean has shape "
            f"{mean.shape} and std {std.shape}"
        )
    if np.any(std <= 0):
        raise ValueError(f"normalize_channels: std must be positive, got {std}")
    shape = [1, 1, 1, 1]
    shape[axis] = C
    out = (X - mean.reshape(shape)) / std.reshape(shape)
    return out.astype(np.float32 if dtype is None else dtype, copy=False)


def random_crop(
    X: np.ndarray, rng: np.random.Generator, padding: int = 4, size: int | None = None
) -> np.ndarray:
    """Zero-pad each image by ``padding`` pixels on every side and cut a random window.

    X: (N, C, H, W). The window is H x W (``size=None``) or ``size`` x ``size`` (seed 004's
    random 24 x 24 crops of 32 x 32 images: ``padding=0, size=24``). Each image gets its own
    offsets, drawn as ``rng.integers(0, Hp - h + 1, N)`` for rows, then the same for columns
    (Hp, Wp the padded size, h x w the window). Returns (N, C, h, w), same dtype. Vectorised:
    the windows are a strided view of the padded batch, picked with fancy indexing.
    """
    check_ndim("random_crop", X, 4, "X", "NCHW batch (N, C, H, W)")
    if not isinstance(padding, (int, np.integer)) or padding < 0:
        raise ValueError(f"random_crop: padding must be a non-negative int, got {padding!r}")
    N, _, H, W = X.shape
    h, w = (
        (H, W)
        if size is None
        else _window("random_crop", X, (H + 2 * padding, W + 2 * padding), size)
    )
    padded = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = sliding_window_view(padded, (h, w), axis=(2, 3))  # (N, C, rows, cols, h, w)
    rows = rng.integers(0, windows.shape[2], size=N)
    cols = rng.integers(0, windows.shape[3], size=N)
    return windows[np.arange(N), :, rows, cols]  # advanced indices first: (N, C, h, w)


def center_crop(X: np.ndarray, size: int) -> np.ndarray:
    """The central ``size`` x ``size`` window of each image (seed 004's evaluation crops).

    X: (N, C, H, W). The window starts at row ``(H - size) // 2`` and column
    ``(W - size) // 2``, as TensorFlow's ``resize_image_with_crop_or_pad`` cuts it. Returns a
    contiguous (N, C, size, size) copy, same dtype.
    """
    check_ndim("center_crop", X, 4, "X", "NCHW batch (N, C, H, W)")
    H, W = X.shape[2:]
    h, w = _window("center_crop", X, (H, W), size)
    top, left = (H - h) // 2, (W - w) // 2
    return np.ascontiguousarray(X[:, :, top : top + h, left : left + w])


def _window(name: str, X: np.ndarray, bounds: tuple[int, int], size: int) -> tuple[int, int]:
    """(size, size), the crop of an image of ``bounds`` (H, W); ValueError if it does not fit."""
    if not isinstance(size, (int, np.integer)) or not 1 <= size <= min(bounds):
        raise ValueError(
            f"{name}: size must be an int from 1 to {min(bounds)} for X of shape {X.shape} "
            f"(padded to {bounds}), got {size!r}"
        )
    return int(size), int(size)


def random_flip(X: np.ndarray, rng: np.random.Generator, p: float = 0.5) -> np.ndarray:
    """Mirror each image left-right with probability ``p``.

    X: (N, C, H, W); the draw is ``rng.random(N) < p``. Returns a new (N, C, H, W) array.
    """
    check_ndim("random_flip", X, 4, "X", "NCHW batch (N, C, H, W)")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"random_flip: p must be in [0, 1], got {p}")
    flip = rng.random(X.shape[0]) < p
    out = X.copy()
    out[flip] = X[flip, :, :, ::-1]
    return out


def compose(*fns: Augmentation) -> Augmentation:
    """Chain augmentations: ``compose(f, g)(X, rng) == g(f(X, rng), rng)``."""

    def composed(X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        for f in fns:
            X = f(X, rng)
        return X

    return composed
