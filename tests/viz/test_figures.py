"""Every figure function on small real inputs: the PNG has figsize * dpi pixels, is not blank,
and no pyplot figure is left behind (the figures never touch pyplot's global state)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from cnnlab import nn
from cnnlab.data.cifar10 import CLASSES
from cnnlab.data.sample import load_sample
from cnnlab.metrics import confusion_matrix
from cnnlab.viz.confusion import (
    plot_confusion_images,
    plot_confusion_matrix,
    plot_per_class_accuracy,
)
from cnnlab.viz.conv_demo import plot_conv_demo
from cnnlab.viz.curves import plot_training_curves
from cnnlab.viz.dataset import plot_dataset_samples
from cnnlab.viz.features import layer_activations, plot_feature_maps
from cnnlab.viz.grid import plot_filters
from cnnlab.viz.predictions import plot_predictions

MIN_STD = 8.0  # grey-level standard deviation (0-255) below which a figure counts as blank


@pytest.fixture(scope="module")
def sample() -> tuple[np.ndarray, np.ndarray]:
    x_train, y_train, _, _ = load_sample()
    return x_train[:100], y_train[:100]


def check_png(fig: Figure, path: Path, size_px: tuple[int, int]) -> None:
    assert isinstance(fig, Figure)
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == size_px
        grey = np.asarray(image.convert("L"), dtype=np.float64)
    assert grey.std() > MIN_STD, f"{path.name} looks blank (std {grey.std():.2f})"


def predictions_inputs(images, labels, rng):
    logits = rng.standard_normal((len(images), 10))
    logits[np.arange(len(images)), labels] += 2.0
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return probs.argmax(1), probs


def test_every_figure(sample, tmp_path: Path, rng: np.random.Generator) -> None:
    images, labels = sample
    pred, probs = predictions_inputs(images, labels, rng)
    trained_like = np.cos(np.arange(8 * 3 * 5 * 5).reshape(8, 3, 5, 5) / 7.0)
    history = {
        "loss_history": list(2.3 * np.exp(-np.arange(200) / 60) + rng.random(200) / 5),
        "train_acc_history": [0.2, 0.35, 0.5],
        "val_acc_history": [0.2, 0.3, 0.42],
        "lr_history": [1e-3, 1e-4, 1e-5],
    }
    conv = nn.Conv2d(3, 12, 3, padding=1, dtype=np.float64, rng=0)
    maps = layer_activations(nn.Sequential(conv, nn.ReLU()), images[0].transpose(2, 0, 1) / 255, 1)
    cm = confusion_matrix(labels, pred, 10)
    cases = {
        "filters": (lambda p: plot_filters(trained_like, path=p), (500, 500)),
        "filters_grey": (
            lambda p: plot_filters(trained_like[:, :1], path=p, figsize=(3, 2), dpi=80),
            (240, 160),
        ),
        "curves": (lambda p: plot_training_curves(history, path=p), (1300, 380)),
        "curves_empty": (
            lambda p: plot_training_curves(
                {"loss_history": [2.0, 1.0]}, path=p, figsize=(6, 2), dpi=50
            ),
            (300, 100),
        ),
        "confusion": (lambda p: plot_confusion_matrix(cm, CLASSES, path=p), (750, 620)),
        "per_class": (
            lambda p: plot_per_class_accuracy(np.diag(cm) / cm.sum(1), CLASSES, path=p, dpi=60),
            (420, 270),
        ),
        "confusion_images": (
            lambda p: plot_confusion_images(images, labels, pred, CLASSES, path=p),
            (750, 750),
        ),
        "predictions": (
            lambda p: plot_predictions(
                images[:25], labels[:25], pred[:25], probs[:25], CLASSES, path=p
            ),
            (850, 950),
        ),
        "dataset": (
            lambda p: plot_dataset_samples(images, labels, CLASSES, seed=rng, path=p),
            (800, 880),
        ),
        "features": (lambda p: plot_feature_maps(maps, image=images[0], path=p), (1000, 650)),
        "conv_demo": (lambda p: plot_conv_demo(48, path=p, dpi=50), (450, 480)),
    }
    for name, (draw, size_px) in cases.items():
        path = tmp_path / "out" / f"{name}.png"
        check_png(draw(path), path, size_px)
    assert plt.get_fignums() == []
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        f"{name}.png" for name in cases
    )  # no temporary files left behind


def test_figures_without_path_write_nothing(sample, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    images, labels = sample
    fig = plot_dataset_samples(images, labels, n=4)
    assert len(fig.axes) == 4
    assert list(tmp_path.iterdir()) == []


def test_dataset_samples_are_reproducible(sample) -> None:
    images, labels = sample
    titles = [
        [ax.get_xlabel() for ax in plot_dataset_samples(images, labels, CLASSES, seed=3).axes]
        for _ in range(2)
    ]
    assert titles[0] == titles[1] and len(titles[0]) == 25


def test_predictions_mark_the_wrong_ones(sample) -> None:
    images, labels = sample
    probs = np.full((4, 10), 0.05)
    pred = np.array([labels[0], (labels[1] + 1) % 10, labels[2], (labels[3] + 1) % 10])
    probs[np.arange(4), pred] = 0.55
    fig = plot_predictions(images[:4], labels[:4], pred, probs, CLASSES, ncols=2)
    marked = [ax.get_xlabel().startswith("\u2717 ") for ax in fig.axes]
    assert marked == [False, True, False, True]
    assert fig.axes[1].get_xlabel() == f"\u2717 {CLASSES[pred[1]]} (0.550)"
    assert fig.axes[0].get_xlabel() == f"{CLASSES[pred[0]]} (0.550)"
    assert fig.axes[1].get_ylabel() == CLASSES[labels[1]]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: plot_filters(np.zeros((4, 3, 3))), r"plot_filters: .* got \(4, 3, 3\)"),
        (
            lambda: plot_filters(np.zeros((4, 2, 3, 3)), channels="rgb"),
            r"plot_filters: channels='rgb' needs C of 1 or 3; got weights \(4, 2, 3, 3\)",
        ),
        (
            lambda: plot_predictions(np.zeros((2, 8, 8, 3)), [0, 1], [0, 1], np.zeros((3, 2))),
            r"plot_predictions: probs must be \(N, K\) with N = 2",
        ),
        (lambda: plot_confusion_matrix(np.zeros((3, 2))), r"plot_confusion_matrix: .*\(3, 2\)"),
        (lambda: plot_confusion_matrix(np.eye(2), ["a"]), "plot_confusion_matrix: 1 class names"),
        (
            lambda: plot_dataset_samples(np.zeros((2, 5, 8, 8)), [0, 1]),
            r"plot_dataset_samples: images must be .* got shape \(2, 5, 8, 8\)",
        ),
        (lambda: plot_feature_maps(np.zeros((4, 4))), r"plot_feature_maps: maps must be"),
    ],
)
def test_bad_input(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()
