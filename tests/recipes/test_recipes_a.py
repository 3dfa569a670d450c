"""Smoke runs (--tiny) of seed 004's and the TensorFlow notebook's recipes."""

from __future__ import annotations

import json

import pytest

from cnnlab import recipes
from cnnlab.cli import main

NAMES = [
    "seed004-early-stopping",
    "seed004-grid-search",
    "seed000-barebones-three-layer",
    "seed000-two-layer-fc",
    "seed000-sequential",
    "seed002-q2-challenge",
]


@pytest.mark.parametrize("name", NAMES)
def test_tiny_run_writes_its_record(name, tmp_path, capsys):
    assert main(["recipe", "run", name, "--tiny", "--out", str(tmp_path)]) == 0
    record = json.loads((tmp_path / "recipe.json").read_text())
    assert record["name"] == name and record["tiny"] is True
    results = record["results"]
    runs = results.values() if name == "seed004-early-stopping" else [results]
    for run in runs:
        assert 0 <= run.get("test_acc", run.get("winner_test_acc")) <= 1


def test_early_stopping_run_stops_at_a_check_and_marks_it(tmp_path):
    results = recipes.seed004.early_stopping(tmp_path, tiny=True)
    stopped, full = results["early_stopping"], results["all_iterations"]
    assert full["stopped_at"] is None and full["iterations"] == recipes.seed004.TINY.iterations
    if stopped["stopped_at"] is not None:
        assert stopped["stopped_at"] == stopped["iterations"] == max(stopped["checks"])
    # the stopped run is the full run's prefix (same seed): the same checks up to the stop
    assert list(stopped["checks"].items()) == list(full["checks"].items())[: len(stopped["checks"])]
    assert (tmp_path / "curves.png").is_file() and (
        tmp_path / "curves_early_stopping.png"
    ).is_file()


def test_grid_search_tests_only_its_best_point(tmp_path):
    from cnnlab.recipes import seed004

    results = seed004.grid_search(tmp_path, tiny=True)
    grid = results["grid"]
    assert [(row["lr"], row["widths"]) for row in grid] == [
        (lr, str(list(w))) for lr in seed004.TINY_LRS for w in seed004.TINY_WIDTHS
    ]
    best = max(grid, key=lambda row: row["val_acc"])
    assert results["winner"] == {"lr": best["lr"], "widths": best["widths"]}
    assert results["winner_val_acc"] == best["val_acc"]
    # the winner retrained from the same seed reproduces its test accuracy
    data = seed004.cropped_data(seed004.TINY)
    widths = json.loads(best["widths"])
    again = seed004.train_spatial_sum(
        data, seed004.TINY, 0, seed004.TINY.patience, lr=best["lr"], widths=widths
    )
    assert seed004.centre_crop_accuracy(again.model, data) == results["winner_test_acc"]
    for figure in ("val_acc.png", "curves_winner.png"):
        assert (tmp_path / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
