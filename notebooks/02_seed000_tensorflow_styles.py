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
# # Seed 000: the TensorFlow notebook on cnnlab's tape (and seed 002 Q2 part B)
#
# Sections covered, in the seed's order:
#
# - Part I: preparation (CIFAR-10 cut 49,000 / 1,000 / 10,000, normalised per channel,
#   batches of 64)
# - Part II: barebones forward-only models (flatten, the two-layer FC net, the three-layer
#   ConvNet: shapes, then one epoch of plain SGD each)
# - Part III: module subclasses (`TwoLayerFC`, `ThreeLayerConvNet` as Keras-style models)
# - Part IV: the Sequential API (the three-layer ConvNet, Nesterov momentum, one epoch)
# - Part V: the open-ended challenge (seed 002 Q2's conv-BN-ELU-pool network, 10 epochs)
#
# The TensorFlow graph becomes cnnlab's tape (`cnnlab.autograd`): a model is a plain function
# of Tensors, and `loss.backward()` runs each op's hand-written backward. The runs are the
# recipes `seed000-*` and `seed002-q2-challenge`; each recipe carries the seed's figure.

# %%
import numpy as np
from nbsetting import SMALL, compare, out_dir

from cnnlab.autograd import Tensor
from cnnlab.compat import tf_notebook as tfn
from cnnlab.models.keras_style import KerasThreeLayerConvNet, KerasTwoLayerFC
from cnnlab.recipes import RECIPES, run_recipe

OUT = out_dir("seed000")

# %% [markdown]
# ## Part I: preparation

# %%
data = tfn.make_datasets("NHWC", sample=SMALL or None)
for name in ("train", "val", "test"):
    split = getattr(data, name)
    print(f"{name}: X {split.X.shape} {split.X.dtype}, y {split.y.shape}")

# %% [markdown]
# ## Part II: barebones models
#
# The seed's shape tests: flatten, then each model on zeros with its initial weights.

# %%
x = Tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
print("flatten:", tfn.flatten(x).shape)
x = Tensor(np.zeros((64, 32, 32, 3), dtype=np.float32))
print("two_layer_fc scores:", tfn.two_layer_fc(x, tfn.two_layer_fc_init(seed=0)).shape)
print(
    "three_layer_convnet scores:",
    tfn.three_layer_convnet(x, tfn.three_layer_convnet_init(seed=0)).shape,
)

# %% [markdown]
# One epoch of plain SGD for each (the notebook's `train_part2`), validation checked every 100
# iterations; the small setting runs a few iterations on the bundled sample.


# %%
def run(name):
    """Run one recipe into OUT/name and return its results with the seed's figure."""
    record = run_recipe(name, OUT / name, tiny=SMALL)
    return record["results"], RECIPES[name].seed_figure


results = {name: run(name) for name in ("seed000-two-layer-fc", "seed000-barebones-three-layer")}
compare(
    [(name, seed, r["val_acc"], r["test_acc"]) for name, (r, seed) in results.items()],
    header=("run", "seed", "cnnlab validation", "cnnlab test"),
)

# %% [markdown]
# ## Part III: module subclasses
#
# The same networks as Keras-style models: layers registered as attributes, a forward pass
# written once, the backward pass taken from the tape.

# %%
x = np.zeros((64, 3, 32, 32), dtype=np.float32)
for model in (KerasTwoLayerFC(seed=0), KerasThreeLayerConvNet(seed=0)):
    print(type(model).__name__, "scores:", model.loss(x).shape)
print(KerasThreeLayerConvNet(seed=0).summary())

# %% [markdown]
# ## Part IV: the Sequential API, and Part V: the challenge
#
# The three-layer ConvNet as a Sequential with Nesterov momentum (0.9 at 5e-4) for one epoch,
# then seed 002 Q2's challenge network (conv-BN-ELU-pool blocks, three dense layers) with Adam
# at 5e-4 for 10 epochs, the best validation epoch kept. About 30 s and 30 minutes on 2 cores.

# %%
results = {name: run(name) for name in ("seed000-sequential", "seed002-q2-challenge")}
compare(
    [(name, seed, r["val_acc"], r["test_acc"]) for name, (r, seed) in results.items()],
    header=("run", "seed", "cnnlab validation", "cnnlab test"),
)
print(
    "challenge validation accuracy per epoch:",
    results["seed002-q2-challenge"][0]["val_acc_history"],
)
