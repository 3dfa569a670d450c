"""What the Solver's checkpoint records for the run folder and for a faithful resume: the
per-epoch metrics rows, the best model only when it differs from the current one, the layout
of older checkpoints; a second Ctrl-C held back to the end of a step; data checks."""

from __future__ import annotations

import signal

import numpy as np
import pytest

from cnnlab.training.checkpoint import load_checkpoint, save_checkpoint
from cnnlab.training.signals import StopRequests
from cnnlab.training.solver import Solver
from tests.training.training_helpers import BufferedNet, blob_data


def make_solver(path, epochs=3, **extra):
    data = blob_data()
    model = BufferedNet(5, 8, 3, seed=1)
    return Solver(
        model, data, update_rule="adam", optim_config={"learning_rate": 5e-2}, batch_size=40,
        num_epochs=epochs, checkpoint_path=path, verbose=False, seed=3, **extra,
    )  # fmt: skip


def test_metrics_rows_are_in_the_checkpoint_and_come_back_on_resume(tmp_path):
    path = tmp_path / "c.npz"
    rows = []
    solver = make_solver(path, on_epoch_end=lambda s, m: rows.append(m))
    solver.train()
    _, meta = load_checkpoint(path)
    assert meta["metrics"] == rows == solver.metrics_history
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert [r["val_acc"] for r in rows] == solver.val_acc_history[1:]
    again = make_solver(path, resume=path)
    assert again.metrics_history == rows


def test_best_model_is_stored_only_when_it_differs(tmp_path):
    solver = make_solver(tmp_path / "c.npz")
    solver.train()
    same = solver.save_checkpoint(tmp_path / "same.npz")  # after train: the best is loaded
    arrays, meta = load_checkpoint(same)
    assert meta["best_is_model"] and not [k for k in arrays if k.startswith("best/")]
    solver.model.params["W1"] += 1.0
    differs = solver.save_checkpoint(tmp_path / "differs.npz")
    arrays, meta = load_checkpoint(differs)
    assert not meta["best_is_model"]
    best = {k.removeprefix("best/"): v for k, v in arrays.items() if k.startswith("best/")}
    assert set(best) == set(solver.model.state_dict())
    for resumed_from in (same, differs):
        resumed = make_solver(tmp_path / "r.npz", resume=resumed_from)
        for name, value in solver._best_state.items():
            assert np.array_equal(resumed._best_state[name], value), name
        for name, value in solver.best_params.items():
            assert np.array_equal(resumed.best_params[name], value), name


def test_checkpoints_with_the_older_best_layout_still_resume(tmp_path):
    solver = make_solver(tmp_path / "c.npz", epochs=1)
    solver.train()
    solver.model.params["W1"] += 1.0  # so that the best is written
    arrays, meta = load_checkpoint(solver.save_checkpoint(tmp_path / "new.npz"))
    best = {k.removeprefix("best/"): arrays.pop(k) for k in list(arrays) if k.startswith("best/")}
    arrays.update({f"best_state/{k}": v for k, v in best.items()})
    arrays.update({f"best_params/{k}": best[k] for k in solver.model.params})
    del meta["best_is_model"], meta["metrics"]
    old = save_checkpoint(tmp_path / "old.npz", arrays, meta)
    resumed = make_solver(tmp_path / "r.npz", resume=old)
    for name, value in solver._best_state.items():
        assert np.array_equal(resumed._best_state[name], value), name
    assert resumed.metrics_history == []


def test_a_second_ctrl_c_waits_for_the_end_of_the_step():
    # raise_signal delivers to this thread (os.kill may pick a worker thread of the ops' pools,
    # and the handler then runs a few bytecodes later)
    reached_end = False
    with StopRequests() as stop:
        signal.raise_signal(signal.SIGINT)
        assert stop.requested == "SIGINT"
        with pytest.raises(KeyboardInterrupt):
            with stop.step():
                signal.raise_signal(signal.SIGINT)
                reached_end = True
        assert reached_end
        with pytest.raises(KeyboardInterrupt):  # outside a step it is immediate
            signal.raise_signal(signal.SIGINT)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["X_val"].__setitem__((3, 1), np.nan), "X_val .* NaN .* sample 3"),
        (lambda d: d.__setitem__("y_val", d["y_val"].astype(float)), "y_val .* class indices"),
        (lambda d: d["y_train"].__setitem__(0, -1), "y_train .* class indices"),
    ],
)
def test_data_that_cannot_train_is_refused(change, message):
    data = blob_data()
    change(data)
    with pytest.raises(ValueError, match=f"Solver: {message}"):
        Solver(BufferedNet(5, 8, 3), data, verbose=False)


def test_validation_labels_beyond_the_models_classes_are_refused():
    data = blob_data()
    data["y_val"][5] = 7  # the net scores 3 classes
    solver = Solver(BufferedNet(5, 8, 3), data, verbose=False)
    with pytest.raises(ValueError, match=r"labels range over 0\.\.7 but the model scores 3"):
        solver.train()
