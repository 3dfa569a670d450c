"""Sandwich layers: PyTorch compositions, numerical gradients, dtype."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.functional.sandwich import (
    affine_relu_backward,
    affine_relu_forward,
    conv_bn_relu_backward,
    conv_bn_relu_forward,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from cnnlab.gradcheck import eval_numerical_gradient_array, rel_error

RTOL, ATOL = 1e-10, 1e-12  # float64 against float64 PyTorch
# Central differences, h=1e-5, float64; the seeds print up to ~4e-8 for these chains
# ("relative errors should be around e-8 or less").
NUM_TOL = 1e-7
# Through batch normalisation the seeds expect up to 1e-6 ("1e-12~1e-06"; spatial batchnorm dx
# prints 3.1e-7): the normalisation divides by a per-channel std estimated from few values.
BN_NUM_TOL = 1e-6

CONV = {"stride": 1, "pad": 1}
POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}


def close(ours: np.ndarray, theirs: torch.Tensor) -> None:
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=RTOL, atol=ATOL)


def torch_grads(fn, arrays, dout):
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    return out, torch.autograd.grad(out, tensors, torch.tensor(dout))


def numerical_errors(forward, arrays, analytic, dout):
    """rel_error between each analytic gradient and central differences of ``forward()``."""
    return [
        rel_error(eval_numerical_gradient_array(lambda _: forward(), a, dout), g)
        for a, g in zip(arrays, analytic, strict=True)
    ]


def conv_inputs(rng, x_shape, f=3, k=3):
    x = rng.normal(size=x_shape)
    w = rng.normal(size=(f, x_shape[1], k, k))
    b = rng.normal(size=f)
    return x, w, b


def test_affine_relu(rng):
    x, w, b = rng.normal(size=(4, 2, 3)), rng.normal(size=(6, 5)), rng.normal(size=5)
    dout = rng.normal(size=(4, 5))
    out, cache = affine_relu_forward(x, w, b)
    grads = affine_relu_backward(dout, cache)
    out_t, grads_t = torch_grads(lambda x, w, b: F.relu(x.reshape(4, -1) @ w + b), (x, w, b), dout)
    close(out, out_t)
    for g, gt in zip(grads, grads_t, strict=True):
        close(g, gt)
    errors = numerical_errors(lambda: affine_relu_forward(x, w, b)[0], (x, w, b), grads, dout)
    assert max(errors) < NUM_TOL, errors


def test_conv_relu(rng):
    x, w, b = conv_inputs(rng, (2, 3, 8, 8))
    dout = rng.normal(size=(2, 3, 8, 8))
    out, cache = conv_relu_forward(x, w, b, CONV)
    grads = conv_relu_backward(dout, cache)
    out_t, grads_t = torch_grads(
        lambda x, w, b: F.relu(F.conv2d(x, w, b, padding=1)), (x, w, b), dout
    )
    close(out, out_t)
    for g, gt in zip(grads, grads_t, strict=True):
        close(g, gt)
    errors = numerical_errors(lambda: conv_relu_forward(x, w, b, CONV)[0], (x, w, b), grads, dout)
    assert max(errors) < NUM_TOL, errors


def test_conv_relu_pool(rng):
    x, w, b = conv_inputs(rng, (2, 3, 16, 16))
    dout = rng.normal(size=(2, 3, 8, 8))
    out, cache = conv_relu_pool_forward(x, w, b, CONV, POOL)
    grads = conv_relu_pool_backward(dout, cache)
    out_t, grads_t = torch_grads(
        lambda x, w, b: F.max_pool2d(F.relu(F.conv2d(x, w, b, padding=1)), 2, 2), (x, w, b), dout
    )
    close(out, out_t)
    for g, gt in zip(grads, grads_t, strict=True):
        close(g, gt)
    errors = numerical_errors(
        lambda: conv_relu_pool_forward(x, w, b, CONV, POOL)[0], (x, w, b), grads, dout
    )
    assert max(errors) < NUM_TOL, errors


def test_conv_bn_relu(rng):
    x, w, b = conv_inputs(rng, (3, 2, 6, 5), f=4)
    gamma, beta = rng.normal(size=4), rng.normal(size=4)
    dout = rng.normal(size=(3, 4, 6, 5))
    bn_param = {"mode": "train", "momentum": 0.9}
    out, cache = conv_bn_relu_forward(x, w, b, gamma, beta, CONV, bn_param)
    grads = conv_bn_relu_backward(dout, cache)
    assert bn_param["running_mean"].shape == (4,)

    def torch_fn(x, w, b, gamma, beta):
        a = F.conv2d(x, w, b, padding=1)
        return F.relu(F.batch_norm(a, None, None, gamma, beta, training=True, eps=1e-5))

    out_t, grads_t = torch_grads(torch_fn, (x, w, b, gamma, beta), dout)
    close(out, out_t)
    for g, gt in zip(grads, grads_t, strict=True):
        close(g, gt)
    # Batchnorm subtracts each channel's mean, so the conv bias has zero gradient: only
    # rounding noise, which the absolute tolerance covers above and a relative error cannot.
    dx, dw, db, dgamma, dbeta = grads
    assert np.abs(db).max() < 1e-12

    def forward():
        return conv_bn_relu_forward(x, w, b, gamma, beta, CONV, bn_param)[0]

    errors = numerical_errors(forward, (x, w, gamma, beta), (dx, dw, dgamma, dbeta), dout)
    assert max(errors) < BN_NUM_TOL, errors
    db_num = eval_numerical_gradient_array(lambda _: forward(), b, dout)
    assert np.abs(db_num).max() < 1e-8  # only rounding: ~1e-16 * |out| * size(out) / h


@pytest.mark.parametrize("which", ["affine_relu", "conv_relu", "conv_relu_pool", "conv_bn_relu"])
def test_float32_stays_float32(rng, which):
    f32 = np.float32
    x = rng.normal(size=(2, 3, 4, 4)).astype(f32)
    w = rng.normal(size=(2, 3, 3, 3)).astype(f32)
    b = np.zeros(2, f32)
    if which == "affine_relu":
        out, cache = affine_relu_forward(x, rng.normal(size=(48, 5)).astype(f32), np.zeros(5, f32))
        grads = affine_relu_backward(np.ones_like(out), cache)
    elif which == "conv_relu":
        out, cache = conv_relu_forward(x, w, b, CONV)
        grads = conv_relu_backward(np.ones_like(out), cache)
    elif which == "conv_relu_pool":
        out, cache = conv_relu_pool_forward(x, w, b, CONV, POOL)
        grads = conv_relu_pool_backward(np.ones_like(out), cache)
    else:
        ones = np.ones(2, f32)
        out, cache = conv_bn_relu_forward(x, w, b, ones, ones, CONV, {"mode": "train"})
        grads = conv_bn_relu_backward(np.ones_like(out), cache)
    assert [a.dtype for a in (out, *grads)] == [f32] * (1 + len(grads))
