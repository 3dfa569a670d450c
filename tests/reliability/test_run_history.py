"""A run folder's metrics.csv and history.json come from the checkpoint: a row lost to a kill
between the two writes comes back on resume, and older checkpoints keep their rows."""

from __future__ import annotations

import csv
import json

from cnnlab.experiment import TrainConfig, train
from cnnlab.training.checkpoint import load_checkpoint, save_checkpoint

CFG = dict(
    model="fc", model_kwargs={"hidden_dims": [16]}, data="sample", num_train=60, num_val=20,
    num_test=20, batch_size=20,
)  # fmt: skip


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_a_lost_metrics_row_is_rebuilt_from_the_checkpoint(tmp_path):
    out = tmp_path / "run"
    train(TrainConfig(**CFG, epochs=2), out, verbose=False)
    whole, history = rows(out / "metrics.csv"), json.loads((out / "history.json").read_text())
    assert [r["epoch"] for r in whole] == ["1", "2"]
    lines = (out / "metrics.csv").read_text().splitlines(keepends=True)
    (out / "metrics.csv").write_text("".join(lines[:-1]))  # killed before the row was written
    (out / "history.json").write_text("{}")
    train(TrainConfig(**CFG, epochs=2), out, resume=True, verbose=False)
    assert rows(out / "metrics.csv") == whole
    assert json.loads((out / "history.json").read_text()) == history


def test_a_checkpoint_without_metrics_keeps_the_rows_of_its_csv(tmp_path):
    out = tmp_path / "run"
    train(TrainConfig(**CFG, epochs=2), out, verbose=False)
    first = rows(out / "metrics.csv")
    arrays, meta = load_checkpoint(out / "checkpoint.npz")
    del meta["metrics"]  # as checkpoints were written before they held the rows
    save_checkpoint(out / "checkpoint.npz", arrays, meta)
    train(TrainConfig(**CFG, epochs=3), out, resume=True, verbose=False)
    got = rows(out / "metrics.csv")
    assert got[:2] == first and [r["epoch"] for r in got] == ["1", "2", "3"]
