"""Affine (fully-connected) layer: ``out = x.reshape(N, D) @ w + b``.

Each sample of ``x`` (N, d1, ..., dk) is flattened to a row of ``D = d1 * ... * dk`` features,
so the layer can sit directly after a convolution or pooling layer. The bias is optional
(``b=None``, as in ``torch.nn.functional.linear``); the backward pass then gives ``db = None``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cnnlab.functional import _parallel
from cnnlab.validation import (
    check_batch_axis,
    check_cache,
    check_dout,
    check_float,
    check_ndim,
    check_shape,
)

OP = "affine"


class _AffineCache(NamedTuple):
    x: np.ndarray
    w: np.ndarray
    has_bias: bool


def affine_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None
) -> tuple[np.ndarray, _AffineCache]:
    """Forward pass of an affine layer.

    Args:
        x: input (N, d1, ..., dk); each sample is flattened to D = d1 * ... * dk features.
        w: weights (D, M).
        b: biases (M,), or None for none.

    Returns:
        ``(out, cache)`` with ``out`` of shape (N, M).

    Raises:
        ValueError: bad shapes or dtypes (the message names affine and the shapes).
    """
    check_float(OP, x, "x")
    check_ndim(OP, w, 2, "w", "(D, M)")
    check_batch_axis(OP, x, "x")
    n = x.shape[0]
    d = int(np.prod(x.shape[1:], dtype=np.int64))
    if d != w.shape[0]:
        raise ValueError(
            f"{OP}: input flattens to {d} features per sample but w has shape {w.shape}"
            f" (x {x.shape})"
        )
    if b is not None:
        check_shape(OP, b, (w.shape[1],), "b")
    flat = x.reshape(n, d)
    out = _parallel.matmul(flat, w)
    if b is not None:
        out = out + b
    return out, _AffineCache(x, w, b is not None)


def affine_backward(
    dout: np.ndarray, cache: _AffineCache, need_dx: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Backward pass of an affine layer.

    Args:
        dout: upstream gradient (N, M).
        cache: from :func:`affine_forward`.
        need_dx: False skips the input's gradient (a network's input needs none: one GEMM
            fewer, as PyTorch does for inputs without ``requires_grad``).

    Returns:
        ``(dx, dw, db)`` shaped like ``x`` (N, d1, ..., dk), ``w`` (D, M) and ``b`` (M,); ``db``
        is None when the forward pass had no bias, ``dx`` when ``need_dx`` is False.
    """
    x, w, has_bias = check_cache(OP, cache, _AffineCache)
    n = x.shape[0]
    dout = check_dout(OP, dout, (n, w.shape[1]))
    dx = _parallel.matmul(dout, w.T).reshape(x.shape) if need_dx else None
    dw = _parallel.matmul(x.reshape(n, -1).T, dout)
    db = dout.sum(axis=0) if has_bias else None
    return dx, dw, db
