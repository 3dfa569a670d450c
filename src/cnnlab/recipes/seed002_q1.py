"""Seed 002, question 1: the sparse autoencoder's part D sweep and part B's framework twin.

Both train on grey 16 x 16 patches of scikit-image's photos, normalised as the seed does
(:func:`cnnlab.data.patches.preprocess_patches`; the seed's own assign3_data1.h5 is not
bundled), 10,240 for training and 100 held out, with the seed's beta 0.01 and rho 0.05.
``tiny`` runs take 200 patches of 8 x 8 and a handful of steps.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.autoencoder import PART_D_SETTINGS, SparseAutoencoder
from cnnlab.data.patches import preprocess_patches, sample_patches, skimage_photos
from cnnlab.viz.autoencoder import (
    plot_cost,
    plot_framework_twin,
    plot_hidden_weights,
    plot_sweep_reconstructions,
)

BETA, RHO = 0.01, 0.05
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


def sweep(
    data: np.ndarray,
    test: np.ndarray,
    out: Path,
    fit: Callable[[int, float], SparseAutoencoder],
    summary: Callable[[SparseAutoencoder], dict[str, Any]],
) -> list[dict[str, Any]]:
    """Part D's six autoencoders (:data:`~cnnlab.autoencoder.PART_D_SETTINGS`) into ``out``.

    Writes weights_h<L>_lam<lambda>.npz and hidden_weights_h<L>_lam<lambda>.png per setting,
    sweep_reconstructions.png (the most structured held-out patch and its six
    reconstructions) and cost.png (every cost history).

    Args:
        data: (N, p*p) training patches.
        test: (M, p*p) held-out patches.
        out: the output folder.
        fit: ``fit(hidden, lambda)`` returns a trained model.
        summary: what to record of each trained model.

    Returns:
        One dict per setting: hidden, lambda, ``summary(model)`` and the squared error of the
        chosen patch's reconstruction.
    """
    patch = chosen_patch(test)
    runs, recons, histories = [], {}, {}
    for hidden, lam in PART_D_SETTINGS:
        tag = f"h{hidden}_lam{lam:g}"
        model = fit(hidden, lam)
        model.save(out / f"weights_{tag}.npz")
        label = f"Lhid={hidden}, λ={lam:g}"
        plot_hidden_weights(model.W1, label, save=out / f"hidden_weights_{tag}.png")
        recons[label] = model.reconstruct(patch)[0]
        histories[label] = model.cost_history
        error = float(np.sum((recons[label] - patch[0]) ** 2))
        runs.append({"hidden": hidden, "lambda": lam, **summary(model), "patch_error": error})
    plot_sweep_reconstructions(patch[0], recons, save=out / "sweep_reconstructions.png")
    plot_cost(histories, save=out / "cost.png")
    return runs


def part_d_sweep(out: Path, tiny: bool = False, seed: int = 0) -> dict[str, Any]:
    """Part D as the seed: :func:`sweep` with L-BFGS, 400 iterations (tiny: 5) per model.

    Returns:
        The patch count and size, and per setting: hidden, lambda, iterations, final cost,
        test MSE, mean hidden activation and the chosen patch's squared error.
    """
    data, test = patch_data(tiny, seed)
    iters = 5 if tiny else 400

    def fit(hidden: int, lam: float) -> SparseAutoencoder:
        model = SparseAutoencoder(data.shape[1], hidden, lam, BETA, RHO, seed=seed)
        return model.fit(data, "lbfgs", iters)

    def summary(model: SparseAutoencoder) -> dict[str, Any]:
        err = model.reconstruct(test) - test
        return {
            "iterations": model.fit_info["iterations"],
            "final_cost": model.cost_history[-1],
            "test_mse": float(np.mean(err * err)),
            "mean_hidden_activation": float(model.encode(test).mean()),
        }

    runs = sweep(data, test, out, fit, summary)
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
