"""Max, average and global average pooling: seeds, numerical gradients, PyTorch, fast vs naive."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as tF
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab.functional.pool import (
    avg_pool_backward,
    avg_pool_backward_naive,
    avg_pool_forward,
    avg_pool_forward_naive,
    global_avg_pool_backward,
    global_avg_pool_forward,
    max_pool_backward,
    max_pool_backward_naive,
    max_pool_forward,
    max_pool_forward_naive,
)
from cnnlab.gradcheck import eval_numerical_gradient_array, rel_error

from ._compare import max_rel_error

MAX = {
    "naive": (max_pool_forward_naive, max_pool_backward_naive),
    "fast": (max_pool_forward, max_pool_backward),
}
AVG = {
    "naive": (avg_pool_forward_naive, avg_pool_backward_naive),
    "fast": (avg_pool_forward, avg_pool_backward),
}
IMPLS = {f"max-{k}": v for k, v in MAX.items()} | {f"avg-{k}": v for k, v in AVG.items()}
EXACT_TOL = 1e-10  # float64 vs float64: rounding only
NUM_TOL = 1e-7  # central differences, h = 1e-5


def param(kernel, stride=None, pad=0, ceil_mode=False, **extra) -> dict:
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    p = {"pool_height": kh, "pool_width": kw, "pad": pad, "ceil_mode": ceil_mode, **extra}
    if stride is not None:
        p["stride"] = stride
    return p


@pytest.mark.parametrize("impl", MAX)
def test_seed_max_pool_correct_out(impl) -> None:
    x = np.linspace(-0.3, 0.4, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    correct_out = np.array(
        [
            [
                [[-0.26315789, -0.24842105], [-0.20421053, -0.18947368]],
                [[-0.14526316, -0.13052632], [-0.08631579, -0.07157895]],
                [[-0.02736842, -0.01263158], [0.03157895, 0.04631579]],
            ],
            [
                [[0.09052632, 0.10526316], [0.14947368, 0.16421053]],
                [[0.20842105, 0.22315789], [0.26736842, 0.28210526]],
                [[0.32631579, 0.34105263], [0.38526316, 0.4]],
            ],
        ]
    )
    out, _ = MAX[impl][0](x, {"pool_width": 2, "pool_height": 2, "stride": 2})
    assert np.max(np.abs(out - correct_out)) <= 0.5e-8 + 1e-15  # 8 printed decimals
    assert rel_error(out, correct_out) < 5e-8  # the seed prints 4.2e-8


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize(
    ("x_shape", "p"),
    [
        ((3, 2, 8, 8), param(2, 2)),  # the seed's max-pool gradient check
        ((2, 2, 7, 8), param((3, 2), (2, 1), pad=1)),  # overlapping, padded
        ((2, 1, 7, 7), param(3, 2, ceil_mode=True)),
    ],
)
def test_numerical_gradients(impl, x_shape, p, rng) -> None:
    forward, backward = IMPLS[impl]
    x = rng.standard_normal(x_shape)
    out, cache = forward(x, p)
    dout = rng.standard_normal(out.shape)
    dx_num = eval_numerical_gradient_array(lambda v: forward(v, p)[0], x, dout)
    assert rel_error(backward(dout, cache), dx_num) < NUM_TOL


def test_global_avg_pool_numerical_gradient(rng) -> None:
    x = rng.standard_normal((2, 3, 4, 5))
    out, cache = global_avg_pool_forward(x)
    dout = rng.standard_normal(out.shape)
    dx_num = eval_numerical_gradient_array(lambda v: global_avg_pool_forward(v)[0], x, dout)
    assert rel_error(global_avg_pool_backward(dout, cache), dx_num) < NUM_TOL


TORCH_CASES = [
    # x shape, kernel, stride, pad, ceil_mode
    ((2, 3, 8, 8), 2, 2, 0, False),
    ((1, 1, 7, 9), (3, 2), (2, 1), (1, 1), False),
    ((2, 2, 9, 10), 3, 2, 1, True),
    ((2, 2, 9, 10), 3, 2, 0, True),
    ((2, 1, 5, 7), (2, 3), 3, 0, False),  # stride > window: gaps
    ((1, 2, 6, 6), 4, 1, 2, True),
    ((3, 2, 10, 10), 3, 3, 0, False),  # tf 'VALID': the last row/col is dropped
    ((1, 3, 5, 11), (1, 4), (1, 3), (0, 2), True),
]


def torch_pool(kind, x, kernel, stride, pad, ceil_mode, dout, **extra):
    xt = torch.tensor(x, requires_grad=True)
    fn = tF.max_pool2d if kind == "max" else tF.avg_pool2d
    out = fn(xt, kernel, stride, pad, ceil_mode=ceil_mode, **extra)
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), xt.grad.numpy()


def check_against_torch(kind, impl, x, kernel, stride, pad, ceil_mode, rng, **extra) -> None:
    forward, backward = (MAX if kind == "max" else AVG)[impl]
    out, cache = forward(x, param(kernel, stride, pad, ceil_mode, **extra))
    dout = rng.standard_normal(out.shape)
    ref_out, ref_dx = torch_pool(kind, x, kernel, stride, pad, ceil_mode, dout, **extra)
    assert max_rel_error(out, ref_out) < EXACT_TOL
    assert max_rel_error(backward(dout, cache), ref_dx) < EXACT_TOL


@pytest.mark.parametrize("impl", MAX)
@pytest.mark.parametrize(("x_shape", "kernel", "stride", "pad", "ceil_mode"), TORCH_CASES)
def test_max_pool_against_torch(impl, x_shape, kernel, stride, pad, ceil_mode, rng) -> None:
    x = rng.standard_normal(x_shape)
    check_against_torch("max", impl, x, kernel, stride, pad, ceil_mode, rng)


@pytest.mark.parametrize("impl", MAX)
@pytest.mark.parametrize(("x_shape", "kernel", "stride", "pad", "ceil_mode"), TORCH_CASES)
def test_max_pool_ties_like_torch(impl, x_shape, kernel, stride, pad, ceil_mode, rng) -> None:
    """Few distinct values: most windows hold several maxima; the first one gets the gradient."""
    x = rng.integers(0, 3, size=x_shape).astype(np.float64)
    check_against_torch("max", impl, x, kernel, stride, pad, ceil_mode, rng)


@pytest.mark.parametrize("impl", AVG)
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize(("x_shape", "kernel", "stride", "pad", "ceil_mode"), TORCH_CASES)
def test_avg_pool_against_torch(
    impl, count_include_pad, x_shape, kernel, stride, pad, ceil_mode, rng
) -> None:
    x = rng.standard_normal(x_shape)
    check_against_torch(
        "avg", impl, x, kernel, stride, pad, ceil_mode, rng, count_include_pad=count_include_pad
    )


@pytest.mark.parametrize("impl", AVG)
@pytest.mark.parametrize("cell", [2, 3, 10])
def test_avg_pool_like_tf_valid(impl, cell, rng) -> None:
    """Seed 004's OpAvgPool checks: tf.nn.avg_pool(ksize=stride=cell, 'VALID') on a 10x10x3 map.

    'VALID' drops the cells that do not fit (10 = 3*3 + 1: the last row and column), i.e. a plain
    mean over each full cell; the reference is computed here from that definition.
    """
    x = rng.standard_normal((1, 3, 10, 10))
    out, cache = AVG[impl][0](x, param(cell))
    k = 10 // cell
    cells = x[:, :, : k * cell, : k * cell].reshape(1, 3, k, cell, k, cell)
    assert max_rel_error(out, cells.mean(axis=(3, 5))) < EXACT_TOL
    dx = AVG[impl][1](np.ones_like(out), cache)
    covered = np.zeros_like(x)
    covered[:, :, : k * cell, : k * cell] = 1.0 / cell**2
    assert max_rel_error(dx, covered) < EXACT_TOL


def test_global_avg_pool_against_torch(rng) -> None:
    x = rng.standard_normal((3, 4, 5, 7))
    out, cache = global_avg_pool_forward(x)
    dout = rng.standard_normal(out.shape)
    xt = torch.tensor(x, requires_grad=True)
    ref = tF.adaptive_avg_pool2d(xt, 1)[:, :, 0, 0]
    ref.backward(torch.tensor(dout))
    assert max_rel_error(out, ref.detach().numpy()) < EXACT_TOL
    assert max_rel_error(global_avg_pool_backward(dout, cache), xt.grad.numpy()) < EXACT_TOL


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from(["max", "avg"]),
    n=st.integers(1, 2),
    c=st.integers(1, 2),
    h=st.integers(1, 8),
    w=st.integers(1, 8),
    kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    pad=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    ceil_mode=st.booleans(),
    count_include_pad=st.booleans(),
    ties=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_fast_matches_naive(
    kind, n, c, h, w, kernel, stride, pad, ceil_mode, count_include_pad, ties, seed
) -> None:
    pad = (min(pad[0], kernel[0] // 2), min(pad[1], kernel[1] // 2))
    if kernel[0] > h + 2 * pad[0] or kernel[1] > w + 2 * pad[1]:
        return  # window larger than the padded input: rejected (tested below)
    rng = np.random.default_rng(seed)
    x = (
        rng.integers(0, 3, (n, c, h, w)).astype(float)
        if ties
        else rng.standard_normal((n, c, h, w))
    )
    p = param(kernel, stride, pad, ceil_mode)
    if kind == "avg":
        p["count_include_pad"] = count_include_pad
    naive, fast = (AVG if kind == "avg" else MAX).values()
    out_n, cache_n = naive[0](x, p)
    out_f, cache_f = fast[0](x, p)
    dout = rng.standard_normal(out_n.shape)
    assert max_rel_error(out_f, out_n) < EXACT_TOL
    assert max_rel_error(fast[1](dout, cache_f), naive[1](dout, cache_n)) < EXACT_TOL


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved(impl, dtype, rng) -> None:
    forward, backward = IMPLS[impl]
    x = rng.standard_normal((2, 3, 6, 6)).astype(dtype)
    out, cache = forward(x, param(3, 2, pad=1))
    dx = backward(rng.standard_normal(out.shape), cache)  # float64 dout on purpose
    assert out.dtype == dtype and dx.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_global_avg_pool_dtype_preserved(dtype, rng) -> None:
    out, cache = global_avg_pool_forward(rng.standard_normal((2, 3, 4, 4)).astype(dtype))
    assert out.dtype == dtype
    assert global_avg_pool_backward(np.ones((2, 3)), cache).dtype == dtype


BAD = [
    ((4, 4, 4), param(2), r"pool2d: input x must be 4-D .*got shape \(4, 4, 4\)"),
    ((1, 1, 4, 4), {"pool_height": 2}, r"pool2d: pool_param needs 'pool_height' and 'pool_width'"),
    ((1, 1, 4, 4), param(0), r"pool2d: pool_height/pool_width must be positive"),
    ((1, 1, 4, 4), param(2, 0), r"pool2d: stride must be positive"),
    ((1, 1, 4, 4), param(2, pad=-1), r"pool2d: pad must be non-negative"),
    (
        (1, 1, 4, 4),
        param(2, pad=2),
        r"pool2d: pad \(2, 2\) must be at most half the 2x2 window "
        r"\(x \(1, 1, 4, 4\)\)",
    ),
    (
        (1, 1, 2, 3),
        param(4, pad=0),
        r"pool2d: the 4x4 window .* larger than the padded input "
        r"2x3 .*\(x \(1, 1, 2, 3\)\)",
    ),
]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize(("x_shape", "p", "message"), BAD)
def test_bad_input(impl, x_shape, p, message) -> None:
    prefix = "^max_" if impl.startswith("max") else "^avg_"  # the op name: max_pool2d, avg_pool2d
    with pytest.raises(ValueError, match=prefix + message):
        IMPLS[impl][0](np.zeros(x_shape), p)


@pytest.mark.parametrize("impl", IMPLS)
def test_bad_dtype_and_dout(impl) -> None:
    forward, backward = IMPLS[impl]
    with pytest.raises(ValueError, match=r"pool2d: input x must be a floating-point array"):
        forward(np.zeros((1, 1, 4, 4), dtype=np.int32), param(2))
    _, cache = forward(np.zeros((1, 1, 4, 4)), param(2))
    with pytest.raises(ValueError, match=r"pool2d: dout must have shape \(1, 1, 2, 2\)"):
        backward(np.zeros((1, 1, 4, 4)), cache)


def test_global_avg_pool_bad_input() -> None:
    with pytest.raises(ValueError, match=r"global_avg_pool2d: input x must be 4-D"):
        global_avg_pool_forward(np.zeros((2, 3)))
    _, cache = global_avg_pool_forward(np.zeros((2, 3, 4, 4)))
    with pytest.raises(ValueError, match=r"global_avg_pool2d: dout .*shape \(2, 3\), got \(3,\)"):
        global_avg_pool_backward(np.zeros(3), cache)
