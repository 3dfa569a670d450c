"""2-D convolution (cross-correlation, as in every deep-learning library), naive and fast.

Shapes: input ``x`` (N, C, H, W), weights ``w`` (F, C, HH, WW), bias ``b`` (F,), output
(N, F, Ho, Wo) with PyTorch's output size
``Ho = (H + 2 ph - dh (HH - 1) - 1) // sh + 1`` (rows/cols that no window reaches are ignored).
``conv_param`` = ``{'stride': 1, 'pad': 0, 'dilation': 1}``, each an int or an ``(h, w)`` pair.

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
from typing import Any

import numpy as np

from cnnlab.functional import _im2col, _shifted_gemm
from cnnlab.functional._common import (
    check_float,
    check_ndim,
    check_shape,
    get_param,
    nonnegative_pair,
    positive_pair,
)
from cnnlab.functional._windows import Window2d, pad_input, unpad

OP = "conv2d"

ConvParam = Mapping[str, Any]


def _prepare(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: ConvParam | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Window2d]:
    """Validate the inputs, bring them to one float dtype and compute the window geometry."""
    check_ndim(x, 4, OP, "input x", "(N, C, H, W)")
    check_ndim(w, 4, OP, "weights w", "(F, C, HH, WW)")
    check_ndim(b, 1, OP, "bias b", "(F,)")
    for arr, name in ((x, "input x"), (w, "weights w"), (b, "bias b")):
        check_float(arr, OP, name)
    shapes = f"(x {tuple(x.shape)}, w {tuple(w.shape)})"
    if x.shape[1] != w.shape[1]:
        raise ValueError(
            f"{OP}: input has {x.shape[1]} channels but the weights expect {w.shape[1]} {shapes}"
        )
    check_shape(b, (w.shape[0],), OP, f"bias b (for w {tuple(w.shape)})")
    geom = Window2d.make(
        OP,
        size=x.shape[2:],
        kernel=w.shape[2:],
        stride=positive_pair(get_param(conv_param, "stride", 1, OP), "stride", OP),
        pad=nonnegative_pair(get_param(conv_param, "pad", 0, OP), "pad", OP),
        dilation=positive_pair(get_param(conv_param, "dilation", 1, OP), "dilation", OP),
        shapes=shapes,
    )
    dtype = np.result_type(x.dtype, w.dtype, b.dtype)
    return (
        np.asarray(x, dtype=dtype),
        np.asarray(w, dtype=dtype),
        np.asarray(b, dtype=dtype),
        geom,
    )


def _check_dout(dout: np.ndarray, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """Validate the upstream gradient against the forward output and cast it to its dtype."""
    check_float(dout, OP, "dout")
    check_shape(dout, shape, OP, "dout (the gradient of the output)")
    return np.asarray(dout, dtype=dtype)


# --------------------------------------------------------------------------- naive


def conv_forward_naive(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: ConvParam | None = None
) -> tuple[np.ndarray, tuple]:
    """Convolution forward pass, one output pixel at a time.

    Inputs: x (N, C, H, W), w (F, C, HH, WW), b (F,), conv_param (stride, pad, dilation).
    Returns ``(out, cache)``: out (N, F, Ho, Wo), cache for :func:`conv_backward_naive`.
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
                    out[n, f, r, c] = np.sum(patch * w[f]) + b[f]
    return out, (x, w, b, geom)


def conv_backward_naive(
    dout: np.ndarray, cache: tuple
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convolution backward pass, one output pixel at a time.

    Inputs: dout (N, F, Ho, Wo), the cache of :func:`conv_forward_naive`.
    Returns ``(dx, dw, db)`` with the shapes of x, w and b.
    """
    x, w, b, geom = cache
    dout = _check_dout(dout, (x.shape[0], w.shape[0], *geom.out), x.dtype)
    xp = pad_input(x, geom)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = np.zeros_like(b)
    for n in range(x.shape[0]):
        for f in range(w.shape[0]):
            for r in range(geom.out[0]):
                for c in range(geom.out[1]):
                    window = (n, slice(None), *geom.window(r, c))
                    g = dout[n, f, r, c]
                    dxp[window] += g * w[f]
                    dw[f] += g * xp[window]
                    db[f] += g
    return unpad(dxp, geom), dw, db


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


def _pointwise_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, geom: Window2d) -> tuple:
    """1x1 kernel, no padding: out[n] = W (F, C) @ x[n] (C, Ho*Wo), batched over samples."""
    n, c = x.shape[:2]
    cols = np.ascontiguousarray(x[(..., *geom.offset(0, 0))]).reshape(n, c, -1)
    w_mat = w.reshape(w.shape[0], c)
    out = np.matmul(w_mat, cols)
    out += b[:, None]
    return out.reshape(n, -1, *geom.out), (cols, w_mat, x.shape, geom)


def _pointwise_backward(dout: np.ndarray, cache: tuple) -> tuple:
    """Gradients of :func:`_pointwise_forward`: (dx, dw, db)."""
    cols, w_mat, x_shape, geom = cache
    d_mat = dout.reshape(x_shape[0], w_mat.shape[0], -1)
    db = d_mat.sum(axis=(0, 2))
    dw = np.matmul(d_mat, cols.transpose(0, 2, 1)).sum(axis=0)
    dcols = np.matmul(w_mat.T, d_mat)
    if geom.stride == (1, 1):
        dx = dcols.reshape(x_shape)
    else:
        dx = np.zeros(x_shape, dtype=cols.dtype)
        dx[(..., *geom.offset(0, 0))] = dcols.reshape(*x_shape[:2], *geom.out)
    return dx, dw.reshape(*w_mat.shape, 1, 1), db


def _shifted_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, geom: Window2d) -> tuple:
    """Shifted GEMMs on the channel-major padded input (:mod:`._shifted_gemm`)."""
    plan = _shifted_gemm.Plan.make(x.shape, geom)
    xbuf = plan.scatter_input(x)
    w_offsets = np.ascontiguousarray(w.transpose(2, 3, 0, 1)).reshape(-1, *w.shape[:2])
    return plan.forward(xbuf, w_offsets, b), (plan, xbuf, w_offsets)


def _shifted_backward(dout: np.ndarray, cache: tuple) -> tuple:
    """Gradients of :func:`_shifted_forward`: (dx, dw, db)."""
    plan, xbuf, w_offsets = cache
    dx, dw_offsets, db = plan.backward(dout, xbuf, w_offsets)
    kh, kw = plan.geom.kernel
    dw = dw_offsets.reshape(kh, kw, *w_offsets.shape[1:]).transpose(2, 3, 0, 1)
    return dx, np.ascontiguousarray(dw), db


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


def conv_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: ConvParam | None = None
) -> tuple[np.ndarray, tuple]:
    """Fast convolution forward pass (BLAS), same contract as :func:`conv_forward_naive`.

    Returns ``(out, cache)``: out (N, F, Ho, Wo) C-contiguous, cache for :func:`conv_backward`.
    """
    x, w, b, geom = _prepare(x, w, b, conv_param)
    kind = _strategy(geom, x.shape[1])
    out, inner = _FORWARD[kind](x, w, b, geom)
    return out, (kind, out.shape, out.dtype, inner)


def conv_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fast convolution backward pass, same contract as :func:`conv_backward_naive`.

    Returns ``(dx, dw, db)`` with the shapes of x (N, C, H, W), w (F, C, HH, WW) and b (F,).
    """
    kind, out_shape, dtype, inner = cache
    return _BACKWARD[kind](_check_dout(dout, out_shape, dtype), inner)


conv_forward_fast = conv_forward
conv_backward_fast = conv_backward
