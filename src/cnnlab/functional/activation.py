"""Element-wise activations: relu, leaky_relu, elu, sigmoid, tanh.

Every op takes a floating-point array of any shape and returns one of the same shape and
dtype; each ``_backward`` takes ``dout`` of that shape and returns ``dx``. At ``x == 0`` relu,
leaky_relu and elu use the gradient of their ``x <= 0`` branch, as PyTorch does.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cnnlab.functional import _parallel
from cnnlab.validation import check_cache, check_dout, check_float


class _LeakyCache(NamedTuple):
    x: np.ndarray
    negative_slope: float


class _EluCache(NamedTuple):
    x: np.ndarray
    out: np.ndarray
    alpha: float


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``max(x, 0)``. Returns ``(out, cache)``; ``out`` has the shape of ``x``."""
    check_float("relu", x, "x")
    x = np.ascontiguousarray(x)
    out = _parallel.elementwise(lambda o, a: np.maximum(a, 0, out=o), np.empty_like(x), x)
    return out, x


def relu_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """Gradient of relu: ``dout`` where ``x > 0``, else 0."""
    x = check_float("relu", cache, "cache")
    dout = np.ascontiguousarray(check_dout("relu", dout, x.shape))
    x = np.ascontiguousarray(x)

    def masked(o: np.ndarray, d: np.ndarray, a: np.ndarray) -> None:
        np.multiply(d, a > 0, out=o)  # a multiply by the mask is ~15x faster than np.where

    return _parallel.elementwise(masked, np.empty(x.shape, dtype=dout.dtype), dout, x)


def leaky_relu_forward(
    x: np.ndarray, negative_slope: float = 0.01
) -> tuple[np.ndarray, _LeakyCache]:
    """``x`` where ``x > 0``, else ``negative_slope * x``. Returns ``(out, cache)``."""
    check_float("leaky_relu", x, "x")
    return np.where(x > 0, x, negative_slope * x), _LeakyCache(x, negative_slope)


def leaky_relu_backward(dout: np.ndarray, cache: _LeakyCache) -> np.ndarray:
    """Gradient of leaky_relu: ``dout`` where ``x > 0``, else ``negative_slope * dout``."""
    x, negative_slope = check_cache("leaky_relu", cache, _LeakyCache)
    dout = check_dout("leaky_relu", dout, x.shape)
    return np.where(x > 0, dout, negative_slope * dout)


def elu_forward(x: np.ndarray, alpha: float = 1.0) -> tuple[np.ndarray, _EluCache]:
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``. Returns ``(out, cache)``.

    ``expm1`` of ``min(x, 0)`` keeps small negatives accurate and large positives from
    overflowing in the unused branch.
    """
    check_float("elu", x, "x")
    out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
    return out, _EluCache(x, out, alpha)


def elu_backward(dout: np.ndarray, cache: _EluCache) -> np.ndarray:
    """Gradient of elu: ``dout`` where ``x > 0``, else ``dout * (out + alpha)``."""
    x, out, alpha = check_cache("elu", cache, _EluCache)
    dout = check_dout("elu", dout, x.shape)
    return np.where(x > 0, dout, dout * (out + alpha))


def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, computed without overflow.

    With ``e = exp(-|x|)`` (never above 1) the result is ``1 / (1 + e)`` for ``x >= 0`` and
    ``e / (1 + e)`` for ``x < 0``. Returns ``(out, cache)``.
    """
    check_float("sigmoid", x, "x")
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1, e) / (1 + e)
    return out, out


def sigmoid_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """Gradient of sigmoid: ``dout * out * (1 - out)``."""
    out = check_float("sigmoid", cache, "cache")
    dout = check_dout("sigmoid", dout, out.shape)
    return dout * out * (1 - out)


def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hyperbolic tangent. Returns ``(out, cache)``."""
    check_float("tanh", x, "x")
    out = np.tanh(x)
    return out, out


def tanh_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """Gradient of tanh: ``dout * (1 - out**2)``."""
    out = check_float("tanh", cache, "cache")
    dout = check_dout("tanh", dout, out.shape)
    return dout * (1 - out * out)
