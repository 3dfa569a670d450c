"""k-nearest-neighbour classification on raw feature vectors.

:class:`KNearestNeighbor` follows scikit-learn's habits (``fit`` / ``predict``, validation at the
boundary) and CS231n's three ways of computing the distance matrix:

* ``'two_loops'`` - one Python loop over test rows and one over training rows (the reference);
* ``'one_loop'`` - a loop over test rows, vectorised over the training set;
* ``'no_loops'`` - fully vectorised, in blocks of test rows whose size follows a memory budget.

Distances
    ``'l2'`` is the Euclidean distance ``sqrt(sum((a - b) ** 2))`` - *not* its square. The
    vectorised form uses ``||a||^2 + ||b||^2 - 2 a.b`` in float64; rounding can make that sum
    slightly negative for (nearly) identical vectors, so it is clipped at 0 before the square
    root. ``'l1'`` is ``sum(|a - b|)``, computed in tiles so that the ``(test, train, D)``
    difference array never exists in full.

Ties
    *Distance ties* are broken by training index: of two training samples at the same distance
    the one that came first in ``fit`` is the nearer (a stable order on ``(distance, index)``).
    *Vote ties* go to the smallest label (labels are sorted with :func:`numpy.unique`, and
    ``argmax`` over the vote counts returns the first maximum).

Memory
    ``predict`` and :meth:`KNearestNeighbor.kneighbors` never build the full
    ``(num_test, num_train)`` matrix: they work on blocks of test rows sized so that the block's
    distances and the temporaries of the neighbour search stay within ``max_bytes``, and keep
    only the ``k`` nearest of each row. :meth:`KNearestNeighbor.compute_distances` returns the
    full matrix (that is what it is for); with ``'no_loops'`` its temporaries are bounded the
    same way. (``'one_loop'`` holds one (num_train, D) difference per test row: it is the
    teaching version, like ``'two_loops'``.) L2 blocks go through BLAS, whose tiling depends on
    the block's row count, so block sizes change L2 distances in the last bit or two (never the
    neighbours found unless two distances agree to ~1e-15); L1 is bitwise independent of them.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from cnnlab.metrics import accuracy
from cnnlab.validation import check_choice, check_finite, check_samples, check_X_y

DEFAULT_MAX_BYTES = 256 * 2**20
METHODS = ("two_loops", "one_loop", "no_loops")
METRICS = ("l2", "l1")
# Bytes held per (test row, training sample) pair while one block of predict is processed: the
# float64 distances, a partitioned copy and the boolean/counting masks of the neighbour search.
_BYTES_PER_PAIR = 32
# Largest (m, n, D) difference tile of the vectorised L1 distance (cache-sized, see below).
_L1_TILE_BYTES = 4 * 2**20


def _row_blocks(num_rows: int, bytes_per_row: int, max_bytes: int) -> Iterable[slice]:
    """Consecutive slices of ``range(num_rows)`` holding at most ``max_bytes`` each (>= 1 row)."""
    step = max(1, int(max_bytes) // max(1, bytes_per_row))
    for start in range(0, num_rows, step):
        yield slice(start, min(start + step, num_rows))


def _l2_two_loops(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    dists = np.empty((A.shape[0], B.shape[0]))
    for i in range(A.shape[0]):
        for j in range(B.shape[0]):
            dists[i, j] = np.sqrt(np.sum((A[i] - B[j]) ** 2))
    return dists


def _l1_two_loops(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    dists = np.empty((A.shape[0], B.shape[0]))
    for i in range(A.shape[0]):
        for j in range(B.shape[0]):
            dists[i, j] = np.sum(np.abs(A[i] - B[j]))
    return dists


def _l2_one_loop(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    dists = np.empty((A.shape[0], B.shape[0]))
    for i in range(A.shape[0]):
        dists[i] = np.sqrt(np.sum((B - A[i]) ** 2, axis=1))
    return dists


def _l1_one_loop(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    dists = np.empty((A.shape[0], B.shape[0]))
    for i in range(A.shape[0]):
        dists[i] = np.sum(np.abs(B - A[i]), axis=1)
    return dists


def _l2_no_loops(
    A: np.ndarray, B: np.ndarray, max_bytes: int, sq_b: np.ndarray | None = None
) -> np.ndarray:
    """Euclidean distances (M, N) between the rows of A (M, D) and B (N, D).

    One matmul per block of rows of A; ``sq_b`` (N,) are the squared norms of B's rows when already
    known.
    """
    if sq_b is None:
        sq_b = np.einsum("ij,ij->i", B, B)
    out = np.empty((A.shape[0], B.shape[0]))
    for rows in _row_blocks(A.shape[0], 8 * B.shape[0], max_bytes):
        block = out[rows]
        a = A[rows]
        np.matmul(a, B.T, out=block)
        block *= -2.0
        block += np.einsum("ij,ij->i", a, a)[:, None]
        block += sq_b[None, :]
        np.maximum(block, 0.0, out=block)
        np.sqrt(block, out=block)
    return out


def _l1_no_loops(A: np.ndarray, B: np.ndarray, max_bytes: int) -> np.ndarray:
    """Manhattan distances (M, N) computed tile by tile.

    Each tile broadcasts a (m, n, D) difference of at most min(max_bytes, 4 MiB) (at least one pair
    per tile). Small tiles stay in cache and are about twice as fast as large ones; every tiling
    gives the same bits.
    """
    D = A.shape[1]
    out = np.empty((A.shape[0], B.shape[0]))
    pairs = max(1, min(int(max_bytes), _L1_TILE_BYTES) // (8 * max(1, D)))
    n = min(B.shape[0], pairs)
    m = max(1, pairs // max(1, n))
    buf = np.empty((m, n, D))
    for i in range(0, A.shape[0], m):
        a = A[i : i + m, None, :]
        for j in range(0, B.shape[0], n):
            b = B[None, j : j + n, :]
            diff = buf[: a.shape[0], : b.shape[1]]
            np.subtract(a, b, out=diff)
            np.abs(diff, out=diff)
            diff.sum(axis=2, out=out[i : i + m, j : j + n])
    return out


def pairwise_distances(
    A: np.ndarray,
    B: np.ndarray,
    method: str = "no_loops",
    metric: str = "l2",
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> np.ndarray:
    """Distances between the rows of A (M, D) and B (N, D), float64, shape (M, N).

    ``metric`` is ``'l2'`` (Euclidean, not squared) or ``'l1'``; ``method`` one of
    ``'two_loops'``, ``'one_loop'``, ``'no_loops'`` (all three give the same numbers up to
    rounding). ``max_bytes`` bounds the temporaries of ``'no_loops'``.
    """
    check_choice("pairwise_distances", "method", method, METHODS)
    check_choice("pairwise_distances", "metric", metric, METRICS)
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[1]:
        raise ValueError(
            f"pairwise_distances: expected A (M, D) and B (N, D), got {A.shape} and {B.shape}"
        )
    if method == "no_loops":
        if metric == "l2":
            return _l2_no_loops(A, B, max_bytes)
        return _l1_no_loops(A, B, max_bytes)
    looped = {
        ("two_loops", "l2"): _l2_two_loops,
        ("two_loops", "l1"): _l1_two_loops,
        ("one_loop", "l2"): _l2_one_loop,
        ("one_loop", "l1"): _l1_one_loop,
    }
    return looped[method, metric](A, B)


def k_smallest(dists: np.ndarray, k: int) -> np.ndarray:
    """Column indices (M, k) of the k smallest entries of each row of ``dists`` (M, N).

    Each row is ordered by ``(distance, column)``: nearest first, and of equal distances the
    smaller column first - so a prefix of length j < k is exactly the answer for j. Runs in
    O(M N) (``np.partition``) plus O(M k log k), not a full sort.
    """
    if not 1 <= k <= dists.shape[1]:
        raise ValueError(f"k_smallest: k must be in 1..{dists.shape[1]}, got {k}")
    kth = np.partition(dists, k - 1, axis=1)[:, k - 1 : k]
    take = dists < kth
    missing = k - take.sum(axis=1, keepdims=True)
    at_kth = dists == kth
    # Among the entries equal to the k-th value, the first `missing` columns (stable rule).
    take |= at_kth & (np.cumsum(at_kth, axis=1) <= missing)
    idx = np.nonzero(take)[1].reshape(dists.shape[0], k)
    order = np.argsort(np.take_along_axis(dists, idx, axis=1), axis=1, kind="stable")
    return np.take_along_axis(idx, order, axis=1)


def majority_vote(neighbor_labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Most frequent label of each row of ``neighbor_labels`` (M, k).

    The labels are ints in [0, num_classes); ties go to the smallest label. Returns (M,) int64.
    """
    M = neighbor_labels.shape[0]
    flat = (np.arange(M)[:, None] * num_classes + neighbor_labels).ravel()
    counts = np.bincount(flat, minlength=M * num_classes).reshape(M, num_classes)
    return counts.argmax(axis=1)


class KNearestNeighbor:
    """k-nearest-neighbour classifier with L2 (Euclidean) or L1 distance.

    Parameters
    ----------
    max_bytes:
        Memory budget for the temporaries of one block of test rows (default 256 MiB).

    Attributes (after ``fit``)
    --------------------------
    X_train_: (N, D) float64, the training samples flattened.
    y_train_: (N,) int64, indices into ``classes_``.
    classes_: (C,) the sorted distinct labels given to ``fit``.
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes < 1:
            raise ValueError(f"KNearestNeighbor: max_bytes must be positive, got {max_bytes}")
        self.max_bytes = int(max_bytes)

    def fit(self, X: np.ndarray, y: np.ndarray) -> KNearestNeighbor:
        """Remember the training data.

        X (N, d1, ..., dk) is flattened per sample to (N, D); y (N,) may hold any sortable labels.
        Returns ``self``.
        """
        X, y = check_X_y("KNearestNeighbor.fit", X, y)
        if X.shape[0] == 0:
            raise ValueError(f"KNearestNeighbor.fit: need at least one sample, got X {X.shape}")
        check_finite("KNearestNeighbor.fit", X)
        self.classes_, self.y_train_ = np.unique(y, return_inverse=True)
        self.y_train_ = self.y_train_.reshape(-1).astype(np.int64)
        self.X_train_ = X
        self._sq_train = np.einsum("ij,ij->i", X, X)
        return self

    def _check_query(self, where: str, X: np.ndarray, method: str, metric: str) -> np.ndarray:
        """X as (num_test, D) float64 after checking fit, method, metric and X's shape."""
        if not hasattr(self, "X_train_"):
            raise ValueError(f"KNearestNeighbor.{where}: called before fit")
        check_choice(f"KNearestNeighbor.{where}", "method", method, METHODS)
        check_choice(f"KNearestNeighbor.{where}", "metric", metric, METRICS)
        X = check_samples(f"KNearestNeighbor.{where}", X)
        if X.shape[1] != self.X_train_.shape[1]:
            raise ValueError(
                f"KNearestNeighbor.{where}: X has {X.shape[1]} features per sample (shape "
                f"{X.shape}) but the training data has {self.X_train_.shape[1]} (shape "
                f"{self.X_train_.shape})"
            )
        return check_finite(f"KNearestNeighbor.{where}", X)

    def _distances(self, X: np.ndarray, method: str, metric: str) -> np.ndarray:
        if method == "no_loops" and metric == "l2":
            return _l2_no_loops(X, self.X_train_, self.max_bytes, self._sq_train)
        return pairwise_distances(X, self.X_train_, method, metric, self.max_bytes)

    def compute_distances(
        self, X: np.ndarray, method: str = "no_loops", metric: str = "l2"
    ) -> np.ndarray:
        """Distances (num_test, num_train) float64 from each row of X to each training sample.

        X is (num_test, ...). ``metric='l2'`` is Euclidean (not squared).
        """
        X = self._check_query("compute_distances", X, method, metric)
        return self._distances(X, method, metric)

    def kneighbors(
        self, X: np.ndarray, k: int = 1, method: str = "no_loops", metric: str = "l2"
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest training samples of each row of X (num_test, ...).

        Returns ``(dist, idx)``, both (num_test, k): distances and training indices, nearest
        first, equal distances in training order. Works block by block within ``max_bytes``.
        """
        X = self._check_query("kneighbors", X, method, metric)
        self._check_k("kneighbors", k)
        return self._kneighbors(X, k, method, metric)

    def _kneighbors(
        self, X: np.ndarray, k: int, method: str, metric: str
    ) -> tuple[np.ndarray, np.ndarray]:
        num_train = self.X_train_.shape[0]
        idx = np.empty((X.shape[0], k), dtype=np.int64)
        dist = np.empty((X.shape[0], k))
        for rows in _row_blocks(X.shape[0], _BYTES_PER_PAIR * num_train, self.max_bytes):
            d = self._distances(X[rows], method, metric)
            idx[rows] = k_smallest(d, k)
            dist[rows] = np.take_along_axis(d, idx[rows], axis=1)
        return dist, idx

    def _check_k(self, where: str, k: int) -> None:
        num_train = self.X_train_.shape[0]
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= num_train:
            raise ValueError(
                f"KNearestNeighbor.{where}: k must be an integer in 1..num_train={num_train} "
                f"(training data {self.X_train_.shape}), got k={k!r}"
            )

    def predict(
        self, X: np.ndarray, k: int = 1, method: str = "no_loops", metric: str = "l2"
    ) -> np.ndarray:
        """Predicted labels (num_test,) for X (num_test, ...).

        The majority label of the k nearest training samples (ties in the vote to the smallest
        label, ties in distance to the earlier training sample).
        """
        return self.predict_ks(X, [k], method, metric)[k]

    def predict_ks(
        self, X: np.ndarray, ks: Iterable[int], method: str = "no_loops", metric: str = "l2"
    ) -> dict[int, np.ndarray]:
        """Predictions for several k at the cost of one: ``{k: labels (num_test,)}``.

        The ``max(ks)`` nearest neighbours are found once; since they are ordered by
        (distance, training index), the first k of them are exactly the k nearest.
        """
        X = self._check_query("predict", X, method, metric)
        ks = list(ks)
        if not ks:
            raise ValueError("KNearestNeighbor.predict: ks is empty")
        for k in ks:
            self._check_k("predict", k)
        _, idx = self._kneighbors(X, max(ks), method, metric)
        labels = self.y_train_[idx]
        C = len(self.classes_)
        return {k: self.classes_[majority_vote(labels[:, :k], C)] for k in ks}


def cross_validate_k(
    X: np.ndarray,
    y: np.ndarray,
    ks: Iterable[int],
    folds: int = 5,
    seed: int | None = None,
    metric: str = "l2",
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> dict[int, np.ndarray]:
    """k-fold cross-validation of the k-NN classifier for several values of k.

    X (N, ...) and y (N,) are split into ``folds`` parts of near-equal size: contiguous when
    ``seed`` is None (as CS231n's ``np.array_split``), after a permutation drawn from
    ``np.random.default_rng(seed)`` otherwise. For each fold, the distances from the held-out
    part to the rest are computed once, the ``max(ks)`` nearest neighbours kept, and every k is
    scored on a prefix of that same list (:meth:`KNearestNeighbor.predict_ks`).

    Returns ``{k: accuracies}`` with accuracies (folds,) float64, in the order of ``ks``.
    """
    ks = [int(k) for k in ks]
    X, y = check_X_y("cross_validate_k", X, y)
    if not 2 <= folds <= X.shape[0]:
        raise ValueError(
            f"cross_validate_k: folds must be in 2..{X.shape[0]} for X {X.shape}, got {folds}"
        )
    smallest_train = X.shape[0] - -(-X.shape[0] // folds)
    if not ks or min(ks) < 1 or max(ks) > smallest_train:
        raise ValueError(
            f"cross_validate_k: every k must be in 1..{smallest_train} (the smallest training "
            f"part of {folds} folds of X {X.shape}), got {ks}"
        )
    check_choice("cross_validate_k", "metric", metric, METRICS)
    order = np.arange(X.shape[0])
    if seed is not None:
        order = np.random.default_rng(seed).permutation(X.shape[0])
    parts = np.array_split(order, folds)
    scores = {k: np.empty(folds) for k in ks}
    for f, held_out in enumerate(parts):
        rest = np.concatenate([p for g, p in enumerate(parts) if g != f])
        model = KNearestNeighbor(max_bytes).fit(X[rest], y[rest])
        predictions = model.predict_ks(X[held_out], ks, metric=metric)
        for k in ks:
            scores[k][f] = accuracy(y[held_out], predictions[k])
    return scores
