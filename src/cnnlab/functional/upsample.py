"""Nearest-neighbour upsampling by an integer factor (``torch.nn.Upsample(mode="nearest")``).

Shapes: input x (N, C, H, W), output (N, C, k H, k W) for scale factor k: output pixel
``(i, j)`` copies input pixel ``(i // k, j // k)``, so every input pixel becomes a k x k block.

* :func:`upsample_nearest_forward` / :func:`upsample_nearest_backward`: one broadcasting
  assignment forward, one reshape and sum backward.
* :func:`upsample_nearest_forward_naive` / :func:`upsample_nearest_backward_naive`: one output
  pixel at a time, the reference the fast pair is checked against.
"""

from __future__ import annotations

import numpy as np

from cnnlab.validation import check_dout, check_float, check_ndim

OP = "upsample_nearest"

# The cache of both versions: (input shape, dtype, scale factor).
Cache = tuple[tuple[int, ...], np.dtype, int]


def check_scale_factor(op: str, scale_factor: int) -> int:
    """Return ``scale_factor`` as an int.

    Raises:
        ValueError: ``<op>: scale_factor must be a positive int, got <value>``.
    """
    if (
        isinstance(scale_factor, (bool, np.bool_))
        or not isinstance(scale_factor, (int, np.integer))
        or scale_factor < 1
    ):
        raise ValueError(f"{op}: scale_factor must be a positive int, got {scale_factor!r}")
    return int(scale_factor)


def _prepare(x: np.ndarray, scale_factor: int) -> int:
    """Validate x (N, C, H, W) and the integer scale factor; return the factor as an int."""
    check_ndim(OP, x, 4, "input x", "(N, C, H, W)")
    check_float(OP, x, "input x")
    return check_scale_factor(OP, scale_factor)


def _out_shape(cache: Cache) -> tuple[int, int, int, int]:
    (n, c, h, w), _, k = cache
    return n, c, h * k, w * k


def upsample_nearest_forward(x: np.ndarray, scale_factor: int) -> tuple[np.ndarray, Cache]:
    """Nearest-neighbour upsampling.

    Args:
        x: input (N, C, H, W), floating point.
        scale_factor: the integer factor k >= 1 for both spatial axes.

    Returns:
        ``(out, cache)``: out (N, C, k H, k W) with the dtype of x, C-contiguous; cache for
        :func:`upsample_nearest_backward`.

    Raises:
        ValueError: x is not a 4-D float array, or k is not a positive int.
    """
    k = _prepare(x, scale_factor)
    cache = (x.shape, x.dtype, k)
    out = np.empty(_out_shape(cache), dtype=x.dtype)
    n, c, h, w = x.shape
    out.reshape(n, c, h, k, w, k)[...] = x[:, :, :, None, :, None]  # each pixel fills a block
    return out, cache


def upsample_nearest_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """Gradient of :func:`upsample_nearest_forward`.

    Args:
        dout: upstream gradient (N, C, k H, k W).
        cache: from :func:`upsample_nearest_forward`.

    Returns:
        dx (N, C, H, W) with the dtype of the forward input.

    Raises:
        ValueError: dout is not a float array of the output's shape.
    """
    (n, c, h, w), dtype, k = cache
    dout = check_dout(OP, dout, _out_shape(cache), dtype)
    # Each input pixel fed one k x k block of the output: sum the gradient over its block.
    return dout.reshape(n, c, h, k, w, k).sum(axis=(3, 5))


def upsample_nearest_forward_naive(x: np.ndarray, scale_factor: int) -> tuple[np.ndarray, Cache]:
    """Nearest-neighbour upsampling, one output pixel at a time.

    Same contract as :func:`upsample_nearest_forward`: x (N, C, H, W) -> out (N, C, k H, k W).
    """
    k = _prepare(x, scale_factor)
    cache = (x.shape, x.dtype, k)
    out = np.empty(_out_shape(cache), dtype=x.dtype)
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = x[:, :, i // k, j // k]
    return out, cache


def upsample_nearest_backward_naive(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """Gradient of :func:`upsample_nearest_forward_naive`, one output pixel at a time.

    Same contract as :func:`upsample_nearest_backward`: dout (N, C, k H, k W) -> dx (N, C, H, W).
    """
    x_shape, dtype, k = cache
    dout = check_dout(OP, dout, _out_shape(cache), dtype)
    dx = np.zeros(x_shape, dtype=dtype)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dx[:, :, i // k, j // k] += dout[:, :, i, j]
    return dx
