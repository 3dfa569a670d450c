"""The official CIFAR-10 "python version": ``cifar-10-python.tar.gz`` and its unpacked folder.

The official files are Python pickles. A pickle can run code when loaded, so nothing here
unpickles a byte before its checksum matched the published one: the md5 of the whole archive
(``ARCHIVE_MD5``) or, for an unpacked ``cifar-10-batches-py`` folder, the md5 of each file
(``BATCH_MD5``). As a second line of defence the unpickler only knows the handful of NumPy
names a CIFAR batch needs. The archive is read in memory, never extracted, and an archive with
an absolute path, a ``..`` component or a link among its members is refused.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import pickle
import tarfile
from pathlib import Path, PurePosixPath

import numpy as np

from cnnlab._io import file_digest

ARCHIVE_NAME = "cifar-10-python.tar.gz"
FOLDER_NAME = "cifar-10-batches-py"
ARCHIVE_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
ARCHIVE_MD5 = "c58f30108f718f92721af3b95e74349a"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
META_FILE = "batches.meta"
BATCH_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}
CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
"""The ten CIFAR-10 class names, in the order of their labels 0 to 9."""

_probe = np.zeros(1, dtype=np.uint8)
_ALLOWED = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): codecs.encode,  # how protocol-2 pickles made by Python 3 store bytes
}
for _module in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _ALLOWED[(_module, "_reconstruct")] = _probe.__reduce__()[0]
for _module in ("numpy.core.numeric", "numpy._core.numeric"):
    _ALLOWED[(_module, "_frombuffer")] = _probe.__reduce_ex__(5)[0]


class _BatchUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the NumPy names found in CIFAR batches."""

    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"CIFAR-10 batch refers to {module}.{name}, which a CIFAR batch never needs"
            ) from None


def _unpickle(data: bytes, name: str) -> dict:
    """Load one checksum-verified batch pickle into a dict with ``str`` keys."""
    obj = _BatchUnpickler(io.BytesIO(data), encoding="latin1").load()
    if not isinstance(obj, dict):
        raise ValueError(f"CIFAR-10 file {name} does not hold a dict")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()}


def _parse_batch(data: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """One batch file -> ``(X uint8 (n, 32, 32, 3), y int64 (n,))``."""
    batch = _unpickle(data, name)
    X, labels = batch.get("data"), batch.get("labels")
    if not isinstance(X, np.ndarray) or X.dtype != np.uint8 or X.ndim != 2 or X.shape[1] != 3072:
        raise ValueError(f"CIFAR-10 file {name}: 'data' must be a uint8 array of shape (n, 3072)")
    y = np.asarray(labels, dtype=np.int64)
    if y.shape != (X.shape[0],) or (y.size and (y.min() < 0 or y.max() >= len(CLASSES))):
        raise ValueError(f"CIFAR-10 file {name}: 'labels' must hold {X.shape[0]} integers in 0..9")
    X = np.ascontiguousarray(X.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    return X, y


def _check_meta(data: bytes, name: str) -> None:
    names = _unpickle(data, name).get("label_names")
    if names is None or tuple(names) != CLASSES:
        raise ValueError(f"CIFAR-10 file {name}: label_names {names!r} are not {CLASSES}")


def _assemble(read) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Build the four arrays from ``read(filename) -> bytes`` (bytes already verified)."""
    _check_meta(read(META_FILE), META_FILE)
    parts = [_parse_batch(read(f), f) for f in TRAIN_FILES]
    X_test, y_test = _parse_batch(read(TEST_FILE), TEST_FILE)
    X_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    return X_train, y_train, X_test, y_test


def check_tar_member(member: tarfile.TarInfo) -> None:
    """Raise ``ValueError`` for a member that could escape a target folder or is not plain."""
    path = PurePosixPath(member.name)
    if path.is_absolute() or member.name.startswith("\\") or ".." in path.parts:
        raise ValueError(f"unsafe path in archive: {member.name!r}")
    if not (member.isfile() or member.isdir()):
        raise ValueError(f"archive member {member.name!r} is a link or special file")


def read_archive(
    path: str | os.PathLike, md5: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read ``cifar-10-python.tar.gz`` in memory.

    ``md5`` is the expected digest of the archive (default: the official ``ARCHIVE_MD5``); the
    archive is refused with ``ValueError`` before anything in it is unpickled when it differs.
    Returns ``(X_train uint8 (50000, 32, 32, 3), y_train int64 (50000,), X_test, y_test)`` for
    the official file (smaller arrays for smaller archives in the same format).
    """
    expected = ARCHIVE_MD5 if md5 is None else md5
    actual = file_digest(path, "md5")
    if actual != expected.lower():
        raise ValueError(
            f"refusing to read {path}: its md5 is {actual}, expected {expected}. The file is "
            f"damaged or not the official CIFAR-10 archive; delete it and download it again."
        )
    with tarfile.open(path, "r:gz") as tar:
        members = tar.getmembers()
        for m in members:
            check_tar_member(m)
        files = {PurePosixPath(m.name).name: m for m in members if m.isfile()}

        def read(name: str) -> bytes:
            if name not in files:
                raise ValueError(f"{path} has no member named {name}")
            return tar.extractfile(files[name]).read()

        return _assemble(read)


def read_folder(
    path: str | os.PathLike, md5s: dict[str, str] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read an unpacked ``cifar-10-batches-py`` folder; same output as :func:`read_archive`.

    Each file's md5 must match ``md5s[filename]`` (default: the official ``BATCH_MD5``) before
    it is unpickled; a mismatch raises ``ValueError`` naming the file.
    """
    folder = Path(path)
    expected = BATCH_MD5 if md5s is None else md5s

    def read(name: str) -> bytes:
        file = folder / name
        if not file.is_file():
            raise FileNotFoundError(f"{folder} has no file {name}")
        data = file.read_bytes()
        actual = hashlib.md5(data).hexdigest()
        if actual != expected[name].lower():
            raise ValueError(
                f"refusing to unpickle {file}: its md5 is {actual}, expected {expected[name]}"
            )
        return data

    return _assemble(read)
