"""``cnnlab knn-regions`` and ``cnnlab knn``: the k-nearest-neighbour classifier from the shell.

* ``knn-regions`` draws the decision regions of k-NN on labelled 2-D points (by default the seven
  points of the k-NN exercise) and writes a PNG.
* ``knn`` classifies raw CIFAR-10 pixels (float64, flattened) with k-NN: the test accuracy for
  each k, or with ``--cv`` k-fold cross-validation over k on the training subset, the best k and
  its test accuracy. Subsets are simple random samples (without replacement, not balanced by
  class) drawn with ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from cnnlab.cli._common import add_command, add_seed_option
from cnnlab.knn import METRICS, KNearestNeighbor, cross_validate_k
from cnnlab.metrics import accuracy

DEFAULT_CV_KS = (1, 3, 5, 8, 10, 12, 15, 20, 50, 100)
RESULTS_NAME = "knn.json"
PLOT_NAME = "knn_accuracy_vs_k.png"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``knn-regions`` and ``knn`` sub-commands."""
    regions = add_command(subparsers, "knn-regions", run_regions)
    regions.add_argument("--k", type=int, default=1, help="number of neighbours (default 1)")
    regions.add_argument(
        "--points",
        type=Path,
        help="CSV file with columns x,y,label (optional header line); labels like + and - or "
        "integers",
    )
    regions.add_argument("--resolution", type=int, default=400, help="grid nodes per axis")
    regions.add_argument("--out", type=Path, required=True, help="PNG file to write")

    knn = add_command(subparsers, "knn", run)
    knn.add_argument(
        "--data",
        default="cifar10",
        help="'cifar10' (searched for in the data folders), 'sample' (the bundled sample) or "
        "a path to a CIFAR-10 copy (anything load_cifar10_raw reads)",
    )
    knn.add_argument("--train", type=int, default=5000, help="training images (default 5000)")
    knn.add_argument("--test", type=int, default=500, help="test images (default 500)")
    knn.add_argument(
        "--k",
        type=int,
        nargs="+",
        help=f"values of k (default 1; with --cv {' '.join(map(str, DEFAULT_CV_KS))})",
    )
    knn.add_argument("--metric", choices=METRICS, default="l2", help="distance (default l2)")
    knn.add_argument("--cv", action="store_true", help="cross-validate k on the training subset")
    knn.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    add_seed_option(knn, "seed of the subsets and folds")
    knn.add_argument(
        "--out", type=Path, help=f"folder for {RESULTS_NAME} (and {PLOT_NAME} with --cv)"
    )


def read_points(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Points (N, 2) and labels (N,) from a CSV of ``x,y,label`` rows.

    A first row that does not start with a number is a header. Labels are integers when all of them
    are, else strings.
    """
    rows: list[tuple[float, float, str]] = []
    first = True
    with open(path, newline="") as f:
        for line, row in enumerate(csv.reader(f), start=1):
            row = [cell.strip() for cell in row]
            if not any(row):
                continue
            if len(row) != 3:
                raise ValueError(f"{path}:{line}: expected 3 columns x,y,label, got {row}")
            try:
                rows.append((float(row[0]), float(row[1]), row[2]))
            except ValueError:
                if not first:
                    raise ValueError(
                        f"{path}:{line}: x and y must be numbers, got {row[0]!r}, {row[1]!r}"
                    ) from None
            first = False
    if not rows:
        raise ValueError(f"{path}: no points found")
    points = np.array([r[:2] for r in rows], dtype=np.float64)
    labels = [r[2] for r in rows]
    try:
        return points, np.array([int(v) for v in labels])
    except ValueError:
        return points, np.array(labels)


def run_regions(args: argparse.Namespace) -> int:
    """Draw k-NN decision regions of labelled 2-D points.

    The decision regions of a k-nearest-neighbour classifier (L2) on 2-D points; for k=1
    also the Voronoi cells. Without --points: the seven points of the k-NN exercise, (1,3)+
    (-4,-2)+ (-3,-1.5)- (3,3)- (0,-2)+ (-2,0)+ (-2,4)-.
    Writes the figure as a PNG file.
    """
    from cnnlab.viz.regions import SEED_LABELS, SEED_POINTS, plot_decision_regions

    if args.points is None:
        points, labels = SEED_POINTS, SEED_LABELS
    else:
        points, labels = read_points(args.points)
    plot_decision_regions(points, labels, k=args.k, resolution=args.resolution, path=args.out)
    print(f"wrote {args.out} ({len(points)} points, k={args.k})")
    return 0


def subsample(n_total: int, n: int, rng: np.random.Generator, what: str) -> np.ndarray:
    """``n`` distinct indices drawn uniformly from ``range(n_total)``."""
    if not 1 <= n <= n_total:
        raise ValueError(f"knn: --{what} must be in 1..{n_total} (images available), got {n}")
    return rng.choice(n_total, size=n, replace=False)


def _write_json(path: Path, payload: dict) -> None:
    from cnnlab.viz._common import write_bytes_atomic

    write_bytes_atomic(path, (json.dumps(payload, indent=2) + "\n").encode())


def _cross_validate(
    args: argparse.Namespace,
    model: KNearestNeighbor,
    Xtr: np.ndarray,
    ytr: np.ndarray,
    Xte: np.ndarray,
    yte: np.ndarray,
    ks: list[int],
    results: dict,
) -> dict[int, np.ndarray]:
    """Cross-validate k on (Xtr, ytr), print the table and score the best k on (Xte, yte).

    The best k is scored with the fitted ``model``; fills ``results`` and returns the per-fold
    accuracies.
    """
    scores = cross_validate_k(Xtr, ytr, ks, folds=args.folds, seed=args.seed, metric=args.metric)
    means = {k: float(np.mean(v)) for k, v in scores.items()}
    best = max(ks, key=lambda k: (means[k], -k))  # highest mean, the smaller k on a tie
    print(f"{args.folds}-fold cross-validation on the training subset:")
    print("    k   mean    std   folds")
    for k in ks:
        folds = " ".join(f"{a:.3f}" for a in scores[k])
        print(f"{k:5d}  {means[k]:.4f} {np.std(scores[k]):.4f}  {folds}")
    test_acc = accuracy(yte, model.predict(Xte, k=best, metric=args.metric))
    print(f"best k = {best} (cv {means[best]:.4f}); test accuracy {test_acc:.4f}")
    results["cv"] = {
        "folds": args.folds,
        "accuracies": {str(k): scores[k].tolist() for k in ks},
        "mean": {str(k): means[k] for k in ks},
        "std": {str(k): float(np.std(scores[k])) for k in ks},
        "best_k": best,
    }
    results["test_accuracy"] = {str(best): test_acc}
    return scores


def run(args: argparse.Namespace) -> int:
    """k-NN on raw CIFAR-10 pixels (accuracy per k, cross-validation).

    k-nearest-neighbour classification of raw CIFAR-10 pixels on random subsets of the training
    and test sets; prints the accuracies and, with --out, writes them as JSON.
    """
    from cnnlab.data.cifar10 import load_cifar10_raw

    if args.folds < 2:
        raise ValueError(f"knn: --folds must be at least 2, got {args.folds}")
    ks = list(args.k) if args.k else list(DEFAULT_CV_KS if args.cv else (1,))
    X_train, y_train, X_test, y_test = load_cifar10_raw(
        None if args.data == "cifar10" else args.data
    )
    rng = np.random.default_rng(args.seed)
    tr = subsample(len(X_train), args.train, rng, "train")
    te = subsample(len(X_test), args.test, rng, "test")
    Xtr = np.asarray(X_train[tr], dtype=np.float64).reshape(len(tr), -1)
    Xte = np.asarray(X_test[te], dtype=np.float64).reshape(len(te), -1)
    ytr, yte = np.asarray(y_train)[tr], np.asarray(y_test)[te]
    print(f"k-NN ({args.metric}) on raw pixels: {len(tr)} train, {len(te)} test, data {args.data}")
    model = KNearestNeighbor().fit(Xtr, ytr)
    results: dict = {
        "data": args.data,
        "train": len(tr),
        "test": len(te),
        "seed": args.seed,
        "metric": args.metric,
        "subsample": "simple random, without replacement",
    }
    if args.cv:
        scores = _cross_validate(args, model, Xtr, ytr, Xte, yte, ks, results)
    else:
        predictions = model.predict_ks(Xte, ks, metric=args.metric)
        results["test_accuracy"] = {}
        for k in ks:
            acc = results["test_accuracy"][str(k)] = accuracy(yte, predictions[k])
            print(f"k = {k:3d}: test accuracy {acc:.4f} ({round(acc * len(te))}/{len(te)})")
    if args.out is not None:
        _write_json(args.out / RESULTS_NAME, results)
        print(f"wrote {args.out / RESULTS_NAME}")
        if args.cv:
            from cnnlab.viz.regions import plot_k_accuracy

            plot_k_accuracy(
                scores,
                title=f"k-NN on raw pixels ({args.data}, {len(tr)} train)",
                path=args.out / PLOT_NAME,
            )
            print(f"wrote {args.out / PLOT_NAME}")
    return 0
