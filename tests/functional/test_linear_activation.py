"""Affine layer and activations beyond the op table (cases.py): overflow, float32 stays float32."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.functional.activation import elu_forward, sigmoid_forward
from cnnlab.functional.linear import affine_backward, affine_forward

from .cases import OPS

ACTIVATIONS = ["relu", "leaky_relu", "elu", "sigmoid", "tanh"]


def test_sigmoid_and_elu_do_not_overflow():
    x = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out, _ = sigmoid_forward(x)
        elu_out, _ = elu_forward(x)
    expected = torch.sigmoid(torch.tensor(x)).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-15, atol=0)
    assert out[0] == 0.0 and out[-1] == 1.0
    np.testing.assert_array_equal(elu_out, F.elu(torch.tensor(x)).numpy())


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_keeps_float32(rng, name):
    op = OPS[name]
    x = rng.normal(size=(2, 3)).astype(np.float32)
    out, cache = op.forward(x)
    dx = op.backward(np.ones_like(x), cache)
    assert out.dtype == np.float32 and dx.dtype == np.float32


def test_affine_keeps_float32(rng):
    x = rng.normal(size=(2, 3)).astype(np.float32)
    w = rng.normal(size=(3, 4)).astype(np.float32)
    b = np.zeros(4, np.float32)
    out, cache = affine_forward(x, w, b)
    grads = affine_backward(np.ones_like(out), cache)
    assert [a.dtype for a in (out, *grads)] == [np.float32] * 4


def test_affine_backward_without_dx(rng):
    x = rng.standard_normal((4, 3, 2))
    w, b = rng.standard_normal((6, 5)), rng.standard_normal(5)
    out, cache = affine_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = affine_backward(dout, cache)
    assert dx.shape == x.shape
    assert affine_backward(dout, cache, need_dx=False)[0] is None
    np.testing.assert_array_equal(affine_backward(dout, cache, need_dx=False)[1], dw)
    np.testing.assert_array_equal(affine_backward(dout, cache, need_dx=False)[2], db)
