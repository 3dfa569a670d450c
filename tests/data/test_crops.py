"""Seed 004's input pipeline: random size x size training crops, centre crops for evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.data.transforms import center_crop, random_crop


def test_random_crop_to_a_size_takes_every_offset_equally_often(rng):
    X = rng.integers(1, 255, size=(600, 2, 7, 6)).astype(np.float32)
    out = random_crop(X, np.random.default_rng(2), padding=0, size=5)
    assert out.shape == (600, 2, 5, 5) and out.dtype == X.dtype
    counts = np.zeros((3, 2), int)  # 7 - 5 + 1 row offsets, 6 - 5 + 1 column offsets
    for n in range(len(X)):
        found = [
            (dy, dx)
            for dy in range(3)
            for dx in range(2)
            if np.array_equal(X[n, :, dy : dy + 5, dx : dx + 5], out[n])
        ]
        assert len(found) == 1
        counts[found[0]] += 1
    expected, sd = 100, np.sqrt(600 * (1 / 6) * (5 / 6))  # six offsets equally likely
    assert np.all(np.abs(counts - expected) < 5 * sd)


def test_random_crop_with_padding_and_size_is_a_window_of_the_padded_image(rng):
    X = rng.standard_normal((20, 1, 4, 4))
    out = random_crop(X, np.random.default_rng(0), padding=1, size=5)
    padded = np.pad(X, ((0, 0), (0, 0), (1, 1), (1, 1)))
    for n in range(len(X)):
        assert any(
            np.array_equal(padded[n, :, dy : dy + 5, dx : dx + 5], out[n])
            for dy in range(2)
            for dx in range(2)
        )


def test_center_crop_cuts_the_middle_window():
    X = np.arange(2 * 3 * 32 * 31).reshape(2, 3, 32, 31)
    out = center_crop(X, 24)
    assert out.shape == (2, 3, 24, 24) and out.flags.c_contiguous
    np.testing.assert_array_equal(out, X[:, :, 4:28, 3:27])  # (32 - 24) // 2, (31 - 24) // 2
    np.testing.assert_array_equal(
        center_crop(X[:, :, :, : 32 - 1], 31)[:, :, :, 0], X[:, :, 0:31, 0]
    )


def test_crop_sizes_that_do_not_fit_are_refused(rng):
    with pytest.raises(
        ValueError, match=r"center_crop: size must be an int from 1 to 6.*\(1, 1, 6, 7\)"
    ):
        center_crop(np.zeros((1, 1, 6, 7)), 8)
    with pytest.raises(ValueError, match=r"random_crop: size .* 1 to 8 .*padded to \(8, 9\)"):
        random_crop(np.zeros((1, 1, 6, 7)), rng, padding=1, size=9)
    with pytest.raises(ValueError, match=r"center_crop: .*\(3, 8, 8\)"):
        center_crop(np.zeros((3, 8, 8)), 4)
