"""cnnlab.compat.cs231n: the seeds' import lines work and their notebook cells reproduce.

The cells below are the CS231n convolutional-network notebook's (seed 002, appendix B2), with
only the import lines changed and ``np.random.seed(231); np.random.randn`` replaced by the
identical stream ``np.random.RandomState(231).randn`` (so the global state is left alone).
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import cnnlab.functional.norm as norm
import cnnlab.gradcheck as gradcheck

EXPECTED = {
    "layers": [
        "affine_forward", "affine_backward", "relu_forward", "relu_backward",
        "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt",
        "layernorm_forward", "layernorm_backward", "dropout_forward", "dropout_backward",
        "conv_forward_naive", "conv_backward_naive",
        "max_pool_forward_naive", "max_pool_backward_naive",
        "avg_pool_forward_naive", "avg_pool_backward_naive",
        "spatial_batchnorm_forward", "spatial_batchnorm_backward",
        "spatial_groupnorm_forward", "spatial_groupnorm_backward",
        "softmax_loss", "svm_loss",
    ],
    "fast_layers": [
        "conv_forward_fast", "conv_backward_fast",
        "max_pool_forward_fast", "max_pool_backward_fast",
        "avg_pool_forward_fast", "avg_pool_backward_fast",
        "conv_forward_strides", "conv_backward_strides",
        "conv_forward_im2col", "conv_backward_im2col",
    ],
    "layer_utils": [
        "affine_relu_forward", "affine_relu_backward",
        "conv_relu_forward", "conv_relu_backward",
        "conv_relu_pool_forward", "conv_relu_pool_backward",
        "conv_bn_relu_forward", "conv_bn_relu_backward",
    ],
    "gradient_check": [
        "eval_numerical_gradient", "eval_numerical_gradient_array", "grad_check_sparse",
        "rel_error",
    ],
}  # fmt: skip


def star_import(module: str) -> dict:
    namespace: dict = {}
    exec(f"from cnnlab.compat.cs231n.{module} import *", namespace)
    return namespace


@pytest.mark.parametrize("module", EXPECTED)
def test_star_import_brings_every_name(module):
    namespace = star_import(module)
    missing = [name for name in EXPECTED[module] if name not in namespace]
    assert not missing
    assert all(callable(namespace[name]) for name in EXPECTED[module])
    # __all__ is exactly the documented surface (no helper leaks through the star import).
    assert sorted(importlib.import_module(f"cnnlab.compat.cs231n.{module}").__all__) == sorted(
        EXPECTED[module]
    )


def test_compat_names_are_the_cnnlab_functions():
    layers = star_import("layers")
    fast = star_import("fast_layers")
    checks = star_import("gradient_check")
    assert layers["spatial_groupnorm_forward"] is norm.spatial_groupnorm_forward
    assert layers["batchnorm_backward_alt"] is norm.batchnorm_backward_alt
    assert fast["conv_forward_strides"] is fast["conv_forward_fast"]
    assert checks["eval_numerical_gradient_array"] is gradcheck.eval_numerical_gradient_array


@pytest.fixture(scope="module")
def cs231n() -> dict:
    """The names a seed cell sees after its (rewritten) imports."""
    namespace: dict = {}
    for module in EXPECTED:
        namespace.update(star_import(module))
    return namespace


def test_seed_cell_conv_relu_pool(cs231n):
    c = cs231n
    rs = np.random.RandomState(231)
    x = rs.randn(2, 3, 16, 16)
    w = rs.randn(3, 3, 3, 3)
    b = rs.randn(3)
    dout = rs.randn(2, 3, 8, 8)
    conv_param = {"stride": 1, "pad": 1}
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}

    _, cache = c["conv_relu_pool_forward"](x, w, b, conv_param, pool_param)
    dx, dw, db = c["conv_relu_pool_backward"](dout, cache)

    def f(_):
        return c["conv_relu_pool_forward"](x, w, b, conv_param, pool_param)[0]

    dx_num = c["eval_numerical_gradient_array"](f, x, dout)
    dw_num = c["eval_numerical_gradient_array"](f, w, dout)
    db_num = c["eval_numerical_gradient_array"](f, b, dout)
    # Seed: "Relative errors should be around e-8 or less"; it prints 6.5e-09, 1.5e-08, 2.0e-09.
    errors = [c["rel_error"](dx_num, dx), c["rel_error"](dw_num, dw), c["rel_error"](db_num, db)]
    assert max(errors) < 1e-7, errors


def test_seed_cell_conv_relu(cs231n):
    c = cs231n
    rs = np.random.RandomState(231)
    x = rs.randn(2, 3, 8, 8)
    w = rs.randn(3, 3, 3, 3)
    b = rs.randn(3)
    dout = rs.randn(2, 3, 8, 8)
    conv_param = {"stride": 1, "pad": 1}

    _, cache = c["conv_relu_forward"](x, w, b, conv_param)
    dx, dw, db = c["conv_relu_backward"](dout, cache)

    def f(_):
        return c["conv_relu_forward"](x, w, b, conv_param)[0]

    nums = [c["eval_numerical_gradient_array"](f, a, dout) for a in (x, w, b)]
    # Seed prints 3.6e-09, 2.2e-10, 1.3e-10.
    errors = [c["rel_error"](n, a) for n, a in zip(nums, (dx, dw, db), strict=True)]
    assert max(errors) < 1e-7, errors


def test_seed_cell_spatial_batchnorm_forward(cs231n):
    c = cs231n
    rs = np.random.RandomState(231)
    N, C, H, W = 2, 3, 4, 5
    x = 4 * rs.randn(N, C, H, W) + 10
    # The seed's printed input statistics: the same data.
    np.testing.assert_allclose(
        x.mean(axis=(0, 2, 3)), [9.33463814, 8.90909116, 9.11056338], rtol=1e-8
    )

    bn_param = {"mode": "train"}
    out, _ = c["spatial_batchnorm_forward"](x, np.ones(C), np.zeros(C), bn_param)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-14)
    np.testing.assert_allclose(
        out.std(axis=(0, 2, 3)), [0.99999962, 0.99999951, 0.9999996], rtol=1e-8
    )
    gamma, beta = np.asarray([3, 4, 5]), np.asarray([6, 7, 8])
    out, _ = c["spatial_batchnorm_forward"](x, gamma, beta, bn_param)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), [6, 7, 8], rtol=1e-14)
    np.testing.assert_allclose(
        out.std(axis=(0, 2, 3)), [2.99999885, 3.99999804, 4.99999798], rtol=1e-8
    )


def test_seed_cell_spatial_batchnorm_test_time(cs231n):
    c = cs231n
    rs = np.random.RandomState(231)
    N, C, H, W = 10, 4, 11, 12
    bn_param = {"mode": "train"}
    gamma, beta = np.ones(C), np.zeros(C)
    for _ in range(50):
        x = 2.3 * rs.randn(N, C, H, W) + 13
        c["spatial_batchnorm_forward"](x, gamma, beta, bn_param)
    bn_param["mode"] = "test"
    x = 2.3 * rs.randn(N, C, H, W) + 13
    a_norm, _ = c["spatial_batchnorm_forward"](x, gamma, beta, bn_param)
    # The seed's printed numbers (8 digits): same data, same running-average rule.
    np.testing.assert_allclose(
        a_norm.mean(axis=(0, 2, 3)), [-0.08034406, 0.07562881, 0.05716371, 0.04378383], rtol=1e-6
    )
    np.testing.assert_allclose(
        a_norm.std(axis=(0, 2, 3)), [0.96718744, 1.0299714, 1.02887624, 1.00585577], rtol=1e-7
    )


def test_seed_cell_spatial_batchnorm_backward(cs231n):
    c = cs231n
    rs = np.random.RandomState(231)
    N, C, H, W = 2, 3, 4, 5
    x = 5 * rs.randn(N, C, H, W) + 12
    gamma = rs.randn(C)
    beta = rs.randn(C)
    dout = rs.randn(N, C, H, W)

    bn_param = {"mode": "train"}

    def f(_):
        return c["spatial_batchnorm_forward"](x, gamma, beta, bn_param)[0]

    nums = [c["eval_numerical_gradient_array"](f, a, dout) for a in (x, gamma, beta)]
    _, cache = c["spatial_batchnorm_forward"](x, gamma, beta, bn_param)
    grads = c["spatial_batchnorm_backward"](dout, cache)
    # Seed: "You should expect errors of magnitudes between 1e-12~1e-06"; prints 3.1e-07,
    # 7.1e-12, 3.3e-12.
    errors = [c["rel_error"](n, a) for n, a in zip(nums, grads, strict=True)]
    assert max(errors) < 1e-6, errors


def test_seed_cell_spatial_groupnorm_forward(cs231n):
    c = cs231n
    rs = np.random.RandomState(231)
    N, C, H, W = 2, 6, 4, 5
    G = 2
    x = 4 * rs.randn(N, C, H, W) + 10
    x_g = x.reshape((N * G, -1))
    np.testing.assert_allclose(
        x_g.std(axis=1), [3.67070958, 3.09892597, 4.27043622, 3.97521327], rtol=1e-8
    )
    gamma, beta = np.ones((1, C, 1, 1)), np.zeros((1, C, 1, 1))
    out, _ = c["spatial_groupnorm_forward"](x, gamma, beta, G, {"mode": "train"})
    out_g = out.reshape((N * G, -1))
    assert out.shape == (N, C, H, W)  # the seed's own run printed a mangled (1, 1, 1, 2, 6, 4, 5)
    np.testing.assert_allclose(out_g.mean(axis=1), 0, atol=1e-14)
    np.testing.assert_allclose(
        out_g.std(axis=1), [0.99999963, 0.99999948, 0.99999973, 0.99999968], rtol=1e-8
    )


def test_seed_cell_spatial_groupnorm_backward(cs231n):
    c = cs231n
    rs = np.random.RandomState(231)
    N, C, H, W = 2, 6, 4, 5
    G = 2
    x = 5 * rs.randn(N, C, H, W) + 12
    gamma = rs.randn(1, C, 1, 1)
    beta = rs.randn(1, C, 1, 1)
    dout = rs.randn(N, C, H, W)

    gn_param: dict = {}

    def f(_):
        return c["spatial_groupnorm_forward"](x, gamma, beta, G, gn_param)[0]

    nums = [c["eval_numerical_gradient_array"](f, a, dout) for a in (x, gamma, beta)]
    _, cache = c["spatial_groupnorm_forward"](x, gamma, beta, G, gn_param)
    grads = c["spatial_groupnorm_backward"](dout, cache)
    # Seed: "You should expect errors of magnitudes between 1e-12~1e-07"; prints 6.3e-08,
    # 1.1e-11, 3.8e-12.
    errors = [c["rel_error"](n, a) for n, a in zip(nums, grads, strict=True)]
    assert max(errors) < 1e-7, errors
