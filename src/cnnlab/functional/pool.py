"""2-D max and average pooling (naive and fast) and global average pooling.

Shapes: input x (N, C, H, W), output (N, C, Ho, Wo). ``pool_param`` keys (CS231n names, PyTorch
semantics):

* ``pool_height``, ``pool_width`` (required): the window;
* ``stride`` (int or pair; default: the window, i.e. non-overlapping windows);
* ``pad`` (int or pair, default 0; at most half the window, as in PyTorch): max pooling pads
  with -inf, average pooling with zeros;
* ``ceil_mode`` (default False): round the output size up (PyTorch's rule: the last window must
  start inside the input or the left padding);
* ``count_include_pad`` (average pooling only, default True like ``torch.nn.AvgPool2d``): divide
  by the window area clipped to the padded input (True) or by the number of real input pixels in
  the window (False). Without padding and ceil mode both give the window area; with ceil mode
  the part of a window past the padding never counts, as in PyTorch.

Any other key is an error (``count_include_pad`` too, for max pooling).

Windows may overlap (stride < window) and need not tile the input (rows/cols no window reaches are
ignored and get zero gradient). Max-pool ties send the gradient to one element per window: the
first maximum in row-major window order, as PyTorch does.

The fast versions loop over the kernel offsets only: offset ``(i, j)`` is one strided view
holding element ``(i, j)`` of every window (:meth:`Window2d.offset`), so each step is one
vectorised NumPy operation over the whole batch.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from cnnlab.functional import _parallel
from cnnlab.functional._windows import Window2d, pad_input, unpad
from cnnlab.validation import (
    check_cache,
    check_dout,
    check_float,
    check_ndim,
    check_params,
    nonnegative_pair,
    positive_pair,
)

MAX_OP = "max_pool2d"
AVG_OP = "avg_pool2d"
GLOBAL_OP = "global_avg_pool2d"

PoolParam = Mapping[str, Any]

#: The keys a max-pooling ``pool_param`` may hold.
MAX_POOL_PARAM_KEYS = ("pool_height", "pool_width", "stride", "pad", "ceil_mode")
#: Average pooling also takes ``count_include_pad``.
AVG_POOL_PARAM_KEYS = (*MAX_POOL_PARAM_KEYS, "count_include_pad")


class _MaxNaiveCache(NamedTuple):
    x: np.ndarray
    geom: Window2d


class _MaxCache(NamedTuple):
    arg: np.ndarray  # (N, C, Ho, Wo): index of each window's first maximum among the offsets
    padded_shape: tuple[int, ...]  # (N, C, Hp, Wp)
    dtype: np.dtype
    geom: Window2d


class _AvgCache(NamedTuple):
    x_shape: tuple[int, ...]
    dtype: np.dtype
    geom: Window2d
    divisor: np.ndarray  # (Ho, Wo)


class _GlobalCache(NamedTuple):
    x_shape: tuple[int, ...]
    dtype: np.dtype


def _prepare(
    op: str, x: np.ndarray, pool_param: PoolParam | None, keys: tuple[str, ...]
) -> tuple[Window2d, PoolParam]:
    """Validate x and pool_param; return the window geometry and the checked pool_param."""
    check_ndim(op, x, 4, "input x", "(N, C, H, W)")
    check_float(op, x, "input x")
    pool_param = check_params(op, pool_param, "pool_param", keys)
    height, width = pool_param.get("pool_height"), pool_param.get("pool_width")
    if height is None or width is None:
        raise ValueError(f"{op}: pool_param needs 'pool_height' and 'pool_width', got {pool_param}")
    kernel = positive_pair(op, (height, width), "pool_height/pool_width")
    stride = positive_pair(op, pool_param.get("stride", kernel), "stride")
    pad = nonnegative_pair(op, pool_param.get("pad", 0), "pad")
    if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
        raise ValueError(
            f"{op}: pad {pad} must be at most half the {kernel[0]}x{kernel[1]} window "
            f"(x {tuple(x.shape)})"
        )
    ceil_mode = bool(pool_param.get("ceil_mode", False))
    geom = Window2d.make(
        op, x.shape[2:], kernel, stride, pad, ceil_mode=ceil_mode, shapes=f"(x {tuple(x.shape)})"
    )
    return geom, pool_param


def _offset_views(xp: np.ndarray, geom: Window2d) -> Iterator[np.ndarray]:
    """One strided view (N, C, Ho, Wo) per kernel offset, row-major order."""
    for i, j in geom.offsets():
        yield xp[(..., *geom.offset(i, j))]


def _disjoint(geom: Window2d) -> bool:
    """True when no input pixel lies in two windows (stride >= window on both axes)."""
    return all(s >= k for s, k in zip(geom.stride, geom.kernel, strict=True))


# --------------------------------------------------------------------------- max pooling


def max_pool_forward_naive(
    x: np.ndarray, pool_param: PoolParam
) -> tuple[np.ndarray, _MaxNaiveCache]:
    """Max pooling, one window at a time. x (N, C, H, W) -> out (N, C, Ho, Wo), cache."""
    geom, _ = _prepare(MAX_OP, x, pool_param, MAX_POOL_PARAM_KEYS)
    xp = pad_input(x, geom, -np.inf)
    out = np.empty((*x.shape[:2], *geom.out), dtype=x.dtype)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for r in range(geom.out[0]):
                for s in range(geom.out[1]):
                    out[n, c, r, s] = np.max(xp[(n, c, *geom.window(r, s))])
    return out, _MaxNaiveCache(x, geom)


def max_pool_backward_naive(dout: np.ndarray, cache: _MaxNaiveCache) -> np.ndarray:
    """Gradient of :func:`max_pool_forward_naive`: dout (N, C, Ho, Wo) -> dx (N, C, H, W)."""
    x, geom = check_cache(MAX_OP, cache, _MaxNaiveCache)
    dout = check_dout(MAX_OP, dout, (*x.shape[:2], *geom.out), x.dtype)
    xp = pad_input(x, geom, -np.inf)
    dxp = np.zeros_like(xp)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for r in range(geom.out[0]):
                for s in range(geom.out[1]):
                    rows, cols = geom.window(r, s)
                    i, j = np.unravel_index(np.argmax(xp[n, c, rows, cols]), geom.kernel)
                    dxp[n, c, rows.start + i, cols.start + j] += dout[n, c, r, s]
    return unpad(dxp, geom)


def max_pool_forward(x: np.ndarray, pool_param: PoolParam) -> tuple[np.ndarray, _MaxCache]:
    """Fast max pooling: elementwise maximum over the kernel-offset views. Contract as naive.

    On the way it notes, per window, the offset of its first maximum (row-major order, as
    PyTorch): the cache keeps that small index array instead of the input, and the backward
    pass only routes ``dout`` by it. The samples are split among the threads of
    :mod:`cnnlab.functional._parallel`.
    """
    geom, _ = _prepare(MAX_OP, x, pool_param, MAX_POOL_PARAM_KEYS)
    xp = pad_input(x, geom, -np.inf)
    out = np.empty((*x.shape[:2], *geom.out), dtype=x.dtype)
    n_offsets = geom.kernel[0] * geom.kernel[1]
    arg = np.zeros(out.shape, dtype=np.min_scalar_type(n_offsets - 1))

    def part(s: slice) -> None:
        views, best, index = _offset_views(xp[s], geom), out[s], arg[s]
        np.copyto(best, next(views))
        above, step = np.empty(best.shape, dtype=bool), np.empty_like(index)
        for k, view in enumerate(views, start=1):
            np.greater(view, best, out=above)  # strictly: a tie keeps the earlier offset
            np.maximum(best, view, out=best)  # (NaN propagates, as in np.max)
            # index = k where above: index += (k - index) * above, in wrapping unsigned
            # arithmetic (exact modulo 2**bits; many times faster than a masked assignment)
            np.subtract(k, index, out=step)
            np.multiply(step, above, out=step)
            np.add(index, step, out=index)

    _parallel.map_slices(part, len(x), x.size)
    return out, _MaxCache(arg, xp.shape, x.dtype, geom)


def max_pool_backward(dout: np.ndarray, cache: _MaxCache) -> np.ndarray:
    """Fast gradient of :func:`max_pool_forward`: each window's gradient to its first maximum.

    One pass per kernel offset: ``dout`` where the window's index is that offset, else 0
    (assigned when windows cannot overlap, added otherwise). The samples are split among the
    threads of :mod:`cnnlab.functional._parallel`.
    """
    arg, padded_shape, dtype, geom = check_cache(MAX_OP, cache, _MaxCache)
    dout = check_dout(MAX_OP, dout, arg.shape, dtype)
    dxp = np.zeros(padded_shape, dtype=dtype)
    disjoint = _disjoint(geom)

    def part(s: slice) -> None:
        index, grad = arg[s], dout[s]
        hit = np.empty(index.shape, dtype=bool)
        for k, dview in enumerate(_offset_views(dxp[s], geom)):
            np.equal(index, k, out=hit)
            if disjoint:
                np.multiply(hit, grad, out=dview)
            else:
                dview += hit * grad

    _parallel.map_slices(part, len(dxp), dxp.size)
    return unpad(dxp, geom)


# --------------------------------------------------------------------------- average pooling


def _axis_counts(size: int, kernel: int, stride: int, pad: int, out: int, include_pad: bool):
    """Per output position along one axis: how many window cells the average divides by."""
    start = np.arange(out) * stride - pad
    end = np.minimum(start + kernel, size + pad)
    if include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def _avg_prepare(x: np.ndarray, pool_param: PoolParam) -> tuple[Window2d, np.ndarray]:
    """Validate an average pooling's input; return the geometry and the (Ho, Wo) divisors.

    The divisors follow ``count_include_pad`` as the module docstring describes.
    """
    geom, pool_param = _prepare(AVG_OP, x, pool_param, AVG_POOL_PARAM_KEYS)
    include_pad = bool(pool_param.get("count_include_pad", True))
    counts = [
        _axis_counts(s, k, st, p, o, include_pad)
        for s, k, st, p, o in zip(
            geom.size, geom.kernel, geom.stride, geom.pad, geom.out, strict=True
        )
    ]
    return geom, np.outer(*counts).astype(x.dtype)


def _avg_backward_inputs(dout: np.ndarray, cache: _AvgCache) -> tuple[np.ndarray, _AvgCache]:
    """Check an average pooling's backward inputs; return dout (in the forward dtype), cache."""
    cache = check_cache(AVG_OP, cache, _AvgCache)
    shape = (*cache.x_shape[:2], *cache.geom.out)
    return check_dout(AVG_OP, dout, shape, cache.dtype), cache


def avg_pool_forward_naive(x: np.ndarray, pool_param: PoolParam) -> tuple[np.ndarray, _AvgCache]:
    """Average pooling, one window at a time. x (N, C, H, W) -> out (N, C, Ho, Wo), cache."""
    geom, divisor = _avg_prepare(x, pool_param)
    xp = pad_input(x, geom)
    out = np.empty((*x.shape[:2], *geom.out), dtype=x.dtype)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for r in range(geom.out[0]):
                for s in range(geom.out[1]):
                    out[n, c, r, s] = np.sum(xp[(n, c, *geom.window(r, s))]) / divisor[r, s]
    return out, _AvgCache(x.shape, x.dtype, geom, divisor)


def avg_pool_backward_naive(dout: np.ndarray, cache: _AvgCache) -> np.ndarray:
    """Gradient of :func:`avg_pool_forward_naive`: dout (N, C, Ho, Wo) -> dx (N, C, H, W)."""
    dout, (x_shape, dtype, geom, divisor) = _avg_backward_inputs(dout, cache)
    dxp = np.zeros((*x_shape[:2], *geom.padded), dtype=dtype)
    for n in range(x_shape[0]):
        for c in range(x_shape[1]):
            for r in range(geom.out[0]):
                for s in range(geom.out[1]):
                    dxp[(n, c, *geom.window(r, s))] += dout[n, c, r, s] / divisor[r, s]
    return unpad(dxp, geom)


def avg_pool_forward(x: np.ndarray, pool_param: PoolParam) -> tuple[np.ndarray, _AvgCache]:
    """Fast average pooling: sum of the kernel-offset views over the divisors."""
    geom, divisor = _avg_prepare(x, pool_param)
    views = _offset_views(pad_input(x, geom), geom)
    out = next(views).copy()
    for view in views:
        out += view
    out /= divisor
    return out, _AvgCache(x.shape, x.dtype, geom, divisor)


def avg_pool_backward(dout: np.ndarray, cache: _AvgCache) -> np.ndarray:
    """Fast gradient of :func:`avg_pool_forward`: each offset view gets dout / divisor."""
    dout, (x_shape, dtype, geom, divisor) = _avg_backward_inputs(dout, cache)
    share = dout / divisor
    dxp = np.zeros((*x_shape[:2], *geom.padded), dtype=dtype)
    for dview in _offset_views(dxp, geom):
        dview += share
    return unpad(dxp, geom)


# --------------------------------------------------------------------------- global average


def global_avg_pool_forward(x: np.ndarray) -> tuple[np.ndarray, _GlobalCache]:
    """Mean over the spatial axes: x (N, C, H, W) -> out (N, C), cache."""
    check_ndim(GLOBAL_OP, x, 4, "input x", "(N, C, H, W)")
    check_float(GLOBAL_OP, x, "input x")
    return x.mean(axis=(2, 3)), _GlobalCache(x.shape, x.dtype)


def global_avg_pool_backward(dout: np.ndarray, cache: _GlobalCache) -> np.ndarray:
    """Gradient of :func:`global_avg_pool_forward`: dout (N, C) -> dx (N, C, H, W)."""
    x_shape, dtype = check_cache(GLOBAL_OP, cache, _GlobalCache)
    dout = check_dout(GLOBAL_OP, dout, x_shape[:2], dtype)
    dx = np.empty(x_shape, dtype=dtype)
    dx[...] = (dout / (x_shape[2] * x_shape[3]))[:, :, None, None]
    return dx
