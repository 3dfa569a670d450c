"""The torch engine: the same training steps as the NumPy engine (float64), checkpoints either
engine resumes, and ``cnnlab train --engine torch`` end to end on the bundled sample.

Oracle: the NumPy engine (the Solver on the hand-written layers) on the same data, weights,
options and seed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import cnnlab
from cnnlab.cli import main
from cnnlab.experiment import predict_images
from cnnlab.torch import TorchSolver, to_torch
from cnnlab.training import schedules
from cnnlab.training.solver import Solver
from tests.cli.test_train_cli import RUN_FILES, metrics_rows, train
from tests.models.specs import SPECS

TOL = 1e-9  # float64, a few steps: rounding only
SPEC = {s[0]: s for s in SPECS}


def _data(shape: tuple[int, ...], classes: int, n: int = 40) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    return {
        "X_train": rng.normal(size=(n, *shape)),
        "y_train": rng.integers(0, classes, size=n),
        "X_val": rng.normal(size=(10, *shape)),
        "y_val": rng.integers(0, classes, size=10),
    }


def _run(solver_class, name: str, options: dict, **extra) -> Solver:
    _, build, _, shape, classes = SPEC[name]
    solver = solver_class(
        build(),
        _data(shape, classes),
        batch_size=8,
        num_train_samples=None,
        verbose=False,
        seed=0,
        **{"num_epochs": 1, **options, **extra},
    )
    solver.train()
    return solver


RULES = {
    "sgd": {"update_rule": "sgd", "optim_config": {"learning_rate": 0.05}},
    "momentum": {"update_rule": "sgd_momentum", "optim_config": {"learning_rate": 0.02}},
    "rmsprop": {"update_rule": "rmsprop", "optim_config": {"learning_rate": 1e-3}},
    "adam": {"update_rule": "adam", "optim_config": {"learning_rate": 1e-2}},
    "adamw": {"update_rule": "adamw", "optim_config": {"learning_rate": 1e-2}},
}


@pytest.mark.parametrize("rule", RULES)
def test_three_layer_first_steps_match_the_numpy_engine(rule):
    numpy_run = _run(Solver, "three_layer", RULES[rule])
    torch_run = _run(TorchSolver, "three_layer", {**RULES[rule], "device": "cpu"})
    assert len(torch_run.loss_history) == 5  # 40 samples, batches of 8
    np.testing.assert_allclose(torch_run.loss_history, numpy_run.loss_history, rtol=TOL, atol=0)
    # the Classifier given to the TorchSolver holds the twin's (best) numbers at the end
    _assert_same_classifier(torch_run.model.model, numpy_run.model)


def _assert_same_classifier(ours, theirs) -> None:
    a, b = ours.state_dict(), theirs.state_dict()
    assert set(a) == set(b)
    for name in a:
        scale = max(1.0, float(np.abs(b[name]).max()))
        assert np.abs(a[name] - b[name]).max() <= TOL * scale, name


RESNET = {
    "update_rule": "sgd_momentum",
    "optim_config": {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True},
    "schedule": schedules.OneCycle(total_epochs=1),  # a new learning rate at every step
}


def test_resnet_first_steps_match_the_numpy_engine():
    numpy_run = _run(Solver, "resnet", RESNET)
    torch_run = _run(TorchSolver, "resnet", {**RESNET, "device": "cpu"})
    assert len(torch_run.loss_history) == 5
    np.testing.assert_allclose(torch_run.loss_history, numpy_run.loss_history, rtol=TOL, atol=0)
    # batch-norm running statistics included (cnnlab's momentum and biased variance)
    _assert_same_classifier(torch_run.model.model, numpy_run.model)


def test_forward_only_model_first_steps_match_the_numpy_engine():
    """spatial_sum defines forward alone: the torch engine trains its replayed forward."""
    numpy_run = _run(Solver, "spatial_sum", RULES["momentum"])
    torch_run = _run(TorchSolver, "spatial_sum", {**RULES["momentum"], "device": "cpu"})
    np.testing.assert_allclose(torch_run.loss_history, numpy_run.loss_history, rtol=TOL, atol=0)
    _assert_same_classifier(torch_run.model.model, numpy_run.model)


def test_wrap_runs_the_forward_passes():
    """``wrap`` (DistributedDataParallel in a data-parallel run) computes every forward pass."""
    calls = []

    class Counting(torch.nn.Module):
        def __init__(self, twin):
            super().__init__()
            self.twin = twin

        def forward(self, x):
            calls.append(len(x))
            return self.twin(x)

    plain = _run(TorchSolver, "three_layer", {**RULES["adam"], "device": "cpu"})
    wrapped = _run(TorchSolver, "three_layer", {**RULES["adam"], "device": "cpu"}, wrap=Counting)
    assert calls.count(8) == 5  # the five training batches (the accuracies: 40 and 10)
    assert wrapped.loss_history == plain.loss_history


@pytest.mark.parametrize(("first", "second"), [(TorchSolver, Solver), (Solver, TorchSolver)])
def test_either_engine_resumes_the_others_checkpoint(first, second, tmp_path):
    options = {**RESNET, "schedule": schedules.OneCycle(total_epochs=2), "num_epochs": 2}
    device = lambda cls: {"device": "cpu"} if cls is TorchSolver else {}  # noqa: E731
    ckpt = tmp_path / "checkpoint.npz"
    _run(first, "resnet", {**options, "num_epochs": 1, **device(first)}, checkpoint_path=ckpt)
    resumed = _run(second, "resnet", {**options, **device(second)}, resume=ckpt)
    whole = _run(Solver, "resnet", options)
    np.testing.assert_allclose(resumed.loss_history, whole.loss_history, rtol=TOL, atol=0)
    model = resumed.model.model if second is TorchSolver else resumed.model
    _assert_same_classifier(model, whole.model)


def test_a_function_as_update_rule_is_refused():
    with pytest.raises(ValueError, match="TorchSolver: update_rule must be one of"):
        _run(TorchSolver, "three_layer", {"update_rule": lambda w, dw, c: (w, c)})


# --------------------------------------------------------------------------- cnnlab train

TORCH = ("--engine", "torch", "--device", "cpu")


def _twin_probs(model, X: np.ndarray) -> np.ndarray:
    """A loaded model's probabilities computed by its torch twin."""
    twin = to_torch(model).eval()
    with torch.no_grad():
        scores = twin(torch.from_numpy(model.preprocess(X, model.dtype)))
    return torch.softmax(scores.double(), dim=1).numpy()


def test_train_engine_torch_end_to_end(tmp_path, capsys):
    run = tmp_path / "torch"
    assert train(run, *TORCH, report=True) == 0
    assert all((run / name).is_file() for name in (*RUN_FILES, "report.html"))
    assert len(metrics_rows(run)) == 1

    assert train(run, *TORCH, "--epochs", "2", "--resume") == 0
    rows = metrics_rows(run)
    assert [r["epoch"] for r in rows] == ["1", "2"]

    # the NumPy engine evaluates and predicts the torch run's model.npz
    capsys.readouterr()
    assert main(["evaluate", str(run), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["accuracy"] == json.loads((run / "results.json").read_text())["test_acc"]
    image = tmp_path / "cat.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(image)
    top = predict_images(run, [image], top=10)[0]
    model = cnnlab.load(run)
    X = np.asarray(Image.open(image)).transpose(2, 0, 1)[None]
    twin_probs = _twin_probs(model, X)[0]
    for name, prob in top:
        assert prob == pytest.approx(twin_probs[model.class_names.index(name)], abs=1e-5)


def test_numpy_run_resumed_and_predicted_by_the_torch_engine(tmp_path):
    run = tmp_path / "numpy"
    assert train(run) == 0
    assert train(run, *TORCH, "--epochs", "2", "--resume") == 0
    assert [r["epoch"] for r in metrics_rows(run)] == ["1", "2"]
    model = cnnlab.load(run)
    X = np.random.default_rng(2).integers(0, 256, (6, 3, 32, 32), dtype=np.uint8)
    np.testing.assert_allclose(_twin_probs(model, X), model.predict_proba(X), atol=1e-5)


def test_device_needs_the_torch_engine(tmp_path, capsys):
    assert train(Path(tmp_path / "r"), "--device", "cpu") != 0
    assert "--device is for --engine torch" in capsys.readouterr().err
