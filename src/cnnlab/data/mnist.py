"""MNIST in its official IDX format (gzip-compressed or not).

Only the 10,000-digit **test** set (``t10k-*``) is available offline in this project; the
60,000-digit training files (``train-*``) load the same way where a user has them. To train and
evaluate on the test set alone, cut it into disjoint parts with :func:`split_mnist` and say so
when reporting results.
"""

from __future__ import annotations

import gzip
import itertools
import os
import zlib
from pathlib import Path

import numpy as np

from cnnlab.data import paths

_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
MAX_IDX_BYTES = 1 << 30  # decompressed; the 60,000 training images are 47 MB
IMAGES_MAGIC = 0x00000803  # uint8, 3 dimensions
LABELS_MAGIC = 0x00000801  # uint8, 1 dimension
FILES = {
    kind: (f"{kind}-images-idx3-ubyte.gz", f"{kind}-labels-idx1-ubyte.gz")
    for kind in ("train", "t10k")
}


def read_idx(path: str | os.PathLike, expect_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (gzip detected from its first bytes) into an array of its own shape.

    The header is two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
    0x0D float32, 0x0E float64), the number of dimensions d, then d big-endian uint32 sizes.
    ``expect_magic`` (e.g. ``IMAGES_MAGIC``) makes any other magic number an error.
    Raises ``ValueError`` naming the file for a bad magic number, a wrong data length, a
    truncated or corrupt gzip stream, or more than ``MAX_IDX_BYTES`` of data.
    """
    raw = _read_limited(Path(path))
    if len(raw) < 4:
        raise ValueError(f"read_idx: {path} is too short ({len(raw)} bytes) to be an IDX file")
    magic = int.from_bytes(raw[:4], "big")
    if expect_magic is not None and magic != expect_magic:
        raise ValueError(f"read_idx: {path} has magic {magic:#010x}, expected {expect_magic:#010x}")
    if raw[:2] != b"\0\0" or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"read_idx: {path} has magic {magic:#010x}, which is not an IDX header")
    dtype, ndim = _IDX_DTYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {path} ends inside its {ndim}-dimension header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(
            f"read_idx: {path} declares shape {shape} ({expected} bytes of {dtype}) but holds "
            f"{len(raw) - header} bytes of data"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def _read_limited(path: Path) -> bytes:
    """The file's bytes, gunzipped when they are gzip, at most ``MAX_IDX_BYTES`` of them."""
    with open(path, "rb") as f:
        packed = f.read(2) == _GZIP_MAGIC
    try:
        with gzip.open(path) if packed else open(path, "rb") as f:
            raw = f.read(MAX_IDX_BYTES + 1)
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise ValueError(f"read_idx: {path} is a truncated or corrupt gzip file ({err})") from err
    if len(raw) > MAX_IDX_BYTES:
        raise ValueError(f"read_idx: {path} holds more than {MAX_IDX_BYTES} bytes of data")
    return raw


def _find_dir(root: str | os.PathLike | None, names: tuple[str, str]) -> Path:
    """Folder holding both files: ``root`` or ``root/mnist``, else the data search folders."""
    bases = [Path(root)] if root is not None else paths.search_dirs()
    candidates = [c for b in bases for c in (b, b / "mnist")]
    for c in candidates:
        if all((c / n).is_file() or (c / n.removesuffix(".gz")).is_file() for n in names):
            return c
    raise FileNotFoundError(
        f"MNIST files {names[0]} and {names[1]} (gzip or not) not found in any of "
        f"{[str(c) for c in candidates]}; set CNNLAB_DATA or pass root="
    )


def _file(folder: Path, name: str) -> Path:
    gz = folder / name
    return gz if gz.is_file() else folder / name.removesuffix(".gz")


def load_mnist(
    root: str | os.PathLike | None = None, kind: str = "t10k"
) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST images and labels.

    root: folder holding the IDX files (directly or in ``mnist/``); ``None`` searches
        :func:`cnnlab.data.paths.search_dirs`.
    kind: ``'t10k'`` (the test set, the one available here) or ``'train'``.
    Returns ``(X uint8 (N, 28, 28), y int64 (N,))`` with labels 0..9; divide X by 255 for [0, 1].
    """
    if kind not in FILES:
        raise ValueError(f"load_mnist: kind must be 'train' or 't10k', got {kind!r}")
    folder = _find_dir(root, FILES[kind])
    images_file, labels_file = (_file(folder, n) for n in FILES[kind])
    X = read_idx(images_file, IMAGES_MAGIC)
    y = read_idx(labels_file, LABELS_MAGIC).astype(np.int64)
    if X.shape[1:] != (28, 28) or X.shape[0] != y.shape[0]:
        raise ValueError(
            f"load_mnist: images {X.shape} in {images_file} and labels {y.shape} in "
            f"{labels_file} do not form an MNIST set of (N, 28, 28) images and N labels"
        )
    if y.size and (y.min() < 0 or y.max() > 9):
        raise ValueError(f"load_mnist: labels in {labels_file} must be 0..9")
    return X, y


def split_mnist(
    X: np.ndarray,
    y: np.ndarray,
    sizes: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int | None = 0,
) -> tuple[np.ndarray, ...]:
    """Cut one labelled set into disjoint random train / validation / test parts.

    X: (N, ...); y: (N,). ``sizes`` are three counts (ints) or three fractions of N (floats
    summing to at most 1; each part gets ``floor(fraction * N)``). The order is a permutation
    drawn from ``numpy.random.default_rng(seed)``.
    Returns ``(X_train, y_train, X_val, y_val, X_test, y_test)``.
    """
    X, y = np.asarray(X), np.asarray(y)
    N = X.shape[0] if X.ndim else 0
    if X.ndim == 0 or y.shape != (N,):
        raise ValueError(f"split_mnist: X {X.shape} and y {y.shape} must be (N, ...) and (N,)")
    if len(sizes) != 3 or any(s < 0 for s in sizes):
        raise ValueError(f"split_mnist: sizes must be three non-negative numbers, got {sizes}")
    if all(isinstance(s, (int, np.integer)) for s in sizes):
        counts = [int(s) for s in sizes]
    elif sum(sizes) <= 1.0 + 1e-12:
        counts = [int(np.floor(s * N)) for s in sizes]
    else:
        raise ValueError(f"split_mnist: fractions {sizes} sum to more than 1")
    if sum(counts) > N:
        raise ValueError(f"split_mnist: sizes {counts} need {sum(counts)} samples, have {N}")
    order = np.random.default_rng(seed).permutation(N)
    bounds = np.cumsum([0, *counts])
    parts: list[np.ndarray] = []
    for lo, hi in itertools.pairwise(bounds):
        parts += [X[order[lo:hi]], y[order[lo:hi]]]
    return tuple(parts)
