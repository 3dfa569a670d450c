"""Figures for the k-nearest-neighbour classifier: 2-D decision regions and accuracy versus k.

Built without scikit-learn: the grid is classified by :class:`cnnlab.knn.KNearestNeighbor` and
the Voronoi cells come from :class:`scipy.spatial.Voronoi`. Figures live on their own Agg canvas
(:func:`cnnlab.viz._common.new_figure`), and are written as PNG when ``path`` is given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter, ScalarFormatter
from scipy.spatial import QhullError, Voronoi

from cnnlab.knn import KNearestNeighbor
from cnnlab.viz._common import PathLike, finish, new_figure

#: The training set of the k-NN exercise (seed 004, section 3.0.1): seven labelled 2-D points.
SEED_POINTS = np.array([(1, 3), (-4, -2), (-3, -1.5), (3, 3), (0, -2), (-2, 0), (-2, 4)], float)
SEED_LABELS = np.array(["+", "+", "-", "-", "+", "+", "-"])
SEED_POINTS.flags.writeable = False
SEED_LABELS.flags.writeable = False

# Light fills for regions, stronger versions of the same hues for the training points.
_FILLS = ("#a6cee3", "#fdbf6f", "#b2df8a", "#fb9a99", "#cab2d6", "#ffff99", "#d9d9d9")
_MARKS = ("#1f78b4", "#ff7f00", "#33a02c", "#e31a1c", "#6a3d9a", "#b15928", "#525252")
_MINUS = [(-1.0, -0.28), (1.0, -0.28), (1.0, 0.28), (-1.0, 0.28), (-1.0, -0.28)]
_OTHER_MARKERS = ("o", "s", "^", "D", "v", "X", "*")


class DecisionGrid(NamedTuple):
    """A classified grid.

    ``index[i, j]`` is the class (an index into ``classes``) predicted at ``(xs[j], ys[i])``.
    """

    xs: np.ndarray  # (nx,)
    ys: np.ndarray  # (ny,)
    index: np.ndarray  # (ny, nx) int
    classes: np.ndarray  # (C,) sorted distinct labels


def _check_points(
    where: str, points: np.ndarray, labels: Sequence
) -> tuple[np.ndarray, np.ndarray]:
    pts = np.asarray(points, dtype=np.float64)
    lab = np.asarray(labels)
    if pts.ndim != 2 or pts.shape[1] != 2 or pts.shape[0] == 0:
        raise ValueError(f"{where}: points must have shape (N, 2) with N >= 1, got {pts.shape}")
    if lab.shape != (pts.shape[0],):
        raise ValueError(
            f"{where}: labels must have shape ({pts.shape[0]},) to match points {pts.shape}, "
            f"got {lab.shape}"
        )
    return pts, lab


def default_bounds(points: np.ndarray, margin: float = 0.2) -> tuple[float, float, float, float]:
    """(xmin, xmax, ymin, ymax): the points' bounding box widened on every side.

    It is widened by ``margin`` of its size (at least 1 unit) on each side.
    """
    lo = points.min(axis=0)
    hi = points.max(axis=0)
    pad = np.maximum((hi - lo) * margin, 1.0)
    return (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])


def decision_grid(
    points: np.ndarray,
    labels: Sequence,
    k: int = 1,
    resolution: int = 400,
    bounds: tuple[float, float, float, float] | None = None,
) -> DecisionGrid:
    """Classify every node of a ``resolution`` x ``resolution`` grid with k-NN (L2).

    points (N, 2) and labels (N,) are the training set; ``bounds`` is (xmin, xmax, ymin, ymax),
    by default :func:`default_bounds`. Distance ties go to the earlier training point and vote
    ties to the smallest label (see :mod:`cnnlab.knn`).
    """
    pts, lab = _check_points("decision_grid", points, labels)
    if resolution < 2:
        raise ValueError(f"decision_grid: resolution must be >= 2, got {resolution}")
    xmin, xmax, ymin, ymax = default_bounds(pts) if bounds is None else bounds
    xs = np.linspace(xmin, xmax, resolution)
    ys = np.linspace(ymin, ymax, resolution)
    gx, gy = np.meshgrid(xs, ys)
    queries = np.column_stack([gx.ravel(), gy.ravel()])
    model = KNearestNeighbor().fit(pts, lab)
    pred = model.predict(queries, k=k)
    index = np.searchsorted(model.classes_, pred).reshape(gx.shape)
    return DecisionGrid(xs, ys, index, model.classes_)


def _marker(name: str, i: int) -> str | list[tuple[float, float]]:
    if name == "+":
        return "P"
    if name == "-":
        return _MINUS
    return _OTHER_MARKERS[i % len(_OTHER_MARKERS)]


def voronoi_segments(points: np.ndarray, bounds: tuple[float, float, float, float]) -> np.ndarray:
    """Edges of the Voronoi cells of ``points`` (N, 2) as segments (S, 2, 2).

    Unbounded edges are cut at a point beyond ``bounds`` (xmin, xmax, ymin, ymax). Empty (0, 2, 2)
    when Qhull cannot build the diagram (fewer than 3 distinct points, or all on one line).
    """
    try:
        vor = Voronoi(points)
    except QhullError:
        return np.empty((0, 2, 2))
    xmin, xmax, ymin, ymax = bounds
    corners = np.array([[xmin, ymin], [xmin, ymax], [xmax, ymin], [xmax, ymax]])
    center = points.mean(axis=0)
    segments = []
    for (p, q), ridge in zip(vor.ridge_points, vor.ridge_vertices, strict=True):
        ridge = np.asarray(ridge)
        if (ridge >= 0).all():
            segments.append(vor.vertices[ridge])
            continue
        start = vor.vertices[ridge[ridge >= 0][0]]
        t = points[q] - points[p]
        n = np.array([-t[1], t[0]]) / np.hypot(*t)
        # The unbounded edge runs away from the points' centroid, which lies strictly on the
        # inner side of the hull edge pq.
        direction = np.sign(np.dot(points[p] - center, n)) * n
        reach = np.linalg.norm(corners - start, axis=1).max() + 1.0
        segments.append(np.stack([start, start + reach * direction]))
    return np.array(segments).reshape(-1, 2, 2)


def plot_decision_regions(
    points: np.ndarray,
    labels: Sequence,
    k: int = 1,
    ax: Axes | None = None,
    resolution: int = 400,
    class_names: Mapping | Sequence[str] | None = None,
    path: PathLike | None = None,
) -> Figure:
    """Decision regions of a k-NN classifier (L2) trained on 2-D points.

    points (N, 2), labels (N,). Regions are filled per predicted class, the class boundary is
    drawn as a solid line, and for ``k=1`` the Voronoi cells of the training points are drawn
    dashed (each cell is the set of places nearest to one point). ``class_names`` maps each
    label (or, as a sequence, each sorted label) to its legend text; labels ``'+'`` and ``'-'``
    get plus and minus markers. Returns the figure (``ax.figure`` when ``ax`` is given), also
    written as a PNG to ``path`` when given.
    """
    pts, _ = _check_points("plot_decision_regions", points, labels)
    grid = decision_grid(points, labels, k=k, resolution=resolution)
    classes = grid.classes
    if class_names is None:
        names = [str(c) for c in classes]
    elif isinstance(class_names, Mapping):
        names = [str(class_names.get(c, c)) for c in classes]
    else:
        if len(class_names) != len(classes):
            raise ValueError(
                f"plot_decision_regions: {len(class_names)} class_names for {len(classes)} "
                f"classes {list(classes)}"
            )
        names = [str(n) for n in class_names]
    own_figure = ax is None
    if ax is None:
        fig = new_figure((5.6, 5.6))
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    C = len(classes)
    cmap = ListedColormap([_FILLS[i % len(_FILLS)] for i in range(C)])
    norm = BoundaryNorm(np.arange(-0.5, C), C)
    ax.pcolormesh(grid.xs, grid.ys, grid.index, cmap=cmap, norm=norm, shading="nearest")
    ax.set_xlim(grid.xs[0], grid.xs[-1])
    ax.set_ylim(grid.ys[0], grid.ys[-1])
    if k == 1:
        bounds = (grid.xs[0], grid.xs[-1], grid.ys[0], grid.ys[-1])
        ax.add_collection(
            LineCollection(
                voronoi_segments(pts, bounds),
                colors="0.3",
                linewidths=0.9,
                linestyles="--",
                label="Voronoi cells",
            )
        )
    if C > 1:
        ax.contour(
            grid.xs, grid.ys, grid.index, levels=np.arange(0.5, C - 1), colors="k", linewidths=2.0
        )
        ax.plot([], [], color="k", linewidth=2.0, label="class boundary")  # legend entry
    lab = np.asarray(labels)
    for i, (c, name) in enumerate(zip(classes, names, strict=True)):
        sel = lab == c
        ax.scatter(
            pts[sel, 0],
            pts[sel, 1],
            marker=_marker(str(c), i),
            s=170,
            c=_MARKS[i % len(_MARKS)],
            edgecolors="k",
            linewidths=1.0,
            zorder=3,
            label=f"class {name}",
        )
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(f"{k}-nearest-neighbour decision regions (L2)")
    if own_figure:  # under the plot, with room made by the constrained layout
        fig.legend(loc="outside lower center", ncols=4, fontsize="small")
    else:
        ax.legend(loc="best", fontsize="small")
    return finish(fig, path)


def plot_k_accuracy(
    results: Mapping[int, Sequence[float]],
    title: str | None = None,
    path: PathLike | None = None,
) -> Figure:
    """Cross-validation accuracy against k (CS231n's k-NN plot).

    Every fold as a dot, the mean as a line with error bars of one standard deviation. ``results``
    maps k to the per-fold accuracies (as returned by :func:`cnnlab.knn.cross_validate_k`). Written
    as a PNG to ``path`` when given.
    """
    if not results:
        raise ValueError("plot_k_accuracy: results is empty")
    ks = np.array(sorted(results))
    fig = new_figure((6.4, 4.2))
    ax = fig.add_subplot()
    for i, k in enumerate(ks):
        acc = np.asarray(results[k], dtype=np.float64)
        ax.scatter(
            np.full(acc.shape, k),
            acc,
            s=14,
            color="0.55",
            zorder=2,
            label="one fold" if i == 0 else None,
        )
    means = np.array([np.mean(results[k]) for k in ks])
    stds = np.array([np.std(results[k]) for k in ks])
    ax.errorbar(
        ks,
        means,
        yerr=stds,
        color="#1f78b4",
        marker="o",
        capsize=3,
        zorder=3,
        label="mean ± std over folds",
    )
    best = ks[int(np.argmax(means))]
    ax.axvline(best, color="#e31a1c", linestyle=":", label=f"best k = {best}")
    if ks[-1] / ks[0] > 20:
        ax.set_xscale("log")
    ax.set_xticks(ks)
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("k")
    ax.set_ylabel("cross-validation accuracy")
    ax.set_title(title or "k-NN: cross-validation accuracy vs k")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return finish(fig, path)
