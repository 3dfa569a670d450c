"""cnnlab train --nproc 2: Gloo on localhost, the same run as one process; a killed rank.

Each test starts real processes (``python -m cnnlab``), as a user does.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cnnlab.training.checkpoint import load_checkpoint

pytest.importorskip("torch.distributed")

# a small ThreeLayerConvNet on the bundled sample: 4 global batches of 40 per epoch
TRAIN = [
    "train", "--model", "three_layer", "--data", "sample", "--num-train", "160",
    "--num-val", "40", "--num-test", "20", "--batch-size", "40", "--optimizer", "momentum",
    "--lr", "0.05", "--preprocess", "channel", "--set", "hidden_dim=16",
    "--set", "weight_scale=0.01", "--no-report", "--quiet",
]  # fmt: skip


def cnnlab(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cnnlab", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


def model_state(run: Path) -> dict[str, np.ndarray]:
    with np.load(run / "checkpoint.npz") as ckpt:
        return {k: ckpt[k] for k in ckpt.files if k.startswith("model/")}


def test_two_processes_end_with_the_parameters_of_one(tmp_path):
    one = cnnlab(*TRAIN, "--epochs", "2", "--out", str(tmp_path / "one"))
    two = cnnlab(*TRAIN, "--epochs", "2", "--out", str(tmp_path / "two"), "--nproc", "2")
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    first, second = model_state(tmp_path / "one"), model_state(tmp_path / "two")
    assert set(first) == set(second) and first
    for name, value in first.items():
        assert value.dtype == np.float32
        # float32: the shards' gradients summed in another order than the whole batch's
        np.testing.assert_allclose(second[name], value, rtol=0, atol=1e-6, err_msg=name)
    # the biases start at zero: they moved, so the comparison says something
    assert np.abs(first["model/b3"]).max() > 1e-3
    # rank 0 alone wrote the run folder, with the same files as the one-process run
    files = {p.name for p in (tmp_path / "one").iterdir()}
    assert {p.name for p in (tmp_path / "two").iterdir()} == files
    h1 = (tmp_path / "one" / "metrics.csv").read_text().splitlines()
    h2 = (tmp_path / "two" / "metrics.csv").read_text().splitlines()
    assert len(h1) == len(h2) == 3  # header and two epochs


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_a_killed_rank_stops_the_job_and_the_run_resumes_on_another_count(tmp_path):
    out = tmp_path / "run"
    launcher = subprocess.Popen(
        [sys.executable, "-m", "cnnlab", *TRAIN, "--epochs", "200", "--out", str(out),
         "--nproc", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (out / "checkpoint.npz").exists():
            assert launcher.poll() is None, launcher.communicate()
            assert time.monotonic() < deadline, "no checkpoint after 60 s"
            time.sleep(0.1)
        ranks = _children(launcher.pid)
        assert len(ranks) == 2
        os.kill(ranks[1], signal.SIGKILL)
        killed = time.monotonic()
        _, stderr = launcher.communicate(timeout=30)
        stopped_after = time.monotonic() - killed
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert launcher.returncode != 0
    assert "rank 1 was killed by SIGKILL" in stderr
    assert "--resume" in stderr
    assert stopped_after < 10
    for pid in ranks:  # no rank is left behind
        assert (
            not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
        )
    # the checkpoint is whole, and the run resumes with one process instead of two
    _, meta = load_checkpoint(out / "checkpoint.npz")
    epochs = meta["epoch"] + 2
    done = cnnlab(*TRAIN, "--epochs", str(epochs), "--out", str(out), "--resume")
    assert done.returncode == 0, done.stderr
    assert len((out / "metrics.csv").read_text().splitlines()) == 1 + epochs
