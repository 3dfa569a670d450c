"""cnnlab train --engine torch --nproc 2: DistributedDataParallel over Gloo on localhost.

The two-process run takes the steps of the one-process run; it resumes with another number of
processes. Each run starts real processes (``python -m cnnlab``), as a user does.
"""

import numpy as np
import pytest

from tests.distributed.test_data_parallel import TRAIN, cnnlab, model_state

torch = pytest.importorskip("torch")
pytest.importorskip("torch.distributed")

from cnnlab.distributed.torch_solver import backend_for, rank_device  # noqa: E402

TORCH = [*TRAIN, "--engine", "torch", "--device", "cpu"]


def test_two_processes_take_the_steps_of_one_in_float32(tmp_path):
    # one epoch (4 steps): later in this run float32 rounding flips a ReLU or max-pool switch
    # and W1 moves by ~1e-6 (as between the two engines); the float64 test runs two epochs
    one = cnnlab(*TORCH, "--epochs", "1", "--out", str(tmp_path / "one"))
    two = cnnlab(*TORCH, "--epochs", "1", "--out", str(tmp_path / "two"), "--nproc", "2")
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    first, second = model_state(tmp_path / "one"), model_state(tmp_path / "two")
    assert set(first) == set(second) and first
    for name, value in first.items():
        assert value.dtype == np.float32
        np.testing.assert_allclose(second[name], value, rtol=0, atol=1e-6, err_msg=name)
    assert np.abs(first["model/b3"]).max() > 1e-3  # the biases start at zero: they moved
    # rank 0 alone wrote the run folder, with the files of the one-process run
    files = {p.name for p in (tmp_path / "one").iterdir()}
    assert {p.name for p in (tmp_path / "two").iterdir()} == files
    # the loss recorded is the global batch's, not rank 0's shard's
    loss1 = np.loadtxt(tmp_path / "one" / "metrics.csv", delimiter=",", skiprows=1)[1]
    loss2 = np.loadtxt(tmp_path / "two" / "metrics.csv", delimiter=",", skiprows=1)[1]
    np.testing.assert_allclose(loss2, loss1, rtol=1e-6)


def test_a_run_resumed_on_two_processes_ends_as_one_process_run_in_float64(tmp_path):
    # a global batch of 39: shards of 20 and 19 samples, weighted by their shares
    f64 = [*TORCH, "--set", "dtype=float64", "--batch-size", "39"]
    whole = cnnlab(*f64, "--epochs", "2", "--out", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    half = cnnlab(*f64, "--epochs", "1", "--out", str(tmp_path / "split"))
    assert half.returncode == 0, half.stderr
    rest = cnnlab(*f64, "--epochs", "2", "--out", str(tmp_path / "split"), "--resume",
                  "--nproc", "2")  # fmt: skip
    assert rest.returncode == 0, rest.stderr
    first, second = model_state(tmp_path / "whole"), model_state(tmp_path / "split")
    assert set(first) == set(second) and first
    for name, value in first.items():
        assert value.dtype == np.float64
        # float64: sums over the shards and the whole batch differ only in rounding
        np.testing.assert_allclose(second[name], value, rtol=0, atol=1e-10, err_msg=name)
    assert len((tmp_path / "split" / "metrics.csv").read_text().splitlines()) == 3


def test_cpu_ranks_use_gloo_and_cuda_ranks_nccl_on_their_own_gpu(monkeypatch):
    assert rank_device("cpu") == torch.device("cpu")
    assert backend_for("cpu") == "gloo"
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert rank_device("cuda") == torch.device("cuda", 1)
    assert rank_device("cuda:0") == torch.device("cuda", 0)  # an index given is kept
    assert backend_for("cuda") == "cpu:gloo,cuda:nccl"


def test_more_processes_than_gpus_or_mps_are_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    with pytest.raises(ValueError, match=r"^distributed: 2 processes .* 1 GPU"):
        rank_device("cuda")
    with pytest.raises(ValueError, match=r"^distributed: .* not mps"):
        rank_device("mps")
