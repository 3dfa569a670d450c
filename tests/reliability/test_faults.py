"""The fault battery: real ``cnnlab train`` processes, each hit by what users and machines do
(Ctrl-C once or twice, SIGTERM, SIGKILL; at a random moment of training or while a checkpoint
is being written; two runs on one folder; a full disk), then resumed. The resumed run must
equal the uninterrupted one bit for bit (``np.array_equal`` on every array of the checkpoint,
model, samples; equal metrics.csv, history.json, results.json, the wall-clock seconds aside),
with no temporary or lock file left behind.

The model has batch norm and dropout (their running statistics and mask counters are part of
what must come back exactly). The random delays come from a generator seeded by
``CNNLAB_FAULT_SEED`` (default 0) and the probe's number; a failure message gives both.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.faults, pytest.mark.slow]

ARGS = [
    "-m", "cnnlab", "train", "--model", "fc", "--set", "hidden_dims=[64,32]",
    "--set", "dropout_keep_ratio=0.5", "--set", "normalization=batchnorm", "--data", "sample",
    "--num-train", "200", "--num-val", "50", "--num-test", "20", "--batch-size", "10",
    "--epochs", "3", "--no-report", "--quiet",
]  # fmt: skip
SEED = int(os.environ.get("CNNLAB_FAULT_SEED", "0"))
TMP_GLOB = ".checkpoint.npz.*.tmp"
TIMEOUT = 300


def start(out: Path, *extra: str) -> subprocess.Popen:
    """A ``cnnlab train`` process writing ``out``, stdout/stderr captured as text."""
    return subprocess.Popen(
        [sys.executable, *ARGS, "--out", str(out), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=out.parent,
    )


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    """Wait for ``proc``; its exit code and stderr."""
    _, err = proc.communicate(timeout=TIMEOUT)
    return proc.returncode, err


def wait_for(predicate, proc: subprocess.Popen, poll: float = 0.0005) -> bool:
    """Poll ``predicate()`` until it is true (True) or ``proc`` has ended (False)."""
    while proc.poll() is None:
        if predicate():
            return True
        time.sleep(poll)
    return predicate()


def send(proc: subprocess.Popen, signum: int) -> None:
    """Send ``signum`` unless the process already ended."""
    try:
        proc.send_signal(signum)
    except ProcessLookupError:
        pass


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.suffix == ".tmp" or p.name == ".lock")


def arrays_and_meta(path: Path) -> tuple[dict[str, np.ndarray], dict]:
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays.pop("__meta__").tobytes()) if "__meta__" in arrays else {}
    return arrays, meta


def without_seconds(value):
    """Drop wall-clock entries (``seconds``, ``train_seconds``) from nested dicts and lists."""
    if isinstance(value, dict):
        return {
            k: without_seconds(v) for k, v in value.items() if k not in ("seconds", "train_seconds")
        }
    if isinstance(value, list):
        return [without_seconds(v) for v in value]
    return value


def assert_same_run(run: Path, ref: Path, context: str) -> None:
    """Every file of ``run`` equals ``ref``'s: arrays exactly, texts minus wall-clock seconds."""
    assert leftovers(run) == [], context
    assert sorted(p.name for p in run.iterdir()) == sorted(p.name for p in ref.iterdir()), context
    for name in ("checkpoint.npz", "model.npz", "model_spec.npz", "samples.npz"):
        (a, ma), (b, mb) = arrays_and_meta(run / name), arrays_and_meta(ref / name)
        assert sorted(a) == sorted(b), f"{context}: {name} keys"
        for key in a:
            assert np.array_equal(a[key], b[key]), f"{context}: {name} {key} differs"
        assert without_seconds(ma) == without_seconds(mb), f"{context}: {name} header"
    for name in ("history.json", "results.json", "config.json"):
        got = json.loads((run / name).read_text())
        want = json.loads((ref / name).read_text())
        assert without_seconds(got) == without_seconds(want), f"{context}: {name}"
    for name in ("metrics.csv",):
        with open(run / name) as f, open(ref / name) as g:
            got, want = list(csv.DictReader(f)), list(csv.DictReader(g))
        assert without_seconds(got) == without_seconds(want), f"{context}: {name}"
    assert (run / "summary.txt").read_text() == (ref / "summary.txt").read_text(), context


def resume(out: Path) -> tuple[int, str]:
    """Continue the run in ``out`` (from scratch when no checkpoint was written yet)."""
    extra = ("--resume",) if (out / "checkpoint.npz").is_file() else ()
    return finish(start(out, *extra))


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """The uninterrupted run, and how long its training took (from config.json to exit)."""
    out = tmp_path_factory.mktemp("reference") / "run"
    proc = start(out)
    assert wait_for(lambda: (out / "config.json").is_file(), proc)
    began = time.perf_counter()
    code, err = finish(proc)
    assert code == 0, err
    return out, time.perf_counter() - began


def one_line_or_none(err: str, context: str) -> None:
    assert "Traceback" not in err, f"{context}: {err}"
    assert len(err.splitlines()) <= 1, f"{context}: stderr {err!r}"


RANDOM_PROBES = [
    ("SIGINT", 0), ("SIGINT", 1), ("double SIGINT", 2), ("double SIGINT", 3),
    ("SIGTERM", 4), ("SIGTERM", 5), ("SIGKILL", 6), ("SIGKILL", 7),
]  # fmt: skip
SIGNALS = {
    "SIGINT": [signal.SIGINT],
    "double SIGINT": [signal.SIGINT, signal.SIGINT],
    "SIGTERM": [signal.SIGTERM],
    "SIGKILL": [signal.SIGKILL],
}


def hit(proc: subprocess.Popen, kind: str, rng: np.random.Generator) -> None:
    """Send the probe's signals; a second one follows the first after 0-50 ms."""
    for i, signum in enumerate(SIGNALS[kind]):
        if i:
            time.sleep(rng.uniform(0, 0.05))
        send(proc, signum)


def check_fault_exit(code: int, err: str, kind: str, context: str) -> None:
    """The interrupted process ended as its signal says, or finished before it landed (a signal
    that arrives while the interpreter shuts down finds the default action back: -signum)."""
    allowed = {"SIGKILL": {0, -signal.SIGKILL}, "SIGTERM": {0, 130, -signal.SIGTERM}}
    assert code in allowed.get(kind, {0, 130, -signal.SIGINT}), f"{context}: exit {code}, {err}"
    if kind != "SIGKILL":
        one_line_or_none(err, context)


def check_resumed(out: Path, ref: Path, kind: str, lock_left: bool, context: str) -> None:
    code, err = resume(out)
    assert code == 0, f"{context}: resume exit {code}: {err}"
    assert "Traceback" not in err, f"{context}: {err}"
    if lock_left:  # the killed run's lock: taken over and reported in one line
        assert "stale lock" in err and len(err.splitlines()) == 1, f"{context}: {err!r}"
    assert_same_run(out, ref, context)


@pytest.mark.parametrize(("kind", "probe"), RANDOM_PROBES)
def test_signal_at_a_random_moment_then_resume(kind, probe, reference, tmp_path):
    ref, duration = reference
    rng = np.random.default_rng((SEED, probe))
    delay = rng.uniform(0, duration)
    context = f"{kind} {delay:.3f} s into training (CNNLAB_FAULT_SEED={SEED}, probe {probe})"
    out = tmp_path / "run"
    proc = start(out)
    assert wait_for(lambda: (out / "config.json").is_file(), proc), context
    time.sleep(delay)
    hit(proc, kind, rng)
    code, err = finish(proc)
    check_fault_exit(code, err, kind, context)
    check_resumed(out, ref, kind, (out / ".lock").exists(), context)


@pytest.mark.parametrize("kind", list(SIGNALS))
def test_signal_during_a_checkpoint_write_then_resume(kind, reference, tmp_path):
    ref, _ = reference
    rng = np.random.default_rng((SEED, 100))
    out = tmp_path / "run"
    proc = start(out)
    writing = wait_for(lambda: bool(list(out.glob(TMP_GLOB))), proc)
    hit(proc, kind, rng)
    code, err = finish(proc)
    context = f"{kind} during a checkpoint write (caught the write: {writing})"
    assert writing, f"{context}: the run ended before a checkpoint write was seen"
    check_fault_exit(code, err, kind, context)
    if (out / "checkpoint.npz").exists():  # whatever was on disk is a whole checkpoint
        arrays_and_meta(out / "checkpoint.npz")
    check_resumed(out, ref, kind, (out / ".lock").exists(), context)


def test_two_runs_on_one_folder(reference, tmp_path):
    ref, _ = reference
    out = tmp_path / "run"
    first = start(out)
    lock = out / ".lock"
    # the owner creates the lock file, then writes its pid: stop it only once the pid is there
    assert wait_for(lambda: lock.is_file() and lock.read_text().strip() != "", first)
    first.send_signal(signal.SIGSTOP)  # so that it is still running when the second starts
    try:
        code, err = finish(start(out))
    finally:
        first.send_signal(signal.SIGCONT)
    assert code == 1, err
    assert len(err.splitlines()) == 1 and f"in use by process {first.pid}" in err, err
    code, err = finish(first)
    assert code == 0, err
    assert_same_run(out, ref, "the first of two runs on one folder")


def mounted_tmpfs(folder: Path, options: str):
    """Mount a tmpfs with ``options`` on ``folder`` for the test, then unmount it (skipped
    where mounting is not permitted)."""
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 2 MiB tmpfs."""
    yield from mounted_tmpfs(tmp_path / "disk", "size=2m")


@pytest.fixture
def read_only_disk(tmp_path: Path):
    """A read-only tmpfs (file permissions would not stop root; a read-only mount does)."""
    yield from mounted_tmpfs(tmp_path / "ro", "ro,size=1m")


def test_full_disk_gives_one_line_and_only_whole_files(small_disk):
    out = small_disk / "run"
    code, err = finish(start(out))
    assert code == 1, err
    assert len(err.splitlines()) == 1 and "No space left on device" in err, err
    assert leftovers(out) == []
    for path in out.iterdir():  # what is there is complete
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".npz":
            arrays_and_meta(path)


def test_read_only_folder_gives_one_line(read_only_disk):
    code, err = finish(start(read_only_disk / "run"))
    assert code == 1, err
    assert len(err.splitlines()) == 1 and "Read-only file system" in err, err
    assert list(read_only_disk.iterdir()) == []
