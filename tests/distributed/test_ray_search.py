"""cnnlab search --backend ray: the same trials and table as the local search."""

import csv

import pytest

from cnnlab.cli import main

ray = pytest.importorskip("ray")
pytest.importorskip("ray.tune")

SEARCH = ["search", "--model", "fc", "--set", "hidden_dims=[6]", "--data", "sample"]
SEARCH += ["--num-train", "60", "--num-val", "20", "--num-test", "20", "--quiet"]
SEARCH += ["--grid", "lr=1e-3,1e-2", "--grid", "batch_size=10,20"]


def table(out):
    """results.csv without the seconds each trial took."""
    with open(out / "results.csv") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def test_a_2x2_grid_on_ray_gives_the_table_of_the_local_search(tmp_path, capsys):
    assert main([*SEARCH, "--out", str(tmp_path / "local")]) == 0
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)  # slow to start: once
    try:
        assert main([*SEARCH, "--out", str(tmp_path / "ray"), "--backend", "ray"]) == 0
        on_ray = table(tmp_path / "ray")
        assert len(on_ray) == 4 and all(row["status"] == "ok" for row in on_ray)
        assert on_ray == table(tmp_path / "local")
        # resuming: the finished trials are read back, not trained again
        before = (tmp_path / "ray" / "trials" / "000" / "trial.json").stat().st_mtime_ns
        assert main([*SEARCH, "--out", str(tmp_path / "ray"), "--backend", "ray"]) == 0
        after = (tmp_path / "ray" / "trials" / "000" / "trial.json").stat().st_mtime_ns
        assert before == after and table(tmp_path / "ray") == on_ray
    finally:
        ray.shutdown()
