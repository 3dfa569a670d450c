"""The sparse autoencoder model (cnnlab.autoencoder): its trainers, encoding and persistence.

The cost itself is checked in tests/functional/test_sparse_autoencoder.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from cnnlab.autoencoder import SparseAutoencoder, train_lbfgs
from cnnlab.functional.sparse_autoencoder import flat_cost

LIN, LHID = 9, 4


def test_fit_rejects_an_unknown_optimizer(rng):
    data = rng.uniform(0.1, 0.9, (13, LIN))
    with pytest.raises(ValueError, match=r"SparseAutoencoder\.fit: optimizer"):
        SparseAutoencoder(LIN, LHID).fit(data, optimizer="newton")


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
