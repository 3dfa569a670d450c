"""``b=None`` (no bias) in conv, affine and the sandwiches: the same numbers as a zero bias,
PyTorch's ``bias=None``, and ``db is None`` from the backward pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as tF

from cnnlab.functional import conv, sandwich
from cnnlab.functional.linear import affine_backward, affine_forward

from ._compare import max_rel_error

TOL = 1e-10  # float64 against float64: rounding only

CONVS = {
    "naive": (conv.conv_forward_naive, conv.conv_backward_naive),
    "fast": (conv.conv_forward, conv.conv_backward),
}
# (x shape, w shape, conv_param, IM2COL_BELOW_CHANNELS): pointwise, im2col and shifted paths
CONV_CASES = [
    ((2, 3, 6, 5), (4, 3, 1, 1), {"stride": 2}, 8),
    ((2, 3, 7, 7), (4, 3, 3, 3), {"stride": 2, "pad": 1}, 10**9),
    ((1, 5, 6, 7), (2, 5, 3, 2), {"pad": (1, 0), "dilation": 2}, 0),
]


@pytest.mark.parametrize("impl", list(CONVS))
@pytest.mark.parametrize(("x_shape", "w_shape", "param", "below"), CONV_CASES)
def test_conv_without_bias(impl, x_shape, w_shape, param, below, monkeypatch, rng) -> None:
    monkeypatch.setattr(conv, "IM2COL_BELOW_CHANNELS", below)
    forward, backward = CONVS[impl]
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    out, cache = forward(x, w, None, param)
    out0, cache0 = forward(x, w, np.zeros(w_shape[0]), param)
    np.testing.assert_array_equal(out, out0)

    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    ref = tF.conv2d(
        tx, tw, None, param.get("stride", 1), param.get("pad", 0), param.get("dilation", 1)
    )
    assert max_rel_error(out, ref.detach().numpy()) < TOL

    dout = rng.standard_normal(out.shape)
    dx, dw, db = backward(dout, cache)
    assert db is None
    dx0, dw0, db0 = backward(dout, cache0)
    assert db0.shape == (w_shape[0],)
    np.testing.assert_allclose(dx, dx0, rtol=0, atol=0)
    np.testing.assert_allclose(dw, dw0, rtol=0, atol=0)
    ref.backward(torch.tensor(dout))
    assert max_rel_error(dx, tx.grad.numpy()) < TOL
    assert max_rel_error(dw, tw.grad.numpy()) < TOL


def test_conv_keyword_and_cs231n_positional_calls_agree(rng) -> None:
    x, w, b = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3)), np.ones(4)
    param = {"stride": 1, "pad": 1}
    positional, _ = conv.conv_forward(x, w, b, param)
    keyword, _ = conv.conv_forward(x, w, conv_param=param, b=b)
    np.testing.assert_array_equal(positional, keyword)
    no_bias, _ = conv.conv_forward(x, w, conv_param=param)
    np.testing.assert_allclose(positional - no_bias, 1.0, rtol=0, atol=1e-12)


def test_float32_conv_without_bias_stays_float32(rng) -> None:
    x = rng.standard_normal((2, 8, 5, 5)).astype(np.float32)
    w = rng.standard_normal((4, 8, 3, 3)).astype(np.float32)
    out, cache = conv.conv_forward(x, w)
    assert out.dtype == np.float32 and out.flags.c_contiguous
    dx, dw, db = conv.conv_backward(np.ones_like(out), cache)
    assert dx.dtype == dw.dtype == np.float32 and db is None


def test_affine_without_bias(rng) -> None:
    x, w = rng.standard_normal((3, 2, 2)), rng.standard_normal((4, 5))
    out, cache = affine_forward(x, w)
    out0, cache0 = affine_forward(x, w, np.zeros(5))
    np.testing.assert_array_equal(out, out0)
    ref = tF.linear(torch.tensor(x.reshape(3, 4)), torch.tensor(w.T))
    assert max_rel_error(out, ref.numpy()) < TOL
    dout = rng.standard_normal((3, 5))
    dx, dw, db = affine_backward(dout, cache)
    dx0, dw0, _ = affine_backward(dout, cache0)
    assert db is None
    np.testing.assert_array_equal(dx, dx0)
    np.testing.assert_array_equal(dw, dw0)


def _sandwich_args(name: str, rng: np.random.Generator):
    """(x, args after x with the bias at index 1, backward) for each sandwich."""
    x4, w4 = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    conv_param = {"stride": 1, "pad": 1}
    if name == "affine_relu":
        return rng.standard_normal((3, 6)), [rng.standard_normal((6, 4)), None]
    if name == "conv_relu":
        return x4, [w4, None, conv_param]
    if name == "conv_relu_pool":
        return x4, [w4, None, conv_param, {"pool_height": 2, "pool_width": 2, "stride": 2}]
    return x4, [w4, None, np.ones(4), np.zeros(4), conv_param, {"mode": "train"}]


@pytest.mark.parametrize("name", ["affine_relu", "conv_relu", "conv_relu_pool", "conv_bn_relu"])
def test_sandwich_without_bias(name, rng) -> None:
    forward = getattr(sandwich, f"{name}_forward")
    backward = getattr(sandwich, f"{name}_backward")
    x, args = _sandwich_args(name, rng)
    out, cache = forward(x, *args)
    zero_args = list(args)
    zero_args[1] = np.zeros(args[0].shape[0 if args[0].ndim == 4 else 1])
    out0, cache0 = forward(x, *zero_args)
    np.testing.assert_array_equal(out, out0)
    dout = rng.standard_normal(out.shape)
    grads, grads0 = backward(dout, cache), backward(dout, cache0)
    assert grads[2] is None and grads0[2].shape == zero_args[1].shape
    for g, g0 in zip(grads, grads0, strict=True):
        if g is not None:
            np.testing.assert_array_equal(g, g0)
