"""The element-wise thread pool and the kernels that use it, on arrays big enough to be split.

The op table (cases.py) uses small arrays, which stay in the calling thread; here the arrays
exceed ``_parallel.SERIAL_BELOW`` and several cache blocks, so the threaded, blocked paths run.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits

from cnnlab.functional import _parallel
from cnnlab.functional.norm import spatial_batchnorm_backward, spatial_batchnorm_forward

from .cases import EXACT_ATOL, EXACT_RTOL


@pytest.mark.parametrize(("n", "parts"), [(10, 3), (2, 5), (7, 1), (0, 2)])
def test_split_covers_the_range_in_order(n, parts):
    slices = _parallel.split(n, parts)
    covered = [i for s in slices for i in range(s.start, s.stop)]
    assert covered == list(range(n))
    assert len(slices) == max(1, min(parts, n))
    lengths = [s.stop - s.start for s in slices]
    assert max(lengths) - min(lengths) <= 1


def test_map_slices_threads_follow_the_blas_limit():
    def who(s: slice) -> tuple[slice, int]:
        return s, threading.get_ident()

    big = 2 * _parallel.SERIAL_BELOW
    with threadpool_limits(2):
        results = _parallel.map_slices(who, 10, big)
    assert [s for s, _ in results] == _parallel.split(10, 2)
    assert len({ident for _, ident in results}) == 2
    with threadpool_limits(1):
        assert len(_parallel.map_slices(who, 10, big)) == 1
    assert len(_parallel.map_slices(who, 10, _parallel.SERIAL_BELOW - 1)) == 1


def test_blocks_cut_a_slice_into_cache_sized_pieces():
    row = _parallel.BLOCK_BYTES // 3
    pieces = list(_parallel.blocks(slice(4, 12), row))
    assert pieces == [slice(4, 7), slice(7, 10), slice(10, 12)]


@pytest.mark.parametrize("mode", ["train", "test"])
def test_spatial_batchnorm_threaded_matches_torch(mode):
    rng = np.random.default_rng(0)
    x = 3 * rng.standard_normal((9, 16, 24, 24)) + 1.5  # 83k elements, 2 samples per block
    gamma, beta = rng.standard_normal(16), rng.standard_normal(16)
    dout = rng.standard_normal(x.shape)
    mean, var = rng.standard_normal(16), rng.uniform(0.5, 2, 16)
    param = {"mode": mode, "running_mean": mean, "running_var": var}
    with threadpool_limits(2):
        out, cache = spatial_batchnorm_forward(x, gamma, beta, param)
        dx, dgamma, dbeta = spatial_batchnorm_backward(dout, cache)
    xt, gt, bt = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    ref = F.batch_norm(
        xt, torch.tensor(mean), torch.tensor(var), gt, bt, training=mode == "train", eps=1e-5
    )
    ref.backward(torch.tensor(dout))
    for ours, theirs in ((out, ref), (dx, xt.grad), (dgamma, gt.grad), (dbeta, bt.grad)):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=EXACT_RTOL, atol=EXACT_ATOL)
    if mode == "train":
        np.testing.assert_allclose(param["running_var"], 0.9 * var + 0.1 * x.var(axis=(0, 2, 3)))


@pytest.mark.parametrize(
    ("w_shape", "stride", "pad"),
    [((12, 16, 3, 3), 1, 1), ((12, 16, 1, 1), 2, 0), ((8, 3, 5, 5), 1, 2)],  # shifted, 1x1, im2col
)
def test_conv_threaded_copies_match_torch(w_shape, stride, pad):
    from cnnlab.functional.conv import conv_backward, conv_forward

    rng = np.random.default_rng(1)
    x = rng.standard_normal((9, w_shape[1], 24, 24))
    w, b = rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    with threadpool_limits(2):
        out, cache = conv_forward(x, w, b, {"stride": stride, "pad": pad})
        dout = rng.standard_normal(out.shape)
        grads = conv_backward(dout, cache)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ref = F.conv2d(xt, wt, bt, stride=stride, padding=pad)
    ref.backward(torch.tensor(dout))
    for ours, theirs in zip((out, *grads), (ref, xt.grad, wt.grad, bt.grad), strict=True):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=EXACT_RTOL, atol=EXACT_ATOL)


@pytest.mark.parametrize(("stride", "dilation"), [(1, 1), (2, 1), (1, 2)])
def test_shifted_gemm_in_small_pieces_matches_torch(stride, dilation, monkeypatch):
    """Pieces of 2 KiB: each thread walks dozens of column pieces, every phase block of dx too."""
    from cnnlab.functional import _shifted_gemm
    from cnnlab.functional.conv import conv_backward, conv_forward

    monkeypatch.setattr(_shifted_gemm, "PIECE_BYTES", 2048)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((7, 10, 21, 19))
    w, b = rng.standard_normal((16, 10, 3, 3)), rng.standard_normal(16)
    param = {"stride": stride, "pad": 1, "dilation": dilation}
    with threadpool_limits(2):
        out, cache = conv_forward(x, w, b, param)
        assert cache.kind == "shifted"
        dout = rng.standard_normal(out.shape)
        grads = conv_backward(dout, cache)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ref = F.conv2d(xt, wt, bt, stride=stride, padding=1, dilation=dilation)
    ref.backward(torch.tensor(dout))
    for ours, theirs in zip((out, *grads), (ref, xt.grad, wt.grad, bt.grad), strict=True):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=EXACT_RTOL, atol=EXACT_ATOL)


@pytest.mark.parametrize("mapper", ["map_gemms", "map_slices"])
def test_threads_run_single_threaded_blas(mapper):
    """Neither mapper lets a BLAS call inside wake OpenBLAS's own (spinning) worker threads."""
    from cnnlab.functional import _blas

    def who(s: slice) -> tuple[slice, int, int]:
        return s, threading.get_ident(), _blas.blas_threads()

    run = getattr(_parallel, mapper)
    big = 2 * max(_parallel.GEMM_SERIAL_BELOW, _parallel.SERIAL_BELOW)
    small = min(_parallel.GEMM_SERIAL_BELOW, _parallel.SERIAL_BELOW) - 1
    with threadpool_limits(2):
        results = run(who, 10, big)
        assert _blas.blas_threads() == 2  # restored
        assert len(run(who, 10, small)) == 1
    if _blas.can_go_single_threaded():
        assert [s for s, _, _ in results] == _parallel.split(10, 2)
        assert len({ident for _, ident, _ in results}) == 2
        assert {threads for _, _, threads in results} == {1}
    with threadpool_limits(1):
        assert len(run(who, 10, big)) == 1


@pytest.mark.parametrize(("m", "k", "n"), [(300, 40, 7), (7, 40, 300), (3, 2, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_threaded_matmul_matches_numpy(m, k, n, dtype):
    """Split along out's rows (tall), columns (wide), or not at all (tiny); strided views too."""
    rng = np.random.default_rng(4)
    a = rng.standard_normal((k, 2 * m)).astype(dtype)[:, ::2].T  # (m, k), not BLAS-ready
    b = rng.standard_normal((n, k)).astype(dtype).T  # (k, n), column-major view
    with threadpool_limits(2):
        out = _parallel.matmul(a, b)
    assert out.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, a @ b, rtol=tol, atol=tol * k)
    np.testing.assert_array_equal(_parallel.matmul(a.astype(int), b.astype(int)[:, :3]),
                                  a.astype(int) @ b.astype(int)[:, :3])  # fmt: skip


def test_relu_threaded_matches_numpy():
    from cnnlab.functional.activation import relu_backward, relu_forward

    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 7, 61, 67)).astype(np.float32)[:, :, 1:, :]  # not contiguous
    dout = rng.standard_normal(x.shape).astype(np.float32)
    with threadpool_limits(2):
        out, cache = relu_forward(x)
        dx = relu_backward(dout, cache)
    np.testing.assert_array_equal(out, np.maximum(x, 0))
    np.testing.assert_array_equal(dx, np.where(x > 0, dout, 0))
    assert out.dtype == dx.dtype == np.float32


@pytest.mark.parametrize(("kernel", "stride", "pad"), [(2, 2, 0), (3, 2, 1)])
def test_max_pool_threaded_matches_torch(kernel, stride, pad):
    from cnnlab.functional.pool import max_pool_backward, max_pool_forward

    rng = np.random.default_rng(3)
    x = rng.standard_normal((9, 16, 24, 24))
    param = {"pool_height": kernel, "pool_width": kernel, "stride": stride, "pad": pad}
    with threadpool_limits(2):
        out, cache = max_pool_forward(x, param)
        dout = rng.standard_normal(out.shape)
        dx = max_pool_backward(dout, cache)
    xt = torch.tensor(x, requires_grad=True)
    ref = F.max_pool2d(xt, kernel, stride, pad)
    ref.backward(torch.tensor(dout))
    np.testing.assert_array_equal(out, ref.detach().numpy())
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=EXACT_RTOL, atol=EXACT_ATOL)


def test_single_threaded_blocks_interleaved_across_threads_restore_the_count():
    """A enters, B enters, A leaves, B leaves: one thread throughout, the count restored after.

    Where the count cannot be set (SciPy's BLAS only), the blocks must change nothing.
    """
    from cnnlab.functional import _blas

    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = []

    def first() -> None:
        with _blas.single_threaded():
            a_in.set()
            b_in.wait(5)
        seen.append(_blas.blas_threads())  # B still inside: still one thread
        a_out.set()

    def second() -> None:
        a_in.wait(5)
        with _blas.single_threaded(), _blas.single_threaded():  # nested too
            b_in.set()
            a_out.wait(5)
            seen.append(_blas.blas_threads())

    with threadpool_limits(2):
        before = _blas.blas_threads()
        inside = 1 if _blas.can_go_single_threaded() else before
        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert seen == [inside, inside]
        assert _blas.blas_threads() == before
