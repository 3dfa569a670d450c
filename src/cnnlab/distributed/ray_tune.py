"""Searches on a Ray cluster: the trials of :mod:`cnnlab.training.tuning` run by Ray Tune.

``cnnlab search ... --backend ray [--address HOST:PORT]`` hands its trials to
:func:`run_on_ray` instead of local processes. Each Tune trial is one of the search's own
trials (its index in a grid over ``range(n)``), which calls the same ``train_fn(config,
seed)``, so the trials, their results, their folders and the resume behaviour are those of
the local search; Tune only places them on the cluster's CPUs. The trials run in the
driver's working directory, so relative paths mean the same on a one-machine cluster; on
several machines the search folder and the data must be on a shared file system.

Needs the optional extra ``cnnlab[ray]`` (``ray[tune]``).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

TrainFn = Callable[[dict[str, Any], int], dict[str, Any]]


def _import_ray() -> Any:
    try:
        import ray
        from ray import tune
    except ImportError as err:
        raise RuntimeError(
            "search --backend ray needs Ray Tune (pip install 'cnnlab[ray]')"
        ) from err
    return ray, tune


def run_on_ray(
    train_fn: TrainFn,
    configs: Sequence[dict[str, Any]],
    seeds: Sequence[int],
    *,
    address: str | None = None,
    max_concurrent: int = 0,
) -> list[dict[str, Any]]:
    """``[train_fn(config, seed) for each pair]``, the calls run as Ray Tune trials.

    Args:
        train_fn: a picklable trial (:class:`cnnlab.cli.search.ExperimentTrial`, ...)
            returning a JSON-serialisable dict.
        configs: the trials' configurations, in the search's order.
        seeds: the trials' seeds, one per config.
        address: the Ray cluster to join (``ray.init(address=...)``); None: the one this
            process has joined already, else a new local one.
        max_concurrent: trials at once (0: as many as the cluster's CPUs allow).

    Returns:
        The results in the order of ``configs``.

    Raises:
        RuntimeError: Ray is missing, or a trial raised (its error is in the message).
    """
    ray, tune = _import_ray()
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    cwd = os.getcwd()
    pairs = [(dict(config), int(seed)) for config, seed in zip(configs, seeds, strict=True)]

    def trial(space: dict[str, Any]) -> None:
        os.chdir(cwd)
        config, seed = pairs[space["trial"]]
        tune.report({"result_json": json.dumps(train_fn(config, seed))})

    with tempfile.TemporaryDirectory(prefix="cnnlab-ray-") as storage:
        tuner = tune.Tuner(
            trial,
            param_space={"trial": tune.grid_search(list(range(len(pairs))))},
            tune_config=tune.TuneConfig(max_concurrent_trials=max_concurrent),
            run_config=tune.RunConfig(storage_path=storage, verbose=0),
        )
        grid = tuner.fit()
        results: dict[int, dict[str, Any]] = {}
        for outcome in grid:
            if outcome.error is not None:
                raise RuntimeError(f"search on Ray: a trial failed: {outcome.error}")
            results[outcome.config["trial"]] = json.loads(outcome.metrics["result_json"])
    return [results[i] for i in range(len(pairs))]
