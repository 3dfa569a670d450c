"""Helpers to compare a cnnlab model with the same network written in torch.nn (float64).

The torch networks are written out by hand in the tests, from the models' specifications; these
helpers only copy weights across (transposing fully-connected weights, whose cnnlab layout is
(in, out)) and compute the reference loss and gradients.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn as tnn


class Residual(tnn.Module):
    """relu?(block(x) + shortcut(x)), registering block before shortcut (cnnlab's order)."""

    def __init__(self, block: tnn.Module, shortcut: tnn.Module | None = None, relu: bool = True):
        super().__init__()
        self.block = block
        self.shortcut = shortcut if shortcut is not None else tnn.Identity()
        self.relu = relu

    def forward(self, x):
        out = self.block(x) + self.shortcut(x)
        return torch.relu(out) if self.relu else out


class MaskFrom(tnn.Module):
    """Dropout with the scaled mask the given cnnlab Dropout layer drew in its last forward;
    the identity in eval mode."""

    def __init__(self, layer) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x):
        return x * torch.from_numpy(self.layer._cache) if self.training else x


def _linear_weights(tnet: tnn.Module) -> set[int]:
    return {id(m.weight) for m in tnet.modules() if isinstance(m, tnn.Linear)}


def _decayed(tnet: tnn.Module) -> list[torch.Tensor]:
    """Weights of every torch conv and linear layer (what L2 regularisation covers)."""
    return [m.weight for m in tnet.modules() if isinstance(m, (tnn.Linear, tnn.Conv2d))]


def copy_weights(model, tnet: tnn.Module) -> list[tuple[str, torch.Tensor, bool]]:
    """Copy ``model.params`` (in order) into ``tnet.parameters()`` (in order) and the batch-norm
    running statistics into torch's; returns ``(name, torch param, transposed)`` triples."""
    tparams = list(tnet.parameters())
    assert len(tparams) == len(model.params), (list(model.params), len(tparams))
    linear = _linear_weights(tnet)
    pairs = []
    with torch.no_grad():
        for (name, value), tp in zip(model.params.items(), tparams, strict=True):
            transposed = id(tp) in linear
            value = value.T if transposed else value
            assert tuple(tp.shape) == value.shape, (name, tuple(tp.shape), value.shape)
            tp.copy_(torch.from_numpy(np.ascontiguousarray(value)))
            pairs.append((name, tp, transposed))
        ours = [
            v for k, v in model.state_dict().items() if k.endswith(("running_mean", "running_var"))
        ]
        theirs = [b for n, b in tnet.named_buffers() if n.endswith(("running_mean", "running_var"))]
        assert len(ours) == len(theirs)
        for value, tb in zip(ours, theirs, strict=True):
            tb.copy_(torch.from_numpy(value))
    return pairs


def torch_loss_and_grads(tnet: tnn.Module, pairs, X: np.ndarray, y: np.ndarray, reg: float):
    """Cross-entropy + 0.5 reg sum(W^2) in torch (train mode); returns (loss, {name: grad})."""
    tnet.train()
    tnet.zero_grad()
    scores = tnet(torch.from_numpy(X))
    loss = tnn.functional.cross_entropy(scores, torch.from_numpy(y))
    loss = loss + 0.5 * reg * sum((w * w).sum() for w in _decayed(tnet))
    loss.backward()
    grads = {}
    for name, tp, transposed in pairs:
        g = tp.grad.numpy()
        grads[name] = g.T if transposed else g
    return float(loss.detach()), grads


def assert_close(actual: np.ndarray, expected: np.ndarray, scale: float, name: str = "") -> None:
    """Equal up to float64 rounding: rtol 1e-8 plus 1e-10 * ``scale`` absolute, where ``scale``
    is the size of the largest related quantity (rounding errors scale with the terms summed,
    so a gradient that is exactly zero in theory, such as a bias before batch norm, comes out as
    ~1e-17 noise; any real error is many orders larger)."""
    np.testing.assert_allclose(actual, expected, rtol=1e-8, atol=1e-10 * scale, err_msg=name)
