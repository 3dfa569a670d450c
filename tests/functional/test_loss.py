"""Losses beyond the op table (cases.py): the seeds' values, stability, float32."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.functional.loss import mse_loss, softmax_loss, svm_loss


def test_softmax_loss_of_small_scores_is_log_num_classes(rng):
    # The seeds' sanity check: small random weights give a loss near log(C), C = 10.
    x = 1e-3 * rng.normal(size=(50, 10))
    y = rng.integers(10, size=50)
    loss, _ = softmax_loss(x, y)
    # The deviation is of the order of the scores themselves (1e-3).
    assert abs(loss - np.log(10)) < 1e-2
    assert softmax_loss(np.zeros((3, 10)), np.array([0, 4, 9]))[0] == pytest.approx(
        np.log(10), rel=1e-15
    )


def test_svm_loss_of_zero_scores_is_num_classes_minus_one(rng):
    y = rng.integers(10, size=20)
    loss, _ = svm_loss(np.zeros((20, 10)), y)
    assert loss == 9.0
    loss, _ = svm_loss(1e-3 * rng.normal(size=(20, 10)), y)
    assert abs(loss - 9) < 0.1


def test_softmax_loss_is_stable_for_huge_scores():
    x = np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, dx = softmax_loss(x, np.array([0, 1]))
    assert loss == pytest.approx(np.log(2) / 2, rel=1e-12)
    assert np.all(np.isfinite(dx))


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
def test_float32_stays_float32(rng, loss_fn):
    x = rng.normal(size=(4, 3)).astype(np.float32)
    loss, dx = loss_fn(x, np.array([0, 1, 2, 0]))
    assert isinstance(loss, float) and dx.dtype == np.float32


def test_mse_float32_stays_float32(rng):
    pred = rng.normal(size=(4, 3)).astype(np.float32)
    loss, dpred = mse_loss(pred, np.zeros_like(pred))
    assert isinstance(loss, float) and dpred.dtype == np.float32
