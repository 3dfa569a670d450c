"""k-NN decision-region and accuracy-vs-k figures."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnnlab.viz.regions import (
    SEED_LABELS,
    SEED_POINTS,
    decision_grid,
    plot_decision_regions,
    plot_k_accuracy,
    voronoi_segments,
)

# The exercise's seven points, written out again so the test does not lean on the module.
POINTS = [(1, 3), (-4, -2), (-3, -1.5), (3, 3), (0, -2), (-2, 0), (-2, 4)]
LABELS = ["+", "+", "-", "-", "+", "+", "-"]

# Expected classes worked out by hand from the distances to the seven points.
PROBES_K1 = [
    ((1.8, 3.0), "+"),  # nearer (1,3)+ (0.8) than (3,3)- (1.2)
    ((2.2, 3.0), "-"),  # nearer (3,3)- (0.8) than (1,3)+ (1.2)
    ((-3.0, -1.6), "-"),  # 0.1 from (-3,-1.5)-
    ((-4.2, -2.2), "+"),  # 0.28 from (-4,-2)+
    ((4.0, -3.0), "+"),  # (0,-2)+ at 4.12 beats (3,3)- at 6.08
    ((-5.0, 3.0), "-"),  # (-2,4)- at 3.16 beats (-2,0)+ at 4.24
    ((-1.0, 1.0), "+"),  # (-2,0)+ at 1.41
]
PROBES_K3 = [
    ((0.0, 0.0), "+"),  # (0,-2)+ 2, (-2,0)+ 2, (1,3)+ 3.16
    ((3.0, 3.0), "-"),  # (3,3)- 0, (1,3)+ 2, (-2,4)- 5.10
    ((-3.0, -1.5), "+"),  # (-3,-1.5)- 0, (-4,-2)+ 1.12, (-2,0)+ 1.80: the minus point is outvoted
    ((-2.0, 4.0), "+"),  # (-2,4)- 0, (1,3)+ 3.16, (-2,0)+ 4
    ((-5.0, 5.0), "+"),  # (-2,4)- 3.16, (-2,0)+ 5.83, (1,3)+ 6.32
    ((-4.0, 2.5), "-"),  # (-2,4)- 2.5, (-2,0)+ 3.20, (-3,-1.5)- 4.12
    ((4.0, 4.0), "-"),  # (3,3)- 1.41, (1,3)+ 3.16, (-2,4)- 6
]


def grid_class_at(grid, x, y):
    ix = int(np.argmin(np.abs(grid.xs - x)))
    iy = int(np.argmin(np.abs(grid.ys - y)))
    return grid.classes[grid.index[iy, ix]]


@pytest.mark.parametrize(("k", "probes"), [(1, PROBES_K1), (3, PROBES_K3)])
def test_grid_classification_at_hand_computed_probes(k, probes):
    grid = decision_grid(POINTS, LABELS, k=k, resolution=300)
    assert grid.index.shape == (300, 300)
    assert grid.xs[0] < -4 and grid.xs[-1] > 3 and grid.ys[0] < -2 and grid.ys[-1] > 4
    for (x, y), expected in probes:
        assert grid_class_at(grid, x, y) == expected, (k, x, y)


def test_seed_points_constant_is_the_exercise():
    np.testing.assert_array_equal(SEED_POINTS, POINTS)
    np.testing.assert_array_equal(SEED_LABELS, LABELS)


def test_voronoi_edges_are_equidistant_from_two_nearest_points():
    pts = np.array(POINTS, dtype=float)
    segments = voronoi_segments(pts, (-6.0, 5.0, -4.0, 6.0))
    assert segments.shape[1:] == (2, 2) and len(segments) >= 6
    for a, b in segments:
        for t in (0.1, 0.5, 0.9):
            p = a + t * (b - a)
            d = np.sort(np.linalg.norm(pts - p, axis=1))
            assert abs(d[0] - d[1]) < 1e-9 * max(1.0, d[0])


def test_voronoi_of_two_points_is_empty_and_the_figure_still_draws(tmp_path):
    assert voronoi_segments(np.array([[0.0, 0.0], [1.0, 1.0]]), (-1, 2, -1, 2)).shape == (0, 2, 2)
    plot_decision_regions([[0, 0], [1, 1]], [0, 1], k=1, resolution=50, path=tmp_path / "two.png")
    assert (tmp_path / "two.png").stat().st_size > 0


def _assert_not_blank(path):
    img = np.asarray(Image.open(path).convert("RGB"))
    assert img.shape[0] > 200 and img.shape[1] > 200
    colours = np.unique(img.reshape(-1, 3), axis=0)
    assert len(colours) > 20  # fills, lines, markers, text - not one flat colour


@pytest.mark.parametrize("k", [1, 3])
def test_region_figure_is_saved_and_not_blank(tmp_path, k):
    path = tmp_path / f"regions_k{k}.png"
    fig = plot_decision_regions(POINTS, LABELS, k=k, resolution=120, path=path)
    _assert_not_blank(path)
    ax = fig.axes[0]
    assert f"{k}-nearest" in ax.get_title()
    assert ax.get_xlabel() and ax.get_ylabel()
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "class +" in legend and "class -" in legend and "class boundary" in legend
    assert ("Voronoi cells" in legend) == (k == 1)


def test_region_figure_on_a_given_axes_and_names(tmp_path):
    from cnnlab.viz._common import new_figure

    fig = new_figure((4, 4))
    ax = fig.add_subplot()
    out = plot_decision_regions(
        POINTS, LABELS, k=3, ax=ax, resolution=60, class_names={"+": "positive", "-": "negative"}
    )
    assert out is fig
    assert "class positive" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_k_accuracy_figure(tmp_path):
    results = {1: [0.2, 0.25, 0.22], 5: [0.27, 0.26, 0.29], 50: [0.24, 0.25, 0.23]}
    path = tmp_path / "acc.png"
    fig = plot_k_accuracy(results, path=path)
    _assert_not_blank(path)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "best k = 5" in legend


def test_figure_input_errors():
    with pytest.raises(
        ValueError,
        match=r"decision_grid: points must have shape \(N, 2\).*"
        r"\(3, 3\)",
    ):
        decision_grid(np.zeros((3, 3)), [0, 1, 0])
    with pytest.raises(ValueError, match=r"decision_grid: labels must have shape \(3,\).*\(2,\)"):
        decision_grid(np.zeros((3, 2)), [0, 1])
    with pytest.raises(ValueError, match=r"plot_decision_regions: 3 class_names for 2 classes"):
        plot_decision_regions(POINTS, LABELS, class_names=["a", "b", "c"], resolution=10)
    with pytest.raises(ValueError, match="plot_k_accuracy: results is empty"):
        plot_k_accuracy({})
