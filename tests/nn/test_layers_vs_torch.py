"""Each layer's forward output and backward gradients equal torch.nn's (float64).

The numerical gradient checks show that backward matches forward; these show that forward
computes what the PyTorch layer of the same name computes. Parameters are copied across (a
cnnlab Linear weight is the transpose of torch's).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn as tnn

from cnnlab import nn

F64 = np.float64

# (id, cnnlab layer factory(rng), torch layer factory, input shape)
CASES = [
    ("linear", lambda r: nn.Linear(6, 4, dtype=F64, rng=r), lambda: tnn.Linear(6, 4), (3, 6)),
    (
        "conv-stride-pad-dilation",
        lambda r: nn.Conv2d(
            2, 3, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), dtype=F64, rng=r
        ),
        lambda: tnn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2)),
        (2, 2, 7, 6),
    ),
    (
        "conv-no-bias",
        lambda r: nn.Conv2d(3, 2, 1, stride=2, bias=False, dtype=F64, rng=r),
        lambda: tnn.Conv2d(3, 2, 1, stride=2, bias=False),
        (2, 3, 5, 5),
    ),
    (
        "maxpool-pad-ceil",
        lambda r: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
        lambda: tnn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
        (2, 2, 6, 7),
    ),
    (
        "avgpool-exclude-pad",
        lambda r: nn.AvgPool2d(3, 2, padding=1, count_include_pad=False),
        lambda: tnn.AvgPool2d(3, 2, padding=1, count_include_pad=False),
        (2, 2, 5, 6),
    ),
    (
        "avgpool-include-pad",
        lambda r: nn.AvgPool2d(2, 1, padding=1),
        lambda: tnn.AvgPool2d(2, 1, padding=1),
        (1, 2, 4, 3),
    ),
    (
        "global-avgpool",
        lambda r: nn.GlobalAvgPool2d(),
        lambda: tnn.Sequential(tnn.AdaptiveAvgPool2d(1), tnn.Flatten()),
        (2, 3, 4, 5),
    ),
    ("leaky-relu", lambda r: nn.LeakyReLU(0.2), lambda: tnn.LeakyReLU(0.2), (3, 7)),
    ("elu", lambda r: nn.ELU(0.7), lambda: tnn.ELU(0.7), (3, 7)),
    ("sigmoid", lambda r: nn.Sigmoid(), lambda: tnn.Sigmoid(), (3, 7)),
    ("tanh", lambda r: nn.Tanh(), lambda: tnn.Tanh(), (3, 7)),
    ("batchnorm1d", lambda r: nn.BatchNorm1d(5, dtype=F64), lambda: tnn.BatchNorm1d(5), (6, 5)),
    (
        "batchnorm2d",
        lambda r: nn.BatchNorm2d(3, dtype=F64),
        lambda: tnn.BatchNorm2d(3),
        (4, 3, 2, 3),
    ),
    (
        "layernorm-chw",
        lambda r: nn.LayerNorm((2, 3, 2), dtype=F64),
        lambda: tnn.LayerNorm((2, 3, 2)),
        (3, 2, 3, 2),
    ),
    (
        "groupnorm",
        lambda r: nn.GroupNorm(2, 4, dtype=F64),
        lambda: tnn.GroupNorm(2, 4),
        (2, 4, 3, 3),
    ),
    ("flatten", lambda r: nn.Flatten(), lambda: tnn.Flatten(), (2, 3, 2, 2)),
]


def _copy(layer: nn.Module, tlayer: tnn.Module, rng: np.random.Generator) -> list:
    """Give both layers the same random parameters; return (key, torch param, transposed)."""
    pairs = []
    with torch.no_grad():
        for key, tp in tlayer.named_parameters():
            value = layer.params[key]
            value[...] = rng.standard_normal(value.shape)
            transposed = isinstance(tlayer, tnn.Linear) and key == "weight"
            tp.copy_(torch.from_numpy(value.T.copy() if transposed else value))
            pairs.append((key, tp, transposed))
    assert len(pairs) == len(layer.params)
    return pairs


@pytest.mark.parametrize("ours, theirs, shape", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_forward_and_backward_match_torch(ours, theirs, shape, rng):
    layer, tlayer = ours(rng), theirs().double()
    pairs = _copy(layer, tlayer, rng)
    x = rng.standard_normal(shape)
    out = layer.forward(x)
    tx = torch.from_numpy(x).requires_grad_(True)
    tout = tlayer(tx)
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    tout.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    for key, tp, transposed in pairs:
        expected = tp.grad.numpy().T if transposed else tp.grad.numpy()
        np.testing.assert_allclose(layer.grads[key], expected, rtol=1e-10, atol=1e-12, err_msg=key)


def test_batchnorm_eval_matches_torch_eval_with_the_same_statistics(rng):
    layer, tlayer = nn.BatchNorm2d(3, dtype=F64), tnn.BatchNorm2d(3).double()
    _copy(layer, tlayer, rng)
    for key in ("running_mean", "running_var"):
        layer.buffers[key][...] = rng.uniform(0.5, 2, 3)
        getattr(tlayer, key).copy_(torch.from_numpy(layer.buffers[key]))
    layer.eval()
    tlayer.eval()
    x = rng.standard_normal((2, 3, 4, 4))
    with torch.no_grad():
        expected = tlayer(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-10, atol=1e-12)
