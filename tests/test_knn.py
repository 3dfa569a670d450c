"""k-NN classifier: distance methods, chunking, tie rules, cross-validation, input validation."""

from __future__ import annotations

import tracemalloc
from collections import Counter

import numpy as np
import pytest

from cnnlab.knn import (
    KNearestNeighbor,
    cross_validate_k,
    k_smallest,
    majority_vote,
    pairwise_distances,
)

METHODS = ("two_loops", "one_loop", "no_loops")


def plain_distances(A, B, metric):
    """Reference distances written out with broadcasting (small inputs only)."""
    diff = np.asarray(A, float)[:, None, :] - np.asarray(B, float)[None, :, :]
    if metric == "l2":
        return np.sqrt((diff**2).sum(axis=2))
    return np.abs(diff).sum(axis=2)


def reference_predict(X_train, y_train, X_test, k, metric="l2"):
    """Brute force: sort by (distance, training index), count the k labels with a Counter, the
    smallest label wins a tied vote."""
    out = []
    for row in plain_distances(X_test, X_train, metric):
        order = sorted(range(len(row)), key=lambda j: (row[j], j))[:k]
        counts = Counter(y_train[j] for j in order)
        top = max(counts.values())
        out.append(min(label for label, c in counts.items() if c == top))
    return np.array(out)


def rel(a, b):
    return np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))


# ---------------------------------------------------------------- distances


@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_three_methods_agree_with_each_other_and_a_plain_formula(rng, metric):
    X_train = rng.normal(size=(23, 3, 2, 2))  # flattened per sample to 12 features
    X_test = rng.normal(size=(9, 3, 2, 2))
    model = KNearestNeighbor().fit(X_train, rng.integers(0, 3, size=23))
    expected = plain_distances(X_test.reshape(9, -1), X_train.reshape(23, -1), metric)
    for method in METHODS:
        d = model.compute_distances(X_test, method=method, metric=metric)
        assert d.shape == (9, 23) and d.dtype == np.float64
        assert rel(d, expected) < 1e-10, method


def test_l2_is_euclidean_not_squared():
    model = KNearestNeighbor().fit(np.array([[0.0, 0.0], [3.0, 4.0]]), [0, 1])
    for method in METHODS:
        d = model.compute_distances(np.array([[0.0, 0.0]]), method=method)
        np.testing.assert_array_equal(d, [[0.0, 5.0]])
        d1 = model.compute_distances(np.array([[0.0, 0.0]]), method=method, metric="l1")
        np.testing.assert_array_equal(d1, [[0.0, 7.0]])


def test_l2_of_identical_rows_is_exactly_zero_not_nan(rng):
    # ||a||^2 + ||a||^2 - 2 a.a can round below zero; the clip keeps sqrt away from NaN.
    X = rng.normal(size=(50, 300)) * 1e3
    d = KNearestNeighbor().fit(X, np.zeros(50)).compute_distances(X)
    assert np.isfinite(d).all() and (d >= 0).all()
    assert np.all(np.diag(d) <= 1e-5 * np.linalg.norm(X, axis=1))


def test_l1_chunked_is_bitwise_identical_to_one_tile(rng):
    A, B = rng.normal(size=(17, 40)), rng.normal(size=(31, 40))
    whole = pairwise_distances(A, B, metric="l1", max_bytes=1 << 30)
    for max_bytes in (1, 8 * 40 * 3, 8 * 40 * 31 * 2 + 5):
        np.testing.assert_array_equal(
            pairwise_distances(A, B, metric="l1", max_bytes=max_bytes), whole
        )


def test_l2_chunked_matches_one_block(rng):
    # Row blocks change only how BLAS tiles the matmul, i.e. rounding in the last bit or two.
    A, B = rng.normal(size=(37, 50)), rng.normal(size=(29, 50))
    whole = pairwise_distances(A, B, max_bytes=1 << 30)
    for rows in (1, 2, 5, 36):
        chunked = pairwise_distances(A, B, max_bytes=8 * 29 * rows)
        assert rel(chunked, whole) < 1e-13


@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_predict_in_blocks_equals_predict_in_one_block(rng, metric):
    X_train = rng.integers(0, 4, size=(60, 3)).astype(float)
    y_train = rng.integers(0, 4, size=60)
    X_test = rng.integers(0, 4, size=(45, 3)).astype(float)
    big = KNearestNeighbor(max_bytes=1 << 30).fit(X_train, y_train)
    small = KNearestNeighbor(max_bytes=1).fit(X_train, y_train)  # one test row per block
    for k in (1, 4, 7):
        np.testing.assert_array_equal(
            small.predict(X_test, k, metric=metric), big.predict(X_test, k, metric=metric)
        )
        for a, b in zip(
            small.kneighbors(X_test, k, metric=metric),
            big.kneighbors(X_test, k, metric=metric),
            strict=True,
        ):
            np.testing.assert_array_equal(a, b)


def test_predict_never_holds_the_whole_distance_matrix(rng):
    X_train = rng.normal(size=(3000, 8))
    X_test = rng.normal(size=(2000, 8))
    model = KNearestNeighbor(max_bytes=1 << 20).fit(X_train, rng.integers(0, 10, 3000))
    tracemalloc.start()
    try:
        model.predict(X_test, k=5)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    full_matrix = 8 * 3000 * 2000  # 48 MB
    assert peak < 4 << 20 < full_matrix


# ---------------------------------------------------------------- neighbours and votes


def test_k_smallest_orders_by_distance_then_index():
    d = np.array([[1.0, 0.0, 1.0, 0.0, 2.0, 1.0]])
    np.testing.assert_array_equal(k_smallest(d, 1), [[1]])
    np.testing.assert_array_equal(k_smallest(d, 3), [[1, 3, 0]])
    np.testing.assert_array_equal(k_smallest(d, 5), [[1, 3, 0, 2, 5]])


def test_majority_vote_ties_go_to_the_smallest_label():
    votes = np.array([[2, 1, 1, 2], [3, 0, 3, 0], [4, 4, 1, 2], [2, 2, 2, 2]])
    np.testing.assert_array_equal(majority_vote(votes, 5), [1, 0, 4, 2])


@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_predict_matches_brute_force_with_tied_distances_and_votes(rng, metric):
    # Integer points on a 4x4 grid: many exactly equal distances; 3 labels and even k: tied votes.
    X_train = rng.integers(0, 4, size=(40, 2)).astype(float)
    y_train = rng.integers(0, 3, size=40)
    X_test = rng.integers(0, 4, size=(60, 2)).astype(float)
    model = KNearestNeighbor().fit(X_train, y_train)
    d = plain_distances(X_test, X_train, metric)
    tied_cut = tied_votes = 0
    for k in (1, 2, 3, 4, 6, 9):
        srt = np.sort(d, axis=1)
        tied_cut += int(np.sum(srt[:, k - 1] == srt[:, k]))
        for row in d:
            top = Counter(y_train[j] for j in sorted(range(40), key=lambda j: (row[j], j))[:k])
            tied_votes += list(top.values()).count(max(top.values())) > 1
        expected = reference_predict(X_train, y_train, X_test, k, metric)
        for method in METHODS:
            np.testing.assert_array_equal(model.predict(X_test, k, method, metric), expected)
    assert tied_cut > 50 and tied_votes > 50  # the tie rules really were exercised


def test_kneighbors_returns_nearest_first(rng):
    X_train = rng.normal(size=(30, 4))
    X_test = rng.normal(size=(5, 4))
    dist, idx = KNearestNeighbor().fit(X_train, np.zeros(30)).kneighbors(X_test, k=4)
    d = plain_distances(X_test, X_train, "l2")
    np.testing.assert_array_equal(idx, np.argsort(d, axis=1)[:, :4])
    np.testing.assert_allclose(dist, np.sort(d, axis=1)[:, :4], rtol=1e-12)


def test_string_labels_and_any_input_shape(rng):
    X = rng.normal(size=(12, 2, 3))
    y = np.array(["cat", "dog", "ant"] * 4)
    model = KNearestNeighbor().fit(X, y)
    assert list(model.classes_) == ["ant", "cat", "dog"]
    np.testing.assert_array_equal(model.predict(X, k=1), y)
    np.testing.assert_array_equal(
        model.predict(X, k=3), reference_predict(X.reshape(12, -1), y, X.reshape(12, -1), 3)
    )


def test_k1_on_the_training_data_is_perfect(rng):
    X = rng.normal(size=(80, 10))
    y = rng.integers(0, 10, size=80)
    np.testing.assert_array_equal(KNearestNeighbor().fit(X, y).predict(X, k=1), y)


# ---------------------------------------------------------------- cross-validation


def test_cross_validate_k_shapes_and_plain_folds(rng):
    X = rng.integers(0, 5, size=(23, 3)).astype(float)
    y = rng.integers(0, 3, size=23)
    ks = [1, 2, 5]
    scores = cross_validate_k(X, y, ks, folds=4)
    assert list(scores) == ks
    # seed=None: contiguous folds of sizes 6, 6, 6, 5 - recomputed here by brute force.
    bounds = [0, 6, 12, 18, 23]
    for k in ks:
        assert scores[k].shape == (4,)
        for f in range(4):
            held = np.arange(bounds[f], bounds[f + 1])
            rest = np.setdiff1d(np.arange(23), held)
            pred = reference_predict(X[rest], y[rest], X[held], k)
            assert scores[k][f] == np.mean(pred == y[held])


def test_cross_validate_k1_is_perfect_when_every_sample_has_a_twin_in_the_other_fold(rng):
    A = rng.normal(size=(15, 6))
    ya = rng.integers(0, 4, size=15)
    scores = cross_validate_k(np.vstack([A, A]), np.concatenate([ya, ya]), [1, 3], folds=2)
    np.testing.assert_array_equal(scores[1], [1.0, 1.0])


def test_cross_validate_k_seed_is_reproducible(rng):
    X = rng.normal(size=(40, 5))
    y = rng.integers(0, 2, size=40)
    a = cross_validate_k(X, y, [1, 3], folds=5, seed=7)
    b = cross_validate_k(X, y, [1, 3], folds=5, seed=7)
    for k in (1, 3):
        np.testing.assert_array_equal(a[k], b[k])
        assert ((0 <= a[k]) & (a[k] <= 1)).all()


# ---------------------------------------------------------------- input validation


def test_errors_name_the_method_and_shapes(rng):
    model = KNearestNeighbor()
    with pytest.raises(ValueError, match=r"KNearestNeighbor.predict: called before fit"):
        model.predict(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"KNearestNeighbor.fit: X has 5 samples.*\(4,\)"):
        model.fit(np.zeros((5, 3)), np.zeros(4))
    model.fit(rng.normal(size=(5, 3)), [0, 1, 0, 1, 0])
    with pytest.raises(ValueError, match=r"predict: k must be .* 1\.\.num_train=5.*k=0"):
        model.predict(np.zeros((2, 3)), k=0)
    with pytest.raises(ValueError, match=r"predict: k must be .*k=6"):
        model.predict(np.zeros((2, 3)), k=6)
    with pytest.raises(
        ValueError,
        match=r"compute_distances: X has 4 features .*\(2, 4\).*"
        r"\(5, 3\)",
    ):
        model.compute_distances(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"predict: method must be one of"):
        model.predict(np.zeros((2, 3)), method="three_loops")
    with pytest.raises(ValueError, match=r"compute_distances: metric must be one of"):
        model.compute_distances(np.zeros((2, 3)), metric="cosine")
    with pytest.raises(ValueError, match=r"predict: X \(1, 3\) contains NaN"):
        model.predict(np.array([[0.0, np.nan, 1.0]]))
    with pytest.raises(ValueError, match=r"cross_validate_k: every k must be in 1\.\.4"):
        cross_validate_k(np.zeros((5, 2)), np.zeros(5), [1, 5], folds=5)
    with pytest.raises(ValueError, match=r"cross_validate_k: folds must be in 2\.\.5"):
        cross_validate_k(np.zeros((5, 2)), np.zeros(5), [1], folds=6)
