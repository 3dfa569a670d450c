"""``cnnlab knn-regions`` and ``cnnlab knn`` (with a tiny stand-in for the CIFAR-10 loader)."""

from __future__ import annotations

import argparse
import json
import sys
import types

import numpy as np
import pytest
from PIL import Image

from cnnlab.cli import knn as knn_cli


def parse(argv):
    parser = argparse.ArgumentParser(prog="cnnlab")
    knn_cli.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def run(argv):
    args = parse(argv)
    return args.func(args)


@pytest.fixture
def fake_cifar(monkeypatch):
    """Install a stand-in ``cnnlab.data.cifar10`` whose loader returns 3 separable classes of
    4x4x3 images (each class a flat grey level plus small noise); records the sources asked."""
    rng = np.random.default_rng(1)

    def make(n):
        y = np.arange(n) % 3
        X = 40 + 80 * y[:, None, None, None] + rng.integers(0, 10, size=(n, 4, 4, 3))
        return X.astype(np.uint8), y.astype(np.int64)

    X_train, y_train = make(150)
    X_test, y_test = make(30)
    calls = []

    def load_cifar10_raw(source=None):
        calls.append(source)
        return X_train, y_train, X_test, y_test

    module = types.ModuleType("cnnlab.data.cifar10")
    module.load_cifar10_raw = load_cifar10_raw
    monkeypatch.setitem(sys.modules, "cnnlab.data.cifar10", module)
    return calls


def test_knn_regions_default_points(tmp_path, capsys):
    out = tmp_path / "figs" / "r.png"
    assert run(["knn-regions", "--k", "3", "--resolution", "80", "--out", str(out)]) == 0
    img = np.asarray(Image.open(out).convert("RGB"))
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 20
    assert "7 points, k=3" in capsys.readouterr().out


def test_knn_regions_points_from_csv(tmp_path):
    csv = tmp_path / "pts.csv"
    csv.write_text("x,y,label\n0,0,1\n1,0,2\n\n0,1,1\n1,1,2\n")
    assert run(["knn-regions", "--points", str(csv), "--out", str(tmp_path / "a.png")]) == 0
    points, labels = knn_cli.read_points(csv)
    np.testing.assert_array_equal(points, [[0, 0], [1, 0], [0, 1], [1, 1]])
    np.testing.assert_array_equal(labels, [1, 2, 1, 2])
    assert labels.dtype.kind == "i"
    csv.write_text("1,3,+\n-3,-1.5,-\n")  # no header, +/- labels
    np.testing.assert_array_equal(knn_cli.read_points(csv)[1], ["+", "-"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x,y,label\n0,0\n", r"pts.csv:2: expected 3 columns"),
        ("0,0,+\nabc,1,-\n", r"pts.csv:2: x and y must be numbers"),
        ("x,y,label\n", r"pts.csv: no points found"),
    ],
)
def test_knn_regions_bad_csv(tmp_path, text, message):
    csv = tmp_path / "pts.csv"
    csv.write_text(text)
    with pytest.raises(ValueError, match=message):
        run(["knn-regions", "--points", str(csv), "--out", str(tmp_path / "a.png")])


def test_knn_prints_and_writes_accuracy_per_k(tmp_path, fake_cifar, capsys):
    out = tmp_path / "res"
    argv = ["knn", "--train", "60", "--test", "20", "--k", "1", "3", "--out", str(out)]
    assert run(argv) == 0
    assert fake_cifar == [None]  # --data cifar10 (the default) lets the loader search
    result = json.loads((out / "knn.json").read_text())
    assert result["test_accuracy"] == {"1": 1.0, "3": 1.0}  # the classes are separable
    assert result["train"] == 60 and result["test"] == 20
    printed = capsys.readouterr().out
    assert "k =   1: test accuracy 1.0000 (20/20)" in printed
    assert not (out / "knn_accuracy_vs_k.png").exists()


def test_knn_cv_writes_plot_and_json(tmp_path, fake_cifar, capsys):
    out = tmp_path / "cv"
    argv = [
        "knn",
        "--data",
        "/some/copy",
        "--train",
        "50",
        "--test",
        "10",
        "--k",
        "1",
        "2",
        "5",
        "--cv",
        "--folds",
        "5",
        "--seed",
        "3",
        "--out",
        str(out),
    ]
    assert run(argv) == 0
    assert fake_cifar == ["/some/copy"]
    result = json.loads((out / "knn.json").read_text())
    cv = result["cv"]
    assert cv["folds"] == 5 and cv["best_k"] in (1, 2, 5)
    assert set(cv["accuracies"]) == {"1", "2", "5"}
    assert all(len(v) == 5 for v in cv["accuracies"].values())
    assert cv["accuracies"]["1"] == [1.0] * 5
    assert list(result["test_accuracy"]) == [str(cv["best_k"])]
    img = np.asarray(Image.open(out / "knn_accuracy_vs_k.png").convert("RGB"))
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 20
    assert f"best k = {cv['best_k']}" in capsys.readouterr().out


def test_knn_default_cv_ks(fake_cifar, capsys):
    # 150 images in 3 folds leave 100 for training: enough for the largest default k.
    assert run(["knn", "--train", "150", "--test", "5", "--cv", "--folds", "3"]) == 0
    table = capsys.readouterr().out
    for k in (1, 3, 5, 8, 10, 12, 15, 20, 50, 100):
        assert f"\n{k:5d}  " in table


def test_knn_errors(fake_cifar):
    with pytest.raises(ValueError, match=r"knn: --train must be in 1\.\.150 .*got 151"):
        run(["knn", "--train", "151"])
    with pytest.raises(ValueError, match=r"knn: --test must be in 1\.\.30 .*got 0"):
        run(["knn", "--train", "10", "--test", "0"])
    with pytest.raises(ValueError, match=r"knn: --folds must be at least 2"):
        run(["knn", "--cv", "--folds", "1"])
    with pytest.raises(ValueError, match=r"cross_validate_k: every k must be in 1\.\.8"):
        run(["knn", "--train", "10", "--test", "5", "--cv", "--k", "9"])
