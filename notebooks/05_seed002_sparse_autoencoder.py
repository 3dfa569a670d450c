# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Seed 002 Q1: the sparse autoencoder, parts A to D
#
# Sections covered, in the seed's order:
#
# - Part A: preprocessing (grey by luminosity, mean removed per patch, clipped at 3 standard
#   deviations, scaled to [0.1, 0.9]), 200 patches before and after
# - Part B: the cost (reconstruction, weight decay, KL sparsity) with its gradient, full-batch
#   gradient descent, and the same network in a framework (PyTorch here, Keras in the seed)
#   trained from the same start
# - Part C: the hidden units' weights as images
# - Part D: Lhid 10 / 60 / 100 at lambda 5e-4 and lambda 0 / 1e-4 / 1e-3 at Lhid 64
#
# The seed's patch file (assign3_data1.h5) is not bundled: 16 x 16 patches of scikit-image's
# photographs stand in. The runs are the recipes `seed002-q1-twin` and `seed002-q1-sweep`.

# %%
import numpy as np
from nbsetting import SMALL, compare, out_dir, pick, show, show_file

from cnnlab.autoencoder import SparseAutoencoder
from cnnlab.data.patches import preprocess_patches, sample_patches, skimage_photos
from cnnlab.filters import filter_summary
from cnnlab.functional.sparse_autoencoder import flat_cost
from cnnlab.gradcheck import eval_numerical_gradient, rel_error
from cnnlab.recipes import run_recipe
from cnnlab.recipes.seed002_q1 import BETA, RHO
from cnnlab.viz.autoencoder import plot_hidden_weights, plot_patches

OUT = out_dir("seed002_q1")

# %% [markdown]
# ## Part A: preprocessing

# %%
rgb = sample_patches(skimage_photos(), pick(10240, 400), 16, seed=0)
grey = preprocess_patches(rgb)
print("patches", rgb.shape, "->", grey.shape, f"range [{grey.min():.2f}, {grey.max():.2f}]")
show(plot_patches(rgb, grey, num=200, seed=0))

# %% [markdown]
# ## Part B: the cost, its gradient, and gradient descent against a framework
#
# First the hand-written gradient of the cost against central differences on a small model.

# %%
small = SparseAutoencoder(grey.shape[1], 8, 5e-4, BETA, RHO, seed=0)
data = grey[:20].astype(np.float64)
cost, grad = flat_cost(small.theta, data, small.params)
numeric = eval_numerical_gradient(
    lambda theta: flat_cost(theta, data, small.params)[0], small.theta.copy(), verbose=False
)
print(f"cost {cost:.5f}; gradient relative error {rel_error(grad, numeric):.2e}")

# %% [markdown]
# Then the seed's comparison: Lhid 64, lambda 5e-4, beta 0.01, rho 0.05, learning rate 0.35,
# 5000 full-batch steps, cnnlab's hand-written gradient against PyTorch's autograd of the
# same cost, from the same initial weights.

# %%
twin = run_recipe("seed002-q1-twin", OUT / "twin", tiny=SMALL)["results"]
start, end = twin["initial_cost"], twin["final_cost"]
compare(
    [
        ("initial cost", "3.3389 / 3.3389", start["cnnlab"], start["torch"]),
        ("final cost", "0.9373 / 1.0525", end["cnnlab"], end["torch"]),
        ("largest cost difference over the run", None, twin["max_cost_difference"], None),
    ],
    header=("", "seed (aeCost / Keras)", "cnnlab", "PyTorch"),
)
show_file(OUT / "twin" / "twin.png")

# %% [markdown]
# The seed's two implementations ended apart (0.94 and 1.05) because the Keras network was not
# the same computation; cnnlab's and PyTorch's follow each other to rounding error. The costs
# differ from the seed's because the patches do.
#
# ## Part C: the hidden weights
#
# Each hidden unit's 256 input weights as a 16 x 16 image, after L-BFGS (400 iterations) at the
# seed's setting; the filter statistics say how many are localised and oriented (edges).

# %%
model = SparseAutoencoder(grey.shape[1], 64, 5e-4, BETA, RHO, seed=0)
model.fit(grey, "lbfgs", pick(400, 5))
show(plot_hidden_weights(model.W1, "Lhid=64, λ=5e-4"))
print(filter_summary(model.W1.T.reshape(-1, 16, 16)))

# %% [markdown]
# ## Part D: more or fewer hidden units, stronger or weaker weight decay

# %%
sweep = run_recipe("seed002-q1-sweep", OUT / "sweep", tiny=SMALL)["results"]
compare(
    [
        (run["hidden"], run["lambda"], run["final_cost"], run["test_mse"], run["patch_error"])
        for run in sweep["runs"]
    ],
    header=("Lhid", "lambda", "final cost", "held-out MSE", "patch squared error"),
)
show_file(OUT / "sweep" / "sweep_reconstructions.png")
for path in sorted((OUT / "sweep").glob("hidden_weights_*.png")):
    show_file(path)

# %% [markdown]
# The seed gives no numbers for part D, only the figures: more hidden units learn more distinct
# patterns and reconstruct better; a larger lambda smooths the weights and costs detail.
