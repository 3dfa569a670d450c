"""Every layer in the table (``cases.py``) against its torch.nn twin and central differences,
and its bad inputs. Nothing here names a layer: a new entry in the table gets every check."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn as tnn

from cnnlab import nn
from cnnlab.gradcheck import eval_numerical_gradient_array

from ..functional._compare import assert_close
from ..functional.cases import BN_NUM_RTOL, EXACT_ATOL, EXACT_RTOL, NUM_ATOL
from .cases import MODULES, ModuleInfo, running_stat_from_torch, to_torch

ENTRIES = pytest.mark.parametrize("info", MODULES, ids=lambda info: info.name)


def make(info: ModuleInfo, rng: np.random.Generator) -> nn.Module:
    """The entry's layer with random parameters (scales and shifts too, so they are tested)."""
    layer = info.make(rng)
    for _, module, key in layer.slots("params"):
        module.params[key][...] = rng.standard_normal(module.params[key].shape)
    return layer


def twin_of(info: ModuleInfo, layer: nn.Module) -> tnn.Module:
    """The torch twin in float64, holding the layer's parameters and buffers, in its mode."""
    twin = info.twin(layer).double().train(layer.training)
    ours = {}
    for name, module, key in [*layer.slots("params"), *layer.slots("buffers")]:
        value = module.params[key] if key in module.params else module.buffers[key]
        ours[name] = torch.from_numpy(np.ascontiguousarray(to_torch(module, key, value)))
    theirs = twin.state_dict()
    assert set(dict(layer.named_parameters())) == set(dict(twin.named_parameters()))
    unmatched = [k for k in theirs if k not in ours and not k.endswith("num_batches_tracked")]
    assert not unmatched, f"torch state without a cnnlab counterpart: {unmatched}"
    twin.load_state_dict({k: ours.get(k, v) for k, v in theirs.items()})
    return twin


def count_per_channel(twin: tnn.Module) -> dict[str, int]:
    """Filled during the twin's forward pass: values per channel seen by each batch norm."""
    counts: dict[str, int] = {}
    for name, module in twin.named_modules():
        if isinstance(module, tnn.modules.batchnorm._BatchNorm):

            def hook(_module, inputs, name=name) -> None:
                counts[name] = inputs[0].numel() // inputs[0].shape[1]

            module.register_forward_pre_hook(hook)
    return counts


@ENTRIES
def test_against_torch(info: ModuleInfo) -> None:
    rng = np.random.default_rng(0)
    layer = make(info, rng)
    twin = twin_of(info, layer)
    counts = count_per_channel(twin)
    before = {name: value.copy() for name, value in layer.named_buffers()}
    x = rng.standard_normal(info.input_shape)
    out = info.forward(layer, x)
    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    tout = twin(tx)
    assert_close(out, tout.detach().numpy(), EXACT_RTOL, EXACT_ATOL, "out")

    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    tout.backward(torch.from_numpy(dout))
    assert_close(dx, tx.grad.numpy(), EXACT_RTOL, EXACT_ATOL, "dx")
    tparams = dict(twin.named_parameters())
    for name, module, key in layer.slots("params"):
        expected = to_torch(module, key, tparams[name].grad.numpy())
        assert_close(module.grads[key], expected, EXACT_RTOL, EXACT_ATOL, name)
    tbuffers = {k: v.numpy() for k, v in twin.named_buffers()}
    for name, module, key in layer.slots("buffers"):
        if name in tbuffers:
            owner = name.rpartition(".")[0]
            expected = running_stat_from_torch(
                module, key, tbuffers[name], before[name], counts.get(owner, 0)
            )
            assert_close(module.buffers[key], expected, EXACT_RTOL, EXACT_ATOL, name)


@ENTRIES
def test_numerical_gradients(info: ModuleInfo) -> None:
    """Backward returns the gradient of ``sum(forward(x) * dout)`` for x and every parameter.

    Tolerances: central differences as in the op table; rtol as for batch norm, which several
    entries contain.
    """
    rng = np.random.default_rng(1)
    layer = make(info, rng)
    x = rng.standard_normal(info.input_shape)
    out = info.forward(layer, x)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    forward = lambda _: info.forward(layer, x)  # noqa: E731 (reads x and the params in place)
    assert_close(dx, eval_numerical_gradient_array(forward, x, dout), BN_NUM_RTOL, NUM_ATOL, "dx")
    for name, module, key in layer.slots("params"):
        assert module.grads.keys() == module.params.keys(), name
        num = eval_numerical_gradient_array(forward, module.params[key], dout)
        assert_close(module.grads[key], num, BN_NUM_RTOL, NUM_ATOL, name)


@pytest.mark.parametrize(
    ("info", "shape", "match"),
    [
        pytest.param(info, shape, match, id=f"{info.name}-{k}")
        for info in MODULES
        for k, (shape, match) in enumerate(info.bad_inputs)
    ],
)
def test_bad_input(info: ModuleInfo, shape, match) -> None:
    layer = info.make(np.random.default_rng(0))
    with pytest.raises(ValueError, match=match):
        info.forward(layer, np.zeros(shape))


def test_every_layer_has_an_entry() -> None:
    """Each layer class that cnnlab.nn exports is made by some entry of the table."""
    exported = {getattr(nn, name) for name in nn.__all__}
    layers = {c for c in exported if isinstance(c, type) and issubclass(c, nn.Module)}
    made = {type(info.make(np.random.default_rng(0))) for info in MODULES}
    missing = sorted(c.__name__ for c in layers - made - {nn.Module})
    assert not missing, f"layers without an entry in tests/nn/cases.py: {missing}"
