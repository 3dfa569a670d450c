"""Convolution: the seed's numbers, numerical gradients, PyTorch, fast vs naive, validation."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
import torch
import torch.nn.functional as tF
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab.functional import _blas, conv
from cnnlab.functional._blas import available_backends, gemm
from cnnlab.functional.conv import (
    conv_backward,
    conv_backward_fast,
    conv_backward_naive,
    conv_forward,
    conv_forward_fast,
    conv_forward_naive,
)
from cnnlab.gradcheck import eval_numerical_gradient_array, rel_error

from ._compare import max_rel_error

IMPLS = {
    "naive": (conv_forward_naive, conv_backward_naive),
    "fast": (conv_forward, conv_backward),
}
# conv.IM2COL_BELOW_CHANNELS values that force each fast algorithm (1x1 kernels without padding
# always take the pointwise one): every test of the fast path runs with both.
FORCE = {"im2col": 10**9, "shifted": 0}


@pytest.fixture(params=list(FORCE))
def algorithm(request, monkeypatch) -> str:
    monkeypatch.setattr(conv, "IM2COL_BELOW_CHANNELS", FORCE[request.param])
    return request.param


# float64 against float64 PyTorch / naive: the sums differ only in rounding order.
EXACT_TOL = 1e-10
# Central differences (h = 1e-5, float64) on O(1) data: truncation ~h^2, rounding ~1e-16/h.
NUM_TOL = 1e-7


def test_fast_aliases() -> None:
    assert conv_forward_fast is conv_forward and conv_backward_fast is conv_backward


@pytest.mark.parametrize("impl", IMPLS)
def test_seed_correct_out(impl: str, algorithm) -> None:
    """The CS231n notebook's conv_forward_naive check (x 2x3x4x4 linspace, stride 2, pad 1)."""
    x = np.linspace(-0.1, 0.5, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    w = np.linspace(-0.2, 0.3, num=3 * 3 * 4 * 4).reshape(3, 3, 4, 4)
    b = np.linspace(-0.1, 0.2, num=3)
    correct_out = np.array(
        [
            [
                [[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
                [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
                [[0.50813986, 0.54309974], [0.64082444, 0.67101435]],
            ],
            [
                [[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
                [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
                [[2.36270298, 2.36904306], [2.38090835, 2.38247847]],
            ],
        ]
    )
    out, _ = IMPLS[impl][0](x, w, b, {"stride": 2, "pad": 1})
    # The published numbers have 8 decimals: each is within 0.5e-8 of the exact value.
    assert np.max(np.abs(out - correct_out)) <= 0.5e-8 + 1e-15
    assert rel_error(out, correct_out) < 3e-8  # the seed prints 2.2e-8


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize(
    ("x_shape", "w_shape", "param"),
    [
        ((4, 3, 5, 5), (2, 3, 3, 3), {"stride": 1, "pad": 1}),  # the seed's gradient check
        ((2, 2, 7, 6), (3, 2, 3, 2), {"stride": (2, 1), "pad": (1, 0), "dilation": (1, 2)}),
        ((2, 3, 5, 5), (2, 3, 1, 1), {"stride": 2}),
    ],
)
def test_numerical_gradients(impl: str, x_shape, w_shape, param, rng, algorithm) -> None:
    forward, backward = IMPLS[impl]
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    out, cache = forward(x, w, b, param)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = backward(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda v: forward(v, w, b, param)[0], x, dout)
    dw_num = eval_numerical_gradient_array(lambda v: forward(x, v, b, param)[0], w, dout)
    db_num = eval_numerical_gradient_array(lambda v: forward(x, w, v, param)[0], b, dout)
    assert rel_error(dx, dx_num) < NUM_TOL
    assert rel_error(dw, dw_num) < NUM_TOL
    assert rel_error(db, db_num) < NUM_TOL


def torch_conv(x, w, b, stride, pad, dilation, dout):
    """PyTorch float64 reference: out, dx, dw, db."""
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = tF.conv2d(xt, wt, bt, stride=stride, padding=pad, dilation=dilation)
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


TORCH_CASES = [
    # x shape, w shape, stride, pad, dilation
    ((1, 1, 6, 6), (1, 1, 3, 3), 1, 0, 1),
    ((2, 3, 7, 9), (4, 3, 3, 2), 1, 1, 1),
    ((2, 3, 11, 10), (5, 3, 3, 3), 3, 2, 1),
    ((3, 2, 10, 12), (2, 2, 4, 3), (2, 3), (1, 2), (2, 1)),
    ((2, 3, 11, 10), (5, 3, 2, 3), 1, 0, 2),
    ((2, 3, 9, 9), (2, 3, 2, 2), 3, 0, 1),  # stride > kernel: some pixels never read
    ((2, 4, 9, 8), (3, 4, 1, 1), 1, 0, 1),  # 1x1: one matrix product
    ((2, 4, 9, 8), (3, 4, 1, 1), 2, 0, 1),
    ((2, 4, 9, 8), (3, 4, 1, 1), 1, 2, 1),  # 1x1 with padding
    ((1, 3, 8, 5), (2, 3, 5, 1), 2, (2, 0), 1),  # non-square kernel, leftover rows
    ((2, 2, 6, 7), (3, 2, 3, 3), 2, 1, 2),
    ((2, 8, 6, 5), (3, 8, 3, 3), 1, 1, 1),  # channels around the default algorithm switch
    ((2, 7, 6, 5), (3, 7, 3, 3), 2, 0, 1),
]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize(("x_shape", "w_shape", "stride", "pad", "dilation"), TORCH_CASES)
def test_against_torch(impl, x_shape, w_shape, stride, pad, dilation, rng, algorithm) -> None:
    forward, backward = IMPLS[impl]
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    param = {"stride": stride, "pad": pad, "dilation": dilation}
    out, cache = forward(x, w, b, param)
    dout = rng.standard_normal(out.shape)
    ref = torch_conv(x, w, b, stride, pad, dilation, dout)
    for ours, theirs in zip((out, *backward(dout, cache)), ref, strict=True):
        assert max_rel_error(ours, theirs) < EXACT_TOL


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 2),
    c=st.integers(1, 3),
    f=st.integers(1, 3),
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    kh=st.integers(1, 3),
    kw=st.integers(1, 3),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    pad=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    seed=st.integers(0, 2**16),
)
def test_fast_matches_naive(n, c, f, h, w, kh, kw, stride, pad, dilation, seed) -> None:
    if dilation[0] * (kh - 1) + 1 > h + 2 * pad[0] or dilation[1] * (kw - 1) + 1 > w + 2 * pad[1]:
        return  # window larger than the padded input: rejected (tested below)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w))
    wt = rng.standard_normal((f, c, kh, kw))
    b = rng.standard_normal(f)
    param = {"stride": stride, "pad": pad, "dilation": dilation}
    out_n, cache_n = conv_forward_naive(x, wt, b, param)
    dout = rng.standard_normal(out_n.shape)
    ref = (out_n, *conv_backward_naive(dout, cache_n))
    for threshold in FORCE.values():
        with mock.patch.object(conv, "IM2COL_BELOW_CHANNELS", threshold):
            out_f, cache_f = conv_forward(x, wt, b, param)
            fast = (out_f, *conv_backward(dout, cache_f))
        for ours, theirs in zip(fast, ref, strict=True):
            assert max_rel_error(ours, theirs) < EXACT_TOL


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel", [1, 3])
def test_dtype_preserved(impl, dtype, kernel, rng, algorithm) -> None:
    forward, backward = IMPLS[impl]
    x = rng.standard_normal((2, 3, 6, 5)).astype(dtype)
    w = rng.standard_normal((4, 3, kernel, kernel)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    out, cache = forward(x, w, b, {"stride": 1, "pad": 1 if kernel == 3 else 0})
    grads = backward(rng.standard_normal(out.shape), cache)  # float64 dout on purpose
    assert [a.dtype for a in (out, *grads)] == [np.dtype(dtype)] * 4
    assert out.flags.c_contiguous


def test_float32_close_to_float64(rng) -> None:
    x, w, b = rng.standard_normal((2, 8, 9, 9)), rng.standard_normal((5, 8, 3, 3)), np.ones(5)
    param = {"stride": 2, "pad": 1}
    out64, _ = conv_forward(x, w, b, param)
    out32, _ = conv_forward(*(a.astype(np.float32) for a in (x, w, b)), param)
    assert max_rel_error(out32, out64) < 1e-5  # float32 eps 1.2e-7 times ~72-term sums


BAD_INPUTS = [
    # x shape, w shape, b shape, param, message
    (
        (2, 4, 8, 8),
        (5, 3, 3, 3),
        (5,),
        {},
        r"conv2d: input has 4 channels but the weights "
        r"expect 3 \(x \(2, 4, 8, 8\), w \(5, 3, 3, 3\)\)",
    ),
    ((4, 8, 8), (5, 4, 3, 3), (5,), {}, r"conv2d: input x must be 4-D .*got shape \(4, 8, 8\)"),
    ((2, 4, 8, 8), (5, 4, 3), (5,), {}, r"conv2d: weights w must be 4-D"),
    ((2, 4, 8, 8), (5, 4, 3, 3), (4,), {}, r"conv2d: bias b .* must have shape \(5,\), got \(4,\)"),
    ((2, 4, 8, 8), (5, 4, 3, 3), (5, 1), {}, r"conv2d: bias b must be 1-D"),
    (
        (2, 4, 4, 4),
        (5, 4, 5, 5),
        (5,),
        {},
        r"conv2d: the 5x5 window .* larger than the padded "
        r"input 4x4 .*x \(2, 4, 4, 4\)",
    ),
    ((2, 4, 8, 8), (5, 4, 3, 3), (5,), {"dilation": 4}, r"conv2d: the 9x9 window"),
    ((2, 4, 8, 8), (5, 4, 3, 3), (5,), {"stride": 0}, r"conv2d: stride must be positive"),
    ((2, 4, 8, 8), (5, 4, 3, 3), (5,), {"dilation": (1, 0)}, r"conv2d: dilation must be positive"),
    ((2, 4, 8, 8), (5, 4, 3, 3), (5,), {"pad": -1}, r"conv2d: pad must be non-negative"),
    ((2, 4, 8, 8), (5, 4, 3, 3), (5,), {"pad": 1.5}, r"conv2d: pad must be an int or a pair"),
]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize(("x_shape", "w_shape", "b_shape", "param", "message"), BAD_INPUTS)
def test_bad_input(impl, x_shape, w_shape, b_shape, param, message) -> None:
    forward = IMPLS[impl][0]
    with pytest.raises(ValueError, match=message):
        forward(np.zeros(x_shape), np.zeros(w_shape), np.zeros(b_shape), param)


@pytest.mark.parametrize("impl", IMPLS)
def test_non_float_input(impl) -> None:
    forward = IMPLS[impl][0]
    w, b = np.zeros((2, 1, 3, 3)), np.zeros(2)
    with pytest.raises(
        ValueError,
        match=r"conv2d: input x must be a floating-point array, got "
        r"dtype int64",
    ):
        forward(np.zeros((1, 1, 4, 4), dtype=np.int64), w, b, {})


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("kernel", [1, 3])
def test_bad_dout(impl, kernel) -> None:
    forward, backward = IMPLS[impl]
    x, w, b = np.zeros((2, 3, 5, 5)), np.zeros((4, 3, kernel, kernel)), np.zeros(4)
    _out, cache = forward(x, w, b, {})
    with pytest.raises(
        ValueError,
        match=r"conv2d: dout must have shape \(2, 4, \d, \d\), got "
        r"\(2, 4, 1, 1\)",
    ):
        backward(np.zeros((2, 4, 1, 1)), cache)


# ----------------------------------------------------------------- the BLAS helper of the fast path


BACKENDS = {backend.name: backend for backend in available_backends()}


def test_scipy_backend_always_available() -> None:
    assert "scipy" in BACKENDS and _blas.BACKEND.name == available_backends()[0].name


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_on_strided_views(backend, dtype, rng) -> None:
    """gemm reads column windows / transposed views in place and accumulates with beta."""
    big = rng.standard_normal((30, 40)).astype(dtype)
    a = big[2:7, 3:12]  # (5, 9), row stride 40
    b_views = [big[10:19, 1:7], big[10:19, 1:7].copy(order="F"), big[0:6, 20:29].T]
    for a_view in (a, a.copy(order="F")):
        for b in b_views:
            out = np.zeros((5, 20), dtype)
            target = out[:, 4:10]  # a window of a wider array
            target[...] = 1.0
            gemm(a_view, b, target, beta=2.0, backend=BACKENDS[backend])
            want = a.astype(np.float64) @ b.astype(np.float64) + 2.0
            assert max_rel_error(target, want) < (1e-5 if dtype == np.float32 else 1e-14)
            assert not out[:, :4].any() and not out[:, 10:].any()


@pytest.mark.parametrize("backend", BACKENDS)
def test_conv_on_each_backend(backend, algorithm, rng, monkeypatch) -> None:
    monkeypatch.setattr(_blas, "BACKEND", BACKENDS[backend])
    x, w, b = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2)), np.ones(4)
    out, cache = conv_forward(x, w, b, {"stride": (2, 1), "pad": 1})
    dout = rng.standard_normal(out.shape)
    ref = torch_conv(x, w, b, (2, 1), 1, 1, dout)
    for ours, theirs in zip((out, *conv_backward(dout, cache)), ref, strict=True):
        assert max_rel_error(ours, theirs) < EXACT_TOL


def test_gemm_rejects_unsupported_views() -> None:
    a = np.zeros((4, 6))[:, ::2]  # no unit stride
    with pytest.raises(ValueError, match=r"gemm: operand of shape \(3, 4\)"):
        gemm(a, np.zeros((3, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"gemm: shapes/dtypes do not match"):
        gemm(np.zeros((4, 3)), np.zeros((2, 2)), np.zeros((4, 2)))
    # a leading dimension past 32 bits (a strided view of one element, nothing allocated)
    huge = np.lib.stride_tricks.as_strided(np.zeros(1), shape=(2, 1), strides=(8 * 2**31, 8))
    with pytest.raises(ValueError, match=r"gemm: dimensions exceed scipy BLAS"):
        gemm(huge, np.zeros((1, 2)), np.zeros((2, 2)), backend=BACKENDS["scipy"])
