"""CIFAR-10: finding it, loading it in any of its forms, and the seeds' preprocessing.

Forms understood, looked for in this order in each folder of
:func:`cnnlab.data.paths.search_dirs` (``$CNNLAB_DATA``, ``../shared/data``, ``~/.cache/cnnlab``):

- ``cifar-10-batches-py/`` the unpacked official archive (each file's md5 checked);
- ``cifar-10-python.tar.gz`` the official archive (md5 checked before anything is unpickled);
- ``cifar10-jpeg.zip`` a zip of ``train/<class>/*.jpg`` and ``test/<class>/*.jpg``;
- ``cifar10/`` a folder laid out the same way.

Image trees are decoded once and cached (see :mod:`cnnlab.data.images`); their images come
classes interleaved. When nothing is found, the small sample bundled with the package is used
and a notice on stderr says so.
"""

from __future__ import annotations

import os
import sys
import tarfile
from pathlib import Path

import numpy as np

from cnnlab.data import cifar10_official, paths
from cnnlab.data.cifar10_official import CLASSES
from cnnlab.data.download import download
from cnnlab.data.images import load_image_tree
from cnnlab.data.sample import load_sample
from cnnlab.data.transforms import channel_mean_std, normalize_channels

__all__ = ["CLASSES", "download_cifar10", "get_CIFAR10_data", "load_cifar10", "load_cifar10_raw"]

SEARCHED_NAMES = (
    cifar10_official.FOLDER_NAME,
    cifar10_official.ARCHIVE_NAME,
    "cifar10-jpeg.zip",
    "cifar10",
)
SAMPLE = "sample"

Arrays4 = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _load_path(path: Path) -> Arrays4:
    """Load one source path of any supported form."""
    if path.is_dir():
        if (path / "data_batch_1").is_file():
            return cifar10_official.read_folder(path)
        for name in SEARCHED_NAMES:
            if (path / name).exists():
                return _load_path(path / name)
    elif not path.exists():
        raise FileNotFoundError(f"CIFAR-10 source {path} does not exist")
    elif tarfile.is_tarfile(path):
        return cifar10_official.read_archive(path)
    data = load_image_tree(path, size=(32, 32))
    unknown = [c for c in data.classes if c not in CLASSES]
    if unknown:
        raise ValueError(f"{path}: class folders {unknown} are not CIFAR-10 classes {CLASSES}")
    official = np.array([CLASSES.index(c) for c in data.classes], dtype=np.int64)
    return data.X_train, official[data.y_train], data.X_test, official[data.y_test]


def sample_notice() -> str:
    """The one-line notice that CIFAR-10 was not found and the bundled sample is used.

    It gives the names looked for and each folder searched.
    """
    return (
        f"cnnlab: CIFAR-10 not found (looked for {', '.join(SEARCHED_NAMES)} in "
        f"{paths.searched_text()}); using the small sample bundled with cnnlab (500 training, "
        "100 test images). For the full data set run cnnlab.data.download_cifar10() (163 MB) "
        f"or set {paths.ENV_VAR} to a folder holding one of those names."
    )


def find_cifar10() -> Path | None:
    """The first CIFAR-10 source in the search order (see the module docstring), or None."""
    for folder in paths.search_dirs():
        for name in SEARCHED_NAMES:
            if (folder / name).exists():
                return folder / name
    return None


def load_cifar10_raw(source: str | os.PathLike | None = None, allow_sample: bool = True) -> Arrays4:
    """Load CIFAR-10 as stored: ``(X_train, y_train, X_test, y_test)``.

    X_* uint8 (N, 32, 32, 3) (NHWC, RGB), y_* int64 (N,) indexing :data:`CLASSES`; 50,000 and
    10,000 images for the full data set.

    source: ``None`` to search (see the module docstring), ``'sample'`` for the bundled sample,
        or a path to any supported form (or to a folder holding one).
    allow_sample: when searching finds nothing, use the bundled sample (with a notice on
        stderr); when False raise ``FileNotFoundError`` listing the places searched.
    """
    if source == SAMPLE:
        return load_sample()
    if source is not None:
        return _load_path(Path(source).expanduser())
    found = find_cifar10()
    if found is not None:
        return _load_path(found)
    if not allow_sample:
        raise FileNotFoundError(
            f"CIFAR-10 not found: looked for {', '.join(SEARCHED_NAMES)} in "
            f"{paths.searched_text()}; run cnnlab.data.download_cifar10() or set "
            f"{paths.ENV_VAR}"
        )
    print(sample_notice(), file=sys.stderr)
    return load_sample()


def _subsample(
    name: str, num_training: int, num_validation: int, num_test: int, source
) -> tuple[np.ndarray, ...]:
    """Raw data cut as CS231n does.

    Train = first ``num_training``, validation = the next ``num_validation`` training images, test =
    first ``num_test`` test images.
    """
    X_train, y_train, X_test, y_test = load_cifar10_raw(source)
    counts = {"num_training": num_training, "num_validation": num_validation, "num_test": num_test}
    for key, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name}: {key} must be a non-negative int, got {value!r}")
    if num_training + num_validation > X_train.shape[0] or num_test > X_test.shape[0]:
        raise ValueError(
            f"{name}: asked for {num_training} training + {num_validation} validation and "
            f"{num_test} test images, but the source has {X_train.shape[0]} training and "
            f"{X_test.shape[0]} test images"
        )
    n = num_training
    return (
        X_train[:n], y_train[:n],
        X_train[n : n + num_validation], y_train[n : n + num_validation],
        X_test[:num_test], y_test[:num_test],
    )  # fmt: skip


def get_CIFAR10_data(
    num_training: int = 49000,
    num_validation: int = 1000,
    num_test: int = 1000,
    subtract_mean: bool = True,
    source: str | os.PathLike | None = None,
    dtype: np.dtype | type = np.float32,
) -> dict[str, np.ndarray]:
    """CIFAR-10 prepared as CS231n's ``get_CIFAR10_data``.

    Returns a dict with ``X_train`` (num_training, 3, 32, 32), ``y_train`` (num_training,),
    ``X_val``, ``y_val`` (num_validation: the training images right after the first
    num_training), ``X_test``, ``y_test`` (the first num_test test images). X_* are NCHW in
    ``dtype`` with pixel values 0..255, minus the mean image of X_train when ``subtract_mean``;
    y_* int64. ``source`` as in :func:`load_cifar10_raw`.
    """
    parts = _subsample("get_CIFAR10_data", num_training, num_validation, num_test, source)
    X_train, y_train, X_val, y_val, X_test, y_test = parts
    Xs = [X.transpose(0, 3, 1, 2).astype(dtype) for X in (X_train, X_val, X_test)]
    if subtract_mean and num_training > 0:
        mean_image = X_train.mean(axis=0, dtype=np.float64).transpose(2, 0, 1)
        Xs = [(X - mean_image).astype(dtype, copy=False) for X in Xs]
    return {
        "X_train": Xs[0], "y_train": y_train,
        "X_val": Xs[1], "y_val": y_val,
        "X_test": Xs[2], "y_test": y_test,
    }  # fmt: skip


def load_cifar10(
    num_training: int = 49000,
    num_validation: int = 1000,
    num_test: int = 10000,
    layout: str = "NHWC",
    source: str | os.PathLike | None = None,
    dtype: np.dtype | type = np.float32,
) -> tuple[np.ndarray, ...]:
    """CIFAR-10 prepared as the TensorFlow practical's ``load_cifar10``.

    Same cut as :func:`get_CIFAR10_data` (default 49,000 / 1,000 / 10,000), then every split is
    normalised per channel with the mean and standard deviation of the training part.
    Returns ``(X_train, y_train, X_val, y_val, X_test, y_test)``; X_* in ``dtype``, shaped
    (N, 32, 32, 3) for ``layout='NHWC'`` or (N, 3, 32, 32) for ``'NCHW'``; y_* int64.
    """
    if layout not in ("NHWC", "NCHW"):
        raise ValueError(f"load_cifar10: layout must be 'NHWC' or 'NCHW', got {layout!r}")
    if num_training < 1:
        raise ValueError("load_cifar10: num_training must be at least 1 to fit the normalisation")
    X_train, y_train, X_val, y_val, X_test, y_test = _subsample(
        "load_cifar10", num_training, num_validation, num_test, source
    )
    mean, std = channel_mean_std(X_train, layout="NHWC")
    Xs = [normalize_channels(X, mean, std, layout="NHWC", dtype=dtype)
          for X in (X_train, X_val, X_test)]  # fmt: skip
    if layout == "NCHW":
        Xs = [np.ascontiguousarray(X.transpose(0, 3, 1, 2)) for X in Xs]
    return Xs[0], y_train, Xs[1], y_val, Xs[2], y_test


def download_cifar10(dest: str | os.PathLike | None = None, progress: bool | None = None) -> Path:
    """Download the official ``cifar-10-python.tar.gz`` (163 MB, md5-checked) into ``dest``.

    dest: folder (default :func:`cnnlab.data.paths.cache_dir`, which is searched by
    :func:`load_cifar10_raw`). An interrupted download resumes. Returns the archive's path.
    """
    folder = Path(dest).expanduser() if dest is not None else paths.cache_dir()
    return download(
        cifar10_official.ARCHIVE_URL,
        folder / cifar10_official.ARCHIVE_NAME,
        md5=cifar10_official.ARCHIVE_MD5,
        progress=progress,
    )
