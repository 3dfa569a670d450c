"""Dataset: batches, coverage per epoch, seeded shuffling."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.data.dataset import Dataset


def _data(n=23):
    X = np.arange(n * 2).reshape(n, 2)
    return X, X[:, 0] // 2  # y[i] == i


def test_unshuffled_batches_in_order():
    X, y = _data()
    ds = Dataset(X, y, batch_size=5)
    batches = list(ds)
    assert len(ds) == len(batches) == 5
    assert [len(b[1]) for b in batches] == [5, 5, 5, 5, 3]
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), np.arange(23))
    np.testing.assert_array_equal(batches[0][0], X[:5])


def test_every_sample_once_per_epoch_and_pairs_kept():
    X, y = _data()
    ds = Dataset(X, y, batch_size=4, shuffle=True, seed=0)
    epochs = []
    for _ in range(3):
        ys = []
        for Xb, yb in ds:
            np.testing.assert_array_equal(Xb[:, 0] // 2, yb)
            ys.append(yb)
        order = np.concatenate(ys)
        np.testing.assert_array_equal(np.sort(order), np.arange(23))
        epochs.append(order)
    assert not np.array_equal(epochs[0], epochs[1])  # reshuffled each epoch
    assert not np.array_equal(epochs[0], np.arange(23))


def test_same_seed_same_epochs():
    X, y = _data()
    a, b = (Dataset(X, y, 6, shuffle=True, seed=7) for _ in range(2))
    for _ in range(2):
        ya = np.concatenate([yb for _, yb in a])
        yb_ = np.concatenate([yb for _, yb in b])
        np.testing.assert_array_equal(ya, yb_)
    c = Dataset(X, y, 6, shuffle=True, seed=8)
    assert not np.array_equal(np.concatenate([yb for _, yb in c]), ya)


def test_bad_arguments():
    X, y = _data()
    with pytest.raises(ValueError, match=r"\(23, 2\) and y \(22,\)"):
        Dataset(X, y[:-1], 4)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch_size"):
            Dataset(X, y, bad)
