"""The small CIFAR-10 sample shipped inside the package, for offline demos and tests.

``sample/cifar10_sample.npz`` holds 500 training images (50 per class) and 100 test images
(10 per class) cut from the JPEG copy of CIFAR-10 by ``tools/make_cifar_sample.py`` (seeded),
classes interleaved as in :mod:`cnnlab.data.images`.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

SAMPLE_FILE = "cifar10_sample.npz"
#: how runs, reports and ``cnnlab evaluate`` name the sample
LABEL = "bundled sample"


def load_sample() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load the bundled CIFAR-10 sample.

    Returns ``(X_train uint8 (500, 32, 32, 3), y_train int64 (500,), X_test (100, ...), y_test
    (100,))`` from the bundled file.
    """
    ref = resources.files("cnnlab.data").joinpath("sample", SAMPLE_FILE)
    with ref.open("rb") as f, np.load(f, allow_pickle=False) as z:
        return z["X_train"], z["y_train"], z["X_test"], z["y_test"]
