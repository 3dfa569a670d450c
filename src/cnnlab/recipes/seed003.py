"""Seed 003, the Keras practical: MiniAlexNet on CIFAR-10, with and without batch normalisation.

The practical's setting: the first 40,000 training images train, the last 10,000 validate
(``val_split='last'``), Adam at Keras's default 1e-3, batch 128, 10 epochs, then the 10,000
test images. One difference: cnnlab normalises each channel with the training set's statistics,
where the practical feeds raw 0-255 pixels.

Each trained run folder (``cnnlab report`` reads it) gets the practical's questions answered:
confidence_cases.png (right/wrong x high/low confidence over the whole test set, with losses),
filters_conv1.png and filters_conv2.png (task 4: the first layer as colour pictures, the second
channel by channel) and graph.png (the ``plot_model`` diagram). ``tiny`` runs train a narrow
network on the bundled sample for one epoch.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab import experiment
from cnnlab.experiment import TrainConfig
from cnnlab.metrics import confidence_cases, sample_losses
from cnnlab.runs import CHECKPOINT_FILE, read_json
from cnnlab.saving import load
from cnnlab.viz.compare import plot_accuracy_comparison
from cnnlab.viz.graph import model_graph, plot_model_graph
from cnnlab.viz.grid import plot_filters
from cnnlab.viz.predictions import plot_confidence_cases

PRACTICAL = TrainConfig(
    model="mini_alexnet",
    epochs=10,
    batch_size=128,
    optimizer="adam",
    lr=1e-3,
    num_train=40000,
    num_val=10000,
    val_split="last",
)
TINY = {
    "data": "sample",
    "epochs": 1,
    "batch_size": 50,
    "num_train": None,
    "num_val": 50,
    "model_kwargs": {"widths": [4, 8, 8, 8, 8], "hidden_dims": [32, 32]},
}
PER_CASE = 6  # test images shown per confidence case


def practical_config(batchnorm: bool, tiny: bool = False, seed: int = 0) -> TrainConfig:
    """The practical's run of MiniAlexNet (``batchnorm``: task 2's variant); tiny: a smoke run."""
    cfg = dataclasses.replace(PRACTICAL, seed=seed, **(TINY if tiny else {}))
    return dataclasses.replace(cfg, model_kwargs={**cfg.model_kwargs, "batchnorm": batchnorm})


def _case_table(probs: np.ndarray, labels: np.ndarray, names: tuple[str, ...]) -> dict[str, Any]:
    """Each confidence case's images: test index, true and predicted class, probability, loss."""
    losses = sample_losses(probs, labels)
    return {
        case: [
            {
                "index": int(i),
                "true": names[labels[i]],
                "predicted": names[int(probs[i].argmax())],
                "probability": float(probs[i].max()),
                "loss": float(losses[i]),
            }
            for i in chosen
        ]
        for case, chosen in confidence_cases(probs, labels, PER_CASE).items()
    }


def train_and_inspect(out: Path, cfg: TrainConfig, verbose: bool = True) -> dict[str, Any]:
    """Train ``cfg`` into the run folder ``out`` and draw the practical's figures there.

    A folder that holds this run's checkpoint (an interrupted or finished earlier call) is
    resumed, not refused.

    Returns:
        Validation, test and last training accuracy, training seconds, the mean loss of the
        right and of the wrong test predictions, and the confidence-case table.
    """
    resume = (out / CHECKPOINT_FILE).exists()  # an interrupted recipe continues where it was
    result = experiment.train(cfg, out, resume=resume, verbose=verbose)
    if result.interrupted:
        raise KeyboardInterrupt(f"{out} interrupted; run the recipe again to resume")
    model = load(out)
    data = experiment.load_data(cfg.resolved())
    probs = model.predict_proba(data.X_test)
    plot_confidence_cases(
        data.X_test,
        data.y_test,
        probs,
        data.class_names,
        per_case=PER_CASE,
        path=out / "confidence_cases.png",
    )
    plot_filters(
        model.params["conv1.weight"], title="conv1 filters", path=out / "filters_conv1.png"
    )
    plot_filters(
        model.params["conv2.weight"], title="conv2 filters", path=out / "filters_conv2.png"
    )
    plot_model_graph(model_graph(model), title="MiniAlexNet", path=out / "graph.png")
    right = probs.argmax(axis=1) == data.y_test
    losses = sample_losses(probs, data.y_test)
    history = read_json(out / "history.json")
    return {
        "val_acc": result.val_acc,
        "test_acc": result.test_acc,
        "train_acc": (history.get("train_acc_history") or [None])[-1],
        "train_seconds": result.seconds,
        "mean_loss_right": float(losses[right].mean()) if right.any() else None,
        "mean_loss_wrong": float(losses[~right].mean()) if (~right).any() else None,
        "confidence_cases": _case_table(probs, data.y_test, data.class_names),
    }


def alexnet(out: Path, tiny: bool = False, seed: int = 0) -> dict[str, Any]:
    """The practical's MiniAlexNet run into ``out`` (a run folder) with its figures."""
    return train_and_inspect(out, practical_config(False, tiny, seed), verbose=not tiny)


def batchnorm_comparison(out: Path, tiny: bool = False, seed: int = 0) -> dict[str, Any]:
    """Task 2: the practical's run without (out/plain) and with (out/batchnorm) batch norm.

    Both start from the same seed; comparison.png shows their validation and training accuracy
    per epoch.

    Returns:
        Each variant's :func:`train_and_inspect` results under "plain" and "batchnorm".
    """
    results, histories = {}, {}
    for name, label, batchnorm in (
        ("plain", "MiniAlexNet", False),
        ("batchnorm", "+ batch norm", True),
    ):
        cfg = practical_config(batchnorm, tiny, seed)
        results[name] = train_and_inspect(out / name, cfg, verbose=not tiny)
        histories[label] = read_json(out / name / "history.json")
    plot_accuracy_comparison(
        histories, title="MiniAlexNet with and without batch norm", path=out / "comparison.png"
    )
    return results
