"""Sparse autoencoder benchmark (seed 002, question 1).

Measures, in one process:

1. ``cost_eval``: one cost-and-gradient evaluation on the seed's problem (10,240 patches of
   16x16, 64 hidden units) by cnnlab's ``flat_cost``, by the seed's formulation (bias columns
   appended with ``np.append``, the sparsity term tiled to N rows, sigmoid as exp/(1+exp); its
   weight-decay bug fixed so that all three compute the same numbers) and by PyTorch autograd
   (CPU, float64). Reported as ratios.
2. ``seed_setting``: Lhid 64, lambda 5e-4, beta 0.01, rho 0.05 on 10,240 16x16 patches of
   scikit-image's photos, from one initialisation: L-BFGS (at most 400 iterations) against the
   seed's 5000 full-batch gradient-descent epochs at lr 0.35. The seed reported 0.937 after its
   5000 epochs on its own data set (assign3_data1.h5, not available here).
3. ``ufldl``: the classic UFLDL exercise (8x8 patches, 25 hidden, lambda 1e-4, beta 3,
   rho 0.01, 10,000 patches, 400 L-BFGS iterations) on four patch sources: the raw
   scikit-image photos (cnnlab's default), the same photos whitened
   (:func:`cnnlab.data.patches.whiten_images`, Olshausen & Field's filter, which is how UFLDL's
   IMAGES.mat was made), and the first 10,000 CIFAR-10 training photos, raw and whitened.
   The raw-photo model is then trained on (up to 4000 more iterations) to see whether 400
   iterations were enough, and the whitened CIFAR-10 patches also train 100 hidden units.
4. ``sparsity_sweep``: what it takes to get localised oriented edges at the seed's size
   (Lhid 64, lambda 5e-4, rho 0.05, 10,240 16x16 patches): beta from the seed's 0.01 up to
   UFLDL's 3 on whitened scikit-image photos, plus beta 0.5 on the raw photos, 1500 L-BFGS
   iterations each, two runs at a time in separate processes of one BLAS thread each.

Every model's hidden weights are summarised by :func:`cnnlab.filters.filter_summary`: median
localisation (share of a unit's squared weights in its best p/2 x p/2 window; 0.25 spread
evenly, 1 confined to a quarter of the patch), median orientation selectivity (0 isotropic,
1 a single orientation) and the share of units with both >= 0.5 ("localised oriented").

Writes benchmarks/out/autoencoder.json and PNG figures into benchmarks/figures/.
Run: ``python benchmarks/bench_autoencoder.py`` (``--quick`` for a smoke run). On a shared,
loaded machine, ``OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1`` gives far steadier timings.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from cnnlab._io import atomic_open
from cnnlab.autoencoder import SparseAutoencoder
from cnnlab.data.patches import (
    cifar10_images,
    preprocess_patches,
    sample_patches,
    skimage_photos,
    whiten_images,
)
from cnnlab.filters import filter_summary
from cnnlab.functional.sparse_autoencoder import flat_cost, init_weights, pack
from cnnlab.viz._common import finish, new_figure
from cnnlab.viz.autoencoder import plot_cost, plot_hidden_weights

HERE = Path(__file__).resolve().parent
SEED_REPORTED_GD_COST = 0.9372525678465
SEED_REPORTED_INITIAL_COST = 3.3388826847076416


# ----------------------------------------------------------------------------- 1. cost eval


def seed_style_cost(W1, W2, b1, b2, X, lam, beta, rho):
    """The seed's aeCost formulation (augmented matrices, tiled KL term), bug fixed."""
    n = X.shape[0]

    def sig(v):
        e = np.exp(v)
        return e / (1 + e)

    ones = np.ones((n, 1))
    z = sig(np.matmul(np.append(X, ones, axis=1), np.append(W1, b1[None, :], axis=0)))
    out = sig(np.matmul(np.append(z, ones, axis=1), np.append(W2, b2[None, :], axis=0)))
    zm = np.mean(z, axis=0)
    J = (
        np.sum((X - out) ** 2) / (2 * n)
        + lam / 2 * (np.sum(W1**2) + np.sum(W2**2))
        + beta * np.sum(rho * np.log(rho / zm) + (1 - rho) * np.log((1 - rho) / (1 - zm)))
    )
    d_out = -(X - out) * out * (1 - out)
    kl = np.tile(beta * (-(rho / zm) + (1 - rho) / (1 - zm)), (n, 1)).T
    d_hid = (np.matmul(W2, d_out.T) + kl) * (z * (1 - z)).T
    gW2 = np.matmul(d_out.T, z).T / n + lam * W2
    gW1 = np.matmul(X.T, d_hid.T) / n + lam * W1
    return J, (gW1, gW2, np.mean(d_hid, axis=1), np.mean(d_out, axis=0))


def torch_cost(weights, X, lam, beta, rho):
    W1, W2, b1, b2 = (torch.tensor(w, requires_grad=True) for w in weights)
    d = torch.from_numpy(X)
    h = torch.sigmoid(d @ W1 + b1)
    o = torch.sigmoid(h @ W2 + b2)
    r = h.mean(0)
    J = (
        ((d - o) ** 2).sum() / (2 * d.shape[0])
        + lam / 2 * ((W1**2).sum() + (W2**2).sum())
        + beta * (rho * torch.log(rho / r) + (1 - rho) * torch.log((1 - rho) / (1 - r))).sum()
    )
    J.backward()
    return J.item(), [w.grad.numpy() for w in (W1, W2, b1, b2)]


def best_time(f, repeats: int) -> float:
    f()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def bench_cost_eval(X, repeats: int) -> dict:
    lam, beta, rho = 5e-4, 0.01, 0.05
    weights = init_weights(X.shape[1], 64, seed=45)
    theta = pack(weights)
    params = (X.shape[1], 64, lam, beta, rho)
    J, g = flat_cost(theta, X, params)
    J_seed, g_seed = seed_style_cost(*weights, X, lam, beta, rho)
    J_torch, g_torch = torch_cost(weights, X, lam, beta, rho)
    times = {
        "cnnlab_s": best_time(lambda: flat_cost(theta, X, params), repeats),
        "seed_style_s": best_time(lambda: seed_style_cost(*weights, X, lam, beta, rho), repeats),
        "torch_autograd_s": best_time(lambda: torch_cost(weights, X, lam, beta, rho), repeats),
    }
    return {
        **times,
        "seed_style_over_cnnlab": times["seed_style_s"] / times["cnnlab_s"],
        "torch_over_cnnlab": times["torch_autograd_s"] / times["cnnlab_s"],
        "max_rel_diff_vs_seed_style": float(np.max(np.abs(g - pack(g_seed))) / np.max(np.abs(g))),
        "max_rel_diff_vs_torch": float(np.max(np.abs(g - pack(g_torch))) / np.max(np.abs(g))),
        "cost_rel_diff": [abs(J - J_seed) / J, abs(J - J_torch) / J],
        "initial_cost": J,
    }


# ----------------------------------------------------------------------------- 2. seed setting


def timed_fit(model, X, optimizer, iters, lr=None):
    """Fit and return the wall-clock time after each iteration (list, seconds)."""
    start = time.perf_counter()
    stamps = [0.0]
    model.fit(
        X, optimizer, iters, lr, callback=lambda it, c: stamps.append(time.perf_counter() - start)
    )
    return stamps


def bench_seed_setting(X, lbfgs_iters: int, gd_epochs: int, figures: Path) -> dict:
    runs, curves = {}, {}
    for name, optimizer, iters, lr in (
        ("lbfgs", "lbfgs", lbfgs_iters, None),
        ("gd", "gd", gd_epochs, 0.35),
    ):
        model = SparseAutoencoder(X.shape[1], 64, 5e-4, 0.01, 0.05, seed=45)
        stamps = timed_fit(model, X, optimizer, iters, lr)
        info = model.fit_info
        runs[name] = {
            k: info[k]
            for k in ("iterations", "function_evaluations", "seconds", "initial_cost", "final_cost")
        }
        runs[name]["mean_activation_median"] = float(np.median(model.encode(X).mean(axis=0)))
        runs[name]["filters"] = filter_summary(model.hidden_filters)
        curves[name] = (np.array(stamps), np.array(model.cost_history))
        label = (
            f"L-BFGS, {info['iterations']} iterations"
            if name == "lbfgs"
            else f"gradient descent, lr 0.35, {iters} epochs"
        )
        title = f"Lhid 64, lambda 5e-4: {label}, J = {info['final_cost']:.4f}"
        plot_hidden_weights(model.W1, title, save=figures / f"autoencoder_seed_{name}_weights.png")
    gd_final = runs["gd"]["final_cost"]
    t_l, c_l = curves["lbfgs"]
    reached = np.flatnonzero(c_l[: len(t_l)] <= gd_final)
    runs["lbfgs_reaches_gd_final_cost"] = (
        {"iteration": int(reached[0]), "seconds": float(t_l[reached[0]])} if reached.size else None
    )
    runs["gd_over_lbfgs_seconds"] = runs["gd"]["seconds"] / runs["lbfgs"]["seconds"]
    runs["seed_reported"] = {
        "initial_cost": SEED_REPORTED_INITIAL_COST,
        "gd_5000_epochs_cost": SEED_REPORTED_GD_COST,
        "keras_adam_cost": 0.2354,
    }
    plot_cost(
        {"L-BFGS": c_l, "gradient descent (lr 0.35)": curves["gd"][1]},
        title="seed setting: cost per iteration",
        save=figures / "autoencoder_seed_cost.png",
    )
    return runs


# ----------------------------------------------------------------------------- 3. UFLDL


def bench_ufldl(sources: dict, num_patches: int, iters: int, figures: Path) -> dict:
    out = {}
    runs = [(name, images, 25) for name, images in sources.items()]
    runs.append(("cifar10_whitened", sources["cifar10_whitened"], 100))
    for source, images, hidden in runs:
        name = source if hidden == 25 else f"{source}_h{hidden}"
        X = preprocess_patches(sample_patches(images, num_patches, 8, seed=0))
        model = SparseAutoencoder(64, hidden, 1e-4, 3.0, 0.01, seed=0)
        model.fit(X, "lbfgs", iters)
        info = model.fit_info
        out[name] = {
            k: info[k]
            for k in ("iterations", "function_evaluations", "seconds", "initial_cost", "final_cost")
        }
        out[name]["mean_hidden_activation"] = float(model.encode(X).mean())
        out[name]["filters"] = filter_summary(model.hidden_filters)
        plot_hidden_weights(
            model.W1,
            f"{name}\nJ = {info['final_cost']:.3f}",
            save=figures / f"autoencoder_ufldl_{name}.png",
        )
        if name == "skimage_photos":  # are 400 iterations enough? run on to convergence
            model.fit(X, "lbfgs", 10 * iters)
            out[name]["continued_to_convergence"] = {
                k: model.fit_info[k] for k in ("iterations", "message", "final_cost")
            }
    return out


# ----------------------------------------------------------------------------- 4. sparsity


SWEEP_BETAS = (0.01, 0.03, 0.1, 0.3, 0.5, 1.0, 3.0)


def _sweep_run(source: str, X: np.ndarray, beta: float, iters: int) -> dict:
    """One seed-sized model (in a worker process, one BLAS thread: two workers share the
    cores); returns its figures and weights."""
    model = SparseAutoencoder(X.shape[1], 64, 5e-4, beta, 0.05, seed=45)
    with threadpool_limits(1):
        model.fit(X, "lbfgs", iters)
    info = model.fit_info
    rho_hat = model.encode(X).mean(axis=0)
    return {
        "source": source,
        "beta": beta,
        **{k: info[k] for k in ("iterations", "seconds", "final_cost")},
        "mean_activation_median": float(np.median(rho_hat)),
        "mean_activation_max": float(rho_hat.max()),
        "filters": filter_summary(model.hidden_filters),
        "W1": model.W1,
    }


def bench_sparsity_sweep(
    X_white: np.ndarray, X_raw: np.ndarray, iters: int, figures: Path
) -> list[dict]:
    jobs = [("photos_whitened", X_white, b) for b in SWEEP_BETAS]
    jobs.append(("photos", X_raw, 0.5))
    with ProcessPoolExecutor(
        max_workers=min(2, os.cpu_count() or 1), mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        runs = list(pool.map(_sweep_run, *zip(*jobs, strict=True), [iters] * len(jobs)))
    for r in runs:
        W1 = r.pop("W1")
        if r["beta"] in (0.01, 0.5):
            f = r["filters"]
            plot_hidden_weights(
                W1,
                f"{r['source']}, beta {r['beta']:g}: J = {r['final_cost']:.3f}, "
                f"{100 * f['localised_oriented']:.0f}% localised oriented",
                save=figures / f"autoencoder_sweep_{r['source']}_beta{r['beta']:g}.png",
            )
    white = [r for r in runs if r["source"] == "photos_whitened"]
    fig = new_figure((6, 4))
    ax = fig.add_subplot(111)
    betas = [r["beta"] for r in white]
    ax.plot(
        betas,
        [r["mean_activation_median"] for r in white],
        "o-",
        label="median mean activation (target rho 0.05)",
    )
    ax.plot(
        betas,
        [r["filters"]["localised_oriented"] for r in white],
        "s-",
        label="share of localised oriented units",
    )
    ax.set_xscale("log")
    ax.set_xlabel("beta (sparsity weight)")
    ax.set_title("Lhid 64, lambda 5e-4, rho 0.05, whitened 16x16 patches")
    ax.grid(True, alpha=0.3)
    ax.legend()
    finish(fig, figures / "autoencoder_sweep_beta.png")
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--out", default=str(HERE / "out" / "autoencoder.json"))
    parser.add_argument("--figures", default=str(HERE / "figures"))
    args = parser.parse_args()
    figures = Path(args.figures)
    figures.mkdir(parents=True, exist_ok=True)
    n, lbfgs_iters, gd_epochs, ufldl_n, reps, sweep_iters = (
        (512, 20, 50, 500, 2, 20) if args.quick else (10240, 400, 5000, 10000, 10, 1500)
    )
    photos = skimage_photos()
    cifar = cifar10_images(10000)
    X = preprocess_patches(sample_patches(photos, n, 16, seed=0))
    cifar_whitened = whiten_images(cifar)
    thread_env = {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    result = {
        "command": " ".join(f"{k}={v}" for k, v in thread_env.items() if v)
        + " python benchmarks/bench_autoencoder.py"
        + (" --quick" if args.quick else ""),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_at_start": os.getloadavg(),
            "torch_threads": torch.get_num_threads(),
            "thread_env": thread_env,
        },
        "data": f"{n} random 16x16 patches of scikit-image's photos (seed 0), seed preprocessing; "
        "CIFAR-10: the first 10,000 training photos",
    }
    t0 = time.perf_counter()
    result["cost_eval"] = bench_cost_eval(X, reps)
    print("cost_eval", json.dumps(result["cost_eval"], indent=1))
    result["seed_setting"] = bench_seed_setting(X, lbfgs_iters, gd_epochs, figures)
    print("seed_setting", json.dumps(result["seed_setting"], indent=1))
    sources = {
        "skimage_photos": photos,
        "skimage_photos_whitened": whiten_images(photos),
        "cifar10": cifar,
        "cifar10_whitened": cifar_whitened,
    }
    result["ufldl"] = bench_ufldl(sources, ufldl_n, lbfgs_iters, figures)
    print("ufldl", json.dumps(result["ufldl"], indent=1))
    X_white = preprocess_patches(sample_patches(sources["skimage_photos_whitened"], n, 16, seed=0))
    result["sparsity_sweep"] = bench_sparsity_sweep(X_white, X, sweep_iters, figures)
    print("sparsity_sweep", json.dumps(result["sparsity_sweep"], indent=1))
    result["machine"]["load_average_at_end"] = os.getloadavg()
    result["total_seconds"] = time.perf_counter() - t0
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(out) as f:
        f.write(json.dumps(result, indent=2).encode())
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
