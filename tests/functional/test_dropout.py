"""Dropout beyond the op table (cases.py): the seeds' statistics, seeding, dtype."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.functional.dropout import dropout_backward, dropout_forward


@pytest.mark.parametrize("p", [0.25, 0.4, 0.7])
def test_train_mode_keeps_fraction_p_and_preserves_the_mean(rng, p):
    # The CS231n check: x ~ 10 + N(0, 1) with 500 x 500 entries.
    x = rng.normal(size=(500, 500)) + 10
    out, _ = dropout_forward(x, {"mode": "train", "p": p, "seed": 123})
    kept = out != 0
    # 250 000 Bernoulli(p) draws: the kept fraction's standard deviation is below 1e-3.
    assert abs(kept.mean() - p) < 5e-3
    # Kept units are scaled by 1 / p (inverted dropout), dropped ones are exactly zero.
    np.testing.assert_allclose(out[kept], x[kept] / p, rtol=1e-15)
    # Each output has variance E[x^2] / p - E[x]^2 <= 304, so the mean's std is below 0.035.
    assert abs(out.mean() - x.mean()) < 0.15


def test_test_mode_is_the_identity(rng):
    x = rng.normal(size=(4, 5))
    out, cache = dropout_forward(x, {"mode": "test", "p": 0.3})
    np.testing.assert_array_equal(out, x)
    dout = rng.normal(size=x.shape)
    np.testing.assert_array_equal(dropout_backward(dout, cache), dout)


def test_same_seed_same_mask_and_different_seeds_differ(rng):
    x = rng.normal(size=(20, 30))
    a, _ = dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 7})
    b, _ = dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 7})
    c, _ = dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 8})
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a != 0, c != 0)
    # The seed's mask is the one np.random.default_rng(seed) draws.
    keep = np.random.default_rng(7).random(x.shape) < 0.5
    np.testing.assert_array_equal(a != 0, keep)


def test_rng_generator_is_used_when_no_seed(rng):
    x = np.ones((10, 10))
    param = {"mode": "train", "p": 0.5, "rng": np.random.default_rng(3)}
    first, _ = dropout_forward(x, param)
    second, _ = dropout_forward(x, param)
    assert not np.array_equal(first, second)  # the generator advanced
    replay = np.random.default_rng(3)
    np.testing.assert_array_equal(first != 0, replay.random(x.shape) < 0.5)
    np.testing.assert_array_equal(second != 0, replay.random(x.shape) < 0.5)
    # A seed takes precedence over the generator.
    seeded, _ = dropout_forward(x, {**param, "seed": 7})
    np.testing.assert_array_equal(seeded != 0, np.random.default_rng(7).random(x.shape) < 0.5)


def test_p_one_keeps_everything(rng):
    x = rng.normal(size=(3, 4))
    out, _ = dropout_forward(x, {"mode": "train", "p": 1.0})
    np.testing.assert_array_equal(out, x)


def test_float32_stays_float32(rng):
    x = rng.normal(size=(3, 4)).astype(np.float32)
    out, cache = dropout_forward(x, {"mode": "train", "p": 0.3, "seed": 0})
    assert out.dtype == np.float32
    assert dropout_backward(np.ones_like(x), cache).dtype == np.float32
