"""cnnlab.viz.graph: the model graph's layout (forks, joins, shapes) and its drawing."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab import models
from cnnlab.cli import main
from cnnlab.nn import Conv2d, Linear, ReLU, Residual, Sequential
from cnnlab.nn.summary import output_shape
from cnnlab.viz.graph import model_graph, plot_model_graph

F64 = np.float64


def by_name(graph):
    return {node.name: i for i, node in enumerate(graph.nodes)}


def test_chain_without_residuals():
    model = models.MiniAlexNet(
        input_dim=(3, 27, 27), widths=(2, 2, 2, 2, 2), hidden_dims=(4, 4), batchnorm=True, seed=0
    )
    graph = model_graph(model)
    leaves = [name for name, m in model.net.named_modules() if name and not m._modules]
    assert [n.name for n in graph.nodes] == ["input", *leaves]
    assert graph.edges == [(i, i + 1) for i in range(len(leaves))]
    assert graph.forks() == [] and graph.joins() == [] and graph.columns == 1
    names = by_name(graph)
    assert graph.nodes[names["bn1"]].kind == "BatchNorm2d"
    assert graph.nodes[names["bn1"]].shape == (2, 27, 27)
    assert graph.nodes[names["pool1"]].shape == (2, 9, 9)
    assert graph.nodes[-1].shape == output_shape(model.net, (3, 27, 27))[1:] == (10,)


def test_projection_and_identity_shortcuts_fork_and_join():
    rng = np.random.default_rng(0)
    identity = Residual(Sequential({"c": Conv2d(2, 2, 3, padding=1, rng=rng), "r": ReLU()}))
    projection = Residual(
        Sequential({"c": Conv2d(2, 4, 3, stride=2, padding=1, rng=rng)}),
        Sequential({"p": Conv2d(2, 4, 1, stride=2, rng=rng)}),
        relu=False,
    )
    net = Sequential({"stem": Conv2d(1, 2, 3, padding=1, rng=rng), "id": identity})
    net.append(projection, "proj")
    graph = model_graph(net, (1, 6, 6))
    n = by_name(graph)
    # identity: the stem forks to the block and straight to the join
    assert (n["stem"], n["id.block.c"]) in graph.edges and (n["stem"], n["id.add"]) in graph.edges
    assert (n["id.block.r"], n["id.add"]) in graph.edges
    # projection: the first join forks to both branches, which meet in the second join
    assert {(n["id.add"], n["proj.block.c"]), (n["id.add"], n["proj.shortcut.p"])} <= set(
        graph.edges
    )
    assert {(n["proj.block.c"], n["proj.add"]), (n["proj.shortcut.p"], n["proj.add"])} <= set(
        graph.edges
    )
    assert graph.forks() == [n["stem"], n["id.add"]]
    assert graph.joins() == [n["id.add"], n["proj.add"]]
    assert graph.nodes[n["id.add"]].kind == "Add + ReLU"
    assert graph.nodes[n["proj.add"]].kind == "Add"
    # the shortcut sits beside its block, the join below both
    short, block, join = (
        graph.nodes[n[k]] for k in ("proj.shortcut.p", "proj.block.c", "proj.add")
    )
    assert short.column == block.column + 1 and short.row == block.row
    assert join.column == 0 and join.row > max(short.row, block.row)
    assert join.shape == (4, 3, 3)


def test_resnet_has_one_fork_and_join_per_block():
    model = models.ResNet(input_dim=(3, 8, 8), widths=(2, 3), blocks=(2, 1), dtype=F64, seed=0)
    graph = model_graph(model)
    assert len(graph.forks()) == len(graph.joins()) == 3
    assert graph.columns == 2
    cells = [(node.row, node.column) for node in graph.nodes]
    assert len(set(cells)) == len(cells)  # no two boxes on one cell
    assert graph.nodes[-1].shape == (10,)


def test_plot_writes_a_png(tmp_path):
    graph = model_graph(models.ResNet(input_dim=(3, 8, 8), widths=(2, 3), seed=0))
    fig = plot_model_graph(graph, title="resnet", path=tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert "stem_conv (Conv2d)" in texts and "Add + ReLU" in texts and "(None, 10)" in texts


def test_cli_summary_graph(tmp_path, capsys):
    path = tmp_path / "resnet.png"
    assert main(["summary", "--model", "resnet", "--graph", str(path)]) == 0
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert f"graph written to {path}" in capsys.readouterr().out


def test_a_model_without_input_shape_is_refused():
    with pytest.raises(ValueError, match="model_graph: input_shape is required"):
        model_graph(Sequential(Linear(2, 3)))
