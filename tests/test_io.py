"""Atomic writes and checksum verification (cnnlab._io)."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

from cnnlab._io import atomic_open, file_digest, save_npz_atomic, verify_checksum


def test_atomic_open_replaces_and_uses_umask_mode(tmp_path):
    folder = tmp_path / "w"
    folder.mkdir()
    target = folder / "out.bin"
    target.write_bytes(b"old")
    with atomic_open(target) as f:
        f.write(b"new")
        assert target.read_bytes() == b"old"  # unchanged until the block ends
    assert target.read_bytes() == b"new"
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in folder.iterdir()] == ["out.bin"]


def test_atomic_open_failure_leaves_nothing(tmp_path):
    folder = tmp_path / "w"
    folder.mkdir()
    target = folder / "out.bin"
    with pytest.raises(RuntimeError), atomic_open(target) as f:
        f.write(b"partial")
        raise RuntimeError("interrupted")
    assert list(folder.iterdir()) == []


def test_save_npz_atomic_round_trip(tmp_path):
    a = np.arange(6, dtype=np.uint8).reshape(2, 3)
    save_npz_atomic(tmp_path / "a.npz", compressed=True, a=a, names=np.array(["x", "y"]))
    with np.load(tmp_path / "a.npz", allow_pickle=False) as z:
        np.testing.assert_array_equal(z["a"], a)
        assert z["names"].tolist() == ["x", "y"]


def test_checksums(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"hello")
    assert file_digest(p, "sha256") == hashlib.sha256(b"hello").hexdigest()
    verify_checksum(p, md5=hashlib.md5(b"hello").hexdigest().upper())
    with pytest.raises(ValueError, match=r"sha256 is .*, expected abc"):
        verify_checksum(p, sha256="abc")
