"""The seeds' experiments by name: ``cnnlab recipe list`` / ``cnnlab recipe run NAME``.

A recipe is one experiment of a seed (a table row, a figure, a comparison) as one function,
``fn(out, tiny=False, seed=0) -> dict``: it writes its files (figures, weights, tables) into the
folder ``out`` and returns its measured figures as a JSON-serialisable dict. ``tiny=True``
shrinks the data and the iterations so that the whole recipe runs in seconds (the smoke tests
and ``--tiny``); the figures it then measures mean nothing.

:data:`RECIPES` maps each name to a :class:`Recipe`: the function, a one-line description and
the seed's own figure as text, to read beside the measured one. The recipes of seed NNN live in
``recipes/seedNNN*.py``, one module per seed (or per seed question); their modules import the
heavy parts (data, PyTorch) inside the functions, so that listing the recipes is quick.
:func:`run_recipe` runs one and records it in ``out/recipe.json``; asked again for the same
folder, name, size and seed, it returns that record instead of training again (as ``make`` does),
so that a notebook and the command line can share one long run.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from cnnlab._io import atomic_open
from cnnlab.recipes import seed000, seed002_q1, seed003, seed004

#: The record of a finished recipe run, in its output folder.
RECORD_FILE = "recipe.json"


class Recipe(NamedTuple):
    """One named experiment.

    Attributes:
        fn: ``fn(out: Path, tiny: bool = False, seed: int = 0) -> dict`` runs it.
        description: one line, what it does.
        seed_figure: what the seed reports (or expects) for it, as text.
    """

    fn: Callable[..., dict[str, Any]]
    description: str
    seed_figure: str


RECIPES: dict[str, Recipe] = {
    "seed002-q1-sweep": Recipe(
        seed002_q1.part_d_sweep,
        "Sparse autoencoder part D: Lhid 10/60/100 at lambda 5e-4, lambda 0/1e-4/1e-3 at Lhid 64",
        "weight grids (figures 11-16) and one test patch through each net (figures 17-23); "
        "no numbers: more units learn more distinct patterns, a larger lambda smoother weights",
    ),
    "seed002-q1-twin": Recipe(
        seed002_q1.framework_twin,
        "Sparse autoencoder part B: cnnlab and PyTorch from one start, 5000 GD steps at 0.35",
        "initial cost 3.3389 in both; after 5000 epochs 0.9373 (own aeCost) and 1.0525 (Keras)",
    ),
    "seed003-alexnet": Recipe(
        seed003.alexnet,
        "The Keras practical's MiniAlexNet: 10 epochs Adam, last 10,000 training images validate",
        "about 80 % training and about 67 % test accuracy",
    ),
    "seed003-batchnorm": Recipe(
        seed003.batchnorm_comparison,
        "The practical's task 2: MiniAlexNet without and with batch norm, same seed and settings",
        "batch norm should improve generalisation (no number given; without it about 67 % test)",
    ),
    "seed004-early-stopping": Recipe(
        seed004.early_stopping,
        "Seed 004 3.2.1: the spatial-sum CIFAR net, SGD 0.05, 1000 iterations, checks every 50",
        "loss and validation-accuracy curves; test accuracy with early stopping (no number given)",
    ),
    "seed004-grid-search": Recipe(
        seed004.grid_search,
        "Seed 004 3.2.2: learning rate 0.02/0.05/0.1 x widths 16-16-32/32-32-64, early stopping",
        "the winner's test accuracy (no number given; the default 0.05, 16-16-32 is the baseline)",
    ),
    "seed000-barebones-three-layer": Recipe(
        seed000.barebones_three_layer,
        "TF notebook part II: barebones three-layer ConvNet, plain SGD 3e-3, one epoch",
        "at least 43 % validation accuracy after one epoch",
    ),
    "seed000-two-layer-fc": Recipe(
        seed000.barebones_two_layer_fc,
        "TF notebook part II: barebones two-layer FC net (4000 hidden), plain SGD 1e-2, one epoch",
        "44.6 % validation accuracy (seed 002)",
    ),
    "seed000-sequential": Recipe(
        seed000.keras_sequential,
        "TF notebook part IV: Sequential three-layer ConvNet, Nesterov 0.9 at 5e-4, one epoch",
        "at least 45 % after one epoch (seed 002: 50.2 %)",
    ),
    "seed002-q2-challenge": Recipe(
        seed000.challenge,
        "Seed 002 q2 part V: conv-BN-ELU-pool challenge network, Adam 5e-4, batch 64, 10 epochs",
        "69.4 % best validation accuracy (epoch 9)",
    ),
}


def get(name: str) -> Recipe:
    """The recipe called ``name``.

    Raises:
        ValueError: no recipe has that name (the message lists them).
    """
    try:
        return RECIPES[name]
    except KeyError:
        known = ", ".join(sorted(RECIPES)) or "none"
        raise ValueError(f"recipe: unknown recipe {name!r}; known: {known}") from None


def run_recipe(
    name: str, out: str | os.PathLike, tiny: bool = False, seed: int = 0
) -> dict[str, Any]:
    """Run the recipe ``name`` into the folder ``out`` and record it in ``out/recipe.json``.

    A folder whose recipe.json already records this recipe with the same ``tiny`` and ``seed``
    is not run again: its record is returned (a finished run is reused, not repeated). An
    interrupted recipe leaves no recipe.json; run again, its training runs resume from their
    checkpoints.

    Args:
        name: a key of :data:`RECIPES`.
        out: the output folder (created if missing).
        tiny: the seconds-long smoke version.
        seed: the random seed handed to the recipe.

    Returns:
        The record written to recipe.json: name, description, seed_figure, tiny, seed, seconds
        and ``results`` (the recipe's own dict).

    Raises:
        ValueError: unknown name, or ``out`` holds another recipe's (or another setting's) record.
    """
    recipe = get(name)
    folder = Path(out)
    done = finished_record(folder)
    if done is not None:
        if (done.get("name"), done.get("tiny"), done.get("seed")) == (name, tiny, seed):
            return done
        raise ValueError(
            f"recipe: {folder} already holds recipe {done.get('name')!r} (tiny={done.get('tiny')}, "
            f"seed={done.get('seed')}); give another folder or remove it"
        )
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    results = recipe.fn(folder, tiny=tiny, seed=seed)
    record = {
        "name": name,
        "description": recipe.description,
        "seed_figure": recipe.seed_figure,
        "tiny": tiny,
        "seed": seed,
        "seconds": time.perf_counter() - start,
        "results": results,
    }
    with atomic_open(folder / RECORD_FILE) as f:
        f.write(json.dumps(record, indent=2).encode())
    return record


def finished_record(folder: Path) -> dict[str, Any] | None:
    """The recipe.json in ``folder`` as a dict, or None when there is none.

    Raises:
        ValueError: the file is not a JSON object.
    """
    path = folder / RECORD_FILE
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(
            f"recipe: {path} is not valid JSON ({err}); remove it to run again"
        ) from None
    if not isinstance(record, dict):
        raise ValueError(f"recipe: {path} is not a recipe record; remove it to run again")
    return record
