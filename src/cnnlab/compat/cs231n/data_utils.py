"""CS231n's ``data_utils`` names on top of :mod:`cnnlab.data`.

``get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=1000, subtract_mean=True)``
returns the same dict as the assignment's; the data is found as :func:`load_cifar10_raw`
explains (``source=`` picks a path). ``load_CIFAR10(ROOT)`` reads an unpacked
``cifar-10-batches-py`` folder, md5-checked, as float64 arrays like the original.
"""

from __future__ import annotations

import os

import numpy as np

from cnnlab.data.cifar10 import get_CIFAR10_data
from cnnlab.data.cifar10_official import read_folder

__all__ = ["get_CIFAR10_data", "load_CIFAR10"]


def load_CIFAR10(ROOT: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read the official batches folder ``ROOT``.

    Returns ``(Xtr float64 (50000, 32, 32, 3), Ytr int64 (50000,), Xte float64 (10000, 32, 32,
    3), Yte int64 (10000,))``.
    """
    X_train, y_train, X_test, y_test = read_folder(ROOT)
    return X_train.astype(np.float64), y_train, X_test.astype(np.float64), y_test
