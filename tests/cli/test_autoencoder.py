"""``cnnlab autoencoder`` and the autoencoder figures (cnnlab.cli.autoencoder, cnnlab.viz)."""

from __future__ import annotations

import argparse
import json

import h5py
import numpy as np
import pytest
from PIL import Image

from cnnlab.autoencoder import SparseAutoencoder
from cnnlab.cli import autoencoder
from cnnlab.filters import filter_summary
from cnnlab.viz.autoencoder import grid_columns, hidden_weight_mosaic, tile_images

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cnnlab")
    autoencoder.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["autoencoder", *argv])
    return args.func(args)


def assert_png(path) -> None:
    assert path.read_bytes()[:8] == PNG_MAGIC


def test_command_writes_its_files(tmp_path):
    out = tmp_path / "run"
    assert (
        run_cli(
            [
                "--patches",
                "150",
                "--patch-size",
                "6",
                "--hidden",
                "5",
                "--iters",
                "4",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    for name in ("hidden_weights.png", "reconstructions.png", "patches.png", "cost.png"):
        assert_png(out / name)
    results = json.loads((out / "results.json").read_text())
    assert results["num_patches"] == 150 and results["hidden"] == 5
    assert results["source"] == "skimage photos" and results["optimizer"] == "lbfgs"
    assert results["iterations"] <= 4 and results["seconds"] > 0
    assert results["final_cost"] < results["initial_cost"]
    model = SparseAutoencoder.load(out / "weights.npz")
    assert model.W1.shape == (36, 5)
    assert model.cost_history[-1] == results["final_cost"]
    assert results["filters"] == filter_summary(model.W1.T.reshape(5, 6, 6))


def test_command_reads_h5_and_trains_with_gd(tmp_path, rng):
    h5 = tmp_path / "assign3_data1.h5"
    with h5py.File(h5, "w") as f:
        f["data"] = rng.random((60, 3, 4, 4))
    out = tmp_path / "run"
    assert (
        run_cli(
            [
                "--h5",
                str(h5),
                "--hidden",
                "3",
                "--optimizer",
                "gd",
                "--iters",
                "3",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    results = json.loads((out / "results.json").read_text())
    assert results["num_patches"] == 60 and results["patch_size"] == 4
    assert results["lr"] == 0.35 and results["iterations"] == 3
    assert results["source"].startswith("h5:")


def test_sweep_writes_one_figure_per_setting(tmp_path):
    out = tmp_path / "sweep"
    assert (
        run_cli(
            [
                "--sweep",
                "--patches",
                "80",
                "--patch-size",
                "4",
                "--iters",
                "2",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    results = json.loads((out / "results.json").read_text())
    settings = {(r["hidden"], r["lambda"]) for r in results["sweep"]}
    # part D: three hidden sizes at lambda 5e-4, three lambdas at 64 hidden units
    assert settings == {(10, 5e-4), (60, 5e-4), (100, 5e-4), (64, 0.0), (64, 1e-4), (64, 1e-3)}
    for h, lam in settings:
        assert_png(out / f"hidden_weights_h{h}_lam{lam:g}.png")
        assert SparseAutoencoder.load(out / f"weights_h{h}_lam{lam:g}.npz").Lhid == h
    assert_png(out / "sweep_reconstructions.png")


def test_command_whitens_a_folder_of_images(tmp_path, rng):
    folder = tmp_path / "photos"
    folder.mkdir()
    for k in range(3):
        Image.fromarray((rng.random((24, 20, 3)) * 255).astype(np.uint8)).save(folder / f"{k}.png")
    out = tmp_path / "run"
    assert (
        run_cli(
            [
                "--source",
                str(folder),
                "--whiten",
                "--patches",
                "120",
                "--patch-size",
                "5",
                "--hidden",
                "4",
                "--iters",
                "3",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    for name in ("hidden_weights.png", "reconstructions.png", "patches.png", "cost.png"):
        assert_png(out / name)
    results = json.loads((out / "results.json").read_text())
    assert results["source"] == f"images:{folder}, whitened"
    assert results["num_patches"] == 120 and results["patch_size"] == 5


def test_whiten_needs_images_not_h5(tmp_path):
    with pytest.raises(ValueError, match="autoencoder: --whiten works on images"):
        run_cli(["--h5", str(tmp_path / "x.h5"), "--whiten", "--out", str(tmp_path)])


def test_bad_patch_count_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="autoencoder: --patches must be positive"):
        run_cli(["--patches", "0", "--out", str(tmp_path)])


def test_hidden_weight_mosaic_normalises_each_unit():
    W1 = np.zeros((4, 3))
    W1[:, 0] = [1, -2, 0, 0.5]  # max |w| = 2
    W1[:, 1] = [0.01, 0, 0, 0]  # tiny unit still fills the scale
    mosaic = hidden_weight_mosaic(W1, cols=3)
    assert mosaic.shape == (2, 2 * 3 + 2)
    np.testing.assert_array_equal(mosaic[:, 0:2], [[0.5, -1.0], [0.0, 0.25]])
    np.testing.assert_array_equal(mosaic[:, 3:5], [[1.0, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(mosaic[:, 6:8], 0.0)  # an all-zero unit stays zero
    np.testing.assert_array_equal(mosaic[:, [2, 5]], -1.0)  # padding


def test_tile_images_keeps_values_and_fills_the_rest():
    images = np.arange(5 * 2 * 3, dtype=float).reshape(5, 2, 3)
    grid = tile_images(images, cols=2, pad=1, fill=-7.0)
    assert grid.shape == (3 * 3 - 1, 2 * 4 - 1)
    np.testing.assert_array_equal(grid[3:5, 4:7], images[3])
    np.testing.assert_array_equal(grid[6:8, 4:7], -7.0)


@pytest.mark.parametrize(("n", "cols"), [(10, 5), (25, 5), (60, 10), (64, 8), (100, 10), (7, 3)])
def test_grid_columns_prefers_full_grids(n, cols):
    assert grid_columns(n) == cols
