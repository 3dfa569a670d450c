"""Small file helpers used across the package: checksums, atomic writes, folder locks."""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

_CHUNK = 1 << 20
LOCK_FILE = ".lock"
_TEMP_PATTERN = ".*.tmp"  # what atomic_open's temporary files look like
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


class FolderInUseError(OSError):
    """Another process holds the lock of a folder (see :func:`locked_folder`)."""


def remove_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that interrupted :func:`atomic_open` writes left in ``folder``.

    The files are named ``.<name>.<random>.tmp``; returns their paths. Call it only while holding
    the folder's lock, so that no write in progress loses its file.
    """
    removed = []
    for tmp in Path(folder).glob(_TEMP_PATTERN):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _lock_owner(fd: int) -> str:
    """The pid recorded in an open lock file ('' when none)."""
    return os.pread(fd, 64, 0).decode("ascii", errors="replace").strip()


def _open_locked(lock: Path) -> int:
    """Open ``lock`` and take its exclusive flock; return the descriptor.

    Raises FolderInUseError naming the owner's pid when another process holds it. Retries when
    the file was replaced between open and flock (its previous owner just released it).
    """
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _lock_owner(fd)
            os.close(fd)
            raise FolderInUseError(
                f"{lock.parent} is in use by process {owner or '?'} (lock file {lock}); wait "
                "for that run to end or choose another folder"
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


@contextmanager
def locked_folder(path: str | os.PathLike) -> Iterator[Path]:
    """Hold an exclusive lock on folder ``path`` (created if missing) for the block.

    The lock is ``path/.lock``, an flock'ed file holding the owner's pid: the kernel releases
    it when the owner dies, and the next owner reports the pid it finds there as a stale lock
    (a warning). On entry the temporary files of interrupted atomic writes are removed; on exit
    the lock file goes, and so do the folder and the parents this call created if nothing else
    was written. Raises FileExistsError when ``path`` is a file and FolderInUseError when
    another process holds the lock.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"{path} exists and is not a folder")
    created = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    lock = path / LOCK_FILE
    try:
        fd = _open_locked(lock)
    except BaseException:
        _remove_empty(created)
        raise
    try:
        stale = _lock_owner(fd)
        if stale:
            warnings.warn(
                f"{path}: taking over the stale lock of process {stale}, which ended without "
                "releasing it",
                stacklevel=3,
            )
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        remove_temporaries(path)
        yield path
    finally:
        lock.unlink(missing_ok=True)
        os.close(fd)
        _remove_empty(created)


def _remove_empty(folders: list[Path]) -> None:
    """Remove ``folders`` (innermost first) as long as they are empty."""
    for folder in folders:
        if any(folder.iterdir()):
            return
        folder.rmdir()
