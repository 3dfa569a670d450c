"""Localisation and orientation statistics of filters (cnnlab.filters)."""

import re

import numpy as np
import pytest

from cnnlab.filters import filter_summary, localisation, orientation_selectivity

P = 16
Y, X = np.mgrid[0:P, 0:P].astype(np.float64)


def grating(fx: float, fy: float) -> np.ndarray:
    """A plane wave with fx, fy cycles per pixel filling the whole filter."""
    return np.cos(2 * np.pi * (fx * X + fy * Y))


def blob(cy: float, cx: float, sigma: float) -> np.ndarray:
    return np.exp(-((Y - cy) ** 2 + (X - cx) ** 2) / (2 * sigma**2))


def gabor(theta: float, cy: float = 7.5, cx: float = 7.5) -> np.ndarray:
    u = (X - cx) * np.cos(theta) + (Y - cy) * np.sin(theta)
    return blob(cy, cx, 2.0) * np.sin(2 * np.pi * u / 6)


@pytest.mark.parametrize("fx, fy", [(0.25, 0.0), (0.0, 0.125), (0.125, 0.125), (0.25, -0.125)])
def test_grating_is_one_orientation_spread_evenly(fx, fy):
    # periodic over 16 pixels: all power on the two frequencies +-(fx, fy)
    g = grating(fx, fy)[None]
    assert orientation_selectivity(g)[0] == pytest.approx(1.0, abs=1e-12)
    # and every 8x8 window spans whole periods: exactly a quarter of the energy
    assert localisation(g)[0] == pytest.approx(0.25, abs=1e-12)


def test_four_fold_symmetric_blob_has_no_orientation_and_is_localised():
    b = blob(7.5, 7.5, 1.5)[None]
    # a 90-degree rotation flips the sign of exp(2i theta): the sum cancels exactly
    assert orientation_selectivity(b)[0] == pytest.approx(0.0, abs=1e-12)
    assert localisation(b)[0] > 0.99


def test_centre_surround_has_no_orientation():
    dog = blob(7.5, 7.5, 1.0) - 0.5 * blob(7.5, 7.5, 2.5)
    assert orientation_selectivity(dog[None])[0] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("theta", np.linspace(0, np.pi, 6, endpoint=False))
def test_gabor_is_localised_and_oriented(theta):
    s = filter_summary(gabor(theta)[None])
    assert s["localisation"] > 0.8
    assert s["orientation_selectivity"] > 0.6
    assert s["localised_oriented"] == 1.0


def test_white_noise_is_neither():
    noise = np.random.default_rng(0).standard_normal((200, P, P))
    # 128 frequency pairs with exponentially distributed power: the resultant of their
    # exp(2i theta) is about sqrt(pi/4 * 2 / 128) ~ 0.11 of the total
    assert np.median(orientation_selectivity(noise)) < 0.2
    # the best of 81 windows holding a quarter of the energy each on average (std about
    # 0.25 * sqrt(2 / 64) = 0.044 per window): well below the 0.5 of a half-confined filter
    assert np.median(localisation(noise)) < 0.4


def test_invariances():
    g = gabor(0.7, cy=4.5, cx=5.0)
    shifted = np.roll(g, (6, 5), axis=(0, 1))
    stack = np.stack([g, 3.0 * g, -g, g + 2.0])
    osi = orientation_selectivity(stack)
    np.testing.assert_allclose(osi, osi[0], rtol=1e-12)  # scale, sign and offset
    np.testing.assert_allclose(
        localisation(np.stack([g, -2 * g, shifted])), localisation(g[None])[0], rtol=1e-6
    )


def test_constant_and_zero_filters_give_zero():
    flat = np.stack([np.zeros((P, P)), np.ones((P, P))])
    np.testing.assert_array_equal(orientation_selectivity(flat), [0.0, 0.0])
    assert localisation(flat)[0] == 0.0


def test_non_square_filters():
    f = np.cos(2 * np.pi * 0.25 * np.arange(12))[None, None, :] * np.ones((1, 8, 12))
    assert orientation_selectivity(f)[0] == pytest.approx(1.0, abs=1e-12)
    assert localisation(f).shape == (1,)


def test_summary_counts_units_above_threshold():
    stack = np.stack([gabor(0.3), grating(0.25, 0.0), blob(7.5, 7.5, 1.5), gabor(1.2)])
    s = filter_summary(stack)
    assert s["localised_oriented"] == pytest.approx(0.5)
    assert filter_summary(stack, threshold=0.99)["localised_oriented"] == 0.0


@pytest.mark.parametrize("func", [localisation, orientation_selectivity])
@pytest.mark.parametrize("shape", [(16, 16), (2, 16, 16, 3), (3, 1, 16)])
def test_bad_shapes_name_the_function_and_shape(func, shape):
    expected = rf"{func.__name__}: expected filters of shape \(F, H, W\).*{re.escape(str(shape))}"
    with pytest.raises(ValueError, match=expected):
        func(np.zeros(shape))
