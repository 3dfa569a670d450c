"""The run report (cnnlab.report): self-contained HTML, key numbers, escaping, missing pieces,
figures, the CLI, and a real headless-Chromium check of the page."""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnlab.data.cifar10 import CLASSES
from cnnlab.data.sample import load_sample
from cnnlab.report import RUN_FILES, load_run, write_figures, write_report
from cnnlab.training.checkpoint import save_checkpoint
from tests.browser import open_in_chromium

VAL_ACC, TEST_ACC = 0.6234, 0.6180  # shown as "62.34 %" and "61.80 %"


def make_run(
    root: Path,
    name: str = "run-1",
    *,
    class_names=CLASSES,
    omit=(),
    model: str = "three_layer_convnet",
) -> Path:
    """A run folder as ``cnnlab train`` writes it (contract in the common brief), from the
    bundled CIFAR-10 sample images and made-up training numbers."""
    rng = np.random.default_rng(1)
    run = root / name
    run.mkdir(parents=True)
    k, epochs, iters = len(class_names), 4, 160
    config = {
        "model": {"name": model, "kwargs": {"num_filters": 32, "filter_size": 7}},
        "data": "cifar10 sample",
        "seed": 0,
        "train": {
            "epochs": epochs,
            "batch_size": 50,
            "update_rule": "adam",
            "lr": 1e-3,
            "lr_decay": 0.95,
        },
    }
    loss = 2.3 * np.exp(-np.arange(iters) / 80) + 0.6 + 0.15 * rng.standard_normal(iters)
    history = {
        "loss_history": loss.tolist(),
        "train_acc_history": [0.31, 0.45, 0.58, 0.66],
        "val_acc_history": [0.30, 0.44, 0.61, VAL_ACC],
        "lr_history": [1e-3 * 0.95**e for e in range(epochs)],
    }
    y_true = np.repeat(np.arange(k), 100)
    y_pred = np.where(rng.random(y_true.size) < 0.62, y_true, rng.integers(0, k, y_true.size))
    confusion = np.zeros((k, k), dtype=int)
    np.add.at(confusion, (y_true, y_pred), 1)
    results = {
        "val_acc": VAL_ACC,
        "test_acc": TEST_ACC,
        "class_names": list(class_names),
        "per_class_acc": (np.diag(confusion) / confusion.sum(1)).tolist(),
        "confusion": confusion.tolist(),
        "wall_time_s": 754.2,
    }
    summary = (
        "Layer (type)         Output shape      Param #\n"
        "conv (Conv2d)        (N, 32, 32, 32)     4,736\n"
        "relu (ReLU)          (N, 32, 32, 32)         0\n"
        "pool (MaxPool2d)     (N, 32, 16, 16)         0\n"
        "fc1 (Linear)         (N, 100)          819,300\n"
        "fc2 (Linear)         (N, 10)             1,010\n"
        "Total params: 825,046\n"
    )
    _, _, x_test, y_test = load_sample()
    logits = rng.standard_normal((25, k)) * 2
    logits[np.arange(25), y_test[:25] % k] += 2.5
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    files = {
        "config.json": lambda p: p.write_text(json.dumps(config)),
        "history.json": lambda p: p.write_text(json.dumps(history)),
        "metrics.csv": lambda p: p.write_text(
            "epoch,loss,train_acc,val_acc,lr,seconds\n"
            + "".join(
                f"{e + 1},{loss[(e + 1) * 40 - 1]:.4f},{history['train_acc_history'][e]},"
                f"{history['val_acc_history'][e]},{history['lr_history'][e]:.6g},188.55\n"
                for e in range(epochs)
            )
        ),
        "results.json": lambda p: p.write_text(json.dumps(results)),
        "summary.txt": lambda p: p.write_text(summary),
        "checkpoint.npz": lambda p: save_checkpoint(
            p,
            {
                "conv.weight": smooth_filters(rng),
                "conv.bias": np.zeros(32),
                "fc1.weight": rng.standard_normal((8192, 100))[:64],
            },
            {"epoch": epochs},
        ),
        "samples.npz": lambda p: np.savez(
            p, images=x_test[:25], y_true=y_test[:25] % k, y_pred=probs.argmax(1), probs=probs
        ),
    }
    for file, write in files.items():
        if file not in omit:
            write(run / file)
    return run


def smooth_filters(rng: np.random.Generator) -> np.ndarray:
    """(32, 3, 7, 7) oriented colour gratings, like trained first-layer filters."""
    yy, xx = np.mgrid[-3:4, -3:4]
    angles = rng.uniform(0, np.pi, 32)
    waves = np.cos(np.cos(angles)[:, None, None] * xx + np.sin(angles)[:, None, None] * yy)
    colours = rng.standard_normal((32, 3, 1, 1))
    return waves[:, None] * colours * np.exp(-(xx**2 + yy**2) / 8)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return make_run(tmp_path)


def img_sources(page: str) -> list[str]:
    return re.findall(r'<img\b[^>]*\bsrc="([^"]*)"', page)


def test_report_is_self_contained_and_has_the_key_numbers(run_dir: Path) -> None:
    path = write_report(run_dir)
    assert path == run_dir / "report.html"
    page = path.read_text(encoding="utf-8")
    # every figure is embedded: curves, confusion, per-class, filters, predictions, examples,
    # confidence cases
    sources = img_sources(page)
    assert len(sources) == 7
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert not re.search(r'(src|href)\s*=\s*["\']?\s*(https?:)?//', page, re.I)
    assert not re.search(r"<(script|link|iframe|object|embed)\b", page, re.I)
    assert "@import" not in page and "url(" not in page
    for text in (
        "62.34 %",
        "61.80 %",
        "12m 34s",
        "three_layer_convnet",
        "Total params:",
        "update_rule",
        "adam",
        "airplane",
        "truck",
    ):
        assert text in page, text


def test_report_escapes_strings_from_the_run(tmp_path: Path) -> None:
    evil = "<script>alert('x')</script>"
    names = [f"cls{k}&<b>" for k in range(9)] + [evil]
    run = make_run(tmp_path, name="a<b>&c", class_names=names, model=evil, omit=("samples.npz",))
    page = write_report(run).read_text(encoding="utf-8")
    assert "<script" not in page and "&<b>" not in page and "a<b>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "cls3&amp;&lt;b&gt;" in page
    assert "a&lt;b&gt;&amp;c" in page


@pytest.mark.parametrize("missing", RUN_FILES)
def test_report_survives_each_missing_file(tmp_path: Path, missing: str) -> None:
    run = make_run(tmp_path, omit=(missing,))
    page = write_report(run).read_text(encoding="utf-8")
    if missing == "checkpoint.npz":
        assert "neither model.npz nor checkpoint.npz is in the run folder" in page
    else:
        assert f"{missing} is not in the run folder" in page
    assert "</html>" in page


def test_report_with_only_results_and_a_corrupt_history(tmp_path: Path) -> None:
    run = make_run(tmp_path, omit=tuple(f for f in RUN_FILES if f != "results.json"))
    (run / "history.json").write_text("{not json")
    page = write_report(run).read_text(encoding="utf-8")
    assert "history.json could not be read" in page
    assert "62.34 %" in page
    assert len(img_sources(page)) == 2  # the confusion matrix and the per-class bars


def test_best_epoch_counts_the_check_before_training(tmp_path: Path) -> None:
    # CS231n's Solver records accuracies before training as well: 5 values for 4 epochs
    run = make_run(tmp_path)
    history = json.loads((run / "history.json").read_text())
    history["val_acc_history"] = [0.05, 0.30, 0.44, 0.71, 0.62]
    (run / "history.json").write_text(json.dumps(history))
    page = write_report(run).read_text(encoding="utf-8")
    assert re.search(
        r"Best val accuracy</div><div class=\"value\">71.00 %</div>"
        r"<div class=\"detail\">epoch 3</div>",
        page,
    )


def test_malformed_class_results_are_notes(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    results = json.loads((run / "results.json").read_text())
    results["confusion"] = [[1, 2], [3]]
    results["per_class_acc"] = [0.5] * 9
    (run / "results.json").write_text(json.dumps(results))
    page = write_report(run).read_text(encoding="utf-8")
    assert "confusion is not a K x K array for the 10 classes" in page
    assert "per_class_acc is not a K array for the 10 classes" in page
    assert "61.80 %" in page
    assert len(img_sources(page)) == 5  # curves, filters and the three sample figures


def test_malformed_history_series_are_notes(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    history = json.loads((run / "history.json").read_text())
    history["val_acc_history"] = 0.5
    history["loss_history"] = [1.0, "x"]
    (run / "history.json").write_text(json.dumps(history))
    page = write_report(run).read_text(encoding="utf-8")
    assert "history.json: loss_history, val_acc_history not a list of numbers" in page
    assert "Best val accuracy" not in page and "Train accuracy" in page


def test_checkpoint_without_rgb_filters_is_a_note(tmp_path: Path) -> None:
    run = make_run(tmp_path, omit=("checkpoint.npz",))
    save_checkpoint(
        run / "checkpoint.npz", {"optim/w/m": np.ones((4, 3, 3, 3)), "w": np.ones((4, 5, 3, 3))}, {}
    )
    assert load_run(run).filters is None
    page = write_report(run).read_text(encoding="utf-8")
    assert "checkpoint.npz: no 4-D weight array with 1 or 3 input channels" in page


def test_first_layer_filters_come_from_the_checkpoint(run_dir: Path) -> None:
    run = load_run(run_dir)
    assert run.filters.shape == (32, 3, 7, 7)
    assert run.notes == {}


def test_model_file_is_preferred_to_the_checkpoint(run_dir: Path) -> None:
    weights = np.arange(2 * 1 * 3 * 3, dtype=float).reshape(2, 1, 3, 3)
    save_checkpoint(run_dir / "model.npz", {"state/conv.weight": weights}, {})
    np.testing.assert_array_equal(load_run(run_dir).filters, weights)


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_report(tmp_path / "nope")
    with pytest.raises(ValueError, match="not a run folder"):
        write_report(tmp_path)


def test_write_figures(run_dir: Path) -> None:
    paths = write_figures(run_dir)
    assert sorted(p.name for p in paths) == sorted(
        [
            "curves.png",
            "confusion.png",
            "per_class.png",
            "filters.png",
            "predictions.png",
            "confusion_images.png",
            "confidence_cases.png",
        ]
    )
    for path in paths:
        assert path.parent == run_dir / "figures"
        with Image.open(path) as image:
            assert np.asarray(image.convert("L"), dtype=float).std() > 5


def test_cli_commands(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cnnlab.cli import report as cli_report

    parser = argparse.ArgumentParser(prog="cnnlab")
    cli_report.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["report", str(run_dir)])
    assert args.func(args) == 0
    assert str(run_dir / "report.html") in capsys.readouterr().out
    args = parser.parse_args(["figures", str(run_dir)])
    assert args.func(args) == 0
    assert (run_dir / "figures" / "curves.png").is_file()
    assert "curves.png" in capsys.readouterr().out


# --- the page in a real browser --------------------------------------------------------------
@pytest.mark.slow
def test_report_in_headless_chromium(run_dir: Path, tmp_path: Path) -> None:
    page = write_report(run_dir)
    shot = tmp_path / "report.png"
    report = open_in_chromium(page.resolve().as_uri(), shot)
    assert report["title"] == "run-1 - cnnlab report"
    assert len(report["images"]) == 7
    for image in report["images"]:
        assert image["complete"] and image["width"] > 0, image
        assert image["src"] == "data:image/png;base64,"
    assert report["console"] == []
    with Image.open(shot) as screenshot:
        assert screenshot.width == 1280 and screenshot.height == report["height"] > 2000
        assert np.asarray(screenshot.convert("L"), dtype=float).std() > 20
    keep = os.environ.get("CNNLAB_REPORT_SCREENSHOT")
    if keep:
        shutil.copyfile(shot, keep)


@pytest.mark.parametrize("source", ["results.json", "config.json"])
def test_header_names_the_bundled_sample_and_its_split(tmp_path: Path, source: str) -> None:
    run = make_run(tmp_path, omit=("results.json",) if source == "config.json" else ())
    config = {"model": "three_layer", "data": "sample", "num_train": 450, "num_val": 50}
    (run / "config.json").write_text(json.dumps({**config, "num_test": 100}))
    if source == "results.json":  # what cnnlab train writes there wins over config.json
        results = json.loads((run / "results.json").read_text())
        results["data"] = "bundled sample (450/50/100)"
        (run / "results.json").write_text(json.dumps(results))
        (run / "config.json").write_text(json.dumps({**config, "num_test": 7}))
    page = write_report(run).read_text(encoding="utf-8")
    assert "data: <b>bundled sample (450/50/100)</b>" in page
