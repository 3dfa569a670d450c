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
# # Seed 004: nearest neighbours, ops against a framework, early stopping and grid search
#
# Sections covered, in the seed's order:
#
# - 3.0.1 Nearest-neighbour classification: the Voronoi diagram of a 1-NN classifier on the
#   seed's seven points; 3.0.2 the same for 3-NN
# - 3.1.1-3.1.4 The ops (2D convolution, ReLU, average pooling, softmax cross-entropy) checked
#   against a framework (PyTorch here; the seed used TensorFlow)
# - 3.1.5 The mini MNIST network built from the ops, 20 SGD iterations, and why the loss curve
#   is jagged
# - 3.2.1 The CIFAR-10 network (three valid 5 x 5 convolutions, a sum over positions, dense)
#   trained 1000 iterations with validation checks, then with early stopping
# - 3.2.2 Tuning two hyperparameters (learning rate and widths) by grid search
#
# The seed's graph API runs as `cnnlab.compat.seed004`; the training is the recipes
# `seed004-early-stopping` and `seed004-grid-search` (`cnnlab recipe run NAME`).

# %%
import sys
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from nbsetting import SMALL, compare, out_dir, pick, show, show_file

from cnnlab.compat.seed004 import Variable
from cnnlab.data import load_mnist
from cnnlab.recipes import run_recipe
from cnnlab.viz.regions import SEED_LABELS, SEED_POINTS, plot_decision_regions

sys.path.insert(0, str(Path.cwd().parent))  # the repository root: examples/ holds the seed's net
from examples.seed004_graph_mnist import build_network, compare_ops, train

OUT = out_dir("seed004")

# %% [markdown]
# ## 3.0.1 and 3.0.2: nearest-neighbour regions
#
# The training points and their labels, then the regions a 1-NN classifier assigns to each
# label: the union of the Voronoi cells of the points with that label (the cell edges drawn).
# With k = 3 each point of the plane takes the majority of its three nearest points.

# %%
for (px, py), label in zip(SEED_POINTS, SEED_LABELS, strict=True):
    print(f"({px:g}, {py:g}) {label}")
show(plot_decision_regions(SEED_POINTS, SEED_LABELS, k=1, resolution=pick(400, 60)))
show(plot_decision_regions(SEED_POINTS, SEED_LABELS, k=3, resolution=pick(400, 60)))

# %% [markdown]
# ## 3.1.1-3.1.5: the ops, the MNIST network
#
# The seed's network over one 28 x 28 x 1 image: conv 16 5x5 - avg pool 2 - ReLU - conv 16
# 5x5 - avg pool 2 - ReLU - conv 10 3x3 - avg pool 2 - softmax cross-entropy. It trains on one
# batch of 10 MNIST digits for 20 iterations, each image a separate SGD step at 0.2, as the
# seed does. MNIST's test file ships in the shared data folder; where MNIST is not found, the
# small setting uses random images (the loop still runs; the loss means nothing).

# %%
rng = np.random.default_rng(0)
try:
    X, y = load_mnist()
    chosen = rng.choice(len(X), size=10, replace=False)
    batch_x, batch_y = X[chosen].astype(np.float64) / 255.0, y[chosen]
except FileNotFoundError:
    if not SMALL:
        raise
    print("MNIST not found: random images stand in (small setting)")
    batch_x, batch_y = rng.uniform(size=(10, 28, 28)), rng.integers(10, size=10)

inputs, true_label = Variable(), Variable()
inputs.value = rng.normal(size=(28, 28, 1))
ops = build_network(inputs, true_label, rng)
loss_list = train(ops, inputs, true_label, batch_x, batch_y, pick(20, 3), learning_rate=0.2)

# %% [markdown]
# Each op against PyTorch at the values it holds after training (the seed's `cmp_ops`):
# forward values, the gradient with respect to its input and, for a convolution, its weights.

# %%
torch.set_default_dtype(torch.float64)
compare_ops(ops)

# %% [markdown]
# Why is the loss curve jagged? Every image is its own SGD step at a large learning rate
# (0.2), so each step undoes part of the previous images' progress, and the loss is summed
# over ten images measured at ten different weights. A smaller rate, steps averaged over the
# batch, or more images per step smooth it.

# %%
fig = Figure(figsize=(6, 3))
ax = fig.subplots()
ax.plot(range(len(loss_list)), loss_list, "-o")
ax.set_xlabel("iteration")
ax.set_ylabel("summed loss of the batch")
show(fig)

# %% [markdown]
# ## 3.2.1 Early stopping
#
# The seed's CIFAR-10 network on 24 x 24 crops (random crops for training, the centre crop
# for evaluation), plain SGD at 0.05, batches of 100, 1000 iterations, validation every 50.
# The recipe runs it twice: all 1000 iterations, and with early stopping (5 checks without a
# better validation accuracy); both keep the parameters of their best check. The seed gives no
# number, only the two curves.

# %%
record = run_recipe("seed004-early-stopping", OUT / "early_stopping", tiny=SMALL)
runs = record["results"]
compare(
    [
        (name, run["iterations"], run["stopped_at"], run["best_val_acc"], run["test_acc"])
        for name, run in runs.items()
    ],
    header=("run", "iterations", "stopped at", "best validation", "test accuracy"),
)
show_file(OUT / "early_stopping" / "curves.png")
show_file(OUT / "early_stopping" / "curves_early_stopping.png")

# %% [markdown]
# ## 3.2.2 Tuning hyperparameters
#
# Two factors: the learning rate and the widths of the three convolutions, on a grid, each
# point trained with early stopping and judged by its best validation accuracy; the test set
# is used once, for the winner.

# %%
search = run_recipe("seed004-grid-search", OUT / "grid_search", tiny=SMALL)["results"]
compare(
    [(row["lr"], row["widths"], row["val_acc"], row["iterations"]) for row in search["grid"]],
    header=("learning rate", "widths", "best validation", "iterations"),
)
winner = search["winner"]
print(
    f"best: learning rate {winner['lr']}, widths {winner['widths']}; "
    f"test accuracy {search['winner_test_acc']:.3f}"
)
show_file(OUT / "grid_search" / "val_acc.png")
show_file(OUT / "grid_search" / "curves_winner.png")
