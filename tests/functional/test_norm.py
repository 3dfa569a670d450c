"""Normalisation beyond the op table (cases.py): running statistics against PyTorch's
conventions, the seeds' statistics checks, inputs left untouched, dtypes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.functional.norm import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)

from .cases import EXACT_ATOL, EXACT_RTOL


def close(ours: np.ndarray, theirs: torch.Tensor | np.ndarray) -> None:
    if isinstance(theirs, torch.Tensor):
        theirs = theirs.detach().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=EXACT_RTOL, atol=EXACT_ATOL)


def tensors(*arrays: np.ndarray) -> list[torch.Tensor]:
    return [torch.tensor(a, requires_grad=True) for a in arrays]


def bn_inputs(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    c = shape[1]
    x = rng.normal(3.0, 2.0, shape)
    gamma = rng.normal(size=c)
    beta = rng.normal(size=c)
    dout = rng.normal(size=shape)
    return x, gamma, beta, dout


# --------------------------------------------------------------------------------------------
# batchnorm against PyTorch
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("backward", [batchnorm_backward, batchnorm_backward_alt])
def test_batchnorm_train_matches_torch_including_running_stats(rng, backward):
    n, d = 7, 5
    x, gamma, beta, dout = bn_inputs(rng, (n, d))
    rm0, rv0 = rng.normal(size=d), rng.uniform(0.5, 2.0, d)
    bn_param = {
        "mode": "train",
        "momentum": 0.8,
        "eps": 1e-4,
        "running_mean": rm0.copy(),
        "running_var": rv0.copy(),
    }
    out, cache = batchnorm_forward(x, gamma, beta, bn_param)
    dx, dgamma, dbeta = backward(dout, cache)

    xt, gt, bt = tensors(x, gamma, beta)
    trm, trv = torch.tensor(rm0), torch.tensor(rv0)
    # PyTorch's momentum weighs the new batch: torch momentum = 1 - CS231n momentum.
    out_t = F.batch_norm(xt, trm, trv, gt, bt, training=True, momentum=0.2, eps=1e-4)
    grads_t = torch.autograd.grad(out_t, (xt, gt, bt), torch.tensor(dout))
    close(out, out_t)
    for ours, theirs in zip((dx, dgamma, dbeta), grads_t, strict=True):
        close(ours, theirs)
    close(bn_param["running_mean"], trm)
    # PyTorch folds the unbiased batch variance (/(N-1)) into running_var; CS231n (and cnnlab)
    # the biased one (/N). Recover the unbiased one from PyTorch and rescale it.
    unbiased = (trv.numpy() - 0.8 * rv0) / 0.2
    close(bn_param["running_var"], 0.8 * rv0 + 0.2 * unbiased * (n - 1) / n)


@pytest.mark.parametrize("backward", [batchnorm_backward, batchnorm_backward_alt])
def test_batchnorm_test_mode_uses_running_stats_like_torch(rng, backward):
    n, d = 6, 4
    x, gamma, beta, dout = bn_inputs(rng, (n, d))
    rm, rv = rng.normal(size=d), rng.uniform(0.5, 2.0, d)
    bn_param = {"mode": "test", "running_mean": rm, "running_var": rv}
    out, cache = batchnorm_forward(x, gamma, beta, bn_param)
    dx, dgamma, dbeta = backward(dout, cache)

    xt, gt, bt = tensors(x, gamma, beta)
    out_t = F.batch_norm(xt, torch.tensor(rm), torch.tensor(rv), gt, bt, training=False)
    grads_t = torch.autograd.grad(out_t, (xt, gt, bt), torch.tensor(dout))
    close(out, out_t)
    for ours, theirs in zip((dx, dgamma, dbeta), grads_t, strict=True):
        close(ours, theirs)
    assert bn_param["running_mean"] is rm and bn_param["running_var"] is rv


def test_batchnorm_default_running_stats_start_at_zero(rng):
    x, gamma, beta, _ = bn_inputs(rng, (5, 3))
    bn_param = {"mode": "train"}
    batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * x.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(bn_param["running_var"], 0.1 * x.var(axis=0), rtol=1e-14)


def test_batchnorm_does_not_mutate_inputs(rng):
    x, gamma, beta, dout = bn_inputs(rng, (5, 3))
    rm, rv = rng.normal(size=3), rng.uniform(1, 2, 3)
    saved = [a.copy() for a in (x, gamma, beta, dout, rm, rv)]
    bn_param = {"mode": "train", "running_mean": rm, "running_var": rv}
    _, cache = batchnorm_forward(x, gamma, beta, bn_param)
    batchnorm_backward(dout, cache)
    batchnorm_backward_alt(dout, cache)
    for before, after in zip(saved, (x, gamma, beta, dout, rm, rv), strict=True):
        np.testing.assert_array_equal(before, after)
    assert bn_param["running_mean"] is not rm and bn_param["running_var"] is not rv
    assert set(bn_param) == {"mode", "running_mean", "running_var"}


# --------------------------------------------------------------------------------------------
# spatial batchnorm against PyTorch
# --------------------------------------------------------------------------------------------


def test_spatial_batchnorm_matches_torch_including_running_stats(rng):
    shape = (3, 4, 5, 2)
    n, c, h, w = shape
    x, gamma, beta, dout = bn_inputs(rng, shape)
    bn_param = {"mode": "train", "momentum": 0.7}
    out, cache = spatial_batchnorm_forward(x, gamma, beta, bn_param)
    dx, dgamma, dbeta = spatial_batchnorm_backward(dout, cache)

    xt, gt, bt = tensors(x, gamma, beta)
    trm, trv = torch.zeros(c, dtype=torch.float64), torch.zeros(c, dtype=torch.float64)
    out_t = F.batch_norm(xt, trm, trv, gt, bt, training=True, momentum=0.3)
    grads_t = torch.autograd.grad(out_t, (xt, gt, bt), torch.tensor(dout))
    close(out, out_t)
    for ours, theirs in zip((dx, dgamma, dbeta), grads_t, strict=True):
        close(ours, theirs)
    close(bn_param["running_mean"], trm)
    m = n * h * w
    close(bn_param["running_var"], trv.numpy() * (m - 1) / m)
    assert out.flags.c_contiguous and dx.flags.c_contiguous

    bn_param["mode"] = "test"
    out, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)
    rm, rv = torch.tensor(bn_param["running_mean"]), torch.tensor(bn_param["running_var"])
    close(out, F.batch_norm(xt, rm, rv, gt, bt, training=False))


# --------------------------------------------------------------------------------------------
# the seeds' statistics checks
# --------------------------------------------------------------------------------------------


def test_spatial_batchnorm_train_statistics_as_in_seed(rng):
    x = 4 * rng.normal(size=(2, 3, 4, 5)) + 10
    out, _ = spatial_batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    # var / (var + eps) with var ~ 16 and eps = 1e-5: stds just below one.
    var = x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), np.sqrt(var / (var + 1e-5)), rtol=1e-12)
    out, _ = spatial_batchnorm_forward(
        x, np.asarray([3, 4, 5]), np.asarray([6, 7, 8]), {"mode": "train"}
    )
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), [6, 7, 8], rtol=1e-12)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), [3, 4, 5], rtol=1e-6)


def test_spatial_batchnorm_test_mode_after_warm_up_as_in_seed(rng):
    n, c, h, w = 10, 4, 11, 12
    bn_param = {"mode": "train"}
    gamma, beta = np.ones(c), np.zeros(c)
    for _ in range(50):
        spatial_batchnorm_forward(2.3 * rng.normal(size=(n, c, h, w)) + 13, gamma, beta, bn_param)
    bn_param["mode"] = "test"
    out, _ = spatial_batchnorm_forward(
        2.3 * rng.normal(size=(n, c, h, w)) + 13, gamma, beta, bn_param
    )
    # After 50 updates with momentum 0.9 the zero start has decayed to 0.9**50 ~ 0.5 %; the
    # seed prints means within 0.08 of 0 and stds within 0.04 of 1.
    assert np.all(np.abs(out.mean(axis=(0, 2, 3))) < 0.15)
    assert np.all(np.abs(out.std(axis=(0, 2, 3)) - 1) < 0.1)


def test_spatial_groupnorm_statistics_as_in_seed(rng):
    n, c, g = 2, 6, 2
    x = 4 * rng.normal(size=(n, c, 4, 5)) + 10
    out, _ = spatial_groupnorm_forward(x, np.ones((1, c, 1, 1)), np.zeros((1, c, 1, 1)), g, {})
    assert out.shape == x.shape
    groups = out.reshape(n * g, -1)
    np.testing.assert_allclose(groups.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(groups.std(axis=1), 1, atol=1e-5)


# --------------------------------------------------------------------------------------------
# dtypes
# --------------------------------------------------------------------------------------------


def run_all_norms(x4: np.ndarray) -> list[np.ndarray]:
    """Forward and backward of every norm op on x4 (N, C, H, W) and its (N, C*H*W) view."""
    c = x4.shape[1]
    x2 = x4.reshape(x4.shape[0], -1)
    d = x2.shape[1]
    ones_c, ones_d = np.ones(c, x4.dtype), np.ones(d, x4.dtype)
    ones_g = np.ones((1, c, 1, 1), x4.dtype)
    arrays = []
    for mode in ("train", "test"):
        param = {"mode": mode}
        out, cache = batchnorm_forward(x2, ones_d, ones_d, param)
        arrays += [out, *batchnorm_backward(out, cache), *batchnorm_backward_alt(out, cache)]
        if mode == "train":
            arrays += [param["running_mean"], param["running_var"]]
        param = {"mode": mode}
        out, cache = spatial_batchnorm_forward(x4, ones_c, ones_c, param)
        arrays += [out, *spatial_batchnorm_backward(out, cache)]
    out, cache = layernorm_forward(x2, ones_d, ones_d, {})
    arrays += [out, *layernorm_backward(out, cache)]
    out, cache = spatial_groupnorm_forward(x4, ones_g, ones_g, 2, {})
    arrays += [out, *spatial_groupnorm_backward(out, cache)]
    return arrays


def test_float32_stays_float32(rng):
    x = rng.normal(size=(3, 4, 2, 2)).astype(np.float32)
    arrays = run_all_norms(x)
    assert [a.dtype for a in arrays] == [np.float32] * len(arrays)


def test_float32_test_mode_with_float64_running_stats_stays_float32(rng):
    x = rng.normal(size=(3, 4)).astype(np.float32)
    ones = np.ones(4, np.float32)
    param = {"mode": "test", "running_mean": np.zeros(4), "running_var": np.ones(4)}
    assert batchnorm_forward(x, ones, ones, param)[0].dtype == np.float32
