"""IDX reading, MNIST loading from generated files, and split_mnist."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from cnnlab.data import mnist
from cnnlab.data.mnist import load_mnist, read_idx, split_mnist


def _idx(data: np.ndarray, code: int = 0x08) -> bytes:
    header = struct.pack(">BBBB", 0, 0, code, data.ndim) + struct.pack(
        f">{data.ndim}I", *data.shape
    )
    return header + data.tobytes()


def _write_mnist(folder, X, y, gz=True, kind="t10k"):
    folder.mkdir(parents=True, exist_ok=True)
    for suffix, blob in (("images-idx3-ubyte", _idx(X)), ("labels-idx1-ubyte", _idx(y))):
        name = f"{kind}-{suffix}"
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(blob))
        else:
            (folder / name).write_bytes(blob)


@pytest.fixture
def digits(rng):
    X = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, size=7).astype(np.uint8)
    return X, y


@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_gzip_or_raw(tmp_path, digits, gz):
    X, _ = digits
    blob = _idx(X)
    path = tmp_path / "x.idx"
    path.write_bytes(gzip.compress(blob) if gz else blob)
    got = read_idx(path, expect_magic=mnist.IMAGES_MAGIC)
    np.testing.assert_array_equal(got, X)
    assert got.dtype == np.uint8


def test_read_idx_big_endian_types(tmp_path):
    values = np.array([[1, -2, 300], [70000, 5, -6]], dtype=">i4")
    (tmp_path / "i.idx").write_bytes(_idx(values, code=0x0C))
    got = read_idx(tmp_path / "i.idx")
    np.testing.assert_array_equal(got, [[1, -2, 300], [70000, 5, -6]])
    assert got.dtype == np.int32 and got.dtype.isnative


def test_bad_magic_is_reported(tmp_path, digits):
    _, y = digits
    (tmp_path / "labels").write_bytes(_idx(y))
    with pytest.raises(ValueError, match="magic 0x00000801, expected 0x00000803"):
        read_idx(tmp_path / "labels", expect_magic=mnist.IMAGES_MAGIC)
    (tmp_path / "junk").write_bytes(b"PK\x03\x04 not idx at all")
    with pytest.raises(ValueError, match="not an IDX header"):
        read_idx(tmp_path / "junk")


def test_wrong_length_is_reported(tmp_path, digits):
    X, _ = digits
    (tmp_path / "short").write_bytes(_idx(X)[:-10])
    with pytest.raises(ValueError, match=r"shape \(7, 28, 28\).*holds 5478 bytes"):
        read_idx(tmp_path / "short")
    (tmp_path / "tiny").write_bytes(b"\0\0")
    with pytest.raises(ValueError, match="too short"):
        read_idx(tmp_path / "tiny")


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("sub", ["", "mnist"])
def test_load_mnist_from_root(tmp_path, digits, gz, sub):
    X, y = digits
    _write_mnist(tmp_path / sub if sub else tmp_path, X, y, gz=gz)
    got_X, got_y = load_mnist(tmp_path)
    np.testing.assert_array_equal(got_X, X)
    np.testing.assert_array_equal(got_y, y)
    assert got_y.dtype == np.int64


def test_load_mnist_searches_data_dirs(tmp_path, digits, monkeypatch):
    X, y = digits
    _write_mnist(tmp_path / "data" / "mnist", X, y)
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path / "data"))
    np.testing.assert_array_equal(load_mnist()[0], X)


def test_missing_files_list_the_places(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"t10k-images-idx3-ubyte\.gz"):
        load_mnist(tmp_path)


def test_inconsistent_files_are_refused(tmp_path, digits):
    X, y = digits
    _write_mnist(tmp_path, X, y[:5])
    with pytest.raises(ValueError, match=r"images \(7, 28, 28\).*labels \(5,\)"):
        load_mnist(tmp_path)
    _write_mnist(tmp_path, X, np.full(7, 10, np.uint8))
    with pytest.raises(ValueError, match=r"0\.\.9"):
        load_mnist(tmp_path)


def test_split_counts_are_disjoint_and_seeded():
    X = np.arange(100).reshape(100, 1) * 10
    y = np.arange(100)
    parts = split_mnist(X, y, sizes=(60, 25, 15), seed=3)
    assert [len(p) for p in parts] == [60, 60, 25, 25, 15, 15]
    for Xp, yp in zip(parts[::2], parts[1::2], strict=True):
        np.testing.assert_array_equal(Xp[:, 0], yp * 10)  # pairs stay together
    all_y = np.concatenate(parts[1::2])
    np.testing.assert_array_equal(np.sort(all_y), y)  # every sample exactly once
    assert not np.array_equal(parts[1], y[:60])  # shuffled
    again = split_mnist(X, y, sizes=(60, 25, 15), seed=3)
    for a, b in zip(parts, again, strict=True):
        np.testing.assert_array_equal(a, b)


def test_split_fractions():
    X, y = np.zeros((1000, 2)), np.arange(1000)
    parts = split_mnist(X, y, sizes=(0.8, 0.15, 0.05))
    assert [len(p) for p in parts[1::2]] == [800, 150, 50]
    with pytest.raises(ValueError, match="more than 1"):
        split_mnist(X, y, sizes=(0.8, 0.3, 0.1))
    with pytest.raises(ValueError, match="need 1100"):
        split_mnist(X, y, sizes=(1000, 100, 0))
    with pytest.raises(ValueError, match=r"\(1000, 2\) and y \(999,\)"):
        split_mnist(X, y[:-1])
