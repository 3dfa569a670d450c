"""The convolution aside: the two hand-set filters give grayscale and Sobel edges."""

from __future__ import annotations

import numpy as np

from cnnlab.viz.conv_demo import PHOTOS, apply_demo_filters, square_photo


def test_demo_filters_against_the_formulas(rng: np.random.Generator) -> None:
    x = rng.uniform(0, 255, (2, 3, 7, 9))
    out = apply_demo_filters(x)
    assert out.shape == (2, 2, 7, 9)
    grey = 0.3 * x[:, 0] + 0.6 * x[:, 1] + 0.1 * x[:, 2]
    np.testing.assert_allclose(out[:, 0], grey, rtol=1e-12, atol=1e-9)
    # horizontal Sobel on the zero-padded blue channel, as a cross-correlation, plus 128
    blue = np.pad(x[:, 2], ((0, 0), (1, 1), (1, 1)))
    edges = (
        blue[:, :-2, :-2]
        + 2 * blue[:, :-2, 1:-1]
        + blue[:, :-2, 2:]
        - blue[:, 2:, :-2]
        - 2 * blue[:, 2:, 1:-1]
        - blue[:, 2:, 2:]
    ) + 128
    np.testing.assert_allclose(out[:, 1], edges, rtol=1e-12, atol=1e-9)


def test_square_photos() -> None:
    for name, _ in PHOTOS:
        photo = square_photo(name, 40)
        assert photo.shape == (3, 40, 40)
        assert 0 <= photo.min() and photo.max() <= 255 and photo.std() > 10
