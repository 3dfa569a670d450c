"""Convolution as one matrix product on the im2col matrix (for layers with few input channels).

The im2col matrix ``cols`` (K*C, N*Ho*Wo) holds, for kernel offset k = (i, j) and channel c, the
input pixel each output pixel reads there. Everything is kept channel-major, (C, N, H, W), so
that row block k of ``cols`` is a plain strided copy of one view of the padded input
(:meth:`Window2d.offset`), with no transposition inside the loop. Then

    out (F, N*Ho*Wo) = W (F, K*C) @ cols,   dW = D @ cols.T,   dcols = W.T @ D,

and ``dx`` is ``dcols`` added back through the same K strided views (col2im, one slice addition
per kernel offset; windows may overlap, so additions, never assignments).

One GEMM with inner dimension K*C: the right choice when C is small (an RGB first layer), where
one GEMM per offset (:mod:`cnnlab.functional._shifted_gemm`) would have inner dimension C and be
memory-bound. The price is the K-fold copy of the input.
"""

from __future__ import annotations

import numpy as np

from cnnlab.functional import _parallel
from cnnlab.functional._windows import Window2d, pad_input


def _offset_block(cols: np.ndarray, k: int, channels: int, geom: Window2d) -> np.ndarray:
    """Row block k of cols as a (C, N, Ho, Wo) view."""
    return cols[k * channels : (k + 1) * channels].reshape(channels, -1, *geom.out)


def forward(x: np.ndarray, w: np.ndarray, geom: Window2d) -> tuple:
    """Convolution without bias as one GEMM on the im2col matrix.

    Args:
        x: input (N, C, H, W).
        w: weights (F, C, HH, WW).
        geom: the window geometry of the convolution.

    Returns:
        ``(out, cache)``: out (N, F, Ho, Wo), a strided view of a scratch array; cache
        ``(cols, w_mat, x shape, geom)`` for :func:`backward`.
    """
    n, channels = x.shape[:2]
    xp = pad_input(x.transpose(1, 0, 2, 3), geom)  # (C, N, Hp, Wp)
    n_offsets = geom.kernel[0] * geom.kernel[1]
    cols = np.empty((n_offsets * channels, n * geom.out[0] * geom.out[1]), dtype=x.dtype)

    def build(s: slice) -> None:  # the samples s of every row block (threads split samples)
        for k, (i, j) in enumerate(geom.offsets()):
            _offset_block(cols, k, channels, geom)[:, s] = xp[:, s][(..., *geom.offset(i, j))]

    _parallel.map_slices(build, n, cols.size)
    # rows of cols are (offset, channel): order the weights' columns the same way
    w_mat = np.ascontiguousarray(w.transpose(0, 2, 3, 1)).reshape(w.shape[0], -1)
    full = _parallel.gemm(w_mat, cols, np.empty((w.shape[0], cols.shape[1]), dtype=x.dtype))
    return full.reshape(-1, n, *geom.out).transpose(1, 0, 2, 3), (cols, w_mat, x.shape, geom)


def backward(
    dout: np.ndarray, cache: tuple, need_dx: bool = True
) -> tuple[np.ndarray | None, np.ndarray]:
    """(dx (N, C, H, W), dw (F, C, HH, WW)) from dout (N, F, Ho, Wo); dx None if not need_dx."""
    cols, w_mat, x_shape, geom = cache
    n, channels = x_shape[:2]
    n_filters = w_mat.shape[0]
    d_mat = np.ascontiguousarray(dout.transpose(1, 0, 2, 3)).reshape(n_filters, -1)
    dw_mat = _parallel.gemm(d_mat, cols.T, np.empty_like(w_mat))
    dw = np.ascontiguousarray(
        dw_mat.reshape(n_filters, *geom.kernel, channels).transpose(0, 3, 1, 2)
    )
    if not need_dx:
        return None, dw
    dcols = _parallel.gemm(w_mat.T, d_mat, np.empty_like(cols))
    dxp = np.zeros((channels, n, *geom.padded), dtype=cols.dtype)  # (C, N, Hp, Wp)

    def col2im(s: slice) -> None:  # windows overlap across offsets, never across samples
        for k, (i, j) in enumerate(geom.offsets()):
            dxp[:, s][(..., *geom.offset(i, j))] += _offset_block(dcols, k, channels, geom)[:, s]

    _parallel.map_slices(col2im, n, dcols.size)
    dx = np.empty(x_shape, dtype=cols.dtype)
    _parallel.copy(dx, dxp[(..., *geom.interior())].transpose(1, 0, 2, 3))
    return dx, dw
