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
# # Seed 001: convolutional networks, layer by layer (CS231n assignment 2)
#
# Sections covered, in the seed's order (seed 001, plus the CS231n part of seed 002 Q2):
#
# 1. Convolutional networks (setup, the data)
# 2. Convolution: naive forward pass
# 3. Aside: image processing via convolutions
# 4. Convolution: naive backward pass
# 5. Max pooling: naive forward
# 6. Max pooling: naive backward
# 7. Fast layers (the speed-up)
# 8. Convolutional "sandwich" layers
# 9. Three-layer ConvNet: 9.1 sanity check loss, 9.2 gradient check, 9.3 overfit small data,
#    9.4 train the net (one epoch), 9.5 visualize filters
# 10. Seed 002 Q2 part A: spatial batch normalization (forward, test time, backward) and group
#     normalization (forward, backward)
#
# The seed's code ran against the student's `libs/`; here the same calls run against
# `cnnlab.compat.cs231n`, which re-exports cnnlab's ops under the CS231n module names. Each
# published number of the seed is shown next to cnnlab's in a table at the end of its section.

# %%
from time import perf_counter

import numpy as np
from nbsetting import DATA_SOURCE, SMALL, compare, pick, show

from cnnlab.compat.cs231n.classifiers.cnn import ThreeLayerConvNet
from cnnlab.compat.cs231n.data_utils import get_CIFAR10_data
from cnnlab.compat.cs231n.fast_layers import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)
from cnnlab.compat.cs231n.gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
)
from cnnlab.compat.cs231n.layer_utils import (
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from cnnlab.compat.cs231n.layers import (
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)
from cnnlab.compat.cs231n.solver import Solver
from cnnlab.gradcheck import rel_error
from cnnlab.viz import plot_filters, plot_training_curves
from cnnlab.viz.conv_demo import plot_conv_demo

rng = np.random.default_rng(231)


def numeric_grads(forward, inputs, dout):
    """Central-difference gradients of sum(forward(*inputs) * dout), one per input (float64)."""
    grads = []
    for i, value in enumerate(inputs):

        def f(v, i=i):
            args = list(inputs)
            args[i] = v
            return forward(*args)

        grads.append(eval_numerical_gradient_array(f, value, dout))
    return grads


def grad_errors(analytic, numeric, names):
    """Relative error of each analytic gradient against its numeric twin, by name."""
    return {name: rel_error(a, n) for name, a, n in zip(names, analytic, numeric, strict=True)}


# %% [markdown]
# ## 1. The data
#
# `get_CIFAR10_data` gives the seed's split (49,000 / 1,000 / 1,000, mean image subtracted,
# NCHW). In the small setting it reads the bundled sample (400 / 100 / 100).

# %%
data = get_CIFAR10_data(
    **pick(
        {},
        {"num_training": 400, "num_validation": 100, "num_test": 100, "source": DATA_SOURCE},
    )
)
for key, value in data.items():
    print(f"{key}: {value.shape} {value.dtype}")

# %% [markdown]
# ## 2. Convolution: naive forward pass
#
# The seed's check: a fixed input and filters (linspace), stride 2, pad 1, compared with the
# CS231n reference output (the seed's `correct_out`, copied from the seed).

# %%
x_shape, w_shape = (2, 3, 4, 4), (3, 3, 4, 4)
x = np.linspace(-0.1, 0.5, num=np.prod(x_shape)).reshape(x_shape)
w = np.linspace(-0.2, 0.3, num=np.prod(w_shape)).reshape(w_shape)
b = np.linspace(-0.1, 0.2, num=3)
out, _ = conv_forward_naive(x, w, b, {"stride": 2, "pad": 1})
correct_out = np.array(
    [
        [
            [[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
            [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
            [[0.50813986, 0.54309974], [0.64082444, 0.67101435]],
        ],
        [
            [[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
            [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
            [[2.36270298, 2.36904306], [2.38090835, 2.38247847]],
        ],
    ]
)
conv_forward_diff = rel_error(out, correct_out)
compare([("conv_forward_naive difference", 2.2121476417505994e-08, conv_forward_diff)])

# %% [markdown]
# The remaining difference (about 1e-8) is the rounding of the reference to eight digits.
#
# ## 3. Aside: image processing via convolutions
#
# The seed's two hand-set filters (grayscale, and a horizontal Sobel edge detector on the blue
# channel with bias 128) through `conv_forward_naive`'s fast twin. The seed's kitten and puppy
# photographs are not redistributable; `cnnlab.viz.conv_demo` uses scikit-image's bundled
# photographs instead.

# %%
show(plot_conv_demo(size=pick(200, 48)))

# %% [markdown]
# ## 4. Convolution: naive backward pass

# %%
x = rng.standard_normal((4, 3, 5, 5))
w = rng.standard_normal((2, 3, 3, 3))
b = rng.standard_normal(2)
dout = rng.standard_normal((4, 2, 5, 5))
conv_param = {"stride": 1, "pad": 1}
_, cache = conv_forward_naive(x, w, b, conv_param)
errors = grad_errors(
    conv_backward_naive(dout, cache),
    numeric_grads(lambda x, w, b: conv_forward_naive(x, w, b, conv_param)[0], (x, w, b), dout),
    ("dx", "dw", "db"),
)
compare(
    [
        ("conv_backward_naive db error", 1.2930519005346312e-11, errors["db"]),
        ("conv_backward_naive dw error", 8.988567711821914e-10, errors["dw"]),
        ("conv_backward_naive dx error", 2.8224078751305698e-09, errors["dx"]),
    ]
)

# %% [markdown]
# ## 5. Max pooling: naive forward

# %%
x_shape = (2, 3, 4, 4)
x = np.linspace(-0.3, 0.4, num=np.prod(x_shape)).reshape(x_shape)
pool_param = {"pool_width": 2, "pool_height": 2, "stride": 2}
out, _ = max_pool_forward_naive(x, pool_param)
correct_out = np.array(
    [
        [
            [[-0.26315789, -0.24842105], [-0.20421053, -0.18947368]],
            [[-0.14526316, -0.13052632], [-0.08631579, -0.07157895]],
            [[-0.02736842, -0.01263158], [0.03157895, 0.04631579]],
        ],
        [
            [[0.09052632, 0.10526316], [0.14947368, 0.16421053]],
            [[0.20842105, 0.22315789], [0.26736842, 0.28210526]],
            [[0.32631579, 0.34105263], [0.38526316, 0.4]],
        ],
    ]
)
compare(
    [("max_pool_forward_naive difference", 4.1666665157267834e-08, rel_error(out, correct_out))]
)

# %% [markdown]
# ## 6. Max pooling: naive backward
#
# The seed left this section's output out; the CS231n check expects a dx error around 1e-12.

# %%
x = rng.standard_normal((3, 2, 8, 8))
dout = rng.standard_normal((3, 2, 4, 4))
_, cache = max_pool_forward_naive(x, pool_param)
errors = grad_errors(
    [max_pool_backward_naive(dout, cache)],
    numeric_grads(lambda x: max_pool_forward_naive(x, pool_param)[0], (x,), dout),
    ("dx",),
)
compare([("max_pool_backward_naive dx error", None, errors["dx"])])

# %% [markdown]
# ## 7. Fast layers
#
# The seed's fast layers were CS231n's Cython im2col; cnnlab's are NumPy and BLAS (see
# ARCHITECTURE.md, "Fast ops"). The seed's case: 100 images 3 x 31 x 31, 25 filters 3 x 3,
# stride 2, pad 1 (the small setting times 4 images). Timings depend on the machine; the
# seed's were on a laptop in 2019.


# %%
def timed(fn, *args):
    """(result, seconds) of one call."""
    start = perf_counter()
    result = fn(*args)
    return result, perf_counter() - start


n = pick(100, 4)
x = rng.standard_normal((n, 3, 31, 31))
w = rng.standard_normal((25, 3, 3, 3))
b = rng.standard_normal(25)
dout = rng.standard_normal((n, 25, 16, 16))
conv_param = {"stride": 2, "pad": 1}
(out_naive, cache_naive), t_naive = timed(conv_forward_naive, x, w, b, conv_param)
(out_fast, cache_fast), t_fast = timed(conv_forward_fast, x, w, b, conv_param)
grads_naive, tb_naive = timed(conv_backward_naive, dout, cache_naive)
grads_fast, tb_fast = timed(conv_backward_fast, dout, cache_fast)
diffs = grad_errors(grads_naive, grads_fast, ("dx", "dw", "db"))
compare(
    [
        ("conv forward: naive s", 3.675879, t_naive),
        ("conv forward: fast s", 0.017478, t_fast),
        ("conv forward speed-up", 210.314741, t_naive / t_fast),
        ("conv forward difference", 1.5306441445248822e-11, rel_error(out_naive, out_fast)),
        ("conv backward: naive s", 6.287788, tb_naive),
        ("conv backward: fast s", 0.011723, tb_fast),
        ("conv backward speed-up", 536.361501, tb_naive / tb_fast),
        ("dx difference", 6.306264227232483e-10, diffs["dx"]),
        ("dw difference", 1.8223529010104583e-12, diffs["dw"]),
        ("db difference", 2.0457607498020912e-14, diffs["db"]),
    ]
)

# %%
x = rng.standard_normal((pick(100, 10), 3, 32, 32))
dout = rng.standard_normal((x.shape[0], 3, 16, 16))
pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
(out_naive, cache_naive), t_naive = timed(max_pool_forward_naive, x, pool_param)
(out_fast, cache_fast), t_fast = timed(max_pool_forward_fast, x, pool_param)
dx_naive, tb_naive = timed(max_pool_backward_naive, dout, cache_naive)
dx_fast, tb_fast = timed(max_pool_backward_fast, dout, cache_fast)
compare(
    [
        ("pool forward: naive s", 0.335016, t_naive),
        ("pool forward: fast s", 0.002052, t_fast),
        ("pool forward speed-up", 163.257581, t_naive / t_fast),
        ("pool forward difference", 0.0, rel_error(out_naive, out_fast)),
        ("pool backward: naive s", 0.546594, tb_naive),
        ("pool backward speed-up", 49.332544, tb_naive / tb_fast),
        ("pool backward dx difference", 0.0, rel_error(dx_naive, dx_fast)),
    ]
)

# %% [markdown]
# ## 8. Convolutional "sandwich" layers
#
# conv - ReLU - max pool and conv - ReLU as one forward/backward pair each, checked
# numerically.

# %%
x = rng.standard_normal((2, 3, 16, 16))
w = rng.standard_normal((3, 3, 3, 3))
b = rng.standard_normal(3)
dout = rng.standard_normal((2, 3, 8, 8))
conv_param = {"stride": 1, "pad": 1}
_, cache = conv_relu_pool_forward(x, w, b, conv_param, pool_param)
pool_errors = grad_errors(
    conv_relu_pool_backward(dout, cache),
    numeric_grads(
        lambda x, w, b: conv_relu_pool_forward(x, w, b, conv_param, pool_param)[0],
        (x, w, b),
        dout,
    ),
    ("dx", "dw", "db"),
)
x = rng.standard_normal((2, 3, 8, 8))
dout = rng.standard_normal((2, 3, 8, 8))
_, cache = conv_relu_forward(x, w, b, conv_param)
relu_errors = grad_errors(
    conv_relu_backward(dout, cache),
    numeric_grads(lambda x, w, b: conv_relu_forward(x, w, b, conv_param)[0], (x, w, b), dout),
    ("dx", "dw", "db"),
)
compare(
    [
        ("conv_relu_pool dx error", 3.690711055362238e-08, pool_errors["dx"]),
        ("conv_relu_pool dw error", 1.360072785871424e-09, pool_errors["dw"]),
        ("conv_relu_pool db error", 4.906317816753218e-11, pool_errors["db"]),
        ("conv_relu dx error", 6.4190515230260995e-09, relu_errors["dx"]),
        ("conv_relu dw error", 3.273630429609165e-09, relu_errors["dw"]),
        ("conv_relu db error", 8.311242203847743e-12, relu_errors["db"]),
    ]
)

# %% [markdown]
# ## 9. Three-layer ConvNet
#
# conv 7 x 7 - ReLU - 2 x 2 max pool - affine - ReLU - affine - softmax.
#
# ### 9.1 Sanity check loss
#
# With small random weights and no regularisation the scores are nearly equal, so the softmax
# loss is near log(10); regularisation adds to it.

# %%
model = ThreeLayerConvNet(dtype=np.float64, seed=0)
X = rng.standard_normal((50, 3, 32, 32))
y = rng.integers(10, size=50)
loss_plain, _ = model.loss(X, y)
model.reg = 0.5
loss_reg, _ = model.loss(X, y)
compare(
    [
        ("initial loss (no regularisation)", 2.3025848832323073, loss_plain),
        ("log(10)", 2.302585092994046, np.log(10)),
        ("initial loss (reg 0.5)", 2.5091707236708, loss_reg),
    ]
)

# %% [markdown]
# The loss with regularisation depends on the initial weights' scale and draw, so it differs
# from the seed's; what must hold is that it is above log(10).
#
# ### 9.2 Gradient check
#
# The seed's setting: 2 inputs of 3 x 16 x 16, 3 filters 3 x 3, hidden 7, float64. Its large
# errors (W1 5e-2, b2 0.27) are what central differences give at the default weight scale
# 1e-3: the gradients of W1 and b2 are then so small that the rounding of the loss dominates
# their numerical estimate. With weights 100 times larger (0.1) the same check agrees to 1e-7
# or better: the backward pass was right all along.

# %%
X = rng.standard_normal((2, 3, 16, 16))
y = rng.integers(10, size=2)
seed_errors = {"W1": 4.994076e-02, "W2": 5.465637e-03, "W3": 1.780337e-02}
seed_errors |= {"b1": 5.484030e-06, "b2": 2.746745e-01, "b3": 1.530176e-09}
measured = {}
for weight_scale in (1e-3, 1e-1):
    model = ThreeLayerConvNet(
        num_filters=3,
        filter_size=3,
        input_dim=(3, 16, 16),
        hidden_dim=7,
        weight_scale=weight_scale,
        dtype=np.float64,
        seed=0,
    )
    _, grads = model.loss(X, y)

    def loss_of(_, model=model):
        return model.loss(X, y)[0]

    for name in sorted(grads):
        numeric = eval_numerical_gradient(loss_of, model.params[name], verbose=False)
        measured[name, weight_scale] = rel_error(numeric, grads[name])
compare(
    [(name, seed_errors[name], measured[name, 1e-3], measured[name, 1e-1]) for name in seed_errors],
    header=("max relative error", "seed", "cnnlab, weight scale 1e-3", "cnnlab, weight scale 0.1"),
)

# %% [markdown]
# ### 9.3 Overfit small data
#
# The seed trained 100 images for one epoch of plain SGD at 5e-4 (two iterations), too short
# to overfit anything; we run its setting, then CS231n's intended one (15 epochs of Adam at
# 1e-3), which drives the training accuracy up while the validation accuracy stays low.

# %%
small_data = {
    "X_train": data["X_train"][:100],
    "y_train": data["y_train"][:100],
    "X_val": data["X_val"],
    "y_val": data["y_val"],
}
seed_run = Solver(
    ThreeLayerConvNet(weight_scale=1e-2, seed=0),
    small_data,
    num_epochs=1,
    batch_size=50,
    update_rule="sgd",
    optim_config={"learning_rate": 5e-4},
    verbose=True,
    print_every=1,
    progress_bar=False,
    seed=0,
)
seed_run.train()
overfit = Solver(
    ThreeLayerConvNet(weight_scale=1e-2, seed=0),
    small_data,
    num_epochs=pick(15, 2),
    batch_size=50,
    update_rule="adam",
    optim_config={"learning_rate": 1e-3},
    verbose=False,
    seed=0,
)
overfit.train()
compare(
    [
        ("1 epoch SGD: final loss", 2.362806, seed_run.loss_history[-1]),
        ("1 epoch SGD: train accuracy", 0.100000, seed_run.train_acc_history[-1]),
        ("1 epoch SGD: validation accuracy", 0.092000, seed_run.val_acc_history[-1]),
        ("15 epochs Adam: train accuracy", None, overfit.train_acc_history[-1]),
        ("15 epochs Adam: validation accuracy", None, overfit.val_acc_history[-1]),
    ]
)
show(plot_training_curves(overfit.history))

# %% [markdown]
# ### 9.4 Train the net
#
# One epoch on the 49,000 training images (490 iterations of 100, as in the seed), hidden 500,
# reg 1e-3, Adam at 1e-3. The seed asks for more than 40 % training accuracy; its own run
# stalled (10.7 % training, 15.7 % validation at the end), a sign of an update that did not
# move the weights.

# %%
model = ThreeLayerConvNet(weight_scale=0.001, hidden_dim=500, reg=0.001, seed=0)
solver = Solver(
    model,
    data,
    num_epochs=1,
    batch_size=100,
    update_rule="adam",
    optim_config={"learning_rate": 1e-3},
    verbose=not SMALL,
    print_every=50,
    progress_bar=False,
    seed=0,
)
solver.train()
compare(
    [
        ("train accuracy after 1 epoch (seed asks > 0.40)", 0.107, solver.train_acc_history[-1]),
        ("validation accuracy after 1 epoch", 0.157, solver.val_acc_history[-1]),
    ]
)

# %% [markdown]
# ### 9.5 Visualize filters
#
# The first layer's 32 filters (7 x 7 x 3) as RGB tiles: after one epoch on the full data they
# show colour blobs and oriented edges.

# %%
show(plot_filters(model.params["W1"]))

# %% [markdown]
# ## 10. Seed 002 Q2 part A: spatial batch and group normalization
#
# ### Spatial batch normalization: forward
#
# Per channel, over the batch and both spatial axes. The means and standard deviations before
# depend on the random draw (NumPy's legacy generator in the seed, a `Generator` here).

# %%
N, C, H, W = 2, 3, 4, 5
x = 4 * rng.standard_normal((N, C, H, W)) + 10
bn_param = {"mode": "train"}
out, _ = spatial_batchnorm_forward(x, np.ones(C), np.zeros(C), bn_param)
out_scaled, _ = spatial_batchnorm_forward(x, np.array([3, 4, 5]), np.array([6, 7, 8]), bn_param)
print("before: means", x.mean(axis=(0, 2, 3)), "stds", x.std(axis=(0, 2, 3)))
print("after:  means", out.mean(axis=(0, 2, 3)), "stds", out.std(axis=(0, 2, 3)))
print("gamma (3, 4, 5), beta (6, 7, 8): means", out_scaled.mean(axis=(0, 2, 3)))
print("                               stds ", out_scaled.std(axis=(0, 2, 3)))

# %% [markdown]
# Test time: 50 training passes warm the running averages up, then one test pass.

# %%
N, C, H, W = 10, 4, 11, 12
bn_param = {"mode": "train"}
gamma, beta = np.ones(C), np.zeros(C)
for _ in range(50):
    spatial_batchnorm_forward(2.3 * rng.standard_normal((N, C, H, W)) + 13, gamma, beta, bn_param)
bn_param["mode"] = "test"
a_norm, _ = spatial_batchnorm_forward(
    2.3 * rng.standard_normal((N, C, H, W)) + 13, gamma, beta, bn_param
)
print("test-time means", a_norm.mean(axis=(0, 2, 3)))
print("test-time stds ", a_norm.std(axis=(0, 2, 3)))

# %% [markdown]
# ### Spatial batch normalization: backward

# %%
N, C, H, W = 2, 3, 4, 5
x = 5 * rng.standard_normal((N, C, H, W)) + 12
gamma, beta = rng.standard_normal(C), rng.standard_normal(C)
dout = rng.standard_normal((N, C, H, W))
bn_param = {"mode": "train"}
_, cache = spatial_batchnorm_forward(x, gamma, beta, bn_param)
bn_errors = grad_errors(
    spatial_batchnorm_backward(dout, cache),
    numeric_grads(
        lambda x, g, b: spatial_batchnorm_forward(x, g, b, bn_param)[0], (x, gamma, beta), dout
    ),
    ("dx", "dgamma", "dbeta"),
)

# %% [markdown]
# ### Group normalization: forward and backward
#
# Per sample, over groups of C / G channels and both spatial axes. The seed printed the output
# shape as (1, 1, 1, 2, 6, 4, 5), a broadcasting slip in its gamma and beta; cnnlab keeps
# (2, 6, 4, 5).

# %%
N, C, H, W, G = 2, 6, 4, 5, 2
x = 4 * rng.standard_normal((N, C, H, W)) + 10
gamma, beta = np.ones((1, C, 1, 1)), np.zeros((1, C, 1, 1))
out, _ = spatial_groupnorm_forward(x, gamma, beta, G, {"mode": "train"})
print("before: group means", x.reshape(N * G, -1).mean(axis=1))
print("after:  shape", out.shape, "group means", out.reshape(N * G, -1).mean(axis=1))
print("        group stds", out.reshape(N * G, -1).std(axis=1))

gamma, beta = rng.standard_normal((1, C, 1, 1)), rng.standard_normal((1, C, 1, 1))
dout = rng.standard_normal((N, C, H, W))
_, cache = spatial_groupnorm_forward(x, gamma, beta, G, {"mode": "train"})
gn_errors = grad_errors(
    spatial_groupnorm_backward(dout, cache),
    numeric_grads(
        lambda x, g, b: spatial_groupnorm_forward(x, g, b, G, {"mode": "train"})[0],
        (x, gamma, beta),
        dout,
    ),
    ("dx", "dgamma", "dbeta"),
)
compare(
    [
        ("group norm output shape", "(1, 1, 1, 2, 6, 4, 5)", out.shape),
        ("spatial batch norm dx error", 3.083846820796372e-07, bn_errors["dx"]),
        ("spatial batch norm dgamma error", 7.09738489671469e-12, bn_errors["dgamma"]),
        ("spatial batch norm dbeta error", 3.275608725278405e-12, bn_errors["dbeta"]),
        ("group norm dx error", 6.34590431845254e-08, gn_errors["dx"]),
        ("group norm dgamma error", 1.0546047434202244e-11, gn_errors["dgamma"]),
        ("group norm dbeta error", 3.810857316122484e-12, gn_errors["dbeta"]),
    ]
)
