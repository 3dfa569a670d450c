"""Affine layer and element-wise activations: PyTorch, numerical gradients, dtype, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.functional.activation import (
    elu_backward,
    elu_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from cnnlab.functional.linear import affine_backward, affine_forward
from cnnlab.gradcheck import eval_numerical_gradient_array, rel_error

RTOL, ATOL = 1e-10, 1e-12  # float64 against float64 PyTorch
NUM_TOL = 1e-7  # central differences, h=1e-5, float64

# name -> (forward(x), backward, the same function in PyTorch)
ACTIVATIONS = {
    "relu": (relu_forward, relu_backward, torch.relu),
    "leaky_relu": (
        lambda x: leaky_relu_forward(x, negative_slope=0.2),
        leaky_relu_backward,
        lambda t: F.leaky_relu(t, negative_slope=0.2),
    ),
    "leaky_relu_default": (leaky_relu_forward, leaky_relu_backward, F.leaky_relu),
    "elu": (lambda x: elu_forward(x, alpha=1.3), elu_backward, lambda t: F.elu(t, alpha=1.3)),
    "elu_default": (elu_forward, elu_backward, F.elu),
    "sigmoid": (sigmoid_forward, sigmoid_backward, torch.sigmoid),
    "tanh": (tanh_forward, tanh_backward, torch.tanh),
}


def close(ours: np.ndarray, theirs: torch.Tensor) -> None:
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=RTOL, atol=ATOL)


def test_affine_matches_torch(rng):
    x = rng.normal(size=(3, 4, 5))
    w = rng.normal(size=(20, 6))
    b = rng.normal(size=6)
    dout = rng.normal(size=(3, 6))
    out, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(dout, cache)

    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out_t = F.linear(xt.reshape(3, 20), wt.T, bt)
    grads = torch.autograd.grad(out_t, (xt, wt, bt), torch.tensor(dout))
    close(out, out_t)
    assert dx.shape == x.shape
    for ours, theirs in zip((dx, dw, db), grads, strict=True):
        close(ours, theirs)


def test_affine_numerical_gradient(rng):
    x, w, b = rng.normal(size=(4, 2, 3)), rng.normal(size=(6, 5)), rng.normal(size=5)
    dout = rng.normal(size=(4, 5))
    _, cache = affine_forward(x, w, b)
    analytic = affine_backward(dout, cache)
    numeric = [
        eval_numerical_gradient_array(lambda _: affine_forward(x, w, b)[0], a, dout)
        for a in (x, w, b)
    ]
    for n, a in zip(numeric, analytic, strict=True):
        assert rel_error(n, a) < NUM_TOL


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_matches_torch(rng, name):
    forward, backward, torch_fn = ACTIVATIONS[name]
    x = rng.normal(scale=3.0, size=(4, 3, 5))
    x[0, 0, :3] = 0.0  # the kink: gradient convention must match PyTorch's
    dout = rng.normal(size=x.shape)
    out, cache = forward(x)
    dx = backward(dout, cache)

    xt = torch.tensor(x, requires_grad=True)
    out_t = torch_fn(xt)
    (dx_t,) = torch.autograd.grad(out_t, (xt,), torch.tensor(dout))
    close(out, out_t)
    close(dx, dx_t)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_numerical_gradient(rng, name):
    forward, backward, _ = ACTIVATIONS[name]
    x = rng.normal(size=(3, 7))
    x[np.abs(x) < 1e-3] = 0.5  # stay away from the kink, where differences straddle it
    dout = rng.normal(size=x.shape)
    _, cache = forward(x)
    dx_num = eval_numerical_gradient_array(lambda a: forward(a)[0], x, dout)
    assert rel_error(dx_num, backward(dout, cache)) < NUM_TOL


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
    forward, backward, _ = ACTIVATIONS[name]
    x = rng.normal(size=(2, 3)).astype(np.float32)
    out, cache = forward(x)
    dx = backward(np.ones_like(x), cache)
    assert out.dtype == np.float32 and dx.dtype == np.float32


def test_affine_keeps_float32(rng):
    x = rng.normal(size=(2, 3)).astype(np.float32)
    w = rng.normal(size=(3, 4)).astype(np.float32)
    b = np.zeros(4, np.float32)
    out, cache = affine_forward(x, w, b)
    grads = affine_backward(np.ones_like(out), cache)
    assert [a.dtype for a in (out, *grads)] == [np.float32] * 4


def test_affine_errors(rng):
    x = rng.normal(size=(2, 3, 4))
    with pytest.raises(
        ValueError,
        match=r"affine: input flattens to 12 features per sample but w has shape \(10, 5\)",
    ):
        affine_forward(x, np.ones((10, 5)), np.ones(5))
    with pytest.raises(ValueError, match=r"affine: w must be 2-D \(D, M\), got shape \(12,\)"):
        affine_forward(x, np.ones(12), np.ones(1))
    with pytest.raises(ValueError, match=r"affine: b must have shape \(5,\), got \(4,\)"):
        affine_forward(x, np.ones((12, 5)), np.ones(4))
    with pytest.raises(ValueError, match=r"affine: x must be a floating-point array, got dtype"):
        affine_forward(np.ones((2, 12), dtype=np.int32), np.ones((12, 5)), np.ones(5))
    with pytest.raises(ValueError, match=r"affine: x must have a batch dimension, got shape \(\)"):
        affine_forward(np.float64(1.0) * np.ones(()), np.ones((1, 5)), np.ones(5))
    _, cache = affine_forward(x, np.ones((12, 5)), np.ones(5))
    with pytest.raises(ValueError, match=r"affine: dout must have shape \(2, 5\), got \(2, 4\)"):
        affine_backward(np.ones((2, 4)), cache)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "sigmoid", "tanh"])
def test_activation_errors(name):
    forward, backward, _ = ACTIVATIONS[name]
    with pytest.raises(ValueError, match=rf"{name}: x must be a floating-point array, got dtype"):
        forward(np.arange(3))
    _, cache = forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=rf"{name}: dout must have shape \(2, 3\), got \(3, 2\)"):
        backward(np.ones((3, 2)), cache)
