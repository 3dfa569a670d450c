"""Datasets, preprocessing, batching and augmentation.

Datasets are found through :mod:`cnnlab.data.paths` (``$CNNLAB_DATA``, ``../shared/data``,
``~/.cache/cnnlab``); when no CIFAR-10 copy is found, a small sample bundled with the package
is used, with a notice.
"""

from cnnlab.data.cifar10 import (
    CLASSES,
    download_cifar10,
    get_CIFAR10_data,
    load_cifar10,
    load_cifar10_raw,
)
from cnnlab.data.dataset import Dataset
from cnnlab.data.download import download
from cnnlab.data.image_file import read_image
from cnnlab.data.images import list_image_tree, load_image_tree
from cnnlab.data.mnist import load_mnist, read_idx, split_mnist
from cnnlab.data.preprocess import PREPROCESS, apply_preprocess, fit_preprocess
from cnnlab.data.sample import load_sample
from cnnlab.data.transforms import (
    channel_mean_std,
    compose,
    normalize_channels,
    random_crop,
    random_flip,
)

__all__ = [
    "CLASSES",
    "PREPROCESS",
    "Dataset",
    "apply_preprocess",
    "channel_mean_std",
    "compose",
    "download",
    "download_cifar10",
    "fit_preprocess",
    "get_CIFAR10_data",
    "list_image_tree",
    "load_cifar10",
    "load_cifar10_raw",
    "load_image_tree",
    "load_mnist",
    "load_sample",
    "normalize_channels",
    "random_crop",
    "random_flip",
    "read_idx",
    "read_image",
    "split_mnist",
]
