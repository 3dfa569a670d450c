"""cnnlab.torch.autoencoder: the sparse-autoencoder cost in torch against cnnlab's ae_cost."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.autoencoder import SparseAutoencoder
from cnnlab.functional.sparse_autoencoder import ae_cost, init_weights

torch = pytest.importorskip("torch")
from cnnlab.torch.autoencoder import torch_ae_cost, train_gd_torch  # noqa: E402


@pytest.mark.parametrize("lam, beta", [(5e-4, 0.01), (0.0, 0.0), (1e-3, 3.0)])
def test_cost_and_autograd_equal_the_hand_written_ones(rng, lam, beta):
    X = rng.uniform(0.1, 0.9, (30, 9))
    weights = init_weights(9, 4, rng)
    J, grads = ae_cost(weights, X, (9, 4, lam, beta, 0.05))
    tw = tuple(torch.tensor(w, requires_grad=True) for w in weights)
    tJ = torch_ae_cost(tw, torch.from_numpy(X), lam, beta, 0.05)
    assert float(tJ.detach()) == pytest.approx(J, rel=1e-12)
    for g, tg in zip(grads, torch.autograd.grad(tJ, tw), strict=True):
        np.testing.assert_allclose(g, tg.numpy(), rtol=1e-10, atol=1e-14)


def test_gradient_descent_follows_cnnlabs_steps(rng):
    X = rng.uniform(0.1, 0.9, (40, 16))
    model = SparseAutoencoder(16, 5, 5e-4, 0.01, 0.05, seed=3)
    start = model.theta.copy()
    model.fit(X, "gd", iters=15, lr=0.35)
    theta, history = train_gd_torch(start, X, model.params, 0.35, 15)
    assert len(history) == len(model.cost_history) == 16
    np.testing.assert_allclose(history, model.cost_history, rtol=1e-12)
    np.testing.assert_allclose(theta, model.theta, rtol=1e-10, atol=1e-13)


def test_bad_data_is_refused():
    with pytest.raises(ValueError, match="train_gd_torch"):
        train_gd_torch(
            np.zeros(2 * 16 * 5 + 21), np.zeros((3, 15)), (16, 5, 0.0, 0.0, 0.05), 0.1, 1
        )
