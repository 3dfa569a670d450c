"""The training loop: CS231n's ``Solver`` with early stopping, schedules and checkpoints.

Usage (as in CS231n)::

    solver = Solver(model, data, update_rule="adam", optim_config={"learning_rate": 1e-3},
                    num_epochs=10, batch_size=100, print_every=100, seed=0)
    solver.train()
    solver.loss_history, solver.train_acc_history, solver.val_acc_history, solver.best_val_acc

The model contract:

- ``model.params``: dict name -> ndarray, the trainable parameters. The Solver updates them
  in place (``model.params[name][...] = next_w``), so modules sharing these arrays see it.
- ``model.loss(X, y)`` -> ``(loss, grads)`` with ``grads`` keyed like ``params`` (training),
  ``model.loss(X)`` -> scores of shape (N, K) (testing).
- optional ``model.state_dict()`` / ``model.load_state_dict(state)``: parameters plus buffers
  (batchnorm running statistics). When present they are used for checkpoints and for the best
  model; otherwise ``params`` alone.

What differs from CS231n: an epoch visits a random permutation of the training set in
disjoint minibatches (CS231n samples every batch with replacement); the epoch-0 accuracies are
measured before the first update; and all randomness of the loop (sample order, ``augment``,
accuracy subsampling) comes from the Solver's own Generator (``seed``). Randomness inside the
model (dropout masks from the model's own generator) is the model's business: for a bit-exact
resume, a model must keep its generator state in its ``state_dict``.

Checkpoints (see :mod:`cnnlab.training.state` for the layout) are written after every epoch to
``checkpoint_path`` (overwritten) or ``{checkpoint_name}_epoch_{k}.npz``. Resuming from the
checkpoint of epoch k (``Solver(..., resume=path)`` or ``solver.resume(path)``) then training
gives bit-for-bit the parameters of the uninterrupted run. SIGTERM or Ctrl-C stop training at
the end of the current iteration (a second Ctrl-C stops at the end of the current step, or at
once during an evaluation) and save a checkpoint to ``checkpoint_path`` or
``{checkpoint_name}_interrupted.npz``; ``train()`` then returns normally with
``solver.interrupted`` set. The checkpoint holds the per-epoch metrics too
(``metrics_history``), so files derived from them can always be rebuilt from it.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.training import optim
from cnnlab.training.allocator import keep_freed_memory
from cnnlab.training.batches import accuracy, batch_indices, epoch_order, iterations_per_epoch
from cnnlab.training.checkpoint import load_checkpoint, save_checkpoint
from cnnlab.training.progress import Progress, make_progress
from cnnlab.training.schedules import ExponentialDecay, Schedule
from cnnlab.training.signals import StopRequests
from cnnlab.training.state import (
    MODEL,
    get_model_state,
    pack_optim_configs,
    set_model_state,
    strip_prefix,
    unpack_optim_configs,
    with_prefix,
)

FORMAT = "cnnlab.solver/1"
BEST, ORDER = "best/", "sampler/order"
OLD_BEST_PARAMS, OLD_BEST_STATE = "best_params/", "best_state/"  # checkpoints before best/
HISTORY_NAMES = (
    "loss_history",
    "train_acc_history",
    "val_acc_history",
    "lr_history",
    "check_iterations",
    "check_val_acc",
)

Augment = Callable[[np.ndarray, np.random.Generator], np.ndarray]
EpochCallback = Callable[["Solver", dict[str, float]], None]


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite."""


class Solver:
    """Trains a classification model with minibatch gradient descent.

    Args:
        model: see the module docstring for the contract.
        data: dict with ``X_train`` (N, ...), ``y_train`` (N,) int labels, ``X_val`` (M, ...),
            ``y_val`` (M,).
        update_rule: a name in :data:`cnnlab.training.optim.RULES` or a callable
            ``rule(w, dw, config) -> (next_w, config)``.
        optim_config: hyperparameters for the rule (``learning_rate``, ...); each parameter
            gets its own copy, which also holds its optimiser state.
        lr_decay: multiply the learning rate by this after every epoch (CS231n).
        schedule: a :mod:`cnnlab.training.schedules` schedule (``factor = schedule(epoch_float)``);
            the learning rate is ``optim_config["learning_rate"] * factor`` at every update.
            Give ``lr_decay`` or ``schedule``, not both.
        batch_size: minibatch size.
        num_epochs: number of epochs.
        num_train_samples: training samples drawn to measure training accuracy per epoch
            (None: all).
        num_val_samples: the same for validation (default all).
        checkpoint_name: save ``{checkpoint_name}_epoch_{k}.npz`` after every epoch.
        checkpoint_path: save (overwrite) this one file instead.
        print_every: print the loss every this many iterations (line mode).
        verbose: print progress at all.
        progress_bar: tqdm bar per epoch (default: when stdout is a terminal) instead of
            lines.
        patience: stop after this many epochs (or checks, with ``check_every``) without a new
            best validation accuracy (None: never). In any case the best parameters are
            restored when training ends.
        max_iterations: stop after this many iterations in all, even within an epoch (seed
            004 trains for 1000); None: ``num_epochs`` whole epochs.
        check_every: also measure the validation accuracy every this many iterations (seed
            004's early stopping: every 50). The checks then alone choose the best model and
            count the patience; the per-epoch accuracies are still recorded. A check's
            accuracy goes to ``check_val_acc`` and its iteration to ``check_iterations``;
            ``stopped_at`` is the iteration where patience ran out (None if it did not).
        augment: ``augment(X_batch, rng) -> X_batch`` applied to every training minibatch.
        on_epoch_end: ``callback(solver, metrics)`` after every epoch; metrics has ``epoch``,
            ``loss`` (mean minibatch loss of the epoch), ``train_acc``, ``val_acc``, ``lr``,
            ``seconds`` (wall time of the epoch, evaluation included).
        seed: int, None or a numpy Generator: the source of all the loop's randomness.
        resume: path of a checkpoint to continue from.
    """

    def __init__(
        self,
        model: Any,
        data: dict[str, np.ndarray],
        *,
        update_rule: str | optim.UpdateRule = "sgd",
        optim_config: dict[str, Any] | None = None,
        lr_decay: float = 1.0,
        schedule: Schedule | None = None,
        batch_size: int = 100,
        num_epochs: int = 10,
        num_train_samples: int | None = 1000,
        num_val_samples: int | None = None,
        checkpoint_name: str | None = None,
        checkpoint_path: str | os.PathLike[str] | None = None,
        print_every: int = 10,
        verbose: bool = True,
        progress_bar: bool | None = None,
        patience: int | None = None,
        max_iterations: int | None = None,
        check_every: int | None = None,
        augment: Augment | None = None,
        on_epoch_end: EpochCallback | None = None,
        seed: int | np.random.Generator | None = None,
        resume: str | os.PathLike[str] | None = None,
    ) -> None:
        _check_data(data)
        _check_options(
            batch_size, num_epochs, lr_decay, schedule, patience, checkpoint_name, checkpoint_path
        )
        for name, value in (("max_iterations", max_iterations), ("check_every", check_every)):
            if value is not None and value < 1:
                raise ValueError(f"Solver: {name} must be >= 1 or None, got {value}")
        self.model = model
        self.X_train, self.y_train = data["X_train"], data["y_train"]
        self.X_val, self.y_val = data["X_val"], data["y_val"]
        self.update_rule = optim.get_rule(update_rule)
        defaults = optim.DEFAULTS.get(update_rule, {}) if isinstance(update_rule, str) else {}
        self.optim_config = {**defaults, **(optim_config or {})}
        if lr_decay != 1.0:
            schedule = ExponentialDecay(lr_decay)
        if schedule is not None and "learning_rate" not in self.optim_config:
            raise ValueError("Solver: a schedule needs optim_config['learning_rate']")
        self.schedule = schedule
        self.batch_size, self.num_epochs = batch_size, num_epochs
        self.num_train_samples, self.num_val_samples = num_train_samples, num_val_samples
        self.checkpoint_name = checkpoint_name
        self.checkpoint_path = None if checkpoint_path is None else Path(checkpoint_path)
        self.print_every, self.verbose, self.progress_bar = print_every, verbose, progress_bar
        self.patience, self.augment, self.on_epoch_end = patience, augment, on_epoch_end
        self.max_iterations, self.check_every = max_iterations, check_every
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self._reset()
        if resume is not None:
            self.resume(resume)

    # ----------------------------------------------------------------------------- state
    def _reset(self) -> None:
        """Fresh counters, history, best model and optimiser state."""
        self.epoch = 0  # completed epochs
        self.t = 0  # completed iterations (parameter updates)
        self.best_val_acc = 0.0
        self.best_params: dict[str, np.ndarray] = {}
        self._best_state: dict[str, np.ndarray] | None = None
        self.epochs_without_improvement = 0
        self.checks_without_improvement = 0
        self.stopped_early = False
        self.stopped_at: int | None = None
        self.interrupted: str | None = None
        self.last_checkpoint: Path | None = None
        self.loss_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []
        self.lr_history: list[float | None] = []
        self.check_iterations: list[int] = []
        self.check_val_acc: list[float] = []
        self.metrics_history: list[dict[str, Any]] = []
        self.train_seconds = 0.0  # wall time of train() over every segment (resumes included)
        self._segment_start: float | None = None  # when the running train() call began
        self.optim_configs = {name: dict(self.optim_config) for name in self.model.params}
        self._order: np.ndarray | None = None  # sample order of the current epoch

    @property
    def iterations_per_epoch(self) -> int:
        """Full minibatches of ``batch_size`` per epoch of the training set (at least 1)."""
        return iterations_per_epoch(len(self.X_train), self.batch_size)

    @property
    def history(self) -> dict[str, list]:
        """The four histories by name (the content of a run's history.json)."""
        return {name: list(getattr(self, name)) for name in HISTORY_NAMES}

    def _has_state_dict(self) -> bool:
        return hasattr(self.model, "state_dict") and hasattr(self.model, "load_state_dict")

    def _best_snapshot(self) -> dict[str, np.ndarray]:
        """The best model as :func:`get_model_state` gives it (state_dict, else params)."""
        return self._best_state if self._best_state is not None else self.best_params

    def _checkpoint_content(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Arrays and header of a checkpoint.

        The best model is stored only when it differs from the current one (after an epoch that
        improved, they are the same).
        """
        optim_arrays, optim_scalars = pack_optim_configs(self.optim_configs)
        model_state = get_model_state(self.model)
        best = self._best_snapshot()
        best_is_model = set(best) == set(model_state) and all(
            np.array_equal(best[k], model_state[k]) for k in best
        )
        arrays = {**with_prefix(MODEL, model_state), **optim_arrays}
        if not best_is_model:
            arrays.update(with_prefix(BEST, best))
        if self._order is not None:
            arrays[ORDER] = self._order
        meta = {
            "format": FORMAT,
            "epoch": self.epoch,
            "t": self.t,
            "batch_size": self.batch_size,
            "num_train": len(self.X_train),
            "num_epochs": self.num_epochs,
            "best_val_acc": self.best_val_acc,
            "best_is_model": best_is_model,
            "epochs_without_improvement": self.epochs_without_improvement,
            "checks_without_improvement": self.checks_without_improvement,
            "stopped_early": self.stopped_early,
            "stopped_at": self.stopped_at,
            "rng": self.rng.bit_generator.state,
            "optim": optim_scalars,
            "history": self.history,
            "metrics": self.metrics_history,
            "train_seconds": self._elapsed(),
        }
        return arrays, meta

    def save_checkpoint(self, path: str | os.PathLike[str]) -> Path:
        """Write the complete training state to ``path`` (atomically); return the path."""
        self.last_checkpoint = save_checkpoint(path, *self._checkpoint_content())
        return self.last_checkpoint

    def resume(self, path: str | os.PathLike[str]) -> None:
        """Load the training state saved by :meth:`save_checkpoint` (model included)."""
        arrays, meta = load_checkpoint(path)
        if meta.get("format") != FORMAT:
            raise ValueError(
                f"Solver.resume: {path} is not a Solver checkpoint "
                f"(format {meta.get('format')!r}, expected {FORMAT!r})"
            )
        for key, value in (("batch_size", self.batch_size), ("num_train", len(self.X_train))):
            if meta[key] != value:
                raise ValueError(
                    f"Solver.resume: {path} was written with {key}={meta[key]} "
                    f"but this Solver has {key}={value}"
                )
        configs = unpack_optim_configs(arrays, meta["optim"])
        if set(configs) != set(self.model.params):
            raise ValueError(
                f"Solver.resume: {path} has optimiser state for {sorted(configs)} "
                f"but the model's parameters are {sorted(self.model.params)}"
            )
        model_state = strip_prefix(MODEL, arrays)
        set_model_state(self.model, model_state)
        self._reset()
        self.optim_configs = configs
        if meta.get("best_is_model"):
            best = model_state
        else:
            best = strip_prefix(BEST, arrays) or strip_prefix(
                OLD_BEST_STATE if self._has_state_dict() else OLD_BEST_PARAMS, arrays
            )
        self._best_state = best if self._has_state_dict() else None
        self.best_params = {name: best[name].copy() for name in self.model.params if name in best}
        self.metrics_history = [dict(row) for row in meta.get("metrics", [])]
        # checkpoints written before they held the total: the completed epochs' times
        self.train_seconds = meta.get(
            "train_seconds", sum(float(row["seconds"]) for row in self.metrics_history)
        )
        self._order = arrays.get(ORDER)
        self.rng.bit_generator.state = meta["rng"]
        for name in HISTORY_NAMES:  # checkpoints before check_every have no check series
            setattr(self, name, list(meta["history"].get(name, [])))
        self.epoch, self.t = meta["epoch"], meta["t"]
        self.best_val_acc = meta["best_val_acc"]
        self.epochs_without_improvement = meta["epochs_without_improvement"]
        self.stopped_early = meta["stopped_early"]
        self.checks_without_improvement = meta.get("checks_without_improvement", 0)
        self.stopped_at = meta.get("stopped_at")

    # -------------------------------------------------------------------------- training
    def check_accuracy(
        self, X: np.ndarray, y: np.ndarray, num_samples: int | None = None, batch_size: int = 100
    ) -> float:
        """Accuracy of the model on X (N, ...), y (N,).

        On a random subset of ``num_samples`` (drawn from the Solver's generator) if given.
        """
        return accuracy(self.model, X, y, self.rng, num_samples, batch_size)

    def train(self) -> None:
        """Run (or continue) training up to ``num_epochs``; restore the best model at the end.

        Raises TrainingDiverged on a NaN/inf loss (the last checkpoint stays as it was).
        """
        keep_freed_memory()  # every step reuses the last one's buffers (see allocator)
        per_epoch = self.iterations_per_epoch
        total = self.num_epochs * per_epoch
        if self.max_iterations is not None:
            total = min(total, self.max_iterations)
        self.interrupted = None
        self._segment_start = time.perf_counter()
        progress = make_progress(
            self.verbose, self.progress_bar, self.num_epochs, total, self.print_every
        )
        try:
            with StopRequests() as stop:
                if not self.val_acc_history:
                    accuracies = self._measure()
                    with stop.step():
                        self._record_accuracy(progress, *accuracies)
                epoch_start, bar_open = time.perf_counter(), False
                while True:
                    if self._check_due():
                        self._check(progress, stop)
                    if self.epoch < self.t // per_epoch:
                        self._end_epoch(progress, stop, epoch_start)
                        epoch_start = time.perf_counter()
                    if self.t >= total or self.stopped_early:
                        break
                    if stop.requested:
                        self._interrupt(stop.requested, progress)
                        break
                    if self.t % per_epoch == 0 or not bar_open:
                        progress.start_epoch(self.epoch, self.t % per_epoch, per_epoch)
                        bar_open = True
                    with stop.step():
                        self._step(progress)
        except KeyboardInterrupt:
            self._interrupt("KeyboardInterrupt", progress)
        finally:
            progress.close()
            self.train_seconds, self._segment_start = self._elapsed(), None
        self._restore_best()

    def _elapsed(self) -> float:
        """Seconds spent in :meth:`train` so far, over every segment of the run."""
        if self._segment_start is None:
            return self.train_seconds
        return self.train_seconds + time.perf_counter() - self._segment_start

    @contextlib.contextmanager
    def _rewind_on_interrupt(self) -> Iterator[None]:
        """Rewind the generator and the sample order on a KeyboardInterrupt inside the block.

        Both are put back as they were, so the state saved matches the last completed step.
        """
        rng_state, order = self.rng.bit_generator.state, self._order
        try:
            yield
        except KeyboardInterrupt:
            self.rng.bit_generator.state, self._order = rng_state, order
            raise

    def _learning_rate(self) -> float | None:
        """The learning rate of the next update (scheduled), or the configured one."""
        if self.schedule is not None:
            factor = self.schedule(self.t / self.iterations_per_epoch)
            return self.optim_config["learning_rate"] * factor
        first = next(iter(self.optim_configs.values()), {})
        return first.get("learning_rate")

    def _step(self, progress: Progress) -> None:
        """One minibatch: forward/backward, then update every parameter and its optimiser state.

        Each parameter and its state are updated together. Signals cannot cut it (the caller runs it
        in ``StopRequests.step``); a KeyboardInterrupt raised by the model itself before the update
        rewinds the generator and the sample order. Overflow is not warned about: a loss that it
        made NaN or infinite raises TrainingDiverged.
        """
        with self._rewind_on_interrupt(), np.errstate(over="ignore", invalid="ignore"):
            if self._order is None:
                self._order = epoch_order(len(self.X_train), self.rng)
            index = self.t % self.iterations_per_epoch
            batch = batch_indices(self._order, index, self.batch_size)
            X_batch, y_batch = self.X_train[batch], self.y_train[batch]
            if self.augment is not None:
                X_batch = self.augment(X_batch, self.rng)
            loss, grads = self._forward_backward(X_batch, y_batch)
            if not np.isfinite(loss):
                raise TrainingDiverged(
                    f"Solver: the loss is {loss} at epoch {self.epoch + 1}, iteration "
                    f"{self.t + 1}; training stopped, a smaller learning rate may help (last "
                    f"checkpoint: {self.last_checkpoint})"
                )
            lr = self._learning_rate()
            updates = {
                name: self._update(name, w, grads, lr) for name, w in self.model.params.items()
            }
        for name, (next_w, config) in updates.items():
            self.model.params[name][...] = next_w
            self.optim_configs[name] = config
        self.loss_history.append(loss)
        self.t += 1
        if index == self.iterations_per_epoch - 1:
            self._order = None
        progress.step(self.t, loss, lr)

    def _forward_backward(
        self, X_batch: np.ndarray, y_batch: np.ndarray
    ) -> tuple[float, dict[str, np.ndarray]]:
        """The loss and the gradients of one minibatch, X_batch (B, ...), y_batch (B,).

        The one place a subclass changes to train otherwise (data-parallel training computes
        them on its shard of the batch and all-reduces them: :mod:`cnnlab.distributed`).
        """
        loss, grads = self.model.loss(X_batch, y_batch)
        return float(loss), grads

    def _update(
        self, name: str, w: np.ndarray, grads: dict[str, np.ndarray], lr: float | None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """The new value of parameter ``name`` and its new optimiser config (a copy)."""
        if name not in grads:
            raise ValueError(f"Solver: model.loss returned no gradient for parameter {name!r}")
        config = dict(self.optim_configs[name])
        if self.schedule is not None:
            config["learning_rate"] = lr
        return self.update_rule(w, grads[name], config)

    def _measure(self) -> tuple[float, float]:
        """Train and validation accuracy; an interrupt leaves the Solver as it was."""
        with self._rewind_on_interrupt(), np.errstate(over="ignore", invalid="ignore"):
            train_acc = self.check_accuracy(self.X_train, self.y_train, self.num_train_samples)
            val_acc = self.check_accuracy(self.X_val, self.y_val, self.num_val_samples)
        return train_acc, val_acc

    def _keep_if_best(self, val_acc: float) -> bool:
        """Keep the model as the best one if ``val_acc`` beats the best so far.

        Also when no model is kept yet; returns whether it did.
        """
        if val_acc > self.best_val_acc or not self.best_params:
            self.best_val_acc = val_acc
            self.best_params = {name: w.copy() for name, w in self.model.params.items()}
            self._best_state = get_model_state(self.model) if self._has_state_dict() else None
            return True
        return False

    def _record_accuracy(self, progress: Progress, train_acc: float, val_acc: float) -> None:
        """Append the accuracies and keep the best model.

        With ``check_every``, only the checks choose it, after the model before training.
        """
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        if self.check_every is None or not self.best_params:
            improved = self._keep_if_best(val_acc)
            self.epochs_without_improvement = 0 if improved else self.epochs_without_improvement + 1
        progress.end_epoch(self.epoch, train_acc, val_acc)

    def _check_due(self) -> bool:
        """Whether a check of ``check_every`` is owed at the current iteration.

        Derived from the recorded checks, so a check cut by an interrupt is made on resume.
        """
        return self.check_every is not None and len(self.check_iterations) < (
            self.t // self.check_every
        )

    def _check(self, progress: Progress, stop: StopRequests) -> None:
        """Seed 004's check: validation accuracy, best model, patience counted in checks."""
        with self._rewind_on_interrupt(), np.errstate(over="ignore", invalid="ignore"):
            val_acc = self.check_accuracy(self.X_val, self.y_val, self.num_val_samples)
        with stop.step():
            self.check_iterations.append(self.t)
            self.check_val_acc.append(val_acc)
            improved = self._keep_if_best(val_acc)
            self.checks_without_improvement = 0 if improved else self.checks_without_improvement + 1
            if self.patience is not None and self.checks_without_improvement >= self.patience:
                self.stopped_early, self.stopped_at = True, self.t
                progress.message(
                    f"Early stopping at iteration {self.t}: no better validation accuracy than "
                    f"{self.best_val_acc:f} for {self.patience} checks"
                )
                destination = self._checkpoint_destination("stopped")
                if destination is not None:
                    self.save_checkpoint(destination)

    def _end_epoch(self, progress: Progress, stop: StopRequests, started: float) -> None:
        """Evaluate, stop early, record the epoch, checkpoint and call ``on_epoch_end``.

        Evaluation, early stopping, the epoch's metrics and the checkpoint are one step that a
        second Ctrl-C does not cut.
        """
        accuracies = self._measure()  # interrupted here, the epoch end is redone on resume
        with stop.step():
            self.epoch += 1
            self._record_accuracy(progress, *accuracies)
            metrics = self._finish_epoch(progress, started)
        if self.on_epoch_end is not None:
            self.on_epoch_end(self, dict(metrics))

    def _finish_epoch(self, progress: Progress, started: float) -> dict[str, Any]:
        """Early stopping, the epoch's metrics row and its checkpoint; returns the row."""
        self.lr_history.append(self._last_lr())
        by_epochs = self.patience is not None and self.check_every is None
        if by_epochs and self.epochs_without_improvement >= self.patience:
            self.stopped_early, self.stopped_at = True, self.t
            progress.message(
                f"Early stopping after epoch {self.epoch}: no better validation "
                f"accuracy than {self.best_val_acc:f} for {self.patience} epochs"
            )
        losses = self.loss_history[-self.iterations_per_epoch :]
        metrics = {
            "epoch": self.epoch,
            "loss": float(np.mean(losses)) if losses else float("nan"),
            "train_acc": self.train_acc_history[-1],
            "val_acc": self.val_acc_history[-1],
            "lr": self.lr_history[-1],
            "seconds": time.perf_counter() - started,
        }
        self.metrics_history.append(metrics)
        destination = self._checkpoint_destination(f"epoch_{self.epoch}")
        if destination is not None:
            self.save_checkpoint(destination)
        return metrics

    def _last_lr(self) -> float | None:
        """Learning rate used by the last update."""
        if self.schedule is not None:
            factor = self.schedule((self.t - 1) / self.iterations_per_epoch)
            return self.optim_config["learning_rate"] * factor
        return self._learning_rate()

    def _checkpoint_destination(self, suffix: str) -> Path | None:
        if self.checkpoint_path is not None:
            return self.checkpoint_path
        if self.checkpoint_name is not None:
            return Path(f"{self.checkpoint_name}_{suffix}.npz")
        return None

    def _interrupt(self, reason: str, progress: Progress) -> None:
        """Record the interruption and save a checkpoint to resume from."""
        self.interrupted = reason
        destination = self._checkpoint_destination("interrupted")
        where = "no checkpoint_path or checkpoint_name was given, nothing saved"
        if destination is not None:
            where = f"checkpoint saved to {self.save_checkpoint(destination)}"
        progress.message(f"Training interrupted ({reason}) after iteration {self.t}; {where}")

    def _restore_best(self) -> None:
        """Put the best model seen (by validation accuracy) back into the model."""
        if self._best_state is not None:
            set_model_state(self.model, self._best_state)
        elif self.best_params:
            set_model_state(self.model, self.best_params)


def _check_data(data: dict[str, np.ndarray]) -> None:
    missing = {"X_train", "y_train", "X_val", "y_val"} - set(data)
    if missing:
        raise ValueError(f"Solver: data is missing {sorted(missing)}")
    for split in ("train", "val"):
        X, y = data[f"X_{split}"], data[f"y_{split}"]
        if len(X) != len(y):
            raise ValueError(
                f"Solver: X_{split} has shape {np.shape(X)} but y_{split} has "
                f"shape {np.shape(y)}; they need the same number of samples"
            )
        y = np.asarray(y)
        if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0):
            raise ValueError(
                f"Solver: y_{split} ({y.dtype}, shape {y.shape}) must hold class indices >= 0"
            )
        X = np.asarray(X)
        if np.issubdtype(X.dtype, np.inexact) and not np.isfinite(X).all():
            first = int(np.argmin(np.isfinite(X).reshape(len(X), -1).all(axis=1)))
            raise ValueError(
                f"Solver: X_{split} (shape {X.shape}) holds NaN or infinite values, the first "
                f"in sample {first}"
            )
    if len(data["X_train"]) == 0:
        raise ValueError("Solver: X_train is empty")


def _check_options(
    batch_size: int,
    num_epochs: int,
    lr_decay: float,
    schedule: Schedule | None,
    patience: int | None,
    checkpoint_name: str | None,
    checkpoint_path: Any,
) -> None:
    if batch_size < 1:
        raise ValueError(f"Solver: batch_size must be >= 1, got {batch_size}")
    if num_epochs < 0:
        raise ValueError(f"Solver: num_epochs must be >= 0, got {num_epochs}")
    if lr_decay <= 0:
        raise ValueError(f"Solver: lr_decay must be > 0, got {lr_decay}")
    if lr_decay != 1.0 and schedule is not None:
        raise ValueError("Solver: give lr_decay or schedule, not both")
    if patience is not None and patience < 1:
        raise ValueError(f"Solver: patience must be >= 1 or None, got {patience}")
    if checkpoint_name is not None and checkpoint_path is not None:
        raise ValueError("Solver: give checkpoint_name or checkpoint_path, not both")
