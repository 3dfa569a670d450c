"""Small file helpers used across the package: checksums and atomic writes."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

_CHUNK = 1 << 20
_UMASK = os.umask(0o022)  # read the process umask (only settable), then put it back
os.umask(_UMASK)


def file_digest(path: str | os.PathLike, algorithm: str = "md5") -> str:
    """Hex digest of a file's bytes, read in 1 MiB chunks (``algorithm``: md5, sha256, ...)."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_checksum(
    path: str | os.PathLike, md5: str | None = None, sha256: str | None = None
) -> None:
    """Raise ``ValueError`` naming the file when its md5 or sha256 differs from the one given."""
    for algorithm, expected in (("md5", md5), ("sha256", sha256)):
        if expected is None:
            continue
        actual = file_digest(path, algorithm)
        if actual.lower() != expected.lower():
            raise ValueError(
                f"checksum mismatch for {path}: {algorithm} is {actual}, expected {expected}"
            )


@contextmanager
def atomic_open(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open a temporary file next to ``path`` for binary writing; rename it onto ``path`` at exit.

    If the block raises, the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_npz_atomic(
    path: str | os.PathLike, compressed: bool = False, **arrays: np.ndarray
) -> None:
    """Write ``arrays`` to ``path`` as an .npz (optionally compressed), atomically."""
    save: Callable[..., None] = np.savez_compressed if compressed else np.savez
    with atomic_open(path) as f:
        save(f, **arrays)
