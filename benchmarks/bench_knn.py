"""k-NN benchmark: distance-matrix speed against scikit-learn, and the CIFAR-10 raw-pixel baseline.

Run from the repository root (scikit-learn is the timing peer here only; it is not a cnnlab
dependency: ``pip install scikit-learn``)::

    python benchmarks/bench_knn.py [--data cifar10|PATH] [--repeat 5] [--threads 1]

1. Times, side by side in this process, the no-loop L2 distance matrix of
   :class:`cnnlab.knn.KNearestNeighbor` (500 x 5000 x 3072, float64) against scikit-learn's
   brute-force ``sklearn.metrics.pairwise_distances`` (Euclidean), and the same for L1 on a
   100-row slice; then one_loop and two_loops against no_loops on a 50 x 500 x 3072 slice.
   Inputs are uniform random pixels in [0, 255). Each time is the best of ``--repeat`` runs,
   alternating the contenders, all with ``--threads`` BLAS threads (threadpoolctl); only ratios
   are meaningful on a shared machine.
2. Runs ``cnnlab knn`` on raw CIFAR-10 pixels (5000 train / 500 test, seed 0): the k=1 test
   accuracy, then 5-fold cross-validation of k and the best k's test accuracy.
3. Draws the 1-NN and 3-NN decision regions of the exercise's seven points.

Writes benchmarks/out/knn.json and PNGs (100 dpi) under benchmarks/figures/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from cnnlab.cli import knn as knn_cli
from cnnlab.knn import METHODS, KNearestNeighbor
from cnnlab.viz._common import write_bytes_atomic
from cnnlab.viz.regions import SEED_LABELS, SEED_POINTS, plot_decision_regions

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
FIGURES = HERE / "figures"


def best_of(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Best wall time in seconds of each callable over ``repeat`` interleaved rounds."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def bench_vs_sklearn(rng: np.random.Generator, repeat: int) -> dict:
    from sklearn import __version__ as sklearn_version
    from sklearn.metrics import pairwise_distances

    D = 3072
    train = rng.uniform(0, 255, size=(5000, D))
    test = rng.uniform(0, 255, size=(500, D))
    model = KNearestNeighbor().fit(train, np.zeros(len(train)))
    out = {"sklearn_version": sklearn_version, "inputs": "uniform [0, 255) float64"}
    for metric, sk_metric, rows in (("l2", "euclidean", 500), ("l1", "manhattan", 100)):
        q = test[:rows]
        fns = {
            "cnnlab_no_loops": lambda q=q, m=metric: model.compute_distances(q, metric=m),
            "sklearn_pairwise_distances": lambda q=q, m=sk_metric: pairwise_distances(
                q, train, metric=m
            ),
        }
        times = best_of(fns, repeat if metric == "l2" else max(1, repeat // 2))
        ours = model.compute_distances(q, metric=metric)
        theirs = pairwise_distances(q, train, metric=sk_metric)
        out[metric] = {
            "shape": [rows, len(train), D],
            "seconds": times,
            "ratio_cnnlab_over_sklearn": times["cnnlab_no_loops"]
            / times["sklearn_pairwise_distances"],
            "max_rel_diff": float(np.max(np.abs(ours - theirs) / theirs)),
        }
        print(
            f"{metric} {rows}x{len(train)}x{D}: cnnlab {times['cnnlab_no_loops']:.3f} s, "
            f"sklearn {times['sklearn_pairwise_distances']:.3f} s, ratio "
            f"{out[metric]['ratio_cnnlab_over_sklearn']:.2f}"
        )
    return out


def bench_loops(rng: np.random.Generator, repeat: int) -> dict:
    D = 3072
    model = KNearestNeighbor().fit(rng.uniform(0, 255, size=(500, D)), np.zeros(500))
    q = rng.uniform(0, 255, size=(50, D))
    fns = {m: (lambda m=m: model.compute_distances(q, method=m)) for m in METHODS}
    times = best_of(fns, repeat)
    ratios = {m: times[m] / times["no_loops"] for m in times}
    print("loops 50x500x3072:", {m: f"{t:.4f} s ({ratios[m]:.0f}x)" for m, t in times.items()})
    return {"shape": [50, 500, D], "seconds": times, "ratio_over_no_loops": ratios}


def run_cli(argv: list[str]) -> dict:
    """Run ``cnnlab knn`` with ``argv`` plus a temporary --out; return its JSON and the folder."""
    parser = argparse.ArgumentParser(prog="cnnlab")
    knn_cli.register(parser.add_subparsers(dest="command"))
    out = Path(tempfile.mkdtemp(dir=OUT, prefix=".knn-"))
    args = parser.parse_args(["knn", *argv, "--out", str(out)])
    start = time.perf_counter()
    args.func(args)
    seconds = time.perf_counter() - start
    result = json.loads((out / knn_cli.RESULTS_NAME).read_text())
    result["seconds"] = seconds
    plot = out / knn_cli.PLOT_NAME
    if plot.exists():
        os.replace(plot, FIGURES / "knn_accuracy_vs_k.png")
    (out / knn_cli.RESULTS_NAME).unlink()
    out.rmdir()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="cifar10", help="as `cnnlab knn --data`")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="BLAS threads for every contender (default 1: on a busy shared machine, threaded "
        "BLAS times swing by 10x or more from one call to the next)",
    )
    opts = parser.parse_args()
    with threadpool_limits(limits=opts.threads, user_api="blas"):
        run_all(opts)


def run_all(opts: argparse.Namespace) -> None:
    OUT.mkdir(exist_ok=True)
    FIGURES.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    report = {
        "command": f"python benchmarks/bench_knn.py --data {opts.data} --repeat {opts.repeat} "
        f"--threads {opts.threads}",
        "blas_threads": opts.threads,
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "numpy": np.__version__,
            "load_average_at_start": os.getloadavg(),
        },
        "distances_vs_sklearn": bench_vs_sklearn(rng, opts.repeat),
        "loops": bench_loops(rng, opts.repeat),
    }
    for k in (1, 3):
        plot_decision_regions(SEED_POINTS, SEED_LABELS, k=k, path=FIGURES / f"knn_regions_k{k}.png")
    common = ["--data", opts.data, "--train", "5000", "--test", "500", "--seed", "0"]
    report["cifar10"] = {
        "note": "CIFAR-10, JPEG copy (../shared/data/cifar10-jpeg.zip) unless --data says "
        "otherwise; raw pixels as float64, L2; simple random subsets, seed 0",
        "k1": run_cli([*common, "--k", "1"]),
        "cv": run_cli([*common, "--cv", "--folds", "5"]),
    }
    path = OUT / "knn.json"
    write_bytes_atomic(path, (json.dumps(report, indent=2) + "\n").encode())
    print(f"wrote {path} and {FIGURES}/knn_*.png")


if __name__ == "__main__":
    main()
