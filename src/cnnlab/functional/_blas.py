"""``C = A @ B + beta C`` on strided NumPy views, straight through BLAS ``?gemm``.

``np.matmul`` cannot accumulate into its output, and SciPy's ``scipy.linalg.blas.?gemm``
wrappers copy any operand that is not contiguous. Convolution as shifted matrix products (see
:mod:`cnnlab.functional._shifted_gemm`) needs both: operands that are column windows of a wider
matrix (row stride larger than the row length) and accumulation over kernel offsets. BLAS itself
takes exactly that (the leading-dimension arguments), so this module calls ``?gemm`` through
ctypes, from the first of these backends that loads:

* ``numpy``: the OpenBLAS that NumPy's wheels bundle (``numpy.libs/libscipy_openblas64_*``,
  CBLAS interface, 64-bit integers). Preferred: it is the BLAS ``np.matmul`` uses, so the whole
  process shares one BLAS thread pool (two pools on two cores slow each other down), and its
  version is the newer of the two here (about 10 % faster on the convolution shapes).
* ``scipy``: the Fortran ``sgemm``/``dgemm`` SciPy exports for Cython (``scipy.linalg.cython_blas``,
  a public SciPy API, 32-bit integers); always present.

Every argument is checked before the call, so a wrong call raises instead of reading stray memory.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import scipy.linalg.cython_blas as cython_blas

_REALS = {np.dtype(np.float32): ctypes.c_float, np.dtype(np.float64): ctypes.c_double}


@dataclass(frozen=True)
class Backend:
    """One way to call column-major ``gemm``.

    ``call(dtype, trans_a, trans_b, m, n, k, a_ptr, lda, b_ptr, ldb, beta, c_ptr, ldc)`` computes
    ``C (m, n) = op(A) @ op(B) + beta C`` on column-major storage; ``int_limit`` bounds every
    integer argument.
    """

    name: str
    int_limit: int
    call: Callable[..., None]
    library: str | None = None  # the shared library's path, where it was loaded by path


def _numpy_openblas() -> Backend | None:
    """NumPy's bundled OpenBLAS (CBLAS, ILP64), or None where NumPy was built otherwise."""
    root = os.path.dirname(np.__file__)
    pattern = "libscipy_openblas64_*"
    paths = glob.glob(os.path.join(root, os.pardir, "numpy.libs", pattern)) + glob.glob(
        os.path.join(root, ".dylibs", pattern)
    )
    if not paths:
        return None
    try:
        lib = ctypes.CDLL(paths[0])
        funcs = {
            np.dtype(np.float32): lib.scipy_cblas_sgemm64_,
            np.dtype(np.float64): lib.scipy_cblas_dgemm64_,
        }
    except (OSError, AttributeError):
        return None
    i64, ptr = ctypes.c_int64, ctypes.c_void_p
    for dtype, func in funcs.items():
        real = _REALS[dtype]
        func.restype = None
        func.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, i64, i64, i64, real, ptr, i64]
        func.argtypes += [ptr, i64, real, ptr, i64]
    col_major, trans = 102, {b"N": 111, b"T": 112}

    def call(dtype, ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc) -> None:
        funcs[dtype](col_major, trans[ta], trans[tb], m, n, k, 1.0, a, lda, b, ldb, beta, c, ldc)

    return Backend("numpy", 2**63, call, paths[0])


def _scipy_cython_blas() -> Backend:
    """The Fortran ``?gemm`` of SciPy's Cython BLAS table (LP64)."""
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype, get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    int_p, char_p = ctypes.POINTER(ctypes.c_int), ctypes.c_char_p
    funcs = {}
    for dtype, name in ((np.dtype(np.float32), "sgemm"), (np.dtype(np.float64), "dgemm")):
        capsule = cython_blas.__pyx_capi__[name]
        real_p = ctypes.POINTER(_REALS[dtype])
        args = [char_p, char_p, int_p, int_p, int_p, real_p, real_p, int_p, real_p, int_p]
        proto = ctypes.CFUNCTYPE(None, *args, real_p, real_p, int_p)
        funcs[dtype] = (proto(get_pointer(capsule, get_name(capsule))), _REALS[dtype], real_p)

    def call(dtype, ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc) -> None:
        func, real, real_p = funcs[dtype]

        def ref(v: int) -> ctypes._Pointer:
            return ctypes.byref(ctypes.c_int(v))

        def arr(p: int) -> ctypes._Pointer:
            return ctypes.cast(p, real_p)

        one, beta_ = ctypes.byref(real(1.0)), ctypes.byref(real(beta))
        func(ta, tb, ref(m), ref(n), ref(k), one, arr(a), ref(lda), arr(b), ref(ldb), beta_,
             arr(c), ref(ldc))  # fmt: skip

    return Backend("scipy", 2**31, call)


def available_backends() -> list[Backend]:
    """Every backend that loads here, preferred first."""
    found = _numpy_openblas()
    return ([found] if found else []) + [_scipy_cython_blas()]


BACKEND = available_backends()[0]


def _fortran_view(a: np.ndarray) -> tuple[bytes, int]:
    """How BLAS sees the 2-D view ``a`` (m, n) as a column-major matrix.

    Returns ``(trans, ld)``: ``b"N"`` when ``a`` is column-major with leading dimension ``ld``
    (unit stride down the columns), ``b"T"`` when it is row-major (unit stride along the rows),
    i.e. BLAS must read the stored matrix transposed.
    """
    item = a.itemsize
    rows, cols = a.shape
    s0, s1 = a.strides
    if (s0 == item or rows == 1) and s1 % item == 0 and s1 // item >= max(rows, 1):
        return b"N", max(s1 // item, rows, 1)
    if (s1 == item or cols == 1) and s0 % item == 0 and s0 // item >= max(cols, 1):
        return b"T", max(s0 // item, cols, 1)
    raise ValueError(f"gemm: operand of shape {a.shape} and strides {a.strides} is not BLAS-ready")


def ready(a: np.ndarray) -> np.ndarray:
    """``a`` itself if :func:`gemm` can read the 2-D view in place, else a C-contiguous copy."""
    try:
        _fortran_view(a)
    except ValueError:
        return np.ascontiguousarray(a)
    return a


def gemm(
    a: np.ndarray, b: np.ndarray, out: np.ndarray, beta: float = 0.0, backend: Backend | None = None
) -> np.ndarray:
    """``out = a @ b + beta * out`` in place; returns ``out``.

    ``a`` (m, k), ``b`` (k, n), ``out`` (m, n): 2-D float32/float64 views of one dtype, each with
    unit stride along one axis (any stride along the other). With ``beta == 0`` the previous
    content of ``out`` is ignored (it may be uninitialised). ``backend``: default :data:`BACKEND`.
    """
    backend = backend or BACKEND
    m, k = a.shape
    n = b.shape[1]
    dtype = out.dtype
    if b.shape[0] != k or out.shape != (m, n) or a.dtype != dtype or b.dtype != dtype:
        raise ValueError(
            f"gemm: shapes/dtypes do not match: a {a.shape} {a.dtype}, b {b.shape} {b.dtype}, "
            f"out {out.shape} {dtype}"
        )
    if dtype not in _REALS:
        raise ValueError(f"gemm: dtype must be float32 or float64, got {dtype}")
    if m == 0 or n == 0:
        return out
    # Row-major out (m, n) is column-major out.T (n, m) = b.T (n, k) @ a.T (k, m).
    trans_c, ldc = _fortran_view(out.T)
    if trans_c != b"N":
        raise ValueError(f"gemm: out of strides {out.strides} must have unit stride along rows")
    trans_b, ldb = _fortran_view(b.T)
    trans_a, lda = _fortran_view(a.T)
    if max(m, n, k, lda, ldb, ldc) >= backend.int_limit:
        raise ValueError(f"gemm: dimensions exceed {backend.name} BLAS: a {a.shape}, b {b.shape}")
    backend.call(
        dtype, trans_b, trans_a, n, m, k, b.ctypes.data, ldb, a.ctypes.data, lda, float(beta),
        out.ctypes.data, ldc,
    )  # fmt: skip
    return out


def _thread_controls() -> tuple[Callable[[], int], Callable[[int], None] | None]:
    """Cheap get/set of the BLAS thread count (NumPy's OpenBLAS); else (core count, None)."""
    if BACKEND.name == "numpy":
        lib = ctypes.CDLL(BACKEND.library)
        get = lib.scipy_openblas_get_num_threads64_
        get.restype, get.argtypes = ctypes.c_int, []
        put = lib.scipy_openblas_set_num_threads64_
        put.restype, put.argtypes = None, [ctypes.c_int]
        return get, put
    return (lambda: os.cpu_count() or 1), None


def blas_threads() -> int:
    """The thread count NumPy's BLAS uses now (it follows ``threadpoolctl`` limits).

    The element-wise thread pool (:mod:`cnnlab.functional._parallel`) uses as many threads, so
    that limiting BLAS to one thread makes the whole fast path single-threaded.
    """
    return _GET_THREADS()


def can_go_single_threaded() -> bool:
    """Whether :func:`single_threaded` can really set the BLAS thread count to one."""
    return _SET_THREADS is not None


class _SingleThreaded:
    """The state behind :func:`single_threaded`: how many blocks are open, the count before.

    Blocks opened by several threads at once overlap; only the first sets one thread and only
    the last puts the saved count back (a plain save/restore per block would leave BLAS on one
    thread for good when two blocks interleave).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.saved = 1


_STATE = _SingleThreaded()


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """NumPy's BLAS on one thread inside the block, the previous count restored on exit.

    Each calling thread then runs its own GEMMs. Safe to nest and to enter from several threads.
    A no-op where the count cannot be set.
    """
    if _SET_THREADS is None:
        yield
        return
    with _STATE.lock:
        if _STATE.depth == 0:
            _STATE.saved = _GET_THREADS()
            _SET_THREADS(1)
        _STATE.depth += 1
    try:
        yield
    finally:
        with _STATE.lock:
            _STATE.depth -= 1
            if _STATE.depth == 0:
                _SET_THREADS(_STATE.saved)


def _reset_after_fork() -> None:
    """A child forked inside a block starts with none open (its BLAS count stays as it is)."""
    global _STATE
    _STATE = _SingleThreaded()


os.register_at_fork(after_in_child=_reset_after_fork)


_GET_THREADS, _SET_THREADS = _thread_controls()
