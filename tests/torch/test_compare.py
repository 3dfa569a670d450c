"""cnnlab.torch: to_torch for every layer, compare_with_torch on every model, layer and seed-004
op, and the message when PyTorch is missing.

The oracles are PyTorch's own layers and the hand-written torch networks of tests/models/specs.py
(independent of the converter)."""

from __future__ import annotations

import importlib
import inspect
import sys

import numpy as np
import pytest
import torch
from torch import nn as tnn

from cnnlab import nn
from cnnlab.compat.seed004 import OpAvgPool, OpConv2D, OpRelu, OpSoftmaxCrossEntropyLoss, Variable
from cnnlab.models import registry
from cnnlab.torch import compare_with_torch, to_torch
from cnnlab.torch.convert import SameMaskDropout
from tests.models.specs import SPECS
from tests.models.torch_ref import copy_weights

F64 = np.float64
TOL = 1e-10  # float64 rounding relative to the largest entry


def _worst(rows) -> float:
    """Largest relative difference anywhere in a comparison table."""
    values = [r["forward_rel"] for r in rows] + [r["input_grad_rel"] for r in rows]
    values += [v for r in rows for v in r["grads"].values()]
    return max(values)


# --------------------------------------------------------------------------- every layer

# (id, cnnlab layer, input shape); every public cnnlab.nn layer appears at least once
LAYERS = [
    ("linear", lambda: nn.Linear(6, 4, dtype=F64, rng=0), (3, 6)),
    ("linear-no-bias", lambda: nn.Linear(2 * 3, 4, bias=False, dtype=F64, rng=0), (3, 2, 3)),
    (
        "conv",
        lambda: nn.Conv2d(
            2, 3, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2), dtype=F64, rng=2
        ),
        (2, 2, 7, 6),
    ),
    ("conv-no-bias", lambda: nn.Conv2d(3, 2, 1, bias=False, dtype=F64, rng=1), (2, 3, 4, 5)),
    ("maxpool", lambda: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 2, 6, 7)),
    ("avgpool", lambda: nn.AvgPool2d(3, 2, padding=1, count_include_pad=False), (2, 2, 5, 6)),
    ("avgpool-ceil", lambda: nn.AvgPool2d(2, ceil_mode=True), (1, 2, 5, 3)),
    ("global-avgpool", lambda: nn.GlobalAvgPool2d(), (2, 3, 4, 5)),
    ("relu", lambda: nn.ReLU(), (3, 7)),
    ("leaky-relu", lambda: nn.LeakyReLU(0.2), (3, 7)),
    ("elu", lambda: nn.ELU(0.7), (3, 7)),
    ("sigmoid", lambda: nn.Sigmoid(), (3, 7)),
    ("tanh", lambda: nn.Tanh(), (3, 7)),
    ("flatten", lambda: nn.Flatten(), (2, 3, 2, 2)),
    ("upsample", lambda: nn.Upsample(3), (2, 2, 3, 2)),
    ("dropout-eval", lambda: nn.Dropout(0.4, rng=0).eval(), (4, 5)),
    ("dropout-train", lambda: nn.Dropout(0.4, rng=0), (4, 5)),
    ("batchnorm1d-train", lambda: _bn(nn.BatchNorm1d(5, momentum=0.8, dtype=F64)), (6, 5)),
    ("batchnorm2d-eval", lambda: _bn(nn.BatchNorm2d(3, eps=1e-3, dtype=F64)).eval(), (2, 3, 4, 4)),
    ("layernorm", lambda: _bn(nn.LayerNorm((3, 2), dtype=F64)), (4, 3, 2)),
    ("groupnorm", lambda: _bn(nn.GroupNorm(2, 4, dtype=F64)), (2, 4, 3, 3)),
    (
        "sequential",
        lambda: nn.Sequential(
            {"conv": nn.Conv2d(2, 3, 3, padding=1, dtype=F64), "relu": nn.ReLU()}
        ),
        (2, 2, 5, 5),
    ),
    (
        "residual-projection",
        lambda: nn.Residual(
            nn.Sequential(nn.Conv2d(2, 3, 3, stride=2, padding=1, dtype=F64), nn.Tanh()),
            nn.Conv2d(2, 3, 1, stride=2, dtype=F64),
        ),
        (2, 2, 5, 5),
    ),
    (
        "residual-identity",
        lambda: nn.Residual(nn.Conv2d(2, 2, 3, padding=1, dtype=F64), relu=False),
        (1, 2, 4, 4),
    ),
]


def _bn(layer):
    """A normalisation layer with non-trivial scale, shift and running statistics."""
    rng = np.random.default_rng(7)
    for store in (layer.params, layer.buffers):
        for value in store.values():
            value[...] = rng.uniform(0.5, 1.5, size=value.shape)
    return layer


@pytest.mark.parametrize(("build", "shape"), [c[1:] for c in LAYERS], ids=[c[0] for c in LAYERS])
def test_to_torch_forward_and_backward_match(build, shape, rng):
    layer = build()
    x = rng.normal(size=shape)
    rows = compare_with_torch(layer, x, verbose=False)
    assert _worst(rows) < TOL
    params = {name for row in rows for name in row["grads"]}
    assert params == {name for name, _ in layer.named_parameters()}


def test_every_public_layer_is_covered():
    public = {
        obj
        for obj in vars(nn).values()
        if inspect.isclass(obj) and issubclass(obj, nn.Module) and obj is not nn.Module
    }
    assert public == {type(build()) for _, build, _ in LAYERS}


def test_conventions_are_translated():
    linear = nn.Linear(3, 2, dtype=F64, rng=0)
    np.testing.assert_array_equal(
        to_torch(linear).weight.detach().numpy(), linear.params["weight"].T
    )
    bn = nn.BatchNorm2d(3, momentum=0.9, dtype=F64)
    assert to_torch(bn).momentum == pytest.approx(0.1)
    drop = nn.Dropout(0.3)
    assert isinstance(to_torch(drop), tnn.Dropout) and to_torch(drop).p == 0.3
    assert isinstance(to_torch(drop, same_masks=True), SameMaskDropout)
    assert not to_torch(nn.ReLU().eval()).training


def test_twin_shares_no_memory():
    conv = nn.Conv2d(1, 1, 1, dtype=F64, rng=0)
    twin = to_torch(conv)
    conv.params["weight"] += 1.0
    assert twin.weight.item() == pytest.approx(conv.params["weight"].item() - 1.0)


def test_unknown_layer_is_refused():
    class Odd(nn.Module):
        pass

    with pytest.raises(ValueError, match="to_torch: no PyTorch twin for Odd"):
        to_torch(nn.Sequential({"odd": Odd()}))
    with pytest.raises(ValueError, match="compare_with_torch: expected"):
        compare_with_torch(object(), np.zeros(1))


# --------------------------------------------------------------------------- every model


@pytest.mark.parametrize(
    ("build", "torch_net", "shape", "classes"), [s[1:] for s in SPECS], ids=[s[0] for s in SPECS]
)
def test_converter_equals_the_hand_written_twin(build, torch_net, shape, classes, rng):
    model = build()
    reference = torch_net(model).double()
    copy_weights(model, reference)
    x = torch.tensor(rng.normal(size=(3, *shape)))
    twin = to_torch(model.net.eval())
    reference.eval()
    np.testing.assert_allclose(twin(x).detach(), reference(x).detach(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("labels", [True, False], ids=["train-loss", "eval-sum"])
@pytest.mark.parametrize(("build", "shape", "classes"), [(s[1], s[3], s[4]) for s in SPECS])
def test_compare_with_torch_on_every_model(build, shape, classes, labels, rng, capsys):
    model = build()
    x = rng.normal(size=(3, *shape))
    y = rng.integers(0, classes, size=3) if labels else None
    rows = compare_with_torch(model, x, y)
    assert _worst(rows) < TOL
    assert (rows[-1]["layer"] == "loss") == labels
    grads = {name for row in rows for name in row["grads"]}
    assert grads == {name for name, _ in model.net.named_parameters()}
    table = capsys.readouterr().out
    assert all(row["layer"] in table for row in rows)


def test_specs_cover_the_registry():
    # the forward-only Keras-style nets have no layer-by-layer twin; tests/compat checks them
    tape_only = {"two_layer_fc", "keras_three_layer"}
    assert {spec[0].split("-")[0] for spec in SPECS} == set(registry.available()) - tape_only


def test_a_wrong_twin_is_visible(rng):
    """The table catches a difference: a layer whose weights changed after conversion."""
    model = next(spec for spec in SPECS if spec[0] == "mnist")[1]()
    layer = model.net["conv2"]
    original = layer.forward
    layer.forward = lambda inp: original(inp) + 1e-3
    rows = compare_with_torch(model.net, rng.normal(size=(2, 1, 28, 28)), verbose=False)
    by_name = {r["layer"]: r for r in rows}
    assert by_name["conv1"]["forward_rel"] < TOL and by_name["conv2"]["forward_abs"] > 5e-4


# --------------------------------------------------------------------------- seed-004 ops


def _variable(value):
    v = Variable()
    v.value = value
    return v


def test_compare_with_torch_on_graph_ops(rng):
    image = rng.normal(size=(7, 9, 2))
    inputs = _variable(image)
    ops = [OpConv2D(3, 3, inputs, rng=rng), OpRelu(inputs), OpAvgPool(2, inputs)]
    pooled = OpAvgPool(9, inputs)
    pooled.forward()
    ops.append(OpSoftmaxCrossEntropyLoss(pooled, _variable(1)))
    for op in ops:
        rows = compare_with_torch(op, None, verbose=False)
        assert len(rows) == 1 and _worst(rows) < TOL
    assert set(rows[0]["grads"]) == set()
    conv_rows = compare_with_torch(ops[0], rng.normal(size=(7, 9, 2)), verbose=False)
    assert set(conv_rows[0]["grads"]) == {"weights"} and _worst(conv_rows) < TOL
    loss_rows = compare_with_torch(ops[-1], None, y=0, verbose=False)
    assert ops[-1].true_label.value == 0 and _worst(loss_rows) < TOL


# --------------------------------------------------------------------------- without torch


def test_missing_torch_says_how_to_install(monkeypatch):
    for name in [m for m in sys.modules if m == "torch" or m.startswith("cnnlab.torch")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(ImportError, match="pip install torch"):
        importlib.import_module("cnnlab.torch")
    inputs = _variable(np.zeros((2, 2, 1)))
    with pytest.raises(ImportError, match="pip install torch"):
        from cnnlab.compat.seed004 import cmp_ops

        cmp_ops(OpRelu(inputs), None, None)


def test_svm_classifier_loss_row(rng):
    from cnnlab.models.classifier import Classifier

    net = nn.Sequential(nn.Linear(5, 4, dtype=F64, rng=0), nn.ReLU(), nn.Linear(4, 3, dtype=F64))
    model = Classifier(net, loss="svm", dtype=F64)
    rows = compare_with_torch(model, rng.normal(size=(6, 5)), rng.integers(0, 3, 6), verbose=False)
    assert rows[-1]["type"] == "svm" and _worst(rows) < TOL
