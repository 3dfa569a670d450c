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
# # Start here: a convolutional network from scratch in fifteen minutes
#
# Sections of this notebook (no seed: the path through cnnlab that the other notebooks take
# apart seed by seed):
#
# 1. One convolution layer by hand: its forward pass as loops, then cnnlab's.
# 2. Its gradient, checked against central differences.
# 3. A small network trained on the bundled sample (500 CIFAR-10 images, shipped with cnnlab).
# 4. The run's report opened.
#
# Every run reads one setting: `CNNLAB_NOTEBOOK_SMALL=1` shrinks it to seconds (what CI
# executes); without it the notebook runs the full setting shown in the documentation.

# %%
import numpy as np
from nbsetting import SMALL, out_dir, pick, show

from cnnlab.experiment import TrainConfig, train
from cnnlab.functional.conv import conv_backward, conv_forward, conv_forward_naive
from cnnlab.gradcheck import eval_numerical_gradient_array, rel_error
from cnnlab.report import load_run, write_report
from cnnlab.viz import plot_filters, plot_training_curves

print("small setting" if SMALL else "full setting")

# %% [markdown]
# ## 1. One convolution layer by hand
#
# A convolution slides each of F filters (C x HH x WW) over the zero-padded input and takes a
# dot product at every stride step. Written as loops, for one sample and one filter at a time:


# %%
def conv_by_hand(x, w, b, stride, pad):
    """x (N, C, H, W), w (F, C, HH, WW), b (F,) -> out (N, F, H', W')."""
    N, _, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    out = np.empty((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = xp[n, :, i * stride : i * stride + HH, j * stride : j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out


rng = np.random.default_rng(0)
x = rng.standard_normal((2, 3, 7, 7))
w = rng.standard_normal((4, 3, 3, 3))
b = rng.standard_normal(4)
conv_param = {"stride": 2, "pad": 1}

mine = conv_by_hand(x, w, b, stride=2, pad=1)
naive, _ = conv_forward_naive(x, w, b, conv_param)
fast, cache = conv_forward(x, w, b, conv_param)
print("output shape:", fast.shape)
print("by hand vs cnnlab naive:", rel_error(mine, naive))
print("by hand vs cnnlab fast: ", rel_error(mine, fast))

# %% [markdown]
# ## 2. Its gradient, checked
#
# `conv_backward` returns the gradients of a scalar loss with respect to x, w and b, given the
# gradient `dout` of the loss with respect to the output. Central differences of
# `sum(out * dout)` must agree to about 1e-8 in float64.

# %%
dout = rng.standard_normal(fast.shape)
dx, dw, db = conv_backward(dout, cache)
dx_num = eval_numerical_gradient_array(lambda v: conv_forward(v, w, b, conv_param)[0], x, dout)
dw_num = eval_numerical_gradient_array(lambda v: conv_forward(x, v, b, conv_param)[0], w, dout)
db_num = eval_numerical_gradient_array(lambda v: conv_forward(x, w, v, conv_param)[0], b, dout)
for name, analytic, numeric in (("dx", dx, dx_num), ("dw", dw, dw_num), ("db", db, db_num)):
    print(f"{name} relative error: {rel_error(analytic, numeric):.2e}")

# %% [markdown]
# ## 3. A small network trained on the bundled sample
#
# `cnnlab.experiment.train` is what `cnnlab train` runs: it loads the data, builds the model
# (here the CS231n ThreeLayerConvNet: conv 7x7 - ReLU - max pool - affine - ReLU - affine),
# trains it with the Solver, and writes a run folder with the metrics, the model and the
# figures. The sample holds 500 training and 100 test images, so expect little more than
# chance after one epoch; a few epochs overfit it.

# %%
config = TrainConfig(
    model="three_layer",
    data="sample",
    epochs=pick(5, 1),
    num_val=100,
    num_train=pick(None, 100),
    seed=0,
)
run_dir = out_dir("start_here") / "three_layer"
result = train(config, run_dir, overwrite=True, verbose=not SMALL, progress_bar=False)
print(f"validation accuracy {result.val_acc:.3f}, test accuracy {result.test_acc:.3f}")
print(f"{result.seconds:.1f} s; run folder: {result.run_dir}")

# %%
run = load_run(run_dir)
show(plot_training_curves(run.history))
show(plot_filters(run.filters))

# %% [markdown]
# ## 4. The report
#
# `cnnlab report RUN` (or `write_report`) makes one self-contained HTML page of the run: the
# configuration, the curves, the confusion matrix, the filters and sample predictions. Open
# the printed path in a browser; below, the page's first lines.

# %%
page = write_report(run_dir)
print(page)
print(page.read_text()[:300])
