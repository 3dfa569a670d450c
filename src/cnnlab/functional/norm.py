"""Normalisation layers: batch, spatial batch, layer and group normalisation.

All four share one core: normalise ``x`` along some axes to zero mean and unit (biased)
variance, ``xhat = (x - mean) / sqrt(var + eps)``, then scale and shift, ``gamma * xhat + beta``.
They differ only in the axes the statistics run over:

- batchnorm, x (N, D): over the batch, per feature (axis 0);
- spatial batchnorm, x (N, C, H, W): over batch and space, per channel (x seen as (N*H*W, C));
- layernorm, x (N, D): over the features, per sample (axis 1);
- spatial groupnorm, x (N, C, H, W): per sample and per group of C // G channels.

Batchnorm keeps running averages in ``bn_param`` exactly as CS231n does:
``running = momentum * running + (1 - momentum) * batch_statistic``, where the variance is the
*biased* batch variance (divided by N, the one used to normalise). PyTorch's ``running_var``
uses the unbiased variance (divided by N - 1) instead; for N samples the two differ by the factor
N / (N - 1). Missing running statistics start at zeros (mean and variance) as in CS231n, where
PyTorch starts the variance at ones. In test mode the running averages replace the batch
statistics. Layer and group normalisation ignore any ``mode`` and behave the same always. A
key outside :data:`BN_PARAM_KEYS` in any of the param dicts is an error.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, NamedTuple

import numpy as np

from cnnlab import validation
from cnnlab.functional import _channel_norm

Axes = int | tuple[int, ...]

#: The keys a ``bn_param`` may hold; layer and group norm take the same dicts (CS231n passes its
#: ``bn_params`` to them) and read only ``eps``.
BN_PARAM_KEYS = ("mode", "eps", "momentum", "running_mean", "running_var")


class _NormCache(NamedTuple):
    """What the backward passes need (statistics keep their reduced axes as size 1)."""

    x: np.ndarray  # input, in the layout the statistics were taken in
    xhat: np.ndarray  # normalised input, same layout as x
    mean: np.ndarray
    inv_std: np.ndarray  # 1 / sqrt(var + eps)
    gamma: np.ndarray
    batch_stats: bool  # False in batchnorm test mode: mean and inv_std are constants


class _ShapedCache(NamedTuple):
    """Cache of the (N, C, H, W) norms: the input shape and the cache of the reshaped op."""

    shape: tuple[int, ...]
    inner: _NormCache


# ---------------------------------------------------------------------------------------------
# The shared core
# ---------------------------------------------------------------------------------------------


def _normalize(
    x: np.ndarray, axis: Axes, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(xhat, mean, var, inv_std)``; statistics over ``axis``, kept as size-1 axes."""
    mean = x.mean(axis=axis, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axis, keepdims=True)
    inv_std = 1 / np.sqrt(var + eps)
    return centered * inv_std, mean, var, inv_std


def _normalize_backward(
    dxhat: np.ndarray, xhat: np.ndarray, inv_std: np.ndarray, axis: Axes
) -> np.ndarray:
    """Gradient through ``xhat = (x - mean(x)) * inv_std(x)`` in closed form.

    ``dx = inv_std * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))``, means over ``axis``.
    """
    mean_d = dxhat.mean(axis=axis, keepdims=True)
    mean_dx = (dxhat * xhat).mean(axis=axis, keepdims=True)
    return inv_std * (dxhat - mean_d - xhat * mean_dx)


def _scale_shift_backward(
    dout: np.ndarray, xhat: np.ndarray, gamma: np.ndarray, axis: Axes
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``gamma * xhat + beta``: ``(dxhat, dgamma, dbeta)``.

    ``dgamma`` and ``dbeta`` are summed over ``axis`` and shaped like ``gamma``.
    """
    dbeta = dout.sum(axis=axis).reshape(gamma.shape)
    dgamma = (dout * xhat).sum(axis=axis).reshape(gamma.shape)
    return dout * gamma, dgamma, dbeta


def _check_scale_shift(
    op: str, x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, shape: tuple[int, ...]
) -> None:
    """Raise unless x is floating-point and gamma and beta have ``shape``."""
    validation.check_float(op, x, "x")
    validation.check_shape(op, gamma, shape, f"gamma (for x {x.shape})")
    validation.check_shape(op, beta, shape, f"beta (for x {x.shape})")


def _eps(op: str, params: Any) -> float:
    """The positive 'eps' of a param dict (default 1e-5), after checking the dict's keys."""
    eps = validation.check_params(op, params, "bn_param", BN_PARAM_KEYS).get("eps", 1e-5)
    if not eps > 0:
        raise ValueError(f"{op}: eps must be positive, got {eps!r}")
    return eps


# ---------------------------------------------------------------------------------------------
# Batch normalisation
# ---------------------------------------------------------------------------------------------


def _batchnorm_setup(
    x: np.ndarray, d: int, bn_param: MutableMapping[str, Any], op: str
) -> tuple[str, float, float, dict[str, np.ndarray]]:
    """Check a batchnorm's ``bn_param`` for x with ``d`` features or channels.

    Returns:
        ``(mode, eps, momentum, running)``, running the two (d,) running statistics (zeros
        where missing).
    """
    bn_param = validation.check_params(op, bn_param, "bn_param", BN_PARAM_KEYS)
    mode = bn_param.get("mode")
    if mode not in ("train", "test"):
        raise ValueError(f"{op}: bn_param['mode'] must be 'train' or 'test', got {mode!r}")
    eps = _eps(op, bn_param)
    running = {}
    for key in ("running_mean", "running_var"):
        value = bn_param.get(key)
        running[key] = np.zeros(d, dtype=x.dtype) if value is None else value
        validation.check_shape(op, running[key], (d,), f"bn_param['{key}'] (for x {x.shape})")
    return mode, eps, bn_param.get("momentum", 0.9), running


def _update_running(
    bn_param: MutableMapping[str, Any],
    running: dict[str, np.ndarray],
    momentum: float,
    mean: np.ndarray,
    var: np.ndarray,
) -> None:
    """New running averages (new arrays) into ``bn_param`` from the batch's (d,) statistics."""
    bn_param["running_mean"] = momentum * running["running_mean"] + (1 - momentum) * mean
    bn_param["running_var"] = momentum * running["running_var"] + (1 - momentum) * var


def _batchnorm_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    bn_param: MutableMapping[str, Any],
    op: str,
) -> tuple[np.ndarray, _NormCache]:
    """Batchnorm of x (N, D), with error messages naming ``op``."""
    mode, eps, momentum, running = _batchnorm_setup(x, x.shape[1], bn_param, op)
    if mode == "train":
        xhat, mean, var, inv_std = _normalize(x, 0, eps)
        _update_running(bn_param, running, momentum, mean[0], var[0])
    else:
        mean = np.asarray(running["running_mean"], dtype=x.dtype)[None]
        var = np.asarray(running["running_var"], dtype=x.dtype)[None]
        inv_std = 1 / np.sqrt(var + eps)
        xhat = (x - mean) * inv_std
    out = gamma * xhat + beta
    return out, _NormCache(x, xhat, mean, inv_std, gamma, mode == "train")


def batchnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: MutableMapping[str, Any]
) -> tuple[np.ndarray, _NormCache]:
    """Batch normalisation of x (N, D) over the batch, per feature.

    The backward passes also work after a test-mode forward, where the statistics are
    constants: ``dx = gamma * dout / sqrt(var + eps)``.

    Args:
        x: (N, D) data.
        gamma: (D,) scale.
        beta: (D,) shift.
        bn_param: dict with 'mode' ('train' or 'test', required), 'eps' (default 1e-5),
            'momentum' (default 0.9), 'running_mean' and 'running_var' ((D,), default zeros).
            In train mode the two running entries are replaced by new arrays holding the
            updated averages (the arrays passed in are left untouched); nothing else is
            modified.

    Returns:
        ``(out, cache)`` with out (N, D).

    Raises:
        ValueError: bad shapes, a bad 'mode', a non-positive 'eps' or an unknown key.
    """
    validation.check_ndim("batchnorm", x, 2, "x", "(N, D)")
    _check_scale_shift("batchnorm", x, gamma, beta, (x.shape[1],))
    return _batchnorm_forward(x, gamma, beta, bn_param, "batchnorm")


def _backward_inputs(op: str, dout: np.ndarray, cache: _NormCache) -> _NormCache:
    """Check a backward pass's dout and cache; return the cache."""
    cache = validation.check_cache(op, cache, _NormCache)
    validation.check_dout(op, dout, cache.x.shape)
    return cache


def batchnorm_backward(
    dout: np.ndarray, cache: _NormCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of batchnorm, staged along the forward computation graph.

    Walks back through ``mean = sum(x) / N``, ``c = x - mean``, ``var = sum(c**2) / N``,
    ``inv_std = (var + eps)**-0.5``, ``xhat = c * inv_std``, one node at a time; see
    :func:`batchnorm_backward_alt` for the simplified closed form.

    Args:
        dout: upstream gradient (N, D).
        cache: from :func:`batchnorm_forward`.

    Returns:
        ``(dx (N, D), dgamma (D,), dbeta (D,))``.
    """
    cache = _backward_inputs("batchnorm", dout, cache)
    dxhat, dgamma, dbeta = _scale_shift_backward(dout, cache.xhat, cache.gamma, 0)
    if not cache.batch_stats:
        return dxhat * cache.inv_std, dgamma, dbeta
    n = dout.shape[0]
    centered = cache.x - cache.mean
    dinv_std = (dxhat * centered).sum(axis=0)
    dvar = -0.5 * cache.inv_std**3 * dinv_std
    dcentered = dxhat * cache.inv_std + (2 / n) * centered * dvar
    dmean = -dcentered.sum(axis=0)
    dx = dcentered + dmean / n
    return dx, dgamma, dbeta


def batchnorm_backward_alt(
    dout: np.ndarray, cache: _NormCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of batchnorm in the simplified closed form.

    ``dx = inv_std * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))`` with
    ``dxhat = gamma * dout`` and the means over the batch.

    Args:
        dout: upstream gradient (N, D).
        cache: from :func:`batchnorm_forward`.

    Returns:
        ``(dx (N, D), dgamma (D,), dbeta (D,))``.
    """
    return _batchnorm_backward_alt(dout, cache, "batchnorm")


def _batchnorm_backward_alt(
    dout: np.ndarray, cache: _NormCache, op: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cache = _backward_inputs(op, dout, cache)
    dxhat, dgamma, dbeta = _scale_shift_backward(dout, cache.xhat, cache.gamma, 0)
    if not cache.batch_stats:
        return dxhat * cache.inv_std, dgamma, dbeta
    return _normalize_backward(dxhat, cache.xhat, cache.inv_std, 0), dgamma, dbeta


class _SpatialCache(NamedTuple):
    """Cache of spatial batchnorm (:mod:`cnnlab.functional._channel_norm`'s kernels)."""

    shape: tuple[int, ...]  # the input's (N, C, H, W)
    xc: np.ndarray  # centred input x - mean, (N, C, H*W)
    inv_std: np.ndarray  # (C,)
    gamma: np.ndarray  # (C,)
    batch_stats: bool  # False in test mode: mean and inv_std are constants


def spatial_batchnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: MutableMapping[str, Any]
) -> tuple[np.ndarray, _SpatialCache]:
    """Batch normalisation of x (N, C, H, W) per channel, over batch and space.

    The same function as :func:`batchnorm_forward` on x seen as (N*H*W, C), computed in NCHW
    with few passes over memory, on all cores (:mod:`cnnlab.functional._channel_norm`).

    Args:
        x: (N, C, H, W) data.
        gamma: (C,) scale.
        beta: (C,) shift.
        bn_param: as in :func:`batchnorm_forward`, with running statistics of shape (C,).

    Returns:
        ``(out (N, C, H, W), cache)``.

    Raises:
        ValueError: as :func:`batchnorm_forward`, for x (N, C, H, W).
    """
    op = "spatial_batchnorm"
    validation.check_ndim(op, x, 4, "x", "(N, C, H, W)")
    _check_scale_shift(op, x, gamma, beta, (x.shape[1],))
    n, c = x.shape[:2]
    mode, eps, momentum, running = _batchnorm_setup(x, c, bn_param, op)
    x3 = np.ascontiguousarray(x).reshape(n, c, -1)
    if mode == "train":
        count = x3.shape[0] * x3.shape[2]
        mean = _channel_norm.channel_sums(x3) / count
        xc, squares = _channel_norm.center(x3, mean, squares=True)
        var = squares / count
        _update_running(bn_param, running, momentum, mean, var)
    else:
        mean = np.asarray(running["running_mean"], dtype=x.dtype)
        var = np.asarray(running["running_var"], dtype=x.dtype)
        xc, _ = _channel_norm.center(x3, mean, squares=False)
    inv_std = (1 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
    gamma = gamma.astype(x.dtype, copy=False)
    out = _channel_norm.scale_shift(xc, gamma * inv_std, beta.astype(x.dtype, copy=False))
    return out.reshape(x.shape), _SpatialCache(x.shape, xc, inv_std, gamma, mode == "train")


def spatial_batchnorm_backward(
    dout: np.ndarray, cache: _SpatialCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of spatial batchnorm (the closed form of :func:`batchnorm_backward_alt`).

    Args:
        dout: upstream gradient (N, C, H, W).
        cache: from :func:`spatial_batchnorm_forward`.

    Returns:
        ``(dx (N, C, H, W), dgamma (C,), dbeta (C,))``.
    """
    op = "spatial_batchnorm"
    shape, xc, inv_std, gamma, batch_stats = validation.check_cache(op, cache, _SpatialCache)
    validation.check_dout(op, dout, shape)
    d3 = np.ascontiguousarray(dout, dtype=xc.dtype).reshape(xc.shape)
    dbeta, dot = _channel_norm.backward_sums(d3, xc)
    dgamma = dot * inv_std
    a = gamma * inv_std
    if not batch_stats:
        return (d3 * a[:, None]).reshape(shape), dgamma, dbeta
    count = xc.shape[0] * xc.shape[2]
    dx = _channel_norm.input_grad(d3, xc, a, dbeta / count, dgamma * inv_std / count)
    return dx.reshape(shape), dgamma, dbeta


# ---------------------------------------------------------------------------------------------
# Layer and group normalisation (no running statistics, same in train and test)
# ---------------------------------------------------------------------------------------------


def layernorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, ln_param: dict[str, Any] | None
) -> tuple[np.ndarray, _NormCache]:
    """Layer normalisation of x (N, D) over the features of each sample.

    Args:
        x: (N, D) data.
        gamma: (D,) scale.
        beta: (D,) shift.
        ln_param: dict with optional 'eps' (default 1e-5), or None; the other ``bn_param`` keys
            (e.g. 'mode') are accepted and ignored, any other is an error.

    Returns:
        ``(out (N, D), cache)``.

    Raises:
        ValueError: bad shapes, a non-positive 'eps' or an unknown key.
    """
    op = "layernorm"
    validation.check_ndim(op, x, 2, "x", "(N, D)")
    _check_scale_shift(op, x, gamma, beta, (x.shape[1],))
    xhat, mean, _, inv_std = _normalize(x, 1, _eps(op, ln_param))
    return gamma * xhat + beta, _NormCache(x, xhat, mean, inv_std, gamma, True)


def layernorm_backward(
    dout: np.ndarray, cache: _NormCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of layernorm.

    Args:
        dout: upstream gradient (N, D).
        cache: from :func:`layernorm_forward`.

    Returns:
        ``(dx (N, D), dgamma (D,), dbeta (D,))``.
    """
    cache = _backward_inputs("layernorm", dout, cache)
    dxhat, dgamma, dbeta = _scale_shift_backward(dout, cache.xhat, cache.gamma, 0)
    return _normalize_backward(dxhat, cache.xhat, cache.inv_std, 1), dgamma, dbeta


def spatial_groupnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, G: int, gn_param: dict[str, Any] | None
) -> tuple[np.ndarray, _ShapedCache]:
    """Group normalisation of x (N, C, H, W): per sample, over each group of C // G channels.

    Args:
        x: (N, C, H, W) data.
        gamma: (1, C, 1, 1) scale.
        beta: (1, C, 1, 1) shift.
        G: number of groups, dividing C.
        gn_param: dict with optional 'eps' (default 1e-5), or None; the other ``bn_param`` keys
            are accepted and ignored, any other is an error.

    Returns:
        ``(out (N, C, H, W), cache)``.

    Raises:
        ValueError: bad shapes, G not a positive divisor of C, a non-positive 'eps' or an
            unknown key.
    """
    op = "spatial_groupnorm"
    validation.check_ndim(op, x, 4, "x", "(N, C, H, W)")
    n, c = x.shape[:2]
    if not isinstance(G, (int, np.integer)) or G < 1:
        raise ValueError(f"{op}: G must be a positive int, got {G!r}")
    if c % G:
        raise ValueError(f"{op}: C={c} channels not divisible by G={G} groups (x {x.shape})")
    _check_scale_shift(op, x, gamma, beta, (1, c, 1, 1))
    grouped = x.reshape(n, int(G), -1)
    xhat, mean, _, inv_std = _normalize(grouped, 2, _eps(op, gn_param))
    out = gamma * xhat.reshape(x.shape) + beta
    return out, _ShapedCache(x.shape, _NormCache(grouped, xhat, mean, inv_std, gamma, True))


def spatial_groupnorm_backward(
    dout: np.ndarray, cache: _ShapedCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of spatial groupnorm.

    Args:
        dout: upstream gradient (N, C, H, W).
        cache: from :func:`spatial_groupnorm_forward`.

    Returns:
        ``(dx (N, C, H, W), dgamma (1, C, 1, 1), dbeta (1, C, 1, 1))``.
    """
    shape, group_cache = validation.check_cache("spatial_groupnorm", cache, _ShapedCache)
    validation.check_dout("spatial_groupnorm", dout, shape)
    xhat = group_cache.xhat.reshape(shape)
    dxhat, dgamma, dbeta = _scale_shift_backward(dout, xhat, group_cache.gamma, (0, 2, 3))
    dx = _normalize_backward(
        dxhat.reshape(group_cache.x.shape), group_cache.xhat, group_cache.inv_std, 2
    )
    return dx.reshape(shape), dgamma, dbeta
