"""The bad-input table: every way a careful user was seen to break ``cnnlab`` by hand (bad
option values, crafted and truncated files, hostile images and archives) drives one test.

Each probe must end with a non-zero exit code and exactly one line on stderr, no traceback,
and nothing half-written: no temporary or lock file anywhere under the test's folder, and no
run folder at all when the probe fails before training starts.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnlab.cli import main

TINY = [
    "--model", "fc", "--set", "hidden_dims=[16]", "--data", "sample", "--num-train", "60",
    "--num-val", "20", "--num-test", "20", "--batch-size", "20", "--quiet", "--no-report",
]  # fmt: skip


@dataclass
class Probe:
    """One bad input: ``argv(tmp_path)`` builds the command line (creating any files it
    needs); ``env`` is set for the call; ``folder_may_remain`` when the failure comes after
    the run folder was legitimately started (a diverging run)."""

    argv: Callable[[Path], list[str]]
    env: dict[str, str] = field(default_factory=dict)
    folder_may_remain: bool = False
    root_skip: bool = False  # root ignores file permissions


def train_with(*extra: str) -> Callable[[Path], list[str]]:
    """``cnnlab train`` with the tiny settings and ``extra`` into ``tmp/run``."""
    return lambda tmp: ["train", *TINY, *extra, "--out", str(tmp / "run")]


def train_into(out: Callable[[Path], Path]) -> Callable[[Path], list[str]]:
    """``cnnlab train`` with the tiny settings into the folder ``out(tmp)``."""
    return lambda tmp: ["train", *TINY, "--out", str(out(tmp))]


def train_on(data: Callable[[Path], Path], *model: str) -> Callable[[Path], list[str]]:
    """``cnnlab train`` of ``model`` (default the tiny fc) on ``--data data(tmp)``."""
    chosen = list(model) or TINY[:4]
    return lambda tmp: ["train", *chosen, "--data", str(data(tmp)), "--out", str(tmp / "run")]


def _file(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


def _png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def _tree_zip(tmp: Path, members: dict[str, bytes]) -> Path:
    path = tmp / "tree.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _declare_huge_member(path: Path, size: int = 3 << 29) -> None:
    """Rewrite the uncompressed size of every member in the zip's central directory."""
    raw = bytearray(path.read_bytes())
    at = raw.find(b"PK\x01\x02")
    while at != -1:
        struct.pack_into("<I", raw, at + 24, size)
        at = raw.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(raw))


def huge_member_zip(tmp: Path) -> list[str]:
    image = _png(np.zeros((32, 32, 3), np.uint8))
    path = _tree_zip(tmp, {f"{s}/cat/0.png": image for s in ("train", "test")})
    _declare_huge_member(path)
    return train_on(lambda _: path)(tmp)


def truncated_mnist(tmp: Path) -> list[str]:
    folder = tmp / "data" / "mnist"
    folder.mkdir()
    header = struct.pack(">IIII", 0x803, 10, 28, 28)
    packed = gzip.compress(header + bytes(10 * 28 * 28))
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(packed[: len(packed) // 2])
    labels = gzip.compress(struct.pack(">II", 0x801, 10) + bytes(10))
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(labels)
    return ["train", "--model", "mnist", "--data", "mnist", "--out", str(tmp / "run")]


def resume_with_config(config: object, *extra: str) -> Callable[[Path], list[str]]:
    """``cnnlab train --resume`` (tiny settings and ``extra``) of a folder holding ``config``
    as its config.json (None: none) and a junk checkpoint."""

    def argv(tmp: Path) -> list[str]:
        run = tmp / "old"
        run.mkdir()
        if config is not None:
            (run / "config.json").write_text(json.dumps(config))
        (run / "checkpoint.npz").write_bytes(b"not a checkpoint")
        return ["train", *TINY, *extra, "--out", str(run), "--resume"]

    return argv


def predict_on(name: str, make: Callable[[Path], bytes]) -> Callable[[Path], list[str]]:
    def argv(tmp: Path) -> list[str]:
        return ["predict", str(trained_run(tmp)), str(_file(tmp, name, make(tmp)))]

    return argv


def trained_run(tmp: Path) -> Path:
    """The tiny run folder the module fixture trained (``tmp`` unused: shared)."""
    assert TRAINED is not None, "the trained_once fixture did not run"
    return TRAINED


PROBES: dict[str, Probe] = {
    "lr nan": Probe(train_with("--lr", "nan")),
    "lr inf": Probe(train_with("--lr", "inf")),
    "lr 1e300 diverges": Probe(train_with("--lr", "1e300"), folder_may_remain=True),
    "lr 0": Probe(train_with("--lr", "0")),
    "momentum nan": Probe(train_with("--optimizer", "momentum", "--momentum", "nan")),
    "momentum 1.5": Probe(train_with("--optimizer", "momentum", "--momentum", "1.5")),
    "weight decay nan": Probe(train_with("--weight-decay", "nan")),
    "weight decay -1": Probe(train_with("--weight-decay", "-1")),
    "lr decay 0": Probe(train_with("--lr-decay", "0")),
    "epochs 0": Probe(train_with("--epochs", "0")),
    "epochs not a number": Probe(train_with("--epochs", "abc")),
    "batch size 0": Probe(train_with("--batch-size", "0")),
    "num test 0": Probe(train_with("--num-test", "0")),
    "num test -1": Probe(train_with("--num-test", "-1")),
    "num train too many": Probe(train_with("--num-train", "100000")),
    "num val beyond the data": Probe(train_with("--num-val", "1000")),
    "num test beyond the data": Probe(train_with("--num-test", "1000")),
    "out holds a run": Probe(train_into(lambda tmp: _file(tmp, "checkpoint.npz", b"x").parent)),
    "set reg": Probe(train_with("--set", "reg=1")),
    "set seed": Probe(train_with("--set", "seed=1")),
    "set input_dim": Probe(train_with("--set", "input_dim=5")),
    "set num_classes": Probe(train_with("--set", "num_classes=3")),
    "set unknown argument": Probe(train_with("--set", "strides=2")),
    "set without =": Probe(train_with("--set", "hidden_dims")),
    "hidden_dim 3e7": Probe(
        lambda tmp: [
            "train",
            "--model",
            "three_layer",
            "--set",
            "hidden_dim=3e7",
            "--data",
            "sample",
            "--out",
            str(tmp / "run"),
        ]
    ),
    "filter_size 100 over the memory limit": Probe(
        lambda tmp: [
            "train",
            "--model",
            "three_layer",
            "--set",
            "filter_size=100",
            "--data",
            "sample",
            "--out",
            str(tmp / "run"),
        ],
        env={"CNNLAB_MAX_MEMORY": "1G"},
    ),
    "memory limit not a size": Probe(train_with(), env={"CNNLAB_MAX_MEMORY": "lots"}),
    "out is a file": Probe(train_into(lambda tmp: _file(tmp, "f", b"x"))),
    "out under a file": Probe(train_into(lambda tmp: _file(tmp, "f", b"x") / "run")),
    "out read-only": Probe(train_into(lambda tmp: _read_only(tmp) / "run"), root_skip=True),
    "resume without out": Probe(lambda tmp: ["train", *TINY, "--resume"]),
    "resume without checkpoint": Probe(lambda tmp: ["train", *TINY, "--out", str(tmp), "--resume"]),
    "resume config is a list": Probe(resume_with_config([1, 2])),
    "resume config with unknown keys": Probe(resume_with_config({"colour": "red"})),
    "resume without config.json": Probe(resume_with_config(None)),
    "resume with another lr": Probe(
        resume_with_config({"model": "fc", "lr": 0.001}, "--lr", "0.5")
    ),
    "resume corrupt checkpoint": Probe(
        resume_with_config({"model": "fc", "model_kwargs": {"hidden_dims": [16]}})
    ),
    "data missing": Probe(lambda tmp: ["train", *TINY[:4], "--data", str(tmp / "none")]),
    "data not a zip": Probe(train_on(lambda tmp: _file(tmp, "d.zip", b"PK\x03\x04junk"))),
    "data zip member declares 1.5 GiB": Probe(huge_member_zip),
    "data zip with unsafe names": Probe(
        train_on(lambda tmp: _tree_zip(tmp, {"../train/cat/0.png": b"x"}))
    ),
    "mnist gz truncated": Probe(truncated_mnist),
    "predict a text file": Probe(predict_on("notes.png", lambda tmp: b"hello")),
    "predict a truncated png": Probe(
        predict_on("cut.png", lambda tmp: _png(np.zeros((64, 64, 3), np.uint8))[:60])
    ),
    "predict a decompression bomb": Probe(
        predict_on("bomb.png", lambda tmp: _bomb_png()),
    ),
    "predict a missing image": Probe(
        lambda tmp: ["predict", str(trained_run(tmp)), str(tmp / "none.png")]
    ),
    "predict with NaN weights": Probe(lambda tmp: _predict_with(tmp, _nan_weights)),
    "model without a name": Probe(lambda tmp: _predict_with(tmp, _header(model=None))),
    "model unknown": Probe(lambda tmp: _predict_with(tmp, _header(model="nonesuch"))),
    "model kwargs not a mapping": Probe(
        lambda tmp: _predict_with(tmp, _header(model_kwargs=[1, 2]))
    ),
    "model file is junk": Probe(
        lambda tmp: [
            "predict",
            str(_file(tmp, "junk.npz", b"PK\x05\x06" + bytes(18))),
            str(_file(tmp, "x.png", _png(np.zeros((32, 32, 3), np.uint8)))),
        ]
    ),
    "evaluate a missing run": Probe(lambda tmp: ["evaluate", str(tmp / "none")]),
    "evaluate a checkpoint-less folder": Probe(lambda tmp: ["evaluate", str(tmp)]),
}


def _read_only(tmp: Path) -> Path:
    folder = tmp / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    return folder


def _bomb_png() -> bytes:
    """An image with more pixels than Pillow's decompression-bomb limit (which the test
    lowers to 64 x 64, so that the image is small to make)."""
    return _png(np.zeros((200, 200, 3), np.uint8))


# --- crafted model files ----------------------------------------------------------------------


def _predict_with(tmp: Path, change: Callable[[dict, dict], None]) -> list[str]:
    """``cnnlab predict`` on a copy of the trained model file whose arrays and header
    ``change`` edited in place."""
    from cnnlab.training.checkpoint import load_checkpoint, save_checkpoint

    arrays, meta = load_checkpoint(trained_run(tmp) / "model.npz")
    change(arrays, meta)
    target = save_checkpoint(tmp / "crafted.npz", arrays, meta)
    image = _file(tmp, "x.png", _png(np.zeros((32, 32, 3), np.uint8)))
    return ["predict", str(target), str(image)]


def _nan_weights(arrays: dict, meta: dict) -> None:
    name = next(k for k in arrays if k.startswith("state/"))
    arrays[name] = np.full_like(arrays[name], np.nan)


def _header(**changes: object) -> Callable[[dict, dict], None]:
    """Set header entries (None: remove the entry)."""

    def change(arrays: dict, meta: dict) -> None:
        for key, value in changes.items():
            if value is None:
                meta.pop(key, None)
            else:
                meta[key] = value

    return change


TRAINED: Path | None = None


@pytest.fixture(scope="module", autouse=True)
def trained_once(tmp_path_factory: pytest.TempPathFactory):
    """Train the tiny run the predict probes use, once for the module."""
    global TRAINED
    TRAINED = tmp_path_factory.mktemp("trained") / "run"
    assert main(["train", *TINY, "--out", str(TRAINED)]) == 0
    yield
    TRAINED = None


def _tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


@pytest.mark.parametrize("name", list(PROBES))
def test_bad_input_gives_one_line(name, tmp_path, capsys, monkeypatch):
    probe = PROBES[name]
    if probe.root_skip and os.geteuid() == 0:
        pytest.skip("running as root, which ignores file permissions")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path / "data"))
    (tmp_path / "data").mkdir()  # also the decoded-image cache
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 64 * 64)
    for key, value in probe.env.items():
        monkeypatch.setenv(key, value)
    argv = probe.argv(tmp_path)
    before = _tree(tmp_path)
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert code not in (0, None), f"{name}: exit code {code}"
    assert len(lines) == 1 and lines[0].strip(), f"{name}: stderr is {err!r}"
    assert "Traceback" not in err
    new = _tree(tmp_path) - before
    if probe.folder_may_remain:  # the run started: its finished files stay, nothing partial
        new = {p for p in new if p.endswith(".tmp") or p.endswith(".lock")}
    assert not new, f"{name}: left {sorted(new)}"


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback_as_well(where, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = train_with("--lr", "nan")(tmp_path)
    argv = ["--debug", *argv] if where == "before" else [*argv, "--debug"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert err.splitlines()[-1] == "cnnlab train: error: lr must be a finite number, got nan"
