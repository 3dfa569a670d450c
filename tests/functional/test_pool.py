"""Pooling beyond the op table (cases.py): the seed's numbers, tie-breaking as in PyTorch,
TensorFlow's 'VALID' cells, dtypes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

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
from cnnlab.gradcheck import rel_error

from ._compare import max_rel_error
from .cases import EXACT_RTOL, OPS, fill, pool_param

MAX = {
    "naive": (max_pool_forward_naive, max_pool_backward_naive),
    "fast": (max_pool_forward, max_pool_backward),
}
AVG = {
    "naive": (avg_pool_forward_naive, avg_pool_backward_naive),
    "fast": (avg_pool_forward, avg_pool_backward),
}
IMPLS = {f"max-{k}": v for k, v in MAX.items()} | {f"avg-{k}": v for k, v in AVG.items()}


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


@pytest.mark.parametrize("impl", MAX)
@pytest.mark.parametrize("case", OPS["max_pool2d"].cases, ids=lambda case: case.id)
def test_max_pool_ties_like_torch(impl, case, rng) -> None:
    """Few distinct values: most windows hold several maxima; the first one gets the gradient."""
    (x,) = fill(rng, dataclasses.replace(case, values="ties"))
    (p,) = case.params
    forward, backward = MAX[impl]
    out, cache = forward(x, p)
    dout = rng.standard_normal(out.shape)
    xt = torch.from_numpy(x).requires_grad_(True)
    ref = OPS["max_pool2d"].torch_ref(xt, p)
    ref.backward(torch.from_numpy(dout))
    assert max_rel_error(out, ref.detach().numpy()) < EXACT_RTOL
    assert max_rel_error(backward(dout, cache), xt.grad.numpy()) < EXACT_RTOL


@pytest.mark.parametrize("impl", AVG)
@pytest.mark.parametrize("cell", [2, 3, 10])
def test_avg_pool_like_tf_valid(impl, cell, rng) -> None:
    """Seed 004's OpAvgPool checks: tf.nn.avg_pool(ksize=stride=cell, 'VALID') on a 10x10x3 map.

    'VALID' drops the cells that do not fit (10 = 3*3 + 1: the last row and column), i.e. a plain
    mean over each full cell; the reference is computed here from that definition.
    """
    x = rng.standard_normal((1, 3, 10, 10))
    out, cache = AVG[impl][0](x, pool_param(cell))
    k = 10 // cell
    cells = x[:, :, : k * cell, : k * cell].reshape(1, 3, k, cell, k, cell)
    assert max_rel_error(out, cells.mean(axis=(3, 5))) < EXACT_RTOL
    dx = AVG[impl][1](np.ones_like(out), cache)
    covered = np.zeros_like(x)
    covered[:, :, : k * cell, : k * cell] = 1.0 / cell**2
    assert max_rel_error(dx, covered) < EXACT_RTOL


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved(impl, dtype, rng) -> None:
    forward, backward = IMPLS[impl]
    x = rng.standard_normal((2, 3, 6, 6)).astype(dtype)
    out, cache = forward(x, pool_param(3, 2, pad=1))
    dx = backward(rng.standard_normal(out.shape), cache)  # float64 dout on purpose
    assert out.dtype == dtype and dx.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_global_avg_pool_dtype_preserved(dtype, rng) -> None:
    out, cache = global_avg_pool_forward(rng.standard_normal((2, 3, 4, 4)).astype(dtype))
    assert out.dtype == dtype
    assert global_avg_pool_backward(np.ones((2, 3)), cache).dtype == dtype


def test_max_pool_window_of_more_than_256_offsets(rng) -> None:
    """17 x 17 = 289 offsets: the index of the first maximum needs more than a byte."""
    x = np.round(rng.standard_normal((2, 2, 19, 19)), 1)  # ties as well
    p = {"pool_height": 17, "pool_width": 17, "stride": 2}
    out, cache = max_pool_forward(x, p)
    dout = rng.standard_normal(out.shape)
    ref_out, ref_cache = max_pool_forward_naive(x, p)
    np.testing.assert_array_equal(out, ref_out)
    # overlapping windows: the shares of a pixel are added in another order, hence EXACT_RTOL
    grad, ref_grad = max_pool_backward(dout, cache), max_pool_backward_naive(dout, ref_cache)
    assert max_rel_error(grad, ref_grad) < EXACT_RTOL
