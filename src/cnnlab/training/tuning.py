"""Hyperparameter search: grid search and random search, trials in parallel processes.

A trial is a call ``result = train_fn(config, seed)``: ``config`` maps hyperparameter names to
values, ``seed`` is the trial's own seed (derived from the search's ``seed``, so a search is
reproducible whatever ``n_jobs``), and ``result`` is a dict holding at least ``val_acc``, the
validation accuracy the trial reached (plus anything else, e.g. its ``history``). The best
trial is chosen on ``val_acc`` alone (the first one wins a tie); test data never enters.

With ``n_jobs > 1`` the trials run in ``spawn``-ed worker processes, so ``train_fn`` (and
everything it refers to) must be picklable: a module-level function or a :class:`SolverTrial`.
Scripts that search in parallel need the usual ``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import inspect
import itertools
import math
import multiprocessing
import numbers
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnnlab.training import optim
from cnnlab.training.solver import Solver

TrainFn = Callable[[dict[str, Any], int], dict[str, Any]]
# runs ``train_fn(config, seed)`` for every pair and returns the results in order: another
# place to run the trials than local processes (Ray: cnnlab.distributed.ray_tune.run_on_ray)
Backend = Callable[[TrainFn, list[dict[str, Any]], list[int]], list[dict[str, Any]]]


@dataclass(frozen=True)
class Uniform:
    """Values drawn uniformly from [low, high)."""

    low: float
    high: float

    def sample(self, rng: np.random.Generator) -> float:
        """One value drawn from [low, high) with ``rng``."""
        return float(rng.uniform(self.low, self.high))


@dataclass(frozen=True)
class LogUniform:
    """Values whose logarithm is uniform: the usual prior for learning rates and decays."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not 0 < self.low < self.high:
            raise ValueError(f"LogUniform: need 0 < low < high, got {self.low}, {self.high}")

    def sample(self, rng: np.random.Generator) -> float:
        """One value in [low, high) whose logarithm is drawn uniformly with ``rng``."""
        return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))


@dataclass
class Trial:
    """One trial: its config, seed and the dict its train_fn returned."""

    config: dict[str, Any]
    seed: int
    result: dict[str, Any]

    @property
    def val_acc(self) -> float:
        """The validation accuracy the trial reached: ``result["val_acc"]`` as a float."""
        return float(self.result["val_acc"])


@dataclass
class SearchResult:
    """All trials in the order they were defined, and the best one by validation accuracy.

    A trial whose ``val_acc`` is NaN (one that failed or diverged and says so in its result)
    is kept in ``trials`` but never chosen.

    Raises:
        ValueError: no trial has a finite validation accuracy.
    """

    trials: list[Trial]
    best: Trial = field(init=False)

    def __post_init__(self) -> None:
        finished = [trial for trial in self.trials if math.isfinite(trial.val_acc)]
        if not finished:
            raise ValueError(
                f"tuning: none of the {len(self.trials)} trials reached a validation accuracy"
            )
        self.best = max(finished, key=lambda trial: trial.val_acc)

    @property
    def best_config(self) -> dict[str, Any]:
        """The config of the best trial."""
        return self.best.config


def trial_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent 32-bit seeds derived from ``seed`` (numpy SeedSequence.spawn)."""
    return [int(child.generate_state(1)[0]) for child in np.random.SeedSequence(seed).spawn(n)]


def _check_result(result: Any, config: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(result, dict) or not isinstance(result.get("val_acc"), numbers.Real):
        raise ValueError(
            f"tuning: train_fn must return a dict with a numeric 'val_acc'; for "
            f"config {config} it returned {result!r:.200}"
        )
    return result


def run_trials(
    train_fn: TrainFn,
    configs: Sequence[dict[str, Any]],
    seed: int = 0,
    n_jobs: int = 1,
    backend: Backend | None = None,
) -> SearchResult:
    """Run ``train_fn(config, seed_i)`` for every config and collect the trials.

    The runs go to ``n_jobs`` processes (-1: one per CPU) or through ``backend`` (which then decides
    where).
    """
    if not configs:
        raise ValueError("tuning: no configurations to try")
    if n_jobs == -1:
        n_jobs = os.cpu_count() or 1
    if n_jobs < 1:
        raise ValueError(f"tuning: n_jobs must be >= 1 or -1, got {n_jobs}")
    configs = [dict(config) for config in configs]
    seeds = trial_seeds(seed, len(configs))
    if backend is not None:
        results = backend(train_fn, configs, seeds)
    elif n_jobs == 1:
        results = [train_fn(config, s) for config, s in zip(configs, seeds, strict=True)]
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(n_jobs, len(configs)), mp_context=context) as pool:
            results = list(pool.map(train_fn, configs, seeds))
    trials = [
        Trial(config, s, _check_result(result, config))
        for config, s, result in zip(configs, seeds, results, strict=True)
    ]
    return SearchResult(trials)


def grid_search(
    train_fn: TrainFn, grid: Mapping[str, Sequence[Any]], *, seed: int = 0, n_jobs: int = 1
) -> SearchResult:
    """Try every combination of the values in ``grid`` (name -> list of values)."""
    for name, values in grid.items():
        if isinstance(values, (str, bytes)) or len(values) == 0:
            raise ValueError(
                f"grid_search: {name!r} needs a non-empty list of values, got {values!r}"
            )
    names = list(grid)
    configs = [
        dict(zip(names, values, strict=True))
        for values in itertools.product(*(grid[name] for name in names))
    ]
    return run_trials(train_fn, configs, seed, n_jobs)


def random_search(
    train_fn: TrainFn, space: Mapping[str, Any], n_trials: int, *, seed: int = 0, n_jobs: int = 1
) -> SearchResult:
    """Try ``n_trials`` configs drawn from ``space``.

    ``space`` maps a name to a distribution with ``sample(rng)`` (:class:`Uniform`,
    :class:`LogUniform`) or a list (one value chosen uniformly). The draws come from a generator
    seeded with ``seed``.
    """
    if n_trials < 1:
        raise ValueError(f"random_search: n_trials must be >= 1, got {n_trials}")
    rng = np.random.default_rng(seed)

    def draw(name: str, spec: Any) -> Any:
        if hasattr(spec, "sample"):
            return spec.sample(rng)
        if isinstance(spec, Sequence) and not isinstance(spec, str) and len(spec) > 0:
            return spec[int(rng.integers(len(spec)))]
        raise ValueError(
            f"random_search: {name!r} must be a distribution with sample(rng) "
            f"or a non-empty list, got {spec!r}"
        )

    configs = [{name: draw(name, spec) for name, spec in space.items()} for _ in range(n_trials)]
    return run_trials(train_fn, configs, seed, n_jobs)


_SOLVER_ARGS = frozenset(inspect.signature(Solver).parameters) - {"model", "data"}
_OPTIM_KEYS = frozenset(key for defaults in optim.DEFAULTS.values() for key in defaults)


@dataclass
class SolverTrial:
    """A picklable ``train_fn`` that trains ``model_factory(config, seed)`` with a Solver.

    Config entries named like Solver arguments (``batch_size``, ``num_epochs``, ``lr_decay``,
    ``update_rule``, ``patience``, ...) go to the Solver, entries named like optimiser
    hyperparameters (``learning_rate``, ``momentum``, ``weight_decay``, ...) into its
    ``optim_config``; the factory sees the whole config (for ``hidden_dim``, ``reg``, ...).
    Returns ``{"val_acc": best validation accuracy, "history": the Solver's history}``.
    """

    model_factory: Callable[[dict[str, Any], int], Any]
    data: dict[str, np.ndarray]
    solver_kwargs: dict[str, Any] = field(default_factory=dict)

    def __call__(self, config: dict[str, Any], seed: int) -> dict[str, Any]:
        """Train ``model_factory(config, seed)`` with a Solver seeded with ``seed``.

        Args:
            config: the trial's hyperparameters, split between the Solver, its
                ``optim_config`` and the factory as the class docstring says.
            seed: the trial's seed, for the factory and the Solver.

        Returns:
            ``{"val_acc": best validation accuracy, "history": the Solver's history}``.
        """
        kwargs: dict[str, Any] = {"verbose": False, **self.solver_kwargs, "seed": seed}
        kwargs.update({k: v for k, v in config.items() if k in _SOLVER_ARGS})
        kwargs["optim_config"] = {
            **kwargs.get("optim_config", {}),
            **{k: v for k, v in config.items() if k in _OPTIM_KEYS},
        }
        solver = Solver(self.model_factory(config, seed), self.data, **kwargs)
        solver.train()
        return {"val_acc": solver.best_val_acc, "history": solver.history}
