"""ThreeLayerConvNet: the seed's signature, parameter shapes, sanity checks and overfitting."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from cnnlab.compat.cs231n.classifiers.cnn import ThreeLayerConvNet


def test_signature_and_defaults_are_the_seeds():
    params = inspect.signature(ThreeLayerConvNet).parameters
    defaults = {k: p.default for k, p in params.items()}
    assert list(defaults)[:8] == [
        "input_dim",
        "num_filters",
        "filter_size",
        "hidden_dim",
        "num_classes",
        "weight_scale",
        "reg",
        "dtype",
    ]
    assert defaults["input_dim"] == (3, 32, 32)
    assert (defaults["num_filters"], defaults["filter_size"], defaults["hidden_dim"]) == (
        32,
        7,
        100,
    )
    assert (defaults["num_classes"], defaults["weight_scale"], defaults["reg"]) == (10, 1e-3, 0.0)
    assert defaults["dtype"] is np.float32


def test_param_names_shapes_dtype_and_init():
    model = ThreeLayerConvNet(seed=0)
    shapes = {k: v.shape for k, v in model.params.items()}
    assert shapes == {
        "W1": (32, 3, 7, 7),
        "b1": (32,),
        "W2": (32 * 16 * 16, 100),
        "b2": (100,),
        "W3": (100, 10),
        "b3": (10,),
    }
    assert all(v.dtype == np.float32 for v in model.params.values())
    for b in ("b1", "b2", "b3"):
        assert not model.params[b].any()
    # weight_scale * N(0, 1): 819200 entries of W2, std within 1 % of 1e-3
    assert abs(model.params["W2"].std() / 1e-3 - 1) < 0.01


def test_initial_loss_is_log_10_and_grows_with_regularisation():
    """The seed's sanity check: N = 50 random images, loss ~ log(10); reg = 0.5 adds
    0.5 * reg * sum(W^2) (the seed prints 2.5092 against log(10) = 2.3026)."""
    rng = np.random.default_rng(231)
    model = ThreeLayerConvNet(seed=0)
    X = rng.standard_normal((50, 3, 32, 32))
    y = rng.integers(10, size=50)
    loss, grads = model.loss(X, y)
    # with weight_scale 1e-3 the scores are ~1e-5, so the softmax is uniform to ~1e-5
    assert abs(loss - np.log(10)) < 1e-3
    assert set(grads) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    model.reg = 0.5
    loss_reg, _ = model.loss(X, y)
    weights = sum(
        float(np.sum(model.params[k].astype(np.float64) ** 2)) for k in ("W1", "W2", "W3")
    )
    assert loss_reg == pytest.approx(loss + 0.25 * weights, rel=1e-5)
    assert 2.45 < loss_reg < 2.57  # 0.25 * 1e-6 * (4704 + 819200 + 1000) ~ 0.206


def test_scores_in_test_mode_and_float32_throughout():
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=4, hidden_dim=5, seed=0)
    scores = model.loss(np.zeros((2, 3, 8, 8)))
    assert scores.shape == (2, 10) and scores.dtype == np.float32
    _, grads = model.loss(np.zeros((2, 3, 8, 8)), np.array([1, 2]))
    assert all(g.dtype == np.float32 for g in grads.values())


def test_rebinding_params_reaches_the_layers():
    """The CS231n Solver writes ``model.params[k] = next_w``; the net must then use next_w."""
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=4, hidden_dim=5, seed=0)
    X = np.ones((1, 3, 8, 8))
    model.params["b3"] = np.arange(10.0)
    model.params["W3"] = np.zeros((5, 10))
    np.testing.assert_array_equal(model.loss(X), np.arange(10.0)[None])


def test_overfits_a_small_fixed_dataset():
    """A few hundred Adam steps drive train accuracy on 60 fixed random images to >= 95 %."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3, 16, 16)).astype(np.float32)
    y = rng.integers(10, size=60)
    model = ThreeLayerConvNet(
        input_dim=(3, 16, 16),
        num_filters=8,
        filter_size=3,
        hidden_dim=64,
        weight_scale=1e-2,
        seed=0,
    )
    m = {k: np.zeros_like(v) for k, v in model.params.items()}
    v = {k: np.zeros_like(w) for k, w in model.params.items()}
    lr, b1, b2 = 1e-3, 0.9, 0.999
    first_loss = None
    for t in range(1, 201):
        batch = rng.choice(60, size=20, replace=False)
        loss, grads = model.loss(X[batch], y[batch])
        first_loss = loss if first_loss is None else first_loss
        for k, w in model.params.items():
            m[k] = b1 * m[k] + (1 - b1) * grads[k]
            v[k] = b2 * v[k] + (1 - b2) * grads[k] ** 2
            w -= lr * (m[k] / (1 - b1**t)) / (np.sqrt(v[k] / (1 - b2**t)) + 1e-8)
    accuracy = np.mean(model.predict(X) == y)
    assert accuracy >= 0.95, (accuracy, first_loss, loss)
