"""Convolution beyond the op table (cases.py): the seed's numbers, dtypes, float32 accuracy, the
choice of algorithm and the BLAS helper of the fast path."""

from __future__ import annotations

import numpy as np
import pytest

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
from cnnlab.gradcheck import rel_error

from ._compare import max_rel_error
from .cases import CONV_FORCE, EXACT_RTOL

IMPLS = {
    "naive": (conv_forward_naive, conv_backward_naive),
    "fast": (conv_forward, conv_backward),
}


@pytest.fixture(params=list(CONV_FORCE))
def algorithm(request, monkeypatch) -> str:
    """Runs a test with each fast algorithm forced (a 1x1 kernel always takes 'pointwise')."""
    monkeypatch.setattr(conv, "IM2COL_BELOW_CHANNELS", CONV_FORCE[request.param])
    return request.param


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


@pytest.mark.parametrize(
    ("channels", "kernel", "pad", "expected"),
    [
        (3, 1, 0, "pointwise"),
        (64, 1, 0, "pointwise"),
        (3, 1, 1, "im2col"),  # a padded 1x1 kernel is an ordinary convolution
        (conv.IM2COL_BELOW_CHANNELS - 1, 3, 1, "im2col"),
        (conv.IM2COL_BELOW_CHANNELS, 3, 1, "shifted"),
    ],
)
def test_algorithm_selection(channels, kernel, pad, expected, rng) -> None:
    x = rng.standard_normal((1, channels, 5, 5))
    w = rng.standard_normal((2, channels, kernel, kernel))
    _, cache = conv_forward(x, w, np.zeros(2), {"pad": pad})
    assert cache[0] == expected


def test_float32_close_to_float64(rng) -> None:
    x, w, b = rng.standard_normal((2, 8, 9, 9)), rng.standard_normal((5, 8, 3, 3)), np.ones(5)
    param = {"stride": 2, "pad": 1}
    out64, _ = conv_forward(x, w, b, param)
    out32, _ = conv_forward(*(a.astype(np.float32) for a in (x, w, b)), param)
    assert max_rel_error(out32, out64) < 1e-5  # float32 eps 1.2e-7 times ~72-term sums


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
    """The fast conv on each BLAS backend equals the naive one (checked against PyTorch)."""
    monkeypatch.setattr(_blas, "BACKEND", BACKENDS[backend])
    x, w, b = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2)), np.ones(4)
    param = {"stride": (2, 1), "pad": 1}
    out, cache = conv_forward(x, w, b, param)
    ref_out, ref_cache = conv_forward_naive(x, w, b, param)
    dout = rng.standard_normal(out.shape)
    ref = (ref_out, *conv_backward_naive(dout, ref_cache))
    for ours, theirs in zip((out, *conv_backward(dout, cache)), ref, strict=True):
        assert max_rel_error(ours, theirs) < EXACT_RTOL


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


@pytest.mark.parametrize(("kernel", "pad"), [(3, 1), (1, 0)])
@pytest.mark.parametrize("bias", [True, False])
def test_backward_without_dx_gives_the_same_weight_gradients(kernel, pad, bias, rng, algorithm):
    """need_dx=False (a network's input): dx None, dw and db bit-identical, every algorithm."""
    channels = 4
    x = rng.standard_normal((2, channels, 6, 6)).astype(np.float32)
    w = rng.standard_normal((3, channels, kernel, kernel)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32) if bias else None
    out, cache = conv_forward(x, w, b, {"pad": pad})
    dout = rng.standard_normal(out.shape).astype(np.float32)
    dx, dw, db = conv_backward(dout, cache)
    none, dw_only, db_only = conv_backward(dout, cache, need_dx=False)
    assert none is None and dx.shape == x.shape
    np.testing.assert_array_equal(dw_only, dw)
    assert (db_only is None) == (not bias)
    if bias:
        np.testing.assert_array_equal(db_only, db)
