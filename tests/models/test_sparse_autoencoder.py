"""Sparse autoencoder cost, gradients, trainers and persistence (cnnlab.models.sparse_autoencoder).

Oracles: central differences in float64, PyTorch autograd in float64 on the same weights, and
the defining formula of each term.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.special import expit
from threadpoolctl import threadpool_info, threadpool_limits

from cnnlab.gradcheck import eval_numerical_gradient
from cnnlab.models.sparse_autoencoder import (
    SparseAutoencoder,
    ae_cost,
    flat_cost,
    init_weights,
    pack,
    sigmoid,
    train_lbfgs,
    unpack,
)

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
    with pytest.raises(ValueError, match=r"SparseAutoencoder\.fit: optimizer"):
        SparseAutoencoder(LIN, LHID).fit(data, optimizer="newton")


def test_init_weights_range_and_seed():
    W1, W2, b1, b2 = init_weights(30, 10, seed=1)
    w0 = np.sqrt(6 / 40)
    assert W1.shape == (30, 10) and W2.shape == (10, 30) and b1.shape == (10,)
    for w in (W1, W2, b1, b2):
        assert np.abs(w).max() <= w0 and np.abs(w).max() > 0.9 * w0
    np.testing.assert_array_equal(W1, init_weights(30, 10, seed=1)[0])
    assert not np.array_equal(W1, init_weights(30, 10, seed=2)[0])


@pytest.mark.parametrize(
    ("optimizer", "iters", "lr"), [("lbfgs", 30, None), ("gd", 60, 0.35), ("adam", 60, 1e-2)]
)
def test_training_lowers_the_cost(rng, optimizer, iters, lr):
    data = rng.uniform(0.1, 0.9, (200, 25))
    model = SparseAutoencoder(25, 8, lam=1e-4, beta=0.5, rho=0.1, seed=0)
    before = model.cost(data)
    seen = []
    model.fit(data, optimizer=optimizer, iters=iters, lr=lr, callback=lambda it, c: seen.append(it))
    after = model.cost(data)
    assert after < 0.8 * before
    h = model.cost_history
    assert h[0] == pytest.approx(before, rel=1e-14) and h[-1] == pytest.approx(after, rel=1e-14)
    assert seen == list(range(len(h) - 1))
    assert model.fit_info["final_cost"] == h[-1] and model.fit_info["iterations"] == len(h) - 1


def test_lbfgs_runs_scipys_blas_on_one_thread_and_the_cost_on_all(rng):
    def blas_threads():
        return sorted(
            {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}
        )

    data = rng.uniform(0.1, 0.9, (50, 16))
    model = SparseAutoencoder(16, 4, seed=0)
    seen_in_cost, seen_between = [], []

    def cost(theta, rows=None):
        seen_in_cost.append(blas_threads())
        return flat_cost(theta, data, model.params)

    with threadpool_limits(2, user_api="blas"):
        train_lbfgs(
            cost, model.theta, 5, callback=lambda it, c: seen_between.append(blas_threads())
        )
        after = blas_threads()
    assert seen_in_cost and all(t == [2] for t in seen_in_cost)
    assert seen_between and all(t == [1] for t in seen_between)
    assert after == [2]


def test_minibatch_adam_is_seeded_and_lowers_the_cost(rng):
    data = rng.uniform(0.1, 0.9, (120, 16))
    runs = [
        SparseAutoencoder(16, 5, beta=0.3, rho=0.1, seed=3).fit(
            data, optimizer="adam", iters=15, lr=1e-2, batch_size=32
        )
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0].theta, runs[1].theta)
    assert runs[0].cost_history[-1] < 0.8 * runs[0].cost_history[0]
    assert runs[0].fit_info["function_evaluations"] == 1 + 15 * (4 + 1)


def test_encode_decode_and_save_load_round_trip(tmp_path, rng):
    data = rng.uniform(0.1, 0.9, (30, 16))
    model = SparseAutoencoder(16, 5, lam=2e-3, beta=0.2, rho=0.07, seed=4)
    model.fit(data, iters=5)
    codes = model.encode(data)
    assert codes.shape == (30, 5) and np.all((codes > 0) & (codes < 1))
    np.testing.assert_array_equal(model.reconstruct(data), model.decode(codes))
    path = tmp_path / "ae.npz"
    model.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["ae.npz"]  # no temporary file left
    loaded = SparseAutoencoder.load(path)
    assert loaded.params == model.params
    np.testing.assert_array_equal(loaded.theta, model.theta)
    assert loaded.cost_history == model.cost_history
    np.testing.assert_array_equal(loaded.reconstruct(data), model.reconstruct(data))


def test_hidden_filters_are_the_input_weights_as_square_images():
    model = SparseAutoencoder(12, 3, seed=0)
    with pytest.raises(ValueError, match=r"hidden_filters: Lin = 12 .*not a square"):
        _ = model.hidden_filters
    model = SparseAutoencoder(16, 3, seed=0)
    f = model.hidden_filters
    assert f.shape == (3, 4, 4)
    np.testing.assert_array_equal(f[1, 2, 3], model.W1[2 * 4 + 3, 1])
