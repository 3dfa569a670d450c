"""cnnlab.metrics: accuracy, the confusion matrix and the per-class helpers against counts
made by hand."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.metrics import accuracy, confusion_matrix, per_class_accuracy, row_fractions


def test_accuracy_by_hand() -> None:
    assert accuracy(np.array([0, 1, 2, 2]), np.array([0, 2, 2, 1])) == 0.5
    assert accuracy(np.array(["cat", "dog"]), np.array(["cat", "dog"])) == 1.0
    assert np.isnan(accuracy(np.array([], dtype=int), np.array([], dtype=int)))


def test_accuracy_is_the_confusion_trace_over_n(rng) -> None:
    y_true, y_pred = rng.integers(0, 7, 300), rng.integers(0, 7, 300)
    cm = confusion_matrix(y_true, y_pred, 7)
    assert accuracy(y_true, y_pred) == np.trace(cm) / 300


@pytest.mark.parametrize("shapes", [((3,), (4,)), ((2, 2), (2, 2)), ((), ())])
def test_accuracy_needs_two_vectors_of_one_length(shapes) -> None:
    with pytest.raises(ValueError, match=r"accuracy: .*shapes"):
        accuracy(np.zeros(shapes[0], int), np.zeros(shapes[1], int))


def test_confusion_matrix_by_hand() -> None:
    y_true = [0, 0, 0, 1, 1, 2, 2, 2, 2, 0]
    y_pred = [0, 1, 0, 1, 2, 2, 2, 0, 2, 0]
    # true 0: predicted 0, 1, 0, 0 -> [3, 1, 0]; true 1: 1, 2 -> [0, 1, 1];
    # true 2: 2, 2, 0, 2 -> [1, 0, 3]; class 3 never occurs
    expected = [[3, 1, 0, 0], [0, 1, 1, 0], [1, 0, 3, 0], [0, 0, 0, 0]]
    cm = confusion_matrix(np.array(y_true), np.array(y_pred), 4)
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(cm, expected)


def test_row_fractions_and_per_class_accuracy_by_hand() -> None:
    cm = np.array([[3, 1, 0], [0, 0, 0], [1, 0, 3]])
    np.testing.assert_allclose(row_fractions(cm), [[0.75, 0.25, 0], [0, 0, 0], [0.25, 0, 0.75]])
    np.testing.assert_allclose(per_class_accuracy(cm), [0.75, 0.0, 0.75])


def test_empty_input_gives_zeros() -> None:
    empty = np.array([], dtype=np.int64)
    np.testing.assert_array_equal(confusion_matrix(empty, empty, 2), np.zeros((2, 2)))


@pytest.mark.parametrize(
    ("y_true", "y_pred", "k", "message"),
    [
        ([0, 1], [0], 2, "y_pred must be 2 integer labels"),
        ([0, 2], [0, 1], 2, r"y_true must lie in \[0, 2\)"),
        ([0, 1], [0, -1], 2, r"y_pred must lie in \[0, 2\)"),
        ([0.0, 1.0], [0, 1], 2, "y_true must be 2 integer labels"),
        ([0, 1], [0, 1], 0, "num_classes must be a positive integer"),
    ],
)
def test_bad_labels(y_true, y_pred, k, message) -> None:
    with pytest.raises(ValueError, match=f"confusion_matrix: {message}"):
        confusion_matrix(np.array(y_true), np.array(y_pred), k)


def test_row_fractions_needs_a_square_matrix() -> None:
    with pytest.raises(ValueError, match=r"row_fractions: .*\(2, 3\)"):
        row_fractions(np.zeros((2, 3)))
