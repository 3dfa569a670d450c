"""``cnnlab train --check-every K``: checks recorded in history.json, the stop in results.json."""

from __future__ import annotations

import json

from cnnlab.cli import main


def test_train_with_checks_records_them_and_the_stopping_point(tmp_path):
    out = tmp_path / "run"
    argv = ["train", "--data", "sample", "--model", "fc", "--set", "hidden_dims=[8]"]
    argv += ["--num-train", "100", "--batch-size", "10", "--epochs", "3", "--lr", "1e-3"]
    argv += ["--check-every", "3", "--patience", "2", "--out", str(out), "--no-report", "--quiet"]
    assert main(argv) == 0
    config = json.loads((out / "config.json").read_text())
    history = json.loads((out / "history.json").read_text())
    results = json.loads((out / "results.json").read_text())
    assert config["check_every"] == 3 and config["patience"] == 2
    iterations = len(history["loss_history"])
    assert history["check_iterations"] == list(range(3, iterations + 1, 3))
    assert len(history["check_val_acc"]) == len(history["check_iterations"])
    if results["stopped_early"]:  # patience ran out at a check: training ended right there
        assert results["stopped_at"] == iterations == history["check_iterations"][-1]
    else:
        assert results["stopped_at"] is None and iterations == 30
    assert results["val_acc"] == max([history["val_acc_history"][0], *history["check_val_acc"]])
