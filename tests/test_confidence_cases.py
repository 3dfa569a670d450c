"""cnnlab.metrics.confidence_cases and sample_losses on hand-made probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.metrics import CONFIDENCE_CASES, confidence_cases, sample_losses

# 8 samples, 3 classes; confidence = the row's max, right when its argmax is the label
PROBS = np.array(
    [
        [0.90, 0.05, 0.05],  # 0 right, 0.90
        [0.40, 0.35, 0.25],  # 1 right, 0.40
        [0.10, 0.80, 0.10],  # 2 right, 0.80
        [0.20, 0.20, 0.60],  # 3 right, 0.60
        [0.95, 0.03, 0.02],  # 4 wrong (label 1), 0.95
        [0.30, 0.34, 0.36],  # 5 wrong (label 0), 0.36
        [0.05, 0.70, 0.25],  # 6 wrong (label 2), 0.70
        [0.50, 0.45, 0.05],  # 7 wrong (label 1), 0.50
    ]
)
LABELS = np.array([0, 0, 1, 2, 1, 0, 2, 1])


def test_cases_by_hand():
    cases = confidence_cases(PROBS, LABELS, per_case=2)
    assert list(cases) == list(CONFIDENCE_CASES)
    got = {name: idx.tolist() for name, idx in cases.items()}
    assert got == {
        "right, high confidence": [0, 2],  # 0.90, 0.80
        "right, low confidence": [1, 3],  # 0.40, 0.60
        "wrong, high confidence": [4, 6],  # 0.95, 0.70
        "wrong, low confidence": [5, 7],  # 0.36, 0.50
    }


def test_halves_never_share_a_sample():
    # three right predictions: two are high, one is low; one wrong one counts as high
    probs, labels = PROBS[[0, 1, 2, 4]], LABELS[[0, 1, 2, 4]]
    got = {k: v.tolist() for k, v in confidence_cases(probs, labels, per_case=5).items()}
    assert got == {
        "right, high confidence": [0, 2],
        "right, low confidence": [1],
        "wrong, high confidence": [3],
        "wrong, low confidence": [],
    }


def test_every_sample_is_in_one_case_when_per_case_is_large(rng):
    probs = rng.dirichlet(np.ones(4), size=41)
    labels = rng.integers(4, size=41)
    cases = confidence_cases(probs, labels, per_case=41)
    chosen = np.concatenate(list(cases.values()))
    assert sorted(chosen.tolist()) == list(range(41))
    conf, right = probs.max(axis=1), probs.argmax(axis=1) == labels
    for kind, is_right in (("right", True), ("wrong", False)):
        high, low = cases[f"{kind}, high confidence"], cases[f"{kind}, low confidence"]
        assert np.all(right[high] == is_right) and np.all(right[low] == is_right)
        if len(low):
            assert conf[high].min() >= conf[low].max()
        assert np.all(np.diff(conf[high]) <= 0) and np.all(np.diff(conf[low]) >= 0)


def test_sample_losses_are_minus_log_of_the_true_class():
    losses = sample_losses(PROBS, LABELS)
    np.testing.assert_allclose(losses[[0, 4]], -np.log([0.90, 0.03]), rtol=1e-15)
    assert sample_losses(np.array([[1.0, 0.0]]), np.array([1]))[0] == np.inf


@pytest.mark.parametrize(
    "probs, labels, per_case, match",
    [
        (
            PROBS[0],
            LABELS[:1],
            1,
            r"confidence_cases: probs must be a finite \(N, K\) matrix; got shape \(3,\)",
        ),
        (PROBS * np.nan, LABELS, 1, r"confidence_cases: probs must be a finite"),
        (PROBS, LABELS[:3], 1, r"confidence_cases"),
        (PROBS, LABELS + 3, 1, r"confidence_cases"),
        (PROBS, LABELS, 0, r"confidence_cases: per_case must be a positive integer; got 0"),
    ],
)
def test_bad_input(probs, labels, per_case, match):
    with pytest.raises(ValueError, match=match):
        confidence_cases(probs, labels, per_case)
