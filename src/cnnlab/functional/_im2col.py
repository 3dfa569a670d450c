"""Convolution as matrix products on the im2col matrix (for layers with few input channels).

The im2col matrix ``cols`` (K*C, N*Ho*Wo) holds, for kernel offset k = (i, j) and channel c, the
input pixel each output pixel reads there. Everything is kept channel-major, (C, N, H, W), so
that row block k of ``cols`` is a plain strided copy of one view of the padded input
(:meth:`Window2d.offset`), with no transposition inside the loop. Then

    out (F, N*Ho*Wo) = W (F, K*C) @ cols,   dW = D @ cols.T,   dcols = W.T @ D,

and ``dx`` is ``dcols`` added back through the same K strided views (col2im, one slice addition
per kernel offset; windows may overlap, so additions, never assignments).

GEMMs with inner dimension K*C: the right choice when C is small (an RGB first layer), where
one GEMM per offset (:mod:`cnnlab.functional._shifted_gemm`) would have inner dimension C and be
memory-bound. The K-fold copy of the input is never held whole: each thread builds the columns
of a few samples at a time in a cache-sized buffer and runs its GEMMs on them (the products are
sums over columns, so they split by samples); the backward pass builds them again from the
cached padded input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np

from cnnlab.functional import _parallel
from cnnlab.functional._blas import gemm, single_threaded
from cnnlab.functional._windows import Window2d, pad_input

T = TypeVar("T")


#: Bytes of im2col matrix per tile: each thread builds the matrix a few samples at a time, in a
#: buffer that stays in cache, and never holds the whole K-fold copy of the input.
TILE_BYTES = 1 << 22


def _tiles(s: slice, sample_bytes: int) -> list[slice]:
    """Sample ranges of about :data:`TILE_BYTES` of im2col columns covering ``s``."""
    step = max(1, TILE_BYTES // sample_bytes)
    return [slice(c, min(c + step, s.stop)) for c in range(s.start, s.stop, step)]


def _fill(buf: np.ndarray, xp: np.ndarray, b: slice, geom: Window2d) -> np.ndarray:
    """The im2col columns of samples ``b`` of xp (C, N, Hp, Wp), in the front of ``buf``."""
    channels = xp.shape[0]
    cols = buf[:, : (b.stop - b.start) * geom.out[0] * geom.out[1]]
    for k, (i, j) in enumerate(geom.offsets()):
        block = cols[k * channels : (k + 1) * channels].reshape(channels, -1, *geom.out)
        block[...] = xp[:, b][(..., *geom.offset(i, j))]
    return cols


def _shares(
    fn: Callable[[list[slice], np.ndarray], T], n: int, rows: int, geom: Window2d, dtype: np.dtype
) -> list[T]:
    """``fn(tiles, buf)`` per thread's share of the samples, BLAS single-threaded inside.

    ``buf`` is the thread's (rows, tile columns) scratch matrix for :func:`_fill`.
    """
    pixels = geom.out[0] * geom.out[1]
    sample_bytes = rows * pixels * np.dtype(dtype).itemsize

    def share(s: slice) -> T:
        tiles = _tiles(s, sample_bytes)
        width = max((t.stop - t.start) for t in tiles) * pixels if tiles else 0
        with single_threaded():
            return fn(tiles, np.empty((rows, width), dtype=dtype))

    return _parallel.map_slices(share, n, n * rows * pixels)


def forward(x: np.ndarray, w: np.ndarray, geom: Window2d) -> tuple:
    """Convolution without bias as GEMMs on tiles of the im2col matrix.

    Args:
        x: input (N, C, H, W).
        w: weights (F, C, HH, WW).
        geom: the window geometry of the convolution.

    Returns:
        ``(out, cache)``: out (N, F, Ho, Wo), a strided view of a scratch array; cache
        ``(xp, w_mat, x shape, geom)`` for :func:`backward`.
    """
    n = x.shape[0]
    xp = pad_input(x.transpose(1, 0, 2, 3), geom)  # (C, N, Hp, Wp)
    pixels = geom.out[0] * geom.out[1]
    # rows of the im2col matrix are (offset, channel): order the weights' columns the same way
    w_mat = np.ascontiguousarray(w.transpose(0, 2, 3, 1)).reshape(w.shape[0], -1)
    full = np.empty((w.shape[0], n * pixels), dtype=x.dtype)

    def tiles_forward(tiles: list[slice], buf: np.ndarray) -> None:
        for b in tiles:
            gemm(w_mat, _fill(buf, xp, b, geom), full[:, b.start * pixels : b.stop * pixels])

    _shares(tiles_forward, n, w_mat.shape[1], geom, x.dtype)
    return full.reshape(-1, n, *geom.out).transpose(1, 0, 2, 3), (xp, w_mat, x.shape, geom)


def backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray]:
    """(dx (N, C, H, W), dw (F, C, HH, WW)) from dout (N, F, Ho, Wo).

    Per tile: the im2col columns again (from the cached padded input), ``dW += D @ cols.T``,
    ``dcols = W.T @ D`` and col2im of dcols (one strided addition per kernel offset; windows
    overlap across offsets, never across samples).
    """
    xp, w_mat, x_shape, geom = cache
    n, channels = x_shape[:2]
    n_filters = w_mat.shape[0]
    pixels = geom.out[0] * geom.out[1]
    d_mat = np.empty((n_filters, n, *geom.out), dtype=xp.dtype)
    _parallel.copy(d_mat, dout.transpose(1, 0, 2, 3))
    d_mat = d_mat.reshape(n_filters, -1)
    dxp = np.zeros_like(xp)  # (C, N, Hp, Wp)

    def tiles_backward(tiles: list[slice], buf: np.ndarray) -> np.ndarray:
        partial = np.zeros_like(w_mat)  # this share's dW
        dbuf = np.empty_like(buf)
        for b in tiles:
            d = d_mat[:, b.start * pixels : b.stop * pixels]
            gemm(d, _fill(buf, xp, b, geom).T, partial, beta=1.0)
            dcols = gemm(w_mat.T, d, dbuf[:, : d.shape[1]])
            for k, (i, j) in enumerate(geom.offsets()):
                block = dcols[k * channels : (k + 1) * channels].reshape(channels, -1, *geom.out)
                dxp[:, b][(..., *geom.offset(i, j))] += block
        return partial

    dw_mat = np.sum(_shares(tiles_backward, n, w_mat.shape[1], geom, xp.dtype), axis=0)
    dw = dw_mat.astype(xp.dtype, copy=False).reshape(n_filters, *geom.kernel, channels)
    dx = np.empty(x_shape, dtype=xp.dtype)
    _parallel.copy(dx, dxp[(..., *geom.interior())].transpose(1, 0, 2, 3))
    return dx, np.ascontiguousarray(dw.transpose(0, 3, 1, 2))
