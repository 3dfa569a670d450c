"""Forward-only twins of cnnlab networks, written with cnnlab.autograd for the tests.

``twin(module)`` rebuilds a network as forward-only Modules that share the original layers'
``params`` and ``buffers`` dicts (the same arrays): every layer becomes a ``forward`` over
:mod:`cnnlab.autograd.functional`, Sequential a loop over its children and Residual
``relu(block(x) + shortcut(x))``; a network that is forward-only already stays as it is. With
``deep=False`` only the containers are rewritten and the explicit layers stay, each one step of
the tape. ``forward_only(model)`` wraps the twin of a model's network in a Classifier with the
model's loss, reg, dtype and public parameter names.
"""

from __future__ import annotations

import numpy as np

from cnnlab import nn
from cnnlab.autograd import functional as F
from cnnlab.models.classifier import Classifier
from cnnlab.nn.module import Module


class _SharedLeaf(Module):
    """A forward-only layer that uses the arrays of an explicit ``layer``."""

    def __init__(self, layer: Module) -> None:
        super().__init__()
        self.params, self.buffers, self.decay = layer.params, layer.buffers, layer.decay

    def optional(self, key: str):
        return getattr(self, key) if key in self.params else None


class Conv(_SharedLeaf):
    def __init__(self, layer: nn.Conv2d) -> None:
        super().__init__(layer)
        self.conv_param = layer.conv_param

    def forward(self, x):
        p = self.conv_param
        return F.conv2d(x, self.weight, self.optional("bias"), p["stride"], p["pad"], p["dilation"])


class Linear(_SharedLeaf):
    def forward(self, x):
        return F.linear(x, self.weight, self.optional("bias"))


class Pool(_SharedLeaf):
    def __init__(self, layer) -> None:
        super().__init__(layer)
        self.pool_param = dict(layer.pool_param)
        self.op = F.max_pool2d if isinstance(layer, nn.MaxPool2d) else F.avg_pool2d

    def forward(self, x):
        p = dict(self.pool_param)
        kernel = p.pop("pool_height"), p.pop("pool_width")
        return self.op(x, kernel, p.pop("stride"), p.pop("pad"), **p)


class BatchNorm(_SharedLeaf):
    def __init__(self, layer) -> None:
        super().__init__(layer)
        self.eps, self.momentum = layer.eps, layer.momentum

    def forward(self, x):
        return F.batch_norm(
            x,
            self.weight,
            self.bias,
            self.buffers["running_mean"],
            self.buffers["running_var"],
            training=self.training,
            momentum=self.momentum,
            eps=self.eps,
        )


class LayerNorm(_SharedLeaf):
    def __init__(self, layer) -> None:
        super().__init__(layer)
        self.eps = layer.eps

    def forward(self, x):
        return F.layer_norm(x, self.weight, self.bias, self.eps)


class Dropout(_SharedLeaf):
    """The nn.Dropout mask schedule: the k-th training pass uses seed [key, k]."""

    def __init__(self, layer) -> None:
        super().__init__(layer)
        self.p = layer.p

    def forward(self, x):
        if not self.training:
            return F.dropout(x, self.p, training=False)
        state = self.buffers["rng_state"]
        seed = [int(state[0]), int(state[1])]
        state[1] += 1
        return F.dropout(x, self.p, seed=seed)


class Function(_SharedLeaf):
    """A parameter-free layer as one functional op."""

    def __init__(self, layer, fn) -> None:
        super().__init__(layer)
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


class Chain(Module):
    """Sequential, forward only."""

    def __init__(self, children) -> None:
        super().__init__()
        for name, child in children:
            setattr(self, name, child)

    def forward(self, x):
        for child in self._modules.values():
            x = child(x)
        return x


class Res(Module):
    """Residual, forward only: ``relu(block(x) + shortcut(x))``."""

    def __init__(self, block, shortcut, relu: bool) -> None:
        super().__init__()
        self.block = block
        if shortcut is not None:
            self.shortcut = shortcut
        self.use_relu = relu

    def forward(self, x):
        skip = self.shortcut(x) if "shortcut" in self._modules else x
        out = self.block(x) + skip
        return F.relu(out) if self.use_relu else out


FUNCTIONS = {
    nn.ReLU: F.relu,
    nn.ELU: F.elu,
    nn.Flatten: F.flatten,
    nn.GlobalAvgPool2d: F.global_avg_pool2d,
}
LAYERS = {
    nn.Conv2d: Conv,
    nn.Linear: Linear,
    nn.MaxPool2d: Pool,
    nn.AvgPool2d: Pool,
    nn.BatchNorm1d: BatchNorm,
    nn.BatchNorm2d: BatchNorm,
    nn.LayerNorm: LayerNorm,
    nn.Dropout: Dropout,
}


def twin(module: Module, deep: bool = True) -> Module:
    """The forward-only twin of ``module`` (sharing its arrays)."""
    if isinstance(module, nn.Sequential):
        return Chain((name, twin(child, deep)) for name, child in module.named_children())
    if isinstance(module, nn.Residual):
        children = dict(module.named_children())
        shortcut = children.get("shortcut")
        return Res(
            twin(children["block"], deep),
            None if shortcut is None else twin(shortcut, deep),
            module.relu,
        )
    if not deep or module._forward_only():  # a forward-only network is its own twin
        return module
    if type(module) in FUNCTIONS:
        return Function(module, FUNCTIONS[type(module)])
    return LAYERS[type(module)](module)


def forward_only(model: Classifier, deep: bool = True) -> Classifier:
    """``model`` with its network replaced by the forward-only twin (same arrays, names)."""
    dotted = [name for name, _, _ in model.net.slots("params")]
    names = dict(zip(dotted, model.params, strict=True))
    return Classifier(
        twin(model.net, deep),
        loss=model.loss_name,
        reg=model.reg,
        dtype=model.dtype,
        input_shape=model.input_shape,
        names=names,
    )


def rel_error(a, b) -> float:
    """max |a - b| / max(|a|, |b|) over all entries (0 for two zero arrays)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = max(np.abs(a).max(initial=0), np.abs(b).max(initial=0))
    return 0.0 if scale == 0 else float(np.abs(a - b).max() / scale)
