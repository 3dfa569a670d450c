"""Modules that define only forward(): registration by attribute, the tape as their backward,
equality with the explicit backward passes of every registered model, and the model tools
(Classifier, Solver, summary, state dicts, checkpoints) used on them unchanged."""

from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

from cnnlab import models, nn
from cnnlab.autograd import Tensor, no_grad
from cnnlab.autograd import functional as F
from cnnlab.autograd.tensor import Node
from cnnlab.gradcheck import eval_numerical_gradient
from cnnlab.models.classifier import Classifier
from cnnlab.nn.module import Parameter
from cnnlab.training import Solver
from cnnlab.training.checkpoint import load_checkpoint, save_checkpoint
from tests.models.specs import SPECS
from tests.nn.forward_only_twins import forward_only, rel_error

SPEC_IDS = [spec[0] for spec in SPECS]


class TwoLayer(nn.Module):
    """A forward-only network with its own parameters and a child layer."""

    def __init__(self, d_in=6, hidden=5, classes=3, seed=0):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.w1 = Parameter(rng.normal(size=(d_in, hidden)), decay=True)
        self.b1 = Parameter(np.zeros(hidden))
        self.out = nn.Linear(hidden, classes, dtype=np.float64, rng=rng)

    def forward(self, x):
        return self.out(F.relu(x.reshape(x.shape[0], -1) @ self.w1 + self.b1))


def _batch(shape, classes, n=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, *shape)), rng.integers(0, classes, n)


# --- registration by attribute -------------------------------------------------------------


def test_attributes_register_children_and_parameters():
    net = TwoLayer()
    assert list(net.params) == ["w1", "b1"] and net.decay == ("w1",)
    assert dict(net.named_children()) == {"out": net.out}
    assert [n for n, _ in net.named_parameters()] == ["w1", "b1", "out.weight", "out.bias"]
    assert isinstance(net.w1, Tensor) and net.w1.data is net.params["w1"]
    assert net.w1 is net.w1  # one kept leaf outside a recording
    net.out = None  # replacing a child by a non-Module removes it
    assert dict(net.named_children()) == {} and net.out is None


def test_assigning_an_array_to_a_parameter_rebinds_it():
    net = TwoLayer()
    new = np.ones_like(net.params["w1"])
    net.w1 = new
    assert net.params["w1"] is new and net.w1.data is new


def test_register_parameter_and_buffer():
    m = nn.Module()
    m.register_parameter("scale", np.ones(3), decay=True)
    m.register_buffer("count", np.zeros(1, dtype=np.int64))
    assert m.params["scale"].shape == (3,) and m.decay == ("scale",)
    assert m.count is m.buffers["count"]
    assert set(m.state_dict()) == {"scale", "count"}


def test_registration_before_init_and_unknown_attributes_are_clear_errors():
    class Early(nn.Module):
        def __init__(self):
            self.layer = nn.ReLU()

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) before assigning"):
        Early()
    with pytest.raises(AttributeError, match="'TwoLayer' object has no attribute 'nothing'"):
        _ = TwoLayer().nothing
    with pytest.raises(ValueError, match="Parameter: must be a floating-point array"):
        Parameter(np.arange(3))


# --- the tape as backward --------------------------------------------------------------------


def test_forward_only_module_gradients_match_central_differences():
    net = TwoLayer()
    x, _ = _batch((2, 3), 3)
    dout = np.random.default_rng(1).normal(size=(4, 3))
    out = net.forward(x)
    assert isinstance(out, np.ndarray) and out.shape == (4, 3)
    dx = net.backward(dout)
    grads = {name: net_grad.copy() for name, net_grad in _grads(net).items()}

    def loss(_):
        return float(np.sum(net.forward(x) * dout))

    for name, module, key in net.slots("params"):
        num = eval_numerical_gradient(loss, module.params[key], verbose=False, h=1e-6)
        assert rel_error(grads[name], num) < 1e-8, name
    assert rel_error(dx, eval_numerical_gradient(loss, x, verbose=False, h=1e-6)) < 1e-8


def _grads(net):
    return {name: module.grads[key] for name, module, key in net.slots("params")}


class Affine(nn.Module):
    """A forward-only affine layer (F.linear), usable any number of times per forward."""

    def __init__(self, d_in, d_out, seed):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.weight = Parameter(rng.normal(size=(d_in, d_out)))
        self.bias = Parameter(rng.normal(size=d_out))

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)


def test_a_module_used_twice_accumulates_its_gradients():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = Affine(3, 3, seed=0)

        def forward(self, x):
            return self.inner(F.tanh(self.inner(x)))

    net = Twice()
    x = np.random.default_rng(2).normal(size=(5, 3))
    dout = np.random.default_rng(3).normal(size=(5, 3))
    net.forward(x)
    net.backward(dout)
    for name, module, key in net.slots("params"):
        grad = module.grads[key].copy()

        def loss(_):
            return float(np.sum(net.forward(x) * dout))

        num = eval_numerical_gradient(loss, module.params[key], verbose=False, h=1e-6)
        assert rel_error(grad, num) < 1e-8, name


def test_an_explicit_layer_called_with_a_tensor_is_one_step_of_the_tape(rng):
    conv = nn.Conv2d(2, 3, 3, padding=1, dtype=np.float64, rng=0)
    x = Tensor(rng.normal(size=(2, 2, 4, 5)), requires_grad=True)
    out = conv(x)
    assert out.node.function.name == "Conv2d"
    (out * out).sum().backward()
    assert conv.weight.grad is conv.grads["weight"] and conv.bias.grad is conv.grads["bias"]
    explicit = nn.Conv2d(2, 3, 3, padding=1, dtype=np.float64, rng=0)
    y = explicit.forward(x.data)
    np.testing.assert_array_equal(explicit.backward(2 * y), x.grad)
    np.testing.assert_array_equal(explicit.grads["weight"], conv.grads["weight"])


def _copy_of(linear_params, d_in, d_out):
    layer = nn.Linear(d_in, d_out, dtype=np.float64)
    layer.params["weight"][...], layer.params["bias"][...] = linear_params
    return layer


def test_an_explicit_container_with_a_forward_only_child():
    """Sequential (explicit) runs a forward-only child's own recording and replay."""
    x, _ = _batch((6,), 3)
    dout = np.random.default_rng(4).normal(size=(4, 3))
    child = TwoLayer()
    mixed = nn.Sequential(nn.Tanh(), child)
    reference = nn.Sequential(  # the same maths with explicit layers only
        nn.Tanh(),
        _copy_of((child.params["w1"], child.params["b1"]), 6, 5),
        nn.ReLU(),
        _copy_of((child.out.params["weight"], child.out.params["bias"]), 5, 3),
    )
    np.testing.assert_allclose(mixed.forward(x), reference.forward(x), rtol=1e-14)
    np.testing.assert_allclose(mixed.backward(dout), reference.backward(dout), rtol=1e-13)
    np.testing.assert_allclose(child.grads["w1"], reference[1].grads["weight"], rtol=1e-13)
    np.testing.assert_allclose(child.out.grads["bias"], reference[3].grads["bias"], rtol=1e-13)


def test_the_tape_is_released_after_backward():
    net = TwoLayer()
    x, _ = _batch((6,), 3)
    net.forward(x)
    _, out, _ = net._tape
    relu = out.node.inputs[0]  # the output layer's input comes from the relu node
    cache = weakref.ref(relu.cache)
    net.backward(np.ones((4, 3)))
    gc.collect()
    assert net._tape is None and relu.cache is None and cache() is None


def test_training_steps_leave_no_tape_behind():
    """After each loss-and-gradient step of a forward-only model no tape node is alive."""

    def nodes():
        gc.collect()
        return sum(type(o) is Node for o in gc.get_objects())

    model = forward_only(SPECS[SPEC_IDS.index("resnet")][1]())
    X, y = _batch((3, 6, 6), 3)
    before = nodes()
    for _ in range(3):
        model.loss(X, y)
        assert nodes() == before


def test_backward_misuse_is_a_clear_error():
    net = TwoLayer()
    x, _ = _batch((6,), 3)
    with pytest.raises(RuntimeError, match=r"TwoLayer.backward: no recorded forward"):
        net.backward(np.ones((4, 3)))
    net.forward(x)
    net.backward(np.ones((4, 3)))
    with pytest.raises(RuntimeError, match="no recorded forward"):
        net.backward(np.ones((4, 3)))
    with no_grad():
        net.forward(x)
    with pytest.raises(RuntimeError, match="no_grad records nothing"):
        net.backward(np.ones((4, 3)))
    net.forward(x)
    with pytest.raises(ValueError, match=r"backward: grad has shape \(4, 2\)"):
        net.backward(np.ones((4, 2)))


def test_forward_must_return_a_tensor():
    class Bad(nn.Module):
        def forward(self, x):
            return x.data

    with pytest.raises(ValueError, match=r"Bad\.forward must return a Tensor"):
        Bad().forward(np.ones(2))


def test_leaves_alias_the_parameters(rng):
    """In-place updates and rebinding (both Solver styles) reach the next forward."""
    net = TwoLayer()
    model = Classifier(net, dtype=np.float64)
    x = rng.normal(size=(3, 6))
    before = net.forward(x)
    model.params["w1"][...] *= 2  # in place
    assert not np.allclose(net.forward(x), before)
    model.params["out.bias"] = np.arange(3.0)  # rebinding
    model.params["out.weight"] = np.zeros((5, 3))
    np.testing.assert_array_equal(net.forward(x), np.tile(np.arange(3.0), (3, 1)))


def test_an_explicit_layer_called_twice_in_one_forward_is_an_error():
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3, dtype=np.float64)

        def forward(self, x):
            return self.fc(self.fc(x))

    with pytest.raises(ValueError, match="Linear: a layer with an explicit backward"):
        Shared().forward(np.ones((2, 3)))


# --- every registered model, forward-only, against its explicit backward ---------------------


# Registered models whose networks are forward-only already (no explicit twin to compare
# with; see also tests/compat/test_tf_notebook.py): tiny float64 versions, checked against
# central differences below.
FORWARD_ONLY_MODELS = {
    "two_layer_fc": {"input_dim": 12, "hidden_size": 5, "num_classes": 3},
    "keras_three_layer": {"input_dim": (2, 5, 4), "channel_1": 3, "channel_2": 2},
    "spatial_sum": {"input_dim": (2, 22, 21), "widths": (2, 3, 2), "num_classes": 3},
}


def test_every_registered_model_is_covered():
    covered = {spec_id.split("-")[0] for spec_id in SPEC_IDS} | set(FORWARD_ONLY_MODELS)
    assert set(models.available()) <= covered


@pytest.mark.parametrize("name", sorted(FORWARD_ONLY_MODELS))
def test_registered_forward_only_model_matches_central_differences(name):
    model = models.build(name, dtype=np.float64, seed=0, reg=0.1, **FORWARD_ONLY_MODELS[name])
    assert model.net._forward_only()
    X, y = _batch(model.input_shape, 3)
    _, grads = model.loss(X, y)
    for key, grad in grads.items():
        num = eval_numerical_gradient(
            lambda _: model.loss(X, y)[0], model.params[key], verbose=False, h=1e-6
        )
        assert rel_error(grad, num) < 1e-7, key


@pytest.mark.parametrize("deep", [True, False], ids=["functional-layers", "layer-nodes"])
@pytest.mark.parametrize(
    ("build", "shape", "classes"), [s[1:2] + s[3:] for s in SPECS], ids=SPEC_IDS
)
def test_forward_only_model_gives_the_explicit_loss_and_gradients(build, shape, classes, deep):
    explicit, tape = build(), forward_only(build(), deep)
    X, y = _batch(shape, classes)
    loss, grads = explicit.loss(X, y)
    tape_loss, tape_grads = tape.loss(X, y)
    assert list(tape_grads) == list(grads)
    assert rel_error(loss, tape_loss) < 1e-12
    for name in grads:
        assert rel_error(grads[name], tape_grads[name]) < 1e-12, name
    for name, value in explicit.state_dict().items():  # running statistics, dropout counters
        np.testing.assert_allclose(tape.state_dict()[name], value, rtol=1e-12, err_msg=name)
    np.testing.assert_allclose(tape.loss(X), explicit.loss(X), rtol=1e-12)


@pytest.mark.parametrize(
    ("build", "shape", "classes"), [s[1:2] + s[3:] for s in SPECS], ids=SPEC_IDS
)
def test_forward_only_model_trains_to_the_same_parameters(build, shape, classes):
    X, y = _batch(shape, classes, n=12, seed=5)
    data = {"X_train": X, "y_train": y, "X_val": X[:6], "y_val": y[:6]}
    kwargs = {
        "update_rule": "adam",
        "optim_config": {"learning_rate": 1e-2},
        "batch_size": 4,
        "num_epochs": 1,
        "verbose": False,
        "seed": 0,
    }
    trained = {}  # the state after the epoch's updates (before the Solver restores the best)

    def keep(solver, metrics):
        trained[id(solver.model)] = solver.model.state_dict()

    explicit, tape = build(), forward_only(build())
    Solver(explicit, data, on_epoch_end=keep, **kwargs).train()
    Solver(tape, data, on_epoch_end=keep, **kwargs).train()
    initial = build().state_dict()
    after, tape_after = trained[id(explicit)], trained[id(tape)]
    for name, value in after.items():
        np.testing.assert_allclose(tape_after[name], value, rtol=1e-11, atol=1e-14, err_msg=name)
    assert any(not np.array_equal(after[k], initial[k]) for k in explicit.params)


# --- the model tools on forward-only networks -------------------------------------------------


def test_summary_of_a_forward_only_model():
    model = Classifier(TwoLayer(), dtype=np.float64, input_shape=(2, 3))
    text = model.summary()
    assert "TwoLayer" in text and "(None, 3)" in text
    assert f"Total params: {6 * 5 + 5 + 5 * 3 + 3:,}" in text
    # one row per child call, in call order, then the module's own parameters
    lines = text.splitlines()
    assert lines[3].split() == ["out", "(Linear)", "(None,", "3)", f"{5 * 3 + 3}"]
    assert lines[4].split() == ["-", "(TwoLayer", "parameters)", "-", f"{6 * 5 + 5}"]


def test_summary_lists_the_layers_a_forward_only_model_calls():
    text = models.build("keras_three_layer", channel_1=4, channel_2=3).summary()
    rows = [line.split()[:2] for line in text.splitlines()[3:6]]
    assert rows == [["conv1", "(Conv2d)"], ["conv2", "(Conv2d)"], ["fc", "(Linear)"]]
    assert "(None, 3, 32, 32)" in text and "(None, 10)" in text


def test_state_dict_and_checkpoint_round_trip(tmp_path):
    model = Classifier(TwoLayer(seed=1), dtype=np.float64)
    X, _ = _batch((6,), 3)
    scores = model.loss(X)
    path = save_checkpoint(tmp_path / "net.npz", model.state_dict(), {"kind": "TwoLayer"})
    other = Classifier(TwoLayer(seed=2), dtype=np.float64)
    assert not np.allclose(other.loss(X), scores)
    arrays, meta = load_checkpoint(path)
    other.load_state_dict(arrays)
    np.testing.assert_array_equal(other.loss(X), scores)
    assert meta == {"kind": "TwoLayer"}


def test_weight_decay_applies_to_the_parameters_marked_for_it():
    X, y = _batch((6,), 3)
    plain = Classifier(TwoLayer(), dtype=np.float64)
    decayed = Classifier(TwoLayer(), reg=0.3, dtype=np.float64)
    loss, grads = plain.loss(X, y)
    reg_loss, reg_grads = decayed.loss(X, y)
    w1, w2 = plain.params["w1"], plain.params["out.weight"]  # Linear decays its weight
    assert reg_loss == pytest.approx(loss + 0.15 * (np.sum(w1 * w1) + np.sum(w2 * w2)), rel=1e-14)
    np.testing.assert_allclose(reg_grads["w1"], grads["w1"] + 0.3 * w1, rtol=1e-14)
    np.testing.assert_array_equal(reg_grads["b1"], grads["b1"])


def _peak_bytes(model, X, y):
    model.loss(X, y)  # warm-up: workspaces, lazily built things
    gc.collect()
    tracemalloc.start()
    try:
        model.loss(X, y)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_of_a_resnet_step_through_the_tape_is_within_ten_percent():
    def build():
        return models.ResNet(input_dim=(3, 16, 16), widths=(8, 16), dtype=np.float32, seed=0)

    X, y = _batch((3, 16, 16), 10, n=16)
    X = X.astype(np.float32)
    explicit = _peak_bytes(build(), X, y)
    tape = _peak_bytes(forward_only(build()), X, y)
    assert tape <= 1.10 * explicit, (tape, explicit)


@pytest.mark.parametrize("kind", ["forward-only", "explicit"])
def test_a_first_layer_without_input_grad_returns_none_and_the_same_weight_grads(kind, rng):
    """input_grad False: backward returns None (Sequential passes it on), grads unchanged."""
    x = rng.standard_normal((4, 5))
    dout = rng.standard_normal((4, 3))
    grads = []
    for needed in (True, False):
        layer = (
            TwoLayer(5, 6, 3)
            if kind == "forward-only"
            else nn.Linear(5, 3, dtype=np.float64, rng=0)
        )
        net = nn.Sequential(layer)
        layer.input_grad = needed
        net.forward(x)
        dx = net.backward(dout)
        assert (dx is None) == (not needed)
        grads.append({k: v.copy() for k, v in layer.grads.items()})
    for key in grads[0]:
        np.testing.assert_array_equal(grads[0][key], grads[1][key])
