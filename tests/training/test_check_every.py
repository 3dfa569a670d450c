"""Seed 004's early stopping: validation checked every k iterations, patience in checks, the
best parameters restored, the checks' state in the checkpoint (bit-exact resume)."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.training.checkpoint import load_checkpoint
from cnnlab.training.solver import Solver
from tests.training.test_solver import assert_same_state, make_model, resume_kwargs
from tests.training.training_helpers import Hooked, ScriptedModel, blob_data, interrupt_at


def per_iteration_data(n):
    """n training samples (batch 1: n iterations per epoch) and 10 validation samples; the
    ScriptedModel's accuracy after t updates is then script[t]."""
    labels = np.arange(10) % 3
    X = np.stack([labels, np.zeros(10)], axis=1).astype(float)
    return {"X_train": np.zeros((n, 2)), "y_train": np.zeros(n, int), "X_val": X, "y_val": labels}


def scripted_solver(script, n, **kwargs):
    options = {
        "update_rule": "sgd",
        "optim_config": {"learning_rate": 1},
        "batch_size": 1,
        "verbose": False,
        **kwargs,
    }
    return Solver(ScriptedModel(script), per_iteration_data(n), **options)


def test_checks_happen_every_k_iterations_across_epoch_boundaries():
    script = [round(0.1 * t, 1) for t in range(10)]  # accuracy t / 10 after t updates
    solver = scripted_solver(script, n=3, num_epochs=3, check_every=2)
    solver.train()
    assert solver.check_iterations == [2, 4, 6, 8]
    assert solver.check_val_acc == [0.2, 0.4, 0.6, 0.8]
    assert len(solver.val_acc_history) == 4  # epoch 0 and the three epoch ends, as before
    assert solver.model.params["w"][0] == 8.0  # the last check was the best: w after 8 updates


def test_patience_counts_checks_and_the_best_checked_model_is_restored():
    # checks at t = 2, 4, 6, 8: 0.3, 0.6, 0.5, 0.6 -> no new maximum twice -> stop at t = 8
    script = [0.1, 0, 0.3, 0, 0.6, 0, 0.5, 0, 0.6, 0, 0.9, 0, 0.9]
    solver = scripted_solver(script, n=100, num_epochs=1, check_every=2, patience=2)
    solver.train()
    assert solver.stopped_early and solver.stopped_at == 8
    assert solver.check_val_acc == [0.3, 0.6, 0.5, 0.6]
    assert len(solver.loss_history) == 8 and solver.epoch == 0
    assert solver.best_val_acc == 0.6
    assert solver.model.params["w"][0] == 4.0 and solver.model.count[0] == 4.0


def test_with_checks_the_epoch_end_accuracy_does_not_choose_the_best_model():
    # one epoch of 4 iterations; the check at t = 3 sees 0.5, the epoch end (t = 4) 0.9
    solver = scripted_solver([0.1, 0.2, 0.3, 0.5, 0.9], n=4, num_epochs=1, check_every=3)
    solver.train()
    assert solver.val_acc_history == [0.1, 0.9]
    assert solver.best_val_acc == 0.5 and solver.model.params["w"][0] == 3.0


def test_patience_in_epochs_is_unchanged_without_checks():
    script = [0.2, 0.5, 0.4, 0.5, 0.9]
    solver = scripted_solver(script, n=1, num_epochs=4, patience=2)
    solver.train()
    assert solver.stopped_at == 3 and solver.check_iterations == []


def test_a_stopped_run_saves_its_state_and_stays_stopped(tmp_path):
    script = [0.1, 0, 0.3, 0, 0.6, 0, 0.5, 0, 0.6, 0, 0.9, 0, 0.9]
    kwargs = {"num_epochs": 1, "check_every": 2, "patience": 2, "checkpoint_path": tmp_path / "c"}
    scripted_solver(script, n=100, **kwargs).train()
    _, meta = load_checkpoint(tmp_path / "c")
    assert meta["t"] == 8 and meta["stopped_at"] == 8 and meta["checks_without_improvement"] == 2
    assert meta["history"]["check_iterations"] == [2, 4, 6, 8]
    again = scripted_solver(script, n=100, resume=tmp_path / "c", **kwargs)
    again.train()
    assert len(again.loss_history) == 8 and again.model.params["w"][0] == 4.0


class InterruptCheck:
    """Wraps a model; raises KeyboardInterrupt in its ``call``-th test-mode forward pass."""

    def __init__(self, model, call):
        self.model, self.call, self.calls = model, call, 0
        self.params = model.params

    def loss(self, X, y=None):
        if y is None:
            self.calls += 1
            if self.calls == self.call:
                raise KeyboardInterrupt
        return self.model.loss(X, y)


CHECKS = {"check_every": 4, "patience": 3, "num_epochs": 6}


@pytest.mark.parametrize(
    "wrap",
    [
        lambda m: InterruptCheck(m, 3),  # the first check (after epoch 0's two passes)
        lambda m: InterruptCheck(m, 9),  # a later evaluation pass
        lambda m: Hooked(m, interrupt_at(17)),  # a training step
    ],
    ids=["first-check", "later-evaluation", "step"],
)
def test_resume_with_checks_is_bit_exact(tmp_path, wrap):
    data = blob_data()
    reference = Solver(make_model("mlp"), data, **resume_kwargs(**CHECKS))
    reference.train()
    assert reference.stopped_early and reference.check_iterations[:3] == [4, 8, 12]
    path = tmp_path / "checkpoint.npz"
    stopped = Solver(wrap(make_model("mlp")), data, **resume_kwargs(checkpoint_path=path, **CHECKS))
    stopped.train()
    assert stopped.interrupted == "KeyboardInterrupt"
    resumed = Solver(make_model("mlp", seed=5), data, **resume_kwargs(resume=path, **CHECKS))
    resumed.train()
    assert_same_state(reference, resumed)
    assert resumed.check_val_acc == reference.check_val_acc
    assert resumed.stopped_at == reference.stopped_at


def test_check_every_must_be_positive():
    with pytest.raises(ValueError, match="Solver: check_every must be >= 1"):
        Solver(make_model("mlp"), blob_data(), check_every=0)


def test_max_iterations_ends_training_within_an_epoch():
    script = [round(0.1 * t, 1) for t in range(10)]
    solver = scripted_solver(script, n=4, num_epochs=3, max_iterations=6, check_every=5)
    solver.train()
    assert len(solver.loss_history) == 6 and solver.epoch == 1  # one whole epoch, then 2 steps
    assert solver.check_iterations == [5] and solver.model.params["w"][0] == 5.0
    with pytest.raises(ValueError, match="Solver: max_iterations must be >= 1"):
        Solver(make_model("mlp"), blob_data(), max_iterations=0)
