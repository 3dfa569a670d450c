"""Softmax, SVM and MSE losses: PyTorch, numerical gradients, the seeds' values, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.functional.loss import mse_loss, softmax_loss, svm_loss
from cnnlab.gradcheck import eval_numerical_gradient, rel_error

RTOL, ATOL = 1e-10, 1e-12  # float64 against float64 PyTorch
NUM_TOL = 1e-7  # central differences, h=1e-5, float64


def close(ours, theirs: torch.Tensor) -> None:
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=RTOL, atol=ATOL)


def scores_labels(rng, n=8, c=5, scale=2.0):
    return rng.normal(scale=scale, size=(n, c)), rng.integers(c, size=n)


def torch_loss_and_grad(fn, x: np.ndarray, *args):
    xt = torch.tensor(x, requires_grad=True)
    loss = fn(xt, *args)
    (dx,) = torch.autograd.grad(loss, (xt,))
    return loss, dx


def test_softmax_loss_matches_cross_entropy(rng):
    x, y = scores_labels(rng)
    loss, dx = softmax_loss(x, y)
    loss_t, dx_t = torch_loss_and_grad(F.cross_entropy, x, torch.tensor(y))
    close(loss, loss_t)
    close(dx, dx_t)


def test_svm_loss_is_num_classes_times_multi_margin_loss(rng):
    # PyTorch's multi_margin_loss divides each sample's hinge sum by the number of classes C;
    # CS231n's SVM loss does not, so it is C times PyTorch's (both average over the batch).
    n, c = 8, 5
    x, y = scores_labels(rng, n, c)
    loss, dx = svm_loss(x, y)
    loss_t, dx_t = torch_loss_and_grad(
        lambda t, yt: c * F.multi_margin_loss(t, yt, margin=1.0), x, torch.tensor(y)
    )
    close(loss, loss_t)
    close(dx, dx_t)


def test_mse_loss_matches_torch_mean_reduction(rng):
    pred, target = rng.normal(size=(4, 3, 2)), rng.normal(size=(4, 3, 2))
    loss, dpred = mse_loss(pred, target)
    loss_t, dpred_t = torch_loss_and_grad(F.mse_loss, pred, torch.tensor(target))
    close(loss, loss_t)
    close(dpred, dpred_t)
    np.testing.assert_allclose(loss, np.mean((pred - target) ** 2), rtol=1e-14)


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
def test_classification_loss_numerical_gradient(rng, loss_fn):
    x, y = scores_labels(rng, 6, 4)
    _, dx = loss_fn(x, y)
    dx_num = eval_numerical_gradient(lambda a: loss_fn(a, y)[0], x, verbose=False)
    assert rel_error(dx_num, dx) < NUM_TOL


def test_mse_numerical_gradient(rng):
    pred, target = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    _, dpred = mse_loss(pred, target)
    num = eval_numerical_gradient(lambda a: mse_loss(a, target)[0], pred, verbose=False)
    assert rel_error(num, dpred) < NUM_TOL


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


@pytest.mark.parametrize(
    ("loss_fn", "name"), [(softmax_loss, "softmax_loss"), (svm_loss, "svm_loss")]
)
def test_classification_loss_errors(loss_fn, name):
    x = np.zeros((4, 3))
    with pytest.raises(
        ValueError,
        match=rf"{name}: labels must lie in \[0, 3\) for x \(4, 3\), got values from 0 to 3",
    ):
        loss_fn(x, np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=rf"{name}: labels must lie in \[0, 3\) .* from -1 to 2"):
        loss_fn(x, np.array([0, -1, 2, 2]))
    with pytest.raises(
        ValueError,
        match=rf"{name}: x has 4 samples but y has 3 labels \(x \(4, 3\), y \(3,\)\)",
    ):
        loss_fn(x, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=rf"{name}: labels y must be integers, got dtype float64"):
        loss_fn(x, np.zeros(4))
    with pytest.raises(
        ValueError,
        match=rf"{name}: y must be 1-D \(N,\) labels, got shape \(4, 1\)",
    ):
        loss_fn(x, np.zeros((4, 1), dtype=int))
    with pytest.raises(
        ValueError,
        match=rf"{name}: x must be 2-D \(N, C\) scores, got shape \(12,\)",
    ):
        loss_fn(np.zeros(12), np.zeros(12, dtype=int))
    with pytest.raises(ValueError, match=rf"{name}: the batch is empty \(x \(0, 3\)\)"):
        loss_fn(np.zeros((0, 3)), np.zeros(0, dtype=int))


def test_mse_loss_errors():
    with pytest.raises(
        ValueError,
        match=r"mse_loss: pred and target must have the same shape, got pred \(2, 3\) and"
        r" target \(3, 2\)",
    ):
        mse_loss(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"mse_loss: target must be a floating-point array"):
        mse_loss(np.zeros((2, 3)), np.zeros((2, 3), dtype=int))
    with pytest.raises(ValueError, match=r"mse_loss: pred is empty \(shape \(0, 3\)\)"):
        mse_loss(np.zeros((0, 3)), np.zeros((0, 3)))
