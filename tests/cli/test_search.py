"""``cnnlab search``: the results table and figure, failed trials recorded, resuming."""

from __future__ import annotations

import csv
import json
import math

import pytest

from cnnlab import experiment
from cnnlab.cli import main
from cnnlab.cli.search import grid_points, parse_grid, pick_points

BASE = ["search", "--model", "fc", "--set", "hidden_dims=[6]", "--data", "sample"]
BASE += ["--num-train", "60", "--num-val", "20", "--quiet"]


@pytest.fixture
def counted(monkeypatch):
    """Counts the training runs of the search."""
    calls = []
    real = experiment.train

    def train(cfg, out, **kwargs):
        calls.append(str(out))
        return real(cfg, out, **kwargs)

    monkeypatch.setattr(experiment, "train", train)
    return calls


def read_rows(out):
    with open(out / "results.csv") as f:
        return list(csv.DictReader(f))


def test_a_diverging_trial_is_recorded_and_the_winner_alone_is_tested(tmp_path, counted):
    out = tmp_path / "s"
    argv = [*BASE, "--grid", "lr=1e-3,1e300", "--grid", "optimizer=sgd", "--grid", "batch_size=10"]
    argv += ["--out", str(out)]
    assert main(argv) == 0
    rows = read_rows(out)
    assert [(float(r["lr"]), r["optimizer"]) for r in rows] == [(1e-3, "sgd"), (1e300, "sgd")]
    assert rows[0]["status"] == "ok" and rows[1]["status"].startswith("diverged")
    assert math.isnan(float(rows[1]["val_acc"]))
    summary = json.loads((out / "search.json").read_text())
    assert (
        summary["best"] == {"lr": 0.001, "optimizer": "sgd", "batch_size": 10}
        and summary["failed"] == 1
    )
    assert 0 <= summary["test_acc"] <= 1 and (out / "val_acc.png").stat().st_size > 0
    assert not (out / "trials" / "000" / "results.json").exists()  # trials never see the test


def test_rerunning_resumes_without_training_finished_trials(tmp_path, counted):
    out = tmp_path / "s"
    argv = [*BASE, "--grid", "lr=1e-3,1e-2", "--grid", "batch_size=10,20", "--out", str(out)]
    assert main(argv) == 0 and len(counted) == 4
    before = read_rows(out)
    (out / "trials" / "002" / "trial.json").unlink()  # as if the search died in trial 2
    assert main(argv) == 0
    assert counted[4:] == [str(out / "trials" / "002")]
    assert read_rows(out)[:2] == before[:2]


def test_a_different_grid_in_the_same_folder_is_refused(tmp_path):
    out = tmp_path / "s"
    assert main([*BASE, "--grid", "lr=1e-3", "--out", str(out)]) == 0
    assert main([*BASE, "--grid", "lr=1e-2", "--out", str(out)]) == 1


def test_grid_parsing_and_random_points():
    grid = parse_grid(["lr=0.01,0.05", "optimizer=sgd,adam", "hidden_dim=[5],[7]"])
    assert grid == {"lr": [0.01, 0.05], "optimizer": ["sgd", "adam"], "hidden_dim": [[5], [7]]}
    points = grid_points(grid)
    assert len(points) == 8
    assert points[5] == {"index": 5, "lr": 0.05, "optimizer": "sgd", "hidden_dim": [7]}
    chosen = pick_points(points, 3, seed=1)
    assert len(chosen) == 3 and chosen == pick_points(points, 3, seed=1)
    assert [p["index"] for p in chosen] == sorted(p["index"] for p in chosen)
    with pytest.raises(ValueError, match="--random must be from 1 to the grid's 8 points"):
        pick_points(points, 9, seed=0)
    with pytest.raises(ValueError, match="--grid expects KEY=V1,V2"):
        parse_grid(["lr"])
    with pytest.raises(ValueError, match="'lr' is given twice"):
        parse_grid(["lr=1", "lr=2"])


def test_grid_values_may_be_lists_with_commas():
    grid = parse_grid(["widths=[16,16,32],[32, 32, 64]", 'kw={"a":1,"b":2},x'])
    assert grid == {"widths": [[16, 16, 32], [32, 32, 64]], "kw": [{"a": 1, "b": 2}, "x"]}
    for bad in ("widths=[16,16", "widths=16],[3"):
        with pytest.raises(ValueError, match=r"--grid: unbalanced brackets in 'widths="):
            parse_grid([bad])


def test_failed_trials_are_kept_but_never_chosen():
    from cnnlab.training.tuning import SearchResult, Trial

    trials = [Trial({"x": 0}, 0, {"val_acc": math.nan}), Trial({"x": 1}, 1, {"val_acc": 0.2})]
    result = SearchResult(trials)
    assert result.best is trials[1] and len(result.trials) == 2
    with pytest.raises(ValueError, match="tuning: none of the 1 trials reached"):
        SearchResult(trials[:1])
