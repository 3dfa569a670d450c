"""to_torch / from_torch: round trips for every layer and every registered model (forward-only
ones included), forward and backward in float64; forward-only replay of every tape op; what
from_torch refuses.

Oracles: the cnnlab layers' own hand-written passes (and the tape's) on the same numbers;
torch's autograd computes the twin's gradients.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn as tnn
from torch.nn import functional as tF

from cnnlab import models, nn
from cnnlab.autograd import functional as F
from cnnlab.functional.loss import softmax_loss
from cnnlab.models.keras_style import KerasThreeLayerConvNet, KerasTwoLayerFC
from cnnlab.torch import copy_from_torch, from_torch, to_torch
from cnnlab.torch.replay import OPS
from tests.models.specs import SPECS
from tests.torch.test_compare import LAYERS

F64 = np.float64
TOL = 1e-10

# every registered model, small and float64: the twin table's specs plus the Keras-style ones
MODELS = [(s[0], s[1], s[3], s[4]) for s in SPECS] + [
    (
        "two_layer_fc",
        lambda: KerasTwoLayerFC(input_dim=12, hidden_size=7, num_classes=3, dtype=F64, seed=0),
        (12,),
        3,
    ),
    (
        "keras_three_layer",
        lambda: KerasThreeLayerConvNet((2, 5, 6), 3, 2, num_classes=4, reg=0.1, dtype=F64, seed=0),
        (2, 5, 6),
        4,
    ),
]


def test_every_registered_model_is_covered():
    covered = {type(build()) for _, build, _, _ in MODELS}
    assert set(models.MODELS.values()) <= covered


def _close(ours, theirs, what: str) -> None:
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    scale = max(1.0, float(np.max(np.abs(theirs), initial=0.0)))
    assert np.max(np.abs(ours - theirs), initial=0.0) <= TOL * scale, what


def _grads(net: nn.Module) -> dict[str, np.ndarray]:
    """The gradients of net's last backward pass by dotted name."""
    return {name: module.grads[key] for name, module, key in net.slots("params")}


def _torch_grads(twin: tnn.Module, net: nn.Module) -> dict[str, np.ndarray]:
    """The twin's parameter gradients in the cnnlab layouts (Linear weights are (in, out))."""
    grads = {name: p.grad.numpy() for name, p in twin.named_parameters()}
    for name, module, key in net.slots("params"):
        if isinstance(module, nn.Linear) and key == "weight":
            grads[name] = grads[name].T
    return grads


def _compare_passes(net: nn.Module, twin: tnn.Module, X: np.ndarray, y: np.ndarray) -> None:
    """Scores, loss, dx and every parameter gradient of net and twin on (X, y)."""
    scores = net.forward(X)
    loss, dscores = softmax_loss(scores, y)
    dx = net.backward(dscores)
    tx = torch.tensor(X, requires_grad=True)
    tscores = twin(tx)
    tloss = tF.cross_entropy(tscores, torch.as_tensor(y))
    tloss.backward()
    _close(scores, tscores, "scores")
    _close(np.asarray(loss), tloss, "loss")
    _close(dx, tx.grad, "dx")
    grads = _torch_grads(twin, net)
    for name, module, key in net.slots("params"):
        _close(module.grads[key], grads[name], name)


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize(
    ("build", "shape", "classes"), [m[1:] for m in MODELS], ids=[m[0] for m in MODELS]
)
def test_model_to_torch_and_back(build, shape, classes, training, rng):
    model = build().train(training)
    X = rng.normal(size=(4, *shape))
    y = rng.integers(0, classes, size=4)
    twin = to_torch(model, same_masks=True)  # dropout: the masks cnnlab draws first
    assert twin.training == training
    _compare_passes(model.net, twin, X, y)
    # batch-norm running statistics moved alike (cnnlab's momentum and biased variance)
    state = twin.state_dict()
    for name, buffer in model.net.named_buffers():
        if name in state:
            _close(buffer, state[name], name)
    # the names: each public name of the model is a tensor of the twin, with its numbers
    for public, name in twin.cnnlab_names.items():
        assert state[name].numel() == model.state_dict()[public].size

    back = from_torch(twin)
    assert type(back) is type(model.net) and back.training == training
    ours, theirs = model.net.state_dict(), back.state_dict()
    assert set(ours) == set(theirs)
    for name in ours:  # running statistics: the twin's, updated by its forward pass
        _close(theirs[name], ours[name], name)
    model.net.eval(), back.eval()
    _close(back.forward(X), model.net.forward(X), "round trip forward")
    dout = rng.normal(size=(4, classes))
    _close(back.backward(dout), model.net.backward(dout), "round trip dx")
    back_grads = _grads(back)
    for name, grad in _grads(model.net).items():
        _close(back_grads[name], grad, name)


@pytest.mark.parametrize(("build", "shape"), [c[1:] for c in LAYERS], ids=[c[0] for c in LAYERS])
def test_layer_round_trip(build, shape, rng):
    layer = build()
    back = from_torch(to_torch(layer))
    assert type(back) is type(layer) and back.training == layer.training
    x = rng.normal(size=shape)
    out, back_out = layer.forward(x), back.forward(x)
    assert back_out.dtype == out.dtype
    _close(back_out, out, "forward")
    dout = rng.normal(size=out.shape)
    _close(back.backward(dout), layer.backward(dout), "dx")
    back_grads = _grads(back)
    for name, grad in _grads(layer).items():
        _close(back_grads[name], grad, name)
    for name, value in layer.named_buffers():  # running statistics after the pass
        _close(dict(back.named_buffers())[name], value, name)


def test_linear_and_batch_norm_conventions_back():
    linear = tnn.Linear(3, 2).double()
    assert np.array_equal(from_torch(linear).params["weight"], linear.weight.detach().numpy().T)
    bn = tnn.BatchNorm2d(4, momentum=0.25)
    layer = from_torch(bn)
    assert layer.momentum == pytest.approx(0.75) and layer.params["weight"].dtype == np.float32
    drop = from_torch(tnn.Dropout(0.3))
    assert drop.p == 0.3


def test_from_torch_names_everything_it_cannot_convert():
    net = tnn.Sequential(
        tnn.Conv2d(4, 4, 3, groups=2),
        tnn.ReLU(),
        tnn.Sequential(tnn.BatchNorm2d(4, affine=False), tnn.Softmax(dim=1)),
    )
    with pytest.raises(ValueError, match="from_torch: cannot convert") as err:
        from_torch(net)
    message = str(err.value)
    for part in ("0 (Conv2d): groups=2", "2.0 (BatchNorm2d): ", "2.1 (Softmax): no cnnlab twin"):
        assert part in message
    assert "1 (ReLU)" not in message


def test_every_tape_op_has_a_torch_twin():
    assert set(F.__all__) <= set(OPS)


class Gadget(nn.Module):
    """A forward-only module using many tape ops, a parameter, a buffer and a helper method."""

    def __init__(self) -> None:
        super().__init__()
        rng = np.random.default_rng(3)
        self.conv = nn.Conv2d(2, 4, 3, padding=1, dtype=F64, rng=rng)
        self.scale = nn.Parameter(rng.uniform(0.5, 1.5, size=(4,)))
        self.shift = nn.Parameter(rng.normal(size=(4,)))
        self.proj = nn.Parameter(rng.normal(size=(8, 3)))
        self.register_buffer("running_mean", np.zeros(4))
        self.register_buffer("running_var", np.ones(4))
        self.slope = 0.1

    def head(self, x):
        return F.linear(x, self.proj) - F.mean(x, axis=1, keepdims=True)

    def forward(self, x):
        x = self.conv(x)
        x = F.batch_norm(
            x, self.scale, self.shift, self.running_mean, self.running_var, self.training
        )
        x = F.maximum(F.leaky_relu(x, self.slope), -0.05)
        pooled = F.max_pool2d(x, 2)
        a = F.global_avg_pool2d(pooled)
        b = F.sum(F.transpose(pooled, (0, 1, 3, 2)) ** 2, axis=(2, 3)).exp().log()
        x = F.concatenate([a, F.tanh(b) * F.sigmoid(a)], axis=1)
        return self.head(F.reshape(x, (x.shape[0], -1)))


def test_forward_only_module_is_replayed(rng):
    model = Gadget()
    twin = to_torch(model)
    X, y = rng.normal(size=(3, 2, 5, 4)), np.array([0, 2, 1])
    reference = copy.deepcopy(model)
    _compare_passes(model, twin, X, y)
    _close(model.buffers["running_var"], twin.running_var, "running_var")
    assert not np.array_equal(model.buffers["running_var"], reference.buffers["running_var"])
    back = from_torch(twin)
    assert type(back) is Gadget
    back.eval(), model.eval()
    _close(back.forward(X), model.forward(X), "replayed module back")


def test_copy_from_torch_writes_into_the_model():
    model = MODELS[0][1]()
    twin = to_torch(model)
    with torch.no_grad():
        for p in twin.parameters():
            p.add_(1.0)
    before = model.state_dict()
    copy_from_torch(model, twin)
    for name, value in model.params.items():
        np.testing.assert_allclose(value, before[name] + 1.0, rtol=0, atol=1e-12)
