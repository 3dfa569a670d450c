"""``cnnlab autoencoder``: train the sparse autoencoder on natural image patches (seed 002, Q1).

Writes into ``--out``: patches.png (part A), hidden_weights.png (part C), reconstructions.png,
cost.png, weights.npz and results.json. With ``--sweep``, trains the six models of part D
(Lhid 10, 60, 100 at lambda 5e-4; lambda 0, 1e-4, 1e-3 at Lhid 64) and writes
hidden_weights_h<L>_lam<lambda>.png and weights_h<L>_lam<lambda>.npz for each, one chosen test
patch (the held-out patch of largest variance) reconstructed by every setting
(sweep_reconstructions.png), their cost curves (cost.png) and results.json.

Patch sources (``--source``): scikit-image's five photos (the default, the seed's kind of data),
the first 10,000 CIFAR-10 training photos (``cifar10``), or every image in a folder; or the
patches of an HDF5 file (``--h5``). ``--whiten`` flattens the images' spectrum first
(:func:`cnnlab.data.patches.whiten_images`).

The defaults are the seed's parameters. Its beta 0.01 is too weak to make the code sparse (the
mean hidden activation stays near 0.2-0.3, not rho = 0.05), so the weights come out as blobs;
``--whiten --beta 0.5 --iters 1500`` gives localised oriented edge filters at the seed's sizes,
and ``--source cifar10 --whiten --patch-size 8 --hidden 25 --lambda 1e-4 --beta 3 --rho 0.01
--patches 10000`` is the classic UFLDL exercise. results.json reports the mean activation and,
under ``filters``, how localised and oriented the learned filters are (:mod:`cnnlab.filters`).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab._io import atomic_open
from cnnlab.autoencoder import DEFAULT_ITERS, DEFAULT_LR, OPTIMIZERS
from cnnlab.autoencoder import SparseAutoencoder as Model
from cnnlab.cli._common import add_command, add_quiet_option, add_seed_option
from cnnlab.data.patches import (
    cifar10_images,
    load_h5_patches,
    load_image_folder,
    preprocess_patches,
    sample_patches,
    skimage_photos,
    whiten_images,
)
from cnnlab.filters import filter_summary
from cnnlab.recipes.seed002_q1 import sweep
from cnnlab.viz.autoencoder import (
    plot_cost,
    plot_hidden_weights,
    plot_patches,
    plot_reconstructions,
)

NUM_TEST = 100
CIFAR10_IMAGES = 10000


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``autoencoder`` sub-command."""
    p = add_command(subparsers, "autoencoder", run)
    p.add_argument(
        "--patches",
        type=int,
        default=None,
        help="training patches (default 10240; with --h5: all in the file)",
    )
    p.add_argument("--patch-size", type=int, default=16, help="patch side p (default 16)")
    p.add_argument("--hidden", type=int, default=64, help="hidden units Lhid (default 64)")
    p.add_argument(
        "--lambda", dest="lam", type=float, default=5e-4, help="weight decay (default 5e-4)"
    )
    p.add_argument(
        "--beta",
        type=float,
        default=0.01,
        help="sparsity weight (default 0.01, the seed's; 0.3-1 makes the code "
        "sparse and the filters localised edges)",
    )
    p.add_argument("--rho", type=float, default=0.05, help="sparsity target (default 0.05)")
    p.add_argument(
        "--optimizer",
        choices=OPTIMIZERS,
        default="lbfgs",
        help="lbfgs (SciPy L-BFGS-B), adam or gd (full-batch; the seed's)",
    )
    p.add_argument(
        "--iters",
        type=int,
        default=None,
        help="iterations/epochs (default: lbfgs 400, adam 5000, gd 5000)",
    )
    p.add_argument(
        "--lr", type=float, default=None, help="learning rate (default: gd 0.35, adam 1e-3)"
    )
    p.add_argument(
        "--batch-size", type=int, default=None, help="Adam mini-batch size (default: full batch)"
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument(
        "--source",
        default="skimage",
        metavar="SOURCE",
        help="images to cut patches from: 'skimage' (scikit-image's photos, "
        "default), 'cifar10' (the first 10,000 CIFAR-10 training photos) "
        "or a folder of image files",
    )
    source.add_argument(
        "--h5",
        metavar="FILE",
        help="read patches (N, 3, p, p) from an HDF5 file like assign3_data1.h5",
    )
    p.add_argument(
        "--whiten",
        action="store_true",
        help="whiten the images before cutting patches (Olshausen's 1/f filter, as "
        "for UFLDL's IMAGES.mat); not with --h5",
    )
    add_seed_option(p)
    p.add_argument("--out", default="autoencoder_out", help="output folder")
    p.add_argument(
        "--sweep",
        action="store_true",
        help="part D: Lhid 10, 60, 100 at lambda 5e-4 and lambda 0, 1e-4, 1e-3 at Lhid 64",
    )
    add_quiet_option(p, "no progress bar or messages")


def _load_data(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, str]:
    """RGB patches (N, 3, p, p), held-out or shown patches (M, 3, p, p), and a source label.

    Image sources give N = --patches training patches plus 100 held-out ones; an HDF5 file's
    patches (a random --patches of them if given) are all used for training, and 100 of them
    are shown as reconstructions, as the seed did.
    """
    rng = np.random.default_rng(args.seed)
    if args.h5:
        rgb = load_h5_patches(args.h5)
        if args.patches is not None and args.patches < len(rgb):
            rgb = rgb[np.sort(rng.choice(len(rgb), args.patches, replace=False))]
        shown = rng.choice(len(rgb), min(NUM_TEST, len(rgb)), replace=False)
        return rgb, rgb[shown], f"h5:{args.h5}"
    n = 10240 if args.patches is None else args.patches
    images, label = _load_images(args.source)
    if args.whiten:
        images, label = whiten_images(images), f"{label}, whitened"
    rgb = sample_patches(images, n + NUM_TEST, args.patch_size, rng)
    return rgb[:n], rgb[n:], label


def _load_images(source: str) -> tuple[Sequence[np.ndarray], str]:
    """The images named by --source and a label for results.json."""
    if source == "skimage":
        return skimage_photos(), "skimage photos"
    if source == "cifar10":
        return cifar10_images(CIFAR10_IMAGES), f"cifar10 (first {CIFAR10_IMAGES} train images)"
    return load_image_folder(source), f"images:{source}"


def _fit(args, data, lhid: int, lam: float) -> Model:
    model = Model(data.shape[1], lhid, lam, args.beta, args.rho, seed=args.seed)
    return model.fit(
        data, args.optimizer, args.iters, args.lr, args.batch_size, verbose=not args.quiet
    )


def _summary(model: Model, test: np.ndarray) -> dict[str, Any]:
    info = dict(model.fit_info)
    err = model.reconstruct(test) - test
    info["test_mse"] = float(np.mean(err * err))
    info["mean_hidden_activation"] = float(model.encode(test).mean())
    info["filters"] = filter_summary(model.hidden_filters)
    return info


def run(args: argparse.Namespace) -> int:
    """Train a sparse autoencoder on natural image patches.

    Trains a sparse autoencoder (one sigmoid hidden layer, weight decay, KL sparsity) on random
    grey patches of natural photos, draws its hidden weights and saves it. Patches come from
    scikit-image's photos unless --source or --h5.
    """
    if args.patches is not None and args.patches < 1:
        raise ValueError(f"autoencoder: --patches must be positive, got {args.patches}")
    if args.whiten and args.h5:
        raise ValueError("autoencoder: --whiten works on images, not on --h5 patches")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    say = (lambda *a: None) if args.quiet else print
    rgb, rgb_test, source = _load_data(args)
    grey = preprocess_patches(np.concatenate([rgb, rgb_test]))
    data, test = grey[: len(rgb)], grey[len(rgb) :]
    # whitened images have zero mean and unit variance: show +-3 standard deviations
    shown = 0.5 + rgb / 6 if args.whiten else rgb
    plot_patches(shown, data, seed=args.seed, save=out / "patches.png")
    results: dict[str, Any] = {
        "source": source,
        "num_patches": len(data),
        "patch_size": int(rgb.shape[-1]),
        "beta": args.beta,
        "rho": args.rho,
        "optimizer": args.optimizer,
        "iters": DEFAULT_ITERS[args.optimizer] if args.iters is None else args.iters,
        "lr": DEFAULT_LR.get(args.optimizer) if args.lr is None else args.lr,
        "seed": args.seed,
    }
    start = time.perf_counter()
    if args.sweep:

        def fit(lhid: int, lam: float) -> Model:
            say(f"autoencoder: training Lhid={lhid}, lambda={lam:g}")
            return _fit(args, data, lhid, lam)

        results["sweep"] = sweep(data, test, out, fit, lambda model: _summary(model, test))
    else:
        model = _fit(args, data, args.hidden, args.lam)
        model.save(out / "weights.npz")
        plot_hidden_weights(model.W1, save=out / "hidden_weights.png")
        plot_reconstructions(test, model.reconstruct(test), save=out / "reconstructions.png")
        plot_cost(model.cost_history, save=out / "cost.png")
        results.update(hidden=args.hidden, **{"lambda": args.lam}, **_summary(model, test))
    results["total_seconds"] = time.perf_counter() - start
    with atomic_open(out / "results.json") as f:
        f.write(json.dumps(results, indent=2).encode())
    say(f"autoencoder: wrote {out}/ ({results['total_seconds']:.1f} s)")
    return 0
