"""Forward-only modules on torch tensors: their ``forward`` replayed with torch ops.

A forward-only cnnlab module (one that defines ``forward`` alone, over
:mod:`cnnlab.autograd.functional` and Tensor operators) has no layer list to translate, only
code. Its twin, :class:`ForwardOnly`, runs that very code on torch tensors: the ``forward``
function is rebuilt with its globals rebound, so that ``cnnlab.autograd.functional`` (or any
function imported from it) names the torch counterpart in :data:`OPS`, and ``self`` is a view
whose children are the children's twins and whose parameters and buffers are the twin's torch
tensors. The torch twin of each op computes what the cnnlab op computes, in cnnlab's layouts
(a ``linear`` weight is (in, out), batch-norm momentum is CS231n's and the running variance
the biased one), so the replay is the same function and torch's autograd gives its gradients.

Limits (a forward outside them raises an error, or computes something else; the round-trip
tests show the registered models are inside them):

* only what the forward reaches through the module's globals is rebound: an op reached as
  ``cnnlab.autograd.functional.relu`` through a package attribute, or through a closure, still
  expects cnnlab Tensors;
* Tensor methods are torch's: ``reshape``, ``sum(axis=, keepdims=)``, ``mean``, ``exp``,
  ``log``, ``.T``, indexing and ``+ - * / @ **`` behave alike, but ``x.transpose(*axes)`` is
  numpy's permutation in cnnlab and a two-axis swap in torch (use ``F.transpose``);
* NumPy code on ``.data`` or ``.numpy()`` leaves the graph (as in cnnlab, where it is not
  differentiated either) and fails on tensors that require grad;
* ``F.dropout`` draws torch's masks, not the cnnlab generator's.
"""

from __future__ import annotations

import builtins
import types
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch.nn import functional as tF

from cnnlab import nn
from cnnlab.autograd import functional as cnnlab_F


def batch_norm(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor,
    running_mean: torch.Tensor | None,
    running_var: torch.Tensor | None,
    training: bool,
    momentum: float,
    eps: float,
) -> torch.Tensor:
    """Cnnlab's batch norm of x (N, D) or (N, C, H, W) with torch ops.

    ``momentum`` is CS231n's (the share of the old running value kept). In training mode the
    running arrays (D,) / (C,), when given, are updated in place with the batch mean and the
    BIASED batch variance, as cnnlab does. Torch's own update, which this runs (one pass over
    x), uses the unbiased variance ``v n / (n - 1)`` over n values per feature; its share of it
    is then taken back: with ``m = 1 - momentum``, ``new = momentum old + m v n / (n - 1)``, so
    cnnlab's ``momentum old + m v`` is ``new - (new - momentum old) / n``.
    """
    if not training:
        return tF.batch_norm(x, running_mean, running_var, weight, bias, False, 0.0, eps)
    if running_mean is None or running_var is None:  # torch updates both or neither
        out = tF.batch_norm(x, None, None, weight, bias, True, 0.0, eps)
        dims = [0, *range(2, x.ndim)]
        with torch.no_grad():
            var, mean = torch.var_mean(x, dim=dims, correction=0)
            for running, batch in ((running_mean, mean), (running_var, var)):
                if running is not None:
                    running.mul_(momentum).add_(batch, alpha=1.0 - momentum)
        return out
    new_var = running_var.detach().clone()  # the backward pass keeps the tensor given here
    out = tF.batch_norm(x, running_mean, new_var, weight, bias, True, 1.0 - momentum, eps)
    with torch.no_grad():
        n = x.numel() // x.shape[1]
        running_var.copy_(new_var - (new_var - momentum * running_var) / n)
    return out


def _batch_norm_op(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor,
    running_mean: torch.Tensor | None = None,
    running_var: torch.Tensor | None = None,
    training: bool = True,
    momentum: float = 0.9,
    eps: float = 1e-5,
) -> torch.Tensor:
    return batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps)


def _reduce(fn: Callable) -> Callable:
    def reduce(x: torch.Tensor, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
        return fn(x) if axis is None else fn(x, dim=axis, keepdim=keepdims)

    return reduce


def _transpose(x: torch.Tensor, axes: Sequence[int] | None = None) -> torch.Tensor:
    return x.permute(*(reversed(range(x.ndim)) if axes is None else axes))


def _maximum(a: torch.Tensor, b: Any) -> torch.Tensor:
    return torch.maximum(a, b) if isinstance(b, torch.Tensor) else torch.clamp_min(a, b)


def _linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> Any:
    return tF.linear(x.flatten(1), weight.T, bias)  # cnnlab's weight is (in, out)


def _labels(y: Any) -> torch.Tensor:
    return torch.as_tensor(y, dtype=torch.int64)


def _svm_loss(scores: torch.Tensor, y: Any) -> torch.Tensor:
    # torch's multi-margin loss divides by the number of classes, cnnlab's hinge does not
    return tF.multi_margin_loss(scores, _labels(y).to(scores.device)) * scores.shape[1]


def _mse_loss(pred: torch.Tensor, target: Any) -> torch.Tensor:
    return tF.mse_loss(pred, torch.as_tensor(target, dtype=pred.dtype, device=pred.device))


def _dropout(
    x: torch.Tensor, p: float = 0.5, training: bool = True, seed: Any = None, rng: Any = None
) -> torch.Tensor:
    return tF.dropout(x, p, training)  # torch's own masks: seed and rng are not used


#: The torch twin of every op of :mod:`cnnlab.autograd.functional`, by name.
OPS: dict[str, Callable] = {
    "exp": torch.exp,
    "log": torch.log,
    "maximum": _maximum,
    "matmul": torch.matmul,
    "sum": _reduce(torch.sum),
    "mean": _reduce(torch.mean),
    "reshape": torch.reshape,
    "transpose": _transpose,
    "concatenate": lambda xs, axis=0: torch.cat(list(xs), dim=axis),
    "flatten": lambda x: x.flatten(1),
    "conv2d": tF.conv2d,
    "linear": _linear,
    "max_pool2d": tF.max_pool2d,
    "avg_pool2d": tF.avg_pool2d,
    "global_avg_pool2d": lambda x: x.mean((2, 3)),
    "upsample_nearest": lambda x, scale_factor: tF.interpolate(
        x, scale_factor=scale_factor, mode="nearest"
    ),
    "relu": torch.relu,
    "leaky_relu": tF.leaky_relu,
    "elu": tF.elu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "batch_norm": _batch_norm_op,
    "layer_norm": lambda x, weight, bias, eps=1e-5: tF.layer_norm(
        x, tuple(weight.shape), weight, bias, eps
    ),
    "group_norm": tF.group_norm,
    "dropout": _dropout,
    "cross_entropy": lambda scores, y: tF.cross_entropy(scores, _labels(y).to(scores.device)),
    "svm_loss": _svm_loss,
    "mse_loss": _mse_loss,
}

_TORCH_F = types.SimpleNamespace(**OPS)
# cnnlab function object -> its torch twin (for `from cnnlab.autograd.functional import relu`)
_BY_FUNCTION = {
    id(getattr(cnnlab_F, name)): op for name, op in OPS.items() if hasattr(cnnlab_F, name)
}


def _rebind(value: Any) -> Any:
    """The torch counterpart of a global of a forward function, or the value itself."""
    if value is cnnlab_F:
        return _TORCH_F
    if callable(value) and not isinstance(value, type):
        return _BY_FUNCTION.get(id(value), value)
    return value


_REPLAYS: dict[Callable, Callable] = {}


def replayed(function: Callable) -> Callable:
    """``function`` (a forward-only module's method) with its globals rebound to torch ops."""
    function = getattr(function, "__wrapped__", function)  # the recording wrapper
    if function not in _REPLAYS:
        scope = {k: _rebind(v) for k, v in function.__globals__.items()}
        scope.setdefault("__builtins__", builtins)
        rebuilt = types.FunctionType(
            function.__code__,
            scope,
            function.__name__,
            function.__defaults__,
            function.__closure__,
        )
        rebuilt.__kwdefaults__ = function.__kwdefaults__
        _REPLAYS[function] = rebuilt
    return _REPLAYS[function]


class _TorchSelf:
    """What ``self`` is during a replay.

    Children, parameters and buffers from the twin; the source module's methods replayed; its other
    attributes (sizes, flags) as they are.
    """

    def __init__(self, twin: ForwardOnly) -> None:
        object.__setattr__(self, "_twin", twin)

    def __getattr__(self, name: str) -> Any:
        twin = self._twin
        for table in (twin._modules, twin._parameters, twin._buffers):
            if name in table:
                return table[name]
        if name == "training":
            return twin.training
        value = getattr(type(twin.source), name, None)
        if isinstance(value, types.FunctionType):
            return types.MethodType(replayed(value), self)
        return getattr(twin.source, name)


class ForwardOnly(torch.nn.Module):
    """Twin of a forward-only cnnlab module: its ``forward`` replayed on torch tensors.

    Args:
        source: the cnnlab module (kept, unchanged, as ``source``; its code is the twin's).
        children: the twins of its children, by the children's names.

    The twin's parameters and buffers are copies of the source's local ones, under the same
    names (copied in by :func:`cnnlab.torch.convert.to_torch`).
    """

    def __init__(self, source: nn.Module, children: dict[str, torch.nn.Module]) -> None:
        super().__init__()
        self.source = source
        for name, child in children.items():
            self.add_module(name, child)

    def forward(self, x: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        """The source's forward on x (N, ...), replayed with torch ops."""
        return replayed(type(self.source).forward)(_TorchSelf(self), x, *args, **kwargs)

    def extra_repr(self) -> str:
        """The class whose forward is replayed."""
        return f"replaying {type(self.source).__name__}.forward"
