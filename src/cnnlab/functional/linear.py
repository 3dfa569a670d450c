"""Affine (fully-connected) layer: ``out = x.reshape(N, D) @ w + b``.

Each sample of ``x`` (N, d1, ..., dk) is flattened to a row of ``D = d1 * ... * dk`` features,
so the layer can sit directly after a convolution or pooling layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import check_float, check_ndim, check_shape

OP = "affine"


def affine_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, tuple[Any, ...]]:
    """Forward pass of an affine layer.

    Inputs:
    - x: (N, d1, ..., dk) input; each sample is flattened to D = d1 * ... * dk features
    - w: (D, M) weights
    - b: (M,) biases

    Returns ``(out, cache)`` with ``out`` of shape (N, M).
    """
    check_float(x, OP, "x")
    check_ndim(w, 2, OP, "w", "(D, M)")
    if x.ndim < 1:
        raise ValueError(f"{OP}: x must have a batch dimension, got shape {x.shape}")
    n = x.shape[0]
    d = int(np.prod(x.shape[1:], dtype=np.int64))
    if d != w.shape[0]:
        raise ValueError(
            f"{OP}: input flattens to {d} features per sample but w has shape {w.shape}"
            f" (x {x.shape})"
        )
    check_shape(b, (w.shape[1],), OP, "b")
    out = x.reshape(n, d) @ w + b
    return out, (x, w)


def affine_backward(
    dout: np.ndarray, cache: tuple[Any, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of an affine layer.

    Inputs:
    - dout: (N, M) upstream gradient
    - cache: from :func:`affine_forward`

    Returns ``(dx, dw, db)`` shaped like ``x`` (N, d1, ..., dk), ``w`` (D, M) and ``b`` (M,).
    """
    x, w = cache
    n = x.shape[0]
    check_shape(dout, (n, w.shape[1]), OP, "dout")
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(n, -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db
