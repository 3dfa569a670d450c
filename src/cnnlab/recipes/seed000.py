"""Seeds 000 and 002 (question 2): the TensorFlow notebook's runs, on cnnlab's tape.

Each is the notebook's own loop (:mod:`cnnlab.compat.tf_notebook`): CIFAR-10 cut 49,000 /
1,000 / 10,000, normalised per channel, batches of 64, one epoch, the validation accuracy
checked every 100 iterations. The challenge network (seed 002's Part V) trains with the Solver:
Adam at 5e-4 (the notebook's last ``learning_rate``), batches of 64, 10 epochs. ``tiny`` runs
use the bundled sample and a few iterations.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cnnlab.compat import tf_notebook as tfn
from cnnlab.models import ChallengeNet
from cnnlab.models.keras_style import KerasThreeLayerConvNet

TINY_ITERATIONS = 3


def _data(layout: str, tiny: bool, seed: int) -> tfn.NotebookData:
    return tfn.make_datasets(layout, sample=tiny or None, seed=seed)


def _summary(history: tfn.History, data: tfn.NotebookData, scores: Any) -> dict[str, Any]:
    """The final validation and test accuracy of ``scores`` (x -> scores) and the checks."""
    val_acc, test_acc = tfn.check_accuracy(data.val, scores), tfn.check_accuracy(data.test, scores)
    return {"val_acc": val_acc, "test_acc": test_acc, "checks": history}


def _barebones(
    model: Callable[..., Any], init: Callable[..., Any], learning_rate: float, tiny: bool, seed: int
) -> dict[str, Any]:
    """Part II's loop: ``model(x, params)`` from ``init(seed=seed)``, plain SGD, NHWC data."""
    data = _data("NHWC", tiny, seed)
    params, history = tfn.train(
        model,
        lambda: init(seed=seed),
        learning_rate,
        data,
        num_iterations=TINY_ITERATIONS if tiny else None,
    )

    def scores(x):
        return model(x, params)

    return _summary(history, data, scores)


def barebones_three_layer(out: Path, tiny: bool = False, seed: int = 0) -> dict[str, Any]:
    """Part II: the barebones three-layer ConvNet (32 5x5 - 16 3x3 - dense), plain SGD 3e-3."""
    return _barebones(tfn.three_layer_convnet, tfn.three_layer_convnet_init, 3e-3, tiny, seed)


def barebones_two_layer_fc(out: Path, tiny: bool = False, seed: int = 0) -> dict[str, Any]:
    """Part II: the barebones two-layer net (3072 - 4000 - 10), plain SGD 1e-2."""
    return _barebones(tfn.two_layer_fc, tfn.two_layer_fc_init, 1e-2, tiny, seed)


def keras_sequential(out: Path, tiny: bool = False, seed: int = 0) -> dict[str, Any]:
    """Part IV: the Sequential three-layer ConvNet (32 5x5 - 16 3x3 - dense).

    Optimiser: Nesterov 0.9 at 5e-4.
    """
    data = _data("NCHW", tiny, seed)
    model, history = tfn.train_part34(
        lambda: KerasThreeLayerConvNet(seed=seed),
        lambda: tfn.MomentumOptimizer(5e-4, 0.9, use_nesterov=True),
        data=data,
        num_iterations=TINY_ITERATIONS if tiny else None,
    )
    return _summary(history, data, model.loss)


def challenge(out: Path, tiny: bool = False, seed: int = 0) -> dict[str, Any]:
    """Part V: seed 002's challenge network, Adam 5e-4, batches of 64, 10 epochs.

    Trained with the Solver (best validation epoch restored); writes model.npz.
    """
    from cnnlab.training.solver import Solver

    data = _data("NCHW", tiny, seed)
    model = ChallengeNet(seed=seed)
    solver = Solver(
        model,
        {
            "X_train": data.train.X,
            "y_train": data.train.y,
            "X_val": data.val.X,
            "y_val": data.val.y,
        },
        update_rule="adam",
        optim_config={"learning_rate": 5e-4},
        batch_size=64,
        num_epochs=1 if tiny else 10,
        max_iterations=TINY_ITERATIONS if tiny else None,
        verbose=not tiny,
        seed=seed,
    )
    solver.train()
    model.save(out / "model.npz")
    return {
        "val_acc": solver.best_val_acc,
        "val_acc_history": solver.val_acc_history,
        "test_acc": tfn.check_accuracy(data.test, model.loss),
    }
