"""The Solver: overfitting, history, schedules, early stopping, checkpoints and exact resume,
interruption (KeyboardInterrupt, SIGTERM), the NaN guard, progress output and hooks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from cnnlab.training.checkpoint import load_checkpoint
from cnnlab.training.schedules import CosineDecay
from cnnlab.training.signals import StopRequests
from cnnlab.training.solver import Solver, TrainingDiverged
from tests.training.training_helpers import (
    BufferedNet,
    Hooked,
    ScriptedModel,
    SoftmaxRegression,
    TwoLayerNet,
    blob_data,
    interrupt_at,
    nan_at,
    send_signal_at,
)

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"


def noise_augment(X, rng):
    """An augmentation that draws from the Solver's generator."""
    return X + 0.1 * rng.standard_normal(X.shape)


def resume_kwargs(**extra):
    """Options that exercise every source of randomness and every piece of state."""
    return {
        "update_rule": "adam",
        "optim_config": {"learning_rate": 1e-2},
        "schedule": CosineDecay(4),
        "batch_size": 30,
        "num_epochs": 4,
        "num_train_samples": 50,
        "num_val_samples": 60,
        "augment": noise_augment,
        "verbose": False,
        "seed": 3,
        **extra,
    }


def make_model(kind, seed=0):
    return {"mlp": TwoLayerNet, "buffered": BufferedNet}[kind](5, 16, 3, seed=seed)


def assert_same_state(a, b):
    assert a.loss_history == b.loss_history
    assert a.history == b.history
    assert a.best_val_acc == b.best_val_acc
    for name in a.model.params:
        assert np.array_equal(a.model.params[name], b.model.params[name]), name
        assert np.array_equal(a.best_params[name], b.best_params[name]), name
    for name, config in a.optim_configs.items():
        for key, value in config.items():
            assert np.array_equal(value, b.optim_configs[name][key]), (name, key)


def scripted_data(n=10, classes=3):
    labels = np.arange(n) % classes
    X = np.stack([labels, np.zeros(n)], axis=1).astype(float)
    return {"X_train": X[:1], "y_train": labels[:1], "X_val": X, "y_val": labels}


def test_overfits_100_samples():
    """The seed's sanity check: 100 samples are learnt (here random labels, >= 95 %)."""
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((100, 20)), rng.integers(5, size=100)
    data = {"X_train": X, "y_train": y, "X_val": X, "y_val": y}
    model = TwoLayerNet(20, 64, 5, seed=0)
    solver = Solver(
        model,
        data,
        update_rule="adam",
        optim_config={"learning_rate": 1e-2},
        batch_size=25,
        num_epochs=40,
        verbose=False,
        seed=0,
    )
    solver.train()
    assert solver.check_accuracy(X, y) >= 0.95
    assert solver.loss_history[-1] < 0.5 * solver.loss_history[0]


def test_history_lengths_and_in_place_updates():
    data = blob_data()
    model = SoftmaxRegression(5, 3)
    W = model.params["W"]
    initial = W.copy()
    solver = Solver(
        model,
        data,
        update_rule="sgd_momentum",
        batch_size=40,
        num_epochs=3,
        lr_decay=0.5,
        optim_config={"learning_rate": 0.1},
        verbose=False,
    )
    solver.train()
    assert model.params["W"] is W and not np.array_equal(W, initial)
    assert len(solver.loss_history) == 3 * (200 // 40)
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 4
    assert solver.lr_history == [0.1, 0.05, 0.025]
    assert solver.best_val_acc == max(solver.val_acc_history) > 0.9


def test_schedule_sets_the_learning_rate_of_every_update():
    data = blob_data()
    seen = []

    def recording_sgd(w, dw, config):
        seen.append(config["learning_rate"])
        return w - config["learning_rate"] * dw, config

    model = SoftmaxRegression(5, 3)
    solver = Solver(
        model,
        data,
        update_rule=recording_sgd,
        batch_size=100,
        num_epochs=2,
        schedule=CosineDecay(2),
        optim_config={"learning_rate": 0.4},
        verbose=False,
    )
    solver.train()
    want = [0.4 * CosineDecay(2)(t / 2) for t in range(4) for _ in model.params]
    assert seen == want
    assert solver.lr_history == [0.4 * CosineDecay(2)(0.5), 0.4 * CosineDecay(2)(1.5)]


def test_same_seed_same_run_other_seed_other_run():
    runs = []
    for seed in (5, 5, 6):
        solver = Solver(make_model("mlp"), blob_data(), **resume_kwargs(seed=seed))
        solver.train()
        runs.append(solver)
    assert_same_state(runs[0], runs[1])
    assert runs[0].loss_history != runs[2].loss_history


@pytest.mark.parametrize("kind", ["mlp", "buffered"])
def test_resume_from_epoch_checkpoint_is_bit_exact(tmp_path, kind):
    data = blob_data()
    full = Solver(make_model(kind), data, **resume_kwargs(checkpoint_name=str(tmp_path / "r")))
    full.train()
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"r_epoch_{k}.npz" for k in (1, 2, 3, 4)]
    resumed = Solver(
        make_model(kind, seed=99),
        data,
        **resume_kwargs(seed=12345, resume=tmp_path / "r_epoch_2.npz"),
    )
    assert resumed.epoch == 2 and len(resumed.loss_history) == 2 * (200 // 30)
    resumed.train()
    assert_same_state(full, resumed)
    if kind == "buffered":
        assert np.array_equal(full.model.running_mean, resumed.model.running_mean)


def test_keyboard_interrupt_saves_a_checkpoint_that_resumes_exactly(tmp_path):
    data = blob_data()
    path = tmp_path / "run" / "checkpoint.npz"
    path.parent.mkdir()
    reference = Solver(make_model("mlp"), data, **resume_kwargs())
    reference.train()

    model = Hooked(make_model("mlp"), interrupt_at(10))  # 6 iterations per epoch: mid-epoch 2
    stopped = Solver(model, data, **resume_kwargs(checkpoint_path=path))
    stopped.train()
    assert stopped.interrupted == "KeyboardInterrupt"
    arrays, meta = load_checkpoint(path)
    assert meta["t"] == 9 and meta["epoch"] == 1 and "sampler/order" in arrays

    resumed = Solver(make_model("mlp", seed=7), data, **resume_kwargs(resume=path))
    resumed.train()
    assert resumed.interrupted is None
    assert_same_state(reference, resumed)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_after_the_iteration_and_restores_the_handler(tmp_path, signum):
    data = blob_data()
    path = tmp_path / "checkpoint.npz"
    reference = Solver(make_model("mlp"), data, **resume_kwargs())
    reference.train()

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    before = signal.getsignal(signum)
    try:
        stopped = Solver(
            Hooked(make_model("mlp"), send_signal_at(15, signum)),
            data,
            **resume_kwargs(checkpoint_path=path),
        )
        stopped.train()
        assert signal.getsignal(signum) is before
    finally:
        signal.signal(signal.SIGINT, previous)
    assert stopped.interrupted == signal.Signals(signum).name
    assert load_checkpoint(path)[1]["t"] == 15  # the signalled iteration was completed

    resumed = Solver(make_model("mlp"), data, **resume_kwargs(resume=path))
    resumed.train()
    assert_same_state(reference, resumed)


def test_a_second_ctrl_c_interrupts_at_once():
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with StopRequests() as stop:
            signal.raise_signal(signal.SIGINT)
            assert stop.requested == "SIGINT"
            with pytest.raises(KeyboardInterrupt):
                signal.raise_signal(signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


SIGTERM_SCRIPT = """
import time
from tests.training.training_helpers import TwoLayerNet, blob_data
from cnnlab.training.solver import Solver

class Slow(TwoLayerNet):
    def loss(self, X, y=None):
        if y is not None:
            time.sleep(0.02)
        return super().loss(X, y)

solver = Solver(Slow(5, 16, 3), blob_data(), num_epochs=1000, batch_size=50,
                checkpoint_path={path!r}, on_epoch_end=lambda s, m: print("epoch", flush=True),
                verbose=False, seed=0)
solver.train()
print("interrupted:", solver.interrupted, solver.t, flush=True)
"""


@pytest.mark.skipif(os.name != "posix", reason="sends POSIX signals to a child process")
def test_sigterm_to_a_training_process(tmp_path):
    path = tmp_path / "checkpoint.npz"
    script = SIGTERM_SCRIPT.format(path=str(path))
    paths = [str(SRC), str(REPO), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert child.stdout.readline().strip() == "epoch"
    child.send_signal(signal.SIGTERM)
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 0
    t = int(out.split()[-1])
    assert out.startswith("interrupted: SIGTERM") and t >= 4
    assert load_checkpoint(path)[1]["t"] == t


def test_nan_loss_raises_and_keeps_the_last_good_checkpoint(tmp_path):
    model = Hooked(make_model("mlp"), nan_at(9))  # 6 iterations per epoch
    solver = Solver(model, blob_data(), **resume_kwargs(checkpoint_name=str(tmp_path / "n")))
    with pytest.raises(TrainingDiverged, match="loss is nan at epoch 2, iteration 9"):
        solver.train()
    assert [p.name for p in tmp_path.iterdir()] == ["n_epoch_1.npz"]
    assert load_checkpoint(tmp_path / "n_epoch_1.npz")[1]["t"] == 6
    assert issubclass(TrainingDiverged, RuntimeError)


def test_early_stopping_restores_the_best_parameters_and_buffers():
    """val acc by epoch: 0.2, 0.5, 0.4, 0.5 (no improvement twice) -> stop after epoch 3."""
    script = [0.2, 0.5, 0.4, 0.5, 0.9, 0.1, 0.1]
    model = ScriptedModel(script)
    solver = Solver(
        model,
        scripted_data(),
        update_rule="sgd",
        optim_config={"learning_rate": 1},
        batch_size=1,
        num_epochs=6,
        patience=2,
        verbose=False,
    )
    solver.train()
    assert solver.stopped_early and solver.epoch == 3
    assert solver.val_acc_history == [0.2, 0.5, 0.4, 0.5]
    assert solver.best_val_acc == 0.5
    assert model.params["w"][0] == 1.0 and model.count[0] == 1.0  # the state after epoch 1


def test_without_patience_all_epochs_run_and_the_best_is_restored():
    model = ScriptedModel([0.2, 0.5, 0.4, 0.5, 0.9, 0.1, 0.1])
    solver = Solver(
        model,
        scripted_data(),
        update_rule="sgd",
        optim_config={"learning_rate": 1},
        batch_size=1,
        num_epochs=6,
        verbose=False,
    )
    solver.train()
    assert not solver.stopped_early and solver.epoch == 6
    assert model.params["w"][0] == 4.0 and model.count[0] == 4.0


def test_resuming_a_stopped_run_keeps_it_stopped(tmp_path):
    model = ScriptedModel([0.2, 0.5, 0.4, 0.5, 0.9, 0.1, 0.1])
    kwargs = {
        "update_rule": "sgd",
        "optim_config": {"learning_rate": 1},
        "batch_size": 1,
        "num_epochs": 6,
        "patience": 2,
        "verbose": False,
        "checkpoint_path": tmp_path / "c.npz",
    }
    Solver(model, scripted_data(), **kwargs).train()
    again = Solver(
        ScriptedModel([0.2, 0.5, 0.4, 0.5, 0.9, 0.1, 0.1]),
        scripted_data(),
        resume=tmp_path / "c.npz",
        **kwargs,
    )
    again.train()
    assert again.epoch == 3 and again.model.params["w"][0] == 1.0


def test_hooks_see_the_solver_generator_and_the_epoch_metrics():
    calls, metrics = [], []

    def augment(X, rng):
        calls.append((X.shape, rng))
        return X

    solver = Solver(
        SoftmaxRegression(5, 3),
        blob_data(),
        batch_size=50,
        num_epochs=2,
        augment=augment,
        on_epoch_end=lambda s, m: metrics.append(m),
        verbose=False,
        seed=0,
    )
    solver.train()
    assert len(calls) == 8 and all(shape == (50, 5) and r is solver.rng for shape, r in calls)
    assert [m["epoch"] for m in metrics] == [1, 2]
    assert set(metrics[0]) == {"epoch", "loss", "train_acc", "val_acc", "lr", "seconds"}
    assert metrics[1]["loss"] == pytest.approx(np.mean(solver.loss_history[4:]), rel=1e-15)
    assert metrics[1]["val_acc"] == solver.val_acc_history[2]


def test_progress_lines_bar_and_silence(capsys):
    kwargs = {"batch_size": 50, "num_epochs": 2, "print_every": 3, "seed": 0}
    Solver(SoftmaxRegression(5, 3), blob_data(), progress_bar=False, **kwargs).train()
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" loss")[0] for line in lines if line.startswith("(Iteration")] == [
        "(Iteration 1 / 8)",
        "(Iteration 4 / 8)",
        "(Iteration 7 / 8)",
    ]
    assert [line.split(")")[0] for line in lines if line.startswith("(Epoch")] == [
        "(Epoch 0 / 2",
        "(Epoch 1 / 2",
        "(Epoch 2 / 2",
    ]
    Solver(SoftmaxRegression(5, 3), blob_data(), progress_bar=True, **kwargs).train()
    out = capsys.readouterr().out
    assert "epoch 2/2" in out and "loss=" in out and "lr=" in out and "(Epoch 2 / 2)" in out
    Solver(SoftmaxRegression(5, 3), blob_data(), verbose=False, **kwargs).train()
    assert capsys.readouterr().out == ""


def test_check_accuracy_subsamples_with_the_solver_generator():
    data = blob_data()
    model = SoftmaxRegression(5, 3)
    a = Solver(model, data, seed=4).check_accuracy(data["X_val"], data["y_val"], num_samples=10)
    b = Solver(model, data, seed=4).check_accuracy(data["X_val"], data["y_val"], num_samples=10)
    assert a == b and a * 10 == round(a * 10)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lr_decay": 0.9, "schedule": CosineDecay(3)}, "lr_decay or schedule, not both"),
        ({"update_rule": "adagrad"}, "unknown update rule"),
        ({"batch_size": 0}, "batch_size must be >= 1"),
        ({"patience": 0}, "patience must be >= 1"),
        (
            {"checkpoint_name": "a", "checkpoint_path": "b.npz"},
            "checkpoint_name or checkpoint_path",
        ),
        (
            {"update_rule": lambda w, dw, c: (w, c), "schedule": CosineDecay(3)},
            r"schedule needs optim_config\['learning_rate'\]",
        ),
    ],
)
def test_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Solver(SoftmaxRegression(5, 3), blob_data(), **kwargs)


def test_bad_data():
    data = blob_data()
    with pytest.raises(ValueError, match=r"data is missing \['y_val'\]"):
        Solver(SoftmaxRegression(5, 3), {k: v for k, v in data.items() if k != "y_val"})
    with pytest.raises(ValueError, match=r"X_train has shape \(200, 5\) but y_train has shape"):
        Solver(SoftmaxRegression(5, 3), {**data, "y_train": data["y_train"][:10]})


def test_resume_rejects_a_different_batch_size(tmp_path):
    data = blob_data()
    Solver(
        SoftmaxRegression(5, 3),
        data,
        num_epochs=1,
        verbose=False,
        checkpoint_path=tmp_path / "c.npz",
    ).train()
    with pytest.raises(ValueError, match="batch_size=100 but this Solver has batch_size=50"):
        Solver(SoftmaxRegression(5, 3), data, batch_size=50, resume=tmp_path / "c.npz")


def test_compat_names():
    from cnnlab.compat.cs231n import optim as cs_optim
    from cnnlab.compat.cs231n.solver import Solver as CompatSolver

    assert CompatSolver is Solver
    assert {"sgd", "sgd_momentum", "rmsprop", "adam"} <= set(dir(cs_optim))


def test_interrupt_without_a_checkpoint_destination_just_stops(capsys):
    solver = Solver(
        Hooked(make_model("mlp"), interrupt_at(3)),
        blob_data(),
        batch_size=50,
        num_epochs=2,
        progress_bar=False,
        seed=0,
    )
    solver.train()
    assert solver.interrupted == "KeyboardInterrupt" and solver.t == 2
    assert solver.last_checkpoint is None
    assert "nothing saved" in capsys.readouterr().out
