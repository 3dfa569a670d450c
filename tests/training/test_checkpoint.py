"""Checkpoint files: exact round trip, atomic writes, clear errors, no pickle."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.training import checkpoint
from cnnlab.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def sample_arrays(rng):
    return {
        "model/W1": rng.standard_normal((3, 4)),
        "model/b1": rng.standard_normal(4).astype(np.float32),
        "optim/W1/t": np.array(7),
        "labels": np.arange(5, dtype=np.int16),
        "mask": np.array([True, False]),
        "empty": np.zeros((0, 2)),
    }


META = {
    "epoch": 3,
    "lr": 0.1 * 3,
    "rng": {"state": 2**127 + 12345, "inc": 3},
    "history": {"loss": [2.302585092994046, 1e-300]},
    "note": "héllo",
    "none": None,
}


def test_round_trip_is_exact(tmp_path, rng):
    arrays = sample_arrays(rng)
    path = save_checkpoint(tmp_path / "ckpt.npz", arrays, META)
    loaded, meta = load_checkpoint(path)
    assert meta == META
    assert set(loaded) == set(arrays)
    for name, value in arrays.items():
        assert loaded[name].dtype == value.dtype and loaded[name].shape == value.shape
        np.testing.assert_array_equal(loaded[name], value)
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path, rng, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, {"a": np.ones(3)}, {"epoch": 1})
    before = path.read_bytes()

    def broken_savez(handle, **entries):
        handle.write(b"PK\x03\x04 partial")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, sample_arrays(rng), {"epoch": 2})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]


@pytest.mark.parametrize(
    "arrays, meta, message",
    [
        ({"x": np.array([object()])}, {}, "array 'x' has object dtype"),
        ({"__meta__": np.zeros(1)}, {}, "'__meta__' is reserved"),
        ({"x": np.zeros(1)}, {"value": np.zeros(2)}, "meta is not JSON-serialisable"),
        ({"x": np.zeros(1)}, {"loss": float("nan")}, "meta is not JSON-serialisable"),
    ],
)
def test_bad_content_writes_nothing(tmp_path, arrays, meta, message):
    with pytest.raises(ValueError, match=message):
        save_checkpoint(tmp_path / "c.npz", arrays, meta)
    assert list(tmp_path.iterdir()) == []


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no checkpoint file at .*nope\.npz"):
        load_checkpoint(tmp_path / "nope.npz")


def test_truncated_and_garbage_files(tmp_path, rng):
    good = save_checkpoint(tmp_path / "good.npz", sample_arrays(rng), META)
    data = good.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"this is not a zip file at all")
    for path in (truncated, garbage):
        with pytest.raises(CheckpointError, match=r"not a readable \.npz checkpoint"):
            load_checkpoint(path)


def test_plain_npz_without_header(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.ones(2))
    with pytest.raises(CheckpointError, match="no '__meta__' header"):
        load_checkpoint(tmp_path / "plain.npz")


def test_corrupt_header(tmp_path):
    np.savez(tmp_path / "bad.npz", __meta__=np.frombuffer(b"{not json", dtype=np.uint8))
    with pytest.raises(CheckpointError, match="corrupt JSON header"):
        load_checkpoint(tmp_path / "bad.npz")


def test_pickled_arrays_are_refused(tmp_path):
    """An npz whose entry needs unpickling (object array) must not be loaded."""
    header = np.frombuffer(b"{}", dtype=np.uint8)
    np.savez(tmp_path / "evil.npz", __meta__=header, payload=np.array([{"x": 1}], dtype=object))
    with pytest.raises(CheckpointError, match="allow_pickle"):
        load_checkpoint(tmp_path / "evil.npz")
