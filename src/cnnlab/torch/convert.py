"""``to_torch`` / ``from_torch``: a cnnlab network as a ``torch.nn`` module and back.

Every :mod:`cnnlab.nn` layer and container, every forward-only module (its ``forward``
replayed with torch ops, :mod:`cnnlab.torch.replay`) and every Classifier (its network) has a
twin. Parameters and buffers are copied (the twin shares no memory with the cnnlab arrays) with
their dtype, under the same dotted names, and the twin is in the layer's train/eval mode. Where
the two libraries differ in convention the copy translates:

* ``Linear``: cnnlab's weight is (in, out), torch's (out, in): transposed. Conv weights
  (F, C, HH, WW) are the same in both. The twin of ``Linear`` flattens (N, d1, ..., dk) first.
* ``BatchNorm1d/2d``: cnnlab's momentum m keeps m of the running value, torch's keeps 1 - m,
  so the twin has ``momentum = 1 - m``; cnnlab updates the running variance with the biased
  batch variance, torch with the unbiased one, so the twin (:class:`BatchNorm1d`,
  :class:`BatchNorm2d`) updates it as cnnlab does. Outputs, gradients and running statistics
  agree in both modes.
* ``GlobalAvgPool2d`` (N, C, H, W) -> (N, C) becomes :class:`GlobalAvgPool2d` (a mean).
* ``Dropout(p)``: both take the drop probability (the functional CS231n op's ``p`` is the keep
  probability); ``torch.nn.Dropout(p)`` is the identity in eval mode, but in training mode torch
  draws its own masks, so outputs differ. With ``same_masks=True`` the twin instead multiplies
  by the scaled mask the cnnlab layer drew in its most recent forward pass (what
  :func:`~cnnlab.torch.compare.compare_with_torch` uses, running cnnlab first): exact, but
  only for the input that cnnlab forward saw.

``from_torch`` converts the same layer set back (a plain ``torch.nn.BatchNorm2d`` keeps its
numbers, and from then on updates its running variance as cnnlab does); a module without a
cnnlab twin, or with an option cnnlab lacks (grouped convolutions, batch norm without affine
parameters, ...), is named in the error, every one of them at once.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn as tnn

from cnnlab import nn
from cnnlab.models.classifier import Classifier

from .replay import ForwardOnly, batch_norm


class Link(NamedTuple):
    """A cnnlab parameter and its torch twin: ``module.params[key]`` <-> ``param``.

    The twin is transposed when ``transposed``; ``name`` is the dotted name below the converted
    layer.
    """

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
        """``block(x)`` plus ``x`` or ``shortcut(x)``, through a ReLU when ``relu``."""
        out = self.block(x) + (x if self.shortcut is None else self.shortcut(x))
        return torch.relu(out) if self.relu else out


class Linear(tnn.Linear):
    """Twin of :class:`cnnlab.nn.Linear`, which flattens (N, d1, ..., dk) inputs first."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Flatten x (N, d1, ..., dk) to (N, D), then ``x @ weight.T + bias`` (N, M)."""
        return super().forward(x.flatten(1))


class GlobalAvgPool2d(tnn.Module):
    """Twin of :class:`cnnlab.nn.GlobalAvgPool2d`: x (N, C, H, W) -> its mean over H, W (N, C)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The mean of x (N, C, H, W) over H and W: (N, C)."""
        return x.mean((2, 3))


class _CnnlabRunningVar:
    """Batch norm whose running variance follows cnnlab (biased batch variance)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Batch norm of x, updating the running statistics the cnnlab way in training mode.

        The running variance is the biased batch variance, and cnnlab's momentum (the weight of
        the old statistics) is ``1 - self.momentum``.
        """
        self._check_input_dim(x)
        return batch_norm(
            x,
            self.weight,
            self.bias,
            self.running_mean,
            self.running_var,
            self.training,
            1.0 - self.momentum,
            self.eps,
        )


class BatchNorm1d(_CnnlabRunningVar, tnn.BatchNorm1d):
    """Twin of :class:`cnnlab.nn.BatchNorm1d` (x (N, D)); torch's momentum convention."""


class BatchNorm2d(_CnnlabRunningVar, tnn.BatchNorm2d):
    """Twin of :class:`cnnlab.nn.BatchNorm2d` (x (N, C, H, W)); torch's momentum convention."""


class SameMaskDropout(tnn.Module):
    """Dropout replaying the scaled mask of a cnnlab ``Dropout`` layer's latest forward pass.

    It replays the mask in training mode and is the identity in eval mode.
    """

    def __init__(self, layer: nn.Dropout) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` times the cnnlab layer's last mask in training mode, else ``x`` itself.

        ``x`` is also returned unchanged when the layer has no mask yet.

        Raises:
            ValueError: the mask's shape differs from ``x``'s.
        """
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


def _transposed(module: Any, key: str) -> bool:
    """Whether entry ``key`` of ``module`` is stored transposed by the other library."""
    return isinstance(module, (nn.Linear, tnn.Linear)) and key == "weight"


# --- cnnlab -> torch ---------------------------------------------------------------------------


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
    nn.GlobalAvgPool2d: lambda layer: GlobalAvgPool2d(),
    nn.ReLU: lambda layer: tnn.ReLU(),
    nn.LeakyReLU: lambda layer: tnn.LeakyReLU(layer._kwargs["negative_slope"]),
    nn.ELU: lambda layer: tnn.ELU(layer._kwargs["alpha"]),
    nn.Sigmoid: lambda layer: tnn.Sigmoid(),
    nn.Tanh: lambda layer: tnn.Tanh(),
    nn.Flatten: lambda layer: tnn.Flatten(),
    nn.Dropout: lambda layer: tnn.Dropout(layer.p),
    nn.BatchNorm1d: _batch_norm(BatchNorm1d),
    nn.BatchNorm2d: _batch_norm(BatchNorm2d),
    nn.LayerNorm: lambda layer: tnn.LayerNorm(layer.normalized_shape, eps=layer.eps),
    nn.GroupNorm: lambda layer: tnn.GroupNorm(layer.num_groups, layer.num_channels, layer.eps),
    nn.Upsample: lambda layer: tnn.Upsample(scale_factor=layer.scale_factor, mode=layer.mode),
}


def _copy_in(layer: nn.Module, twin: tnn.Module, prefix: str, links: list[Link]) -> None:
    """Copy ``layer``'s local parameters and buffers into ``twin`` (same names); append links."""
    for key, value in layer.params.items():
        transposed = _transposed(layer, key)
        param = tnn.Parameter(_tensor(value, transposed))
        setattr(twin, key, param)
        links.append(Link(f"{prefix}.{key}" if prefix else key, layer, key, param, transposed))
    for key, value in layer.buffers.items():  # a Dropout's mask key too, to come back
        if key in twin._buffers:
            setattr(twin, key, _tensor(value))
        else:
            twin.register_buffer(key, _tensor(value))


def _leaf(layer: nn.Module, prefix: str, same_masks: bool) -> tnn.Module:
    """Twin of one leaf layer, parameters not yet copied in."""
    if same_masks and isinstance(layer, nn.Dropout):
        return SameMaskDropout(layer)
    make = next((_LEAVES[cls] for cls in type(layer).__mro__ if cls in _LEAVES), None)
    if make is None:
        raise ValueError(
            f"to_torch: no PyTorch twin for {type(layer).__name__} (layer {prefix or '<root>'!r})"
        )
    return make(layer)


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
        elif module._forward_only() and type(module).forward is not nn.Module.forward:
            children = {n: walk(c, sub(n)) for n, c in module.named_children()}
            twin = ForwardOnly(module, children)
        else:
            twin = _leaf(module, path, same_masks)
        _copy_in(module, twin, path, links)
        return twin.train(module.training)

    return walk(layer, prefix), links


def _network(model: nn.Module | Classifier, caller: str) -> nn.Module:
    """The cnnlab module of a Module or a Classifier; ValueError for anything else."""
    net = model.net if isinstance(model, Classifier) else model
    if not isinstance(net, nn.Module):
        raise ValueError(
            f"{caller}: expected a cnnlab.nn Module or a Classifier, got {type(model).__name__}"
        )
    return net


def to_torch(model: nn.Module | Classifier, same_masks: bool = False) -> tnn.Module:
    """The ``torch.nn`` twin of a cnnlab layer, container, forward-only module or Classifier.

    Args:
        model: any :mod:`cnnlab.nn` module, or a Classifier (any registered model), whose
            network ``model.net`` is converted.
        same_masks: turn ``Dropout`` layers into :class:`SameMaskDropout` (replaying the cnnlab
            layer's latest mask) instead of ``torch.nn.Dropout``.

    Returns:
        A ``torch.nn.Module`` computing the same function on (N, ...) tensors of the layer's
        dtype, in the layer's train/eval mode, with copies of its parameters and buffers named
        as in the cnnlab module (``block.0.conv1.weight``, ...). For a Classifier, the twin's
        ``cnnlab_names`` maps each of the model's public names (``W1``, ...) to that name.

    Raises:
        ValueError: for a layer type without a twin, or an object that is not a cnnlab model.
    """
    twin = convert(_network(model, "to_torch"), same_masks=same_masks)[0]
    if isinstance(model, Classifier):
        twin.cnnlab_names = {public: name for public, name, _, _ in _entries(model)}
    return twin


# --- copying numbers between a cnnlab model and its twin ---------------------------------------


def _entries(model: nn.Module | Classifier) -> Iterator[tuple[str, str, nn.Module, str]]:
    """``(public name, dotted name in the network, module, key)`` of every parameter and buffer.

    Covers the parameters and buffers of ``model``; the public name is a Classifier's, e.g. ``W1``.
    """
    net = _network(model, "copy")
    public: dict[tuple[int, str], str] = {}
    if isinstance(model, Classifier):
        slots = model._param_slots + model._buffer_slots
        public = {(id(module), key): name for name, module, key in slots}
    for kind in ("params", "buffers"):
        for name, module, key in net.slots(kind):
            yield public.get((id(module), key), name), name, module, key


def _twin_tensors(twin: tnn.Module) -> dict[str, torch.Tensor]:
    return {**dict(twin.named_parameters()), **dict(twin.named_buffers())}


def copy_from_torch(model: nn.Module | Classifier, twin: tnn.Module) -> None:
    """Copy the twin's parameters and buffers into the cnnlab model, in place.

    Entries are matched by dotted name (a twin of :func:`to_torch` or a module whose
    structure mirrors the model); Linear weights are transposed. Buffers the twin does not
    hold (a ``Dropout``'s mask counter) keep their values.

    Raises:
        ValueError: a parameter missing from the twin, or of another shape.
    """
    tensors = _twin_tensors(twin)
    for _, name, module, key in _entries(model):
        store = module.params if key in module.params else module.buffers
        if name not in tensors:
            if store is module.buffers:
                continue
            raise ValueError(f"copy_from_torch: the torch module has no parameter {name!r}")
        value = tensors[name].detach().cpu().numpy()
        value = value.T if _transposed(module, key) else value
        if value.shape != store[key].shape:
            raise ValueError(
                f"copy_from_torch: {name!r} is {value.shape} in the torch module but "
                f"{store[key].shape} in the cnnlab one"
            )
        store[key][...] = value


def copy_to_torch(twin: tnn.Module, model: nn.Module | Classifier) -> None:
    """Copy the cnnlab model's parameters and buffers into its twin, in place.

    The inverse of :func:`copy_from_torch`; the twin's tensors keep their device.
    """
    tensors = _twin_tensors(twin)
    with torch.no_grad():
        for _, name, module, key in _entries(model):
            if name in tensors:
                value = module.params.get(key, module.buffers.get(key))
                value = value.T if _transposed(module, key) else value
                tensors[name].copy_(torch.from_numpy(np.ascontiguousarray(value)))


# --- torch -> cnnlab ---------------------------------------------------------------------------


def _dtype(module: tnn.Module) -> type:
    """The NumPy dtype of the module's first floating parameter (float32 without one)."""
    param = next((p for p in module.parameters(recurse=False) if p.is_floating_point()), None)
    return np.float32 if param is None else param.detach().cpu().numpy().dtype.type


def _from_conv(m: tnn.Conv2d) -> nn.Module:
    if m.groups != 1 or m.padding_mode != "zeros" or isinstance(m.padding, str):
        raise ValueError(
            f"groups={m.groups}, padding={m.padding!r}, padding_mode={m.padding_mode!r} "
            "(cnnlab has ungrouped, zero-padded convolutions with integer padding)"
        )
    return nn.Conv2d(
        m.in_channels,
        m.out_channels,
        m.kernel_size,
        m.stride,
        m.padding,
        m.dilation,
        bias=m.bias is not None,
        dtype=_dtype(m),
    )


def _from_batch_norm(kind: type[nn.Module]) -> Callable[[Any], nn.Module]:
    def make(m: tnn.modules.batchnorm._BatchNorm) -> nn.Module:
        if m.momentum is None or not m.affine or not m.track_running_stats:
            raise ValueError(
                f"momentum={m.momentum}, affine={m.affine}, track_running_stats="
                f"{m.track_running_stats} (cnnlab's batch norm has a fixed momentum, a scale "
                "and a shift, and running statistics)"
            )
        return kind(m.num_features, eps=m.eps, momentum=1.0 - m.momentum, dtype=_dtype(m))

    return make


def _from_max_pool(m: tnn.MaxPool2d) -> nn.Module:
    if m.dilation not in (1, (1, 1)) or m.return_indices:
        raise ValueError(f"dilation={m.dilation}, return_indices={m.return_indices}")
    return nn.MaxPool2d(m.kernel_size, m.stride, m.padding, ceil_mode=m.ceil_mode)


def _from_avg_pool(m: tnn.AvgPool2d) -> nn.Module:
    if m.divisor_override is not None:
        raise ValueError(f"divisor_override={m.divisor_override}")
    return nn.AvgPool2d(
        m.kernel_size,
        m.stride,
        m.padding,
        ceil_mode=m.ceil_mode,
        count_include_pad=m.count_include_pad,
    )


def _from_layer_norm(m: tnn.LayerNorm) -> nn.Module:
    if not m.elementwise_affine or m.bias is None:
        raise ValueError("elementwise_affine=False or bias=False (cnnlab's has both)")
    return nn.LayerNorm(tuple(m.normalized_shape), eps=m.eps, dtype=_dtype(m))


def _from_group_norm(m: tnn.GroupNorm) -> nn.Module:
    if not m.affine:
        raise ValueError("affine=False (cnnlab's has a scale and a shift)")
    return nn.GroupNorm(m.num_groups, m.num_channels, eps=m.eps, dtype=_dtype(m))


def _from_upsample(m: tnn.Upsample) -> nn.Module:
    scale = m.scale_factor
    if m.mode != "nearest" or m.size is not None or scale is None or scale != int(scale):
        raise ValueError(
            f"mode={m.mode!r}, size={m.size}, scale_factor={scale} (cnnlab's is nearest, by "
            "an integer factor)"
        )
    return nn.Upsample(int(scale))


def _from_flatten(m: tnn.Flatten) -> nn.Module:
    if m.start_dim != 1 or m.end_dim != -1:
        raise ValueError(f"start_dim={m.start_dim}, end_dim={m.end_dim}")
    return nn.Flatten()


# torch type -> function building the cnnlab layer (ValueError for an option cnnlab lacks);
# looked up along the type's MRO, so the twins above (subclasses) convert as their base.
_TORCH_LEAVES: dict[type[tnn.Module], Callable[[Any], nn.Module]] = {
    tnn.Conv2d: _from_conv,
    tnn.Linear: lambda m: nn.Linear(
        m.in_features, m.out_features, bias=m.bias is not None, dtype=_dtype(m)
    ),
    tnn.MaxPool2d: _from_max_pool,
    tnn.AvgPool2d: _from_avg_pool,
    GlobalAvgPool2d: lambda m: nn.GlobalAvgPool2d(),
    tnn.ReLU: lambda m: nn.ReLU(),
    tnn.LeakyReLU: lambda m: nn.LeakyReLU(m.negative_slope),
    tnn.ELU: lambda m: nn.ELU(m.alpha),
    tnn.Sigmoid: lambda m: nn.Sigmoid(),
    tnn.Tanh: lambda m: nn.Tanh(),
    tnn.Flatten: _from_flatten,
    tnn.Dropout: lambda m: nn.Dropout(m.p),
    SameMaskDropout: lambda m: nn.Dropout(m.layer.p),
    tnn.BatchNorm1d: _from_batch_norm(nn.BatchNorm1d),
    tnn.BatchNorm2d: _from_batch_norm(nn.BatchNorm2d),
    tnn.LayerNorm: _from_layer_norm,
    tnn.GroupNorm: _from_group_norm,
    tnn.Upsample: _from_upsample,
}


def from_torch(module: tnn.Module) -> nn.Module:
    """The cnnlab twin of a ``torch.nn`` module: the reverse of :func:`to_torch`.

    Converts the layers :func:`to_torch` produces (``Conv2d``, ``Linear``, pools, activations,
    ``Flatten``, ``Dropout``, batch/layer/group norm, ``Upsample``), ``torch.nn.Sequential``,
    the twins of ``Residual`` and ``GlobalAvgPool2d``, and the twin of a forward-only module
    (a copy of the module it was made from). Numbers are copied with their dtype, conventions
    translated (Linear weights transposed, batch-norm momentum ``1 - m``), the mode kept.

    Args:
        module: the torch module.

    Returns:
        A :mod:`cnnlab.nn` module with the same names, computing the same function (a torch
        ``Linear`` becomes a cnnlab one, which also flattens (N, d1, ..., dk) inputs).

    Raises:
        ValueError: naming every module (by dotted path and type) that cnnlab cannot express,
            with the option that stops it.
    """
    problems: list[str] = []

    def walk(m: tnn.Module, path: str) -> nn.Module | None:
        where = f"{path or '<root>'} ({type(m).__name__})"
        sub = lambda name: f"{path}.{name}" if path else name  # noqa: E731
        if isinstance(m, tnn.Sequential):
            children = {n: walk(c, sub(n)) for n, c in m.named_children()}
            return None if None in children.values() else nn.Sequential(children)
        if isinstance(m, Residual):
            block = walk(m.block, sub("block"))
            short = None if m.shortcut is None else walk(m.shortcut, sub("shortcut"))
            if block is None or (m.shortcut is not None and short is None):
                return None
            return nn.Residual(block, short, m.relu)
        if isinstance(m, ForwardOnly):
            twin = copy.deepcopy(m.source)
            copy_from_torch(twin, m)
            return twin
        make = next((_TORCH_LEAVES[c] for c in type(m).__mro__ if c in _TORCH_LEAVES), None)
        if make is None:
            problems.append(f"{where}: no cnnlab twin")
            return None
        try:
            layer = make(m)
        except ValueError as err:
            problems.append(f"{where}: {err}")
            return None
        for key, value in [*m.named_parameters(recurse=False), *m.named_buffers(recurse=False)]:
            if key in layer.params or key in layer.buffers:
                store = layer.params if key in layer.params else layer.buffers
                array = value.detach().cpu().numpy()
                store[key] = np.ascontiguousarray(array.T if _transposed(m, key) else array)
        return layer

    result = walk(module, "")
    if problems or result is None:
        raise ValueError("from_torch: cannot convert " + "; ".join(problems))
    return result.train(module.training)
