"""Module plumbing: names, modes, state dicts, parameter views, containers, error messages."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab import nn
from cnnlab.nn.module import SlotDict

F64 = np.float64


def small_net(seed: int = 0) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    block = nn.Sequential(
        nn.Conv2d(4, 4, 3, padding=1, dtype=F64, rng=rng), nn.BatchNorm2d(4, dtype=F64)
    )
    return nn.Sequential(
        {
            "conv": nn.Conv2d(3, 4, 3, padding=1, dtype=F64, rng=rng),
            "res": nn.Residual(block),
            "drop": nn.Dropout(0.5, rng=rng),
            "pool": nn.GlobalAvgPool2d(),
            "fc": nn.Linear(4, 2, dtype=F64, rng=rng),
        }
    )


def test_named_parameters_and_buffers_use_dotted_paths():
    net = small_net()
    assert [n for n, _ in net.named_parameters()] == [
        "conv.weight",
        "conv.bias",
        "res.block.0.weight",
        "res.block.0.bias",
        "res.block.1.weight",
        "res.block.1.bias",
        "fc.weight",
        "fc.bias",
    ]
    assert [n for n, _ in net.named_buffers()] == [
        "res.block.1.running_mean",
        "res.block.1.running_var",
        "drop.rng_state",
    ]
    assert net.num_parameters() == (4 * 3 * 9 + 4) + (4 * 4 * 9 + 4) + 8 + (4 * 2 + 2)


def test_train_eval_reach_every_descendant():
    net = small_net()
    net.eval()
    assert not any(m.training for _, m in net.named_modules())
    net.train()
    assert all(m.training for _, m in net.named_modules())


def test_zero_grad_gives_zero_arrays_for_every_parameter(rng):
    net = small_net()
    out = net.forward(rng.standard_normal((2, 3, 5, 5)))
    net.backward(np.ones_like(out))
    net.zero_grad()
    for _, module, key in net.slots("params"):
        assert module.grads[key].shape == module.params[key].shape
        assert not module.grads[key].any()


def test_state_dict_round_trip_restores_outputs_and_buffers(rng):
    x = rng.standard_normal((4, 3, 5, 5))
    a, b = small_net(0), small_net(1)
    a.forward(x)  # moves the batch-norm running statistics away from their start
    state = a.state_dict()
    assert set(state) == {n for n, _ in a.named_parameters()} | {n for n, _ in a.named_buffers()}
    b.load_state_dict(state)
    a.eval()
    b.eval()
    np.testing.assert_array_equal(a.forward(x), b.forward(x))
    # the state dict holds copies, and loading copies into the existing arrays
    weight = b._modules["conv"].params["weight"]
    state["conv.weight"][...] = 0
    assert weight.any()
    b.load_state_dict(state)
    assert b._modules["conv"].params["weight"] is weight and not weight.any()


def test_load_state_dict_names_missing_and_unexpected_keys():
    net = small_net()
    state = net.state_dict()
    del state["fc.bias"]
    state["fc.gain"] = np.ones(2)
    with pytest.raises(
        ValueError,
        match=r"missing keys \['fc.bias'\].*unexpected keys "
        r"\['fc.gain'\]",
    ):
        net.load_state_dict(state)


def test_load_state_dict_names_the_key_and_both_shapes_and_changes_nothing():
    net = small_net()
    before = net.state_dict()
    state = net.state_dict()
    state["conv.bias"] = np.zeros(5)
    state["conv.weight"] = np.zeros_like(state["conv.weight"])
    with pytest.raises(ValueError, match=r"'conv.bias'.*\(4,\).*\(5,\)"):
        net.load_state_dict(state)
    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_slot_dict_reads_and_rebinds_the_layer_arrays():
    net = small_net()
    view = SlotDict(list(net.slots("params")))
    fc = net["fc"]
    assert view["fc.weight"] is fc.params["weight"]
    new = np.full((4, 2), 3.0, dtype=np.float32)
    view["fc.weight"] = new  # rebinding (as an update rule does) reaches the layer ...
    assert fc.params["weight"].dtype == F64  # ... keeping the layer's dtype
    np.testing.assert_array_equal(fc.params["weight"], 3.0)
    with pytest.raises(ValueError, match=r"'fc.bias'.*\(3,\).*\(2,\)"):
        view["fc.bias"] = np.zeros(3)
    with pytest.raises(KeyError):
        view["nope"] = np.zeros(1)
    assert len(view) == 8 and next(iter(view)) == "conv.weight"


def test_sequential_indexing_iteration_and_length():
    layers = [nn.ReLU(), nn.Tanh(), nn.Sigmoid()]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3
    assert list(seq) == layers
    assert seq[1] is layers[1] and seq[-1] is layers[2] and seq["0"] is layers[0]
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == layers[1:]
    seq.append(nn.ELU(), name="elu")
    assert seq["elu"] is seq[3]


def test_sequential_error_names_the_layer_and_the_input_shape(rng):
    net = small_net()
    with pytest.raises(
        ValueError,
        match=r"layer 'conv' Conv2d\(3, 4.*input \(2, 5, 6, 6\).*"
        r"5 channels but the weights expect 3",
    ):
        net.forward(rng.standard_normal((2, 5, 6, 6)))


def test_sequential_error_in_a_later_layer_names_that_layer(rng):
    net = nn.Sequential(
        {"conv": nn.Conv2d(3, 4, 3, dtype=F64, rng=rng), "fc": nn.Linear(10, 2, dtype=F64, rng=rng)}
    )
    with pytest.raises(ValueError, match=r"layer 'fc' Linear\(10, 2.*input \(1, 4, 3, 3\)"):
        net.forward(rng.standard_normal((1, 3, 5, 5)))


def test_residual_identity_shape_mismatch_is_explained(rng):
    res = nn.Residual(nn.Conv2d(3, 4, 3, padding=1, dtype=F64, rng=rng))
    with pytest.raises(
        ValueError,
        match=r"block output \(1, 4, 5, 5\) does not match the "
        r"identity shortcut's \(1, 3, 5, 5\)",
    ):
        res.forward(rng.standard_normal((1, 3, 5, 5)))


def test_conv_same_padding_keeps_size_and_rejects_even_kernels(rng):
    conv = nn.Conv2d(2, 3, 5, padding="same", dilation=2, dtype=F64, rng=rng)
    assert conv.forward(rng.standard_normal((1, 2, 9, 7))).shape == (1, 3, 9, 7)
    with pytest.raises(ValueError, match="odd kernel"):
        nn.Conv2d(2, 3, 4, padding="same")
    with pytest.raises(ValueError, match="stride 1"):
        nn.Conv2d(2, 3, 3, stride=2, padding="same")


def test_layers_create_arrays_in_the_requested_dtype():
    for layer in (
        nn.Linear(3, 2),
        nn.Conv2d(1, 2, 3),
        nn.BatchNorm2d(2),
        nn.GroupNorm(1, 2),
        nn.LayerNorm(4),
    ):
        assert all(p.dtype == np.float32 for p in layer.params.values())
    assert nn.Linear(3, 2, dtype=F64).params["weight"].dtype == F64


def test_same_seed_same_weights():
    a, b = nn.Conv2d(3, 4, 3, rng=5), nn.Conv2d(3, 4, 3, rng=5)
    np.testing.assert_array_equal(a.params["weight"], b.params["weight"])
    assert not np.array_equal(a.params["weight"], nn.Conv2d(3, 4, 3, rng=6).params["weight"])


def test_repr_shows_the_tree():
    text = repr(small_net())
    assert "(conv): Conv2d(3, 4, kernel_size=(3, 3)" in text
    assert "(block): Sequential(" in text
