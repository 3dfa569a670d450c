"""The run folder's files (cnnlab.runs): JSON, metrics CSV, model file."""

from __future__ import annotations

import csv
import json
import math
import os

import numpy as np
import pytest

from cnnlab import runs
from cnnlab.training.checkpoint import save_checkpoint


def _replace_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the final rename of every atomic write fail, as a crash at that moment would."""

    def boom(src, dst):
        raise OSError("simulated crash before the rename")

    monkeypatch.setattr(os, "replace", boom)


def test_write_json_round_trip_with_numpy_values(tmp_path):
    obj = {
        "acc": np.float64(0.25),
        "n": np.int64(7),
        "arr": np.arange(3),
        "path": tmp_path,
        "nested": {"names": ["a", "b"], "none": None},
    }
    path = runs.write_json(tmp_path / "sub" / "x.json", obj)
    assert path == tmp_path / "sub" / "x.json"
    back = runs.read_json(path)
    assert back == {
        "acc": 0.25,
        "n": 7,
        "arr": [0, 1, 2],
        "path": str(tmp_path),
        "nested": {"names": ["a", "b"], "none": None},
    }
    assert json.loads(path.read_text()) == back


def test_write_json_rejects_unknown_objects_and_leaves_file(tmp_path):
    path = runs.write_json(tmp_path / "x.json", {"a": 1})
    with pytest.raises(TypeError, match="cannot write object as JSON"):
        runs.write_json(path, {"a": object()})
    assert runs.read_json(path) == {"a": 1}
    assert sorted(os.listdir(tmp_path)) == ["x.json"]


@pytest.mark.parametrize("writer", ["json", "metrics", "text"])
def test_writes_are_atomic(tmp_path, monkeypatch, writer):
    path = tmp_path / "f"
    path.write_text("old content")
    _replace_fails(monkeypatch)
    write = {
        "json": lambda: runs.write_json(path, {"new": True}),
        "metrics": lambda: runs.write_metrics(path, [{"epoch": 1}]),
        "text": lambda: runs.write_text(path, "new content"),
    }[writer]
    with pytest.raises(OSError, match="simulated crash"):
        write()
    assert path.read_text() == "old content"
    assert os.listdir(tmp_path) == ["f"]  # no temporary file left behind


def test_read_json_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.json does not exist"):
        runs.read_json(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=r"bad\.json is not valid JSON"):
        runs.read_json(bad)


def test_write_metrics_header_rows_and_extra_keys(tmp_path):
    rows = [
        {
            "epoch": 1,
            "loss": 2.5,
            "train_acc": 0.1,
            "val_acc": 0.2,
            "lr": 1e-3,
            "seconds": 1.5,
            "extra": "ignored",
        },
        {"epoch": 2, "loss": 1.25, "train_acc": 0.3, "val_acc": 0.4, "lr": 5e-4, "seconds": 2.0},
    ]
    path = runs.write_metrics(tmp_path / "metrics.csv", rows)
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch,loss,train_acc,val_acc,lr,seconds"
    with open(path, newline="") as f:
        back = list(csv.DictReader(f))
    assert len(back) == 2
    for row, original in zip(back, rows, strict=True):
        assert set(row) == set(runs.METRIC_FIELDS)
        for key in runs.METRIC_FIELDS:
            assert math.isclose(float(row[key]), original[key], rel_tol=1e-15)


def test_write_metrics_with_no_rows_is_just_the_header(tmp_path):
    path = runs.write_metrics(tmp_path / "m.csv", [])
    assert path.read_text().splitlines() == [",".join(runs.METRIC_FIELDS)]


def _model_file(tmp_path, rng):
    state = {
        "W1": rng.standard_normal((4, 3, 3, 3)).astype(np.float32),
        "bn.running_mean": rng.standard_normal(4),
    }
    prep = {"mean": rng.standard_normal((3, 1, 1)), "std": np.full((3, 1, 1), 2.0)}
    path = runs.save_model(
        tmp_path / "model.npz", state, "three_layer", {"hidden_dim": 7}, (3, 8, 8), prep, ["a", "b"]
    )
    return path, state, prep


def test_save_model_load_model_file_round_trip(tmp_path, rng):
    path, state, prep = _model_file(tmp_path, rng)
    meta, state_back, prep_back = runs.load_model_file(path)
    assert meta == {
        "format": runs.MODEL_FORMAT,
        "model": "three_layer",
        "model_kwargs": {"hidden_dim": 7},
        "input_shape": [3, 8, 8],
        "class_names": ["a", "b"],
    }
    for saved, loaded in ((state, state_back), (prep, prep_back)):
        assert set(loaded) == set(saved)
        for key, value in saved.items():
            assert loaded[key].dtype == value.dtype
            np.testing.assert_array_equal(loaded[key], value)


def test_solver_checkpoint_is_not_a_model_file(tmp_path):
    ckpt = save_checkpoint(
        tmp_path / "checkpoint.npz", {"model/W1": np.zeros(2)}, {"format": "cnnlab.solver/1"}
    )
    with pytest.raises(ValueError, match=r"not a cnnlab model file \(format 'cnnlab.solver/1'"):
        runs.load_model_file(ckpt)


def test_model_path(tmp_path, rng):
    path, _, _ = _model_file(tmp_path, rng)
    assert runs.model_path(tmp_path) == path
    assert runs.model_path(path) == path
    assert runs.model_path(str(path)) == path
    with pytest.raises(FileNotFoundError, match=r"missing\.npz does not exist: give a run folder"):
        runs.model_path(tmp_path / "missing.npz")
    empty = tmp_path / "empty_run"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match=r"empty_run/model\.npz does not exist"):
        runs.model_path(empty)
