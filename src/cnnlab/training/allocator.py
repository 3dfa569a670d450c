"""Freed memory kept for the next training step instead of handed back to the OS (glibc).

A training step frees and reallocates the same large buffers every time (activations, the
convolutions' padded copies and gradients, tens of MB each). glibc serves such blocks with
``mmap`` and returns them to the OS on ``free``, so every step touches fresh pages: the kernel
zeroes each one on first use, about 8 % of a ResNet step's CPU time here (``perf``:
``clear_page_erms``). Raising glibc's mmap threshold to its maximum (32 MiB) and its trim
threshold puts those blocks on the heap and keeps them there, as PyTorch's caching allocators
keep theirs. The process then holds on to its peak memory of a step until it exits.
"""

from __future__ import annotations

import ctypes

#: ``mallopt`` parameters (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: glibc's largest mmap threshold on 64-bit systems (blocks above it are always mmap'ed).
MMAP_THRESHOLD_MAX = 32 << 20
TRIM_THRESHOLD = 1 << 30


def keep_freed_memory() -> bool:
    """Tell glibc's malloc to keep freed blocks up to 32 MiB for reuse; True if it took.

    A no-op returning False where the C library has no ``mallopt`` (macOS, Windows).
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.restype, mallopt.argtypes = ctypes.c_int, [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
