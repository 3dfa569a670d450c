"""Loss functions: softmax cross-entropy, multiclass SVM (hinge) and mean squared error.

Each returns ``(loss, dx)``: the loss as a Python float and its gradient with respect to the
scores / predictions, with the dtype of the input. All three average over the batch, so the
loss does not grow with the batch size.
"""

from __future__ import annotations

import numpy as np

from cnnlab.validation import check_float, check_ndim


def _check_scores_labels(op: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Validate scores x (N, C), N >= 1, and integer labels y (N,) in [0, C); return y."""
    check_ndim(op, x, 2, "x", "(N, C) scores")
    check_float(op, x, "x")
    y = np.asarray(y)
    if y.dtype == bool or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{op}: labels y must be integers, got dtype {y.dtype}")
    check_ndim(op, y, 1, "y", "(N,) labels")
    n, c = x.shape
    if y.shape[0] != n:
        raise ValueError(
            f"{op}: x has {n} samples but y has {y.shape[0]} labels (x {x.shape}, y {y.shape})"
        )
    if n == 0:
        raise ValueError(f"{op}: the batch is empty (x {x.shape})")
    if y.min() < 0 or y.max() >= c:
        raise ValueError(
            f"{op}: labels must lie in [0, {c}) for x {x.shape}, got values from {y.min()}"
            f" to {y.max()}"
        )
    return y


def softmax_loss(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy, averaged over the batch.

    ``loss = -mean_i log(softmax(x_i)[y_i])``, computed from log-probabilities shifted by each
    row's maximum so that ``exp`` never overflows.

    Args:
        x: (N, C) scores; x[i, j] is the score of class j for sample i.
        y: (N,) integer labels, 0 <= y[i] < C.

    Returns:
        ``(loss, dx)`` with ``dx = (softmax(x) - onehot(y)) / N`` of shape (N, C).

    Raises:
        ValueError: bad shapes or dtypes, an empty batch, or labels outside [0, C).
    """
    op = "softmax_loss"
    y = _check_scores_labels(op, x, y)
    n = x.shape[0]
    rows = np.arange(n)
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[rows, y].sum() / n
    dx = np.exp(log_probs)
    dx[rows, y] -= 1
    dx /= n
    return float(loss), dx


def svm_loss(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Multiclass SVM (hinge) loss with margin 1, summed over classes, averaged over the batch.

    ``loss = mean_i sum_{j != y_i} max(0, x[i, j] - x[i, y_i] + 1)``. This is C times
    PyTorch's ``multi_margin_loss`` (which also divides by the number of classes C); for zero
    scores it equals C - 1.

    Args:
        x: (N, C) scores.
        y: (N,) integer labels, 0 <= y[i] < C.

    Returns:
        ``(loss, dx)``, dx (N, C).

    Raises:
        ValueError: bad shapes or dtypes, an empty batch, or labels outside [0, C).
    """
    op = "svm_loss"
    y = _check_scores_labels(op, x, y)
    n = x.shape[0]
    rows = np.arange(n)
    margins = np.maximum(0, x - x[rows, y][:, None] + 1)
    margins[rows, y] = 0
    loss = margins.sum() / n
    active = (margins > 0).astype(x.dtype)
    active[rows, y] = -active.sum(axis=1)
    return float(loss), active / x.dtype.type(n)


def mse_loss(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error over every element, as ``torch.nn.functional.mse_loss`` (mean).

    ``loss = sum((pred - target)**2) / pred.size``: the mean over all elements, not only over
    the batch (for pred (N, D) this is the per-sample sum of squares divided by N * D).

    Args:
        pred: floating-point predictions of any shape.
        target: floating-point targets of the same shape.

    Returns:
        ``(loss, dpred)`` with ``dpred = 2 * (pred - target) / pred.size``.

    Raises:
        ValueError: non-float or empty arrays, or shapes that differ.
    """
    op = "mse_loss"
    check_float(op, pred, "pred")
    check_float(op, target, "target")
    if pred.shape != target.shape:
        raise ValueError(
            f"{op}: pred and target must have the same shape, got pred {pred.shape} and"
            f" target {target.shape}"
        )
    if pred.size == 0:
        raise ValueError(f"{op}: pred is empty (shape {pred.shape})")
    diff = pred - target
    size = pred.dtype.type(pred.size)
    return float((diff * diff).sum() / size), (2 / size) * diff
