"""Tensor-level ops, like ``torch.nn.functional``.

Each one is a registration (a :class:`~cnnlab.autograd.tensor.Function`) of a forward/backward pair
of :mod:`cnnlab.functional`, plus the argument handling that turns PyTorch-style keywords into the
CS231n parameter dicts. No maths is written here.

Every function takes Tensors (or arrays, as constants) and returns a Tensor::

    import cnnlab.autograd.functional as F
    h = F.relu(F.conv2d(x, w, b, padding=1))
    loss = F.cross_entropy(F.linear(h, w2, b2), y)

Shapes follow the rest of cnnlab: images (N, C, H, W), conv weights (F, C, HH, WW), linear
weights (in, out) - the transpose of ``torch.nn.Linear.weight``.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping, Sequence
from typing import Any

import numpy as np

from cnnlab import functional as ops

from .tensor import CONCATENATE, EXP, LOG, MATMUL, MAXIMUM, MEAN, SUM, Function, Tensor, as_tensor

Pair = int | tuple[int, int]
Axis = int | tuple[int, ...] | None

# --- the small ops as functions ---------------------------------------------------------------


def exp(x: Tensor) -> Tensor:
    """Element-wise ``exp(x)``, any shape."""
    return EXP(x)


def log(x: Tensor) -> Tensor:
    """Element-wise natural logarithm, any shape."""
    return LOG(x)


def maximum(a: Tensor, b: Tensor | float) -> Tensor:
    """Element-wise maximum with broadcasting; ties send half the gradient to each side."""
    a = as_tensor(a)
    return MAXIMUM(a, b if isinstance(b, Tensor) else np.asarray(b, dtype=a.dtype))


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` for a (..., n, k) and b (..., k, m) -> (..., n, m)."""
    return MATMUL(a, b)


def sum(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` (all axes for None)."""
    return SUM(x, axis, keepdims)


def mean(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (all axes for None)."""
    return MEAN(x, axis, keepdims)


def reshape(x: Tensor, shape: Sequence[int]) -> Tensor:
    """``x`` with a new shape of the same size (one entry may be -1)."""
    return as_tensor(x).reshape(tuple(shape))


def transpose(x: Tensor, axes: Sequence[int] | None = None) -> Tensor:
    """``x`` with permuted axes (reversed for None)."""
    return as_tensor(x).transpose(*(() if axes is None else (tuple(axes),)))


def concatenate(xs: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join Tensors of equal shape except along ``axis``."""
    return CONCATENATE(*xs, axis=axis)


def flatten(x: Tensor) -> Tensor:
    """(N, d1, ..., dk) -> (N, d1 * ... * dk)."""
    x = as_tensor(x)
    if x.ndim < 1:
        raise ValueError(f"flatten: input must have a batch dimension, got shape {x.shape}")
    return x.reshape(x.shape[0], -1)


# --- layers -----------------------------------------------------------------------------------

_CONV = Function("conv2d", ops.conv_forward, ops.conv_backward, arity=3, skips_dx=True)
_AFFINE = Function("linear", ops.affine_forward, ops.affine_backward, arity=3, skips_dx=True)


def conv2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Pair = 1,
    padding: Pair = 0,
    dilation: Pair = 1,
) -> Tensor:
    """2-D convolution of x (N, C, H, W) with weight (F, C, HH, WW) and bias (F,) or None.

    Returns (N, F, H', W') with ``H' = (H + 2 pad - dilation (HH - 1) - 1) // stride + 1``.
    """
    param = {"stride": stride, "pad": padding, "dilation": dilation}
    return _CONV(x, weight, bias, param)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """The CS231n affine layer: ``x.reshape(N, D) @ weight + bias``.

    Shapes: x (N, d1, ..., dk), weight (D, M), bias (M,) or None -> (N, M).
    """
    return _AFFINE(x, weight, bias)


def _pool_param(kernel_size: Pair, stride: Pair | None, padding: Pair, ceil_mode: bool) -> dict:
    kh, kw = (kernel_size, kernel_size) if np.ndim(kernel_size) == 0 else kernel_size
    return {
        "pool_height": kh,
        "pool_width": kw,
        "stride": kernel_size if stride is None else stride,
        "pad": padding,
        "ceil_mode": ceil_mode,
    }


_MAX_POOL = Function("max_pool2d", ops.max_pool_forward, ops.max_pool_backward)
_AVG_POOL = Function("avg_pool2d", ops.avg_pool_forward, ops.avg_pool_backward)
_GLOBAL_AVG_POOL = Function(
    "global_avg_pool2d", ops.global_avg_pool_forward, ops.global_avg_pool_backward
)


def max_pool2d(
    x: Tensor,
    kernel_size: Pair,
    stride: Pair | None = None,
    padding: Pair = 0,
    ceil_mode: bool = False,
) -> Tensor:
    """Max over windows of x (N, C, H, W); ``stride`` defaults to the window."""
    return _MAX_POOL(x, _pool_param(kernel_size, stride, padding, ceil_mode))


def avg_pool2d(
    x: Tensor,
    kernel_size: Pair,
    stride: Pair | None = None,
    padding: Pair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """Mean over windows of x (N, C, H, W); ``stride`` defaults to the window."""
    param = _pool_param(kernel_size, stride, padding, ceil_mode)
    return _AVG_POOL(x, {**param, "count_include_pad": count_include_pad})


def global_avg_pool2d(x: Tensor) -> Tensor:
    """Mean over H and W: x (N, C, H, W) -> (N, C)."""
    return _GLOBAL_AVG_POOL(x)


_UPSAMPLE = Function("upsample", ops.upsample_nearest_forward, ops.upsample_nearest_backward)


def upsample_nearest(x: Tensor, scale_factor: int) -> Tensor:
    """Repeat each pixel of x (N, C, H, W) into a k x k block: (N, C, k H, k W)."""
    return _UPSAMPLE(x, scale_factor)


# --- activations ------------------------------------------------------------------------------

_RELU = Function("relu", ops.relu_forward, ops.relu_backward)
_LEAKY_RELU = Function("leaky_relu", ops.leaky_relu_forward, ops.leaky_relu_backward)
_ELU = Function("elu", ops.elu_forward, ops.elu_backward)
_SIGMOID = Function("sigmoid", ops.sigmoid_forward, ops.sigmoid_backward)
_TANH = Function("tanh", ops.tanh_forward, ops.tanh_backward)


def relu(x: Tensor) -> Tensor:
    """``max(x, 0)`` element-wise, any shape."""
    return _RELU(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """``x`` where positive, ``negative_slope * x`` elsewhere; any shape."""
    return _LEAKY_RELU(x, negative_slope=negative_slope)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """``x`` where positive, ``alpha (exp(x) - 1)`` elsewhere; any shape."""
    return _ELU(x, alpha=alpha)


def sigmoid(x: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))`` element-wise, any shape."""
    return _SIGMOID(x)


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent element-wise, any shape."""
    return _TANH(x)


# --- normalisation ----------------------------------------------------------------------------


def _keeping_running_stats(forward: Callable) -> Callable:
    """Batch-norm forward that writes the updated running statistics back into ``bn_param``.

    The arrays passed in ``bn_param`` are updated in place, as ``nn.BatchNorm*`` keeps its buffers.
    """

    def run(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: MutableMapping) -> Any:
        given = {k: bn_param.get(k) for k in ("running_mean", "running_var")}
        out, cache = forward(x, gamma, beta, bn_param)
        for key, array in given.items():
            if array is not None and bn_param[key] is not array:
                array[...] = bn_param[key]
        return out, cache

    return run


_BATCHNORM = Function(
    "batch_norm",
    _keeping_running_stats(ops.batchnorm_forward),
    ops.batchnorm_backward_alt,
    arity=3,
)
_SPATIAL_BATCHNORM = Function(
    "batch_norm",
    _keeping_running_stats(ops.spatial_batchnorm_forward),
    ops.spatial_batchnorm_backward,
    arity=3,
)
_LAYERNORM = Function("layer_norm", ops.layernorm_forward, ops.layernorm_backward, arity=3)
_GROUPNORM = Function(
    "group_norm", ops.spatial_groupnorm_forward, ops.spatial_groupnorm_backward, arity=3
)


def batch_norm(
    x: Tensor,
    weight: Tensor,
    bias: Tensor,
    running_mean: np.ndarray | None = None,
    running_var: np.ndarray | None = None,
    training: bool = True,
    momentum: float = 0.9,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation of x (N, D) per feature or x (N, C, H, W) per channel.

    weight, bias: (D,) or (C,). In training mode the batch statistics normalise and the
    running arrays (if given) are updated in place, ``running = momentum * running + (1 -
    momentum) * batch`` (CS231n's momentum: 0.9 is PyTorch's 0.1; biased variance); in eval
    mode the running statistics normalise.

    Raises:
        ValueError: for x that is neither 2-D nor 4-D (and the ops' own shape checks).
    """
    x = as_tensor(x)
    if x.ndim not in (2, 4):
        raise ValueError(f"batch_norm: x must be (N, D) or (N, C, H, W), got shape {x.shape}")
    bn_param = {
        "mode": "train" if training else "test",
        "eps": eps,
        "momentum": momentum,
        "running_mean": running_mean,
        "running_var": running_var,
    }
    return (_BATCHNORM if x.ndim == 2 else _SPATIAL_BATCHNORM)(x, weight, bias, bn_param)


def layer_norm(x: Tensor, weight: Tensor, bias: Tensor, eps: float = 1e-5) -> Tensor:
    """Normalise each sample of x (N, *S) over its trailing dims S.

    The weight and bias have shape S (as ``torch.nn.functional.layer_norm`` with ``normalized_shape
    = S``).
    """
    x, weight, bias = as_tensor(x), as_tensor(weight), as_tensor(bias)
    if x.ndim < 2 or x.shape[1:] != weight.shape:
        raise ValueError(
            f"layer_norm: x {x.shape} must be (N, *S) with S the weight's shape {weight.shape}"
        )
    rows = x.reshape(x.shape[0], -1)
    out = _LAYERNORM(rows, weight.reshape(-1), bias.reshape(-1), {"eps": eps})
    return out.reshape(x.shape)


def group_norm(
    x: Tensor, num_groups: int, weight: Tensor, bias: Tensor, eps: float = 1e-5
) -> Tensor:
    """Group norm of x (N, C, H, W) over ``num_groups`` groups of channels; weight, bias (C,)."""
    shape = (1, -1, 1, 1)
    return _GROUPNORM(
        x,
        as_tensor(weight).reshape(shape),
        as_tensor(bias).reshape(shape),
        num_groups,
        {"eps": eps},
    )


# --- dropout ----------------------------------------------------------------------------------

_DROPOUT = Function("dropout", ops.dropout_forward, ops.dropout_backward)


def dropout(
    x: Tensor,
    p: float = 0.5,
    training: bool = True,
    seed: Any = None,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Inverted dropout: zero each unit with probability ``p`` and scale the rest by 1 / (1 - p).

    ``p`` is the DROP probability, as in ``torch.nn.functional.dropout``; the identity when not
    training. The mask comes from ``default_rng(seed)`` when a seed is given, else from ``rng``.
    """
    if not 0 <= p < 1:
        raise ValueError(f"dropout: p is the drop probability and must be in [0, 1), got {p}")
    param: dict[str, Any] = {"p": 1.0 - p, "mode": "train" if training else "test"}
    if seed is not None:
        param["seed"] = seed
    if rng is not None:
        param["rng"] = rng
    return _DROPOUT(x, param)


# --- losses -----------------------------------------------------------------------------------


def _loss_function(name: str, loss: Callable) -> Function:
    """Register a loss ``loss(x, target) -> (value, dx)`` as a Function.

    The forward keeps ``dx`` as the cache, and the backward is the chain rule ``dout * dx``.
    """

    def forward(x: np.ndarray, target: Any) -> tuple[np.ndarray, np.ndarray]:
        value, dx = loss(x, target)
        return np.asarray(value, dtype=x.dtype), dx

    return Function(name, forward, lambda dout, dx: dout * dx)


_CROSS_ENTROPY = _loss_function("cross_entropy", ops.softmax_loss)
_SVM = _loss_function("svm_loss", ops.svm_loss)
_MSE = _loss_function("mse_loss", ops.mse_loss)


def _constant(name: str, target: Any) -> np.ndarray:
    if isinstance(target, Tensor):
        if target.requires_grad:
            raise ValueError(f"{name}: the target is a constant; pass target.detach()")
        return target.data
    return np.asarray(target)


def cross_entropy(scores: Tensor, y: Any) -> Tensor:
    """Softmax cross-entropy of scores (N, C) for integer labels y (N,), averaged over N.

    Returns a scalar Tensor.
    """
    return _CROSS_ENTROPY(scores, _constant("cross_entropy", y))


def svm_loss(scores: Tensor, y: Any) -> Tensor:
    """Multiclass hinge loss (margin 1) of scores (N, C) for labels y (N,), averaged over N."""
    return _SVM(scores, _constant("svm_loss", y))


def mse_loss(pred: Tensor, target: Any) -> Tensor:
    """Mean squared error over every element; ``target`` (same shape) is a constant."""
    return _MSE(pred, _constant("mse_loss", target))


__all__ = [
    "avg_pool2d",
    "batch_norm",
    "concatenate",
    "conv2d",
    "cross_entropy",
    "dropout",
    "elu",
    "exp",
    "flatten",
    "global_avg_pool2d",
    "group_norm",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log",
    "matmul",
    "max_pool2d",
    "maximum",
    "mean",
    "mse_loss",
    "relu",
    "reshape",
    "sigmoid",
    "sum",
    "svm_loss",
    "tanh",
    "transpose",
]
