"""Sandwich layers beyond the op table (cases.py): the conv bias under batchnorm, dtype."""

from __future__ import annotations

import numpy as np
import pytest

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

CONV = {"stride": 1, "pad": 1}
POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}


def test_conv_bn_relu_bias_gradient_vanishes(rng):
    """Batchnorm subtracts each channel's mean, so the conv bias cannot change the output: its
    gradient is rounding noise only (a relative error cannot show that, hence this test)."""
    x, w = rng.normal(size=(3, 2, 6, 5)), rng.normal(size=(4, 2, 3, 3))
    b, gamma, beta = rng.normal(size=4), rng.normal(size=4), rng.normal(size=4)
    out, cache = conv_bn_relu_forward(x, w, b, gamma, beta, CONV, {"mode": "train"})
    db = conv_bn_relu_backward(rng.normal(size=out.shape), cache)[2]
    assert np.abs(db).max() < 1e-12


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
