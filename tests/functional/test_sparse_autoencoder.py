"""The sparse-autoencoder cost and its gradients (cnnlab.functional.sparse_autoencoder).

Oracles: central differences in float64, PyTorch autograd in float64 on the same weights, and
the defining formula of each term.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.special import expit

from cnnlab.functional.sparse_autoencoder import (
    ae_cost,
    flat_cost,
    init_weights,
    pack,
    sigmoid,
    unpack,
)
from cnnlab.gradcheck import eval_numerical_gradient

LIN, LHID, N = 9, 4, 13
PARAMS = (LIN, LHID, 0.07, 0.6, 0.15)  # non-trivial lambda, beta; rho away from 0.5


@pytest.fixture
def problem(rng):
    """Data in [0.1, 0.9] (N, Lin) and random weights (W1, W2, b1, b2)."""
    return rng.uniform(0.1, 0.9, (N, LIN)), init_weights(LIN, LHID, seed=5)


def norm_rel_error(a, b) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b)))


def test_gradient_matches_central_differences(problem):
    data, weights = problem
    theta = pack(weights)
    _, grad = flat_cost(theta, data, PARAMS)
    num = eval_numerical_gradient(
        lambda t: flat_cost(t, data, PARAMS)[0], theta, verbose=False, h=1e-5
    )
    assert norm_rel_error(grad, num) < 1e-8
    # entry by entry too, on the entries that are not tiny
    big = np.abs(num) > 1e-3
    assert big.sum() > 0.8 * num.size
    assert np.max(np.abs(grad - num)[big] / np.abs(num)[big]) < 1e-7


def torch_cost(weights, data, params):
    """The cost written directly from its formula in PyTorch (float64) and its autograd."""
    _, _, lam, beta, rho = params
    W1, W2, b1, b2 = (torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in weights)
    d = torch.tensor(data, dtype=torch.float64)
    h = torch.sigmoid(d @ W1 + b1)
    o = torch.sigmoid(h @ W2 + b2)
    r = h.mean(dim=0)
    kl = rho * torch.log(rho / r) + (1 - rho) * torch.log((1 - rho) / (1 - r))
    J = (
        ((d - o) ** 2).sum() / (2 * d.shape[0])
        + lam / 2 * ((W1**2).sum() + (W2**2).sum())
        + beta * kl.sum()
    )
    J.backward()
    return J.item(), [w.grad.numpy() for w in (W1, W2, b1, b2)]


def test_matches_pytorch_autograd(rng):
    data = rng.uniform(0.1, 0.9, (40, 16))
    weights = init_weights(16, 6, seed=9)
    params = (16, 6, 3e-3, 3.0, 0.05)
    J, grads = ae_cost(weights, data, params)
    J_t, grads_t = torch_cost(weights, data, params)
    assert abs(J - J_t) <= 1e-12 * abs(J_t)
    for g, g_t in zip(grads, grads_t, strict=True):
        assert g.shape == g_t.shape
        assert np.max(np.abs(g - g_t)) <= 1e-10 * np.max(np.abs(g_t))


def test_weight_decay_gradient_is_lambda_w_not_over_n(problem):
    """The seed divided lambda W by N; the gradient of lambda/2 ||W||^2 is lambda W."""
    data, weights = problem
    J0, g0 = ae_cost(weights, data, (*PARAMS[:2], 0.0, *PARAMS[3:]))
    J1, g1 = ae_cost(weights, data, PARAMS)
    lam = PARAMS[2]
    W1, W2 = weights[:2]
    assert J1 - J0 == pytest.approx(lam / 2 * (np.sum(W1**2) + np.sum(W2**2)), rel=1e-12)
    np.testing.assert_allclose(g1[0] - g0[0], lam * W1, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(g1[1] - g0[1], lam * W2, rtol=1e-9, atol=1e-14)
    np.testing.assert_array_equal(g1[2], g0[2])
    np.testing.assert_array_equal(g1[3], g0[3])


def test_sparsity_term_is_kl_of_mean_activation(problem):
    data, weights = problem
    lin, lhid, _, beta, rho = PARAMS
    J0, _ = ae_cost(weights, data, (lin, lhid, 0.0, 0.0, rho))
    J1, _ = ae_cost(weights, data, (lin, lhid, 0.0, beta, rho))
    W1, _, b1, _ = weights
    r = np.mean(1 / (1 + np.exp(-(data @ W1 + b1))), axis=0)
    kl = rho * np.log(rho / r) + (1 - rho) * np.log((1 - rho) / (1 - r))
    assert J1 - J0 == pytest.approx(beta * kl.sum(), rel=1e-12)


def test_sigmoid_agrees_with_expit_and_does_not_overflow(rng):
    x = np.concatenate([rng.normal(0, 10, 1000), [-1000.0, -745.0, -40.0, 0.0, 40.0, 1000.0]])
    ref = expit(x)
    got = sigmoid(x)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, ref, rtol=1e-15, atol=0)
    buf = x.copy()
    assert sigmoid(buf, out=buf) is buf
    np.testing.assert_array_equal(buf, got)


def test_weight_structures_and_packing(problem):
    data, (W1, W2, b1, b2) = problem
    J, grads = ae_cost((W1, W2, b1, b2), data, PARAMS)
    # the seed's row-vector biases (1, L) and a dict give the same numbers, in their own shapes
    J_row, grads_row = ae_cost([W1, W2, b1[None, :], b2[None, :]], data, PARAMS)
    assert J_row == J
    assert grads_row[2].shape == (1, LHID) and grads_row[3].shape == (1, LIN)
    keys = dict(zip(("Lin", "Lhid", "lambda", "beta", "rho"), PARAMS, strict=True))
    J_dict, grads_dict = ae_cost({"W1": W1, "W2": W2, "b1": b1, "b2": b2}, data, keys)
    assert J_dict == J and set(grads_dict) == {"W1", "W2", "b1", "b2"}
    theta = pack((W1, W2, b1, b2))
    assert theta.shape == (2 * LIN * LHID + LHID + LIN,)
    for a, b in zip(unpack(theta, LIN, LHID), (W1, W2, b1, b2), strict=True):
        np.testing.assert_array_equal(a, b)
    J_flat, g_flat = flat_cost(theta, data, PARAMS)
    assert J_flat == J
    np.testing.assert_array_equal(g_flat, pack(grads))


def test_bad_input_raises(problem):
    data, weights = problem
    with pytest.raises(ValueError, match=r"ae_cost: data must be \(N, Lin\) = \(N, 9\)"):
        ae_cost(weights, data[:, :5], PARAMS)
    with pytest.raises(ValueError, match=r"ae_cost: W2 has shape \(4, 8\), expected \(4, 9\)"):
        ae_cost((weights[0], weights[1][:, :8], *weights[2:]), data, PARAMS)
    with pytest.raises(ValueError, match="ae_cost: the sparsity target rho"):
        ae_cost(weights, data, (LIN, LHID, 0.1, 1.0, 1.5))
    with pytest.raises(ValueError, match=r"unpack: theta has shape \(5,\)"):
        unpack(np.zeros(5), LIN, LHID)


def test_init_weights_range_and_seed():
    W1, W2, b1, b2 = init_weights(30, 10, seed=1)
    w0 = np.sqrt(6 / 40)
    assert W1.shape == (30, 10) and W2.shape == (10, 30) and b1.shape == (10,)
    for w in (W1, W2, b1, b2):
        assert np.abs(w).max() <= w0 and np.abs(w).max() > 0.9 * w0
    np.testing.assert_array_equal(W1, init_weights(30, 10, seed=1)[0])
    assert not np.array_equal(W1, init_weights(30, 10, seed=2)[0])
