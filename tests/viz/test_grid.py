"""visualize_grid against the CS231n arithmetic, worked out by hand on tiny inputs."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.compat.cs231n.vis_utils import visualize_grid as compat_visualize_grid
from cnnlab.viz.grid import visualize_grid


@pytest.mark.parametrize(
    ("n", "per_side"), [(1, 1), (2, 2), (4, 2), (5, 3), (9, 3), (10, 4), (32, 6)]
)
def test_grid_shape(n: int, per_side: int) -> None:
    # g = ceil(sqrt(N)) tiles per side; g * 3 + (g - 1) * 2 rows for 3x5 images, padding 2
    grid = visualize_grid(np.arange(n * 3 * 5 * 2, dtype=float).reshape(n, 3, 5, 2), padding=2)
    assert grid.shape == (per_side * 3 + (per_side - 1) * 2, per_side * 5 + (per_side - 1) * 2, 2)


def test_tiles_are_placed_and_scaled_by_hand() -> None:
    # three 2x2 grey images -> a 2x2 grid of tiles (g = 2), padding 1: 5x5 pixels
    xs = np.array(
        [
            [[1, 3], [5, 9]],  # min 1, max 9: (x - 1) / 8 * 255
            [[-2, -2], [-2, 2]],  # min -2, max 2: (x + 2) / 4 * 255
            [[7, 7], [7, 7]],
        ],  # constant: all zeros
        dtype=float,
    )[..., None]
    expected = np.array(
        [
            [0.0, 63.75, 0, 0, 0],
            [127.5, 255, 0, 0, 255],
            [0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0],
        ]
    )
    grid = visualize_grid(xs)
    assert grid.shape == (5, 5, 1)
    np.testing.assert_allclose(grid[..., 0], expected, rtol=0, atol=1e-12)


def test_ubound_and_colour_channels_share_one_scale_per_image() -> None:
    # one RGB image: min and max are taken over all its channels together
    image = np.zeros((1, 1, 2, 3))
    image[0, 0, 0] = [0, 2, 4]
    image[0, 0, 1] = [1, 3, 8]
    grid = visualize_grid(image, ubound=1.0, padding=5)
    assert grid.shape == (1, 2, 3)  # one tile: no padding at all
    np.testing.assert_allclose(grid[0], [[0, 0.25, 0.5], [0.125, 0.375, 1.0]])


def test_fourth_tile_of_five_sits_in_the_second_row() -> None:
    # five 1x2 tiles [0, i + 1], g = 3, padding 1: tile i starts at (2 * (i // 3), 3 * (i % 3))
    # and its right pixel is its maximum (255), which marks where the tile went
    xs = np.zeros((5, 1, 2, 1))
    xs[:, 0, 1, 0] = np.arange(1, 6)
    grid = visualize_grid(xs)[..., 0]
    assert grid.shape == (3 * 1 + 2, 3 * 2 + 2)
    bright = sorted(zip(*np.nonzero(grid == 255), strict=True))
    assert bright == [(0, 1), (0, 4), (0, 7), (2, 1), (2, 4)]


def test_compat_name_is_the_same_function() -> None:
    assert compat_visualize_grid is visualize_grid


@pytest.mark.parametrize("bad", [np.zeros((2, 3, 3)), np.zeros((0, 2, 2, 3))])
def test_bad_shape(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"visualize_grid: .*\(N, H, W, C\)"):
        visualize_grid(bad)


def test_bad_padding() -> None:
    with pytest.raises(ValueError, match="visualize_grid: padding"):
        visualize_grid(np.zeros((1, 2, 2, 1)), padding=-1)
