"""Initialisers: the variances and bounds their definitions promise."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.nn import init


def test_fans_of_linear_and_conv_layouts():
    assert init.fans((30, 7)) == (30, 7)
    assert init.fans((8, 3, 5, 5)) == (75, 200)
    with pytest.raises(ValueError, match=r"\(2, 3, 4\)"):
        init.fans((2, 3, 4))


def test_kaiming_normal_has_std_sqrt_2_over_fan_in(rng):
    w = init.kaiming_normal((64, 32, 5, 5), rng, np.float64)  # fan_in 800, 51200 samples
    # the sample std of n normal draws has relative standard error 1/sqrt(2n) = 0.3 %
    assert abs(w.std() / np.sqrt(2 / 800) - 1) < 0.015
    assert abs(w.mean()) < 5 * np.sqrt(2 / 800) / np.sqrt(w.size)


def test_xavier_uniform_is_bounded_with_uniform_variance(rng):
    w = init.xavier_uniform((300, 200), rng, np.float64)
    bound = np.sqrt(6 / 500)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.var() / (bound**2 / 3) - 1) < 0.02  # 60000 draws: standard error 0.4 %


def test_scaled_normal_and_dtype(rng):
    w = init.scaled_normal((100, 100), rng, np.float32, weight_scale=1e-3)
    assert w.dtype == np.float32
    assert abs(w.std() / 1e-3 - 1) < 0.03


def test_zeros_and_ones():
    assert not init.zeros((2, 3)).any()
    assert init.ones((4,), dtype=np.float64).sum() == 4


def test_get_initializer_resolves_names_scales_and_callables(rng):
    assert init.get_initializer("he_normal") is init.kaiming_normal
    assert init.get_initializer("glorot_uniform") is init.xavier_uniform
    w = init.get_initializer(0.5)((400, 100), rng, np.float64)
    assert abs(w.std() / 0.5 - 1) < 0.03
    custom = lambda shape, rng, dtype: np.full(shape, 2.0, dtype)  # noqa: E731
    assert init.get_initializer(custom) is custom
    with pytest.raises(ValueError, match="unknown initialiser 'lecun'"):
        init.get_initializer("lecun")


def test_as_generator_accepts_seeds_and_generators():
    g = np.random.default_rng(1)
    assert init.as_generator(g) is g
    assert init.as_generator(3).random() == np.random.default_rng(3).random()
    with pytest.raises(ValueError, match="rng must be"):
        init.as_generator("seed")
