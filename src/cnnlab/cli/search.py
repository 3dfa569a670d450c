"""``cnnlab search``: grid or random search of training options (seed 004, 3.2.2).

Every trial is a ``cnnlab train`` run without the test set, in ``OUT/trials/NNN``; its outcome
(``ok``, ``diverged`` or ``failed: <message>``) and validation accuracy go to its
``trial.json``. The search then writes ``OUT/results.csv`` (one row per trial),
``OUT/val_acc.png`` and ``OUT/search.json``, and evaluates only the winner on the test set.
Running the same command again resumes: finished trials are read back, an interrupted one
continues from its checkpoint.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import itertools
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab import experiment, runs
from cnnlab.cli._common import add_command, add_model_option, add_quiet_option, add_seed_option
from cnnlab.cli.train import _parse_kwargs
from cnnlab.training.solver import TrainingDiverged

TRIAL_FILE = "trial.json"
CONFIG_FIELDS = frozenset(f.name for f in dataclasses.fields(experiment.TrainConfig))


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``search`` sub-command."""
    p = add_command(sub, "search", run_search)
    add_model_option(p)
    p.add_argument(
        "--grid",
        action="append",
        required=True,
        metavar="KEY=V1,V2,...",
        help="values to try for a training option (lr, batch_size, weight_decay, optimizer, "
        "epochs, ...) or a model argument (e.g. hidden_dim); repeatable",
    )
    p.add_argument("--random", type=int, default=None, metavar="N", help="try N random grid points")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="trials in parallel")
    p.add_argument(
        "--backend",
        default="local",
        choices=("local", "ray"),
        help="where the trials run: local processes, or Ray Tune (cnnlab[ray]); the same "
        "trials, table and resume either way",
    )
    p.add_argument(
        "--address", default=None, help="with --backend ray: the Ray cluster to join (HOST:PORT)"
    )
    p.add_argument("--data", default=None, help="as for cnnlab train")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--num-train", type=int, default=None)
    p.add_argument("--num-val", type=int, default=None)
    p.add_argument("--num-test", type=int, default=None)
    p.add_argument("--patience", type=int, default=None)
    p.add_argument("--check-every", type=int, default=None, metavar="K")
    p.add_argument("--set", dest="model_kwargs", action="append", default=[], metavar="KEY=JSON")
    add_seed_option(p)
    p.add_argument("--out", default=None, help="search folder (default searches/<model>-<time>)")
    add_quiet_option(p)


def parse_grid(items: list[str]) -> dict[str, list[Any]]:
    """Parse ``KEY=V1,V2,...`` items into a list of values per key.

    ``["lr=0.01,0.05", "optimizer=sgd,adam"]`` -> ``{"lr": [0.01, 0.05], ...}`` (each value read as
    JSON where it parses, else kept as text). Commas inside brackets belong to the value:
    ``"widths=[16,16,32],[32,32,64]"`` gives two lists.

    Raises:
        ValueError: an item without ``=``, a repeated key, an empty list or unbalanced brackets.
    """
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key or not values.strip():
            raise ValueError(f"--grid expects KEY=V1,V2,..., got {item!r}")
        if key in grid:
            raise ValueError(f"--grid: {key!r} is given twice")
        grid[key] = [_value(v.strip()) for v in _split_values(item, values)]
    return grid


def _split_values(item: str, values: str) -> list[str]:
    """``values`` cut at the commas outside brackets (``item`` names it in errors)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(values):
        depth += (char in "[{") - (char in "]}")
        if depth < 0:
            break
        if char == "," and depth == 0:
            parts.append(values[start:i])
            start = i + 1
    if depth != 0:
        raise ValueError(f"--grid: unbalanced brackets in {item!r}")
    return [*parts, values[start:]]


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def trial_config(base: dict[str, Any], point: dict[str, Any]) -> experiment.TrainConfig:
    """The TrainConfig of one grid point.

    Keys that are TrainConfig fields replace those fields; the other keys become model arguments.
    """
    values = dict(base, model_kwargs=dict(base["model_kwargs"]))
    for key, value in point.items():
        if key in CONFIG_FIELDS and key != "model_kwargs":
            values[key] = value
        else:
            values["model_kwargs"][key] = value
    return experiment.TrainConfig(**values)


@dataclass
class ExperimentTrial:
    """A picklable trial for :mod:`cnnlab.training.tuning`: one training run per grid point.

    Trials are numbered in the order the search defines them (``index`` in the point), so a
    rerun finds each finished trial's ``trial.json`` and returns it instead of training.
    """

    base: dict[str, Any]
    root: str

    def __call__(self, point: dict[str, Any], seed: int) -> dict[str, Any]:
        """Train the grid point ``point`` with ``seed`` in its trial folder, or reuse its record.

        A trial that was interrupted is resumed from its checkpoint; a diverged or failed trial
        is recorded with its reason as status and a NaN ``val_acc``.

        Args:
            point: the grid point's values, with the trial's ``index`` (taken out here).
            seed: the trial's seed, given to the TrainConfig.

        Returns:
            The trial's record: ``config``, ``seed``, ``status``, ``val_acc`` and ``seconds``.

        Raises:
            ValueError: the trial folder holds the record of another config.
        """
        point = dict(point)
        folder = Path(self.root) / "trials" / f"{point.pop('index'):03d}"
        record_path = folder / TRIAL_FILE
        if record_path.is_file():
            record = runs.read_json(record_path)
            if record["config"] != json.loads(json.dumps(point)):
                raise ValueError(
                    f"search: {folder} holds a trial of {record['config']}, not {point}; "
                    "give a new --out for a different grid"
                )
            return record
        cfg = dataclasses.replace(trial_config(self.base, point), seed=seed)
        resume = (folder / runs.CHECKPOINT_FILE).is_file()
        start = time.perf_counter()
        try:
            result = experiment.train(cfg, folder, resume=resume, verbose=False, test=False)
            status = "interrupted" if result.interrupted else "ok"
            val_acc = result.val_acc
        except TrainingDiverged as err:
            status, val_acc = f"diverged: {' '.join(str(err).split())}", math.nan
        except (ValueError, OSError, MemoryError, RuntimeError) as err:
            status, val_acc = f"failed: {' '.join(str(err).split())}", math.nan
        record = {
            "config": point,
            "seed": seed,
            "status": status,
            "val_acc": val_acc,
            "seconds": time.perf_counter() - start,
        }
        if status != "interrupted":  # an interrupted trial is resumed by the next run
            folder.mkdir(parents=True, exist_ok=True)
            runs.write_json(record_path, record)
        return record


def grid_points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, in order, each with its ``index``."""
    names = list(grid)
    combos = itertools.product(*(grid[name] for name in names))
    return [{"index": i, **dict(zip(names, combo, strict=True))} for i, combo in enumerate(combos)]


def pick_points(points: list[dict[str, Any]], n: int | None, seed: int) -> list[dict[str, Any]]:
    """All ``points`` (n None) or ``n`` of them drawn without replacement (seeded), in order.

    Raises:
        ValueError: n below 1 or above the number of points.
    """
    if n is None:
        return points
    if not 1 <= n <= len(points):
        raise ValueError(f"--random must be from 1 to the grid's {len(points)} points, got {n}")
    chosen = np.random.default_rng(seed).choice(len(points), size=n, replace=False)
    return [points[i] for i in sorted(chosen)]


def run_search(args: argparse.Namespace) -> int:
    """Search training options over a grid; test only the winner.

    Each grid point (or --random N of them) is trained as `cnnlab train` would, in
    OUT/trials/NNN; OUT/results.csv and OUT/val_acc.png give every trial's validation
    accuracy (failed and diverged trials included, marked so), OUT/search.json the winner
    and its test accuracy. The same command again resumes an interrupted search.
    """
    from cnnlab.training.tuning import run_trials
    from cnnlab.viz.search import plot_search

    grid = parse_grid(args.grid)
    out = Path(args.out or f"searches/{args.model}-{time.strftime('%Y%m%d-%H%M%S')}")
    base = dataclasses.asdict(
        experiment.TrainConfig(
            model=args.model,
            model_kwargs=_parse_kwargs(args.model_kwargs),
            data=args.data,
            epochs=args.epochs,
            patience=args.patience,
            check_every=args.check_every,
            seed=args.seed,
            num_val=args.num_val,
            num_train=args.num_train,
            num_test=args.num_test,
        )
    )
    points = pick_points(grid_points(grid), args.random, args.seed)
    for point in points:  # every configuration is checked before anything runs
        trial_config(base, {k: v for k, v in point.items() if k != "index"}).resolved()
    backend = None
    if args.backend == "ray":
        from functools import partial

        from cnnlab.distributed.ray_tune import run_on_ray

        backend = partial(run_on_ray, address=args.address, max_concurrent=max(args.jobs, 0))
    elif args.address is not None:
        raise ValueError("--address is for --backend ray")
    result = run_trials(ExperimentTrial(base, str(out)), points, args.seed, args.jobs, backend)
    rows = [
        {
            "trial": trial.config["index"],
            **{key: trial.config[key] for key in grid},
            "status": trial.result["status"],
            "val_acc": trial.result["val_acc"],
            "seconds": trial.result["seconds"],
        }
        for trial in result.trials
    ]
    runs.write_text(out / "results.csv", _csv(rows))
    plot_search(rows, list(grid), path=out / "val_acc.png")
    winner = out / "trials" / f"{result.best.config['index']:03d}"
    test = experiment.evaluate(winner)
    summary = {
        "grid": grid,
        "best": {key: result.best.config[key] for key in grid},
        "best_trial": str(winner),
        "val_acc": result.best.val_acc,
        "test_acc": test["accuracy"],
        "test_data": test["source"],
        "trials": len(rows),
        "failed": sum(row["status"] != "ok" for row in rows),
    }
    runs.write_json(out / "search.json", summary)
    if not args.quiet:
        for row in rows:
            print(", ".join(f"{k}={v}" for k, v in row.items() if k != "seconds"))
    print(
        f"best {summary['best']}: validation accuracy {summary['val_acc']:.4f}, "
        f"test accuracy {summary['test_acc']:.4f}"
    )
    print(f"search folder: {out} (results.csv, val_acc.png, search.json)")
    return 0


def _csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
