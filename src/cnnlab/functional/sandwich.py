"""Sandwich layers: common chains of ops as one forward/backward pair.

Each forward returns ``(out, cache)`` where the cache holds the caches of the chained ops; each
backward runs the ops' backward passes in reverse order. Convolution and pooling use the fast
(vectorised) implementations.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

import numpy as np

from .activation import relu_backward, relu_forward
from .conv import conv_backward, conv_forward
from .linear import affine_backward, affine_forward
from .norm import spatial_batchnorm_backward, spatial_batchnorm_forward
from .pool import max_pool_backward, max_pool_forward

Grads3 = tuple[np.ndarray, np.ndarray, np.ndarray]


def affine_relu_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, tuple[Any, Any]]:
    """Affine then ReLU. x (N, d1..dk), w (D, M), b (M,) -> out (N, M)."""
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout: np.ndarray, cache: tuple[Any, Any]) -> Grads3:
    """Backward of :func:`affine_relu_forward`: dout (N, M) -> (dx, dw, db)."""
    fc_cache, relu_cache = cache
    return affine_backward(relu_backward(dout, relu_cache), fc_cache)


def conv_relu_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: Mapping[str, Any]
) -> tuple[np.ndarray, tuple[Any, Any]]:
    """Convolution then ReLU. x (N, C, H, W), w (F, C, HH, WW), b (F,) -> out (N, F, H', W')."""
    a, conv_cache = conv_forward(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    return out, (conv_cache, relu_cache)


def conv_relu_backward(dout: np.ndarray, cache: tuple[Any, Any]) -> Grads3:
    """Backward of :func:`conv_relu_forward`: dout (N, F, H', W') -> (dx, dw, db)."""
    conv_cache, relu_cache = cache
    return conv_backward(relu_backward(dout, relu_cache), conv_cache)


def conv_relu_pool_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    conv_param: Mapping[str, Any],
    pool_param: Mapping[str, Any],
) -> tuple[np.ndarray, tuple[Any, Any, Any]]:
    """Convolution, ReLU, then max pooling.

    x (N, C, H, W), w (F, C, HH, WW), b (F,) -> out (N, F, H'', W'') after pooling.
    """
    a, conv_cache = conv_forward(x, w, b, conv_param)
    s, relu_cache = relu_forward(a)
    out, pool_cache = max_pool_forward(s, pool_param)
    return out, (conv_cache, relu_cache, pool_cache)


def conv_relu_pool_backward(dout: np.ndarray, cache: tuple[Any, Any, Any]) -> Grads3:
    """Backward of :func:`conv_relu_pool_forward`: dout (N, F, H'', W'') -> (dx, dw, db)."""
    conv_cache, relu_cache, pool_cache = cache
    ds = max_pool_backward(dout, pool_cache)
    return conv_backward(relu_backward(ds, relu_cache), conv_cache)


def conv_bn_relu_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    conv_param: Mapping[str, Any],
    bn_param: MutableMapping[str, Any],
) -> tuple[np.ndarray, tuple[Any, Any, Any]]:
    """Convolution, spatial batchnorm, then ReLU.

    x (N, C, H, W), w (F, C, HH, WW), b (F,), gamma and beta (F,), bn_param as in
    :func:`~cnnlab.functional.norm.batchnorm_forward` -> out (N, F, H', W').
    """
    a, conv_cache = conv_forward(x, w, b, conv_param)
    an, bn_cache = spatial_batchnorm_forward(a, gamma, beta, bn_param)
    out, relu_cache = relu_forward(an)
    return out, (conv_cache, bn_cache, relu_cache)


def conv_bn_relu_backward(
    dout: np.ndarray, cache: tuple[Any, Any, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backward of :func:`conv_bn_relu_forward`: -> (dx, dw, db, dgamma, dbeta)."""
    conv_cache, bn_cache, relu_cache = cache
    dan, dgamma, dbeta = spatial_batchnorm_backward(relu_backward(dout, relu_cache), bn_cache)
    dx, dw, db = conv_backward(dan, conv_cache)
    return dx, dw, db, dgamma, dbeta
