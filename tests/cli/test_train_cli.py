"""``cnnlab train``, ``evaluate`` and ``predict`` end to end on the bundled CIFAR-10 sample.

Every run is tiny (100 training images, a 4-filter ThreeLayerConvNet with 20 hidden units) so
that a training takes well under a second.
"""

from __future__ import annotations

import csv
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnlab.cli import main
from cnnlab.data.cifar10 import CLASSES
from cnnlab.training.checkpoint import load_checkpoint
from cnnlab.training.solver import Solver

NUM_TEST = 40
TINY = [
    "--data",
    "sample",
    "--num-train",
    "100",
    "--num-test",
    str(NUM_TEST),
    "--batch-size",
    "25",
    "--set",
    "hidden_dim=20",
    "--set",
    "num_filters=4",
    "--quiet",
]
RUN_FILES = (
    "config.json",
    "history.json",
    "metrics.csv",
    "checkpoint.npz",
    "model.npz",
    "results.json",
    "summary.txt",
    "samples.npz",
)


def train(out: Path, *extra: str, report: bool = False) -> int:
    """``cnnlab train`` with the tiny settings into ``out``; returns the exit code."""
    return main(["train", *TINY, "--out", str(out), *extra, *([] if report else ["--no-report"])])


def arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def metrics_rows(run: Path) -> list[dict[str, str]]:
    with open(run / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """One finished 1-epoch run, shared by the read-only tests."""
    out = tmp_path_factory.mktemp("runs") / "one"
    assert train(out) == 0
    return out


# ------------------------------------------------------------------------- train: run folder
def test_train_writes_every_file_of_the_run_folder(run_dir):
    assert all((run_dir / name).is_file() for name in RUN_FILES)
    config = json.loads((run_dir / "config.json").read_text())
    assert config["model"] == "three_layer" and config["data"] == "sample"
    assert config["model_kwargs"]["hidden_dim"] == 20 and config["model_kwargs"]["num_filters"] == 4
    assert config["epochs"] == 1 and config["batch_size"] == 25 and config["seed"] == 0

    rows = metrics_rows(run_dir)
    assert (run_dir / "metrics.csv").read_text().splitlines()[0] == (
        "epoch,loss,train_acc,val_acc,lr,seconds"
    )
    assert len(rows) == 1 and rows[0]["epoch"] == "1"

    history = json.loads((run_dir / "history.json").read_text())
    assert len(history["loss_history"]) == 100 // 25  # one entry per iteration
    assert len(history["val_acc_history"]) == 2  # before training and after epoch 1
    assert float(rows[0]["loss"]) == pytest.approx(np.mean(history["loss_history"]), rel=1e-12)

    results = json.loads((run_dir / "results.json").read_text())
    assert 0 <= results["val_acc"] <= 1 and 0 <= results["test_acc"] <= 1
    assert results["class_names"] == list(CLASSES)
    assert len(results["per_class_acc"]) == 10
    confusion = np.array(results["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == NUM_TEST
    assert results["test_acc"] == pytest.approx(np.trace(confusion) / NUM_TEST, abs=1e-15)

    assert "Total params" in (run_dir / "summary.txt").read_text()
    samples = arrays(run_dir / "samples.npz")
    assert samples["images"].shape == (25, 32, 32, 3) and samples["images"].dtype == np.uint8
    assert samples["probs"].shape == (25, 10)
    np.testing.assert_allclose(samples["probs"].sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(samples["y_pred"], samples["probs"].argmax(axis=1))
    model = arrays(run_dir / "model.npz")
    assert model["state/W1"].shape == (4, 3, 7, 7)  # the --set kwargs reached the model


def test_results_test_acc_equals_evaluate_from_model_file(run_dir, capsys):
    capsys.readouterr()
    assert main(["evaluate", str(run_dir / "model.npz"), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    results = json.loads((run_dir / "results.json").read_text())
    assert evaluated["accuracy"] == results["test_acc"]
    assert evaluated["confusion"] == results["confusion"]
    assert evaluated["per_class_acc"] == results["per_class_acc"]


def test_train_prints_progress_and_summary_line(tmp_path, capsys):
    argv = [a for a in TINY if a != "--quiet"]
    assert main(["train", *argv, "--out", str(tmp_path / "r"), "--no-report"]) == 0
    out = capsys.readouterr().out
    assert "(Epoch 1 / 1)" in out
    assert "validation accuracy" in out and "test accuracy" in out
    assert f"run folder: {tmp_path / 'r'}" in out


def test_train_writes_the_report(tmp_path, capsys):
    assert train(tmp_path / "r", report=True) == 0
    report = tmp_path / "r" / "report.html"
    assert report.is_file() and "<html" in report.read_text().lower()
    assert f"report: {report}" in capsys.readouterr().out


# ------------------------------------------------------------------------- reproducibility
def test_same_seed_same_model_different_seed_different(run_dir, tmp_path):
    assert train(tmp_path / "again") == 0
    assert train(tmp_path / "seed1", "--seed", "1") == 0
    first, again, other = (
        arrays(d / "model.npz") for d in (run_dir, tmp_path / "again", tmp_path / "seed1")
    )
    assert first.keys() == again.keys() == other.keys()
    for key in first:
        np.testing.assert_array_equal(again[key], first[key], err_msg=key)
    assert not np.array_equal(other["state/W1"], first["state/W1"])


# ------------------------------------------------------------------------- resume
def test_resume_equals_uninterrupted_run(tmp_path, monkeypatch):
    resumed, straight = tmp_path / "A", tmp_path / "B"
    assert train(resumed, "--epochs", "1") == 0
    steps = []
    original_step = Solver._step
    monkeypatch.setattr(
        Solver,
        "_step",
        lambda self, progress: (steps.append(self.t), original_step(self, progress)),
    )
    assert train(resumed, "--epochs", "2", "--resume") == 0
    assert steps == [4, 5, 6, 7]  # only the second epoch's iterations were run
    assert train(straight, "--epochs", "2") == 0
    a, b = arrays(resumed / "model.npz"), arrays(straight / "model.npz")
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    rows_a, rows_b = metrics_rows(resumed), metrics_rows(straight)
    assert [r["epoch"] for r in rows_a] == ["1", "2"]
    for ra, rb in zip(rows_a, rows_b, strict=True):
        assert {k: ra[k] for k in ("loss", "train_acc", "val_acc", "lr")} == {
            k: rb[k] for k in ("loss", "train_acc", "val_acc", "lr")
        }
    hist_a, hist_b = (json.loads((d / "history.json").read_text()) for d in (resumed, straight))
    assert hist_a == hist_b
    res_a, res_b = (json.loads((d / "results.json").read_text()) for d in (resumed, straight))
    assert res_a["test_acc"] == res_b["test_acc"] and res_a["epochs_run"] == 2


def test_interrupted_run_prints_a_resume_command_that_works(tmp_path, monkeypatch, capsys):
    interrupted, straight = tmp_path / "A", tmp_path / "B"
    original_step = Solver._step

    def step_until_ctrl_c(self, progress):
        if self.t == 6:  # in the middle of epoch 2 (4 iterations per epoch)
            raise KeyboardInterrupt
        original_step(self, progress)

    monkeypatch.setattr(Solver, "_step", step_until_ctrl_c)
    assert train(interrupted, "--epochs", "3", "--augment", "--lr", "2e-3") == 130
    monkeypatch.setattr(Solver, "_step", original_step)
    out = capsys.readouterr().out
    assert "Interrupted (KeyboardInterrupt); resume with: cnnlab train " in out
    command = shlex.split(out.split("resume with: ", 1)[1].splitlines()[0])
    assert command[-3:] == ["--out", str(interrupted), "--resume"]
    assert main([*command[1:], "--no-report", "--quiet"]) == 0
    assert train(straight, "--epochs", "3", "--augment", "--lr", "2e-3") == 0
    a, b = arrays(interrupted / "model.npz"), arrays(straight / "model.npz")
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    assert [r["val_acc"] for r in metrics_rows(interrupted)] == [
        r["val_acc"] for r in metrics_rows(straight)
    ]


def test_resume_takes_the_options_of_the_run(tmp_path, capsys):
    out = tmp_path / "r"
    tiny_fc = ["--model", "fc", "--set", "hidden_dims=[8]", "--lr", "2e-3", "--batch-size", "50"]
    assert main(["train", "--data", "sample", *tiny_fc, "--out", str(out), "--quiet"]) == 0
    before = json.loads((out / "config.json").read_text())
    # nothing but the folder and more epochs: the model, data and options come from config.json
    assert main(["train", "--out", str(out), "--resume", "--epochs", "2", "--quiet"]) == 0
    after = json.loads((out / "config.json").read_text())
    assert after == {**before, "epochs": 2}
    assert [r["epoch"] for r in metrics_rows(out)] == ["1", "2"]
    # the same options again are fine; another value is refused in one line, changing nothing
    assert main(["train", *tiny_fc, "--out", str(out), "--resume", "--epochs", "2"]) == 0
    files = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    assert main(["train", "--lr", "0.5", "--out", str(out), "--resume", "--epochs", "3"]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "lr=0.002" in err and "--lr 0.5" in err and "only --epochs may change" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == files


def test_elapsed_time_counts_every_segment(tmp_path, monkeypatch, capsys):
    out = tmp_path / "r"
    original_step = Solver._step
    slept = 0.1

    def slow_then_ctrl_c(self, progress):
        if self.t == 6:  # in the middle of epoch 2 (4 iterations per epoch)
            raise KeyboardInterrupt
        if self.t >= 4:  # the part of epoch 2 that its metrics row will not count
            time.sleep(slept)
        original_step(self, progress)

    monkeypatch.setattr(Solver, "_step", slow_then_ctrl_c)
    assert train(out, "--epochs", "2") == 130
    first = load_checkpoint(out / "checkpoint.npz")[1]["train_seconds"]
    assert first >= float(metrics_rows(out)[0]["seconds"]) + 2 * slept
    monkeypatch.setattr(Solver, "_step", original_step)
    capsys.readouterr()
    assert train(out, "--resume") == 0
    total = json.loads((out / "results.json").read_text())["train_seconds"]
    rows = [float(r["seconds"]) for r in metrics_rows(out)]
    assert total >= first + rows[1] and total >= sum(rows) + 2 * slept
    assert f"({total:.1f} s in all)" in capsys.readouterr().out


def test_an_existing_run_is_not_overwritten(run_dir, tmp_path, capsys):
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("config.json", "checkpoint.npz", "model.npz"):
        (copy / name).write_bytes((run_dir / name).read_bytes())
    before = {p.name: p.read_bytes() for p in copy.iterdir()}
    assert train(copy) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and str(copy) in err
    assert "--resume" in err and "another --out" in err and "--overwrite" in err
    assert {p.name: p.read_bytes() for p in copy.iterdir()} == before
    assert train(copy, "--overwrite", "--seed", "1") == 0
    assert (copy / "results.json").is_file() and (copy / "model.npz").read_bytes() != before[
        "model.npz"
    ]


def test_an_empty_existing_folder_is_used(tmp_path):
    (tmp_path / "empty").mkdir()
    assert train(tmp_path / "empty") == 0
    assert (tmp_path / "empty" / "results.json").is_file()


def test_a_folder_without_progress_is_used(run_dir, tmp_path):
    """What a run killed before its first checkpoint leaves: nothing to lose."""
    left = tmp_path / "left"
    left.mkdir()
    for name in ("config.json", "summary.txt"):
        (left / name).write_bytes((run_dir / name).read_bytes())
    assert train(left) == 0
    assert (left / "checkpoint.npz").is_file() and (left / "results.json").is_file()


def test_failed_resume_changes_nothing(run_dir, tmp_path, capsys):
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("config.json", "checkpoint.npz", "summary.txt"):
        (copy / name).write_bytes((run_dir / name).read_bytes())
    before = {p.name: p.read_bytes() for p in copy.iterdir()}
    assert train(copy, "--epochs", "2", "--resume", "--batch-size", "50") == 1
    assert "batch_size=25" in capsys.readouterr().err
    assert train(copy, "--epochs", "2", "--resume", "--set", "hidden_dim=30") == 1
    err = capsys.readouterr().err
    assert "cannot resume" in err and "'hidden_dim': 20" in err and "'hidden_dim': 30" in err
    assert {p.name: p.read_bytes() for p in copy.iterdir()} == before


def test_resume_with_another_model_names_both(run_dir, tmp_path, capsys):
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("config.json", "checkpoint.npz"):
        (copy / name).write_bytes((run_dir / name).read_bytes())
    code = main(["train", "--model", "fc", *TINY, "--out", str(copy), "--resume", "--no-report"])
    assert code == 1
    err = capsys.readouterr().err
    assert "cannot resume" in err and "'three_layer'" in err and "'fc'" in err
    assert json.loads((copy / "config.json").read_text())["model"] == "three_layer"


def test_resume_without_checkpoint(tmp_path, capsys):
    assert train(tmp_path / "nothing", "--resume") == 1
    err = capsys.readouterr().err
    assert "cannot resume" in err and str(tmp_path / "nothing" / "checkpoint.npz") in err


def test_resume_needs_out(capsys):
    assert main(["train", *TINY, "--resume", "--no-report"]) == 1
    assert "--resume needs --out" in capsys.readouterr().err


# ------------------------------------------------------------------------- other options
def test_augment_and_patience(tmp_path):
    out = tmp_path / "aug"
    # lr 1e-9: the validation accuracy cannot improve, so patience 1 stops after epoch 1
    assert train(out, "--augment", "--patience", "1", "--epochs", "3", "--lr", "1e-9") == 0
    config = json.loads((out / "config.json").read_text())
    assert config["augment"] is True and config["patience"] == 1
    results = json.loads((out / "results.json").read_text())
    assert results["stopped_early"] is True and results["epochs_run"] == 1
    assert len(metrics_rows(out)) == 1


def test_optimizer_schedule_and_preprocess_options(tmp_path):
    out = tmp_path / "sgd"
    assert (
        train(
            out,
            "--optimizer",
            "nesterov",
            "--lr",
            "0.01",
            "--schedule",
            "cosine",
            "--epochs",
            "2",
            "--preprocess",
            "channel",
            "--weight-decay",
            "0",
        )
        == 0
    )
    rows = metrics_rows(out)
    config = json.loads((out / "config.json").read_text())
    assert (config["optimizer"], config["schedule"], config["preprocess"]) == (
        "nesterov",
        "cosine",
        "channel",
    )
    lrs = [float(r["lr"]) for r in rows]
    assert lrs[0] < 0.01 and lrs[1] < lrs[0]  # cosine decay from the peak 0.01


def test_cifar10_falls_back_to_the_sample_with_a_notice(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("CNNLAB_DATA", str(empty))
    monkeypatch.setenv("HOME", str(empty))
    monkeypatch.chdir(tmp_path)
    argv = ["cifar10" if a == "sample" else a for a in TINY]
    assert main(["train", *argv, "--out", str(tmp_path / "r"), "--no-report"]) == 0
    err = capsys.readouterr().err
    assert "CIFAR-10 not found" in err and "sample" in err
    assert "download_cifar10" in err
    # each folder searched, by name and path, missing ones too
    assert f"$CNNLAB_DATA ({empty.resolve()})" in err
    assert f"../shared/data ({(tmp_path.parent / 'shared' / 'data').resolve()}, missing)" in err
    assert f"~/.cache/cnnlab ({(empty / '.cache' / 'cnnlab').resolve()}, missing)" in err
    # the run says what it used: the sample, 100/50/40
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert (config["data"], config["num_train"], config["num_val"], config["num_test"]) == (
        "sample",
        100,
        50,
        NUM_TEST,
    )
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    assert results["data"] == f"bundled sample (100/50/{NUM_TEST})"
    assert results["split"] == {"train": 100, "val": 50, "test": NUM_TEST}


def test_the_sample_run_says_so_everywhere(tmp_path, capsys):
    out = tmp_path / "r"
    argv = ["--data", "sample", "--model", "fc", "--set", "hidden_dims=[8]", "--quiet"]
    assert main(["train", *argv, "--out", str(out)]) == 0
    config = json.loads((out / "config.json").read_text())
    assert (config["data"], config["num_train"], config["num_val"], config["num_test"]) == (
        "sample",
        450,
        50,
        100,
    )
    results = json.loads((out / "results.json").read_text())
    assert results["split"] == {"train": 450, "val": 50, "test": 100}
    assert "data: <b>bundled sample (450/50/100)</b>" in (out / "report.html").read_text()
    capsys.readouterr()
    assert main(["evaluate", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "bundled sample (450/50/100)"


def test_num_val_is_honoured(tmp_path):
    assert train(tmp_path / "r", "--num-val", "300") == 0
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    assert results["split"] == {"train": 100, "val": 300, "test": NUM_TEST}
    assert json.loads((tmp_path / "r" / "config.json").read_text())["num_val"] == 300


def test_num_val_beyond_the_data_is_one_line(tmp_path, capsys):
    assert train(tmp_path / "r", "--num-val", "1000") == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "cnnlab train: error: num_train 100 + num_val 1000 = 1100 are too many: the bundled "
        "sample has 500 training images"
    ]
    assert not (tmp_path / "r").exists()


def test_data_from_an_image_folder(tmp_path, monkeypatch, rng, capsys):
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path / "cache"))  # the decoded-image cache
    tree = tmp_path / "pictures"
    for split, count in (("train", 10), ("test", 2)):
        for name in ("cat", "ship"):
            (tree / split / name).mkdir(parents=True)
            for i in range(count):
                pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(tree / split / name / f"{i}.png")
    out = tmp_path / "r"
    assert (
        main(
            [
                "train",
                "--data",
                str(tree),
                "--batch-size",
                "6",
                "--set",
                "hidden_dim=8",
                "--set",
                "num_filters=2",
                "--out",
                str(out),
                "--no-report",
                "--quiet",
            ]
        )
        == 0
    )
    results = json.loads((out / "results.json").read_text())
    confusion = np.array(results["confusion"])
    assert confusion.sum() == 4  # the 4 test images
    assert confusion[CLASSES.index("cat")].sum() == confusion[CLASSES.index("ship")].sum() == 2
    assert str(tree) in results["data"]
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss_history"]) == 3  # 18 training images (2 kept for validation) / 6
    (tree / "train" / "unicorn").mkdir()
    (tree / "train" / "cat" / "0.png").rename(tree / "train" / "unicorn" / "0.png")
    assert main(["train", "--data", str(tree), "--out", str(tmp_path / "r2"), "--quiet"]) == 1
    assert "'unicorn'" in capsys.readouterr().err


def test_missing_dataset_path(tmp_path, capsys):
    missing = tmp_path / "no_such_data"
    code = main(["train", "--data", str(missing), "--out", str(tmp_path / "r"), "--no-report"])
    assert code == 1
    err = capsys.readouterr().err
    assert str(missing) in err and "does not exist" in err
    assert "download_cifar10" in err  # says how to get the data
    assert not (tmp_path / "r").exists()  # no half-made run folder


def test_missing_mnist(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    code = main(
        [
            "train",
            "--model",
            "mnist",
            "--data",
            "mnist",
            "--out",
            str(tmp_path / "r"),
            "--no-report",
            "--quiet",
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "MNIST" in err and "not found" in err and "CNNLAB_DATA" in err
    assert str(tmp_path) in err or str(tmp_path.resolve()) in err  # where it looked


@pytest.mark.realdata
def test_mnist_trains(data_root, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_DATA", str(data_root))
    out = tmp_path / "mnist"
    assert (
        main(
            [
                "train",
                "--model",
                "mnist",
                "--data",
                "mnist",
                "--batch-size",
                "100",
                "--out",
                str(out),
                "--no-report",
                "--quiet",
            ]
        )
        == 0
    )
    results = json.loads((out / "results.json").read_text())
    assert results["class_names"] == [str(d) for d in range(10)]
    assert np.sum(results["confusion"]) == 1000  # the 10 % test part of the 10,000 digits
    assert results["test_acc"] > 0.5  # one epoch of 8,000 digits is far above chance (0.1)
    samples = arrays(out / "samples.npz")
    assert samples["images"].shape == (25, 28, 28, 3)


# ------------------------------------------------------------------------- argument errors
def test_unknown_model_lists_choices(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--model", "lenet"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'lenet'" in err
    assert all(name in err for name in ("three_layer", "resnet", "mini_alexnet", "allconv"))


@pytest.mark.parametrize(
    "option, value", [("--optimizer", "adagrad"), ("--schedule", "linear"), ("--preprocess", "zca")]
)
def test_bad_choice_values(option, value, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", option, value])
    assert exc.value.code == 2
    assert f"argument {option}: invalid choice: '{value}'" in capsys.readouterr().err


def test_unknown_model_argument(tmp_path, capsys):
    assert train(tmp_path / "r", "--set", "hidden_units=3") == 1
    err = capsys.readouterr().err
    assert "hidden_units" in err and "three_layer" in err


def test_malformed_set(tmp_path, capsys):
    assert train(tmp_path / "r", "--set", "hidden_dim") == 1
    assert "--set expects KEY=VALUE, got 'hidden_dim'" in capsys.readouterr().err


def test_schedule_with_lr_decay(tmp_path, capsys):
    assert train(tmp_path / "r", "--schedule", "step", "--lr-decay", "0.9") == 1
    assert "not both" in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--epochs", "0"], "epochs must be at least 1"),
        (["--lr", "-1"], "lr must be positive"),
        (["--num-train", "1000"], "num_train 1000 + num_val 50 = 1050 are too many"),
    ],
)
def test_out_of_range_values(tmp_path, capsys, extra, message):
    assert train(tmp_path / "r", *extra) == 1
    assert message in capsys.readouterr().err


# ------------------------------------------------------------------------- evaluate
def test_evaluate_prints_accuracy_classes_and_confusion(run_dir, capsys):
    capsys.readouterr()
    assert main(["evaluate", str(run_dir)]) == 0
    out = capsys.readouterr().out
    results = json.loads((run_dir / "results.json").read_text())
    assert f"test accuracy: {results['test_acc']:.4f}" in out
    assert "confusion matrix" in out
    lines = out.splitlines()
    matrix = lines[lines.index("confusion matrix (rows: true class, columns: predicted)") + 2 :]
    assert len(matrix) == 10
    for name, line, row in zip(CLASSES, matrix, results["confusion"], strict=True):
        assert line.split() == [name, *map(str, row)]
    for name, acc in zip(CLASSES, results["per_class_acc"], strict=True):
        assert f"  {name:<10}  {acc:.3f}" in lines


def test_evaluate_json(run_dir, capsys):
    capsys.readouterr()
    assert main(["evaluate", str(run_dir), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["class_names"] == list(CLASSES)
    assert np.sum(res["confusion"]) == NUM_TEST and len(res["per_class_acc"]) == 10


@pytest.mark.parametrize("command", [["evaluate"], ["predict"]])
def test_a_solver_checkpoint_is_the_model_at_that_point(run_dir, tmp_path, capsys, command):
    image = tmp_path / "x.png"
    Image.fromarray(np.zeros((32, 32, 3), dtype=np.uint8)).save(image)
    images = [str(image)] if command == ["predict"] else []
    assert main([*command, str(run_dir / "checkpoint.npz"), *images]) == 0
    lone = tmp_path / "elsewhere" / "checkpoint.npz"  # without the run's model_spec.npz
    lone.parent.mkdir()
    lone.write_bytes((run_dir / "checkpoint.npz").read_bytes())
    capsys.readouterr()
    assert main([*command, str(lone), *images]) == 1
    err = capsys.readouterr().err
    assert "is a Solver checkpoint" in err and "model_spec.npz" in err


def test_evaluate_missing_run(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nope")]) == 1
    assert "nope" in capsys.readouterr().err


# ------------------------------------------------------------------------- predict
@pytest.fixture
def images(tmp_path, rng) -> list[Path]:
    png = tmp_path / "big.png"
    Image.fromarray(rng.integers(0, 256, (50, 70, 3), dtype=np.uint8)).save(png)
    jpg = tmp_path / "gray.jpg"
    Image.fromarray(rng.integers(0, 256, (20, 17), dtype=np.uint8), mode="L").save(jpg)
    return [png, jpg]


def test_predict_top3(run_dir, images, capsys):
    capsys.readouterr()
    assert main(["predict", str(run_dir), *map(str, images)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for path, line in zip(images, lines, strict=True):
        prefix, _, rest = line.partition(": ")
        assert prefix == str(path)
        parts = [p.rsplit(" ", 1) for p in rest.split(", ")]
        assert len(parts) == 3
        names, probs = [n for n, _ in parts], [float(p) for _, p in parts]
        assert set(names) <= set(CLASSES) and len(set(names)) == 3
        assert probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1.5e-3  # 3 decimals
        assert all(0 <= p <= 1 for p in probs)


def test_predict_unreadable_image(run_dir, tmp_path, capsys):
    bad = tmp_path / "notes.png"
    bad.write_text("this is not an image")
    assert main(["predict", str(run_dir), str(bad)]) == 1
    err = capsys.readouterr().err
    assert "cannot read" in err and str(bad) in err


def test_predict_missing_image(run_dir, tmp_path, capsys):
    missing = tmp_path / "missing.jpg"
    assert main(["predict", str(run_dir), str(missing)]) == 1
    err = capsys.readouterr().err
    assert str(missing) in err and "does not exist" in err


# ------------------------------------------------------------------------- entry point
def test_python_m_cnnlab(run_dir, tmp_path):
    ok = subprocess.run(
        [sys.executable, "-m", "cnnlab", "evaluate", str(run_dir), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert (
        json.loads(ok.stdout)["accuracy"]
        == json.loads((run_dir / "results.json").read_text())["test_acc"]
    )
    bad = subprocess.run(
        [sys.executable, "-m", "cnnlab", "predict", str(run_dir), str(tmp_path / "none.png")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1
    assert bad.stderr.startswith("cnnlab predict: error:") and "none.png" in bad.stderr
