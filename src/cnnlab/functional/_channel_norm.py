"""Spatial batch norm kernels on (N, C, M) arrays (M = H*W): per-channel statistics, in place.

The reference formulation (:mod:`cnnlab.functional.norm`) transposes x to (N*H*W, C) rows and
back, and makes one pass over memory per NumPy operation. These kernels stay in NCHW (channel
c of sample n is the contiguous row ``x[n, c]``) and cut the passes down:

* statistics are per-row reductions: ``x.sum(axis=(0, 2))`` and ``np.vecdot(row, row)`` (a dot
  product per row, one read, no squared temporary);
* the cache keeps the centred input ``xc = x - mean`` instead of ``xhat``; the per-channel factor
  ``inv_std`` is folded into the (C,) coefficients of the later passes, so normalising costs no
  pass of its own;
* every pass runs on all cores (:func:`~cnnlab.functional._parallel.map_slices` over samples),
  and walks its slice in cache-sized blocks, so that its two or four ufunc calls on a block read
  main memory once.

With ``count = N * M``, ``a = gamma * inv_std`` and the sums over samples and pixels:

    forward:   out = a * xc + beta
    backward:  dbeta = sum(dout),  dgamma = inv_std * sum(dout * xc),
               dx = a * (dout - dbeta / count - xc * inv_std * dgamma / count)
"""

from __future__ import annotations

import numpy as np

from cnnlab.functional._parallel import blocks, map_slices


def _col(v: np.ndarray) -> np.ndarray:
    """A per-channel vector (C,) as a (C, 1) column, broadcasting over the rows of (n, C, M)."""
    return v[:, None]


def _row_bytes(x: np.ndarray) -> int:
    """Bytes of one sample (C, M) of an (N, C, M) array."""
    return x[0].nbytes if len(x) else 1


def channel_sums(x: np.ndarray) -> np.ndarray:
    """Per-channel sums over samples and pixels of x (N, C, M): (C,)."""
    parts = map_slices(lambda s: x[s].sum(axis=(0, 2)), len(x), x.size)
    return np.sum(parts, axis=0, dtype=x.dtype)


def center(x: np.ndarray, mean: np.ndarray, squares: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """``xc = x - mean`` (N, C, M) and, if ``squares``, the per-channel sums of ``xc**2`` (C,)."""
    xc = np.empty_like(x)
    m = _col(mean)

    def work(s: slice) -> np.ndarray | None:
        sq = np.zeros(x.shape[1], dtype=x.dtype) if squares else None
        for b in blocks(s, _row_bytes(x)):
            np.subtract(x[b], m, out=xc[b])
            if squares:
                sq += np.vecdot(xc[b], xc[b]).sum(axis=0)  # while the block is in cache
        return sq

    parts = map_slices(work, len(x), x.size)
    return xc, (np.sum(parts, axis=0) if squares else None)


def scale_shift(xc: np.ndarray, a: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """``a * xc + beta`` with per-channel ``a`` and ``beta`` (C,): out (N, C, M)."""
    out = np.empty_like(xc)
    a_col, beta_col = _col(a), _col(beta)

    def work(s: slice) -> None:
        for b in blocks(s, _row_bytes(xc)):
            np.multiply(xc[b], a_col, out=out[b])
            out[b] += beta_col

    map_slices(work, len(xc), xc.size)
    return out


def backward_sums(dout: np.ndarray, xc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(sum(dout), sum(dout * xc))`` per channel (C,), both in one pass over dout and xc."""

    def work(s: slice) -> tuple[np.ndarray, np.ndarray]:
        d = dout[s]
        return d.sum(axis=(0, 2)), np.vecdot(d, xc[s]).sum(axis=0)

    parts = map_slices(work, len(dout), 2 * dout.size)
    return np.sum([p[0] for p in parts], axis=0), np.sum([p[1] for p in parts], axis=0)


def input_grad(
    dout: np.ndarray, xc: np.ndarray, a: np.ndarray, shift: np.ndarray, k: np.ndarray
) -> np.ndarray:
    """``dx = a * (dout - shift - k * xc)``, all three coefficients per channel (C,)."""
    dx = np.empty_like(dout)
    a_col, shift_col, k_col = _col(a), _col(shift), _col(k)

    def work(s: slice) -> None:
        for b in blocks(s, _row_bytes(dout)):
            np.multiply(xc[b], k_col, out=dx[b])
            np.subtract(dout[b], dx[b], out=dx[b])
            dx[b] -= shift_col
            dx[b] *= a_col

    map_slices(work, len(dout), 2 * dout.size)
    return dx
