"""``to_torch``: the ``torch.nn`` twin of a cnnlab layer or container, with the same numbers.

Every :mod:`cnnlab.nn` layer has a twin; parameters and buffers are copied (the twin shares no
memory with the cnnlab arrays) with their dtype, and the twin is in the layer's train/eval mode.
Where the two libraries differ in convention the copy translates:

* ``Linear``: cnnlab's weight is (in, out), torch's (out, in): transposed. Conv weights
  (F, C, HH, WW) are the same in both.
* ``BatchNorm1d/2d``: cnnlab's momentum m keeps m of the running value, torch's keeps 1 - m,
  so the twin gets ``momentum = 1 - m``; the running mean and variance are copied. After a
  training-mode forward the running variances part: cnnlab updates with the biased batch
  variance, torch with the unbiased one. Outputs and gradients agree in both modes.
* ``GlobalAvgPool2d`` (N, C, H, W) -> (N, C) becomes ``AdaptiveAvgPool2d(1)`` + ``Flatten``.
* ``Dropout(p)`` becomes ``torch.nn.Dropout(p)``: the identity in eval mode, but in training
  mode torch draws its own masks, so outputs differ. With ``same_masks=True`` the twin instead
  multiplies by the scaled mask the cnnlab layer drew in its most recent forward pass (what
  :func:`~cnnlab.torch.compare.compare_with_torch` uses, running cnnlab first): exact, but
  only for the input that cnnlab forward saw.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch
from torch import nn as tnn

from cnnlab import nn


class Link(NamedTuple):
    """A cnnlab parameter and its torch twin: ``module.params[key]`` <-> ``param`` (transposed
    when ``transposed``); ``name`` is the dotted name below the converted layer."""

    name: str
    module: nn.Module
    key: str
    param: tnn.Parameter
    transposed: bool


class Residual(tnn.Module):
    """Twin of :class:`cnnlab.nn.Residual`: ``relu?(block(x) + shortcut(x))``."""

    def __init__(self, block: tnn.Module, shortcut: tnn.Module | None, relu: bool) -> None:
        super().__init__()
        self.block = block
        self.shortcut = shortcut
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block(x) + (x if self.shortcut is None else self.shortcut(x))
        return torch.relu(out) if self.relu else out


class Linear(tnn.Linear):
    """Twin of :class:`cnnlab.nn.Linear`, which flattens (N, d1, ..., dk) inputs first."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.flatten(1))


class SameMaskDropout(tnn.Module):
    """Dropout replaying the scaled mask of a cnnlab ``Dropout`` layer's latest forward pass in
    training mode (the identity in eval mode)."""

    def __init__(self, layer: nn.Dropout) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = self.layer._cache
        if not self.training or mask is None:
            return x
        if mask.shape != tuple(x.shape):
            raise ValueError(
                f"SameMaskDropout: the cnnlab layer's last mask has shape {mask.shape}, the "
                f"input {tuple(x.shape)}"
            )
        return x * torch.from_numpy(mask)


def _tensor(array: np.ndarray, transposed: bool = False) -> torch.Tensor:
    return torch.tensor(np.ascontiguousarray(array.T if transposed else array))


def _conv(layer: nn.Conv2d) -> tnn.Module:
    return tnn.Conv2d(
        layer.in_channels,
        layer.out_channels,
        layer.kernel_size,
        stride=layer.stride,
        padding=layer.padding,
        dilation=layer.dilation,
        bias="bias" in layer.params,
    )


def _linear(layer: nn.Linear) -> tnn.Module:
    return Linear(layer.in_features, layer.out_features, bias="bias" in layer.params)


def _max_pool(layer: nn.MaxPool2d) -> tnn.Module:
    return tnn.MaxPool2d(layer.kernel_size, layer.stride, layer.padding, ceil_mode=layer.ceil_mode)


def _avg_pool(layer: nn.AvgPool2d) -> tnn.Module:
    return tnn.AvgPool2d(
        layer.kernel_size,
        layer.stride,
        layer.padding,
        ceil_mode=layer.ceil_mode,
        count_include_pad=layer.count_include_pad,
    )


def _batch_norm(kind: type[tnn.Module]) -> Callable[[nn.Module], tnn.Module]:
    def make(layer: nn.Module) -> tnn.Module:
        return kind(layer.num_features, eps=layer.eps, momentum=1.0 - layer.momentum)

    return make


# Leaf layers: cnnlab type -> function building the torch module (parameters copied after).
_LEAVES: dict[type[nn.Module], Callable[..., tnn.Module]] = {
    nn.Conv2d: _conv,
    nn.Linear: _linear,
    nn.MaxPool2d: _max_pool,
    nn.AvgPool2d: _avg_pool,
    nn.GlobalAvgPool2d: lambda layer: tnn.Sequential(tnn.AdaptiveAvgPool2d(1), tnn.Flatten()),
    nn.ReLU: lambda layer: tnn.ReLU(),
    nn.LeakyReLU: lambda layer: tnn.LeakyReLU(layer._kwargs["negative_slope"]),
    nn.ELU: lambda layer: tnn.ELU(layer._kwargs["alpha"]),
    nn.Sigmoid: lambda layer: tnn.Sigmoid(),
    nn.Tanh: lambda layer: tnn.Tanh(),
    nn.Flatten: lambda layer: tnn.Flatten(),
    nn.Dropout: lambda layer: tnn.Dropout(layer.p),
    nn.BatchNorm1d: _batch_norm(tnn.BatchNorm1d),
    nn.BatchNorm2d: _batch_norm(tnn.BatchNorm2d),
    nn.LayerNorm: lambda layer: tnn.LayerNorm(layer.normalized_shape, eps=layer.eps),
    nn.GroupNorm: lambda layer: tnn.GroupNorm(layer.num_groups, layer.num_channels, layer.eps),
    nn.Upsample: lambda layer: tnn.Upsample(scale_factor=layer.scale_factor, mode=layer.mode),
}


def _leaf(layer: nn.Module, prefix: str, links: list[Link], same_masks: bool) -> tnn.Module:
    """Twin of one leaf layer, its parameters and buffers copied in; links appended."""
    if same_masks and isinstance(layer, nn.Dropout):
        return SameMaskDropout(layer)
    make = next((_LEAVES[cls] for cls in type(layer).__mro__ if cls in _LEAVES), None)
    if make is None:
        raise ValueError(
            f"to_torch: no PyTorch twin for {type(layer).__name__} (layer {prefix or '<root>'!r})"
        )
    twin = make(layer)
    for key, value in layer.params.items():
        transposed = isinstance(layer, nn.Linear) and key == "weight"
        param = tnn.Parameter(_tensor(value, transposed))
        setattr(twin, key, param)
        links.append(Link(f"{prefix}.{key}" if prefix else key, layer, key, param, transposed))
    for key, value in layer.buffers.items():
        if key in ("running_mean", "running_var"):
            setattr(twin, key, _tensor(value))
    return twin


def convert(
    layer: nn.Module, prefix: str = "", same_masks: bool = False
) -> tuple[tnn.Module, list[Link]]:
    """The twin of ``layer`` and the links between their parameters (see :func:`to_torch`).

    Raises:
        ValueError: for a layer type without a twin.
    """
    links: list[Link] = []

    def walk(module: nn.Module, path: str) -> tnn.Module:
        sub = lambda name: f"{path}.{name}" if path else name  # noqa: E731
        if isinstance(module, nn.Sequential):
            children = OrderedDict((n, walk(c, sub(n))) for n, c in module.named_children())
            twin: tnn.Module = tnn.Sequential(children)
        elif isinstance(module, nn.Residual):
            block = walk(module._modules["block"], sub("block"))
            shortcut = module._modules.get("shortcut")
            short = None if shortcut is None else walk(shortcut, sub("shortcut"))
            twin = Residual(block, short, module.relu)
        else:
            twin = _leaf(module, path, links, same_masks)
        return twin.train(module.training)

    return walk(layer, prefix), links


def to_torch(layer: nn.Module, same_masks: bool = False) -> tnn.Module:
    """The ``torch.nn`` twin of a cnnlab layer or container (Sequential, Residual).

    Args:
        layer: any :mod:`cnnlab.nn` layer or container (a model's network: ``model.net``).
        same_masks: turn ``Dropout`` layers into :class:`SameMaskDropout` (replaying the cnnlab
            layer's latest mask) instead of ``torch.nn.Dropout``.

    Returns:
        A ``torch.nn.Module`` computing the same function on (N, ...) tensors of the layer's
        dtype, in the layer's train/eval mode, with copies of its parameters and buffers.

    Raises:
        ValueError: for a layer type without a twin.
    """
    return convert(layer, same_masks=same_masks)[0]
