"""Normalisation and augmentation: shapes, statistics, determinism."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from cnnlab.data.transforms import (
    channel_mean_std,
    compose,
    normalize_channels,
    random_crop,
    random_flip,
)


def _crop_offset(out, padded, H, W):
    """Offsets (dy, dx) whose window of ``padded`` equals ``out`` (brute force)."""
    return [
        (dy, dx)
        for dy in range(padded.shape[1] - H + 1)
        for dx in range(padded.shape[2] - W + 1)
        if np.array_equal(padded[:, dy : dy + H, dx : dx + W], out)
    ]


def test_random_crop_is_a_window_of_the_padded_image(rng):
    X = rng.integers(1, 255, size=(400, 2, 5, 4)).astype(np.float32)
    out = random_crop(X, np.random.default_rng(1), padding=2)
    assert out.shape == X.shape and out.dtype == X.dtype
    counts = np.zeros((5, 5), int)
    for n in range(len(X)):
        padded = np.pad(X[n], ((0, 0), (2, 2), (2, 2)))
        offsets = _crop_offset(out[n], padded, 5, 4)
        assert len(offsets) == 1  # unique since pixel values are nonzero and random
        counts[offsets[0]] += 1
    # 25 offsets equally likely: 16 expected each, binomial sd ~3.9; allow 5 sd
    assert np.all(np.abs(counts - 16) < 5 * np.sqrt(400 * (1 / 25) * (24 / 25)))


def test_random_crop_seeded_and_input_untouched(rng):
    X = rng.standard_normal((8, 3, 6, 6))
    X0 = X.copy()
    a = random_crop(X, np.random.default_rng(4))
    b = random_crop(X, np.random.default_rng(4))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(random_crop(X, rng, padding=0), X)


def test_random_crop_bad_input(rng):
    with pytest.raises(ValueError, match=r"random_crop: .*\(3, 32, 32\)"):
        random_crop(np.zeros((3, 32, 32)), rng)
    with pytest.raises(ValueError, match="padding"):
        random_crop(np.zeros((1, 3, 4, 4)), rng, padding=-1)


def test_random_flip_statistics_and_content(rng):
    X = rng.standard_normal((4000, 1, 2, 3))
    out = random_flip(X, np.random.default_rng(2))
    same = np.all(out == X, axis=(1, 2, 3))
    mirrored = np.all(out == X[:, :, :, [2, 1, 0]], axis=(1, 2, 3))
    assert np.all(same ^ mirrored)
    # fraction flipped ~ 0.5 with sd sqrt(0.25 / 4000) ~ 0.008; allow 5 sd
    assert abs(mirrored.mean() - 0.5) < 5 * np.sqrt(0.25 / 4000)


def test_random_flip_extremes_and_seed(rng):
    X = rng.standard_normal((10, 3, 4, 4))
    np.testing.assert_array_equal(random_flip(X, rng, p=0.0), X)
    np.testing.assert_array_equal(random_flip(X, rng, p=1.0), X[..., ::-1])
    a = random_flip(X, np.random.default_rng(9))
    np.testing.assert_array_equal(a, random_flip(X, np.random.default_rng(9)))
    with pytest.raises(ValueError, match="p must be"):
        random_flip(X, rng, p=1.5)


def test_compose_applies_in_order(rng):
    def add_one(X, rng):
        return X + 1

    def double(X, rng):
        return X * 2

    X = np.zeros((1, 1, 2, 2))
    assert compose(add_one, double)(X, rng)[0, 0, 0, 0] == 2
    assert compose(double, add_one)(X, rng)[0, 0, 0, 0] == 1
    aug = compose(functools.partial(random_crop, padding=1), random_flip)
    Y = rng.standard_normal((5, 3, 8, 8))
    np.testing.assert_array_equal(
        aug(Y, np.random.default_rng(0)), aug(Y, np.random.default_rng(0))
    )


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_channel_normalisation(rng, layout):
    means, scales = np.array([10.0, -3.0, 200.0]), np.array([1.0, 5.0, 30.0])
    X = rng.standard_normal((50, 3, 4, 4)) * scales[:, None, None] + means[:, None, None]
    if layout == "NHWC":
        X = X.transpose(0, 2, 3, 1)
    mean, std = channel_mean_std(X, layout)
    assert mean.shape == std.shape == (3,)
    assert np.all(np.abs(mean - means) < 5 * scales / np.sqrt(800))  # 800 values per channel
    assert np.all(np.abs(std / scales - 1) < 0.15)
    X_other = X.transpose(0, 3, 1, 2) if layout == "NHWC" else X.transpose(0, 2, 3, 1)
    other = channel_mean_std(X_other, "NCHW" if layout == "NHWC" else "NHWC")
    np.testing.assert_allclose(other, (mean, std), rtol=1e-12)
    out = normalize_channels(X, mean, std, layout)
    assert out.dtype == np.float32 and out.shape == X.shape
    m2, s2 = channel_mean_std(out.astype(np.float64), layout)
    np.testing.assert_allclose(m2, 0, atol=1e-5)
    np.testing.assert_allclose(s2, 1, rtol=1e-5)


def test_channel_normalisation_bad_input(rng):
    X = rng.standard_normal((2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"3 channels but mean has shape \(4,\)"):
        normalize_channels(X, np.zeros(4), np.ones(4))
    with pytest.raises(ValueError, match="layout"):
        channel_mean_std(X, "CHW")
    with pytest.raises(ValueError, match="std must be positive"):
        normalize_channels(X, np.zeros(3), np.array([1.0, 0.0, 1.0]))
