"""Grid and random search: the right winner, every trial kept, reproducible, parallel = serial."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.training.tuning import (
    LogUniform,
    SolverTrial,
    Uniform,
    grid_search,
    random_search,
    trial_seeds,
)
from tests.training.training_helpers import blob_data, scripted_train_fn, softmax_factory


def test_grid_search_tries_every_combination_and_picks_the_best():
    """val_acc = 1 - (x - 2)^2 / 10 - (y - 0.5)^2 peaks at x = 2, y = 0.5."""
    result = grid_search(scripted_train_fn, {"x": [0, 1, 2, 3], "y": [0.0, 0.5]}, seed=1)
    assert [t.config for t in result.trials] == [
        {"x": x, "y": y} for x in (0, 1, 2, 3) for y in (0.0, 0.5)
    ]
    assert result.best_config == {"x": 2, "y": 0.5} and result.best.val_acc == 1.0
    assert [t.seed for t in result.trials] == trial_seeds(1, 8)
    assert all(t.result["seed"] == t.seed for t in result.trials)
    assert len(set(trial_seeds(1, 8))) == 8


def test_solver_trials_in_parallel_find_the_working_learning_rate():
    """Softmax regression on separable blobs: lr 1e-7 cannot learn in 3 epochs, 0.5 can."""
    train_fn = SolverTrial(
        softmax_factory, blob_data(), {"update_rule": "sgd", "num_epochs": 3, "batch_size": 50}
    )
    grid = {"learning_rate": [1e-7, 0.5], "batch_size": [50, 100]}
    parallel = grid_search(train_fn, grid, seed=0, n_jobs=2)
    assert parallel.best_config["learning_rate"] == 0.5
    for trial in parallel.trials:
        history = trial.result["history"]
        batches = 200 // trial.config["batch_size"]
        assert len(history["loss_history"]) == 3 * batches
        assert len(history["val_acc_history"]) == 4
        assert trial.val_acc == max(history["val_acc_history"])
    serial = grid_search(train_fn, grid, seed=0, n_jobs=1)
    assert [t.result for t in serial.trials] == [t.result for t in parallel.trials]


def test_random_search_is_reproducible_and_respects_the_space():
    space = {"x": [1, 2, 3], "y": Uniform(0.0, 1.0), "lr": LogUniform(1e-4, 1e-1)}
    first = random_search(scripted_train_fn, space, n_trials=12, seed=5)
    again = random_search(scripted_train_fn, space, n_trials=12, seed=5)
    other = random_search(scripted_train_fn, space, n_trials=12, seed=6)
    assert [t.config for t in first.trials] == [t.config for t in again.trials]
    assert [t.config for t in first.trials] != [t.config for t in other.trials]
    for t in first.trials:
        assert t.config["x"] in (1, 2, 3) and 0 <= t.config["y"] < 1
        assert 1e-4 <= t.config["lr"] <= 1e-1
    lrs = np.log10([t.config["lr"] for t in first.trials])
    assert lrs.min() < -3 and lrs.max() > -2  # spread over decades, not clustered
    assert first.best.val_acc == max(t.val_acc for t in first.trials)


def test_bad_searches():
    with pytest.raises(ValueError, match="'x' needs a non-empty list"):
        grid_search(scripted_train_fn, {"x": [], "y": [0]})
    with pytest.raises(ValueError, match="'x' must be a distribution"):
        random_search(scripted_train_fn, {"x": 3, "y": [0]}, n_trials=2)
    with pytest.raises(ValueError, match="must return a dict with a numeric 'val_acc'"):
        grid_search(lambda config, seed: {"acc": 1}, {"x": [1]})
    with pytest.raises(ValueError, match="LogUniform: need 0 < low < high"):
        LogUniform(0, 1)
