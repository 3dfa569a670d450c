"""The model's graph as a diagram (Keras's ``plot_model``): a box per layer with its output shape.

:func:`model_graph` walks the module tree (``Sequential`` containers are opened, so are the two
branches of every ``Residual``) with a forward pass on zeros in eval mode, and lays the layers
out on a grid: the main line in column 0 from top to bottom, a residual block's projection
shortcut in a column to the right of its main branch, and each residual join as an ``add`` node
where both branches arrive. An identity shortcut is an edge from the fork straight to the join.
:func:`plot_model_graph` draws that layout with matplotlib (no graphviz).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from cnnlab.nn import Module, Residual, Sequential
from cnnlab.nn.summary import eval_mode
from cnnlab.viz._common import PathLike, finish, new_figure


@dataclass
class GraphNode:
    """One box of the diagram.

    Attributes:
        name: the layer's dotted name in the network ("input" for the input, "<block>.add"
            for a residual join).
        kind: the layer's class name, "Input", or "Add" (with "+ ReLU" when the join has one).
        shape: the output shape without the batch axis.
        params: the layer's parameter count.
        row: the grid row (0 at the top).
        column: the grid column (0 for the main line).
    """

    name: str
    kind: str
    shape: tuple[int, ...]
    params: int
    row: int
    column: int


@dataclass
class ModelGraph:
    """Nodes in the order of the forward pass and edges ``(source index, target index)``."""

    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[tuple[int, int]] = field(default_factory=list)

    def add(self, node: GraphNode, sources: Sequence[int]) -> int:
        """Append ``node`` with an edge from each of ``sources``; return its index."""
        self.nodes.append(node)
        index = len(self.nodes) - 1
        self.edges.extend((s, index) for s in sources)
        return index

    @property
    def rows(self) -> int:
        """Number of grid rows."""
        return 1 + max(n.row for n in self.nodes)

    @property
    def columns(self) -> int:
        """Number of grid columns."""
        return 1 + max(n.column for n in self.nodes)

    def forks(self) -> list[int]:
        """Indices of the nodes with more than one outgoing edge (where a residual splits)."""
        counts = np.bincount([s for s, _ in self.edges], minlength=len(self.nodes))
        return [int(i) for i in np.flatnonzero(counts > 1)]

    def joins(self) -> list[int]:
        """Indices of the nodes with more than one incoming edge (the residual adds)."""
        counts = np.bincount([t for _, t in self.edges], minlength=len(self.nodes))
        return [int(i) for i in np.flatnonzero(counts > 1)]


def _walk(
    graph: ModelGraph, module: Module, x: np.ndarray, name: str, source: int, row: int, column: int
) -> tuple[np.ndarray, int, int, int]:
    """Add ``module`` applied to ``x`` after node ``source``, from grid cell (row, column).

    Returns:
        (output, index of the last node, next free row, widest column used).
    """
    if isinstance(module, Sequential) and len(module):
        widest = column
        for child_name, child in module.named_children():
            child_path = f"{name}.{child_name}" if name else child_name
            x, source, row, used = _walk(graph, child, x, child_path, source, row, column)
            widest = max(widest, used)
        return x, source, row, widest
    if isinstance(module, Residual):
        prefix = f"{name}." if name else ""
        main, main_end, main_row, widest = _walk(
            graph, module.block, x, prefix + "block", source, row, column
        )
        if "shortcut" in module._modules:
            skip, short_end, short_row, widest = _walk(
                graph, module.shortcut, x, prefix + "shortcut", source, row, widest + 1
            )
        else:  # the identity: the fork's own output goes to the join
            skip, short_end, short_row = x, source, main_row
        ends, end_row = [main_end, short_end], max(main_row, short_row)
        kind = "Add + ReLU" if module.relu else "Add"
        out = np.maximum(main + skip, 0) if module.relu else main + skip
        node = GraphNode(prefix + "add", kind, out.shape[1:], 0, end_row, column)
        return out, graph.add(node, ends), end_row + 1, widest
    out = module.forward(x)
    node = GraphNode(
        name or "-", type(module).__name__, out.shape[1:], module.num_parameters(), row, column
    )
    return out, graph.add(node, [source]), row + 1, column


def model_graph(model, input_shape: Sequence[int] | None = None) -> ModelGraph:
    """The layers of ``model`` as a laid-out graph, with output shapes from a forward pass.

    Args:
        model: a Module or a model with a ``net`` Module (every cnnlab model).
        input_shape: one input's shape without the batch axis, e.g. (C, H, W); None for the
            model's ``input_shape``.

    Returns:
        The graph: an "input" node, one node per layer, an "add" node per residual join.

    Raises:
        ValueError: ``model`` without a Module, or no input shape known.
    """
    net = getattr(model, "net", model)
    if not isinstance(net, Module):
        raise ValueError(f"model_graph: expected a Module or a model with .net, got {type(model)}")
    input_shape = input_shape if input_shape is not None else getattr(model, "input_shape", None)
    if input_shape is None:
        raise ValueError("model_graph: input_shape is required for a module without one")
    dtype = next((p.dtype for _, p in net.named_parameters()), np.dtype(np.float32))
    graph = ModelGraph()
    start = graph.add(GraphNode("input", "Input", tuple(input_shape), 0, 0, 0), [])
    with eval_mode(net):
        _walk(graph, net, np.zeros((1, *input_shape), dtype=dtype), "", start, 1, 0)
    return graph


BOX_W, BOX_H = 3.2, 0.62  # box size in grid units (a cell is 4 x 1)
CELL_W, CELL_H = 4.0, 1.0


def _centre(node: GraphNode) -> tuple[float, float]:
    return node.column * CELL_W, -node.row * CELL_H


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(None, " + ", ".join(map(str, shape)) + ")"


def _elbow(ax, points: list[tuple[float, float]], tip: tuple[float, float], arrow: dict) -> None:
    """A line through ``points`` and an arrow from the last of them to ``tip``."""
    xs, ys = zip(*points, strict=True)
    ax.plot(xs, ys, color=arrow["color"], linewidth=arrow["linewidth"])
    ax.annotate("", tip, points[-1], arrowprops=arrow)


def plot_model_graph(
    graph: ModelGraph, *, title: str | None = None, path: PathLike | None = None, dpi: float = 100
) -> Figure:
    """Draw a :func:`model_graph`: boxes "name (Type)" over the output shape, arrows between.

    Edges between vertically adjacent boxes of one column are straight arrows; a fork into a
    shortcut column goes right and down, the shortcut's end down and left into its join, and an
    identity shortcut bends around the right side of its main branch. Join boxes are shaded.

    Args:
        graph: the laid-out graph.
        title: a line above the diagram.
        path: write the figure there as a PNG.
        dpi: dots per inch.

    Returns:
        The figure (about 0.45 inch per row, 2.6 inches per column).
    """
    fig = new_figure((2.6 * graph.columns + 0.6, 0.45 * graph.rows + 0.8), dpi)
    ax = fig.add_subplot()
    for node in graph.nodes:
        x, y = _centre(node)
        join = node.kind.startswith("Add")
        ax.add_patch(
            FancyBboxPatch(
                (x - BOX_W / 2, y - BOX_H / 2),
                BOX_W,
                BOX_H,
                boxstyle="round,pad=0.02,rounding_size=0.12",
                facecolor="#fde0c5" if join else "#dbe9f6",
                edgecolor="#444444",
                linewidth=0.8,
            )
        )
        label = node.kind if join else f"{node.name} ({node.kind})"
        ax.text(x, y + 0.12, label, ha="center", va="center", fontsize=7)
        ax.text(x, y - 0.15, _shape_text(node.shape), ha="center", va="center", fontsize=6.5)
    arrow = {"arrowstyle": "-|>", "color": "#333333", "linewidth": 0.8, "shrinkA": 0, "shrinkB": 0}
    for s, t in graph.edges:
        (xs, ys), (xt, yt) = _centre(graph.nodes[s]), _centre(graph.nodes[t])
        # side connections leave a box below its middle and enter one above it
        out_y, in_y = ys - BOX_H / 4, yt + BOX_H / 4
        if xs == xt and yt < ys - CELL_H:  # a skip down its own column: around the right side
            side = xs + BOX_W / 2 + 0.25
            corners = [(xs + BOX_W / 2, out_y), (side, out_y), (side, in_y)]
            _elbow(ax, corners, (xt + BOX_W / 2, in_y), arrow)
        elif xt > xs:  # a fork into a shortcut column: right, then down onto the box
            _elbow(ax, [(xs + BOX_W / 2, out_y), (xt, out_y)], (xt, yt + BOX_H / 2), arrow)
        elif xt < xs:  # a shortcut's join: down, then left into the add box
            _elbow(ax, [(xs, ys - BOX_H / 2), (xs, in_y)], (xt + BOX_W / 2, in_y), arrow)
        else:
            ax.annotate("", (xt, yt + BOX_H / 2), (xs, ys - BOX_H / 2), arrowprops=arrow)
    ax.set_xlim(-CELL_W / 2, (graph.columns - 0.5) * CELL_W)
    ax.set_ylim(-(graph.rows - 0.5) * CELL_H, CELL_H / 2)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return finish(fig, path)
