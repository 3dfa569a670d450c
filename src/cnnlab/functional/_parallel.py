"""Memory-bound NumPy work on every core: a small thread pool over slices of the leading axis.

NumPy's ufuncs and reductions release the GIL on large arrays, so two threads each working on
half of the batch run in parallel, where a single NumPy call would use one core of two. The
pool uses as many threads as BLAS does (:func:`cnnlab.functional._blas.blas_threads`): limit
BLAS with ``threadpoolctl`` and the element-wise work follows. Work below
:data:`SERIAL_BELOW` elements runs in the calling thread (the hand-off costs tens of
microseconds).

Inside each thread's slice, :func:`blocks` cuts the slice into pieces of about
:data:`BLOCK_BYTES`, so that several passes over one piece (subtract, square, scale, ...) find
it in the core's cache instead of main memory.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

from cnnlab.functional import _blas

T = TypeVar("T")

#: Arrays with fewer elements than this are processed by the calling thread alone.
SERIAL_BELOW = 1 << 16

#: GEMMs of fewer multiply-adds than this run in the calling thread (OpenBLAS's own limit).
GEMM_SERIAL_BELOW = 1 << 18

#: Size of the pieces a thread walks its slice in (fits the L2 cache of the CPUs seen here).
BLOCK_BYTES = 1 << 18

_pool: ThreadPoolExecutor | None = None


def _reset_after_fork() -> None:
    """A forked child has none of the parent's threads: start a fresh pool there."""
    global _pool
    _pool = None


os.register_at_fork(after_in_child=_reset_after_fork)


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="cnnlab")
    return _pool


def split(n: int, parts: int) -> list[slice]:
    """``range(n)`` cut into ``min(parts, n)`` contiguous slices of near-equal length."""
    parts = max(1, min(parts, n))
    edges = [n * i // parts for i in range(parts + 1)]
    return [slice(edges[i], edges[i + 1]) for i in range(parts)]


def map_slices(fn: Callable[[slice], T], n: int, elements: int) -> list[T]:
    """``[fn(s) for s in slices]`` over slices of ``range(n)``, one per thread, in parallel.

    Args:
        fn: work on one slice of the leading axis; it must write only its own slice.
        n: length of the leading axis.
        elements: total elements the work touches (decides whether threads pay off).

    Returns:
        The results of ``fn``, in the order of the slices.
    """
    threads = 1 if elements < SERIAL_BELOW else _blas.blas_threads()
    return _run(fn, split(n, threads))


def _run(fn: Callable[[slice], T], slices: list[slice]) -> list[T]:
    """``fn`` on every slice, one thread each (the caller takes the first), BLAS single-threaded.

    A BLAS call inside ``fn`` must not wake OpenBLAS's own worker threads: after each threaded
    call they spin for a while before they sleep, and on a machine with as many cores as
    threads here they take a core from this pool (a quarter of a ResNet step's CPU time was
    such spinning, seen with ``perf``).
    """
    if len(slices) == 1:
        return [fn(slices[0])]
    with _blas.single_threaded():
        futures = [_executor().submit(fn, s) for s in slices[1:]]
        first = fn(slices[0])  # the calling thread takes a share too
        return [first, *(f.result() for f in futures)]


def map_gemms(fn: Callable[[slice], T], n: int, flops: int) -> list[T]:
    """``[fn(s) for s in slices]`` of ``range(n)``, one slice per thread, BLAS single-threaded.

    For GEMMs split by hand (:mod:`cnnlab.functional._shifted_gemm`, :func:`gemm`): each
    thread walks its own range with no hand-off to BLAS's threads at all. ``flops``: the
    multiply-adds of the whole job; below :data:`GEMM_SERIAL_BELOW` (OpenBLAS's own limit for
    threading a GEMM), or where the BLAS thread count cannot be set, ``fn`` runs once over the
    whole range.
    """
    parallel = _blas.can_go_single_threaded() and flops >= GEMM_SERIAL_BELOW
    return _run(fn, split(n, _blas.blas_threads() if parallel else 1))


def gemm(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out = a @ b`` (:func:`cnnlab.functional._blas.gemm`'s views), split over threads.

    Each thread computes a slice of ``out`` along its longer axis (columns of ``b`` or rows of
    ``a``) with single-threaded BLAS. Returns ``out``.
    """
    m, n = out.shape
    flops = m * n * a.shape[1]
    if n >= m:
        map_gemms(lambda s: _blas.gemm(a, b[:, s], out[:, s]), n, flops)
    else:
        map_gemms(lambda s: _blas.gemm(a[s], b, out[s]), m, flops)
    return out


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for 2-D arrays (m, k) @ (k, n), as :func:`gemm` where BLAS can take them."""
    dtype = np.result_type(a, b)
    if dtype not in (np.float32, np.float64):
        return a @ b
    a, b = (_blas.ready(x.astype(dtype, copy=False)) for x in (a, b))
    return gemm(a, b, np.empty((a.shape[0], b.shape[1]), dtype=dtype))


def blocks(s: slice, row_bytes: int, size: int = BLOCK_BYTES) -> Iterator[slice]:
    """Sub-slices of ``s`` of about ``size`` bytes, for rows of ``row_bytes`` bytes each."""
    step = max(1, size // max(row_bytes, 1))
    for start in range(s.start, s.stop, step):
        yield slice(start, min(start + step, s.stop))


def copy(dst: np.ndarray, src: np.ndarray) -> None:
    """``dst[...] = src`` (same shapes, any strides), split over the leading axis."""
    map_slices(lambda s: np.copyto(dst[s], src[s]), len(dst), dst.size)


def elementwise(fn: Callable[..., object], out: np.ndarray, *arrays: np.ndarray) -> np.ndarray:
    """``fn(out_part, *parts)`` over cache-sized parts of C-contiguous arrays of one size.

    The arrays are seen flat; each thread walks its share in blocks of about
    :data:`BLOCK_BYTES`, so that an ``fn`` of several ufunc calls reads each block from main
    memory once. Returns ``out``.
    """
    flat_out = out.reshape(-1)
    flat = [a.reshape(-1) for a in arrays]

    def work(s: slice) -> None:
        for b in blocks(s, out.itemsize):
            fn(flat_out[b], *(a[b] for a in flat))

    map_slices(work, flat_out.size, flat_out.size)
    return out
