"""2-D convolution (cross-correlation, as in every deep-learning library), naive and fast.

Shapes: input ``x`` (N, C, H, W), weights ``w`` (F, C, HH, WW), bias ``b`` (F,) or None (no
bias, as ``torch.nn.functional.conv2d``; the backward pass then gives ``db = None``), output
(N, F, Ho, Wo) with PyTorch's output size
``Ho = (H + 2 ph - dh (HH - 1) - 1) // sh + 1`` (rows/cols that no window reaches are ignored).
``conv_param`` = ``{'stride': 1, 'pad': 0, 'dilation': 1}``, each an int or an ``(h, w)`` pair;
any other key is an error.

* :func:`conv_forward_naive` / :func:`conv_backward_naive`: one output pixel at a time; the
  reference the fast code is checked against.
* :func:`conv_forward` / :func:`conv_backward` (aliases ``conv_forward_fast`` /
  ``conv_backward_fast``): BLAS matrix products, no Python loop over samples, filters or pixels
  (only over the kernel offsets). Three algorithms, picked per layer by :func:`_strategy`:

  - ``pointwise`` (1x1 kernel, no padding): one batched matrix product, no copy of x at stride 1;
  - ``im2col`` (fewer than ``IM2COL_BELOW_CHANNELS`` input channels, e.g. RGB input): one GEMM
    on the im2col matrix (:mod:`cnnlab.functional._im2col`);
  - ``shifted`` (everything else): one GEMM per kernel offset on shifted column windows of the
    padded input, no im2col matrix at all (:mod:`cnnlab.functional._shifted_gemm`).

The result dtype is that of ``x``, ``w`` and ``b`` combined (float32 stays float32).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from cnnlab.functional import _channel_norm, _im2col, _parallel, _shifted_gemm
from cnnlab.functional._windows import Window2d, pad_input, unpad
from cnnlab.validation import (
    check_cache,
    check_dout,
    check_float,
    check_ndim,
    check_params,
    check_shape,
    nonnegative_pair,
    positive_pair,
)

OP = "conv2d"

ConvParam = Mapping[str, Any]

#: The keys a ``conv_param`` may hold.
CONV_PARAM_KEYS = ("stride", "pad", "dilation")


class _NaiveCache(NamedTuple):
    x: np.ndarray
    w: np.ndarray
    b: np.ndarray | None
    geom: Window2d


class _FastCache(NamedTuple):
    kind: str  # the algorithm, a key of _BACKWARD
    out_shape: tuple[int, ...]
    dtype: np.dtype
    has_bias: bool
    inner: tuple  # the algorithm's own cache


def _prepare(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, conv_param: ConvParam | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, Window2d]:
    """Validate the inputs, bring them to one float dtype and compute the window geometry."""
    check_ndim(OP, x, 4, "input x", "(N, C, H, W)")
    check_ndim(OP, w, 4, "weights w", "(F, C, HH, WW)")
    check_float(OP, x, "input x")
    check_float(OP, w, "weights w")
    shapes = f"(x {tuple(x.shape)}, w {tuple(w.shape)})"
    if x.shape[1] != w.shape[1]:
        raise ValueError(
            f"{OP}: input has {x.shape[1]} channels but the weights expect {w.shape[1]} {shapes}"
        )
    dtype = np.result_type(x.dtype, w.dtype)
    if b is not None:
        check_ndim(OP, b, 1, "bias b", "(F,)")
        check_float(OP, b, "bias b")
        check_shape(OP, b, (w.shape[0],), f"bias b (for w {tuple(w.shape)})")
        dtype = np.result_type(dtype, b.dtype)
        b = b.astype(dtype, copy=False)
    conv_param = check_params(OP, conv_param, "conv_param", CONV_PARAM_KEYS)
    geom = Window2d.make(
        OP,
        size=x.shape[2:],
        kernel=w.shape[2:],
        stride=positive_pair(OP, conv_param.get("stride", 1), "stride"),
        pad=nonnegative_pair(OP, conv_param.get("pad", 0), "pad"),
        dilation=positive_pair(OP, conv_param.get("dilation", 1), "dilation"),
        shapes=shapes,
    )
    return x.astype(dtype, copy=False), w.astype(dtype, copy=False), b, geom


def _bias_grad(dout: np.ndarray, has_bias: bool) -> np.ndarray | None:
    """Bias gradient db (F,) from dout (N, F, Ho, Wo), or None for a convolution without bias."""
    return dout.sum(axis=(0, 2, 3)) if has_bias else None


# --------------------------------------------------------------------------- naive


def conv_forward_naive(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    conv_param: ConvParam | None = None,
) -> tuple[np.ndarray, _NaiveCache]:
    """Convolution forward pass, one output pixel at a time.

    Args:
        x: input (N, C, H, W).
        w: weights (F, C, HH, WW).
        b: bias (F,), or None for none (as ``torch.nn.functional.conv2d``).
        conv_param: dict with 'stride', 'pad', 'dilation' (each an int or a pair).

    Returns:
        ``(out, cache)``: out (N, F, Ho, Wo), cache for :func:`conv_backward_naive`.

    Raises:
        ValueError: bad shapes, dtypes or ``conv_param`` (the message names conv2d).
    """
    x, w, b, geom = _prepare(x, w, b, conv_param)
    xp = pad_input(x, geom)
    n_samples, n_filters = x.shape[0], w.shape[0]
    out = np.zeros((n_samples, n_filters, *geom.out), dtype=x.dtype)
    for n in range(n_samples):
        for f in range(n_filters):
            for r in range(geom.out[0]):
                for c in range(geom.out[1]):
                    patch = xp[(n, slice(None), *geom.window(r, c))]
                    out[n, f, r, c] = np.sum(patch * w[f])
    if b is not None:
        out += b[:, None, None]
    return out, _NaiveCache(x, w, b, geom)


def conv_backward_naive(
    dout: np.ndarray, cache: _NaiveCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Convolution backward pass, one output pixel at a time.

    Args:
        dout: upstream gradient (N, F, Ho, Wo).
        cache: from :func:`conv_forward_naive`.

    Returns:
        ``(dx, dw, db)`` with the shapes of x, w and b; db is None when there was no bias.
    """
    x, w, b, geom = check_cache(OP, cache, _NaiveCache)
    dout = check_dout(OP, dout, (x.shape[0], w.shape[0], *geom.out), x.dtype)
    xp = pad_input(x, geom)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for n in range(x.shape[0]):
        for f in range(w.shape[0]):
            for r in range(geom.out[0]):
                for c in range(geom.out[1]):
                    window = (n, slice(None), *geom.window(r, c))
                    g = dout[n, f, r, c]
                    dxp[window] += g * w[f]
                    dw[f] += g * xp[window]
    return unpad(dxp, geom), dw, _bias_grad(dout, b is not None)


# --------------------------------------------------------------------------- fast

# Below this many input channels one GEMM per kernel offset (inner dimension C) is memory-bound
# and the single im2col GEMM (inner dimension K*C) wins. Measured on one core, fwd+bwd: RGB input
# (C=3, 7x7) im2col 3.7x faster; 3x3 kernels on 64x?x32x32: C=8 about even, C=16..64 shifted
# 1.3-1.7x faster with OpenBLAS's AVX-512 kernels, about even with its AVX2 ones (it builds no
# K-fold copy of the input, so it also needs far less memory).
IM2COL_BELOW_CHANNELS = 8


def _strategy(geom: Window2d, channels: int) -> str:
    """Which fast algorithm runs: 'pointwise', 'im2col' or 'shifted' (module docstring)."""
    if geom.kernel == (1, 1) and geom.pad == (0, 0):
        return "pointwise"
    return "im2col" if channels < IM2COL_BELOW_CHANNELS else "shifted"


def _pointwise_forward(x: np.ndarray, w: np.ndarray, geom: Window2d) -> tuple:
    """1x1 kernel, no padding: out[n] = W (F, C) @ x[n] (C, Ho*Wo).

    One GEMM over all samples, (F, C) @ (C, N*Ho*Wo) on a channel-major copy of x: a batched
    matmul would make one small BLAS call (and thread hand-off) per sample.
    """
    n, c = x.shape[:2]
    cols = np.empty((c, n, *geom.out), dtype=x.dtype)  # (C, N, Ho, Wo)
    _parallel.copy(cols, x[(..., *geom.offset(0, 0))].transpose(1, 0, 2, 3))
    cols = cols.reshape(c, -1)
    w_mat = w.reshape(w.shape[0], c)
    full = _parallel.gemm(w_mat, cols, np.empty((w.shape[0], cols.shape[1]), dtype=x.dtype))
    out = full.reshape(-1, n, *geom.out).transpose(1, 0, 2, 3)
    return out, (cols, w_mat, x.shape, geom)


def _pointwise_backward(dout: np.ndarray, cache: tuple, need_dx: bool) -> tuple:
    """Gradients of :func:`_pointwise_forward`: (dx or None, dw), each one GEMM."""
    cols, w_mat, x_shape, geom = cache
    n, c = x_shape[:2]
    d_mat = np.empty((w_mat.shape[0], n, *geom.out), dtype=cols.dtype)  # (F, N, Ho, Wo)
    _parallel.copy(d_mat, dout.transpose(1, 0, 2, 3))
    d_mat = d_mat.reshape(w_mat.shape[0], -1)
    dw = _parallel.gemm(d_mat, cols.T, np.empty_like(w_mat)).reshape(*w_mat.shape, 1, 1)
    if not need_dx:
        return None, dw
    dcols = _parallel.gemm(w_mat.T, d_mat, np.empty_like(cols)).reshape(c, n, *geom.out)
    dx = (np.empty if geom.stride == (1, 1) else np.zeros)(x_shape, dtype=cols.dtype)
    _parallel.copy(dx[(..., *geom.offset(0, 0))], dcols.transpose(1, 0, 2, 3))
    return dx, dw


def _shifted_forward(x: np.ndarray, w: np.ndarray, geom: Window2d) -> tuple:
    """Shifted GEMMs on the channel-major padded input (:mod:`._shifted_gemm`)."""
    plan = _shifted_gemm.Plan.make(x.shape, geom)
    xbuf = plan.scatter_input(x)
    w_offsets = np.ascontiguousarray(w.transpose(2, 3, 0, 1)).reshape(-1, *w.shape[:2])
    return plan.forward(xbuf, w_offsets), (plan, xbuf, w_offsets)


def _shifted_backward(dout: np.ndarray, cache: tuple, need_dx: bool) -> tuple:
    """Gradients of :func:`_shifted_forward`: (dx or None, dw)."""
    plan, xbuf, w_offsets = cache
    dx, dw_offsets = plan.backward(dout, xbuf, w_offsets, need_dx)
    kh, kw = plan.geom.kernel
    dw = dw_offsets.reshape(kh, kw, *w_offsets.shape[1:]).transpose(2, 3, 0, 1)
    return dx, np.ascontiguousarray(dw)


_FORWARD = {
    "pointwise": _pointwise_forward,
    "im2col": _im2col.forward,
    "shifted": _shifted_forward,
}
_BACKWARD = {
    "pointwise": _pointwise_backward,
    "im2col": _im2col.backward,
    "shifted": _shifted_backward,
}


def _finish(raw: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """The C-contiguous output (N, F, Ho, Wo) from an algorithm's result, plus the bias.

    ``raw`` belongs to this call alone (no cache keeps it): a C-contiguous one gets the bias in
    place, a strided view of a scratch buffer (im2col, shifted) is copied once, bias added on
    the way.
    """
    if raw.flags.c_contiguous:
        if b is not None:
            raw += b[:, None, None]
        return raw
    out = np.empty(raw.shape, dtype=raw.dtype)
    if b is None:
        _parallel.copy(out, raw)
    else:
        bias = b[:, None, None]
        _parallel.map_slices(lambda s: np.add(raw[s], bias, out=out[s]), len(out), out.size)
    return out


def conv_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    conv_param: ConvParam | None = None,
) -> tuple[np.ndarray, _FastCache]:
    """Fast convolution forward pass (BLAS), same arguments and errors as the naive one.

    Args:
        x: input (N, C, H, W).
        w: weights (F, C, HH, WW).
        b: bias (F,), or None for none (as ``torch.nn.functional.conv2d``).
        conv_param: dict with 'stride', 'pad', 'dilation' (each an int or a pair).

    Returns:
        ``(out, cache)``: out (N, F, Ho, Wo) C-contiguous, cache for :func:`conv_backward`.

    Raises:
        ValueError: bad shapes, dtypes or ``conv_param``, as :func:`conv_forward_naive`.
    """
    x, w, b, geom = _prepare(x, w, b, conv_param)
    kind = _strategy(geom, x.shape[1])
    raw, inner = _FORWARD[kind](x, w, geom)
    out = _finish(raw, b)
    return out, _FastCache(kind, out.shape, out.dtype, b is not None, inner)


def conv_backward(
    dout: np.ndarray, cache: _FastCache, need_dx: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Fast convolution backward pass, same results as :func:`conv_backward_naive`.

    Args:
        dout: upstream gradient (N, F, Ho, Wo).
        cache: from :func:`conv_forward`.
        need_dx: False skips the input's gradient (a network's first layer: its GEMM and the
            scatter back to image layout are a third of the layer's backward; PyTorch skips it
            for inputs without ``requires_grad``).

    Returns:
        ``(dx, dw, db)`` with the shapes of x, w and b; db is None when there was no bias, dx
        when ``need_dx`` is False.

    Raises:
        ValueError: a cache that is not from :func:`conv_forward`, or dout of the wrong shape.
    """
    kind, out_shape, dtype, has_bias, inner = check_cache(OP, cache, _FastCache)
    dout = check_dout(OP, dout, out_shape, dtype)
    dx, dw = _BACKWARD[kind](dout, inner, need_dx)
    if not has_bias:
        return dx, dw, None
    # per-channel sums on all cores (the naive twin's dout.sum runs on one)
    rows = np.ascontiguousarray(dout).reshape(*out_shape[:2], -1)
    return dx, dw, _channel_norm.channel_sums(rows)


conv_forward_fast = conv_forward
"""CS231n's name for :func:`conv_forward` (its ``fast_layers`` module)."""
conv_backward_fast = conv_backward
"""CS231n's name for :func:`conv_backward` (its ``fast_layers`` module)."""
