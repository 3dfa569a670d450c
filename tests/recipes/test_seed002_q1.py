"""Seed 002 question 1's recipes (cnnlab.recipes.seed002_q1) in tiny mode."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnlab.autoencoder import SparseAutoencoder
from cnnlab.cli import main
from cnnlab.recipes import seed002_q1


def test_part_d_is_the_seeds_six_settings(tmp_path):
    results = seed002_q1.part_d_sweep(tmp_path, tiny=True, seed=0)
    pairs = [(r["hidden"], r["lambda"]) for r in results["runs"]]
    assert pairs == [(10, 5e-4), (60, 5e-4), (100, 5e-4), (64, 0.0), (64, 1e-4), (64, 1e-3)]
    for hidden, lam in pairs:
        tag = f"h{hidden}_lam{lam:g}"
        model = SparseAutoencoder.load(tmp_path / f"weights_{tag}.npz")
        assert model.W1.shape == (64, hidden) and model.lam == lam
        assert (tmp_path / f"hidden_weights_{tag}.png").is_file()
    for figure in ("sweep_reconstructions.png", "cost.png"):
        assert (tmp_path / figure).read_bytes()[:4] == b"\x89PNG"
    assert all(r["final_cost"] > 0 and r["test_mse"] > 0 for r in results["runs"])


def test_twin_costs_agree_to_rounding(tmp_path):
    pytest.importorskip("torch")
    results = seed002_q1.framework_twin(tmp_path, tiny=True, seed=2)
    initial, final = results["initial_cost"], results["final_cost"]
    assert initial["cnnlab"] == pytest.approx(initial["torch"], rel=1e-12)
    assert results["max_cost_difference"] < 1e-12 * initial["cnnlab"]
    assert results["max_weight_difference"] < 1e-12
    assert final["cnnlab"] < initial["cnnlab"]
    errors = results["patch_squared_error"]
    assert errors["cnnlab"] == pytest.approx(errors["PyTorch"], rel=1e-10)
    assert (tmp_path / "twin.png").read_bytes()[:4] == b"\x89PNG"


def test_twin_from_the_command_line(tmp_path, capsys):
    pytest.importorskip("torch")
    out = tmp_path / "twin"
    assert main(["recipe", "run", "seed002-q1-twin", "--tiny", "--out", str(out)]) == 0
    record = json.loads((out / "recipe.json").read_text())
    assert record["name"] == "seed002-q1-twin" and record["tiny"] is True
    assert "0.9373" in record["seed_figure"]
    assert np.isfinite(record["results"]["final_cost"]["torch"])
    assert f"recipe seed002-q1-twin: wrote {out}/" in capsys.readouterr().out
