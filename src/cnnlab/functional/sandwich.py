"""Sandwich layers: common chains of ops as one forward/backward pair.

Each forward returns ``(out, cache)`` where the cache is the tuple of the chained ops' caches;
each backward runs the ops' backward passes in reverse order and returns ``dx`` followed by the
parameter gradients of the ops in forward order (``dw, db`` of the conv or affine, then
``dgamma, dbeta`` of a batchnorm). Convolution and pooling use the fast (vectorised)
implementations. Where a sandwich starts with a conv or affine, ``b`` may be None (no bias;
``db`` is then None).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

import numpy as np

from cnnlab.validation import check_cache

from .activation import relu_backward, relu_forward
from .conv import conv_backward, conv_forward
from .linear import affine_backward, affine_forward
from .norm import spatial_batchnorm_backward, spatial_batchnorm_forward
from .pool import max_pool_backward, max_pool_forward

Grads = tuple[np.ndarray | None, ...]


def _chain_forward(x: np.ndarray, *steps: tuple[Callable, ...]) -> tuple[np.ndarray, tuple]:
    """Run ``x`` through ``steps``, each ``(op_forward, *extra_args)``; return (out, caches)."""
    caches = []
    for forward, *args in steps:
        x, cache = forward(x, *args)
        caches.append(cache)
    return x, tuple(caches)


def _chain_backward(op: str, dout: np.ndarray, cache: Any, *backwards: Callable) -> Grads:
    """Backward of :func:`_chain_forward` given the ops' backward passes in forward order.

    Returns ``(dx, *param_grads)``, the parameter gradients in forward order.
    """
    caches = check_cache(op, cache, tuple)
    if len(caches) != len(backwards):
        raise ValueError(
            f"{op}: cache must hold {len(backwards)} caches (one per chained op), got {len(caches)}"
        )
    grads: list = []
    for backward, step_cache in zip(reversed(backwards), reversed(caches), strict=True):
        result = backward(dout, step_cache)
        dout, *param_grads = result if isinstance(result, tuple) else (result,)
        grads[:0] = param_grads
    return (dout, *grads)


def affine_relu_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None
) -> tuple[np.ndarray, tuple]:
    """Affine then ReLU. x (N, d1..dk), w (D, M), b (M,) or None -> out (N, M)."""
    return _chain_forward(x, (affine_forward, w, b), (relu_forward,))


def affine_relu_backward(dout: np.ndarray, cache: tuple) -> Grads:
    """Backward of :func:`affine_relu_forward`: dout (N, M) -> (dx, dw, db)."""
    return _chain_backward("affine_relu", dout, cache, affine_backward, relu_backward)


def conv_relu_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    conv_param: Mapping[str, Any] | None = None,
) -> tuple[np.ndarray, tuple]:
    """Convolution then ReLU.

    x (N, C, H, W), w (F, C, HH, WW), b (F,) or None -> out (N, F, H', W').
    """
    return _chain_forward(x, (conv_forward, w, b, conv_param), (relu_forward,))


def conv_relu_backward(dout: np.ndarray, cache: tuple) -> Grads:
    """Backward of :func:`conv_relu_forward`: dout (N, F, H', W') -> (dx, dw, db)."""
    return _chain_backward("conv_relu", dout, cache, conv_backward, relu_backward)


def conv_relu_pool_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    conv_param: Mapping[str, Any] | None,
    pool_param: Mapping[str, Any],
) -> tuple[np.ndarray, tuple]:
    """Convolution, ReLU, then max pooling.

    x (N, C, H, W), w (F, C, HH, WW), b (F,) or None -> out (N, F, H'', W'') after pooling.
    """
    return _chain_forward(
        x, (conv_forward, w, b, conv_param), (relu_forward,), (max_pool_forward, pool_param)
    )


def conv_relu_pool_backward(dout: np.ndarray, cache: tuple) -> Grads:
    """Backward of :func:`conv_relu_pool_forward`: dout (N, F, H'', W'') -> (dx, dw, db)."""
    return _chain_backward(
        "conv_relu_pool", dout, cache, conv_backward, relu_backward, max_pool_backward
    )


def conv_bn_relu_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    gamma: np.ndarray,
    beta: np.ndarray,
    conv_param: Mapping[str, Any] | None,
    bn_param: MutableMapping[str, Any],
) -> tuple[np.ndarray, tuple]:
    """Convolution, spatial batchnorm, then ReLU.

    x (N, C, H, W), w (F, C, HH, WW), b (F,) or None, gamma and beta (F,), bn_param as in
    :func:`~cnnlab.functional.norm.batchnorm_forward` -> out (N, F, H', W').
    """
    return _chain_forward(
        x,
        (conv_forward, w, b, conv_param),
        (spatial_batchnorm_forward, gamma, beta, bn_param),
        (relu_forward,),
    )


def conv_bn_relu_backward(dout: np.ndarray, cache: tuple) -> Grads:
    """Backward of :func:`conv_bn_relu_forward`: -> (dx, dw, db, dgamma, dbeta)."""
    return _chain_backward(
        "conv_bn_relu", dout, cache, conv_backward, spatial_batchnorm_backward, relu_backward
    )
