"""Seed 003's recipes (cnnlab.recipes.seed003) in tiny mode, and their full-size settings."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnlab import experiment
from cnnlab.metrics import confidence_cases
from cnnlab.recipes import run_recipe, seed003
from cnnlab.saving import load

PNG = b"\x89PNG\r\n\x1a\n"


def test_full_size_is_the_practicals_setting():
    cfg = seed003.practical_config(batchnorm=True).resolved()
    assert (cfg.model, cfg.epochs, cfg.batch_size, cfg.optimizer, cfg.lr) == (
        "mini_alexnet",
        10,
        128,
        "adam",
        1e-3,
    )
    assert (cfg.num_train, cfg.num_val, cfg.val_split, cfg.data) == (
        40000,
        10000,
        "last",
        "cifar10",
    )
    assert cfg.model_kwargs == {"batchnorm": True}
    assert seed003.practical_config(False, seed=3).model_kwargs == {"batchnorm": False}
    assert seed003.practical_config(False, seed=3).seed == 3


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    out = tmp_path_factory.mktemp("seed003") / "bn"
    return out, run_recipe("seed003-batchnorm", out, tiny=True, seed=1)


def test_batchnorm_comparison_writes_both_runs_and_the_figure(comparison):
    out, record = comparison
    assert (out / "comparison.png").read_bytes()[:8] == PNG
    assert json.loads((out / "recipe.json").read_text()) == record
    for name in ("plain", "batchnorm"):
        for figure in ("confidence_cases", "filters_conv1", "filters_conv2", "graph"):
            assert (out / name / f"{figure}.png").read_bytes()[:8] == PNG
        results = record["results"][name]
        saved = json.loads((out / name / "results.json").read_text())
        assert results["test_acc"] == saved["test_acc"] and results["val_acc"] == saved["val_acc"]
    assert "bn1" not in (out / "plain" / "summary.txt").read_text()
    assert "bn1 (BatchNorm2d)" in (out / "batchnorm" / "summary.txt").read_text()


def test_confidence_table_is_the_models_test_predictions(comparison):
    out, record = comparison
    model = load(out / "batchnorm")
    data = experiment.load_data(seed003.practical_config(True, tiny=True, seed=1).resolved())
    probs = model.predict_proba(data.X_test)
    cases = confidence_cases(probs, data.y_test, seed003.PER_CASE)
    table = record["results"]["batchnorm"]["confidence_cases"]
    assert {k: [row["index"] for row in v] for k, v in table.items()} == {
        k: v.tolist() for k, v in cases.items()
    }
    for rows in table.values():
        for row in rows:
            i = row["index"]
            assert row["probability"] == pytest.approx(probs[i].max(), rel=1e-12)
            assert row["loss"] == pytest.approx(-np.log(probs[i, data.y_test[i]]), rel=1e-12)
            assert row["true"] == data.class_names[data.y_test[i]]


def test_a_recipe_cut_after_its_first_run_resumes_and_gives_the_same_figures(comparison, tmp_path):
    """Lose the record and the second run, as a kill during the second run would: the run
    again resumes the first (nothing to train) and retrains the second from its seed."""
    import shutil

    out, record = comparison
    cut = tmp_path / "cut"
    shutil.copytree(out, cut)
    (cut / "recipe.json").unlink()
    shutil.rmtree(cut / "batchnorm")
    again = run_recipe("seed003-batchnorm", cut, tiny=True, seed=1)
    for name in ("plain", "batchnorm"):
        for key in ("val_acc", "test_acc", "train_acc", "confidence_cases"):
            assert again["results"][name][key] == record["results"][name][key], (name, key)
