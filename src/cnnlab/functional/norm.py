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
statistics. Layer and group normalisation ignore any ``mode`` and behave the same always.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, NamedTuple

import numpy as np

from ._common import check_float, check_ndim, check_shape, get_param

Axes = int | tuple[int, ...]


class _NormCache(NamedTuple):
    """What the backward passes need (statistics keep their reduced axes as size 1)."""

    x: np.ndarray  # input, in the layout the statistics were taken in
    xhat: np.ndarray  # normalised input, same layout as x
    mean: np.ndarray
    inv_std: np.ndarray  # 1 / sqrt(var + eps)
    gamma: np.ndarray
    batch_stats: bool  # False in batchnorm test mode: mean and inv_std are constants


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
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, shape: tuple[int, ...], op: str
) -> None:
    check_float(x, op, "x")
    check_shape(gamma, shape, op, f"gamma (for x {x.shape})")
    check_shape(beta, shape, op, f"beta (for x {x.shape})")


def _eps(params: Any, op: str) -> float:
    eps = get_param(params, "eps", 1e-5, op)
    if not eps > 0:
        raise ValueError(f"{op}: eps must be positive, got {eps!r}")
    return eps


# ---------------------------------------------------------------------------------------------
# Batch normalisation
# ---------------------------------------------------------------------------------------------


def _batchnorm_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    bn_param: MutableMapping[str, Any],
    op: str,
) -> tuple[np.ndarray, _NormCache]:
    """Batchnorm of x (N, D), with error messages naming ``op``."""
    d = x.shape[1]
    mode = get_param(bn_param, "mode", None, op)
    if mode not in ("train", "test"):
        raise ValueError(f"{op}: bn_param['mode'] must be 'train' or 'test', got {mode!r}")
    eps = _eps(bn_param, op)
    momentum = get_param(bn_param, "momentum", 0.9, op)
    running = {}
    for key in ("running_mean", "running_var"):
        value = get_param(bn_param, key, None, op)
        running[key] = np.zeros(d, dtype=x.dtype) if value is None else value
        check_shape(running[key], (d,), op, f"bn_param['{key}'] (for x {x.shape})")

    if mode == "train":
        xhat, mean, var, inv_std = _normalize(x, 0, eps)
        bn_param["running_mean"] = momentum * running["running_mean"] + (1 - momentum) * mean[0]
        bn_param["running_var"] = momentum * running["running_var"] + (1 - momentum) * var[0]
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

    Inputs:
    - x: (N, D) data
    - gamma, beta: (D,) scale and shift
    - bn_param: dict with 'mode' ('train' or 'test', required), 'eps' (default 1e-5),
      'momentum' (default 0.9), 'running_mean' and 'running_var' ((D,), default zeros).
      In train mode the two running entries are replaced by new arrays holding the updated
      averages (the arrays passed in are left untouched); nothing else is modified.

    Returns ``(out, cache)`` with ``out`` (N, D). The backward passes also work after a
    test-mode forward, where the statistics are constants: ``dx = gamma * dout / sqrt(var + eps)``.
    """
    check_ndim(x, 2, "batchnorm", "x", "(N, D)")
    _check_scale_shift(x, gamma, beta, (x.shape[1],), "batchnorm")
    return _batchnorm_forward(x, gamma, beta, bn_param, "batchnorm")


def _check_dout(dout: np.ndarray, cache: _NormCache, op: str) -> None:
    check_shape(dout, cache.x.shape, op, "dout")


def batchnorm_backward(
    dout: np.ndarray, cache: _NormCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of batchnorm, staged along the forward computation graph.

    Walks back through ``mean = sum(x) / N``, ``c = x - mean``, ``var = sum(c**2) / N``,
    ``inv_std = (var + eps)**-0.5``, ``xhat = c * inv_std``, one node at a time; see
    :func:`batchnorm_backward_alt` for the simplified closed form.

    Inputs: dout (N, D); cache from :func:`batchnorm_forward`.
    Returns ``(dx (N, D), dgamma (D,), dbeta (D,))``.
    """
    _check_dout(dout, cache, "batchnorm")
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

    Inputs: dout (N, D); cache from :func:`batchnorm_forward`.
    Returns ``(dx (N, D), dgamma (D,), dbeta (D,))``.
    """
    return _batchnorm_backward_alt(dout, cache, "batchnorm")


def _batchnorm_backward_alt(
    dout: np.ndarray, cache: _NormCache, op: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    _check_dout(dout, cache, op)
    dxhat, dgamma, dbeta = _scale_shift_backward(dout, cache.xhat, cache.gamma, 0)
    if not cache.batch_stats:
        return dxhat * cache.inv_std, dgamma, dbeta
    return _normalize_backward(dxhat, cache.xhat, cache.inv_std, 0), dgamma, dbeta


def _channels_last_rows(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N*H*W, C): one row per pixel."""
    return x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])


def _channels_first(rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`_channels_last_rows` for an array of the given (N, C, H, W) shape."""
    n, c, h, w = shape
    return np.ascontiguousarray(rows.reshape(n, h, w, c).transpose(0, 3, 1, 2))


def spatial_batchnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: MutableMapping[str, Any]
) -> tuple[np.ndarray, tuple[tuple[int, ...], _NormCache]]:
    """Batch normalisation of x (N, C, H, W) per channel, over batch and space.

    Runs :func:`batchnorm_forward` on x seen as (N*H*W, C). gamma, beta: (C,); bn_param as in
    :func:`batchnorm_forward` with running statistics of shape (C,).
    Returns ``(out (N, C, H, W), cache)``.
    """
    op = "spatial_batchnorm"
    check_ndim(x, 4, op, "x", "(N, C, H, W)")
    _check_scale_shift(x, gamma, beta, (x.shape[1],), op)
    rows, cache = _batchnorm_forward(_channels_last_rows(x), gamma, beta, bn_param, op)
    return _channels_first(rows, x.shape), (x.shape, cache)


def spatial_batchnorm_backward(
    dout: np.ndarray, cache: tuple[tuple[int, ...], _NormCache]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of spatial batchnorm.

    Inputs: dout (N, C, H, W); cache from :func:`spatial_batchnorm_forward`.
    Returns ``(dx (N, C, H, W), dgamma (C,), dbeta (C,))``.
    """
    op = "spatial_batchnorm"
    shape, row_cache = cache
    check_shape(dout, shape, op, "dout")
    drows, dgamma, dbeta = _batchnorm_backward_alt(_channels_last_rows(dout), row_cache, op)
    return _channels_first(drows, shape), dgamma, dbeta


# ---------------------------------------------------------------------------------------------
# Layer and group normalisation (no running statistics, same in train and test)
# ---------------------------------------------------------------------------------------------


def layernorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, ln_param: dict[str, Any] | None
) -> tuple[np.ndarray, _NormCache]:
    """Layer normalisation of x (N, D) over the features of each sample.

    Inputs: x (N, D); gamma, beta (D,); ln_param: dict with optional 'eps' (default 1e-5),
    other keys (e.g. 'mode') ignored.
    Returns ``(out (N, D), cache)``.
    """
    op = "layernorm"
    check_ndim(x, 2, op, "x", "(N, D)")
    _check_scale_shift(x, gamma, beta, (x.shape[1],), op)
    xhat, mean, _, inv_std = _normalize(x, 1, _eps(ln_param, op))
    return gamma * xhat + beta, _NormCache(x, xhat, mean, inv_std, gamma, True)


def layernorm_backward(
    dout: np.ndarray, cache: _NormCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of layernorm: ``(dx (N, D), dgamma (D,), dbeta (D,))``."""
    _check_dout(dout, cache, "layernorm")
    dxhat, dgamma, dbeta = _scale_shift_backward(dout, cache.xhat, cache.gamma, 0)
    return _normalize_backward(dxhat, cache.xhat, cache.inv_std, 1), dgamma, dbeta


def spatial_groupnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, G: int, gn_param: dict[str, Any] | None
) -> tuple[np.ndarray, tuple[tuple[int, ...], _NormCache]]:
    """Group normalisation of x (N, C, H, W): per sample, over each group of C // G channels.

    Inputs: x (N, C, H, W); gamma, beta (1, C, 1, 1); G: number of groups, dividing C;
    gn_param: dict with optional 'eps' (default 1e-5), other keys ignored.
    Returns ``(out (N, C, H, W), cache)``.
    """
    op = "spatial_groupnorm"
    check_ndim(x, 4, op, "x", "(N, C, H, W)")
    n, c = x.shape[:2]
    if not isinstance(G, (int, np.integer)) or G < 1:
        raise ValueError(f"{op}: G must be a positive int, got {G!r}")
    if c % G:
        raise ValueError(f"{op}: C={c} channels not divisible by G={G} groups (x {x.shape})")
    _check_scale_shift(x, gamma, beta, (1, c, 1, 1), op)
    grouped = x.reshape(n, int(G), -1)
    xhat, mean, _, inv_std = _normalize(grouped, 2, _eps(gn_param, op))
    out = gamma * xhat.reshape(x.shape) + beta
    return out, (x.shape, _NormCache(grouped, xhat, mean, inv_std, gamma, True))


def spatial_groupnorm_backward(
    dout: np.ndarray, cache: tuple[tuple[int, ...], _NormCache]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of spatial groupnorm.

    Inputs: dout (N, C, H, W); cache from :func:`spatial_groupnorm_forward`.
    Returns ``(dx (N, C, H, W), dgamma (1, C, 1, 1), dbeta (1, C, 1, 1))``.
    """
    shape, group_cache = cache
    check_shape(dout, shape, "spatial_groupnorm", "dout")
    xhat = group_cache.xhat.reshape(shape)
    dxhat, dgamma, dbeta = _scale_shift_backward(dout, xhat, group_cache.gamma, (0, 2, 3))
    dx = _normalize_backward(
        dxhat.reshape(group_cache.x.shape), group_cache.xhat, group_cache.inv_std, 2
    )
    return dx.reshape(shape), dgamma, dbeta
