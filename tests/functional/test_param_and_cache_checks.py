"""Bad input that used to slip through or crash inside NumPy: unknown keys in the param dicts,
non-array inputs and caches that are not the forward pass's. Each is a ValueError that starts
with the op's name."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cnnlab import functional as F

X2 = np.ones((2, 3))
X4 = np.ones((2, 3, 4, 4))
W4 = np.ones((2, 3, 3, 3))
POOL = {"pool_height": 2, "pool_width": 2}
BN = {"mode": "train"}

# (op name in messages, forward(x) -> (out, cache), backward)
OPS = {
    "conv2d": (lambda x: F.conv_forward(x, W4), F.conv_backward),
    "conv2d naive": (lambda x: F.conv_forward_naive(x, W4), F.conv_backward_naive),
    "max_pool2d": (lambda x: F.max_pool_forward(x, POOL), F.max_pool_backward),
    "max_pool2d naive": (lambda x: F.max_pool_forward_naive(x, POOL), F.max_pool_backward_naive),
    "avg_pool2d": (lambda x: F.avg_pool_forward(x, POOL), F.avg_pool_backward),
    "global_avg_pool2d": (F.global_avg_pool_forward, F.global_avg_pool_backward),
    "affine": (lambda x: F.affine_forward(x, np.ones((3, 2))), F.affine_backward),
    "relu": (F.relu_forward, F.relu_backward),
    "leaky_relu": (F.leaky_relu_forward, F.leaky_relu_backward),
    "elu": (F.elu_forward, F.elu_backward),
    "sigmoid": (F.sigmoid_forward, F.sigmoid_backward),
    "tanh": (F.tanh_forward, F.tanh_backward),
    "dropout": (lambda x: F.dropout_forward(x, {"p": 0.5, "mode": "train"}), F.dropout_backward),
    "batchnorm": (
        lambda x: F.batchnorm_forward(x, np.ones(3), np.zeros(3), dict(BN)),
        F.batchnorm_backward,
    ),
    "spatial_batchnorm": (
        lambda x: F.spatial_batchnorm_forward(x, np.ones(3), np.zeros(3), dict(BN)),
        F.spatial_batchnorm_backward,
    ),
    "layernorm": (
        lambda x: F.layernorm_forward(x, np.ones(3), np.zeros(3), {}),
        F.layernorm_backward,
    ),
    "spatial_groupnorm": (
        lambda x: F.spatial_groupnorm_forward(
            x, np.ones((1, 3, 1, 1)), np.zeros((1, 3, 1, 1)), 3, {}
        ),
        F.spatial_groupnorm_backward,
    ),
    "affine_relu": (lambda x: F.affine_relu_forward(x, np.ones((3, 2))), F.affine_relu_backward),
    "conv_relu": (lambda x: F.conv_relu_forward(x, W4), F.conv_relu_backward),
}
TWO_D = {"affine", "batchnorm", "layernorm", "affine_relu"}


def _good_input(name: str) -> np.ndarray:
    return X2 if name in TWO_D else X4


def _op(name: str) -> str:
    """The op names a message may start with (a sandwich's errors may come from its parts)."""
    op = name.split()[0]
    parts = {"affine_relu": "affine|relu", "conv_relu": "conv2d|relu"}
    return f"(?:{op}|{parts[op]})" if op in parts else op


@pytest.mark.parametrize("name", list(OPS))
@pytest.mark.parametrize("bad", ["abc", None, [[1.0, 2.0, 3.0]]])
def test_non_array_input(name, bad) -> None:
    forward, _ = OPS[name]
    with pytest.raises(ValueError, match=rf"^{_op(name)}: "):
        forward(bad)


@pytest.mark.parametrize("name", list(OPS))
def test_wrong_cache(name) -> None:
    forward, backward = OPS[name]
    out, _ = forward(_good_input(name))
    for bad in ("cache", (1, 2), *([] if name == "dropout" else [None])):  # None: test mode
        with pytest.raises(ValueError, match=rf"^{_op(name)}: cache must be"):
            backward(np.ones_like(out), bad)


@pytest.mark.parametrize("name", list(OPS))
def test_non_array_dout(name) -> None:
    forward, backward = OPS[name]
    out, cache = forward(_good_input(name))
    with pytest.raises(ValueError, match=rf"^{_op(name)}: dout must be"):
        backward(out.tolist(), cache)


def test_a_cache_of_another_implementation_is_refused() -> None:
    out, naive_cache = F.conv_forward_naive(X4, W4)
    with pytest.raises(ValueError, match=r"^conv2d: cache must be the one its forward pass"):
        F.conv_backward(out, naive_cache)
    out, cache = F.max_pool_forward_naive(X4, POOL)
    with pytest.raises(ValueError, match=r"^max_pool2d: cache must be the one"):
        F.max_pool_backward(out, cache)


def _unknown(op: str, name: str, key: str, allowed: list[str]) -> str:
    return "^" + re.escape(
        f"{op}: unknown {name} key(s) ['{key}']; the allowed keys are {sorted(allowed)}"
    )


CONV_KEYS = ["stride", "pad", "dilation"]
POOL_KEYS = ["pool_height", "pool_width", "stride", "pad", "ceil_mode"]
BN_KEYS = ["mode", "eps", "momentum", "running_mean", "running_var"]


@pytest.mark.parametrize("forward", [F.conv_forward, F.conv_forward_naive])
def test_unknown_conv_param_key(forward) -> None:
    with pytest.raises(ValueError, match=_unknown("conv2d", "conv_param", "strides", CONV_KEYS)):
        forward(X4, W4, None, {"strides": 2})


def test_unknown_pool_param_keys() -> None:
    bad = {**POOL, "strides": 2}
    for forward in (F.max_pool_forward, F.max_pool_forward_naive):
        with pytest.raises(
            ValueError, match=_unknown("max_pool2d", "pool_param", "strides", POOL_KEYS)
        ):
            forward(X4, bad)
    avg_keys = [*POOL_KEYS, "count_include_pad"]
    for forward in (F.avg_pool_forward, F.avg_pool_forward_naive):
        with pytest.raises(
            ValueError, match=_unknown("avg_pool2d", "pool_param", "strides", avg_keys)
        ):
            forward(X4, bad)
        forward(X4, {**POOL, "count_include_pad": False})
    # count_include_pad means nothing to max pooling
    with pytest.raises(ValueError, match=r"^max_pool2d: unknown pool_param key\(s\) \['count_"):
        F.max_pool_forward(X4, {**POOL, "count_include_pad": False})


def test_unknown_bn_param_keys() -> None:
    gamma, beta = np.ones(3), np.zeros(3)
    with pytest.raises(ValueError, match=_unknown("batchnorm", "bn_param", "momentun", BN_KEYS)):
        F.batchnorm_forward(X2, gamma, beta, {"mode": "train", "momentun": 0.1})
    with pytest.raises(
        ValueError, match=_unknown("spatial_batchnorm", "bn_param", "epsilon", BN_KEYS)
    ):
        F.spatial_batchnorm_forward(X4, gamma, beta, {"mode": "train", "epsilon": 1e-3})
    with pytest.raises(ValueError, match=_unknown("layernorm", "bn_param", "epsilon", BN_KEYS)):
        F.layernorm_forward(X2, gamma, beta, {"epsilon": 1e-3})
    # CS231n hands its bn_params (with 'mode') to layernorm: accepted, ignored
    F.layernorm_forward(X2, gamma, beta, {"mode": "train", "eps": 1e-3})
    with pytest.raises(ValueError, match=r"^spatial_batchnorm: unknown bn_param key\(s\) \['x'\]"):
        F.conv_bn_relu_forward(X4, W4, None, np.ones(2), np.zeros(2), {}, {"mode": "train", "x": 1})


def test_unknown_dropout_param_key() -> None:
    with pytest.raises(ValueError, match=r"^dropout: unknown dropout_param key\(s\) \['seeds'\]"):
        F.dropout_forward(X2, {"p": 0.5, "mode": "train", "seeds": 1})


def test_sandwich_cache_of_the_wrong_length() -> None:
    out, cache = F.conv_relu_forward(X4, W4)
    with pytest.raises(ValueError, match=r"^conv_relu_pool: cache must hold 3 caches .*got 2"):
        F.conv_relu_pool_backward(out, cache)
