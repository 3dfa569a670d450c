"""Classification metrics.

Accuracy, the confusion matrix, per-class accuracy, per-sample loss and the right/wrong x high/low
confidence cases.

The maths behind the numbers that training, evaluation, the figures, the report and the CLI
print; everything takes integer labels (N,) in [0, K) or a (K, K) confusion matrix whose entry
[i, j] counts the samples of true class i predicted as class j.
"""

from __future__ import annotations

import numpy as np

from cnnlab.validation import check_labels


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of the predictions equal to the true labels.

    Args:
        y_true: (N,) true labels (integers, or any labels that compare with ``==``).
        y_pred: (N,) predicted labels.

    Returns:
        The fraction in [0, 1]; NaN when N is 0.

    Raises:
        ValueError: when the two are not vectors of the same length.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape:
        raise ValueError(
            f"accuracy: y_true and y_pred must be vectors of one length; got shapes "
            f"{y_true.shape} and {y_pred.shape}"
        )
    return float(np.count_nonzero(y_true == y_pred) / y_true.size) if y_true.size else np.nan


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts of (true, predicted) pairs.

    Args:
        y_true: (N,) integer labels in [0, num_classes).
        y_pred: (N,) integer labels in [0, num_classes).
        num_classes: K.

    Returns:
        (K, K) int64 counts, rows the true class and columns the prediction.

    Raises:
        ValueError: for a K below 1 or labels that are not (N,) integers in [0, K).
    """
    if int(num_classes) != num_classes or num_classes < 1:
        raise ValueError(
            f"confusion_matrix: num_classes must be a positive integer; got {num_classes}"
        )
    y_true = np.asarray(y_true)
    y_true = check_labels("confusion_matrix", y_true, y_true.size, num_classes, "y_true")
    y_pred = check_labels("confusion_matrix", y_pred, y_true.size, num_classes, "y_pred")
    flat = np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def check_confusion(confusion: np.ndarray, func: str) -> np.ndarray:
    """``confusion`` as an array after checking that it is a non-empty square (K, K) matrix.

    Raises:
        ValueError: naming ``func`` and the shape otherwise.
    """
    confusion = np.asarray(confusion)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1] or confusion.size == 0:
        raise ValueError(
            f"{func}: confusion must be a square (K, K) matrix; got shape {confusion.shape}"
        )
    return confusion


def row_fractions(confusion: np.ndarray) -> np.ndarray:
    """Each row of a confusion matrix divided by its sum.

    Args:
        confusion: (K, K) counts.

    Returns:
        (K, K) float64 fractions of each true class; a row summing to 0 stays 0.
    """
    confusion = check_confusion(confusion, "row_fractions").astype(np.float64)
    totals = confusion.sum(axis=1, keepdims=True)
    return np.divide(confusion, totals, out=np.zeros_like(confusion), where=totals > 0)


def per_class_accuracy(confusion: np.ndarray) -> np.ndarray:
    """Fraction of each true class predicted correctly.

    Args:
        confusion: (K, K) counts.

    Returns:
        (K,) float64: the diagonal of :func:`row_fractions` (0 for a class with no samples).
    """
    return np.diag(row_fractions(confusion)).copy()


#: The four cases of seed 003's question, in the order it asks them.
CONFIDENCE_CASES = (
    "right, high confidence",
    "right, low confidence",
    "wrong, high confidence",
    "wrong, low confidence",
)


def _check_probs(probs: np.ndarray, y_true: np.ndarray, func: str) -> tuple[np.ndarray, np.ndarray]:
    """(N, K) finite probabilities and (N,) labels in [0, K), checked together."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] < 1 or not np.all(np.isfinite(probs)):
        raise ValueError(f"{func}: probs must be a finite (N, K) matrix; got shape {probs.shape}")
    return probs, check_labels(func, y_true, probs.shape[0], probs.shape[1], "y_true")


def sample_losses(probs: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    """Each sample's cross-entropy loss, -log of the probability of its true class.

    Args:
        probs: (N, K) class probabilities.
        y_true: (N,) integer labels in [0, K).

    Returns:
        (N,) float64 losses (inf where the true class has probability 0).

    Raises:
        ValueError: for probabilities that are not a finite (N, K) matrix or labels that are
            not (N,) integers in [0, K).
    """
    probs, y_true = _check_probs(probs, y_true, "sample_losses")
    with np.errstate(divide="ignore"):
        return -np.log(probs[np.arange(len(y_true)), y_true])


def confidence_cases(
    probs: np.ndarray, y_true: np.ndarray, per_case: int = 4
) -> dict[str, np.ndarray]:
    """Samples for each of the four cases right/wrong x high/low confidence (seed 003).

    The confidence of a sample is the probability of its predicted class (the largest one). The
    right predictions are ranked by confidence; "high" takes the most confident ones, "low" the
    least confident, each from its own half of the ranking, so no sample is in both (with one
    right prediction it counts as high). The wrong predictions likewise.

    Args:
        probs: (N, K) class probabilities.
        y_true: (N,) integer labels in [0, K).
        per_case: the most samples per case.

    Returns:
        :data:`CONFIDENCE_CASES` -> (M,) int64 sample indices, M <= per_case: most confident
        first for a "high" case, least confident first for a "low" one (M is 0 when the
        predictions have no such case).

    Raises:
        ValueError: as :func:`sample_losses`, or for a per_case below 1.
    """
    probs, y_true = _check_probs(probs, y_true, "confidence_cases")
    if int(per_case) != per_case or per_case < 1:
        raise ValueError(f"confidence_cases: per_case must be a positive integer; got {per_case}")
    confidence = probs.max(axis=1)
    right = probs.argmax(axis=1) == y_true
    cases = {}
    for kind, members in (("right", np.flatnonzero(right)), ("wrong", np.flatnonzero(~right))):
        ranked = members[np.argsort(-confidence[members], kind="stable")]
        high, low = ranked[: (len(ranked) + 1) // 2], ranked[(len(ranked) + 1) // 2 :]
        cases[f"{kind}, high confidence"] = high[:per_case]
        cases[f"{kind}, low confidence"] = low[::-1][:per_case]
    return {name: cases[name].astype(np.int64) for name in CONFIDENCE_CASES}
