"""Seed 002, question 1: the sparse autoencoder's part D sweep and part B's framework twin.

Both train on grey 16 x 16 patches of scikit-image's photos, normalised as the seed does
(:func:`cnnlab.data.patches.preprocess_patches`; the seed's own assign3_data1.h5 is not
bundled), 10,240 for training and 100 held out, with the seed's beta 0.01 and rho 0.05.
``tiny`` runs take 200 patches of 8 x 8 and a handful of steps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.autoencoder import SparseAutoencoder
from cnnlab.data.patches import preprocess_patches, sample_patches, skimage_photos
from cnnlab.viz.autoencoder import (
    plot_cost,
    plot_framework_twin,
    plot_hidden_weights,
    plot_sweep_reconstructions,
)

BETA, RHO = 0.01, 0.05
#: part D: Lhid in {10, 60, 100} at the default lambda, lambda in {0, 1e-4, 1e-3} at Lhid 64
SWEEP = ((10, 5e-4), (60, 5e-4), (100, 5e-4), (64, 0.0), (64, 1e-4), (64, 1e-3))
#: part B: Lhid 64, lambda 5e-4, full-batch gradient descent at 0.35 for 5000 epochs
TWIN_HIDDEN, TWIN_LAMBDA, TWIN_LR, TWIN_STEPS = 64, 5e-4, 0.35, 5000
NUM_TEST = 100


def patch_data(tiny: bool, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Normalised grey patches: training (N, p*p) and held-out (100, p*p).

    N, p = 10,240, 16 (the seed's), or 200, 8 when ``tiny``.
    """
    num, size = (200, 8) if tiny else (10240, 16)
    rgb = sample_patches(skimage_photos(), num + NUM_TEST, size, np.random.default_rng(seed))
    grey = preprocess_patches(rgb)
    return grey[:num], grey[num:]


def chosen_patch(test: np.ndarray) -> np.ndarray:
    """The held-out patch of largest variance (the most structured), (1, p*p)."""
    return test[np.argmax(test.var(axis=1))][None, :]


def part_d_sweep(out: Path, tiny: bool = False, seed: int = 0) -> dict[str, Any]:
    """Part D: six autoencoders (L-BFGS, 400 iterations), their weight grids and one test patch.

    Writes hidden_weights_h<L>_lam<lambda>.png and weights_h<L>_lam<lambda>.npz per setting,
    sweep_reconstructions.png (the patch and its six reconstructions) and cost.png.

    Returns:
        Per setting: hidden, lambda, final cost, test MSE, mean hidden activation, and the
        squared error of the chosen patch's reconstruction.
    """
    data, test = patch_data(tiny, seed)
    patch = chosen_patch(test)
    iters = 5 if tiny else 400
    runs, recons, histories = [], {}, {}
    for hidden, lam in SWEEP:
        tag = f"h{hidden}_lam{lam:g}"
        model = SparseAutoencoder(data.shape[1], hidden, lam, BETA, RHO, seed=seed)
        model.fit(data, "lbfgs", iters)
        model.save(out / f"weights_{tag}.npz")
        label = f"Lhid={hidden}, λ={lam:g}"
        plot_hidden_weights(model.W1, label, save=out / f"hidden_weights_{tag}.png")
        recons[label] = model.reconstruct(patch)[0]
        histories[label] = model.cost_history
        err = model.reconstruct(test) - test
        runs.append(
            {
                "hidden": hidden,
                "lambda": lam,
                "iterations": model.fit_info["iterations"],
                "final_cost": model.cost_history[-1],
                "test_mse": float(np.mean(err * err)),
                "mean_hidden_activation": float(model.encode(test).mean()),
                "patch_squared_error": float(np.sum((recons[label] - patch[0]) ** 2)),
            }
        )
    plot_sweep_reconstructions(patch[0], recons, save=out / "sweep_reconstructions.png")
    plot_cost(histories, save=out / "cost.png")
    return {"num_patches": len(data), "patch_size": int(np.sqrt(data.shape[1])), "runs": runs}


def framework_twin(out: Path, tiny: bool = False, seed: int = 0) -> dict[str, Any]:
    """Part B: cnnlab and PyTorch train the same initial weights by the same gradient descent.

    cnnlab's hand-written cost and gradient (:class:`~cnnlab.autoencoder.SparseAutoencoder`,
    ``optimizer='gd'``) against autograd of the same cost written in torch
    (:func:`cnnlab.torch.autoencoder.train_gd_torch`), both float64, Lhid 64, lambda 5e-4,
    lr 0.35, 5000 full-batch steps (tiny: 20). Writes twin.png (both cost curves, their
    difference, and a test patch reconstructed by each).

    Returns:
        Initial and final cost of each, the largest cost and weight differences, and each
        one's squared reconstruction error of the test patch.
    """
    from cnnlab.torch.autoencoder import train_gd_torch

    data, test = patch_data(tiny, seed)
    patch = chosen_patch(test)
    steps = 20 if tiny else TWIN_STEPS
    model = SparseAutoencoder(data.shape[1], TWIN_HIDDEN, TWIN_LAMBDA, BETA, RHO, seed=seed)
    theta0 = model.theta.copy()
    model.fit(data, "gd", steps, TWIN_LR)
    theta_torch, history_torch = train_gd_torch(theta0, data, model.params, TWIN_LR, steps)
    twin = SparseAutoencoder(data.shape[1], TWIN_HIDDEN, TWIN_LAMBDA, BETA, RHO)
    twin.theta = theta_torch
    recons = {"cnnlab": model.reconstruct(patch)[0], "PyTorch": twin.reconstruct(patch)[0]}
    plot_framework_twin(
        {"cnnlab (hand-written gradient)": model.cost_history, "PyTorch (autograd)": history_torch},
        patch[0],
        recons,
        save=out / "twin.png",
    )
    gap = np.abs(np.asarray(model.cost_history) - np.asarray(history_torch))
    return {
        "steps": steps,
        "num_patches": len(data),
        "initial_cost": {"cnnlab": model.cost_history[0], "torch": history_torch[0]},
        "final_cost": {"cnnlab": model.cost_history[-1], "torch": history_torch[-1]},
        "max_cost_difference": float(gap.max()),
        "max_weight_difference": float(np.abs(model.theta - theta_torch).max()),
        "patch_squared_error": {
            name: float(np.sum((r - patch[0]) ** 2)) for name, r in recons.items()
        },
        "seconds": model.fit_info["seconds"],
    }
