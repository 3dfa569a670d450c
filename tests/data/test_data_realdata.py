"""The real data files: the CIFAR-10 JPEG zip (listed, a subset decoded) and MNIST t10k."""

from __future__ import annotations

import collections
import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from cnnlab.data.images import list_image_tree, load_image_tree
from cnnlab.data.mnist import load_mnist
from cnnlab.data.sample import load_sample

OFFICIAL = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
# MNIST test-set digit counts, as published with the data set
MNIST_T10K_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

pytestmark = pytest.mark.realdata


def test_cifar_zip_members(data_root):
    with zipfile.ZipFile(data_root / "cifar10-jpeg.zip") as z:
        names = [n for n in z.namelist() if n.endswith(".jpg")]
    counts = collections.Counter(tuple(n.split("/")[:2]) for n in names)
    assert sum(v for (s, _), v in counts.items() if s == "train") == 50_000
    assert sum(v for (s, _), v in counts.items() if s == "test") == 10_000
    for cls in OFFICIAL:
        assert counts[("train", cls)] == 5_000 and counts[("test", cls)] == 1_000
    classes, listed = list_image_tree(data_root / "cifar10-jpeg.zip")
    assert classes == OFFICIAL
    assert len(listed["train"]) == 50_000 and len(listed["test"]) == 10_000
    assert [n.split("/")[1] for n in listed["train"][:10]] == list(OFFICIAL)


def test_cifar_zip_subset_decodes_to_the_right_images(data_root):
    path = data_root / "cifar10-jpeg.zip"
    data = load_image_tree(path, train_per_class=20, test_per_class=5, cache=False)
    assert data.X_train.shape == (200, 32, 32, 3) and data.X_test.shape == (50, 32, 32, 3)
    np.testing.assert_array_equal(np.bincount(data.y_train), [20] * 10)
    _, listed = list_image_tree(path)
    with zipfile.ZipFile(path) as z:
        for i in (0, 13, 57, 199):  # first images per class, interleaved: listing order holds
            name = listed["train"][i]
            direct = np.asarray(Image.open(io.BytesIO(z.read(name))).convert("RGB"))
            np.testing.assert_array_equal(data.X_train[i], direct)
            assert OFFICIAL[data.y_train[i]] == name.split("/")[1]


def test_bundled_sample_is_reproducible_from_the_zip(data_root):
    data = load_image_tree(
        data_root / "cifar10-jpeg.zip", train_per_class=50, test_per_class=10, seed=0, cache=False
    )
    for got, bundled in zip(data[:4], load_sample(), strict=True):
        np.testing.assert_array_equal(got, bundled)


def test_mnist_t10k(data_root):
    X, y = load_mnist(data_root)
    assert X.shape == (10_000, 28, 28) and X.dtype == np.uint8
    assert y.shape == (10_000,) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), MNIST_T10K_COUNTS)
    assert X.min() == 0 and X.max() == 255
    assert 20 < X.mean() < 45  # mostly black background with white strokes
